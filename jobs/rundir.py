"""The run folder: the frames a run hands from step to step, as Parquet files (tasks pass paths).

``book_<table>.parquet`` holds the rows the run will append to ledger table ``<table>``; other names
are intermediate frames (``state_*``, ``new_transactions``, ``open_now`` …) and small JSON summaries.
The folder is kept after the run: it shows what the run computed, also when it failed.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

import polars as pl

from ledger.state import LedgerState
from ledger.tables import TABLES
from parsers.schema import conform


@dataclass(frozen=True, slots=True)
class RunDir:
    """Named Parquet frames and JSON documents of one run."""

    path: Path

    def file(self, name: str, suffix: str = ".parquet") -> Path:
        return self.path / f"{name}{suffix}"

    def write(self, name: str, frame: pl.DataFrame) -> Path:
        """Write a frame atomically (temp file + rename)."""
        self.path.mkdir(parents=True, exist_ok=True)
        target = self.file(name)
        tmp = target.with_name(target.name + ".tmp")
        frame.write_parquet(tmp)
        os.replace(tmp, target)
        return target

    def read(self, name: str) -> pl.DataFrame:
        return pl.read_parquet(self.file(name))

    def write_json(self, name: str, data: dict[str, Any]) -> Path:
        self.path.mkdir(parents=True, exist_ok=True)
        target = self.file(name, ".json")
        tmp = target.with_name(target.name + ".tmp")
        tmp.write_text(json.dumps(data, indent=1, default=str) + "\n", encoding="utf-8")
        os.replace(tmp, target)
        return target

    def read_json(self, name: str) -> dict[str, Any]:
        target = self.file(name, ".json")
        if not target.exists():
            return {}
        data: dict[str, Any] = json.loads(target.read_text(encoding="utf-8"))
        return data

    def write_state(self, state: LedgerState) -> None:
        state.write(self.path)

    def state(self) -> LedgerState:
        return LedgerState.read({f.name: str(self.file(f"state_{f.name}")) for f in fields(LedgerState)})

    def book(self, table: str, frame: pl.DataFrame) -> Path:
        """Stage rows for ledger ``table`` (appended by the book step)."""
        if table not in TABLES:
            raise KeyError(f"not a ledger table: {table}")
        schema = TABLES[table]
        rows = conform(frame, schema) if frame.width else pl.DataFrame(schema=schema)
        # our own frames: a broken rule stops the run (ledger/handoff.py; imported here, when a run books:
        # its schemas load dataframely and SQLAlchemy, about 0.2 s, which ``kasse`` itself need not wait for)
        from ledger import handoff

        handoff.check(table, rows)
        return self.write(f"book_{table}", rows)

    def ledger_frames(self) -> dict[str, pl.DataFrame]:
        """Every staged ``book_<table>`` frame (an empty frame for tables the run adds nothing to)."""
        out = {}
        for table, schema in TABLES.items():
            p = self.file(f"book_{table}")
            out[table] = pl.read_parquet(p) if p.exists() else pl.DataFrame(schema=schema)
        return out


def json_or_empty(path: Path) -> dict[str, Any]:
    """A JSON object file as a dict; ``{}`` when it is missing, unreadable or not an object (readers of
    another run's folder, such as the publish steps, show what they can)."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}
