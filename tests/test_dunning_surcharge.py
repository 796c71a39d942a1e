"""Säumniszuschlag (§ 240 AO, § 18 GebG NRW) and § 288 BGB interest: DOMAIN.md §1.6's example, every claim
type, tolerance days, month boundaries (31st → 30th, end of February, leap days), holidays, partial payments."""

from __future__ import annotations

from datetime import date, timedelta

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from claims.config import BaseRate, DunningSection
from claims.vocab import SurchargeRule
from dunning import base_rate
from dunning.calendar import next_business_day
from dunning.surcharge import late_charges

NOSHIFT = DunningSection(shift_due_date=False)
D = date


def charges(due: date, until: date, open_cents: int, *, pays: list[tuple[date, int]] = (),  # type: ignore[assignment]
            claim_type: str = "GRUNDSTEUER", law: str | None = None,
            s: DunningSection | None = None) -> dict[str, object]:
    claims = pl.DataFrame({"receivable_id": ["r"], "claim_type": [claim_type], "law": [law],
                           "amount_cents": [open_cents], "due_date": [due]},
                          schema_overrides={"law": pl.String, "amount_cents": pl.Int64})
    payments = pl.DataFrame({"receivable_id": ["r"] * len(pays), "paid_on": [p[0] for p in pays],
                             "amount_cents": [p[1] for p in pays]},
                            schema={"receivable_id": pl.String, "paid_on": pl.Date, "amount_cents": pl.Int64})
    return late_charges(claims, until, s or DunningSection(), payments).collect().row(0, named=True)


def sz(*args: object, **kw: object) -> int:
    return charges(*args, **kw)["saeumniszuschlag_cents"]  # type: ignore[arg-type, return-value]


# DOMAIN.md §1.6: a Grundsteuer instalment of 1.234,56 € due on 15 May (a Friday in 2026), paid in full.
@pytest.mark.parametrize(("credited", "cents"), [
    (D(2026, 5, 18), 0),        # Säumnis ≤ 3 days
    (D(2026, 5, 19), 1200),     # 1 started month on 1.200 €
    (D(2026, 7, 20), 3600),     # 16 May–15 Jun, 16 Jun–15 Jul, 16 Jul–
])
def test_domain_example(credited: date, cents: int) -> None:
    assert sz(D(2026, 5, 15), D(2026, 12, 7), 0, pays=[(credited, 123456)]) == cents
    # the same claim still open on the day it would have been credited
    assert sz(D(2026, 5, 15), credited, 123456) == cents


@pytest.mark.parametrize(("until", "months"), [
    (D(2026, 5, 15), 0), (D(2026, 5, 16), 0), (D(2026, 5, 18), 0), (D(2026, 5, 19), 1),
    (D(2026, 6, 15), 1), (D(2026, 6, 16), 2), (D(2026, 7, 15), 2), (D(2026, 7, 16), 3),
    (D(2027, 5, 15), 12), (D(2027, 5, 16), 13),
])
def test_started_months_from_the_day_after_the_due_date(until: date, months: int) -> None:
    out = charges(D(2026, 5, 15), until, 10000)
    assert (out["surcharge_months"], out["saeumniszuschlag_cents"]) == (months, months * 100)


