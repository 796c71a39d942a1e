"""The journal of a person's decisions on Amtshilfe requests (ledger/amtshilfe_journal.py): who may decide
what, four-eyes for a fruitless case, withdrawal until booked, forged lines refused."""

from __future__ import annotations

import doctest
import json
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

import ledger.amtshilfe_journal
from claims.vocab import ErsuchenCheck, ErsuchenDecision
from ledger.amtshilfe_journal import approve, decide, load_decisions, read_decisions, withdraw
from ledger.journal import JournalError, journal_dir

T = "stadt"
TODAY = datetime.now(UTC).date()


def flagged(tmp_path: Path, action: ErsuchenDecision, **more: Any) -> Any:
    args: dict[str, Any] = {"creditor_id": "WDR", "creditor_file_number": "A-1", "seq": 4, "state": "flagged",
                            "action": action, "note": "Zuschlag mit dem WDR geklärt", "user": "vera",
                            "role": "vollstreckung"}
    return decide(tmp_path, T, **(args | more))


def test_accept_and_return_of_a_flagged_request_count_at_once(tmp_path: Path) -> None:
    d = flagged(tmp_path, ErsuchenDecision.ACCEPT)
    [got] = read_decisions(tmp_path, T)
    assert (got.decision_id, got.action, got.effective, got.state, got.seq) == (d.decision_id, "accept", True,
                                                                               "effective", 4)
    r = flagged(tmp_path, ErsuchenDecision.RETURN, creditor_file_number="A-2", reason=ErsuchenCheck.SURCHARGE_DOUBT)
    assert [x.reason for x in read_decisions(tmp_path, T) if x.decision_id == r.decision_id] == ["surcharge_doubt"]


@pytest.mark.parametrize(("more", "message"), [
    ({"role": "clerk"}, "only the enforcement office"),
    ({"role": "supervisor"}, "only the enforcement office"),
    ({"role": "auditor"}, "only the enforcement office"),
    ({"state": "accepted"}, "state flagged"),
    ({"note": "  "}, "needs a note"),
    ({"action": ErsuchenDecision.RETURN}, "needs a reason"),
    ({"action": ErsuchenDecision.RETURN, "reason": "not_a_code"}, "needs a reason"),
    ({"reason": ErsuchenCheck.DUPLICATE}, "only a return"),
    ({"action": "write_off"}, "must be one of"),
    ({"creditor_file_number": " "}, "names its request"),
])
def test_what_may_not_be_decided(tmp_path: Path, more: dict[str, Any], message: str) -> None:
    with pytest.raises(JournalError, match=message):
        flagged(tmp_path, more.pop("action", ErsuchenDecision.ACCEPT), **more)
    assert read_decisions(tmp_path, T) == []


def test_uncollectible_needs_an_accepted_case_a_certificate_and_a_second_person(tmp_path: Path) -> None:
    with pytest.raises(JournalError, match="state accepted"):
        flagged(tmp_path, ErsuchenDecision.UNCOLLECTIBLE, certificate_date=TODAY)
    with pytest.raises(JournalError, match="Fruchtlosigkeitsbescheinigung"):
        flagged(tmp_path, ErsuchenDecision.UNCOLLECTIBLE, state="accepted")
    with pytest.raises(JournalError, match="future"):
        flagged(tmp_path, ErsuchenDecision.UNCOLLECTIBLE, state="accepted", certificate_date=TODAY + timedelta(days=1))
    d = flagged(tmp_path, ErsuchenDecision.UNCOLLECTIBLE, state="accepted", certificate_date=date(2026, 11, 30))
    assert [x.state for x in read_decisions(tmp_path, T)] == ["awaiting_approval"]
    with pytest.raises(JournalError, match="four-eyes"):
        approve(tmp_path, T, d.decision_id, user="vera", role="vollstreckung")
    with pytest.raises(JournalError, match="may not approve"):
        approve(tmp_path, T, d.decision_id, user="sven", role="supervisor")
    approve(tmp_path, T, d.decision_id, user="olaf", role="vollstreckung")
    [got] = read_decisions(tmp_path, T)
    assert (got.effective, got.approved_by, got.certificate_date) == (True, "olaf", date(2026, 11, 30))
    with pytest.raises(JournalError, match="not waiting"):
        approve(tmp_path, T, d.decision_id, user="uwe", role="vollstreckung")


