"""``kasse night --pool NAME``: start every tenant's nightly deployment of a work pool now and wait.

One flow run per tenant (Prefect's ``run_deployment``), all created at once; the pool's
workers run them in parallel under the pool's limit, and a tenant's runs never overlap (its slot
``tenant-<id>``). With ``--shifts K`` the tenants go into K night shifts instead (balanced by the bytes
in their inboxes): one flow-run process per shift, each tenant still its own (sub)flow run — the process
start a small tenant's run costs is paid once per shift (``flows/night_shift.py``). Prints one line per tenant when all have ended — ``<tenant> <state> <seconds> s <flow
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
#: The night shift's flow (``flows/night_shift.py``): one deployment per pool, ``stadtkasse-night-shift/shift-<pool>``.
SHIFT_FLOW = "stadtkasse-night-shift"


def register(subparsers: Any) -> None:
    """Add the ``night`` sub-command."""
    p = subparsers.add_parser("night", help="start every tenant's night on a work pool now and wait for all",
                              description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--pool", required=True, help="the work pool of the nightly deployments (kasse deploy)")
    p.add_argument("--date", type=date.fromisoformat, default=None,
                   help="booking date YYYY-MM-DD (default: each flow's, yesterday)")
    p.add_argument("--tenant", action="append", default=None, help="only this tenant (repeatable)")
    p.add_argument("--timeout", type=float, default=None, help="give up waiting after this many seconds")
    p.add_argument("--shifts", type=int, default=0,
                   help="run the tenants in this many night shifts (one flow-run process each, every tenant a "
                        "subflow run; flows/night_shift.py); 0 (default): one flow run per tenant")
    p.set_defaults(run=run)


async def _nightly_deployments(client: Any, pool: str) -> dict[str, Any]:
    """tenant -> nightly deployment of ``pool`` (its name is ``nightly-<tenant>``)."""
    from prefect.client.schemas.filters import FlowFilter, FlowFilterName, WorkPoolFilter, WorkPoolFilterName

    found = await client.read_deployments(flow_filter=FlowFilter(name=FlowFilterName(any_=[NIGHTLY_FLOW])),
                                          work_pool_filter=WorkPoolFilter(name=WorkPoolFilterName(any_=[pool])))
    return {d.name.removeprefix("nightly-"): d for d in found if d.name.startswith("nightly-")}


async def _shift_deployment(client: Any, pool: str) -> Any:
    """The pool's night-shift deployment (``stadtkasse-night-shift/shift-<pool>``, made by ``kasse deploy``)."""
    from prefect.exceptions import ObjectNotFound

    try:
        return await client.read_deployment_by_name(f"{SHIFT_FLOW}/shift-{pool}")
    except ObjectNotFound:
        return None


async def _wait(client: Any, runs: dict[str, Any], timeout: float | None) -> dict[str, Any]:
    """Poll the flow runs ``runs`` (key -> run) until all are final or ``timeout``; key -> final run."""
    end = None if timeout is None else time.monotonic() + timeout
    final: dict[str, Any] = {}
    while len(final) < len(runs) and (end is None or time.monotonic() < end):
        await asyncio.sleep(1)
        for key, fr in runs.items():
            if key not in final:
                now = await client.read_flow_run(fr.id)
                if now.state is not None and now.state.is_final():
                    final[key] = now
    return final


def _line(tenant: str, run: Any, fallback: Any) -> tuple[str, str, float | None, str]:
    if run is None:
        return (tenant, "UNFINISHED", None, fallback.name)
    took = (run.end_time - run.start_time).total_seconds() if run.start_time and run.end_time else None
    return (tenant, run.state.type.value if run.state is not None else "UNKNOWN", took, run.name)


