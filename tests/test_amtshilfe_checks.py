"""The checks of received Amtshilfe messages (amtshilfe/checks.py, docs/AMTSHILFE.md "Checks").

A literal table: one row per ErsuchenCheck with the smallest change to a plain request that gives it; the
order of the checks pair by pair; the Beitragsservice rule; the surcharge flag; duplicates and repeated
deliveries; changes, suspensions and withdrawals of open and unknown requests.
"""

from __future__ import annotations

import itertools
from datetime import date
from pathlib import Path
from typing import Any

import polars as pl
import pytest

from amtshilfe.checks import ANSWER_COLUMNS, ERSUCHEN_ORDER, Checked, check, read_authorities
from claims.config import AmtshilfeSection
from claims.vocab import ErsuchenCheck, ErsuchenOutcome, ErsuchenState

SETTINGS = AmtshilfeSection(district_postcodes=("33602", "33604"), district_municipalities=("05711000",))
IHK = {"creditor_id": "IHK-BI", "creditor_name": "IHK Ostwestfalen zu Bielefeld"}
BS = {"creditor_id": "BEITRAGSSERVICE", "creditor_name": "ARD ZDF Deutschlandradio Beitragsservice"}


def req(mid: str = "m1", file_number: str = "A-1", message: str = "ersuchen", **extra: Any) -> dict[str, Any]:
    """A plain request of the IHK with one notice: accepted."""
    return {"message_id": mid, "message": message, **IHK, "creditor_file_number": file_number,
            "debtor_name": "Anna Muster", "debtor_street": "Markt 1", "debtor_postcode": "33602",
            "debtor_city": "Bielefeld", "notice_date": date(2026, 1, 5), "notice_authority": "IHK Bielefeld",
            "notice_file_number": "B-77", "period_from": date(2025, 1, 1), "period_to": date(2025, 12, 31),
            "principal_cents": 25_000, "surcharge_cents": 0, "costs_cents": 1_500, "enforceable_statement": True,
            "enforceable_since": date(2026, 2, 10), "payment_reference": "IHK-4711",
            "request_date": date(2026, 3, 2), **extra}


def run(rows: list[dict[str, Any]], held: list[dict[str, Any]] | None = None,
        settings: AmtshilfeSection = SETTINGS, **kw: Any) -> Checked:
    got = check(pl.DataFrame(rows), pl.DataFrame(held) if held else None, settings, **kw)
    assert got.answers.columns == list(ANSWER_COLUMNS)
    # every message is answered exactly once, in the order received
    assert got.answers["message_id"].to_list() == list(dict.fromkeys(r["message_id"] for r in rows))
    return got


def answer(rows: list[dict[str, Any]], mid: str = "m1", **kw: Any) -> tuple[str, str | None, str | None]:
    got = run(rows, **kw).answers.filter(pl.col("message_id") == mid)
    return got["outcome"][0], got["check"][0], got["state"][0]


OTHER = [{"creditor_id": "IHK-BI", "creditor_file_number": "A-1", "state": "accepted", "content_key": "older",
          "case_number": "K-2026-000001-X"}]

#: (what, overrides of the plain request, the open requests, the check that holds)
TABLE: list[tuple[str, dict[str, Any], list[dict[str, Any]] | None, str | None]] = [
    ("plain: accepted", {}, None, None),
    ("authority's name missing", {"creditor_name": " "}, None, ErsuchenCheck.NO_AUTHORITY),
    ("authority's id missing", {"creditor_id": None}, None, ErsuchenCheck.NO_AUTHORITY),
    ("creditor's file number missing", {"creditor_file_number": ""}, None, ErsuchenCheck.NO_AUTHORITY),
    ("notice without its authority", {"notice_authority": None}, None, ErsuchenCheck.NO_NOTICE),
    ("notice without its date", {"notice_date": None}, None, ErsuchenCheck.NO_NOTICE),
    ("notice without its file number", {"notice_file_number": " "}, None, ErsuchenCheck.NO_NOTICE),
    ("no statement of enforceability", {"enforceable_statement": False}, None, ErsuchenCheck.NOT_ENFORCEABLE),
    ("statement missing", {"enforceable_statement": None}, None, ErsuchenCheck.NOT_ENFORCEABLE),
    ("enforceable only after the request", {"enforceable_since": date(2026, 3, 3)}, None,
     ErsuchenCheck.NOT_ENFORCEABLE),
    ("debtor's street missing", {"debtor_street": None}, None, ErsuchenCheck.NO_DEBTOR),
    ("German postcode of four digits", {"debtor_postcode": "3360"}, None, ErsuchenCheck.NO_DEBTOR),
    ("debtor outside the district", {"debtor_postcode": "10115", "debtor_city": "Berlin"}, None,
     ErsuchenCheck.NOT_COMPETENT),
    ("outside the postcodes, but the municipality key is ours",
     {"debtor_postcode": "33649", "debtor_municipality": "05711000"}, None, None),
    ("same creditor + file number open with another content", {}, OTHER, ErsuchenCheck.DUPLICATE),
    ("Beitragsservice, NRW, dated after the cut-off", {**BS, "request_date": date(2024, 1, 2), "enforceable_since": None}, None,
     ErsuchenCheck.SOURCE_CLOSED),
    ("nothing demanded", {"principal_cents": 0, "costs_cents": 0}, None, ErsuchenCheck.NOTHING_OPEN),
    ("Beitragsservice run-off with a surcharge of 5 €",
     {**BS, "request_date": date(2023, 11, 2), "enforceable_since": None, "principal_cents": 5_508,
      "surcharge_cents": 500}, None,
     ErsuchenCheck.SURCHARGE_DOUBT),
]


