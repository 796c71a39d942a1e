"""``kasse handoff``: the hand-off of enforceable claims to the enforcement office (issue 17 §2) on the ledger.

Two forms::

    kasse handoff --config TOML [--date DATE] [--user LOGIN]                    the ledger job
    kasse handoff --config TOML --release RUN_ID --users FILE --user LOGIN      four-eyes release

The first call for a hand-off day prepares the batch (:mod:`jobs.handoff`: the enforceable claims, one
case per debtor, the XML file validated against its XSD, the CSV and the Übergabeliste marked ENTWURF in
the run folder; nothing booked, nothing in the outbox); after a supervisor other than the preparer has
released it (``--release`` or the review page), the next call books the cases, their claims and the
surcharge accrued to the day once, copies the final batch with its manifest into the outbox for the
enforcement office and files each case's hand-off record in its case file. Without ``--date``: today
(``[schedule] timezone``), after booking what was released for earlier days.

Exit codes: 0 done; 2 usage error or a refusal (four-eyes, a message id in use, a fee number taken).
"""

from __future__ import annotations

import argparse
from typing import Any

from flows.job_cli import DatedCommand, add_dated_arguments, run_dated

COMMAND = DatedCommand("handoff", "run_handoff", "next_handoff_date", "handoff_date", "hand-off date",
                       ("n_cases", "n_new_cases", "n_claims", "n_file_claims", "total_cents", "n_fee_claims",
                        "skipped", "dropped"))


def register(subparsers: Any) -> None:
    """Add the ``handoff`` sub-command."""
    p = subparsers.add_parser("handoff", help="hand enforceable claims to the enforcement office: prepared, "
                                              "released, booked", description=__doc__,
                              formatter_class=argparse.RawDescriptionHelpFormatter)
    add_dated_arguments(p, COMMAND)
    p.set_defaults(run=run)


def describe(outcome: Any) -> str:
    """A few lines a treasurer reads after a run."""
    return COMMAND.describe(outcome)


def run(args: argparse.Namespace) -> int:
    """Entry point of ``kasse handoff``."""
    return run_dated(COMMAND, args)
