"""Which claims a collection date collects, and why the others are left out.

:func:`select_collections` takes the claims (CLAIM_SCHEMA), the mandate register with its state on the
collection date (:func:`collection.mandates.mandate_states`) and the collection record, and gives

* ``selected`` (SELECTED_SCHEMA): one row per claim to present — amount = the open amount, the sequence
  type from the mandate, an ``end_to_end_id`` and a remittance text;
* ``skipped`` (receivable_id, reason, mandate_reason): every claim naming a mandate that is not collected,
  with the first :class:`~claims.vocab.CollectSkip` that applies (claims without a mandate are counted as
  ``no_mandate`` too, so the run's figures add up).

The rules, in this order: the claim names a mandate; it is the tenant's own (an Amtshilfe claim is not
collected under our creditor id); the mandate is active (not refused, blocked or expired); the claim
carries no block reason (Stundung, Insolvenz, Ratenzahlung …: ``dunning_block_until``, a Mahnsperre, is
*not* a collection block); the open amount is > 0; its collection date (due date moved to the next
TARGET2 day) is on or before the collection date and at most ``due_window_days`` before it (older claims
are left to dunning); the notice that pre-notified the collection (``notice_date``, when the export has
it) came at least ``prenotice_days`` before; and it was not collected before — unless every earlier
collection came back, the last with a ``retry_once`` reason, and only one was made (one retry).

**End-to-end id**: ``KZ<Kassenzeichen digits>-<collection date yyyymmdd>``, with ``-<n>`` when several
claims of one Kassenzeichen are collected the same day (numbered by receivable_id, so a rerun gives the
same ids): letters, digits and hyphens only (the SEPA id charset), at most 35 characters, unique per
collection and readable back to the Kassenzeichen. The collection date, not the due date, is in it, so a
retried collection gets a new id. A Kassenzeichen too long for it is skipped (``reference_too_long``).
The remittance (``Ustrd``) carries the Kassenzeichen as printed, the claim type and the due date.
"""

from __future__ import annotations

from datetime import date

import polars as pl

from claims.config import CollectionSection
from claims.vocab import CollectSkip, MandateState, ReturnAction
from collection.dates import collection_date_expr, prenotice_deadline
from collection.mandates import return_action_expr

#: The SEPA limit of an end-to-end id.
MAX_E2E = 35
#: Room for the Kassenzeichen in it: 35 − "KZ" − "-yyyymmdd" − "-nnn".
MAX_KZ = MAX_E2E - 2 - 9 - 4

#: One claim to present on the collection date (the pain.008 writer's input).
SELECTED_SCHEMA: dict[str, pl.DataType] = {
    "tenant": pl.String(),
    "receivable_id": pl.String(),
    "kassenzeichen": pl.String(),
    "debtor_id": pl.String(),
    "debtor_name": pl.String(),
    "debtor_iban": pl.String(),
    "debtor_bic": pl.String(),
    "mandate_id": pl.String(),
    "mandate_date": pl.Date(),
    "sequence_type": pl.String(),         # claims.vocab.SequenceType
    "amendment_pending": pl.Boolean(),    # report the Mandatsänderung (original_iban) in this collection
    "original_iban": pl.String(),
    "claim_type": pl.String(),
    "due_date": pl.Date(),
    "collection_date": pl.Date(),
    "prenotice_date": pl.Date(),          # the notice that printed due date and amount (null: not exported)
    "amount_cents": pl.Int64(),
    "end_to_end_id": pl.String(),
    "remittance": pl.String(),
}

SKIPPED_SCHEMA: dict[str, pl.DataType] = {
    "tenant": pl.String(),
    "receivable_id": pl.String(),
    "mandate_id": pl.String(),
    "reason": pl.String(),                # claims.vocab.CollectSkip
    "mandate_reason": pl.String(),        # the mandate's state_reason when the mandate is the cause
}


def _history(collected: pl.DataFrame, returned: pl.DataFrame, settings: CollectionSection) -> pl.LazyFrame:
    """Per receivable: attempts made, whether all came back, and whether the last return allows a retry."""
    back = returned.lazy().select("tenant", "end_to_end_id", "return_date", "reason_code").with_columns(
        return_action_expr(settings).alias("action"))
    return (
        collected.lazy().select("tenant", "receivable_id", "end_to_end_id", "collection_date")
        .join(back, on=["tenant", "end_to_end_id"], how="left")
        .sort("collection_date", "end_to_end_id")
        .group_by("tenant", "receivable_id").agg(
            pl.len().alias("attempts"),
            pl.col("return_date").is_not_null().all().alias("all_back"),
            pl.col("action").last().alias("last_action"),
        )
    )


