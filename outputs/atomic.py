"""Plan, then act: every report file is computed in memory first, then written atomically with a manifest.

:func:`write_all` writes all planned files into a staging folder inside ``out_dir`` (same file system),
fsyncs them, then renames each into place (``os.replace`` is atomic per file) and writes
``manifest.json`` last. A failure while planning or staging leaves ``out_dir`` exactly as it was (the
staging folder is removed); readers trust a report file only when its SHA-256 matches the manifest.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import tempfile
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

MANIFEST = "manifest.json"

#: The one mode of every file Stadtkasse writes for people or other systems (reports, Klärungsliste, letters,
#: bank files, ``kasse match``/``parse`` results): they hold personal data (names, IBANs, amounts owed), so
#: the owner reads and writes, the owner's group (the treasury's staff) reads, nobody else (docs/OPERATIONS.md).
OUTPUT_MODE = 0o640


@dataclass(frozen=True)
class PlannedFile:
    """One report file, fully rendered, with what the manifest says about it."""

    name: str                                       # file name inside out_dir (no folders)
    data: bytes
    rows: int | None = None                         # data rows (None for documents such as PDF)
    sums: Mapping[str, int] = field(default_factory=dict)  # money column -> sum of cents

    def sha256(self) -> str:
        return hashlib.sha256(self.data).hexdigest()


def write_file_atomically(target: Path, write: Callable[[Path], object]) -> None:
    """Let ``write`` fill a temporary file beside ``target``, then rename it into place.

    A failure leaves ``target`` as it was (old content or absent) and no temporary file behind.

    >>> import tempfile; d = Path(tempfile.mkdtemp())
    >>> write_file_atomically(d / "a.txt", lambda p: p.write_text("ok", encoding="utf-8"))
    >>> (d / "a.txt").read_text(encoding="utf-8")
    'ok'
    """
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    os.close(fd)
    try:
        write(Path(tmp))
        os.chmod(tmp, OUTPUT_MODE)
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _fsync_write(path: Path, data: bytes) -> None:
    with open(path, "wb") as fh:
        os.fchmod(fh.fileno(), OUTPUT_MODE)     # set, not left to the umask: one mode for every output
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())


def manifest_bytes(files: Sequence[PlannedFile], meta: Mapping[str, Any]) -> bytes:
    """The manifest: ``meta`` plus one entry per file (file, bytes, rows, sums, sha256), stable order."""
    entries = [
        {"file": f.name, "bytes": len(f.data), "rows": f.rows, "sums": dict(sorted(f.sums.items())),
         "sha256": f.sha256()}
        for f in sorted(files, key=lambda f: f.name)
    ]
    doc = {**meta, "files": entries}
    return (json.dumps(doc, ensure_ascii=False, indent=2, sort_keys=False) + "\n").encode("utf-8")


def write_all(out_dir: Path, files: Sequence[PlannedFile], meta: Mapping[str, Any]) -> dict[str, Path]:
    """Write ``files`` and ``manifest.json`` into ``out_dir`` atomically; return name -> final path.

    Every file is staged in a hidden folder first and renamed into place only when all are written: a
    failure while staging (a full disk) leaves ``out_dir`` as it was.
    """
    names = [f.name for f in files]
    if len(set(names)) != len(names) or MANIFEST in names or any("/" in n or n.startswith(".") for n in names):
        raise ValueError(f"write_all: bad or duplicate file names {names}")
    out_dir.mkdir(parents=True, exist_ok=True)
    stage = Path(tempfile.mkdtemp(prefix=".staging-", dir=out_dir))
    try:
        for f in files:
            _fsync_write(stage / f.name, f.data)
        _fsync_write(stage / MANIFEST, manifest_bytes(files, meta))
        for f in files:
            os.replace(stage / f.name, out_dir / f.name)
        os.replace(stage / MANIFEST, out_dir / MANIFEST)
        with contextlib.suppress(OSError):  # make the renames durable where the OS allows it
            dfd = os.open(out_dir, os.O_RDONLY)
            try:
                os.fsync(dfd)
            finally:
                os.close(dfd)
    finally:
        shutil.rmtree(stage, ignore_errors=True)
    return {f.name: out_dir / f.name for f in files} | {MANIFEST: out_dir / MANIFEST}


def verify(out_dir: Path) -> list[str]:
    """Check every file listed in ``out_dir/manifest.json``; return the problems (empty when all match)."""
    doc = json.loads((out_dir / MANIFEST).read_text(encoding="utf-8"))
    problems = []
    for entry in doc["files"]:
        path = out_dir / entry["file"]
        if not path.is_file():
            problems.append(f"{entry['file']}: missing")
        elif hashlib.sha256(path.read_bytes()).hexdigest() != entry["sha256"]:
            problems.append(f"{entry['file']}: sha256 differs from the manifest")
    return problems
