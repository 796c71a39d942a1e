"""What a change of a foreign creditor's request does to its claims (issue 18 §3; pure; docs/AMTSHILFE.md
"Changes to a request").

The claims of an accepted request are booked once (one per notice, table ``claims``); the ledger never
updates them. A change is a row of ``claim_changes`` (migration 15, :class:`claims.vocab.ClaimChange`):
``amended`` gives the claim a new amount from then on, ``cancelled`` closes its open part — what was
allocated to it stays allocated (and is forwarded to the creditor). The latest change of a claim wins.
This module decides the rows; the nightly import (``jobs.nightly.amtshilfe``) and a person's Rückgabe book
them.

* :func:`amend_claims` — an **Änderung** with a new list of notices: a notice is matched to the one it
  replaces by its file number (the n-th notice of a file number to the n-th); a changed amount amends the
  claim, a removed notice cancels its claim, a new notice (or one that had no claim) is a new claim under
  the next free number of the case (``<case>-<n>``: a number is never used twice). An amount below what is
  already allocated to the claim is not applied: the whole Änderung is ``refused`` (flagged for a person,
  ``below_paid``).
* :func:`close_request_claims` — a **Rücknahme** (and a Rückgabe a person decides later): every claim of
  the request not closed yet is cancelled.
* :func:`suspension_blocks` — an **Aussetzung**: a block (``ADV``) on every claim of a suspended request
  while the suspension holds (until ``suspended_until``, or a later change that resumes it). Payments are
  still matched and forwarded; only what enforces waits.

All set-based over every request of a night at once (one change per request per call: the nightly applies
the night's changes round by round, each to the result of the one before).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import polars as pl

from claims.vocab import BlockReason, ClaimChange, ErsuchenState

#: The claims of the requests as they stand (``ledger.amtshilfe_claims.request_claims``): ``amount_cents``
#: the claim's amount now (its latest change, else as booked), ``allocated_cents`` what is allocated to it,
#: ``closed`` whether it was cancelled.
CLAIM_STATE: dict[str, pl.DataType] = {
    "receivable_id": pl.String(), "case_number": pl.String(), "amount_cents": pl.Int64(),
    "allocated_cents": pl.Int64(), "closed": pl.Boolean()}
#: A request's notices as they stand, with the claim each is booked as (null: none).
OLD_NOTICES: dict[str, pl.DataType] = {
    "request": pl.String(), "receivable_id": pl.String(), "notice_file_number": pl.String()}
#: The new notices of an Änderung (``amount_cents`` = principal + surcharges + costs).
NEW_NOTICES: dict[str, pl.DataType] = {
    "request": pl.String(), "message_id": pl.String(), "case_number": pl.String(), "position": pl.Int64(),
    "notice_file_number": pl.String(), "amount_cents": pl.Int64()}
#: The changes decided (``ledger.tables.CLAIM_CHANGES`` less what the booking adds); ``open_cents``: what is
#: open of the claim after the change.
CHANGES: dict[str, pl.DataType] = {
    "message_id": pl.String(), "receivable_id": pl.String(), "change": pl.String(), "amount_cents": pl.Int64(),
    "before_cents": pl.Int64(), "allocated_cents": pl.Int64(), "open_cents": pl.Int64()}


@dataclass(frozen=True, slots=True)
class Amended:
    """:func:`amend_claims`' answer. ``notices``: the new notices with the claim each is booked as
    (``receivable_id``; null: amount 0, no claim); ``changes``: :data:`CHANGES`; ``new_claims``: the new
    notices that become new claims (``message_id``, ``position``, ``receivable_id``, ``amount_cents``);
    ``refused``: the messages not applied (an amount below what is allocated: ``below_paid``)."""

    notices: pl.DataFrame
    changes: pl.DataFrame
    new_claims: pl.DataFrame
    refused: pl.DataFrame


def _conform(frame: pl.DataFrame, schema: dict[str, pl.DataType]) -> pl.DataFrame:
    return frame.select([pl.col(k).cast(t) if k in frame.columns else pl.lit(None, t).alias(k)
                         for k, t in schema.items()])


def _occurrence() -> list[pl.Expr]:
    fn = pl.col("notice_file_number").str.strip_chars().fill_null("")
    return [fn.alias("_fn"), pl.int_range(pl.len()).over("request", fn).alias("_nth")]


def _number(receivable_id: pl.Expr) -> pl.Expr:
    """The running number of ``<case>-<n>``."""
    return receivable_id.str.extract(r"-(\d+)$").cast(pl.Int64)


def amend_claims(old: pl.DataFrame, new: pl.DataFrame, claims: pl.DataFrame) -> Amended:
    """The claims of the requests in ``new`` (:data:`NEW_NOTICES`, one Änderung per request) after their
    Änderung, against their notices as they stand (``old``: :data:`OLD_NOTICES`) and their claims
    (``claims``: :data:`CLAIM_STATE`). Module docstring."""
    old, new, claims = _conform(old, OLD_NOTICES), _conform(new, NEW_NOTICES), _conform(claims, CLAIM_STATE)
    old = old.filter(pl.col("request").is_in(new["request"].unique().implode())).with_columns(_occurrence())
    new = new.sort("request", "position").with_columns(_occurrence())
    live = claims.filter(~pl.col("closed").fill_null(False)).select(
        "receivable_id", pl.col("amount_cents").alias("_claim_cents"), pl.col("allocated_cents").fill_null(0))
    m = (new.join(old.select("request", "_fn", "_nth", pl.col("receivable_id").alias("_old_id")),
                  on=["request", "_fn", "_nth"], how="left", maintain_order="left")
         .join(live, left_on="_old_id", right_on="receivable_id", how="left", maintain_order="left"))
    kept = pl.col("_claim_cents").is_not_null()                    # the notice had an open claim: it follows
    below = kept & (pl.col("amount_cents") < pl.col("allocated_cents"))
    refused = m.filter(below).select("message_id").unique(maintain_order=True)
    m = m.filter(~pl.col("message_id").is_in(refused["message_id"].implode()))

    # new claims: a notice with an amount and no open claim to follow, numbered after the case's highest
    used = claims.group_by("case_number").agg(_number(pl.col("receivable_id")).max().alias("_top"))
    fresh = (~kept & (pl.col("amount_cents") > 0))
    m = (m.join(used, on="case_number", how="left", maintain_order="left")
         .with_columns(pl.when(fresh).then(pl.int_range(1, pl.len() + 1).over("request", fresh)).alias("_k"))
         .with_columns(pl.when(kept).then(pl.col("_old_id"))
                       .when(fresh).then(pl.col("case_number") + "-"
                                         + (pl.col("_top").fill_null(0) + pl.col("_k")).cast(pl.String))
                       .alias("receivable_id")))
    amended = m.filter(kept & (pl.col("amount_cents") != pl.col("_claim_cents"))).select(
        "message_id", "receivable_id", pl.lit(str(ClaimChange.AMENDED)).alias("change"), "amount_cents",
        pl.col("_claim_cents").alias("before_cents"), "allocated_cents",
        (pl.col("amount_cents") - pl.col("allocated_cents")).alias("open_cents"))
    # a notice no longer in the list: its open claim is cancelled (what was paid on it stays)
    gone = (old.filter(pl.col("request").is_in(m["request"].unique().implode()))
            .join(m.select("request", "_fn", "_nth"), on=["request", "_fn", "_nth"], how="anti")
            .join(live, on="receivable_id", how="inner", maintain_order="left")
            .join(m.select("request", "message_id").unique("request"), on="request", how="left"))
    cancelled = gone.select("message_id", "receivable_id", pl.lit(str(ClaimChange.CANCELLED)).alias("change"),
                            pl.col("allocated_cents").alias("amount_cents"), pl.col("_claim_cents").alias("before_cents"),
                            "allocated_cents", pl.lit(0, pl.Int64).alias("open_cents"))
    changes = _conform(pl.concat([_conform(amended, CHANGES), _conform(cancelled, CHANGES)]), CHANGES)
    new_claims = m.filter(fresh).select("message_id", "position", "receivable_id", "amount_cents")
    notices = m.select(*NEW_NOTICES, "receivable_id")
    return Amended(notices=notices, changes=changes, new_claims=new_claims, refused=refused)


def close_request_claims(claims: pl.DataFrame, message_id: pl.Expr | str | None = None) -> pl.DataFrame:
    """The ``cancelled`` rows (:data:`CHANGES`) that close every claim in ``claims`` (:data:`CLAIM_STATE`,
    the claims of the requests withdrawn or given back, plus a ``message_id`` column or ``message_id``:
    what makes the change) not closed yet: nothing of them is open any more, what was allocated stays.

    For a Rückgabe a person decides ([ahdecide]): ``close_request_claims(request_claims(con, tenant)
    .filter(pl.col("case_number") == case), "<decision id>")`` and book the rows with
    ``ledger.amtshilfe_claims.change_rows``."""
    got = _conform(claims, {**CLAIM_STATE, **({"message_id": pl.String()} if "message_id" in claims.columns
                                              else {})})
    if message_id is not None:
        got = got.with_columns((pl.lit(message_id) if isinstance(message_id, str) else message_id)
                               .alias("message_id"))
    got = got.filter(~pl.col("closed").fill_null(False))
    return _conform(got.select("message_id", "receivable_id", pl.lit(str(ClaimChange.CANCELLED)).alias("change"),
                               pl.col("allocated_cents").fill_null(0).alias("amount_cents"),
                               pl.col("amount_cents").alias("before_cents"),
                               pl.col("allocated_cents").fill_null(0), pl.lit(0, pl.Int64).alias("open_cents")),
                    CHANGES)


def apply_changes(claims: pl.DataFrame, changes: pl.DataFrame) -> pl.DataFrame:
    """``claims`` (:data:`CLAIM_STATE`) after ``changes`` (:data:`CHANGES`, at most one per claim)."""
    claims, changes = _conform(claims, CLAIM_STATE), _conform(changes, CHANGES)
    x = changes.select("receivable_id", pl.col("change").alias("_change"), pl.col("amount_cents").alias("_amount"))
    return claims.join(x, on="receivable_id", how="left", maintain_order="left").select(
        "receivable_id", "case_number", pl.coalesce("_amount", "amount_cents").alias("amount_cents"),
        "allocated_cents",
        (pl.col("closed").fill_null(False) | (pl.col("_change") == ClaimChange.CANCELLED).fill_null(False))
        .alias("closed"))


#: The blocks of suspended requests, as ``dunning.select.BLOCK_SCHEMA`` takes them.
BLOCKS: dict[str, pl.DataType] = {"receivable_id": pl.String(), "debtor_id": pl.String(),
                                  "block_reason": pl.String(), "block_from": pl.Date(), "block_until": pl.Date()}


def suspension_blocks(requests: pl.DataFrame, claims: pl.DataFrame, as_of: date) -> pl.DataFrame:
    """A block (``ADV``: the creditor suspends enforcement) on every open claim of each request suspended on
    ``as_of`` — ``requests``: the current row of each request (``case_number``, ``state``, ``received_on``,
    ``suspended_until``; null: until further notice), ``claims``: :data:`CLAIM_STATE`. The block holds from
    the day the Aussetzung came to ``suspended_until``; a later Änderung that resumes the request, or the
    day passing, ends it (the request's current row no longer says ``suspended``, or the day is past)."""
    held = requests.filter((pl.col("state") == ErsuchenState.SUSPENDED)
                           & (pl.col("suspended_until").is_null() | (pl.col("suspended_until") >= as_of)))
    out = _conform(claims, CLAIM_STATE).filter(~pl.col("closed").fill_null(False)).join(
        held.select("case_number", pl.col("received_on").alias("block_from"),
                    pl.col("suspended_until").alias("block_until")), on="case_number", how="inner")
    return _conform(out.with_columns(pl.lit(str(BlockReason.ADV)).alias("block_reason")), BLOCKS) \
        .sort("receivable_id")


__all__ = ["BLOCKS", "CHANGES", "CLAIM_STATE", "NEW_NOTICES", "OLD_NOTICES", "Amended", "amend_claims",
           "apply_changes", "close_request_claims", "suspension_blocks"]
