"""A small record outside the ledger of what the ledger held, so a vanished or shrunk ledger stops the run.

``<state_dir>/ledger.<tenant>.json`` is written after each commit: the ledger file's path, the last
committed run id, the tenant's number of runs and the file size. Before a night reads the ledger,
:func:`check_ledger` refuses (:class:`LedgerMissing`) when the marker says runs were committed but the
file is missing, holds fewer runs of the tenant, or lacks the last committed run: a new, empty ledger
must never be started silently over a lost one. A deliberate new start removes the marker.
"""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb

from ledger.config import TenantConfig
from ledger.db import scalar
from parsers.names import safe_file_name


class LedgerMissing(RuntimeError):
    """The ledger file is gone or holds less than was committed to it (restore it from the backup)."""


def marker_path(cfg: TenantConfig) -> Path:
    return cfg.state_dir / f"ledger.{safe_file_name(cfg.tenant)}.json"


def read_marker(cfg: TenantConfig) -> dict[str, Any] | None:
    """The marker's content, or None when no run was committed yet (or it cannot be read)."""
    try:
        data = json.loads(marker_path(cfg).read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as exc:
        raise LedgerMissing(f"ledger marker {marker_path(cfg)} cannot be read ({exc}); check the ledger, "
                            "then remove the marker to go on") from exc
    return data if isinstance(data, dict) else None


def _tell(cfg: TenantConfig, marker: dict[str, Any], what: str) -> LedgerMissing:
    moved = marker.get("ledger") and str(marker.get("ledger")) != str(cfg.ledger.resolve())
    hint = (f"; the last commit went to {marker.get('ledger')}: if that file is this tenant's ledger (a shared "
            "file of a release before one-ledger-per-tenant, whose unset [paths] ledger meant kasse.duckdb), "
            "name it in [paths] ledger" if moved else "")
    return LedgerMissing(
        f"ledger {cfg.ledger} {what}, but {marker_path(cfg)} records {marker.get('runs')} committed runs of "
        f"tenant {cfg.tenant} (last {marker.get('last_run_id')}, in {marker.get('ledger')}); nothing was run: "
        f"restore the ledger file from the backup (remove the marker only for a deliberate new start){hint}")


def check_ledger_file(cfg: TenantConfig) -> None:
    """Refuse when the marker records committed runs but the ledger file does not exist."""
    marker = read_marker(cfg)
    if marker and int(marker.get("runs") or 0) > 0 and not cfg.ledger.exists():
        raise _tell(cfg, marker, "does not exist")


def check_ledger(cfg: TenantConfig, con: duckdb.DuckDBPyConnection) -> None:
    """Refuse when the open ledger holds fewer of the tenant's runs than the marker, or not its last run."""
    marker = read_marker(cfg)
    if not marker:
        return
    runs = scalar(con, "SELECT count(*) FROM runs WHERE tenant = $t", {"t": cfg.tenant})
    has_last = scalar(con, "SELECT count(*) FROM runs WHERE tenant = $t AND run_id = $r",
                      {"t": cfg.tenant, "r": str(marker.get("last_run_id"))})
    if runs < int(marker.get("runs") or 0):
        raise _tell(cfg, marker, f"holds {runs} runs")
    if marker.get("last_run_id") and not has_last:
        raise _tell(cfg, marker, f"does not hold run {marker.get('last_run_id')}")


def write_marker(cfg: TenantConfig, con: duckdb.DuckDBPyConnection, run_id: str) -> Path:
    """Record the ledger's state after ``run_id`` was committed (atomically)."""
    runs = scalar(con, "SELECT count(*) FROM runs WHERE tenant = $t", {"t": cfg.tenant})
    data = {"ledger": str(cfg.ledger.resolve()), "tenant": cfg.tenant, "last_run_id": run_id,
            "runs": int(runs), "size_bytes": cfg.ledger.stat().st_size,
            "written_at": datetime.now(UTC).isoformat()}
    target = marker_path(cfg)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(target.name + ".tmp")
    tmp.write_text(json.dumps(data, indent=1) + "\n", encoding="utf-8")
    os.replace(tmp, target)
    return target
