"""Clerk decisions from the review page's journal, checked and turned into ledger rows (plain, no I/O).

The review page appends decisions to the journal (:mod:`ledger.journal`); the nightly run books the
*effective* ones (approved, or below the four-eyes threshold) exactly once, keyed by ``decision_id``:

- ``assign``: allocations with ``rule = clerk`` and ``decided_by`` = the clerk's user id;
- ``refund``: a ``refunds`` row (paid out later by the pain.001 job);
- ``park``: the item stays on the Klärungsliste with state ``parked``;
- ``retry``: recorded; the item is matched again in this run anyway.

A decision whose payment is no longer on the Klärungsliste, or whose amounts do not add up (more than
is unallocated, more than a receivable has open, an unknown receivable, a refund without IBAN) is
recorded as ``rejected`` with the reason, and books nothing. Decisions are few: a loop over them is fine.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import polars as pl

from claims.vocab import DecisionAction, ItemState, Rule
from ledger.tables import ALLOCATIONS, CLERK_DECISIONS, REFUNDS, UNRESOLVED
from parsers.issues import money


@dataclass(slots=True)
class DecisionOutcome:
    """Rows the decisions add, and the payments they took off the matcher's table."""

    decisions: pl.DataFrame = field(default_factory=lambda: pl.DataFrame(schema=CLERK_DECISIONS))
    allocations: pl.DataFrame = field(default_factory=lambda: pl.DataFrame(schema=ALLOCATIONS))
    refunds: pl.DataFrame = field(default_factory=lambda: pl.DataFrame(schema=REFUNDS))
    events: pl.DataFrame = field(default_factory=lambda: pl.DataFrame(schema=UNRESOLVED))
    handled: set[str] = field(default_factory=set)   # transaction ids not to match again this run


def _alloc_list(d: Any) -> list[dict[str, Any]]:
    out = []
    for a in getattr(d, "allocations", ()) or ():
        get = a.get if isinstance(a, dict) else (lambda k, _a=a: getattr(_a, k, None))
        out.append({"receivable_id": get("receivable_id"), "kassenzeichen": get("kassenzeichen"),
                    "amount_cents": int(get("amount_cents") or 0)})
    return out


