"""Bulk actions on the filtered Klärungsliste: retry, park, assign-as-suggested — each row on its own.

A bulk action is many single decisions written by one click, never a new kind of decision: every row
goes through :func:`review.decide.build_decision` with the same checks as the detail page, and every
decision it writes **waits for a second person's approval** whatever its amount (four-eyes: one click
must not move money for 200 payments unseen). Each row reports what happened to it:

* ``assign_suggested`` only for a row whose matcher suggestion is a single candidate that is exact: the
  item is still open with exactly the payment's open amount (anything else is skipped, the clerk decides
  it on its page);
* a row with a decision still to come (pending, or effective and not yet booked) is skipped;
* ``park`` needs the note (why it is Verwahrgeld), as on the detail page; a parked row is skipped.

A supervisor may also ``approve`` the ticked rows' pending decisions of other users (never their own),
one approval line per decision, as the decisions page does one by one.

>>> BULK_ACTIONS
('retry', 'park', 'assign_suggested', 'approve')
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from typing import Any

import polars as pl

from claims.money import plain_eur
from claims.vocab import DecisionAction, DecisionState, ItemState
from ledger.journal import Decision, JournalError, record_approval, record_decision
from review.config import ReviewConfig
from review.decide import DecisionForm, build_decision
from review.explain import parse_candidates
from review.labels import DECISION_STATE_TEXT
from review.users import User

BULK_ACTIONS = ("retry", "park", "assign_suggested", "approve")
ACTION_OF = {"retry": DecisionAction.RETRY, "park": DecisionAction.PARK, "assign_suggested": DecisionAction.ASSIGN}
#: rows one bulk action may take (the largest page)
MAX_ROWS = 200


@dataclass(frozen=True, slots=True)
class RowResult:
    """What a bulk action did with one payment."""

    transaction_id: str
    payer: str
    amount_cents: int | None
    done: bool
    text: str
    decision_id: str = ""


def exact_suggestion(row: Mapping[str, Any], open_items: pl.DataFrame) -> tuple[dict[str, Any] | None, str]:
    """(the open item of the single exact suggestion, "") or (None, why the row has none)."""
    cands, problem = parse_candidates(row.get("candidates"))
    if problem:
        return None, "Vorschläge nicht lesbar"
    if len(cands) != 1:
        return None, ("kein Vorschlag" if not cands else f"{len(cands)} Vorschläge, nicht genau einer")
    rid = str(cands[0]["receivable_id"])
    hit = open_items.filter(pl.col("receivable_id") == rid)
    if hit.height != 1:
        return None, f"vorgeschlagener Posten {cands[0].get('kassenzeichen') or rid} ist nicht mehr offen"
    item = hit.row(0, named=True)
    payment = row.get("unallocated_cents")
    if payment is None or item["amount_cents"] != payment:
        return None, "Betrag des Vorschlags ist nicht genau der offene Betrag der Zahlung"
    return item, ""


def _form(action: str, row: Mapping[str, Any], open_items: pl.DataFrame, note: str) -> tuple[DecisionForm | None, str]:
    if action == "assign_suggested":
        item, why = exact_suggestion(row, open_items)
        if item is None:
            return None, why
        return DecisionForm("assign", (str(item["receivable_id"]),), (plain_eur(int(row["unallocated_cents"])),),
                            note=note), ""
    if action == "park" and row.get("state") == ItemState.PARKED:
        return None, "ist schon Verwahrgeld"
    return DecisionForm(str(ACTION_OF[action]), note=note), ""


def run_bulk(action: str, transaction_ids: Iterable[str], *, items: pl.DataFrame, open_items: pl.DataFrame,
             live: Mapping[str, Decision], run_id: str, user: User, tenant: str, config: ReviewConfig,
             note: str = "") -> list[RowResult]:
    """Decide each selected payment (journal lines written as it goes); one :class:`RowResult` per id."""
    if action not in BULK_ACTIONS:
        raise ValueError(f"unknown bulk action {action!r}")
    ids = list(dict.fromkeys(t for t in transaction_ids if t))[:MAX_ROWS]
    rows = {r["transaction_id"]: r for r in items.filter(pl.col("transaction_id").is_in(ids)).iter_rows(named=True)}
    out: list[RowResult] = []
    for tid in ids:                         # at most MAX_ROWS clicked rows: one journal line each
        row = rows.get(tid)
        if row is None:
            out.append(RowResult(tid, "", None, False, "steht nicht (mehr) in der Klärungsliste"))
            continue
        payer, cents = str(row.get("counterparty_name") or ""), row.get("unallocated_cents")
        if action == "approve":
            out.append(_approve(row, live.get(tid), user, config))
            continue
        if tid in live:
            state = DECISION_STATE_TEXT.get(live[tid].state, live[tid].state)
            out.append(RowResult(tid, payer, cents, False, f"übersprungen: hat schon eine Entscheidung ({state})"))
            continue
        form, why = _form(action, row, open_items, note)
        if form is None:
            out.append(RowResult(tid, payer, cents, False, f"übersprungen: {why}"))
            continue
        decision, errors = build_decision(form, row=row, run_id=run_id, open_items=open_items, user=user,
                                          tenant=tenant, config=config)
        if decision is None:
            out.append(RowResult(tid, payer, cents, False, "abgelehnt: " + " ".join(errors)))
            continue
        decision = replace(decision, requires_approval=True, state=DecisionState.PENDING)
        try:
            record_decision(config.state_dir, decision)
        except JournalError as exc:
            out.append(RowResult(tid, payer, cents, False, f"abgelehnt: {exc}"))
            continue
        out.append(RowResult(tid, payer, cents, True, "gespeichert, wartet auf Freigabe", decision.decision_id))
    return out


def _approve(row: Mapping[str, Any], decision: Decision | None, user: User, config: ReviewConfig) -> RowResult:
    tid, payer, cents = row["transaction_id"], str(row.get("counterparty_name") or ""), row.get("unallocated_cents")
    if decision is None or decision.state != DecisionState.PENDING:
        return RowResult(tid, payer, cents, False, "übersprungen: keine Entscheidung wartet auf Freigabe")
    if decision.user == user.login:
        return RowResult(tid, payer, cents, False, "übersprungen: eigene Entscheidung (Vier-Augen-Prinzip)")
    try:
        record_approval(config.state_dir, decision.tenant, decision.decision_id, user=user.login, role=user.role)
    except JournalError as exc:
        return RowResult(tid, payer, cents, False, f"abgelehnt: {exc}")
    return RowResult(tid, payer, cents, True, f"freigegeben ({decision.user}): wird im nächsten Lauf gebucht",
                     decision.decision_id)
