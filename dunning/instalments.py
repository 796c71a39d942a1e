"""Instalment agreements (Teilzahlungsvereinbarung, § 5 Abs. 2 VwVG NRW): is a plan kept, and which claims
does it hold out of the dunning run (issue 15 §4, DOMAIN.md §1.8).

A plan covers a list of claims (``receivable_ids``) or, when that is null, **every** claim of the debtor.
It has ``n_instalments`` instalments of ``amount_cents`` (the last one the rest up to ``total_cents`` where
that is set), the first due on ``first_due``, each next one ``interval_months`` later (always counted from ``first_due``: due 31 Jan, monthly → 28/29 Feb, 31 Mar).

**When an instalment is kept.** Instalment *k* is kept when, by its due date plus ``grace_days``
(``[dunning] instalment_grace_days``, 7; a plan may set its own), the payments counted for the plan add
up to at least the instalments 1..k together: a late payment within the grace days is on time, and an
instalment paid ahead covers the next ones. A payment counts for a plan when it was credited on or after
``agreed_on`` and names one of the plan's claims (``receivable_id``), or names no claim but the debtor
(``debtor_id``), or names a claim of the debtor when the plan covers all the debtor's claims (the
``claims`` frame says whose a claim is).

**Status on ``as_of``** (:data:`PLAN_STATUS_SCHEMA`): ``missed`` when an instalment's grace ended before
``as_of`` without it being kept — the law ends the agreement with that (DOMAIN.md §1.8: "a missed
instalment reactivates" enforcement), so paying the arrears **afterwards does not revive the plan**: a
clerk who wants to carry on agrees a new plan; ``completed`` when everything agreed was paid (before any
instalment was missed); ``on_time`` otherwise.

**Blocks** (:func:`instalment_blocks`): the claims of a plan ``on_time`` are blocked with reason
``RATENZAHLUNG`` (rows in ``dunning.select.BLOCK_SCHEMA``: by claim, or by debtor for an all-claims plan)
from ``agreed_on`` until the last instalment's grace ends. A missed or completed plan blocks nothing: the
open claims return to the run. The Säumniszuschläge ran on all the time (an instalment agreement is no
Stundung, DOMAIN.md §1.8): the selection charges them from the due date as ever.

Vectorised: the instalments are one exploded frame, the payments are summed cumulatively per plan and
joined to each instalment's deadline with an as-of join; no Python loop over plans or payments.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path

import polars as pl

from claims.errors import KasseError
from claims.vocab import BlockReason
from dunning import ENGINE
from dunning.frames import conform
from dunning.select import BLOCK_SCHEMA

#: The default grace after each instalment's due date (``[dunning] instalment_grace_days``).
GRACE_DAYS = 7

#: A plan (one row per agreement). ``receivable_ids`` null: every claim of the debtor.
PLAN_SCHEMA: dict[str, pl.DataType] = {
    "plan_id": pl.String(),
    "debtor_id": pl.String(),
    "receivable_ids": pl.List(pl.String()),
    "agreed_on": pl.Date(),
    "first_due": pl.Date(),
    "n_instalments": pl.Int64(),
    "amount_cents": pl.Int64(),          # per instalment
    "total_cents": pl.Int64(),           # what the plan pays off (null: n_instalments × amount_cents); the
                                         # last instalment is the rest when amount_cents does not divide it
    "interval_months": pl.Int64(),       # null: 1
    "grace_days": pl.Int64(),            # null: the tenant's default
}
#: Payments that may count for plans: by claim (``receivable_id``) or by debtor (``debtor_id``), or both.
PAYMENT_SCHEMA: dict[str, pl.DataType] = {"debtor_id": pl.String(), "receivable_id": pl.String(),
                                          "paid_on": pl.Date(), "amount_cents": pl.Int64()}
#: A plan's state on ``as_of``.
PLAN_STATUS_SCHEMA: dict[str, pl.DataType] = {
    "plan_id": pl.String(),
    "debtor_id": pl.String(),
    "status": pl.String(),               # on_time | missed | completed
    "total_cents": pl.Int64(),           # the plan's total_cents, or n_instalments × amount_cents
    "paid_cents": pl.Int64(),            # counted for the plan, credited agreed_on .. as_of
    "expected_cents": pl.Int64(),        # the instalments due on or before as_of
    "first_missed": pl.Date(),           # due date of the first instalment not kept (null: none)
    "ends_on": pl.Date(),                # the last instalment's due date plus the grace days
}

ON_TIME, MISSED, COMPLETED = "on_time", "missed", "completed"


def _schedule(plans: pl.LazyFrame, grace_days: int) -> pl.LazyFrame:
    """One row per instalment: plan_id, k (1-based), due, deadline (due + grace), cum_expected."""
    months = pl.col("interval_months").fill_null(1)
    total = pl.col("total_cents").fill_null(pl.col("n_instalments") * pl.col("amount_cents"))
    return (plans.with_columns(pl.int_ranges(0, pl.col("n_instalments")).alias("_k"))
            .explode("_k")
            .with_columns(pl.col("first_due").dt.offset_by(pl.format("{}mo", pl.col("_k") * months)).alias("due"))
            .select("plan_id", (pl.col("_k") + 1).alias("k"), "due",
                    (pl.col("due") + pl.duration(days=pl.col("grace_days").fill_null(grace_days))).alias("deadline"),
                    pl.min_horizontal((pl.col("_k") + 1) * pl.col("amount_cents"), total).alias("cum_expected")))


def _counted(plans: pl.LazyFrame, payments: pl.LazyFrame, claims: pl.LazyFrame, as_of: date) -> pl.LazyFrame:
    """(plan_id, paid_on, amount_cents) of every payment that counts for a plan, credited by ``as_of``."""
    pay = (payments.filter(pl.col("paid_on") <= as_of).with_row_index("_pay")
           .join(claims.select("receivable_id", pl.col("debtor_id").alias("_owner")), on="receivable_id",
                 how="left")
           .with_columns(pl.coalesce("debtor_id", "_owner").alias("_debtor")))
    listed = (plans.filter(pl.col("receivable_ids").is_not_null())
              .select("plan_id", "agreed_on", pl.col("receivable_ids").alias("receivable_id")).explode("receivable_id")
              .join(pay, on="receivable_id", how="inner"))
    whole = (plans.filter(pl.col("receivable_ids").is_null()).select("plan_id", "agreed_on", "debtor_id")
             .join(pay.filter(pl.col("_debtor").is_not_null()), left_on="debtor_id", right_on="_debtor", how="inner"))
    # a payment naming only the debtor counts for each of the debtor's plans that list claims
    loose = (plans.filter(pl.col("receivable_ids").is_not_null()).select("plan_id", "agreed_on", "debtor_id")
             .join(pay.filter(pl.col("receivable_id").is_null()), on="debtor_id", how="inner"))
    cols = ("plan_id", "_pay", "agreed_on", "paid_on", "amount_cents")
    return (pl.concat([listed.select(cols), whole.select(cols), loose.select(cols)])
            .unique(["plan_id", "_pay"])
            .filter(pl.col("paid_on") >= pl.col("agreed_on"))
            .select("plan_id", "paid_on", "amount_cents"))


def plan_status(plans: pl.DataFrame | pl.LazyFrame, payments: pl.DataFrame | pl.LazyFrame | None,
                as_of: date, *, claims: pl.DataFrame | pl.LazyFrame | None = None,
                grace_days: int = GRACE_DAYS) -> pl.DataFrame:
    """Each plan's state on ``as_of`` (:data:`PLAN_STATUS_SCHEMA`, in the order of ``plans``; module doc).

    ``plans``: :data:`PLAN_SCHEMA`; ``payments``: :data:`PAYMENT_SCHEMA`; ``claims`` (``receivable_id``,
    ``debtor_id``) tells whose a claim is, for plans covering all the debtor's claims."""
    pl_ = conform(plans, PLAN_SCHEMA).with_row_index("_order")
    counted = _counted(pl_, conform(payments, PAYMENT_SCHEMA),
                       conform(claims, {"receivable_id": pl.String(), "debtor_id": pl.String()}), as_of)
    daily = (counted.group_by("plan_id", "paid_on").agg(pl.col("amount_cents").sum())
             .sort("plan_id", "paid_on")
             .with_columns(pl.col("amount_cents").cum_sum().over("plan_id").alias("cum_paid")))
    sched = _schedule(pl_, grace_days).sort("deadline")
    kept = sched.join_asof(daily.sort("paid_on").select("plan_id", "paid_on", "cum_paid"),
                           left_on="deadline", right_on="paid_on", by="plan_id", strategy="backward",
                           check_sortedness=False)        # both sorted by date above; groups by plan
    missed = (kept.filter((pl.col("deadline") < as_of) & (pl.col("cum_paid").fill_null(0) < pl.col("cum_expected")))
              .group_by("plan_id").agg(pl.col("due").min().alias("first_missed")))
    per_plan = sched.group_by("plan_id").agg(
        pl.col("cum_expected").filter(pl.col("due") <= as_of).max().fill_null(0).alias("expected_cents"),
        pl.col("deadline").max().alias("ends_on"))
    paid = counted.group_by("plan_id").agg(pl.col("amount_cents").sum().alias("paid_cents"))
    total = pl.col("total_cents").fill_null(pl.col("n_instalments") * pl.col("amount_cents"))
    out = (pl_.join(per_plan, on="plan_id", how="left").join(paid, on="plan_id", how="left")
           .join(missed, on="plan_id", how="left")
           .with_columns(total.alias("total_cents"), pl.col("paid_cents").fill_null(0),
                         pl.col("expected_cents").fill_null(0))
           .with_columns(pl.when(pl.col("first_missed").is_not_null()).then(pl.lit(MISSED))
                         .when(pl.col("paid_cents") >= pl.col("total_cents")).then(pl.lit(COMPLETED))
                         .otherwise(pl.lit(ON_TIME)).alias("status"))
           .sort("_order"))
    return out.select([pl.col(c).cast(t) for c, t in PLAN_STATUS_SCHEMA.items()]).collect(engine=ENGINE)


