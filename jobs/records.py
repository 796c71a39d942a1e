"""A prepared run as a job keeps it between its calls (prepared → released → booked → done).

The jobs whose runs a second person releases (dunning, collection) are called several times for one
period: the first call prepares, a later one books. What was prepared must outlive the first call, so
each job keeps one small JSON record per period (an ISO week, a collection date)::

    <state_dir>/<job>/<tenant>/<period>.json

``stage``: ``prepared`` → ``booked`` (the ledger holds the run: only files are left to write) → ``done``.
The ledger stays the truth on what was booked (a period with a committed run is never booked again);
the record is written atomically (temp file + rename).
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from dataclasses import asdict, replace
from datetime import date, datetime
from pathlib import Path
from typing import Any, Generic, TypeVar

from claims.errors import KasseError
from ledger.config import TenantConfig
from parsers.names import safe_file_name

STAGES = ("prepared", "booked", "done", "late")   # late: not booked before its deadline (collection)
R = TypeVar("R")


def as_json(record: Any) -> dict[str, Any]:
    """A record dataclass as JSON values (dates and times in ISO form)."""
    return {k: v.isoformat() if isinstance(v, date | datetime) else v for k, v in asdict(record).items()}


class RecordStore(Generic[R]):
    """The records of one job: ``load`` makes a record of its JSON, ``period`` names its file."""

    def __init__(self, job: str, what: str, load: Callable[[dict[str, Any]], R], period: Callable[[R], str]):
        self.job, self.what, self.load, self.period = job, what, load, period

    def folder(self, cfg: TenantConfig) -> Path:
        return cfg.state_dir / self.job / safe_file_name(cfg.tenant)

    def read(self, cfg: TenantConfig, period: str) -> R | None:
        """The period's record, or ``None`` when nothing was prepared for it."""
        path = self.folder(cfg) / f"{period}.json"
        if not path.exists():
            return None
        return self.load(json.loads(path.read_text(encoding="utf-8")))

    def write(self, cfg: TenantConfig, record: R) -> Path:
        """Write the record atomically."""
        folder = self.folder(cfg)
        folder.mkdir(parents=True, exist_ok=True)
        target = folder / f"{self.period(record)}.json"
        tmp = target.with_name(target.name + ".tmp")
        tmp.write_text(json.dumps(as_json(record), indent=1) + "\n", encoding="utf-8")
        os.replace(tmp, target)
        return target

    def all(self, cfg: TenantConfig) -> list[R]:
        """Every record of the tenant, oldest period first."""
        folder = self.folder(cfg)
        if not folder.is_dir():
            return []
        return [self.load(json.loads(p.read_text(encoding="utf-8"))) for p in sorted(folder.glob("*.json"))]

    def find(self, cfg: TenantConfig, run_id: str) -> R:
        """The record of ``run_id`` (:class:`KasseError` when the tenant has not prepared it)."""
        for r in self.all(cfg):
            if getattr(r, "run_id", None) == run_id:
                return r
        raise KasseError(f"{self.what} {run_id} is not a prepared run of tenant {cfg.tenant}")


def advanced(record: R, stage: str, **more: Any) -> R:
    """``record`` moved on to ``stage``."""
    if stage not in STAGES:
        raise ValueError(f"stage must be one of {', '.join(STAGES)}")
    return replace(record, stage=stage, **more)  # type: ignore[type-var]
