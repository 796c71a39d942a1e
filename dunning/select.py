"""Who is dunned this week, at which level, and what each claim owes (issue 15 §1–2, DOMAIN.md §9.1 r. 11–17).

:func:`select` takes the open claims and what the store knows about them (earlier notices, payments
credited to them, blocks, unresolved payments) as frames and returns two frames: the **selected** claims
with their level and every figure (open principal, Säumniszuschlag, interest, Mahngebühr, each with its
rule), and the **skipped** claims with a :class:`SkipReason`. No Python loop over claims: one lazy plan.

A claim is dunned when, at the run's notice date ``as_of``, none of these holds (the first that does is
the skip reason, in this order):

0. ``in_enforcement``: the claim is in an open enforcement case (``enforced``): the enforcement office has
   it; a Mahnung now would contradict the hand-off (a claim whose case closed is dunned again as before);
1. ``blocked``: a block in force — the export's ``dunning_block_until`` / ``block_reason`` (a reason
   without an end date blocks until lifted; an end date without a reason is a ``MAHNSPERRE``; the block
   ends after its end date) or a row of ``blocks`` (by claim or by debtor: insolvency, death and an
   unknown address hold every claim of the debtor);
2. ``pending_payment``: an unresolved payment could be the debtor's — it names one of the debtor's
   claims as a candidate, or comes from an IBAN the debtor is known by. The whole debtor is held back;
3. ``ancillary``: a Nebenforderung (enforced with its main claim, § 6 Abs. 4 VwVG NRW) unless
   ``dun_ancillary``; ``public_reminder``: its type is reminded publicly (no individual Mahnung);
4. ``below_threshold``: open principal under ``threshold`` (10,00 €, § 23 KomHVO);
5. ``not_due``: not overdue yet (a Zahlungserinnerung goes out instead within
   ``reminder_days_before_due`` when the level sequence holds one and none was sent);
6. ``schonfrist``: one week (``schonfrist_days``) after the (shifted) due date, or after the
   ``notice_date`` (Bekanntgabe of the Leistungsbescheid) if later, has not passed (§ 6 Abs. 1 VwVG NRW);
7. ``last_level``: every post-due level was sent (the enforcement hand-off's turn) — unless a block held
   after the last Mahnung-level notice and has ended since (below);
8. ``interval``: the last Mahnung-level notice is less than ``interval_days`` old.

Otherwise the claim gets the next level after the highest one sent (a Zahlungserinnerung does not count:
it has no legal effect). **A Mahnung renewed after a block**: when a block (Stundung, AdV, instalments …)
held at some time after the last Mahnung-level notice and has ended before ``as_of`` — a row of ``blocks``
whose ``block_until`` lies between that notice and ``as_of``, or the export's own ``dunning_block_until``
there — the debtor was told he need not pay yet, so that notice's deadline no longer stands and the
enforcement hand-off waits for a new one (``enforcement.select``: ``blocked_since_mahnung``, DOMAIN.md §9.1
rule 13). Such a claim is not ``last_level``: it gets the last post-due level again (``renewed``).

:func:`missing_booking_days` is the run's precondition: every booking day up
to the run date minus the bank lag has a day close.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

import polars as pl

from claims.config import DunningSection
from claims.vocab import BlockReason, DunningLevel, SkipReason
from dunning import ENGINE
from dunning.calendar import business_days_back, business_days_between
from dunning.fees import mahngebuehr
from dunning.frames import conform
from dunning.surcharge import late_charges

#: Earlier notices per claim (from the ledger): level, date, and the Mahngebühr that notice charged.
NOTICE_SCHEMA: dict[str, pl.DataType] = {"receivable_id": pl.String(), "level": pl.String(),
                                         "notice_date": pl.Date(), "mahngebuehr_cents": pl.Int64()}
#: Blocks set elsewhere (review page): on one claim (``receivable_id``) or a whole debtor (``debtor_id``).
BLOCK_SCHEMA: dict[str, pl.DataType] = {"receivable_id": pl.String(), "debtor_id": pl.String(),
                                        "block_reason": pl.String(), "block_from": pl.Date(),
                                        "block_until": pl.Date()}
#: Unresolved payments (Klärungsliste), long: one row per (payment, candidate claim); IBAN may be null.
PENDING_SCHEMA: dict[str, pl.DataType] = {"transaction_id": pl.String(), "counterparty_iban": pl.String(),
                                          "receivable_id": pl.String()}
#: The claim columns the selection reads.
REQUIRED = ("receivable_id", "debtor_id", "claim_type", "amount_cents", "due_date")
#: Optional claim columns (absent: null).
OPTIONAL: dict[str, pl.DataType] = {"law": pl.String(), "notice_date": pl.Date(),
                                    "dunning_block_until": pl.Date(), "block_reason": pl.String(),
                                    "debtor_iban": pl.String(), "kassenzeichen": pl.String()}
#: The selected claims, in this column order.
SELECTED_COLUMNS = ("receivable_id", "debtor_id", "kassenzeichen", "claim_type", "due_date", "due_effective",
                    "level", "open_cents", "saeumniszuschlag_cents", "surcharge_months", "interest_cents",
                    "surcharge_rule", "mahngebuehr_cents", "fee_basis_cents", "mahngebuehr_rule")
#: The skipped claims.
SKIPPED_COLUMNS = ("receivable_id", "debtor_id", "reason", "block_reason")


@dataclass(frozen=True, slots=True)
class Selection:
    """The run's answer: ``selected`` (:data:`SELECTED_COLUMNS`), ``skipped`` (:data:`SKIPPED_COLUMNS`)."""

    selected: pl.DataFrame
    skipped: pl.DataFrame


