"""Dunning blocks (Mahnsperren) set, approved and lifted on the review page, as journal lines.

The review page never opens the ledger, so a block is written like a clerk decision: one JSON line per
step, appended (fsynced) under ``<state_dir>/journal/<tenant>/blocks/`` by :mod:`ledger.journal`'s writer,
never rewritten. The dunning run folds the lines into each block's state and hands the blocks in force
on its date to :func:`dunning.select.select` (:func:`blocks_frame`).

Line kinds (``kind``):

* ``block_set`` — a clerk or supervisor blocks one claim (``receivable_id``) or a whole debtor
  (``debtor_id``) with a :class:`~claims.vocab.BlockReason`, from ``block_from`` (the day it is set,
  unless given) to ``block_until`` (inclusive; null: until lifted) and a note;
* ``block_approval`` — a supervisor other than the setter approves a block that needs it;
* ``block_lift`` — a clerk or supervisor takes a block back (with a note); it holds nothing from that day.

**Four-eyes.** One user may hold a citizen's dunning back for at most :data:`ALONE` (90 days: the block
ends no later than ``block_from`` + 90 days). A longer block, or one without an end, needs the approval of
a supervisor who is not the setter; until then it is in force for its first 90 days only — what the setter
could have set alone — and after that waits (``awaiting_approval``), holding nothing. The writer refuses
what the rules forbid (:class:`~ledger.journal.JournalError`); the reader ignores a forged line and
reports it (``journal.block_approval_refused`` …).

>>> from pathlib import Path; import tempfile
>>> d = Path(tempfile.mkdtemp())
>>> b = set_block(d, "t1", debtor_id="D7", reason=BlockReason.STUNDUNG, until=None, note="Antrag 12/26",
...               user="anna", role="clerk", start=date(2026, 12, 1))
>>> [str(b.state_on(day)) for day in (date(2026, 12, 1), date(2026, 3, 1) + timedelta(days=400))]
['in_force', 'awaiting_approval']
>>> _ = approve_block(d, "t1", b.block_id, user="sven", role="supervisor")
>>> [str(x.state_on(date(2027, 4, 5))) for x in read_blocks(d, "t1")]
['in_force']
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import polars as pl

from claims.vocab import BlockReason, BlockState
from dunning.select import BLOCK_SCHEMA
from ledger.journal import APPROVER_ROLES, JournalError, _append, journal_dir, read_lines
from parsers.issues import WARNING, Issue

KINDS = ("block_set", "block_approval", "block_lift")
SUB = "blocks"
#: Roles that may set and lift blocks (auditors read only); approvals need :data:`APPROVER_ROLES`.
SETTER_ROLES = frozenset({"clerk", "supervisor"})
#: How long one user may block alone: the block ends no later than its first day + ALONE.
ALONE = timedelta(days=90)


@dataclass(frozen=True, slots=True)
class Block:
    """A block as its journal lines made it; exactly one of ``receivable_id`` and ``debtor_id`` is set."""

    block_id: str
    tenant: str
    receivable_id: str | None
    debtor_id: str | None
    reason: str
    block_from: date
    until: date | None
    note: str
    set_by: str
    set_at: str
    approved_by: str | None = None
    approved_at: str | None = None
    lifted_by: str | None = None
    lifted_at: str | None = None
    lift_note: str | None = None

    @property
    def needs_approval(self) -> bool:
        """Longer than one user may block alone (or without end)."""
        return self.until is None or self.until > self.block_from + ALONE

    @property
    def awaiting_approval(self) -> bool:
        """Needs a second user's approval and has none yet (and is not lifted)."""
        return self.needs_approval and self.approved_by is None and self.lifted_by is None

    @property
    def lifted_on(self) -> date | None:
        """The day the lift took effect (the day it was written, UTC)."""
        return datetime.fromisoformat(self.lifted_at).date() if self.lifted_at else None

    def effective_until(self) -> date | None:
        """The last day it holds, as approved so far (null: until lifted)."""
        if self.awaiting_approval:
            return self.block_from + ALONE
        return self.until

    def state_on(self, as_of: date) -> BlockState:
        """lifted (on or after the lift), scheduled (before its first day), expired (after its end),
        awaiting_approval (unapproved and past its first 90 days), else in_force."""
        lifted = self.lifted_on
        if lifted is not None and lifted <= as_of:
            return BlockState.LIFTED
        if as_of < self.block_from:
            return BlockState.SCHEDULED
        if self.until is not None and as_of > self.until:
            return BlockState.EXPIRED
        if self.needs_approval and self.approved_by is None and as_of > self.block_from + ALONE:
            return BlockState.AWAITING_APPROVAL
        return BlockState.IN_FORCE


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="microseconds")


