"""The enforcement snapshot as the review page reads it, cached per tenant.

The nightly run publishes the cases and the limitation warnings under
``<state_dir>/published_enforcement/<tenant>/`` (:mod:`ledger.publish_enforcement`); the page reads that,
never the ledger, and reads it again only when a new version was published
(:class:`review.snapshot_cache.SnapshotCache`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import polars as pl

from ledger.publish_enforcement import published_dir, read_enforcement_published
from review.snapshot_cache import SnapshotCache

#: The snapshot's frames (``cases``, ``warnings``) and its meta (``on``, ``published_at``).
EnforcementPublished = tuple[dict[str, pl.DataFrame], dict[str, Any]]


def enforcement_cache(state_dir: Path) -> SnapshotCache[EnforcementPublished]:
    """Per-tenant cache of the enforcement snapshot (``published_enforcement``)."""
    return SnapshotCache(state_dir, published_dir, read_enforcement_published)


__all__ = ["EnforcementPublished", "enforcement_cache"]
