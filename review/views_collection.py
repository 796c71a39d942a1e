"""The SEPA collection pages: "Lastschrifteinzug" (the runs, one run's files and claims, the release),
"Mandate" (the register and a mandate's history) and "Rücklastschriften" (the returns the nightly booked).

Everything comes from the collection job's published snapshot (:mod:`review.collection_state`); the page
never runs the job and never opens the ledger. Auditors and clerks read; a supervisor other than the
preparer releases a prepared run (:mod:`review.views_release`), which the job's next call books.
"""

from __future__ import annotations

from datetime import date
from typing import Any
from urllib.parse import urlencode

import polars as pl
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response

from claims.vocab import MandateState
from ledger.publish_collection import RELEASE_KIND, CollectionPublished
from outputs.collection_texts import (
    COLLECT_SKIP_TEXT,
    MANDATE_PROBLEM_TEXT,
    MANDATE_STATE_TEXT,
    RETURN_ACTION_TEXT,
    RETURN_REASON_TEXT,
)
from outputs.dunning_texts import text_of
from review.auth import require_tenant, require_user
from review.collection_state import int_param, page_of, parse_counts
from review.dunning_state import when
from review.users import User
from review.views_release import ReleaseKind, may_release, release_run, run_of, status_view
from review.web import context_of, render

#: Reasons the "Abgebrochen beim Buchen" list may give besides the skip reasons.
DROP_TEXT = {**COLLECT_SKIP_TEXT, "changed": "Seit der Vorbereitung geändert (Teilzahlung, Konto, Sequenz)"}
#: The state filter of the "Mandate" page.
STATE_FILTERS = ("", *(s.value for s in MandateState))


def _pub(request: Request, tenant: str) -> CollectionPublished:
    return context_of(request).collection.get(tenant)


def _reader(request: Request) -> tuple[User, str]:
    user = require_user(request)
    tenant = request.path_params["tenant"]
    require_tenant(user, tenant)
    return user, tenant


COLLECTION = ReleaseKind(
    journal_kind=RELEASE_KIND, noun="Lastschrifteinzug", page="collection",
    after="der nächste Aufruf des Einzugslaufs bucht die Einzüge und legt die Dateien mit Manifest in den "
          "Ausgangsordner für die Bank.",
    runs=lambda request, tenant: _pub(request, tenant).runs)


def reason_text(code: str | None) -> str:
    """A mandate's ``state_reason`` in German: a mandate problem, or the return code that blocked it."""
    if not code:
        return ""
    if code in RETURN_REASON_TEXT:
        return f"Rücklastschrift {code}: {RETURN_REASON_TEXT[code]}"
    return text_of(MANDATE_PROBLEM_TEXT, code)


def _run_view(pub: CollectionPublished, run: dict[str, Any], user: User) -> dict[str, Any]:
    counts = parse_counts(run.get("counts_json"))
    return {
        "run": run, **status_view(run),
        "prepared_at": when(run.get("prepared_at")), "released_at": when(run.get("released_at")),
        "booked_at": when(run.get("booked_at")),
        "files": pub.files.filter(pl.col("run_id") == run["run_id"]).to_dicts(),
        "sequence": sorted(counts["sequence"].items()),
        "skips": sorted(((code, text_of(COLLECT_SKIP_TEXT, code), n) for code, n in counts["skipped"].items()),
                        key=lambda x: -x[2]),
        "dropped": sorted(((code, text_of(DROP_TEXT, code), n) for code, n in counts["dropped"].items()),
                          key=lambda x: -x[2]),
        "may_release": may_release(run, user),
    }


async def collection_page(request: Request) -> Response:
    """GET /t/{tenant}/collection: the runs, newest collection date first (a prepared one on top)."""
    user, tenant = _reader(request)
    pub = _pub(request, tenant)
    runs = pub.runs.sort(pl.col("status") != "prepared", pl.col("run_date"), pl.col("run_id"),
                         descending=[False, True, True], nulls_last=True)
    views = [_run_view(pub, r, user) for r in runs.to_dicts()]
    return render(request, "collection.html", {"tenant": tenant, "runs": views})


async def collection_run_page(request: Request) -> Response:
    """GET /t/{tenant}/collection/{run_id}?page=&skipped_page=&reason=: one run, its claims and the skipped
    claims (each list paged; the skipped ones filterable by reason)."""
    user, tenant = _reader(request)
    pub = _pub(request, tenant)
    run = run_of(pub.runs, request.path_params["run_id"])
    if run is None:
        raise HTTPException(404, f"Lastschrifteinzug {request.path_params['run_id']} ist für {tenant} nicht "
                                 "veröffentlicht.")
    size = context_of(request).config.page_size
    q = request.query_params
    reason = (q.get("reason") or "").strip()[:40]
    page, skipped_page = int_param(q.get("page")), int_param(q.get("skipped_page"))
    mine = pub.items.filter(pl.col("run_id") == run["run_id"]).sort("kassenzeichen", "receivable_id")
    skipped = pub.skipped.filter(pl.col("run_id") == run["run_id"])
    reasons = sorted(skipped["reason"].drop_nulls().unique().to_list())
    skipped_all = skipped.height
    if reason:
        skipped = skipped.filter(pl.col("reason") == reason)
    skipped = skipped.sort("reason", "kassenzeichen", "receivable_id", nulls_last=True)
    dropped = pub.dropped.filter(pl.col("run_id") == run["run_id"]).sort("kassenzeichen").to_dicts()

    def link(**changes: object) -> str:
        values: dict[str, object] = {"page": page, "skipped_page": skipped_page, "reason": reason, **changes}
        return "?" + urlencode({k: v for k, v in values.items() if v not in ("", None, 1)})

    return render(request, "collection_run.html", {
        "tenant": tenant, "x": _run_view(pub, run, user),
        "items": page_of(mine, page, size), "skipped": page_of(skipped, skipped_page, size),
        "reason": reason, "skipped_all": skipped_all, "reasons": [(c, text_of(COLLECT_SKIP_TEXT, c)) for c in reasons], "link": link,
        "skip_text": COLLECT_SKIP_TEXT, "reason_text": reason_text, "dropped": dropped, "drop_text": DROP_TEXT,
        "text_of": text_of})


