"""The SEPA collection run (Lastschrifteinzug), a job on the runner: prepare → release (a second person) → book.

Public names::

    run_collect(cfg, collection_date, *, user) -> CollectOutcome   what the date needs next, without Prefect
    release(cfg, run_id, *, user, role) -> Release                 the four-eyes release of a prepared run
    plan_date(cfg, collection_date, *, user) -> Plan               the phase a call runs (flows/collect.py)
    STEPS                                                          phase -> (name, step) in order
    outcome(plan, results) -> CollectOutcome

See :mod:`jobs.collect.steps` and docs/SEPA_COLLECTION.md, "The collection job".
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from jobs.collect.steps import (
        STEPS,
        CollectOutcome,
        CollectRefused,
        Plan,
        outcome,
        plan_date,
        release,
        run_collect,
    )

__all__ = ["STEPS", "CollectOutcome", "CollectRefused", "Plan", "outcome", "plan_date", "release", "run_collect"]


def __getattr__(name: str) -> Any:
    """The public names, imported from :mod:`jobs.collect.steps` on first use (PEP 562), as in
    :mod:`jobs.dunning`: the CLI need not load the job's modules to parse its arguments."""
    if name not in __all__:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    from jobs.collect import steps

    return getattr(steps, name)
