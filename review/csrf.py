"""CSRF protection: a synchroniser token kept in the signed session, required on every POST.

The session cookie is also ``SameSite=Strict``; the token is the second, independent guard.
"""

from __future__ import annotations

import hmac
import secrets
from collections.abc import Mapping
from typing import Any

from starlette.exceptions import HTTPException
from starlette.requests import Request

FIELD = "csrf_token"


def csrf_token(request: Request) -> str:
    """The session's token (made on first use); forms put it in a hidden ``csrf_token`` field."""
    token = request.session.get(FIELD)
    if not isinstance(token, str) or len(token) < 32:
        token = secrets.token_urlsafe(32)
        request.session[FIELD] = token
    return token


def new_csrf_token(request: Request) -> str:
    """Replace the token (after login and logout)."""
    request.session[FIELD] = secrets.token_urlsafe(32)
    return str(request.session[FIELD])


def check_csrf(request: Request, form: Mapping[str, Any]) -> None:
    """Refuse (403) a POST whose form token is missing or differs from the session's."""
    sent = form.get(FIELD)
    expected = request.session.get(FIELD)
    if not isinstance(sent, str) or not isinstance(expected, str) or not hmac.compare_digest(sent, expected):
        raise HTTPException(403, "Das Formular ist abgelaufen oder kam nicht von dieser Seite (CSRF-Token fehlt "
                                 "oder passt nicht). Bitte die Seite neu laden.")
