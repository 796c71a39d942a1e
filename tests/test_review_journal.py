"""The decision journal: append-only lines, four-eyes states, what the nightly run reads."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ledger.journal import (
    Allocation,
    JournalError,
    effective_decisions,
    journal_dir,
    load_journal,
    new_decision,
    read_decisions,
    record_approval,
    record_decision,
    record_withdrawal,
)

T = "musterstadt"


def _assign(total: int = 15000, parts: tuple[int, ...] = (10000, 5000), approval: bool = True, user: str = "anna"):
    allocs = [Allocation(f"R{i}", f"KZ{i}", c) for i, c in enumerate(parts)]
    return new_decision(T, "tx1", "assign", user=user, role="clerk", amount_cents=total,
                        requires_approval=approval, allocations=allocs, before={"unallocated_cents": total},
                        after={"status": "assigned"})


def _lines(state_dir: Path) -> list[dict]:
    return [json.loads(x) for p in sorted(journal_dir(state_dir, T).glob("*.jsonl"))
            for x in p.read_text().splitlines()]


def test_decision_line_has_the_contract_fields(tmp_path: Path) -> None:
    d = record_decision(tmp_path, _assign())
    (line,) = _lines(tmp_path)
    for key in ("decision_id", "kind", "tenant", "transaction_id", "action", "allocations", "refund_iban", "note",
                "user", "role", "created_at", "before", "after", "requires_approval", "amount_cents"):
        assert key in line, key
    assert line["kind"] == "decision" and line["decision_id"] == d.decision_id
    assert line["allocations"] == [{"receivable_id": "R0", "kassenzeichen": "KZ0", "amount_cents": 10000},
                                   {"receivable_id": "R1", "kassenzeichen": "KZ1", "amount_cents": 5000}]


def test_four_eyes_pending_then_approved_by_someone_else(tmp_path: Path) -> None:
    d = record_decision(tmp_path, _assign())
    assert [x.state for x in read_decisions(tmp_path, T)] == ["pending"]
    assert effective_decisions(tmp_path, T) == []
    record_approval(tmp_path, T, d.decision_id, user="sven", role="supervisor")
    (eff,) = effective_decisions(tmp_path, T)
    assert (eff.decision_id, eff.approved_by, eff.user) == (d.decision_id, "sven", "anna")
    assert sum(a.amount_cents for a in eff.allocations) == eff.amount_cents == 15000


def test_nobody_approves_their_own_and_clerks_do_not_approve(tmp_path: Path) -> None:
    d = record_decision(tmp_path, _assign(user="sven"))
    with pytest.raises(JournalError, match="may not approve"):
        record_approval(tmp_path, T, d.decision_id, user="sven", role="supervisor")
    with pytest.raises(JournalError, match="supervisor"):
        record_approval(tmp_path, T, d.decision_id, user="bert", role="clerk")
    assert [x.state for x in read_decisions(tmp_path, T)] == ["pending"]


def test_a_forged_self_approval_line_is_ignored_and_reported(tmp_path: Path) -> None:
    d = record_decision(tmp_path, _assign())
    forged = {"kind": "approval", "decision_id": "x", "approves": d.decision_id, "tenant": T, "user": "anna",
              "role": "supervisor", "created_at": "2999-01-01T00:00:00+00:00", "transaction_id": "tx1"}
    with (journal_dir(tmp_path, T) / "forged.jsonl").open("w") as fh:
        fh.write(json.dumps(forged) + "\n{not json\n")
    decisions, issues = load_journal(tmp_path, T)
    assert [x.state for x in decisions] == ["pending"]
    assert sorted(i.code for i in issues) == ["journal.approval_refused", "journal.bad_line"]


def test_below_threshold_is_effective_at_once_and_withdrawal_stops_it(tmp_path: Path) -> None:
    d = record_decision(tmp_path, _assign(approval=False))
    assert [x.decision_id for x in effective_decisions(tmp_path, T)] == [d.decision_id]
    with pytest.raises(JournalError, match="only anna or a supervisor"):
        record_withdrawal(tmp_path, T, d.decision_id, user="bert", role="clerk")
    record_withdrawal(tmp_path, T, d.decision_id, user="anna", role="clerk", note="Tippfehler")
    assert effective_decisions(tmp_path, T) == []
    assert [x.state for x in read_decisions(tmp_path, T)] == ["withdrawn"]
    assert len(_lines(tmp_path)) == 2                      # nothing rewritten: the withdrawal is a new line


def test_a_later_decision_on_the_same_payment_supersedes(tmp_path: Path) -> None:
    first = record_decision(tmp_path, _assign(approval=False))
    second = record_decision(tmp_path, new_decision(T, "tx1", "park", user="bert", role="clerk",
                                                    amount_cents=15000, requires_approval=False, note="unklar"))
    states = {d.decision_id: d.state for d in read_decisions(tmp_path, T)}
    assert states == {first.decision_id: "superseded", second.decision_id: "effective"}


@pytest.mark.parametrize(
    ("total", "parts", "message"),
    [
        (15000, (10000, 4999), "0.01 missing"),            # split one cent short
        (15000, (10000, 5001), "0.01 too much"),
        (15000, (15000, 0), "above 0.00"),
        (15000, (), "at least one"),
    ],
)
def test_split_amounts_must_add_up_exactly(tmp_path: Path, total: int, parts: tuple[int, ...], message: str) -> None:
    with pytest.raises(JournalError, match=message):
        record_decision(tmp_path, _assign(total, parts))
    assert not journal_dir(tmp_path, T).exists() or _lines(tmp_path) == []


def test_refund_needs_iban_park_needs_note_tenant_is_checked(tmp_path: Path) -> None:
    with pytest.raises(JournalError, match="IBAN"):
        record_decision(tmp_path, new_decision(T, "tx1", "refund", user="a", role="clerk", amount_cents=1,
                                               requires_approval=False))
    with pytest.raises(JournalError, match="note"):
        record_decision(tmp_path, new_decision(T, "tx1", "park", user="a", role="clerk", amount_cents=1,
                                               requires_approval=False, note="  "))
    with pytest.raises(JournalError, match="tenant"):
        journal_dir(tmp_path, "../etc")