@pytest.mark.parametrize(("due", "until", "months"), [
    # 31st -> 30th: month 1 ends on 30 Jun, month 2 on 31 Jul (counted from the due date, not chained)
    (D(2025, 5, 31), D(2025, 6, 30), 1), (D(2025, 5, 31), D(2025, 7, 1), 2),
    (D(2025, 5, 31), D(2025, 7, 31), 2), (D(2025, 5, 31), D(2025, 8, 1), 3),
    (D(2025, 4, 30), D(2025, 5, 30), 1), (D(2025, 4, 30), D(2025, 5, 31), 2),
    # end of February, common year and leap year
    (D(2025, 1, 31), D(2025, 2, 28), 1), (D(2025, 1, 31), D(2025, 3, 1), 2), (D(2025, 1, 31), D(2025, 3, 31), 2),
    (D(2024, 1, 31), D(2024, 2, 29), 1), (D(2024, 1, 31), D(2024, 3, 1), 2),
    (D(2024, 1, 30), D(2024, 2, 29), 1), (D(2024, 1, 30), D(2024, 3, 1), 2),
    # due on a leap day: month 1 ends 29 Mar, month 12 ends 28 Feb of the next year
    (D(2024, 2, 29), D(2024, 3, 29), 1), (D(2024, 2, 29), D(2024, 3, 30), 2),
    (D(2024, 2, 29), D(2025, 2, 28), 12), (D(2024, 2, 29), D(2025, 3, 1), 13),
    # across the turn of the year
    (D(2025, 12, 15), D(2026, 1, 15), 1), (D(2025, 12, 15), D(2026, 1, 16), 2),
])
def test_month_boundaries(due: date, until: date, months: int) -> None:
    assert charges(due, until, 5000, s=NOSHIFT)["surcharge_months"] == months
    assert sz(due, until, 5000, s=NOSHIFT) == 50 * months


@pytest.mark.parametrize(("open_cents", "per_month"), [(4999, 0), (5000, 50), (9999, 50), (10000, 100),
                                                        (123456, 1200), (1000000, 10000)])
def test_base_rounded_down_to_full_50_euros(open_cents: int, per_month: int) -> None:
    assert sz(D(2026, 5, 15), D(2026, 5, 19), open_cents) == per_month


@pytest.mark.parametrize(("due", "shifted", "paid", "cents"), [
    (D(2026, 5, 30), D(2026, 6, 1), D(2026, 6, 4), 0),        # Saturday -> Monday; 3 days after Monday
    (D(2026, 5, 30), D(2026, 6, 1), D(2026, 6, 5), 1000),
    (D(2026, 6, 4), D(2026, 6, 5), D(2026, 6, 8), 0),         # Fronleichnam (NRW holiday) -> Friday
    (D(2026, 12, 25), D(2026, 12, 28), D(2026, 12, 31), 0),   # Christmas, Boxing Day (Sat), Sunday -> Monday
    (D(2026, 4, 3), D(2026, 4, 7), D(2026, 4, 10), 0),        # Good Friday, Easter Monday -> Tuesday
    (D(2026, 4, 3), D(2026, 4, 7), D(2026, 4, 11), 1000),
])
def test_due_date_on_a_weekend_or_holiday_moves_to_the_next_business_day(due: date, shifted: date, paid: date,
                                                                         cents: int) -> None:
    out = charges(due, D(2026, 12, 31), 0, pays=[(paid, 100000)])
    assert (out["due_effective"], out["saeumniszuschlag_cents"]) == (shifted, cents)
    assert next_business_day(due) == shifted
    assert sz(due, D(2026, 12, 31), 0, pays=[(paid, 100000)], s=NOSHIFT) == (1000 if paid - due > timedelta(3) else 0)


def test_the_holidays_are_the_lands() -> None:
    # Fronleichnam is a holiday in NRW, not in Berlin: the same payment is late there
    assert charges(D(2026, 6, 4), D(2026, 12, 31), 0, pays=[(D(2026, 6, 8), 100000)],
                   s=DunningSection(holiday_region="BE"))["saeumniszuschlag_cents"] == 1000


def test_tolerance_days_are_configurable() -> None:
    assert sz(D(2026, 5, 15), D(2026, 5, 19), 10000, s=DunningSection(tolerance_days=5)) == 0
    assert sz(D(2026, 5, 15), D(2026, 5, 16), 10000, s=DunningSection(tolerance_days=0)) == 100


