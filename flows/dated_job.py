"""What the Prefect flows of the dated, four-eyes jobs share (``flows/collect.py``, ``flows/payout.py``).

Such a job (``jobs.collect``, ``jobs.payout``) works per date: each call books first what a supervisor
released since the last call (``steps.dates_to_run``), then plans the date it was given — by default the
next date a file sent now still reaches (``steps.<next_date>``) — and runs that phase's steps
(``steps.STEPS[phase]``) as tasks in order. Tasks hand each other only the run's identity; frames travel as
Parquet in the run folder. Steps that touch the ledger file or the outbox are retried, the others are pure
computations. Each date's outcome becomes a markdown artifact on the flow run.

A flow module describes its job with a :class:`DatedJob`, makes its tasks once with :func:`make_tasks`
(Prefect registers a task by its name at import) and calls :func:`run_config` from its ``@flow`` (one tenant per flow run).
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from prefect import runtime, task  # the importing flow module has set the environment
from prefect.artifacts import create_markdown_artifact
from prefect.cache_policies import NO_CACHE

from ledger.config import TenantConfig, load_tenant_config

if TYPE_CHECKING:
    from jobs.runner import Run

RETRIES = 2
RETRY_DELAY = 5
#: Steps that touch the ledger file or the outbox are retried; the others are pure computations.
RETRIED = frozenset({"read_ledger", "book", "outbox", "done", "publish"})


def _no_clock(now: datetime | None) -> dict[str, Any]:
    return {"now": now}


@dataclass(frozen=True, slots=True)
class DatedJob:
    """One dated job: ``name`` (task names, artifact keys), its plain steps module, the outcome's date field,
    the steps module's function giving the next date, the title of its artifact, its task names, and how a
    stand-in clock reaches ``plan_date`` (``clock(now) -> keyword arguments``)."""

    name: str
    steps_module: str
    date_field: str
    next_date: str
    title: str
    task_names: tuple[str, ...]
    clock: Callable[[datetime | None], dict[str, Any]] = _no_clock

    def steps(self) -> Any:
        """The plain steps module, imported when the flow runs (see flows/nightly.py for why not at import)."""
        return importlib.import_module(self.steps_module)


def make_tasks(job: DatedJob) -> dict[str, Any]:
    """One Prefect task per step name, each calling ``steps.STEPS_BY_NAME[name](run)``."""
    def make(name: str) -> Any:
        @task(name=f"{job.name}-{name}", retries=RETRIES if name in RETRIED else 0,
              retry_delay_seconds=RETRY_DELAY, cache_policy=NO_CACHE)
        def call(run: Run) -> Any:
            return job.steps().STEPS_BY_NAME[name](run)

        return call

    return {name: make(name) for name in job.task_names}


def _artifact(job: DatedJob, tenant: str, outcome: Any) -> None:
    day: date = getattr(outcome, job.date_field)
    key = f"{job.name}-{tenant}-{day:%Y%m%d}".lower().replace("_", "-")
    lines = [f"# {job.title[0].upper()}{job.title[1:]} {tenant} {day.isoformat()}", "",
             f"status **{outcome.status}**, run_id `{outcome.run_id}`", "", outcome.message, "",
             "| what | value |", "|---|---|"]
    lines += [f"| {k} | {v} |" for k, v in outcome.counts.items() if k != "files"]
    lines += ["", "Files:", *[f"- {name}: `{p}`" for name, p in sorted(outcome.paths.items())]]
    create_markdown_artifact("\n".join(lines), key=key, description=f"Stadtkasse {job.title}")


def run_tenant(job: DatedJob, tasks: dict[str, Any], cfg: TenantConfig, day: date | None, user: str,
               now: datetime | None = None) -> list[dict[str, Any]]:
    """One tenant's call under its lock: the released dates, then ``day``; each planned, then its steps as
    tasks. ``now``: the job's clock (default: the real one; the demo gives its simulated morning)."""
    from jobs.runner import tenant_lock

    steps = job.steps()
    out = []
    with tenant_lock(cfg):
        for d in steps.dates_to_run(cfg, day or getattr(steps, job.next_date)(cfg, now)):
            plan = steps.plan_date(cfg, d, user=user, mode="prefect", flow_run_id=str(runtime.flow_run.id or ""),
                                   **job.clock(now))
            results = {name: tasks[name](plan.run) for name, _ in steps.STEPS[plan.phase]} if plan.run else {}
            result = steps.outcome(plan, results)
            _artifact(job, cfg.tenant, result)
            out.append({**asdict(result), job.date_field: getattr(result, job.date_field).isoformat(),
                        "tenant": cfg.tenant})
    return out


def run_config(job: DatedJob, tasks: dict[str, Any], config: str, day: str | None, user: str,
               now: str | None) -> list[dict[str, Any]]:
    """The flow's body for ONE tenant config (its path), for the ISO ``day`` (default: the next date), with
    ``now`` an ISO moment with its offset standing in for the clock (the demo's simulated day; a schedule
    never sets it). A deployment's run holds the tenant's slot (``flows.tenant_slot``)."""
    from flows.tenant_slot import tenant_slot

    when = date.fromisoformat(day) if day else None
    moment = datetime.fromisoformat(now) if now else None
    cfg = load_tenant_config(Path(config) if config else None)
    with tenant_slot(cfg.tenant):
        return run_tenant(job, tasks, cfg, when, user, moment)
