"""``kasse enforcement-report``: the enforcement key figures, the limitation warning list and the
Forderungsbewertung of a tenant as files (docs/ENFORCEMENT.md, "Reports"), and the enforcement snapshot
the review page reads.

The ledger is opened only to read (:func:`ledger.enforcement_report.read_report_inputs`) and closed before
anything is computed or written; the files go to ``<reports>/<tenant>/<date>/enforcement/berichte``
(:data:`REPORT_SUBDIR`), written all at once with a manifest. Running it again for the same day writes the
same folder anew (the same ledger gives the same files).
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

from claims.config import TenantConfig
from jobs.runner import open_ledger
from ledger.enforcement_report import read_report_inputs
from ledger.publish_enforcement import publish_from_ledger
from outputs.enforcement_reports import write_enforcement_reports

#: Where the files go under the tenant's dated report folder.
REPORT_SUBDIR = Path("enforcement") / "berichte"


def report_dir(cfg: TenantConfig, as_of: date) -> Path:
    """``<reports>/<tenant>/<as_of>/enforcement/berichte``."""
    return cfg.reports / cfg.tenant / as_of.isoformat() / REPORT_SUBDIR


def write_reports(cfg: TenantConfig, as_of: date, since: date | None = None) -> dict[str, Path]:
    """Read the ledger, compute the three reports of ``since`` .. ``as_of`` and write them; name -> path."""
    con = open_ledger(cfg)
    try:
        inputs = read_report_inputs(con, cfg.tenant, cfg.state_dir)
    finally:
        con.close()
        del con
    rep = inputs.report(as_of=as_of, since=since, settings=cfg.enforcement)
    return write_enforcement_reports(report_dir(cfg, as_of), rep, {"tenant": cfg.tenant,
                                                                   "kind": "stadtkasse.enforcement_reports"})


def publish_state(cfg: TenantConfig, *, on: date) -> Path:
    """Publish the enforcement cases and the limitation warnings of ``on`` for the review page."""
    con = open_ledger(cfg)
    try:
        return publish_from_ledger(con, cfg.state_dir, cfg.tenant, on=on, settings=cfg.enforcement)
    finally:
        con.close()
        del con


__all__ = ["REPORT_SUBDIR", "publish_state", "report_dir", "write_reports"]
