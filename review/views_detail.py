"""The detail page: one unresolved payment as the bank sent it, its candidates, and the decision forms."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qsl

import polars as pl
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from claims.vocab import DecisionState
from review.auth import current_user, require_tenant, require_user
from review.explain import explain, iban_verdict, parse_candidates, proposed_items, search_open_items
from review.history import payment_history
from review.labels import de_time
from review.listing import next_payment, parse_list_query
from review.payer import WHY_TEXT, payer_debtors
from review.state import Snapshot
from review.web import context_of, flash, render

#: empty rows in the split form for open items the matcher did not propose
FREE_ROWS = 2


def find_row(snap: Snapshot | None, tenant: str, transaction_id: str) -> dict[str, Any]:
    """The Klärungsliste row, or 404 (e.g. the nightly run booked it meanwhile)."""
    if snap is None:
        raise HTTPException(404, f"Für Mandant {tenant} ist noch kein Lauf veröffentlicht.")
    hit = snap.items.filter(pl.col("transaction_id") == transaction_id)
    if hit.height == 0:
        raise HTTPException(404, f"Zahlung {transaction_id} steht nicht (mehr) in der Klärungsliste "
                                 f"(Stand: Lauf {snap.run_id}).")
    return hit.row(0, named=True)


def list_context(request: Request, tenant: str) -> str:
    """The query string of the list this clerk last looked at for ``tenant`` ("" if none)."""
    last = request.session.get("list_query") or {}
    return str(last.get("params") or "") if isinstance(last, dict) and last.get("tenant") == tenant else ""


def next_of(request: Request, tenant: str, transaction_id: str) -> str | None:
    """The next undecided payment of the clerk's last filtered list after this one ("save and next")."""
    ctx = context_of(request)
    snap = ctx.state.snapshot(tenant)
    if snap is None:
        return None
    live = ctx.state.live_decisions(tenant, snap)
    query = parse_list_query(dict(parse_qsl(list_context(request, tenant))))
    return next_payment(snap.items, query, transaction_id, {t: d.state for t, d in live.items()})


def detail_response(request: Request, tenant: str, transaction_id: str, *, errors: list[str] | None = None,
                    form: dict[str, Any] | None = None, status: int = 200) -> Response:
    """Render the detail page (also used to show a refused form again with its errors and values)."""
    ctx = context_of(request)
    snap = ctx.state.snapshot(tenant)
    row = find_row(snap, tenant, transaction_id)
    assert snap is not None
    proposed, cand_problem = parse_candidates(row["candidates"])
    items_q = (request.query_params.get("items_q") or "").strip()[:100]
    items = proposed_items(snap.open_items, proposed)
    decisions = ctx.state.decisions(tenant)
    payer, payer_items = payer_debtors((tenant, snap.run_id), snap.open_items, row, decisions)
    items = pl.concat([items, payer_items.filter(~pl.col("receivable_id").is_in(items["receivable_id"].to_list()))])
    if items_q:
        found = search_open_items(snap.open_items, items_q)
        items = pl.concat([items, found.filter(~pl.col("receivable_id").is_in(items["receivable_id"].to_list()))])
    fits = explain(row, items, proposed)
    gone = [c for c in proposed if c["receivable_id"] not in set(items["receivable_id"].to_list())]
    history = [d for d in decisions if d.transaction_id == transaction_id]
    live = next((d for d in reversed(history) if d.state == DecisionState.PENDING
                 or (d.state == DecisionState.EFFECTIVE and not snap.seen_by_run(d))), None)
    user = current_user(request)
    locks = ctx.locks.held_by_others(tenant, [transaction_id], user.login if user else "")
    if user is not None and user.may_decide:
        ctx.locks.touch(tenant, transaction_id, user.login, user.name)
    lock = locks.get(transaction_id)
    return render(request, "detail.html", {
        "tenant": tenant, "snap": snap, "row": row, "verdict": iban_verdict(row["counterparty_iban"]),
        "fits": fits, "gone": gone, "cand_problem": cand_problem, "items_q": items_q,
        "history": list(reversed(history)), "live": live, "free_rows": FREE_ROWS,
        "threshold": ctx.config.four_eyes_above_cents, "errors": errors or [], "form": form or {},
        "payer": payer, "payer_why": WHY_TEXT, "events": payment_history(row, decisions, snap),
        "lock": lock, "lock_since": de_time(datetime.fromtimestamp(lock.since, UTC)) if lock else "",
        "list_params": list_context(request, tenant),
    }, status=status)


async def detail_page(request: Request) -> Response:
    """GET /t/{tenant}/item/{transaction_id}."""
    user = require_user(request)
    tenant = request.path_params["tenant"]
    require_tenant(user, tenant)
    return detail_response(request, tenant, request.path_params["transaction_id"])


async def next_page(request: Request) -> Response:
    """GET /t/{tenant}/item/{transaction_id}/next: on to the next undecided payment of the clerk's last list
    (worked out on the click, so a detail view does not sort the list for a link that may not be used)."""
    user = require_user(request)
    tenant = request.path_params["tenant"]
    require_tenant(user, tenant)
    following = next_of(request, tenant, request.path_params["transaction_id"])
    if following is None:
        flash(request, "Keine weitere unentschiedene Zahlung in dieser Liste.")
        params = list_context(request, tenant)
        return RedirectResponse(f"/t/{tenant}/" + (f"?{params}" if params else ""), status_code=303)
    return RedirectResponse(f"/t/{tenant}/item/{following}", status_code=303)
