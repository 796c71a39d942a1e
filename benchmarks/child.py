"""Run one benchmark contender in a fresh child process and read its figures.

The child prints one JSON object on stdout; the parent adds the child's peak RSS (``ru_maxrss`` from
``os.wait4``, Linux kilobytes) and, unless the child measured it itself, its CPU seconds (user +
system of the whole child: interpreter start, imports, work).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any


def run_child(script: str, name: str, path: Path) -> dict[str, Any]:
    """``python script --worker name path`` in a subprocess; its JSON plus ``rss_mb`` and ``cpu``."""
    proc = subprocess.Popen([sys.executable, script, "--worker", name, str(path)], stdout=subprocess.PIPE)
    assert proc.stdout is not None
    out = proc.stdout.read()
    _pid, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        raise SystemExit(f"{name} failed with exit code {proc.returncode}")
    result: dict[str, Any] = json.loads(out)
    result["rss_mb"] = usage.ru_maxrss / 1024
    result.setdefault("cpu", usage.ru_utime + usage.ru_stime)
    return result


def replace_section(docs: Path, heading: str, section: str) -> None:
    """Put ``section`` in place of the ``## heading`` section of ``docs`` (appended when it has none)."""
    import re

    text = docs.read_text(encoding="utf-8") if docs.exists() else "# Benchmarks\n"
    pattern = re.compile(rf"^## {re.escape(heading)}\n.*?(?=^## |\Z)", re.S | re.M)
    section = section.rstrip("\n") + "\n\n"
    text = pattern.sub(lambda _m: section, text) if pattern.search(text) else text.rstrip("\n") + "\n\n" + section
    docs.parent.mkdir(exist_ok=True)
    docs.write_text(text, encoding="utf-8")


def timed(times: dict[str, float], step: str, fn: Callable[[], Any]) -> Any:
    """``fn()``, its wall seconds put into ``times[step]`` (the steps a benchmark's child reports)."""
    t = time.perf_counter()
    out = fn()
    times[step] = time.perf_counter() - t
    return out
