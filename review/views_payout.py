"""The SEPA payout pages: "Auszahlungen" (the runs: the pain.001 file, the sums, the release) and one run
(its credit transfers, set-offs, the refunds left out or paid without set-off, the draft
Verrechnungsmitteilungen).

Everything comes from the payout job's published snapshot (:mod:`ledger.publish_payout`, read through
:func:`review.collection_state.payout_cache`); the page never runs the job and never opens the ledger.
Clerks and auditors read; a supervisor other than the preparer releases a prepared run
(:mod:`review.views_release`, journal kind ``payout_release``), which the job's next call books; the
enforcement office's role sees none of it (:func:`review.auth.require_tenant`).
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlencode

import polars as pl
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import FileResponse, Response

from ledger.publish_payout import RELEASE_KIND, PayoutPublished
from outputs.dunning_texts import text_of
from outputs.payout_texts import PAYOUT_SKIP_TEXT, SETOFF_SKIP_TEXT
from review.auth import require_tenant, require_user
from review.collection_state import int_param, page_of
from review.dunning_state import when
from review.users import User
from review.views_dunning import safe_pdf
from review.views_release import ReleaseKind, may_release, release_run, run_of, status_view
from review.web import context_of, render

#: Why a prepared refund was taken out at booking (``jobs.payout.steps.reconcile``).
DROP_TEXT = {"already_paid": PAYOUT_SKIP_TEXT["already_paid"],
             "changed": "Seit der Vorbereitung geändert (Forderung bezahlt, Sperre, Erstattung): neu vorzubereiten"}
#: The two kinds of skipped refunds, as the page heads them.
SKIP_KINDS = {"payout": ("Nicht ausgezahlt", PAYOUT_SKIP_TEXT),
              "setoff": ("Ohne Verrechnung ausgezahlt", SETOFF_SKIP_TEXT)}


def _pub(request: Request, tenant: str) -> PayoutPublished:
    return context_of(request).payout.get(tenant)


def _reader(request: Request) -> tuple[User, str]:
    user = require_user(request)
    tenant = request.path_params["tenant"]
    require_tenant(user, tenant)
    return user, tenant


PAYOUT = ReleaseKind(
    journal_kind=RELEASE_KIND, noun="Auszahlungslauf", page="payouts",
    after="der nächste Aufruf des Auszahlungslaufs bucht Verrechnungen und Überweisungen und legt die "
          "pain.001-Datei mit Manifest in den Ausgangsordner für die Bank.",
    runs=lambda request, tenant: _pub(request, tenant).runs)


def _counts(raw: str | None) -> dict[str, dict[str, int]]:
    """``counts_json`` as ``{table: {code: n}}`` (``skipped``, ``no_setoff``, ``dropped``)."""
    try:
        data = json.loads(raw or "{}")
    except ValueError:
        data = {}
    data = data if isinstance(data, dict) else {}
    return {key: {str(k): int(v) for k, v in t.items() if isinstance(v, int | float)} if isinstance(t, dict) else {}
            for key in ("skipped", "no_setoff", "dropped") for t in (data.get(key),)}


def _tally(table: dict[str, int], texts: dict[str, str]) -> list[tuple[str, str, int]]:
    return sorted(((code, text_of(texts, code), n) for code, n in table.items()), key=lambda x: -x[2])


def _run_view(request: Request, tenant: str, pub: PayoutPublished, run: dict[str, Any], user: User) -> dict[str, Any]:
    counts = _counts(run.get("counts_json"))
    return {
        "run": run, **status_view(run),
        "prepared_at": when(run.get("prepared_at")), "released_at": when(run.get("released_at")),
        "booked_at": when(run.get("booked_at")),
        "files": pub.files.filter(pl.col("run_id") == run["run_id"]).to_dicts(),
        "skips": _tally(counts["skipped"], PAYOUT_SKIP_TEXT), "no_setoff": _tally(counts["no_setoff"], SETOFF_SKIP_TEXT),
        "dropped": _tally(counts["dropped"], DROP_TEXT),
        "pdf": safe_pdf(context_of(request).config, tenant, run.get("letters_pdf")) is not None,
        "may_release": may_release(run, user),
    }


def _not_found(tenant: str, run_id: str) -> HTTPException:
    return HTTPException(404, f"Auszahlungslauf {run_id} ist für {tenant} nicht veröffentlicht.")


def _lists(pub: PayoutPublished, run_id: str, pages: dict[str, int], size: int) -> dict[str, Any]:
    """One run's transfers, set-offs and skipped refunds, each a :class:`~review.collection_state.Page`
    (``pages``: the page of each, by ``page``, ``setoff_page``, ``skipped_page``); the skipped rows with
    their German texts."""
    def mine(df: pl.DataFrame) -> pl.DataFrame:
        return df.filter(pl.col("run_id") == run_id)

    skipped = page_of(mine(pub.skipped).sort("kind", "reason", "source_id", nulls_last=True), pages["skipped_page"],
                      size)
    return {
        "transfers": page_of(mine(pub.transfers).sort("payee_name", "source_id", nulls_last=True), pages["page"], size),
        "setoffs": page_of(mine(pub.setoffs).sort("debtor_id", "kassenzeichen", "receivable_id", nulls_last=True),
                           pages["setoff_page"], size),
        "skipped": skipped,
        "skipped_rows": [{**s, "kind_text": SKIP_KINDS.get(s["kind"], (s["kind"], {}))[0],
                          "reason_text": text_of(SKIP_KINDS.get(s["kind"], ("", {}))[1], s["reason"])}
                         for s in skipped.rows],
    }


FIRST_PAGES = {"page": 1, "setoff_page": 1, "skipped_page": 1}


async def payouts_page(request: Request) -> Response:
    """GET /t/{tenant}/payouts: the runs, newest execution date first (a prepared one on top); a run not
    booked yet with the first page of its transfers, set-offs and skipped refunds (what is released)."""
    user, tenant = _reader(request)
    pub = _pub(request, tenant)
    size = context_of(request).config.page_size
    runs = pub.runs.sort(pl.col("status") != "prepared", pl.col("run_date"), pl.col("run_id"),
                         descending=[False, True, True], nulls_last=True)
    views = [{**_run_view(request, tenant, pub, r, user),
              "lists": _lists(pub, r["run_id"], FIRST_PAGES, size) if r["status"] != "booked" else None}
             for r in runs.to_dicts()]
    return render(request, "payouts.html", {"tenant": tenant, "runs": views})


async def payout_run_page(request: Request) -> Response:
    """GET /t/{tenant}/payouts/{run_id}?page=&setoff_page=&skipped_page=: one run, its transfers, set-offs
    and skipped refunds (each list paged) and what the booking took out."""
    user, tenant = _reader(request)
    pub = _pub(request, tenant)
    run_id = request.path_params["run_id"]
    run = run_of(pub.runs, run_id)
    if run is None:
        raise _not_found(tenant, run_id)
    q = request.query_params
    pages = {k: int_param(q.get(k)) for k in FIRST_PAGES}
    lists = _lists(pub, run_id, pages, context_of(request).config.page_size)
    dropped = [{**d, "reason_text": text_of(DROP_TEXT, d["reason"])}
               for d in pub.dropped.filter(pl.col("run_id") == run_id).sort("source_id").to_dicts()]

    def link(**changes: object) -> str:
        values: dict[str, object] = {**pages, **changes}
        return "?" + urlencode({k: v for k, v in values.items() if v not in ("", None, 1)})

    return render(request, "payout_run.html", {
        "tenant": tenant, "x": _run_view(request, tenant, pub, run, user), **lists, "dropped": dropped,
        "link": link})


async def payout_release(request: Request) -> Response:
    """POST /t/{tenant}/payouts/{run_id}/release: the four-eyes release (:func:`release_run`)."""
    return await release_run(request, PAYOUT)


async def payout_letters(request: Request) -> Response:
    """GET /t/{tenant}/payouts/{run_id}/letters.pdf: the run's Verrechnungsmitteilungen (the draft until it
    is booked), only from the tenant's folders (:func:`review.views_dunning.safe_pdf`)."""
    _user, tenant = _reader(request)
    run_id = request.path_params["run_id"]
    run = run_of(_pub(request, tenant).runs, run_id)
    if run is None:
        raise _not_found(tenant, run_id)
    if not run.get("letters_pdf"):
        raise HTTPException(404, f"Auszahlungslauf {run_id} hat keine Verrechnungsmitteilungen.")
    path = safe_pdf(context_of(request).config, tenant, run.get("letters_pdf"))
    if path is None:
        raise HTTPException(403, "Die Verrechnungsmitteilungen liegen nicht im Lauf- oder Berichtordner des "
                                 "Mandanten (oder fehlen); sie werden nicht ausgeliefert.")
    name = "verrechnungsmitteilungen" if run.get("status") == "booked" else "verrechnungsmitteilungen-entwurf"
    return FileResponse(path, media_type="application/pdf", filename=f"{name}-{run_id}.pdf",
                        content_disposition_type="attachment")
