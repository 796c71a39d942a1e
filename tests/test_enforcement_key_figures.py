"""Enforcement key figures (enforcement/key_figures.py, DOMAIN.md §6.2–6.3): each working definition on a small
literal history, and the placement against the gpaNRW comparison values."""

from __future__ import annotations

from datetime import date
from typing import Any

import polars as pl
import pytest

from claims.config import EnforcementSection
from dunning.key_figures import FIGURE_SCHEMA
from enforcement.key_figures import GPA_COMPARISON, claim_states, enforcement_key_figures

SINCE, AS_OF = date(2026, 1, 1), date(2026, 12, 31)


def cc(case: str, rid: str, day: date, cents: int, ancillary: bool = False) -> dict[str, Any]:
    return {"case_number": case, "debtor_id": f"D-{case}", "receivable_id": rid, "handed_off_on": day,
            "ancillary": ancillary, "handed_cents": cents}


CASE_CLAIMS = pl.DataFrame([
    cc("K1", "A", date(2025, 11, 1), 10_000), cc("K1", "A-MG", date(2025, 11, 1), 1_500, True),
    cc("K0", "OLD", date(2025, 3, 1), 9_000),                               # completed before the period
    cc("K2", "B", date(2026, 2, 1), 20_000), cc("K2", "B-SZ", date(2026, 2, 1), 4_000, True),
    cc("K3", "C", date(2026, 3, 1), 5_000),
    cc("K4", "E", date(2026, 11, 20), 8_000),                               # new, too young for the backlog
    cc("K5", "F", date(2026, 4, 1), 7_000),                                 # partly paid: open, not a backlog
])
OUTCOMES = pl.DataFrame([
    {"case_number": "K0", "outcome": "paid", "outcome_date": date(2025, 6, 1), "fee_cents": 999},
    {"case_number": "K1", "outcome": "paid", "outcome_date": date(2026, 2, 10), "collected_cents": 10_000,
     "ancillary_collected_cents": 1_500, "fee_cents": 2_500},
    {"case_number": "K2", "receivable_id": "B", "outcome": "uncollectible", "outcome_date": date(2026, 5, 1),
     "fee_cents": 1_000},
    {"case_number": "K5", "receivable_id": "F", "outcome": "partly_paid", "outcome_date": date(2026, 6, 1),
     "collected_cents": 2_000, "ancillary_collected_cents": 300},
    {"case_number": "K3", "receivable_id": "C", "outcome": "paid", "outcome_date": date(2027, 1, 5)},   # after
])
CLAIMS = pl.DataFrame({"receivable_id": ["B", "C", "E", "G", "H", "B-SZ"],
                       "claim_type": ["GRUNDSTEUER", "ABFALL", "ABFALL", "ABFALL", "MAHNGEBUEHR", "SAEUMNISZUSCHLAG"],
                       "due_date": [date(2026, 1, 15)] * 6,
                       "parent_receivable_id": [None, None, None, None, None, "B"]})


@pytest.fixture(scope="module")
def figures() -> dict[str, dict[str, Any]]:
    s = EnforcementSection(staff_fte=0.5, annual_costs="1.000,00", backlog_days=180)
    got = enforcement_key_figures(CASE_CLAIMS, OUTCOMES, CLAIMS, as_of=AS_OF, since=SINCE, settings=s)
    assert got.schema == pl.Schema(FIGURE_SCHEMA)
    return {r["figure"] + ("/W" if "Warendorf" in (r["bench_source"] or "") else ""): r for r in got.iter_rows(named=True)}


def test_the_claims_states() -> None:
    st = claim_states(CASE_CLAIMS, OUTCOMES, AS_OF)
    assert st.select("receivable_id", "completed_on", "outcome").rows() == [
        ("OLD", date(2025, 6, 1), "paid"), ("A", date(2026, 2, 10), "paid"), ("B", date(2026, 5, 1), "uncollectible"),
        ("C", None, None), ("F", None, None), ("E", None, None)]


