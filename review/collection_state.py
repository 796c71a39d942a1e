"""The collection (and payout) job's published snapshot as the review pages read it, cached per tenant.

The job publishes under ``<state_dir>/published_collection/<tenant>/`` and
:func:`ledger.publish_collection.read_collection_published` reads it, with the release journal laid over
the runs (a run this page released shows as ``released`` at once). The page never opens the ledger.
The cache reads the frames again only when the job (or the nightly run) publishes a new version or a
release line is written, as :class:`review.dunning_state.DunningCache` does for the dunning runs.
:class:`SnapshotCache` does the same for any snapshot with a ``meta.json`` and releases laid over it: the
payout runs (:func:`payout_cache`, :mod:`ledger.publish_payout`) use it too.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Generic, TypeVar

import polars as pl

from ledger.journal import journal_dir
from ledger.publish_collection import CollectionPublished, published_dir, read_collection_published
from ledger.publish_payout import PayoutPublished, read_payout_published
from ledger.publish_payout import published_dir as payout_dir
from ledger.release_journal import SUB as RELEASES

T = TypeVar("T")

#: ``counts_json`` tables of a run: collections per sequence type, skipped claims and those dropped at
#: booking per reason
COUNT_TABLES = ("sequence", "skipped", "dropped")


def _signature(state_dir: Path, tenant: str,
               where: Callable[[Path, str], Path] = published_dir) -> tuple[Any, ...]:
    """What the snapshot as read depends on: the published ``meta.json`` (in ``where``'s folder) and the
    release journal's files. (``journal_dir`` checks the tenant name's pattern before it becomes a path.)"""
    folder = journal_dir(state_dir, tenant) / RELEASES
    try:
        meta = (where(state_dir, tenant) / "meta.json").read_bytes()
    except OSError:
        meta = b""
    files = tuple((p.name, p.stat().st_size, p.stat().st_mtime_ns) for p in sorted(folder.glob("*.jsonl"))) \
        if folder.is_dir() else ()
    return meta, files


@dataclass
class SnapshotCache(Generic[T]):
    """Per-tenant cache of a published snapshot (module docstring): ``read`` reads it, ``where`` names the
    link whose ``meta.json`` changes with every version."""

    state_dir: Path
    read: Callable[[Path, str], T]
    where: Callable[[Path, str], Path]
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _cached: dict[str, tuple[tuple[Any, ...], T]] = field(default_factory=dict)

    def get(self, tenant: str) -> T:
        key = _signature(self.state_dir, tenant, self.where)
        with self._lock:
            hit = self._cached.get(tenant)
            if hit is not None and hit[0] == key:
                return hit[1]
        pub = self.read(self.state_dir, tenant)
        with self._lock:
            self._cached[tenant] = (key, pub)
        return pub


class CollectionCache(SnapshotCache[CollectionPublished]):
    """Per-tenant cache of the collection snapshot."""

    def __init__(self, state_dir: Path) -> None:
        super().__init__(state_dir, read_collection_published, published_dir)


def payout_cache(state_dir: Path) -> SnapshotCache[PayoutPublished]:
    """Per-tenant cache of the payout snapshot (``published_payout``)."""
    return SnapshotCache(state_dir, read_payout_published, payout_dir)


def parse_counts(raw: str | None) -> dict[str, dict[str, int]]:
    """``counts_json`` as ``{table: {code: n}}`` for :data:`COUNT_TABLES`; unreadable parts give empty tables."""
    try:
        data = json.loads(raw or "{}")
    except ValueError:
        data = {}
    if not isinstance(data, dict):
        data = {}
    out: dict[str, dict[str, int]] = {}
    for key in COUNT_TABLES:
        table = data.get(key)
        out[key] = {str(k): int(v) for k, v in table.items() if isinstance(v, int | float)} \
            if isinstance(table, dict) else {}
    return out


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
