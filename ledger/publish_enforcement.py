"""The enforcement cases and the limitation warnings as the review page sees them: a read-only snapshot.

The page never opens the ledger (the writer's DuckDB file). The nightly run's publish step (and whoever
else changes the cases: the hand-off, the outcomes import) writes::

    <state_dir>/published_enforcement/<tenant>/cases.parquet     CASES_SCHEMA: one row per case, newest first
    <state_dir>/published_enforcement/<tenant>/warnings.parquet  WARNINGS_SCHEMA: claims whose limitation ends soon
    <state_dir>/published_enforcement/<tenant>/meta.json         tenant, published_at, on

the same way as the collection and payout snapshots (:func:`ledger.publish_collection.write_snapshot`: a
complete version folder, then the link swapped in one ``rename``). :func:`snapshot_frames` builds the two
frames from the ledger (``ledger.enforcement_state`` for the cases, ``ledger.enforcement_report`` and
``enforcement.reports`` for the warnings).
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import duckdb
import polars as pl

from claims.config import EnforcementSection
from enforcement.reports import limitation_warnings
from ledger.db import fetch
from ledger.enforcement_report import read_report_inputs
from ledger.enforcement_state import case_claims
from ledger.enforcement_state import cases as case_rows
from ledger.publish_collection import read_snapshot, write_snapshot
from ledger.state import current_open_items
from parsers.schema import conform

ROOT = "published_enforcement"

#: One row per enforcement case: who, where, since when, how much handed over and open now, the last word.
CASES_SCHEMA: dict[str, pl.DataType] = {
    "case_number": pl.String(), "debtor_id": pl.String(), "debtor_name": pl.String(),
    "office_id": pl.String(), "office_tenant": pl.String(), "opened_on": pl.Date(),
    "last_handed_off_on": pl.Date(), "n_claims": pl.Int64(), "n_open_claims": pl.Int64(),
    "handed_cents": pl.Int64(),            # what was handed over (every hand-off of the case)
    "open_cents": pl.Int64(),              # what its claims still in the case owe now (ledger: export − allocations)
    "last_update_on": pl.Date(), "last_update_kind": pl.String(),     # the last update sent to the office
    "last_outcome_on": pl.Date(), "last_outcome": pl.String(),        # the last booked outcome of the office
    "state": pl.String(),                  # open | closed
    "closed_on": pl.Date(), "closed_by": pl.String(),
}
#: One row per claim whose limitation period ends within the warning days (soonest first).
WARNINGS_SCHEMA: dict[str, pl.DataType] = {
    "kassenzeichen": pl.String(), "receivable_id": pl.String(), "debtor_id": pl.String(),
    "debtor_name": pl.String(), "claim_type": pl.String(), "open_cents": pl.Int64(), "due_date": pl.Date(),
    "last_interruption": pl.Date(), "last_interruption_kind": pl.String(), "expires_on": pl.Date(),
    "days_left": pl.Int64(), "case_number": pl.String(),
}
FRAMES: dict[str, tuple[dict[str, pl.DataType], tuple[str, ...]]] = {
    "cases": (CASES_SCHEMA, ("opened_on", "case_number")),
    "warnings": (WARNINGS_SCHEMA, ("expires_on", "receivable_id")),
}


def published_dir(state_dir: Path, tenant: str) -> Path:
    """The link the page reads (``<state_dir>/published_enforcement/<tenant>``)."""
    return Path(state_dir) / ROOT / tenant


def case_overview(con: duckdb.DuckDBPyConnection, tenant: str, *, handed: pl.DataFrame | None = None,
                  open_now: pl.DataFrame | None = None) -> pl.DataFrame:
    """:data:`CASES_SCHEMA` from the ledger: ``ledger.enforcement_state.cases`` with the debtor's name (the
    latest hand-off's), the open amount now, the last update and the last booked outcome. ``handed``
    (``ledger.enforcement_state.case_claims``) and ``open_now`` (the open claims: ``receivable_id``,
    ``amount_cents``) are read when not given."""
    base = case_rows(con, tenant)
    p = {"t": tenant}
    names = fetch(con, "SELECT case_number, arg_max(debtor_name, handed_off_on) AS debtor_name "
                       "FROM enforcement_cases WHERE tenant = $t GROUP BY case_number", p)
    updates = fetch(con, "SELECT case_number, max(effective_date) AS last_update_on, "
                         "arg_max(kind, effective_date) AS last_update_kind FROM enforcement_updates "
                         "WHERE tenant = $t GROUP BY case_number", p)
    outcomes = fetch(con, "SELECT case_number, max(outcome_date) AS last_outcome_on, "
                          "arg_max(outcome, (outcome_date, sequence)) AS last_outcome FROM enforcement_outcomes "
                          "WHERE tenant = $t AND state = 'booked' GROUP BY case_number", p)
    handed = case_claims(con, tenant) if handed is None else handed
    inside = handed.filter(pl.col("closed_on").is_null()).select("case_number", "receivable_id")
    open_now = current_open_items(con, tenant) if open_now is None else open_now
    owed = open_now.select("receivable_id", pl.col("amount_cents").alias("owed"))
    per_case = (inside.join(owed, on="receivable_id", how="left").group_by("case_number")
                .agg(pl.col("owed").fill_null(0).sum().alias("open_cents")))
    out = (base.join(conform(names, {"case_number": pl.String(), "debtor_name": pl.String()}), on="case_number",
                     how="left")
           .join(per_case, on="case_number", how="left")
           .join(conform(updates, {"case_number": pl.String(), "last_update_on": pl.Date(),
                                   "last_update_kind": pl.String()}), on="case_number", how="left")
           .join(conform(outcomes, {"case_number": pl.String(), "last_outcome_on": pl.Date(),
                                    "last_outcome": pl.String()}), on="case_number", how="left")
           .with_columns(pl.col("open_cents").fill_null(0),
                         pl.when(pl.col("n_open_claims") > 0).then(pl.lit("open")).otherwise(pl.lit("closed"))
                         .alias("state")))
    return conform(out, CASES_SCHEMA)


def snapshot_frames(con: duckdb.DuckDBPyConnection, tenant: str, state_dir: Path, *, on: date,
                    settings: EnforcementSection | None = None) -> dict[str, pl.DataFrame]:
    """The frames of :data:`FRAMES` on ``on``: the cases, and the limitation warnings of the claims open now
    (each with the open case it is in, if any)."""
    inputs = read_report_inputs(con, tenant, state_dir, figures=False)
    _limits, warned = limitation_warnings(case_claims=inputs.case_claims, outcomes=inputs.outcomes,
                                          open_claims=inputs.open_claims, mahnungen=inputs.mahnungen,
                                          blocks=inputs.blocks, as_of=on, settings=settings)
    in_case = (inputs.case_claims.filter(pl.col("closed_on").is_null())
               .group_by("receivable_id").agg(pl.col("case_number").max()))
    warnings = warned.join(in_case, on="receivable_id", how="left", maintain_order="left")
    return {"cases": case_overview(con, tenant, handed=inputs.case_claims, open_now=inputs.open_claims),
            "warnings": warnings}


def publish_enforcement(state_dir: Path, tenant: str, frames: dict[str, pl.DataFrame], *, on: date) -> Path:
    """Write a new version of the tenant's enforcement snapshot and switch the link to it; return the link."""
    return write_snapshot(state_dir, ROOT, tenant, FRAMES, frames, on=on, descending=("cases",))


def publish_from_ledger(con: duckdb.DuckDBPyConnection, state_dir: Path, tenant: str, *, on: date,
                        settings: EnforcementSection | None = None) -> Path:
    """:func:`snapshot_frames` published (the nightly publish step's call, with the ledger open read-only)."""
    return publish_enforcement(state_dir, tenant, snapshot_frames(con, tenant, state_dir, on=on, settings=settings),
                               on=on)


def read_enforcement_published(state_dir: Path, tenant: str) -> tuple[dict[str, pl.DataFrame], dict[str, Any]]:
    """The tenant's snapshot (frames by :data:`FRAMES`, meta); empty frames and ``{}`` before the first one."""
    return read_snapshot(state_dir, ROOT, tenant, FRAMES)


__all__ = ["CASES_SCHEMA", "FRAMES", "ROOT", "WARNINGS_SCHEMA", "case_overview", "publish_enforcement",
           "publish_from_ledger", "published_dir", "read_enforcement_published", "snapshot_frames"]
