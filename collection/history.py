"""The collection record: what was collected and what came back, as the pure layer reads it.

The ledger will keep these as tables (the wiring comes in a later slice); here they are frames the
functions of :mod:`collection.mandates`, :mod:`collection.select` and :mod:`collection.returns` take and
give. One row of :data:`COLLECTED_SCHEMA` per claim presented in a pain.008 file; one row of
:data:`RETURNED_SCHEMA` per return matched to such a row.
"""

from __future__ import annotations

import polars as pl

#: One claim presented for collection (a ``DrctDbtTxInf`` of a pain.008 file).
COLLECTED_SCHEMA: dict[str, pl.DataType] = {
    "tenant": pl.String(),
    "message_id": pl.String(),            # GrpHdr/MsgId of the file
    "pmtinf_id": pl.String(),             # PmtInf/PmtInfId: the bank credits a PmtInf as one batch entry
    "end_to_end_id": pl.String(),         # unique per collection, traceable to the Kassenzeichen
    "receivable_id": pl.String(),
    "kassenzeichen": pl.String(),
    "debtor_id": pl.String(),
    "mandate_id": pl.String(),
    "debtor_iban": pl.String(),
    "sequence_type": pl.String(),         # claims.vocab.SequenceType
    "collection_date": pl.Date(),         # ReqdColltnDt
    "due_date": pl.Date(),                # the claim's own due date: a return reopens the claim with it
    "amount_cents": pl.Int64(),           # > 0
}

#: One return matched to a collection (``collection.returns.apply_returns`` gives them).
RETURNED_SCHEMA: dict[str, pl.DataType] = {
    "tenant": pl.String(),
    "end_to_end_id": pl.String(),
    "receivable_id": pl.String(),
    "mandate_id": pl.String(),
    "reason_code": pl.String(),           # ISO ExternalReturnReason, e.g. AC04, MS03
    "return_date": pl.Date(),             # the booking date of the return
    "amount_cents": pl.Int64(),           # the collected amount that came back (> 0)
    "transaction_id": pl.String(),        # the bank entry of the return
}


def empty(schema: dict[str, pl.DataType]) -> pl.DataFrame:
    """An empty frame of ``schema`` (no history yet)."""
    return pl.DataFrame(schema=schema)


__all__ = ["COLLECTED_SCHEMA", "RETURNED_SCHEMA", "empty"]
