"""POST /t/{tenant}/bulk: a bulk action on the rows ticked in the list (review/bulk.py), with a report of
what happened to each row."""

from __future__ import annotations

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response

from review.bulk import BULK_ACTIONS, MAX_ROWS, run_bulk
from review.views_actions import checked_post
from review.views_list import LIST_QUERY
from review.web import context_of, render

BULK_NAMES = {"retry": "Neu abgleichen", "park": "Als Verwahrgeld parken", "assign_suggested": "Wie vorgeschlagen zuordnen",
              "approve": "Freigeben"}


async def bulk(request: Request) -> Response:
    """Decide the ticked payments one by one; every decision waits for a second person's approval."""
    user, tenant, form = await checked_post(request)
    action = str(form.get("bulk") or "")
    if action not in BULK_ACTIONS:
        raise HTTPException(400, f"Unbekannte Sammelaktion {action!r}.")
    ids = [str(x) for x in form.getlist("tid")]
    if not ids:
        raise HTTPException(400, "Keine Zahlung angekreuzt.")
    if len(ids) > MAX_ROWS:
        raise HTTPException(400, f"Höchstens {MAX_ROWS} Zahlungen auf einmal ({len(ids)} angekreuzt).")
    ctx = context_of(request)
    snap = ctx.state.snapshot(tenant)
    if snap is None:
        raise HTTPException(404, f"Für Mandant {tenant} ist noch kein Lauf veröffentlicht.")
    seen_run = str(form.get("run_id") or "")
    if seen_run != snap.run_id:
        raise HTTPException(409, f"Der nächtliche Lauf hat inzwischen neu veröffentlicht (gesehen: {seen_run or '?'}, "
                                 f"jetzt: {snap.run_id}). Bitte die Liste neu laden.")
    if action == "approve" and not user.may_approve:
        raise HTTPException(403, f"Die Rolle {user.role} darf keine Entscheidungen freigeben.")
    note = str(form.get("note") or "").strip()
    if action == "park" and not note:
        raise HTTPException(422, "Für Verwahrgeld bitte in der Notiz angeben, warum (gilt für alle angekreuzten).")
    results = run_bulk(action, ids, items=snap.items, open_items=snap.open_items,
                       live=ctx.state.live_decisions(tenant, snap), run_id=snap.run_id, user=user, tenant=tenant,
                       config=ctx.config, note=note)
    last = request.session.get(LIST_QUERY) or {}
    back = f"/t/{tenant}/?{last['params']}" if last.get("tenant") == tenant and last.get("params") else f"/t/{tenant}/"
    return render(request, "bulk.html", {"tenant": tenant, "action": BULK_NAMES[action], "results": results,
                                         "done": sum(r.done for r in results), "back": back,
                                         "approved": action == "approve"})
