"""The canonical frames every bank format becomes (DESIGN.md §3).

One place per boundary: the parsers produce frames with exactly these columns and dtypes, the
ledger's tables are created from them, and the tests assert them. Money is ``Int64`` cents
(signed: credit > 0), dates are ``Date``; every row carries its provenance.
"""

from __future__ import annotations

import polars as pl

#: One row per booked (or pending) entry; a batch entry with several ``TxDtls`` gives one row per
#: detail, all sharing ``entry_index`` and numbered by ``detail_index`` (0 for a plain entry).
TRANSACTION_SCHEMA: dict[str, pl.DataType] = {
    "transaction_id": pl.String(),       # stable id: sha256(account, statement_key, entry_index, detail_index)[:24]
    "tenant": pl.String(),
    "account_iban": pl.String(),          # the statement's account (IBAN, or BLZ/account as delivered)
    "statement_id": pl.String(),          # the statement's own id (:20: + :28C:, or Stmt/Id)
    "statement_key": pl.String(),         # account + statement number (+ page): what makes two deliveries the same
    "entry_index": pl.Int32(),            # ordinal of the entry in its statement, from 0
    "detail_index": pl.Int32(),           # ordinal of the TxDtls inside a batch entry, from 0
    "booking_date": pl.Date(),
    "value_date": pl.Date(),
    "amount_cents": pl.Int64(),           # signed: credit > 0, debit < 0; reversal sign already applied
    "currency": pl.String(),
    "entry_amount_cents": pl.Int64(),     # the whole entry's amount (equals amount_cents unless a batch detail)
    "is_reversal": pl.Boolean(),          # :61: RC/RD, camt RvslInd
    "status": pl.String(),                # BOOK | PDNG | INFO (MT942 rows are PDNG)
    "booked": pl.Boolean(),               # status == BOOK: only these count towards balances and matching
    "counterparty_name": pl.String(),
    "counterparty_iban": pl.String(),
    "counterparty_bic": pl.String(),
    "iban_valid": pl.Boolean(),           # schwifty's verdict on counterparty_iban (null when absent)
    "bic_valid": pl.Boolean(),            # schwifty's verdict on counterparty_bic (null when absent)
    "ultimate_party": pl.String(),        # ABWA+/ABWE+, camt UltmtDbtr/UltmtCdtr
    "remittance": pl.String(),            # SVWZ+ / Ustrd text joined as the bank meant it
    "creditor_ref": pl.String(),          # structured reference (camt Strd/CdtrRefInf/Ref, RF...)
    "end_to_end_id": pl.String(),         # EREF+ / EndToEndId (NOTPROVIDED -> null)
    "customer_ref": pl.String(),          # KREF+ / PmtInfId, or :61: customer reference when not NONREF
    "mandate_id": pl.String(),            # MREF+ / MndtId
    "creditor_id": pl.String(),           # CRED+ / Cdtr Id
    "bank_ref": pl.String(),              # :61: reference after //, camt AcctSvcrRef
    "tx_code": pl.String(),               # GVC (3 digits) for MT940 and DK camt; else Domn/Fmly/SubFmly
    "swift_code": pl.String(),            # :61: booking key (NTRF, NDDT...) or camt Prtry SWIFT part
    "bank_tx_code": pl.String(),          # camt BkTxCd as delivered (Domn/Fmly/SubFmly or Prtry Cd)
    "booking_text": pl.String(),          # ?00 / AddtlNtryInf
    "primanota": pl.String(),             # ?10
    "text_key_ext": pl.String(),          # ?34 (return reason 9xx, or sequence type 990-993)
    "return_reason": pl.String(),         # RtrInf/Rsn/Cd, or ?34-derived / SVWZ-derived code
    "charges_cents": pl.Int64(),          # /CHGS/ or camt Chrgs (positive number)
    "original_amount_cents": pl.Int64(),  # /OCMT/, OAMT+, camt InstdAmt/TxAmt
    "original_currency": pl.String(),
    "source_format": pl.String(),         # mt940 | mt942 | camt.052 | camt.053 | camt.054
    "source_file": pl.String(),           # SHA-256 of the file's bytes
    "source_path": pl.String(),
    "source_line": pl.Int32(),            # MT940: line of the :61:; camt: null
    "source_xpath": pl.String(),          # camt: path of the Ntry (with positions); MT940: null
    "raw": pl.String(),                   # the entry as delivered (:61: + :86: text, or the Ntry XML)
}

#: One row per statement (MT940 :20: block, camt Stmt/Rpt/Ntfctn).
STATEMENT_SCHEMA: dict[str, pl.DataType] = {
    "tenant": pl.String(),
    "account_iban": pl.String(),
    "currency": pl.String(),
    "statement_id": pl.String(),
    "statement_key": pl.String(),
    "statement_no": pl.String(),          # as delivered: :28C: "00004/001", ElctrncSeqNb, LglSeqNb
    "sequence_no": pl.Int64(),            # the number part used for the gap check (null if none)
    "page_no": pl.Int64(),                # :28C: page part (null if none)
    "kind": pl.String(),                  # statement | report | notification | interim (MT942)
    "first_booking_date": pl.Date(),
    "last_booking_date": pl.Date(),
    "opening_date": pl.Date(),
    "opening_cents": pl.Int64(),          # null when the format has no balances (camt.054, MT942)
    "closing_date": pl.Date(),
    "closing_cents": pl.Int64(),
    "entries_sum_cents": pl.Int64(),      # sum of booked entries' amounts (entry level, not details)
    "n_entries": pl.Int32(),              # entries (not details), booked or not
    "n_details": pl.Int32(),              # rows in transactions for this statement
    "balance_ok": pl.Boolean(),           # opening + entries == closing (null when no balances)
    "statement_index": pl.Int32(),        # ordinal of the statement in its file
    "source_format": pl.String(),
    "source_file": pl.String(),
    "source_path": pl.String(),
}

#: One row per finding (error or warning), DESIGN: errors as data with their source position.
ISSUE_SCHEMA: dict[str, pl.DataType] = {
    "source_path": pl.String(),
    "locator": pl.String(),               # "line 17 :61:" or an XPath, or "" for the whole file
    "severity": pl.String(),              # error | warning | info
    "code": pl.String(),                  # stable, dotted: mt940.balance_mismatch, file.not_a_statement
    "message": pl.String(),
    "raw": pl.String(),
}


def empty(schema: dict[str, pl.DataType]) -> pl.DataFrame:
    """An empty frame with the given schema."""
    return pl.DataFrame(schema=schema)


def conform(df: pl.DataFrame, schema: dict[str, pl.DataType]) -> pl.DataFrame:
    """Return ``df`` with exactly the columns of ``schema`` in order (missing ones as nulls).

    Casting is strict: a column that cannot be cast is a bug in the producer, not bad input.
    """
    cols = []
    for name, dtype in schema.items():
        if name in df.columns:
            cols.append(pl.col(name).cast(dtype, strict=True))
        else:
            cols.append(pl.lit(None, dtype=dtype).alias(name))
    return df.select(cols)


def assert_schema(df: pl.DataFrame, schema: dict[str, pl.DataType], what: str) -> None:
    """Raise ``AssertionError`` if ``df`` does not have exactly ``schema`` (our own hand-off)."""
    got = dict(df.schema)
    if list(got) != list(schema) or any(got[k] != v for k, v in schema.items()):
        diff = {k: (got.get(k), schema.get(k)) for k in set(got) | set(schema) if got.get(k) != schema.get(k)}
        raise AssertionError(f"{what}: schema differs from contract: {diff}")
