"""Letters benchmark: N dunning letters into ONE PDF (``outputs.dunning_letters``) against a naive loop that
writes one PDF per letter, side by side in one run; prints letters per second and peak RSS (not a test).

    .venv/bin/python benchmarks/bench_letters.py [--letters 5000] [--naive 500] [--docs]

The notices are generated once (seeded, vectorised) and go through ``dunning.notices.group_notices`` like a
real run: one to six claims per letter (every 200th debtor has 40: a two-page letter), names with umlauts,
one letter in fifty abroad. Each contender runs in a fresh child process that reads the two frames from
Parquet (not part of the figure) and then renders and writes: ``one_pdf`` is :func:`write_print_run`
(letters PDF + print file + manifest), ``naive`` calls :func:`write_letters` once per letter into its
own file (``--naive`` letters of them: the figure is per letter). CPU = user + system seconds of the
child while rendering (the figure to compare on a busy host); peak RSS is the child's.
``--docs`` writes the "Dunning: letters" section of docs/BENCHMARKS.md.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
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
SURNAMES = ["Müller", "Schäfer", "Öztürk", "Weiß", "Jäger", "Groß", "Köhler", "Schmidt", "Nowak", "Łukasik"]
GIVEN = ["Jürgen", "Zoë", "Ömer", "Anna", "Björn", "Renée", "Sören", "Ilse", "Małgorzata", "Jan"]
TYPES = ["GRUNDSTEUER", "GEWERBESTEUER", "HUNDESTEUER", "ABFALL", "ABWASSER", "STRASSENREINIGUNG", "KITA"]


def generate(work: Path, letters: int) -> None:
    """``notices.parquet`` and ``items.parquet`` of ``letters`` letters, through ``group_notices``."""
    from dunning.notices import group_notices
    from dunning.select import SELECTED_COLUMNS

    work.mkdir(parents=True, exist_ok=True)
    d = pl.int_range(0, letters, eager=True).alias("d")
    per = pl.DataFrame({"d": d}).with_columns(
        pl.when(pl.col("d") % 200 == 7).then(40).otherwise(pl.col("d") * 7 % 6 + 1).alias("n"))
    claims = per.select(pl.col("d").repeat_by("n").explode()).with_columns(
        pl.int_range(pl.len()).alias("i"))
    h = (pl.col("i") * 2654435761) % 2**32
    selected = claims.select(
        pl.format("R{}", pl.col("i")).alias("receivable_id"),
        pl.format("D{}", pl.col("d").cast(pl.String).str.zfill(7)).alias("debtor_id"),
        pl.when(pl.col("i") % 3 == 0).then(pl.format("{}", 10**11 + pl.col("i")))
        .otherwise(pl.format("1.{}.{}.{}", 1000 + h % 9000, 1000 + h // 7 % 9000, 100 + h // 11 % 900))
        .alias("kassenzeichen"),
        pl.lit(pl.Series(TYPES)).gather(h % len(TYPES)).alias("claim_type"),
        (pl.lit(RUN) - pl.duration(days=h % 300 + 20)).alias("due_date"),
        (pl.lit(RUN) - pl.duration(days=h % 300 + 20)).alias("due_effective"),
        pl.when(pl.col("d") % 4 == 0).then(pl.lit("vollstreckungsankuendigung")).otherwise(pl.lit("mahnung"))
        .alias("level"),
        (h % 300_000 + 1000).cast(pl.Int64).alias("open_cents"),
        (h % 40 * 50).cast(pl.Int64).alias("saeumniszuschlag_cents"),
        pl.lit(1, pl.Int64).alias("surcharge_months"),
        pl.when(h % 17 == 0).then(h % 500).otherwise(0).cast(pl.Int64).alias("interest_cents"),
        pl.lit("ao_240").alias("surcharge_rule"),
        pl.when(pl.col("d") % 4 == 0).then(0).otherwise(600 + h % 2000).cast(pl.Int64).alias("mahngebuehr_cents"),
        (h % 300_000 + 1000).cast(pl.Int64).alias("fee_basis_cents"),
        pl.lit("vo_vwvg_9").alias("mahngebuehr_rule"),
    ).select(SELECTED_COLUMNS)
    s, g = pl.lit(pl.Series(SURNAMES)), pl.lit(pl.Series(GIVEN))
    debtors = per.select(
        pl.format("D{}", pl.col("d").cast(pl.String).str.zfill(7)).alias("debtor_id"),
        pl.format("{} {}", g.gather(pl.col("d") % 10), s.gather(pl.col("d") * 3 % 10)).alias("debtor_name"),
        pl.format("Hauptstraße {}", pl.col("d") % 180 + 1).alias("debtor_street"),
        pl.format("{}", 33000 + pl.col("d") % 9000).alias("debtor_postcode"),
        pl.lit("Bielefeld").alias("debtor_city"),
        pl.when(pl.col("d") % 50 == 3).then(pl.lit("AT")).otherwise(pl.lit("DE")).alias("debtor_country"))
    got = group_notices(selected, debtors, RUN)
    got.notices.write_parquet(work / "notices.parquet")
    got.items.write_parquet(work / "items.parquet")


def worker(name: str, work: Path) -> None:
    """One contender (a child process): read the frames, render, print JSON."""
    from outputs.dunning_letters import Sender, write_letters, write_print_run

    notices = pl.read_parquet(work / "notices.parquet")
    items = pl.read_parquet(work / "items.parquet")
    sender = Sender(name="Stadt Musterstadt – Stadtkasse", street="Markt 1", postcode="33602", city="Musterstadt",
                    contact=("Telefon 0521 51-0", "stadtkasse@musterstadt.de"), iban="DE02370502990000684712",
                    bic="COKSDE33XXX", bank_name="Sparkasse Musterstadt")
    out = work / f"out_{name}"
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    limit = int(os.environ.get("BENCH_LETTERS_NAIVE", "500"))
    t, cpu = time.perf_counter(), time.process_time()
    if name == "one_pdf":
        paths = write_print_run(notices, items, sender, out)
        n, pages, size = notices.height, None, paths["letters.pdf"].stat().st_size
    else:
        notices = notices.head(limit)
        by = items.partition_by("notice_id", as_dict=True)
        size, pages = 0, 0
        for row in notices.iter_slices(1):
            nid = row["notice_id"][0]
            layout = write_letters(row, by[(nid,)], sender, out / f"{nid}.pdf")
            pages += int(layout["pages"].sum())
            size += (out / f"{nid}.pdf").stat().st_size
        n = notices.height
    seconds, cpu = time.perf_counter() - t, time.process_time() - cpu
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    print(json.dumps({"letters": n, "seconds": seconds, "cpu": cpu + children.ru_utime + children.ru_stime,
                      "bytes": size, "pages": pages}))


def qr_variants(n: int = 300) -> dict[str, float]:
    """CPU milliseconds per GiroCode: QR encoding with segno's mask search and with the fixed mask, and
    three ways to put the modules into the PDF (grey image as used, segno PNG, one rectangle per run)."""
    import io

    import segno
    from fpdf import FPDF

    from outputs.dunning_letters import QR_MASK, _image, epc_payload, qr_modules

    payloads = [epc_payload(name="Stadt Musterstadt – Stadtkasse", iban="DE02370502990000684712",
                            amount_cents=112104 + i, remittance=f"1.6470.5152.333 1925620{i:05d}",
                            bic="COKSDE33XXX") for i in range(n)]
    out: dict[str, float] = {}
    c = time.process_time()
    codes = [segno.make_qr(p.encode(), error="m", boost_error=False) for p in payloads[:100]]
    out["encode, mask search"] = (time.process_time() - c) / 100 * 1000
    c = time.process_time()
    modules = [qr_modules(p) for p in payloads]
    out["encode, fixed mask"] = (time.process_time() - c) / n * 1000
    codes = [segno.make_qr(p.encode(), error="m", boost_error=False, mask=QR_MASK) for p in payloads]

    def png(pdf: FPDF, i: int) -> None:
        buf = io.BytesIO()
        codes[i].save(buf, kind="png", scale=4, border=0)
        buf.seek(0)
        pdf.image(buf, x=150, y=200, w=30, h=30)

    def grey(pdf: FPDF, i: int) -> None:
        pdf.image(_image(*modules[i]), x=150, y=200, w=30, h=30)

    def rects(pdf: FPDF, i: int) -> None:
        size, mods = modules[i]
        step = 30 / size
        for r in range(size):
            row, c0 = mods[r * size:(r + 1) * size], 0
            while c0 < size:
                if row[c0]:
                    e = c0
                    while e < size and row[e]:
                        e += 1
                    pdf.rect(150 + c0 * step, 200 + r * step, (e - c0) * step, step, style="F")
                    c0 = e
                else:
                    c0 += 1

    for name, place in (("place: grey image (used)", grey), ("place: segno PNG", png), ("place: rectangles", rects)):
        pdf = FPDF(unit="mm")
        c = time.process_time()
        for i in range(n):
            pdf.add_page()
            place(pdf, i)
        pdf.output()
        out[name] = (time.process_time() - c) / n * 1000
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--letters", type=int, default=5000)
    ap.add_argument("--naive", type=int, default=500, help="letters of the naive loop (the figure is per letter)")
    ap.add_argument("--work", type=Path, default=Path("/tmp/bench_letters"))
    ap.add_argument("--docs", action="store_true")
    ap.add_argument("--worker", nargs=2, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.worker:
        worker(args.worker[0], Path(args.worker[1]))
        return
    work = args.work / str(args.letters)
    generate(work, args.letters)
    os.environ["BENCH_LETTERS_NAIVE"] = str(args.naive)
    rows = []
    for name in ("one_pdf", "naive"):
        r = run_child(__file__, name, work)
        rate, cpu_rate = r["letters"] / r["seconds"], r["letters"] / r["cpu"]
        rows.append((name, r, rate, cpu_rate))
        print(f"{name:8s} {r['letters']:6,} letters  {r['seconds']:6.2f} s  {rate:6.0f} letters/s  "
              f"CPU {r['cpu']:6.2f} s = {cpu_rate:5.0f} letters per CPU second  peak RSS {r['rss_mb']:4.0f} MB  "
              f"{r['bytes'] / r['letters'] / 1024:.1f} KiB per letter", flush=True)
    qr = qr_variants()
    print("GiroCode, CPU ms per code: " + ", ".join(f"{k} {v:.2f}" for k, v in qr.items()))
    busy = os.getloadavg()[0]
    print(f"load average {busy:.1f}")
    if args.docs:
        table = "\n".join(
            f"| {'one PDF (`write_print_run`)' if name == 'one_pdf' else 'naive: one PDF per letter'} | "
            f"{r['letters']:,} | {r['seconds']:.2f} s | {rate:.0f} | {cpu_rate:.0f} | {r['rss_mb']:.0f} MB | "
            f"{r['bytes'] / r['letters'] / 1024:.1f} KiB |" for name, r, rate, cpu_rate in rows)
        section = (
            "## Dunning: letters\n\n"
            f"`.venv/bin/python benchmarks/bench_letters.py --letters {args.letters} --naive {args.naive}` "
            f"({date.today():%Y-%m-%d}): dunning letters (one to six claims each, every 200th with 40 claims "
            "on two pages, a GiroCode each) rendered by `outputs.dunning_letters` in a fresh child process "
            "each: all into ONE PDF with the print file and manifest, against a naive loop writing one PDF "
            "per letter (fonts embedded again in every file). CPU = user + system seconds while rendering "
            f"(the figure to compare on a busy host). 2 vCPU, shared: load average {busy:.1f} during this "
            "run. Goal (issue 15 §5): at least 500 letters per second into one PDF.\n\n"
            "| contender | letters | wall | letters/s | letters per CPU second | peak RSS | PDF per letter |\n"
            "|---|---:|---:|---:|---:|---:|---:|\n" + table + "\n\n"
            "The GiroCode, CPU milliseconds per code (300 codes; the placing includes fpdf2's output):\n\n"
            "| step | ms |\n|---|---:|\n" + "\n".join(f"| {k} | {v:.2f} |" for k, v in qr.items()) + "\n")
        replace_section(ROOT / "docs" / "BENCHMARKS.md", "Dunning: letters", section)


if __name__ == "__main__":
    main()
