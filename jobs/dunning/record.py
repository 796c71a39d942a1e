"""The week's dunning run as the job keeps it between its calls: prepared, then booked, then done.

A dunning run is computed twice — prepared (shown, released by a second person), then booked when the
job is called again — so what was prepared must outlive the first call. The prepared frames live in the
run folder; this record says which run folder is the week's and how far it got::

    <state_dir>/dunning/<tenant>/<week>.json   run_id, week, as_of, prepared_by, prepared_at, stage, …

``stage``: ``prepared`` → ``booked`` (the ledger holds the run: only the files after the booking are
left) → ``done``. The ledger stays the truth on what was booked (a week with a committed dunning run is
never booked again, whatever a record says); the record is written atomically (temp file + rename).
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, replace
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

from claims.errors import KasseError
from ledger.config import TenantConfig
from parsers.names import safe_file_name

STAGES = ("prepared", "booked", "done")


def week_key(day: date) -> str:
    """The ISO week of ``day``: ``2026-W49`` (a week runs Monday to Sunday; early January may be W52/53)."""
    year, week, _ = day.isocalendar()
    return f"{year}-W{week:02d}"


def week_days(day: date) -> tuple[date, date]:
    """Monday and Sunday of ``day``'s ISO week."""
    monday = day - timedelta(days=day.isoweekday() - 1)
    return monday, monday + timedelta(days=6)


@dataclass(frozen=True, slots=True)
class WeekRecord:
    """One week's dunning run (module docstring)."""

    run_id: str
    week: str
    as_of: date
    prepared_by: str
    prepared_at: datetime
    stage: str = "prepared"
    booked_at: datetime | None = None
    paths: dict[str, str] | None = None

    def to_json(self) -> dict[str, Any]:
        d = asdict(self)
        return {k: v.isoformat() if isinstance(v, date | datetime) else v for k, v in d.items()}

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> WeekRecord:
        return cls(run_id=str(d["run_id"]), week=str(d["week"]), as_of=date.fromisoformat(d["as_of"]),
                   prepared_by=str(d["prepared_by"]), prepared_at=datetime.fromisoformat(d["prepared_at"]),
                   stage=str(d.get("stage") or "prepared"),
                   booked_at=datetime.fromisoformat(d["booked_at"]) if d.get("booked_at") else None,
                   paths=dict(d.get("paths") or {}))


def records_dir(cfg: TenantConfig) -> Path:
    return cfg.state_dir / "dunning" / safe_file_name(cfg.tenant)


def read_record(cfg: TenantConfig, week: str) -> WeekRecord | None:
    """The week's record, or ``None`` when nothing was prepared for it."""
    path = records_dir(cfg) / f"{week}.json"
    if not path.exists():
        return None
    return WeekRecord.from_json(json.loads(path.read_text(encoding="utf-8")))


def write_record(cfg: TenantConfig, record: WeekRecord) -> Path:
    """Write the week's record atomically."""
    folder = records_dir(cfg)
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / f"{record.week}.json"
    tmp = target.with_name(target.name + ".tmp")
    tmp.write_text(json.dumps(record.to_json(), indent=1) + "\n", encoding="utf-8")
    os.replace(tmp, target)
    return target


def all_records(cfg: TenantConfig) -> list[WeekRecord]:
    """Every week's record of the tenant, oldest first."""
    folder = records_dir(cfg)
    if not folder.is_dir():
        return []
    return [WeekRecord.from_json(json.loads(p.read_text(encoding="utf-8"))) for p in sorted(folder.glob("*-W*.json"))]


def find_record(cfg: TenantConfig, run_id: str) -> WeekRecord:
    """The record of ``run_id`` (:class:`KasseError` when no week of the tenant has prepared it)."""
    for r in all_records(cfg):
        if r.run_id == run_id:
            return r
    raise KasseError(f"dunning run {run_id} is not a prepared run of tenant {cfg.tenant}")


def advanced(record: WeekRecord, stage: str, **more: Any) -> WeekRecord:
    """``record`` moved on to ``stage``."""
    if stage not in STAGES:
        raise ValueError(f"stage must be one of {', '.join(STAGES)}")
    return replace(record, stage=stage, **more)
