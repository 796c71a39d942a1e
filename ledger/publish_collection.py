"""The SEPA collection runs, mandates and returns as the review page sees them: a read-only snapshot per tenant.

The page never opens the ledger (DESIGN.md: DuckDB lets one process write a file, and the jobs hold it
while they book), so the collection job publishes what the pages "Lastschrifteinzug", "Mandate" and
"Rücklastschriften" show, after each call (prepare, show, book, finish), and the nightly run publishes it
again after it has booked the night's returns::

    <state_dir>/published_collection/<tenant>/runs.parquet        RUNS_SCHEMA: every run, newest date first
    <state_dir>/published_collection/<tenant>/files.parquet       FILES_SCHEMA: the pain.008 files of each run
    <state_dir>/published_collection/<tenant>/items.parquet       ITEMS_SCHEMA: prepared and booked collections
    <state_dir>/published_collection/<tenant>/skipped.parquet     SKIPPED_SCHEMA: claims a run left out, with why
    <state_dir>/published_collection/<tenant>/dropped.parquet     DROPPED_SCHEMA: taken out at booking, with why
    <state_dir>/published_collection/<tenant>/mandates.parquet    MANDATES_SCHEMA: the register with its states
    <state_dir>/published_collection/<tenant>/amendments.parquet  AMENDMENTS_SCHEMA: every Mandatsänderung seen
    <state_dir>/published_collection/<tenant>/returns.parquet     RETURNS_SCHEMA: the returns the nightly booked
    <state_dir>/published_collection/<tenant>/meta.json           tenant, published_at, on

Written like ``published_dunning/`` (:mod:`ledger.publish_dunning`): a complete version folder, then the
link swapped in one ``rename``, so the page reads one version or the other, never half of each.

:func:`read_collection_published` lays the release journal over the runs (:func:`lay_releases`, lines of
kind ``collection_release`` only): a run the page released shows as ``released`` at once, before the
job is called again. The runs frame and the overlay know nothing of pain.008: the payout runs (pain.001,
``payout_release`` lines; :mod:`ledger.publish_payout`) publish theirs in :data:`RUNS_SCHEMA` with their
sums added, written and read by :func:`write_snapshot` / :func:`read_snapshot` and laid over by
:func:`lay_releases` with their own kind.
"""

from __future__ import annotations

import json
import os
import shutil
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import duckdb
import polars as pl

from claims.config import CollectionSection
from collection.mandates import (
    AMENDMENT_SCHEMA,
    REGISTER_SCHEMA,
    STATE_SCHEMA,
    amend_register,
    mandate_states,
    mandates_from_claims,
)
from ledger.collection_state import read_collection_state
from ledger.db import fetch
from ledger.release_journal import read_releases
from parsers.schema import conform

ROOT = "published_collection"
KEEP_VERSIONS = 3
#: The release lines the collection runs read (``ledger.release_journal``).
RELEASE_KIND = "collection_release"

#: One row per run (prepared, released or booked); nothing in it is particular to direct debits but the
#: counts, so a payout run can publish its runs the same way.
RUNS_SCHEMA: dict[str, pl.DataType] = {
    "run_id": pl.String(),
    "run_date": pl.Date(),                # the collection date (a payout: the execution date)
    "status": pl.String(),                # prepared | released | booked
    "prepared_by": pl.String(),
    "prepared_at": pl.Datetime("us", "UTC"),
    "released_by": pl.String(),
    "released_at": pl.Datetime("us", "UTC"),
    "booked_at": pl.Datetime("us", "UTC"),
    "n_items": pl.Int64(),                # collections prepared (booked, once booked)
    "total_cents": pl.Int64(),
    "counts_json": pl.String(),           # {"sequence": {RCUR: n}, "skipped": {reason: n}, "dropped": {reason: n}}
    "schema": pl.String(),                # the XSD every file of the run was validated against (pain.008.001.08)
}

#: The files of a run: the prepared ones until it is booked, then the booked (final) ones. Every file listed
#: was validated against ``xsd`` when it was written (the job writes no file that fails: it refuses).
FILES_SCHEMA: dict[str, pl.DataType] = {
    "run_id": pl.String(),
    "stage": pl.String(),                 # prepared | final
    "file_name": pl.String(),
    "message_id": pl.String(),
    "pmtinf_id": pl.String(),
    "sequence_type": pl.String(),
    "count": pl.Int64(),
    "control_sum_cents": pl.Int64(),
    "sha256": pl.String(),
    "xsd": pl.String(),
}

