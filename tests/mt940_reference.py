"""Flatten the ``mt940`` library's (WoLpH, the reference) reading of a file for comparison.

Not a test module itself: ``tests/test_mt940_reference.py`` uses it. The library is called the
way the issue asks: ``parse_statements`` with ``Options.all()`` and an explicit encoding.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path
from typing import Any

import mt940
import polars as pl

from parsers.mt940 import parse_mt940
from parsers.text_decoding import decode_bank_text

#: Fields compared entry by entry: our column name -> function of the library's transaction data.
FIELDS = ["amount_cents", "value_date", "booking_date", "bank_ref", "tx_code", "end_to_end_id", "remittance",
          "counterparty_iban", "counterparty_name"]


def _clean(value: Any) -> Any:
    if isinstance(value, str):
        value = value.strip()
        return value or None
    return value


def _date(value: Any) -> dt.date | None:
    return dt.date(value.year, value.month, value.day) if value is not None else None


def reference_rows(path: Path) -> list[dict[str, Any]] | None:
    """The library's entries of ``path`` as dicts with our column names; None if it cannot read it."""
    enc = decode_bank_text(path.read_bytes()).encoding
    try:
        statements = mt940.parse_statements(path.read_bytes(), encoding=enc, options=mt940.Options.all())
    except Exception:  # the reference fails on some real files (ASNB, OLB2): recorded in the table
        return None
    rows = []
    for st in statements:
        for t in st.transactions:
            d = t.data
            amount = d.get("amount")
            cents = int(Decimal(amount.amount) * 100) if amount is not None else None
            rows.append({
                "amount_cents": cents,
                "value_date": _date(d.get("date")),
                "booking_date": _date(d.get("guessed_entry_date") or d.get("entry_date") or d.get("date")),
                "bank_ref": _clean(d.get("bank_reference")),
                "tx_code": _clean(d.get("transaction_code")),
                "end_to_end_id": _clean(d.get("end_to_end_reference")),
                "remittance": _clean(d.get("purpose")),
                "counterparty_iban": _clean(d.get("applicant_iban")),
                "counterparty_name": _clean(d.get("applicant_name")),
            })
    return rows


def our_rows(path: Path) -> list[dict[str, Any]]:
    """Our entries of ``path`` in file order, with the compared columns."""
    tx = parse_mt940(path, sha256="test").transactions
    return tx.select(FIELDS).to_dicts()


def differences(path: Path) -> dict[str, int] | None:
    """Per field, how many entries differ (``count`` when the entry counts differ); None if unreadable."""
    ref = reference_rows(path)
    if ref is None:
        return None
    ours = our_rows(path)
    if len(ref) != len(ours):
        return {"count": abs(len(ref) - len(ours))}
    out: dict[str, int] = {}
    for field in FIELDS:
        n = sum(1 for a, b in zip(ours, ref, strict=True) if a[field] != b[field])
        if n:
            out[field] = n
    return out


def frame(path: Path) -> pl.DataFrame:  # pragma: no cover - a helper for looking at differences by hand
    """Ours and the reference side by side (for debugging a row of the table)."""
    ref = reference_rows(path) or []
    ours = our_rows(path)
    return pl.DataFrame({f"{k}_{side}": [str(r[k]) for r in rows] for side, rows in (("ours", ours), ("ref", ref))
                         for k in FIELDS if len(rows) == len(ours)})
