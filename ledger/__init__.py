"""The ledger: one append-only DuckDB file, and the plain steps of the nightly run that alone write it.

Public names (the rest is private to the package)::

    run_night(cfg, booking_date) -> dict          all steps of one tenant's night, without Prefect
    new_night / STEPS / step_<name>(night)        the steps one by one (flows/nightly.py wraps them as tasks)
    connect(path) / hold(path) / fetch(...)        open the ledger (migrated), keep it open, query it
    TABLES                                         every ledger table as a Polars schema
    publish / read_published                       the review page's read-only snapshot
    TenantConfig / load_tenant_config              the tenant config (claims.config), re-exported
"""

from ledger.config import TenantConfig, load_tenant_config
from ledger.db import LedgerBusy, connect, fetch, hold, row_counts
from ledger.night import STEPS, Night, new_night, run_night
from ledger.publish import PUBLISHED_KLAERUNG_SCHEMA, publish, read_published
from ledger.tables import TABLES

__all__ = [
    "PUBLISHED_KLAERUNG_SCHEMA", "STEPS", "TABLES", "LedgerBusy", "Night", "TenantConfig", "connect", "fetch",
    "hold", "load_tenant_config", "new_night", "publish", "read_published", "row_counts", "run_night",
]
