"""Parse throughput per file shape (issue 20), side by side with a naive reader, in one sitting.

    .venv/bin/python benchmarks/bench_shapes.py [--entries 130000] [--reps 3] [--only camt|mt940] [--docs]

camt: one file per serialisation of :data:`synth.camt_render.SHAPES` (the same bookings each time),
read by ``parse_camt`` and by a naive lxml walk (``iterparse`` over ``Ntry``, amount, booking date,
bank reference and remittance pulled into lists). MT940: one file per :data:`synth.mt940_render.SHAPES`,
read by ``parse_mt940`` and by PyPI's small ``mt940`` reader. That reader has the import name of
WoLpH's ``mt-940`` (a dependency of ours), so it is never installed in the project's venv: give a
separate interpreter that has it with ``--mt940-python`` (default ``/tmp/venv-mt940/bin/python``; made
with ``python -m venv /tmp/venv-mt940 && /tmp/venv-mt940/bin/pip install mt940==0.8.1``); without it
that column is left out.

Every figure is a whole process (interpreter start and imports included, as a user sees it): wall
seconds around the child, CPU seconds and peak RSS from ``os.wait4``. Repetitions alternate our
reader and the other one per shape, so both see the same load; the ratio column is the median of the
per-repetition ratios (pairs measured back to back), which a loaded machine disturbs least.
``--docs`` writes the table into the section "Issue 20: latest bench_shapes run" of docs/BENCHMARKS.md
(the analysis in "Issue 20: throughput per shape" stays).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
MT940_PYTHON = Path("/tmp/venv-mt940/bin/python")


# --- contenders (each runs in its own child process) ----------------------------------------------

def run_ours_camt(path: Path) -> dict[str, Any]:
    sys.path.insert(0, str(ROOT))
    from parsers.camt import parse_camt

    result = parse_camt(path, sha256="bench")
    assert not result.has_errors, result.issues[:3]
    declined = [i.message for i in result.issues if i.code == "camt.element_path"]
    return {"entries": int(result.statements["n_entries"].sum()), "fast": not declined,
            "why": declined[0] if declined else ""}


def run_naive_camt(path: Path) -> dict[str, Any]:
    """The walk a newcomer writes: iterparse over Ntry, four fields into lists, the tree pruned."""
    from lxml import etree

    amounts: list[str | None] = []
    dates: list[str | None] = []
    refs: list[str | None] = []
    texts: list[str] = []
    for _, ntry in etree.iterparse(str(path), events=("end",), tag="{*}Ntry"):
        ns = ntry.tag[: ntry.tag.index("}") + 1] if ntry.tag.startswith("{") else ""
        amounts.append(ntry.findtext(f"{ns}Amt"))
        dates.append(ntry.findtext(f"{ns}BookgDt/{ns}Dt"))
        refs.append(ntry.findtext(f"{ns}AcctSvcrRef"))
        texts.append(" ".join(u.text or "" for u in ntry.iter(f"{ns}Ustrd")))
        ntry.clear()
        while ntry.getprevious() is not None:
            del ntry.getparent()[0]
    return {"entries": len(amounts)}


def run_ours_mt940(path: Path) -> dict[str, Any]:
    sys.path.insert(0, str(ROOT))
    from parsers.mt940 import parse_mt940

    result = parse_mt940(path, sha256="bench")
    assert not result.has_errors, result.issues[:3]
    return {"entries": result.transactions.height}


def run_pypi_mt940(path: Path) -> dict[str, Any]:
    import mt940  # PyPI "mt940" (not WoLpH's "mt-940"): only in the separate interpreter

    parsed = mt940.MT940(str(path), encoding="latin-1")
    return {"entries": sum(len(s.transactions) for s in parsed.statements)}


CONTENDERS = {"ours_camt": run_ours_camt, "naive_camt": run_naive_camt, "ours_mt940": run_ours_mt940,
              "pypi_mt940": run_pypi_mt940}


def measure(python: Path | str, name: str, path: Path) -> dict[str, Any]:
    """One contender in a fresh process: its own figures plus whole-process wall, CPU and peak RSS."""
    start = time.perf_counter()
    proc = subprocess.Popen([str(python), __file__, "--worker", name, str(path)], stdout=subprocess.PIPE)
    assert proc.stdout is not None
    out = proc.stdout.read()
    _pid, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"{name} failed on {path.name}")
    result: dict[str, Any] = json.loads(out)
    result.update(wall=wall, cpu=usage.ru_utime + usage.ru_stime, rss_mb=usage.ru_maxrss / 1024)
    return result


# --- the sitting ------------------------------------------------------------------------------------

def _files(folder: Path, entries: int, only: str | None) -> list[tuple[str, str, Path]]:
    sys.path.insert(0, str(ROOT))
    from synth import camt_render, mt940_render
    from synth.bench import write_camt053_file, write_mt940_file

    files: list[tuple[str, str, Path]] = []
    if only in (None, "camt"):
        for shape in camt_render.SHAPES:
            path = folder / f"camt_{shape}.xml"
            write_camt053_file(path, entries, shape=shape)
            files.append(("camt", shape, path))
    if only in (None, "mt940"):
        for shape in mt940_render.SHAPES:
            path = folder / f"mt940_{shape}.sta"
            write_mt940_file(path, entries, shape=shape)
            files.append(("mt940", shape, path))
    return files


def _row(fmt: str, shape: str, size: int, ours: list[dict[str, Any]], other: list[dict[str, Any]]) -> str:
    n = ours[0]["entries"]
    wall = statistics.median(r["wall"] for r in ours)
    cpu = statistics.median(r["cpu"] for r in ours)
    rss = max(r["rss_mb"] for r in ours)
    path = "" if fmt == "mt940" else ("fast" if all(r.get("fast") for r in ours) else "element: " + ours[0]["why"])
    if other:
        o_wall = statistics.median(r["wall"] for r in other)
        o_cpu = statistics.median(r["cpu"] for r in other)
        ratio = statistics.median(a["wall"] / b["wall"] for a, b in zip(ours, other, strict=False))
        cpu_ratio = statistics.median(a["cpu"] / b["cpu"] for a, b in zip(ours, other, strict=False))
        vs = f"{o_wall:.2f} | {o_cpu:.2f} | {n / o_wall:,.0f} | **{ratio:.2f}×** | {cpu_ratio:.2f}×"
    else:
        vs = "– | – | – | – | –"
    return (f"| {fmt} | {shape} | {size / 1e6:.0f} | {n:,} | {wall:.2f} | {cpu:.2f} | **{n / wall:,.0f}** | "
            f"{rss:,.0f} | {path} | {vs} |")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--entries", type=int, default=130_000)
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--only", choices=["camt", "mt940"])
    ap.add_argument("--mt940-python", type=Path, default=MT940_PYTHON)
    ap.add_argument("--docs", action="store_true", help="write the table into docs/BENCHMARKS.md")
    ap.add_argument("--worker", nargs=2, metavar=("NAME", "PATH"))
    args = ap.parse_args()
    if args.worker:
        start = time.perf_counter()
        out = CONTENDERS[args.worker[0]](Path(args.worker[1]))
        print(json.dumps({**out, "inner": time.perf_counter() - start}))
        return
    pypi = args.mt940_python if args.mt940_python.exists() else None
    load_before = os.getloadavg()[0]
    lines = []
    with tempfile.TemporaryDirectory() as tmp:
        files = _files(Path(tmp), args.entries, args.only)
        runs: dict[tuple[str, str], dict[str, list[dict[str, Any]]]] = {}
        for _rep in range(args.reps):
            for fmt, shape, path in files:
                pair = [("ours", sys.executable, f"ours_{fmt}")]
                if fmt == "camt":
                    pair.append(("other", sys.executable, "naive_camt"))
                elif pypi is not None:
                    pair.append(("other", pypi, "pypi_mt940"))
                for role, python, name in pair:
                    r = measure(python, name, path)
                    runs.setdefault((fmt, shape), {}).setdefault(role, []).append(r)
                    print(f"  {fmt} {shape} {name}: {r['wall']:.2f} s wall, {r['cpu']:.2f} s CPU", file=sys.stderr)
        for fmt, shape, path in files:
            got = runs[fmt, shape]
            lines.append(_row(fmt, shape, path.stat().st_size, got["ours"], got.get("other", [])))
    load = os.getloadavg()[0]
    head = (f"{args.entries:,} entries per file; whole processes, medians of {args.reps} runs, ours and the other "
            f"reader alternating; {os.cpu_count()} CPUs; load average {load_before:.1f} before, {load:.1f} after. "
            "Other reader: camt a naive lxml walk, MT940 PyPI's `mt940` 0.8.1"
            + ("" if pypi else " (not measured: no interpreter with it)") + ".\n\n"
            "| format | shape | MB | entries | wall s | CPU s | entries/s | peak RSS MB | path | other wall s "
            "| other CPU s | other entries/s | ours ÷ other (wall) | ours ÷ other (CPU) |\n"
            "|---|---|---:|---:|---:|---:|---:|---:|---|---:|---:|---:|---:|---:|")
    table = head + "\n" + "\n".join(lines)
    print(table)
    if args.docs:
        sys.path.insert(0, str(Path(__file__).resolve().parent))
        from child import replace_section

        section = "## Issue 20: latest bench_shapes run\n\n" + (
            "`benchmarks/bench_shapes.py` (see its docstring). Goals on 2 cores: camt ≥ 100,000 entries/s and "
            "≤ 0.3× the naive walk; MT940 ≥ 300,000 entries/s and ≤ 0.25× PyPI `mt940`.\n\n") + table + "\n"
        replace_section(ROOT / "docs" / "BENCHMARKS.md", "Issue 20: latest bench_shapes run", section)


if __name__ == "__main__":
    main()
