"""``kasse documents``: check the case files' document store, and remove what has outlived its retention.

``kasse documents verify --config kasse.toml`` checks the tenant's store (``ledger.documents.verify``: the
index's hash chain and head, every object against its hash) and exits 1 when anything is wrong.
``kasse documents purge --config kasse.toml`` lists the objects whose retention (KomHVO § 59, ``[documents]``)
has ended; only with ``--apply`` are they removed, each removal recorded in the index. Nothing within its
retention period is ever removed.
"""

from __future__ import annotations

import argparse
import getpass
import sys
from datetime import date
from pathlib import Path


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the ``documents`` sub-command."""
    p = subparsers.add_parser("documents", help="verify the case files' document store, or purge expired documents",
                              description="Verify the tenant's document store (hash chain, objects), or remove "
                                          "documents whose retention period has ended (a dry run unless --apply).")
    p.add_argument("action", choices=("verify", "purge"))
    p.add_argument("--config", type=Path, help="tenant TOML ([paths] state_dir, [documents] retention)")
    p.add_argument("--today", type=date.fromisoformat, default=None, help="the day to purge as of (default: today)")
    p.add_argument("--apply", action="store_true", help="purge: really remove the expired documents")
    p.add_argument("--user", default=None, help="purge: who removes them (default: the login name)")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    """0: all is well (verify) or the purge ran; 1: problems found; 2: configuration problem."""
    from claims.config import load_tenant_config
    from claims.errors import ConfigError
    from ledger.documents import DocumentError, purge, verify

    try:
        cfg = load_tenant_config(args.config)
        if args.action == "verify":
            problems = verify(cfg.state_dir, cfg.tenant)
            for p in problems:
                print(f"{cfg.tenant}: {p}")
            print(f"{cfg.tenant}: document store {'has ' + str(len(problems)) + ' problem(s)' if problems else 'ok'}",
                  file=sys.stderr)
            return 1 if problems else 0
        result = purge(cfg.state_dir, cfg.tenant, today=args.today or date.today(), settings=cfg.documents,
                       user=args.user or getpass.getuser(), dry_run=not args.apply)
    except (ConfigError, DocumentError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    for sha in result.expired:
        print(f"{cfg.tenant}: {'would remove' if result.dry_run else 'removed'} {sha}")
    print(f"{cfg.tenant}: {len(result.expired)} expired, {result.kept} kept within retention"
          f"{' (dry run: nothing removed; --apply removes them)' if result.dry_run else ''}", file=sys.stderr)
    return 0
