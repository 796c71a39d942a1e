"""The nightly run as plain steps: each reads and writes Parquet in the run folder (no Prefect here).

Order and who touches the ledger file::

    read_ledger   opens the ledger, reads the tenant's state, closes it     (reads)
    ingest        inbox -> parsed frames                                    (no ledger)
    match         clerk decisions, then the matcher                         (no ledger)
    close         day close, Klärungsliste, key figures (computed, not yet written out)
    book          ONE transaction appends everything                        (the only write)
    reports       report files from the frames that were just committed
    publish       read-only snapshot for the review page
    archive       inbox files to archive/ or quarantine/

Everything before ``book`` only writes into the run folder, so a failure there leaves the ledger as it
was; ``book`` is all-or-nothing; the steps after it are idempotent and a rerun completes them.
:func:`run_night` runs the steps in order; ``flows/nightly.py`` runs the same steps as Prefect tasks.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import polars as pl

from ledger import steps_close, steps_ingest, steps_match
from ledger.booking import book, maybe_fail
from ledger.config import TenantConfig, check_inbox
from ledger.db import connect
from ledger.inbox import Move, apply_moves
from ledger.marker import check_ledger, check_ledger_file, write_marker
from ledger.publish import publish
from ledger.rundir import RunDir
from ledger.state import read_state

#: Step names in order (``fail_at`` takes one of these, or ``book.<table>`` / ``book.commit``).
STEPS = ("read_ledger", "ingest", "match", "close", "book", "reports", "publish", "archive")


@dataclass(frozen=True, slots=True)
class Night:
    """One tenant's run for one booking date: identity and where its intermediate files live."""

    cfg: TenantConfig
    booking_date: date
    run_id: str
    started_at: datetime
    mode: str = "plain"
    flow_run_id: str | None = None

    @property
    def folder(self) -> RunDir:
        return RunDir(self.cfg.runs_dir / self.run_id)

    @property
    def report_dir(self) -> Path:
        return self.cfg.reports / self.cfg.tenant / self.booking_date.isoformat()


def default_booking_date() -> date:
    """The booking day a night run closes by default: yesterday."""
    return date.today() - timedelta(days=1)


def new_night(cfg: TenantConfig, booking_date: date, *, mode: str = "plain",
              flow_run_id: str | None = None) -> Night:
    """A fresh run identity: ``<date>-<tenant>-<8 hex>``."""
    run_id = f"{booking_date:%Y%m%d}-{cfg.tenant}-{uuid.uuid4().hex[:8]}"
    return Night(cfg, booking_date, run_id, datetime.now(UTC), mode, flow_run_id)


def step_read_ledger(night: Night, fail_at: str | None = None) -> str:
    """Read the tenant's current state from the ledger into the run folder.

    Refuses (:class:`ledger.marker.LedgerMissing`) when the ledger file is missing or holds less than
    the marker of the last commit records: a lost ledger is never replaced by an empty one.
    """
    check_ledger_file(night.cfg)
    con = connect(night.cfg.ledger)
    try:
        check_ledger(night.cfg, con)
        state = read_state(con, night.cfg.tenant, night.booking_date)
    finally:
        con.close()
        del con
    night.folder.write_state(state)
    maybe_fail("read_ledger", fail_at)
    return str(night.folder.path)


def step_ingest(night: Night, fail_at: str | None = None) -> dict[str, int]:
    """Parse the inbox (bank files and open-items exports); return counts per file status."""
    counts = steps_ingest.ingest(night.cfg, night.booking_date, night.run_id, night.folder)
    maybe_fail("ingest", fail_at)
    return counts


def step_match(night: Night, fail_at: str | None = None) -> dict[str, int]:
    """Book clerk decisions, match new (and yesterday's unresolved) payments; return counts."""
    counts = steps_match.match(night.cfg, night.booking_date, night.run_id, night.folder)
    maybe_fail("match", fail_at)
    return counts


def step_close(night: Night, fail_at: str | None = None) -> dict[str, int]:
    """Compute day close (or its corrections), Klärungsliste and key figures; return counts."""
    counts = steps_close.close(night.cfg, night.booking_date, night.run_id, night.folder)
    maybe_fail("close", fail_at)
    return counts


