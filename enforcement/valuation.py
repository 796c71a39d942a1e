"""Forderungsbewertung: the valuation of open receivables for the annual accounts (issue 17 §5, gpaNRW audit
checklist item 27, DOMAIN.md §6.3).

The finance department values the open claims at the balance-sheet date: a claim found uncollectible gets an
**individual allowance** (Einzelwertberichtigung, ``allowance_uncollectible_percent``, 100 %); every other
claim a **flat allowance** by its age class (Pauschalwertberichtigung, ``allowance_age_days`` /
``allowance_rates_percent``); a claim whose limitation period has run out is extinguished (§ 47 AO) and is
written off, not valued (``time_barred``, 100 %, reported apart). :func:`valuation` gives one row per claim
(``items``), the report by state, age class and claim type (``report``), and the totals per method the
finance department posts (``postings``: the allowance the balance sheet needs on the day; the booking is
the difference to last year's stand, which the finance system holds).

**State** (:class:`~claims.vocab.ClaimStanding`, :func:`claim_standing`): from the enforcement cases and
the enforcement office's outcomes — the latest outcome of the claim (an outcome for a whole case counts
for each of its claims): ``uncollectible`` or ``written_off`` (Niederschlagung: the claim still exists)
→ ``uncollectible``; ``instalments`` → ``instalments``; ``returned`` or ``paid`` → back with the treasury
(``open``: a claim reported paid but still open is valued like any open one); otherwise a claim in a case is
``in_enforcement``; a claim of an instalment plan on time (``instalments`` ids) is ``instalments``; the rest
``open``.

**Age** = days from the due date to the valuation day (a claim not yet due is in the first class). The
allowance per claim is ``open × rate`` rounded half-up to the cent; the sums are sums of these, so every
report total equals the sum of its claims.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import polars as pl

from claims.config import EnforcementSection
from claims.vocab import AllowanceMethod, ClaimStanding, EnforcementOutcome, LimitationState
from dunning import ENGINE
from dunning.frames import conform
from enforcement.frames import CaseClaim, OutcomeRow, take

#: The claims read (open claims: the ledger's current ``claims``).
CLAIM_SCHEMA: dict[str, pl.DataType] = {"receivable_id": pl.String(), "claim_type": pl.String(),
                                        "amount_cents": pl.Int64(), "due_date": pl.Date()}
ITEM_COLUMNS = ("receivable_id", "claim_type", "due_date", "age_days", "age_class", "standing", "method",
                "rate_percent", "open_cents", "allowance_cents", "net_cents")
REPORT_COLUMNS = ("standing", "age_class", "claim_type", "method", "rate_percent", "n_claims", "open_cents",
                  "allowance_cents", "net_cents")
POSTING_COLUMNS = ("valuation_date", "method", "n_claims", "open_cents", "allowance_cents")


@dataclass(frozen=True, slots=True)
class Valuation:
    """``items`` (:data:`ITEM_COLUMNS`), ``report`` (:data:`REPORT_COLUMNS`), ``postings`` (:data:`POSTING_COLUMNS`)."""

    items: pl.DataFrame
    report: pl.DataFrame
    postings: pl.DataFrame


def age_class_labels(settings: EnforcementSection | None = None) -> list[str]:
    """The age classes in words, from the day bounds.

    >>> age_class_labels()
    ['bis 1 Jahr', '1 bis 2 Jahre', '2 bis 3 Jahre', '3 bis 5 Jahre', 'über 5 Jahre']
    """
    bounds = list((settings or EnforcementSection()).allowance_age_days)

    def words(days: int) -> str:
        return f"{days // 365} Jahr{'e' if days // 365 != 1 else ''}" if days % 365 == 0 else f"{days} Tage"

    labels = []
    for i, lo in enumerate(bounds):
        if i + 1 < len(bounds):
            hi = words(bounds[i + 1])
            labels.append(f"bis {hi}" if lo == 0 else f"{words(lo).split()[0]} bis {hi}")
        else:
            labels.append(f"über {words(lo)}")
    return labels


def claim_standing(case_claims: pl.DataFrame | pl.LazyFrame | None = None,
                   outcomes: pl.DataFrame | pl.LazyFrame | None = None, *, as_of: date,
                   instalments: pl.Series | list[str] | None = None) -> pl.DataFrame:
    """(receivable_id, standing) of every claim the cases, outcomes or plans say something about (module
    docstring); a claim not listed is ``open``. ``case_claims``: :class:`~enforcement.frames.CaseClaim`;
    ``outcomes``: :class:`~enforcement.frames.OutcomeRow` (those after ``as_of`` are not read)."""
    cc, out = take(case_claims, CaseClaim), take(outcomes, OutcomeRow).filter(pl.col("outcome_date") <= as_of)
    per_claim = pl.concat([
        out.filter(pl.col("receivable_id").is_not_null()).select("receivable_id", "outcome", "outcome_date"),
        out.filter(pl.col("receivable_id").is_null()).select("case_number", "outcome", "outcome_date")
        .join(cc.select("case_number", "receivable_id", "handed_off_on"), on="case_number", how="inner")
        .filter(pl.col("handed_off_on") <= pl.col("outcome_date"))
        .select("receivable_id", "outcome", "outcome_date"),
    ])
    latest = (per_claim.with_row_index("_i").sort("receivable_id", "outcome_date", "_i")
              .group_by("receivable_id").agg(pl.col("outcome").last()))
    mapped = {str(EnforcementOutcome.UNCOLLECTIBLE): str(ClaimStanding.UNCOLLECTIBLE),
              str(EnforcementOutcome.WRITTEN_OFF): str(ClaimStanding.UNCOLLECTIBLE),
              str(EnforcementOutcome.INSTALMENTS): str(ClaimStanding.INSTALMENTS),
              str(EnforcementOutcome.RETURNED): str(ClaimStanding.OPEN),
              str(EnforcementOutcome.PAID): str(ClaimStanding.OPEN)}
    plan = pl.Series("receivable_id", [] if instalments is None else instalments, dtype=pl.String).unique()
    ids = pl.concat([cc.select("receivable_id"), latest.select("receivable_id"), plan.to_frame()]).unique()
    got = ids.join(latest, on="receivable_id", how="left").with_columns(
        pl.col("receivable_id").is_in(cc["receivable_id"].implode()).alias("_case"),
        pl.col("receivable_id").is_in(plan.implode()).alias("_plan"))
    standing = (pl.when(pl.col("outcome").is_in(list(mapped))).then(pl.col("outcome").replace_strict(
        mapped, default=None, return_dtype=pl.String))
        .when(pl.col("_case")).then(pl.lit(ClaimStanding.IN_ENFORCEMENT))
        .when(pl.col("_plan")).then(pl.lit(ClaimStanding.INSTALMENTS))
        .otherwise(pl.lit(ClaimStanding.OPEN)))
    # a claim returned or paid but in a plan on time is valued as an instalment claim
    standing = pl.when((standing == ClaimStanding.OPEN) & pl.col("_plan")).then(
        pl.lit(ClaimStanding.INSTALMENTS)).otherwise(standing)
    return got.select("receivable_id", standing.alias("standing")).sort("receivable_id")


def valuation(claims: pl.DataFrame | pl.LazyFrame, as_of: date, settings: EnforcementSection | None = None, *,
              standing: pl.DataFrame | None = None, limits: pl.DataFrame | None = None) -> Valuation:
    """The valuation of the open ``claims`` (:data:`CLAIM_SCHEMA`) on ``as_of`` (module docstring).

    ``standing``: :func:`claim_standing`'s frame (absent claims: ``open``); ``limits``:
    :func:`enforcement.limitation.limitation`'s frame (``expired`` claims are ``time_barred``)."""
    s = settings or EnforcementSection()
    bounds, rates = list(s.allowance_age_days), [round(r * 100) for r in s.allowance_rates_percent]
    labels = age_class_labels(s)
    cl = conform(claims, CLAIM_SCHEMA).collect(engine=ENGINE).with_row_index("_row")
    st = standing if standing is not None else pl.DataFrame(schema={"receivable_id": pl.String, "standing": pl.String})
    barred = (limits.filter(pl.col("state") == LimitationState.EXPIRED)["receivable_id"]
              if limits is not None else pl.Series("receivable_id", [], pl.String))

    age = (pl.lit(as_of) - pl.col("due_date")).dt.total_days().clip(lower_bound=0)
    cls = pl.lit(0, pl.Int64)
    for i, lo in enumerate(bounds[1:], start=1):
        cls = pl.when(age >= lo).then(pl.lit(i, pl.Int64)).otherwise(cls)
    cl = (cl.join(st.select("receivable_id", "standing"), on="receivable_id", how="left", maintain_order="left")
          .with_columns(pl.col("standing").fill_null(pl.lit(ClaimStanding.OPEN)), age.alias("age_days"),
                        cls.alias("_cls"), pl.col("receivable_id").is_in(barred.implode()).alias("_barred")))
    flat_bp = pl.col("_cls").replace_strict(dict(enumerate(rates)), return_dtype=pl.Int64)
    method = (pl.when(pl.col("_barred")).then(pl.lit(AllowanceMethod.TIME_BARRED))
              .when(pl.col("standing") == ClaimStanding.UNCOLLECTIBLE).then(pl.lit(AllowanceMethod.INDIVIDUAL))
              .otherwise(pl.lit(AllowanceMethod.FLAT)))
    cl = cl.with_columns(method.alias("method")).with_columns(
        pl.when(pl.col("method") == AllowanceMethod.TIME_BARRED).then(pl.lit(10_000, pl.Int64))
        .when(pl.col("method") == AllowanceMethod.INDIVIDUAL)
        .then(pl.lit(round(s.allowance_uncollectible_percent * 100), pl.Int64))
        .otherwise(flat_bp).alias("_bp"))
    open_ = pl.col("amount_cents").clip(lower_bound=0)
    items = cl.with_columns(
        open_.alias("open_cents"), (pl.col("_bp") / 100).alias("rate_percent"),
        ((open_ * pl.col("_bp") + 5_000) // 10_000).alias("allowance_cents"),
        pl.col("_cls").replace_strict(dict(enumerate(labels)), return_dtype=pl.String).alias("age_class"),
    ).with_columns((pl.col("open_cents") - pl.col("allowance_cents")).alias("net_cents"))
    items = items.sort("_row").select(ITEM_COLUMNS)

    keys = ["standing", "age_class", "claim_type", "method", "rate_percent"]
    report = (items.group_by(keys).agg(pl.len().cast(pl.Int64).alias("n_claims"), pl.col("open_cents").sum(),
                                       pl.col("allowance_cents").sum(), pl.col("net_cents").sum())
              .with_columns(pl.col("age_class").replace_strict({lb: i for i, lb in enumerate(labels)},
                                                               return_dtype=pl.Int64).alias("_o"))
              .sort("standing", "_o", "claim_type", "method").select(REPORT_COLUMNS))
    methods = pl.DataFrame({"method": [str(m) for m in AllowanceMethod]})
    postings = (methods.join(items.group_by("method").agg(pl.len().cast(pl.Int64).alias("n_claims"),
                                                          pl.col("open_cents").sum(), pl.col("allowance_cents").sum()),
                             on="method", how="left")
                .with_columns(pl.col("n_claims").fill_null(0), pl.col("open_cents").fill_null(0),
                              pl.col("allowance_cents").fill_null(0), pl.lit(as_of).alias("valuation_date"))
                .select(POSTING_COLUMNS))
    return Valuation(items=items, report=report, postings=postings)


__all__ = ["CLAIM_SCHEMA", "ITEM_COLUMNS", "POSTING_COLUMNS", "REPORT_COLUMNS", "Valuation", "age_class_labels",
           "claim_standing", "valuation"]