def test_partial_payment_lowers_the_base_from_the_next_month_on() -> None:
    due, until = D(2026, 5, 15), D(2026, 7, 20)
    # 600 € on 10 Jun (month 1): month 1 on 1.200 €, months 2 and 3 on 634,56 € -> 600 €
    assert sz(due, until, 63456, pays=[(D(2026, 6, 10), 60000)]) == 1200 + 600 + 600
    # paid on the first day of month 2: month 2 has started on the whole amount
    assert sz(due, until, 63456, pays=[(D(2026, 6, 16), 60000)]) == 1200 + 1200 + 600
    # within the tolerance: month 1 already on the rest (234,56 € -> 200 €)
    assert sz(due, until, 23456, pays=[(D(2026, 5, 18), 100000)]) == 200 * 3
    # payments before the due date change nothing; two payments in different months
    assert sz(due, until, 23456, pays=[(D(2026, 5, 1), 100000)]) == 200 * 3
    # 500 € on 1 Jun and 634,56 € on 1 Jul: months on 1.234,56 €, 734,56 € and 100 €
    assert sz(due, until, 10000, pays=[(D(2026, 6, 1), 50000), (D(2026, 7, 1), 63456)]) == 1200 + 700 + 100
    # paid in full in month 2: nothing for month 3 and later
    out = charges(due, D(2026, 12, 7), 0, pays=[(D(2026, 6, 20), 123456)])
    assert (out["saeumniszuschlag_cents"], out["surcharge_months"]) == (2400, 2)


@pytest.mark.parametrize(("claim_type", "law", "rule"), [
    ("GRUNDSTEUER", None, SurchargeRule.AO_240), ("GEWERBESTEUER", None, SurchargeRule.AO_240),
    ("HUNDESTEUER", None, SurchargeRule.AO_240), ("VERGNUEGUNGSTEUER", None, SurchargeRule.AO_240),
    ("ZWEITWOHNUNGSTEUER", None, SurchargeRule.AO_240), ("ABFALL", None, SurchargeRule.AO_240),
    ("STRASSENREINIGUNG", "public", SurchargeRule.AO_240), ("ABWASSER", None, SurchargeRule.AO_240),
    ("KAG_BEITRAG", None, SurchargeRule.AO_240), ("abfall", None, SurchargeRule.AO_240),
    ("VERWALTUNGSGEBUEHR", None, SurchargeRule.GEBG_18), ("BUSSGELD", None, SurchargeRule.NONE),
    ("ZWANGSGELD", None, SurchargeRule.NONE), ("KITA", None, SurchargeRule.NONE),
    ("RUNDFUNK_AMTSHILFE", None, SurchargeRule.NONE), ("UNBEKANNT", None, SurchargeRule.NONE),
    ("MIETE", "private", SurchargeRule.BGB_288), ("GRUNDSTEUER", "private", SurchargeRule.BGB_288),
    ("MAHNGEBUEHR", None, SurchargeRule.ANCILLARY), ("SAEUMNISZUSCHLAG", None, SurchargeRule.ANCILLARY),
    ("KOSTEN", None, SurchargeRule.ANCILLARY), ("ZINSEN", "private", SurchargeRule.ANCILLARY),
    ("VERSPAETUNGSZUSCHLAG", None, SurchargeRule.ANCILLARY),
])
def test_every_claim_type_has_its_rule(claim_type: str, law: str | None, rule: SurchargeRule) -> None:
    out = charges(D(2026, 1, 15), D(2026, 4, 20), 100000, claim_type=claim_type, law=law)
    assert out["surcharge_rule"] == rule
    assert out["ancillary"] == (rule == SurchargeRule.ANCILLARY)
    expected_sz = {SurchargeRule.AO_240: 4000, SurchargeRule.GEBG_18: 4000}.get(rule, 0)
    assert out["saeumniszuschlag_cents"] == expected_sz
    assert (out["interest_cents"] > 0) == (rule == SurchargeRule.BGB_288)


