"""The dunning job's published snapshot as the review page reads it: runs, notices, notice items.

The dunning job publishes under ``<state_dir>/published_dunning/<tenant>/`` and
:func:`ledger.publish_dunning.read_dunning_published` reads it, with the release journal laid over (a run
this page released shows as ``released`` at once). The page never opens the ledger. This module only
shapes what the pages show: one run, a debtor's notices with their claims, the counts.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

import polars as pl

from ledger.publish_dunning import DunningPublished, published_dir, read_dunning_published
from review.snapshot_cache import SnapshotCache, counts_of

#: ``counts_json`` tables the Mahnlauf page shows: notices per level, skipped claims per reason, the blocked
#: ones per block reason, notices taken off the letters at booking per reason
COUNT_TABLES = ("level", "skipped", "blocked", "dropped")


def read_dunning(state_dir: Path, tenant: str) -> DunningPublished:
    """The tenant's published dunning snapshot (empty frames when the job has published nothing yet)."""
    return read_dunning_published(state_dir, tenant)


class DunningCache(SnapshotCache[DunningPublished]):
    """Per-tenant cache of the dunning snapshot (:class:`review.snapshot_cache.SnapshotCache`)."""

    def __init__(self, state_dir: Path) -> None:
        super().__init__(state_dir, published_dir, read_dunning)


def run_row(pub: DunningPublished, run_id: str) -> dict[str, Any] | None:
    """One run's row, or ``None``."""
    hit = pub.runs.filter(pl.col("run_id") == run_id)
    return hit.row(0, named=True) if hit.height else None


def debtor_notices(pub: DunningPublished, debtor_id: str) -> list[dict[str, Any]]:
    """Every notice to ``debtor_id`` (newest first), each with its claims under ``items``
    (a notice is named by ``run_id`` and ``notice_id`` together)."""
    notices = pub.notices.filter(pl.col("debtor_id") == debtor_id).sort(
        ["notice_date", "run_id", "notice_id"], descending=True, nulls_last=True)
    items = pub.items.join(notices.select("run_id", "notice_id"), on=["run_id", "notice_id"], how="semi")
    by_notice: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for row in items.sort("due_date", "kassenzeichen", nulls_last=True).iter_rows(named=True):
        by_notice.setdefault((row["run_id"], row["notice_id"]), []).append(row)
    return [{**n, "items": by_notice.get((n["run_id"], n["notice_id"]), [])} for n in notices.iter_rows(named=True)]


def parse_counts(raw: str | None) -> dict[str, dict[str, int]]:
    """``counts_json`` of a dunning run as ``{table: {code: n}}`` for :data:`COUNT_TABLES`."""
    return counts_of(raw, COUNT_TABLES)


def when(value: object) -> str:
    """A timestamp as ``YYYY-MM-DD HH:MM`` (UTC as published); empty when missing."""
    if isinstance(value, datetime):
        return f"{value:%Y-%m-%d %H:%M}"
    return str(value or "")[:16].replace("T", " ")
