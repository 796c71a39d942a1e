"""A payout run as the job keeps it between its calls: prepared, then booked, then done.

A payout run is prepared (set-off computed, the pain.001 file written into the run folder, the draft
Verrechnungsmitteilungen), released by a second person and booked when the job is called again::

    <state_dir>/payout/<tenant>/<execution date>.json   run_id, execution_date, prepared_by, prepared_at, stage

``stage``: ``prepared`` → ``booked`` → ``done`` (as :mod:`jobs.collect.record`). The ledger stays the truth
on what was booked; the record is written atomically.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from jobs.records import RecordStore, as_json
from ledger.config import TenantConfig


@dataclass(frozen=True, slots=True)
class PayoutRecord:
    """One execution date's payout run (module docstring). ``set_off_on``: the day the set-off is made
    (the preparation day, kept so that the booking recomputes against the same day)."""

    run_id: str
    execution_date: date
    prepared_by: str
    prepared_at: datetime
    set_off_on: date
    stage: str = "prepared"
    booked_at: datetime | None = None

    def to_json(self) -> dict[str, Any]:
        return as_json(self)

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> PayoutRecord:
        return cls(run_id=str(d["run_id"]), execution_date=date.fromisoformat(d["execution_date"]),
                   prepared_by=str(d["prepared_by"]), prepared_at=datetime.fromisoformat(d["prepared_at"]),
                   set_off_on=date.fromisoformat(d["set_off_on"]), stage=str(d.get("stage") or "prepared"),
                   booked_at=datetime.fromisoformat(d["booked_at"]) if d.get("booked_at") else None)


_STORE: RecordStore[PayoutRecord] = RecordStore("payout", "payout run", PayoutRecord.from_json,
                                                lambda r: r.execution_date.isoformat())


def read_record(cfg: TenantConfig, day: date) -> PayoutRecord | None:
    """The date's record, or ``None`` when nothing was prepared for it."""
    return _STORE.read(cfg, day.isoformat())


def write_record(cfg: TenantConfig, record: PayoutRecord) -> None:
    _STORE.write(cfg, record)


def all_records(cfg: TenantConfig) -> list[PayoutRecord]:
    return _STORE.all(cfg)


def find_record(cfg: TenantConfig, run_id: str) -> PayoutRecord:
    return _STORE.find(cfg, run_id)