def _iban(col: pl.Expr) -> pl.Expr:
    return col.str.replace_all(r"\s", "").str.to_uppercase()


def _history(notices: pl.LazyFrame, post_due: tuple[DunningLevel, ...]) -> pl.LazyFrame:
    """Per claim: the highest post-due level sent (its rank, 1-based; 0: none), the day of the last
    post-due notice, whether a Zahlungserinnerung was sent and whether a Mahngebühr was charged."""
    rank = pl.col("level").replace_strict({str(lv): i + 1 for i, lv in enumerate(post_due)}, default=0,
                                          return_dtype=pl.Int32)
    return notices.group_by("receivable_id").agg(
        rank.max().alias("last_rank"),
        pl.col("notice_date").filter(rank > 0).max().alias("last_notice"),
        (pl.col("level") == DunningLevel.ZAHLUNGSERINNERUNG).any().alias("reminded"),
        (pl.col("mahngebuehr_cents").fill_null(0) > 0).any().alias("fee_charged"),
    )


def _blocks(claims: pl.LazyFrame, blocks: pl.LazyFrame, as_of: date) -> pl.LazyFrame:
    """(receivable_id, block_in_force) of every claim with a block in force, the export's own first."""
    until, why = pl.col("dunning_block_until"), pl.col("block_reason").str.strip_chars().str.to_uppercase()
    own = claims.filter((why.is_not_null() & (why != "")) | until.is_not_null()).filter(
        until.is_null() | (until >= as_of)
    ).select("receivable_id", pl.when(why.is_null() | (why == "")).then(pl.lit(BlockReason.MAHNSPERRE))
             .otherwise(why).alias("block_reason"), pl.lit(0).alias("prio"))
    live = blocks.filter((pl.col("block_from").is_null() | (pl.col("block_from") <= as_of))
                         & (pl.col("block_until").is_null() | (pl.col("block_until") >= as_of))).with_columns(
        pl.col("block_reason").str.strip_chars().str.to_uppercase().fill_null(BlockReason.MAHNSPERRE))
    by_claim = live.filter(pl.col("receivable_id").is_not_null()).select(
        "receivable_id", "block_reason", pl.lit(1).alias("prio"))
    by_debtor = claims.select("receivable_id", "debtor_id").join(
        live.filter(pl.col("debtor_id").is_not_null()).select("debtor_id", "block_reason"), on="debtor_id",
        how="inner").select("receivable_id", "block_reason", pl.lit(2).alias("prio"))
    return (pl.concat([own, by_claim, by_debtor]).sort("prio", "block_reason")
            .group_by("receivable_id").agg(pl.col("block_reason").first().alias("block_in_force")))


def _renewals(claims: pl.LazyFrame, blocks: pl.LazyFrame, as_of: date) -> pl.LazyFrame:
    """(receivable_id, block_ended) of every claim with a block that ended before ``as_of`` — on the claim,
    on its debtor, or the export's own ``dunning_block_until`` — the latest end; compared with the last
    notice by the caller."""
    ended = blocks.filter(pl.col("block_until").is_not_null() & (pl.col("block_until") < as_of))
    by_claim = ended.filter(pl.col("receivable_id").is_not_null()).select("receivable_id", "block_until")
    by_debtor = claims.select("receivable_id", "debtor_id").join(
        ended.filter(pl.col("debtor_id").is_not_null()).select("debtor_id", "block_until"), on="debtor_id",
        how="inner").select("receivable_id", "block_until")
    own = claims.filter(pl.col("dunning_block_until") < as_of).select(
        "receivable_id", pl.col("dunning_block_until").alias("block_until"))
    return (pl.concat([by_claim, by_debtor, own]).group_by("receivable_id")
            .agg(pl.col("block_until").max().alias("block_ended")))


