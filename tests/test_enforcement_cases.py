"""Enforcement cases (enforcement/cases.py, docs/ENFORCEMENT.md "Cases"): one case per debtor and hand-off,
a later claim joins the open case, the case number grammar and its check character, the figures per claim."""

from __future__ import annotations

from datetime import date
from typing import Any

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from stdnum.iso7064 import mod_37_36

from claims.config import EnforcementSection
from claims.vocab import EnforceabilityBasis
from enforcement.cases import (
    CASE_COLUMNS,
    ITEM_COLUMNS,
    CaseNumberError,
    build_cases,
    case_number,
    case_number_valid,
    case_tag,
    highest_counter,
)
from enforcement.select import select
from tests.test_enforcement_select import FIRST_DAY, claim, mahnung

HANDOFF = FIRST_DAY


def chosen(claims: list[dict[str, Any]], mahnungen: list[dict[str, Any]] | None = None,
           **kw: Any) -> pl.DataFrame:
    ms = mahnungen if mahnungen is not None else [mahnung(c["receivable_id"], nid=f"M-{c['receivable_id']}")
                                                  for c in claims if not c.get("parent_receivable_id")]
    return select(pl.DataFrame(claims), HANDOFF, mahnungen=pl.DataFrame(ms), **kw).selected


def test_the_case_number_grammar_and_check_character() -> None:
    got = case_number("MUSTER", 2026, pl.Series([1, 2, 41, 999_999])).to_list()
    assert got == ["MUSTER-2026-000001-5", "MUSTER-2026-000002-3", "MUSTER-2026-000041-" + got[2][-1],
                   "MUSTER-2026-999999-M"]
    assert all(case_number_valid(n) for n in got)
    assert not case_number_valid("MUSTER-2026-000001-6")       # a wrong check character
    assert not case_number_valid("MUSTER-2026-000010-5")       # two digits swapped
    assert not case_number_valid("muster-2026-000001-5")       # lower case is not the grammar


@settings(max_examples=50, deadline=None)
@given(st.from_regex(r"[A-Z0-9]{1,8}", fullmatch=True), st.integers(2000, 2099),
       st.lists(st.integers(1, 999_999), min_size=1, max_size=30))
def test_the_vectorised_check_equals_python_stdnum(tag: str, year: int, counters: list[int]) -> None:
    for number, n in zip(case_number(tag, year, pl.Series(counters)).to_list(), counters, strict=True):
        body = f"{tag}{year:04d}{n:06d}"
        assert number == f"{tag}-{year:04d}-{n:06d}-{mod_37_36.calc_check_digit(body)}"


def test_tags_and_used_up_counters() -> None:
    assert case_tag("stadt-detmold") == "STADTDET"
    assert case_tag("x", EnforcementSection(case_tag="DT")) == "DT"
    with pytest.raises(CaseNumberError):
        case_tag("--")
    with pytest.raises(CaseNumberError):
        case_number("MUSTER", 2026, pl.Series([1_000_000]))
    with pytest.raises(CaseNumberError):
        case_number("muster", 2026, pl.Series([1]))


def test_the_counter_continues_from_the_highest_known_number_of_the_tag_and_year() -> None:
    known = ["MUSTER-2026-000041-X", "MUSTER-2026-000007-X", "MUSTER-2025-000900-X", "OTHER-2026-000500-X",
             "MUSTER-2026-12-X"]
    assert highest_counter(known, "MUSTER", 2026) == 41
    assert highest_counter(known, "MUSTER", 2027) == 0
    assert highest_counter(None, "MUSTER", 2026) == 0


def test_one_case_per_debtor_numbered_in_debtor_order() -> None:
    sel = chosen([claim("A", "D2"), claim("B", "D1"), claim("C", "D2")])
    got = build_cases(sel, HANDOFF, tenant="muster", known_numbers=["MUSTER-2026-000041-9"])
    assert got.cases.columns == list(CASE_COLUMNS) and got.items.columns == list(ITEM_COLUMNS)
    assert got.cases.select("debtor_id", "n_claims", "new").rows() == [("D1", 1, True), ("D2", 2, True)]
    numbers = got.cases["case_number"].to_list()
    assert [n[:19] for n in numbers] == ["MUSTER-2026-000042-", "MUSTER-2026-000043-"]
    assert dict(got.items.select("receivable_id", "case_number").rows()) == {
        "B": numbers[0], "A": numbers[1], "C": numbers[1]}


