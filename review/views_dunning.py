"""The "Mahnlauf" page (the prepared dunning run and its release) and a debtor's "Mahnhistorie".

The dunning job prepares a run and publishes it (:mod:`review.dunning_state`): counts per level and per
skip reason, fees and surcharges, a PDF with sample letters. Nothing is booked and nothing goes to the
print centre until a supervisor **other than the preparer** releases it here (four-eyes, 403 otherwise).
The release is one journal line (``ledger.release_journal``); the snapshot reader lays it over the
published run, so the page shows the run as ``released`` at once, and the next dunning job books it
and publishes it as ``booked`` (with the final letters).

A run's PDFs (the draft letters, and the final ones once booked) are served only from the tenant's own
report and run folders: the path comes from a published file, and a path that leads anywhere else
(``..``, a symbolic link out, another tenant) is refused, so the page can never be made to hand out an
arbitrary file.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import polars as pl
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import FileResponse, RedirectResponse, Response

from ledger.journal import JournalError
from ledger.publish_dunning import DunningPublished
from ledger.release_journal import record_release
from outputs.dunning_texts import BLOCK_REASON_TEXT, DROP_REASON_TEXT, LEVEL_TEXT, SKIP_REASON_TEXT, text_of
from review.auth import require_tenant, require_user
from review.config import ReviewConfig
from review.dunning_state import debtor_notices, parse_counts, run_row, when
from review.views_actions import checked_post
from review.views_blocks import block_rows
from review.web import context_of, flash, render

STATUS_NAMES = {"prepared": "vorbereitet, wartet auf Freigabe", "released": "freigegeben, wird gebucht",
                "booked": "gebucht"}
BADGES = {"prepared": "pending", "released": "effective", "booked": "withdrawn"}
#: the two PDFs of a run: the draft letters shown before the release, the final letters after booking
PDFS = {"sample": ("sample_pdf", "musterbriefe"), "letters": ("letters_pdf", "mahnschreiben")}


def _dunning(request: Request, tenant: str) -> DunningPublished:
    return context_of(request).dunning.get(tenant)


def allowed_roots(config: ReviewConfig, tenant: str) -> list[Path]:
    """The folders a run's PDF may lie in: the tenant's run folders and its report folder."""
    roots = [config.state_dir / "runs" / tenant]
    if config.reports_dir is not None:
        roots.append(config.reports_dir / tenant)
    return roots


def safe_pdf(config: ReviewConfig, tenant: str, raw: str | None) -> Path | None:
    """A published PDF path as a file inside :func:`allowed_roots`, else ``None``.

    A relative path is taken from the tenant's run folder. Both sides are resolved (symbolic links and
    ``..`` followed) before the comparison, so neither can lead out of the folders."""
    text = (raw or "").strip()
    if not text or "\x00" in text:
        return None
    path = Path(text)
    if not path.is_absolute():
        path = config.state_dir / "runs" / tenant / path
    try:
        real = path.resolve(strict=True)
    except (OSError, RuntimeError):
        return None
    if real.suffix.lower() != ".pdf" or not real.is_file():
        return None
    for root in allowed_roots(config, tenant):
        try:
            if real.is_relative_to(root.resolve()):
                return real
        except OSError:
            continue
    return None


def _pdf_state(config: ReviewConfig, tenant: str, raw: str | None) -> str:
    """``ok`` (served), ``refused`` (named, but not inside the tenant's folders or missing), ``none``."""
    if not raw:
        return "none"
    return "ok" if safe_pdf(config, tenant, raw) is not None else "refused"


def _run_view(run: dict[str, Any], config: ReviewConfig, tenant: str, login: str, role: str) -> dict[str, Any]:
    counts = parse_counts(run.get("counts_json"))
    status = run.get("status") or "prepared"
    return {
        "run": run, "status": status, "status_name": STATUS_NAMES.get(status, status),
        "badge": BADGES.get(status, "withdrawn"),
        "prepared_at": when(run.get("prepared_at")), "released_at": when(run.get("released_at")),
        "booked_at": when(run.get("booked_at")),
        "levels": [(code, text_of(LEVEL_TEXT, code), n) for code, n in counts["level"].items()],
        "skips": sorted(((code, text_of(SKIP_REASON_TEXT, code), n) for code, n in counts["skipped"].items()),
                        key=lambda x: -x[2]),
        "blocked": sorted(((code, text_of(BLOCK_REASON_TEXT, code), n) for code, n in counts["blocked"].items()),
                          key=lambda x: -x[2]),
        "dropped": sorted(((code, text_of(DROP_REASON_TEXT, code), n) for code, n in counts["dropped"].items()),
                          key=lambda x: -x[2]),
        "pdfs": {kind: _pdf_state(config, tenant, run.get(col)) for kind, (col, _name) in PDFS.items()},
        "may_release": status == "prepared" and role == "supervisor" and login != (run.get("prepared_by") or ""),
    }


async def dunning_page(request: Request) -> Response:
    """GET /t/{tenant}/dunning: the published runs, newest first (the prepared one on top)."""
    user = require_user(request)
    tenant = request.path_params["tenant"]
    require_tenant(user, tenant)
    ctx = context_of(request)
    runs = _dunning(request, tenant).runs.sort(["as_of", "run_id"], descending=True, nulls_last=True).to_dicts()
    views = [_run_view(r, ctx.config, tenant, user.login, user.role) for r in runs]
    return render(request, "dunning.html", {"tenant": tenant, "runs": views})


async def release(request: Request) -> Response:
    """POST /t/{tenant}/dunning/{run_id}/release: a supervisor other than the preparer releases the run."""
    user, tenant, _form = await checked_post(request)
    run_id = request.path_params["run_id"]
    ctx = context_of(request)
    run = run_row(_dunning(request, tenant), run_id)
    if run is None:
        raise HTTPException(404, f"Mahnlauf {run_id} ist für {tenant} nicht veröffentlicht.")
    if user.role != "supervisor":
        raise HTTPException(403, f"Die Rolle {user.role} darf keinen Mahnlauf freigeben; das darf nur eine Aufsicht.")
    if user.login == (run.get("prepared_by") or ""):
        raise HTTPException(403, "Vier-Augen-Prinzip: den Mahnlauf gibt eine andere Person frei als die, die ihn "
                                 "vorbereitet hat.")
    if (run.get("status") or "prepared") != "prepared":
        raise HTTPException(409, f"Mahnlauf {run_id} ist schon freigegeben"
                                 f"{' von ' + str(run['released_by']) if run.get('released_by') else ''}.")
    try:
        record_release(ctx.config.state_dir, tenant, run_id, user=user.login, role=user.role,
                       prepared_by=str(run.get("prepared_by") or ""))
    except JournalError as exc:
        raise HTTPException(409, str(exc)) from exc
    flash(request, f"Mahnlauf {run_id} freigegeben: der nächste Mahnlauf bucht die Mahnungen und Gebühren und "
                   "erstellt die Dateien für das Druckzentrum.")
    return RedirectResponse(f"/t/{tenant}/dunning", status_code=303)


async def run_pdf(request: Request) -> Response:
    """GET /t/{tenant}/dunning/{run_id}/{sample|letters}.pdf: a run's letters, only from the tenant's folders."""
    user = require_user(request)
    tenant = request.path_params["tenant"]
    require_tenant(user, tenant)
    run_id, kind = request.path_params["run_id"], request.path_params["kind"]
    if kind not in PDFS:
        raise HTTPException(404, f"{kind}.pdf gibt es nicht (sample.pdf oder letters.pdf).")
    column, name = PDFS[kind]
    run = run_row(_dunning(request, tenant), run_id)
    if run is None or not run.get(column):
        raise HTTPException(404, f"Für Mahnlauf {run_id} gibt es diese Briefe nicht.")
    path = safe_pdf(context_of(request).config, tenant, run.get(column))
    if path is None:
        raise HTTPException(403, "Die Briefe liegen nicht im Bericht- oder Laufordner des Mandanten (oder fehlen); "
                                 "sie werden nicht ausgeliefert.")
    return FileResponse(path, media_type="application/pdf", filename=f"{name}-{run_id}.pdf",
                        content_disposition_type="attachment")


async def debtor_page(request: Request) -> Response:
    """GET /t/{tenant}/debtor?id=…: every notice to the debtor with its claims, and the debtor's blocks."""
    user = require_user(request)
    tenant = request.path_params["tenant"]
    require_tenant(user, tenant)
    debtor_id = (request.query_params.get("id") or "").strip()[:100]
    if not debtor_id:
        raise HTTPException(404, "Welcher Schuldner? (Parameter id fehlt)")
    notices = debtor_notices(_dunning(request, tenant), debtor_id)
    for n in notices:
        n["level_text"] = text_of(LEVEL_TEXT, n["level"])
    snap = context_of(request).state.snapshot(tenant)
    name = next((n["debtor_name"] for n in notices if n["debtor_name"]), "")
    open_items: list[dict[str, Any]] = []
    if snap is not None and snap.open_items.height:
        mine = snap.open_items.filter(pl.col("debtor_id") == debtor_id).sort("due_date", nulls_last=True)
        open_items = mine.to_dicts()
        name = name or next((r["debtor_name"] for r in open_items if r["debtor_name"]), "")
    blocks = [r for r in block_rows(request, tenant, user) if r["debtor_id"] == debtor_id]
    return render(request, "debtor.html", {"tenant": tenant, "debtor_id": debtor_id, "debtor_name": name,
                                           "notices": notices, "open_items": open_items, "blocks": blocks})
