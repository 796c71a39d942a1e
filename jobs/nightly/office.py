"""The office tenant's nightly inbox: hand-off and updates files of the tenants it enforces for (issue 17 §4).

When this tenant's enforcement office works for other municipalities (``[enforcement] clients``), the data
centre's exchange (``jobs.exchange``) puts their ``Handoff`` and ``Update`` files into this tenant's inbox.
The ingest step hands every inbox file whose root is one of those messages here (:func:`split`, reading no
more than the root's tag) instead of to the bank parsers; each file gets one ``files`` row and one line of
outcome, and is archived or quarantined like any other:

* **rejected** (quarantine, the reason beside it): the reader refuses the whole file
  (``enforcement.handoff_file.read_handoff`` / ``read_updates``: not well-formed, schema, counts, control
  sums), the header's ``Tenant`` is not one of ``clients``, or its ``Receiver/Tenant`` is not this tenant;
* **duplicate** (archived, nothing booked): the same bytes came before (SHA-256 in ``files``), or the
  message id of this creditor is booked already;
* **ok**: the cases go to ``office_cases`` / ``office_case_claims``, the updates to ``office_updates`` /
  ``office_update_claims`` (migration 11), each update id of a creditor once; an update for a case this
  office never received is booked with ``hold_reason`` and not applied; a case or update the reader
  rejected inside the file is an issue (file, line, element, reason), the rest is booked.

Hand-off files go before updates files, so an update arriving in the same night as its case applies. The
staged rows go into the night's one booking transaction; a crash before it books nothing, and the rerun
finds the file again. Files are few: the loop here is per file, never per case.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import polars as pl

from claims.vocab import FileStatus
from enforcement.file_format import HANDOFF, UPDATE, EnforcementFileError
from enforcement.handoff_file import read_handoff, read_updates
from enforcement.route import HEAD_BYTES, message_kind
from jobs.nightly.inbox import Entry
from jobs.rundir import RunDir
from ledger.config import TenantConfig
from ledger.office_state import OfficeKnown
from parsers.ids import sha256_file
from parsers.issues import ERROR, WARNING, Issue
from parsers.names import display_name
from parsers.result import FILE_SCHEMA
from parsers.schema import conform

#: The messages the office imports (the outcomes go the other way: the creditor's import reads them).
OFFICE_KINDS = (HANDOFF, UPDATE)


def _kind(path: Path) -> str | None:
    if path.suffix.lower() != ".xml":
        return None
    try:
        with path.open("rb") as fh:
            return message_kind(fh.read(HEAD_BYTES))
    except OSError:
        return None


def split(entries: list[Entry]) -> tuple[list[tuple[Entry, str]], list[Entry]]:
    """``(office files with their kind, hand-offs first; the other entries)``."""
    office, rest = [], []
    for e in entries:
        kind = _kind(e.path) if e.kind == "bank" else None
        if kind in OFFICE_KINDS:
            office.append((e, kind))
        else:
            rest.append(e)
    office.sort(key=lambda pair: (OFFICE_KINDS.index(pair[1]), str(pair[0].path)))
    return office, rest


def _row(name: str, sha: str, size: int, kind: str, status: str, reason: str | None, n: int = 0) -> dict[str, Any]:
    return {"source_path": name, "source_file": sha, "source_format": f"enforcement_{kind.lower()}",
            "status": status, "reason": reason, "n_statements": 0, "n_entries": n, "n_rows": n, "size_bytes": size}


class _Night:
    """What one night books for the office: the staged frames, growing file by file."""

    def __init__(self, cfg: TenantConfig, known: OfficeKnown, booking_date: date) -> None:
        self.cfg, self.day = cfg, booking_date
        self.messages = {(r["creditor_tenant"], r["message_id"]) for r in known.messages.iter_rows(named=True)}
        self.updates = {(r["creditor_tenant"], r["update_id"]) for r in known.updates.iter_rows(named=True)}
        self.cases = {(r["creditor_tenant"], r["case_number"]) for r in known.cases.iter_rows(named=True)}
        self.frames: dict[str, list[pl.DataFrame]] = {
            "office_cases": [], "office_case_claims": [], "office_updates": [], "office_update_claims": []}
        self.issues: list[Issue] = []

    def refusal(self, header: Any) -> str | None:
        clients = self.cfg.enforcement.clients
        if header.tenant not in clients:
            return (f"Tenant {header.tenant!r} is not a client of this enforcement office "
                    f"([enforcement] clients = {list(clients)})")
        if header.receiver.tenant != self.cfg.tenant:
            return f"Receiver/Tenant {header.receiver.tenant!r} is not this tenant ({self.cfg.tenant!r})"
        return None

    def rejected_items(self, name: str, rejected: pl.DataFrame) -> None:
        for r in rejected.iter_rows(named=True):
            self.issues.append(Issue(name, f"line {r['line']} {r['element']}", WARNING, "enforcement.item_rejected",
                                     f"{r['case_number'] or r['item_id'] or ''}: {r['reason']}"))

    def handoff(self, path: Path, name: str, sha: str) -> tuple[str, str | None, int]:
        read = read_handoff(path, file=name)
        h = read.header
        why = self.refusal(h)
        if why is not None:
            return FileStatus.REJECTED, why, 0
        if (h.tenant, h.message_id) in self.messages:
            return FileStatus.DUPLICATE, f"hand-off {h.message_id} of {h.tenant} already booked", 0
        self.messages.add((h.tenant, h.message_id))
        self.rejected_items(name, read.rejected)
        tag = [pl.lit(h.tenant).alias("creditor_tenant"), pl.lit(h.message_id).alias("message_id")]
        sums = read.claims.group_by("case_number").agg(
            pl.len().alias("n_claims"), *(pl.col(c).sum() for c in ("principal_cents", "surcharges_cents", "fees_cents")))
        cases = read.cases.join(sums, on="case_number", how="left").with_columns(
            *tag, pl.lit(h.creditor.name).alias("creditor_name"), pl.lit(h.handoff_date).alias("handoff_date"),
            pl.lit(self.day).alias("received_on"), pl.lit(name).alias("file_name"), pl.lit(sha).alias("file_sha256"),
            (pl.col("principal_cents") + pl.col("surcharges_cents") + pl.col("fees_cents")).alias("total_cents"))
        self.frames["office_cases"].append(cases)
        self.frames["office_case_claims"].append(read.claims.with_columns(*tag))
        self.cases |= {(h.tenant, c) for c in read.cases["case_number"].to_list()}
        return FileStatus.OK, None, read.cases.height

    def update(self, path: Path, name: str, sha: str) -> tuple[str, str | None, int]:
        read = read_updates(path, file=name)
        h = read.header
        why = self.refusal(h)
        if why is not None:
            return FileStatus.REJECTED, why, 0
        if (h.tenant, h.message_id) in self.messages:
            return FileStatus.DUPLICATE, f"updates {h.message_id} of {h.tenant} already booked", 0
        self.messages.add((h.tenant, h.message_id))
        self.rejected_items(name, read.rejected)
        fresh = read.updates.filter(~pl.col("update_id").is_in([u for c, u in self.updates if c == h.tenant]))
        received = pl.Series("_received", [(h.tenant, c) in self.cases for c in fresh["case_number"].to_list()],
                             dtype=pl.Boolean())
        ups = fresh.with_columns(received).with_columns(
            pl.lit(h.tenant).alias("creditor_tenant"), pl.lit(h.message_id).alias("message_id"),
            pl.lit(self.day).alias("received_on"), pl.lit(name).alias("file_name"), pl.lit(sha).alias("file_sha256"),
            pl.when(pl.col("_received")).then(pl.lit(None, pl.String()))
            .otherwise(pl.lit("case not received by this office")).alias("hold_reason"))
        for r in ups.filter(pl.col("hold_reason").is_not_null()).iter_rows(named=True):
            self.issues.append(Issue(name, r["update_id"], WARNING, "enforcement.update_held",
                                     f"case {r['case_number']} of {h.tenant} was never received: update held"))
        self.frames["office_updates"].append(ups)
        self.frames["office_update_claims"].append(
            read.update_claims.join(fresh.select("update_id"), on="update_id", how="semi")
            .with_columns(pl.lit(h.tenant).alias("creditor_tenant")))
        self.updates |= {(h.tenant, u) for u in fresh["update_id"].to_list()}
        return FileStatus.OK, None, fresh.height


def ingest_office(cfg: TenantConfig, office: list[tuple[Entry, str]], known_files: set[str], *, run_id: str,
                  booking_date: date, folder: RunDir) -> tuple[pl.DataFrame, list[Issue]]:
    """Read the office files, stage their rows in ``folder``; return their ``files`` rows (in the order of
    ``office``) and the issues."""
    night = _Night(cfg, OfficeKnown.read(folder.path), booking_date)
    rows: list[dict[str, Any]] = []
    for entry, kind in office:
        name, sha, size = display_name(entry.path), sha256_file(str(entry.path)), entry.path.stat().st_size
        if sha in known_files:
            rows.append(_row(name, sha, size, kind, FileStatus.DUPLICATE, "file already imported (same SHA-256)"))
            night.issues.append(Issue(name, "", "info", "file.duplicate", "enforcement file already imported"))
            continue
        try:
            status, reason, n = (night.handoff if kind == HANDOFF else night.update)(entry.path, name, sha)
        except EnforcementFileError as exc:
            status, reason, n = FileStatus.REJECTED, str(exc), 0
        if status == FileStatus.REJECTED:
            night.issues.append(Issue(name, "", ERROR, "enforcement.file_rejected", reason or ""))
        else:
            known_files.add(sha)
        rows.append(_row(name, sha, size, kind, status, reason, n))
    for table, parts in night.frames.items():
        if parts:
            folder.book(table, pl.concat(parts, how="diagonal_relaxed").with_columns(
                pl.lit(cfg.tenant).alias("tenant"), pl.lit(run_id).alias("run_id")))
    files = conform(pl.DataFrame(rows, schema=FILE_SCHEMA), FILE_SCHEMA) if rows else pl.DataFrame(schema=FILE_SCHEMA)
    return files, night.issues
