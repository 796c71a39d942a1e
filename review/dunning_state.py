"""The dunning job's published snapshot as the review page reads it: runs, notices, notice items.

The dunning job publishes under ``<state_dir>/published/<tenant>/dunning/`` (``runs.parquet``,
``notices.parquet``, ``notice_items.parquet``; read with :func:`ledger.publish_dunning.read_dunning_published`).
The page never opens the ledger. Each frame is brought to the columns listed here: a column the job
does not write is shown empty, so an older snapshot never breaks a page.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import polars as pl

RUN_SCHEMA: dict[str, pl.DataType] = {
    "run_id": pl.String(), "week": pl.String(), "as_of": pl.Date(), "status": pl.String(),
    "prepared_by": pl.String(), "prepared_at": pl.String(), "released_by": pl.String(),
    "released_at": pl.String(), "n_notices": pl.Int64(), "n_claims": pl.Int64(),
    "fees_total_cents": pl.Int64(), "surcharges_total_cents": pl.Int64(), "counts_json": pl.String(),
    "sample_pdf": pl.String(),
}
NOTICE_SCHEMA: dict[str, pl.DataType] = {
    "notice_id": pl.String(), "run_id": pl.String(), "debtor_id": pl.String(), "debtor_name": pl.String(),
    "level": pl.String(), "notice_date": pl.Date(), "deadline": pl.Date(), "n_claims": pl.Int64(),
    "total_cents": pl.Int64(),
}
ITEM_SCHEMA: dict[str, pl.DataType] = {
    "notice_id": pl.String(), "receivable_id": pl.String(), "kassenzeichen": pl.String(),
    "claim_type": pl.String(), "due_date": pl.Date(), "open_cents": pl.Int64(),
    "saeumniszuschlag_cents": pl.Int64(), "mahngebuehr_cents": pl.Int64(), "interest_cents": pl.Int64(),
}


@dataclass(frozen=True)
class DunningSnapshot:
    """The dunning runs the job published, with their notices and the claims on each notice."""

    runs: pl.DataFrame
    notices: pl.DataFrame
    items: pl.DataFrame

    def run(self, run_id: str) -> dict[str, Any] | None:
        """One run's row, or ``None``."""
        hit = self.runs.filter(pl.col("run_id") == run_id)
        return hit.row(0, named=True) if hit.height else None

    def debtor_notices(self, debtor_id: str) -> list[dict[str, Any]]:
        """Every notice to ``debtor_id`` (newest first), each with its claims under ``items``."""
        notices = self.notices.filter(pl.col("debtor_id") == debtor_id).sort(
            ["notice_date", "notice_id"], descending=True, nulls_last=True)
        items = self.items.filter(pl.col("notice_id").is_in(notices["notice_id"].implode()))
        by_notice: dict[str, list[dict[str, Any]]] = {}
        for row in items.sort("due_date", "kassenzeichen", nulls_last=True).iter_rows(named=True):
            by_notice.setdefault(row["notice_id"], []).append(row)
        return [{**n, "items": by_notice.get(n["notice_id"], [])} for n in notices.iter_rows(named=True)]


def _conform(df: pl.DataFrame | None, schema: dict[str, pl.DataType]) -> pl.DataFrame:
    if df is None or not df.width:
        return pl.DataFrame(schema=schema)
    return df.select([pl.col(c).cast(t, strict=False) if c in df.columns else pl.lit(None, dtype=t).alias(c)
                      for c, t in schema.items()])


def read_dunning(state_dir: Path, tenant: str) -> DunningSnapshot:
    """The tenant's published dunning snapshot (empty frames when the job has published nothing yet)."""
    folder = Path(state_dir) / "published" / tenant / "dunning"
    frames: dict[str, pl.DataFrame | None] = {}
    for name in ("runs", "notices", "notice_items"):
        path = folder / f"{name}.parquet"
        try:
            frames[name] = pl.read_parquet(path) if path.exists() else None
        except (OSError, pl.exceptions.PolarsError):
            frames[name] = None
    return DunningSnapshot(_conform(frames["runs"], RUN_SCHEMA), _conform(frames["notices"], NOTICE_SCHEMA),
                           _conform(frames["notice_items"], ITEM_SCHEMA))


def parse_counts(raw: str | None) -> dict[str, dict[str, int]]:
    """``counts_json`` as ``{"level": {code: n}, "skip": {code: n}}``; anything unreadable gives empty tables."""
    try:
        data = json.loads(raw or "{}")
    except ValueError:
        return {"level": {}, "skip": {}}
    if not isinstance(data, dict):
        return {"level": {}, "skip": {}}
    out: dict[str, dict[str, int]] = {}
    for key, aliases in (("level", ("level", "levels", "per_level")),
                         ("skip", ("skip", "skipped", "skip_reason", "per_skip_reason"))):
        table: dict[str, Any] = next((data[a] for a in aliases if isinstance(data.get(a), dict)), {})
        out[key] = {str(k): int(v) for k, v in table.items() if isinstance(v, int | float)}
    return out
