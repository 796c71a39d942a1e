"""Matching quality per case on the synthetic municipality; prints the table of docs/MATCHING.md (not a test).

    PYTHONPATH=. .venv/bin/python benchmarks/match_quality.py [--seeds 1 2 3] [--items 3000] [--mix 0.4]

For every seed: ``synth.generate`` (with ``--mix`` > 0 the round-two kinds of issue 14 make up that share
of the payments), the statements parsed, ``matching.match`` run on all of them at once, the result judged
against ``truth.parquet`` by :mod:`synth.quality`; the table sums the seeds. Also printed: the decidable
payments booked, the wrong allocations and the items allocated more than they owe. Exit 1 when anything
was allocated wrongly or an item over-paid, else 0.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

import polars as pl

from matching import load_match_config, match
from parsers import parse_paths
from parsers.open_items import load_open_items
from synth import generate
from synth.quality import judge, markdown, over_paid_items, per_case, totals, truth_by_transaction


def measure(seed: int, n_items: int, mix: float, work: Path) -> tuple[pl.DataFrame, int]:
    """(judged truth rows, number of over-paid items) of one generated set."""
    s = generate(work / f"seed{seed}", seed=seed, n_items=n_items, mix=mix)
    cfg = load_match_config(s.config)
    items, _ = load_open_items(s.open_items, tenant="musterstadt", config=cfg)
    parsed = parse_paths(list(s.statements), tenant="musterstadt")
    result = match(parsed.transactions, items, cfg)
    truth = truth_by_transaction(s.truth_frame(), parsed.transactions)
    return judge(truth, result.allocations, result.unresolved), over_paid_items(result.allocations, items).height


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 3])
    ap.add_argument("--items", type=int, default=3000)
    ap.add_argument("--mix", type=float, default=0.4, help="share of round-two payments (0 = the base set)")
    args = ap.parse_args(argv)
    judged: list[pl.DataFrame] = []
    over = 0
    with tempfile.TemporaryDirectory() as tmp:
        for seed in args.seeds:
            j, o = measure(seed, args.items, args.mix, Path(tmp))
            judged.append(j.select("case", "decidable", "expected", "booked", "exact", "wrong", "held_as"))
            over += o
    every = pl.concat(judged)
    print(f"seeds {', '.join(map(str, args.seeds))}; {args.items:,} base open items each; mix {args.mix}\n")
    print(markdown(per_case(every)))
    t = totals(every)
    share = t["decidable_booked"] / t["decidable_to_book"] if t["decidable_to_book"] else 1.0
    print(f"\n{t['decidable_booked']:,} of {t['decidable_to_book']:,} decidable payments that should be allocated "
          f"were allocated ({share:.1%}), {t['decidable_exact']:,} exactly as the truth says; "
          f"{t['wrong']:,} wrong allocations; {over:,} items over-paid; {t['rows']:,} rows.")
    return 1 if t["wrong"] or over else 0


if __name__ == "__main__":
    sys.exit(main())
