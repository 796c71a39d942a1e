"""Amtshilfe benchmark (issue 18 §5): N requests read, checked and answered in one run; prints figures (not a
test).

    .venv/bin/python benchmarks/bench_amtshilfe.py [--requests 100000] [--repeat 3] [--shapes xml,xml+bad,csv]
                                                   [--docs]

The delivery is :func:`synth.amtshilfe_data.delivery` (seeded; every check reason, changes, duplicates,
repeats), written once per shape into ``--work``. Shapes:

* ``xml`` — our XML (Requests, ``amtshilfe-1.xsd``) with every message of the delivery;
* ``xml+bad`` — the same with one request in 50 broken (a date that does not exist, a negative amount, a
  missing element: :func:`synth.amtshilfe_data.with_bad_records`), each rejected by the reader;
* ``csv`` — the bulk CSV (Windows-1252, CRLF) of the requests a CSV can carry (no changes, no duplicates).

Each measurement is a fresh child process (``benchmarks/child.py``: its peak RSS is the figure's memory)
that reads the file's bytes (not timed) and runs:

1. ``read`` — :func:`amtshilfe.xml_format.read_requests` (parse, XSD, frames) or
   :func:`amtshilfe.csv_format.read_requests_csv`;
2. ``rows`` — the frames flattened for the checks (:func:`synth.amtshilfe_data.check_rows`, standing in for
   the import's adapter);
3. ``check`` — :func:`amtshilfe.checks.check` against an empty ledger;
4. ``feedback`` — the answers as ledger events (accepted with a case number, returned with the check,
   withdrawals applied) and the month's cost invoice through :func:`amtshilfe.feedback.feedback` — one
   feedback row per event;
5. ``answers`` — the feedback rows per creditor mapped to Rückgabe/Sachstand frames (:func:`answer_frames`,
   standing in for the import's feedback writer) and written as Answers XML, one file per creditor, each
   validated against the XSD by the writer.

Per step the median wall seconds of ``--repeat`` children, µs per message, and peak RSS; ``--docs`` writes
the "Amtshilfe" section of docs/BENCHMARKS.md.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from datetime import date, datetime
from pathlib import Path
from typing import Any

import polars as pl

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(ROOT))

from child import replace_section, run_child, timed  # noqa: E402

from amtshilfe import model  # noqa: E402
from claims.vocab import ErsuchenFeedback, ErsuchenMessage, ErsuchenOutcome  # noqa: E402
from synth import amtshilfe_data as ad  # noqa: E402

SHAPES = ("xml", "xml+bad", "csv")
STEPS = ("read", "rows", "check", "feedback", "answers")
PERIOD = (date(2026, 12, 1), date(2026, 12, 31))


def generate(work: Path, shape: str, n: int, seed: int) -> dict[str, int]:
    """The delivery of ``shape`` as a file in ``work`` (kept when already there); its counts."""
    work.mkdir(parents=True, exist_ok=True)
    done = work / "counts.json"
    if done.exists():
        counts: dict[str, int] = json.loads(done.read_text())
        return counts
    d = ad.delivery(n, seed)
    broken = 0
    if shape == "csv":
        data = ad.requests_csv(d, encoding="cp1252", line_terminator="\r\n")
        messages = ad.for_csv(d).planned.height
    else:
        data = ad.requests_xml(d)
        messages = d.planned.height
        if shape == "xml+bad":
            data, bad = ad.with_bad_records(data, "xml", every=50)
            broken = bad.height
    (work / "delivery").write_bytes(data)
    counts = {"messages": messages, "broken": broken, "bytes": len(data)}
    done.write_text(json.dumps(counts))
    return counts



def events_of(answers: pl.DataFrame, today: date) -> pl.DataFrame:
    """The ledger's events after an import (as :class:`amtshilfe.feedback.FeedbackEvent`): an accepted
    request with its new case number, a returned one with its check (not one without a creditor id or file
    number: there is nobody to address — the import reports it on the delivery's protocol), an applied
    withdrawal. Flagged and repeated messages wait or add nothing."""
    c = pl.col
    kind = (pl.when(c("outcome") == ErsuchenOutcome.ACCEPTED).then(pl.lit(str(ErsuchenFeedback.ACCEPTED)))
            .when(c("outcome") == ErsuchenOutcome.RETURNED).then(pl.lit(str(ErsuchenFeedback.RETURNED)))
            .when((c("outcome") == ErsuchenOutcome.APPLIED) & (c("message") == ErsuchenMessage.RUECKNAHME))
            .then(pl.lit(str(ErsuchenFeedback.WITHDRAWN))))
    return (answers.with_columns(kind.alias("kind"))
            .filter(c("kind").is_not_null() & c("creditor_id").is_not_null() & c("creditor_file_number").is_not_null())
            .with_row_index("_n")
            .select(pl.format("E{}", c("_n")).alias("event_id"), "kind", "creditor_id", "creditor_file_number",
                    pl.when(c("kind") == ErsuchenFeedback.ACCEPTED).then(pl.format("AH-2026-{}", c("_n") + 1))
                    .otherwise(c("case_number")).alias("case_number"),
                    "payment_reference", pl.lit(today).alias("event_date"), "check",
                    pl.lit(None, pl.Int64).alias("amount_cents"), "competent_authority_id",
                    "competent_authority_name"))


def answer_frames(rows: pl.DataFrame, invoice: pl.DataFrame, today: date) -> model.Answers:
    """One creditor's feedback rows as :class:`amtshilfe.model.Answers`: a Rückgabe per returned request
    (the check's German text), a Sachstand per other row; the cost invoice's items under its Sachstand."""
    from outputs.amtshilfe_texts import ERSUCHEN_CHECK_TEXT

    c = pl.col
    back = rows.filter(c("message") == ErsuchenMessage.RUECKGABE)
    status = rows.filter(c("message") == ErsuchenMessage.SACHSTAND)
    rueck = back.select(c("feedback_id").alias("message_id"), "creditor_id", "creditor_file_number", "case_number",
                        pl.lit(today).alias("message_date"), c("check").alias("reason"),
                        c("check").replace_strict(ERSUCHEN_CHECK_TEXT, return_dtype=pl.String).alias("text"),
                        c("competent_authority_name").alias("competent_authority"))
    invoice_row = c("kind") == ErsuchenFeedback.COST_INVOICE
    sach = status.select(
        c("feedback_id").alias("message_id"),
        pl.when(invoice_row).then(None).otherwise(c("creditor_id")).alias("creditor_id"),
        "creditor_file_number", "case_number", pl.lit(today).alias("message_date"), c("kind").alias("code"),
        pl.when(c("kind") == ErsuchenFeedback.PAYMENT_FORWARDED).then(c("amount_cents")).alias("amount_cents"),
        pl.when(c("kind") == ErsuchenFeedback.PAYMENT_FORWARDED).then(c("event_date")).alias("paid_on"),
        "period_from", "period_to")
    invoices = status.filter(invoice_row).select("feedback_id", "creditor_id", "period_from", "period_to")
    items = (invoice.join(invoices, on=["creditor_id", "period_from", "period_to"])
             .sort("item_id")
             .select(c("feedback_id").alias("message_id"),
                     pl.int_range(1, pl.len() + 1).over("feedback_id").alias("position"),
                     "creditor_file_number", c("item").alias("kind"), "description", "amount_cents"))
    return model.answers(rueck, sach, items)


def worker(work: Path) -> None:
    """One measured run (a child process): read, check, answer; print JSON."""
    from amtshilfe.checks import check
    from amtshilfe.csv_format import read_requests_csv
    from amtshilfe.feedback import cost_invoice, feedback, per_creditor
    from amtshilfe.xml_format import read_requests, write_answers

    data = (work / "delivery").read_bytes()
    csv = work.name.startswith("csv")
    t: dict[str, float] = {}
    got = timed(t, "read", lambda: (read_requests_csv(data, file="d.csv") if csv
                                     else read_requests(data, file="d.xml")))
    rows = timed(t, "rows", lambda: ad.check_rows(got.data))
    checked = timed(t, "check", lambda: check(rows, None, ad.SETTINGS))

    def _feedback() -> tuple[pl.DataFrame, pl.DataFrame]:
        ev = events_of(checked.answers, ad.AS_OF)
        accepted = ev.filter(pl.col("kind") == ErsuchenFeedback.ACCEPTED).select(
            "creditor_id", "creditor_file_number", "case_number", pl.col("event_date").alias("accepted_on"))
        inv = cost_invoice(accepted, *PERIOD, ad.SETTINGS)
        return feedback(ev, invoice=inv), inv
    fb, inv = timed(t, "feedback", _feedback)

    def _answers() -> list[int]:
        sizes = []
        for creditor, part in per_creditor(fb).items():
            head = model.Header(f"ANSWERS-{creditor}", datetime(2026, 12, 7, 22, 0), ad.OFFICE,
                                model.Body(creditor, creditor))
            sizes.append(len(write_answers(head, answer_frames(part, inv, ad.AS_OF), file=f"{creditor}.xml")))
        return sizes
    sizes = timed(t, "answers", _answers)
    print(json.dumps({
        "times": t, "count_in": got.count_in, "rejected": got.rejected.height,
        "messages": checked.answers.height,
        "outcomes": dict(checked.answers.group_by("outcome").len().sort("outcome").iter_rows()),
        "feedback": fb.height, "answer_files": len(sizes), "answer_mb": sum(sizes) / 1e6}))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--requests", type=int, default=100_000)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--shapes", default=",".join(SHAPES))
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--work", type=Path, default=Path("/tmp/bench_amtshilfe"))
    ap.add_argument("--docs", action="store_true")
    ap.add_argument("--worker", nargs=2, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.worker:
        worker(Path(args.worker[1]))
        return
    results: dict[str, dict[str, Any]] = {}
    for shape in args.shapes.split(","):
        work = args.work / f"{shape}-{args.requests}-{args.seed}"
        t = time.perf_counter()
        counts = generate(work, shape, args.requests, args.seed)
        print(f"{shape}: {counts['messages']:,} messages, {counts['bytes'] / 1e6:.0f} MB "
              f"({time.perf_counter() - t:.1f} s to generate or find)", flush=True)
        runs = [run_child(__file__, shape, work) for _ in range(args.repeat)]
        med = {s: statistics.median(r["times"][s] for r in runs) for s in STEPS}
        results[shape] = {**runs[0], **counts, "median": med, "rss_mb": max(r["rss_mb"] for r in runs),
                          "all": {s: [round(r["times"][s], 2) for r in runs] for s in STEPS}}
        r = results[shape]
        print(f"  read {r['count_in']:,} ({r['rejected']:,} rejected), {r['feedback']:,} feedback rows in "
              f"{r['answer_files']} files, peak RSS {r['rss_mb']:.0f} MB; {r['outcomes']}")
        for s in STEPS:
            print(f"  {s:10s} {med[s]:7.2f} s  {r['all'][s]}", flush=True)
    busy = os.getloadavg()[0]
    table = _table(results)
    print(table)
    if args.docs:
        section = (
            "## Amtshilfe\n\n"
            f"`.venv/bin/python benchmarks/bench_amtshilfe.py --requests {args.requests} --repeat {args.repeat}` "
            f"({date.today():%Y-%m-%d}, 2 vCPU shared, load average {busy:.1f}): a delivery of "
            "`synth.amtshilfe_data` (every check reason, changes, duplicates, repeats; see the script's "
            "docstring for the shapes) read, checked against an empty ledger and answered (feedback rows → one "
            "Answers XML per creditor, each validated against the XSD). Each figure is the median wall time of "
            f"{args.repeat} fresh child processes; µs per message divides by the "
            "messages in the file (a CSV record is a notice: a message has one or more).\n\n"
            + table + "\n")
        replace_section(ROOT / "docs" / "BENCHMARKS.md", "Amtshilfe", section)


def _table(results: dict[str, dict[str, Any]]) -> str:
    names = list(results)
    lines = ["| step | " + " | ".join(f"{n}: s | µs/message" for n in names) + " |",
             "|---|" + "---:|---:|" * len(names),
             "| messages (records read, rejected) → feedback rows | " + " | ".join(
                 f"{r['messages']:,} ({r['count_in']:,}, {r['rejected']:,}) | → {r['feedback']:,}"
                 for r in results.values()) + " |"]
    for s in STEPS:
        lines.append(f"| {s} | " + " | ".join(
            f"{r['median'][s]:.2f} | {r['median'][s] / max(r['messages'], 1) * 1e6:.1f}" for r in results.values())
            + " |")
    total = {n: sum(r["median"].values()) for n, r in results.items()}
    lines.append("| **total** | " + " | ".join(
        f"**{total[n]:.2f}** | {total[n] / max(r['messages'], 1) * 1e6:.1f}" for n, r in results.items()) + " |")
    lines.append("| file MB / answers MB / peak RSS MB | " + " | ".join(
        f"{r['bytes'] / 1e6:.0f} / {r['answer_mb']:.0f} | {r['rss_mb']:.0f}" for r in results.values()) + " |")
    return "\n".join(lines)


if __name__ == "__main__":
    main()
