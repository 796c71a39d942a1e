"""``kasse collect``: the SEPA collection run (Lastschrifteinzug) on the ledger.

Two forms::

    kasse collect --config TOML [--date DATE] [--user LOGIN]                    the ledger job
    kasse collect --config TOML --release RUN_ID --users FILE --user LOGIN      four-eyes release

The first call for a collection date prepares the run (:mod:`jobs.collect`: selection, the pain.008
files in the run folder, XSD-validated; nothing booked, nothing in the outbox); after a supervisor other
than the preparer has released it (``--release``), the next call books the collection record once and
copies the files with a manifest into the outbox. Without ``--date``: the next collection date a file
sent now still reaches, after booking what was released for earlier dates.

Exit codes: 0 done; 2 usage error or a refusal (no creditor id, a text the bank would refuse, four-eyes).
"""

from __future__ import annotations

import argparse
from typing import Any

from flows.job_cli import DatedCommand, add_dated_arguments, run_dated

COMMAND = DatedCommand("collect", "run_collect", "next_collection_date", "collection_date", "collection date",
                       ("n_collections", "total_cents", "sequence", "skipped", "dropped", "names_converted"))


def register(subparsers: Any) -> None:
    """Add the ``collect`` sub-command."""
    p = subparsers.add_parser("collect", help="the SEPA collection run: pain.008 files, released, booked",
                              description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_dated_arguments(p, COMMAND)
    p.set_defaults(run=run)


def describe(outcome: Any) -> str:
    """A few lines a treasurer reads after a run."""
    return COMMAND.describe(outcome)


def run(args: argparse.Namespace) -> int:
    """Entry point of ``kasse collect``."""
    return run_dated(COMMAND, args)
