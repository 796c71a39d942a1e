"""The weekly dunning run as a Prefect 3 flow: each task is one call of a plain step in ``jobs.dunning``.

Per tenant the flow first plans the call (``jobs.dunning.plan_week``: prepare, show, book, finish or
nothing for the ISO week of ``as_of``), then runs that phase's steps as tasks in order — for a booking:
read ledger → select → reconcile → stage → **book** (the one write, one transaction) → letters → HKR
claims file → publish → done. Tasks hand each other only the run's identity; frames travel as Parquet in
the run folder. ``kasse serve`` schedules it weekly per tenant with ``[schedule] dunning`` (e.g.
``"0 6 * * 2"``): the scheduled call prepares the week (preparer: ``user``, default ``schedule``); after a
supervisor's release on the review page the next call books it (run the flow again, or ``kasse dunning``).
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

#: Steps that touch files or the ledger file (which may be locked for a moment) are retried; the others
#: are pure computations over the run folder (a retry would fail the same way).
RETRIES = 2
RETRY_DELAY = 5
_RETRIED = frozenset({"read_ledger", "book", "letters", "documents", "hkr", "publish", "done"})


def _job() -> ModuleType:
    """``jobs.dunning.steps``, imported when the flow runs (see flows/nightly.py for why not at import)."""
    from jobs.dunning import steps

    return steps


def _task(name: str) -> Any:
    """The Prefect task of step ``name`` (one call of the plain step)."""
    retries = RETRIES if name in _RETRIED else 0

    @task(name=f"dunning-{name}", retries=retries, retry_delay_seconds=RETRY_DELAY, cache_policy=NO_CACHE)
    def call(run: Run) -> Any:
        return _job().STEPS_BY_NAME[name](run)

    return call


#: One task per step name (the same step function in every phase that has it).
TASKS: dict[str, Any] = {name: _task(name) for name in ("read_ledger", "select", "notices", "drafts", "record",
                                                          "reconcile", "stage", "book", "letters", "documents",
                                                          "hkr", "figures", "publish", "done")}


def _artifact(tenant: str, outcome: Any) -> None:
    key = f"dunning-{tenant}".lower().replace("_", "-")
    lines = [f"# Dunning run {tenant} {outcome.week} ({outcome.as_of.isoformat()})", "",
             f"status **{outcome.status}**, run_id `{outcome.run_id}`", "", outcome.message, "",
             "| what | value |", "|---|---|"]
    lines += [f"| {k} | {v} |" for k, v in outcome.counts.items()]
    lines += ["", "Files:", *[f"- {name}: `{p}`" for name, p in sorted(outcome.paths.items())]]
    create_markdown_artifact("\n".join(lines), key=key, description="Stadtkasse dunning run")


def run_tenant(cfg: TenantConfig, as_of: date, user: str) -> dict[str, Any]:
    """One tenant's call: plan, then the phase's steps as tasks in order, under the tenant lock."""
    from jobs.runner import tenant_lock

    steps = _job()
    with tenant_lock(cfg):
        plan = steps.plan_week(cfg, as_of, user=user, mode="prefect", flow_run_id=str(runtime.flow_run.id or ""))
        results = {name: TASKS[name](plan.run) for name, _ in steps.STEPS[plan.phase]} if plan.run else {}
    out = steps.outcome(plan, results)
    _artifact(cfg.tenant, out)
    return {**asdict(out), "as_of": out.as_of.isoformat(), "tenant": cfg.tenant}


@flow(name="stadtkasse-dunning", log_prints=True)
def dunning(config: str, as_of: str | None = None, user: str = "schedule") -> dict[str, Any]:
    """The weekly dunning run of ONE tenant: its TOML ``config`` (path), ``as_of`` ISO (default today). A
    deployment's run holds the tenant's slot (``flows.tenant_slot``)."""
    from flows.tenant_slot import tenant_slot

    cfg = load_tenant_config(Path(config) if config else None)
    day = date.fromisoformat(as_of) if as_of else date.today()
    with tenant_slot(cfg.tenant):
        return run_tenant(cfg, day, user)