async def start_and_wait(pool: str, day: date | None, tenants: list[str] | None,
                         timeout: float | None, shifts: int = 0) -> list[tuple[str, str, float | None, str]]:
    """Start the chosen tenants' nightly runs (or ``shifts`` night shifts of them), wait for all;
    ``(tenant, state, seconds, flow run name)`` each."""
    from prefect.client.orchestration import get_client
    from prefect.deployments.flow_runs import arun_deployment

    params = {"booking_date": day.isoformat()} if day else {}
    async with get_client() as client:
        deps = await _nightly_deployments(client, pool)
        chosen = sorted(t for t in deps if not tenants or t in tenants)
        night = uuid.uuid4().hex     # one key per run and call: a create the client retried makes no second run
        if shifts > 0 and chosen:
            return await _shifts(client, pool, deps, chosen, params, night, shifts, timeout)
        runs = {t: await arun_deployment(deps[t].id, client=client, parameters=params, timeout=0, as_subflow=False,
                                        tags=["kasse-night"], idempotency_key=f"kasse-night-{night}-{t}")
                for t in chosen}
        final = await _wait(client, runs, timeout)
        return [_line(t, final.get(t), fr) for t, fr in runs.items()]


async def _shifts(client: Any, pool: str, deps: dict[str, Any], chosen: list[str], params: dict[str, Any],
                  night: str, shifts: int, timeout: float | None) -> list[tuple[str, str, float | None, str]]:
    """The tenants in ``shifts`` balanced groups, one run of the pool's shift deployment each; a tenant's
    line is its subflow run's (a tenant the shift never reached: the shift's state, or UNFINISHED)."""
    from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterParentFlowRunId
    from prefect.deployments.flow_runs import arun_deployment

    from flows.night_shift import TENANT_TAG, balance, inbox_bytes

    shift = await _shift_deployment(client, pool)
    if shift is None:
        raise LookupError(f"no night-shift deployment on work pool {pool} (run kasse deploy again)")
    configs = {t: str(deps[t].parameters.get("config", "")) for t in chosen}
    groups = balance({t: inbox_bytes(configs[t]) for t in chosen}, shifts)
    runs = {str(i): await arun_deployment(
                shift.id, client=client, parameters={**params, "configs": [configs[t] for t in group]}, timeout=0,
                as_subflow=False, tags=["kasse-night"], idempotency_key=f"kasse-night-{night}-shift-{i}")
            for i, group in enumerate(groups)}
    final = await _wait(client, runs, timeout)
    subs = await client.read_flow_runs(flow_run_filter=FlowRunFilter(
        parent_flow_run_id=FlowRunFilterParentFlowRunId(any_=[fr.id for fr in runs.values()])))
    by_tenant = {tag.removeprefix(TENANT_TAG): fr for fr in sorted(subs, key=lambda r: r.created or r.expected_start_time)
                 for tag in fr.tags if tag.startswith(TENANT_TAG)}          # a tenant tried twice: its last run
    out: list[tuple[str, str, float | None, str]] = []
    for i, group in enumerate(groups):
        for t in group:
            sub = by_tenant.get(t)
            done = sub if sub is not None and sub.state is not None and sub.state.is_final() else None
            if done is None and final.get(str(i)) is not None:      # the shift ended without reaching it
                out.append((t, f"NOT_RUN({final[str(i)].state.type.value})", None, runs[str(i)].name))
            else:
                out.append(_line(t, done, runs[str(i)]))
    return sorted(out)


def run(args: argparse.Namespace) -> int:
    """Execute ``kasse night``."""
    if not os.environ.get("PREFECT_API_URL"):
        print("kasse night: PREFECT_API_URL is not set; point it at the Prefect server (docs/OPERATIONS.md)",
              file=sys.stderr)
        return 2
    t0 = time.monotonic()
    try:
        lines = asyncio.run(start_and_wait(args.pool, args.date, args.tenant, args.timeout, args.shifts))
    except LookupError as exc:
        print(f"kasse night: {exc}", file=sys.stderr)
        return 2
    if not lines:
        print(f"kasse night: no nightly deployment on work pool {args.pool} (run kasse deploy first)",
              file=sys.stderr)
        return 2
    for tenant, state, took, name in lines:
        print(f"{tenant} {state} {'-' if took is None else f'{took:.1f}'} s {name}", flush=True)
    ok = sum(state == "COMPLETED" for _, state, _, _ in lines)
    print(f"night: {ok} of {len(lines)} tenants completed in {time.monotonic() - t0:.1f} s", flush=True)
    return 0 if ok == len(lines) else 1
