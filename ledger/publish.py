"""The published state: a read-only snapshot per tenant for the review page, swapped in atomically.

The review page never opens the ledger (DuckDB: one writing process, and while it writes nobody else
may even read). After each commit the run writes::

    <state_dir>/published/<tenant>/klaerungsliste.parquet   one row per unresolved payment
    <state_dir>/published/<tenant>/open_items.parquet       OPEN_ITEM_SCHEMA, amount still open
    <state_dir>/published/<tenant>/meta.json                run_id, as_of, published_at
    <state_dir>/published/<tenant>/rules.parquet            learned rules and their state (optional)
    <state_dir>/published/<tenant>/rule_proposals.parquet   rules the clerks' decisions propose (optional)

``published/<tenant>`` is a symbolic link to a complete version folder ``published/.<tenant>/<id>``;
a new version is written beside it and the link is replaced in one ``rename``, so a reader sees the
old set or the new set, never a mix. The last three versions are kept.
"""

from __future__ import annotations

import json
import os
import shutil
from datetime import UTC, date, datetime
from pathlib import Path

import polars as pl

from claims.claim import OPEN_ITEM_SCHEMA
from parsers.schema import conform

#: The Klärungsliste as published (the contract with the review page).
PUBLISHED_KLAERUNG_SCHEMA: dict[str, pl.DataType] = {
    "transaction_id": pl.String(),
    "tenant": pl.String(),
    "account_iban": pl.String(),
    "booking_date": pl.Date(),
    "age_days": pl.Int32(),
    "amount_cents": pl.Int64(),
    "unallocated_cents": pl.Int64(),
    "counterparty_name": pl.String(),
    "counterparty_iban": pl.String(),
    "iban_valid": pl.Boolean(),
    "remittance": pl.String(),
    "end_to_end_id": pl.String(),
    "bank_ref": pl.String(),
    "raw": pl.String(),
    "reason": pl.String(),
    "candidates": pl.String(),            # JSON list of {receivable_id, kassenzeichen, amount_cents, score, why}
    "state": pl.String(),                 # open | parked
}

KEEP_VERSIONS = 3


def published_klaerungsliste(unresolved: pl.DataFrame, transactions: pl.DataFrame, *, tenant: str,
                             as_of: date) -> pl.DataFrame:
    """The current Klärungsliste joined with its payments' details (one row per unresolved payment)."""
    tx_cols = ["transaction_id", "account_iban", "counterparty_name", "counterparty_iban", "iban_valid",
               "remittance", "end_to_end_id", "raw"]
    tx = transactions.select(tx_cols).unique(subset="transaction_id", keep="first")
    df = (
        unresolved.drop([c for c in tx_cols[1:] if c in unresolved.columns])
        .join(tx, on="transaction_id", how="left")
        .with_columns(
            pl.lit(tenant).alias("tenant"),
            (pl.lit(as_of) - pl.col("booking_date")).dt.total_days().cast(pl.Int32).alias("age_days"),
        )
        .sort("booking_date", "transaction_id")
    )
    return conform(df, PUBLISHED_KLAERUNG_SCHEMA)


def publish(published_root: Path, tenant: str, *, klaerungsliste: pl.DataFrame, open_items: pl.DataFrame,
            run_id: str, as_of: date, extra: dict[str, pl.DataFrame] | None = None) -> Path:
    """Write the tenant's published state as a new version and switch the link to it; return the link.
    ``extra``: further frames of the version, each written as ``<name>.parquet`` (learned rules)."""
    versions = published_root / f".{tenant}"
    versions.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(UTC)
    version = versions / f"{stamp:%Y%m%dT%H%M%S%f}-{run_id}"
    tmp = versions / f".tmp-{version.name}"
    tmp.mkdir()
    conform(klaerungsliste, PUBLISHED_KLAERUNG_SCHEMA).write_parquet(tmp / "klaerungsliste.parquet")
    conform(open_items, OPEN_ITEM_SCHEMA).write_parquet(tmp / "open_items.parquet")
    for name, frame in (extra or {}).items():
        frame.write_parquet(tmp / f"{name}.parquet")
    meta = {"tenant": tenant, "run_id": run_id, "as_of": as_of.isoformat(),
            "published_at": stamp.isoformat(), "n_unresolved": klaerungsliste.height,
            "n_open_items": open_items.height}
    (tmp / "meta.json").write_text(json.dumps(meta, indent=1) + "\n", encoding="utf-8")
    os.replace(tmp, version)
    link = published_root / tenant
    new_link = published_root / f".{tenant}.link-{version.name}"
    new_link.symlink_to(Path(versions.name) / version.name)
    if link.exists() and not link.is_symlink():
        shutil.rmtree(link)                # an old-style plain folder: replace it once
    os.replace(new_link, link)
    for old in sorted(p for p in versions.iterdir() if not p.name.startswith("."))[:-KEEP_VERSIONS]:
        shutil.rmtree(old, ignore_errors=True)
    return link


def read_published(published_root: Path, tenant: str) -> tuple[pl.DataFrame, pl.DataFrame, dict[str, object]]:
    """Read a tenant's published state back (Klärungsliste, open items, meta)."""
    folder = (published_root / tenant).resolve()
    meta = json.loads((folder / "meta.json").read_text(encoding="utf-8"))
    return (pl.read_parquet(folder / "klaerungsliste.parquet"), pl.read_parquet(folder / "open_items.parquet"),
            meta)
