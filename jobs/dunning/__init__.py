"""The weekly dunning run (Mahnlauf), a job on the runner: prepare → release (a second person) → book.

Public names::

    run_dunning(cfg, as_of, *, user) -> DunningOutcome   what the week of as_of needs next, without Prefect
    release(cfg, run_id, *, user, role) -> Release        the four-eyes release of a prepared run
    plan_week(cfg, as_of, *, user) -> Plan                the phase a call runs (flows/dunning.py)
    STEPS                                                 phase -> (name, step) in order
    outcome(plan, results) -> DunningOutcome

See :mod:`jobs.dunning.steps` and docs/DUNNING.md, "The ledger job".
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from jobs.dunning.steps import (
        STEPS,
        DunningOutcome,
        DunningRefused,
        Plan,
        outcome,
        plan_week,
        release,
        run_dunning,
    )

__all__ = ["STEPS", "DunningOutcome", "DunningRefused", "Plan", "outcome", "plan_week", "release", "run_dunning"]


def __getattr__(name: str) -> Any:
    """The public names, imported from :mod:`jobs.dunning.steps` on first use (PEP 562), as in
    :mod:`jobs.nightly`: the CLI need not load the job's modules to parse its arguments."""
    if name not in __all__:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    from jobs.dunning import steps

    return getattr(steps, name)
