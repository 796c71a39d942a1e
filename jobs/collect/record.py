"""A collection date's run as the job keeps it between its calls: prepared, then booked, then done.

A collection run is prepared (the pain.008 files written into the run folder and shown), released by a
second person and booked when the job is called again, so what was prepared must outlive the first call::

    <state_dir>/collect/<tenant>/<collection date>.json   run_id, collection_date, prepared_by, prepared_at, stage

``stage``: ``prepared`` → ``booked`` (the ledger holds the collection record: only the copy to the outbox
is left) → ``done``. The ledger stays the truth on what was booked (a date with a committed collection run
is never booked again); the record is written atomically (temp file + rename).
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, replace
from datetime import date, datetime
from pathlib import Path
from typing import Any

from claims.errors import KasseError
from ledger.config import TenantConfig
from parsers.names import safe_file_name

STAGES = ("prepared", "booked", "done")


@dataclass(frozen=True, slots=True)
class DateRecord:
    """One collection date's run (module docstring)."""

    run_id: str
    collection_date: date
    prepared_by: str
    prepared_at: datetime
    stage: str = "prepared"
    booked_at: datetime | None = None

    def to_json(self) -> dict[str, Any]:
        return {k: v.isoformat() if isinstance(v, date | datetime) else v for k, v in asdict(self).items()}

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> DateRecord:
        return cls(run_id=str(d["run_id"]), collection_date=date.fromisoformat(d["collection_date"]),
                   prepared_by=str(d["prepared_by"]), prepared_at=datetime.fromisoformat(d["prepared_at"]),
                   stage=str(d.get("stage") or "prepared"),
                   booked_at=datetime.fromisoformat(d["booked_at"]) if d.get("booked_at") else None)


def records_dir(cfg: TenantConfig) -> Path:
    return cfg.state_dir / "collect" / safe_file_name(cfg.tenant)


def read_record(cfg: TenantConfig, day: date) -> DateRecord | None:
    """The date's record, or ``None`` when nothing was prepared for it."""
    path = records_dir(cfg) / f"{day.isoformat()}.json"
    if not path.exists():
        return None
    return DateRecord.from_json(json.loads(path.read_text(encoding="utf-8")))


def write_record(cfg: TenantConfig, record: DateRecord) -> Path:
    """Write the date's record atomically."""
    folder = records_dir(cfg)
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / f"{record.collection_date.isoformat()}.json"
    tmp = target.with_name(target.name + ".tmp")
    tmp.write_text(json.dumps(record.to_json(), indent=1) + "\n", encoding="utf-8")
    os.replace(tmp, target)
    return target


def all_records(cfg: TenantConfig) -> list[DateRecord]:
    """Every date's record of the tenant, oldest date first."""
    folder = records_dir(cfg)
    if not folder.is_dir():
        return []
    return [DateRecord.from_json(json.loads(p.read_text(encoding="utf-8"))) for p in sorted(folder.glob("*.json"))]


def find_record(cfg: TenantConfig, run_id: str) -> DateRecord:
    """The record of ``run_id`` (:class:`KasseError` when no date of the tenant has prepared it)."""
    for r in all_records(cfg):
        if r.run_id == run_id:
            return r
    raise KasseError(f"collection run {run_id} is not a prepared run of tenant {cfg.tenant}")


def advanced(record: DateRecord, stage: str, **more: Any) -> DateRecord:
    """``record`` moved on to ``stage``."""
    if stage not in STAGES:
        raise ValueError(f"stage must be one of {', '.join(STAGES)}")
    return replace(record, stage=stage, **more)
