"""The store: one append-only DuckDB file per ledger, and everything that reads or writes it.

Public names (the rest is private to the package)::

    connect(path) / hold(path) / fetch(...)        open the ledger (migrated), keep it open, query it
    TABLES                                         every ledger table as a Polars schema
    book(con, frames, run_id=...)                  the one booking transaction of a run
    read_state(con, tenant, date)                  what a run needs to know, derived from the tables
    publish / read_published                       the review page's read-only snapshot
    TenantConfig / load_tenant_config              the tenant config (claims.config), re-exported

The jobs that write it (the nightly run, …) live in ``jobs/``.
"""

from ledger.booking import book
from ledger.config import TenantConfig, load_tenant_config
from ledger.db import LedgerBusy, connect, fetch, hold, row_counts
from ledger.publish import PUBLISHED_KLAERUNG_SCHEMA, publish, read_published
from ledger.state import read_state
from ledger.tables import TABLES

__all__ = [
    "PUBLISHED_KLAERUNG_SCHEMA", "TABLES", "LedgerBusy", "TenantConfig", "book", "connect", "fetch",
    "hold", "load_tenant_config", "publish", "read_published", "read_state", "row_counts",
]
