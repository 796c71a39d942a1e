"""The enforcement office's received cases (issue 17 §4): ``/t/{tenant}/vollstreckung``.

When this tenant's office enforces for other municipalities (``[enforcement] clients``), the cases they
handed over and the updates they sent since are listed here per creditor, each with its state and latest
update; a case the creditor settled shows **STOP** (stop every measure). The page reads only the snapshot
the office tenant's nightly published (``ledger.office_state``: ``published_office/<tenant>``), never a
ledger — and never the creditor's: the office knows of a case only what the creditor's files said.

Who: the roles of ``review.users.CASEFILE_ROLES`` assigned to the office tenant (the enforcement office
``vollstreckung`` above all). A creditor's users are assigned to the creditor's tenant, not the office's, so
they see neither this page nor the office's other clients.
"""

from __future__ import annotations

from typing import Any

import polars as pl
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response

from claims.vocab import OfficeCaseState
from review.auth import require_tenant, require_user
from review.web import context_of, render

STATE_TEXT = {OfficeCaseState.OPEN: "offen", OfficeCaseState.SUSPENDED: "ausgesetzt",
              OfficeCaseState.SETTLED: "erledigt – STOP"}
KIND_TEXT = {"partial_payment": "Teilzahlung", "settled": "erledigt (bezahlt)", "suspended": "ausgesetzt",
             "resumed": "fortsetzen"}


def _groups(cases: pl.DataFrame, claims: pl.DataFrame) -> list[dict[str, Any]]:
    """One group per creditor (the page shows few hundred cases: rows for the template)."""
    by_case: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for row in claims.iter_rows(named=True):
        by_case.setdefault((row["creditor_tenant"], row["case_number"]), []).append(row)
    groups: dict[str, dict[str, Any]] = {}
    for row in cases.sort("creditor_tenant", "case_number").iter_rows(named=True):
        g = groups.setdefault(row["creditor_tenant"], {"tenant": row["creditor_tenant"], "name": row["creditor_name"],
                                                      "cases": [], "n_stop": 0, "open_cents": 0})
        row["claims"] = by_case.get((row["creditor_tenant"], row["case_number"]), [])
        row["state_text"] = STATE_TEXT.get(row["state"], row["state"])
        row["kind_text"] = KIND_TEXT.get(row["latest_kind"] or "", row["latest_kind"] or "")
        g["cases"].append(row)
        g["n_stop"] += row["state"] == OfficeCaseState.SETTLED
        g["open_cents"] += row["open_cents"] or 0
    return list(groups.values())


async def office_page(request: Request) -> Response:
    """GET /t/{tenant}/vollstreckung[?creditor=…]: the received cases per creditor with their latest update."""
    user = require_user(request)
    tenant = request.path_params["tenant"]
    require_tenant(user, tenant, casefile=True)
    if not user.may_read_casefiles:
        raise HTTPException(403, f"Die Rolle {user.role} sieht die Vollstreckungsfälle nicht.")
    pub = context_of(request).office.get(tenant)
    cases, claims = pub.cases, pub.claims
    creditor = (request.query_params.get("creditor") or "").strip()[:64]
    if creditor:
        cases = cases.filter(pl.col("creditor_tenant") == creditor)
        claims = claims.filter(pl.col("creditor_tenant") == creditor)
    return render(request, "office.html", {"tenant": tenant, "groups": _groups(cases, claims), "creditor": creditor,
                                           "published_at": pub.meta.get("published_at", "")})
