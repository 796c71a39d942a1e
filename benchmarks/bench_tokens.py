"""End to end (issue 20): ``kasse match`` against a plain token matcher on lxml, whole processes.

    .venv/bin/python benchmarks/bench_tokens.py [--days 2] [--entries 130000] [--items 500000] [--reps 3]
                                                [--shape bank_mix] [--work /tmp/bench_tokens]

Data: ``--items`` open items and ``--days`` booking days of ``--entries`` entries each (one payment
per entry, the payers' behaviour of ``benchmarks/match_data.py``), serialised in ``--shape`` (one of
``synth.camt_render.SHAPES``). A day is written as camt.053 files of at most ``--per-file`` entries,
so that none is over the ingest's 64 MiB file limit (a bigger file is rejected, and the run would time
a rejection: the script stops if ``kasse match`` reports one). The export is a CSV.

Contenders, alternating per repetition: ``kasse match --receivables items.csv --statements day*.xml
--out DIR`` (the CLI, whole process), and :func:`token_match`, what someone writes in an afternoon:
``csv`` into a dict Kassenzeichen -> (item, open amount), ``lxml.etree.iterparse`` over every ``Ntry``,
twelve-digit tokens (blanks, dots and dashes between the digits allowed) cut from the remittance by one
regular expression and looked up in the dict, the first hit booked whole, allocations written as CSV.
No check digit, no amount rule, no returns: it is the speed yardstick, not a rival in quality.
"""

from __future__ import annotations

import argparse
import csv
import os
import re
import statistics
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
_TOKEN = re.compile(r"(?<!\d)\d(?:[ .-]?\d){11}(?!\d)")
_SEPARATORS = str.maketrans("", "", " .-")


