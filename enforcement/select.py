"""Which open claims go to the enforcement office on a hand-off day (issue 17 §1, DOMAIN.md §1.2–1.3, §9.1 r. 13).

:func:`select` takes the open claims and what the ledger knows about them (the Mahnungen sent, decisions
that no Mahnung was needed, blocks, the Klärungsliste, the claims already in open cases) and returns two
frames: the **selected** claims, each with the Mahnung (or the waiver) that makes it enforceable, and the
**skipped** claims with exactly one :class:`~claims.vocab.HandoffSkip`. Every input claim is in exactly one
of them. No Python loop over claims: a few vectorised passes over one frame.

A **main claim** (no ``parent_receivable_id``) is handed over on ``as_of`` unless one of these holds — the
first that does is its reason:

1. ``in_enforcement``: it is already in an open case (a claim is never handed over twice);
2. ``nothing_open``: its open amount is zero or less;
3. ``blocked``: a block in force on ``as_of`` (the dunning run's rules and vocabulary, ``BlockReason``:
   the export's own ``block_reason`` / ``dunning_block_until``, or a block of the review page on the claim
   or its debtor);
4. ``blocked_since_mahnung``: a block held at some time after the last Mahnung and has ended since
   (Stundung, AdV, an instalment plan …: the debtor was told he need not pay yet, so the old Mahnung's
   deadline no longer stands; a new Mahnung is due first);
5. ``pending_payment``: a Klärungsliste payment could be the debtor's (it names one of the debtor's
   claims, or comes from an IBAN the debtor is known by): the whole debtor waits, as in dunning;
6. ``identity_incomplete``: the enforcement office cannot find the debtor — name, street, postcode or city
   missing or blank, or a German postcode not of five digits (:func:`identity_complete`);
7. ``identity_conflict``: the debtor's claims carry two different birth dates (which person is it?);
8. ``no_mahnung``: no Mahnung-level notice (``mahnung``, ``vollstreckungsankuendigung``) dated after the
   (shifted) due date, and no recorded decision that none was needed (:class:`~claims.vocab.MahnungWaiver`,
   DOMAIN.md §1.3);
9. ``schonfrist``: the week of § 6 Abs. 1 VwVG NRW after the (shifted) due date — or the later Bekanntgabe
   ``notice_date`` — has not passed (``[dunning] schonfrist_days``);
10. ``mahnfrist``: ``as_of`` is not after :func:`handoff_day`'s day: the last Mahnung's deadline plus
    ``postal_buffer_days`` (calendar days: the debtor's letter back — proof of payment, application for
    Stundung) plus ``bank_lag_days`` business days (a transfer made on that day is credited). For a
    waiver: the decision's day (``since``), or a public reminder's deadline;
11. ``below_threshold``: its open amount plus its open Nebenforderungen is under ``handoff_threshold``.

A **Nebenforderung** (``parent_receivable_id`` set: Mahngebühr, Säumniszuschlag, Zinsen, Kosten) needs no
Mahnung of its own (§ 6 Abs. 4 VwVG NRW: the Mahnung warned that it would be enforced too) and goes **with
its main claim**: ``in_enforcement`` / ``nothing_open`` / ``blocked`` / ``pending_payment`` on its own row
first; then ``main_claim_closed`` when the main claim is neither open nor in an open case; selected when the
main claim is selected or already in an open case (the new Säumniszuschlag joins the case); else
``main_claim_skipped``. A Nebenforderung of a Nebenforderung is not expected (the dunning run books every
fee on the main claim) and is treated like one whose main claim is closed.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import polars as pl

from claims.config import DunningSection, EnforcementSection
from claims.vocab import DunningLevel, HandoffSkip, MahnungWaiver
from dunning import ENGINE
from dunning.calendar import calendar_frame, next_business_day_expr
from dunning.select import blocks_in_force, held_debtors
from enforcement.frames import (
    BlockRow,
    CaseClaim,
    HandoffClaim,
    MahnungSent,
    MahnungWaived,
    PendingPayment,
    take,
)

#: The notice levels that are a Mahnung in law (the Vollstreckungsankündigung is another Mahnung).
MAHNUNG_LEVELS = (str(DunningLevel.MAHNUNG), str(DunningLevel.VOLLSTRECKUNGSANKUENDIGUNG))

#: The selected claims, in this column order (one row per claim handed over, main claims and
#: Nebenforderungen alike; a Nebenforderung carries its main claim's Mahnung).
SELECTED_COLUMNS = (
    "receivable_id", "debtor_id", "main_receivable_id", "ancillary", "kassenzeichen", "claim_type", "law",
    "open_cents", "due_date", "due_effective", "notice_date", "external_ref", "mahnung_notice_id",
    "mahnung_date", "mahnung_deadline", "mahnung_waiver", "schonfrist_end", "handoff_from", "debtor_name",
    "debtor_street", "debtor_postcode", "debtor_city", "debtor_country", "debtor_birth_date",
)
#: The skipped claims.
SKIPPED_COLUMNS = ("receivable_id", "debtor_id", "main_receivable_id", "reason", "block_reason")

#: A German postcode: five digits.
_DE_POSTCODE = r"^[0-9]{5}$"


@dataclass(frozen=True, slots=True)
class Handoff:
    """The hand-off's answer: ``selected`` (:data:`SELECTED_COLUMNS`), ``skipped`` (:data:`SKIPPED_COLUMNS`)."""

    selected: pl.DataFrame
    skipped: pl.DataFrame


