"""The clerks' decision journal: append-only JSON lines the review page writes and the nightly run reads.

The DuckDB ledger has one writer (the nightly run), so the review page never opens it. A clerk's
decision is appended here instead, one JSON object per line, under ``<state_dir>/journal/<tenant>/``
(one file per day and process, so two processes never write the same file; every append is fsynced).
Nothing is ever rewritten: an approval or a withdrawal is a new line that refers to a decision.

Line kinds:

* ``decision`` — action ``assign`` | ``refund`` | ``park`` | ``retry`` on one Klärungsliste payment;
* ``approval`` — a second user (role supervisor, never the author) approves a decision (``approves``);
* ``withdrawal`` — the author or a supervisor withdraws a decision (``withdraws``).

The reader folds the lines into each decision's effective state (:data:`STATES`); the nightly run books
:func:`effective_decisions` and records each by ``decision_id`` (idempotent).

>>> from pathlib import Path; import tempfile
>>> d = Path(tempfile.mkdtemp())
>>> x = record_decision(d, new_decision("t1", "tx1", "retry", user="anna", role="clerk",
...     amount_cents=0, requires_approval=False))
>>> [(y.action, str(y.state)) for y in read_decisions(d, "t1")]
[('retry', 'effective')]
"""

from __future__ import annotations

import json
import os
import re
import socket
import threading
import uuid
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from claims.vocab import DecisionAction, DecisionState
from parsers.issues import ERROR, WARNING, Issue, money

ACTIONS = tuple(DecisionAction)
KINDS = ("decision", "approval", "withdrawal")
#: pending = waits for a second user's approval; effective = the next nightly run books it;
#: withdrawn = taken back; superseded = a later decision on the same payment replaced it.
STATES = tuple(DecisionState)
APPROVER_ROLES = frozenset({"supervisor"})
_TENANT_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
_WRITE_LOCK = threading.Lock()


class JournalError(ValueError):
    """A journal entry that must not be written (self-approval, amounts that do not add up, ...)."""


@dataclass(frozen=True, slots=True)
class Allocation:
    """One part of an ``assign`` decision: money for one open item (integer cents)."""

    receivable_id: str
    kassenzeichen: str
    amount_cents: int


@dataclass(frozen=True, slots=True)
class Decision:
    """A clerk decision with the state the journal gives it (see :data:`STATES`)."""

    decision_id: str
    tenant: str
    transaction_id: str
    action: str
    user: str
    role: str
    created_at: str
    amount_cents: int                      # the money the decision moves (0 for retry)
    requires_approval: bool
    allocations: tuple[Allocation, ...] = ()
    refund_iban: str | None = None
    note: str = ""
    before: dict[str, Any] = field(default_factory=dict)
    after: dict[str, Any] = field(default_factory=dict)
    state: str = DecisionState.PENDING
    approved_by: str | None = None
    approved_at: str | None = None
    withdrawn_by: str | None = None
    withdrawn_at: str | None = None
    source: str = ""                       # journal file and line the decision was read from


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="microseconds")


def journal_dir(state_dir: Path, tenant: str) -> Path:
    """The folder holding a tenant's journal files (the tenant name is checked: it becomes a path)."""
    if not _TENANT_RE.match(tenant):
        raise JournalError(f"tenant {tenant!r} is not a valid tenant name (letters, digits, _ . -)")
    return Path(state_dir) / "journal" / tenant


def new_decision(
    tenant: str,
    transaction_id: str,
    action: str,
    *,
    user: str,
    role: str,
    amount_cents: int,
    requires_approval: bool,
    allocations: tuple[Allocation, ...] | list[Allocation] = (),
    refund_iban: str | None = None,
    note: str = "",
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
) -> Decision:
    """A fresh decision (new uuid, created now, state pending/effective); :func:`record_decision` writes it."""
    return Decision(
        decision_id=str(uuid.uuid4()),
        tenant=tenant,
        transaction_id=transaction_id,
        action=action,
        user=user,
        role=role,
        created_at=_now(),
        amount_cents=int(amount_cents),
        requires_approval=bool(requires_approval),
        allocations=tuple(allocations),
        refund_iban=refund_iban,
        note=note,
        before=dict(before or {}),
        after=dict(after or {}),
        state=DecisionState.PENDING if requires_approval else DecisionState.EFFECTIVE,
    )


def check_decision(d: Decision) -> None:
    """Raise :class:`JournalError` when a decision is not bookable as written (amounts, IBAN, note)."""
    if d.action not in ACTIONS:
        raise JournalError(f"action must be one of {', '.join(ACTIONS)}, got {d.action!r}")
    if not d.user or not d.transaction_id:
        raise JournalError("a decision needs a user and a transaction_id")
    if d.action == DecisionAction.ASSIGN:
        if not d.allocations:
            raise JournalError("assign needs at least one open item")
        if any(a.amount_cents <= 0 for a in d.allocations):
            raise JournalError("every assigned amount must be above 0.00")
        total = sum(a.amount_cents for a in d.allocations)
        if total != d.amount_cents:
            raise JournalError(
                f"split amounts add up to {money(total)}, but the payment is {money(d.amount_cents)} "
                f"({money(abs(d.amount_cents - total))} {'too much' if total > d.amount_cents else 'missing'})"
            )
        ids = [a.receivable_id for a in d.allocations]
        if len(set(ids)) != len(ids):
            raise JournalError("the same open item appears twice in one split")
    if d.action == DecisionAction.REFUND and not d.refund_iban:
        raise JournalError("refund needs the IBAN to pay back to")
    if d.action == DecisionAction.PARK and not d.note.strip():
        raise JournalError("parking as Verwahrgeld needs a note saying why")


