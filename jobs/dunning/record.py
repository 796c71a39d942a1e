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

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

from jobs.records import RecordStore, as_json
from ledger.config import TenantConfig


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
        return as_json(self)

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> WeekRecord:
        return cls(run_id=str(d["run_id"]), week=str(d["week"]), as_of=date.fromisoformat(d["as_of"]),
                   prepared_by=str(d["prepared_by"]), prepared_at=datetime.fromisoformat(d["prepared_at"]),
                   stage=str(d.get("stage") or "prepared"),
                   booked_at=datetime.fromisoformat(d["booked_at"]) if d.get("booked_at") else None,
                   paths=dict(d.get("paths") or {}))


_STORE: RecordStore[WeekRecord] = RecordStore("dunning", "dunning run", WeekRecord.from_json, lambda r: r.week)


def records_dir(cfg: TenantConfig) -> Path:
    return _STORE.folder(cfg)


def read_record(cfg: TenantConfig, week: str) -> WeekRecord | None:
    """The week's record, or ``None`` when nothing was prepared for it."""
    return _STORE.read(cfg, week)


def write_record(cfg: TenantConfig, record: WeekRecord) -> Path:
    """Write the week's record atomically."""
    return _STORE.write(cfg, record)


def all_records(cfg: TenantConfig) -> list[WeekRecord]:
    """Every week's record of the tenant, oldest first."""
    return _STORE.all(cfg)


def find_record(cfg: TenantConfig, run_id: str) -> WeekRecord:
    """The record of ``run_id`` (:class:`KasseError` when no week of the tenant has prepared it)."""
    return _STORE.find(cfg, run_id)
