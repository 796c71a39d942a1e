"""Two checkouts of Stadtkasse side by side in one sitting: the whole-process figures a change must not
make worse (docs/BENCHMARKS.md, "Before and after").

    .venv/bin/python benchmarks/bench_ab.py --before ../wt-base --after . [--rounds 3] [--only match,nightly]

``--before`` and ``--after`` are two checkouts (``git worktree add ../wt-base <commit>``); both run with this
interpreter, each with its own folder on ``PYTHONPATH``. The rounds alternate (before, after; then after,
before) so that a machine that gets slower or faster during the sitting weighs on both alike. Every side
reads the same input files, generated once by the *after* checkout's generators into ``--work``:

* ``match``    ``kasse match`` end to end (100 k bank entries, 500 k open items, one MT940 file) and the
               matching core inside it (``summary.json``'s ``seconds.match``);
* ``nightly``  the plain steps of four tenants' night (200 k open items, 10 k payments), per step, and the
               whole process; the heavy modules are imported before the steps are timed, so that a step's
               figure does not depend on where an import happens to fall (the process figure has them);
* ``parse``    ``parse_paths`` of one MT940 and one camt.053 file of 200 k entries (whole process);
* ``core``     ``match()`` alone at 1 M bank entries × 5 M open items (``bench_match.py --child core`` of each
               checkout on the after checkout's parsed data; not in the default set: the data take
               several minutes to make and 3 GB to hold; the answers of both sides are compared too).

Each figure is given as wall seconds and as the CPU seconds of the child process (user + system, from
``os.wait4``): on a machine other work is using, CPU seconds move much less than wall seconds.
Medians; the last column is after / before.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

#: The step names of both layouts (session 6 renamed the nightly run's report keys).
STEP = {"files": "ingest", "booked": "book", "published": "publish", "archived": "archive"}

NIGHT = r"""
import importlib, json, sys, time
from pathlib import Path
code, root = sys.argv[1], sys.argv[2]
sys.path[:0] = [code, code + "/benchmarks"]
import bench_nightly as b
try:
    from claims.config import load_tenant_config
except ImportError:  # before session 6
    from ledger.config import load_tenant_config
from ledger.db import hold
for m in ("jobs.nightly.steps", "ledger.night", "outputs.report", "outputs.report_pdf", "claims.frames", "ledger.handoff"):
    try:
        importlib.import_module(m)
    except ImportError:
        pass
configs = sorted(Path(root, "tenants").glob("*/kasse.toml"))
t0 = time.perf_counter()
with hold(load_tenant_config(configs[0]).ledger):
    steps = b.run_plain(configs)
