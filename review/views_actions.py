"""The POST endpoints: decide on a payment, approve or withdraw a decision. Each writes one journal line."""

from __future__ import annotations

from starlette.datastructures import FormData
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from claims.vocab import DecisionAction, DecisionState
from ledger.journal import JournalError, record_approval, record_decision, record_withdrawal
from review.amounts import format_cents
from review.auth import require_decider, require_tenant, require_user
from review.csrf import check_csrf
from review.decide import DecisionForm, build_decision
from review.users import User
from review.views_detail import detail_response, find_row, list_context, next_of, split_rows
from review.web import context_of, flash

STATE_NAMES: dict[str, str] = {DecisionState.PENDING: "wartet auf Freigabe", DecisionState.EFFECTIVE: "wirksam", DecisionState.WITHDRAWN: "zurückgezogen",
               DecisionState.SUPERSEDED: "ersetzt"}
ACTION_NAMES: dict[str, str] = {DecisionAction.ASSIGN: "Zuordnung", DecisionAction.REFUND: "Erstattung", DecisionAction.PARK: "Verwahrgeld",
                DecisionAction.RETRY: "Neuer Abgleich"}


async def checked_post(request: Request) -> tuple[User, str, FormData]:
    """Every POST here: a logged-in user of this tenant, a valid CSRF token, a role that may decide."""
    user = require_user(request)
    tenant = request.path_params["tenant"]
    require_tenant(user, tenant)
    form = await request.form()
    check_csrf(request, form)
    require_decider(user)
    return user, tenant, form


async def decide(request: Request) -> Response:
    """POST /t/{tenant}/item/{transaction_id}/decide: record assign | refund | park | retry."""
    user, tenant, form = await checked_post(request)
    tid = request.path_params["transaction_id"]
    ctx = context_of(request)
    snap = ctx.state.snapshot(tenant)
    row = find_row(snap, tenant, tid)
    assert snap is not None
    seen_run = str(form.get("run_id") or "")
    if seen_run != snap.run_id:
        raise HTTPException(409, f"Der nächtliche Lauf hat inzwischen neu veröffentlicht (gesehen: {seen_run or '?'}, "
                                 f"jetzt: {snap.run_id}). Bitte die Zahlung neu ansehen.")
    submitted = DecisionForm(
        action=str(form.get("action") or ""),
        item_keys=tuple(str(x) for x in form.getlist("rid")),
        amounts=tuple(str(x) for x in form.getlist("amt")),
        refund_iban=str(form.get("refund_iban") or ""),
        note=str(form.get("note") or ""),
    )
    decision, errors = build_decision(submitted, row=row, run_id=snap.run_id, open_items=snap.open_items,
                                      user=user, tenant=tenant, config=ctx.config)
    if decision is None:
        try:
            listed = int(str(form.get("listed") or "0"))
        except ValueError:
            listed = 0
        values = {"action": submitted.action, "refund_iban": submitted.refund_iban, "note": submitted.note,
                  "items_q": str(form.get("items_q") or ""),
                  "split": split_rows(list(submitted.item_keys), list(submitted.amounts), listed)}
        return detail_response(request, tenant, tid, errors=errors, form=values, status=422)
    try:
        record_decision(ctx.config.state_dir, decision)
    except JournalError as exc:
        return detail_response(request, tenant, tid, errors=[str(exc)], status=422)
    what = f"{ACTION_NAMES[decision.action]} über {format_cents(decision.amount_cents)} € gespeichert"
    flash(request, f"{what}: wartet auf Freigabe durch eine zweite Person." if decision.requires_approval
          else f"{what}: wird im nächsten Lauf gebucht.")
    ctx.locks.release(tenant, tid, user.login)
    if str(form.get("then") or "") == "next":           # "Speichern und weiter": the next payment of the list
        following = next_of(request, tenant, tid)
        if following is None:
            flash(request, "Keine weitere unentschiedene Zahlung in dieser Liste.")
            params = list_context(request, tenant)
            return RedirectResponse(f"/t/{tenant}/" + (f"?{params}" if params else ""), status_code=303)
        return RedirectResponse(f"/t/{tenant}/item/{following}", status_code=303)
    return RedirectResponse(f"/t/{tenant}/item/{tid}", status_code=303)


async def _review_action(request: Request, approve: bool) -> Response:
    user, tenant, form = await checked_post(request)
    decision_id = request.path_params["decision_id"]
    state_dir = context_of(request).config.state_dir
    note = str(form.get("note") or "").strip()[:2000]
    target = next((d for d in context_of(request).state.decisions(tenant) if d.decision_id == decision_id), None)
    if target is None:
        raise HTTPException(404, f"Entscheidung {decision_id} gibt es im Journal von {tenant} nicht.")
    if approve and not user.may_approve:
        raise HTTPException(403, f"Die Rolle {user.role} darf keine Entscheidungen freigeben.")
    if approve and target.user == user.login:
        raise HTTPException(403, "Vier-Augen-Prinzip: die eigene Entscheidung kann nur eine andere Person freigeben.")
    if approve and target.state != DecisionState.PENDING:
        raise HTTPException(409, f"Die Entscheidung ist {STATE_NAMES.get(target.state, target.state)}, "
                                 "es gibt nichts freizugeben.")
    if not approve and target.user != user.login and not user.may_approve:
        raise HTTPException(403, f"Nur {target.user} oder eine Aufsicht kann diese Entscheidung zurückziehen.")
    if not approve and target.state not in (DecisionState.PENDING, DecisionState.EFFECTIVE):
        raise HTTPException(409, f"Die Entscheidung ist {STATE_NAMES.get(target.state, target.state)}.")
    snap = context_of(request).state.snapshot(tenant)
    if not approve and snap is not None and snap.seen_by_run(target):
        raise HTTPException(409, f"Der Lauf {snap.run_id} hat die Entscheidung schon verarbeitet; eine Korrektur "
                                 "braucht eine neue Entscheidung.")
    try:
        if approve:
            record_approval(state_dir, tenant, decision_id, user=user.login, role=user.role, note=note)
        else:
            record_withdrawal(state_dir, tenant, decision_id, user=user.login, role=user.role, note=note)
    except JournalError as exc:
        raise HTTPException(409, str(exc)) from exc
    flash(request, "Freigegeben: wird im nächsten Lauf gebucht." if approve else "Entscheidung zurückgezogen.")
    back = str(form.get("back") or "")
    if not back.startswith(f"/t/{tenant}/") or back.startswith("//"):
        back = f"/t/{tenant}/item/{target.transaction_id}"
    return RedirectResponse(back, status_code=303)


async def approve(request: Request) -> Response:
    """POST /t/{tenant}/decision/{decision_id}/approve (supervisor, never the author)."""
    return await _review_action(request, approve=True)


async def withdraw(request: Request) -> Response:
    """POST /t/{tenant}/decision/{decision_id}/withdraw (the author or a supervisor)."""
    return await _review_action(request, approve=False)
