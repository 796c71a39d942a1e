"""SEPA pain benchmark: N collections -> one pain.008.001.08 file written and XSD-validated by our writer
(collection/pain008.py, collection/xsd.py), side by side with a plain sepaxml ``add_payment`` loop; prints
figures (not a test).

    .venv/bin/python benchmarks/bench_pain.py [--n 200000] [--sepaxml-n 20000] [--docs]

The collections are generated vectorised and seeded (two sequence types, a third without BIC, names with
umlauts and ``&``). Ours: ``write_pain008`` into a file in a temporary folder, then ``xsd.validate`` on
that file (streamed). sepaxml: ``SepaDD.add_payment`` for every row, then ``export(validate=False)``
(its ``validate=True`` runs xmlschema on the whole string, which the issue reports as breaking on large
files), at ``--sepaxml-n`` rows when that is smaller than N: the per-item figure is what compares. The
frame's conversion to dicts for sepaxml is not timed. Wall and CPU (user + system of the process) per
step; the goal of issue 16 is <= 20 s for 200,000 collections written and validated, on 2 cores.
``--docs`` writes the "SEPA: pain files" section of docs/BENCHMARKS.md.
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import date, datetime
from pathlib import Path
from typing import Any

import polars as pl

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(ROOT))

from child import replace_section  # noqa: E402

from collection import xsd  # noqa: E402
from collection.pain008 import Creditor, write_pain008  # noqa: E402

DAY = date(2026, 12, 10)
CREDITOR = Creditor(
    "Stadt Musterstadt Stadtkasse", "DE02120300000000202051", "DE98ZZZ09999999999", "BYLADEM1001"
)
NAMES = ["Jörg Müller & Söhne", "Erika Mustermann", "Straßenbau Meier GmbH", "Hans Schmidt", "Ätna Ölhandel"]


def generate(n: int) -> pl.DataFrame:
    i = pl.int_range(0, n, eager=True).alias("i")
    h = (i * 2654435761) % 2**32
    return pl.DataFrame({"i": i, "h": h}).select(
        pl.format("KZ5.{}-1", 10**9 + pl.col("i")).alias("end_to_end_id"),
        (pl.col("h") % 250_000 + 100).cast(pl.Int64).alias("amount_cents"),
        pl.format("MANDAT-{}", pl.col("i")).alias("mandate_id"),
        (pl.lit(date(2019, 1, 1)) + pl.duration(days=pl.col("h") % 2000)).alias("mandate_date"),
        pl.when(pl.col("h") % 10 == 0).then(pl.lit("FRST")).otherwise(pl.lit("RCUR")).alias("sequence_type"),
        pl.lit(pl.Series(NAMES)).gather(pl.col("h") % len(NAMES)).alias("debtor_name"),
        pl.lit("DE89370400440532013000").alias("debtor_iban"),
        pl.when(pl.col("h") % 3 == 0).then(None).otherwise(pl.lit("COBADEFFXXX")).alias("debtor_bic"),
        pl.format("Kassenzeichen 5.{} Grundsteuer Q4 2026", 10**9 + pl.col("i")).alias("remittance"),
    )


def timed(fn: Callable[[], Any]) -> tuple[float, float, Any]:
    t0, c0 = time.perf_counter(), os.times()
    out = fn()
    c1 = os.times()
    return time.perf_counter() - t0, (c1.user - c0.user) + (c1.system - c0.system), out


def sepaxml_run(frame: pl.DataFrame) -> bytes:
    from sepaxml import SepaDD

    config = {
        "name": CREDITOR.name,
        "IBAN": CREDITOR.iban,
        "BIC": CREDITOR.bic,
        "batch": True,
        "creditor_id": CREDITOR.creditor_id,
        "currency": "EUR",
    }
    rows = frame.to_dicts()
    dd = SepaDD(config, schema="pain.008.001.08", clean=True)
    for row in rows:
        payment = {
            "name": row["debtor_name"],
            "IBAN": row["debtor_iban"],
            "amount": row["amount_cents"],
            "type": row["sequence_type"],
            "collection_date": DAY,
            "mandate_id": row["mandate_id"],
            "mandate_date": row["mandate_date"],
            "description": row["remittance"],
            "endtoend_id": row["end_to_end_id"],
        }
        if row["debtor_bic"]:
            payment["BIC"] = row["debtor_bic"]
        dd.add_payment(payment)
    out: bytes = dd.export(validate=False)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--n", type=int, default=200_000)
    ap.add_argument("--sepaxml-n", type=int, default=20_000)
    ap.add_argument("--docs", action="store_true")
    args = ap.parse_args()
    frame = generate(args.n)
    xsd.schema("pain.008.001.08")  # loaded once per process; not part of the per-file figure
    load_wall, _, _ = timed(lambda: xsd.schema.__wrapped__("pain.008.001.08"))
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "out.xml"

        def write() -> Any:
            with path.open("wb") as sink:
                return write_pain008(
                    frame,
                    CREDITOR,
                    collection_date=DAY,
                    message_id="BENCH20261210",
                    created_at=datetime(2026, 12, 7, 6, 0),
                    sink=sink,
                )

        w_wall, w_cpu, info = timed(write)
        mb = path.stat().st_size / 1e6
        v_wall, v_cpu, _ = timed(lambda: xsd.validate(path))
    sn = min(args.sepaxml_n, args.n)
    small = frame.head(sn)
    s_wall, s_cpu, s_out = timed(lambda: sepaxml_run(small))
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    ours_wall, ours_cpu = w_wall + v_wall, w_cpu + v_cpu
    per_ours = ours_wall / args.n * 1e6
    per_sepa = s_wall / sn * 1e6
    print(
        f"collections {args.n:,}  file {mb:.1f} MB  count {info.count:,}  sum {info.control_sum_cents / 100:,.2f} EUR"
    )
    print(f"ours  write   {w_wall:6.2f} s wall {w_cpu:6.2f} s CPU")
    print(f"ours  validate{v_wall:6.2f} s wall {v_cpu:6.2f} s CPU  (schema load {load_wall:.2f} s, once)")
    print(f"ours  total   {ours_wall:6.2f} s wall {ours_cpu:6.2f} s CPU  {per_ours:.1f} µs/collection")
    print(
        f"sepaxml n={sn:,}: {s_wall:6.2f} s wall {s_cpu:6.2f} s CPU  {per_sepa:.1f} µs/collection  ({len(s_out) / 1e6:.1f} MB)"
    )
    per_write = w_wall / args.n * 1e6
    print(
        f"sepaxml ÷ ours per collection: {per_sepa / per_write:.1f}× (write) {per_sepa / per_ours:.1f}× (write+validate)"
    )
    print(f"peak RSS {rss:.0f} MB")
    if args.docs:
        load = os.getloadavg()[0]
        section = (
            "## SEPA: pain files\n\n"
            f"`.venv/bin/python benchmarks/bench_pain.py --n {args.n} --sepaxml-n {args.sepaxml_n} --docs` "
            f"({date.today().isoformat()}, load average {load:.1f}, 2 vCPU shared): {args.n:,} collections "
            "(two sequence types, a third without BIC) into one pain.008.001.08 file with "
            "`collection.pain008.write_pain008`, then `collection.xsd.validate` on the file (streamed, SEPA "
            "amount overlay); beside it a plain sepaxml loop (`SepaDD.add_payment` per row, "
            "`export(validate=False)`) at the row count given. One process; the schema is loaded once "
            f"({load_wall:.2f} s, not included). Goal of issue 16: ≤ 20 s for 200,000 written and validated.\n\n"
            "| step | collections | wall | CPU | µs per collection |\n|---|---:|---:|---:|---:|\n"
            f"| ours: write ({mb:.0f} MB) | {args.n:,} | {w_wall:.2f} s | {w_cpu:.2f} s | {w_wall / args.n * 1e6:.1f} |\n"
            f"| ours: XSD validate | {args.n:,} | {v_wall:.2f} s | {v_cpu:.2f} s | {v_wall / args.n * 1e6:.1f} |\n"
            f"| **ours: written + validated** | {args.n:,} | **{ours_wall:.2f} s** | {ours_cpu:.2f} s | {per_ours:.1f} |\n"
            f"| sepaxml add_payment + export | {sn:,} | {s_wall:.2f} s | {s_cpu:.2f} s | {per_sepa:.1f} |\n\n"
            f"Per collection (wall) sepaxml, which does not validate, takes {per_sepa / (w_wall / args.n * 1e6):.1f}× "
            f"our write alone and {per_sepa / per_ours:.1f}× our write plus validation; the validation (libxml2, "
            "streamed) is most of our time. Peak RSS of the process "
            f"{rss:.0f} MB. CPU seconds are the figure to compare on a busy host.\n"
        )
        replace_section(ROOT / "docs" / "BENCHMARKS.md", "SEPA: pain files", section)


if __name__ == "__main__":
    main()
