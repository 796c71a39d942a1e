"""Late-payment charges per claim (DOMAIN.md §1.6): Säumniszuschlag (§ 240 AO, § 18 GebG NRW) or default
interest (§ 288 BGB), in integer cents, accrued up to the run's notice date, with the rule recorded.

**Which rule** (:class:`SurchargeRule`, column ``surcharge_rule``): an ancillary claim (Mahngebühr,
Säumniszuschlag, Kosten, Zinsen, Verspätungszuschlag) carries none (§ 240 Abs. 2 AO); a private-law
claim (``law = private``) carries default interest and no Säumniszuschlag; every other claim takes its
type's rule from ``[dunning] surcharge_types`` (defaults in ``claims.config.SURCHARGE_TYPES``: AO/KAG
taxes and charges ``ao_240``, GebG fees ``gebg_18``, Bußgeld ``none``), an unlisted type
``surcharge_default`` (``none``: a surcharge nobody configured is never charged).

**§ 240 AO mechanics.** The due date moves to the next business day when it falls on a Saturday, Sunday
or NRW holiday (§ 108 Abs. 3 AO; ``due_effective``). The months of Säumnis start the day after it:
month 1 runs from the day after the due date to the day of the next month with the due date's number
(§ 188 Abs. 2 BGB), or that month's last day when it has no such day (§ 188 Abs. 3: due 31 Jan → month 1
ends 28/29 Feb; month *k* always counts from the due date, never from the previous month's end, so due
31 Jan → month 2 ends 31 Mar). A payment credited on the first day of a month has started that month.
For each started month: 1 % of the amount then outstanding, rounded **down** to a full 50 €.

* Tolerance (§ 240 Abs. 3 AO): what is credited within ``tolerance_days`` (3) after the due date counts
  as paid in time; a claim at most 3 days late carries nothing.
* § 18 GebG NRW (``gebg_18``): nothing when paid within ``gebg_grace_months`` (1) after the due date;
  after that every started month counts, the first ones on the amount still outstanding when the grace
  month ended [§ 18's wording: UNCONFIRMED, DOMAIN.md §8.5].
* A partial payment lowers the base from the next month on: month *k*'s base is the open principal now
  plus every payment credited on or after month *k*'s first day (payments frame: ``receivable_id``,
  ``paid_on``, ``amount_cents``).

Vectorised with a fast lane: a claim with no payment inside its months (nearly all) gets
``months × (open // 5000) × 50`` in one expression; only claims with such payments are expanded into
one row per month (see :func:`_months_with_payments`).

**§ 288 BGB interest**: the Basiszinssatz (:mod:`dunning.base_rate`, dated) plus ``interest_points``
(5; 9 for business-to-business claims, a tenant setting), per day of default: the days after the
(shifted) due date up to and including the notice date for what is still open, and up to the day
before its crediting for what was paid. Day count **actual/365** (each day 1/365 of the yearly rate,
also in leap years); summed exactly over the rate periods, rounded half-up to the cent once per claim.
"""

from __future__ import annotations

from datetime import date, timedelta

import polars as pl

from claims.config import DunningSection
from claims.vocab import ClaimType, Law, SurchargeRule
from dunning import ENGINE, base_rate
from dunning.calendar import next_business_day_expr

#: Columns this module adds.
#: ``surcharge_months``: months charged (started by the notice date while something was outstanding).
CHARGE_COLUMNS = ("due_effective", "ancillary", "surcharge_rule", "surcharge_months", "saeumniszuschlag_cents",
                  "interest_cents")
#: Payments credited to a claim's principal (input).
PAYMENT_SCHEMA: dict[str, pl.DataType] = {"receivable_id": pl.String(), "paid_on": pl.Date(),
                                          "amount_cents": pl.Int64()}
#: 1 % of the base rounded down to 50 €: 50 cents per full 5.000 cents.
_STEP, _PER_STEP = 5000, 50
_DAYS_PER_YEAR = 365
#: Interest is not counted for days before this (older private-law claims are time-barred).
_INTEREST_FROM = date(2000, 1, 1)


def _add_months(due: pl.Expr, n: pl.Expr) -> pl.Expr:
    """``due`` plus ``n`` calendar months, clipped to the month's end (§ 188 Abs. 3 BGB)."""
    return due.dt.offset_by(pl.format("{}mo", n))


def _started_months(due: pl.Expr, until: date) -> pl.Expr:
    """Months of Säumnis started by day ``until`` (0 when ``until`` is not after ``due``).

    Month *j* + 1 starts the day after ``due + j months``; it has started when that day is at most
    ``until``. With ``m0`` the calendar-month distance, ``due + m0 months`` lies in ``until``'s month on
    day min(due's day, length of that month), so the answer is ``m0`` + 1 when that day is before
    ``until``'s day, else ``m0``: integer arithmetic, no date built per row."""
    last_day = (date(until.year + (until.month == 12), until.month % 12 + 1, 1) - timedelta(days=1)).day
    m0 = (until.year * 12 + until.month) - (due.dt.year().cast(pl.Int32) * 12 + due.dt.month().cast(pl.Int32))
    day_in_month = pl.min_horizontal(due.dt.day().cast(pl.Int32), pl.lit(last_day, pl.Int32))
    started = pl.when(day_in_month < until.day).then(m0 + 1).otherwise(m0)
    return pl.when(pl.lit(until) > due).then(started).otherwise(0)


