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
import json
import sys
from pathlib import Path
from typing import Any

from claims.errors import KasseError
from flows.job_cli import add_release_arguments, iso_day, preparer, release_run


def register(subparsers: Any) -> None:
    """Add the ``payout`` sub-command."""
    p = subparsers.add_parser("payout", help="the SEPA payout run: set-off, then pain.001 refunds, released, booked",
                              description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--config", type=Path, metavar="TOML", required=True, help="tenant config")
    p.add_argument("--date", type=iso_day, metavar="DATE",
                   help="the execution date (default: the next one a file sent now reaches)")
    p.add_argument("--tenant", default=None, help="tenant (default: the config's [tenant] id)")
    add_release_arguments(p)
    p.add_argument("--json", action="store_true", help="print the outcome as JSON")
    p.set_defaults(run=run)


def describe(outcome: Any) -> str:
    """A few lines a treasurer reads after a run."""
    lines = [f"execution date {outcome.execution_date}: {outcome.status}"
             + (f", run {outcome.run_id}" if outcome.run_id else "")]
    if outcome.message:
        lines.append(f"  {outcome.message}")
    c = outcome.counts or {}
    for key in ("n_payouts", "total_cents", "n_setoffs", "setoff_cents", "n_letters", "skipped", "no_setoff",
                "dropped"):
        if c.get(key) not in (None, {}, []):
            lines.append(f"  {key}: {c[key]}")
    lines += [f"  {k}: {v}" for k, v in sorted((outcome.paths or {}).items())]
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    """Entry point of ``kasse payout``."""
    from claims.config import load_tenant_config
    from jobs.payout.steps import dates_to_run, next_execution_date, run_payout

    try:
        cfg = load_tenant_config(args.config, tenant=args.tenant)
        if args.release:
            from jobs.payout import release

            return release_run("payout", args, cfg, release)
        user = preparer(args)
        days = [args.date] if args.date else dates_to_run(cfg, next_execution_date(cfg))
        outcomes = [run_payout(cfg, d, user=user) for d in days]
    except KasseError as exc:
        print(f"kasse payout: {exc}", file=sys.stderr)
        return 2
    if args.json:
        print(json.dumps([{"status": o.status, "run_id": o.run_id, "execution_date": o.execution_date.isoformat(),
                           "counts": o.counts, "paths": o.paths, "message": o.message} for o in outcomes],
                         indent=2, sort_keys=True, default=str))
    else:
        print("\n".join(describe(o) for o in outcomes))
    return 0