@pytest.mark.parametrize(("what", "overrides", "held", "expected"), TABLE, ids=[t[0] for t in TABLE])
def test_each_check(what: str, overrides: dict[str, Any], held: list[dict[str, Any]] | None,
                    expected: str | None) -> None:
    outcome, got, state = answer([req(**overrides)], held=held)
    assert got == expected
    if expected is None:
        assert (outcome, state) == (ErsuchenOutcome.ACCEPTED, ErsuchenState.ACCEPTED)
    elif expected in (ErsuchenCheck.DUPLICATE, ErsuchenCheck.SURCHARGE_DOUBT):
        assert (outcome, state) == (ErsuchenOutcome.FLAGGED, ErsuchenState.FLAGGED)
    else:
        assert (outcome, state) == (ErsuchenOutcome.RETURNED, ErsuchenState.RETURNED)


def test_the_table_covers_every_check() -> None:
    # unknown_case: the changes below; below_paid: the ledger's (tests/test_amtshilfe_changes.py)
    covered = {t[3] for t in TABLE} | {ErsuchenCheck.UNKNOWN_CASE, ErsuchenCheck.BELOW_PAID}
    assert covered - {None} == set(ErsuchenCheck)
    assert set(ERSUCHEN_ORDER) == set(ErsuchenCheck) - {ErsuchenCheck.UNKNOWN_CASE, ErsuchenCheck.BELOW_PAID}


#: The smallest change that makes each check hold (on a Beitragsservice run-off request, so the source
#: rules can hold too), and whether it needs the open request.
BREAK: dict[str, tuple[dict[str, Any], bool]] = {
    ErsuchenCheck.NO_AUTHORITY: ({"creditor_name": None}, False),
    ErsuchenCheck.NO_NOTICE: ({"notice_authority": None}, False),
    ErsuchenCheck.NOT_ENFORCEABLE: ({"enforceable_statement": False}, False),
    ErsuchenCheck.NO_DEBTOR: ({"debtor_name": None}, False),
    ErsuchenCheck.NOT_COMPETENT: ({"debtor_postcode": "10115"}, False),
    ErsuchenCheck.DUPLICATE: ({}, True),
    ErsuchenCheck.SOURCE_CLOSED: ({"request_date": date(2024, 3, 1)}, False),
    ErsuchenCheck.NOTHING_OPEN: ({"principal_cents": 0, "costs_cents": 0, "surcharge_cents": 0}, False),
    ErsuchenCheck.SURCHARGE_DOUBT: ({"surcharge_cents": 500}, False),
}
RUNOFF = {**BS, "request_date": date(2023, 12, 1), "enforceable_since": date(2023, 11, 1),
          "principal_cents": 5_508, "surcharge_cents": 800}


def test_the_first_check_that_holds_is_the_answer() -> None:
    # every pair of checks (whose changes touch different fields) in one delivery: each alone gives its
    # own check, both together the earlier one of ERSUCHEN_ORDER
    rows, held, want = [], [], {}
    for i, (first, second) in enumerate(itertools.combinations(ERSUCHEN_ORDER, 2)):
        (a, a_open), (b, b_open) = BREAK[first], BREAK[second]
        if set(a) & set(b):
            continue
        for tag, change, expected, needs_open in (("a", a, first, a_open), ("b", b, second, b_open),
                                                  ("ab", {**a, **b}, first, a_open or b_open)):
            fn = f"P{i}-{tag}"
            rows.append(req(fn, fn, **{**RUNOFF, **change}))
            want[fn] = expected
            if needs_open:
                held.append({**OTHER[0], "creditor_id": "BEITRAGSSERVICE", "creditor_file_number": fn})
    assert len(want) == 3 * 35     # 36 pairs less nothing_open/surcharge_doubt (both set the surcharge)
    got = dict(run(rows, held).answers.select("message_id", "check").iter_rows())
    assert got == want


