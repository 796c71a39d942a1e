"""The SEPA payout run as a Prefect 3 flow: each task is one call of a plain step in ``jobs.payout``.

Per tenant the flow books first what a supervisor released since the last call (``jobs.payout.steps.
dates_to_run``), then plans the date it was given — by default the next execution date a file sent now
still reaches (``[payout] lead_days``, ``cutoff``) — and runs that phase's steps as tasks in order: for a
booking read ledger → compute → reconcile → stage → **book** (the one write, one transaction) → outbox →
done. Tasks hand each other only the run's identity; frames travel as Parquet in the run folder. ``kasse
serve`` schedules it per tenant with ``[schedule] payout``; the scheduled call prepares (preparer:
``user``, default ``schedule``); the release is ``kasse payout --release``.
"""

from __future__ import annotations

import os
from datetime import datetime
from typing import Any

for _name, _value in (("DO_NOT_TRACK", "1"), ("PREFECT_SERVER_ANALYTICS_ENABLED", "false"),
                      ("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "120")):
    os.environ.setdefault(_name, _value)

from prefect import flow  # noqa: E402  (the environment above must be set first)

from flows.dated_job import DatedJob, make_tasks, run_configs  # noqa: E402


def _set_off_day(now: datetime | None) -> dict[str, Any]:
    """A stand-in clock reaches the payout job as its set-off day (``plan_date(today=)``)."""
    return {"today": now.date() if now else None}


JOB = DatedJob("payout", "jobs.payout.steps", "execution_date", "next_execution_date", "SEPA payout run",
               ("read_ledger", "compute", "files", "record", "reconcile", "stage", "book", "outbox", "done"),
               clock=_set_off_day)
TASKS: dict[str, Any] = make_tasks(JOB)


@flow(name="stadtkasse-payout", log_prints=True)
def payout(configs: list[str], execution_date: str | None = None, user: str = "schedule",
           tenants: list[str] | None = None, now: str | None = None) -> list[dict[str, Any]]:
    """The SEPA payout run for every tenant config in ``configs`` (``execution_date`` ISO, default: the next
    one a file sent now reaches). ``now``: an ISO moment with its offset standing in for the clock."""
    return run_configs(JOB, TASKS, configs, execution_date, user, tenants, now)
