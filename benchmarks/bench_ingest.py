"""Ingest costs: detection per file, IBAN validity per row (vectorised vs schwifty), checks per statement.

Usage::

    .venv/bin/python benchmarks/bench_ingest.py [--rows 1000000] [--statements 100000] [--repeat 3]

Prints medians of ``--repeat`` runs. Detection runs over every sample file (and a 2 GB sparse file,
rejected from ``stat``); validity over ``--rows`` synthetic counterparty IBANs (a third of them
broken), compared with schwifty's ``IBAN(...).is_valid`` per value on a 20,000-row slice;
``check_statements`` over ``--statements`` statements of 100 accounts; ``parse_paths`` over the samples.
"""

from __future__ import annotations

import argparse
import random
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import polars as pl  # noqa: E402

from parsers.checks import check_statements  # noqa: E402
from parsers.detect import detect  # noqa: E402
from parsers.ingest import parse_paths  # noqa: E402
from parsers.schema import STATEMENT_SCHEMA, conform  # noqa: E402
from parsers.validity import add_validity  # noqa: E402

SAMPLES = ROOT.parent / "shared" / "samples"


def median_seconds(fn: Callable[[], object], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def ibans(n: int) -> list[str]:
    from schwifty import IBAN

    rng = random.Random(7)
    good = [str(IBAN.generate("DE", bank_code=f"{rng.randrange(10**8):08d}", account_code=str(rng.randrange(10**10))))
            for _ in range(1000)]
    out = []
    for i in range(n):
        v = good[i % len(good)]
        if i % 3 == 0:  # a typo: one digit changed
            pos = 4 + i % 18
            v = v[:pos] + str((int(v[pos]) + 1) % 10) + v[pos + 1 :]
        out.append(v)
    return out


def statements(n: int) -> pl.DataFrame:
    rows = []
    for i in range(n):
        acct, seq = i % 100, i // 100 + 1
        bal = seq * 1000
        rows.append({"tenant": "t", "account_iban": f"DE{acct:020d}", "currency": "EUR", "statement_no": f"{seq:05d}/001",
                     "sequence_no": seq, "page_no": 1, "kind": "statement",
                     "opening_date": date(2024, 1, 1) + timedelta(days=seq), "closing_date": date(2024, 1, 1) + timedelta(days=seq),
                     "opening_cents": bal, "closing_cents": bal + 1000, "entries_sum_cents": 1000 if i % 997 else 999,
                     "statement_key": f"{acct}|{seq}", "source_path": "bench"})
    return conform(pl.DataFrame(rows), STATEMENT_SCHEMA)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--statements", type=int, default=100_000)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()

    files = sorted(p for p in SAMPLES.rglob("*") if p.is_file())
    t = median_seconds(lambda: [detect(p) for p in files], args.repeat)
    print(f"detect: {len(files)} sample files in {t * 1000:.1f} ms = {t / len(files) * 1e6:.0f} µs per file")
    with tempfile.TemporaryDirectory() as tmp:
        big = Path(tmp) / "huge.sta"
        subprocess.run(["truncate", "-s", "2G", str(big)], check=True)
        t = median_seconds(lambda: detect(big), args.repeat)
        print(f"detect: 2 GB sparse file rejected ({detect(big).code}) in {t * 1e6:.0f} µs")

    values = ibans(args.rows)
    df = pl.DataFrame({"counterparty_iban": values, "counterparty_bic": ["COBADEFFXXX", None] * (args.rows // 2)})
    t_vec = median_seconds(lambda: add_validity(df), args.repeat)
    from schwifty import IBAN

    sl = values[:20_000]
    t_py = median_seconds(lambda: [IBAN(v, allow_invalid=True).is_valid for v in sl], 1) * len(values) / len(sl)
    valid = int(add_validity(df)["iban_valid"].sum())
    print(f"validity: {args.rows} rows in {t_vec:.3f} s ({args.rows / t_vec / 1e6:.1f} M rows/s, {valid} valid); "
          f"schwifty per value (extrapolated from 20,000): {t_py:.1f} s, ratio {t_py / t_vec:.0f}x")

    st = statements(args.statements)
    t = median_seconds(lambda: check_statements(st), args.repeat)
    n_issues = len(check_statements(st))
    print(f"check_statements: {args.statements} statements of 100 accounts in {t:.3f} s ({n_issues} balance errors)")

    t = median_seconds(lambda: parse_paths([SAMPLES]), 1)
    res = parse_paths([SAMPLES])
    print(f"parse_paths: {res.files.height} sample files ({res.transactions.height} rows) in {t:.2f} s "
          f"(parsers included)")


if __name__ == "__main__":
    main()
