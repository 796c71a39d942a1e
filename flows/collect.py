"""The SEPA collection run as a Prefect 3 flow: each task is one call of a plain step in ``jobs.collect``.

The flow body is the dated jobs' one (``flows/dated_job.py``): per tenant, first what a supervisor released
since the last call, then the date given — by default the next collection date a file sent now still
reaches (``[collection] lead_days``, ``cutoff``); for a booking read ledger → select → reconcile → stage →
**book** (the one write, one transaction) → outbox → publish (the review page's snapshot) → done. ``kasse
serve`` schedules it per tenant with ``[schedule] collect`` (e.g. ``"30 7 * * 1-5"``); the scheduled call
prepares (preparer: ``user``, default ``schedule``); the release is the review page's
("Lastschrifteinzug") or ``kasse collect --release``.
"""

from __future__ import annotations

import os
from typing import Any

for _name, _value in (("DO_NOT_TRACK", "1"), ("PREFECT_SERVER_ANALYTICS_ENABLED", "false"),
                      ("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "120")):
    os.environ.setdefault(_name, _value)

from prefect import flow  # noqa: E402  (the environment above must be set first)

from flows.dated_job import DatedJob, make_tasks, run_config  # noqa: E402

JOB = DatedJob("collect", "jobs.collect.steps", "collection_date", "next_collection_date", "SEPA collection run",
               ("read_ledger", "select", "files", "record", "reconcile", "stage", "book", "outbox", "done",
                "publish"))
TASKS: dict[str, Any] = make_tasks(JOB)


@flow(name="stadtkasse-collect", log_prints=True)
def collect(config: str, collection_date: str | None = None, user: str = "schedule",
            now: str | None = None) -> list[dict[str, Any]]:
    """The SEPA collection run of ONE tenant, its TOML ``config`` (path) (``collection_date`` ISO, default:
    the next one a file sent now reaches). ``now``: an ISO moment with its offset standing in for the
    clock (the demo's simulated day; a schedule never sets it)."""
    return run_config(JOB, TASKS, config, collection_date, user, now)