def select_collections(claims: pl.DataFrame | pl.LazyFrame, mandates: pl.DataFrame, collected: pl.DataFrame,
                       returned: pl.DataFrame, *, collection_date: date, settings: CollectionSection
                       ) -> tuple[pl.DataFrame, pl.DataFrame]:
    """``(selected, skipped)`` for ``collection_date`` (see the module docstring). ``mandates``: the
    register with its state on ``collection_date``; ``collected``/``returned``: the collection record."""
    lf = claims.lazy()
    have = lf.collect_schema()
    notice = pl.col("notice_date") if "notice_date" in have else pl.lit(None, pl.Date())
    block = pl.col("block_reason") if "block_reason" in have else pl.lit(None, pl.String())
    origin = pl.col("origin") if "origin" in have else pl.lit("export")
    c = lf.select(
        "tenant", "receivable_id", "kassenzeichen", "kz_norm", "debtor_id", "claim_type", "amount_cents", "due_date",
        pl.col("mandate_id").str.strip_chars().replace("", None).alias("mandate_id"),
        notice.alias("prenotice_date"), block.alias("block_reason"), origin.alias("origin"),
    )
    c = collection_date_expr(c, "due_date", "collect_on")
    m = mandates.lazy().select("tenant", "mandate_id", "mandate_date", "debtor_name", "debtor_iban", "debtor_bic",
                               "state", "state_reason", "next_sequence", "amendment_pending", "original_iban")
    h = _history(collected, returned, settings)
    j = c.join(m, on=["tenant", "mandate_id"], how="left").join(h, on=["tenant", "receivable_id"], how="left")
    oldest = collection_date.toordinal() - settings.due_window_days
    retry = pl.col("all_back") & (pl.col("last_action") == ReturnAction.RETRY_ONCE) & (pl.col("attempts") == 1)
    reason = (
        pl.when(pl.col("mandate_id").is_null()).then(pl.lit(CollectSkip.NO_MANDATE))
        .when(pl.col("origin") == "amtshilfe").then(pl.lit(CollectSkip.FOREIGN_CREDITOR))
        .when(pl.col("state").is_null() | (pl.col("state") == MandateState.REFUSED)).then(pl.lit(CollectSkip.MANDATE_REFUSED))
        .when(pl.col("state") == MandateState.BLOCKED).then(pl.lit(CollectSkip.MANDATE_BLOCKED))
        .when(pl.col("state") == MandateState.EXPIRED).then(pl.lit(CollectSkip.MANDATE_EXPIRED))
        .when(pl.col("block_reason").str.strip_chars().str.len_chars() > 0).then(pl.lit(CollectSkip.CLAIM_BLOCKED))
        .when(pl.col("amount_cents") <= 0).then(pl.lit(CollectSkip.NOTHING_OPEN))
        .when(pl.col("collect_on") > pl.lit(collection_date)).then(pl.lit(CollectSkip.NOT_DUE))
        .when(pl.col("collect_on") < pl.lit(date.fromordinal(oldest))).then(pl.lit(CollectSkip.OVERDUE))
        .when(pl.col("prenotice_date") > pl.lit(prenotice_deadline(collection_date, settings.prenotice_days)))
        .then(pl.lit(CollectSkip.PRENOTICE_LATE))
        .when(pl.col("attempts").is_not_null() & ~pl.col("all_back")).then(pl.lit(CollectSkip.ALREADY_COLLECTED))
        .when(pl.col("attempts").is_not_null() & ~retry).then(pl.lit(CollectSkip.RETURNED))
        .when(pl.col("kz_norm").str.len_chars() > MAX_KZ).then(pl.lit(CollectSkip.REFERENCE_TOO_LONG))
    )
    mandate_causes = [CollectSkip.MANDATE_REFUSED, CollectSkip.MANDATE_BLOCKED, CollectSkip.MANDATE_EXPIRED]
    j = j.with_columns(reason.alias("reason")).with_columns(
        pl.when(pl.col("reason").is_in(mandate_causes)).then(pl.coalesce("state_reason", pl.lit("unknown_mandate")))
        .alias("mandate_reason"))
    skipped = j.filter(pl.col("reason").is_not_null()).select(list(SKIPPED_SCHEMA)).sort("tenant", "receivable_id").collect()
    day = collection_date.strftime("%Y%m%d")
    sel = (
        j.filter(pl.col("reason").is_null())
        .with_columns(
            pl.len().over("tenant", "kz_norm").alias("_n"),
            pl.col("receivable_id").rank("ordinal").over("tenant", "kz_norm").alias("_i"),
        )
        .with_columns(
            pl.concat_str(pl.lit("KZ"), "kz_norm", pl.lit(f"-{day}"),
                          pl.when(pl.col("_n") > 1).then(pl.format("-{}", "_i")).otherwise(pl.lit(""))).alias("end_to_end_id"),
            pl.concat_str(pl.lit("Kassenzeichen "), "kassenzeichen", pl.lit(" "), "claim_type",
                          pl.lit(" Faelligkeit "), pl.col("due_date").dt.strftime("%d.%m.%Y"), ignore_nulls=True)
            .str.slice(0, 140).alias("remittance"),
            pl.col("next_sequence").alias("sequence_type"),
            pl.lit(collection_date).alias("collection_date"),
        )
        .select([pl.col(k).cast(v) for k, v in SELECTED_SCHEMA.items()])
        .sort("tenant", "receivable_id")
        .collect()
    )
    return sel, skipped


__all__ = ["MAX_E2E", "SELECTED_SCHEMA", "SKIPPED_SCHEMA", "select_collections"]
