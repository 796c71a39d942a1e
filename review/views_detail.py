"""The detail page: one unresolved payment as the bank sent it, its candidates, and the decision forms."""

from __future__ import annotations

from dataclasses import dataclass, field
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


@dataclass(frozen=True, slots=True)
class SplitRows:
    """A refused split as the clerk filled it: the listed items' amounts by receivable id (in the order the
    page showed them) and the free rows' (key, amount) pairs, so the page comes back exactly as it was."""

    listed: dict[str, str] = field(default_factory=dict)
    free: list[tuple[str, str]] = field(default_factory=list)


def split_rows(keys: list[str], amounts: list[str], listed_count: int) -> SplitRows:
    """Pair the submitted ``rid``/``amt`` fields again: the first ``listed_count`` rows were open items the page
    listed (hidden ``rid``), the rest were free rows the clerk typed into (kept as typed)."""
    listed_count = max(0, min(listed_count, len(keys)))
    padded = list(amounts) + [""] * max(0, len(keys) - len(amounts))
    listed = {k: padded[i] for i, k in enumerate(keys[:listed_count]) if k}
    free = [(keys[i], padded[i]) for i in range(listed_count, len(keys))]
    return SplitRows(listed, free)


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
    form = form or {}
    items_q = (request.query_params.get("items_q") or form.get("items_q") or "").strip()[:100]
    items = proposed_items(snap.open_items, proposed)
    decisions = ctx.state.decisions(tenant)
    payer, payer_items = payer_debtors((tenant, snap.run_id), snap.open_items, row, decisions)
    items = pl.concat([items, payer_items.filter(~pl.col("receivable_id").is_in(items["receivable_id"].to_list()))])
    if items_q:
        found = search_open_items(snap.open_items, items_q)
        items = pl.concat([items, found.filter(~pl.col("receivable_id").is_in(items["receivable_id"].to_list()))])
    rows: SplitRows = form.get("split") or SplitRows()
    if rows.listed:                        # a refused split: every row it listed comes back, found ones too
        extra = snap.open_items.filter(pl.col("receivable_id").is_in(list(rows.listed))
                                       & ~pl.col("receivable_id").is_in(items["receivable_id"].to_list()))
        items = pl.concat([items, extra])
    fits = explain(row, items, proposed)
    if rows.listed:
        order = {rid: i for i, rid in enumerate(rows.listed)}
        fits.sort(key=lambda f: order.get(f.receivable_id, len(order)))
        shown = {f.receivable_id for f in fits}
        # an item booked meanwhile is no longer listed: keep what the clerk typed for it as a free row
        rows = SplitRows(rows.listed, rows.free + [(rid, amt) for rid, amt in rows.listed.items()
                                                   if rid not in shown and amt.strip()])
    free = rows.free + [("", "")] * max(0, FREE_ROWS - len(rows.free))
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
        "history": list(reversed(history)), "live": live, "free_rows": free, "listed_amounts": rows.listed,
        "threshold": ctx.config.four_eyes_above_cents, "errors": errors or [], "form": form,
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
