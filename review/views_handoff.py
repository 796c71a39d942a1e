"""The hand-off page: "Vollstreckungsübergabe" — the hand-off runs to the enforcement office, the draft
batch a supervisor releases (its counts, sums, cases, the claims left out with why) and, once booked,
what went out and what the booking took out.

Everything comes from the hand-off job's published snapshot (:mod:`ledger.publish_handoff`, read through a
:class:`review.snapshot_cache.SnapshotCache`); the page never runs the job and never opens the ledger.
Clerks and auditors read; a supervisor other than the preparer releases a prepared run
(:mod:`review.views_release`, journal kind ``handoff_release``), which the job's next call books.
"""

from __future__ import annotations

import json
from typing import Any

import polars as pl
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import FileResponse, Response

from ledger.publish_handoff import RELEASE_KIND, HandoffPublished
from outputs.dunning_texts import text_of
from outputs.enforcement_texts import HANDOFF_SKIP_TEXT
from review.auth import require_tenant, require_user
from review.dunning_state import when
from review.users import User
from review.views_dunning import safe_pdf
from review.views_release import ReleaseKind, may_release, release_run, run_of, status_view
from review.web import context_of, render

#: Why a released claim was taken out at booking (``jobs.handoff.steps.reconcile``): the selection's
#: reason now, or that the debtor's case changed since the release.
DROP_TEXT = {**HANDOFF_SKIP_TEXT,
             "changed": "Seit der Freigabe geändert (andere Forderungen oder Beträge): neu vorzubereiten"}
#: Cases shown per run on the page (the Übergabeliste and the files have them all).
MAX_CASES = 200


def _pub(request: Request, tenant: str) -> HandoffPublished:
    return context_of(request).handoff.get(tenant)


def _reader(request: Request) -> tuple[User, str]:
    user = require_user(request)
    tenant = request.path_params["tenant"]
    require_tenant(user, tenant)
    return user, tenant


HANDOFF = ReleaseKind(
    journal_kind=RELEASE_KIND, noun="Übergabelauf", page="handoff",
    after="der nächste Aufruf von kasse handoff bucht die Fälle, legt die Dateien mit Manifest in den "
          "Ausgangsordner für die Vollstreckungsstelle und legt den Übergabevermerk in die Fallakten.",
    runs=lambda request, tenant: _pub(request, tenant).runs)


def _tally(raw: str | None, key: str, texts: dict[str, str]) -> list[tuple[str, str, int]]:
    try:
        data = json.loads(raw or "{}")
    except ValueError:
        data = {}
    table = data.get(key) if isinstance(data, dict) else None
    if not isinstance(table, dict):
        return []
    rows = [(str(k), text_of(texts, str(k)), int(v)) for k, v in table.items() if isinstance(v, int | float)]
    return sorted(rows, key=lambda x: -x[2])


def _run_view(request: Request, tenant: str, pub: HandoffPublished, run: dict[str, Any], user: User) -> dict[str, Any]:
    run_id = run["run_id"]
    cases = pub.cases.filter(pl.col("run_id") == run_id).sort("case_number")
    return {
        "run": run, **status_view(run),
        "prepared_at": when(run.get("prepared_at")), "released_at": when(run.get("released_at")),
        "booked_at": when(run.get("booked_at")),
        "files": pub.files.filter(pl.col("run_id") == run_id).to_dicts(),
        "skips": _tally(run.get("counts_json"), "skipped", HANDOFF_SKIP_TEXT),
        "dropped": _tally(run.get("counts_json"), "dropped", DROP_TEXT),
        "dropped_rows": pub.dropped.filter(pl.col("run_id") == run_id).sort("debtor_id", "receivable_id").to_dicts(),
        "cases": cases.head(MAX_CASES).to_dicts(), "n_cases_listed": cases.height,
        "pdf": safe_pdf(context_of(request).config, tenant, run.get("list_pdf")) is not None,
        "may_release": may_release(run, user),
    }


async def handoff_page(request: Request) -> Response:
    """GET /t/{tenant}/handoff: the hand-off runs, a prepared one on top, then newest day first."""
    user, tenant = _reader(request)
    pub = _pub(request, tenant)
    runs = pub.runs.sort(pl.col("status") != "prepared", pl.col("run_date"), pl.col("run_id"),
                         descending=[False, True, True], nulls_last=True)
    views = [_run_view(request, tenant, pub, r, user) for r in runs.to_dicts()]
    return render(request, "handoff.html", {"tenant": tenant, "runs": views, "max_cases": MAX_CASES})


async def handoff_release(request: Request) -> Response:
    """POST /t/{tenant}/handoff/{run_id}/release: the four-eyes release (:func:`release_run`)."""
    return await release_run(request, HANDOFF)


async def handoff_list(request: Request) -> Response:
    """GET /t/{tenant}/handoff/{run_id}/list.pdf: the run's Übergabeliste (ENTWURF until it is booked), only
    from the tenant's folders (:func:`review.views_dunning.safe_pdf`)."""
    _user, tenant = _reader(request)
    run_id = request.path_params["run_id"]
    run = run_of(_pub(request, tenant).runs, run_id)
    if run is None:
        raise HTTPException(404, f"Übergabelauf {run_id} ist für {tenant} nicht veröffentlicht.")
    path = safe_pdf(context_of(request).config, tenant, run.get("list_pdf"))
    if path is None:
        raise HTTPException(404, f"Übergabelauf {run_id} hat keine Übergabeliste im Ordner des Mandanten.")
    name = "uebergabeliste" if run.get("status") == "booked" else "uebergabeliste-entwurf"
    return FileResponse(path, media_type="application/pdf", filename=f"{name}-{run_id}.pdf",
                        content_disposition_type="attachment")
