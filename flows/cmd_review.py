"""``kasse review``: serve the clerks' review page (and ``--hash-password`` for the users file)."""

from __future__ import annotations

import argparse
import getpass
import sys
from pathlib import Path


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the ``review`` sub-command."""
    p = subparsers.add_parser("review", help="serve the clerks' review page over the published Klärungsliste",
                              description="Serve the review page. It reads <state_dir>/published/ and writes "
                                          "decisions to <state_dir>/journal/; it never opens the ledger.")
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    p.add_argument("--port", type=int, default=8080, help="port (default 8080)")
    p.add_argument("--config", type=Path, help="tenant TOML ([paths] state_dir, [review] settings)")
    p.add_argument("--users", type=Path, help="users TOML with argon2 hashes, roles and tenants")
    p.add_argument("--state-dir", type=Path, help="override [paths] state_dir")
    p.add_argument("--hash-password", action="store_true",
                   help="read a password (twice) and print its argon2 hash for the users file, then exit")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    """Serve until interrupted; 2 on a configuration problem (stated on stderr, no traceback)."""
    from claims.errors import ConfigError
    from review.config import load_review_config
    from review.users import UsersFileError, hash_password, load_users

    if args.hash_password:
        if sys.stdin.isatty():
            first = getpass.getpass("Passwort: ")
            if getpass.getpass("Noch einmal: ") != first:
                print("error: the two passwords differ", file=sys.stderr)
                return 2
        else:
            first = sys.stdin.readline().rstrip("\n")
        if len(first) < 8:
            print("error: use at least 8 characters", file=sys.stderr)
            return 2
        print(hash_password(first))
        return 0
    if args.users is None:
        print("error: --users FILE is required (make hashes with: kasse review --hash-password)", file=sys.stderr)
        return 2
    from flows.demo_users import is_demo_users_file, loopback_only

    if is_demo_users_file(args.users) and not loopback_only(args.host):
        print(f"error: {args.users} holds the demo's users; serve them on a loopback address only "
              "(--host 127.0.0.1)", file=sys.stderr)
        return 2
    try:
        config = load_review_config(args.config, state_dir=args.state_dir)
        users = load_users(args.users)
    except (ConfigError, UsersFileError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    import uvicorn

    from review.app import create_app

    print(f"review page on http://{args.host}:{args.port}/ (state: {config.state_dir})", file=sys.stderr)
    # proxy_headers=False: uvicorn would otherwise believe X-Forwarded-For from 127.0.0.1, and the login
    # throttle counts per client address; [review] trusted_proxies turns the header on in the app itself
    uvicorn.run(create_app(config, users, args.users), host=args.host, port=args.port, log_level="warning",
                server_header=False, proxy_headers=False)
    return 0
