"""Login, logout and the checks every view makes: who is logged in, which role, which tenants.

A login is a row in the server-side session store (:mod:`review.sessions`); the signed cookie only
carries its random id, so logout ends it for every copy of the cookie. Passwords are checked by argon2
in a worker thread, never on the event loop, and failed tries are throttled (:mod:`review.throttle`).
"""

from __future__ import annotations

import time
from urllib.parse import quote

import anyio.to_thread
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from review.csrf import check_csrf, new_csrf_token
from review.sessions import password_tag
from review.throttle import Refusal
from review.users import CASEFILE_ONLY_ROLES, User, authenticate
from review.web import context_of, flash, render

SESSION_KEY = "sid"
_REFUSED = {
    "address": "Zu viele Fehlversuche von dieser Adresse; bitte {s} Sekunden warten.",
    "login": "Zu viele Fehlversuche für diesen Anmeldenamen; bitte {s} Sekunden warten.",
    "busy": "Die Anmeldung wird gerade geprüft; bitte {s} Sekunde warten.",
}


class LoginRequired(Exception):
    """Raised by :func:`require_user` when nobody is logged in; answered with a redirect to /login."""

    def __init__(self, next_path: str) -> None:
        super().__init__(next_path)
        self.next_path = next_path


def current_user(request: Request) -> User | None:
    """The logged-in user, or ``None``: no session id in the cookie, the session ended (logout) or
    expired, the user was removed from the users file, or their password changed since the login."""
    session_id = request.session.get(SESSION_KEY)
    if not isinstance(session_id, str):
        return None
    cached = getattr(request.state, "review_user", None)      # one look-up per request, not per call
    if cached is not None and cached[0] == session_id:
        user: User | None = cached[1]
        return user
    ctx = context_of(request)
    live = ctx.sessions.lookup(session_id, time.time())
    user = ctx.current_users().get(live.login) if live is not None else None
    if user is not None and live is not None and password_tag(user.password_hash) != live.password_tag:
        user = None
    request.state.review_user = (session_id, user)
    return user


def require_user(request: Request) -> User:
    """The logged-in user; otherwise a redirect to the login page (coming back here afterwards)."""
    user = current_user(request)
    if user is None:
        raise LoginRequired(request.url.path)
    return user


def require_tenant(user: User, tenant: str, *, casefile: bool = False) -> None:
    """403 unless the user is assigned to the tenant. The enforcement office (role ``vollstreckung``) sees
    only the case files (``casefile=True``), never the treasury's pages: no Klärungsliste, no payments."""
    if tenant not in user.tenants:
        raise HTTPException(403, f"Mandant {tenant!r} ist {user.login} nicht zugewiesen.")
    if not casefile and user.role in CASEFILE_ONLY_ROLES:
        raise HTTPException(403, f"Die Rolle {user.role} sieht nur die Vollstreckungsakten.")


def start_page(user: User, tenant: str) -> str:
    """Where a user of ``tenant`` starts: the Klärungsliste, or the case files for the enforcement office."""
    return f"/t/{tenant}/akte" if user.role in CASEFILE_ONLY_ROLES else f"/t/{tenant}/"


def require_decider(user: User) -> None:
    """403 for read-only roles (auditor)."""
    if not user.may_decide:
        raise HTTPException(403, f"Die Rolle {user.role} darf nur lesen, nicht entscheiden.")


async def login_required_handler(request: Request, exc: Exception) -> Response:
    """Answer :class:`LoginRequired` with a redirect to the login page."""
    target = exc.next_path if isinstance(exc, LoginRequired) else "/"
    return RedirectResponse(f"/login?next={quote(target)}", status_code=303)


def client_address(request: Request) -> str:
    """The peer's address. ``X-Forwarded-For`` counts only through ``trusted_proxies`` (the app then
    puts the forwarded client here); otherwise anyone could name a new address on every try."""
    return request.client.host if request.client is not None else "unknown"


async def _check_password(request: Request, login: str, password: str) -> User | None:
    """argon2 in a worker thread (at most ``verify_limiter`` at once): the event loop keeps serving pages."""
    ctx = context_of(request)
    users = ctx.current_users()
    return await anyio.to_thread.run_sync(authenticate, users, login, password, limiter=ctx.verify_limiter)


def _refused(request: Request, next_path: str, refusal: Refusal) -> Response:
    response = render(request, "login.html", {"next": next_path,
                                              "error": _REFUSED[refusal.scope].format(s=refusal.seconds)}, status=429)
    response.headers["retry-after"] = str(refusal.seconds)
    return response


def _safe_next(value: object) -> str:
    text = str(value or "/")
    return text if text.startswith("/") and not text.startswith("//") and "\\" not in text else "/"


async def login_page(request: Request) -> Response:
    """GET /login: the form; POST /login: check the password, start a fresh session."""
    next_path = _safe_next(request.query_params.get("next"))
    if request.method != "POST":                       # GET and HEAD
        return render(request, "login.html", {"next": next_path, "error": ""})
    form = await request.form()
    check_csrf(request, form)
    login = str(form.get("login") or "").strip()[:100]
    password = str(form.get("password") or "")
    next_path = _safe_next(form.get("next"))
    ctx = context_of(request)
    address, name = client_address(request), login.casefold()      # "Anna" and "anna" count together
    refusal = ctx.throttle.begin(address, name, time.monotonic())
    if refusal is not None:
        return _refused(request, next_path, refusal)
    user = None
    try:
        user = await _check_password(request, login, password)
    finally:
        ctx.throttle.end(address, name, user is not None, time.monotonic())
    if user is None:
        return render(request, "login.html", {"next": next_path, "error": "Anmeldename oder Passwort falsch."},
                      status=401)
    _end_session(request)
    request.session.clear()
    request.session[SESSION_KEY] = ctx.sessions.create(user.login, user.password_hash,
                                                       ctx.config.session_seconds, time.time())
    new_csrf_token(request)
    if next_path == "/" and len(user.tenants) == 1:
        next_path = start_page(user, user.tenants[0])
    return RedirectResponse(next_path, status_code=303)


def _end_session(request: Request) -> None:
    session_id = request.session.get(SESSION_KEY)
    if isinstance(session_id, str):
        context_of(request).sessions.end(session_id)
    request.state.review_user = None


async def logout(request: Request) -> Response:
    """POST /logout: end the session on the server (a copy of the cookie is worthless afterwards)."""
    form = await request.form()
    check_csrf(request, form)
    _end_session(request)
    request.session.clear()
    new_csrf_token(request)
    flash(request, "Abgemeldet.")
    return RedirectResponse("/login", status_code=303)


async def home(request: Request) -> Response:
    """GET /: the user's tenants (or straight to the only one)."""
    user = require_user(request)
    if len(user.tenants) == 1:
        return RedirectResponse(start_page(user, user.tenants[0]), status_code=303)
    return render(request, "home.html", {"tenants": user.tenants})
