"""Notices (issue 15 §3): the selected claims grouped into letters — grouping per debtor and level or per
claim, the deadline over weekends and holidays, totals, deterministic ids, the remittance text."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import polars as pl
import pytest

from claims.config import DunningSection, load_tenant_config
from dunning.notices import (
    ITEM_COLUMNS,
    NOTICE_COLUMNS,
    REMITTANCE_MANY,
    REMITTANCE_MAX,
    deadline,
    debtor_addresses,
    group_notices,
)
from dunning.select import SELECTED_COLUMNS, select

D = date
RUN = D(2026, 12, 8)            # a Tuesday

_TYPES: dict[str, pl.DataType] = {
    "receivable_id": pl.String(), "debtor_id": pl.String(), "kassenzeichen": pl.String(),
    "claim_type": pl.String(), "due_date": pl.Date(), "due_effective": pl.Date(), "level": pl.String(),
    "open_cents": pl.Int64(), "saeumniszuschlag_cents": pl.Int64(), "surcharge_months": pl.Int64(),
    "interest_cents": pl.Int64(), "surcharge_rule": pl.String(), "mahngebuehr_cents": pl.Int64(),
    "fee_basis_cents": pl.Int64(), "mahngebuehr_rule": pl.String()}


def selected(rows: list[dict[str, object]]) -> pl.DataFrame:
    base = {"kassenzeichen": None, "claim_type": "GRUNDSTEUER", "due_date": D(2026, 11, 16),
            "due_effective": D(2026, 11, 16), "level": "mahnung", "open_cents": 10000,
            "saeumniszuschlag_cents": 100, "surcharge_months": 1, "interest_cents": 0, "surcharge_rule": "ao_240",
            "mahngebuehr_cents": 600, "fee_basis_cents": 10000, "mahngebuehr_rule": "vo_vwvg_9"}
    return pl.DataFrame([{**base, **r} for r in rows], schema=_TYPES).select(SELECTED_COLUMNS)


DEBTORS = pl.DataFrame({
    "debtor_id": ["A", "B"], "debtor_name": ["Müller, Jürgen", "Stadtwerke Öhringen GmbH"],
    "debtor_street": ["Goethestraße 3", "Am Markt 1"], "debtor_postcode": ["33602", "74613"],
    "debtor_city": ["Bielefeld", "Öhringen"], "debtor_country": ["DE", "DE"]})

THREE = selected([
    {"receivable_id": "r1", "debtor_id": "B", "kassenzeichen": "111111111111", "open_cents": 5000,
     "saeumniszuschlag_cents": 0, "mahngebuehr_cents": 600, "interest_cents": 0},
    {"receivable_id": "r2", "debtor_id": "A", "kassenzeichen": "222222222222", "open_cents": 12000,
     "saeumniszuschlag_cents": 100, "mahngebuehr_cents": 670, "interest_cents": 0},
    {"receivable_id": "r3", "debtor_id": "A", "kassenzeichen": "1.2345.6789.012", "open_cents": 3000,
     "due_date": D(2026, 10, 15), "saeumniszuschlag_cents": 0, "mahngebuehr_cents": 600, "interest_cents": 12},
])


def test_one_notice_per_debtor_by_default_with_totals_and_columns() -> None:
    got = group_notices(THREE, DEBTORS, RUN)
    assert tuple(got.notices.columns) == NOTICE_COLUMNS and tuple(got.items.columns) == ITEM_COLUMNS
    rows = got.notices.select("notice_id", "debtor_id", "level", "n_claims", "open_cents", "saeumniszuschlag_cents",
                              "mahngebuehr_cents", "interest_cents", "total_cents").rows()
    # numbered in debtor order: A before B, whatever the input order
    assert rows == [("M20261208-000001", "A", "mahnung", 2, 15000, 100, 1270, 12, 16382),
                    ("M20261208-000002", "B", "mahnung", 1, 5000, 0, 600, 0, 5600)]
    # items of a notice by due date: r3 (15 Oct) before r2 (16 Nov)
    assert got.items.select("notice_id", "receivable_id").rows() == [
        ("M20261208-000001", "r3"), ("M20261208-000001", "r2"), ("M20261208-000002", "r1")]
    a = got.notices.row(0, named=True)
    assert (a["debtor_name"], a["debtor_city"], a["notice_date"], a["deadline"]) == \
        ("Müller, Jürgen", "Bielefeld", RUN, D(2026, 12, 18))
    assert a["remittance"] == "1.2345.6789.012 222222222222"


def test_one_notice_per_claim_when_configured() -> None:
    got = group_notices(THREE, DEBTORS, RUN, DunningSection(letter_grouping="claim"))
    assert got.notices.select("notice_id", "debtor_id", "n_claims", "total_cents", "remittance").rows() == [
        ("M20261208-000001", "A", 1, 3612, "1.2345.6789.012"),
        ("M20261208-000002", "A", 1, 12770, "222222222222"),
        ("M20261208-000003", "B", 1, 5600, "111111111111")]


def test_a_debtor_with_two_levels_gets_two_letters() -> None:
    df = selected([
        {"receivable_id": "v", "debtor_id": "A", "level": "vollstreckungsankuendigung", "mahngebuehr_cents": 0},
        {"receivable_id": "m1", "debtor_id": "A", "level": "mahnung"},
        {"receivable_id": "m2", "debtor_id": "A", "level": "mahnung"},
        {"receivable_id": "z", "debtor_id": "A", "level": "zahlungserinnerung", "mahngebuehr_cents": 0,
         "saeumniszuschlag_cents": 0},
    ])
    got = group_notices(df, DEBTORS, RUN)
    # level order is the sequence's: Zahlungserinnerung, Mahnung, Vollstreckungsankündigung
    assert got.notices.select("notice_id", "level", "n_claims", "total_cents").rows() == [
        ("M20261208-000001", "zahlungserinnerung", 1, 10000),
        ("M20261208-000002", "mahnung", 2, 21400),
        ("M20261208-000003", "vollstreckungsankuendigung", 1, 10100)]


@pytest.mark.parametrize(("as_of", "expected"), [
    (D(2026, 12, 8), D(2026, 12, 18)),      # + 10 days: a Friday
    (D(2026, 12, 9), D(2026, 12, 21)),      # + 10 = Saturday 19 Dec -> Monday
    (D(2026, 3, 24), D(2026, 4, 7)),        # + 10 = Good Friday 3 Apr; Easter Monday too -> Tuesday 7 Apr
    (D(2026, 12, 15), D(2026, 12, 28)),     # + 10 = Friday 25 Dec; 26, 27 Dec -> Monday 28 Dec
])
def test_deadline_moves_over_weekends_and_holidays(as_of: date, expected: date) -> None:
    assert deadline(as_of) == expected
    got = group_notices(THREE, DEBTORS, as_of)
    assert set(got.notices["deadline"]) == {expected}
    assert set(got.notices["notice_date"]) == {as_of}


def test_deadline_settings() -> None:
    s = DunningSection(mahnfrist_days=14, postal_buffer_days=0)
    assert deadline(D(2026, 12, 8), s) == D(2026, 12, 22)


def test_ids_are_deterministic_and_unique_whatever_the_input_order() -> None:
    big = selected([{"receivable_id": f"r{i:03d}", "debtor_id": f"D{i % 37:02d}",
                     "level": ("mahnung", "vollstreckungsankuendigung")[i % 2]} for i in range(300)])
    one = group_notices(big, None, RUN)
    two = group_notices(big.sample(fraction=1.0, shuffle=True, seed=7), None, RUN)
    assert one.notices.equals(two.notices) and one.items.equals(two.items)
    assert one.notices["notice_id"].is_unique().all()
    assert one.notices["notice_id"].str.contains(r"^M20261208-\d{6}$").all()
    assert one.notices.height == 74                            # 37 debtors, each with both levels
    assert one.notices["n_claims"].sum() == 300 and one.items.height == 300
    assert one.notices["total_cents"].sum() == (10000 + 100 + 600) * 300


def test_claims_without_debtor_are_never_on_one_letter() -> None:
    df = selected([{"receivable_id": "x", "debtor_id": None}, {"receivable_id": "y", "debtor_id": None}])
    got = group_notices(df, DEBTORS, RUN)
    assert got.notices["n_claims"].to_list() == [1, 1]


def test_remittance_without_digits_when_kassenzeichen_do_not_fit_or_are_missing() -> None:
    many = selected([{"receivable_id": f"r{i}", "debtor_id": "A", "kassenzeichen": f"{i:012d}"}
                     for i in range(11)])          # 11 x 12 digits + 10 spaces = 142 > 140
    ten = many.head(10)                            # 10 x 12 + 9 = 129
    assert group_notices(ten, None, RUN).notices["remittance"][0] == " ".join(f"{i:012d}" for i in range(10))
    assert group_notices(many, None, RUN).notices["remittance"][0] == REMITTANCE_MANY
    gap = selected([{"receivable_id": "a", "debtor_id": "A", "kassenzeichen": "222222222222"},
                    {"receivable_id": "b", "debtor_id": "A", "kassenzeichen": None}])
    assert group_notices(gap, None, RUN).notices["remittance"][0] == REMITTANCE_MANY
    assert len(REMITTANCE_MANY) <= REMITTANCE_MAX and not any(ch.isdigit() for ch in REMITTANCE_MANY)


def test_empty_selection_gives_empty_frames_with_the_columns() -> None:
    got = group_notices(selected([]), DEBTORS, RUN)
    assert got.notices.height == 0 and tuple(got.notices.columns) == NOTICE_COLUMNS
    assert tuple(got.items.columns) == ITEM_COLUMNS


def test_debtor_addresses_take_the_first_name_and_one_whole_address() -> None:
    claims = pl.DataFrame({
        "debtor_id": ["A", "A", "A", "B"],
        "debtor_name": [None, "Müller, Jürgen", "Mueller J.", "B GmbH"],
        "debtor_street": [None, "Goethestraße 3", "Alte Straße 9", None],
        "debtor_postcode": ["99999", "33602", "11111", None],
        "debtor_city": ["Nirgendwo", "Bielefeld", "Altstadt", None],
    })
    got = debtor_addresses(claims)
    assert got.rows() == [("A", "Müller, Jürgen", "Goethestraße 3", "33602", "Bielefeld", None),
                          ("B", "B GmbH", None, None, None, None)]


def test_from_the_selection_to_the_notices() -> None:
    """End to end with the real selection: every selected claim is on exactly one notice."""
    claims = pl.DataFrame({
        "receivable_id": ["a", "b", "c"], "debtor_id": ["A", "A", "B"], "claim_type": ["GRUNDSTEUER"] * 3,
        "amount_cents": [12000, 3000, 999], "due_date": [D(2026, 11, 16)] * 3,
        "kassenzeichen": ["222222222222", "333333333333", "444444444444"],
        "debtor_name": ["Müller, Jürgen", "Müller, Jürgen", "B GmbH"],
    })
    sel = select(claims, RUN)
    got = group_notices(sel.selected, debtor_addresses(claims), RUN)
    assert got.notices.select("debtor_id", "n_claims", "debtor_name").rows() == [("A", 2, "Müller, Jürgen")]
    assert sorted(got.items["receivable_id"]) == ["a", "b"]
    assert got.notices["total_cents"][0] == sel.selected.select(
        pl.sum_horizontal("open_cents", "saeumniszuschlag_cents", "mahngebuehr_cents", "interest_cents")).sum().item()


def test_config_keys_and_defaults(tmp_path: Path) -> None:
    assert (DunningSection().letter_grouping, DunningSection().mahnfrist_days,
            DunningSection().postal_buffer_days) == ("debtor", 7, 3)
    with pytest.raises(ValueError, match="letter_grouping"):
        DunningSection.model_validate({"letter_grouping": "household"})
    path = tmp_path / "kasse.toml"
    path.write_text('[tenant]\nid = "t"\n[dunning]\nletter_grouping = "claim"\nmahnfrist_days = 14\n',
                    encoding="utf-8")
    cfg = load_tenant_config(path)
    assert (cfg.dunning.letter_grouping, cfg.dunning.mahnfrist_days, cfg.dunning.postal_buffer_days) == \
        ("claim", 14, 3)


def test_a_debtors_frame_without_address_columns_gives_null_addresses() -> None:
    got = group_notices(THREE, pl.DataFrame({"debtor_id": ["A"], "debtor_name": ["Müller, Jürgen"]}), RUN)
    assert got.notices.select("debtor_id", "debtor_name", "debtor_street", "debtor_country").rows() == [
        ("A", "Müller, Jürgen", None, None), ("B", None, None, None)]
