"""Amtshilfe nightly import benchmark (issue 18 §5): a delivery of N requests through the real night — inbox
→ reader → checks → booking (requests, notices, events, claims in the night's one transaction) → feedback
files (one Answers XML per creditor) — per shape; prints figures (not a test).

    .venv/bin/python benchmarks/bench_amtshilfe_nightly.py [--requests 100000] [--repeat 3]
                                                           [--shapes xml,xml+bad,csv] [--docs]

The deliveries are those of ``benchmarks/bench_amtshilfe.py`` (``synth.amtshilfe_data.delivery``, seeded;
the same shapes: ``xml``, ``xml+bad`` with one request in 50 broken, ``csv`` Windows-1252 with the
requests a CSV can carry), written once per shape and size into ``--work``.

Each measurement is a fresh child process (``benchmarks/child.py``; its peak RSS is the figure's memory):
it makes a tenant (``[amtshilfe]`` the synth district) with a ledger, runs an empty first night (not timed),
puts the delivery into the inbox and runs the nightly steps (``jobs.nightly.STEPS``, plain, no Prefect)
for the next day, each step timed: ``ingest`` reads and checks the delivery and stages the rows, ``book``
writes them in one transaction, ``reports`` writes the night's reports and the Answers files. Per step
the median wall seconds of ``--repeat`` children; ``--docs`` writes the "Amtshilfe nightly import" section
of docs/BENCHMARKS.md.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from datetime import date
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(ROOT))

from bench_amtshilfe import SHAPES, generate  # noqa: E402
from child import replace_section, run_child  # noqa: E402

D0, D1 = date(2026, 12, 7), date(2026, 12, 8)


def tenant(root: Path) -> Path:
    """A tenant whose district is the synth delivery's, with its ledger made by an empty first night."""
    import jobs.nightly as night
    from claims.config import load_tenant_config
    from synth.amtshilfe_data import DISTRICT, OFFICE

    district = ", ".join(f'"{p}"' for p, _ in DISTRICT)
    config = root / "kasse.toml"
    config.write_text(
        f'[tenant]\nid = "bench"\n[paths]\nledger = "kasse.duckdb"\ntenant_dir = "files"\nstate_dir = "state"\n'
        f'reports = "reports"\n[enforcement]\noffice_id = "{OFFICE.authority_id}"\noffice_name = "{OFFICE.name}"\n'
        f"[amtshilfe]\ndistrict_postcodes = [{district}]\n", encoding="utf-8")
    cfg = load_tenant_config(config)
    cfg.inbox.mkdir(parents=True, exist_ok=True)
    night.run_night(cfg, D0)
    return config


