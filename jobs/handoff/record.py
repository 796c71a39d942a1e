"""A hand-off run as the job keeps it between its calls: prepared, then booked, then done.

A hand-off day is prepared (the draft batch written into the run folder), released by a second person and
booked when the job is called again::

    <state_dir>/handoff/<tenant>/<hand-off date>.json   run_id, handoff_date, prepared_by, prepared_at, stage

``stage``: ``prepared`` → ``booked`` → ``done`` (as :mod:`jobs.payout.record`). The ledger stays the truth
on what was booked (a date with a committed ``handoff`` run is never booked again); the record is written
atomically.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from jobs.records import RecordStore, as_json
from ledger.config import TenantConfig


@dataclass(frozen=True, slots=True)
class HandoffRecord:
    """One hand-off day's run (module docstring)."""

    run_id: str
    handoff_date: date
    prepared_by: str
    prepared_at: datetime
    stage: str = "prepared"
    booked_at: datetime | None = None

    def to_json(self) -> dict[str, Any]:
        return as_json(self)

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> HandoffRecord:
        return cls(run_id=str(d["run_id"]), handoff_date=date.fromisoformat(d["handoff_date"]),
                   prepared_by=str(d["prepared_by"]), prepared_at=datetime.fromisoformat(d["prepared_at"]),
                   stage=str(d.get("stage") or "prepared"),
                   booked_at=datetime.fromisoformat(d["booked_at"]) if d.get("booked_at") else None)


_STORE: RecordStore[HandoffRecord] = RecordStore("handoff", "hand-off run", HandoffRecord.from_json,
                                                 lambda r: r.handoff_date.isoformat())


def read_record(cfg: TenantConfig, day: date) -> HandoffRecord | None:
    """The day's record, or ``None`` when nothing was prepared for it."""
    return _STORE.read(cfg, day.isoformat())


def write_record(cfg: TenantConfig, record: HandoffRecord) -> None:
    _STORE.write(cfg, record)


def all_records(cfg: TenantConfig) -> list[HandoffRecord]:
    return _STORE.all(cfg)


def find_record(cfg: TenantConfig, run_id: str) -> HandoffRecord:
    return _STORE.find(cfg, run_id)
