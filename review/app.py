"""The review web app: routes, session, security headers. ``create_app(config, users)`` builds it.

Server-rendered HTML; the one script is the keyboard helper ``/static/keys.js`` (shortcuts on the
Klärungsliste and a payment's page). The Content-Security-Policy allows scripts from this origin's
``/static/`` files only — no inline script, no ``eval`` — so even an escaping mistake could not run one,
and every page works without JavaScript.
"""

from __future__ import annotations

import time
from pathlib import Path

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.middleware.sessions import SessionMiddleware
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from review.auth import LoginRequired, home, login_page, login_required_handler, logout
from review.config import ReviewConfig
from review.state import PublishedState
from review.users import User
from review.views_actions import approve, decide, withdraw
from review.views_amtshilfe import amtshilfe_page
from review.views_amtshilfe import approve_view as amtshilfe_approve
from review.views_amtshilfe import decide_view as amtshilfe_decide
from review.views_amtshilfe import export_csv as amtshilfe_export
from review.views_amtshilfe import withdraw_view as amtshilfe_withdraw
from review.views_blocks import approve_block_view, blocks_page, lift_block_view, set_block_view
from review.views_bulk import bulk
from review.views_casefile import casefile_page, casefile_zip, document_download
from review.views_collection import (
    collection_page,
    collection_release,
    collection_run_page,
    mandate_page,
    mandates_page,
    returns_page,
)
from review.views_decisions import decisions_page
from review.views_detail import detail_page, next_page
from review.views_dunning import debtor_page, dunning_page, release, run_pdf
from review.views_enforcement import enforcement_page
from review.views_handoff import handoff_list, handoff_page, handoff_release
from review.views_list import export_list, list_page
from review.views_office import office_page
from review.views_payout import payout_letters, payout_release, payout_run_page, payouts_page
from review.views_rules import approve as approve_rule
from review.views_rules import expire as expire_rule
from review.views_rules import propose as propose_rule
from review.views_rules import revoke as revoke_rule
from review.views_rules import rules_page
from review.views_waivers import approve_waiver_view, set_waiver_view, waivers_page, withdraw_waiver_view
from review.web import HERE, ReviewContext, http_error, make_templates

CSP = ("default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; form-action 'self'; "
       "frame-ancestors 'none'; base-uri 'none'")
SECURITY_HEADERS = [
    (b"content-security-policy", CSP.encode()),
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"no-referrer"),
    (b"cross-origin-opener-policy", b"same-origin"),
    (b"permissions-policy", b"camera=(), microphone=(), geolocation=()"),
]


