"""The "Mahnverzicht" page: decisions that a claim may be enforced without a Mahnung (DOMAIN.md §1.3).

GET lists every waiver of the journal (``ledger.waiver_journal``) with its state today, filtered by debtor
or Kassenzeichen. The POSTs write one journal line each; the next enforcement hand-off reads the approved
ones:

* ``set``: a clerk or supervisor records for a claim (Kassenzeichen or receivable id, looked up in the
  published open items) or a debtor the reason (:class:`claims.vocab.MahnungWaiver`), the day it holds
  from (not in the future), for a published reminder its payment deadline, and a note;
* ``approve``: **always** a supervisor other than the one who recorded it (until then it counts nothing);
* ``withdraw``: a clerk or supervisor takes it back, with a note.

Auditors and the enforcement office read only (403 on every POST, and no forms are shown to them).
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import polars as pl
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from claims.vocab import MahnungWaiver
from ledger.journal import JournalError
from ledger.waiver_journal import Waiver, approve_waiver, read_waivers, set_waiver, withdraw_waiver
from outputs.enforcement_texts import MAHNUNG_WAIVER_TEXT
from review.auth import require_tenant, require_user
from review.users import User
from review.views_actions import checked_post
from review.views_blocks import claims_of, form_day, target_of
from review.web import context_of, flash, render

STATE_NAMES: dict[str, str] = {"in_force": "gilt", "awaiting_approval": "wartet auf Freigabe (gilt noch nicht)",
                               "scheduled": "gilt später", "withdrawn": "zurückgenommen"}
BADGES: dict[str, str] = {"in_force": "effective", "awaiting_approval": "pending", "scheduled": "pending"}


def _today() -> date:
    return datetime.now(UTC).date()


def _find(request: Request, tenant: str, waiver_id: str) -> Waiver:
    for w in read_waivers(context_of(request).config.state_dir, tenant):
        if w.waiver_id == waiver_id:
            return w
    raise HTTPException(404, f"Mahnverzicht {waiver_id} gibt es im Journal von {tenant} nicht.")


def waiver_rows(request: Request, tenant: str, user: User) -> list[dict[str, Any]]:
    """Every waiver as the page shows it (state today, Kassenzeichen, debtor), newest first."""
    snap = context_of(request).state.snapshot(tenant)
    waivers = read_waivers(context_of(request).config.state_dir, tenant)
    claims, debtors = claims_of(snap.open_items if snap is not None else pl.DataFrame(), waivers)
    today, rows = _today(), []
    for w in sorted(waivers, key=lambda w: w.set_at, reverse=True):
        claim = claims.get(w.receivable_id or "", {})
        debtor_id = w.debtor_id or claim.get("debtor_id") or ""
        state = w.state_on(today)
        rows.append({"w": w, "state": state, "state_name": STATE_NAMES[state], "badge": BADGES.get(state, "withdrawn"),
                     "reason_text": MAHNUNG_WAIVER_TEXT.get(w.waiver, w.waiver),
                     "kassenzeichen": claim.get("kassenzeichen") or "", "debtor_id": debtor_id,
                     "debtor_name": debtors.get(debtor_id, ""),
                     "may_approve": state != "withdrawn" and w.approved_by is None and user.role == "supervisor"
                     and user.login != w.set_by,
                     "live": state != "withdrawn",
                     "search": " ".join([w.receivable_id or "", claim.get("kassenzeichen") or "",
                                         claim.get("kz_norm") or "", debtor_id, debtors.get(debtor_id, "")]).lower()})
    return rows


async def waivers_page(request: Request) -> Response:
    """GET /t/{tenant}/waivers?q=&show=all: the waivers (live ones unless ``show=all``), newest first."""
    user = require_user(request)
    tenant = request.path_params["tenant"]
    require_tenant(user, tenant)
    q = (request.query_params.get("q") or "").strip()[:100]
    show_all = request.query_params.get("show") == "all"
    rows = waiver_rows(request, tenant, user)
    total = len(rows)
    if not show_all:
        rows = [r for r in rows if r["live"]]
    if q:
        needle, compact = q.lower(), "".join(ch for ch in q if ch.isalnum()).lower()
        rows = [r for r in rows if needle in r["search"] or (compact and compact in r["search"])]
    return render(request, "waivers.html", {
        "tenant": tenant, "rows": rows, "total": total, "q": q, "show_all": show_all, "today": _today().isoformat(),
        "reasons": [(m.value, MAHNUNG_WAIVER_TEXT[m]) for m in MahnungWaiver],
        "public_reminder": MahnungWaiver.PUBLIC_REMINDER.value,
    })


async def set_waiver_view(request: Request) -> Response:
    """POST /t/{tenant}/waivers/set: record a Mahnverzicht for a claim or a debtor (clerk, supervisor)."""
    user, tenant, form = await checked_post(request)
    snap = context_of(request).state.snapshot(tenant)
    open_items = snap.open_items if snap is not None else pl.DataFrame()
    receivable_id, debtor_id = target_of(open_items, str(form.get("kind") or ""), str(form.get("target") or "")[:100])
    reason = str(form.get("reason") or "")
    if reason not in tuple(MahnungWaiver):
        raise HTTPException(422, "Bitte einen Grund aus der Liste wählen.")
    since = form_day(form.get("since"), "gilt ab") or _today()
    deadline = form_day(form.get("deadline"), "Zahlungsfrist der öffentlichen Erinnerung")
    note = str(form.get("note") or "").strip()[:2000]
    if not note:
        raise HTTPException(422, "Ein Mahnverzicht braucht eine Begründung (Notiz: warum, und wo die Akte ist).")
    try:
        set_waiver(context_of(request).config.state_dir, tenant, receivable_id=receivable_id, debtor_id=debtor_id,
                   waiver=MahnungWaiver(reason), since=since, deadline=deadline, note=note, user=user.login,
                   role=user.role)
    except JournalError as exc:
        raise HTTPException(422, str(exc)) from exc
    what = f"Forderung {receivable_id}" if receivable_id else f"Schuldner {debtor_id}"
    flash(request, f"Mahnverzicht für {what} erfasst ({MAHNUNG_WAIVER_TEXT[MahnungWaiver(reason)]}). Er gilt erst, "
                   "wenn eine zweite Aufsicht ihn freigibt.")
    return RedirectResponse(f"/t/{tenant}/waivers", status_code=303)


async def approve_waiver_view(request: Request) -> Response:
    """POST /t/{tenant}/waiver/{waiver_id}/approve: a supervisor other than the one who recorded it."""
    user, tenant, _form = await checked_post(request)
    w = _find(request, tenant, request.path_params["waiver_id"])
    if user.role != "supervisor":
        raise HTTPException(403, f"Die Rolle {user.role} darf keinen Mahnverzicht freigeben; das darf nur eine Aufsicht.")
    if user.login == w.set_by:
        raise HTTPException(403, "Vier-Augen-Prinzip: einen Mahnverzicht gibt eine andere Person frei als die, "
                                 "die ihn erfasst hat.")
    try:
        approve_waiver(context_of(request).config.state_dir, tenant, w.waiver_id, user=user.login, role=user.role)
    except JournalError as exc:
        raise HTTPException(409, str(exc)) from exc
    flash(request, "Mahnverzicht freigegeben: die nächste Abgabe an die Vollstreckung berücksichtigt ihn.")
    return RedirectResponse(f"/t/{tenant}/waivers", status_code=303)


async def withdraw_waiver_view(request: Request) -> Response:
    """POST /t/{tenant}/waiver/{waiver_id}/withdraw: take a waiver back (clerk, supervisor), with a note."""
    user, tenant, form = await checked_post(request)
    w = _find(request, tenant, request.path_params["waiver_id"])
    note = str(form.get("note") or "").strip()[:2000]
    if not note:
        raise HTTPException(422, "Das Zurücknehmen eines Mahnverzichts braucht eine Begründung (Notiz).")
    try:
        withdraw_waiver(context_of(request).config.state_dir, tenant, w.waiver_id, user=user.login, role=user.role,
                        note=note)
    except JournalError as exc:
        raise HTTPException(409, str(exc)) from exc
    flash(request, "Mahnverzicht zurückgenommen: ohne Mahnung wird die Forderung nicht mehr abgegeben.")
    return RedirectResponse(f"/t/{tenant}/waivers", status_code=303)
