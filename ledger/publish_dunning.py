"""The dunning runs as the review page sees them: a read-only snapshot per tenant, swapped in atomically.

The page never opens the ledger. The dunning job (``jobs.dunning``) publishes after it prepares a run,
after a release and after it books::

    <state_dir>/published_dunning/<tenant>/runs.parquet          RUNS_SCHEMA: every run, newest first
    <state_dir>/published_dunning/<tenant>/notices.parquet       NOTICES_SCHEMA: booked notices + the prepared run's
    <state_dir>/published_dunning/<tenant>/notice_items.parquet  ITEMS_SCHEMA: their claims
    <state_dir>/published_dunning/<tenant>/meta.json             tenant, published_at

A folder of its own beside the nightly's ``published/<tenant>`` (which is a link the nightly swaps to a
new version every night: a folder inside it would vanish), written the same way: a complete version
folder ``published_dunning/.<tenant>/<id>``, then the link replaced in one ``rename``.

:func:`read_dunning_published` lays the release journal over the snapshot: a run published as
``prepared`` that a supervisor has released since (a line the page wrote) reads as ``released``, with
who and when — so the page shows its own release at once, before the job runs again.
"""

from __future__ import annotations

import json
import os
import shutil
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import polars as pl

from ledger.release_journal import read_releases
from parsers.schema import conform

ROOT = "published_dunning"
KEEP_VERSIONS = 3

#: One row per dunning run (prepared, released or booked).
RUNS_SCHEMA: dict[str, pl.DataType] = {
    "run_id": pl.String(),
    "week": pl.String(),                  # ISO week of as_of, e.g. 2026-W49
    "as_of": pl.Date(),                   # the notice (posting) date
    "status": pl.String(),                # prepared | released | booked
    "prepared_by": pl.String(),
    "prepared_at": pl.Datetime("us", "UTC"),
    "released_by": pl.String(),
    "released_at": pl.Datetime("us", "UTC"),
    "booked_at": pl.Datetime("us", "UTC"),
    "n_notices": pl.Int64(),              # prepared (booked, once booked)
    "n_claims": pl.Int64(),
    "fees_total_cents": pl.Int64(),       # Mahngebühren on the notices
    "surcharges_total_cents": pl.Int64(),  # Säumniszuschläge accrued, as on the notices
    "interest_total_cents": pl.Int64(),
    "counts_json": pl.String(),           # {"level": {..}, "skipped": {reason: n}, "dropped": {reason: n}}
    "sample_pdf": pl.String(),            # the DRAFT letters of the prepared run (null when none were made)
    "letters_pdf": pl.String(),           # the final letters after booking
}

#: One row per notice: every booked one, plus those of a run prepared and not yet booked.
NOTICES_SCHEMA: dict[str, pl.DataType] = {
    "notice_id": pl.String(),
    "run_id": pl.String(),
    "status": pl.String(),                # the run's status when published (prepared | booked)
    "debtor_id": pl.String(),
    "debtor_name": pl.String(),
    "level": pl.String(),
    "notice_date": pl.Date(),
    "deadline": pl.Date(),
    "n_claims": pl.Int64(),
    "total_cents": pl.Int64(),
}

#: The claims on each notice (``run_id`` + ``notice_id`` name the notice).
ITEMS_SCHEMA: dict[str, pl.DataType] = {
    "run_id": pl.String(),
    "notice_id": pl.String(),
    "receivable_id": pl.String(),
    "kassenzeichen": pl.String(),
    "claim_type": pl.String(),
    "due_date": pl.Date(),
    "open_cents": pl.Int64(),
    "saeumniszuschlag_cents": pl.Int64(),
    "mahngebuehr_cents": pl.Int64(),
    "interest_cents": pl.Int64(),
}


@dataclass(frozen=True, slots=True)
class DunningPublished:
    """What the page reads: ``runs``, ``notices``, ``items`` (the schemas above) and ``meta``."""

    runs: pl.DataFrame
    notices: pl.DataFrame
    items: pl.DataFrame
    meta: dict[str, Any]


