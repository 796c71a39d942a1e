"""The SEPA payout run (set-off, then refunds by pain.001), a job on the runner: prepare → release → book.

Public names::

    run_payout(cfg, execution_date, *, user) -> PayoutOutcome     what the date needs next, without Prefect
    release(cfg, run_id, *, user, role) -> Release                 the four-eyes release of a prepared run
    plan_date(cfg, execution_date, *, user) -> Plan                the phase a call runs (flows/payout.py)
    STEPS                                                          phase -> (name, step) in order
    outcome(plan, results) -> PayoutOutcome

See :mod:`jobs.payout.steps` and docs/SEPA_PAYOUT.md.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from jobs.payout.steps import (
        STEPS,
        PayoutOutcome,
        PayoutRefused,
        Plan,
        outcome,
        plan_date,
        release,
        run_payout,
    )

__all__ = ["STEPS", "PayoutOutcome", "PayoutRefused", "Plan", "outcome", "plan_date", "release", "run_payout"]


def __getattr__(name: str) -> Any:
    """The public names, imported from :mod:`jobs.payout.steps` on first use (PEP 562), as in
    :mod:`jobs.collect`."""
    if name not in __all__:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    from jobs.payout import steps

    return getattr(steps, name)
