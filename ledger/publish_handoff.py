"""The enforcement hand-off runs as the review page sees them: a read-only snapshot per tenant.

The page never opens the ledger, so the hand-off job (``jobs.handoff``) publishes after each call
(prepare, show, book, finish) what the page shows a supervisor before the release — the draft batch's
counts and sums, its cases, the claims left out with why — and, once booked, what went out::

    <state_dir>/published_handoff/<tenant>/runs.parquet     HANDOFF_RUNS_SCHEMA: every run, newest day first
    <state_dir>/published_handoff/<tenant>/files.parquet    FILES_SCHEMA: the batch's files (XML, CSV, list)
    <state_dir>/published_handoff/<tenant>/cases.parquet    CASES_SCHEMA: the cases of each run
    <state_dir>/published_handoff/<tenant>/skipped.parquet  SKIPPED_SCHEMA: claims not handed over, with why
    <state_dir>/published_handoff/<tenant>/dropped.parquet  DROPPED_SCHEMA: taken out at booking, with why
    <state_dir>/published_handoff/<tenant>/meta.json        tenant, published_at, on

Written and read as the payout snapshot is (:func:`ledger.publish_collection.write_snapshot`); the runs
are :data:`~ledger.publish_collection.RUNS_SCHEMA` with the hand-off's figures added, so
:func:`~ledger.publish_collection.lay_releases` lays the ``handoff_release`` lines over them and the
release of :mod:`review.views_release` serves this kind as it serves the payout.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import polars as pl

from ledger.publish_collection import FILES_SCHEMA, RUNS_SCHEMA, lay_releases, read_snapshot, write_snapshot

ROOT = "published_handoff"
#: The release lines the hand-off runs read (``ledger.release_journal``).
RELEASE_KIND = "handoff_release"

#: One row per run: the collection's run columns (``n_items``: claims handed over, ``total_cents``: their
#: sum; ``counts_json``: ``{"skipped": {reason: n}, "dropped": {reason: n}}``) and the hand-off's figures.
HANDOFF_RUNS_SCHEMA: dict[str, pl.DataType] = {
    **RUNS_SCHEMA,
    "message_id": pl.String(),
    "n_cases": pl.Int64(),
    "n_new_cases": pl.Int64(),
    "n_fee_claims": pl.Int64(),           # the surcharge accrued to the hand-off day, booked as fee claims
    "principal_cents": pl.Int64(),
    "surcharges_cents": pl.Int64(),
    "fees_cents": pl.Int64(),
    "list_pdf": pl.String(),              # the Übergabeliste: the draft until booked, then the final one
}

#: A case of a run (``status`` prepared | booked).
CASES_SCHEMA: dict[str, pl.DataType] = {
    "run_id": pl.String(),
    "status": pl.String(),
    "case_number": pl.String(),
    "debtor_id": pl.String(),
    "debtor_name": pl.String(),
    "debtor_city": pl.String(),
    "new": pl.Boolean(),
    "n_claims": pl.Int64(),
    "principal_cents": pl.Int64(),
    "saeumniszuschlag_cents": pl.Int64(),
    "mahngebuehr_cents": pl.Int64(),
    "interest_cents": pl.Int64(),
    "kosten_cents": pl.Int64(),
    "total_cents": pl.Int64(),
}

#: A claim the preparation did not hand over (``reason``: ``claims.vocab.HandoffSkip``).
SKIPPED_SCHEMA: dict[str, pl.DataType] = {
    "run_id": pl.String(),
    "receivable_id": pl.String(),
    "debtor_id": pl.String(),
    "main_receivable_id": pl.String(),
    "reason": pl.String(),
    "block_reason": pl.String(),
}

#: Claims the booking took out (paid, blocked, changed since the preparation; prepared again later).
DROPPED_SCHEMA: dict[str, pl.DataType] = {"run_id": pl.String(), "debtor_id": pl.String(),
                                          "case_number": pl.String(), "receivable_id": pl.String(),
                                          "open_cents": pl.Int64(), "reason": pl.String()}

FRAMES: dict[str, tuple[dict[str, pl.DataType], tuple[str, ...]]] = {
    "runs": (HANDOFF_RUNS_SCHEMA, ("run_date", "run_id")),
    "files": (FILES_SCHEMA, ("run_id", "file_name")),
    "cases": (CASES_SCHEMA, ("run_id", "case_number")),
    "skipped": (SKIPPED_SCHEMA, ("run_id", "reason", "receivable_id")),
    "dropped": (DROPPED_SCHEMA, ("run_id", "debtor_id", "receivable_id")),
}


@dataclass(frozen=True, slots=True)
class HandoffPublished:
    """A tenant's published hand-off snapshot (frames by :data:`FRAMES`)."""

    runs: pl.DataFrame
    files: pl.DataFrame
    cases: pl.DataFrame
    skipped: pl.DataFrame
    dropped: pl.DataFrame
    meta: dict[str, Any]


def published_dir(state_dir: Path, tenant: str) -> Path:
    """The link the page reads (``<state_dir>/published_handoff/<tenant>``)."""
    return Path(state_dir) / ROOT / tenant


def publish_handoff(state_dir: Path, tenant: str, frames: dict[str, pl.DataFrame], *, on: date) -> Path:
    """Write a new version of the tenant's hand-off snapshot and switch the link to it; return the link."""
    return write_snapshot(state_dir, ROOT, tenant, FRAMES, frames, on=on, descending=("runs",))


def read_handoff_published(state_dir: Path, tenant: str) -> HandoffPublished:
    """The tenant's hand-off snapshot with the ``handoff_release`` lines laid over its runs; empty frames
    when nothing was published yet."""
    frames, meta = read_snapshot(state_dir, ROOT, tenant, FRAMES)
    frames["runs"] = lay_releases(frames["runs"], state_dir, tenant, RELEASE_KIND)
    return HandoffPublished(**frames, meta=meta)


__all__ = ["CASES_SCHEMA", "DROPPED_SCHEMA", "FRAMES", "HANDOFF_RUNS_SCHEMA", "RELEASE_KIND", "SKIPPED_SCHEMA",
           "HandoffPublished", "publish_handoff", "published_dir", "read_handoff_published"]
