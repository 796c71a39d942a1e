"""The SEPA payout run as a Prefect 3 flow: each task is one call of a plain step in ``jobs.payout``.

The flow body is the dated jobs' one (``flows/dated_job.py``): per tenant, first what a supervisor released
since the last call, then the date given — by default the next execution date a file sent now still
reaches (``[payout] lead_days``, ``cutoff``); for a booking read ledger → compute → reconcile → stage →
**book** (the one write, one transaction) → outbox → publish (the review page's snapshot) → done. ``kasse
serve`` schedules it per tenant with ``[schedule] payout``; the scheduled call prepares (preparer:
``user``, default ``schedule``); the release is the review page's ("Auszahlungen") or ``kasse payout
--release``.
"""

from __future__ import annotations

import os
from datetime import datetime
from typing import Any

for _name, _value in (("DO_NOT_TRACK", "1"), ("PREFECT_SERVER_ANALYTICS_ENABLED", "false"),
                      ("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "120")):
    os.environ.setdefault(_name, _value)

from prefect import flow  # noqa: E402  (the environment above must be set first)

from flows.dated_job import DatedJob, make_tasks, run_config  # noqa: E402


def _set_off_day(now: datetime | None) -> dict[str, Any]:
    """A stand-in clock reaches the payout job as its set-off day (``plan_date(today=)``)."""
    return {"today": now.date() if now else None}


JOB = DatedJob("payout", "jobs.payout.steps", "execution_date", "next_execution_date", "SEPA payout run",
               ("read_ledger", "compute", "files", "record", "reconcile", "stage", "book", "outbox", "done",
                "publish"), clock=_set_off_day)
TASKS: dict[str, Any] = make_tasks(JOB)


@flow(name="stadtkasse-payout", log_prints=True)
def payout(config: str, execution_date: str | None = None, user: str = "schedule",
           now: str | None = None) -> list[dict[str, Any]]:
    """The SEPA payout run of ONE tenant, its TOML ``config`` (path) (``execution_date`` ISO, default: the next
    one a file sent now reaches). ``now``: an ISO moment with its offset standing in for the clock."""
    return run_config(JOB, TASKS, config, execution_date, user, now)
