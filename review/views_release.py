"""The four-eyes release of a prepared run on the review page, for every kind of run the jobs publish in
the shape of :data:`ledger.publish_collection.RUNS_SCHEMA` (the SEPA collection and payout runs).

A job prepares a run and publishes it; nothing is booked and no file reaches the outbox until a
supervisor **other than the preparer** releases it here (403 for anyone else, 409 for a run no longer
prepared). The release is one journal line (``ledger.release_journal.record_release`` with the kind's
journal ``kind``); the snapshot reader lays it over the published runs, so the page shows the run as
released at once, and the job's next call books it.

A kind is a :class:`ReleaseKind`: the journal kind, the German words, the page to return to and how to
get the published runs: ``COLLECTION`` in :mod:`review.views_collection`, ``PAYOUT`` (pain.001,
``payout_release``) in :mod:`review.views_payout`; :func:`release_run` and :func:`may_release` serve both.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import polars as pl
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from ledger.journal import JournalError
from ledger.release_journal import record_release
from review.users import User
from review.views_actions import checked_post
from review.web import context_of, flash

#: A run's status as the page names it, and the badge it wears.
STATUS_NAMES = {"prepared": "vorbereitet, wartet auf Freigabe", "released": "freigegeben, wird gebucht",
                "booked": "gebucht"}
BADGES = {"prepared": "pending", "released": "effective", "booked": "withdrawn"}


@dataclass(frozen=True, slots=True)
class ReleaseKind:
    """One kind of releasable run (module docstring)."""

    journal_kind: str                     # the release line's ``kind`` (collection_release, payout_release)
    noun: str                             # German, for messages: "Lastschrifteinzug"
    page: str                             # the page below /t/{tenant}/ that lists the runs: "collection"
    after: str                            # the message after a release: what happens next
    runs: Callable[[Request, str], pl.DataFrame]   # the tenant's published runs, releases laid over


def run_of(runs: pl.DataFrame, run_id: str) -> dict[str, Any] | None:
    """One run's row, or ``None``."""
    hit = runs.filter(pl.col("run_id") == run_id)
    return hit.row(0, named=True) if hit.height else None


def may_release(run: dict[str, Any], user: User) -> bool:
    """Whether ``user`` is shown the release button: a prepared run, a supervisor, not its preparer."""
    return ((run.get("status") or "prepared") == "prepared" and user.role == "supervisor"
            and user.login != (run.get("prepared_by") or ""))


def status_view(run: dict[str, Any]) -> dict[str, str]:
    """The status's German name and badge class."""
    status = run.get("status") or "prepared"
    return {"status": status, "status_name": STATUS_NAMES.get(status, status),
            "badge": BADGES.get(status, "withdrawn")}


async def release_run(request: Request, kind: ReleaseKind) -> Response:
    """POST /t/{tenant}/{kind.page}/{run_id}/release: CSRF, role and four-eyes checked here (403), the run
    must still be prepared (409); then the journal line (whose writer checks the same again)."""
    user, tenant, _form = await checked_post(request)
    run_id = request.path_params["run_id"]
    run = run_of(kind.runs(request, tenant), run_id)
    if run is None:
        raise HTTPException(404, f"{kind.noun} {run_id} ist für {tenant} nicht veröffentlicht.")
    if user.role != "supervisor":
        raise HTTPException(403, f"Die Rolle {user.role} darf keinen {kind.noun} freigeben; das darf nur eine "
                                 "Aufsicht.")
    if user.login == (run.get("prepared_by") or ""):
        raise HTTPException(403, f"Vier-Augen-Prinzip: den {kind.noun} gibt eine andere Person frei als die, die "
                                 "ihn vorbereitet hat.")
    if (run.get("status") or "prepared") != "prepared":
        by = f" von {run['released_by']}" if run.get("released_by") else ""
        raise HTTPException(409, f"{kind.noun} {run_id} ist schon freigegeben{by}.")
    try:
        record_release(context_of(request).config.state_dir, tenant, run_id, user=user.login, role=user.role,
                       prepared_by=str(run.get("prepared_by") or ""), kind=kind.journal_kind)
    except JournalError as exc:
        raise HTTPException(409, str(exc)) from exc
    flash(request, f"{kind.noun} {run_id} freigegeben: {kind.after}")
    return RedirectResponse(f"/t/{tenant}/{kind.page}", status_code=303)
