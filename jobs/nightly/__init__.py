"""The nightly reconciliation, the first job on the runner: inbox → match → day close → book → reports.

Public names::

    run_night(cfg, booking_date) -> dict     all steps of one tenant's night, without Prefect
    new_night(cfg, booking_date)             a run identity (jobs.runner.Run) for the steps one by one
    STEPS                                    (report key, step function) in the order of a night
    step_<name>(night)                       the steps (flows/nightly.py names each as a Prefect task)
"""

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
