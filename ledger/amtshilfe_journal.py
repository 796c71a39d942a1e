"""A person's decisions on foreign creditors' requests (Amtshilfe), as journal lines of the review page.

The checks (``amtshilfe.checks``) flag a request for a person instead of deciding it themselves — a
Säumniszuschlag that does not fit the Rundfunkbeitrag rule, the same file number with another content — and
an accepted case may prove fruitless. Those are decisions of the enforcement office (role ``vollstreckung``)
that somebody answers for, so they are written like the Mahnverzicht (:mod:`ledger.waiver_journal`): one JSON
line per step under ``<state_dir>/journal/<tenant>/amtshilfe/``, appended and fsynced, never rewritten; the
nightly run folds the lines and books the effective ones (``jobs/nightly/amtshilfe_decisions.py``).

Line kinds (``kind``):

* ``ah_decision`` — a person of role ``vollstreckung`` decides on one request (creditor id + file number) as
  the page showed it (its ``seq``, the ledger row, and its ``state``): ``accept`` or ``return`` a request in
  state ``flagged`` (a return with a reason, :class:`~claims.vocab.ErsuchenCheck`), or declare an accepted
  request ``uncollectible`` (the date of the Fruchtlosigkeitsbescheinigung, not in the future). Every
  decision has a note: why (and, for a return, what the creditor is told besides the reason);
* ``ah_approval`` — a second person of role ``vollstreckung`` approves an ``uncollectible`` decision.
  **Four-eyes where money leaves the books**: a fruitless case stops collecting the creditor's claims, so it
  counts only once approved. Accept and return need one person (the creditor gets a case or a Rückgabe;
  nothing is written off);
* ``ah_withdraw`` — a person of role ``vollstreckung`` takes a decision back (with a note), as long as the
  nightly run has not booked it (the caller passes the booked ids; the run skips a withdrawn one).

One live decision per request: a second one on the same row is refused while the first is neither withdrawn
nor booked. The
nightly run refuses (books not, says why) a decision on a request that changed since the page showed it
(another ``seq``: a Rücknahme, an Änderung came in the meantime).

>>> from pathlib import Path; import tempfile
>>> d = Path(tempfile.mkdtemp())
>>> x = decide(d, "t1", creditor_id="IHK-BI", creditor_file_number="A-1", seq=3, state="accepted",
...            action=ErsuchenDecision.UNCOLLECTIBLE, certificate_date=date(2026, 11, 30),
...            note="Fruchtlosigkeitsbescheinigung des Vollziehungsbeamten", user="vera", role="vollstreckung")
>>> [y.effective for y in read_decisions(d, "t1")]       # waits for a second person
[False]
>>> _ = approve(d, "t1", x.decision_id, user="olaf", role="vollstreckung")
>>> [y.effective for y in read_decisions(d, "t1")]
[True]
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Collection
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from claims.vocab import ErsuchenCheck, ErsuchenDecision, ErsuchenState
from ledger.journal import JournalError, _append, journal_dir, read_lines
from parsers.issues import WARNING, Issue

KINDS = ("ah_decision", "ah_approval", "ah_withdraw")
SUB = "amtshilfe"
#: Who decides, approves and withdraws: the enforcement office (auditors read only).
DECIDER_ROLES = frozenset({"vollstreckung"})
#: The state a request must be in for each decision.
STATE_FOR: dict[str, str] = {ErsuchenDecision.ACCEPT: ErsuchenState.FLAGGED,
                             ErsuchenDecision.RETURN: ErsuchenState.FLAGGED,
                             ErsuchenDecision.UNCOLLECTIBLE: ErsuchenState.ACCEPTED}
#: Decisions that count only once a second person approved them.
FOUR_EYES = frozenset({ErsuchenDecision.UNCOLLECTIBLE.value})


@dataclass(frozen=True, slots=True)
class AmtshilfeDecision:
    """A decision on one request as its journal lines made it."""

    decision_id: str
    tenant: str
    creditor_id: str
    creditor_file_number: str
    case_number: str | None
    seq: int                               # the request's ledger row the person saw
    seen_state: str                        # its state then (flagged / accepted)
    action: str                            # ErsuchenDecision
    reason: str | None                     # ErsuchenCheck, for a return
    certificate_date: date | None          # the Fruchtlosigkeitsbescheinigung, for uncollectible
    note: str
    decided_by: str
    decided_at: str
    approved_by: str | None = None
    approved_at: str | None = None
    withdrawn_by: str | None = None
    withdrawn_at: str | None = None
    withdraw_note: str | None = None

    @property
    def needs_approval(self) -> bool:
        return self.action in FOUR_EYES

    @property
    def effective(self) -> bool:
        """Not withdrawn, and approved where four-eyes applies: the nightly run books it."""
        return self.withdrawn_by is None and (not self.needs_approval or self.approved_by is not None)

    @property
    def state(self) -> str:
        """``withdrawn``, ``awaiting_approval`` or ``effective`` (booked or not: the ledger says)."""
        if self.withdrawn_by is not None:
            return "withdrawn"
        return "effective" if self.effective else "awaiting_approval"

    @property
    def key(self) -> tuple[str, str]:
        """The request: creditor id (trimmed, upper-cased) and file number (trimmed), as the ledger keys it."""
        return self.creditor_id.strip().upper(), self.creditor_file_number.strip()


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="microseconds")


def _day(value: object) -> date | None:
    return date.fromisoformat(str(value)) if value else None


def check_decision(d: AmtshilfeDecision, role: str, *, today: date | None = None) -> None:
    """Raise :class:`JournalError` unless a person of ``role`` may write ``d``."""
    if role not in DECIDER_ROLES:
        raise JournalError(f"role {role!r} may not decide on Amtshilfe requests (only the enforcement office)")
    if d.action not in tuple(ErsuchenDecision):
        raise JournalError(f"the decision must be one of {', '.join(ErsuchenDecision)}, got {d.action!r}")
    if not d.creditor_id.strip() or not d.creditor_file_number.strip() or d.seq < 1:
        raise JournalError("a decision names its request: creditor id, file number and the row seen (seq)")
    wanted = STATE_FOR[d.action]
    if d.seen_state != wanted:
        raise JournalError(f"'{d.action}' is a decision on a request in state {wanted}, this one is {d.seen_state}")
    if d.action == ErsuchenDecision.RETURN and d.reason not in tuple(ErsuchenCheck):
        raise JournalError(f"a return needs a reason, one of {', '.join(ErsuchenCheck)}; got {d.reason!r}")
    if d.action != ErsuchenDecision.RETURN and d.reason is not None:
        raise JournalError("only a return has a reason code")
    if d.action == ErsuchenDecision.UNCOLLECTIBLE:
        if d.certificate_date is None:
            raise JournalError("uncollectible needs the date of the Fruchtlosigkeitsbescheinigung")
        if today is not None and d.certificate_date > today:
            raise JournalError(f"the Fruchtlosigkeitsbescheinigung cannot be dated in the future "
                               f"({d.certificate_date:%d.%m.%Y})")
    elif d.certificate_date is not None:
        raise JournalError("only an uncollectible decision has a certificate date")
    if not d.note.strip():
        raise JournalError("a decision needs a note: why")


def check_approval(d: AmtshilfeDecision, user: str, role: str) -> None:
    """Raise :class:`JournalError` unless ``user`` (``role``) may approve ``d`` (four-eyes)."""
    if not d.needs_approval:
        raise JournalError(f"a decision '{d.action}' needs no approval")
    if role not in DECIDER_ROLES:
        raise JournalError(f"role {role!r} may not approve a decision on an Amtshilfe request")
    if user == d.decided_by:
        raise JournalError(f"{user} made decision {d.decision_id} and may not approve it (four-eyes)")
    if d.approved_by is not None or d.withdrawn_by is not None:
        raise JournalError(f"decision {d.decision_id} is not waiting for approval")


def check_withdraw(d: AmtshilfeDecision, role: str, note: str, booked: Collection[str] = ()) -> None:
    """Raise :class:`JournalError` unless a person of ``role`` may withdraw ``d`` now (with a note)."""
    if role not in DECIDER_ROLES:
        raise JournalError(f"role {role!r} may not withdraw a decision on an Amtshilfe request")
    if d.withdrawn_by is not None:
        raise JournalError(f"decision {d.decision_id} is withdrawn already")
    if d.decision_id in booked:
        raise JournalError(f"decision {d.decision_id} is booked already: it cannot be withdrawn")
    if not note.strip():
        raise JournalError("withdrawing a decision needs a note")


def _decision_from(e: dict[str, Any]) -> AmtshilfeDecision:
    return AmtshilfeDecision(
        decision_id=str(e["decision_id"]), tenant=str(e["tenant"]), creditor_id=str(e["creditor_id"]),
        creditor_file_number=str(e["creditor_file_number"]), case_number=e.get("case_number") or None,
        seq=int(e["seq"]), seen_state=str(e["seen_state"]), action=str(e["action"]), reason=e.get("reason") or None,
        certificate_date=_day(e.get("certificate_date")), note=str(e.get("note") or ""), decided_by=str(e["user"]),
        decided_at=str(e["created_at"]))


def decide(state_dir: Path, tenant: str, *, creditor_id: str, creditor_file_number: str, seq: int, state: str,
           action: ErsuchenDecision | str, note: str, user: str, role: str, reason: ErsuchenCheck | str | None = None,
           certificate_date: date | None = None, case_number: str | None = None,
           booked: Collection[str] = ()) -> AmtshilfeDecision:
    """Append an ``ah_decision`` on the request (``seq``, ``state``: the row the person saw). Refused while
    another decision on the same request is live: neither withdrawn nor in ``booked``, and made on the same
    row (a decision on an older row is booked, or will be refused as the request changed since)."""
    entry = {"kind": "ah_decision", "tenant": tenant, "decision_id": str(uuid.uuid4()), "user": user, "role": role,
             "created_at": _now(), "creditor_id": creditor_id, "creditor_file_number": creditor_file_number,
             "case_number": case_number, "seq": int(seq), "seen_state": str(state), "action": str(action),
             "reason": str(reason) if reason else None,
             "certificate_date": certificate_date.isoformat() if certificate_date else None, "note": note}
    d = _decision_from(entry)
    check_decision(d, role, today=datetime.now(UTC).date())
    for other in read_decisions(state_dir, tenant):
        if (other.key == d.key and other.withdrawn_by is None and other.decision_id not in booked
                and other.seq >= d.seq):
            raise JournalError(f"request {creditor_id} {creditor_file_number} has a decision already "
                               f"({other.action}, {other.decided_by}): withdraw it first")
    _append(state_dir, tenant, entry, sub=SUB)
    return d


def _find(state_dir: Path, tenant: str, decision_id: str) -> AmtshilfeDecision:
    for d in read_decisions(state_dir, tenant):
        if d.decision_id == decision_id:
            return d
    raise JournalError(f"decision {decision_id} not found in tenant {tenant}'s Amtshilfe journal")


def approve(state_dir: Path, tenant: str, decision_id: str, *, user: str, role: str) -> AmtshilfeDecision:
    """Append an ``ah_approval`` (a second person of the enforcement office)."""
    d = _find(state_dir, tenant, decision_id)
    check_approval(d, user, role)
    entry = {"kind": "ah_approval", "tenant": tenant, "decision_id": decision_id, "user": user, "role": role,
             "created_at": _now()}
    _append(state_dir, tenant, entry, sub=SUB)
    return replace(d, approved_by=user, approved_at=entry["created_at"])


def withdraw(state_dir: Path, tenant: str, decision_id: str, *, user: str, role: str, note: str,
             booked: Collection[str] = ()) -> AmtshilfeDecision:
    """Append an ``ah_withdraw``: the decision is not booked (refused once booked: ``booked`` ids)."""
    d = _find(state_dir, tenant, decision_id)
    check_withdraw(d, role, note, booked)
    entry = {"kind": "ah_withdraw", "tenant": tenant, "decision_id": decision_id, "user": user, "role": role,
             "created_at": _now(), "note": note}
    _append(state_dir, tenant, entry, sub=SUB)
    return replace(d, withdrawn_by=user, withdrawn_at=entry["created_at"], withdraw_note=note)


def load_decisions(state_dir: Path, tenant: str) -> tuple[list[AmtshilfeDecision], list[Issue]]:
    """Every decision of a tenant in the order written, plus findings on lines that are bad or refused (a
    forged approval by the decider, a line for an unknown decision …: reported, never counted)."""
    folder = journal_dir(state_dir, tenant) / SUB
    entries, issues = read_lines(folder, KINDS, "Amtshilfe decision entry")
    found: dict[str, AmtshilfeDecision] = {}
    for _, where, e in entries:
        kind = str(e["kind"])
        try:
            user, role = str(e.get("user") or ""), str(e.get("role") or "")
            if kind == "ah_decision":
                d = _decision_from(e)
                check_decision(d, role, today=datetime.fromisoformat(str(e["created_at"])).date())
                if d.decision_id in found:
                    raise JournalError(f"decision {d.decision_id} recorded twice")
                found[d.decision_id] = d
                continue
            d = found.get(str(e.get("decision_id"))) or _missing(kind, e)
            if kind == "ah_approval":
                check_approval(d, user, role)
                found[d.decision_id] = replace(d, approved_by=user, approved_at=str(e["created_at"]))
            else:
                note = str(e.get("note") or "")
                check_withdraw(d, role, note)
                found[d.decision_id] = replace(d, withdrawn_by=user, withdrawn_at=str(e["created_at"]),
                                               withdraw_note=note)
        except (JournalError, KeyError, TypeError, ValueError) as exc:
            issues.append(Issue(str(folder), where, WARNING, f"journal.{kind}_refused", str(exc),
                                json.dumps(e, ensure_ascii=False)[:500]))
    return list(found.values()), issues


def _missing(kind: str, e: dict[str, Any]) -> AmtshilfeDecision:
    raise JournalError(f"{kind} refers to unknown decision {e.get('decision_id')}")


def read_decisions(state_dir: Path, tenant: str) -> list[AmtshilfeDecision]:
    """Every decision of a tenant in the order written (see :attr:`AmtshilfeDecision.state`)."""
    return load_decisions(state_dir, tenant)[0]


__all__ = ["DECIDER_ROLES", "FOUR_EYES", "KINDS", "STATE_FOR", "SUB", "AmtshilfeDecision", "approve",
           "check_approval", "check_decision", "check_withdraw", "decide", "load_decisions", "read_decisions",
           "withdraw"]
