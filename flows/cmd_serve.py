"""``kasse serve``: register every scheduled job of each tenant as a Prefect deployment with its cron
schedule, and execute their runs (a long-running process, like a worker).

Needs a Prefect server: start one with ``prefect server start`` and point ``PREFECT_API_URL`` at it
(docs/OPERATIONS.md). A tenant's jobs and their crons come from its config's ``[schedule]`` table
(``nightly`` defaults to ``0 2 * * *``, Europe/Berlin; ``dunning``, ``collect`` and ``payout`` are off unless set, e.g.
``0 6 * * 2``);
``--cron`` overrides the nightly's. Each run is one tenant's job; at most ``--limit`` (default 1) run at a
time, and a tenant's runs never overlap (its slot ``tenant-<id>``: ``flows/tenant_slot.py``). Several
machines: ``kasse deploy`` onto a work pool instead (docs/OPERATIONS.md, "A data centre").
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Any

from claims.config import load_tenant_config
from claims.errors import ConfigError


def register(subparsers: Any) -> None:
    """Add the ``serve`` sub-command."""
    p = subparsers.add_parser("serve", help="schedule the tenants' jobs (nightly, dunning, collection) on a Prefect server and execute them",
                              description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--config", action="append", type=Path, default=None,
                   help="tenant TOML (repeat for several tenants; default ./kasse.toml)")
    p.add_argument("--cron", default=None, help="cron schedule for every tenant (overrides [schedule] nightly)")
    p.add_argument("--limit", type=int, default=1, help="flow runs at the same time (default 1: one writer)")
    p.set_defaults(run=run)


#: Every job ``kasse serve`` can schedule: its ``[schedule]`` key -> (flow module, flow, what it does).
SCHEDULED_JOBS: dict[str, tuple[str, str, str]] = {
    "nightly": ("flows.nightly", "nightly", "nightly reconciliation (booking date: yesterday)"),
    "dunning": ("flows.dunning", "dunning", "weekly dunning run (prepares the week; books it once released)"),
    "collect": ("flows.collect", "collect", "SEPA collection run (prepares the next date; books released runs)"),
    "payout": ("flows.payout", "payout", "SEPA payout run: set-off, then refunds (prepares; books released runs)"),
    "handoff": ("flows.handoff", "handoff", "enforcement hand-off (prepares the day's batch; books released runs)"),
}


def deployments(configs: list[Path], cron: str | None, *, pool: str | None = None,
                job_variables: dict[str, Any] | None = None) -> list[Any]:
    """One deployment per tenant and scheduled job: ``<flow>/<job>-<tenant>`` with the job's cron; its one
    parameter the tenant's config (each flow run is one tenant's job). ``pool``: the work pool its runs go
    to (``kasse deploy``); None: this process runs them (``kasse serve``).

    A ``[schedule]`` key without a flow here is a :class:`ConfigError` (a job this release cannot run).
    """
    import importlib

    from prefect.deployments.runner import EntrypointType
    from prefect.schedules import Cron

    out = []
    for path in configs:
        cfg = load_tenant_config(path)
        schedules = cfg.schedules()
        if cron:
            schedules["nightly"] = cron
        unknown = sorted(set(schedules) - set(SCHEDULED_JOBS))
        if unknown:
            raise ConfigError(f"{path}: [schedule] {', '.join(unknown)}: no such job in this release "
                              f"(jobs: {', '.join(SCHEDULED_JOBS)})")
        for job, job_cron in sorted(schedules.items()):
            module, name, what = SCHEDULED_JOBS[job]
            flow = getattr(importlib.import_module(module), name)
            out.append(flow.to_deployment(
                name=f"{job}-{cfg.tenant}",
                schedules=[Cron(job_cron, timezone=cfg.timezone)],
                parameters={"config": str(path.resolve())},
                description=f"Stadtkasse {what} of {cfg.tenant}",
                tags=["stadtkasse", cfg.tenant, job],
                entrypoint_type=EntrypointType.MODULE_PATH,
                work_pool_name=pool,
                job_variables=job_variables,
            ))
    return out


def run(args: argparse.Namespace) -> int:
    """Execute ``kasse serve`` (blocks until interrupted)."""
    configs = args.config or [Path("kasse.toml")]
    if not os.environ.get("PREFECT_API_URL"):
        print("kasse serve: PREFECT_API_URL is not set; start `prefect server start` and export "
              "PREFECT_API_URL=http://127.0.0.1:4200/api (see docs/OPERATIONS.md)", file=sys.stderr)
        return 2
    try:
        deps = deployments(configs, args.cron)
    except ConfigError as exc:
        print(f"kasse serve: {exc}", file=sys.stderr)
        return 2
    from prefect import serve

    from flows.tenant_slot import ensure_tenant_limits

    ensure_tenant_limits([load_tenant_config(c).tenant for c in configs])
    print(f"serving {', '.join(d.name for d in deps)} (limit {args.limit}); Ctrl-C stops", flush=True)
    serve(*deps, limit=args.limit)
    return 0
