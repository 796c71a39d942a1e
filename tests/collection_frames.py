"""Small literal frames for the collection tests: claims, the collection record, returns."""

from __future__ import annotations

from datetime import date
from typing import Any

import polars as pl

from claims.claim import CLAIM_SCHEMA
from collection.history import COLLECTED_SCHEMA, RETURNED_SCHEMA
from collection.returns import CREDIT_SCHEMA, RETURN_SCHEMA

IBAN_A = "DE02120300000000202051"
IBAN_B = "DE02500105170137075030"


def claim(rid: str, kz: str = "", **kw: Any) -> dict[str, Any]:
    kz = kz or f"5.{rid[-4:].rjust(4, '0')}"
    row: dict[str, Any] = {
        "tenant": "t", "receivable_id": rid, "kassenzeichen": kz, "kz_norm": "".join(ch for ch in kz if ch.isdigit()),
        "debtor_id": "D1", "debtor_name": "Erika Mustermann", "debtor_iban": IBAN_A, "claim_type": "GRUNDSTEUER",
        "amount_cents": 12_345, "due_date": date(2027, 2, 15), "mandate_id": "M-1", "mandate_date": date(2025, 1, 10),
        "law": "public", "origin": "export", "creditor": "t",
    }
    row.update(kw)
    return row


def claims(*rows: dict[str, Any]) -> pl.DataFrame:
    return pl.DataFrame([{k: r.get(k) for k in CLAIM_SCHEMA} for r in rows], schema=CLAIM_SCHEMA)


def frame(schema: dict[str, pl.DataType], *rows: dict[str, Any]) -> pl.DataFrame:
    return pl.DataFrame([{k: r.get(k) for k in schema} for r in rows], schema=schema)


def collected(*rows: dict[str, Any]) -> pl.DataFrame:
    base = {"tenant": "t", "message_id": "MSG1", "pmtinf_id": "PMT1", "mandate_id": "M-1", "debtor_id": "D1",
            "debtor_iban": IBAN_A, "sequence_type": "RCUR", "due_date": date(2027, 2, 15)}
    return frame(COLLECTED_SCHEMA, *({**base, **r} for r in rows))


def returned(*rows: dict[str, Any]) -> pl.DataFrame:
    return frame(RETURNED_SCHEMA, *({"tenant": "t", **r} for r in rows))


def credits(*rows: dict[str, Any]) -> pl.DataFrame:
    return frame(CREDIT_SCHEMA, *({"tenant": "t", "booking_date": date(2027, 2, 16), **r} for r in rows))


def returns(*rows: dict[str, Any]) -> pl.DataFrame:
    return frame(RETURN_SCHEMA, *({"tenant": "t", "booking_date": date(2027, 2, 20), **r} for r in rows))
