"""``kasse enforcement-report``: the enforcement reports of a tenant as files.

    kasse enforcement-report --config TOML [--date DATE] [--since DATE] [--publish]

Writes into ``<reports>/<tenant>/<DATE>/enforcement/berichte`` (``jobs.enforcement_report``): the key
figures against the gpaNRW comparison values (Parquet, XLSX), the limitation warning list (XLSX, CSV,
Parquet) and the Forderungsbewertung (XLSX, a PDF summary page), with a manifest. ``--date`` is the day of
the figures, the limitation and the valuation (default: today), ``--since`` the first day of the figures'
period (default: 364 days before, a year). ``--publish`` also publishes the cases and the warnings for the
review page (the nightly run does that every night). Only reads the ledger.

Exit codes: 0 done; 2 configuration problem or a ledger that is not the one the last commit left.
"""

from __future__ import annotations

import argparse
import sys
from datetime import date
from pathlib import Path
from typing import Any


def register(subparsers: Any) -> None:
    """Add the ``enforcement-report`` sub-command."""
    p = subparsers.add_parser("enforcement-report", help="enforcement key figures, limitation warnings, "
                              "Forderungsbewertung as files", description=__doc__,
                              formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--config", type=Path, required=True, help="tenant TOML")
    p.add_argument("--date", type=date.fromisoformat, default=None, help="the report day (default: today)")
    p.add_argument("--since", type=date.fromisoformat, default=None,
                   help="first day of the key figures' period (default: a year before --date)")
    p.add_argument("--publish", action="store_true", help="also publish the cases for the review page")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    """Entry point of ``kasse enforcement-report``."""
    from claims.config import load_tenant_config
    from claims.errors import KasseError
    from jobs.enforcement_report import publish_state, write_reports
    from ledger.marker import LedgerMissing

    as_of = args.date or date.today()
    if args.since is not None and args.since > as_of:
        print(f"error: --since {args.since} is after --date {as_of}", file=sys.stderr)
        return 2
    try:
        cfg = load_tenant_config(args.config)
        paths = write_reports(cfg, as_of, args.since)
        if args.publish:
            publish_state(cfg, on=as_of)
    except (KasseError, LedgerMissing) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    for name, path in sorted(paths.items()):
        print(f"{cfg.tenant}: {name} -> {path}")
    return 0
