"""The list page: a tenant's Klärungsliste with filters, search, sorting, paging and decision status,
the sum of the filtered amounts, a page size choice, the export of the filtered list (CSV, XLSX) and the
checkboxes of the bulk actions (review/views_bulk.py)."""

from __future__ import annotations

from datetime import date

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response

from review.auth import require_tenant, require_user
from review.labels import DECISION_STATE_TEXT
from review.list_export import list_csv, list_xlsx
from review.listing import PAGE_SIZES, SORTS, filter_items, ordered_rows, page_of, parse_list_query
from review.web import context_of, render

_COLUMNS = ("transaction_id", "booking_date", "age_days", "account_iban", "amount_cents", "unallocated_cents",
            "counterparty_name", "counterparty_iban", "remittance", "reason", "state")
#: the session key holding the list's last query string: "save and next" walks that list
LIST_QUERY = "list_query"


async def list_page(request: Request) -> Response:
    """GET /t/{tenant}/: unresolved payments of the last published run."""
    user = require_user(request)
    tenant = request.path_params["tenant"]
    require_tenant(user, tenant)
    ctx = context_of(request)
    snap = ctx.state.snapshot(tenant)
    query = parse_list_query(request.query_params)
    base = {"tenant": tenant, "snap": snap, "query": query, "sorts": SORTS, "sizes": PAGE_SIZES}
    if snap is None:
        return render(request, "list.html", {**base, "rows": [], "total": 0, "page": 1, "pages": 1, "live": {},
                                             "sum_cents": 0, "size": ctx.config.page_size, "locks": {}})
    request.session[LIST_QUERY] = {"tenant": tenant, "params": query.params()}
    live = ctx.state.live_decisions(tenant, snap)
    matched = ordered_rows(snap.items, query, {t: d.state for t, d in live.items()})
    size = query.size or ctx.config.page_size
    keys, page, pages = page_of(matched, query.page, size)
    shown = snap.items[keys["_i"]]                     # the page's full rows, gathered after sorting the keys
    ids = shown["transaction_id"].to_list()
    return render(request, "list.html", {
        **base, "rows": shown.select(_COLUMNS).to_dicts(), "total": matched.height, "all": snap.items.height,
        "page": page, "pages": pages, "size": size, "sum_cents": int(matched["unallocated_cents"].sum() or 0),
        "live": {r: live[r] for r in ids if r in live},
        "locks": ctx.locks.held_by_others(tenant, ids, user.login),
    })


async def export_list(request: Request) -> Response:
    """GET /t/{tenant}/export.{csv|xlsx}: the filtered list, all pages, German headers."""
    user = require_user(request)
    tenant = request.path_params["tenant"]
    require_tenant(user, tenant)
    kind = request.path_params["kind"]
    if kind not in ("csv", "xlsx"):
        raise HTTPException(404, f"Ausgabeformat {kind!r} gibt es nicht (csv oder xlsx).")
    ctx = context_of(request)
    snap = ctx.state.snapshot(tenant)
    if snap is None:
        raise HTTPException(404, f"Für Mandant {tenant} ist noch kein Lauf veröffentlicht.")
    live = ctx.state.live_decisions(tenant, snap)
    matched = filter_items(snap.items, parse_list_query(request.query_params), {t: d.state for t, d in live.items()})
    decided = {t: DECISION_STATE_TEXT.get(d.state, d.state) for t, d in live.items()}
    as_of = date.fromisoformat(str(snap.meta.get("as_of") or date.today().isoformat()))
    name = f"klaerungsliste-{tenant}-{as_of.isoformat()}.{kind}"
    if kind == "csv":
        body, media = list_csv(matched, decided), "text/csv; charset=utf-8"
    else:
        body = list_xlsx(matched, decided, as_of)
        media = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    return Response(body, media_type=media, headers={"content-disposition": f'attachment; filename="{name}"'})
