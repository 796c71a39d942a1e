"""The cases other tenants handed to this tenant's enforcement office (issue 17 §4): read from the ledger,
published for the review page.

* :func:`read_known` — what the office's nightly needs to book idempotently: the message ids, update ids and
  case numbers already booked per creditor tenant (``office_*`` tables, migration 11).
* :func:`publish_office` — after the nightly's commit: the office's case list (``enforcement.office_cases``:
  one row per creditor and case with its state and latest update, one row per claim) as a read-only
  snapshot ``<state_dir>/published_office/<tenant>/`` (``cases.parquet``, ``claims.parquet``,
  ``meta.json``), a complete version folder swapped in by one ``rename`` of a link, like the other jobs'
  snapshots. The review page reads only this (:func:`read_office_published`), never the DuckDB file.

Everything here is the office tenant's own ledger: the creditor's ledger is never opened — the office knows
of a creditor's case only what the creditor's files said.
"""

from __future__ import annotations

import json
import os
import shutil
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb
import polars as pl

from enforcement.office_cases import CASE_VIEW, CLAIM_VIEW, case_view, claim_view
from ledger.db import fetch
from ledger.tables import OFFICE_CASE_CLAIMS, OFFICE_CASES, OFFICE_UPDATE_CLAIMS, OFFICE_UPDATES
from parsers.schema import conform

ROOT = "published_office"
KEEP_VERSIONS = 3


@dataclass(frozen=True)
class OfficeKnown:
    """Booked already, per creditor tenant: ``messages`` (creditor_tenant, message_id), ``updates``
    (creditor_tenant, update_id), ``cases`` (creditor_tenant, case_number)."""

    messages: pl.DataFrame
    updates: pl.DataFrame
    cases: pl.DataFrame

    def write(self, folder: Path) -> None:
        for name in ("messages", "updates", "cases"):
            getattr(self, name).write_parquet(folder / f"office_known_{name}.parquet")

    @classmethod
    def read(cls, folder: Path) -> OfficeKnown:
        def one(name: str, col: str) -> pl.DataFrame:
            path = folder / f"office_known_{name}.parquet"
            return pl.read_parquet(path) if path.exists() else \
                pl.DataFrame(schema={"creditor_tenant": pl.String(), col: pl.String()})

        return cls(one("messages", "message_id"), one("updates", "update_id"), one("cases", "case_number"))


def read_known(con: duckdb.DuckDBPyConnection, tenant: str) -> OfficeKnown:
    """The ids the office tenant's ledger holds (small: one row per file, update and case)."""
    p = {"t": tenant}
    return OfficeKnown(
        fetch(con, "SELECT DISTINCT creditor_tenant, message_id FROM office_cases WHERE tenant = $t UNION "
                   "SELECT DISTINCT creditor_tenant, message_id FROM office_updates WHERE tenant = $t", p),
        fetch(con, "SELECT DISTINCT creditor_tenant, update_id FROM office_updates WHERE tenant = $t", p),
        fetch(con, "SELECT DISTINCT creditor_tenant, case_number FROM office_cases WHERE tenant = $t", p))


def read_office_tables(con: duckdb.DuckDBPyConnection, tenant: str) -> dict[str, pl.DataFrame]:
    """The four ``office_*`` tables of ``tenant``, typed."""
    out = {}
    for name, schema in (("office_cases", OFFICE_CASES), ("office_case_claims", OFFICE_CASE_CLAIMS),
                         ("office_updates", OFFICE_UPDATES), ("office_update_claims", OFFICE_UPDATE_CLAIMS)):
        out[name] = conform(fetch(con, f"SELECT * FROM {name} WHERE tenant = $t", {"t": tenant}), schema)
    return out


def office_views(tables: dict[str, pl.DataFrame]) -> tuple[pl.DataFrame, pl.DataFrame]:
    """``(cases, claims)`` as the page shows them (``enforcement.office_cases``)."""
    args = (tables["office_cases"], tables["office_case_claims"], tables["office_updates"],
            tables["office_update_claims"])
    return case_view(*args), claim_view(*args)


def published_dir(state_dir: Path, tenant: str) -> Path:
    """The link the page reads (``<state_dir>/published_office/<tenant>``)."""
    return Path(state_dir) / ROOT / tenant


def publish_office(state_dir: Path, tenant: str, *, cases: pl.DataFrame, claims: pl.DataFrame) -> Path:
    """Write a new version of the office's snapshot and switch the link to it; return the link."""
    root = Path(state_dir) / ROOT
    versions = root / f".{tenant}"
    versions.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(UTC)
    version = versions / f"{stamp:%Y%m%dT%H%M%S%f}"
    tmp = versions / f".tmp-{version.name}"
    tmp.mkdir()
    conform(cases, CASE_VIEW).write_parquet(tmp / "cases.parquet")
    conform(claims, CLAIM_VIEW).write_parquet(tmp / "claims.parquet")
    meta = {"tenant": tenant, "published_at": stamp.isoformat(), "n_cases": cases.height}
    (tmp / "meta.json").write_text(json.dumps(meta, indent=1) + "\n", encoding="utf-8")
    os.replace(tmp, version)
    link = root / tenant
    new_link = root / f".{tenant}.link-{version.name}"
    new_link.symlink_to(Path(versions.name) / version.name)
    os.replace(new_link, link)
    for old in sorted(p for p in versions.iterdir() if not p.name.startswith("."))[:-KEEP_VERSIONS]:
        shutil.rmtree(old, ignore_errors=True)
    return link


@dataclass(frozen=True)
class OfficePublished:
    """What the page reads: ``cases`` (``CASE_VIEW``), ``claims`` (``CLAIM_VIEW``), ``meta``."""

    cases: pl.DataFrame
    claims: pl.DataFrame
    meta: dict[str, Any]


def read_office_published(state_dir: Path, tenant: str) -> OfficePublished:
    """The tenant's office snapshot (empty frames when nothing was published yet)."""
    folder = published_dir(state_dir, tenant)
    if not (folder / "meta.json").exists():
        return OfficePublished(pl.DataFrame(schema=CASE_VIEW), pl.DataFrame(schema=CLAIM_VIEW), {})
    folder = folder.resolve()
    return OfficePublished(conform(pl.read_parquet(folder / "cases.parquet"), CASE_VIEW),
                           conform(pl.read_parquet(folder / "claims.parquet"), CLAIM_VIEW),
                           json.loads((folder / "meta.json").read_text(encoding="utf-8")))
