"""The generic job runner: a run's identity and folder, the tenant lock, and the one booking of a run.

Every job (the nightly reconciliation now; dunning, collection, payout, hand-off, Amtshilfe import
next) has the same shape::

    compute (plain steps, Parquet in the run folder)  →  book once  →  reports  →  publish/hand over

* :class:`Run` is the identity the steps hand each other (job, tenant config, date, run id); the frames
  travel as Parquet in its :class:`~jobs.rundir.RunDir`.
* :func:`tenant_lock` keeps two runs of one tenant (two nights, or a night and a dunning run) from
  computing against the same ledger state at once.
* :func:`book_run` appends everything staged in the run folder in ONE transaction, with the ``runs``
  row (``job`` says which) and a ``run.committed`` audit event; idempotent per ``run_id``, so a retried
  book step after a commit books nothing twice. After the commit the ledger marker is written.
* :func:`run_plain` runs a job's steps in order without Prefect, under the tenant lock. Each step ends
  with ``ledger.checkpoints.reached(<step>)``: the seam the tests use to fail a run anywhere.
"""

from __future__ import annotations

import fcntl
import json
import os
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import polars as pl

from claims.errors import KasseError
from jobs.rundir import RunDir
from ledger.booking import book
from ledger.config import TenantConfig
from ledger.db import connect
from ledger.marker import check_ledger, check_ledger_file, write_marker
from ledger.tables import RUNS
from parsers.names import safe_file_name


class TenantBusy(KasseError):
    """Another run of the same tenant holds the tenant lock: run again when it has finished."""


@dataclass(frozen=True, slots=True)
class Run:
    """One execution of a job for one tenant and date: identity and where its intermediate files live."""

    job: str
    cfg: TenantConfig
    run_date: date
    run_id: str
    started_at: datetime
    mode: str = "plain"
    flow_run_id: str | None = None

    @property
    def booking_date(self) -> date:
        """The nightly run's name for :attr:`run_date`: the bank booking day it closes."""
        return self.run_date

    @property
    def folder(self) -> RunDir:
        return RunDir(self.cfg.runs_dir / self.run_id)

    @property
    def report_dir(self) -> Path:
        return self.cfg.reports / self.cfg.tenant / self.run_date.isoformat()


def new_run(job: str, cfg: TenantConfig, run_date: date, *, mode: str = "plain",
            flow_run_id: str | None = None) -> Run:
    """A fresh run identity: ``<date>-<tenant>-<8 hex>`` (the nightly's) or ``<date>-<tenant>-<job>-<8 hex>``."""
    middle = cfg.tenant if job == "nightly" else f"{cfg.tenant}-{job}"
    return Run(job, cfg, run_date, f"{run_date:%Y%m%d}-{middle}-{uuid.uuid4().hex[:8]}", datetime.now(UTC), mode,
               flow_run_id)


@contextmanager
def tenant_lock(cfg: TenantConfig) -> Iterator[None]:
    """Hold ``<state_dir>/locks/<tenant>.lock`` for the block; :class:`TenantBusy` when another run has it.

    An OS file lock (``flock``): released by the kernel when the process ends, so a crashed run never
    leaves a stale lock behind.
    """
    folder = cfg.state_dir / "locks"
    folder.mkdir(parents=True, exist_ok=True)
    fd = os.open(folder / f"{safe_file_name(cfg.tenant)}.lock", os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW, 0o600)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError as exc:
            raise TenantBusy(f"tenant {cfg.tenant}: another run holds {folder}/…lock; run again when it has "
                             "finished") from exc
        yield
    finally:
        os.close(fd)


def runs_row(run: Run, summary: dict[str, Any], counts: dict[str, int] | None = None) -> pl.DataFrame:
    """The run's row of ``runs``: identity, the job's ``counts`` (its ``n_*`` columns), ``summary`` as JSON."""
    row: dict[str, Any] = {"tenant": run.cfg.tenant, "run_id": run.run_id, "booking_date": run.run_date,
                           "started_at": run.started_at, "committed_at": None, "mode": run.mode,
                           "flow_run_id": run.flow_run_id, "job": run.job,
                           "summary": json.dumps(summary, default=str), **(counts or {})}
    return pl.DataFrame([row]).select([pl.col(c).cast(t) if c in row else pl.lit(None, t).alias(c)
                                       for c, t in RUNS.items()])


def book_run(run: Run, frames: dict[str, pl.DataFrame], runs: pl.DataFrame) -> dict[str, int]:
    """Append the run's ``frames`` and its ``runs`` row in one transaction; return rows per table."""
    committed = pl.DataFrame([{"tenant": run.cfg.tenant, "run_id": run.run_id, "at": datetime.now(UTC),
                               "event": "run.committed", "subject": f"{run.job} {run.run_date.isoformat()}",
                               "detail": json.dumps({t: f.height for t, f in frames.items() if t != "audit_events"})}])
    audit = frames.get("audit_events")
    frames = {**frames, "runs": runs,
              "audit_events": committed if audit is None else pl.concat([audit, committed], how="diagonal_relaxed")}
    con = connect(run.cfg.ledger)
    try:
        written = book(con, frames, run_id=run.run_id)
        write_marker(run.cfg, con, run.run_id)
        return written
    finally:
        con.close()
        del con


def open_ledger(cfg: TenantConfig) -> Any:
    """The tenant's ledger, opened for a job, after the checks that it is the ledger the last commit left
    (:mod:`ledger.marker`: a lost or swapped ledger file is refused, never replaced by an empty one). The
    caller closes it."""
    check_ledger_file(cfg)
    con = connect(cfg.ledger)
    try:
        check_ledger(cfg, con)
    except BaseException:
        con.close()
        raise
    return con


Step = Callable[[Run], Any]


def run_plain(run: Run, steps: Sequence[tuple[str, Step]]) -> dict[str, Any]:
    """Run ``(name, step)`` pairs in order under the tenant lock; return ``{name: what the step returned}``."""
    out: dict[str, Any] = {}
    with tenant_lock(run.cfg):
        for name, step in steps:
            out[name] = step(run)
    return out
