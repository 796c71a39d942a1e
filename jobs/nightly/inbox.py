"""Inbox, archive and quarantine of one tenant: what is waiting, and where each file goes after the run.

Layout below the tenant folder::

    inbox/                         banks and the finance system deliver here (any sub-folders)
    archive/<booking date>/<sha256>-<safe name>      processed (and duplicate) files, under their hash
    quarantine/<safe name>  + <safe name>.reason.txt  rejected files with the reason beside them

The inbox takes regular files only. :func:`scan_inbox` follows no link: a symlink (to a file, to a
folder, dangling), a FIFO, socket or device, and a sub-folder that cannot be listed become an entry
with a reason; the run records each as a ``rejected`` files row and leaves it where it is (a link
moved would still be a link), so it is reported again every night until someone removes it.

Only entries the scan produced are ever moved, each by its own path and checked to be the same file
(device and inode) the run read; a name inside a file (a ZIP member) is data and never becomes a path.
Every source must lie in ``inbox/`` and every target in ``archive/`` or ``quarantine/``, with no link on
the way; the names we create there are made safe (:func:`parsers.names.safe_file_name`): the original
name is kept in the ``files`` row.

Moves happen only after the ledger commit. They are idempotent: when a run crashed between commit
and move, the rerun finds the file's hash in the ledger (``duplicate``) and archives it — the archive
name holds the hash, so the second copy lands on the first and nothing is booked twice.
"""

from __future__ import annotations

import os
import shutil
import stat
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from claims.vocab import FileStatus
from ledger.config import tenant_path_problem
from parsers.names import safe_file_name

#: Suffixes of open-items exports from the finance system; everything else is taken for a bank file.
OPEN_ITEM_SUFFIXES = (".csv", ".parquet")

_SPECIAL = ((stat.S_ISFIFO, "a FIFO (named pipe)"), (stat.S_ISSOCK, "a socket"),
            (stat.S_ISCHR, "a character device"), (stat.S_ISBLK, "a block device"))


class UnsafeMove(RuntimeError):
    """A planned move would leave the tenant's inbox/archive/quarantine folders (refused, nothing moved)."""


def _waiting(name: str) -> bool:
    """A file still being written or hidden (``.part``, ``.tmp``, dot files) is left for the next run."""
    return name.startswith(".") or name.endswith((".part", ".tmp", ".partial", ".reason.txt"))


@dataclass(frozen=True, slots=True)
class Entry:
    """One thing in the inbox: a regular file (``bank`` or ``open_items``) or ``other`` with its reason."""

    path: Path
    kind: str
    dev: int = 0
    ino: int = 0
    code: str = ""
    reason: str = ""


def _other(path: Path, st: os.stat_result) -> Entry:
    if stat.S_ISLNK(st.st_mode):
        try:
            what = "to a folder" if stat.S_ISDIR(os.stat(path).st_mode) else "to a file"
        except OSError:
            what = "that leads nowhere (dangling)"
        return Entry(path, "other", code="file.symlink",
                     reason=f"a symbolic link {what}: not followed, left in the inbox (only regular files are read)")
    what = next((w for test, w in _SPECIAL if test(st.st_mode)), "not a regular file")
    return Entry(path, "other", code="file.not_regular", reason=f"{what}: never read, left in the inbox")


def _scan(folder: Path, out: list[Entry]) -> None:
    try:
        with os.scandir(folder) as it:
            found = list(it)
    except OSError as exc:
        out.append(Entry(folder, "other", code="file.unreadable",
                         reason=f"a folder that cannot be read ({exc.strerror or type(exc).__name__}): left in the inbox"))
        return
    for e in found:
        if _waiting(e.name):
            continue
        path = Path(e.path)
        try:
            st = e.stat(follow_symlinks=False)
        except OSError:
            continue                        # gone since the listing
        if stat.S_ISDIR(st.st_mode):
            _scan(path, out)
        elif stat.S_ISREG(st.st_mode):
            kind = "open_items" if path.suffix.lower() in OPEN_ITEM_SUFFIXES else "bank"
            out.append(Entry(path, kind, st.st_dev, st.st_ino))
        else:
            out.append(_other(path, st))