def test_a_later_claim_joins_the_debtors_open_case() -> None:
    sel = chosen([claim("A", "D1"), claim("B", "D2")])
    open_cases = pl.DataFrame([{"case_number": "MUSTER-2026-000003-Q", "debtor_id": "D1", "receivable_id": "OLD",
                                "handed_off_on": date(2026, 3, 3), "opened_on": date(2026, 3, 3)}])
    got = build_cases(sel, HANDOFF, tenant="muster", open_cases=open_cases,
                      known_numbers=["MUSTER-2026-000003-Q"])
    rows = {r["debtor_id"]: r for r in got.cases.iter_rows(named=True)}
    assert (rows["D1"]["case_number"], rows["D1"]["new"], rows["D1"]["opened_on"]) == (
        "MUSTER-2026-000003-Q", False, date(2026, 3, 3))
    assert rows["D2"]["case_number"].startswith("MUSTER-2026-000004-") and rows["D2"]["new"]


def test_the_figures_per_claim_and_per_case() -> None:
    # 1.234,56 € due Mon 16 Feb 2026: two started months by 15 Apr on 1.200 € → 24,00 €; 12,00 € booked
    claims = [claim("A", amount=123_456, due=date(2026, 2, 16), external_ref="GrSt-17", notice_date=date(2026, 1, 20)),
              claim("A-MG", amount=1_684, claim_type="MAHNGEBUEHR", parent_receivable_id="A", due=date(2026, 4, 7)),
              claim("A-SZ", amount=1_200, claim_type="SAEUMNISZUSCHLAG", parent_receivable_id="A", due=date(2026, 4, 7)),
              claim("A-K", amount=350, claim_type="KOSTEN", parent_receivable_id="A", due=date(2026, 4, 7))]
    booked = pl.DataFrame({"receivable_id": ["A"], "saeumniszuschlag_booked_cents": [1_200]})
    got = build_cases(chosen(claims), HANDOFF, tenant="muster", booked=booked)
    a = got.items.filter(pl.col("receivable_id") == "A").row(0, named=True)
    assert (a["open_cents"], a["saeumniszuschlag_accrued_cents"], a["saeumniszuschlag_booked_cents"],
            a["saeumniszuschlag_new_cents"], a["surcharge_months"], a["surcharge_rule"]) == (
        123_456, 2_400, 1_200, 1_200, 2, "ao_240")
    assert (a["basis"], a["external_ref"], a["notice_date"], a["due_effective"], a["schonfrist_end"],
            a["mahnung_date"], a["mahnung_deadline"]) == (
        EnforceabilityBasis.MAHNUNG, "GrSt-17", date(2026, 1, 20), date(2026, 2, 16), date(2026, 2, 23),
        date(2026, 3, 24), date(2026, 4, 7))
    fees = got.items.filter(pl.col("ancillary"))
    assert set(fees["basis"]) == {EnforceabilityBasis.ANCILLARY}
    assert set(fees["saeumniszuschlag_new_cents"]) == {0}
    case = got.cases.row(0, named=True)
    assert (case["principal_cents"], case["saeumniszuschlag_cents"], case["mahngebuehr_cents"], case["interest_cents"],
            case["kosten_cents"], case["total_cents"], case["n_claims"]) == (
        123_456, 2_400, 1_684, 0, 350, 127_890, 4)


def test_private_law_claims_carry_interest_accrued_to_the_handoff_day() -> None:
    # 1.000,00 € rent due Mon 2 Feb 2026, Basiszinssatz 1,27 % + 5 points = 6,27 %: 3 Feb .. 15 Apr = 72 days
    got = build_cases(chosen([claim("R", amount=100_000, due=date(2026, 2, 2), law="private", claim_type="MIETE")]),
                      HANDOFF, tenant="muster")
    r = got.items.row(0, named=True)
    assert (r["surcharge_rule"], r["saeumniszuschlag_accrued_cents"]) == ("bgb_288", 0)
    assert r["interest_accrued_cents"] == round(100_000 * 0.0627 * 72 / 365) == r["interest_new_cents"]
    assert got.cases["interest_cents"][0] == r["interest_accrued_cents"]


def test_a_partial_payment_lowers_the_surcharge_base() -> None:
    # 1.234,56 € open now after 500 € paid on 1 Apr (month 2 started 17 Mar: still on 1.700 → 17 €), month 1 17 €
    sel = chosen([claim("A", amount=123_456, due=date(2026, 2, 16))])
    pays = pl.DataFrame({"receivable_id": ["A"], "paid_on": [date(2026, 4, 1)], "amount_cents": [50_000]})
    got = build_cases(sel, HANDOFF, tenant="muster", payments=pays)
    assert got.items["saeumniszuschlag_accrued_cents"][0] == 1_700 + 1_700