def published_dir(state_dir: Path, tenant: str) -> Path:
    """The link the page reads (``<state_dir>/published_dunning/<tenant>``)."""
    return Path(state_dir) / ROOT / tenant


def publish_dunning(state_dir: Path, tenant: str, *, runs: pl.DataFrame, notices: pl.DataFrame,
                    items: pl.DataFrame) -> Path:
    """Write a new version of the tenant's dunning snapshot and switch the link to it; return the link."""
    root = Path(state_dir) / ROOT
    versions = root / f".{tenant}"
    versions.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(UTC)
    version = versions / f"{stamp:%Y%m%dT%H%M%S%f}"
    tmp = versions / f".tmp-{version.name}"
    tmp.mkdir()
    conform(runs, RUNS_SCHEMA).sort("as_of", "run_id", descending=True).write_parquet(tmp / "runs.parquet")
    conform(notices, NOTICES_SCHEMA).sort("debtor_id", "notice_date", "run_id", "notice_id").write_parquet(
        tmp / "notices.parquet")
    conform(items, ITEMS_SCHEMA).sort("run_id", "notice_id", "receivable_id").write_parquet(
        tmp / "notice_items.parquet")
    meta = {"tenant": tenant, "published_at": stamp.isoformat(), "n_runs": runs.height}
    (tmp / "meta.json").write_text(json.dumps(meta, indent=1) + "\n", encoding="utf-8")
    os.replace(tmp, version)
    link = root / tenant
    new_link = root / f".{tenant}.link-{version.name}"
    new_link.symlink_to(Path(versions.name) / version.name)
    os.replace(new_link, link)
    for old in sorted(p for p in versions.iterdir() if not p.name.startswith("."))[:-KEEP_VERSIONS]:
        shutil.rmtree(old, ignore_errors=True)
    return link


def read_dunning_published(state_dir: Path, tenant: str) -> DunningPublished:
    """The tenant's dunning snapshot with the release journal laid over it (module docstring); empty
    frames when the job has published nothing yet."""
    folder = published_dir(state_dir, tenant)
    if not (folder / "meta.json").exists():
        return DunningPublished(pl.DataFrame(schema=RUNS_SCHEMA), pl.DataFrame(schema=NOTICES_SCHEMA),
                                pl.DataFrame(schema=ITEMS_SCHEMA), {})
    folder = folder.resolve()
    runs = conform(pl.read_parquet(folder / "runs.parquet"), RUNS_SCHEMA)
    releases = read_releases(state_dir, tenant)
    if releases and runs.height:
        rel = pl.DataFrame([{"run_id": r.run_id, "_by": r.released_by, "_at": r.released_at,
                             "_prep": r.prepared_by} for r in releases.values()],
                           schema={"run_id": pl.String(), "_by": pl.String(), "_at": pl.String(), "_prep": pl.String()})
        rel = rel.with_columns(pl.col("_at").str.to_datetime(time_zone="UTC", time_unit="us"))
        runs = runs.join(rel, on="run_id", how="left", maintain_order="left").with_columns(
            # a release counts for the run whose preparer it names (the job checks the same)
            released=(pl.col("status") == "prepared") & pl.col("_by").is_not_null()
            & (pl.col("_prep") == pl.col("prepared_by")))
        runs = runs.with_columns(
            pl.when(pl.col("released")).then(pl.lit("released")).otherwise(pl.col("status")).alias("status"),
            pl.when(pl.col("released")).then(pl.col("_by")).otherwise(pl.col("released_by")).alias("released_by"),
            pl.when(pl.col("released")).then(pl.col("_at")).otherwise(pl.col("released_at")).alias("released_at"),
        ).select(list(RUNS_SCHEMA))
    meta = json.loads((folder / "meta.json").read_text(encoding="utf-8"))
    return DunningPublished(runs, conform(pl.read_parquet(folder / "notices.parquet"), NOTICES_SCHEMA),
                            conform(pl.read_parquet(folder / "notice_items.parquet"), ITEMS_SCHEMA), meta)