@pytest.mark.parametrize(("figure", "num", "den", "value"), [
    ("neue_vollstreckungsforderungen", 4, None, 4.0),            # B, C, F, E (main claims only)
    ("neue_je_vollzeit_stelle/W", 4, None, 8.0),               # the Warendorf comparison value
    ("bestehende_vollstreckungsforderungen", 1, None, 1.0),      # A (OLD was completed before)
    ("bestehende_je_vollzeit_stelle", 1, None, 2.0),
    ("vollstreckungsquote", 3, 4, 75.0),                         # B, C, E of B, C, E, G (no Nebenforderungen)
    ("erfolgsquote_anzahl", 1, 2, 50.0),                         # A paid, B uncollectible
    ("erfolgsquote_summe", 10_000, 30_000, 100 / 3),
    ("erledigungsquote", 2, 5, 40.0),                            # of A + the four new ones
    ("durchschnittliche_dauer", None, 2, 95.0),                  # A 101 days, B 89 days
    ("rueckstand", 1, 3, 100 / 3),                               # C: open since 1 Mar without any outcome
    ("realisierte_nebenforderungen", 1_800, None, 18.0),
    ("realisierte_nebenforderungen_je_vollzeit_stelle", 1_800, None, 36.0),
    ("anteil_nebenforderungen", 4_000, 40_000, 10.0),            # handed in 2026: 4.000 of 20.000+5.000+8.000+7.000
    ("deckungsgrad", 3_500, 100_000, 3.5),
    ("aufwendungen_je_abgewickelte", 100_000, 2, 500.0),
])
def test_each_working_definition(figures: dict[str, dict[str, Any]], figure: str, num: int | None, den: int | None,
                                 value: float) -> None:
    r = figures[figure]
    assert (r["numerator"], r["denominator"]) == (num, den)
    assert r["value"] == pytest.approx(value)
    assert (r["period_from"], r["period_to"]) == (SINCE, AS_OF)


def test_the_placement_against_the_gpa_values(figures: dict[str, dict[str, Any]]) -> None:
    a = figures["anteil_nebenforderungen"]
    assert (a["bench_median"], a["quartile"], a["position"]) == (14.9, 1, "bis zum 1. Quartil")
    assert figures["aufwendungen_je_abgewickelte"]["position"] == "über dem 3. Quartil, über dem Maximum"
    # two comparison values for the realised Nebenforderungen: one row each
    assert figures["realisierte_nebenforderungen_je_vollzeit_stelle"]["bench_q1"] == 30_499
    assert figures["realisierte_nebenforderungen_je_vollzeit_stelle/W"]["bench_q1"] == 30_856
    assert figures["erfolgsquote_anzahl"]["position"] == "kein Vergleichswert veröffentlicht"


def test_a_short_period_is_scaled_to_a_year_for_the_comparison() -> None:
    s = EnforcementSection(staff_fte=1.0)
    got = enforcement_key_figures(CASE_CLAIMS, OUTCOMES, as_of=date(2026, 3, 31), since=SINCE, settings=s)
    r = got.filter(pl.col("figure") == "neue_je_vollzeit_stelle").row(0, named=True)
    assert r["value"] == 2.0                                           # B, C in 90 days
    assert r["compared_value"] == pytest.approx(2 * 365 / 90)


def test_without_staff_or_costs_those_figures_stay_empty() -> None:
    got = enforcement_key_figures(CASE_CLAIMS, OUTCOMES, as_of=AS_OF, since=SINCE)
    empty = got.filter(pl.col("value").is_null())["figure"].to_list()
    assert {"neue_je_vollzeit_stelle", "bestehende_je_vollzeit_stelle", "deckungsgrad",
            "aufwendungen_je_abgewickelte", "vollstreckungsquote"} <= set(empty)
    got = enforcement_key_figures(CASE_CLAIMS, OUTCOMES, as_of=AS_OF, since=SINCE,
                                  settings=EnforcementSection(cost_per_case="50,00"))
    r = got.filter(pl.col("figure") == "aufwendungen_je_abgewickelte").row(0, named=True)
    assert (r["numerator"], r["value"]) == (25_000, 125.0)             # 5 claims worked × 50 € ÷ 2 completed


def test_the_comparison_values_are_ordered() -> None:
    for b in GPA_COMPARISON:
        assert b.q1 <= b.median <= b.q3, b.figure
        assert b.minimum is None or b.minimum <= b.q1, b.figure
        assert b.maximum is None or b.q3 <= b.maximum, b.figure
        assert b.year == 2016 and b.source.startswith("gpaNRW")
