"""The release of a prepared dunning or collection run (four-eyes), as a journal line.

A dunning run is prepared by one user (the job, started by them) and shown on the review page; only
when a supervisor **other than the preparer** releases it are its notices and fees booked and its print
files made final (issue 15 §3). The page never opens the ledger, so the release is a line appended under
``<state_dir>/journal/<tenant>/releases/`` with :mod:`ledger.journal`'s writer (fsynced, never rewritten);
the dunning job reads it when it is called again. The SEPA collection job (``jobs.collect``, issue 16)
releases its prepared pain.008 files the same way, with lines of kind ``collection_release`` (``kind=``);
run ids name their job, so one folder holds both. The payout job (``jobs.payout``) writes kind
``payout_release``, the enforcement hand-off (``jobs.handoff``) kind ``handoff_release``.

The writer refuses a release by the preparer or by anyone but a supervisor, and a second release of the
same run (:class:`~ledger.journal.JournalError`); the reader ignores such lines and reports them
(``journal.dunning_release_refused``). A line names the preparer it was checked against; the job books
only when that is the preparer its run folder recorded (a forged line cannot name someone else).

>>> from pathlib import Path; import tempfile
>>> d = Path(tempfile.mkdtemp())
>>> _ = record_release(d, "t1", "dun-2026-W49", user="sven", role="supervisor", prepared_by="anna")
>>> {k: r.released_by for k, r in read_releases(d, "t1").items()}
{'dun-2026-W49': 'sven'}
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ledger.journal import APPROVER_ROLES, JournalError, _append, journal_dir, read_lines
from parsers.issues import WARNING, Issue

KINDS = ("dunning_release", "collection_release", "payout_release", "handoff_release")
#: What a kind's messages call the run.
_WHAT = {"dunning_release": "dunning run", "collection_release": "collection run", "payout_release": "payout run",
         "handoff_release": "hand-off run"}
SUB = "releases"


@dataclass(frozen=True, slots=True)
class Release:
    """A run's release: who prepared it (as the releaser was shown) and who released it, when."""

    run_id: str
    tenant: str
    prepared_by: str
    released_by: str
    released_at: str
    role: str
    note: str = ""
    kind: str = "dunning_release"


def release_misfit(rel: Release, *, kind: str, run_id: str, prepared_by: str) -> str | None:
    """Why a booking job may not book ``run_id`` on the release line ``rel`` (``None``: it fits): the line
    must be of the job's ``kind``, name the preparer the job recorded, and come from someone else
    (four-eyes). Each job raises its own refusal with the message."""
    if rel.kind != kind:
        return f"the release of run {run_id} is a {rel.kind}, not a {_WHAT[kind].split()[0]} release"
    if rel.prepared_by != prepared_by:
        return (f"the release of run {run_id} names {rel.prepared_by} as preparer, the run was prepared by "
                f"{prepared_by}: nothing is booked")
    if rel.released_by == prepared_by:
        return f"{rel.released_by} prepared run {run_id} and may not release it (four-eyes)"
    return None


def check_release(run_id: str, user: str, role: str, prepared_by: str, kind: str = "dunning_release") -> None:
    """Raise :class:`JournalError` unless ``user`` (``role``) may release a run ``prepared_by`` prepared."""
    what = _WHAT.get(kind, "run")
    if not run_id:
        raise JournalError("a release names the run it releases")
    if role not in APPROVER_ROLES:
        raise JournalError(f"role {role!r} may not release a {what}; releases need a supervisor")
    if not user or user == prepared_by:
        raise JournalError(f"{user} prepared {what} {run_id} and may not release it (four-eyes)")


def _release_from(e: dict[str, Any]) -> Release:
    return Release(run_id=str(e["run_id"]), tenant=str(e["tenant"]), prepared_by=str(e["prepared_by"]),
                   released_by=str(e["user"]), released_at=str(e["created_at"]), role=str(e.get("role") or ""),
                   note=str(e.get("note") or ""), kind=str(e.get("kind") or "dunning_release"))


def record_release(state_dir: Path, tenant: str, run_id: str, *, user: str, role: str, prepared_by: str,
                   note: str = "", kind: str = "dunning_release") -> Release:
    """Append a ``kind`` line (``dunning_release``, ``collection_release`` or ``payout_release``) for ``run_id`` (refused: the
    preparer, a non-supervisor, a run released already)."""
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {', '.join(KINDS)}")
    check_release(run_id, user, role, prepared_by, kind)
    if run_id in read_releases(state_dir, tenant):
        raise JournalError(f"{_WHAT[kind]} {run_id} is released already")
    entry = {"kind": kind, "tenant": tenant, "run_id": run_id, "user": user, "role": role,
             "prepared_by": prepared_by, "note": note, "created_at": datetime.now(UTC).isoformat(timespec="microseconds")}
    _append(state_dir, tenant, entry, sub=SUB)
    return _release_from(entry)


def load_releases(state_dir: Path, tenant: str) -> tuple[dict[str, Release], list[Issue]]:
    """The first valid release per run, plus findings on lines that are bad, forged or repeated."""
    folder = journal_dir(state_dir, tenant) / SUB
    entries, issues = read_lines(folder, KINDS, "release entry")
    releases: dict[str, Release] = {}
    for _, where, e in entries:
        try:
            r = _release_from(e)
            check_release(r.run_id, r.released_by, r.role, r.prepared_by, r.kind)
            if r.run_id in releases:
                raise JournalError(f"{_WHAT.get(r.kind, 'run')} {r.run_id} released again (first by {releases[r.run_id].released_by})")
            releases[r.run_id] = r
        except (JournalError, KeyError, TypeError, ValueError) as exc:
            issues.append(Issue(str(folder), where, WARNING, "journal.dunning_release_refused", str(exc),
                                json.dumps(e, ensure_ascii=False)[:500]))
    return releases, issues


def read_releases(state_dir: Path, tenant: str) -> dict[str, Release]:
    """run_id → its release (forged lines ignored; :func:`load_releases` reports them)."""
    return load_releases(state_dir, tenant)[0]
