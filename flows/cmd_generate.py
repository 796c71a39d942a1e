"""``kasse generate --out DIR``: write the synthetic municipality (open items, bank files, ground truth).

Calls :func:`synth.generate` or :func:`synth.generate_scale` (with ``--payments``); ``--mix 0.4``
mixes in the round-two kinds of issue 14. The same options
give the same bytes. Exit 0 on success, 2 on usage errors (bad date, non-positive counts).
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
import time
from pathlib import Path
from typing import Any, TextIO


def register(subparsers: Any) -> None:
    """Add the ``generate`` sub-command."""
    p = subparsers.add_parser(
        "generate",
        help="write a synthetic municipality: open items, MT940/camt.053 statements and truth.parquet",
        description="Write a synthetic municipality into DIR: open_items.csv, statements/sparkasse/*.sta "
        "(MT940, ISO-8859-1), statements/volksbank/*.xml (camt.053.001.08), truth.parquet (the correct "
        "allocation of every booking), kasse.toml and README.md. Deterministic for a seed.",
    )
    p.add_argument("--out", required=True, metavar="DIR", help="output folder (created if missing)")
    p.add_argument("--seed", type=int, default=1, metavar="N", help="random seed (default 1)")
    p.add_argument("--items", type=int, default=3000, metavar="N", help="number of open items (default 3000)")
    p.add_argument("--days", type=int, default=5, metavar="N", help="booking days (default 5)")
    p.add_argument("--start", default="2026-11-16", metavar="YYYY-MM-DD", help="first booking day (default 2026-11-16)")
    p.add_argument("--tenant", default="musterstadt", metavar="T", help="tenant id (default musterstadt)")
    p.add_argument("--mix", type=float, default=0.0, metavar="SHARE",
                   help="share of round-two payments of issue 14 (designated amounts, contradicting payer, "
                   "European names, RF references …), e.g. 0.4; default 0: the base set")
    p.add_argument("--payments", type=int, default=None, metavar="N",
                   help="scale mode: N payments against --items open items (Parquet open items, fast)")
    p.set_defaults(run=run)


class Progress:
    """One line on a terminal, rewritten in place: ``[ 40 %] 3/8 MT940_…sta  (2.1 s)``.

    Only when stderr is a terminal (a log file or a pipe gets the final summary line only)."""

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream
        self.started = time.perf_counter()
        self.width = 0

    def __call__(self, what: str, done: int, total: int) -> None:
        pct = 100 * done // max(total, 1)
        line = f"[{pct:3d} %] {done}/{total} {what}  ({time.perf_counter() - self.started:.1f} s)"
        self.stream.write("\r" + line.ljust(self.width))
        self.stream.flush()
        self.width = len(line)

    def done(self) -> None:
        self.stream.write("\r" + " " * self.width + "\r")
        self.stream.flush()


def run(args: argparse.Namespace) -> int:
    """Generate the set; print what was written."""
    from synth import generate, generate_scale

    try:
        start = dt.date.fromisoformat(args.start)
    except ValueError:
        print(f"kasse generate: --start expects YYYY-MM-DD, got {args.start!r}", file=sys.stderr)
        return 2
    if args.items < 1 or args.days < 1 or (args.payments is not None and args.payments < 1):
        print("kasse generate: --items, --days and --payments must be positive", file=sys.stderr)
        return 2
    if not 0 <= args.mix < 1:
        print("kasse generate: --mix is a share from 0 to below 1", file=sys.stderr)
        return 2
    out = Path(args.out)
    progress = Progress(sys.stderr) if sys.stderr.isatty() else None
    if args.payments is not None:
        result = generate_scale(out, n_items=args.items, n_payments=args.payments, seed=args.seed, mix=args.mix,
                                progress=progress)
    else:
        result = generate(out, seed=args.seed, n_items=args.items, days=args.days, start=start, tenant=args.tenant,
                          mix=args.mix, progress=progress)
    if progress is not None:
        progress.done()
    print(f"{result.n_items} open items, {result.n_payments} bank bookings in {len(result.statements)} "
          f"statement files → {out}")
    return 0