def instalment_blocks(plans: pl.DataFrame | pl.LazyFrame, payments: pl.DataFrame | pl.LazyFrame | None,
                      as_of: date, *, claims: pl.DataFrame | pl.LazyFrame | None = None,
                      grace_days: int = GRACE_DAYS) -> pl.DataFrame:
    """Blocks (``dunning.select.BLOCK_SCHEMA``) with reason ``RATENZAHLUNG`` for the claims of every plan on
    time on ``as_of``: one row per listed claim (``debtor_id`` null, so the debtor's other claims are still
    dunned), or one row for the debtor (``receivable_id`` null) when the plan covers all its claims."""
    status = plan_status(plans, payments, as_of, claims=claims, grace_days=grace_days).filter(
        pl.col("status") == ON_TIME)
    live = conform(plans, PLAN_SCHEMA).join(status.lazy().select("plan_id", "ends_on"), on="plan_id", how="inner")
    reason = pl.lit(str(BlockReason.RATENZAHLUNG))
    by_claim = (live.filter(pl.col("receivable_ids").is_not_null()).explode("receivable_ids")
                .select(pl.col("receivable_ids").alias("receivable_id"), pl.lit(None, pl.String()).alias("debtor_id"),
                        reason.alias("block_reason"), pl.col("agreed_on").alias("block_from"),
                        pl.col("ends_on").alias("block_until")))
    by_debtor = live.filter(pl.col("receivable_ids").is_null()).select(
        pl.lit(None, pl.String()).alias("receivable_id"), "debtor_id", reason.alias("block_reason"),
        pl.col("agreed_on").alias("block_from"), pl.col("ends_on").alias("block_until"))
    return (pl.concat([by_claim, by_debtor]).filter(pl.col("receivable_id").is_not_null()
                                                    | pl.col("debtor_id").is_not_null())
            .select([pl.col(c).cast(t) for c, t in BLOCK_SCHEMA.items()]).collect(engine=ENGINE))


