"""Which bank rows are payments, and in which order they are processed.

Only booked credits are payments; booked direct-debit returns (debits) reverse earlier allocations;
everything else (pending rows, bank fees and interest GVC 8xx, other debits, zero amounts) is skipped
and counted in the summary by reason — never dropped silently.
"""

from __future__ import annotations

import polars as pl

from claims.vocab import TxKind
from matching.config import MatchConfig

PAYMENT = TxKind.PAYMENT
RETURN = TxKind.RETURN
SKIP_REASONS = TxKind.skipped()
#: The transaction columns matching reads: only these are carried (and sorted) through a run.
COLUMNS = (
    "transaction_id", "booking_date", "bank_ref", "amount_cents", "original_amount_cents", "charges_cents", "booked", "tx_code",
    "return_reason", "counterparty_name", "counterparty_iban", "ultimate_party", "remittance", "end_to_end_id",
    "creditor_ref",
)


def classify(tx: pl.DataFrame, cfg: MatchConfig) -> pl.DataFrame:
    """The :data:`COLUMNS` of ``tx`` with ``kind`` (payment | return | a skip reason) and ``seq``
    (processing order, from 0), rows in their input order.

    The order is booking date, then bank_ref, then transaction_id: independent of file order. (Only the
    order is sorted, not the rows: moving every text of a million rows costs more than all that reads it.)
    """
    code = pl.col("tx_code").fill_null("")
    fee = pl.any_horizontal([code.str.starts_with(p) for p in cfg.skip_tx_codes]) if cfg.skip_tx_codes else pl.lit(False)
    is_return = code.is_in(list(cfg.return_tx_codes)) | pl.col("return_reason").is_not_null()
    kind = (
        pl.when(~pl.col("booked").fill_null(False)).then(pl.lit(TxKind.PENDING))
        .when(fee).then(pl.lit(TxKind.BANK_FEE))
        .when(pl.col("amount_cents") < 0).then(pl.when(is_return).then(pl.lit(RETURN)).otherwise(pl.lit(TxKind.DEBIT)))
        .when(pl.col("amount_cents") == 0).then(pl.lit(TxKind.ZERO_AMOUNT))
        .otherwise(pl.lit(PAYMENT))
    )
    order = pl.arg_sort_by(["booking_date", "bank_ref", "transaction_id"], nulls_last=True)
    return tx.select(order.arg_sort().alias("seq"), *COLUMNS, kind.alias("kind"))
