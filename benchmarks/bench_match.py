"""Matching benchmark: 1 M payments against 5 M open items; prints figures (not a test).

    .venv/bin/python benchmarks/bench_match.py [--payments 1000000] [--items 5000000] [--repeat 3]

Measures, each as the median of ``--repeat`` runs in a fresh child process (peak RSS = the child's):

* ``kasse match`` end to end: open-items Parquet + one MT940 file in, the output files written;
* the matching core alone: ``matching.match`` on the parsed frames, in a fresh process (``core``),
  and the median of the second and third of three calls in one process (``core_warm``: a process
  that has run once, as the nightly job's second tenant or day);
* loading the open-items export alone (``parsers.open_items.load_open_items``): the Parquet file, and
  with ``--csv`` the same export as a ``;`` CSV with decimal commas (written once into ``--work``);
* a fixed calibration workload (:func:`calibration`) first: the host's speed varies by half and more
  from hour to hour on shared machines, and figures of different runs compare only next to it;
* direct-debit returns: ``reverse_returns`` for 1,000 returns against the core's allocations as the
  earlier ones (:func:`returns_case`);
* a token-matching baseline on the same frames — whole remittance tokens of 4+ characters looked up
  as Kassenzeichen, the whole payment booked to the first hit (what the open ERP peers do; written
  set-based here, which is kinder to it than their one-payment-at-a-time look-ups).

Quality is judged against the generator's truth (benchmarks/match_data.py): booked, wrong, held.
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

import polars as pl

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))

from match_data import open_items, payments, score, write_mt940  # noqa: E402

#: The bank file of 1 M entries is about 140 MiB, above the default limit of 64 MiB per file (which keeps
#: every hostile input under 1 GB): the benchmark reads it with a higher one, as a user would with
#: ``kasse match --max-size-mib``.
BIG = 1 << 30


def prepare(work: Path, n_pay: int, n_items: int) -> None:
    """Generate the data once: items.parquet (export), truth.parquet, bank.sta (MT940)."""
    work.mkdir(parents=True, exist_ok=True)
    t = time.perf_counter()
    items = open_items(n_items)
    items, bookings, truth = payments(items, n_pay)
    export = items.with_columns(
        pl.format("{}.{}", pl.col("amount_cents") // 100, (pl.col("amount_cents") % 100).cast(pl.String).str.zfill(2)).alias("amount")
    ).drop("amount_cents", "kz_norm")
    export.write_parquet(work / "items.parquet")
    items.write_parquet(work / "items_truth.parquet")
    truth.write_parquet(work / "truth.parquet")
    write_mt940(bookings, work / "bank.sta")
    print(f"data: {items.height:,} open items, {bookings.height:,} bank entries "
          f"({(work / 'bank.sta').stat().st_size / 2**20:.0f} MiB MT940) in {time.perf_counter() - t:.1f} s", flush=True)


def _child(mode: str, work: Path) -> dict[str, object]:
    """Run one measurement in a fresh process; it prints one JSON line."""
    out = subprocess.run([sys.executable, __file__, "--child", mode, "--work", str(work)], cwd=ROOT,
                         capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def child(mode: str, work: Path) -> None:
    """The measured work of one child process."""
    from claims.claim import OPEN_ITEM_SCHEMA
    from flows.cmd_match import run_match
    from matching import load_match_config, match
    from parsers.schema import conform

    res: dict[str, object] = {}
    if mode == "calibrate":
        t = time.perf_counter()
        calibration()
        res = {"seconds": time.perf_counter() - t}
    elif mode == "e2e":
        t = time.perf_counter()
        summary = run_match(work / "items.parquet", [work / "bank.sta"], work / "out", max_bytes=BIG)
        res = {"seconds": time.perf_counter() - t, "split": summary["seconds"]}
    elif mode in ("load", "load_csv"):
        from parsers.open_items import load_open_items
        t = time.perf_counter()
        items, _ = load_open_items(work / ("items.parquet" if mode == "load" else "items.csv"))
        res = {"seconds": time.perf_counter() - t, "rows": items.height}
    elif mode == "parse":
        from parsers import parse_paths
        from parsers.open_items import load_open_items
        items, _ = load_open_items(work / "items.parquet")
        items.write_parquet(work / "items_loaded.parquet")
        parsed = parse_paths([work / "bank.sta"], max_bytes=BIG)
        if parsed.files["status"].to_list() != ["ok"]:
            raise SystemExit(f"bank.sta was not read: {parsed.issues}")
        parsed.transactions.write_parquet(work / "tx.parquet")
    else:
        tx = pl.read_parquet(work / "tx.parquet")
        items = conform(pl.read_parquet(work / "items_loaded.parquet"), OPEN_ITEM_SCHEMA)
        if mode == "core":
            t = time.perf_counter()
            r = match(tx, items, load_match_config(None))
            res = {"seconds": time.perf_counter() - t}
            r.allocations.write_parquet(work / "core_alloc.parquet")
            r.unresolved.write_parquet(work / "core_unres.parquet")
        elif mode == "core_warm":
            # the same call three times in one process: the later runs find the memory the first one
            # touched (a fresh process pays the kernel for every new page: about 1 s of system time here)
            secs = []
            for _ in range(3):
                t = time.perf_counter()
                match(tx, items, load_match_config(None))
                secs.append(time.perf_counter() - t)
            res = {"seconds": statistics.median(secs[1:]), "runs": [round(x, 2) for x in secs]}
        elif mode == "returns":
            rets, pool, kept = returns_case(work, items)
            from matching.returns import reverse_returns
            t = time.perf_counter()
            reversals, held = reverse_returns(rets, pool, kept, load_match_config(None))
            res = {"seconds": time.perf_counter() - t, "reversals": reversals.height, "held": held.height}
        else:
            t = time.perf_counter()
            alloc = token_baseline(tx, items)
            res = {"seconds": time.perf_counter() - t}
            alloc.write_parquet(work / "base_alloc.parquet")
    use = resource.getrusage(resource.RUSAGE_SELF)
    res["peak_rss_mib"] = use.ru_maxrss / 1024
    res["cpu_s"] = use.ru_utime + use.ru_stime  # whole child, including imports and reading the inputs
    print(json.dumps(res))


def returns_case(work: Path, items: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame]:
    """1,000 direct-debit returns (EREF = the Kassenzeichen) of payments the core booked to one item each,
    against all of the core's allocations (``core_alloc.parquet``) as the earlier allocations, and the
    items they name — the inputs of ``reverse_returns`` in a nightly run that has returns."""
    from matching.designate import KEPT
    from parsers.validity import digits
    alloc = pl.read_parquet(work / "core_alloc.parquet")
    rows = items["receivable_id"].is_in(alloc["receivable_id"].unique().implode()).arg_true()
    kept = items.select(pl.col(*KEPT, "kz_norm").gather(rows)).with_columns(rows.alias("_r"))
    pool = alloc.select(pl.col("transaction_id").rank("dense").cast(pl.UInt32), "receivable_id", "kassenzeichen",
                        "amount_cents")
    single = pool.filter(pl.len().over("transaction_id") == 1).head(1000)
    numbers = pl.int_range(2_000_000, 2_000_000 + single.height, eager=True, dtype=pl.UInt32)
    rets = pl.DataFrame({
        "transaction_id": numbers, "seq": numbers, "amount_cents": -single["amount_cents"],
        "original_amount_cents": pl.repeat(None, single.height, dtype=pl.Int64, eager=True),
        "remittance": pl.repeat("RUECKLASTSCHRIFT", single.height, eager=True),
        "end_to_end_id": single.select((pl.lit("KZ") + digits(pl.col("kassenzeichen"))).alias("e"))["e"],
        "creditor_ref": pl.repeat(None, single.height, dtype=pl.String, eager=True),
    })
    return rets, pool, kept


def calibration() -> int:
    """A fixed Polars workload (hashing, a join, a sort, string passes; no files) whose time says how fast
    the host is at the moment: the same code measured twice is comparable only with this next to it."""
    n = 2_000_000
    keys = pl.DataFrame({"k": pl.int_range(n, eager=True).hash(7) % (n // 2)})
    s = keys.select(pl.col("k").cast(pl.String).alias("s"), "k")
    probe = keys.head(n // 5).with_columns(pl.col("k").alias("p"))
    joined = probe.join(keys, on="k").height
    ordered = s.sort("s").height
    texts = s.select(pl.col("s").str.contains("12").sum().alias("a"), pl.col("s").str.replace_all("3", "x").str.len_bytes().sum().alias("b"))
    return joined + ordered + int(texts.item(0, 0))


def token_baseline(tx: pl.DataFrame, items: pl.DataFrame) -> pl.DataFrame:
    """Whole tokens (4+ characters) of the remittance looked up as Kassenzeichen; the payment is booked
    whole to the first item found (ERP peers: no check digit, no amount check, no order)."""
    credits = tx.filter(pl.col("booked") & (pl.col("amount_cents") > 0))
    tokens = (
        credits.select("transaction_id", "bank_ref", "amount_cents",
                       pl.col("remittance").fill_null("").str.split(" ").alias("tok"))
        .explode("tok")
        .filter(pl.col("tok").str.len_chars() >= 4)
    )
    hits = tokens.join(items.select("receivable_id", pl.col("kassenzeichen").alias("tok")), on="tok")
    return (
        hits.sort("transaction_id", "receivable_id").unique("transaction_id", keep="first")
        .select("transaction_id", "bank_ref", "receivable_id", "amount_cents")
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--payments", type=int, default=1_000_000)
    ap.add_argument("--items", type=int, default=5_000_000)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--work", type=Path, default=Path("/tmp/bench_match"))
    ap.add_argument("--child", choices=["e2e", "parse", "core", "core_warm", "returns", "baseline", "load", "load_csv",
                                        "calibrate"])
    ap.add_argument("--csv", action="store_true", help="also measure loading the export as CSV")
    ap.add_argument("--reuse", action="store_true", help="keep the data already in --work (same sizes)")
    args = ap.parse_args()
    if args.child:
        child(args.child, args.work)
        return
    if not (args.reuse and (args.work / "tx.parquet").exists()):
        prepare(args.work, args.payments, args.items)
        _child("parse", args.work)
    modes = ["calibrate", "core", "core_warm", "returns", "baseline", "e2e", "load"]
    if args.csv:
        modes.append("load_csv")
        if not (args.work / "items.csv").exists():
            pl.read_parquet(args.work / "items.parquet").with_columns(
                pl.col("amount").str.replace(".", ",", literal=True)).write_csv(args.work / "items.csv", separator=";")
    figures: dict[str, dict[str, float]] = {}
    for mode in modes:
        runs = [_child(mode, args.work) for _ in range(args.repeat)]
        secs = [float(str(r["seconds"])) for r in runs]
        figures[mode] = {"median_s": round(statistics.median(secs), 2), "min_s": round(min(secs), 2),
                         "peak_rss_mib": round(max(float(str(r["peak_rss_mib"])) for r in runs)),
                         "child_cpu_s": round(statistics.median(float(str(r.get("cpu_s", 0))) for r in runs), 1)}
        print(f"{mode:9s} median {figures[mode]['median_s']:7.2f} s  (runs {', '.join(f'{s:.2f}' for s in secs)})  "
              f"peak RSS {figures[mode]['peak_rss_mib']:,.0f} MiB  child CPU {figures[mode]['child_cpu_s']} s"
              + (f"  split {runs[-1].get('split')}" if mode == "e2e" else "")
              + (f"  in-process runs {[r.get('runs') for r in runs]}" if mode == "core_warm" else ""),
              flush=True)
    items = pl.read_parquet(args.work / "items_truth.parquet")
    truth = pl.read_parquet(args.work / "truth.parquet")
    ours = score(pl.read_parquet(args.work / "core_alloc.parquet"), pl.read_parquet(args.work / "core_unres.parquet"), truth, items)
    base = score(pl.read_parquet(args.work / "base_alloc.parquet"), pl.DataFrame(), truth, items)
    for name, s in (("stadtkasse", ours), ("token baseline", base)):
        dec, booked = int(str(s["decidable"])), int(str(s["decidable_booked"]))
        print(f"{name:15s} decidable booked {booked:,}/{dec:,} = {booked / dec:.2%}; wrong payments {s['wrong']:,}; "
              f"items over-allocated {s['over_allocated_items']:,}")
    print(json.dumps({"figures": figures, "ours": ours, "baseline": base}, indent=1))


if __name__ == "__main__":
    main()