# --- the plans file -------------------------------------------------------------------------------------

class PlanFileError(KasseError, ValueError):
    """A plans file cannot be used: names the file, the line (1 = the header) and the reason."""

    def __init__(self, path: Path, line: int | None, reason: str) -> None:
        self.path, self.line, self.reason = path, line, reason
        where = f"{path}" if line is None else f"{path}, line {line}"
        super().__init__(f"{where}: {reason}")


#: Columns a plans file must have; the others may be missing (defaults: all claims, monthly, tenant grace).
PLAN_FILE_REQUIRED = ("plan_id", "debtor_id", "agreed_on", "first_due", "n_instalments", "amount_cents")
PLAN_FILE_OPTIONAL = ("receivable_ids", "total_cents", "interval_months", "grace_days")
#: Separator of the claims in a CSV's ``receivable_ids`` cell (empty cell: all the debtor's claims).
IDS_SEP = ","


@dataclass(frozen=True)
class _Check:
    column: str
    bad: pl.Expr
    reason: str


def _read_raw(path: Path) -> pl.DataFrame:
    try:
        if path.suffix.lower() == ".parquet":
            df = pl.read_parquet(path)
            if "receivable_ids" in df.columns and isinstance(df.schema["receivable_ids"], pl.List):
                df = df.with_columns(pl.col("receivable_ids").list.join(IDS_SEP))
            return df.with_columns(pl.all().cast(pl.String()))
        data = path.read_bytes()
        return pl.read_csv(data.removeprefix(b"\xef\xbb\xbf"), separator=";", infer_schema=False)
    except FileNotFoundError:
        raise PlanFileError(path, None, "no such file") from None
    except (pl.exceptions.PolarsError, OSError, UnicodeDecodeError) as err:
        raise PlanFileError(path, None, f"not a readable plans file ({type(err).__name__}: {err})") from err