def test_a_waived_mahnung_is_the_statements_basis() -> None:
    waivers = pl.DataFrame([{"debtor_id": "D1", "waiver": "without_means", "since": date(2026, 4, 1)}])
    sel = chosen([claim("A")], mahnungen=[], waivers=waivers)
    got = build_cases(sel, HANDOFF, tenant="muster")
    row = got.items.row(0, named=True)
    assert (row["basis"], row["mahnung_waiver"], row["mahnung_date"]) == (EnforceabilityBasis.WAIVER,
                                                                         "without_means", None)


def test_the_same_input_gives_the_same_numbers() -> None:
    sel = chosen([claim(f"R{i}", f"D{i % 7}") for i in range(30)])
    a = build_cases(sel, HANDOFF, tenant="muster")
    b = build_cases(sel.sample(fraction=1.0, shuffle=True, seed=3), HANDOFF, tenant="muster")
    assert a.cases.equals(b.cases)
    assert a.items.equals(b.items)


@settings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 6), st.booleans()), min_size=1, max_size=30),
       st.sets(st.integers(0, 6), max_size=3))
def test_a_case_never_mixes_debtors(rows: list[tuple[int, bool]], with_open_case: set[int]) -> None:
    claims: list[dict[str, Any]] = []
    for i, (debtor, fee) in enumerate(rows):
        claims.append(claim(f"R{i}", f"D{debtor}"))
        if fee:
            claims.append(claim(f"F{i}", f"D{debtor}", amount=600, claim_type="MAHNGEBUEHR",
                                parent_receivable_id=f"R{i}"))
    open_cases = pl.DataFrame([{"case_number": f"MUSTER-2026-00010{d}-X", "debtor_id": f"D{d}",
                                "receivable_id": f"OLD{d}", "handed_off_on": date(2026, 1, 5)}
                               for d in sorted(with_open_case)],
                              schema={"case_number": pl.String, "debtor_id": pl.String, "receivable_id": pl.String,
                                      "handed_off_on": pl.Date})
    got = build_cases(chosen(claims), HANDOFF, tenant="muster", open_cases=open_cases,
                      known_numbers=open_cases["case_number"])
    items = got.items.join(pl.DataFrame(claims).select("receivable_id", "debtor_id"), on="receivable_id")
    assert (items.group_by("case_number").agg(pl.col("debtor_id").n_unique())["debtor_id"] == 1).all()
    assert got.cases["debtor_id"].is_unique().all() and got.cases["case_number"].is_unique().all()
    assert sorted(got.items["receivable_id"]) == sorted(c["receivable_id"] for c in claims)
    for r in got.cases.iter_rows(named=True):
        assert r["new"] != (int(r["debtor_id"][1:]) in with_open_case)
        assert r["new"] == case_number_valid(r["case_number"]) or not r["new"]
    assert got.cases["n_claims"].sum() == got.items.height


def test_a_nebenforderung_joins_the_case_of_its_main_claim() -> None:
    # the debtor has two open cases; the new Säumniszuschlag of X goes to X's case, not to the highest number
    open_cases = pl.DataFrame([
        {"case_number": "MUSTER-2026-000003-Q", "debtor_id": "D1", "receivable_id": "X",
         "handed_off_on": date(2026, 2, 2)},
        {"case_number": "MUSTER-2026-000009-Q", "debtor_id": "D1", "receivable_id": "Y",
         "handed_off_on": date(2026, 3, 2)}])
    claims = [claim("X"), claim("X-SZ", amount=300, claim_type="SAEUMNISZUSCHLAG", parent_receivable_id="X"),
              claim("Z")]
    sel = select(pl.DataFrame(claims), HANDOFF, mahnungen=pl.DataFrame([mahnung("Z")]), open_cases=open_cases).selected
    assert sorted(sel["receivable_id"]) == ["X-SZ", "Z"]
    got = build_cases(sel, HANDOFF, tenant="muster", open_cases=open_cases)
    assert dict(got.items.select("receivable_id", "case_number").rows()) == {
        "X-SZ": "MUSTER-2026-000003-Q", "Z": "MUSTER-2026-000009-Q"}
    assert got.cases.select("case_number", "new", "opened_on", "n_claims").rows() == [
        ("MUSTER-2026-000003-Q", False, date(2026, 2, 2), 1), ("MUSTER-2026-000009-Q", False, date(2026, 3, 2), 1)]
