"""The hand-off to the enforcement office (``kasse handoff``, issue 17 §2), a job on the runner:
prepare → release (four-eyes) → book → publish.

Public names::

    run_handoff(cfg, handoff_date, *, user) -> HandoffOutcome      what the day needs next, without Prefect
    release(cfg, run_id, *, user, role) -> Release                 the four-eyes release of a prepared run
    plan_date(cfg, handoff_date, *, user) -> Plan                  the phase a call runs (flows/handoff.py)
    STEPS                                                          phase -> (name, step) in order
    outcome(plan, results) -> HandoffOutcome

See :mod:`jobs.handoff.steps` and docs/ENFORCEMENT.md, "The hand-off job".
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from jobs.handoff.steps import (
        STEPS,
        HandoffOutcome,
        HandoffRefused,
        Plan,
        outcome,
        plan_date,
        release,
        run_handoff,
    )

__all__ = ["STEPS", "HandoffOutcome", "HandoffRefused", "Plan", "outcome", "plan_date", "release", "run_handoff"]


def __getattr__(name: str) -> Any:
    """The public names, imported from :mod:`jobs.handoff.steps` on first use (PEP 562), as in
    :mod:`jobs.payout`."""
    if name not in __all__:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    from jobs.handoff import steps

    return getattr(steps, name)
