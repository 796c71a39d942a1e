"""``kasse nightly``: the nightly reconciliation for one booking date, in-process.

Default: the real Prefect flow on Prefect's ephemeral API (no server, no network, no telemetry).
``--no-prefect`` runs the same plain steps without Prefect (debugging, quick demos).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from datetime import date
from pathlib import Path
from typing import Any

from ledger.booking import BookingConflict, LedgerWriteError
from ledger.config import ConfigError, load_tenant_config
from ledger.db import LedgerBusy, hold


def register(subparsers: Any) -> None:
    """Add the ``nightly`` sub-command."""
    p = subparsers.add_parser("nightly", help="run the nightly reconciliation for a booking date",
                              description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--date", type=date.fromisoformat, default=None,
                   help="booking date YYYY-MM-DD (default: yesterday)")
    p.add_argument("--config", action="append", type=Path, default=None,
                   help="tenant TOML (repeat for several tenants; default ./kasse.toml if present)")
    p.add_argument("--tenant", action="append", default=None, help="run only this tenant (repeatable)")
    p.add_argument("--no-prefect", action="store_true", help="run the plain steps without Prefect")
    p.add_argument("--json", action="store_true", help="print the run report as JSON")
    p.add_argument("--fail-at", default=None, help=argparse.SUPPRESS)   # failure injection for tests
    p.set_defaults(run=run)


def config_paths(given: list[Path] | None) -> list[Path | None]:
    """The configs to run: those given, else ./kasse.toml, else the built-in defaults (None)."""
    if given:
        return list(given)
    return [Path("kasse.toml")] if Path("kasse.toml").is_file() else [None]


@contextmanager
def holding(configs: list[Path | None]) -> Iterator[None]:
    """Hold every ledger file of ``configs`` open while the block runs (one checkpoint per night)."""
    with ExitStack() as stack:
        for ledger in sorted({load_tenant_config(c).ledger for c in configs}):
            stack.enter_context(hold(ledger))
        yield


def run_reports(configs: list[Path | None], day: date, *, tenants: list[str] | None, prefect: bool,
                fail_at: str | None = None) -> list[dict[str, Any]]:
    """Run the night for every config (Prefect flow or plain steps); return the run reports."""
    if prefect:
        from flows.nightly import nightly

        with holding(configs):
            return nightly(configs=[str(c) if c else "" for c in configs], booking_date=day.isoformat(),
                           tenants=tenants, fail_at=fail_at)
    from ledger.night import run_night

    out = []
    with holding(configs):
        for c in configs:
            cfg = load_tenant_config(c)
            if not tenants or cfg.tenant in tenants:
                out.append(run_night(cfg, day, fail_at=fail_at))
    return out


def describe(report: dict[str, Any]) -> str:
    """A few lines for people: what came in, what was booked, where the reports are."""
    files, m = report.get("files", {}), report.get("match", {})
    lines = [
        f"{report['tenant']} {report['booking_date']} run {report['run_id']}",
        "  files: " + ", ".join(f"{k} {v}" for k, v in files.items()),
        f"  allocations {m.get('n_allocations', 0)}, unresolved {m.get('n_unresolved', 0)}, "
        f"clerk decisions {m.get('n_decisions', 0)} ({m.get('n_decisions_rejected', 0)} rejected)",
    ]
    for name, p in sorted((report.get("reports") or {}).items()):
        if str(p).endswith((".pdf", ".xlsx", ".html")):
            lines.append(f"  {name}: {p}")
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    """Execute ``kasse nightly``."""
    from ledger.night import default_booking_date

    day = args.date or default_booking_date()
    try:
        reports = run_reports(config_paths(args.config), day, tenants=args.tenant,
                              prefect=not args.no_prefect, fail_at=args.fail_at)
    except ConfigError as exc:
        print(f"kasse nightly: {exc}", file=sys.stderr)
        return 2
    except (LedgerBusy, BookingConflict) as exc:
        print(f"kasse nightly: {exc}; nothing was booked, run the night again later", file=sys.stderr)
        return 3
    except LedgerWriteError as exc:
        print(f"kasse nightly: {exc}; free space (or mend the disk), then run the night again", file=sys.stderr)
        return 4
    if args.json:
        print(json.dumps(reports, indent=1, default=str))
    else:
        for r in reports:
            print(describe(r))
    return 0
