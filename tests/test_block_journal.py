"""Dunning blocks as journal lines: set, four-eyes approval beyond 90 days, lift, forged lines, the frame
the selection takes."""

from __future__ import annotations

import json
from datetime import date, timedelta
from pathlib import Path

import polars as pl
import pytest

from claims.vocab import BlockReason, BlockState
from dunning.select import BLOCK_SCHEMA, select
from ledger.block_journal import (
    ALONE,
    approve_block,
    block_history_frame,
    blocks_frame,
    lift_block,
    load_blocks,
    read_blocks,
    set_block,
)
from ledger.journal import JournalError, journal_dir

T = "musterstadt"
D0 = date(2026, 10, 1)


def _write(state_dir: Path, line: dict) -> None:
    folder = journal_dir(state_dir, T) / "blocks"
    folder.mkdir(parents=True, exist_ok=True)
    with (folder / "forged.jsonl").open("a", encoding="utf-8") as fh:
        fh.write(json.dumps(line) + "\n")


def test_a_block_of_at_most_90_days_is_in_force_without_approval_then_expires(tmp_path: Path) -> None:
    b = set_block(tmp_path, T, receivable_id="R1", reason=BlockReason.MAHNSPERRE, until=D0 + ALONE,
                  note="Widerspruch", user="anna", role="clerk", start=D0)
    assert not b.needs_approval and b.debtor_id is None and b.set_by == "anna"
    assert b.state_on(D0 - timedelta(days=1)) == BlockState.SCHEDULED
    assert b.state_on(D0) == b.state_on(D0 + ALONE) == BlockState.IN_FORCE
    assert b.state_on(D0 + ALONE + timedelta(days=1)) == BlockState.EXPIRED
    (got,) = read_blocks(tmp_path, T)
    assert got == b


def test_a_longer_block_holds_its_first_90_days_then_waits_for_a_supervisor_not_the_setter(tmp_path: Path) -> None:
    b = set_block(tmp_path, T, debtor_id="D1", reason="stundung", until=D0 + ALONE + timedelta(days=1),
                  note="Stundung bis Frühjahr", user="anna", role="supervisor", start=D0)
    assert b.reason == BlockReason.STUNDUNG and b.needs_approval and b.awaiting_approval
    day_91 = D0 + ALONE + timedelta(days=1)
    assert b.state_on(D0 + ALONE) == BlockState.IN_FORCE
    assert b.state_on(day_91) == BlockState.AWAITING_APPROVAL
    assert blocks_frame([b], day_91).height == 0
    assert blocks_frame([b], D0)["block_until"].to_list() == [D0 + ALONE]   # as far as the setter alone may
    with pytest.raises(JournalError, match="four-eyes"):
        approve_block(tmp_path, T, b.block_id, user="anna", role="supervisor")     # the setter herself
    with pytest.raises(JournalError, match="supervisor"):
        approve_block(tmp_path, T, b.block_id, user="ben", role="clerk")
    a = approve_block(tmp_path, T, b.block_id, user="sven", role="supervisor")
    assert a.state_on(day_91) == BlockState.IN_FORCE and not a.awaiting_approval
    (got,) = read_blocks(tmp_path, T)
    assert got.approved_by == "sven" and got.effective_until() == day_91
    assert got.state_on(day_91 + timedelta(days=1)) == BlockState.EXPIRED
    with pytest.raises(JournalError, match="not waiting"):
        approve_block(tmp_path, T, b.block_id, user="vera", role="supervisor")


def test_a_block_without_end_needs_approval_and_holds_until_lifted(tmp_path: Path) -> None:
    b = set_block(tmp_path, T, debtor_id="D2", reason=BlockReason.INSOLVENZ, until=None, note="Az 12 IN 3/26",
                  user="anna", role="clerk", start=D0)
    approve_block(tmp_path, T, b.block_id, user="sven", role="supervisor")
    far = D0 + timedelta(days=2000)
    assert read_blocks(tmp_path, T)[0].state_on(far) == BlockState.IN_FORCE
    with pytest.raises(JournalError, match="note"):
        lift_block(tmp_path, T, b.block_id, user="ben", role="clerk", note=" ")
    with pytest.raises(JournalError, match="auditor"):
        lift_block(tmp_path, T, b.block_id, user="ulla", role="auditor", note="x")
    lifted = lift_block(tmp_path, T, b.block_id, user="ben", role="clerk", note="Verfahren aufgehoben")
    (got,) = read_blocks(tmp_path, T)
    assert got.lifted_by == "ben" and got.lift_note == "Verfahren aufgehoben" and got.lifted_on == lifted.lifted_on
    assert got.state_on(far) == BlockState.LIFTED and got.state_on(D0) == BlockState.IN_FORCE  # before the lift
    with pytest.raises(JournalError, match="lifted already"):
        lift_block(tmp_path, T, b.block_id, user="ben", role="clerk", note="again")


@pytest.mark.parametrize(("kwargs", "match"), [
    ({"receivable_id": "R1", "debtor_id": "D1"}, "not both"),
    ({}, "not both or none"),
    ({"receivable_id": "R1", "reason": "KLAGE"}, "block reason must be one of"),
    ({"receivable_id": "R1", "role": "auditor"}, "may not set"),
    ({"receivable_id": "R1", "note": ""}, "needs a note"),
    ({"receivable_id": "R1", "until": D0 - timedelta(days=1)}, "before it starts"),
])
def test_set_block_refuses(tmp_path: Path, kwargs: dict, match: str) -> None:
    args = {"reason": BlockReason.MAHNSPERRE, "until": D0 + timedelta(days=10), "note": "n", "user": "anna",
            "role": "clerk", "start": D0, **kwargs}
    with pytest.raises(JournalError, match=match):
        set_block(tmp_path, T, **args)
    assert read_blocks(tmp_path, T) == []