#: One claim in a run: the prepared collections of runs not booked yet, and every booked one (the ledger's).
ITEMS_SCHEMA: dict[str, pl.DataType] = {
    "run_id": pl.String(),
    "status": pl.String(),                # prepared | booked
    "receivable_id": pl.String(),
    "kassenzeichen": pl.String(),
    "debtor_id": pl.String(),
    "debtor_name": pl.String(),
    "claim_type": pl.String(),
    "mandate_id": pl.String(),
    "debtor_iban": pl.String(),
    "sequence_type": pl.String(),
    "end_to_end_id": pl.String(),
    "message_id": pl.String(),
    "collection_date": pl.Date(),
    "due_date": pl.Date(),
    "amount_cents": pl.Int64(),
}

#: The claims a run's preparation left out, with the selection's reason (``claims.vocab.CollectSkip``).
SKIPPED_SCHEMA: dict[str, pl.DataType] = {
    "run_id": pl.String(),
    "receivable_id": pl.String(),
    "kassenzeichen": pl.String(),
    "debtor_id": pl.String(),
    "debtor_name": pl.String(),
    "claim_type": pl.String(),
    "due_date": pl.Date(),
    "amount_cents": pl.Int64(),
    "mandate_id": pl.String(),
    "reason": pl.String(),
    "mandate_reason": pl.String(),
}

#: Prepared collections the booking took out (paid, blocked or changed since the preparation).
DROPPED_SCHEMA: dict[str, pl.DataType] = {
    "run_id": pl.String(),
    "receivable_id": pl.String(),
    "kassenzeichen": pl.String(),
    "end_to_end_id": pl.String(),
    "amount_cents": pl.Int64(),
    "reason": pl.String(),
}

#: The mandate register with its state on the day of publishing (``collection.mandates``).
MANDATES_SCHEMA: dict[str, pl.DataType] = {**REGISTER_SCHEMA, **STATE_SCHEMA}

#: Every Mandatsänderung a booked run saw (ledger ``mandate_amendments``) and the run that saw it.
AMENDMENTS_SCHEMA: dict[str, pl.DataType] = {**AMENDMENT_SCHEMA, "run_id": pl.String()}

#: The returns (Rücklastschriften) the nightly run booked, with the collection, the action their reason
#: code takes (``[collection] return_actions``) and the return-fee claim when one was charged.
RETURNS_SCHEMA: dict[str, pl.DataType] = {
    "end_to_end_id": pl.String(),
    "receivable_id": pl.String(),
    "kassenzeichen": pl.String(),
    "debtor_id": pl.String(),
    "debtor_name": pl.String(),
    "claim_type": pl.String(),
    "mandate_id": pl.String(),
    "reason_code": pl.String(),
    "action": pl.String(),                # claims.vocab.ReturnAction
    "return_date": pl.Date(),
    "amount_cents": pl.Int64(),
    "collection_date": pl.Date(),
    "due_date": pl.Date(),                # the claim's original due date (reopened with it)
    "open_cents": pl.Int64(),             # what is open on the claim now
    "transaction_id": pl.String(),
    "fee_receivable_id": pl.String(),
    "fee_cents": pl.Int64(),
}

#: name -> (file, schema, sort keys) of a published version.
FRAMES: dict[str, tuple[dict[str, pl.DataType], tuple[str, ...]]] = {
    "runs": (RUNS_SCHEMA, ("run_date", "run_id")),
    "files": (FILES_SCHEMA, ("run_id", "sequence_type", "file_name")),
    "items": (ITEMS_SCHEMA, ("run_id", "kassenzeichen", "receivable_id")),
    "skipped": (SKIPPED_SCHEMA, ("run_id", "reason", "kassenzeichen", "receivable_id")),
    "dropped": (DROPPED_SCHEMA, ("run_id", "kassenzeichen", "receivable_id")),
    "mandates": (MANDATES_SCHEMA, ("mandate_id",)),
    "amendments": (AMENDMENTS_SCHEMA, ("mandate_id", "seen_on", "field")),
    "returns": (RETURNS_SCHEMA, ("return_date", "end_to_end_id")),
}


