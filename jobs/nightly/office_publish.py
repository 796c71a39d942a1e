"""Publish the office tenant's received cases for its review page (issue 17 §4), after the night's commit.

Reads the ``office_*`` tables of this tenant's own ledger (``ledger.office_state``) and writes the snapshot
``<state_dir>/published_office/<tenant>/`` the page ``/t/<tenant>/vollstreckung`` reads. Idempotent: a rerun
publishes the same content again. Only a tenant with ``[enforcement] clients`` publishes it.
"""

from __future__ import annotations

from pathlib import Path

from jobs.runner import open_ledger
from ledger.config import TenantConfig
from ledger.office_state import office_views, publish_office, read_office_tables


def publish_office_cases(cfg: TenantConfig) -> Path:
    """Publish the tenant's received cases and their claims; return the link the page reads."""
    con = open_ledger(cfg)
    try:
        tables = read_office_tables(con, cfg.tenant)
    finally:
        con.close()
        del con
    cases, claims = office_views(tables)
    return publish_office(cfg.state_dir, cfg.tenant, cases=cases, claims=claims)
