"""``kasse nightly``: the nightly reconciliation for one booking date, in-process.

Default: the real Prefect flow on Prefect's ephemeral API (no server, no network, no telemetry).
``--no-prefect`` runs the same plain steps without Prefect (debugging, quick demos).

Exit 0: done; 1: booked, but an inbox move was refused (outside the tenant's folders); 2: config
error (no config file, a tenant's inbox folder missing, a ledger of a newer release); 3: the ledger
or the tenant is busy (nothing booked); 4: the ledger is missing or holds less than the last commit recorded
(nothing run: restore it from the backup).
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

from claims.config import load_tenant_config
from claims.errors import ConfigError
from jobs.nightly.inbox import UnsafeMove
from jobs.runner import TenantBusy
from ledger.booking import BookingConflict, LedgerWriteError
from ledger.config import check_inbox
from ledger.db import LedgerBusy, hold
from ledger.marker import LedgerMissing, check_ledger_file
from ledger.migrations import LedgerTooNew


def register(subparsers: Any) -> None:
    """Add the ``nightly`` sub-command."""
    p = subparsers.add_parser("nightly", help="run the nightly reconciliation for a booking date",
                              description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--date", type=date.fromisoformat, default=None,
                   help="booking date YYYY-MM-DD (default: yesterday)")
    p.add_argument("--config", action="append", type=Path, default=None,
                   help="tenant TOML (repeat for several tenants; default ./kasse.toml)")
    p.add_argument("--tenant", action="append", default=None, help="run only this tenant (repeatable)")
    p.add_argument("--no-prefect", action="store_true", help="run the plain steps without Prefect")
    p.add_argument("--json", action="store_true", help="print the run report as JSON")
    p.set_defaults(run=run)


def config_paths(given: list[Path] | None) -> list[Path | None]:
    """The configs to run: those given, else ./kasse.toml (a :class:`ConfigError` when it is missing:
    a night never runs on built-in defaults, which would start a ledger for a tenant "default")."""
    if given:
        return list(given)
    default = Path("kasse.toml")
    if not default.is_file():
        raise ConfigError(f"no tenant config: {default.resolve()} not found; run in the folder that holds "
                          "kasse.toml, or pass one with --config FILE (repeatable)")
    return [default]


@contextmanager
def holding(configs: list[Path | None]) -> Iterator[None]:
    """Hold every ledger file of ``configs`` open while the block runs (one checkpoint per night)."""
    with ExitStack() as stack:
        cfgs = [load_tenant_config(c) for c in configs]
        for cfg in cfgs:
            check_inbox(cfg)                # before the ledger is opened: opening would create it
            check_ledger_file(cfg)
        for ledger in sorted({cfg.ledger for cfg in cfgs}):
            stack.enter_context(hold(ledger))
        yield


def run_reports(configs: list[Path | None], day: date, *, tenants: list[str] | None,
                prefect: bool) -> list[dict[str, Any]]:
    """Run the night for every config (Prefect flow or plain steps); return the run reports."""
    if prefect:
        from flows.nightly import nightly

        one = nightly.with_options(retries=0)       # a person at the terminal runs it again, not the flow
        with holding(configs):
            return [one(config=str(c) if c else "", booking_date=day.isoformat()) for c in configs
                    if not tenants or load_tenant_config(c).tenant in tenants]     # one flow run per tenant
    from jobs.nightly import run_night

    out = []
    with holding(configs):
        for c in configs:
            cfg = load_tenant_config(c)
            if not tenants or cfg.tenant in tenants:
                out.append(run_night(cfg, day))
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
    from jobs.nightly import default_booking_date

    day = args.date or default_booking_date()
    try:
        reports = run_reports(config_paths(args.config), day, tenants=args.tenant,
                              prefect=not args.no_prefect)
    except (ConfigError, LedgerTooNew) as exc:
        print(f"kasse nightly: {exc}", file=sys.stderr)
        return 2
    except (LedgerBusy, BookingConflict, TenantBusy) as exc:
        print(f"kasse nightly: {exc}; nothing was booked, run the night again later", file=sys.stderr)
        return 3
    except LedgerMissing as exc:
        print(f"kasse nightly: {exc}", file=sys.stderr)
        return 4
    except UnsafeMove as exc:
        print(f"kasse nightly: booked, but {exc}", file=sys.stderr)
        return 1
    except LedgerWriteError as exc:
        print(f"kasse nightly: {exc}; free space (or mend the disk), then run the night again", file=sys.stderr)
        return 5
    if args.json:
        print(json.dumps(reports, indent=1, default=str))
    else:
        for r in reports:
            print(describe(r))
    return 0