def test_the_type_table_is_configurable() -> None:
    s = DunningSection(surcharge_types={"kita": "ao_240"}, surcharge_default="gebg_18")
    assert charges(D(2026, 1, 15), D(2026, 4, 20), 100000, claim_type="KITA", s=s)["surcharge_rule"] == "ao_240"
    assert charges(D(2026, 1, 15), D(2026, 4, 20), 100000, claim_type="X", s=s)["surcharge_rule"] == "gebg_18"
    assert charges(D(2026, 1, 15), D(2026, 4, 20), 100000, claim_type="GRUNDSTEUER", s=s)["surcharge_rule"] == "ao_240"


@pytest.mark.parametrize(("until", "pays", "open_cents", "cents"), [
    (D(2026, 6, 15), [], 20000, 0),                           # within the grace month
    (D(2026, 6, 16), [], 20000, 400),                         # grace over: months 1 and 2
    (D(2026, 12, 7), [(D(2026, 6, 15), 20000)], 0, 0),        # paid on the last day of the grace month
    (D(2026, 12, 7), [(D(2026, 6, 16), 20000)], 0, 400),      # one day later
    (D(2026, 7, 16), [(D(2026, 6, 1), 10000)], 10000, 300),   # part paid within grace: months 1–3 on 100 €
])
def test_gebg_grace_month(until: date, pays: list[tuple[date, int]], open_cents: int, cents: int) -> None:
    assert sz(D(2026, 5, 15), until, open_cents, pays=pays, claim_type="VERWALTUNGSGEBUEHR") == cents


def interest(due: date, until: date, open_cents: int, pays: list[tuple[date, int]] = (),  # type: ignore[assignment]
             s: DunningSection | None = None) -> int:
    return charges(due, until, open_cents, pays=pays, claim_type="MIETE", law="private", s=s)["interest_cents"]  # type: ignore[return-value]


def test_interest_literal() -> None:
    # 1.000 € due Mon 30 Jun 2025; 1–31 Jul = 31 days at 1,27 % + 5 = 6,27 %, actual/365: 5,3252 € -> 5,33 €
    assert interest(D(2025, 6, 30), D(2025, 7, 31), 100000) == 533
    # across a change of the base rate: 17–31 Dec 2024 at 8,37 %, 1–15 Jan 2025 at 7,27 % (due Sun 15 Dec -> Mon 16)
    assert interest(D(2024, 12, 15), D(2025, 1, 15), 100000) == 643
    # 500 € paid on 16 Jul (15 days), 500 € open to 31 Jul (31 days): 3,9509 € -> 3,95 €
    assert interest(D(2025, 6, 30), D(2025, 7, 31), 50000, [(D(2025, 7, 16), 50000)]) == 395
    # not yet late: nothing; 9 points for business claims; a tenant's own base-rate row
    assert interest(D(2025, 6, 30), D(2025, 6, 30), 100000) == 0
    assert interest(D(2025, 6, 30), D(2025, 7, 31), 100000, s=DunningSection(interest_points=9)) == 872
    s = DunningSection(base_rates=(BaseRate(since=D(2025, 7, 1), percent=2.0),))
    assert interest(D(2025, 6, 30), D(2025, 7, 31), 100000, s=s) == 595


def test_base_rate_table_is_dated() -> None:
    assert base_rate.rate_on(D(2022, 12, 31)) == -88 and base_rate.rate_on(D(2023, 1, 1)) == 162
    assert base_rate.rate_on(D(2026, 3, 1), [(D(2026, 1, 1), 100)]) == 100
    assert base_rate.stale() == D(2026, 7, 1)
    since = [d for d, _ in base_rate.BASISZINSSATZ]
    assert since == sorted(since) and all(d.day == 1 and d.month in (1, 7) for d in since)


@settings(max_examples=60, deadline=None)
@given(due=st.dates(D(2023, 1, 1), D(2026, 6, 30)), open_cents=st.integers(0, 10**8),
       pays=st.lists(st.tuples(st.integers(-40, 500), st.integers(1, 10**7)), max_size=4),
       steps=st.lists(st.integers(0, 120), min_size=2, max_size=5),
       claim_type=st.sampled_from(["GRUNDSTEUER", "VERWALTUNGSGEBUEHR", "BUSSGELD", "MAHNGEBUEHR"]),
       law=st.sampled_from([None, "private"]))
