"""Set-off benchmark: N refunds against the debtors' open claims -> whose money each refund is, which claims
may be set off, the set-off itself with its letters (collection/setoff.py); prints figures (not a test).

    .venv/bin/python benchmarks/bench_setoff.py [--refunds 50000] [--claims 150000] [--repeat 3] [--docs]

The data is seeded and vectorised, with the shapes a treasury's refunds have, not only the easy one:
refunds whose payment paid claims of one debtor (most), of two debtors (a shared account: no set-off),
of nobody (an unknown payer); debtors with no claim due, one, or many (up to 40, oldest first); claims
not due yet, of a type that may not be set off, blocked by the export (Stundung) or by the block
journal, Amtshilfe claims; credits smaller and larger than what is due. Per step: the median wall time of
``--repeat`` runs, and the rows in and out. ``--docs`` writes the "Set-off" section of docs/BENCHMARKS.md.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

import polars as pl

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(ROOT))

from child import replace_section  # noqa: E402

from claims.config import SETOFF_CLAIM_TYPES, SETOFF_DESPITE_BLOCKS  # noqa: E402
from collection.setoff import credit_debtors, eligible_claims, set_off  # noqa: E402

ON = date(2026, 12, 10)
TYPES = ["GRUNDSTEUER", "GEWERBESTEUER", "ABFALL", "HUNDESTEUER", "KITA", "MAHNGEBUEHR", "BUSSGELD",
         "RUNDFUNK_AMTSHILFE"]


def _h(col: str, salt: int) -> pl.Expr:
    return (pl.col(col) * 2654435761 + salt) % 2**31


def generate(n_refunds: int, n_claims: int) -> dict[str, pl.DataFrame]:
    """credits, links (the payments' earlier allocations), claims, blocks (journal)."""
    n_debtors = max(1, n_claims // 4)
    c = pl.DataFrame({"i": pl.int_range(0, n_claims, eager=True)}).with_columns(_h("i", 7).alias("h"))
    claims = c.select(
        pl.format("R{}", pl.col("i")).alias("receivable_id"),
        pl.format("5.{}", 10**9 + pl.col("i")).alias("kassenzeichen"),
        # skewed: a few debtors hold many claims (up to ~40), most one to four
        pl.format("D{}", pl.when(pl.col("h") % 50 == 0).then(pl.col("h") % 200)
                  .otherwise(pl.col("h") % n_debtors)).alias("debtor_id"),
        pl.lit(pl.Series(TYPES)).gather(pl.col("h") % len(TYPES)).alias("claim_type"),
        (pl.col("h") % 90_000 + 500).cast(pl.Int64).alias("amount_cents"),
        (pl.lit(ON) + pl.duration(days=(pl.col("h") % 900) - 800)).alias("due_date"),   # 1 in 9 not due yet
        pl.when(pl.col("h") % 97 == 0).then(pl.lit("amtshilfe")).otherwise(pl.lit("export")).alias("origin"),
        pl.when(pl.col("h") % 41 == 0).then(pl.lit("STUNDUNG")).when(pl.col("h") % 43 == 0)
        .then(pl.lit("NIEDERSCHLAGUNG")).otherwise(None).alias("block_reason"),
        pl.lit(None, pl.Date).alias("dunning_block_until"),
        pl.lit("imp-1").alias("import_id"),
        pl.format("Name {}", pl.col("i") % n_debtors).alias("debtor_name"),
        pl.lit("Markt 1").alias("debtor_street"), pl.lit("33602").alias("debtor_postcode"),
        pl.lit("Musterstadt").alias("debtor_city"), pl.lit("DE").alias("debtor_country"))
    r = pl.DataFrame({"i": pl.int_range(0, n_refunds, eager=True)}).with_columns(_h("i", 11).alias("h"))
    credits = r.select(
        pl.lit("refund").alias("source"), pl.format("S{}", pl.col("i")).alias("source_id"),
        pl.format("T{}", pl.col("i")).alias("transaction_id"), pl.format("B{}", pl.col("i")).alias("bank_ref"),
        pl.lit(None, pl.String).alias("debtor_id"),
        (pl.col("h") % 200_000 + 100).cast(pl.Int64).alias("amount_cents"),     # small and large credits
        pl.lit("DE89370400440532013000").alias("payee_iban"),
        (pl.lit(ON) - pl.duration(days=pl.col("h") % 30)).alias("received_on"))
    # what each refund's payment paid before: one debtor (80 %), two debtors (10 %), nothing (10 %)
    kind = pl.col("h") % 10
    one = r.filter(kind < 9).select(pl.format("T{}", pl.col("i")).alias("transaction_id"),
                                    pl.format("R{}", pl.col("h") % n_claims).alias("receivable_id"),
                                    pl.lit(1000, pl.Int64).alias("amount_cents"))
    two = r.filter(kind == 8).select(pl.format("T{}", pl.col("i")).alias("transaction_id"),
                                     pl.format("R{}", (pl.col("h") * 7 + 3) % n_claims).alias("receivable_id"),
                                     pl.lit(500, pl.Int64).alias("amount_cents"))
    links = (pl.concat([one, two]).join(claims.select("receivable_id", "debtor_id"), on="receivable_id", how="left")
             .select("transaction_id", "receivable_id", "debtor_id", "amount_cents"))
    blocks = claims.filter(pl.col("receivable_id").str.slice(1).cast(pl.Int64) % 53 == 0).select(
        "receivable_id", pl.lit(None, pl.String).alias("debtor_id"), pl.lit("INSOLVENZ").alias("block_reason"),
        pl.lit(date(2026, 1, 1)).alias("block_from"), pl.lit(None, pl.Date).alias("block_until"))
    return {"credits": credits, "links": links, "claims": claims, "blocks": blocks}


def timed(fn: Callable[[], Any], repeat: int) -> tuple[float, Any]:
    times, out = [], None
    for _ in range(repeat):
        t = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times), out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--refunds", type=int, default=50_000)
    ap.add_argument("--claims", type=int, default=150_000)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--docs", action="store_true")
    a = ap.parse_args()
    d = generate(a.refunds, a.claims)
    t_who, credits = timed(lambda: credit_debtors(d["credits"], d["links"]), a.repeat)
    t_ok, ok = timed(lambda: eligible_claims(d["claims"], ON, claim_types=SETOFF_CLAIM_TYPES,
                                             despite_blocks=SETOFF_DESPITE_BLOCKS, blocks=d["blocks"]), a.repeat)
    t_set, out = timed(lambda: set_off(credits, ok, ON, letter_prefix="VM-bench-", decided_by="bench"), a.repeat)
    skipped = credits["setoff_skip"].value_counts(sort=True).drop_nulls()
    rows = [
        ("whose money (credit_debtors)", t_who, f"{a.refunds:,} refunds, {d['links'].height:,} earlier allocations",
         "skip: " + ", ".join(f"{k} {v:,}" for k, v in skipped.iter_rows())),
        ("claims that may be set off (eligible_claims)", t_ok, f"{a.claims:,} claims, {d['blocks'].height:,} blocks",
         f"{ok.height:,} eligible"),
        ("set-off, allocations, letters (set_off)", t_set, f"{credits.height:,} credits",
         f"{out.setoffs.height:,} set-offs, {out.letters.height:,} letters, "
         f"{int(out.setoffs['amount_cents'].sum() or 0) / 100:,.2f} € set off"),
    ]
    total = t_who + t_ok + t_set
    lines = ["| step | median wall (s) | in | out |", "|---|---:|---|---|"]
    lines += [f"| {name} | {t:.3f} | {i} | {o} |" for name, t, i, o in rows]
    lines.append(f"| **total** | **{total:.3f}** | | |")
    print("\n".join(lines))
    if a.docs:
        body = ("## Set-off\n\n"
                f"`.venv/bin/python benchmarks/bench_setoff.py --refunds {a.refunds} --claims {a.claims} "
                f"--repeat {a.repeat}` (medians of {a.repeat} runs; the generator's shapes are in the script's "
                "docstring: one-debtor, two-debtor and unknown payments, skewed claims per debtor, claims not due, "
                "of excluded types, blocked by the export or the journal, Amtshilfe):\n\n" + "\n".join(lines))
        replace_section(ROOT / "docs" / "BENCHMARKS.md", "Set-off", body)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
