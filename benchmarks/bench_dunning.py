"""Dunning benchmark: selection and amounts (``dunning.select``) over N open items of N/5 debtors; prints
figures (not a test).

    .venv/bin/python benchmarks/bench_dunning.py [--items 1000000] [--repeat 3] [--docs]

The data is generated once (vectorised, seeded) into ``--work`` as Parquet: the open items (a mix of
claim types, 1 % private law, due dates over 18 months, 1 % with an export block, 2 % with a later
Bekanntgabe), earlier notices for a fifth of the items, partial payments for 2 %, blocks set elsewhere
for 0,5 % of the debtors, and unresolved payments (candidates and IBANs) touching 0,5 % of the debtors.
Each measurement runs in a fresh child process: it reads the Parquet files (``load`` seconds, not part
of the figure) and calls ``select`` (``select`` seconds, the median of ``--repeat`` children); the
child's peak RSS is the figure's memory. ``--docs`` writes the "Dunning: selection and amounts" section
of docs/BENCHMARKS.md.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from datetime import date
from pathlib import Path

import polars as pl

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(ROOT))

from child import replace_section, run_child  # noqa: E402

RUN = date(2026, 12, 8)
TYPES = ["GRUNDSTEUER", "GEWERBESTEUER", "HUNDESTEUER", "ABFALL", "ABWASSER", "STRASSENREINIGUNG",
         "VERWALTUNGSGEBUEHR", "BUSSGELD", "KITA", "MAHNGEBUEHR", "SAEUMNISZUSCHLAG"]


def generate(work: Path, n: int) -> None:
    """The frames of one run, written as Parquet into ``work``."""
    work.mkdir(parents=True, exist_ok=True)
    i = pl.int_range(0, n, eager=True).alias("i")
    h = (i * 2654435761) % 2**32                                   # a cheap deterministic scatter
    debtors = max(n // 5, 1)
    claims = pl.DataFrame({"i": i, "h": h}).select(
        pl.format("R{}", pl.col("i")).alias("receivable_id"),
        pl.format("{}", 10**11 + pl.col("i")).alias("kassenzeichen"),
        pl.format("D{}", pl.col("h") % debtors).alias("debtor_id"),
        pl.lit(pl.Series(TYPES)).gather(pl.col("h") % len(TYPES)).alias("claim_type"),
        (pl.col("h") % 500_000 + 500).cast(pl.Int64).alias("amount_cents"),
        (pl.lit(RUN) - pl.duration(days=pl.col("h") % 540 - 20)).alias("due_date"),
        pl.when(pl.col("h") % 100 == 7).then(pl.lit("private")).otherwise(pl.lit("public")).alias("law"),
        pl.when(pl.col("h") % 50 == 3).then(pl.lit(RUN) - pl.duration(days=pl.col("h") % 20))
        .otherwise(None).alias("notice_date"),
        pl.when(pl.col("h") % 100 == 11).then(pl.lit(RUN) + pl.duration(days=pl.col("h") % 90 - 30))
        .otherwise(None).alias("dunning_block_until"),
        pl.when(pl.col("h") % 100 == 11).then(pl.lit("STUNDUNG")).otherwise(None).alias("block_reason"),
        pl.when(pl.col("h") % 3 == 0).then(pl.format("DE{}{}", pl.col("h") % 89 + 10,
                                                     (pl.col("h") % debtors).cast(pl.String).str.zfill(18)))
        .otherwise(None).alias("debtor_iban"),
    )
    claims.write_parquet(work / "claims.parquet")
    sample = claims.select("receivable_id", "due_date", "amount_cents", "debtor_id", "debtor_iban")
    sample.gather_every(5).select(
        "receivable_id",
        pl.when(pl.int_range(pl.len()) % 3 == 0).then(pl.lit("vollstreckungsankuendigung"))
        .otherwise(pl.lit("mahnung")).alias("level"),
        (pl.col("due_date") + pl.duration(days=14)).alias("notice_date"),
        pl.lit(670, pl.Int64).alias("mahngebuehr_cents"),
    ).write_parquet(work / "notices.parquet")
    sample.gather_every(50, offset=1).select(
        "receivable_id", (pl.col("due_date") + pl.duration(days=40)).alias("paid_on"),
        (pl.col("amount_cents") // 2).alias("amount_cents"),
    ).write_parquet(work / "payments.parquet")
    sample.gather_every(200, offset=2).select(
        pl.lit(None, pl.String).alias("receivable_id"), "debtor_id", pl.lit("INSOLVENZ").alias("block_reason"),
        pl.lit(None, pl.Date).alias("block_from"), pl.lit(None, pl.Date).alias("block_until"),
    ).write_parquet(work / "blocks.parquet")
    by_claim = sample.gather_every(400, offset=3).select(
        pl.format("T{}", pl.int_range(pl.len())).alias("transaction_id"),
        pl.lit(None, pl.String).alias("counterparty_iban"), "receivable_id")
    by_iban = sample.filter(pl.col("debtor_iban").is_not_null()).gather_every(400, offset=4).select(
        pl.format("U{}", pl.int_range(pl.len())).alias("transaction_id"),
        pl.col("debtor_iban").alias("counterparty_iban"), pl.lit(None, pl.String).alias("receivable_id"))
    pl.concat([by_claim, by_iban]).write_parquet(work / "pending.parquet")


def worker(work: Path) -> None:
    """One measured run (a child process): read the frames, select, print JSON."""
    from dunning.select import select

    t = time.perf_counter()
    frames = {name: pl.read_parquet(work / f"{name}.parquet")
              for name in ("claims", "notices", "payments", "blocks", "pending")}
    load = time.perf_counter() - t
    t, cpu = time.perf_counter(), time.process_time()
    sel = select(frames["claims"], RUN, notices=frames["notices"], payments=frames["payments"],
                 blocks=frames["blocks"], pending=frames["pending"])
    seconds, cpu = time.perf_counter() - t, time.process_time() - cpu
    reasons = dict(sel.skipped.group_by("reason").len().iter_rows())
    levels = dict(sel.selected.group_by("level").len().iter_rows())
    print(json.dumps({"load": load, "select": seconds, "select_cpu": cpu, "selected": sel.selected.height, "skipped": reasons,
                      "levels": levels, "fees_cents": int(sel.selected["mahngebuehr_cents"].sum()),
                      "sz_cents": int(sel.selected["saeumniszuschlag_cents"].sum())}))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--items", type=int, default=1_000_000)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--work", type=Path, default=Path("/tmp/bench_dunning"))
    ap.add_argument("--docs", action="store_true")
    ap.add_argument("--worker", nargs=2, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.worker:
        worker(Path(args.worker[1]))
        return
    work = args.work / str(args.items)
    t = time.perf_counter()
    generate(work, args.items)
    print(f"data: {args.items:,} open items, {args.items // 5:,} debtors in {time.perf_counter() - t:.1f} s",
          flush=True)
    runs = [run_child(__file__, "select", work) for _ in range(args.repeat)]
    best = runs[0]
    secs = statistics.median(r["select"] for r in runs)
    cpu = statistics.median(r["select_cpu"] for r in runs)
    rss = max(r["rss_mb"] for r in runs)
    busy = os.getloadavg()[0]
    print(f"select: median {secs:.2f} s of {[round(r['select'], 2) for r in runs]}, CPU {cpu:.2f} s, "
          f"load {best['load']:.2f} s, peak RSS {rss:.0f} MB; load average {busy:.1f}")
    print(f"selected {best['selected']:,} {best['levels']}; skipped {best['skipped']}")
    if args.docs:
        section = (
            "## Dunning: selection and amounts\n\n"
            f"`.venv/bin/python benchmarks/bench_dunning.py --items {args.items}` ({date.today():%Y-%m-%d}): "
            f"{args.items:,} open items of {args.items // 5:,} debtors (every claim type, 1 % private law, "
            "earlier notices for a fifth, partial payments for 2 %, blocks, unresolved payments) through "
            "`dunning.select` — the calendar shift, Säumniszuschlag / interest, blocks, held debtors, level "
            "and Mahngebühr of every claim. Each figure is the median of "
            f"{args.repeat} fresh child processes after reading the Parquet files; CPU = user + system "
            "seconds of all threads during `select` (the figure to compare on a busy host). 2 vCPU, shared: "
            f"load average {busy:.1f} during this run, so the wall time is mostly waiting for a core.\n\n"
            "| open items | select (wall) | select (CPU) | read Parquet (not included) | peak RSS | selected |\n"
            "|---:|---:|---:|---:|---:|---:|\n"
            f"| {args.items:,} | {secs:.2f} s | {cpu:.2f} s | {best['load']:.2f} s | {rss:.0f} MB | "
            f"{best['selected']:,} |\n"
        )
        replace_section(ROOT / "docs" / "BENCHMARKS.md", "Dunning: selection and amounts", section)


if __name__ == "__main__":
    main()
