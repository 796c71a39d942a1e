"""The nightly reconciliation as a Prefect 3 flow: each task is one call of a plain step in ``jobs.nightly``.

Per tenant: read ledger → ingest → match → close → enforcement updates → **book** (the one write, one
transaction) → enforcement outbox → reports → publish → archive. Tasks hand each other only the run's identity; the frames travel as
Parquet in the run folder. Tenants run one after the other inside one flow run, so exactly one process
(this one) writes the DuckDB file, one transaction at a time. Artifacts link the report files.
Callers in the same process may hold the ledger open around the flow (``ledger.db.hold``, as
``kasse nightly`` does) so that DuckDB checkpoints once per night instead of once per step.
"""

from __future__ import annotations

import os
from datetime import date
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Any

for _name, _value in (("DO_NOT_TRACK", "1"), ("PREFECT_SERVER_ANALYTICS_ENABLED", "false"),
                      ("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "120")):
    os.environ.setdefault(_name, _value)

from prefect import flow, runtime, task  # noqa: E402  (the environment above must be set first)
from prefect.artifacts import create_link_artifact, create_markdown_artifact  # noqa: E402
from prefect.cache_policies import NO_CACHE  # noqa: E402

from ledger.config import TenantConfig, load_tenant_config  # noqa: E402

if TYPE_CHECKING:
    from jobs.runner import Run


def _job() -> ModuleType:
    """The nightly job's steps (``jobs.nightly.steps``), imported when the flow runs.

    Not a module-level name here: Prefect keeps this module's flow and tasks in its registries until
    the interpreter ends, and a module-level reference from them to the job's modules kept DuckDB's
    bindings alive past their own shutdown check (38 lines of "nanobind: leaked …" after every run).
    """
    from jobs.nightly import steps

    return steps

#: Steps that touch files or the ledger file (which may be locked for a moment) are retried.
RETRIES = 2
RETRY_DELAY = 5


@task(name="read-ledger", retries=RETRIES, retry_delay_seconds=RETRY_DELAY, cache_policy=NO_CACHE)
def read_ledger(night: Run) -> str:
    return _job().step_read_ledger(night)


@task(name="ingest", retries=RETRIES, retry_delay_seconds=RETRY_DELAY, cache_policy=NO_CACHE)
def ingest(night: Run) -> dict[str, int]:
    return _job().step_ingest(night)


@task(name="match", cache_policy=NO_CACHE)
def match(night: Run) -> dict[str, int]:
    return _job().step_match(night)


@task(name="close", cache_policy=NO_CACHE)
def close(night: Run) -> dict[str, int]:
    return _job().step_close(night)


@task(name="enforcement-updates", cache_policy=NO_CACHE)
def enforcement(night: Run) -> dict[str, int]:
    return _job().step_enforcement(night)


@task(name="enforcement-outbox", retries=RETRIES, retry_delay_seconds=RETRY_DELAY, cache_policy=NO_CACHE)
def enforcement_outbox(night: Run) -> dict[str, int]:
    return _job().step_enforcement_outbox(night)


@task(name="book", retries=RETRIES, retry_delay_seconds=RETRY_DELAY, cache_policy=NO_CACHE)   # idempotent per run_id: a retry after a commit books nothing twice
def book(night: Run) -> dict[str, int]:
    return _job().step_book(night)


@task(name="reports", retries=RETRIES, retry_delay_seconds=RETRY_DELAY, cache_policy=NO_CACHE)
def reports(night: Run) -> dict[str, str]:
    return _job().step_reports(night)


@task(name="publish", retries=RETRIES, retry_delay_seconds=RETRY_DELAY, cache_policy=NO_CACHE)
def publish(night: Run) -> str:
    return _job().step_publish(night)


@task(name="archive", retries=RETRIES, retry_delay_seconds=RETRY_DELAY, cache_policy=NO_CACHE)
def archive(night: Run) -> list[str]:
    return _job().step_archive(night)


def _artifacts(night: Run, paths: dict[str, str], report: dict[str, Any]) -> None:
    """Markdown summary plus links to the day-close PDF and the Klärungsliste (the files are the report)."""
    key = f"nightly-{night.cfg.tenant}".lower().replace("_", "-")
    from outputs.night_summary import night_markdown

    lines = [f"# Nightly run {night.cfg.tenant} {night.booking_date.isoformat()}", "",
             f"run_id `{night.run_id}`", "", *night_markdown(report)]
    lines += ["Reports:", *[f"- {name}: `{p}`" for name, p in sorted(paths.items())]]
    create_markdown_artifact("\n".join(lines), key=key, description="Stadtkasse nightly run")
    for name, p in paths.items():
        if name.endswith(("pdf", "xlsx")) or p.endswith((".pdf", ".xlsx")):
            create_link_artifact(Path(p).resolve().as_uri(), link_text=Path(p).name,
                                 key=f"{key}-{Path(p).suffix.lstrip('.')}", description=name)


def run_tenant(cfg: TenantConfig, booking_date: date) -> dict[str, Any]:
    """One tenant's night: each step a task, named in order (the flow body is the pipeline)."""
    from jobs.runner import tenant_lock

    steps = _job()
    night = steps.new_night(cfg, booking_date, mode="prefect", flow_run_id=str(runtime.flow_run.id or ""))
    with tenant_lock(cfg):
        read_ledger(night)
        files = ingest(night)
        matched = match(night)
        closed = close(night)
        updates = enforcement(night)
        booked = book(night)
        sent = enforcement_outbox(night)
        paths = reports(night)
        published = publish(night)
        archived = archive(night)
    report = steps.night_report(night, {"files": files, "match": matched, "close": closed, "enforcement": updates,
                                        "booked": booked, "enforcement_outbox": sent, "reports": paths, "published": published, "archived": archived})
    _artifacts(night, paths, report)
    return report


@flow(name="stadtkasse-nightly", log_prints=True)
def nightly(configs: list[str], booking_date: str | None = None,
            tenants: list[str] | None = None) -> list[dict[str, Any]]:
    """Nightly reconciliation for every tenant config in ``configs`` (``booking_date`` ISO, default yesterday)."""
    day = date.fromisoformat(booking_date) if booking_date else _job().default_booking_date()
    chosen = [c for c in (load_tenant_config(Path(p) if p else None) for p in configs)
              if not tenants or c.tenant in tenants]
    return [run_tenant(cfg, day) for cfg in chosen]
