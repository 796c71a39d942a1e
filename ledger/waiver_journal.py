"""Decisions that a claim is enforced without a Mahnung (Mahnverzicht), as journal lines of the review page.

The enforcement hand-off needs a Mahnung sent — or one legitimately left out (DOMAIN.md §1.3, VV VwVG NRW:
the cost out of proportion, the debtor obviously without means, the address unknown, a continuing
garnishment, a published reminder, a serious and final refusal; :class:`~claims.vocab.MahnungWaiver`). That
is a decision a person takes and answers for, so it is written like a block (:mod:`ledger.block_journal`):
one JSON line per step under ``<state_dir>/journal/<tenant>/waivers/``, appended and fsynced, never
rewritten; the hand-off job folds the lines and hands the waivers in force to
:func:`enforcement.select.select` (:func:`waivers_frame`).

Line kinds (``kind``):

* ``waiver_set`` — a clerk or supervisor records for one claim (``receivable_id``) or every claim of a
  debtor (``debtor_id``) a reason, the day from which it holds (``since``: the day the fact was found, not
  in the future), for a published reminder its payment ``deadline``, and a note (where the file is);
* ``waiver_approval`` — a supervisor other than the setter approves it. **Always four-eyes**: a waiver
  lets enforcement start without the warning the law normally demands, so it counts only once approved;
* ``waiver_withdraw`` — a clerk or supervisor takes it back (with a note): from that day it counts no more.

A waiver counts on a day when it is approved, not withdrawn by then, and ``since`` has come. It never
replaces a Mahnung that was sent: the selection reads a waiver only for a claim without one.

>>> from pathlib import Path; import tempfile
>>> d = Path(tempfile.mkdtemp())
>>> w = set_waiver(d, "t1", debtor_id="D7", waiver=MahnungWaiver.ADDRESS_UNKNOWN, since=date(2026, 11, 2),
...                note="EMA-Anfrage 10/26 ohne Ergebnis", user="anna", role="clerk")
>>> waivers_frame(read_waivers(d, "t1"), date(2026, 12, 1)).height      # not approved yet: counts nothing
0
>>> _ = approve_waiver(d, "t1", w.waiver_id, user="sven", role="supervisor")
>>> waivers_frame(read_waivers(d, "t1"), date(2026, 12, 1)).select("debtor_id", "waiver").row(0)
('D7', 'address_unknown')
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import polars as pl

from claims.vocab import MahnungWaiver
from ledger.journal import APPROVER_ROLES, JournalError, _append, journal_dir, read_lines
from parsers.issues import WARNING, Issue

KINDS = ("waiver_set", "waiver_approval", "waiver_withdraw")
SUB = "waivers"
#: Roles that may record and withdraw a waiver (auditors and the enforcement office read only).
SETTER_ROLES = frozenset({"clerk", "supervisor"})
#: The frame the enforcement selection takes (``enforcement.frames.MahnungWaived``).
WAIVER_SCHEMA: dict[str, pl.DataType] = {"receivable_id": pl.String(), "debtor_id": pl.String(),
                                         "waiver": pl.String(), "since": pl.Date(), "deadline": pl.Date()}


@dataclass(frozen=True, slots=True)
class Waiver:
    """A Mahnverzicht as its journal lines made it; exactly one of ``receivable_id`` and ``debtor_id`` is set."""

    waiver_id: str
    tenant: str
    receivable_id: str | None
    debtor_id: str | None
    waiver: str
    since: date
    deadline: date | None
    note: str
    set_by: str
    set_at: str
    approved_by: str | None = None
    approved_at: str | None = None
    withdrawn_by: str | None = None
    withdrawn_at: str | None = None
    withdraw_note: str | None = None

    @property
    def withdrawn_on(self) -> date | None:
        """The day the withdrawal took effect (the day it was written, UTC)."""
        return datetime.fromisoformat(self.withdrawn_at).date() if self.withdrawn_at else None

    def counts_on(self, day: date) -> bool:
        """Approved, begun, and not withdrawn by ``day``."""
        withdrawn = self.withdrawn_on
        return (self.approved_by is not None and self.since <= day
                and (withdrawn is None or withdrawn > day))

    def state_on(self, day: date) -> str:
        """``withdrawn``, ``awaiting_approval``, ``scheduled`` (``since`` still to come) or ``in_force``."""
        withdrawn = self.withdrawn_on
        if withdrawn is not None and withdrawn <= day:
            return "withdrawn"
        if self.approved_by is None:
            return "awaiting_approval"
        return "in_force" if self.since <= day else "scheduled"


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="microseconds")


def _entry(kind: str, tenant: str, waiver_id: str, user: str, role: str, **more: Any) -> dict[str, Any]:
    return {"kind": kind, "tenant": tenant, "waiver_id": waiver_id, "user": user, "role": role,
            "created_at": _now(), **more}


def check_set(w: Waiver, role: str, *, today: date | None = None) -> None:
    """Raise :class:`JournalError` unless ``w`` is a waiver its setter (``role``) may write."""
    if role not in SETTER_ROLES:
        raise JournalError(f"role {role!r} may not record a Mahnverzicht")
    if (w.receivable_id is None) == (w.debtor_id is None):
        raise JournalError("a Mahnverzicht is for one claim (receivable_id) or one debtor (debtor_id), not both or none")
    if w.waiver not in tuple(MahnungWaiver):
        raise JournalError(f"the reason must be one of {', '.join(MahnungWaiver)}, got {w.waiver!r}")
    if w.waiver == MahnungWaiver.PUBLIC_REMINDER and w.deadline is None:
        raise JournalError("a public reminder needs its payment deadline")
    if w.deadline is not None and w.deadline < w.since:
        raise JournalError(f"the deadline ({w.deadline:%d.%m.%Y}) lies before the day it holds from "
                           f"({w.since:%d.%m.%Y})")
    if today is not None and w.since > today:
        raise JournalError(f"a Mahnverzicht records a fact found: it cannot hold from a future day ({w.since:%d.%m.%Y})")
    if not w.note.strip():
        raise JournalError("a Mahnverzicht needs a note (why, and where the file is)")


def check_approval(w: Waiver, user: str, role: str) -> None:
    """Raise :class:`JournalError` unless ``user`` (``role``) may approve ``w`` (four-eyes, always)."""
    if role not in APPROVER_ROLES:
        raise JournalError(f"role {role!r} may not approve a Mahnverzicht; approvals need a supervisor")
    if user == w.set_by:
        raise JournalError(f"{user} recorded Mahnverzicht {w.waiver_id} and may not approve it (four-eyes)")
    if w.approved_by is not None or w.withdrawn_by is not None:
        raise JournalError(f"Mahnverzicht {w.waiver_id} is not waiting for approval")


def check_withdraw(w: Waiver, role: str, note: str) -> None:
    """Raise :class:`JournalError` unless a user of ``role`` may withdraw ``w`` now (with a note)."""
    if role not in SETTER_ROLES:
        raise JournalError(f"role {role!r} may not withdraw a Mahnverzicht")
    if w.withdrawn_by:
        raise JournalError(f"Mahnverzicht {w.waiver_id} is withdrawn already")
    if not note.strip():
        raise JournalError("withdrawing a Mahnverzicht needs a note")


def _day(value: object) -> date | None:
    return date.fromisoformat(str(value)) if value else None


def _waiver_from(e: dict[str, Any]) -> Waiver:
    since = _day(e["since"])
    if since is None:
        raise ValueError("a Mahnverzicht without the day it holds from")
    return Waiver(waiver_id=str(e["waiver_id"]), tenant=str(e["tenant"]), receivable_id=e.get("receivable_id") or None,
                  debtor_id=e.get("debtor_id") or None, waiver=str(e["waiver"]), since=since,
                  deadline=_day(e.get("deadline")), note=str(e.get("note") or ""), set_by=str(e["user"]),
                  set_at=str(e["created_at"]))


def set_waiver(state_dir: Path, tenant: str, *, receivable_id: str | None = None, debtor_id: str | None = None,
               waiver: MahnungWaiver | str, since: date, note: str, user: str, role: str,
               deadline: date | None = None) -> Waiver:
    """Append a ``waiver_set`` (it counts once a second person approves it: :func:`approve_waiver`)."""
    entry = _entry("waiver_set", tenant, str(uuid.uuid4()), user, role, receivable_id=receivable_id or None,
                   debtor_id=debtor_id or None, waiver=str(waiver).strip().lower(), since=since.isoformat(),
                   deadline=deadline.isoformat() if deadline else None, note=note)
    w = _waiver_from(entry)
    check_set(w, role, today=datetime.now(UTC).date())
    _append(state_dir, tenant, entry, sub=SUB)
    return w


def _find(state_dir: Path, tenant: str, waiver_id: str) -> Waiver:
    for w in read_waivers(state_dir, tenant):
        if w.waiver_id == waiver_id:
            return w
    raise JournalError(f"Mahnverzicht {waiver_id} not found in tenant {tenant}'s journal")


def approve_waiver(state_dir: Path, tenant: str, waiver_id: str, *, user: str, role: str) -> Waiver:
    """Append a ``waiver_approval`` (a supervisor who did not record it)."""
    w = _find(state_dir, tenant, waiver_id)
    check_approval(w, user, role)
    entry = _entry("waiver_approval", tenant, waiver_id, user, role)
    _append(state_dir, tenant, entry, sub=SUB)
    return replace(w, approved_by=user, approved_at=entry["created_at"])


def withdraw_waiver(state_dir: Path, tenant: str, waiver_id: str, *, user: str, role: str, note: str) -> Waiver:
    """Append a ``waiver_withdraw``: from today the waiver counts no more."""
    w = _find(state_dir, tenant, waiver_id)
    check_withdraw(w, role, note)
    entry = _entry("waiver_withdraw", tenant, waiver_id, user, role, note=note)
    _append(state_dir, tenant, entry, sub=SUB)
    return replace(w, withdrawn_by=user, withdrawn_at=entry["created_at"], withdraw_note=note)


def load_waivers(state_dir: Path, tenant: str) -> tuple[list[Waiver], list[Issue]]:
    """Every waiver of a tenant as its lines made it, plus findings on lines that are bad or refused (a
    forged approval by the setter, a line for an unknown waiver …: reported, never counted)."""
    folder = journal_dir(state_dir, tenant) / SUB
    entries, issues = read_lines(folder, KINDS, "waiver entry")
    waivers: dict[str, Waiver] = {}
    for _, where, e in entries:
        kind = str(e["kind"])
        try:
            if kind == "waiver_set":
                w = _waiver_from(e)
                check_set(w, str(e.get("role") or ""), today=datetime.fromisoformat(str(e["created_at"])).date())
                if w.waiver_id in waivers:
                    raise JournalError(f"Mahnverzicht {w.waiver_id} recorded twice")
                waivers[w.waiver_id] = w
                continue
            found = waivers.get(str(e.get("waiver_id")))
            if found is None:
                raise JournalError(f"{kind} refers to unknown Mahnverzicht {e.get('waiver_id')}")
            w = found
            user, role = str(e.get("user") or ""), str(e.get("role") or "")
            if kind == "waiver_approval":
                check_approval(w, user, role)
                waivers[w.waiver_id] = replace(w, approved_by=user, approved_at=str(e["created_at"]))
            else:
                note = str(e.get("note") or "")
                check_withdraw(w, role, note)
                datetime.fromisoformat(str(e["created_at"]))
                waivers[w.waiver_id] = replace(w, withdrawn_by=user, withdrawn_at=str(e["created_at"]),
                                               withdraw_note=note)
        except (JournalError, KeyError, TypeError, ValueError) as exc:
            issues.append(Issue(str(folder), where, WARNING, f"journal.{kind}_refused", str(exc),
                                json.dumps(e, ensure_ascii=False)[:500]))
    return list(waivers.values()), issues


def read_waivers(state_dir: Path, tenant: str) -> list[Waiver]:
    """Every waiver of a tenant (use :meth:`Waiver.counts_on` for a day)."""
    return load_waivers(state_dir, tenant)[0]


def waivers_frame(waivers: list[Waiver], as_of: date) -> pl.DataFrame:
    """The waivers that count on ``as_of`` as :func:`enforcement.select.select` takes them (``MahnungWaived``)."""
    rows = [{"receivable_id": w.receivable_id, "debtor_id": w.debtor_id, "waiver": w.waiver, "since": w.since,
             "deadline": w.deadline} for w in waivers if w.counts_on(as_of)]
    return pl.DataFrame(rows, schema=WAIVER_SCHEMA)