def _held_debtors(claims: pl.LazyFrame, pending: pl.LazyFrame) -> pl.LazyFrame:
    """Debtors an unresolved payment could belong to (by a candidate claim or a known IBAN)."""
    named = claims.join(pending.filter(pl.col("receivable_id").is_not_null()).select("receivable_id").unique(),
                        on="receivable_id", how="semi").select("debtor_id")
    ibans = pending.select(_iban(pl.col("counterparty_iban")).alias("iban")).filter(
        pl.col("iban").is_not_null() & (pl.col("iban").str.len_chars() >= 15)
    ).unique().collect(engine=ENGINE)["iban"].to_list()
    # an IBAN is looked up inside the export's text (several IBANs, spaces, any case): Aho-Corasick, one pass
    by_iban = (claims.filter(pl.col("debtor_iban").str.replace_all(" ", "", literal=True)
                             .str.contains_any(ibans, ascii_case_insensitive=True)).select("debtor_id")
               if ibans else pl.LazyFrame(schema={"debtor_id": pl.String()}))
    return pl.concat([named, by_iban]).unique()


def select(claims: pl.DataFrame | pl.LazyFrame, as_of: date, settings: DunningSection | None = None, *,
           notices: pl.DataFrame | pl.LazyFrame | None = None,
           payments: pl.DataFrame | pl.LazyFrame | None = None,
           blocks: pl.DataFrame | pl.LazyFrame | None = None,
           pending: pl.DataFrame | pl.LazyFrame | None = None,
           enforced: pl.DataFrame | pl.LazyFrame | None = None) -> Selection:
    """The dunning run's selection and amounts at notice date ``as_of`` (module docstring).

    ``claims``: the open claims (``receivable_id``, ``debtor_id``, ``claim_type``, ``amount_cents`` = open
    principal, ``due_date``; optional :data:`OPTIONAL`). ``notices``: :data:`NOTICE_SCHEMA`; ``payments``:
    ``dunning.surcharge.PAYMENT_SCHEMA``; ``blocks``: :data:`BLOCK_SCHEMA`; ``pending``:
    :data:`PENDING_SCHEMA` (missing columns of these frames are read as null); ``enforced``: the
    ``receivable_id`` of every claim in an open enforcement case."""
    s = settings or DunningSection()
    lf = claims.lazy()
    have = lf.collect_schema().names()
    lf = lf.with_columns([pl.lit(None, t).alias(c) for c, t in OPTIONAL.items() if c not in have]).select(
        *REQUIRED, *OPTIONAL)          # the export's other columns (addresses …) are not carried through
    post_due = tuple(lv for lv in s.levels if lv != DunningLevel.ZAHLUNGSERINNERUNG)
    reminder = DunningLevel.ZAHLUNGSERINNERUNG in s.levels

    lf = late_charges(lf, as_of, s, payments).collect(engine=ENGINE).lazy()     # read three times below
    # blocks and held debtors are few: looked up by value (a hash set), not joined over the claims
    blocked = _blocks(lf, conform(blocks, BLOCK_SCHEMA), as_of).collect(engine=ENGINE)
    held = _held_debtors(lf, conform(pending, PENDING_SCHEMA)).collect(engine=ENGINE)["debtor_id"]
    renew = _renewals(lf, conform(blocks, BLOCK_SCHEMA), as_of).collect(engine=ENGINE)
    in_case = conform(enforced, {"receivable_id": pl.String()}).collect(engine=ENGINE)["receivable_id"]
    # maintain_order: the claims' order is the output's, deterministic without a sort
    lf = (lf.join(_history(conform(notices, NOTICE_SCHEMA), post_due), on="receivable_id", how="left",
                  maintain_order="left")
          .with_columns(pl.col("last_rank").fill_null(0), pl.col("reminded").fill_null(False),
                        pl.col("fee_charged").fill_null(False),
                        (pl.col("receivable_id").replace_strict(blocked["receivable_id"], blocked["block_in_force"],
                                                                default=None, return_dtype=pl.String)
                         if blocked.height else pl.lit(None, pl.String)).alias("block_in_force"),
                        (pl.col("debtor_id").is_in(held.implode()) if held.len() else pl.lit(False)).alias("held"),
                        (pl.col("receivable_id").replace_strict(renew["receivable_id"], renew["block_ended"],
                                                                default=None, return_dtype=pl.Date)
                         if renew.height else pl.lit(None, pl.Date)).alias("block_ended"),
                        (pl.col("receivable_id").is_in(in_case.implode()) if in_case.len() else pl.lit(False))
                        .alias("in_case")))

    due, day = pl.col("due_effective"), pl.lit(as_of)
    overdue = (day > due).fill_null(False)           # no due date: never dunned (not_due)
    grace_from = pl.max_horizontal(due, pl.col("notice_date").fill_null(due))
    in_schonfrist = day <= grace_from + pl.duration(days=s.schonfrist_days)
    remind = (pl.lit(reminder) & ~overdue & ~pl.col("reminded") & (pl.col("last_rank") == 0)
              & (day >= due - pl.duration(days=s.reminder_days_before_due))).fill_null(False)
    recent = pl.col("last_notice").is_not_null() & (day < pl.col("last_notice") + pl.duration(days=s.interval_days))
    # a block held after the last Mahnung and ended: that notice's deadline no longer stands (docstring)
    renewed = (pl.col("block_ended") >= pl.col("last_notice")).fill_null(False)
    public = (pl.col("claim_type").str.to_uppercase().is_in(list(s.public_reminder_types))
              if s.public_reminder_types else pl.lit(False))
    reason = (
        pl.when(pl.col("in_case")).then(pl.lit(SkipReason.IN_ENFORCEMENT))
        .when(pl.col("block_in_force").is_not_null()).then(pl.lit(SkipReason.BLOCKED))
        .when(pl.col("held")).then(pl.lit(SkipReason.PENDING_PAYMENT))
        .when(pl.col("ancillary") & pl.lit(not s.dun_ancillary)).then(pl.lit(SkipReason.ANCILLARY))
        .when(public).then(pl.lit(SkipReason.PUBLIC_REMINDER))
        .when(pl.col("amount_cents") < s.threshold).then(pl.lit(SkipReason.BELOW_THRESHOLD))
        .when(~overdue & ~remind).then(pl.lit(SkipReason.NOT_DUE))
        .when(overdue & in_schonfrist).then(pl.lit(SkipReason.SCHONFRIST))
        .when(overdue & (pl.col("last_rank") >= len(post_due)) & ~renewed).then(pl.lit(SkipReason.LAST_LEVEL))
        .when(overdue & recent).then(pl.lit(SkipReason.INTERVAL))
    )
    following = pl.col("last_rank").clip(upper_bound=len(post_due) - 1).replace_strict(
        {i: str(lv) for i, lv in enumerate(post_due)}, default=None, return_dtype=pl.String)
    level = pl.when(~overdue).then(pl.lit(DunningLevel.ZAHLUNGSERINNERUNG)).otherwise(following)
    lf = lf.with_columns(reason.alias("reason")).with_columns(
        pl.when(pl.col("reason").is_null()).then(level).alias("level"))
    needed = {*SELECTED_COLUMNS, "amount_cents", "ancillary", "fee_charged", "reason", "block_in_force"}
    names = lf.collect_schema().names()
    out = lf.select([c for c in names if c in needed]).collect(engine=ENGINE)

    chosen = out.filter(pl.col("reason").is_null())
    amounts = mahngebuehr(chosen, s).with_columns(pl.col("amount_cents").alias("open_cents"))
    selected = amounts.select(SELECTED_COLUMNS).collect(engine=ENGINE)
    skipped = out.filter(pl.col("reason").is_not_null()).select(
        "receivable_id", "debtor_id", "reason",
        pl.when(pl.col("reason") == SkipReason.BLOCKED).then(pl.col("block_in_force")).alias("block_reason"),
    )
    return Selection(selected=selected, skipped=skipped)