def with_surcharge_rule(frame: pl.LazyFrame, settings: DunningSection) -> pl.LazyFrame:
    """``frame`` with ``surcharge_rule`` (:class:`SurchargeRule`; reads ``claim_type`` and ``law``).

    The claim types are few: the rule of each distinct type (upper-cased, looked up in the tenant's
    table, the ancillary types laid over it) is worked out once, then mapped onto the claims; private
    law in a second step (one expression reading the mapped strings twice had Polars cache them)."""
    table = {k: str(v) for k, v in settings.surcharge_types.items()}
    table.update({str(t): str(SurchargeRule.ANCILLARY) for t in ClaimType.ancillary()})
    kinds = frame.select(pl.col("claim_type").unique()).collect(engine=ENGINE)["claim_type"].drop_nulls()
    per_kind = {k: table.get(k.upper(), str(settings.surcharge_default)) for k in kinds}
    rule = pl.col("surcharge_rule")
    return frame.with_columns(pl.col("claim_type").replace_strict(
        per_kind, default=str(settings.surcharge_default), return_dtype=pl.String).alias("surcharge_rule")
    ).with_columns(
        pl.when((pl.col("law") == Law.PRIVATE).fill_null(False) & (rule != SurchargeRule.ANCILLARY))
        .then(pl.lit(SurchargeRule.BGB_288)).otherwise(rule).alias("surcharge_rule"))


def _month_count(settings: DunningSection, until: date) -> pl.Expr:
    """Months charged for a claim left open until ``until`` (before payments: the gate of the tolerance
    or the GebG grace month, which is over when more than ``gebg_grace_months`` months have started)."""
    due = pl.col("due_effective")
    started = _started_months(due, until)
    tolerance = pl.lit(until) > due + pl.duration(days=settings.tolerance_days)
    grace = started > settings.gebg_grace_months
    rule = pl.col("surcharge_rule")
    return (pl.when((rule == SurchargeRule.AO_240) & tolerance).then(started)
            .when((rule == SurchargeRule.GEBG_18) & grace).then(started)
            .otherwise(0)).cast(pl.Int32)


def _month_start(settings: DunningSection) -> pl.Expr:
    """The day from which a payment no longer lowers month ``k``'s base (reads ``k``, ``due_effective``,
    ``surcharge_rule``): month 1 under § 240 AO ends its tolerance on due + 3 days; under § 18 GebG the
    first months share the end of the grace month."""
    due, k = pl.col("due_effective"), pl.col("k")
    start = _add_months(due, k - 1) + pl.duration(days=1)
    first = due + pl.duration(days=settings.tolerance_days + 1)
    grace_end = _add_months(due, pl.lit(settings.gebg_grace_months)) + pl.duration(days=1)
    return (pl.when(pl.col("surcharge_rule") == SurchargeRule.GEBG_18).then(pl.max_horizontal(start, grace_end))
            .when(k == 1).then(first)
            .otherwise(start))


