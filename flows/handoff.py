"""The enforcement hand-off as a Prefect 3 flow: each task is one call of a plain step in ``jobs.handoff``.

The flow body is the dated jobs' one (``flows/dated_job.py``): per tenant, first what a supervisor released
since the last call, then the day given — by default today in the tenant's time zone; for a booking read
ledger → compute → reconcile → stage → **book** (the one write, one transaction) → outbox → documents (the
case files) → publish (the review page's snapshot) → done. ``kasse serve`` schedules it per tenant with
``[schedule] handoff``; the scheduled call prepares (preparer: ``user``, default ``schedule``); the release
is the review page's or ``kasse handoff --release``.
"""

from __future__ import annotations

import os
from typing import Any

for _name, _value in (("DO_NOT_TRACK", "1"), ("PREFECT_SERVER_ANALYTICS_ENABLED", "false"),
                      ("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "120")):
    os.environ.setdefault(_name, _value)

from prefect import flow  # noqa: E402  (the environment above must be set first)

from flows.dated_job import DatedJob, make_tasks, run_config  # noqa: E402

JOB = DatedJob("handoff", "jobs.handoff.steps", "handoff_date", "next_handoff_date", "enforcement hand-off",
               ("read_ledger", "compute", "files", "record", "reconcile", "stage", "book", "outbox", "documents",
                "done", "publish"))
TASKS: dict[str, Any] = make_tasks(JOB)


@flow(name="stadtkasse-handoff", log_prints=True)
def handoff(config: str, handoff_date: str | None = None, user: str = "schedule",
            now: str | None = None) -> list[dict[str, Any]]:
    """The enforcement hand-off of ONE tenant, its TOML ``config`` (path) (``handoff_date`` ISO, default: today
    in the tenant's time zone). ``now``: an ISO moment with its offset standing in for the clock."""
    return run_config(JOB, TASKS, config, handoff_date, user, now)