def token_match(items_csv: Path, statements: list[Path], out: Path) -> int:
    """The plain matcher; returns the number of payments it booked."""
    from lxml import etree

    open_items: dict[str, tuple[str, str]] = {}
    with open(items_csv, newline="", encoding="utf-8") as f:
        for row in csv.DictReader(f):
            open_items.setdefault(row["kassenzeichen"], (row["receivable_id"], row["amount"]))
    booked = 0
    with open(out, "w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(["bank_ref", "receivable_id", "amount"])
        for path in statements:
            for _, ntry in etree.iterparse(str(path), events=("end",), tag="{*}Ntry"):
                ns = ntry.tag[: ntry.tag.index("}") + 1] if ntry.tag.startswith("{") else ""
                text = " ".join(u.text or "" for u in ntry.iter(f"{ns}Ustrd"))
                for token in _TOKEN.findall(text):
                    hit = open_items.get(token.translate(_SEPARATORS))
                    if hit is not None:
                        writer.writerow([ntry.findtext(f"{ns}AcctSvcrRef"), hit[0], ntry.findtext(f"{ns}Amt")])
                        booked += 1
                        break
                ntry.clear()
                while ntry.getprevious() is not None:
                    del ntry.getparent()[0]
    return booked


def prepare(work: Path, days: int, entries: int, n_items: int, shape: str, per_file: int) -> list[Path]:
    """items.csv and the camt.053 files of each day (same data for every shape of one seed)."""
    import polars as pl

    sys.path.insert(0, str(ROOT))
    sys.path.insert(0, str(HERE))
    from match_data import open_items, payments

    from synth import camt_render
    from synth.accounts import TREASURY_ACCOUNTS
    from synth.bookings import StatementHeader

    work.mkdir(parents=True, exist_ok=True)
    items, bookings, _truth = payments(open_items(n_items), days * entries)
    items.with_columns(
        pl.format("{}.{}", pl.col("amount_cents") // 100, (pl.col("amount_cents") % 100).cast(pl.String).str.zfill(2))
        .alias("amount")
    ).drop("amount_cents", "kz_norm", "k").write_csv(work / "items.csv")
    bookings = bookings.with_columns(
        pl.col("bank_ref").alias("entry_ref"), pl.col("primanota").fill_null("9310"),
        pl.col("domain").fill_null("PMNT"), pl.col("family").fill_null("RCDT"), pl.col("subfamily").fill_null("ESCT"),
    )
    account = TREASURY_ACCOUNTS["volksbank"]
    files = []
    for day, first in ((d, k) for d in range(days) for k in range(0, entries, per_file)):
        path = work / f"day{day + 1}_{first // per_file + 1}_{shape}.xml"
        part = bookings.slice(day * entries + first, min(per_file, entries - first))
        balance = 1_000_000_00
        with open(path, "w", encoding="utf-8", newline="") as out:
            first = True
            for n, start in enumerate(range(0, part.height, 2000)):
                chunk = part.slice(start, 2000)
                number = day * 1000 + first // 2000 + n + 1
                header = StatementHeader(account, number, chunk["booking_date"][0], balance, f"B{day}{number:05d}")
                if first:
                    out.write(camt_render.reshape(camt_render.document_head(header, "08"), shape))
                    first = False
                out.write(camt_render.reshape(camt_render.render_statement(header, chunk, "08"), shape))
                balance += int(chunk["amount_cents"].sum() or 0)
            out.write(camt_render.reshape(camt_render.document_tail(), shape))
        files.append(path)
    return files


def _whole_process(cmd: list[str]) -> tuple[float, float, float]:
    """Wall seconds, CPU seconds and peak RSS (MB) of one child process."""
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.DEVNULL, env={**os.environ, "PYTHONPATH": str(ROOT)})
    _pid, status, usage = os.wait4(proc.pid, 0)
    if os.waitstatus_to_exitcode(status) not in (0, 1):  # kasse match exits 1 when payments stay unresolved
        raise SystemExit(f"{cmd[:4]} failed ({status})")
    return time.perf_counter() - start, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--days", type=int, default=2)
    ap.add_argument("--entries", type=int, default=130_000)
    ap.add_argument("--items", type=int, default=500_000)
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--shape", default="bank_mix")
    ap.add_argument("--per-file", type=int, default=30_000)
    ap.add_argument("--work", type=Path, default=Path("/tmp/bench_tokens"))
    ap.add_argument("--token-worker", nargs="+", type=Path, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.token_worker:
        items, out, *statements = args.token_worker
        print(token_match(items, statements, out))
        return
    files = prepare(args.work, args.days, args.entries, args.items, args.shape, args.per_file)
    items = args.work / "items.csv"
    kasse = [sys.executable, "-m", "flows.cli", "match", "--receivables", str(items), "--statements",
             *map(str, files), "--out", str(args.work / "out")]
    tokens = [sys.executable, __file__, "--token-worker", str(items), str(args.work / "tokens.csv"), *map(str, files)]
    runs: dict[str, list[tuple[float, float, float]]] = {"kasse match": [], "token matcher (lxml)": []}
    for _ in range(args.reps):
        for name, cmd in (("kasse match", kasse), ("token matcher (lxml)", tokens)):
            runs[name].append(_whole_process(cmd))
            print(f"  {name}: {runs[name][-1][0]:.1f} s wall", file=sys.stderr)
            rejected = [line for line in (args.work / "out" / "issues.csv").read_text(encoding="utf-8").splitlines()
                        if ";error;file." in line]
            if name == "kasse match" and rejected:
                raise SystemExit(f"kasse match rejected input files, nothing to compare: {rejected[0]}")
    ratio = statistics.median(a[0] / b[0] for a, b in zip(runs["kasse match"], runs["token matcher (lxml)"], strict=True))
    print(f"{args.days} × {args.entries:,} entries ({args.shape}), {args.items:,} open items; medians of {args.reps} "
          f"whole-process runs, alternating; {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f}\n")
    print("| contender | wall s | CPU s | peak RSS MB |\n|---|---:|---:|---:|")
    for name, r in runs.items():
        print(f"| {name} | {statistics.median(x[0] for x in r):.1f} | {statistics.median(x[1] for x in r):.1f} | "
              f"{max(x[2] for x in r):,.0f} |")
    print(f"\nkasse match ÷ token matcher (wall, median of paired runs): **{ratio:.2f}×** (goal ≤ 0.3×)")


if __name__ == "__main__":
    main()