def test_charges_are_monotone_in_time_and_never_negative(due: date, open_cents: int, pays: list[tuple[int, int]],
                                                         steps: list[int], claim_type: str, law: str | None) -> None:
    payments = [(due + timedelta(days=d), a) for d, a in pays]
    day, last = due - timedelta(days=10), (0, 0)
    for step in steps:
        day += timedelta(days=step)
        out = charges(due, day, open_cents, pays=payments, claim_type=claim_type, law=law)
        now = (out["saeumniszuschlag_cents"], out["interest_cents"])
        assert now[0] >= 0 and now[1] >= 0
        assert now[0] >= last[0] and now[1] >= last[1]
        assert now[0] == 0 or now[1] == 0                   # never both on one claim
        last = now  # type: ignore[assignment]


# --- a naive oracle: one claim at a time, month by month, in plain Python (dateutil for the months) -----

def oracle_ao240(due: date, until: date, open_cents: int, pays: list[tuple[date, int]], tolerance: int = 3) -> int:
    """§ 240 AO as DOMAIN.md §1.6 words it, for an unshifted due date."""
    from dateutil.relativedelta import relativedelta

    if until <= due + timedelta(days=tolerance):
        return 0
    total, k = 0, 1
    while True:
        start = due + timedelta(days=1) if k == 1 else due + relativedelta(months=k - 1) + timedelta(days=1)
        if start > until:
            return total
        counted_from = due + timedelta(days=tolerance + 1) if k == 1 else start
        base = open_cents + sum(a for d, a in pays if d >= counted_from)
        total += (base // 5000) * 50
        k += 1


@settings(max_examples=200, deadline=None)
@given(due=st.dates(D(2019, 1, 1), D(2026, 12, 31)), months=st.integers(0, 40), delta=st.integers(-3, 3),
       open_cents=st.integers(0, 10**7),
       pays=st.lists(st.tuples(st.integers(-20, 1200), st.integers(1, 10**6)), max_size=4))
def test_the_vectorised_surcharge_agrees_with_the_naive_oracle(due: date, months: int, delta: int, open_cents: int,
                                                               pays: list[tuple[int, int]]) -> None:
    from dateutil.relativedelta import relativedelta

    until = max(due, due + relativedelta(months=months) + timedelta(days=delta))    # near a month's end
    payments = [(due + timedelta(days=d), a) for d, a in pays if due + timedelta(days=d) <= until]
    assert sz(due, until, open_cents, pays=payments, s=NOSHIFT) == oracle_ao240(due, until, open_cents, payments)


def oracle_interest(due: date, until: date, open_cents: int, pays: list[tuple[date, int]]) -> int:
    """§ 288 BGB day by day: the end-of-day balance times that day's rate / 365 (unshifted due date)."""
    num, day = 0, due + timedelta(days=1)
    while day <= until:
        balance = open_cents + sum(a for d, a in pays if d > day)
        num += balance * (base_rate.rate_on(day) + 500)
        day += timedelta(days=1)
    return (num + 1825000) // 3650000


@settings(max_examples=40, deadline=None)
@given(due=st.dates(D(2022, 6, 1), D(2026, 6, 30)), days=st.integers(0, 500), open_cents=st.integers(0, 10**7),
       pays=st.lists(st.tuples(st.integers(-20, 500), st.integers(1, 10**6)), max_size=3))
def test_the_interest_agrees_with_the_day_by_day_oracle(due: date, days: int, open_cents: int,
                                                        pays: list[tuple[int, int]]) -> None:
    until = due + timedelta(days=days)
    payments = [(due + timedelta(days=d), a) for d, a in pays if due + timedelta(days=d) <= until]
    got = charges(due, until, open_cents, pays=payments, claim_type="MIETE", law="private", s=NOSHIFT)
    assert got["interest_cents"] == oracle_interest(due, until, open_cents, payments)
