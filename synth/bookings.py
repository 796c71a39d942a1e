"""The booking frame: one row per bank transaction, the common input of the MT940 and camt writers.

Rows sharing ``entry_no`` form one bank entry (a camt ``Ntry`` with several ``TxDtls``, e.g. the
Sammler of one day's direct-debit collections); the MT940 writer books every row as its own ``:61:``.
"""

from __future__ import annotations

import dataclasses
from datetime import date, timedelta

import polars as pl

BOOKING_SCHEMA: dict[str, pl.DataType] = {
    "entry_no": pl.Int64(),        # rows with the same number are one bank entry (camt batch)
    "booking_date": pl.Date(),
    "value_date": pl.Date(),
    "amount_cents": pl.Int64(),    # signed: credit to the treasury > 0
    "bank_ref": pl.String(),       # MT940 ``//ref``; camt TxDtls/Refs/AcctSvcrRef (and Ntry/AcctSvcrRef if single)
    "entry_ref": pl.String(),      # camt Ntry/AcctSvcrRef (the batch's own reference for a Sammler)
    "swift_code": pl.String(),     # NTRF, NDDT, NRTI, NCHG, NMSC
    "gvc": pl.String(),            # DK Geschäftsvorfallcode, 3 digits
    "booking_text": pl.String(),   # ?00 / AddtlNtryInf
    "primanota": pl.String(),      # ?10 / third element of BkTxCd/Prtry/Cd
    "domain": pl.String(),         # camt BkTxCd/Domn/Cd, e.g. PMNT
    "family": pl.String(),         # e.g. RCDT
    "subfamily": pl.String(),      # e.g. ESCT
    "eref": pl.String(),           # EREF+ / EndToEndId
    "kref": pl.String(),           # KREF+ / PmtInfId
    "mref": pl.String(),           # MREF+ / MndtId
    "cred": pl.String(),           # CRED+ (creditor id of a direct debit)
    "svwz": pl.String(),           # SVWZ+ / RmtInf/Ustrd (≤ 140 characters)
    "abwa": pl.String(),           # ABWA+ / UltmtDbtr (a different originator, e.g. the tenant paid for)
    "cp_name": pl.String(),        # counterparty name (?32/?33, Dbtr or Cdtr Nm)
    "cp_iban": pl.String(),
    "cp_bic": pl.String(),
    "return_code": pl.String(),    # MT940 ?34 Textschlüsselergänzung, e.g. "901"
    "return_reason": pl.String(),  # camt RtrInf/Rsn/Cd, e.g. MD06
    "cdtr_ref": pl.String(),       # camt RmtInf/Strd/CdtrRefInf/Ref (an ISO 11649 RF reference); MT940 has none
    "fee_cents": pl.Int64(),       # the bank's charge inside a debit (a return): MT940 COAM+ (and OAMT+ the
                                   # amount without it), camt TxDtls/Chrgs
}


@dataclasses.dataclass(frozen=True)
class Account:
    """One bank account of the treasury and the bank that keeps it."""

    bank: str          # short name used for the folder, e.g. "sparkasse"
    bank_name: str
    blz: str
    bic: str
    iban: str
    owner: str


@dataclasses.dataclass(frozen=True)
class StatementHeader:
    """What a statement says besides its entries: number, date and opening balance."""

    account: Account
    number: int            # :28C: / ElctrncSeqNb, consecutive per account and year
    statement_date: date
    opening_cents: int
    reference: str         # :20: / Stmt/Id


def conform_bookings(frame: pl.DataFrame) -> pl.DataFrame:
    """Add missing booking columns as nulls and order and cast them as :data:`BOOKING_SCHEMA`."""
    cols = [
        (pl.col(name) if name in frame.columns else pl.lit(None)).cast(dtype).alias(name)
        for name, dtype in BOOKING_SCHEMA.items()
    ]
    return frame.select(cols)


def decimal_comma(cents: pl.Expr) -> pl.Expr:
    """Absolute amount in cents as ``1234,56`` (MT940 style)."""
    a = cents.abs()
    return pl.concat_str((a // 100).cast(pl.String), pl.lit(","), (a % 100).cast(pl.String).str.zfill(2))


def decimal_point(cents: pl.Expr) -> pl.Expr:
    """Absolute amount in cents as ``1234.56`` (XML style)."""
    a = cents.abs()
    return pl.concat_str((a // 100).cast(pl.String), pl.lit("."), (a % 100).cast(pl.String).str.zfill(2))


def cents_text(cents: int, sep: str = ",") -> str:
    """One absolute amount in cents as text with ``sep`` as decimal mark."""
    a = abs(cents)
    return f"{a // 100}{sep}{a % 100:02d}"


def business_days(start: date, count: int) -> list[date]:
    """``count`` booking days from ``start`` on (Monday to Friday)."""
    out: list[date] = []
    d = start
    while len(out) < count:
        if d.weekday() < 5:
            out.append(d)
        d += timedelta(days=1)
    return out