def identity_complete() -> pl.Expr:
    """True where the debtor can be found by the enforcement office: a name, a street (with number), a
    postcode and a city, none blank, and — in Germany (``debtor_country`` null or ``DE``) — a postcode of
    five digits. The birth date is not required (a company has none; the export often lacks it): where it
    is known it goes into the hand-off, and two different ones for one debtor are a conflict instead."""
    def filled(c: str) -> pl.Expr:
        return pl.col(c).str.strip_chars().str.len_chars().fill_null(0) > 0

    german = pl.col("debtor_country").is_null() | (pl.col("debtor_country").str.to_uppercase() == "DE")
    postcode_ok = ~german | pl.col("debtor_postcode").str.strip_chars().str.contains(_DE_POSTCODE).fill_null(False)
    return (filled("debtor_name") & filled("debtor_street") & filled("debtor_postcode") & filled("debtor_city")
            & postcode_ok)


def add_business_days(frame: pl.DataFrame, column: str, n: int, alias: str, *, region: str = "NW") -> pl.DataFrame:
    """``frame`` with ``alias`` = the ``n``-th business day after ``column`` (``n`` = 0: the day itself).

    One calendar frame for the span of the data; each date is looked up by its distance from the
    calendar's first day (``business_index``: business days up to and including it), and the business
    day with index + ``n`` taken from the list of business days — two gathers, no join, no loop."""
    span = frame.select(pl.col(column).min().alias("lo"), pl.col(column).max().alias("hi"))
    lo, hi = span["lo"][0], span["hi"][0]
    if lo is None or n == 0:
        return frame.with_columns(pl.col(column).alias(alias))
    cal = calendar_frame(lo, hi, region)
    first = cal["day"][0]
    index = cal["business_index"]
    business = cal.filter(pl.col("business"))["day"]
    offset = (pl.col(column) - pl.lit(first)).dt.total_days()
    # business_index counts from 1 at the first business day: the k-th business day is business[k - 1]
    return frame.with_columns(pl.lit(business).gather(pl.lit(index).gather(offset) + (n - 1)).alias(alias))


def handoff_day(frame: pl.DataFrame, settings: EnforcementSection, region: str = "NW") -> pl.DataFrame:
    """``frame`` with ``handoff_from``: the first day a hand-off may take the claim (reads ``wait_from``,
    the Mahnung's deadline + postal buffer or the waiver's day). The last waited-for day is the
    ``bank_lag_days``-th business day after ``wait_from``; the hand-off comes the day after it.

    >>> from datetime import date
    >>> f = pl.DataFrame({"wait_from": [date(2026, 4, 10)]})      # deadline Tue 7 Apr + 3 days: Friday
    >>> handoff_day(f, EnforcementSection())["handoff_from"].to_list()   # Mon 13, Tue 14 Apr; then Wed
    [datetime.date(2026, 4, 15)]
    """
    got = add_business_days(frame, "wait_from", settings.bank_lag_days, "_last_wait", region=region)
    return got.with_columns((pl.col("_last_wait") + pl.duration(days=1)).alias("handoff_from")).drop("_last_wait")


