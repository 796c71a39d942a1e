"""Turn the extracted camt text fields into the canonical transaction columns (vectorised).

Decisions written down here (each has a test in ``tests/test_camt_rows.py``):

* **Sign and reversal.** ISO 20022 / DK: ``CdtDbtInd`` says how the entry was booked; ``RvslInd=true``
  only says that the booking undoes an earlier one (a reversed credit is booked as ``DBIT`` with
  ``RvslInd``). So ``amount_cents`` follows ``CdtDbtInd`` as booked (that is what the balances add up)
  and ``is_reversal`` is set; the sign is never flipped a second time.
* **Counterparty.** The debtor for a credit, the creditor for a debit, judged by the original
  direction (a reversal runs the other way). When the chosen party's account is the statement's own
  account (returns and reversals repeat the original parties), the other party is taken.
* **Detail amounts.** An entry with at most one ``TxDtls`` gives one row with the booked entry amount
  and sign (a lone detail's ``Amt`` is sometimes in another currency). A batch detail takes
  ``AmtDtls/TxAmt/Amt``, else its own ``Amt`` (v3+), and its own ``CdtDbtInd`` when it has one
  (camt.054 batches mix both), else the entry's.
* **Status.** ``Sts`` (or ``Sts/Cd``); missing -> BOOK with an issue (info in a camt.053, warning in
  camt.052/054). Only BOOK is ``booked``.
* **Codes.** A DK proprietary code ``NTRF+166+00931(+ext)`` gives swift_code, tx_code (the GVC),
  primanota and text_key_ext; otherwise tx_code is ``Domn/Fmly/SubFmly`` or the proprietary code.
  A detail's own ``BkTxCd`` wins over the entry's.
"""

from __future__ import annotations

import polars as pl

from parsers.camt_values import cents_expr, date_expr
from parsers.validity import compact_iban

RAW_CAP = 20_000
_DK_CODE = r"^([A-Z]{4})\+(\d{3})(?:\+([^+]*))?(?:\+([^+]*))?$"


def _sign(cdi: pl.Expr) -> pl.Expr:
    return pl.when(cdi == "CRDT").then(pl.lit(1, pl.Int64)).when(cdi == "DBIT").then(pl.lit(-1, pl.Int64))


def _codes() -> list[pl.Expr]:
    has_detail_code = pl.any_horizontal(
        pl.col(f"d_{p}").is_not_null() for p in ("domain", "family", "subfamily", "proprietary")
    )

    def pick(part: str) -> pl.Expr:
        return pl.when(has_detail_code).then(pl.col(f"d_{part}")).otherwise(pl.col(f"e_{part}"))

    domain = pl.when(pick("domain").is_not_null()).then(
        pl.concat_str([pick("domain"), pick("family"), pick("subfamily")], separator="/", ignore_nulls=True)
    )
    prop = pick("proprietary")
    dk = prop.str.extract_groups(_DK_CODE)
    gvc = dk.struct.field("2")
    return [
        pl.coalesce(gvc, domain, prop).alias("tx_code"),
        dk.struct.field("1").alias("swift_code"),
        pl.coalesce(domain, prop).alias("bank_tx_code"),
        pl.when(gvc.is_not_null()).then(dk.struct.field("3")).alias("primanota"),
        pl.when(gvc.is_not_null()).then(dk.struct.field("4")).alias("text_key_ext"),
    ]