def _entry(kind: str, tenant: str, block_id: str, user: str, role: str, **more: Any) -> dict[str, Any]:
    return {"kind": kind, "tenant": tenant, "block_id": block_id, "user": user, "role": role,
            "created_at": _now(), **more}


def check_set(block: Block, role: str) -> None:
    """Raise :class:`JournalError` unless ``block`` is a block its setter (``role``) may write."""
    if role not in SETTER_ROLES:
        raise JournalError(f"role {role!r} may not set dunning blocks")
    if (block.receivable_id is None) == (block.debtor_id is None):
        raise JournalError("a block holds back one claim (receivable_id) or one debtor (debtor_id), not both or none")
    if block.reason not in tuple(BlockReason):
        raise JournalError(f"block reason must be one of {', '.join(BlockReason)}, got {block.reason!r}")
    if block.until is not None and block.until < block.block_from:
        raise JournalError(f"a block cannot end ({block.until:%d.%m.%Y}) before it starts ({block.block_from:%d.%m.%Y})")
    if not block.note.strip():
        raise JournalError("a block needs a note (why, and where the file is)")


def check_approval(block: Block, user: str, role: str) -> None:
    """Raise :class:`JournalError` unless ``user`` (``role``) may approve ``block`` (four-eyes)."""
    if role not in APPROVER_ROLES:
        raise JournalError(f"role {role!r} may not approve a block; approvals need a supervisor")
    if user == block.set_by:
        raise JournalError(f"{user} set block {block.block_id} and may not approve it (four-eyes)")
    if not block.awaiting_approval:
        raise JournalError(f"block {block.block_id} is not waiting for approval")


def check_lift(block: Block, role: str, note: str) -> None:
    """Raise :class:`JournalError` unless a user of ``role`` may lift ``block`` now (with a note)."""
    if role not in SETTER_ROLES:
        raise JournalError(f"role {role!r} may not lift dunning blocks")
    if block.lifted_by:
        raise JournalError(f"block {block.block_id} is lifted already")
    if not note.strip():
        raise JournalError("lifting a block needs a note")


def _block_from(e: dict[str, Any]) -> Block:
    until = e.get("block_until")
    return Block(
        block_id=str(e["block_id"]), tenant=str(e["tenant"]), receivable_id=e.get("receivable_id") or None,
        debtor_id=e.get("debtor_id") or None, reason=str(e["reason"]),
        block_from=date.fromisoformat(str(e["block_from"])),
        until=date.fromisoformat(str(until)) if until else None, note=str(e.get("note") or ""),
        set_by=str(e["user"]), set_at=str(e["created_at"]))


def set_block(state_dir: Path, tenant: str, *, receivable_id: str | None = None, debtor_id: str | None = None,
              reason: BlockReason | str, until: date | None, note: str, user: str, role: str,
              start: date | None = None) -> Block:
    """Append a ``block_set``: hold back one claim or debtor from ``start`` (default: today, UTC) to
    ``until`` (inclusive; None: until lifted). Longer than 90 days it needs :func:`approve_block`."""
    reason = str(reason).strip().upper()
    first = start or datetime.now(UTC).date()
    entry = _entry("block_set", tenant, str(uuid.uuid4()), user, role, receivable_id=receivable_id or None,
                   debtor_id=debtor_id or None, reason=reason, block_from=first.isoformat(),
                   block_until=until.isoformat() if until else None, note=note)
    block = _block_from(entry)
    check_set(block, role)
    _append(state_dir, tenant, entry, sub=SUB)
    return block


def _find(state_dir: Path, tenant: str, block_id: str) -> Block:
    for b in read_blocks(state_dir, tenant):
        if b.block_id == block_id:
            return b
    raise JournalError(f"block {block_id} not found in tenant {tenant}'s journal")


def approve_block(state_dir: Path, tenant: str, block_id: str, *, user: str, role: str) -> Block:
    """Append a ``block_approval``: the block holds for its whole length (a supervisor, not the setter)."""
    block = _find(state_dir, tenant, block_id)
    check_approval(block, user, role)
    entry = _entry("block_approval", tenant, block_id, user, role)
    _append(state_dir, tenant, entry, sub=SUB)
    return replace(block, approved_by=user, approved_at=entry["created_at"])