# --- the Beitragsservice rule (DOMAIN.md §0.1, §9.1 r. 21) -------------------------------------------------

def test_beitragsservice_nrw_after_the_cutoff_is_refused_runoff_kept() -> None:
    rows = [req("late", "R-1", **{**RUNOFF, "request_date": date(2024, 1, 1)}),
            req("cutoff", "R-2", **{**RUNOFF, "request_date": date(2023, 12, 31)}),
            req("undated", "R-3", **{**RUNOFF, "request_date": None}),
            req("by-name", "R-4", **{**RUNOFF, "creditor_id": "BS-KOELN", "request_date": date(2024, 5, 1)}),
            req("wdr", "R-5", **{**RUNOFF, "creditor_id": "X1", "creditor_name": "Westdeutscher Rundfunk Köln",
                                 "request_date": date(2024, 5, 1)}),
            req("ihk", "R-6", request_date=date(2024, 5, 1), enforceable_since=None)]
    got = dict(run(rows).answers.select("message_id", "check").iter_rows())
    assert got == {"late": ErsuchenCheck.SOURCE_CLOSED, "cutoff": None, "undated": ErsuchenCheck.SOURCE_CLOSED,
                   "by-name": ErsuchenCheck.SOURCE_CLOSED, "wdr": ErsuchenCheck.SOURCE_CLOSED, "ihk": None}


def test_beitragsservice_in_another_land_is_kept() -> None:
    elsewhere = SETTINGS.model_copy(update={"in_nrw": False})
    assert answer([req(**{**RUNOFF, "request_date": date(2025, 6, 1)})], settings=elsewhere)[0] \
        == ErsuchenOutcome.ACCEPTED


def test_a_later_cutoff_moves_the_line() -> None:
    later = SETTINGS.model_copy(update={"rundfunk_cutoff": date(2024, 6, 30)})
    assert answer([req(**{**RUNOFF, "request_date": date(2024, 6, 30)})], settings=later)[1] is None
    assert answer([req(**{**RUNOFF, "request_date": date(2024, 7, 1)})], settings=later)[1] \
        == ErsuchenCheck.SOURCE_CLOSED


def test_a_change_to_an_open_beitragsservice_case_is_applied_after_the_cutoff() -> None:
    held = [{"creditor_id": "BEITRAGSSERVICE", "creditor_file_number": "R-1", "state": "accepted"}]
    got = run([req("w", "R-1", message="ruecknahme", **{**RUNOFF, "request_date": date(2024, 8, 1)})], held)
    assert got.answers.row(0, named=True)["outcome"] == ErsuchenOutcome.APPLIED


# --- the surcharge flag (Rundfunkbeitragssatzung § 11: 1 %, at least 8 €) -----------------------------------

@pytest.mark.parametrize(("principal", "surcharge", "fits"), [
    (5_508, 800, True),        # a quarter's contributions: 1 % is 55 ct, so the minimum of 8 €
    (5_508, 0, True),          # no surcharge set at all
    (5_508, 500, False),       # under the minimum
    (5_508, 801, True),        # a cent of rounding
    (5_508, 802, False),
    (100_000, 1_000, True),    # 1 % of 1,000 € is 10 € (above the minimum)
    (100_000, 800, False),     # the minimum where 1 % is more
    (100_000, 999, True),
    (100_000, 990, False),
    (100_050, 1_001, True),    # 1 % of 1,000.50 € is 10.005 €: rounded either way
])
def test_surcharge_flag(principal: int, surcharge: int, fits: bool) -> None:
    outcome, got, _ = answer([req(**{**RUNOFF, "principal_cents": principal, "surcharge_cents": surcharge})])
    assert (outcome, got) == ((ErsuchenOutcome.ACCEPTED, None) if fits
                              else (ErsuchenOutcome.FLAGGED, ErsuchenCheck.SURCHARGE_DOUBT))


def test_one_notice_out_of_line_flags_the_request_and_other_creditors_are_not_judged_by_the_rule() -> None:
    two = [req(**RUNOFF), req(**{**RUNOFF, "notice_file_number": "B-78", "surcharge_cents": 300})]
    assert answer(two)[1] == ErsuchenCheck.SURCHARGE_DOUBT
    assert answer([req(surcharge_cents=300)])[1] is None


