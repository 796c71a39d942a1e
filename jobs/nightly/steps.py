"""The nightly run's steps: each reads and writes Parquet in the run folder (no Prefect here).

Order and who touches the ledger file::

    read_ledger   opens the ledger, reads the tenant's state, closes it     (reads)
    ingest        inbox -> parsed frames                                    (no ledger)
    match         clerk decisions, then the matcher                         (no ledger)
    close         day close, Klärungsliste, key figures (computed, not yet written out)
    enforcement   the night's updates to the enforcement office, staged (jobs/nightly/enforcement_updates.py)
    book          ONE transaction appends everything                        (the only write)
    enforcement_outbox  the booked updates files to the outbox and the case files (once per message)
    reports       report files from the frames that were just committed
    publish       read-only snapshot for the review page
    archive       inbox files to archive/ or quarantine/

Everything before ``book`` only writes into the run folder, so a failure there leaves the ledger as it
was; ``book`` is all-or-nothing; the steps after it are idempotent and a rerun completes them. Each
step ends at ``ledger.checkpoints.reached(<name>)``. :func:`run_night` runs the steps in order;
``flows/nightly.py`` names the same steps as Prefect tasks in its flow body.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import polars as pl

from jobs.nightly import (
    amtshilfe,
    amtshilfe_decisions,
    amtshilfe_money,
    close,
    enforcement_updates,
    ingest,
    match,
    outcomes,
)
from jobs.nightly.inbox import Move, apply_moves
from jobs.runner import Run, book_run, new_run, run_plain, runs_row
from ledger import checkpoints
from ledger.collection_state import read_collection_state
from ledger.config import TenantConfig, check_inbox
from ledger.db import connect
from ledger.marker import check_ledger, check_ledger_file
from ledger.office_state import read_known
from ledger.payout_back_state import read_payout_back_state
from ledger.publish import publish
from ledger.state import read_state

JOB = "nightly"


def default_booking_date() -> date:
    """The booking day a night run closes by default: yesterday."""
    return date.today() - timedelta(days=1)


def new_night(cfg: TenantConfig, booking_date: date, *, mode: str = "plain", flow_run_id: str | None = None) -> Run:
    """A fresh nightly run identity: ``<date>-<tenant>-<8 hex>``."""
    return new_run(JOB, cfg, booking_date, mode=mode, flow_run_id=flow_run_id)


def step_read_ledger(night: Run) -> str:
    """Read the tenant's current state from the ledger into the run folder.

    Refuses a tenant whose inbox folder does not exist (``ConfigError``), and a ledger file that is
    missing or holds less than the marker of the last commit records (:class:`ledger.marker.LedgerMissing`):
    a lost ledger is never replaced by an empty one.
    """
    check_inbox(night.cfg)
    check_ledger_file(night.cfg)
    con = connect(night.cfg.ledger)
    try:
        check_ledger(night.cfg, con)
        state = read_state(con, night.cfg.tenant, night.booking_date)
        own = read_collection_state(con, night.cfg.tenant, paid_too=True)
        payouts = read_payout_back_state(con, night.cfg.tenant)
        office = read_known(con, night.cfg.tenant)   # cases received from other tenants (issue 17 §4)
        outcomes.read_ledger(con, night.cfg, night.folder)   # the enforcement office's outcomes (ingest)
        amtshilfe.read_ledger(con, night.cfg, night.folder)  # foreign creditors' requests held (issue 18)
        amtshilfe_decisions.read_ledger(con, night.cfg, night.folder)   # a person's decisions booked so far
        amtshilfe_money.read(con, night.cfg, night.folder)   # their cases' payments, accepted requests, invoices
        enforcement_updates.read(con, night.cfg, night.folder)   # cases handed over? (else nothing later)
    finally:
        con.close()
        del con
    night.folder.write_state(state)
    own.write(night.folder.path, "collect_")   # our own collections: their money comes back (match step)
    payouts.write(night.folder.path, "payout_")   # our payouts: booked by the bank, or back (match step)
    office.write(night.folder.path)
    checkpoints.reached("read_ledger")
    return str(night.folder.path)


def step_ingest(night: Run) -> dict[str, int]:
    """Parse the inbox (bank files and open-items exports); return counts per file status."""
    counts = ingest.ingest(night.cfg, night.booking_date, night.run_id, night.folder)
    checkpoints.reached("ingest")
    return counts


def step_match(night: Run) -> dict[str, int]:
    """Book clerk decisions, match new (and yesterday's unresolved) payments; return counts."""
    counts = match.match(night.cfg, night.booking_date, night.run_id, night.folder)
    checkpoints.reached("match")
    return counts


def step_close(night: Run) -> dict[str, int]:
    """Compute day close (or its corrections), Klärungsliste and key figures; return counts."""
    counts = close.close(night.cfg, night.booking_date, night.run_id, night.folder)
    checkpoints.reached("close")
    return counts


def step_enforcement(night: Run) -> dict[str, int]:
    """Stage the night's updates to the enforcement office; return counts per kind (empty: no cases)."""
    counts = enforcement_updates.stage(night.cfg, night.booking_date, night.run_id, night.started_at, night.folder)
    checkpoints.reached("enforcement")
    return counts


def step_book(night: Run) -> dict[str, int]:
    """Append the run's rows to the ledger in one transaction; return rows per table."""
    checkpoints.reached("book")
    frames = outcomes.with_fee_claims(night.folder.ledger_frames(), night.folder)
    frames = amtshilfe.with_amtshilfe_claims(frames, night.folder)
    frames = amtshilfe_money.with_money(frames, night.folder, night.cfg, run_id=night.run_id,
                                        booking_date=night.booking_date)   # settled, the period's cost invoice
    summary = night.folder.read_json("summary")
    return book_run(night, frames, runs_row(night, summary, _counts(frames, summary)))


def step_enforcement_outbox(night: Run) -> dict[str, int]:
    """Write the booked, undelivered updates files to the outbox and file them in the case files."""
    if not night.folder.read_json(enforcement_updates.STATE).get("cases"):
        return {}
    con = connect(night.cfg.ledger)
    try:
        out = enforcement_updates.deliver_booked(night.cfg, night.folder, con)
    finally:
        con.close()
        del con
    checkpoints.reached("enforcement_outbox")
    return out


def step_reports(night: Run) -> dict[str, str]:
    """Write the report files (HTML, PDF, CSV, XLSX, Parquet) of the night; return name -> path."""
    paths = close.write_reports(night.cfg, night.booking_date, night.run_id, night.folder, night.report_dir)
    # after the commit: the booked outcomes into their case files (idempotent; completes a crashed run's)
    outcomes.file_outcome_documents(night.cfg, night.folder, night.run_id)
    # after the commit: the Amtshilfe feedback per creditor (what earlier runs wrote is never written again)
    con = connect(night.cfg.ledger)
    try:
        amtshilfe.write_feedback(night.cfg, con, run_id=night.run_id, today=night.booking_date)
    finally:
        con.close()
        del con
    checkpoints.reached("reports")
    return paths


def step_publish(night: Run) -> str:
    """Publish the Klärungsliste and open items for the review page; return the published folder."""
    f = night.folder
    link = publish(night.cfg.state_dir / "published", night.cfg.tenant,
                   klaerungsliste=f.read("published_klaerungsliste"), open_items=f.read("open_now"),
                   run_id=night.run_id, as_of=night.booking_date,
                   extra={name: f.read(f"published_{name}") for name in ("rules", "rule_proposals")
                          if f.file(f"published_{name}").exists()})
    if night.cfg.collection.creditor_id:
        # the night's returns and batch credits change the collection pages (Rücklastschriften, Mandate)
        from jobs.collect.publish import publish_state

        publish_state(night.cfg, on=night.booking_date)
    if night.cfg.enforcement.clients:
        from jobs.nightly.office_publish import publish_office_cases

        publish_office_cases(night.cfg)   # the cases received from other tenants, for the office's page
    # the enforcement cases (payments and outcomes of the night) and the limitation warnings of the day
    from jobs.enforcement_report import publish_state as publish_enforcement

    publish_enforcement(night.cfg, on=night.booking_date)
    amtshilfe_decisions.publish(night.cfg, on=night.booking_date)   # foreign creditors' requests (issue 18)
    checkpoints.reached("publish")
    return str(link)


def step_archive(night: Run) -> list[str]:
    """Move the run's inbox files to archive/ or quarantine/ (after the commit; idempotent).

    The moves are those the ingest step planned for the regular files it listed (``moves.json``),
    never paths taken from ``files`` rows (a ZIP member's name is not a path).
    """
    moves = [Move.from_json(m) for m in night.folder.read_json("moves").get("moves", [])]
    checkpoints.reached("archive")
    return [str(p) for p in apply_moves(moves, tenant_dir=night.cfg.tenant_dir)]


#: The steps in the order of a night, with the key each adds to the run report.
STEPS = (("read_ledger", step_read_ledger), ("files", step_ingest), ("match", step_match), ("close", step_close),
         ("enforcement", step_enforcement), ("booked", step_book), ("enforcement_outbox", step_enforcement_outbox),
         ("reports", step_reports), ("published", step_publish),
         ("archived", step_archive))


def night_report(night: Run, results: dict[str, Any]) -> dict[str, Any]:
    """The run report: identity and what each step after read_ledger returned."""
    return {"run_id": night.run_id, "tenant": night.cfg.tenant, "booking_date": str(night.booking_date),
            **{k: v for k, v in results.items() if k != "read_ledger"}}


def run_night(cfg: TenantConfig, booking_date: date) -> dict[str, Any]:
    """Run every step for one tenant and date without Prefect; return the run report (a dict)."""
    night = new_night(cfg, booking_date)
    return night_report(night, run_plain(night, STEPS))


def _counts(frames: dict[str, pl.DataFrame], summary: dict[str, Any]) -> dict[str, int]:
    """The nightly's ``n_*`` columns of its ``runs`` row."""
    files = frames["files"]
    status = files["status"].value_counts() if files.height else None
    count = {} if status is None else dict(zip(status["status"].to_list(), status["count"].to_list(), strict=True))
    return {"n_files": files.height, "n_duplicate_files": count.get("duplicate", 0),
            "n_rejected_files": count.get("rejected", 0), "n_transactions": frames["transactions"].height,
            "n_allocations": frames["allocations"].height, "n_unresolved": int(summary.get("n_unresolved", 0))}
