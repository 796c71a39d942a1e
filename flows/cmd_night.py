"""``kasse night --pool NAME``: start every tenant's nightly deployment of a work pool now and wait.

One flow run per tenant (Prefect's ``run_deployment``), all created at once; the pool's
workers run them in parallel under the pool's limit, and a tenant's runs never overlap (its slot
``tenant-<id>``). Prints one line per tenant when all have ended — ``<tenant> <state> <seconds> s <flow
run>`` — and the night's wall time. A failing tenant stops no other (its flow retries once by itself).
Exit 0: every tenant completed; 1: some did not (named in their lines); 2: no Prefect API or no nightly
deployment on the pool.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import time
import uuid
from datetime import date
from typing import Any

#: The nightly flow's name (``flows/nightly.py``): its deployments are ``stadtkasse-nightly/nightly-<tenant>``.
NIGHTLY_FLOW = "stadtkasse-nightly"


def register(subparsers: Any) -> None:
    """Add the ``night`` sub-command."""
    p = subparsers.add_parser("night", help="start every tenant's night on a work pool now and wait for all",
                              description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--pool", required=True, help="the work pool of the nightly deployments (kasse deploy)")
    p.add_argument("--date", type=date.fromisoformat, default=None,
                   help="booking date YYYY-MM-DD (default: each flow's, yesterday)")
    p.add_argument("--tenant", action="append", default=None, help="only this tenant (repeatable)")
    p.add_argument("--timeout", type=float, default=None, help="give up waiting after this many seconds")
    p.set_defaults(run=run)


async def _nightly_deployments(client: Any, pool: str) -> dict[str, Any]:
    """tenant -> nightly deployment of ``pool`` (its name is ``nightly-<tenant>``)."""
    from prefect.client.schemas.filters import FlowFilter, FlowFilterName, WorkPoolFilter, WorkPoolFilterName

    found = await client.read_deployments(flow_filter=FlowFilter(name=FlowFilterName(any_=[NIGHTLY_FLOW])),
                                          work_pool_filter=WorkPoolFilter(name=WorkPoolFilterName(any_=[pool])))
    return {d.name.removeprefix("nightly-"): d for d in found if d.name.startswith("nightly-")}


async def start_and_wait(pool: str, day: date | None, tenants: list[str] | None,
                         timeout: float | None) -> list[tuple[str, str, float | None, str]]:
    """Start the chosen tenants' nightly runs, wait for all; ``(tenant, state, seconds, flow run name)`` each."""
    from prefect.client.orchestration import get_client
    from prefect.deployments.flow_runs import arun_deployment

    params = {"booking_date": day.isoformat()} if day else {}
    async with get_client() as client:
        deps = await _nightly_deployments(client, pool)
        chosen = sorted(t for t in deps if not tenants or t in tenants)
        night = uuid.uuid4().hex     # one key per tenant and call: a create the client retried makes no second run
        runs = {t: await arun_deployment(deps[t].id, client=client, parameters=params, timeout=0, as_subflow=False,
                                        tags=["kasse-night"], idempotency_key=f"kasse-night-{night}-{t}")
                for t in chosen}
        end = None if timeout is None else time.monotonic() + timeout
        final: dict[str, Any] = {}
        while len(final) < len(runs) and (end is None or time.monotonic() < end):
            await asyncio.sleep(1)
            for t, fr in runs.items():
                if t not in final:
                    now = await client.read_flow_run(fr.id)
                    if now.state is not None and now.state.is_final():
                        final[t] = now
        out: list[tuple[str, str, float | None, str]] = []
        for t, fr in runs.items():
            done = final.get(t)
            if done is None:
                out.append((t, "UNFINISHED", None, fr.name))
            else:
                took = (done.end_time - done.start_time).total_seconds() if done.start_time and done.end_time else None
                out.append((t, done.state.type.value, took, done.name))
        return out


def run(args: argparse.Namespace) -> int:
    """Execute ``kasse night``."""
    if not os.environ.get("PREFECT_API_URL"):
        print("kasse night: PREFECT_API_URL is not set; point it at the Prefect server (docs/OPERATIONS.md)",
              file=sys.stderr)
        return 2
    t0 = time.monotonic()
    lines = asyncio.run(start_and_wait(args.pool, args.date, args.tenant, args.timeout))
    if not lines:
        print(f"kasse night: no nightly deployment on work pool {args.pool} (run kasse deploy first)",
              file=sys.stderr)
        return 2
    for tenant, state, took, name in lines:
        print(f"{tenant} {state} {'-' if took is None else f'{took:.1f}'} s {name}", flush=True)
    ok = sum(state == "COMPLETED" for _, state, _, _ in lines)
    print(f"night: {ok} of {len(lines)} tenants completed in {time.monotonic() - t0:.1f} s", flush=True)
    return 0 if ok == len(lines) else 1
