"""Benchmark of the report step: day close, Klärungsliste, key figures and writing all files.

Builds a synthetic night in memory (N payments over A accounts and D days, a share of them unresolved)
and prints wall time per step. Run: ``.venv/bin/python benchmarks/bench_outputs.py [n_payments]``.
"""

from __future__ import annotations

import resource
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

import polars as pl

from matching.schema import ALLOCATION_SCHEMA, UNRESOLVED_SCHEMA
from outputs import day_close, key_figures, klaerungsliste, write_reports
from parsers.schema import STATEMENT_SCHEMA, TRANSACTION_SCHEMA, conform


def synthetic(n: int, accounts: int = 4, days: int = 5, unresolved_share: float = 0.08) -> dict[str, pl.DataFrame]:
    """A consistent night: statements whose balances match the payments, allocations, unresolved rows."""
    start = date(2024, 5, 13)
    i = pl.int_range(0, n, eager=True)
    base = pl.DataFrame({"i": i}).with_columns(
        pl.lit("musterstadt").alias("tenant"),
        ("DE0000000000000000000" + (pl.col("i") % accounts).cast(pl.String())).alias("account_iban"),
        (pl.lit(start) + pl.duration(days=(pl.col("i") // accounts) % days)).alias("booking_date"),
        pl.when(pl.col("i") % 17 == 0).then(-(pl.col("i") % 9_000 + 100)).otherwise(pl.col("i") % 50_000 + 500)
        .cast(pl.Int64()).alias("amount_cents"),
    ).with_columns(
        ("T" + pl.col("i").cast(pl.String())).alias("transaction_id"),
        (pl.col("account_iban") + "|" + pl.col("booking_date").cast(pl.String())).alias("statement_key"),
        pl.col("booking_date").alias("value_date"), pl.lit(True).alias("booked"), pl.lit("BOOK").alias("status"),
        pl.lit("EUR").alias("currency"), ("Zahler " + pl.col("i").cast(pl.String())).alias("counterparty_name"),
        pl.lit("DE89370400440532013000").alias("counterparty_iban"), pl.lit(True).alias("iban_valid"),
        ("KZ " + pl.col("i").cast(pl.String())).alias("remittance"), pl.lit("mt940").alias("source_format"),
        (pl.col("i") % 1000).cast(pl.Int32()).alias("entry_index"), pl.lit(0, pl.Int32()).alias("detail_index"),
    )
    transactions = conform(base, TRANSACTION_SCHEMA)
    per = base.group_by("tenant", "account_iban", "booking_date", "statement_key").agg(
        pl.col("amount_cents").sum().alias("entries_sum_cents")).sort("account_iban", "booking_date")
    per = per.with_columns(
        (pl.col("entries_sum_cents").cum_sum().over("account_iban") + 10_000_000).alias("closing_cents"),
    ).with_columns(
        (pl.col("closing_cents") - pl.col("entries_sum_cents")).alias("opening_cents"),
        pl.col("booking_date").alias("closing_date"), pl.col("booking_date").alias("opening_date"),
        pl.lit("statement").alias("kind"), pl.lit("EUR").alias("currency"),
        ((pl.col("booking_date") - pl.lit(start)).dt.total_days() + 1).alias("sequence_no"),
    ).with_columns(pl.col("sequence_no").cast(pl.String()).alias("statement_no"))
    statements = conform(per, STATEMENT_SCHEMA)
    inc = base.filter(pl.col("amount_cents") > 0)
    is_un = (pl.col("i") * 7919 % 1000) < int(unresolved_share * 1000)
    unresolved = conform(inc.filter(is_un).with_columns(
        pl.col("amount_cents").alias("unallocated_cents"), pl.lit("no_reference").alias("reason"),
        pl.lit("[]").alias("candidates")), UNRESOLVED_SCHEMA)
    allocations = conform(inc.filter(~is_un).with_columns(
        pl.lit("auto").alias("decided_by"), pl.lit("reference.exact").alias("rule"),
        ("R" + pl.col("i").cast(pl.String())).alias("receivable_id")), ALLOCATION_SCHEMA)
    return {"statements": statements, "transactions": transactions, "unresolved": unresolved,
            "allocations": allocations}


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 50_000
    f = synthetic(n)
    last = f["statements"]["closing_date"].max()
    assert isinstance(last, date)
    t0 = time.perf_counter()
    previous = None
    for k in range(5):
        d = last - timedelta(days=4 - k)
        dc = day_close(f["statements"], f["transactions"], f["unresolved"], booking_date=d, previous=previous)
        previous = dc if previous is None else pl.concat([previous, dc])
    t1 = time.perf_counter()
    kl = klaerungsliste(f["unresolved"], f["transactions"], as_of=last)
    t2 = time.perf_counter()
    kf = key_figures(f["transactions"], f["allocations"], f["unresolved"], as_of=last)
    t3 = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        write_reports(Path(tmp), tenant="musterstadt", booking_date=last, day_close=dc, klaerungsliste=kl,
                      key_figures=kf, run_id="bench")
        size = sum(p.stat().st_size for p in Path(tmp).iterdir())
    t4 = time.perf_counter()
    assert set(dc["status"]) == {"ok"}, dc
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"payments {n:,}  unresolved {kl.height:,}  accounts {dc.height}")
    print(f"day_close x5 days  {t1 - t0:6.2f} s")
    print(f"klaerungsliste     {t2 - t1:6.2f} s")
    print(f"key_figures        {t3 - t2:6.2f} s")
    print(f"write_reports      {t4 - t3:6.2f} s  ({size / 1e6:.1f} MB written)")
    print(f"peak RSS           {rss:6.0f} MiB")


if __name__ == "__main__":
    main()
