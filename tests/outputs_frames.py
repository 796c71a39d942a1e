"""Small literal frames for the outputs tests: statements, transactions, unresolved, allocations."""

from __future__ import annotations

import json
from datetime import date
from typing import Any

import polars as pl

from matching.schema import ALLOCATION_SCHEMA, UNRESOLVED_SCHEMA
from parsers.schema import STATEMENT_SCHEMA, TRANSACTION_SCHEMA, conform

TENANT = "musterstadt"
SPK = "DE02370501980001802057"   # Sparkasse account (MT940)
VB = "DE02300606010002474689"    # Volksbank account (camt.053)


def frame(rows: list[dict[str, Any]], schema: dict[str, pl.DataType]) -> pl.DataFrame:
    """Rows -> a frame conformed to ``schema`` (missing columns null)."""
    if not rows:
        return pl.DataFrame(schema=schema)
    return conform(pl.DataFrame(rows, infer_schema_length=None), schema)


def stmt(account: str, seq: int, opening: int, closing: int, day: date, **kw: Any) -> dict[str, Any]:
    """One statement row; its key is account|seq|day."""
    row = {
        "tenant": TENANT, "account_iban": account, "currency": "EUR",
        "statement_id": f"{account[-4:]}-{seq}", "statement_key": f"{account}|{seq:05d}|{day}",
        "statement_no": f"{seq:05d}/001", "sequence_no": seq, "page_no": 1, "kind": "statement",
        "first_booking_date": day, "last_booking_date": day, "opening_date": day,
        "opening_cents": opening, "closing_date": day, "closing_cents": closing,
        "entries_sum_cents": closing - opening, "balance_ok": True, "statement_index": 0,
        "source_format": "mt940", "source_file": "f" * 64, "source_path": "in/x.sta",
    }
    row.update(kw)
    return row


def tx(statement: dict[str, Any], idx: int, amount: int, **kw: Any) -> dict[str, Any]:
    """One booked transaction of ``statement``."""
    row = {
        "transaction_id": f"{statement['statement_key']}:{idx}:0", "tenant": statement["tenant"],
        "account_iban": statement["account_iban"], "statement_id": statement["statement_id"],
        "statement_key": statement["statement_key"], "entry_index": idx, "detail_index": 0,
        "booking_date": statement["closing_date"], "value_date": statement["closing_date"],
        "amount_cents": amount, "currency": "EUR", "entry_amount_cents": amount, "is_reversal": False,
        "status": "BOOK", "booked": True, "counterparty_name": f"Zahler {idx}",
        "counterparty_iban": "DE89370400440532013000", "iban_valid": True,
        "remittance": f"KZ 1000{idx}", "bank_ref": f"REF{idx}", "source_format": "mt940",
        "source_file": "f" * 64, "source_path": "in/x.sta", "source_line": 10 + idx, "raw": ":61:...",
    }
    row.update(kw)
    return row


def unres(t: dict[str, Any], reason: str, unallocated: int | None = None,
          candidates: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    """One unresolved row for transaction ``t``."""
    return {
        "transaction_id": t["transaction_id"], "bank_ref": t["bank_ref"], "booking_date": t["booking_date"],
        "amount_cents": t["amount_cents"],
        "unallocated_cents": t["amount_cents"] if unallocated is None else unallocated,
        "reason": reason, "candidates": json.dumps(candidates or []),
    }


def alloc(t: dict[str, Any], amount: int, rule: str = "reference.exact", by: str = "auto") -> dict[str, Any]:
    """One allocation row for transaction ``t``."""
    return {
        "transaction_id": t["transaction_id"], "bank_ref": t["bank_ref"], "receivable_id": f"R-{t['bank_ref']}",
        "kassenzeichen": "1000", "amount_cents": amount, "rule": rule, "confidence": 1.0, "decided_by": by,
        "booking_date": t["booking_date"],
    }


def statements(rows: list[dict[str, Any]]) -> pl.DataFrame:
    return frame(rows, STATEMENT_SCHEMA)


def transactions(rows: list[dict[str, Any]]) -> pl.DataFrame:
    return frame(rows, TRANSACTION_SCHEMA)


def unresolved(rows: list[dict[str, Any]]) -> pl.DataFrame:
    return frame(rows, UNRESOLVED_SCHEMA)


def allocations(rows: list[dict[str, Any]]) -> pl.DataFrame:
    return frame(rows, ALLOCATION_SCHEMA)
