"""A collection date's run as the job keeps it between its calls: prepared, then booked, then done.

A collection run is prepared (the pain.008 files written into the run folder and shown), released by a
second person and booked when the job is called again, so what was prepared must outlive the first call::

    <state_dir>/collect/<tenant>/<collection date>.json   run_id, collection_date, prepared_by, prepared_at, stage

``stage``: ``prepared`` → ``booked`` (the ledger holds the collection record: only the copy to the outbox
is left) → ``done``. The ledger stays the truth on what was booked (a date with a committed collection run
is never booked again); the record is written atomically (temp file + rename).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

from jobs.records import RecordStore, as_json
from ledger.config import TenantConfig


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
        return as_json(self)

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> DateRecord:
        return cls(run_id=str(d["run_id"]), collection_date=date.fromisoformat(d["collection_date"]),
                   prepared_by=str(d["prepared_by"]), prepared_at=datetime.fromisoformat(d["prepared_at"]),
                   stage=str(d.get("stage") or "prepared"),
                   booked_at=datetime.fromisoformat(d["booked_at"]) if d.get("booked_at") else None)


_STORE: RecordStore[DateRecord] = RecordStore("collect", "collection run", DateRecord.from_json,
                                              lambda r: r.collection_date.isoformat())


def records_dir(cfg: TenantConfig) -> Path:
    return _STORE.folder(cfg)


def read_record(cfg: TenantConfig, day: date) -> DateRecord | None:
    """The date's record, or ``None`` when nothing was prepared for it."""
    return _STORE.read(cfg, day.isoformat())


def write_record(cfg: TenantConfig, record: DateRecord) -> Path:
    """Write the date's record atomically."""
    return _STORE.write(cfg, record)


def all_records(cfg: TenantConfig) -> list[DateRecord]:
    """Every date's record of the tenant, oldest date first."""
    return _STORE.all(cfg)


def find_record(cfg: TenantConfig, run_id: str) -> DateRecord:
    """The record of ``run_id`` (:class:`KasseError` when no date of the tenant has prepared it)."""
    return _STORE.find(cfg, run_id)