def missing_booking_days(closed: Iterable[date], run_date: date, bank_lag_days: int = 2, *,
                         since: date | None = None, region: str = "NW") -> list[date]:
    """Booking days up to ``run_date`` minus ``bank_lag_days`` business days that have no day close.

    The dunning job refuses to start while this is not empty and names the days: a payment booked on
    a day not yet closed could settle a claim the run would dun. Checked from ``since`` (e.g. the
    tenant's go-live) or else from the first closed day; with neither, the last required day alone."""
    days = set(closed)
    last = business_days_back(run_date, bank_lag_days, region)
    first = since or (min(days) if days else last)
    return [d for d in business_days_between(first, last, region) if d not in days]


def required_booking_day(run_date: date, bank_lag_days: int = 2, region: str = "NW") -> date:
    """The last booking day that must be closed before a run on ``run_date``."""
    return business_days_back(run_date, bank_lag_days, region)


#: The blocks in force and the debtors held back, for the enforcement hand-off (the same rules, not a copy).
blocks_in_force = _blocks
held_debtors = _held_debtors

__all__ = ["BLOCK_SCHEMA", "NOTICE_SCHEMA", "PENDING_SCHEMA", "SELECTED_COLUMNS", "SKIPPED_COLUMNS", "Selection",
           "blocks_in_force", "held_debtors", "missing_booking_days", "required_booking_day", "select"]