def apply_decisions(decisions: Iterable[Any], *, tenant: str, run_id: str, booking_date: date,
                    unresolved: pl.DataFrame, open_items: pl.DataFrame,
                    known_ids: Iterable[str] = ()) -> DecisionOutcome:
    """Check each new effective decision against the current Klärungsliste and open items; book it."""
    seen = set(known_ids)
    items = {r["transaction_id"]: dict(r) for r in unresolved.iter_rows(named=True)}
    open_left = dict(zip(open_items["receivable_id"].to_list(), open_items["amount_cents"].to_list(), strict=True))
    import_ids = dict(zip(open_items["receivable_id"].to_list(),
                          (open_items["import_id"].to_list() if "import_id" in open_items.columns
                           else [None] * open_items.height), strict=True))
    rows: list[dict[str, Any]] = []
    allocs: list[dict[str, Any]] = []
    refunds: list[dict[str, Any]] = []
    touched: dict[str, dict[str, Any]] = {}
    out = DecisionOutcome()
    for d in sorted(decisions, key=lambda d: (str(getattr(d, "created_at", "")), str(d.decision_id))):
        if d.decision_id in seen or getattr(d, "tenant", tenant) != tenant:
            continue
        seen.add(d.decision_id)
        parts = _alloc_list(d)
        amount = int(getattr(d, "amount_cents", 0) or 0)
        if d.action == DecisionAction.ASSIGN and not amount:
            amount = sum(p["amount_cents"] for p in parts)
        item = items.get(d.transaction_id)
        reason = _check(d.action, item, parts, amount, getattr(d, "refund_iban", None), open_left)
        rows.append({
            "tenant": tenant, "run_id": run_id, "decision_id": d.decision_id,
            "transaction_id": d.transaction_id, "action": d.action, "allocations": json.dumps(parts),
            "amount_cents": amount, "refund_iban": getattr(d, "refund_iban", None),
            "note": getattr(d, "note", None), "decided_by": d.user, "decided_at": str(d.created_at),
            "approved_by": getattr(d, "approved_by", None),
            "status": "rejected" if reason else "booked", "reason": reason,
        })
        if reason or item is None:
            continue
        tx = d.transaction_id
        if d.action == DecisionAction.ASSIGN:
            for p in parts:
                open_left[p["receivable_id"]] -= p["amount_cents"]
                allocs.append({"tenant": tenant, "run_id": run_id, "transaction_id": tx,
                               "bank_ref": item["bank_ref"], "receivable_id": p["receivable_id"],
                               "kassenzeichen": p["kassenzeichen"], "amount_cents": p["amount_cents"],
                               "rule": Rule.CLERK, "confidence": 1.0, "decided_by": d.user,
                               "booking_date": booking_date, "import_id": import_ids.get(p["receivable_id"]),
                               "decision_id": d.decision_id})
        elif d.action == DecisionAction.REFUND:
            refunds.append({"tenant": tenant, "run_id": run_id, "decision_id": d.decision_id,
                            "transaction_id": tx, "amount_cents": amount, "refund_iban": d.refund_iban,
                            "decided_by": d.user, "booking_date": booking_date})
        if d.action in (DecisionAction.ASSIGN, DecisionAction.REFUND):
            item["unallocated_cents"] -= amount
            item["state"] = ItemState.RESOLVED if item["unallocated_cents"] == 0 else ItemState.OPEN
        elif d.action == DecisionAction.PARK:
            item["state"] = ItemState.PARKED
        if d.action != DecisionAction.RETRY:
            out.handled.add(tx)
            touched[tx] = item
    out.decisions = pl.DataFrame(rows, schema=CLERK_DECISIONS)
    out.allocations = pl.DataFrame(allocs, schema=ALLOCATIONS)
    out.refunds = pl.DataFrame(refunds, schema=REFUNDS)
    events = [{**{k: v for k, v in it.items() if k in UNRESOLVED}, "run_id": run_id, "tenant": tenant,
               "as_of": booking_date} for it in touched.values()]
    out.events = pl.DataFrame(events, schema=UNRESOLVED)
    return out


def _check(action: str, item: dict[str, Any] | None, parts: list[dict[str, Any]], amount: int,
           refund_iban: str | None, open_left: dict[str, int]) -> str | None:
    """Why the decision cannot be booked (None when it can)."""
    if action not in tuple(DecisionAction):
        return f"unknown action {action!r}"
    if item is None:
        return "the payment is no longer on the Klärungsliste (booked meanwhile, or unknown)"
    if action in (DecisionAction.PARK, DecisionAction.RETRY):
        return None
    left = int(item["unallocated_cents"])
    if amount <= 0:
        return f"amount must be positive, got {money(amount)}"
    if amount > left:
        return f"decision moves {money(amount)} but only {money(left)} of the payment is unallocated"
    if action == DecisionAction.REFUND:
        return None if refund_iban else "refund without refund_iban"
    if not parts or sum(p["amount_cents"] for p in parts) != amount:
        total = sum(p["amount_cents"] for p in parts)
        return f"allocations add up to {money(total)}, expected {money(amount)}"
    need: dict[str, int] = {}
    for p in parts:
        if p["amount_cents"] <= 0:
            return f"allocation to {p['receivable_id']} must be positive, got {money(p['amount_cents'])}"
        need[p["receivable_id"]] = need.get(p["receivable_id"], 0) + p["amount_cents"]
    for rid, cents in need.items():
        if rid not in open_left:
            return f"receivable {rid} is not in the current open items"
        if cents > open_left[rid]:
            return f"receivable {rid} has {money(open_left[rid])} open, decision assigns {money(cents)}"
    return None
