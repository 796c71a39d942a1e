"""The "Mahnsperren" page: dunning blocks on a claim or a debtor, set, approved and lifted here.

GET lists every block of the journal (``ledger.block_journal``) with its state on today, filtered by
debtor or Kassenzeichen. The POSTs write one journal line each; the next dunning run reads them:

* ``set``: a clerk or supervisor blocks a claim (receivable id or Kassenzeichen, looked up in the
  published open items) or a debtor, with a reason (:class:`claims.vocab.BlockReason`), an end date
  (or none: until lifted) and a note;
* ``approve``: a block longer than :data:`FOUR_EYES_DAYS` (or without end) needs a supervisor other
  than the one who set it; until then it holds only for its first 90 days (403 for anyone else);
* ``lift``: a clerk or supervisor ends a block, with a note.

Auditors read only (403 on every POST, and no forms are shown to them).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime
from typing import Any, Protocol

import polars as pl
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from claims.vocab import BlockReason, BlockState
from ledger.block_journal import ALONE, Block, approve_block, lift_block, read_blocks, set_block
from ledger.journal import JournalError
from outputs.dunning_texts import BLOCK_REASON_TEXT, text_of
from review.auth import require_tenant, require_user
from review.explain import resolve_open_item
from review.users import User
from review.views_actions import checked_post
from review.web import context_of, flash, render

#: A block longer than this (or without end) waits for a second person (``ledger.block_journal.ALONE``).
FOUR_EYES_DAYS = ALONE.days
STATE_NAMES: dict[str, str] = {
    BlockState.IN_FORCE: "in Kraft", BlockState.AWAITING_APPROVAL: "wartet auf Freigabe (hält nichts zurück)",
    BlockState.SCHEDULED: "beginnt später", BlockState.LIFTED: "aufgehoben", BlockState.EXPIRED: "abgelaufen"}
BADGES: dict[str, str] = {BlockState.IN_FORCE: "effective", BlockState.AWAITING_APPROVAL: "pending",
                          BlockState.SCHEDULED: "pending"}


def _today() -> date:
    return datetime.now(UTC).date()


def _blocks(request: Request, tenant: str) -> list[Block]:
    return read_blocks(context_of(request).config.state_dir, tenant)


def _find(request: Request, tenant: str, block_id: str) -> Block:
    for b in _blocks(request, tenant):
        if b.block_id == block_id:
            return b
    raise HTTPException(404, f"Mahnsperre {block_id} gibt es im Journal von {tenant} nicht.")


def form_day(value: object, what: str) -> date | None:
    text = str(value or "").strip()
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise HTTPException(422, f"{what}: ein Datum wie 2027-06-30 angeben.") from None


class Targeted(Protocol):
    """A journal entry on one claim or one debtor (a block, a Mahnverzicht)."""

    @property
    def receivable_id(self) -> str | None: ...
    @property
    def debtor_id(self) -> str | None: ...


def claims_of(open_items: pl.DataFrame, blocks: Sequence[Targeted]) -> tuple[dict[str, dict[str, Any]], dict[str, str]]:
    """The named claims' open items (receivable_id -> Kassenzeichen, debtor) and the debtors' names, looked
    up for the few entries only (a tenant has hundreds of thousands of open items)."""
    if not open_items.height or not blocks:
        return {}, {}
    rids = [b.receivable_id for b in blocks if b.receivable_id]
    cols = ["receivable_id", "kassenzeichen", "kz_norm", "debtor_id", "debtor_name"]
    claims = {r["receivable_id"]: r for r in open_items.filter(pl.col("receivable_id").is_in(rids))
              .select(cols).iter_rows(named=True)}
    ids = {b.debtor_id for b in blocks if b.debtor_id} | {c["debtor_id"] for c in claims.values() if c["debtor_id"]}
    names = (open_items.filter(pl.col("debtor_id").is_in(list(ids))).unique("debtor_id", keep="first")
             .select("debtor_id", pl.col("debtor_name").fill_null("")))
    return claims, dict(names.iter_rows())


def _row(b: Block, today: date, claims: dict[str, dict[str, Any]], debtors: dict[str, str], login: str,
         role: str) -> dict[str, Any]:
    claim = claims.get(b.receivable_id or "", {})
    debtor_id = b.debtor_id or claim.get("debtor_id") or ""
    state = b.state_on(today)
    return {"block": b, "state": state, "state_name": STATE_NAMES.get(state, state), "badge": BADGES.get(state, "withdrawn"),
            "reason_text": text_of(BLOCK_REASON_TEXT, b.reason), "holds_until": b.effective_until(),
            "kassenzeichen": claim.get("kassenzeichen") or "", "debtor_id": debtor_id,
            "debtor_name": debtors.get(debtor_id, ""), "awaiting": b.awaiting_approval,
            "may_approve": b.awaiting_approval and role == "supervisor" and login != b.set_by,
            "live": state not in (BlockState.LIFTED, BlockState.EXPIRED),
            "search": " ".join([b.receivable_id or "", claim.get("kassenzeichen") or "", claim.get("kz_norm") or "",
                                debtor_id, debtors.get(debtor_id, "")]).lower()}


def block_rows(request: Request, tenant: str, user: User) -> list[dict[str, Any]]:
    """Every block of the tenant as the page shows it (state on today, Kassenzeichen, debtor), newest first."""
    snap = context_of(request).state.snapshot(tenant)
    blocks = _blocks(request, tenant)
    claims, debtors = claims_of(snap.open_items if snap is not None else pl.DataFrame(), blocks)
    today = _today()
    return [_row(b, today, claims, debtors, user.login, user.role)
            for b in sorted(blocks, key=lambda b: b.set_at, reverse=True)]


async def blocks_page(request: Request) -> Response:
    """GET /t/{tenant}/blocks?q=&show=all: the blocks (live ones unless ``show=all``), newest first."""
    user = require_user(request)
    tenant = request.path_params["tenant"]
    require_tenant(user, tenant)
    today = _today()
    q = (request.query_params.get("q") or "").strip()[:100]
    show_all = request.query_params.get("show") == "all"
    rows = block_rows(request, tenant, user)
    total = len(rows)
    if not show_all:
        rows = [r for r in rows if r["live"]]
    if q:
        needle, compact = q.lower(), "".join(ch for ch in q if ch.isalnum()).lower()
        rows = [r for r in rows if needle in r["search"] or (compact and compact in r["search"])]
    return render(request, "blocks.html", {
        "tenant": tenant, "rows": rows, "total": total, "q": q, "show_all": show_all, "today": today.isoformat(),
        "reasons": [(m.value, BLOCK_REASON_TEXT[m]) for m in BlockReason], "four_eyes_days": FOUR_EYES_DAYS,
    })


def target_of(open_items: pl.DataFrame, kind: str, key: str) -> tuple[str | None, str | None]:
    """(receivable_id, debtor_id) for what the clerk typed, or 422 with what was wrong."""
    key = key.strip()
    if not key:
        raise HTTPException(422, "Bitte eine Forderung (Kassenzeichen oder Sollstellungs-ID) oder einen Schuldner angeben.")
    if kind == "claim":
        item = resolve_open_item(open_items, key) if open_items.height else None
        if item is None:
            raise HTTPException(422, f"{key}: keine offene Forderung mit diesem Kassenzeichen oder dieser ID "
                                     "(passt ein Kassenzeichen auf mehrere Forderungen, die Sollstellungs-ID angeben).")
        return str(item["receivable_id"]), None
    if kind == "debtor":
        if not open_items.height or open_items.filter(pl.col("debtor_id") == key).height == 0:
            raise HTTPException(422, f"{key}: kein Schuldner mit offenen Forderungen unter dieser Nummer.")
        return None, key
    raise HTTPException(422, "Sperre auf eine Forderung (claim) oder einen Schuldner (debtor) setzen.")


async def set_block_view(request: Request) -> Response:
    """POST /t/{tenant}/blocks/set: a new block on a claim or a debtor (clerk, supervisor)."""
    user, tenant, form = await checked_post(request)
    snap = context_of(request).state.snapshot(tenant)
    open_items = snap.open_items if snap is not None else pl.DataFrame()
    receivable_id, debtor_id = target_of(open_items, str(form.get("kind") or ""), str(form.get("target") or "")[:100])
    reason = str(form.get("reason") or "")
    if reason not in tuple(BlockReason):
        raise HTTPException(422, "Bitte einen Sperrgrund aus der Liste wählen.")
    until = form_day(form.get("until"), "Sperre bis")
    if until is not None and until < _today():
        raise HTTPException(422, "Sperre bis: das Datum liegt in der Vergangenheit.")
    note = str(form.get("note") or "").strip()[:2000]
    if not note:
        raise HTTPException(422, "Eine Mahnsperre braucht eine Begründung (Notiz).")
    try:
        block = set_block(context_of(request).config.state_dir, tenant, receivable_id=receivable_id,
                          debtor_id=debtor_id, reason=BlockReason(reason), until=until, note=note,
                          user=user.login, role=user.role)
    except JournalError as exc:
        raise HTTPException(409, str(exc)) from exc
    what = f"Forderung {receivable_id}" if receivable_id else f"Schuldner {debtor_id}"
    message = f"Mahnsperre für {what} gesetzt ({BLOCK_REASON_TEXT[BlockReason(reason)]})."
    if block.needs_approval:
        message += (f" Länger als {FOUR_EYES_DAYS} Tage: wartet auf Freigabe durch eine zweite Aufsicht; bis dahin "
                    f"gilt sie nur für die ersten {FOUR_EYES_DAYS} Tage.")
    flash(request, message)
    return RedirectResponse(f"/t/{tenant}/blocks", status_code=303)


async def approve_block_view(request: Request) -> Response:
    """POST /t/{tenant}/block/{block_id}/approve: a supervisor other than the setter (four-eyes)."""
    user, tenant, _form = await checked_post(request)
    block = _find(request, tenant, request.path_params["block_id"])
    if user.role != "supervisor":
        raise HTTPException(403, f"Die Rolle {user.role} darf keine Mahnsperren freigeben; das darf nur eine Aufsicht.")
    if user.login == block.set_by:
        raise HTTPException(403, "Vier-Augen-Prinzip: eine lange Mahnsperre gibt eine andere Person frei als die, "
                                 "die sie gesetzt hat.")
    if not block.awaiting_approval:
        raise HTTPException(409, "Diese Mahnsperre wartet auf keine Freigabe (aufgehoben, schon freigegeben oder "
                                 f"nicht länger als {FOUR_EYES_DAYS} Tage).")
    try:
        approve_block(context_of(request).config.state_dir, tenant, block.block_id, user=user.login, role=user.role)
    except JournalError as exc:
        raise HTTPException(409, str(exc)) from exc
    flash(request, "Mahnsperre freigegeben: sie gilt für die ganze Dauer.")
    return RedirectResponse(f"/t/{tenant}/blocks", status_code=303)


async def lift_block_view(request: Request) -> Response:
    """POST /t/{tenant}/block/{block_id}/lift: end a block (clerk, supervisor), with a note."""
    user, tenant, form = await checked_post(request)
    block = _find(request, tenant, request.path_params["block_id"])
    if block.lifted_by:
        raise HTTPException(409, f"Die Mahnsperre wurde schon von {block.lifted_by} aufgehoben.")
    note = str(form.get("note") or "").strip()[:2000]
    if not note:
        raise HTTPException(422, "Das Aufheben einer Mahnsperre braucht eine Begründung (Notiz).")
    try:
        lift_block(context_of(request).config.state_dir, tenant, block.block_id, user=user.login, role=user.role,
                   note=note)
    except JournalError as exc:
        raise HTTPException(409, str(exc)) from exc
    flash(request, "Mahnsperre aufgehoben: der nächste Mahnlauf berücksichtigt die Forderungen wieder.")
    return RedirectResponse(f"/t/{tenant}/blocks", status_code=303)
