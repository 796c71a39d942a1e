"""``kasse payout``: the SEPA payout run — set-off (Aufrechnung), then refunds by pain.001 — on the ledger.

Two forms::

    kasse payout --config TOML [--date DATE] [--user LOGIN]                    the ledger job
    kasse payout --config TOML --release RUN_ID --users FILE --user LOGIN      four-eyes release

The first call for an execution date prepares the run (:mod:`jobs.payout`: the set-off against the
debtors' due claims, the pain.001 file in the run folder, XSD-validated, the draft Verrechnungsmitteilungen;
nothing booked, nothing in the outbox); after a supervisor other than the preparer has released it
(``--release``), the next call books the payouts, set-offs and their allocations once and copies the file
with a manifest into the outbox. Without ``--date``: the next execution date a file sent now still reaches,
after booking what was released for earlier dates.

Exit codes: 0 done; 2 usage error or a refusal (no account, a text the bank would refuse, four-eyes).
"""

from __future__ import annotations

import argparse
from typing import Any

from flows.job_cli import DatedCommand, add_dated_arguments, run_dated

COMMAND = DatedCommand("payout", "run_payout", "next_execution_date", "execution_date", "execution date",
                       ("n_payouts", "total_cents", "n_setoffs", "setoff_cents", "n_letters", "skipped", "no_setoff",
                        "dropped", "names_converted"))


def register(subparsers: Any) -> None:
    """Add the ``payout`` sub-command."""
    p = subparsers.add_parser("payout", help="the SEPA payout run: set-off, then pain.001 refunds, released, booked",
                              description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_dated_arguments(p, COMMAND)
    p.set_defaults(run=run)


def describe(outcome: Any) -> str:
    """A few lines a treasurer reads after a run."""
    return COMMAND.describe(outcome)


def run(args: argparse.Namespace) -> int:
    """Entry point of ``kasse payout``."""
    return run_dated(COMMAND, args)