def _months_with_payments(slow: pl.LazyFrame, pays: pl.LazyFrame, settings: DunningSection) -> pl.LazyFrame:
    """Säumniszuschlag of the claims whose base changes inside their months: one row per (claim, month),
    the base = open now + payments credited on or after the month's first day."""
    months = (slow.select("receivable_id", "_row", "due_effective", "surcharge_rule", "amount_cents",
                          pl.int_ranges(1, pl.col("surcharge_months") + 1).alias("k"))
              .explode("k").with_columns(_month_start(settings).alias("t")))
    later = (months.join(pays, on="receivable_id", how="inner").filter(pl.col("paid_on") >= pl.col("t"))
             .group_by("receivable_id", "k").agg(pl.col("pay_cents").sum().alias("later")))
    return (months.join(later, on=["receivable_id", "k"], how="left")
            .with_columns((pl.col("amount_cents") + pl.col("later").fill_null(0)).alias("base"))
            .group_by("_row")
            .agg(((pl.col("base") // _STEP) * _PER_STEP).sum().cast(pl.Int64).alias("sz_slow"),
                 (pl.col("base") > 0).sum().cast(pl.Int32).alias("months_slow")))


def _interest(claims: pl.LazyFrame, pays: pl.LazyFrame, until: date, settings: DunningSection) -> pl.LazyFrame:
    """§ 288 BGB interest of the private-law claims: (receivable_id, interest_cents)."""
    priv = claims.filter(pl.col("surcharge_rule") == SurchargeRule.BGB_288).select(
        "receivable_id", "_row", (pl.col("due_effective") + pl.duration(days=1)).alias("start"), "amount_cents")
    end = until + timedelta(days=1)
    chunks = pl.concat([
        priv.select("_row", "start", pl.lit(end).alias("end"), pl.col("amount_cents").alias("chunk")),
        priv.join(pays, on="receivable_id", how="inner").select(
            "_row", "start", pl.col("paid_on").clip(upper_bound=end).alias("end"),
            pl.col("pay_cents").alias("chunk")),
    ]).with_columns(pl.col("start").clip(lower_bound=_INTEREST_FROM)).filter(
        (pl.col("end") > pl.col("start")) & (pl.col("chunk") > 0))
    extra = [(r.since, round(r.percent * 100)) for r in settings.base_rates]
    rates = base_rate.table(extra)
    points = round(settings.interest_points * 100)
    days = pl.DataFrame({"day": pl.date_range(_INTEREST_FROM, max(end, _INTEREST_FROM), eager=True)}).join_asof(
        rates, left_on="day", right_on="since", strategy="backward"
    ).with_columns((pl.col("base_bp").fill_null(rates["base_bp"][0]) + points).alias("bp"))
    # cum = the sum of the daily rates of the days before ``day`` (basis-point days): a small frame
    cum = days.select("day", (pl.col("bp").cum_sum() - pl.col("bp")).alias("cum")).lazy()
    joined = (chunks.join(cum.rename({"day": "start", "cum": "c0"}), on="start", how="left")
              .join(cum.rename({"day": "end", "cum": "c1"}), on="end", how="left"))
    den = 10000 * _DAYS_PER_YEAR
    return (joined.group_by("_row")
            .agg((pl.col("chunk") * (pl.col("c1") - pl.col("c0"))).sum().alias("num"))
            .select("_row", ((pl.col("num").clip(lower_bound=0) + den // 2) // den).cast(pl.Int64)
                    .alias("interest_cents")))


def late_charges(claims: pl.DataFrame | pl.LazyFrame, until: date, settings: DunningSection | None = None,
                 payments: pl.DataFrame | pl.LazyFrame | None = None) -> pl.LazyFrame:
    """``claims`` with :data:`CHARGE_COLUMNS` added: the charges accrued up to ``until`` (the notice date).

    ``claims`` needs ``receivable_id``, ``claim_type``, ``amount_cents`` (open principal now),
    ``due_date`` and optionally ``law`` (null: public). ``payments`` (:data:`PAYMENT_SCHEMA`) are the
    payments credited to these claims' principal, at any time."""
    settings = settings or DunningSection()
    lf = claims.lazy()
    if "law" not in lf.collect_schema().names():
        lf = lf.with_columns(pl.lit(None, pl.String).alias("law"))
    if settings.shift_due_date:
        lf = next_business_day_expr(lf, "due_date", "due_effective", region=settings.holiday_region)
    else:
        lf = lf.with_columns(pl.col("due_date").alias("due_effective"))
    # computed once: the steps below read the claims several times (a lazy plan would redo the calendar join)
    base = with_surcharge_rule(lf, settings).with_columns(
        (pl.col("surcharge_rule") == SurchargeRule.ANCILLARY).alias("ancillary"),
        _month_count(settings, until).alias("surcharge_months"),
    ).with_row_index("_row").collect(engine=ENGINE)
    pays = (pl.LazyFrame(schema=PAYMENT_SCHEMA) if payments is None else payments.lazy()).select(
        "receivable_id", "paid_on", pl.col("amount_cents").cast(pl.Int64).alias("pay_cents"))
    # the fast lane for every claim; the few that need more are written into it by row (scatter, no join)
    sz = base.select((pl.col("surcharge_months").cast(pl.Int64) * (pl.col("amount_cents") // _STEP) * _PER_STEP)
                     .alias("saeumniszuschlag_cents")).to_series()
    months = base["surcharge_months"].clone()
    interest = pl.zeros(base.height, pl.Int64, eager=True).alias("interest_cents")
    # the slow lane: claims with a payment on or after the start of their first charged month (few)
    charged = base.lazy().filter(pl.col("surcharge_months") > 0)
    touched = (charged.select("receivable_id", "due_effective", "surcharge_rule", pl.lit(1).alias("k"))
               .join(pays, on="receivable_id", how="inner").with_columns(_month_start(settings).alias("t1"))
               .filter(pl.col("paid_on") >= pl.col("t1")).select("receivable_id").unique().collect(engine=ENGINE))
    if touched.height:
        slow = _months_with_payments(charged.join(touched.lazy(), on="receivable_id", how="semi"), pays,
                                     settings).collect(engine=ENGINE)
        sz = sz.scatter(slow["_row"], slow["sz_slow"])
        months = months.scatter(slow["_row"], slow["months_slow"])
    if (base["surcharge_rule"] == SurchargeRule.BGB_288).any():
        owed = _interest(base.lazy(), pays, until, settings).collect(engine=ENGINE)
        interest = interest.scatter(owed["_row"], owed["interest_cents"])
    return base.drop("_row").with_columns(sz, months, interest).lazy()

__all__ = ["CHARGE_COLUMNS", "PAYMENT_SCHEMA", "late_charges", "with_surcharge_rule"]