def read_plans(path: Path) -> pl.DataFrame:
    """The instalment plans of ``path`` (CSV: ``;``-separated, UTF-8 with or without BOM, ISO dates,
    amounts in integer cents, ``receivable_ids`` separated by ``,``; or Parquet with the same columns) as
    :data:`PLAN_SCHEMA`. Refuses the whole file with :class:`PlanFileError` naming the first bad line:
    a missing column, a value that is not a date or a whole number, a count or amount not above 0, a
    first instalment before the agreement, a plan id twice."""
    raw = _read_raw(path)
    raw = raw.rename({c: c.strip().lower() for c in raw.columns})
    missing = [c for c in PLAN_FILE_REQUIRED if c not in raw.columns]
    if missing:
        raise PlanFileError(path, 1, f"missing column(s) {', '.join(missing)} (have {', '.join(raw.columns)})")
    raw = raw.with_columns([pl.lit(None, pl.String()).alias(c) for c in PLAN_FILE_OPTIONAL if c not in raw.columns])
    text = {c: pl.col(c).str.strip_chars() for c in (*PLAN_FILE_REQUIRED, *PLAN_FILE_OPTIONAL)}
    empty = {c: e.is_null() | (e == "") for c, e in text.items()}
    day = {c: text[c].str.to_date("%Y-%m-%d", strict=False) for c in ("agreed_on", "first_due")}
    num = {c: text[c].cast(pl.Int64(), strict=False)
           for c in ("n_instalments", "amount_cents", "total_cents", "interval_months", "grace_days")}
    checks = [
        *(_Check(c, empty[c], "is empty") for c in PLAN_FILE_REQUIRED),
        *(_Check(c, ~empty[c] & day[c].is_null(), "is not a date (YYYY-MM-DD)") for c in day),
        *(_Check(c, ~empty[c] & num[c].is_null(), "is not a whole number") for c in num),
        *(_Check(c, num[c] <= 0, "must be above 0") for c in ("n_instalments", "amount_cents", "total_cents",
                                                               "interval_months")),
        _Check("total_cents", num["total_cents"] > num["n_instalments"] * num["amount_cents"],
               "is more than n_instalments × amount_cents"),
        _Check("grace_days", num["grace_days"] < 0, "must not be negative"),
        _Check("first_due", day["first_due"] < day["agreed_on"], "lies before agreed_on"),
        _Check("plan_id", text["plan_id"].is_duplicated() & ~empty["plan_id"], "appears twice"),
    ]
    flags = raw.select([c.bad.fill_null(False).alias(f"_{i}") for i, c in enumerate(checks)])
    hit = flags.with_row_index("_row").filter(pl.any_horizontal(pl.exclude("_row")))
    if hit.height:
        row = hit.row(0, named=True)
        first = next(i for i in range(len(checks)) if row[f"_{i}"])
        check = checks[first]
        value = raw[check.column][row["_row"]]
        raise PlanFileError(path, int(row["_row"]) + 2, f"{check.column} {check.reason}: {value!r}")
    ids = (pl.when(empty["receivable_ids"]).then(pl.lit(None, pl.List(pl.String())))
           .otherwise(text["receivable_ids"].str.split(IDS_SEP).list.eval(pl.element().str.strip_chars())
                      .list.filter(pl.element() != "")))
    out = raw.select(text["plan_id"].alias("plan_id"), text["debtor_id"].alias("debtor_id"),
                     ids.alias("receivable_ids"), *(e.alias(c) for c, e in day.items()),
                     *(e.alias(c) for c, e in num.items()))
    return out.select([pl.col(c).cast(t) for c, t in PLAN_SCHEMA.items()])


__all__ = ["COMPLETED", "GRACE_DAYS", "MISSED", "ON_TIME", "PAYMENT_SCHEMA", "PLAN_SCHEMA", "PLAN_STATUS_SCHEMA",
           "PlanFileError", "instalment_blocks", "plan_status", "read_plans"]
