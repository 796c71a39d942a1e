"""The collection (and payout) job's published snapshot as the review pages read it, cached per tenant.

The job publishes under ``<state_dir>/published_collection/<tenant>/`` and
:func:`ledger.publish_collection.read_collection_published` reads it, with the release journal laid over
the runs (a run this page released shows as ``released`` at once). The page never opens the ledger.
The cache reads the frames again only when the job (or the nightly run) publishes a new version or a
release line is written, as :class:`review.dunning_state.DunningCache` does for the dunning runs.
:class:`review.snapshot_cache.SnapshotCache` is that cache for any job's snapshot: the payout runs
(:func:`payout_cache`, :mod:`ledger.publish_payout`) use it too.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import polars as pl

from ledger.publish_collection import CollectionPublished, published_dir, read_collection_published
from ledger.publish_handoff import HandoffPublished, read_handoff_published
from ledger.publish_handoff import published_dir as handoff_dir
from ledger.publish_payout import PayoutPublished, read_payout_published
from ledger.publish_payout import published_dir as payout_dir
from review.snapshot_cache import SnapshotCache, counts_of

#: ``counts_json`` tables of a run: collections per sequence type, skipped claims and those dropped at
#: booking per reason
COUNT_TABLES = ("sequence", "skipped", "dropped")


class CollectionCache(SnapshotCache[CollectionPublished]):
    """Per-tenant cache of the collection snapshot (module docstring)."""

    def __init__(self, state_dir: Path) -> None:
        super().__init__(state_dir, published_dir, read_collection_published)


def payout_cache(state_dir: Path) -> SnapshotCache[PayoutPublished]:
    """Per-tenant cache of the payout snapshot (``published_payout``)."""
    return SnapshotCache(state_dir, payout_dir, read_payout_published)


def handoff_cache(state_dir: Path) -> SnapshotCache[HandoffPublished]:
    """Per-tenant cache of the enforcement hand-off snapshot (``published_handoff``)."""
    return SnapshotCache(state_dir, handoff_dir, read_handoff_published)


def parse_counts(raw: str | None) -> dict[str, dict[str, int]]:
    """``counts_json`` of a collection run as ``{table: {code: n}}`` for :data:`COUNT_TABLES`."""
    return counts_of(raw, COUNT_TABLES)


@dataclass(frozen=True, slots=True)
class Page:
    """One page of a frame: its rows, the page number (1-based), the number of pages, the total rows."""

    rows: list[dict[str, Any]]
    page: int
    pages: int
    total: int


def page_of(df: pl.DataFrame, page: int, size: int) -> Page:
    """Rows of page ``page`` (clamped to 1…pages) of ``df``, ``size`` per page."""
    size = max(1, size)
    pages = max(1, -(-df.height // size))
    page = min(max(1, page), pages)
    return Page(df.slice((page - 1) * size, size).to_dicts(), page, pages, df.height)


def int_param(raw: str | None, default: int = 1) -> int:
    """A page number from the query string; anything unreadable is ``default``."""
    try:
        return int(str(raw or default)[:9])
    except ValueError:
        return default