def _to_line(entry: dict[str, Any]) -> bytes:
    return (json.dumps(entry, ensure_ascii=False, sort_keys=True, separators=(",", ":"), default=str) + "\n").encode()


def _append(state_dir: Path, tenant: str, entry: dict[str, Any], *, sub: str = "") -> Path:
    """Append one line to this process's file of the day and fsync it (and the folder on creation);
    ``sub``: a subfolder of the tenant's journal (``rules`` for :mod:`ledger.rule_journal`)."""
    folder = journal_dir(state_dir, tenant) / sub if sub else journal_dir(state_dir, tenant)
    folder.mkdir(parents=True, exist_ok=True)
    host = re.sub(r"[^A-Za-z0-9_-]", "_", socket.gethostname())[:32]
    path = folder / f"{datetime.now(UTC):%Y-%m-%d}-{host}-{os.getpid()}.jsonl"
    data = _to_line(entry)
    with _WRITE_LOCK:
        created = not path.exists()
        fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o640)
        try:
            os.write(fd, data)
            os.fsync(fd)
        finally:
            os.close(fd)
        if created:
            dfd = os.open(folder, os.O_RDONLY)
            try:
                os.fsync(dfd)
            finally:
                os.close(dfd)
    return path


def record_decision(state_dir: Path, decision: Decision) -> Decision:
    """Check and append a ``decision`` line; returns the decision as written."""
    check_decision(decision)
    entry = asdict(decision)
    for key in ("state", "approved_by", "approved_at", "withdrawn_by", "withdrawn_at", "source"):
        entry.pop(key)
    entry["kind"] = "decision"
    _append(state_dir, decision.tenant, entry)
    return decision


def _find(state_dir: Path, tenant: str, decision_id: str) -> Decision:
    for d in read_decisions(state_dir, tenant):
        if d.decision_id == decision_id:
            return d
    raise JournalError(f"decision {decision_id} not found in tenant {tenant}'s journal")


def record_approval(state_dir: Path, tenant: str, decision_id: str, *, user: str, role: str, note: str = "") -> Decision:
    """Append an ``approval`` line: only a supervisor, never the author, only a pending decision."""
    d = _find(state_dir, tenant, decision_id)
    if role not in APPROVER_ROLES:
        raise JournalError(f"role {role!r} may not approve; approvals need a supervisor")
    if user == d.user:
        raise JournalError(f"{user} wrote decision {decision_id} and may not approve it (four-eyes)")
    if d.state != DecisionState.PENDING:
        raise JournalError(f"decision {decision_id} is {d.state}, not pending approval")
    entry = {"kind": "approval", "decision_id": str(uuid.uuid4()), "approves": decision_id, "tenant": tenant,
             "transaction_id": d.transaction_id, "user": user, "role": role, "note": note, "created_at": _now()}
    _append(state_dir, tenant, entry)
    return replace(d, state=DecisionState.EFFECTIVE, approved_by=user, approved_at=entry["created_at"])


def record_withdrawal(state_dir: Path, tenant: str, decision_id: str, *, user: str, role: str, note: str = "") -> Decision:
    """Append a ``withdrawal`` line: the author or a supervisor takes back a pending or effective decision."""
    d = _find(state_dir, tenant, decision_id)
    if user != d.user and role not in APPROVER_ROLES:
        raise JournalError(f"only {d.user} or a supervisor may withdraw decision {decision_id}")
    if d.state not in (DecisionState.PENDING, DecisionState.EFFECTIVE):
        raise JournalError(f"decision {decision_id} is {d.state}; nothing to withdraw")
    entry = {"kind": "withdrawal", "decision_id": str(uuid.uuid4()), "withdraws": decision_id, "tenant": tenant,
             "transaction_id": d.transaction_id, "user": user, "role": role, "note": note, "created_at": _now()}
    _append(state_dir, tenant, entry)
    return replace(d, state=DecisionState.WITHDRAWN, withdrawn_by=user, withdrawn_at=entry["created_at"])


def journal_signature(state_dir: Path, tenant: str) -> tuple[tuple[str, int, int], ...]:
    """(name, size, mtime) of each journal file: changes whenever a line is appended (for caches)."""
    folder = journal_dir(state_dir, tenant)
    if not folder.is_dir():
        return ()
    out = []
    for p in sorted(folder.glob("*.jsonl")):
        st = p.stat()
        out.append((p.name, st.st_size, st.st_mtime_ns))
    return tuple(out)