def scan_inbox(inbox: Path) -> list[Entry]:
    """Everything waiting in ``inbox`` (recursive, sorted by path; no link followed)."""
    if not inbox.is_dir():
        return []
    out: list[Entry] = []
    _scan(inbox, out)
    return sorted(out, key=lambda e: str(e.path))


def list_inbox(inbox: Path) -> tuple[list[Path], list[Path]]:
    """Bank files and open-items exports (regular files only) waiting in ``inbox``."""
    entries = scan_inbox(inbox)
    return ([e.path for e in entries if e.kind == "bank"], [e.path for e in entries if e.kind == "open_items"])


@dataclass(frozen=True, slots=True)
class Move:
    """One planned move of an inbox file, the file identified by device and inode."""

    source: Path
    target: Path
    reason: str | None = None      # written beside a quarantined file
    dev: int = 0
    ino: int = 0

    def to_json(self) -> dict[str, Any]:
        return {"source": str(self.source), "target": str(self.target), "reason": self.reason,
                "dev": self.dev, "ino": self.ino}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Move:
        return cls(Path(data["source"]), Path(data["target"]), data["reason"], int(data["dev"]), int(data["ino"]))


def plan_move(entry: Entry, row: dict[str, Any], *, tenant_dir: Path, booking_date: date) -> Move | None:
    """Where a regular inbox file goes after the run (``row``: its files row), or None (not a file)."""
    if entry.kind == "other":
        return None
    name = safe_file_name(entry.path.name)
    if row["status"] == FileStatus.REJECTED:
        return Move(entry.path, tenant_dir / "quarantine" / name, row["reason"] or "rejected", entry.dev, entry.ino)
    sha = row["source_file"]
    return Move(entry.path, tenant_dir / "archive" / booking_date.isoformat() / f"{sha}-{name}",
                None, entry.dev, entry.ino)


def _identity_problem(m: Move) -> str | None:
    try:
        st = os.lstat(m.source)
    except FileNotFoundError:
        return "gone"                                  # moved by an earlier attempt
    if not stat.S_ISREG(st.st_mode) or (m.ino and (st.st_dev, st.st_ino) != (m.dev, m.ino)):
        return "changed"                               # not the file the run read: the next run sees it
    return None


def _free_name(target: Path) -> Path:
    n, free = 1, target
    while os.path.lexists(free) or os.path.lexists(free.with_name(free.name + ".reason.txt")):
        free = target.with_name(f"{target.stem}.{n}{target.suffix}")
        n += 1
    return free


def apply_moves(moves: list[Move], *, tenant_dir: Path) -> list[Path]:
    """Carry out the moves (idempotent); return the targets. A quarantined name is never overwritten.

    A move whose source is not in ``inbox/`` or whose target is not in ``archive/``/``quarantine/`` is
    refused: the others are done, then :class:`UnsafeMove` names the refused ones.
    """
    done, refused = [], []
    for m in moves:
        why = tenant_path_problem(m.source, tenant_dir, ("inbox",)) or \
            tenant_path_problem(m.target, tenant_dir, ("archive", "quarantine"))
        if why is not None:
            refused.append(f"{m.source} -> {m.target}: {why}")
            continue
        if _identity_problem(m) is not None:
            continue
        m.target.parent.mkdir(parents=True, exist_ok=True)
        target = m.target
        if m.reason is not None:
            target = _free_name(m.target)
            tmp = target.with_name(target.name + ".reason.txt.tmp")
            tmp.write_text(m.reason.rstrip() + "\n", encoding="utf-8", errors="backslashreplace")
            os.replace(tmp, target.with_name(target.name + ".reason.txt"))
        if m.reason is None and os.path.lexists(target):
            m.source.unlink()              # same hash, same bytes: already archived
        else:
            shutil.move(str(m.source), str(target))
        done.append(target)
    if refused:
        raise UnsafeMove("refused to move (outside the tenant's inbox/archive/quarantine): " + "; ".join(refused))
    return done