# --- duplicates and repeated deliveries -------------------------------------------------------------------

def held_from(got: Checked) -> list[dict[str, Any]]:
    """What the ledger would hold after a run: the accepted and flagged requests with their content."""
    return got.answers.filter(pl.col("state").is_in(["accepted", "flagged"])).select(
        "creditor_id", "creditor_file_number", "state", "content_key", "case_number").to_dicts()


def test_a_repeated_delivery_adds_nothing() -> None:
    first = run([req("m1"), req("m2", "A-2", principal_cents=9_900)])
    again = run([req("n1"), req("n2", "A-2", principal_cents=9_900)], held_from(first))
    assert again.answers["outcome"].to_list() == [ErsuchenOutcome.REPEATED] * 2
    assert again.answers["state"].to_list() == [None, None]
    assert again.notices.height == 0


def test_the_notices_order_does_not_change_the_content() -> None:
    a, b = req("m1", notice_file_number="B-1"), req("m1", notice_file_number="B-2", principal_cents=3_000)
    first = run([a, b])
    assert first.notices.height == 2 and first.answers["notices"][0] == 2
    assert run([{**b, "message_id": "n1"}, {**a, "message_id": "n1"}], held_from(first)).answers["outcome"][0] \
        == ErsuchenOutcome.REPEATED


def test_the_same_request_twice_in_one_delivery() -> None:
    got = run([req("m1"), req("m2"), req("m3", principal_cents=30_000)]).answers
    assert got["outcome"].to_list() == [ErsuchenOutcome.ACCEPTED, ErsuchenOutcome.REPEATED, ErsuchenOutcome.FLAGGED]
    assert got["check"].to_list() == [None, None, ErsuchenCheck.DUPLICATE]


def test_a_differing_delivery_not_sent_as_aenderung_is_flagged() -> None:
    first = run([req("m1")])
    got = run([req("n1", principal_cents=26_000)], held_from(first)).answers.row(0, named=True)
    assert (got["outcome"], got["check"]) == (ErsuchenOutcome.FLAGGED, ErsuchenCheck.DUPLICATE)


def test_creditor_and_file_number_are_compared_trimmed_and_creditor_case_blind() -> None:
    first = run([req("m1")])
    assert answer([req("n1", creditor_id=" ihk-bi ")], "n1", held=held_from(first))[0] == ErsuchenOutcome.FLAGGED
    assert answer([req("n1", file_number="A-1 ")], "n1", held=held_from(first))[0] == ErsuchenOutcome.FLAGGED


def test_a_closed_request_with_the_same_file_number_is_checked_afresh() -> None:
    held = [{**OTHER[0], "state": "returned"}]
    assert answer([req()], held=held)[0] == ErsuchenOutcome.ACCEPTED


# --- changes, suspensions, withdrawals ------------------------------------------------------------------

def test_changes_of_an_open_request() -> None:
    first = run([req("m1")])
    held = [{**h, "case_number": "K-1"} for h in held_from(first)]
    rows = [req("c1", message="aenderung", principal_cents=20_000),
            req("c2", message="aussetzung", suspended_until=date(2026, 6, 30)),
            req("c3", message="ruecknahme")]
    got = run(rows, held).answers
    assert got.select("outcome", "check", "state", "case_number").rows() == [
        (ErsuchenOutcome.APPLIED, None, None, "K-1"),
        (ErsuchenOutcome.APPLIED, None, ErsuchenState.SUSPENDED, "K-1"),
        (ErsuchenOutcome.APPLIED, None, ErsuchenState.WITHDRAWN, "K-1")]
    assert run(rows, held).notices["message_id"].unique().to_list() == ["c1"]   # the changed request's notices


@pytest.mark.parametrize("message", ["aenderung", "aussetzung", "ruecknahme"])
def test_a_change_of_an_unknown_request_is_returned(message: str) -> None:
    got = run([req("c1", "NOPE", message=message)], OTHER).answers.row(0, named=True)
    assert (got["outcome"], got["check"], got["state"]) == (ErsuchenOutcome.RETURNED, ErsuchenCheck.UNKNOWN_CASE,
                                                            None)


def test_a_change_of_another_creditors_file_number_is_unknown() -> None:
    assert answer([req("c1", message="ruecknahme", creditor_id="HWK-OWL", creditor_name="HWK")], "c1",
                  held=OTHER)[1] == ErsuchenCheck.UNKNOWN_CASE


