"""Back in the nightly run: our payouts on the statement — the outgoing transfer booked, or returned.

After the collections' rows (``jobs/nightly/collection_back.py``) and before the matcher, the night's
bank rows meet the payout record (ledger ``payouts``, read by the read_ledger step into ``payout_*``
frames, ``ledger/payout_back_state.py``):

* a booked debit naming one of our payouts (end-to-end id, else PmtInfId/MsgId) of the right amount is
  the bank booking it: a ``payout_bookings`` row per payout; of another amount, or a second debit for a
  booked payout: held in the Klärungsliste (``PayoutHold``);
* a booked credit with a return reason naming one of our payouts (end-to-end id, else the payee IBAN and
  the amount) is the transfer coming back: a ``payout_returns`` row (the refund reopened, waiting for a new
  IBAN) and a ``payee_blocks`` row (that IBAN is never paid to again until a clerk lifts the block); of
  another amount, or a second return: held.

The rows settled or held here are **taken out of what the matcher sees**: a returned transfer is a credit
and would otherwise be matched as a payment. Everything else goes on unchanged. The reason code is ISO
already (``collection_back.iso_reasons`` turned MT940 ``?34`` numbers into codes for every row).
"""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

from collection.payout_back import (
    BLOCK_SCHEMA,
    BOOKING_SCHEMA,
    PAYOUT_RETURN_SCHEMA,
    TX_COLUMNS,
    book_outgoing,
    take_returns,
)
from ledger.payout_back_state import PayoutBackState
from matching.schema import UNRESOLVED_SCHEMA

#: MT940/DK GVCs of a returned credit transfer (DOMAIN.md §3.3: 159 SEPA, 160 SEPA Instant).
RETURN_TRANSFER_GVCS = ("159", "160")


@dataclass(frozen=True, slots=True)
class PayBack:
    """What the day's payout rows give (see the module docstring)."""

    rest: pl.DataFrame          # the transactions left to the matcher (input columns)
    bookings: pl.DataFrame      # BOOKING_SCHEMA, for ``payout_bookings``
    returned: pl.DataFrame      # PAYOUT_RETURN_SCHEMA, for ``payout_returns``
    blocks: pl.DataFrame        # BLOCK_SCHEMA, for ``payee_blocks`` (IBANs not blocked before)
    held: pl.DataFrame          # UNRESOLVED_SCHEMA: our rows held for a clerk


def _booked(tx: pl.DataFrame) -> pl.Expr:
    return pl.col("booked").fill_null(False)


def take_payouts(tx: pl.DataFrame, own: PayoutBackState) -> PayBack:
    """Split ``tx`` (TRANSACTION_SCHEMA) into our payout rows, settled or held, and the rest."""
    if own.paid.is_empty() or tx.is_empty():
        return PayBack(tx, pl.DataFrame(schema=BOOKING_SCHEMA), pl.DataFrame(schema=PAYOUT_RETURN_SCHEMA),
                       pl.DataFrame(schema=BLOCK_SCHEMA), pl.DataFrame(schema=UNRESOLVED_SCHEMA))
    booked = _booked(tx)
    debits = tx.filter(booked & (pl.col("amount_cents") < 0) & pl.col("return_reason").is_null()).select(TX_COLUMNS)
    # a return credit: camt RtrInf / MT940 ?34 of GVC 159/160 — or GVC 159/160 without a ?34 (reason unknown)
    is_return = pl.col("return_reason").is_not_null() | pl.col("tx_code").is_in(RETURN_TRANSFER_GVCS).fill_null(False)
    credits = tx.filter(booked & (pl.col("amount_cents") > 0) & is_return).select(TX_COLUMNS)
    out = book_outgoing(debits, own.paid, own.bookings)
    back = take_returns(credits, own.paid, own.returned)
    # an IBAN blocked before stays blocked from its first return: no second row
    blocks = back.blocks.join(own.blocks.select("tenant", "iban"), on=["tenant", "iban"], how="anti")
    held_ids = pl.concat([out.held, back.held])
    taken = pl.concat([out.taken["transaction_id"], back.returned["transaction_id"], held_ids["transaction_id"]])
    held = (tx.join(held_ids, on="transaction_id").select(
        "transaction_id", "bank_ref", "booking_date", "amount_cents",
        pl.col("amount_cents").alias("unallocated_cents"), "reason",
        pl.lit(None, pl.String()).alias("candidates")).cast(UNRESOLVED_SCHEMA))  # type: ignore[arg-type]
    return PayBack(rest=tx.filter(~pl.col("transaction_id").is_in(taken.unique().implode())),
                   bookings=out.bookings, returned=back.returned, blocks=blocks, held=held)