def test_forged_approval_and_bad_lines_are_ignored_and_reported(tmp_path: Path) -> None:
    b = set_block(tmp_path, T, receivable_id="R9", reason=BlockReason.ADV, until=None, note="Klage anhängig",
                  user="anna", role="clerk", start=D0)
    _write(tmp_path, {"kind": "block_approval", "tenant": T, "block_id": b.block_id, "user": "anna",
                      "role": "supervisor", "created_at": "2026-10-02T08:00:00+00:00"})       # self-approval
    _write(tmp_path, {"kind": "block_lift", "tenant": T, "block_id": "nope", "user": "ben", "role": "clerk",
                      "note": "x", "created_at": "2026-10-02T09:00:00+00:00"})                # unknown block
    _write(tmp_path, {"kind": "block_set", "tenant": T, "block_id": "b2", "user": "ulla", "role": "auditor",
                      "receivable_id": "R8", "reason": "MAHNSPERRE", "block_from": "2026-10-01",
                      "block_until": None, "note": "x", "created_at": "2026-10-02T10:00:00+00:00"})  # auditor
    folder = journal_dir(tmp_path, T) / "blocks"
    with (folder / "forged.jsonl").open("a") as fh:
        fh.write("{not json\n")
    blocks, issues = load_blocks(tmp_path, T)
    assert [x.block_id for x in blocks] == [b.block_id] and blocks[0].approved_by is None
    assert sorted(i.code for i in issues) == ["journal.bad_line", "journal.block_approval_refused",
                                              "journal.block_lift_refused", "journal.block_set_refused"]
    assert blocks[0].state_on(D0 + timedelta(days=200)) == BlockState.AWAITING_APPROVAL


def test_blocks_frame_feeds_the_selection(tmp_path: Path) -> None:
    as_of = date(2026, 12, 1)
    set_block(tmp_path, T, receivable_id="R1", reason=BlockReason.MAHNSPERRE, until=as_of + timedelta(days=5),
              note="n", user="anna", role="clerk", start=as_of - timedelta(days=3))
    set_block(tmp_path, T, debtor_id="D2", reason=BlockReason.VERSTORBEN, until=as_of - timedelta(days=1),
              note="n", user="anna", role="clerk", start=as_of - timedelta(days=30))   # ended yesterday
    frame = blocks_frame(read_blocks(tmp_path, T), as_of)
    assert frame.schema == BLOCK_SCHEMA and frame["receivable_id"].to_list() == ["R1"]
    claims = [{"receivable_id": r, "debtor_id": d, "claim_type": "GRUNDSTEUER", "amount_cents": 50_000,
               "due_date": date(2026, 9, 15)} for r, d in (("R1", "D1"), ("R2", "D2"))]
    sel = select(pl.DataFrame(claims), as_of, blocks=frame)
    assert sel.selected["receivable_id"].to_list() == ["R2"]
    assert sel.skipped.select("receivable_id", "reason", "block_reason").rows() == [("R1", "blocked", "MAHNSPERRE")]


def test_block_history_keeps_ended_and_lifted_blocks(tmp_path: Path) -> None:
    """Ended blocks stay in the history with the last day they held; in force ones as blocks_frame has them."""
    ended = set_block(tmp_path, T, receivable_id="R1", reason="STUNDUNG", start=D0,
                      until=D0 + timedelta(days=30), note="Antrag vom 1.10.", user="anna", role="clerk")
    running = set_block(tmp_path, T, debtor_id="D9", reason="ADV", start=D0, until=D0 + timedelta(days=60),
                        note="Widerspruch mit AdV-Antrag", user="anna", role="clerk")
    later = D0 + timedelta(days=45)
    frame = block_history_frame(read_blocks(tmp_path, T), later)
    rows = {r["receivable_id"] or r["debtor_id"]: r for r in frame.iter_rows(named=True)}
    assert rows["R1"]["block_until"] == ended.until and rows["D9"]["block_until"] == running.until
    assert blocks_frame(read_blocks(tmp_path, T), later)["debtor_id"].to_list() == ["D9"]
    assert block_history_frame(read_blocks(tmp_path, T), D0 - timedelta(days=1)).height == 0   # not begun


def test_a_lifted_block_held_until_the_day_before_its_lift(tmp_path: Path) -> None:
    b = set_block(tmp_path, T, receivable_id="R2", reason="STUNDUNG", start=D0, until=None,
                  note="Stundung bis auf Weiteres", user="anna", role="clerk")
    approve_block(tmp_path, T, b.block_id, user="bert", role="supervisor")
    lifted = lift_block(tmp_path, T, b.block_id, user="bert", role="supervisor", note="Antrag zurückgenommen")
    assert lifted.lifted_on is not None
    frame = block_history_frame(read_blocks(tmp_path, T), lifted.lifted_on + timedelta(days=3))
    assert frame["block_until"].to_list() == [lifted.lifted_on - timedelta(days=1)]
