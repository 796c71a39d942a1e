"""Handing released bank files to the outbox (the collection and payout jobs, after their booking).

Each booked file is copied under a temp name, flushed and renamed, and checked against the SHA-256 the
booking recorded; the run's manifest (per file: SHA-256, count, control sum; the totals) is written last,
so whoever picks the files up (the bank connection, EBICS client) sees all of them or none. A call after a
crash overwrites what the crashed attempt left with the same bytes. The outbox must be a plain folder
inside the tenant folder (no link out of it): otherwise nothing is written and the caller's refusal
names the folder.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ledger.config import TenantConfig, tenant_path_problem
from outputs.atomic import OUTPUT_MODE


def sha256_of(path: Path) -> str:
    """The file's SHA-256 (hex), read in blocks."""
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def atomic_copy(source: Path, target: Path) -> None:
    """Copy ``source`` to ``target`` through a temp file in the target folder, synced, then renamed."""
    tmp = target.with_name(f".{target.name}.tmp")
    with source.open("rb") as src, tmp.open("wb") as dst:
        os.fchmod(dst.fileno(), OUTPUT_MODE)         # the bank file holds IBANs: outputs.atomic's one mode
        for block in iter(lambda: src.read(1 << 20), b""):
            dst.write(block)
        dst.flush()
        os.fsync(dst.fileno())
    os.replace(tmp, target)


def deliver(cfg: TenantConfig, out: Path, source_dir: Path, files: list[dict[str, Any]], manifest: dict[str, Any],
            manifest_name: str, refused: Callable[[str], Exception]) -> dict[str, str]:
    """Copy each of ``files`` (dicts with ``file_name`` and ``sha256``) from ``source_dir`` into ``out``, then
    write ``manifest`` as ``manifest_name``; the paths written (``manifest`` last). ``refused(message)``
    makes the caller's refusal (an outbox outside the tenant folder, a copy that differs)."""
    problem = tenant_path_problem(out, cfg.tenant_dir, link_ok=False)
    if problem:
        raise refused(f"outbox {out}: {problem}; the released files are written only into a plain folder "
                      "of the tenant (the booking stands; fix the folder and run again)")
    out.mkdir(parents=True, exist_ok=True)
    paths: dict[str, str] = {}
    for d in files:
        target = out / d["file_name"]
        atomic_copy(source_dir / d["file_name"], target)
        if sha256_of(target) != d["sha256"]:
            raise refused(f"{target}: the copy in the outbox differs from the booked file")
        paths[d["file_name"]] = str(target)
    target = out / manifest_name
    tmp = target.with_name(f".{target.name}.tmp")
    tmp.write_text(json.dumps(manifest, indent=1) + "\n", encoding="utf-8")
    os.chmod(tmp, OUTPUT_MODE)
    os.replace(tmp, target)
    paths["manifest"] = str(target)
    return paths