@dataclass(frozen=True, slots=True)
class CollectionPublished:
    """What the pages read (the frames of :data:`FRAMES`) and ``meta``."""

    runs: pl.DataFrame
    files: pl.DataFrame
    items: pl.DataFrame
    skipped: pl.DataFrame
    dropped: pl.DataFrame
    mandates: pl.DataFrame
    amendments: pl.DataFrame
    returns: pl.DataFrame
    meta: dict[str, Any]


def published_dir(state_dir: Path, tenant: str) -> Path:
    """The link the page reads (``<state_dir>/published_collection/<tenant>``)."""
    return Path(state_dir) / ROOT / tenant


def write_snapshot(state_dir: Path, root_name: str, tenant: str,
                   spec: dict[str, tuple[dict[str, pl.DataType], tuple[str, ...]]], frames: dict[str, pl.DataFrame], *,
                   on: date, descending: tuple[str, ...] = ()) -> Path:
    """Write a new version of a tenant's snapshot under ``<state_dir>/<root_name>/`` (``frames`` by the names
    of ``spec``, name -> (schema, sort keys); a missing one is published empty; the frames in ``descending``
    newest first) and switch the link to it; return the link. Shared by the collection and payout runs."""
    unknown = set(frames) - set(spec)
    if unknown:
        raise ValueError(f"unknown {root_name} frames: {sorted(unknown)}")
    root = Path(state_dir) / root_name
    versions = root / f".{tenant}"
    versions.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(UTC)
    version = versions / f"{stamp:%Y%m%dT%H%M%S%f}"
    tmp = versions / f".tmp-{version.name}"
    tmp.mkdir()
    for name, (schema, keys) in spec.items():
        df = frames.get(name)
        out = conform(df, schema) if df is not None else pl.DataFrame(schema=schema)
        out.sort(list(keys), descending=name in descending, nulls_last=True).write_parquet(tmp / f"{name}.parquet")
    meta = {"tenant": tenant, "published_at": stamp.isoformat(), "on": on.isoformat(),
            "n_runs": frames["runs"].height if "runs" in frames else 0}
    (tmp / "meta.json").write_text(json.dumps(meta, indent=1) + "\n", encoding="utf-8")
    os.replace(tmp, version)
    link = root / tenant
    new_link = root / f".{tenant}.link-{version.name}"
    new_link.symlink_to(Path(versions.name) / version.name)
    os.replace(new_link, link)
    for old in sorted(p for p in versions.iterdir() if not p.name.startswith("."))[:-KEEP_VERSIONS]:
        shutil.rmtree(old, ignore_errors=True)
    return link


def read_snapshot(state_dir: Path, root_name: str, tenant: str,
                  spec: dict[str, tuple[dict[str, pl.DataType], tuple[str, ...]]]
                  ) -> tuple[dict[str, pl.DataFrame], dict[str, Any]]:
    """The frames and meta of the tenant's current version under ``<state_dir>/<root_name>/``; empty frames
    and ``{}`` when nothing was published yet."""
    folder = Path(state_dir) / root_name / tenant
    if not (folder / "meta.json").exists():
        return {n: pl.DataFrame(schema=s) for n, (s, _) in spec.items()}, {}
    folder = folder.resolve()
    frames = {n: conform(pl.read_parquet(folder / f"{n}.parquet"), s) for n, (s, _) in spec.items()}
    return frames, json.loads((folder / "meta.json").read_text(encoding="utf-8"))


def publish_collection(state_dir: Path, tenant: str, frames: dict[str, pl.DataFrame], *, on: date) -> Path:
    """Write a new version of the tenant's collection snapshot (``frames`` by the names of :data:`FRAMES`;
    a missing one is published empty) and switch the link to it; return the link."""
    return write_snapshot(state_dir, ROOT, tenant, FRAMES, frames, on=on, descending=("runs", "returns"))


