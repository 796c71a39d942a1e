"""The decisions page: what waits for approval, and the journal's latest entries (who, when, what)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from claims.vocab import DecisionState
from review.auth import require_tenant, require_user
from review.web import context_of, render

RECENT = 100


async def decisions_page(request: Request) -> Response:
    """GET /t/{tenant}/decisions: pending approvals first, then the most recent decisions."""
    user = require_user(request)
    tenant = request.path_params["tenant"]
    require_tenant(user, tenant)
    state = context_of(request).state
    decisions = state.decisions(tenant)
    pending = [d for d in decisions if d.state == DecisionState.PENDING]
    recent = [d for d in reversed(decisions) if d.state != DecisionState.PENDING][:RECENT]
    return render(request, "decisions.html", {"tenant": tenant, "pending": pending, "recent": recent,
                                              "snap": state.snapshot(tenant)})