def _last_mahnung(claims: pl.DataFrame, mahnungen: pl.DataFrame) -> pl.DataFrame:
    """Per claim its last Mahnung dated after the (shifted) due date: (receivable_id, mahnung_notice_id,
    mahnung_date, mahnung_deadline). "Last" = the latest deadline (a Vollstreckungsankündigung after the
    Mahnung sets the deadline that counts); a notice before the due date has no legal effect."""
    return (mahnungen.filter(pl.col("level").is_in(MAHNUNG_LEVELS))
            .join(claims.select("receivable_id", "due_effective"), on="receivable_id", how="inner")
            .filter(pl.col("notice_date") > pl.col("due_effective"))
            .sort("deadline", "notice_date", "notice_id")
            .group_by("receivable_id").agg(pl.col("notice_id").last().alias("mahnung_notice_id"),
                                           pl.col("notice_date").last().alias("mahnung_date"),
                                           pl.col("deadline").last().alias("mahnung_deadline")))


def _waivers(claims: pl.DataFrame, waived: pl.DataFrame) -> pl.DataFrame:
    """Per claim the waiver that applies (one on the claim before one on its debtor; then the latest):
    (receivable_id, mahnung_waiver, waiver_since, waiver_deadline)."""
    by_claim = waived.filter(pl.col("receivable_id").is_not_null()).select(
        "receivable_id", "waiver", "since", "deadline", pl.lit(0).alias("prio"))
    by_debtor = claims.select("receivable_id", "debtor_id").join(
        waived.filter(pl.col("receivable_id").is_null()).drop("receivable_id"), on="debtor_id", how="inner"
    ).select("receivable_id", "waiver", "since", "deadline", pl.lit(1).alias("prio"))
    return (pl.concat([by_claim, by_debtor]).sort("prio", pl.col("since"), descending=[False, True])
            .group_by("receivable_id").agg(pl.col("waiver").first().alias("mahnung_waiver"),
                                           pl.col("since").first().alias("waiver_since"),
                                           pl.col("deadline").first().alias("waiver_deadline")))


def _ended_blocks(claims: pl.DataFrame, blocks: pl.DataFrame, as_of: date) -> pl.DataFrame:
    """(receivable_id, block_reason, block_until) of every block that has ended before ``as_of``: the
    review page's (on the claim or its debtor) and the export's own ``dunning_block_until`` in the past."""
    ended = blocks.filter(pl.col("block_until").is_not_null() & (pl.col("block_until") < as_of))
    by_claim = ended.filter(pl.col("receivable_id").is_not_null()).select("receivable_id", "block_reason",
                                                                          "block_until")
    by_debtor = claims.select("receivable_id", "debtor_id").join(
        ended.filter(pl.col("debtor_id").is_not_null()).select("debtor_id", "block_reason", "block_until"),
        on="debtor_id", how="inner").select("receivable_id", "block_reason", "block_until")
    own = claims.filter(pl.col("dunning_block_until") < as_of).select(
        "receivable_id", pl.col("block_reason").fill_null("MAHNSPERRE"),
        pl.col("dunning_block_until").alias("block_until"))
    return pl.concat([by_claim, by_debtor, own]).with_columns(
        pl.col("block_reason").str.strip_chars().str.to_uppercase().fill_null("MAHNSPERRE"))


