"""``kasse exchange``: carry enforcement files between the configured tenants (issue 17 §4, the data centre's step).

``kasse exchange --config detmold.toml --config oerlinghausen.toml`` looks into each tenant's outbox and
moves the hand-off and updates files to the office tenant's inbox and the outcomes files back to the
creditor's (``jobs.exchange``): only when the file's header agrees with the tenants' ``[enforcement]``
settings (``office_tenant``, ``clients``, ``office_id``); anything else stays and is listed. Run it before
the nights (what arrived goes into them) and after them (what they wrote goes out). Plain, no Prefect: it
only moves files, it books nothing.

Exit 0: done; 1: some files were refused (they stay; the lines say why); 2: config error.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any


def register(subparsers: Any) -> None:
    """Add the ``exchange`` sub-command."""
    p = subparsers.add_parser("exchange", help="carry enforcement files between tenants (hand-off, updates, outcomes)",
                              description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--config", action="append", type=Path, required=True,
                   help="tenant TOML (repeat: every tenant taking part in the exchange)")
    p.add_argument("--json", action="store_true", help="print the files and counts as JSON")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    """Execute ``kasse exchange``."""
    from claims.config import load_tenant_config
    from claims.errors import ConfigError
    from jobs.exchange import exchange, summary

    try:
        rows = exchange([load_tenant_config(c) for c in args.config])
    except ConfigError as exc:
        print(f"kasse exchange: {exc}", file=sys.stderr)
        return 2
    report = summary(rows)
    if args.json:
        print(json.dumps(report, indent=1))
    else:
        for r in rows:
            to = f" -> {r.receiver}" if r.receiver else ""
            why = f": {r.reason}" if r.reason else ""
            print(f"{r.sender}{to} {r.status} {r.kind or '?'} {r.file}{why}")
        print("kasse exchange: " + (", ".join(f"{k} {v}" for k, v in sorted(report["counts"].items())) or "nothing to carry"),
              file=sys.stderr)
    return 1 if report["counts"].get("refused") else 0