class SecurityHeaders:
    """ASGI middleware: security headers on every response, ``no-store`` on pages (personal data),
    and ``Server-Timing: app;dur=<ms>`` (what the benchmark reads)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        static = str(scope.get("path", "")).startswith("/static/")

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                headers.extend(SECURITY_HEADERS)
                if not static:
                    headers.append((b"cache-control", b"no-store"))
                ms = (time.perf_counter() - started) * 1000
                headers.append((b"server-timing", f"app;dur={ms:.2f}".encode()))
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, send_with_headers)


def create_app(config: ReviewConfig, users: dict[str, User], users_path: Path | None = None) -> Starlette:
    """The ASGI app over ``config.state_dir`` for ``users`` (re-read from ``users_path`` when it changes)."""
    routes = [
        Route("/", home),
        Route("/login", login_page, methods=["GET", "POST"]),
        Route("/logout", logout, methods=["POST"]),
        Route("/t/{tenant}/", list_page),
        Route("/t/{tenant}/export.{kind}", export_list),
        Route("/t/{tenant}/bulk", bulk, methods=["POST"]),
        Route("/t/{tenant}/decisions", decisions_page),
        Route("/t/{tenant}/item/{transaction_id}", detail_page),
        Route("/t/{tenant}/item/{transaction_id}/decide", decide, methods=["POST"]),
        Route("/t/{tenant}/item/{transaction_id}/next", next_page),
        Route("/t/{tenant}/decision/{decision_id}/approve", approve, methods=["POST"]),
        Route("/t/{tenant}/decision/{decision_id}/withdraw", withdraw, methods=["POST"]),
        Route("/t/{tenant}/rules", rules_page),
        Route("/t/{tenant}/rules/propose", propose_rule, methods=["POST"]),
        Route("/t/{tenant}/rule/{rule_id}/approve", approve_rule, methods=["POST"]),
        Route("/t/{tenant}/rule/{rule_id}/expire", expire_rule, methods=["POST"]),
        Route("/t/{tenant}/rule/{rule_id}/revoke", revoke_rule, methods=["POST"]),
        Route("/t/{tenant}/blocks", blocks_page),
        Route("/t/{tenant}/blocks/set", set_block_view, methods=["POST"]),
        Route("/t/{tenant}/block/{block_id}/approve", approve_block_view, methods=["POST"]),
        Route("/t/{tenant}/block/{block_id}/lift", lift_block_view, methods=["POST"]),
        Route("/t/{tenant}/waivers", waivers_page),
        Route("/t/{tenant}/waivers/set", set_waiver_view, methods=["POST"]),
        Route("/t/{tenant}/waiver/{waiver_id}/approve", approve_waiver_view, methods=["POST"]),
        Route("/t/{tenant}/waiver/{waiver_id}/withdraw", withdraw_waiver_view, methods=["POST"]),
        Route("/t/{tenant}/dunning", dunning_page),
        Route("/t/{tenant}/dunning/{run_id}/release", release, methods=["POST"]),
        Route("/t/{tenant}/dunning/{run_id}/{kind}.pdf", run_pdf),
        Route("/t/{tenant}/debtor", debtor_page),
        Route("/t/{tenant}/collection", collection_page),
        Route("/t/{tenant}/collection/{run_id}", collection_run_page),
        Route("/t/{tenant}/collection/{run_id}/release", collection_release, methods=["POST"]),
        Route("/t/{tenant}/mandates", mandates_page),
        Route("/t/{tenant}/mandate", mandate_page),
        Route("/t/{tenant}/returns", returns_page),
        Route("/t/{tenant}/payouts", payouts_page),
        Route("/t/{tenant}/payouts/{run_id}", payout_run_page),
        Route("/t/{tenant}/payouts/{run_id}/release", payout_release, methods=["POST"]),
        Route("/t/{tenant}/payouts/{run_id}/letters.pdf", payout_letters),
        Route("/t/{tenant}/handoff", handoff_page),
        Route("/t/{tenant}/handoff/{run_id}/release", handoff_release, methods=["POST"]),
        Route("/t/{tenant}/handoff/{run_id}/list.pdf", handoff_list),
        Route("/t/{tenant}/akte", casefile_page),
        Route("/t/{tenant}/akte/dok/{seq:int}", document_download),
        Route("/t/{tenant}/akte/export.zip", casefile_zip),
        Route("/t/{tenant}/vollstreckung/auftraege", office_page),
        Route("/t/{tenant}/vollstreckung", enforcement_page),
        Route("/t/{tenant}/amtshilfe", amtshilfe_page),
        Route("/t/{tenant}/amtshilfe/export.csv", amtshilfe_export),
        Route("/t/{tenant}/amtshilfe/decide", amtshilfe_decide, methods=["POST"]),
        Route("/t/{tenant}/amtshilfe/decision/{decision_id}/approve", amtshilfe_approve, methods=["POST"]),
        Route("/t/{tenant}/amtshilfe/decision/{decision_id}/withdraw", amtshilfe_withdraw, methods=["POST"]),
        Mount("/static", StaticFiles(directory=Path(HERE) / "static"), name="static"),
    ]
    middleware = [
        # X-Forwarded-For only from the configured reverse proxies: the login throttle counts per address
        *([Middleware(ProxyHeadersMiddleware, trusted_hosts=list(config.trusted_proxies))]
          if config.trusted_proxies else []),
        Middleware(SecurityHeaders),
        Middleware(SessionMiddleware, secret_key=config.secret_key, session_cookie="kasse_review",
                   max_age=config.session_seconds, same_site="strict", https_only=config.https_only),
    ]
    app = Starlette(routes=routes, middleware=middleware,
                    exception_handlers={HTTPException: http_error, LoginRequired: login_required_handler})
    mtime = users_path.stat().st_mtime_ns if users_path is not None else 0
    app.state.review = ReviewContext(config, users, PublishedState(config.state_dir), make_templates(),
                                     users_path, mtime)
    return app
