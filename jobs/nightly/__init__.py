"""The nightly reconciliation, the first job on the runner: inbox → match → day close → book → reports.

Public names::

    run_night(cfg, booking_date) -> dict     all steps of one tenant's night, without Prefect
    new_night(cfg, booking_date)             a run identity (jobs.runner.Run) for the steps one by one
    STEPS                                    (report key, step function) in the order of a night
    step_<name>(night)                       the steps (flows/nightly.py names each as a Prefect task)
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from jobs.nightly.steps import (
        STEPS,
        default_booking_date,
        new_night,
        night_report,
        run_night,
        step_archive,
        step_book,
        step_close,
        step_ingest,
        step_match,
        step_publish,
        step_read_ledger,
        step_reports,
    )

__all__ = [
    "STEPS", "default_booking_date", "new_night", "night_report", "run_night", "step_archive", "step_book",
    "step_close", "step_ingest", "step_match", "step_publish", "step_read_ledger", "step_reports",
]


def __getattr__(name: str) -> Any:
    """The public names, imported from :mod:`jobs.nightly.steps` on first use (PEP 562): a module that
    needs one light part of this package (``kasse`` itself needs ``inbox.UnsafeMove``) does not load the
    steps, which load the report writers (fpdf) and the frame schemas (dataframely, SQLAlchemy)."""
    if name not in __all__:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    from jobs.nightly import steps

    return getattr(steps, name)
