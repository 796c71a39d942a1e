"""Nightly run at Rechenzentrum scale: 20 tenants, 1 M open items, 50,000 payments in one night.

Generates 20 synthetic tenants (``synth.generate_scale``: 50,000 open items and 2,500 payments each,
one MT940 and one camt.053 file), puts them into each tenant's inbox (one shared ledger file), then
runs the nightly steps for every tenant and prints wall time and peak RSS per step, and the total.

    .venv/bin/python benchmarks/bench_nightly.py [--tenants 20] [--items 1000000] [--payments 50000]
                                                  [--prefect] [--dir /tmp/kasse-bench]

``--prefect`` runs the same night as ONE Prefect flow run (ephemeral API) instead of the plain steps
and prints its total. Peak RSS per step is sampled from /proc/self/status every 10 ms.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import threading
import time
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import jobs.nightly as night
from claims.config import load_tenant_config
from ledger.db import hold

DAY = date(2026, 1, 2)   # synth.bench.FIRST_DAY: the booking day of the scale statements


def _rss_mib() -> float:
    with open("/proc/self/status", encoding="ascii") as fh:
        for line in fh:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


class Peak:
    """Highest RSS seen while the ``with`` block runs (background sampler thread)."""

    def __enter__(self) -> Peak:
        self.peak = _rss_mib()
        self._stop = threading.Event()
        self._t = threading.Thread(target=self._run, daemon=True)
        self._t.start()
        return self

    def _run(self) -> None:
        while not self._stop.wait(0.01):
            self.peak = max(self.peak, _rss_mib())

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._t.join()
        self.peak = max(self.peak, _rss_mib())


def prepare(root: Path, tenants: int, items: int, payments: int) -> list[Path]:
    """Generate the tenants and fill their inboxes; return their config files."""
    from synth import generate_scale

    shutil.rmtree(root, ignore_errors=True)
    configs = []
    for i in range(tenants):
        name = f"t{i:02d}"
        gen = root / "generated" / name
        g = generate_scale(gen, n_items=items // tenants, n_payments=payments // tenants, seed=100 + i, tenant=name)
        site = root / "tenants" / name
        inbox = site / "files" / "inbox"
        inbox.mkdir(parents=True)
        shutil.copy2(g.open_items, inbox / g.open_items.name)
        for p in g.statements:
            shutil.copy2(p, inbox / f"{p.parent.name}_{p.name}")
        cfg = site / "kasse.toml"
        cfg.write_text(f'[tenant]\nid = "{name}"\n[paths]\nledger = "../../kasse.duckdb"\ntenant_dir = "files"\n'
                       'state_dir = "../../state"\nreports = "../../reports"\n', encoding="utf-8")
        configs.append(cfg)
    return configs


def run_plain(configs: list[Path]) -> dict[str, tuple[float, float]]:
    """Every step for every tenant; return step -> (seconds summed over tenants, peak RSS MiB)."""
    out = {name: (0.0, 0.0) for name, _ in night.STEPS}
    for path in configs:
        n = night.new_night(load_tenant_config(path), DAY)
        for step, fn in night.STEPS:
            t0 = time.perf_counter()
            with Peak() as peak:
                fn(n)
            took, rss = out[step]
            out[step] = (took + time.perf_counter() - t0, max(rss, peak.peak))
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--tenants", type=int, default=20)
    ap.add_argument("--items", type=int, default=1_000_000)
    ap.add_argument("--payments", type=int, default=50_000)
    ap.add_argument("--dir", type=Path, default=Path("/tmp/kasse-bench"))
    ap.add_argument("--prefect", action="store_true")
    args = ap.parse_args()
    t0 = time.perf_counter()
    configs = prepare(args.dir, args.tenants, args.items, args.payments)
    print(f"generated {args.tenants} tenants, {args.items:,} open items, {args.payments:,} payments "
          f"in {time.perf_counter() - t0:.1f} s (not counted)")
    t0 = time.perf_counter()
    if args.prefect:
        os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")
        from flows.nightly import nightly

        with hold(load_tenant_config(configs[0]).ledger), Peak() as peak:
            for c in configs:                                # one flow run per tenant
                nightly(config=str(c), booking_date=DAY.isoformat())
        print(f"prefect flow, {args.tenants} tenants: {time.perf_counter() - t0:.1f} s wall "
              f"(incl. ephemeral API start), peak RSS {peak.peak:.0f} MiB")
        return 0
    with hold(load_tenant_config(configs[0]).ledger):       # one process writes the shared ledger file
        steps = run_plain(configs)
    total = time.perf_counter() - t0
    print(f"{'step':<12} {'wall s':>8} {'peak RSS MiB':>13}")
    for step, (took, rss) in steps.items():
        print(f"{step:<12} {took:8.2f} {rss:13.0f}")
    print(f"{'total':<12} {total:8.2f} {max(r for _, r in steps.values()):13.0f}   (cores: {os.cpu_count()})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
