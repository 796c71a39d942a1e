"""The SEPA payout run as a Prefect 3 flow: each task is one call of a plain step in ``jobs.payout``.

Per tenant the flow books first what a supervisor released since the last call (``jobs.payout.steps.
dates_to_run``), then plans the date it was given — by default the next execution date a file sent now
still reaches (``[payout] lead_days``, ``cutoff``) — and runs that phase's steps as tasks in order: for a
booking read ledger → compute → reconcile → stage → **book** (the one write, one transaction) → outbox →
publish (the review page's snapshot) → done. Tasks hand each other only the run's identity; frames travel as Parquet in the run folder. ``kasse
serve`` schedules it per tenant with ``[schedule] payout``; the scheduled call prepares (preparer:
``user``, default ``schedule``); the release is ``kasse payout --release``.
"""

from __future__ import annotations

import os
from dataclasses import asdict
from datetime import date
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Any

for _name, _value in (("DO_NOT_TRACK", "1"), ("PREFECT_SERVER_ANALYTICS_ENABLED", "false"),
                      ("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "120")):
    os.environ.setdefault(_name, _value)

from prefect import flow, runtime, task  # noqa: E402  (the environment above must be set first)
from prefect.artifacts import create_markdown_artifact  # noqa: E402
from prefect.cache_policies import NO_CACHE  # noqa: E402

from ledger.config import TenantConfig, load_tenant_config  # noqa: E402

if TYPE_CHECKING:
    from jobs.runner import Run

RETRIES = 2
RETRY_DELAY = 5
#: Steps that touch the ledger file or the outbox are retried; the others are pure computations.
_RETRIED = frozenset({"read_ledger", "book", "outbox", "publish", "done"})


def _job() -> ModuleType:
    """``jobs.payout.steps``, imported when the flow runs (see flows/nightly.py for why not at import)."""
    from jobs.payout import steps

    return steps


def _task(name: str) -> Any:
    retries = RETRIES if name in _RETRIED else 0

    @task(name=f"payout-{name}", retries=retries, retry_delay_seconds=RETRY_DELAY, cache_policy=NO_CACHE)
    def call(run: Run) -> Any:
        return _job().STEPS_BY_NAME[name](run)

    return call


TASKS: dict[str, Any] = {name: _task(name) for name in ("read_ledger", "compute", "files", "record", "reconcile",
                                                          "stage", "book", "outbox", "publish",
                                                          "done")}


def _artifact(tenant: str, outcome: Any) -> None:
    key = f"payout-{tenant}-{outcome.execution_date:%Y%m%d}".lower().replace("_", "-")
    lines = [f"# Payout run {tenant} {outcome.execution_date.isoformat()}", "",
             f"status **{outcome.status}**, run_id `{outcome.run_id}`", "", outcome.message, "",
             "| what | value |", "|---|---|"]
    lines += [f"| {k} | {v} |" for k, v in outcome.counts.items() if k != "files"]
    lines += ["", "Files:", *[f"- {name}: `{p}`" for name, p in sorted(outcome.paths.items())]]
    create_markdown_artifact("\n".join(lines), key=key, description="Stadtkasse SEPA payout run")


def run_tenant(cfg: TenantConfig, day: date | None, user: str) -> list[dict[str, Any]]:
    """One tenant's call: the released dates, then ``day``; each planned, then its steps as tasks."""
    from jobs.runner import tenant_lock

    steps = _job()
    out = []
    with tenant_lock(cfg):
        for d in steps.dates_to_run(cfg, day or steps.next_execution_date(cfg)):
            plan = steps.plan_date(cfg, d, user=user, mode="prefect", flow_run_id=str(runtime.flow_run.id or ""))
            results = {name: TASKS[name](plan.run) for name, _ in steps.STEPS[plan.phase]} if plan.run else {}
            result = steps.outcome(plan, results)
            _artifact(cfg.tenant, result)
            out.append({**asdict(result), "execution_date": result.execution_date.isoformat(), "tenant": cfg.tenant})
    return out


@flow(name="stadtkasse-payout", log_prints=True)
def payout(configs: list[str], execution_date: str | None = None, user: str = "schedule",
           tenants: list[str] | None = None) -> list[dict[str, Any]]:
    """The SEPA payout run for every tenant config in ``configs`` (``execution_date`` ISO, default: the next
    one a file sent now reaches)."""
    day = date.fromisoformat(execution_date) if execution_date else None
    chosen = [c for c in (load_tenant_config(Path(p) if p else None) for p in configs)
              if not tenants or c.tenant in tenants]
    return [r for cfg in chosen for r in run_tenant(cfg, day, user)]