def step_book(night: Night, fail_at: str | None = None) -> dict[str, int]:
    """Append the run's rows to the ledger in one transaction; return rows per table."""
    maybe_fail("book", fail_at)
    frames = night.folder.ledger_frames()
    frames["runs"] = _run_row(night, frames)
    frames["audit_events"] = pl.concat([frames["audit_events"], _audit_committed(night, frames)],
                                       how="diagonal_relaxed")
    con = connect(night.cfg.ledger)
    try:
        written = book(con, frames, run_id=night.run_id, fail_at=fail_at)
        write_marker(night.cfg, con, night.run_id)
        return written
    finally:
        con.close()
        del con


def step_reports(night: Night, fail_at: str | None = None) -> dict[str, str]:
    """Write the report files (HTML, PDF, CSV, XLSX, Parquet) of the night; return name -> path."""
    paths = steps_close.write_reports(night.cfg, night.booking_date, night.run_id, night.folder,
                                      night.report_dir)
    maybe_fail("reports", fail_at)
    return paths


def step_publish(night: Night, fail_at: str | None = None) -> str:
    """Publish the Klärungsliste and open items for the review page; return the published folder."""
    f = night.folder
    link = publish(night.cfg.state_dir / "published", night.cfg.tenant,
                   klaerungsliste=f.read("published_klaerungsliste"), open_items=f.read("open_now"),
                   run_id=night.run_id, as_of=night.booking_date)
    maybe_fail("publish", fail_at)
    return str(link)


def step_archive(night: Night, fail_at: str | None = None) -> list[str]:
    """Move the run's inbox files to archive/ or quarantine/ (after the commit; idempotent).

    The moves are those the ingest step planned for the regular files it listed (``moves.json``),
    never paths taken from ``files`` rows (a ZIP member's name is not a path).
    """
    moves = [Move.from_json(m) for m in night.folder.read_json("moves").get("moves", [])]
    maybe_fail("archive", fail_at)
    return [str(p) for p in apply_moves(moves, tenant_dir=night.cfg.tenant_dir)]


#: What each step after read_ledger adds to the run report, in the order of a night.
REPORT_KEYS = ("files", "match", "close", "booked", "reports", "published", "archived")


def run_steps(night: Night, steps: Sequence[Callable[[Night, str | None], Any]], fail_at: str | None) -> dict[str, Any]:
    """Run the eight steps of a night in order (read_ledger, ingest, match, close, book, reports,
    publish, archive — as plain functions or as Prefect tasks) and return the run report.

    Refuses (:class:`ledger.config.ConfigError`) a tenant whose inbox folder does not exist, before
    anything is read or written."""
    check_inbox(night.cfg)
    report: dict[str, Any] = {"run_id": night.run_id, "tenant": night.cfg.tenant, "booking_date": str(night.booking_date)}
    read_ledger, *rest = steps
    read_ledger(night, fail_at)
    for key, step in zip(REPORT_KEYS, rest, strict=True):
        report[key] = step(night, fail_at)
    return report


def run_night(cfg: TenantConfig, booking_date: date, *, fail_at: str | None = None) -> dict[str, Any]:
    """Run every step for one tenant and date without Prefect; return the run report (a dict)."""
    return run_steps(new_night(cfg, booking_date), (step_read_ledger, step_ingest, step_match, step_close, step_book,
                                                     step_reports, step_publish, step_archive), fail_at)


def _run_row(night: Night, frames: dict[str, pl.DataFrame]) -> pl.DataFrame:
    files = frames["files"]
    status = files["status"].value_counts() if files.height else None
    count = {} if status is None else dict(zip(status["status"].to_list(), status["count"].to_list(), strict=True))
    summary = night.folder.read_json("summary")
    return pl.DataFrame([{
        "tenant": night.cfg.tenant, "run_id": night.run_id, "booking_date": night.booking_date,
        "started_at": night.started_at, "committed_at": None, "mode": night.mode,
        "flow_run_id": night.flow_run_id, "n_files": files.height,
        "n_duplicate_files": count.get("duplicate", 0), "n_rejected_files": count.get("rejected", 0),
        "n_transactions": frames["transactions"].height, "n_allocations": frames["allocations"].height,
        "n_unresolved": int(summary.get("n_unresolved", 0)), "summary": json.dumps(summary, default=str),
    }])


def _audit_committed(night: Night, frames: dict[str, pl.DataFrame]) -> pl.DataFrame:
    detail = {t: f.height for t, f in frames.items() if t not in ("runs", "audit_events")}
    return pl.DataFrame([{"tenant": night.cfg.tenant, "run_id": night.run_id,
                          "at": datetime.now(UTC), "event": "run.committed",
                          "subject": night.booking_date.isoformat(), "detail": json.dumps(detail)}])
