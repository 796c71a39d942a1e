"""Forderungsbewertung (enforcement/valuation.py): the state of each claim from cases and outcomes, the age
classes, individual and flat allowances, time-barred claims, and totals that add up."""

from __future__ import annotations

from datetime import date

import polars as pl
import pytest

from claims.config import EnforcementSection
from claims.vocab import AllowanceMethod, ClaimStanding
from enforcement.valuation import POSTING_COLUMNS, REPORT_COLUMNS, age_class_labels, claim_standing, valuation

DAY = date(2025, 12, 31)


def claims(*rows: tuple[str, int, date, str]) -> pl.DataFrame:
    return pl.DataFrame([{"receivable_id": r, "amount_cents": a, "due_date": d, "claim_type": t} for r, a, d, t in rows])


@pytest.mark.parametrize(("due", "label", "rate", "allowance"), [
    (date(2026, 2, 1), "bis 1 Jahr", 0.0, 0),            # not yet due: the first class
    (date(2025, 1, 1), "bis 1 Jahr", 0.0, 0),            # 364 days
    (date(2024, 12, 31), "1 bis 2 Jahre", 10.0, 1_235),  # 365 days; 1.234,5 cents half-up
    (date(2023, 12, 31), "2 bis 3 Jahre", 25.0, 3_086),  # 731 days (2024 is a leap year); 3.086,25
    (date(2022, 12, 31), "3 bis 5 Jahre", 50.0, 6_173),  # 1096 days; 6.172,5
    (date(2021, 1, 1), "über 5 Jahre", 100.0, 12_345),   # 1825 days
])
def test_the_age_classes_and_their_flat_rates(due: date, label: str, rate: float, allowance: int) -> None:
    row = valuation(claims(("X", 12_345, due, "ABFALL")), DAY).items.row(0, named=True)
    assert (row["age_class"], row["rate_percent"], row["method"], row["allowance_cents"]) == (
        label, rate, AllowanceMethod.FLAT, allowance)


def test_rounding_is_half_up_per_claim_and_sums_add_up() -> None:
    cl = claims(("A", 5, date(2024, 6, 1), "ABFALL"), ("B", 15, date(2024, 6, 1), "ABFALL"),
                ("C", 14, date(2024, 6, 1), "ABFALL"))
    v = valuation(cl, DAY)
    assert v.items["allowance_cents"].to_list() == [1, 2, 1]          # 0,5 → 1; 1,5 → 2; 1,4 → 1
    assert v.report["allowance_cents"].sum() == v.postings["allowance_cents"].sum() == 4
    assert (v.items["open_cents"] - v.items["allowance_cents"] == v.items["net_cents"]).all()


def test_configured_classes_and_rates() -> None:
    s = EnforcementSection(allowance_age_days=(0, 180), allowance_rates_percent=(5.0, 40.0),
                           allowance_uncollectible_percent=80.0)
    assert age_class_labels(s) == ["bis 180 Tage", "über 180 Tage"]
    v = valuation(claims(("A", 10_000, date(2025, 7, 1), "ABFALL"), ("B", 10_000, date(2025, 7, 5), "ABFALL")), DAY, s)
    assert v.items["allowance_cents"].to_list() == [4_000, 500]
    st = pl.DataFrame({"receivable_id": ["A"], "standing": [ClaimStanding.UNCOLLECTIBLE]})
    assert valuation(claims(("A", 10_000, date(2025, 7, 1), "ABFALL")), DAY, s, standing=st).items[
        "allowance_cents"].to_list() == [8_000]


def test_one_rate_per_class_is_enforced() -> None:
    with pytest.raises(ValueError, match="one rate per age class"):
        EnforcementSection(allowance_age_days=(0, 365), allowance_rates_percent=(1.0,))
    with pytest.raises(ValueError, match="rising day bounds"):
        EnforcementSection(allowance_age_days=(30, 365), allowance_rates_percent=(1.0, 2.0))


CASES = pl.DataFrame([{"case_number": "K1", "debtor_id": "D", "receivable_id": r, "handed_off_on": date(2025, 3, 1)}
                      for r in ("A", "B", "C", "D", "E", "F")])