def canonical_rows(rows: pl.DataFrame, statements: pl.DataFrame) -> pl.DataFrame:
    """Detail rows + per-statement columns (joined on ``stmt``) -> canonical and helper columns.

    Helper columns (prefix ``e_``/``d_``/``n_``, ``junk``) stay for the checks; ``conform`` drops them.
    """
    df = rows.join(statements, on="stmt", how="left", maintain_order="left")
    single = pl.col("n_tx") <= 1
    # one detail (or none): the booked entry amount and sign; batch details: their own amounts
    amount_text = pl.when(single).then(pl.col("e_amount")).otherwise(
        pl.coalesce(pl.col("d_tx_amount"), pl.col("d_amount"))
    )
    currency = pl.when(single).then(pl.col("e_currency")).otherwise(
        pl.coalesce(pl.col("d_tx_currency"), pl.col("d_currency"), pl.col("e_currency"))
    )
    d_sign = _sign(pl.when(single).then(pl.col("e_cdi")).otherwise(pl.coalesce(pl.col("d_cdi"), pl.col("e_cdi"))))
    reversal = pl.col("e_reversal").str.to_lowercase().is_in(["true", "1"]).fill_null(False)
    status = pl.col("e_status").str.to_uppercase().fill_null("BOOK")
    instructed = pl.coalesce(pl.col("d_instructed"), pl.when(single).then(pl.col("e_instructed")))
    instructed_ccy = pl.coalesce(pl.col("d_instructed_ccy"), pl.when(single).then(pl.col("e_instructed_ccy")))
    # original direction: a reversal undoes a booking in the other direction
    by_direction = (d_sign.fill_null(1) > 0) != reversal
    own = compact_iban(pl.col("account_iban"))
    debtor_is_own = compact_iban(pl.col("d_debtor_account")) == own
    creditor_is_own = compact_iban(pl.col("d_creditor_account")) == own
    use_debtor = (
        pl.when(by_direction & debtor_is_own.fill_null(False) & ~creditor_is_own.fill_null(False)).then(False)
        .when(~by_direction & creditor_is_own.fill_null(False) & ~debtor_is_own.fill_null(False)).then(True)
        .otherwise(by_direction)
    )

    def side(debtor: str, creditor: str) -> pl.Expr:
        return pl.when(use_debtor).then(pl.col(debtor)).otherwise(pl.col(creditor))

    e2e = pl.col("d_end_to_end")
    raw_len = pl.col("raw").str.len_chars()
    return df.with_columns(
        pl.col("e_amount").pipe(cents_expr).alias("e_cents"),
        amount_text.alias("amount_text"),
        (cents_expr(pl.col("e_amount")) * _sign(pl.col("e_cdi"))).alias("entry_amount_cents"),
        (cents_expr(amount_text) * d_sign).alias("amount_cents"),
        currency.alias("currency"),
        reversal.alias("is_reversal"),
        status.alias("status"),
        (status == "BOOK").alias("booked"),
        date_expr(pl.col("e_booking")).alias("booking_date"),
        date_expr(pl.col("e_value")).alias("value_date"),
        side("d_debtor", "d_creditor").alias("counterparty_name"),
        side("d_debtor_account", "d_creditor_account").alias("counterparty_iban"),
        side("d_debtor_bic", "d_creditor_bic").alias("counterparty_bic"),
        side("d_ultimate_debtor", "d_ultimate_creditor").alias("ultimate_party"),
        pl.col("d_remittance").alias("remittance"),
        pl.col("d_creditor_ref").alias("creditor_ref"),
        pl.when(e2e.str.to_uppercase() != "NOTPROVIDED").then(e2e).alias("end_to_end_id"),
        pl.col("d_payment_info").alias("customer_ref"),
        pl.col("d_mandate").alias("mandate_id"),
        pl.col("d_creditor_id").alias("creditor_id"),
        # a batch detail has its own AcctSvcrRef where the bank gives one (each payment of a Sammler
        # stays identifiable); a lone detail keeps the entry's, as the :61: //reference does in MT940
        pl.when(pl.col("n_tx") > 1).then(pl.coalesce("d_bank_ref", "e_bank_ref"))
        .otherwise(pl.coalesce("e_bank_ref", "d_bank_ref")).alias("bank_ref"),
        *_codes(),
        pl.col("e_info").alias("booking_text"),
        pl.col("d_return").alias("return_reason"),
        pl.coalesce(pl.col("d_charges"), pl.when(pl.col("detail_index") == 0).then(pl.col("e_charges")))
        .alias("charges_cents"),
        cents_expr(instructed).alias("original_amount_cents"),
        pl.when(instructed.is_not_null()).then(instructed_ccy).alias("original_currency"),
        pl.concat_str([pl.col("stmt_xpath"), pl.lit("/Ntry["), (pl.col("entry_index") + 1).cast(pl.String), pl.lit("]")])
        .alias("source_xpath"),
        (raw_len > RAW_CAP).alias("raw_capped"),
        raw_len.alias("raw_chars"),
    )


def cap_raw(rows: pl.DataFrame) -> pl.DataFrame:
    """Cut ``raw`` at :data:`RAW_CAP` characters with a note (only touches the column when needed)."""
    if not rows.get_column("raw_capped").any():
        return rows
    raw_len = pl.col("raw_chars")
    return rows.with_columns(
        pl.when(pl.col("raw_capped"))
        .then(pl.concat_str([pl.col("raw").str.slice(0, RAW_CAP), pl.lit("…[capped at 20000 of "),
                             raw_len.cast(pl.String), pl.lit(" characters; the file has the whole entry]")]))
        .otherwise(pl.col("raw"))
        .alias("raw")
    )
