"""The "Regeln" page: rules the clerks' decisions propose, and the learned rules with their state.

GET lists what the last nightly run proposed (``rule_proposals.parquet``: the same payer IBAN assigned to
the same debtor in enough booked decisions) and every rule in the journal (``ledger.rule_journal``), with
what each has booked so far (``rules.parquet``). The POSTs write one journal line each:

* ``propose``: a clerk or supervisor adopts a published proposal. Only its key is sent; debtor and
  evidence (count, clerks) are taken from the published proposal, never from the form;
* ``approve``: a supervisor who is neither the proposer nor a clerk of the evidence (four-eyes, 403);
* ``expire``: a supervisor ends an approved rule on a day (never later than it runs already);
* ``revoke``: a supervisor (or the proposer, before approval) takes a rule back, with a reason.

The next nightly run applies the approved rules in force and records every change in ``match_rules``.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from claims.vocab import RuleState
from ledger.journal import JournalError
from ledger.rule_journal import (
    LearnedRule,
    approve_rule,
    check_approval,
    expire_rule,
    propose_rule,
    read_rules,
    revoke_rule,
)
from review.auth import require_tenant, require_user
from review.views_actions import checked_post
from review.web import context_of, flash, render

#: Validity offered to the approver when the run proposed none (the default of [matching] learned_rule_valid_days).
DEFAULT_DAYS = 365
STATE_NAMES: dict[str, str] = {RuleState.PROPOSED: "wartet auf Freigabe", RuleState.APPROVED: "in Kraft",
                               RuleState.EXPIRED: "abgelaufen", RuleState.REVOKED: "widerrufen"}


def _today() -> date:
    return datetime.now(UTC).date()


def _rules(request: Request, tenant: str) -> list[LearnedRule]:
    return read_rules(context_of(request).config.state_dir, tenant)


def _find(request: Request, tenant: str, rule_id: str) -> LearnedRule:
    for r in _rules(request, tenant):
        if r.rule_id == rule_id:
            return r
    raise HTTPException(404, f"Regel {rule_id} gibt es im Journal von {tenant} nicht.")


def _day(value: object, what: str) -> date:
    try:
        return date.fromisoformat(str(value or "").strip())
    except ValueError:
        raise HTTPException(422, f"{what}: ein Datum wie 2027-12-31 angeben.") from None


async def rules_page(request: Request) -> Response:
    """GET /t/{tenant}/rules: proposals of the last run, then every rule (newest first)."""
    user = require_user(request)
    tenant = request.path_params["tenant"]
    require_tenant(user, tenant)
    snap = context_of(request).state.snapshot(tenant)
    today = _today()
    rules = _rules(request, tenant)
    # as matching.learned.propose_rules leaves them out (the run's list may predate a line of today)
    taken = {(r.kind, r.key) for r in rules if r.state_on(today) in (RuleState.PROPOSED, RuleState.APPROVED)}
    refused = {(r.kind, r.key, r.target) for r in rules if r.state_on(today) == RuleState.REVOKED}
    proposals: list[dict[str, Any]] = []
    booked: dict[str, tuple[int, int]] = {}
    if snap is not None and snap.rule_proposals.height:
        proposals = [p for p in snap.rule_proposals.to_dicts()
                     if (p["kind"], p["key"]) not in taken and (p["kind"], p["key"], p["target"]) not in refused]
    if snap is not None and "n_allocations" in snap.rules.columns:
        booked = {r["rule_id"]: (int(r["n_allocations"] or 0), int(r["allocated_cents"] or 0))
                  for r in snap.rules.to_dicts()}
    debtors: dict[str, str] = {}
    if snap is not None and snap.open_items.height:
        debtors = dict(snap.open_items.select("debtor_id", "debtor_name").unique("debtor_id").iter_rows())
    shown = [{"rule": r, "state": r.state_on(today), "state_name": STATE_NAMES[r.state_on(today)],
              "booked": booked.get(r.rule_id, (0, 0)), "debtor_name": debtors.get(r.target, ""),
              "may_approve": _may_approve(r, user.login, user.role),
              "default_until": (r.proposed_valid_until or today + timedelta(days=DEFAULT_DAYS)).isoformat()}
             for r in sorted(rules, key=lambda r: r.proposed_at, reverse=True)]
    for p in proposals:
        p["debtor_name"] = debtors.get(p["target"], "")
    return render(request, "rules.html", {"tenant": tenant, "snap": snap, "proposals": proposals, "rules": shown,
                                          "today": today.isoformat()})


def _may_approve(rule: LearnedRule, login: str, role: str) -> bool:
    try:
        check_approval(rule, login, role)
    except JournalError:
        return False
    return True


async def propose(request: Request) -> Response:
    """POST /t/{tenant}/rules/propose: adopt the published proposal for ``key``."""
    user, tenant, form = await checked_post(request)
    snap = context_of(request).state.snapshot(tenant)
    seen_run = str(form.get("run_id") or "")
    if snap is None or seen_run != snap.run_id:
        raise HTTPException(409, "Der nächtliche Lauf hat inzwischen neu veröffentlicht. Bitte die Vorschläge neu ansehen.")
    key, kind = str(form.get("key") or ""), str(form.get("kind") or "")
    found = [p for p in snap.rule_proposals.to_dicts() if p["key"] == key and p["kind"] == kind] \
        if snap.rule_proposals.height else []
    if not found:
        raise HTTPException(404, f"Für {key or '?'} liegt kein Vorschlag des Laufs {snap.run_id} vor.")
    p = found[0]
    until = p.get("valid_until")
    try:
        rule = propose_rule(context_of(request).config.state_dir, tenant, key=key, target=str(p["target"]),
                            evidence_count=int(p["evidence_count"]),
                            evidence_users=str(p["evidence_users"] or "").split(","), user=user.login,
                            role=user.role, note=str(form.get("note") or "").strip()[:2000], kind=kind,
                            valid_until=until if isinstance(until, date) else None)
    except JournalError as exc:
        raise HTTPException(409, str(exc)) from exc
    flash(request, f"Regel für {rule.key} → {rule.target} vorgeschlagen: wartet auf Freigabe durch eine Aufsicht, "
                   "die weder vorgeschlagen noch eine der Entscheidungen getroffen hat.")
    return RedirectResponse(f"/t/{tenant}/rules", status_code=303)


async def approve(request: Request) -> Response:
    """POST /t/{tenant}/rule/{rule_id}/approve (supervisor; not the proposer, not a clerk of the evidence)."""
    user, tenant, form = await checked_post(request)
    rule = _find(request, tenant, request.path_params["rule_id"])
    if not user.may_approve:
        raise HTTPException(403, f"Die Rolle {user.role} darf keine Regeln freigeben.")
    if user.login == rule.proposed_by or user.login in rule.evidence_users:
        raise HTTPException(403, "Vier-Augen-Prinzip: freigeben darf nur, wer die Regel weder vorgeschlagen noch "
                                 "eine der Entscheidungen getroffen hat, aus denen sie gelernt ist.")
    until = _day(form.get("valid_until"), "gültig bis")
    if until < _today():
        raise HTTPException(422, "gültig bis: das Datum liegt in der Vergangenheit.")
    try:
        approve_rule(context_of(request).config.state_dir, tenant, rule.rule_id, user=user.login, role=user.role,
                     valid_until=until)
    except JournalError as exc:
        raise HTTPException(409, str(exc)) from exc
    flash(request, f"Regel freigegeben bis {until:%d.%m.%Y}: gilt ab dem nächsten Lauf.")
    return RedirectResponse(f"/t/{tenant}/rules", status_code=303)


async def expire(request: Request) -> Response:
    """POST /t/{tenant}/rule/{rule_id}/expire (supervisor): the rule ends after ``valid_until``."""
    user, tenant, form = await checked_post(request)
    rule = _find(request, tenant, request.path_params["rule_id"])
    if not user.may_approve:
        raise HTTPException(403, f"Die Rolle {user.role} darf Regeln nicht beenden.")
    until = _day(form.get("valid_until"), "endet nach")
    try:
        expire_rule(context_of(request).config.state_dir, tenant, rule.rule_id, user=user.login, role=user.role,
                    valid_until=until)
    except JournalError as exc:
        raise HTTPException(409, str(exc)) from exc
    flash(request, f"Regel endet nach dem {until:%d.%m.%Y}.")
    return RedirectResponse(f"/t/{tenant}/rules", status_code=303)


async def revoke(request: Request) -> Response:
    """POST /t/{tenant}/rule/{rule_id}/revoke: a supervisor (or the proposer before approval), with a reason."""
    user, tenant, form = await checked_post(request)
    rule = _find(request, tenant, request.path_params["rule_id"])
    if not user.may_approve and not (user.login == rule.proposed_by and not rule.approved_by):
        raise HTTPException(403, "Widerrufen darf eine Aufsicht (vor der Freigabe auch, wer vorgeschlagen hat).")
    reason = str(form.get("reason") or "").strip()[:2000]
    if not reason:
        raise HTTPException(422, "Ein Widerruf braucht einen Grund.")
    try:
        revoke_rule(context_of(request).config.state_dir, tenant, rule.rule_id, user=user.login, role=user.role,
                    reason=reason)
    except JournalError as exc:
        raise HTTPException(409, str(exc)) from exc
    flash(request, "Regel widerrufen: der nächste Lauf wendet sie nicht mehr an.")
    return RedirectResponse(f"/t/{tenant}/rules", status_code=303)
