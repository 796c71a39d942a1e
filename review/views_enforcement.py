"""The "Vollstreckung" page: the enforcement cases of a tenant and the claims whose limitation ends soon.

For the enforcement office (role ``vollstreckung``) and the auditors: one row per case (case number,
debtor, office, opened, claims, amount handed over, open amount now, last update, last outcome, state),
filtered by open/closed and office, each linking to its case file (``/akte?subject=case``); below, the
limitation warning list (soonest end first). Read from the snapshot the nightly run publishes
(:mod:`ledger.publish_enforcement`), cached per tenant (:mod:`review.enforcement_state`) —
never the writer's DuckDB file. Nothing is changed here.
"""

from __future__ import annotations

from urllib.parse import urlencode

import polars as pl
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response

from outputs.dunning_texts import text_of
from outputs.enforcement_texts import INTERRUPTION_TEXT, OUTCOME_TEXT
from review.auth import require_tenant, require_user
from review.collection_state import int_param, page_of
from review.web import context_of, render

#: Who sees the page: the enforcement office and the auditors (gpaNRW, Rechnungsprüfung).
ENFORCEMENT_ROLES = frozenset({"vollstreckung", "auditor"})
#: The open/closed filter (``state`` of the snapshot; empty: all).
STATES = {"open": "offen", "closed": "abgeschlossen", "": "alle"}
UPDATE_TEXT = {"partial_payment": "Teilzahlung gemeldet", "settled": "erledigt: alle Maßnahmen einstellen",
               "suspended": "ausgesetzt", "resumed": "fortgesetzt"}
#: At most this many warnings on the page (the full list is the report's XLSX).
MAX_WARNINGS = 200

def _reader(request: Request) -> str:
    user = require_user(request)
    tenant = request.path_params["tenant"]
    require_tenant(user, tenant, casefile=True)
    if user.role not in ENFORCEMENT_ROLES:
        raise HTTPException(403, f"Die Rolle {user.role} sieht die Vollstreckungsfälle nicht.")
    return tenant


async def enforcement_page(request: Request) -> Response:
    """GET /t/{tenant}/vollstreckung?state=open&office=&page=: the cases and the limitation warnings."""
    tenant = _reader(request)
    frames, meta = context_of(request).enforcement.get(tenant)
    cases, warnings = frames["cases"], frames["warnings"]
    raw_state = request.query_params.get("state")
    state = "open" if raw_state is None else raw_state.strip()
    state = state if state in STATES else "open"
    office = (request.query_params.get("office") or "").strip()[:64]
    offices = sorted(cases["office_id"].drop_nulls().unique().to_list())
    df = cases
    if state:
        df = df.filter(pl.col("state") == state)
    if office:
        df = df.filter(pl.col("office_id") == office)
    df = df.sort("opened_on", "case_number", descending=True, nulls_last=True)
    page = page_of(df, int_param(request.query_params.get("page")), context_of(request).config.page_size)
    rows = [r | {"outcome_text": text_of(OUTCOME_TEXT, r["last_outcome"]) if r["last_outcome"] else "",
                 "update_text": UPDATE_TEXT.get(r["last_update_kind"] or "", r["last_update_kind"] or "")}
            for r in page.rows]
    warn = [w | {"kind_text": text_of(INTERRUPTION_TEXT, w["last_interruption_kind"])
                 if w["last_interruption_kind"] else "keine (ab Fälligkeit)"}
            for w in warnings.head(MAX_WARNINGS).to_dicts()]

    def link(**changes: object) -> str:
        values: dict[str, object] = {"state": state, "office": office, "page": page.page, **changes}
        return "?" + urlencode({k: v for k, v in values.items() if v not in (None, 1) and not (k == "office" and v == "")})

    return render(request, "vollstreckung.html", {
        "tenant": tenant, "page": page, "rows": rows, "state": state, "states": STATES, "office": office,
        "offices": offices, "link": link, "open_cents": int(df["open_cents"].sum() or 0),
        "handed_cents": int(df["handed_cents"].sum() or 0), "warnings": warn, "n_warnings": warnings.height,
        "published_on": meta.get("on"), "published_at": str(meta.get("published_at") or "")[:16].replace("T", " ")})


__all__ = ["ENFORCEMENT_ROLES", "enforcement_page"]