def worker(work: Path) -> None:
    """One measured night (a child process); print JSON."""
    import jobs.nightly as night
    from claims.config import load_tenant_config
    from ledger.db import connect, fetch

    with tempfile.TemporaryDirectory(prefix="bench-ah-") as tmp:
        config = tenant(Path(tmp))
        cfg = load_tenant_config(config)
        name = "delivery.csv" if work.name.startswith("csv") else "delivery.xml"
        (cfg.inbox / name).write_bytes((work / "delivery").read_bytes())
        run = night.new_night(cfg, D1)
        times: dict[str, float] = {}
        for step, fn in night.STEPS:
            t = time.perf_counter()
            fn(run)
            times[step] = time.perf_counter() - t
        con = connect(cfg.ledger, read_only=True)
        try:
            outcomes = dict(fetch(con, "SELECT outcome, count(*) FROM amtshilfe_events GROUP BY ALL ORDER BY 1").rows())
            claims = fetch(con, "SELECT count(*) AS n FROM claims WHERE origin = 'amtshilfe'")["n"][0]
            rejected = fetch(con, "SELECT count(*) AS n FROM issues WHERE code = 'amtshilfe.record_rejected'")["n"][0]
        finally:
            con.close()
        answers = list((cfg.tenant_dir / "outbox" / "amtshilfe").glob("*.xml"))
        print(json.dumps({"times": times, "outcomes": outcomes, "claims": int(claims), "rejected": int(rejected),
                          "answer_files": len(answers), "answer_mb": sum(p.stat().st_size for p in answers) / 1e6}))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--requests", type=int, default=100_000)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--shapes", default=",".join(SHAPES))
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--work", type=Path, default=Path("/tmp/bench_amtshilfe"))
    ap.add_argument("--docs", action="store_true")
    ap.add_argument("--worker", nargs=2, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.worker:
        worker(Path(args.worker[1]))
        return
    results: dict[str, dict[str, Any]] = {}
    loads = [os.getloadavg()[0]]
    for shape in args.shapes.split(","):
        work = args.work / f"{shape}-{args.requests}-{args.seed}"
        counts = generate(work, shape, args.requests, args.seed)
        print(f"{shape}: {counts['messages']:,} messages, {counts['bytes'] / 1e6:.0f} MB", flush=True)
        runs = [run_child(__file__, shape, work) for _ in range(args.repeat)]
        loads.append(os.getloadavg()[0])
        steps = list(runs[0]["times"])
        med = {s: statistics.median(r["times"][s] for r in runs) for s in steps}
        total = statistics.median(sum(r["times"].values()) for r in runs)
        results[shape] = {**runs[0], **counts, "median": med, "total": total,
                          "rss_mb": statistics.median(r["rss_mb"] for r in runs)}
        r = results[shape]
        print(f"  {r['claims']:,} claims, {r['rejected']:,} records rejected, {r['answer_files']} answer files "
              f"({r['answer_mb']:.0f} MB), peak RSS {r['rss_mb']:.0f} MB; {r['outcomes']}")
        print("  " + ", ".join(f"{s} {med[s]:.2f} s" for s in steps) + f"; night {total:.2f} s", flush=True)
    table = _table(results)
    print(table)
    if args.docs:
        section = (
            "## Amtshilfe nightly import\n\n"
            f"`.venv/bin/python benchmarks/bench_amtshilfe_nightly.py --requests {args.requests} "
            f"--repeat {args.repeat}` ({date.today():%Y-%m-%d}, 2 vCPU shared, load average "
            f"{min(loads):.1f}–{max(loads):.1f}): the delivery of `benchmarks/bench_amtshilfe.py` through the real "
            "night of a tenant with an empty ledger — inbox, reader, checks, booking of requests, notices, events "
            "and claims, the night's reports and one Answers XML per creditor. Medians of "
            f"{args.repeat} fresh child processes; peak RSS is the child's (the median of the runs).\n\n"
            + table + "\n")
        replace_section(ROOT / "docs" / "BENCHMARKS.md", "Amtshilfe nightly import", section)


def _table(results: dict[str, dict[str, Any]]) -> str:
    names = list(results)
    steps = list(next(iter(results.values()))["median"]) if results else []
    lines = ["| step (wall s, median) | " + " | ".join(names) + " |", "|---|" + "---:|" * len(names),
             "| messages → claims booked (records rejected) | " + " | ".join(
                 f"{r['messages']:,} → {r['claims']:,} ({r['rejected']:,})" for r in results.values()) + " |"]
    for s in steps:
        lines.append(f"| {s} | " + " | ".join(f"{r['median'][s]:.2f}" for r in results.values()) + " |")
    lines.append("| **night** | " + " | ".join(f"**{r['total']:.2f}**" for r in results.values()) + " |")
    lines.append("| µs per message | " + " | ".join(
        f"{r['total'] / max(r['messages'], 1) * 1e6:.0f}" for r in results.values()) + " |")
    lines.append("| file MB / answers MB / peak RSS MB | " + " | ".join(
        f"{r['bytes'] / 1e6:.0f} / {r['answer_mb']:.0f} / {r['rss_mb']:.0f}" for r in results.values()) + " |")
    return "\n".join(lines)


if __name__ == "__main__":
    main()
