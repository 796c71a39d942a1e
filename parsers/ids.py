"""Stable identifiers shared by every parser (stable across Polars versions: SHA-256, not ``hash()``)."""

from __future__ import annotations

import hashlib
from datetime import date

import polars as pl


def sha256_file(path: str) -> str:
    """SHA-256 of a file's bytes, read in 1 MiB blocks."""
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def statement_key(
    account: str | None,
    statement_no: str | None,
    opening_date: date | None,
    opening_cents: int | None,
    closing_date: date | None,
    closing_cents: int | None,
) -> str:
    """What makes two deliveries of a statement the same statement.

    The bank's statement number alone is not enough (many banks send ``:28C:0`` or restart the
    count each year), so the key also holds the balances and their dates. Two files that carry the
    same statement give the same key whatever their ``:20:`` or ``MsgId`` say.

    >>> statement_key("DE02120300000000202051", "00004/001", date(2024, 5, 17), 100, date(2024, 5, 17), 250)
    'DE02120300000000202051|00004/001|2024-05-17|100|2024-05-17|250'
    """
    parts = [
        (account or "").replace(" ", ""),
        statement_no or "",
        opening_date.isoformat() if opening_date else "",
        "" if opening_cents is None else str(opening_cents),
        closing_date.isoformat() if closing_date else "",
        "" if closing_cents is None else str(closing_cents),
    ]
    return "|".join(parts)


def short_hash(text: str, n: int = 16) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:n]


def with_transaction_ids(transactions: pl.DataFrame) -> pl.DataFrame:
    """Fill ``transaction_id`` = short hash of ``statement_key`` + ``:entry_index:detail_index``.

    Hashes once per statement (few), then concatenates vectorised, so it costs nothing per row.
    """
    keys = transactions.select(pl.col("statement_key").unique()).to_series().to_list()
    mapping = pl.DataFrame(
        {"statement_key": keys, "_h": [short_hash(k or "") for k in keys]},
        schema={"statement_key": pl.String(), "_h": pl.String()},
    )
    return (
        transactions.join(mapping, on="statement_key", how="left", maintain_order="left")
        .with_columns(
            pl.concat_str(
                [pl.col("_h"), pl.col("entry_index").cast(pl.String()), pl.col("detail_index").cast(pl.String())],
                separator=":",
            ).alias("transaction_id")
        )
        .drop("_h")
    )
