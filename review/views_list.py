"""The list page: a tenant's Klärungsliste with filters, search, sorting, paging and decision status."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from review.auth import require_tenant, require_user
from review.listing import SORTS, filter_items, page_of, parse_list_query
from review.web import context_of, render

_COLUMNS = ("transaction_id", "booking_date", "age_days", "account_iban", "amount_cents", "unallocated_cents",
            "counterparty_name", "counterparty_iban", "remittance", "reason", "state")


async def list_page(request: Request) -> Response:
    """GET /t/{tenant}/: unresolved payments of the last published run."""
    user = require_user(request)
    tenant = request.path_params["tenant"]
    require_tenant(user, tenant)
    ctx = context_of(request)
    snap = ctx.state.snapshot(tenant)
    query = parse_list_query(request.query_params)
    if snap is None:
        return render(request, "list.html", {"tenant": tenant, "snap": None, "query": query, "rows": [],
                                             "total": 0, "page": 1, "pages": 1, "sorts": SORTS, "live": {}})
    live = ctx.state.live_decisions(tenant, snap)
    matched = filter_items(snap.items, query, {t: d.state for t, d in live.items()})
    shown, page, pages = page_of(matched, query.page, ctx.config.page_size)
    return render(request, "list.html", {
        "tenant": tenant, "snap": snap, "query": query, "rows": shown.select(_COLUMNS).to_dicts(),
        "total": matched.height, "all": snap.items.height, "page": page, "pages": pages, "sorts": SORTS,
        "live": {r: live[r] for r in shown["transaction_id"].to_list() if r in live},
    })
