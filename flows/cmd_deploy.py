"""``kasse deploy``: put every tenant's scheduled jobs on a Prefect **process work pool**, for workers on
one or several machines (``prefect worker start --pool NAME --type process``).

Creates the pool when it is missing and sets its concurrency limit to ``--limit`` (the data centre's
global limit: flow runs at once over all workers; not given: unchanged, none on a new pool). Then one
deployment per tenant and job, exactly as ``kasse serve`` makes them (``<flow>/<job>-<tenant>``, the cron
of ``[schedule]``, the one parameter the tenant's config path), whose runs start in this checkout
(``working_dir``, ``PYTHONPATH`` first, then the deploying shell's: every worker machine must hold it at the same path, as it must see the
tenants' files at the same paths). And a global concurrency limit ``tenant-<id>`` of 1 per tenant: two
workers never run one tenant's jobs at once (``flows/tenant_slot.py``). Running it again updates all of
it in place. And the pool's night-shift deployment (``flows/night_shift.py``). ``kasse night --pool NAME
[--shifts K]`` starts every tenant's night now.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Any

from claims.config import load_tenant_config
from claims.errors import ConfigError

#: This checkout: the workers start each flow run here and import ``flows.*`` from it.
CHECKOUT = Path(__file__).resolve().parent.parent


def register(subparsers: Any) -> None:
    """Add the ``deploy`` sub-command."""
    p = subparsers.add_parser("deploy", help="put the tenants' scheduled jobs on a Prefect process work pool "
                                             "(workers on one or several machines run them)",
                              description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--pool", required=True, help="the process work pool (created when missing)")
    p.add_argument("--limit", type=int, default=None,
                   help="flow runs at once over all the pool's workers (the pool's concurrency limit)")
    p.add_argument("--config", action="append", type=Path, required=True,
                   help="tenant TOML (repeat for every tenant)")
    p.add_argument("--cron", default=None, help="cron schedule for every tenant (overrides [schedule] nightly)")
    p.set_defaults(run=run)


def ensure_pool(pool: str, limit: int | None) -> None:
    """Create the process work pool ``pool`` when missing; set its concurrency limit when ``limit`` is given."""
    import asyncio

    from prefect.client.orchestration import get_client
    from prefect.client.schemas.actions import WorkPoolCreate, WorkPoolUpdate
    from prefect.exceptions import ObjectNotFound

    async def make() -> None:
        async with get_client() as client:
            try:
                found = await client.read_work_pool(pool)
            except ObjectNotFound:
                await client.create_work_pool(WorkPoolCreate(name=pool, type="process", concurrency_limit=limit))
                return
            if found.type != "process":
                raise ConfigError(f"work pool {pool} is of type {found.type}; kasse deploy needs a process pool")
            if limit is not None:
                await client.update_work_pool(pool, WorkPoolUpdate(concurrency_limit=limit))

    asyncio.run(make())


def search_path() -> str:
    """``PYTHONPATH`` of the flow runs: this checkout, then what the deploying shell had (kept in order)."""
    parts = [str(CHECKOUT), *(os.environ.get("PYTHONPATH") or "").split(os.pathsep)]
    return os.pathsep.join(dict.fromkeys(p for p in parts if p))


def shift_deployment(pool: str, job_variables: dict[str, Any] | None) -> Any:
    """The pool's night-shift deployment ``stadtkasse-night-shift/shift-<pool>`` (no schedule: ``kasse night
    --shifts K`` starts its runs, each with its group of tenants' configs)."""
    from prefect.deployments.runner import EntrypointType

    from flows.night_shift import night_shift

    return night_shift.to_deployment(
        name=f"shift-{pool}", parameters={"configs": []}, description="Stadtkasse night shift: several "
        "tenants' nights in one flow-run process, each a subflow run (kasse night --shifts)",
        tags=["stadtkasse", "night-shift"], entrypoint_type=EntrypointType.MODULE_PATH, work_pool_name=pool,
        job_variables=job_variables)


def deploy(configs: list[Path], pool: str, limit: int | None, cron: str | None) -> list[str]:
    """Pool, deployments and tenant limits on the current Prefect API; return the deployments' names."""
    from prefect.deployments.runner import deploy as prefect_deploy

    from flows.cmd_serve import deployments
    from flows.tenant_slot import ensure_tenant_limits

    if limit is not None and limit < 1:
        raise ConfigError(f"--limit {limit}: expected at least 1")
    tenants = [load_tenant_config(c).tenant for c in configs]
    if len(set(tenants)) != len(tenants):
        raise ConfigError(f"two configs name the same tenant ({', '.join(sorted(tenants))}): one config per tenant")
    deps = deployments(configs, cron, pool=pool, job_variables={
        "working_dir": str(CHECKOUT),
        "env": {"PYTHONPATH": search_path()}})
    deps.append(shift_deployment(pool, deps[0].job_variables if deps else None))
    ensure_pool(pool, limit)
    ensure_tenant_limits(tenants)
    prefect_deploy(*deps, work_pool_name=pool, build=False, push=False, print_next_steps_message=False,
                   ignore_warnings=True)
    return [f"{d.flow_name}/{d.name}" for d in deps]


def run(args: argparse.Namespace) -> int:
    """Execute ``kasse deploy``: 0 done, 2 a config or setup problem (stated on stderr)."""
    if not os.environ.get("PREFECT_API_URL"):
        print("kasse deploy: PREFECT_API_URL is not set; point it at the data centre's Prefect server "
              "(see docs/OPERATIONS.md)", file=sys.stderr)
        return 2
    try:
        names = deploy(args.config, args.pool, args.limit, args.cron)
    except ConfigError as exc:
        print(f"kasse deploy: {exc}", file=sys.stderr)
        return 2
    print(f"work pool {args.pool}: {len(names)} deployments ({', '.join(names)}); start workers with: "
          f"prefect worker start --pool {args.pool} --type process", flush=True)
    return 0
