"""Login, logout and the checks every view makes: who is logged in, which role, which tenants."""

from __future__ import annotations

import time
from urllib.parse import quote

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from review.csrf import check_csrf, new_csrf_token
from review.users import User, authenticate
from review.web import context_of, flash, render

#: failed logins per login name before it is locked for LOCK_SECONDS
MAX_FAILURES = 5
LOCK_SECONDS = 60
_failures: dict[str, tuple[int, float]] = {}


class LoginRequired(Exception):
    """Raised by :func:`require_user` when nobody is logged in; answered with a redirect to /login."""

    def __init__(self, next_path: str) -> None:
        super().__init__(next_path)
        self.next_path = next_path


def current_user(request: Request) -> User | None:
    """The logged-in user, or ``None`` (also when the user was removed from the users file)."""
    login = request.session.get("user")
    if not isinstance(login, str):
        return None
    expires = request.session.get("expires", 0)
    if not isinstance(expires, int | float) or expires < time.time():
        return None
    return context_of(request).current_users().get(login)


def require_user(request: Request) -> User:
    """The logged-in user; otherwise a redirect to the login page (coming back here afterwards)."""
    user = current_user(request)
    if user is None:
        raise LoginRequired(request.url.path)
    return user


def require_tenant(user: User, tenant: str) -> None:
    """403 unless the user is assigned to the tenant."""
    if tenant not in user.tenants:
        raise HTTPException(403, f"Mandant {tenant!r} ist {user.login} nicht zugewiesen.")


def require_decider(user: User) -> None:
    """403 for read-only roles (auditor)."""
    if not user.may_decide:
        raise HTTPException(403, f"Die Rolle {user.role} darf nur lesen, nicht entscheiden.")


async def login_required_handler(request: Request, exc: Exception) -> Response:
    """Answer :class:`LoginRequired` with a redirect to the login page."""
    target = exc.next_path if isinstance(exc, LoginRequired) else "/"
    return RedirectResponse(f"/login?next={quote(target)}", status_code=303)


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
    count, since = _failures.get(login, (0, 0.0))
    if count >= MAX_FAILURES and time.time() - since < LOCK_SECONDS:
        return render(request, "login.html", {"next": next_path, "error":
                      f"Zu viele Fehlversuche; bitte {LOCK_SECONDS} Sekunden warten."}, status=429)
    user = authenticate(context_of(request).current_users(), login, password)
    if user is None:
        _failures[login] = (count + 1 if time.time() - since < LOCK_SECONDS else 1, time.time())
        return render(request, "login.html", {"next": next_path, "error": "Anmeldename oder Passwort falsch."},
                      status=401)
    _failures.pop(login, None)
    request.session.clear()
    request.session["user"] = user.login
    request.session["expires"] = int(time.time()) + context_of(request).config.session_seconds
    new_csrf_token(request)
    if next_path == "/" and len(user.tenants) == 1:
        next_path = f"/t/{user.tenants[0]}/"
    return RedirectResponse(next_path, status_code=303)


async def logout(request: Request) -> Response:
    """POST /logout: end the session."""
    form = await request.form()
    check_csrf(request, form)
    request.session.clear()
    new_csrf_token(request)
    flash(request, "Abgemeldet.")
    return RedirectResponse("/login", status_code=303)


async def home(request: Request) -> Response:
    """GET /: the user's tenants (or straight to the only one)."""
    user = require_user(request)
    if len(user.tenants) == 1:
        return RedirectResponse(f"/t/{user.tenants[0]}/", status_code=303)
    return render(request, "home.html", {"tenants": user.tenants})