def test_an_aenderung_with_the_held_content_is_repeated_and_a_failing_one_flagged() -> None:
    first = run([req("m1")])
    assert answer([req("c1", message="aenderung")], "c1", held=held_from(first))[0] == ErsuchenOutcome.REPEATED
    moved = answer([req("c1", message="aenderung", debtor_postcode="10115", debtor_city="Berlin")], "c1",
                   held=held_from(first))
    assert moved == (ErsuchenOutcome.FLAGGED, ErsuchenCheck.NOT_COMPETENT, None)


def test_a_withdrawal_in_the_same_delivery_as_its_request() -> None:
    got = run([req("m1"), req("c1", message="ruecknahme"), req("c2", message="ruecknahme")]).answers
    assert got["outcome"].to_list() == [ErsuchenOutcome.ACCEPTED, ErsuchenOutcome.APPLIED, ErsuchenOutcome.REPEATED]
    returned = run([req("m1", creditor_name=None), req("c1", message="ruecknahme")]).answers
    assert returned["check"].to_list() == [ErsuchenCheck.NO_AUTHORITY, ErsuchenCheck.UNKNOWN_CASE]


def test_a_withdrawal_delivered_again_after_it_was_carried_out_is_repeated() -> None:
    held = [{**OTHER[0], "state": "withdrawn"}]
    assert answer([req("c1", message="ruecknahme")], "c1", held=held)[0] == ErsuchenOutcome.REPEATED


def test_a_suspended_request_can_be_withdrawn() -> None:
    held = [{**OTHER[0], "state": "suspended"}]
    assert answer([req("c1", message="ruecknahme")], "c1", held=held)[2] == ErsuchenState.WITHDRAWN


# --- competence: who is competent, and the district ----------------------------------------------------

def test_not_competent_names_the_competent_authority(tmp_path: Path) -> None:
    csv = tmp_path / "behoerden.csv"
    csv.write_bytes("\ufeffpostcode;authority_id;authority_name;authority_city\n"
                    "10115;BE-FA-MITTE;Finanzamt Mitte;Berlin\n01067;DD-VS;Stadt Dresden;Dresden\n"
                    .encode("utf-8"))
    directory = read_authorities(csv)
    assert directory["postcode"].to_list() == ["10115", "01067"]
    rows = [req("m1", debtor_postcode="01067", debtor_city="Dresden"), req("m2", "A-2", debtor_postcode="80331"),
            req("m3", "A-3")]
    got = run(rows, authorities=directory).answers
    assert got["competent_authority_name"].to_list() == ["Stadt Dresden", None, None]
    assert got["competent_authority_city"].to_list() == ["Dresden", None, None]
    assert got["check"].to_list() == [ErsuchenCheck.NOT_COMPETENT, ErsuchenCheck.NOT_COMPETENT, None]


def test_no_district_configured_is_refused() -> None:
    with pytest.raises(ValueError, match="district"):
        check(pl.DataFrame([req()]), None, AmtshilfeSection())


def test_totals_and_the_notices_kept() -> None:
    rows = [req("m1"), req("m1", notice_file_number="B-78", principal_cents=1_000, surcharge_cents=200),
            req("m2", "A-2", creditor_name=None)]
    got = run(rows)
    first = got.answers.row(0, named=True)
    assert (first["notices"], first["principal_cents"], first["surcharge_cents"], first["costs_cents"],
            first["total_cents"]) == (2, 26_000, 200, 3_000, 29_200)
    assert got.notices["message_id"].to_list() == ["m1", "m1"]
    assert got.with_outcome(ErsuchenOutcome.RETURNED)["message_id"].to_list() == ["m2"]


def test_the_amtshilfe_table_of_the_tenant_file(tmp_path: Path) -> None:
    from claims.config import tenant_config
    cfg = tenant_config({"amtshilfe": {"district_postcodes": ["33602"], "authorities_file": "behoerden.csv",
                                       "rundfunk_cutoff": date(2024, 6, 30), "cost_contribution": "37,00",
                                       "cost_free_creditor_ids": ["stadt-gt"]}}, base=tmp_path)
    a = cfg.amtshilfe
    assert a.authorities_file == str(tmp_path / "behoerden.csv")      # relative to the tenant file
    assert (a.rundfunk_cutoff, a.cost_contribution, a.cost_free_creditor_ids) == (date(2024, 6, 30), 3_700,
                                                                                 ("STADT-GT",))
    with pytest.raises(ValueError, match="district_postcodes"):
        AmtshilfeSection.model_validate({"district_postcodes": ["3360"]})