def test_the_state_from_cases_and_outcomes() -> None:
    out = pl.DataFrame([
        {"case_number": "K1", "receivable_id": "A", "outcome": "uncollectible", "outcome_date": date(2025, 6, 1)},
        {"case_number": "K1", "receivable_id": "B", "outcome": "written_off", "outcome_date": date(2025, 6, 1)},
        {"case_number": "K1", "receivable_id": "C", "outcome": "instalments", "outcome_date": date(2025, 6, 1)},
        {"case_number": "K1", "receivable_id": "D", "outcome": "uncollectible", "outcome_date": date(2025, 6, 1)},
        {"case_number": "K1", "receivable_id": "D", "outcome": "partly_paid", "outcome_date": date(2025, 9, 1)},
        {"case_number": "K1", "receivable_id": "E", "outcome": "returned", "outcome_date": date(2025, 9, 1)},
        {"case_number": "K1", "receivable_id": "F", "outcome": "written_off", "outcome_date": date(2026, 2, 1)},
    ])
    got = dict(claim_standing(CASES, out, as_of=DAY, instalments=["G"]).rows())
    assert got == {"A": "uncollectible", "B": "uncollectible", "C": "instalments", "D": "in_enforcement",
                   "E": "open", "F": "in_enforcement", "G": "instalments"}


def test_an_outcome_for_the_whole_case_counts_for_its_claims_handed_before_it() -> None:
    cases = pl.concat([CASES.head(2), pl.DataFrame([{"case_number": "K1", "debtor_id": "D", "receivable_id": "Z",
                                                      "handed_off_on": date(2025, 8, 1)}])])
    out = pl.DataFrame([{"case_number": "K1", "outcome": "uncollectible", "outcome_date": date(2025, 7, 1)}])
    got = dict(claim_standing(cases, out, as_of=DAY).rows())
    assert got == {"A": "uncollectible", "B": "uncollectible", "Z": "in_enforcement"}


def test_the_report_and_the_postings() -> None:
    cl = claims(("A", 30_000, date(2020, 1, 1), "GRUNDSTEUER"), ("B", 20_000, date(2024, 6, 1), "ABFALL"),
                ("C", 10_000, date(2025, 12, 1), "GRUNDSTEUER"), ("D", 5_000, date(2019, 1, 1), "GRUNDSTEUER"),
                ("E", 7_000, date(2019, 1, 1), "GRUNDSTEUER"))
    st = pl.DataFrame({"receivable_id": ["A", "B"], "standing": ["uncollectible", "in_enforcement"]})
    limits = pl.DataFrame({"receivable_id": ["E"], "state": ["expired"]})
    v = valuation(cl, DAY, standing=st, limits=limits)
    assert v.report.columns == list(REPORT_COLUMNS) and v.postings.columns == list(POSTING_COLUMNS)
    assert v.items.select("receivable_id", "method", "allowance_cents").rows() == [
        ("A", "individual", 30_000), ("B", "flat", 2_000), ("C", "flat", 0), ("D", "flat", 5_000),
        ("E", "time_barred", 7_000)]
    assert v.postings.select("method", "n_claims", "open_cents", "allowance_cents").rows() == [
        ("individual", 1, 30_000, 30_000), ("flat", 3, 35_000, 7_000), ("time_barred", 1, 7_000, 7_000)]
    assert v.report.select("standing", "age_class", "claim_type", "method", "n_claims").rows() == [
        ("in_enforcement", "1 bis 2 Jahre", "ABFALL", "flat", 1), ("open", "bis 1 Jahr", "GRUNDSTEUER", "flat", 1),
        ("open", "über 5 Jahre", "GRUNDSTEUER", "flat", 1), ("open", "über 5 Jahre", "GRUNDSTEUER", "time_barred", 1),
        ("uncollectible", "über 5 Jahre", "GRUNDSTEUER", "individual", 1)]
    assert v.report["open_cents"].sum() == cl["amount_cents"].sum()


def test_the_enforcement_table_of_the_tenant_file() -> None:
    from pathlib import Path

    from claims.config import tenant_config
    from claims.errors import ConfigError

    cfg = tenant_config({"tenant": {"id": "muster"}, "enforcement": {
        "handoff_threshold": "25,00", "staff_fte": 2.5, "annual_costs": 180_000, "case_tag": "MS",
        "allowance_age_days": [0, 730], "allowance_rates_percent": [5, 60]}}, base=Path("/srv"))
    e = cfg.enforcement
    assert (e.handoff_threshold, e.staff_fte, e.annual_costs, e.case_tag, e.limitation_warning_days) == (
        2_500, 2.5, 18_000_000, "MS", 180)
    with pytest.raises(ConfigError, match="case_tag"):
        tenant_config({"enforcement": {"case_tag": "ms-1"}}, base=Path("/srv"))
    with pytest.raises(ConfigError, match="handoff_treshold"):
        tenant_config({"enforcement": {"handoff_treshold": "25,00"}}, base=Path("/srv"))