def select(claims: pl.DataFrame | pl.LazyFrame, as_of: date, settings: EnforcementSection | None = None,
           dunning: DunningSection | None = None, *,
           mahnungen: pl.DataFrame | pl.LazyFrame | None = None,
           waivers: pl.DataFrame | pl.LazyFrame | None = None,
           blocks: pl.DataFrame | pl.LazyFrame | None = None,
           pending: pl.DataFrame | pl.LazyFrame | None = None,
           open_cases: pl.DataFrame | pl.LazyFrame | None = None) -> Handoff:
    """The claims handed to enforcement on ``as_of`` and why the others are not (module docstring).

    ``claims``: :class:`~enforcement.frames.HandoffClaim`; ``mahnungen``: :class:`~enforcement.frames.MahnungSent`;
    ``waivers``: :class:`~enforcement.frames.MahnungWaived`; ``blocks``: :class:`~enforcement.frames.BlockRow`;
    ``pending``: :class:`~enforcement.frames.PendingPayment`; ``open_cases``: :class:`~enforcement.frames.CaseClaim`
    of the cases still open. ``settings`` is ``[enforcement]``, ``dunning`` is ``[dunning]`` (the
    Schonfrist, the due-date shift and the holiday region are the dunning run's)."""
    s, d = settings or EnforcementSection(), dunning or DunningSection()
    cl = take(claims, HandoffClaim).with_row_index("_row")
    sent, waived = take(mahnungen, MahnungSent), take(waivers, MahnungWaived)
    blk, pend, cases = take(blocks, BlockRow), take(pending, PendingPayment), take(open_cases, CaseClaim)

    if d.shift_due_date:
        cl = next_business_day_expr(cl, "due_date", "due_effective", region=d.holiday_region).collect(engine=ENGINE)
    else:
        cl = cl.with_columns(pl.col("due_date").alias("due_effective"))
    cl = cl.with_columns(pl.col("parent_receivable_id").is_not_null().alias("ancillary"),
                         pl.coalesce("parent_receivable_id", "receivable_id").alias("main_receivable_id"))

    # the few: looked up by value (hash sets), not joined over the claims
    live = blocks_in_force(cl.lazy(), blk.lazy(), as_of).collect(engine=ENGINE)
    held = held_debtors(cl.lazy(), pend.lazy()).collect(engine=ENGINE)["debtor_id"]
    in_case = cases["receivable_id"].unique()
    conflict = (cl.filter(pl.col("debtor_birth_date").is_not_null()).group_by("debtor_id")
                .agg(pl.col("debtor_birth_date").n_unique().alias("n")).filter(pl.col("n") > 1)["debtor_id"])

    cl = (cl.join(_last_mahnung(cl, sent), on="receivable_id", how="left", maintain_order="left")
          .join(_waivers(cl, waived), on="receivable_id", how="left", maintain_order="left")
          .with_columns(
              pl.col("receivable_id").replace_strict(live["receivable_id"], live["block_in_force"], default=None,
                                                     return_dtype=pl.String).alias("block_in_force"),
              pl.col("debtor_id").is_in(held.implode()).alias("held"),
              pl.col("receivable_id").is_in(in_case.implode()).alias("in_case"),
              pl.col("debtor_id").is_in(conflict.implode()).alias("conflict"),
              identity_complete().alias("identity_ok")))
    # a Mahnung (or the waiver's day) is the point from which a block counts as "since"
    since = pl.coalesce("mahnung_date", "waiver_since")
    ended = _ended_blocks(cl, blk, as_of).join(cl.select("receivable_id", since.alias("since")),
                                               on="receivable_id", how="inner")
    since_mahnung = (ended.filter(pl.col("since").is_not_null() & (pl.col("block_until") >= pl.col("since")))
                     .sort("block_until", descending=True).group_by("receivable_id")
                     .agg(pl.col("block_reason").first().alias("block_since")))
    cl = cl.join(since_mahnung, on="receivable_id", how="left", maintain_order="left")

    public = pl.col("mahnung_waiver") == MahnungWaiver.PUBLIC_REMINDER
    cl = handoff_day(cl.with_columns(
        pl.when(pl.col("mahnung_deadline").is_not_null())
        .then(pl.col("mahnung_deadline") + pl.duration(days=s.postal_buffer_days))
        .when(public).then(pl.col("waiver_deadline"))
        .otherwise(pl.col("waiver_since")).alias("wait_from"),
        (pl.max_horizontal("due_effective", pl.col("notice_date").fill_null(pl.col("due_effective")))
         + pl.duration(days=d.schonfrist_days)).alias("schonfrist_end"),
    ), s, d.holiday_region)
    # a waiver counts only when there is no Mahnung: the Mahnung's deadline is what the debtor was told
    cl = cl.with_columns(pl.when(pl.col("mahnung_deadline").is_not_null()).then(None)
                         .otherwise(pl.col("mahnung_waiver")).alias("mahnung_waiver"))

    # open amount of each main claim with its open Nebenforderungen (the threshold's basis)
    extra = (cl.filter(pl.col("ancillary") & (pl.col("amount_cents") > 0)).group_by("parent_receivable_id")
             .agg(pl.col("amount_cents").sum().alias("_extra")))
    cl = cl.with_columns((pl.col("amount_cents") + pl.col("receivable_id").replace_strict(
        extra["parent_receivable_id"], extra["_extra"], default=0, return_dtype=pl.Int64)).alias("_with_extra"))

    day = pl.lit(as_of)
    main_reason = (
        pl.when(pl.col("in_case")).then(pl.lit(HandoffSkip.IN_ENFORCEMENT))
        .when(pl.col("amount_cents") <= 0).then(pl.lit(HandoffSkip.NOTHING_OPEN))
        .when(pl.col("block_in_force").is_not_null()).then(pl.lit(HandoffSkip.BLOCKED))
        .when(pl.col("block_since").is_not_null()).then(pl.lit(HandoffSkip.BLOCKED_SINCE_MAHNUNG))
        .when(pl.col("held")).then(pl.lit(HandoffSkip.PENDING_PAYMENT))
        .when(~pl.col("identity_ok")).then(pl.lit(HandoffSkip.IDENTITY_INCOMPLETE))
        .when(pl.col("conflict")).then(pl.lit(HandoffSkip.IDENTITY_CONFLICT))
        .when(pl.col("wait_from").is_null()).then(pl.lit(HandoffSkip.NO_MAHNUNG))
        .when(day <= pl.col("schonfrist_end")).then(pl.lit(HandoffSkip.SCHONFRIST))
        .when(day < pl.col("handoff_from")).then(pl.lit(HandoffSkip.MAHNFRIST))
        .when(pl.col("_with_extra") < s.handoff_threshold).then(pl.lit(HandoffSkip.BELOW_THRESHOLD))
    )
    cl = cl.with_columns(pl.when(~pl.col("ancillary")).then(main_reason).alias("reason"))

    # the Nebenforderungen follow their main claim's answer
    mains = cl.filter(~pl.col("ancillary")).select("receivable_id", pl.col("reason").alias("main_reason"))
    parent_open = pl.col("parent_receivable_id").is_in(mains["receivable_id"].implode())
    parent_in_case = pl.col("parent_receivable_id").is_in(in_case.implode())
    main_answer = pl.col("parent_receivable_id").replace_strict(mains["receivable_id"], mains["main_reason"],
                                                                default=None, return_dtype=pl.String)
    ancillary_reason = (
        pl.when(pl.col("in_case")).then(pl.lit(HandoffSkip.IN_ENFORCEMENT))
        .when(pl.col("amount_cents") <= 0).then(pl.lit(HandoffSkip.NOTHING_OPEN))
        .when(~parent_open & ~parent_in_case).then(pl.lit(HandoffSkip.MAIN_CLAIM_CLOSED))
        .when(pl.col("block_in_force").is_not_null()).then(pl.lit(HandoffSkip.BLOCKED))
        .when(pl.col("held")).then(pl.lit(HandoffSkip.PENDING_PAYMENT))
        .when(parent_in_case).then(pl.lit(None, pl.String))
        .when(main_answer.is_not_null() & (main_answer != HandoffSkip.IN_ENFORCEMENT))
        .then(pl.lit(HandoffSkip.MAIN_CLAIM_SKIPPED))
    )
    cl = cl.with_columns(pl.when(pl.col("ancillary")).then(ancillary_reason).otherwise(pl.col("reason"))
                         .alias("reason"))

    # a Nebenforderung carries its main claim's Mahnung (the one that warned, § 6 Abs. 4 VwVG NRW)
    carried = ("mahnung_notice_id", "mahnung_date", "mahnung_deadline", "mahnung_waiver", "handoff_from")
    main_cols = cl.filter(~pl.col("ancillary")).select(pl.col("receivable_id").alias("main_receivable_id"),
                                                       *[pl.col(c).alias(f"_m_{c}") for c in carried])
    chosen = (cl.filter(pl.col("reason").is_null())
              .join(main_cols, on="main_receivable_id", how="left", maintain_order="left")
              .with_columns([pl.when(pl.col("ancillary")).then(pl.col(f"_m_{c}")).otherwise(pl.col(c)).alias(c)
                             for c in carried])
              .with_columns(pl.col("amount_cents").alias("open_cents")))
    selected = chosen.sort("_row").select(SELECTED_COLUMNS)
    skipped = cl.filter(pl.col("reason").is_not_null()).sort("_row").select(
        "receivable_id", "debtor_id", "main_receivable_id", "reason",
        pl.when(pl.col("reason") == HandoffSkip.BLOCKED).then(pl.col("block_in_force"))
        .when(pl.col("reason") == HandoffSkip.BLOCKED_SINCE_MAHNUNG).then(pl.col("block_since"))
        .alias("block_reason"))
    return Handoff(selected=selected, skipped=skipped)


__all__ = ["MAHNUNG_LEVELS", "SELECTED_COLUMNS", "SKIPPED_COLUMNS", "Handoff", "add_business_days", "handoff_day",
           "identity_complete", "select"]