def test_accept_needs_no_approval(tmp_path: Path) -> None:
    d = flagged(tmp_path, ErsuchenDecision.ACCEPT)
    with pytest.raises(JournalError, match="needs no approval"):
        approve(tmp_path, T, d.decision_id, user="olaf", role="vollstreckung")


def test_one_live_decision_per_request_and_withdrawal_until_booked(tmp_path: Path) -> None:
    d = flagged(tmp_path, ErsuchenDecision.ACCEPT)
    with pytest.raises(JournalError, match="has a decision already"):
        flagged(tmp_path, ErsuchenDecision.RETURN, reason=ErsuchenCheck.DUPLICATE, creditor_id=" wdr ")
    with pytest.raises(JournalError, match="booked already"):
        withdraw(tmp_path, T, d.decision_id, user="vera", role="vollstreckung", note="doch nicht",
                 booked={d.decision_id})
    with pytest.raises(JournalError, match="needs a note"):
        withdraw(tmp_path, T, d.decision_id, user="vera", role="vollstreckung", note=" ")
    with pytest.raises(JournalError, match="may not withdraw"):
        withdraw(tmp_path, T, d.decision_id, user="anna", role="clerk", note="x")
    withdraw(tmp_path, T, d.decision_id, user="olaf", role="vollstreckung", note="Bescheid war doch falsch")
    [got] = read_decisions(tmp_path, T)
    assert (got.state, got.effective, got.withdrawn_by) == ("withdrawn", False, "olaf")
    with pytest.raises(JournalError, match="withdrawn already"):
        withdraw(tmp_path, T, d.decision_id, user="olaf", role="vollstreckung", note="nochmal")
    # withdrawn: the request may be decided again; and a booked decision no longer blocks a new one
    r = flagged(tmp_path, ErsuchenDecision.RETURN, reason=ErsuchenCheck.SURCHARGE_DOUBT)
    flagged(tmp_path, ErsuchenDecision.UNCOLLECTIBLE, state="accepted", certificate_date=TODAY,
            booked={r.decision_id})
    assert [x.action for x in read_decisions(tmp_path, T)] == ["accept", "return", "uncollectible"]


def test_forged_lines_are_reported_and_never_count(tmp_path: Path) -> None:
    d = flagged(tmp_path, ErsuchenDecision.UNCOLLECTIBLE, state="accepted", certificate_date=TODAY)
    folder = journal_dir(tmp_path, T) / "amtshilfe"
    now = datetime.now(UTC).isoformat()
    lines = [{"kind": "ah_approval", "tenant": T, "decision_id": d.decision_id, "user": "vera",
              "role": "vollstreckung", "created_at": now},            # the decider approving herself
             {"kind": "ah_approval", "tenant": T, "decision_id": "nope", "user": "olaf", "role": "vollstreckung",
              "created_at": now},
             {"kind": "ah_decision", "tenant": T, "decision_id": "x1", "user": "anna", "role": "clerk",
              "created_at": now, "creditor_id": "WDR", "creditor_file_number": "A-9", "seq": 1,
              "seen_state": "flagged", "action": "accept", "note": "ich darf das"}]
    (folder / "forged.jsonl").write_text("".join(json.dumps(x) + "\n" for x in lines) + "kein json\n",
                                         encoding="utf-8")
    got, issues = load_decisions(tmp_path, T)
    assert [(x.decision_id, x.effective) for x in got] == [(d.decision_id, False)]
    assert sorted(i.code for i in issues) == ["journal.ah_approval_refused", "journal.ah_approval_refused",
                                              "journal.ah_decision_refused", "journal.bad_line"]


def test_a_decision_on_an_older_row_does_not_block_one_on_the_new_row(tmp_path: Path) -> None:
    """The night booked the first (or will refuse it: the request changed), so the new row may be decided."""
    flagged(tmp_path, ErsuchenDecision.ACCEPT, seq=4)
    with pytest.raises(JournalError, match="has a decision already"):
        flagged(tmp_path, ErsuchenDecision.ACCEPT, seq=4)
    flagged(tmp_path, ErsuchenDecision.UNCOLLECTIBLE, seq=5, state="accepted", certificate_date=TODAY)
    assert [(x.seq, x.action) for x in read_decisions(tmp_path, T)] == [(4, "accept"), (5, "uncollectible")]


def test_the_docstring_example_holds() -> None:
    result = doctest.testmod(ledger.amtshilfe_journal)
    assert result.failed == 0 and result.attempted > 0