async def collection_release(request: Request) -> Response:
    """POST /t/{tenant}/collection/{run_id}/release: the four-eyes release (:func:`release_run`)."""
    return await release_run(request, COLLECTION)


def _day(iso: object) -> str:
    """An ISO date as ``dd.mm.yyyy`` (empty when missing or unreadable)."""
    try:
        return date.fromisoformat(str(iso)).strftime("%d.%m.%Y")
    except ValueError:
        return ""


def _mandate_view(row: dict[str, Any]) -> dict[str, Any]:
    return {**row, "state_text": text_of(MANDATE_STATE_TEXT, row.get("state")),
            "reason": reason_text(row.get("state_reason"))}


async def mandates_page(request: Request) -> Response:
    """GET /t/{tenant}/mandates?state=&q=&page=: the register, filterable by state and searchable by mandate
    reference, debtor or IBAN."""
    _user, tenant = _reader(request)
    pub = _pub(request, tenant)
    q = request.query_params
    state = q.get("state") or ""
    if state not in STATE_FILTERS:
        state = ""
    text = (q.get("q") or "").strip()[:100]
    df = pub.mandates
    counts = dict(df.group_by("state").len().iter_rows()) if df.height else {}
    if state:
        df = df.filter(pl.col("state") == state)
    if text:
        needle = text.lower().replace(" ", "")
        df = df.filter(pl.any_horizontal(
            pl.col(c).fill_null("").str.to_lowercase().str.replace_all(" ", "").str.contains(needle, literal=True)
            for c in ("mandate_id", "debtor_id", "debtor_name", "debtor_iban")))
    page = page_of(df.sort("mandate_id"), int_param(q.get("page")), context_of(request).config.page_size)

    def link(**changes: object) -> str:
        values: dict[str, object] = {"state": state, "q": text, "page": page.page, **changes}
        return "?" + urlencode({k: v for k, v in values.items() if v not in ("", None, 1)})

    return render(request, "mandates.html", {
        "tenant": tenant, "page": page, "rows": [_mandate_view(r) for r in page.rows], "state": state, "q": text,
        "pub_on": _day(pub.meta.get("on")),
        "states": [(s, text_of(MANDATE_STATE_TEXT, s) if s else "alle", counts.get(s, 0) if s else sum(counts.values()))
                   for s in STATE_FILTERS], "link": link})


async def mandate_page(request: Request) -> Response:
    """GET /t/{tenant}/mandate?id=…: one mandate, its collections, returns and Mandatsänderungen."""
    _user, tenant = _reader(request)
    mandate_id = (request.query_params.get("id") or "").strip()[:100]
    if not mandate_id:
        raise HTTPException(404, "Welches Mandat? (Parameter id fehlt)")
    pub = _pub(request, tenant)
    hit = pub.mandates.filter(pl.col("mandate_id") == mandate_id)
    collections = pub.items.filter(pl.col("mandate_id") == mandate_id).sort(
        "collection_date", "end_to_end_id", descending=True, nulls_last=True).to_dicts()
    returns = [_return_view(r) for r in pub.returns.filter(pl.col("mandate_id") == mandate_id).sort(
        "return_date", descending=True).to_dicts()]
    amendments = pub.amendments.filter(pl.col("mandate_id") == mandate_id).sort(
        "seen_on", descending=True).to_dicts()
    if not hit.height and not collections and not returns:
        raise HTTPException(404, f"Mandat {mandate_id} ist für {tenant} nicht im veröffentlichten Register.")
    mandate = _mandate_view(hit.row(0, named=True)) if hit.height else None
    return render(request, "mandate.html", {"tenant": tenant, "mandate_id": mandate_id, "m": mandate,
                                            "collections": collections, "returns": returns,
                                            "amendments": amendments})


def _return_view(row: dict[str, Any]) -> dict[str, Any]:
    return {**row, "reason_text": text_of(RETURN_REASON_TEXT, row.get("reason_code")),
            "action_text": text_of(RETURN_ACTION_TEXT, row.get("action"))}


async def returns_page(request: Request) -> Response:
    """GET /t/{tenant}/returns?code=&page=: the returns (Rücklastschriften), newest first."""
    _user, tenant = _reader(request)
    pub = _pub(request, tenant)
    code = (request.query_params.get("code") or "").strip().upper()[:8]
    df = pub.returns
    codes = sorted(df["reason_code"].drop_nulls().unique().to_list())
    if code:
        df = df.filter(pl.col("reason_code") == code)
    df = df.sort("return_date", "end_to_end_id", descending=True, nulls_last=True)
    page = page_of(df, int_param(request.query_params.get("page")), context_of(request).config.page_size)

    def link(**changes: object) -> str:
        values: dict[str, object] = {"code": code, "page": page.page, **changes}
        return "?" + urlencode({k: v for k, v in values.items() if v not in ("", None, 1)})

    return render(request, "returns.html", {
        "tenant": tenant, "page": page, "rows": [_return_view(r) for r in page.rows], "code": code,
        "codes": [(c, text_of(RETURN_REASON_TEXT, c)) for c in codes], "link": link,
        "total_cents": int(df["amount_cents"].sum() or 0), "fees_cents": int(df["fee_cents"].sum() or 0)})
