"""Inbox, archive and quarantine of one tenant: what is waiting, and where each file goes after the run.

Layout below the tenant folder::

    inbox/                         banks and the finance system deliver here (any sub-folders)
    archive/<booking date>/<sha256>-<name>     processed (and duplicate) files, under their hash
    quarantine/<name>  + <name>.reason.txt     rejected files with the reason beside them

Moves happen only after the ledger commit. They are idempotent: when a run crashed between commit
and move, the rerun finds the file's hash in the ledger (``duplicate``) and archives it — the archive
name holds the hash, so the second copy lands on the first and nothing is booked twice.
"""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import polars as pl

#: Suffixes of open-items exports from the finance system; everything else is taken for a bank file.
OPEN_ITEM_SUFFIXES = (".csv", ".parquet")


def _waiting(path: Path) -> bool:
    """A file still being written or hidden (``.part``, ``.tmp``, dot files) is left for the next run."""
    name = path.name
    return name.startswith(".") or name.endswith((".part", ".tmp", ".partial", ".reason.txt"))


def list_inbox(inbox: Path) -> tuple[list[Path], list[Path]]:
    """Bank files and open-items exports waiting in ``inbox`` (recursive, sorted by path)."""
    if not inbox.is_dir():
        return [], []
    files = sorted(p for p in inbox.rglob("*") if p.is_file() and not _waiting(p))
    exports = [p for p in files if p.suffix.lower() in OPEN_ITEM_SUFFIXES]
    banks = [p for p in files if p.suffix.lower() not in OPEN_ITEM_SUFFIXES]
    return banks, exports


@dataclass(frozen=True, slots=True)
class Move:
    """One planned move of an inbox file (relative target below the tenant folder)."""

    source: Path
    target: Path
    reason: str | None = None      # written beside a quarantined file


def plan_moves(files: pl.DataFrame, *, tenant_dir: Path, booking_date: date) -> list[Move]:
    """Where each file of the run's ``files`` frame goes: archive (ok, duplicate) or quarantine."""
    moves = []
    day = booking_date.isoformat()
    for row in files.select("source_path", "source_file", "status", "reason").iter_rows(named=True):
        src = Path(row["source_path"])
        if row["status"] == "rejected":
            moves.append(Move(src, tenant_dir / "quarantine" / src.name, row["reason"] or "rejected"))
        else:
            moves.append(Move(src, tenant_dir / "archive" / day / f"{row['source_file']}-{src.name}"))
    return moves


def archived_as(files: pl.DataFrame, *, tenant_dir: Path, booking_date: date) -> pl.DataFrame:
    """``files`` with the column ``archived_as``: the target path relative to the tenant folder."""
    targets = [str(m.target.relative_to(tenant_dir))
               for m in plan_moves(files, tenant_dir=tenant_dir, booking_date=booking_date)]
    return files.with_columns(pl.Series("archived_as", targets, dtype=pl.String()))


def apply_moves(moves: list[Move]) -> list[Path]:
    """Carry out the moves (idempotent); return the targets. A quarantined name is never overwritten."""
    done = []
    for m in moves:
        if not m.source.exists():
            continue                       # moved by an earlier attempt
        m.target.parent.mkdir(parents=True, exist_ok=True)
        target = m.target
        if m.reason is not None:
            n = 1
            while target.exists():
                target = m.target.with_name(f"{m.target.stem}.{n}{m.target.suffix}")
                n += 1
            tmp = target.with_name(target.name + ".reason.txt.tmp")
            tmp.write_text(m.reason.rstrip() + "\n", encoding="utf-8")
            os.replace(tmp, target.with_name(target.name + ".reason.txt"))
        if m.reason is None and target.exists():
            m.source.unlink()              # same hash, same bytes: already archived
        else:
            shutil.move(str(m.source), str(target))
        done.append(target)
    return done
