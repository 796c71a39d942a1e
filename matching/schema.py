"""Frames at the matching boundary (DESIGN.md §3): open items in (``claims.claim.OPEN_ITEM_SCHEMA``),
allocations and unresolved out."""

from __future__ import annotations

import polars as pl

#: The open-item columns matching reads (the others are carried by the ledger, not by a match).
ITEM_COLUMNS = ("receivable_id", "kassenzeichen", "kz_norm", "debtor_id", "debtor_name", "debtor_iban", "claim_type",
                "amount_cents", "due_date", "external_ref", "law")

#: One row per (payment, open item) that matching decided.
ALLOCATION_SCHEMA: dict[str, pl.DataType] = {
    "transaction_id": pl.String(),
    "bank_ref": pl.String(),
    "receivable_id": pl.String(),
    "kassenzeichen": pl.String(),
    "amount_cents": pl.Int64(),           # > 0 for a payment; < 0 for a reversal (direct-debit return)
    "rule": pl.String(),                  # e.g. reference.exact, reference.typo, iban_amount, order.ao225
    "confidence": pl.Float64(),           # a score for people, never used to decide money
    "decided_by": pl.String(),            # auto | clerk id
    "booking_date": pl.Date(),
}

#: One row per payment (or remainder of one) that is not booked automatically.
UNRESOLVED_SCHEMA: dict[str, pl.DataType] = {
    "transaction_id": pl.String(),
    "bank_ref": pl.String(),
    "booking_date": pl.Date(),
    "amount_cents": pl.Int64(),
    "unallocated_cents": pl.Int64(),
    "reason": pl.String(),                # stable code: no_reference, ambiguous, overpayment, double_payment...
    "candidates": pl.String(),            # JSON list of up to 3 {receivable_id, kassenzeichen, amount_cents, score, why}
}
