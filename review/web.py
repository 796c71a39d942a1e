"""What every view shares: the app context, template rendering, flash messages, the error shape."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import anyio
import jinja2
import polars as pl
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.templating import Jinja2Templates

from ledger.documents import IndexReader
from ledger.office_state import OfficePublished, read_office_published
from ledger.office_state import published_dir as office_dir
from ledger.publish_amtshilfe import published_dir as amtshilfe_dir
from ledger.publish_amtshilfe import read_amtshilfe_published
from ledger.publish_handoff import HandoffPublished
from ledger.publish_payout import PayoutPublished
from outputs.klaerungsliste import REASON_TEXT
from review.amounts import format_cents
from review.collection_state import CollectionCache, SnapshotCache, handoff_cache, payout_cache
from review.config import ReviewConfig
from review.dunning_state import DunningCache
from review.enforcement_state import EnforcementPublished, enforcement_cache
from review.labels import de_date, de_epoch, de_time, label
from review.locks import LockStore
from review.sessions import SessionStore
from review.state import PublishedState
from review.throttle import LoginThrottle
from review.users import User, UsersFileError, load_users

HERE = Path(__file__).resolve().parent
#: the Amtshilfe snapshot's frames (requests, notices, decisions, forwarded) and its meta
AmtshilfePublished = tuple[dict[str, pl.DataFrame], dict[str, Any]]
log = logging.getLogger(__name__)


@dataclass
class ReviewContext:
    """Held in ``app.state.review``: settings, users, caches of the published state, templates."""

    config: ReviewConfig
    users: dict[str, User]
    state: PublishedState
    templates: Jinja2Templates
    users_path: Path | None = None         # re-read when it changes: a removed user is out at once
    users_mtime: int = 0
    throttle: LoginThrottle = field(default_factory=LoginThrottle)
    #: argon2 checks running at once in worker threads (each takes 64 MiB and several cores)
    verify_limiter: anyio.CapacityLimiter = field(default_factory=lambda: anyio.CapacityLimiter(2))

    #: live sessions, in <state_dir>/review/sessions.sqlite3
    sessions: SessionStore = field(init=False)
    #: soft locks ("another clerk has this payment open"), in <state_dir>/review/locks.sqlite3
    locks: LockStore = field(init=False)
    #: the dunning job's published snapshot, per tenant
    dunning: DunningCache = field(init=False)
    #: the collection job's published snapshot (runs, mandates, returns), per tenant
    collection: CollectionCache = field(init=False)
    #: the payout job's published snapshot (runs, transfers, set-offs, skipped refunds), per tenant
    payout: SnapshotCache[PayoutPublished] = field(init=False)
    #: the enforcement hand-off's published snapshot (runs, cases, skipped and dropped claims), per tenant
    handoff: SnapshotCache[HandoffPublished] = field(init=False)
    #: the case files' document index, per tenant (ledger.documents; read beside the ledger, never in it)
    documents: IndexReader = field(init=False)
    #: the cases other tenants handed to this tenant's enforcement office (issue 17 §4), per tenant
    office: SnapshotCache[OfficePublished] = field(init=False)
    #: the enforcement cases and limitation warnings the nightly run publishes, per tenant
    enforcement: SnapshotCache[EnforcementPublished] = field(init=False)
    #: foreign creditors' requests (Amtshilfe) the nightly run publishes, per tenant
    amtshilfe: SnapshotCache[AmtshilfePublished] = field(init=False)

    def __post_init__(self) -> None:
        self.sessions = SessionStore.in_state_dir(self.config.state_dir)
        self.locks = LockStore.in_state_dir(self.config.state_dir)
        self.dunning = DunningCache(self.config.state_dir)
        self.collection = CollectionCache(self.config.state_dir)
        self.payout = payout_cache(self.config.state_dir)
        self.handoff = handoff_cache(self.config.state_dir)
        self.documents = IndexReader(self.config.state_dir)
        self.office = SnapshotCache(self.config.state_dir, office_dir, read_office_published)
        self.enforcement = enforcement_cache(self.config.state_dir)
        self.amtshilfe = SnapshotCache(self.config.state_dir, amtshilfe_dir, read_amtshilfe_published)

    def current_users(self) -> dict[str, User]:
        """The users, re-read from ``users_path`` when the file changed (a broken file keeps the old ones)."""
        if self.users_path is not None:
            try:
                mtime = self.users_path.stat().st_mtime_ns
                if mtime != self.users_mtime:
                    self.users = load_users(self.users_path)
                    self.users_mtime = mtime
            except (OSError, UsersFileError) as exc:
                log.warning("users file not reloaded, keeping %d users: %s", len(self.users), exc)
        return self.users


def make_templates() -> Jinja2Templates:
    """Jinja2 with autoescaping on for every template (all user data is escaped) and undefined as error."""
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(HERE / "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["money"] = format_cents
    env.filters["reason_text"] = lambda code: REASON_TEXT.get(code or "", code or "")
    env.filters["de_date"] = de_date
    env.filters["de_time"] = de_time
    env.filters["epoch_time"] = de_epoch
    env.filters["label"] = lambda code, kind: label(kind, code)
    return Jinja2Templates(env=env)


def context_of(request: Request) -> ReviewContext:
    """The app's :class:`ReviewContext`."""
    ctx: ReviewContext = request.app.state.review
    return ctx


def flash(request: Request, message: str, kind: str = "ok") -> None:
    """A one-time message shown on the next page (kept in the signed session)."""
    request.session.setdefault("flash", []).append([kind, message])


def render(request: Request, name: str, context: dict[str, Any] | None = None, status: int = 200) -> HTMLResponse:
    """Render a template with the user, the CSRF token and pending flash messages."""
    from review.auth import current_user
    from review.csrf import csrf_token

    values: dict[str, Any] = {
        "user": current_user(request),
        "csrf_token": csrf_token(request),
        "flashes": request.session.pop("flash", []),
        "tenant": None,
    }
    values.update(context or {})
    response: HTMLResponse = context_of(request).templates.TemplateResponse(request, name, values, status_code=status)
    return response


async def http_error(request: Request, exc: Exception) -> Response:
    """One error shape for every refused request: status, a short title and the reason."""
    status = exc.status_code if isinstance(exc, HTTPException) else 500
    detail = exc.detail if isinstance(exc, HTTPException) else "internal error"
    titles = {400: "Ungültige Anfrage", 403: "Nicht erlaubt", 404: "Nicht gefunden", 405: "Nicht erlaubt",
              409: "Inzwischen geändert", 422: "Nicht gebucht", 429: "Zu viele Versuche"}
    return render(request, "error.html", {"status": status, "title": titles.get(status, "Fehler"),
                                          "detail": detail}, status=status)