print(json.dumps({"steps": {k: v[0] for k, v in steps.items()}, "total": time.perf_counter() - t0}))
"""

PARSE = ("import sys; from parsers import parse_paths; "
         "r = parse_paths([sys.argv[1]], max_bytes=512 << 20); print(r.transactions.height)")


def _cpu_of_children() -> float:
    r = os.times()
    return r.children_user + r.children_system


def timed(code: Path, args: list[str]) -> tuple[float, float, str]:
    """Run ``python args`` with ``code`` on the path; (wall s, CPU s of the child, its stdout). The CPU
    seconds are the difference of this process's waited-for children's times (one child at a time)."""
    env = {**os.environ, "PYTHONPATH": str(code), "DO_NOT_TRACK": "1", "PREFECT_SERVER_ANALYTICS_ENABLED": "false"}
    cpu0, t = _cpu_of_children(), time.perf_counter()
    proc = subprocess.run([sys.executable, *args], cwd=code, env=env, capture_output=True, text=True)
    wall, cpu = time.perf_counter() - t, _cpu_of_children() - cpu0
    if proc.returncode not in (0, 1):
        raise SystemExit(f"{code}: {' '.join(args[:4])} failed ({proc.returncode}):\n{proc.stderr[-3000:]}")
    return wall, cpu, proc.stdout


def prepare(after: Path, work: Path, only: list[str]) -> None:
    """The inputs, generated once by the after checkout (kept in ``work`` for later sittings)."""
    env = {**os.environ, "PYTHONPATH": str(after), "DO_NOT_TRACK": "1"}
    gen = [
        ("match/items.parquet", f"import sys; sys.path[:0] = ['{after}/benchmarks']; from bench_match import prepare; "
                                f"from pathlib import Path; prepare(Path('{work}/match'), 100_000, 500_000)"),
        ("nightly/tenants", f"import sys; sys.path[:0] = ['{after}/benchmarks']; from bench_nightly import prepare; "
                            f"from pathlib import Path; prepare(Path('{work}/nightly'), 4, 200_000, 10_000)"),
        ("parse/mt940.sta", f"from synth import write_mt940_file; write_mt940_file('{work}/parse/mt940.sta', 200_000, seed=1)"),
        ("parse/camt.xml", f"from synth import write_camt053_file; write_camt053_file('{work}/parse/camt.xml', 200_000, seed=1)"),
    ]
    if "core" in only:
        gen.append(("core/tx.parquet", f"import sys, subprocess; sys.path[:0] = ['{after}/benchmarks']; "
                                       f"from bench_match import prepare; from pathlib import Path; "
                                       f"prepare(Path('{work}/core'), 1_000_000, 5_000_000); subprocess.run([sys.executable, "
                                       f"'{after}/benchmarks/bench_match.py', '--child', 'parse', '--work', '{work}/core'], "
                                       f"check=True, cwd='{after}')"))
    for target, code in gen:
        if target.split("/")[0] not in only:
            continue
        if not (work / target).exists():
            (work / target).parent.mkdir(parents=True, exist_ok=True)
            subprocess.run([sys.executable, "-c", code], cwd=after, env=env, check=True, stdout=subprocess.DEVNULL)


def measures(work: Path) -> dict[str, Callable[[Path, str], dict[str, tuple[float, float]]]]:
    """Group name -> function(code, side) giving {measure: (wall, cpu)}."""

    def match(code: Path, side: str) -> dict[str, tuple[float, float]]:
        out = work / f"match-out-{side}"
        wall, cpu, _ = timed(code, ["-m", "flows.cli", "match", "--tenant", "default", "--receivables",
                                    str(work / "match/items.parquet"), "--statements", str(work / "match/bank.sta"),
                                    "--out", str(out)])
        core = json.loads((out / "summary.json").read_text())["seconds"]["match"]
        return {"kasse match e2e (100k entries, 500k items)": (wall, cpu), "  matching core (seconds.match)": (core, float("nan"))}

    def nightly(code: Path, side: str) -> dict[str, tuple[float, float]]:
        root = work / f"nightly-{side}"
        shutil.rmtree(root, ignore_errors=True)
        shutil.copytree(work / "nightly/tenants", root / "tenants")
        wall, cpu, out = timed(code, ["-c", NIGHT, str(code), str(root)])
        got = json.loads(out.strip().splitlines()[-1])
        res = {"nightly, 4 tenants, whole process": (wall, cpu), "nightly, plain steps": (got["total"], float("nan"))}
        for k, v in got["steps"].items():
            res[f"  step {STEP.get(k, k)}"] = (v, float("nan"))
        return res

    def parse(code: Path, side: str) -> dict[str, tuple[float, float]]:
        return {f"parse_paths {name}, 200k entries": timed(code, ["-c", PARSE, str(work / "parse" / file)])[:2]
                for name, file in (("MT940", "mt940.sta"), ("camt.053", "camt.xml"))}

    def core(code: Path, side: str) -> dict[str, tuple[float, float]]:
        wall, cpu, out = timed(code, [str(code / "benchmarks/bench_match.py"), "--child", "core", "--work", str(work / "core")])
        got = json.loads(out.strip().splitlines()[-1])
        for name in ("core_alloc", "core_unres"):  # each side's answers, kept for the comparison at the end
            shutil.copy(work / "core" / f"{name}.parquet", work / "core" / f"{name}.{side}.parquet")
        return {"match() 1M entries x 5M items": (got["seconds"], float("nan")),
                "  its process (read the inputs, match, write)": (wall, cpu)}

    return {"match": match, "nightly": nightly, "parse": parse, "core": core}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--before", type=Path, required=True)
    ap.add_argument("--after", type=Path, default=Path(__file__).resolve().parents[1])
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--only", default="match,nightly,parse")
    ap.add_argument("--work", type=Path, default=Path("/tmp/stadtkasse-ab"))
    args = ap.parse_args()
    sides = {"before": args.before.resolve(), "after": args.after.resolve()}
    only = args.only.split(",")
    prepare(sides["after"], args.work, only)
    groups = {k: v for k, v in measures(args.work).items() if k in only}
    got: dict[str, dict[str, list[tuple[float, float]]]] = {s: {} for s in sides}
    for rnd in range(args.rounds):
        for side in (("before", "after") if rnd % 2 == 0 else ("after", "before")):
            for fn in groups.values():
                for k, v in fn(sides[side], side).items():
                    got[side].setdefault(k, []).append(v)
        print(f"round {rnd + 1} of {args.rounds} done", file=sys.stderr, flush=True)

    def med(xs: list[tuple[float, float]], i: int) -> float:
        return statistics.median(x[i] for x in xs)

    print(f"| measure (medians of {args.rounds}) | before wall | after wall | after / before | before CPU | after CPU "
          "| after / before |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for k, b in got["before"].items():
        a = got["after"].get(k)
        if not a:
            continue
        cells = [f"{med(b, 0):.2f} s", f"{med(a, 0):.2f} s", f"{med(a, 0) / med(b, 0):.2f}"]
        bc, ac = med(b, 1), med(a, 1)
        cells += ["", "", ""] if bc != bc else [f"{bc:.2f} s", f"{ac:.2f} s", f"{ac / bc:.2f}"]
        print(f"| {k} | " + " | ".join(cells) + " |")
    if "core" in only and args.rounds:
        import polars as pl

        same = all(pl.read_parquet(args.work / "core" / f"{n}.before.parquet").equals(
            pl.read_parquet(args.work / "core" / f"{n}.after.parquet")) for n in ("core_alloc", "core_unres"))
        print(f"\nmatch() answers at 1M x 5M: {'identical' if same else 'DIFFERENT'} before and after")
    return 0


if __name__ == "__main__":
    sys.exit(main())