def lay_releases(runs: pl.DataFrame, state_dir: Path, tenant: str, kind: str) -> pl.DataFrame:
    """``runs`` (:data:`RUNS_SCHEMA`) with the release lines of ``kind`` laid over: a run published as
    ``prepared`` whose release names its preparer reads ``released``, with who and when. A line of
    another kind (a dunning run's release) or naming another preparer changes nothing."""
    releases = [r for r in read_releases(state_dir, tenant).values() if r.kind == kind]
    if not releases or not runs.height:
        return runs
    rel = pl.DataFrame([{"run_id": r.run_id, "_by": r.released_by, "_at": r.released_at, "_prep": r.prepared_by}
                        for r in releases],
                       schema={"run_id": pl.String(), "_by": pl.String(), "_at": pl.String(), "_prep": pl.String()})
    rel = rel.with_columns(pl.col("_at").str.to_datetime(time_zone="UTC", time_unit="us"))
    laid = runs.join(rel, on="run_id", how="left", maintain_order="left").with_columns(
        _released=(pl.col("status") == "prepared") & pl.col("_by").is_not_null()
        & (pl.col("_prep") == pl.col("prepared_by")))
    return laid.with_columns(
        pl.when(pl.col("_released")).then(pl.lit("released")).otherwise(pl.col("status")).alias("status"),
        pl.when(pl.col("_released")).then(pl.col("_by")).otherwise(pl.col("released_by")).alias("released_by"),
        pl.when(pl.col("_released")).then(pl.col("_at")).otherwise(pl.col("released_at")).alias("released_at"),
    ).select(runs.columns)


def read_collection_published(state_dir: Path, tenant: str) -> CollectionPublished:
    """The tenant's collection snapshot with the release journal laid over its runs; empty frames when
    nothing was published yet."""
    frames, meta = read_snapshot(state_dir, ROOT, tenant, FRAMES)
    frames["runs"] = lay_releases(frames["runs"], state_dir, tenant, RELEASE_KIND)
    return CollectionPublished(**frames, meta=meta)


# --- what the ledger holds (the job adds the runs not booked yet from its run folders) ---------------------

def ledger_frames(con: duckdb.DuckDBPyConnection, tenant: str, *, on: date,
                  settings: CollectionSection) -> dict[str, pl.DataFrame]:
    """The booked part of the snapshot, read from the ledger: ``items`` (every booked collection),
    ``mandates`` (the register as the next run would see it — the ledger's, the current claims laid over —
    with its state ``on``), ``amendments``, ``returns`` (with action and fee claim) and ``booked_runs``
    (run_id, committed_at) — the last for the caller, not published as it is."""
    p = {"t": tenant}
    state = read_collection_state(con, tenant, paid_too=True)
    claims = state.claims
    names = claims.select("receivable_id", "debtor_name", "claim_type", pl.col("amount_cents").alias("open_cents"))
    booked = fetch(con, "SELECT * FROM collections WHERE tenant = $t", p)
    items = booked.join(names.drop("open_cents"), on="receivable_id", how="left").with_columns(
        pl.lit("booked").alias("status"))
    open_claims = claims.filter(pl.col("amount_cents") > 0)
    register, _ = amend_register(state.register, mandates_from_claims(open_claims, on=on), on=on)
    mandates = mandate_states(register, state.collected, state.returned, on=on, settings=settings)
    amendments = fetch(con, "SELECT * FROM mandate_amendments WHERE tenant = $t", p)
    fees = fetch(con, "SELECT receivable_id AS fee_receivable_id, parent_receivable_id AS receivable_id, "
                      "amount_cents AS fee_cents FROM claims WHERE tenant = $t AND origin = 'fee' "
                      "AND parent_receivable_id IS NOT NULL AND receivable_id LIKE '%-RLS-%'", p)
    actions = pl.DataFrame({"reason_code": list(settings.return_actions),
                            "action": [str(a) for a in settings.return_actions.values()]},
                           schema={"reason_code": pl.String(), "action": pl.String()})
    back = state.returned.join(state.collected.select("end_to_end_id", "kassenzeichen", "debtor_id",
                                                      "collection_date", "due_date"),
                               on="end_to_end_id", how="left")
    back = back.join(names, on="receivable_id", how="left").join(actions, on="reason_code", how="left").with_columns(
        pl.col("action").fill_null("none"),
        fee_receivable_id=pl.col("receivable_id") + "-RLS-" + pl.col("return_date").dt.strftime("%Y%m%d"))
    back = back.join(fees.select("fee_receivable_id", "fee_cents"), on="fee_receivable_id", how="left").with_columns(
        pl.when(pl.col("fee_cents").is_null()).then(None).otherwise(pl.col("fee_receivable_id"))
        .alias("fee_receivable_id"))
    runs = fetch(con, "SELECT run_id, committed_at FROM runs WHERE tenant = $t AND job = 'collect'", p)
    return {"items": items, "mandates": mandates, "amendments": amendments, "returns": back, "booked_runs": runs}

