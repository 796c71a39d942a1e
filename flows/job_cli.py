"""What the commands of the released jobs (``kasse dunning``, ``kasse collect``) share: the date argument,
the who-prepares/who-releases arguments, and the four-eyes release from the command line.

A release from the command line is no back door around the review page's four-eyes rule: the login must
be in the review page's users file, with its password (asked for, or ``$KASSE_PASSWORD`` for scripts),
a user of the tenant; the job's ``release`` then refuses the preparer and anyone not a supervisor.
"""

from __future__ import annotations

import argparse
import getpass
import os
import sys
from collections.abc import Callable
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