def lift_block(state_dir: Path, tenant: str, block_id: str, *, user: str, role: str, note: str) -> Block:
    """Append a ``block_lift``: from today the block holds nothing (the claims return to the run)."""
    block = _find(state_dir, tenant, block_id)
    check_lift(block, role, note)
    entry = _entry("block_lift", tenant, block_id, user, role, note=note)
    _append(state_dir, tenant, entry, sub=SUB)
    return replace(block, lifted_by=user, lifted_at=entry["created_at"], lift_note=note)


def load_blocks(state_dir: Path, tenant: str) -> tuple[list[Block], list[Issue]]:
    """Every block of a tenant as its lines made it, plus findings on lines that are bad or refused."""
    folder = journal_dir(state_dir, tenant) / SUB
    entries, issues = read_lines(folder, KINDS, "block entry")
    blocks: dict[str, Block] = {}
    for _, where, e in entries:
        kind = str(e["kind"])
        try:
            if kind == "block_set":
                b = _block_from(e)
                check_set(b, str(e.get("role") or ""))
                if b.block_id in blocks:
                    raise JournalError(f"block {b.block_id} set twice")
                blocks[b.block_id] = b
                continue
            block = blocks.get(str(e.get("block_id")))
            if block is None:
                raise JournalError(f"{kind} refers to unknown block {e.get('block_id')}")
            user, role = str(e.get("user") or ""), str(e.get("role") or "")
            if kind == "block_approval":
                check_approval(block, user, role)
                blocks[block.block_id] = replace(block, approved_by=user, approved_at=str(e["created_at"]))
            else:
                note = str(e.get("note") or "")
                check_lift(block, role, note)
                datetime.fromisoformat(str(e["created_at"]))  # the lift's day must be readable
                blocks[block.block_id] = replace(block, lifted_by=user, lifted_at=str(e["created_at"]),
                                                 lift_note=note)
        except (JournalError, KeyError, TypeError, ValueError) as exc:
            issues.append(Issue(str(folder), where, WARNING, f"journal.{kind}_refused", str(exc),
                                json.dumps(e, ensure_ascii=False)[:500]))
    return list(blocks.values()), issues


def read_blocks(state_dir: Path, tenant: str) -> list[Block]:
    """Every block of a tenant (use :meth:`Block.state_on` for its state on a day)."""
    return load_blocks(state_dir, tenant)[0]


def blocks_frame(blocks: list[Block], as_of: date) -> pl.DataFrame:
    """The blocks in force on ``as_of`` as :func:`dunning.select.select` takes them
    (:data:`dunning.select.BLOCK_SCHEMA`; ``block_until`` = the last day it holds as approved so far)."""
    rows = [{"receivable_id": b.receivable_id, "debtor_id": b.debtor_id, "block_reason": b.reason,
             "block_from": b.block_from, "block_until": b.effective_until()}
            for b in blocks if b.state_on(as_of) == BlockState.IN_FORCE]
    return pl.DataFrame(rows, schema=BLOCK_SCHEMA)


def block_history_frame(blocks: list[Block], as_of: date) -> pl.DataFrame:
    """Every block that held on some day up to ``as_of``, ended ones too, in the same schema: ``block_until``
    is the last day it held (a lifted block: the day before the lift; one awaiting approval past its first 90
    days: the 90th), null while it holds without end. A block in force on ``as_of`` is read by
    :func:`dunning.select.select` as :func:`blocks_frame` gives it; an ended one tells it (and the
    enforcement selection) that the debtor was told he need not pay for a while after the last Mahnung."""
    rows = []
    for b in blocks:
        if b.block_from > as_of:
            continue
        last = b.effective_until()
        lifted = b.lifted_on
        if lifted is not None and lifted <= as_of:
            if lifted <= b.block_from:
                continue                       # lifted before its first day: it never held
            last = min(last, lifted - timedelta(days=1)) if last is not None else lifted - timedelta(days=1)
        rows.append({"receivable_id": b.receivable_id, "debtor_id": b.debtor_id, "block_reason": b.reason,
                     "block_from": b.block_from, "block_until": last})
    return pl.DataFrame(rows, schema=BLOCK_SCHEMA)

