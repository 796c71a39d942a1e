"""What Prefect costs per tenant job: one small tenant's night as plain steps and as a flow run.

Generates one tenant (``--items`` open items, ``--payments`` payments; default 5,000 / 250) and copies it
three times; then, in one process, runs the night

* as the plain steps (``jobs.nightly.run_night``),
* as the flow run ``kasse deploy`` schedules (``flows.nightly.nightly``: tasks for reading, ingest, the
  booking, what goes out after it and the archive; the computations plain calls inside),
* as a flow run with every step its own task (how the nightly flow was built before issue 21),

each on its own copy, ``--rounds`` times interleaved (the fastest of each kind counts), after a warm-up
flow run (the ephemeral API's start is no tenant's cost). Prints wall seconds of each kind and the flow
runs' overhead over the plain steps.

    .venv/bin/python benchmarks/bench_flow_overhead.py [--items 5000] [--payments 250] [--rounds 2]
                                                [--dir /tmp/kasse-overhead]
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import time
from datetime import date
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

DAY = date(2026, 1, 2)   # synth.scale's booking day


def prepare(root: Path, items: int, payments: int, copies: list[str]) -> dict[str, Path]:
    """One synthetic delivery in the inbox of each tenant in ``copies``; tenant -> config path."""
    from synth import generate_scale

    shutil.rmtree(root, ignore_errors=True)
    g = generate_scale(root / "generated", n_items=items, n_payments=payments, seed=7, tenant="bench")
    out = {}
    for name in copies:
        inbox = root / name / "inbox"
        inbox.mkdir(parents=True)
        shutil.copy2(g.open_items, inbox / g.open_items.name)
        for p in g.statements:
            shutil.copy2(p, inbox / f"{p.parent.name}_{p.name}")
        config = root / f"{name}.toml"
        config.write_text(f'[tenant]\nid = "{name}"\n', encoding="utf-8")
        out[name] = config
    return out


def every_step_a_task() -> Any:
    """The nightly as it was before issue 21: one Prefect task per plain step (the same artifacts)."""
    from prefect import flow, task
    from prefect.cache_policies import NO_CACHE

    from claims.config import load_tenant_config
    from flows.nightly import _artifacts
    from jobs.nightly import steps
    from jobs.runner import tenant_lock

    tasks = {name: task(name=f"bench-{name}", cache_policy=NO_CACHE)(fn) for name, fn in steps.STEPS}

    @flow(name="bench-every-step-a-task")
    def night(config: str) -> None:
        cfg = load_tenant_config(Path(config))
        run = steps.new_night(cfg, DAY, mode="prefect")
        with tenant_lock(cfg):
            results: dict[str, Any] = {name: tasks[name](run) for name, _ in steps.STEPS}
        _artifacts(run, results["reports"], steps.night_report(run, results))

    return night


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--items", type=int, default=5000)
    ap.add_argument("--payments", type=int, default=250)
    ap.add_argument("--dir", type=Path, default=Path("/tmp/kasse-overhead"))
    ap.add_argument("--rounds", type=int, default=2, help="runs of each kind, interleaved (the fastest counts)")
    args = ap.parse_args()
    os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")
    kinds = ("plain steps", "flow run, 5 tasks (now)", "flow run, every step a task (before)")
    copies = [f"{k}{r}" for r in range(args.rounds) for k in ("p", "f", "t")]
    configs = prepare(args.dir, args.items, args.payments, ["warm", *copies])

    from claims.config import load_tenant_config
    from flows.nightly import nightly
    from jobs.nightly import run_night

    now = nightly.with_options(retries=0)
    before = every_step_a_task()
    t0 = time.perf_counter()
    now(config=str(configs["warm"]), booking_date=DAY.isoformat())
    print(f"warm-up flow run (ephemeral API start): {time.perf_counter() - t0:.2f} s")

    calls = {"p": lambda c: run_night(load_tenant_config(c), DAY),
             "f": lambda c: now(config=str(c), booking_date=DAY.isoformat()),
             "t": lambda c: before(config=str(c))}
    took: dict[str, float] = {}
    for name in copies:                                  # interleaved rounds; the fastest of each counts
        t0 = time.perf_counter()
        calls[name[0]](configs[name])
        kind = kinds["pft".index(name[0])]
        took[kind] = min(took.get(kind, float("inf")), time.perf_counter() - t0)

    plain = took["plain steps"]
    print(f"one tenant, {args.items:,} open items, {args.payments:,} payments:")
    for what, seconds in took.items():
        extra = "" if what == "plain steps" else f"  (+{seconds - plain:.2f} s, {seconds / plain:.2f}x)"
        print(f"  {what:<40} {seconds:6.2f} s{extra}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
