"""The full history of one payment, oldest first: bank booking, every clerk decision and what became of it
(approved, withdrawn, replaced, booked or rejected by a run), the runs that held it on the Klärungsliste.

Read from what the page may read: the journal (each decision keeps the run and the reason it was made on
in ``before``) and the published snapshot (the current run, and the run's outcomes per decision).
Times are shown in Europe/Berlin (:func:`review.labels.de_time`).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from claims.vocab import DecisionState
from ledger.journal import Decision
from review.amounts import format_cents
from review.labels import ACTION_TEXT, ROLE_TEXT, de_date, label
from review.state import Snapshot


@dataclass(frozen=True, slots=True)
class Event:
    """One line of the history."""

    at: str                                # ISO time (or date) it happened, for the order
    kind: str                              # bank | run | decision | approval | withdrawal | superseded | outcome
    text: str
    who: str = ""


def _who(login: str | None, role: str | None) -> str:
    return f"{login} ({ROLE_TEXT.get(role or '', role or '')})" if role else str(login or "")


def _decision_text(d: Decision) -> str:
    what = ACTION_TEXT.get(d.action, d.action)
    if d.amount_cents:
        what += f" über {format_cents(d.amount_cents)} €"
    if d.allocations:
        what += " an " + ", ".join(f"{a.kassenzeichen or a.receivable_id} ({format_cents(a.amount_cents)} €)"
                                   for a in d.allocations)
    if d.refund_iban:
        what += f" an IBAN {d.refund_iban}"
    seen = d.before.get("run_id")
    if seen:
        reason = d.before.get("reason")
        what += f"; gesehen in Lauf {seen}" + (f" (Grund: {label('reason', reason)})" if reason else "")
    what += "; braucht Freigabe" if d.requires_approval else "; ohne Freigabe wirksam"
    if d.note:
        what += f" – „{d.note}“"
    return what


def payment_history(row: dict[str, Any], decisions: Iterable[Decision], snap: Snapshot) -> list[Event]:
    """The events of the payment in ``row`` (a Klärungsliste row of ``snap``), oldest first."""
    tid = row["transaction_id"]
    events: list[Event] = []
    if row.get("booking_date") is not None:
        events.append(Event(str(row["booking_date"]), "bank",
                            f"Gutschrift über {format_cents(row.get('amount_cents'))} € auf Konto "
                            f"{row.get('account_iban') or '?'} (Buchungstag {de_date(row['booking_date'])})"))
    mine = sorted((d for d in decisions if d.transaction_id == tid), key=lambda d: d.created_at)
    for i, d in enumerate(mine):
        events.append(Event(d.created_at, "decision", _decision_text(d), _who(d.user, d.role)))
        if d.approved_at:
            events.append(Event(d.approved_at, "approval", f"{ACTION_TEXT.get(d.action, d.action)} freigegeben",
                                str(d.approved_by or "")))
        if d.withdrawn_at:
            events.append(Event(d.withdrawn_at, "withdrawal", f"{ACTION_TEXT.get(d.action, d.action)} zurückgezogen",
                                str(d.withdrawn_by or "")))
        if d.state == DecisionState.SUPERSEDED:
            later = next((x for x in mine[i + 1:] if x.state != DecisionState.WITHDRAWN), None)
            events.append(Event(later.created_at if later else d.created_at, "superseded",
                                f"{ACTION_TEXT.get(d.action, d.action)} durch eine spätere Entscheidung ersetzt"))
        outcome = snap.outcomes.get(d.decision_id)
        if outcome is not None:
            status, why = outcome
            text = (f"Lauf {snap.run_id}: {ACTION_TEXT.get(d.action, d.action)} gebucht" if status == "booked"
                    else f"Lauf {snap.run_id}: {ACTION_TEXT.get(d.action, d.action)} abgelehnt ({why})")
            events.append(Event(str(snap.meta.get("published_at") or ""), "outcome", text))
    published = str(snap.meta.get("published_at") or "")
    state = label("item_state", row.get("state") or "open")
    events.append(Event(published, "run", f"Lauf {snap.run_id} (Buchungstag {de_date(snap.meta.get('as_of'))}): "
                                          f"in der Klärungsliste, {state}, Grund: "
                                          f"{label('reason', row.get('reason'))}, offen "
                                          f"{format_cents(row.get('unallocated_cents'))} €"))
    events.sort(key=lambda e: e.at)
    return events
