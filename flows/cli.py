"""``kasse``: one command line for every job of Stadtkasse.

Each sub-command lives in its own module ``flows/cmd_<name>.py`` exposing ``register(subparsers)``;
the module's ``run(args) -> int`` does the work by calling plain functions. Only the scheduled jobs
(``nightly``, ``serve``) touch Prefect, and they import it lazily so that ``parse``/``match`` start fast.
"""

from __future__ import annotations

import argparse
import importlib
import sys

from flows.help_text import clean_parser

#: Sub-command modules, in the order ``--help`` lists them. A module missing here is not offered.
COMMANDS = ("parse", "match", "generate", "nightly", "dunning", "collect", "payout", "demo", "serve", "deploy", "night", "review",
            "documents", "handoff", "exchange", "enforcement_report")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="kasse",
        description="Stadtkasse: bank statements, matching, daily closing, dunning and SEPA collection for a "
                    "municipal treasury.",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMANDS:
        try:
            module = importlib.import_module(f"flows.cmd_{name}")
        except ModuleNotFoundError as exc:
            if exc.name == f"flows.cmd_{name}":
                continue
            raise
        module.register(sub)
    clean_parser(parser)                 # descriptions are docstrings: no reST markup on a terminal
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "command", None):
        parser.print_help()
        return 2
    code: int = args.run(args)
    return code


if __name__ == "__main__":
    sys.exit(main())
