"""The nightly reconciliation of ONE tenant as a Prefect 3 flow over the plain steps of ``jobs.nightly``.

read ledger → ingest → match → close → enforcement updates → **book** (the one write, one transaction) →
enforcement outbox → reports → publish → archive. Tasks hand each other only the run's identity; the
frames travel as Parquet in the run folder. Each tenant's night is its own flow run (``kasse nightly``
starts one per tenant, a work pool's workers run them in parallel: docs/OPERATIONS.md); a tenant's own
ledger file has one writer, its run. Artifacts link the report files.
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
#: A tenant's whole night is retried once more by the flow (a deployment's run: a lost lock, a full disk
#: mended meanwhile); safe because the booking is idempotent per run and a delivery is booked once.
FLOW_RETRIES = 1
FLOW_RETRY_DELAY = 30


# Tasks only where a retry or the run's page in the UI needs one (reading, ingest, the booking, what goes
# out after it, the archive); the computations between them are plain calls in the flow body: a task
# costs a few hundred milliseconds of API calls, more than the small tenant's computation it would wrap.
@task(name="read-ledger", retries=RETRIES, retry_delay_seconds=RETRY_DELAY, cache_policy=NO_CACHE)
def read_ledger(night: Run) -> str:
    return _job().step_read_ledger(night)


@task(name="ingest", retries=RETRIES, retry_delay_seconds=RETRY_DELAY, cache_policy=NO_CACHE)
def ingest(night: Run) -> dict[str, int]:
    return _job().step_ingest(night)


@task(name="book", retries=RETRIES, retry_delay_seconds=RETRY_DELAY, cache_policy=NO_CACHE)   # idempotent per run_id: a retry after a commit books nothing twice
def book(night: Run) -> dict[str, int]:
    return _job().step_book(night)


@task(name="publish", retries=RETRIES, retry_delay_seconds=RETRY_DELAY, cache_policy=NO_CACHE)
def publish(night: Run) -> dict[str, Any]:
    """After the commit: the enforcement outbox, the reports, the review page's snapshot (each rewrites
    the same files on a retry)."""
    steps = _job()
    return {"enforcement_outbox": steps.step_enforcement_outbox(night), "reports": steps.step_reports(night),
            "published": steps.step_publish(night)}


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
    """One tenant's night, under its lock: tasks for what touches files, plain calls for the computation."""
    from jobs.runner import tenant_lock

    steps = _job()
    night = steps.new_night(cfg, booking_date, mode="prefect", flow_run_id=str(runtime.flow_run.id or ""))
    with tenant_lock(cfg):
        read_ledger(night)
        files = ingest(night)
        matched = steps.step_match(night)
        closed = steps.step_close(night)
        updates = steps.step_enforcement(night)
        booked = book(night)
        after = publish(night)
        archived = archive(night)
    paths = after["reports"]
    report = steps.night_report(night, {"files": files, "match": matched, "close": closed, "enforcement": updates,
                                        "booked": booked, "enforcement_outbox": after["enforcement_outbox"],
                                        "reports": paths, "published": after["published"], "archived": archived})
    _artifacts(night, paths, report)
    return report


@flow(name="stadtkasse-nightly", log_prints=True, retries=FLOW_RETRIES, retry_delay_seconds=FLOW_RETRY_DELAY)
def nightly(config: str, booking_date: str | None = None, slot: bool = True) -> dict[str, Any]:
    """One tenant's nightly reconciliation: the tenant TOML ``config`` (its path; "" for ./kasse.toml's
    defaults), ``booking_date`` ISO (default yesterday). One flow run per tenant: a failing tenant stops no
    other, and a deployment's run holds the tenant's slot (``flows.tenant_slot``) unless ``slot`` is false
    (a night shift holds it around this run itself: ``flows.night_shift``)."""
    from contextlib import nullcontext

    from flows.tenant_slot import tenant_slot

    cfg = load_tenant_config(Path(config) if config else None)
    day = date.fromisoformat(booking_date) if booking_date else _job().default_booking_date()
    with tenant_slot(cfg.tenant) if slot else nullcontext():
        return run_tenant(cfg, day)
