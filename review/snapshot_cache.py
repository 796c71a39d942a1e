"""A job's published snapshot, cached per tenant for the review pages (dunning runs, collection runs).

A job publishes its snapshot under ``<state_dir>/published_<job>/<tenant>/`` (``meta.json`` changes with
every version); the page lays the release journal over it when it reads it. Both add up over the years,
so the frames are read again only when the job publishes a new version or a release line is written —
the two things the snapshot as read depends on (:meth:`SnapshotCache.signature`).
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any, Generic, TypeVar

from ledger.journal import journal_dir
from ledger.release_journal import SUB as RELEASES

T = TypeVar("T")


class SnapshotCache(Generic[T]):
    """``get(tenant)``: ``read(state_dir, tenant)``, from the cache while the signature is unchanged.
    ``published_dir(state_dir, tenant)`` is where the job publishes (its ``meta.json`` is watched)."""

    def __init__(self, state_dir: Path, published_dir: Callable[[Path, str], Path],
                 read: Callable[[Path, str], T]) -> None:
        self.state_dir = state_dir
        self._published_dir = published_dir
        self._read = read
        self._lock = threading.Lock()
        self._cached: dict[str, tuple[tuple[Any, ...], T]] = {}

    def signature(self, tenant: str) -> tuple[Any, ...]:
        """The published ``meta.json`` and the release journal's files (name, size, mtime). ``journal_dir``
        checks the tenant name's pattern before it becomes a path."""
        folder = journal_dir(self.state_dir, tenant) / RELEASES
        try:
            meta = (self._published_dir(self.state_dir, tenant) / "meta.json").read_bytes()
        except OSError:
            meta = b""
        files = tuple((p.name, p.stat().st_size, p.stat().st_mtime_ns) for p in sorted(folder.glob("*.jsonl"))) \
            if folder.is_dir() else ()
        return meta, files

    def get(self, tenant: str) -> T:
        """The tenant's snapshot, read again only when its signature changed."""
        key = self.signature(tenant)
        with self._lock:
            hit = self._cached.get(tenant)
            if hit is not None and hit[0] == key:
                return hit[1]
        pub = self._read(self.state_dir, tenant)
        with self._lock:
            self._cached[tenant] = (key, pub)
        return pub


def counts_of(raw: str | None, tables: Iterable[str]) -> dict[str, dict[str, int]]:
    """A published run's ``counts_json`` as ``{table: {code: n}}`` for each of ``tables``; unreadable parts
    give empty tables (the page shows what it can)."""
    try:
        data = json.loads(raw or "{}")
    except ValueError:
        data = {}
    if not isinstance(data, dict):
        data = {}
    out: dict[str, dict[str, int]] = {}
    for key in tables:
        table = data.get(key)
        out[key] = {str(k): int(v) for k, v in table.items() if isinstance(v, int | float)} \
            if isinstance(table, dict) else {}
    return out
