"""Back in the nightly run: the day's batch credits and returns of our own collections, before the matcher.

The collection record (ledger ``collections``, read by the read_ledger step into ``collect_*`` frames)
says which bank rows are ours: a credit naming one of our PmtInfIds/MsgIds (``customer_ref``, else the
texts) and a return naming one of our end-to-end ids, or our mandate with the collected amount
(:mod:`collection.returns`). Those rows are settled here and taken out of what the matcher sees, so the
matcher's own return handling by Kassenzeichen (``matching/returns.py``) never reverses a direct-debit
allocation a second time. Everything else goes to the matcher unchanged.

What comes out is booked in the night's one transaction with the rest: allocations (``direct_debit`` per
collected claim; ``dd_return`` reversals, negative, which reopen the claim — its due date is the original
one, the claim row is not touched), ``collection_returns`` rows (reason code; the next collection's
selection reads them to block the mandate or retry once), the return-fee claims where the tenant charges
them, and held rows for the Klärungsliste (CollectionHold / return reasons).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

import polars as pl

from claims.claim import CLAIM_SCHEMA
from claims.config import CollectionSection
from collection.return_codes import iso_reason_expr, return_code_table
from collection.returns import CREDIT_SCHEMA, RETURN_SCHEMA, apply_returns, break_down_batches
from ledger.collection_state import CollectionState
from matching.schema import UNRESOLVED_SCHEMA


@dataclass(frozen=True, slots=True)
class Back:
    """What the day's own collection rows give (see the module docstring)."""

    rest: pl.DataFrame          # the transactions left to the matcher (input columns)
    allocations: pl.DataFrame   # collection.returns.ALLOCATION_COLUMNS: direct_debit and dd_return rows
    returned: pl.DataFrame      # RETURNED_SCHEMA, for ``collection_returns``
    fees: pl.DataFrame          # CLAIM_SCHEMA + parent_receivable_id: return fees charged to debtors
    held: pl.DataFrame          # UNRESOLVED_SCHEMA: our rows held for a clerk


def _credits(tx: pl.DataFrame) -> pl.DataFrame:
    return tx.filter(pl.col("booked").fill_null(False) & (pl.col("amount_cents") > 0)).select(
        "tenant", "transaction_id", "bank_ref", "booking_date", "amount_cents",
        pl.col("customer_ref").alias("batch_ref"), "remittance").cast(CREDIT_SCHEMA)  # type: ignore[arg-type]


def _returns(tx: pl.DataFrame) -> pl.DataFrame:
    return tx.filter(pl.col("booked").fill_null(False) & (pl.col("amount_cents") < 0)
                     & pl.col("return_reason").is_not_null()).select(
        "tenant", "transaction_id", "bank_ref", "booking_date", "amount_cents",
        pl.col("return_reason").alias("reason_code"), "end_to_end_id", "mandate_id", "original_amount_cents",
        pl.col("charges_cents").alias("fee_cents")).cast(RETURN_SCHEMA)  # type: ignore[arg-type]


def iso_reasons(tx: pl.DataFrame, settings: CollectionSection) -> pl.DataFrame:
    """``tx`` with ``return_reason`` as ISO code (MT940 ``?34`` numbers by the tenant's table)."""
    if tx.is_empty() or tx["return_reason"].null_count() == tx.height:
        return tx
    return tx.with_columns(iso_reason_expr("return_reason", return_code_table(settings.mt940_return_codes)))


def take_back(tx: pl.DataFrame, own: CollectionState, prior: pl.DataFrame, *,
              settings: CollectionSection) -> Back:
    """Split ``tx`` (TRANSACTION_SCHEMA) into our collection rows, settled, and the rest for the matcher.
    ``prior``: the allocations booked before (rule, receivable_id, amount_cents). An MT940 ``?34`` number
    in ``return_reason`` becomes its ISO code first (:mod:`collection.return_codes`), for every row."""
    tx = iso_reasons(tx, settings)
    if own.collected.is_empty() or tx.is_empty():
        return Back(tx, *_empty(own))
    allocations, held_batch, unknown = break_down_batches(_credits(tx), own.collected, prior)
    rets = _returns(tx)
    out = apply_returns(rets, own.collected, own.returned, own.claims, settings=settings)
    # a return held as unmatched is ours only when it names one of our end-to-end ids; else the matcher's
    ours = own.collected["end_to_end_id"].implode()
    named = rets.filter(pl.col("end_to_end_id").is_in(ours))["transaction_id"].implode()
    held_back = out.held.filter((pl.col("reason") != "return_unmatched") | pl.col("transaction_id").is_in(named))
    credit_ids = _credits(tx).join(unknown.select("transaction_id"), on="transaction_id", how="anti")["transaction_id"]
    taken = pl.concat([credit_ids, out.returned["transaction_id"], held_back["transaction_id"]]).unique()
    held_ids = pl.concat([held_batch, held_back.cast(held_batch.schema)])
    held = (tx.join(held_ids, on="transaction_id").select(
        "transaction_id", "bank_ref", "booking_date", "amount_cents",
        pl.col("amount_cents").alias("unallocated_cents"), "reason",
        pl.lit(None, pl.String()).alias("candidates")).cast(UNRESOLVED_SCHEMA))  # type: ignore[arg-type]
    return Back(rest=tx.filter(~pl.col("transaction_id").is_in(taken.implode())),
                allocations=pl.concat([allocations, out.reversals]), returned=out.returned, fees=out.fees,
                held=held)


def _empty(own: CollectionState) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame, pl.DataFrame]:
    from collection.returns import ALLOCATION_COLUMNS

    return (pl.DataFrame(schema=ALLOCATION_COLUMNS), own.returned.clear(),
            pl.DataFrame(schema={**CLAIM_SCHEMA, "parent_receivable_id": pl.String()}),
            pl.DataFrame(schema=UNRESOLVED_SCHEMA))


def fee_claims(fees: pl.DataFrame, *, tenant: str, run_id: str) -> pl.DataFrame:
    """The return-fee claims as rows of ledger ``claims`` (our own claims)."""
    return fees.with_columns(pl.lit(tenant).alias("tenant"), pl.lit(run_id).alias("run_id"),
                             pl.lit(datetime.now(UTC)).alias("created_at"))
