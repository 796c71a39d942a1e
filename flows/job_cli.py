"""What the commands of the released jobs (``kasse dunning``, ``kasse collect``, ``kasse payout``) share: the
date argument, the who-prepares/who-releases arguments, the four-eyes release from the command line, and
the whole command of a dated job (:class:`DatedCommand`, :func:`run_dated`).

A release from the command line is no back door around the review page's four-eyes rule: the login must
be in the review page's users file, with its password (asked for, or ``$KASSE_PASSWORD`` for scripts),
a user of the tenant; the job's ``release`` then refuses the preparer and anyone not a supervisor.
"""

from __future__ import annotations

import argparse
import getpass
import importlib
import json
import os
import sys
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from claims.errors import KasseError

PASSWORD_ENV = "KASSE_PASSWORD"


def iso_day(text: str) -> date:
    """An ISO date argument (argparse type)."""
    try:
        return date.fromisoformat(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"expected an ISO date like 2026-12-08, got {text!r}") from exc


def add_release_arguments(p: argparse.ArgumentParser) -> None:
    """``--user``, ``--release RUN_ID`` and ``--users FILE``."""
    p.add_argument("--user", default=None, metavar="LOGIN",
                   help="who prepares (default: the OS user) or, with --release, who releases")
    p.add_argument("--release", metavar="RUN_ID", help="release a prepared run (a supervisor other than the preparer)")
    p.add_argument("--users", type=Path, metavar="FILE",
                   help=f"with --release: the review page's users file; the password is asked for (or ${PASSWORD_ENV})")


def release_run(command: str, args: argparse.Namespace, cfg: Any, release: Callable[..., Any]) -> int:
    """Authenticate ``--user`` against ``--users`` and call the job's ``release(cfg, run_id, user=, role=)``;
    the exit code (0 released, 2 refused), with the reason on stderr."""
    from ledger.journal import JournalError
    from review.users import UsersFileError, authenticate, load_users

    if args.users is None or args.user is None:
        print(f"kasse {command}: --release needs --users FILE and --user LOGIN (a supervisor)", file=sys.stderr)
        return 2
    try:
        users = load_users(args.users)
    except (UsersFileError, OSError) as exc:
        print(f"kasse {command}: {args.users}: {exc}", file=sys.stderr)
        return 2
    password = os.environ.get(PASSWORD_ENV) or getpass.getpass(f"password of {args.user}: ")
    user = authenticate(users, args.user, password)
    if user is None or cfg.tenant not in user.tenants:
        print(f"kasse {command}: {args.user}: wrong login or password, or not a user of tenant {cfg.tenant}",
              file=sys.stderr)
        return 2
    try:
        release(cfg, args.release, user=user.login, role=user.role)
    except (KasseError, JournalError) as exc:
        print(f"kasse {command}: {exc}", file=sys.stderr)
        return 2
    print(f"run {args.release} released by {user.login}; the next `kasse {command} --config …` books it")
    return 0


def preparer(args: argparse.Namespace) -> str:
    """Who prepares: ``--user``, else the OS user."""
    return str(args.user or getpass.getuser())


# --- the dated jobs (``kasse collect``, ``kasse payout``): one call per date, prepared → released → booked ---


@dataclass(frozen=True, slots=True)
class DatedCommand:
    """A dated job's command: its name (``jobs.<name>`` has ``release``, ``jobs.<name>.steps`` the rest),
    the plain call per date (``run_name``), the function giving the next date, the outcome's date field,
    what a date is called in the printout, and the counts printed."""

    name: str
    run_name: str
    next_date: str
    date_field: str
    date_label: str
    counts: tuple[str, ...]

    def describe(self, outcome: Any) -> str:
        """A few lines a treasurer reads after a run."""
        lines = [f"{self.date_label} {getattr(outcome, self.date_field)}: {outcome.status}"
                 + (f", run {outcome.run_id}" if outcome.run_id else "")]
        if outcome.message:
            lines.append(f"  {outcome.message}")
        c = outcome.counts or {}
        lines += [f"  {key}: {c[key]}" for key in self.counts if c.get(key) not in (None, {}, [])]
        lines += [f"  {k}: {v}" for k, v in sorted((outcome.paths or {}).items())]
        return "\n".join(lines)


def add_dated_arguments(p: argparse.ArgumentParser, cmd: DatedCommand) -> None:
    """``--config``, ``--date``, ``--tenant``, the release arguments and ``--json``."""
    p.add_argument("--config", type=Path, metavar="TOML", required=True, help="tenant config")
    p.add_argument("--date", type=iso_day, metavar="DATE",
                   help=f"the {cmd.date_label} (default: the next one a file sent now reaches)")
    p.add_argument("--tenant", default=None, help="tenant (default: the config's [tenant] id)")
    add_release_arguments(p)
    p.add_argument("--json", action="store_true", help="print the outcome as JSON")


def run_dated(cmd: DatedCommand, args: argparse.Namespace) -> int:
    """The command: ``--release`` releases; otherwise the job runs for ``--date``, or for every date released
    since and the next date a file sent now reaches. Exit 0 done, 2 a refusal (on stderr)."""
    from claims.config import load_tenant_config

    steps = importlib.import_module(f"jobs.{cmd.name}.steps")
    try:
        cfg = load_tenant_config(args.config, tenant=args.tenant)
        if args.release:
            return release_run(cmd.name, args, cfg, importlib.import_module(f"jobs.{cmd.name}").release)
        user = preparer(args)
        days = [args.date] if args.date else steps.dates_to_run(cfg, getattr(steps, cmd.next_date)(cfg))
        outcomes = [getattr(steps, cmd.run_name)(cfg, d, user=user) for d in days]
    except KasseError as exc:
        print(f"kasse {cmd.name}: {exc}", file=sys.stderr)
        return 2
    if args.json:
        print(json.dumps([{"status": o.status, "run_id": o.run_id, cmd.date_field: getattr(o, cmd.date_field).isoformat(),
                           "counts": o.counts, "paths": o.paths, "message": o.message} for o in outcomes],
                         indent=2, sort_keys=True, default=str))
    else:
        print("\n".join(cmd.describe(o) for o in outcomes))
    return 0
