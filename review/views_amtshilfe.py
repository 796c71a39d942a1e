"""The "Amtshilfe" page: foreign creditors' requests for the enforcement office (issue 18 §5; docs/AMTSHILFE.md
"Decisions of a person", docs/REVIEW.md).

GET ``/t/{tenant}/amtshilfe`` shows, from the snapshot the nightly run publishes (:mod:`ledger.publish_amtshilfe`,
never the ledger) and the decision journal (:mod:`ledger.amtshilfe_journal`):

* the requests **waiting for a person** (state ``flagged``): the check's German text, the notices with the
  Säumniszuschlag asked and the one the Rundfunkbeitrag rule expects, a decision already made on them, and
  the forms (accept; return with a reason and a note);
* the **decisions** of the journal not booked yet (awaiting a second person, or the next night) and the
  ones the night recorded (booked, or refused with the reason);
* the **cases** of foreign creditors (creditor, file number, our case number, debtor, state, the claims'
  amount, paid, open, forwarded), filtered by creditor and state, with the form "fruchtlos" for an accepted
  case; ``/t/{tenant}/amtshilfe/export.csv`` is the same filtered list for German Excel;
* what was **forwarded** to creditors (the payout runs' forwards).

Who: the enforcement office (role ``vollstreckung``) reads and decides; auditors read (no forms, 403 on
every POST); every other role gets 403. The POSTs write one journal line each (CSRF-checked): ``decide``
(the request as the page showed it: its ``seq``; a request the night changed since is refused with 409),
``approve`` (an uncollectible decision, by a second person), ``withdraw`` (until the night booked it).
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import UTC, date, datetime
from typing import Any
from urllib.parse import urlencode

import polars as pl
from starlette.datastructures import FormData
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from claims.vocab import ErsuchenCheck, ErsuchenDecision, ErsuchenState
from ledger.amtshilfe_journal import AmtshilfeDecision, approve, decide, read_decisions, withdraw
from ledger.journal import JournalError
from outputs.amtshilfe_texts import ERSUCHEN_CHECK_TEXT, ERSUCHEN_DECISION_TEXT, ERSUCHEN_STATE_TEXT
from outputs.excel_csv import Col, excel_csv_bytes
from review.auth import require_tenant, require_user
from review.collection_state import int_param, page_of
from review.csrf import check_csrf
from review.users import User
from review.views_blocks import form_day
from review.web import context_of, flash, render

#: Who sees the page; who decides.
READ_ROLES = frozenset({"vollstreckung", "auditor"})
DECIDE_ROLE = "vollstreckung"
DECISION_STATE_TEXT = {"awaiting_approval": "wartet auf Freigabe durch eine zweite Person",
                       "effective": "wird im nächsten Nachtlauf gebucht", "withdrawn": "zurückgenommen",
                       "booked": "gebucht", "refused": "nicht gebucht"}
EXPORT_COLUMNS = (
    Col("creditor_name", "Gläubiger", "text", 28), Col("creditor_id", "Gläubiger-Kennung", "text", 16),
    Col("creditor_file_number", "Aktenzeichen Gläubiger", "text", 20), Col("case_number", "Unser Fall", "text", 14),
    Col("debtor", "Schuldner", "text", 28), Col("state_text", "Stand", "text", 20),
    Col("request_date", "Ersuchen vom", "date"), Col("total_cents", "ersucht", "cents"),
    Col("claims_cents", "Forderungen", "cents"), Col("paid_cents", "gezahlt", "cents"),
    Col("open_cents", "offen", "cents"), Col("forwarded_cents", "weitergeleitet", "cents"),
)


def _reader(request: Request) -> tuple[User, str]:
    user = require_user(request)
    tenant = request.path_params["tenant"]
    require_tenant(user, tenant, casefile=True)
    if user.role not in READ_ROLES:
        raise HTTPException(403, f"Die Rolle {user.role} sieht die Amtshilfe-Ersuchen nicht.")
    return user, tenant


async def _writer(request: Request) -> tuple[User, str, FormData]:
    user, tenant = _reader(request)
    form = await request.form()
    check_csrf(request, form)
    if user.role != DECIDE_ROLE:
        raise HTTPException(403, f"Die Rolle {user.role} darf über Amtshilfe-Ersuchen nicht entscheiden; das darf "
                                 "nur die Vollstreckungsstelle.")
    return user, tenant, form


def _snapshot(request: Request, tenant: str) -> tuple[dict[str, pl.DataFrame], dict[str, Any]]:
    frames, meta = context_of(request).amtshilfe.get(tenant)
    amounts = ("total_cents", "claims_cents", "paid_cents", "open_cents", "forwarded_cents")
    return {**frames, "requests": frames["requests"].with_columns([pl.col(x).fill_null(0) for x in amounts])}, meta


def _recorded(frames: dict[str, pl.DataFrame]) -> dict[str, dict[str, Any]]:
    """The decisions the ledger recorded (booked or refused), by id."""
    return {r["decision_id"]: r for r in frames["decisions"].to_dicts()}


def _state(d: AmtshilfeDecision, recorded: dict[str, dict[str, Any]]) -> str:
    got = recorded.get(d.decision_id)
    if got is not None:
        return "booked" if got["kind"] else "refused"
    return d.state


def _filtered(requests: pl.DataFrame, creditor: str, state: str) -> pl.DataFrame:
    df = requests
    if creditor:
        df = df.filter(pl.col("creditor_id") == creditor)
    if state:
        df = df.filter(pl.col("state") == state)
    return df.sort("received_on", "creditor_id", "creditor_file_number", descending=[True, False, False],
                   nulls_last=True)


def _decision_rows(decisions: list[AmtshilfeDecision], recorded: dict[str, dict[str, Any]], user: User,
                   names: dict[tuple[str, str], str]) -> list[dict[str, Any]]:
    rows = []
    for d in sorted(decisions, key=lambda d: d.decided_at, reverse=True):
        state = _state(d, recorded)
        rows.append({"d": d, "state": state, "state_text": DECISION_STATE_TEXT[state],
                     "action_text": ERSUCHEN_DECISION_TEXT.get(d.action, d.action),
                     "reason_text": ERSUCHEN_CHECK_TEXT.get(d.reason or "", d.reason or ""),
                     "creditor_name": names.get(d.key, d.creditor_id),
                     "night_text": (recorded.get(d.decision_id) or {}).get("text") or "",
                     "may_approve": state == "awaiting_approval" and user.role == DECIDE_ROLE
                     and user.login != d.decided_by,
                     "may_withdraw": state in ("awaiting_approval", "effective") and user.role == DECIDE_ROLE})
    return rows


async def amtshilfe_page(request: Request) -> Response:
    """GET /t/{tenant}/amtshilfe?creditor=&state=&page=&all=1."""
    user, tenant = _reader(request)
    frames, meta = _snapshot(request, tenant)
    requests = frames["requests"]
    creditor = (request.query_params.get("creditor") or "").strip()[:64]
    state = (request.query_params.get("state") or "").strip()
    state = state if state in ERSUCHEN_STATE_TEXT else ""
    show_all = request.query_params.get("all") == "1"
    recorded = _recorded(frames)
    decisions = read_decisions(context_of(request).config.state_dir, tenant)
    key = [pl.col("creditor_id").str.strip_chars().str.to_uppercase(), pl.col("creditor_file_number").str.strip_chars()]
    names = {(a, b): n for a, b, n in requests.select(*key, "creditor_name").iter_rows()}
    live: dict[tuple[str, str], AmtshilfeDecision] = {}
    for d in decisions:
        if _state(d, recorded) in ("awaiting_approval", "effective"):
            live[d.key] = d
    notices = frames["notices"]
    flagged = []
    for r in requests.filter(pl.col("state") == ErsuchenState.FLAGGED).sort("received_on", "creditor_file_number"
                                                                          ).to_dicts():
        k = (r["creditor_id"].strip().upper(), r["creditor_file_number"].strip())
        its = notices.filter(pl.col("seq") == r["seq"]).sort("position").to_dicts()
        flagged.append(r | {"check_text": ERSUCHEN_CHECK_TEXT.get(r["check"] or "", r["check"] or ""),
                            "notices_list": its, "decision": live.get(k),
                            "doubt": [n for n in its if n["expected_surcharge_cents"] is not None
                                      and n["surcharge_cents"] not in (0, n["expected_surcharge_cents"])]})
    df = _filtered(requests, creditor, state)
    page = page_of(df, int_param(request.query_params.get("page")), context_of(request).config.page_size)
    cases = [r | {"state_text": ERSUCHEN_STATE_TEXT.get(r["state"], r["state"]),
                  "decision": live.get((r["creditor_id"].strip().upper(), r["creditor_file_number"].strip()))}
             for r in page.rows]
    rows = _decision_rows(decisions, recorded, user, names)
    if not show_all:
        rows = [x for x in rows if x["state"] in ("awaiting_approval", "effective", "refused")]
    creditors = sorted({(r["creditor_id"], r["creditor_name"] or r["creditor_id"])
                        for r in requests.select("creditor_id", "creditor_name").unique().to_dicts()})

    def link(**changes: object) -> str:
        values: dict[str, object] = {"creditor": creditor, "state": state, "page": page.page, **changes}
        return "?" + urlencode({k: v for k, v in values.items() if v not in (None, "", 1)})

    return render(request, "amtshilfe.html", {
        "tenant": tenant, "flagged": flagged, "cases": cases, "page": page, "link": link, "creditor": creditor,
        "creditors": creditors, "state": state, "states": ERSUCHEN_STATE_TEXT, "decisions": rows,
        "show_all": show_all, "forwarded": frames["forwarded"].to_dicts(),
        "reasons": [(m.value, ERSUCHEN_CHECK_TEXT[m]) for m in ErsuchenCheck],
        "may_decide": user.role == DECIDE_ROLE, "today": datetime.now(UTC).date().isoformat(),
        "sums": {x: int(df[x].sum() or 0) for x in ("claims_cents", "paid_cents", "open_cents", "forwarded_cents")},
        "export_link": f"/t/{tenant}/amtshilfe/export.csv" + (link(page=None) if creditor or state else ""),
        "published_on": meta.get("on"), "published_at": str(meta.get("published_at") or "")[:16].replace("T", " ")})


async def export_csv(request: Request) -> Response:
    """GET /t/{tenant}/amtshilfe/export.csv?creditor=&state=: the filtered cases for German Excel."""
    _user, tenant = _reader(request)
    frames, meta = _snapshot(request, tenant)
    creditor = (request.query_params.get("creditor") or "").strip()[:64]
    state = (request.query_params.get("state") or "").strip()
    df = _filtered(frames["requests"], creditor, state if state in ERSUCHEN_STATE_TEXT else "").with_columns(
        pl.col("state").replace_strict(ERSUCHEN_STATE_TEXT, default=pl.col("state"), return_dtype=pl.String)
        .alias("state_text"),
        pl.concat_str([pl.col("debtor_name"), pl.col("debtor_given_name")], separator=", ", ignore_nulls=True)
        .alias("debtor"))
    day = meta.get("on") or date.today().isoformat()
    return Response(excel_csv_bytes(df, EXPORT_COLUMNS), media_type="text/csv; charset=utf-8", headers={
        "content-disposition": f'attachment; filename="amtshilfe-{tenant}-{day}.csv"'})


def _request_row(request: Request, tenant: str, creditor_id: str, file_number: str) -> dict[str, Any]:
    frames, _ = _snapshot(request, tenant)
    k = (creditor_id.strip().upper(), file_number.strip())
    for r in frames["requests"].to_dicts():
        if (r["creditor_id"].strip().upper(), r["creditor_file_number"].strip()) == k:
            return r
    raise HTTPException(404, f"Ersuchen {creditor_id} {file_number} gibt es im Stand des Nachtlaufs nicht.")


async def decide_view(request: Request) -> Response:
    """POST /t/{tenant}/amtshilfe/decide: accept or return a flagged request, or declare a case fruitless."""
    user, tenant, form = await _writer(request)
    creditor_id = str(form.get("creditor_id") or "")[:64]
    file_number = str(form.get("file_number") or "")[:140]
    row = _request_row(request, tenant, creditor_id, file_number)
    seen = str(form.get("seq") or "")
    if seen != str(row["seq"]):
        raise HTTPException(409, "Der Nachtlauf hat das Ersuchen inzwischen geändert. Bitte neu ansehen.")
    action = str(form.get("action") or "")
    if action not in tuple(ErsuchenDecision):
        raise HTTPException(422, "Bitte eine Entscheidung wählen.")
    reason = str(form.get("reason") or "") or None
    note = str(form.get("note") or "").strip()[:2000]
    certificate = form_day(form.get("certificate_date"), "Datum der Fruchtlosigkeitsbescheinigung")
    frames, _ = _snapshot(request, tenant)
    try:
        decide(context_of(request).config.state_dir, tenant, creditor_id=row["creditor_id"],
               creditor_file_number=row["creditor_file_number"], seq=int(row["seq"]), state=row["state"],
               case_number=row["case_number"], action=action, note=note, user=user.login, role=user.role,
               reason=reason if action == ErsuchenDecision.RETURN else None,
               certificate_date=certificate if action == ErsuchenDecision.UNCOLLECTIBLE else None,
               booked=_recorded(frames).keys())
    except JournalError as exc:
        raise HTTPException(422, str(exc)) from exc
    text = ERSUCHEN_DECISION_TEXT[ErsuchenDecision(action)]
    tail = (" Sie gilt erst, wenn eine zweite Person sie freigibt." if action == ErsuchenDecision.UNCOLLECTIBLE
            else " Der nächste Nachtlauf bucht sie.")
    flash(request, f"Entscheidung für {row['creditor_file_number']} erfasst: {text}.{tail}")
    return RedirectResponse(f"/t/{tenant}/amtshilfe", status_code=303)


def _find(request: Request, tenant: str, decision_id: str) -> AmtshilfeDecision:
    for d in read_decisions(context_of(request).config.state_dir, tenant):
        if d.decision_id == decision_id:
            return d
    raise HTTPException(404, f"Entscheidung {decision_id} gibt es im Journal von {tenant} nicht.")


async def approve_view(request: Request) -> Response:
    """POST /t/{tenant}/amtshilfe/decision/{decision_id}/approve: a second person (four-eyes)."""
    user, tenant, _form = await _writer(request)
    d = _find(request, tenant, request.path_params["decision_id"])
    if user.login == d.decided_by:
        raise HTTPException(403, "Vier-Augen-Prinzip: die Entscheidung gibt eine andere Person frei als die, die sie "
                                 "getroffen hat.")
    try:
        approve(context_of(request).config.state_dir, tenant, d.decision_id, user=user.login, role=user.role)
    except JournalError as exc:
        raise HTTPException(409, str(exc)) from exc
    flash(request, "Entscheidung freigegeben: der nächste Nachtlauf bucht sie.")
    return RedirectResponse(f"/t/{tenant}/amtshilfe", status_code=303)


async def withdraw_view(request: Request) -> Response:
    """POST /t/{tenant}/amtshilfe/decision/{decision_id}/withdraw: take it back before the night books it."""
    user, tenant, form = await _writer(request)
    d = _find(request, tenant, request.path_params["decision_id"])
    note = str(form.get("note") or "").strip()[:2000]
    frames, _ = _snapshot(request, tenant)
    booked: Collection[str] = _recorded(frames).keys()
    try:
        withdraw(context_of(request).config.state_dir, tenant, d.decision_id, user=user.login, role=user.role,
                 note=note, booked=booked)
    except JournalError as exc:
        raise HTTPException(409 if note else 422, str(exc)) from exc
    flash(request, "Entscheidung zurückgenommen: sie wird nicht gebucht.")
    return RedirectResponse(f"/t/{tenant}/amtshilfe", status_code=303)


__all__ = ["amtshilfe_page", "approve_view", "decide_view", "export_csv", "withdraw_view"]