def _decision_from(entry: dict[str, Any], source: str) -> Decision:
    allocs = tuple(
        Allocation(str(a["receivable_id"]), str(a.get("kassenzeichen") or ""), int(a["amount_cents"]))
        for a in entry.get("allocations") or ()
    )
    d = Decision(
        decision_id=str(entry["decision_id"]), tenant=str(entry["tenant"]),
        transaction_id=str(entry["transaction_id"]), action=str(entry["action"]), user=str(entry["user"]),
        role=str(entry.get("role") or ""), created_at=str(entry["created_at"]),
        amount_cents=int(entry["amount_cents"]), requires_approval=bool(entry["requires_approval"]),
        allocations=allocs, refund_iban=entry.get("refund_iban"), note=str(entry.get("note") or ""),
        before=dict(entry.get("before") or {}), after=dict(entry.get("after") or {}), source=source,
    )
    check_decision(d)
    return d


def read_lines(folder: Path, kinds: tuple[str, ...] = KINDS, what: str = "journal entry",
               ) -> tuple[list[tuple[str, str, dict[str, Any]]], list[Issue]]:
    """The JSON lines of every ``*.jsonl`` file in ``folder`` whose ``kind`` is one of ``kinds``, as
    (created_at, file:line, entry) in the order written; a bad line is an issue naming file and line."""
    entries: list[tuple[str, str, dict[str, Any]]] = []
    issues: list[Issue] = []
    for path in sorted(folder.glob("*.jsonl")) if folder.is_dir() else ():
        with path.open("rb") as fh:
            for no, raw in enumerate(fh, start=1):
                text = raw.decode("utf-8", errors="replace").strip()
                if not text:
                    continue
                try:
                    entry = json.loads(text)
                    if not isinstance(entry, dict) or entry.get("kind") not in kinds:
                        raise ValueError(f"kind must be one of {', '.join(kinds)}")
                except ValueError as exc:
                    issues.append(Issue(str(path), f"line {no}", ERROR, "journal.bad_line",
                                        f"expected one JSON {what}, got: {exc}", text[:500]))
                    continue
                entries.append((str(entry.get("created_at", "")), f"{path.name}:{no}", entry))
    entries.sort(key=lambda e: (e[0], e[1]))
    return entries, issues


def load_journal(state_dir: Path, tenant: str) -> tuple[list[Decision], list[Issue]]:
    """All decisions of a tenant in the order written, with their state, plus findings on bad lines."""
    entries, issues = read_lines(journal_dir(state_dir, tenant))
    decisions: dict[str, Decision] = {}
    for _, where, e in entries:
        kind = e["kind"]
        try:
            if kind == "decision":
                d = _decision_from(e, where)
                decisions[d.decision_id] = replace(d, state=DecisionState.PENDING if d.requires_approval else DecisionState.EFFECTIVE)
                continue
            target_id = str(e.get("approves") if kind == "approval" else e.get("withdraws"))
            target = decisions.get(target_id)
            if target is None:
                raise JournalError(f"{kind} refers to unknown decision {target_id}")
            if kind == "approval":
                if e.get("user") == target.user or e.get("role") not in APPROVER_ROLES:
                    raise JournalError(f"approval by {e.get('user')} ({e.get('role')}) of {target.user}'s "
                                       "decision ignored: needs a different user with role supervisor")
                if target.state == DecisionState.PENDING:
                    decisions[target_id] = replace(target, state=DecisionState.EFFECTIVE, approved_by=str(e["user"]),
                                                   approved_at=str(e["created_at"]))
            elif target.state in (DecisionState.PENDING, DecisionState.EFFECTIVE):
                decisions[target_id] = replace(target, state=DecisionState.WITHDRAWN, withdrawn_by=str(e["user"]),
                                               withdrawn_at=str(e["created_at"]))
        except (JournalError, KeyError, TypeError, ValueError) as exc:
            issues.append(Issue(str(journal_dir(state_dir, tenant)), where, WARNING, f"journal.{kind}_refused",
                                str(exc), json.dumps(e, ensure_ascii=False)[:500]))
    # the latest live decision on a payment wins; earlier live ones are superseded
    latest: dict[str, str] = {}
    for d in decisions.values():
        if d.state in (DecisionState.PENDING, DecisionState.EFFECTIVE):
            previous = latest.get(d.transaction_id)
            if previous is not None:
                decisions[previous] = replace(decisions[previous], state=DecisionState.SUPERSEDED)
            latest[d.transaction_id] = d.decision_id
    return list(decisions.values()), issues


def read_decisions(state_dir: Path, tenant: str) -> list[Decision]:
    """All decisions of a tenant with their state (pending / effective / withdrawn / superseded)."""
    return load_journal(state_dir, tenant)[0]


def effective_decisions(state_dir: Path, tenant: str) -> list[Decision]:
    """The decisions the next nightly run books (approved or below the four-eyes limit, not withdrawn)."""
    return [d for d in read_decisions(state_dir, tenant) if d.state == DecisionState.EFFECTIVE]
