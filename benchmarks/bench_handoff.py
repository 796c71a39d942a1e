"""Enforcement hand-off benchmark (issue 17 §5): N cases handed over and recalled in one run; prints figures
(not a test).

    .venv/bin/python benchmarks/bench_handoff.py [--cases 100000] [--repeat 3] [--shapes one,one+fees,many]
                                                 [--docs]

The data is :func:`synth.enforcement_data.enforcement_set` (seeded, with every skip reason: blocks, waivers,
pending payments, incomplete identities, open cases a claim joins …), generated once per shape into
``--work`` as Parquet. The number of debtors is chosen so that about ``--cases`` cases come out (a small
calibration run per shape; the table gives the real counts). Shapes:

* ``one`` — one main claim per debtor, no Nebenforderungen;
* ``one+fees`` — one main claim per debtor with its Nebenforderungen (Mahngebühr, Säumniszuschlag or
  interest, Kosten): about 2.5 claims per case, the issue's 100,000 cases ≈ 250,000 claims;
* ``many`` — 1 to 6 main claims per debtor with their Nebenforderungen (a few debtors with many claims);
  run at the same number of **claims** as ``one+fees`` (``--cases`` × 2.5), so fewer cases.

Each measurement is a fresh child process (``benchmarks/child.py``: its peak RSS is the figure's memory):
it reads the Parquet files (not timed) and runs the pure path of a hand-off day and of the night after:

1. ``select`` — :func:`enforcement.select.select`;
2. ``build_cases`` — :func:`enforcement.cases.build_cases` (case numbers, Säumniszuschlag to the day);
3. ``file frames`` — :func:`synth.enforcement_data.handoff_file_frames` (the job's mapping stands in);
4. ``write_handoff`` — render and validate against the XSD (as the writer always does), and the
   validation alone again on the bytes (``validate``: part of ``write_handoff``'s time);
5. ``read_handoff`` — the office's side: parse, validate, frames;
6. the night's recall: payments on ``--paid-share`` of the cases (a third pay everything, the rest half
   of one claim), a Stundung on the debtors of a tenth as many other cases. :func:`recall` runs ``enforcement.updates.night_updates`` (helper [recall]'s module)
   when it is there and skips with a message when not; ``write_updates`` then writes its answer. The
   updates writer is also measured on :func:`synth.enforcement_outcomes.update_frames` of the same night
   (``write_updates (synth)``), so there is a figure before the recall is merged.

``--skip-files`` leaves out steps 4 and 5 (to measure the recall without the file's minutes).
Per step the median wall seconds of ``--repeat`` children, µs per claim, and peak RSS; ``--docs`` writes
the "Enforcement hand-off" section of docs/BENCHMARKS.md.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import statistics
import sys
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import polars as pl

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(ROOT))

from child import replace_section, run_child, timed  # noqa: E402

from enforcement.file_format import Party  # noqa: E402
from enforcement.handoff_file import Header  # noqa: E402
from synth.enforcement_data import AS_OF, EnforcementSet, enforcement_set  # noqa: E402

SHAPES: dict[str, dict[str, Any]] = {
    "one": {"max_claims": 1, "ancillary": False, "claims_scale": None},
    "one+fees": {"max_claims": 1, "ancillary": True, "claims_scale": None},
    "many": {"max_claims": 6, "ancillary": True, "claims_scale": 2.5},
}
FRAMES = ("claims", "mahnungen", "waivers", "blocks", "pending", "open_cases", "payments", "booked")
TENANT = "musterstadt"
NIGHT = AS_OF + timedelta(days=1)
STEPS = ("select", "build_cases", "file_frames", "write_handoff", "validate", "read_handoff", "night_payments",
         "recall", "write_updates", "write_updates_synth")
HEADER = Header(message_id="H-BENCH-1", created=datetime(2026, 12, 7, 9, 0), tenant=TENANT,
                creditor=Party("Stadt Musterstadt", tenant=TENANT, street="Markt 1", postcode="59555",
                               city="Lippstadt"),
                sender=Party("Stadtkasse Musterstadt"), receiver=Party("Vollstreckungsstelle Musterstadt"),
                handoff_date=AS_OF)


def debtors_for(shape: str, cases: int, seed: int) -> int:
    """How many debtors give about ``cases`` cases (or, for a shape with ``claims_scale``, about
    ``cases × claims_scale`` handed claims) in this shape: measured on 5,000 debtors."""
    from enforcement.select import select

    opts = SHAPES[shape]
    probe = enforcement_set(5000, seed, max_claims=opts["max_claims"], ancillary=opts["ancillary"])
    sel = select(probe.claims, probe.as_of, **probe.select_kwargs()).selected
    if opts["claims_scale"]:
        return math.ceil(cases * opts["claims_scale"] * 5000 / max(sel.height, 1))
    return math.ceil(cases * 5000 / max(sel["debtor_id"].n_unique(), 1))


def generate(work: Path, shape: str, cases: int, seed: int) -> dict[str, int]:
    """The frames of ``shape`` as Parquet in ``work`` (kept when already there); row counts."""
    work.mkdir(parents=True, exist_ok=True)
    done = work / "counts.json"
    if done.exists():
        counts: dict[str, int] = json.loads(done.read_text())
        return counts
    opts = SHAPES[shape]
    n = debtors_for(shape, cases, seed)
    es = enforcement_set(n, seed, max_claims=opts["max_claims"], ancillary=opts["ancillary"])
    for name in FRAMES:
        getattr(es, name).write_parquet(work / f"{name}.parquet")
    es.known_numbers.to_frame("case_number").write_parquet(work / "known.parquet")
    counts = {"debtors": n, **{name: getattr(es, name).height for name in FRAMES}}
    done.write_text(json.dumps(counts))
    return counts


def load(work: Path) -> EnforcementSet:
    f = {name: pl.read_parquet(work / f"{name}.parquet") for name in FRAMES}
    return EnforcementSet(as_of=AS_OF, known_numbers=pl.read_parquet(work / "known.parquet")["case_number"], **f)


def night_payments(items: pl.DataFrame, cases: pl.DataFrame, share: float,
                   seed: int) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame]:
    """The night after the hand-off: payments on ``share`` of the cases — a third pay every claim of the
    case, the others half of the first main claim — and a Stundung set on the debtors of a tenth as many
    other cases. ``(open_now, paid, blocks)`` as the recall reads them: the claims' open amounts after
    the night, the payments booked (``receivable_id``, ``amount_cents``, ``booking_date``,
    ``committed_at``), the journal's blocks in force (``enforcement.frames.BlockRow``)."""
    from synth import rand

    c = pl.col
    case_list = items.select("case_number").unique().sort("case_number")
    n = case_list.height
    drawn = case_list.with_columns(u=rand.uniform(n, seed, 500), all=rand.uniform(n, seed, 501) < 1 / 3)
    pick = drawn.filter(c("u") < share)
    blocks = (drawn.filter((c("u") >= share) & (c("u") < share * 1.1))
              .join(cases.select("case_number", "debtor_id"), on="case_number")
              .select(pl.lit(None, pl.String).alias("receivable_id"), "debtor_id",
                      pl.lit("STUNDUNG").alias("block_reason"), pl.lit(NIGHT).alias("block_from"),
                      pl.lit(NIGHT + timedelta(days=90)).alias("block_until")))
    whole = items.join(pick.filter(c("all")), on="case_number", how="semi").select(
        "receivable_id", c("open_cents").alias("amount_cents"))
    firsts = (items.filter(~c("ancillary")).join(pick.filter(~c("all")), on="case_number", how="semi")
              .group_by("case_number").agg(c("receivable_id").first(), c("open_cents").first())
              .select("receivable_id", (c("open_cents") // 2).alias("amount_cents")).filter(c("amount_cents") > 0))
    paid = pl.concat([whole, firsts]).with_columns(
        pl.lit(NIGHT).alias("booking_date"),
        pl.lit(datetime.combine(NIGHT, datetime.min.time(), UTC) + timedelta(hours=1)).alias("committed_at"))
    open_now = items.select("receivable_id", "open_cents").join(paid.select("receivable_id", "amount_cents"),
                                                                on="receivable_id", how="left").select(
        "receivable_id", (c("open_cents") - c("amount_cents").fill_null(0)).alias("amount_cents"))
    return open_now, paid, blocks


def recall(items: pl.DataFrame, cases: pl.DataFrame, open_now: pl.DataFrame, paid: pl.DataFrame,
           blocks: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame] | None:
    """The recall's pure function over the open cases and the night's payments: ``(updates, update_claims)``
    in the columns ``write_updates`` takes, or None (with a message) when ``enforcement.updates`` is not
    merged yet. The call follows [recall]'s module as it stood when this was written; check it at merge."""
    try:
        from enforcement.updates import night_updates  # type: ignore[import-not-found, unused-ignore]
    except ImportError:
        print("recall: enforcement.updates is not there (helper [recall]'s branch not merged): skipped",
              file=sys.stderr)
        return None
    handed = items.select("case_number", "receivable_id", "kassenzeichen", "claim_type", "ancillary",
                          pl.col("open_cents").alias("handed_cents")).join(
        cases.select("case_number", "debtor_id"), on="case_number", how="left", maintain_order="left")
    handed = handed.with_columns(pl.lit(AS_OF).alias("handed_off_on"),
                                 pl.lit("VS").alias("office_id"), pl.lit(None, pl.String).alias("office_tenant"),
                                 pl.lit(datetime.combine(AS_OF, datetime.min.time(), UTC)).alias("handed_at"))
    got = night_updates(handed, open_now, paid, night=NIGHT, blocks=blocks)
    claims = got.update_claims
    if "kassenzeichen" not in claims.columns:
        claims = claims.join(items.select("receivable_id", "kassenzeichen"), on="receivable_id", how="left")
    return got.updates, claims



def worker(work: Path, paid_share: float = 0.05) -> None:
    """One measured run (a child process): read the frames, hand over, read back, recall; print JSON."""
    from enforcement.cases import build_cases
    from enforcement.file_format import validate_written
    from enforcement.handoff_file import read_handoff, write_handoff, write_updates
    from enforcement.select import select
    from synth.enforcement_data import handoff_file_frames
    from synth.enforcement_outcomes import update_frames

    es = load(work)
    t: dict[str, float] = {}
    h = timed(t, "select", lambda: select(es.claims, es.as_of, **es.select_kwargs()))
    cs = timed(t, "build_cases", lambda: build_cases(h.selected, es.as_of, tenant=TENANT, open_cases=es.open_cases,
                                                      known_numbers=es.known_numbers, payments=es.payments,
                                                      booked=es.booked))
    fc, fcl = timed(t, "file_frames", lambda: handoff_file_frames(cs, es.claims))
    data, back = b"", None
    if not os.environ.get("BENCH_HANDOFF_SKIP_FILES"):
        data = timed(t, "write_handoff", lambda: write_handoff(HEADER, fc, fcl))
        timed(t, "validate", lambda: validate_written(data, file="handoff.xml", item="Case"))
        back = timed(t, "read_handoff", lambda: read_handoff(data))
    open_now, paid, blocks = timed(t, "night_payments", lambda: night_payments(cs.items, cs.cases, paid_share, 7))
    got = timed(t, "recall", lambda: recall(cs.items, cs.cases, open_now, paid, blocks))
    n_updates = None
    if got is not None and got[0].height:
        head = Header(message_id="U-BENCH-1", created=datetime(2026, 12, 8, 2, 0), tenant=TENANT,
                      creditor=HEADER.creditor, sender=HEADER.sender, receiver=HEADER.receiver)
        timed(t, "write_updates", lambda: write_updates(head, got[0], got[1]))
        n_updates = got[0].height
    else:
        t.pop("recall", None)
    ups, uc = update_frames(fcl, NIGHT, 7, paid_share=paid_share)
    head = Header(message_id="U-BENCH-2", created=datetime(2026, 12, 8, 2, 0), tenant=TENANT,
                  creditor=HEADER.creditor, sender=HEADER.sender, receiver=HEADER.receiver)
    timed(t, "write_updates_synth", lambda: write_updates(head, ups, uc))
    print(json.dumps({
        "times": t, "claims_in": es.claims.height, "selected": h.selected.height, "skipped": h.skipped.height,
        "reasons": dict(h.skipped.group_by("reason").len().sort("reason").iter_rows()),
        "cases": cs.cases.height, "new_cases": int(cs.cases["new"].sum()), "items": cs.items.height,
        "file_mb": len(data) / 1e6, "read_cases": back.cases.height if back else None,
        "read_claims": back.claims.height if back else None, "rejected": back.rejected.height if back else None, "total_cents": int(cs.cases["total_cents"].sum()),
        "payments": paid.height, "updates": n_updates,
        "update_kinds": dict(got[0].group_by("kind").len().sort("kind").iter_rows()) if got is not None else None, "updates_synth": ups.height,
        "update_claims_synth": uc.height}))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cases", type=int, default=100_000)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--shapes", default="one,one+fees,many")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--paid-share", type=float, default=0.05)
    ap.add_argument("--work", type=Path, default=Path("/tmp/bench_handoff"))
    ap.add_argument("--docs", action="store_true")
    ap.add_argument("--skip-files", action="store_true",
                    help="leave out write/validate/read of the hand-off file (to measure the recall alone)")
    ap.add_argument("--worker", nargs=2, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.worker:
        worker(Path(args.worker[1]), float(os.environ.get("BENCH_HANDOFF_PAID_SHARE", "0.05")))
        return
    os.environ["BENCH_HANDOFF_PAID_SHARE"] = str(args.paid_share)
    if args.skip_files:
        os.environ["BENCH_HANDOFF_SKIP_FILES"] = "1"
    results: dict[str, dict[str, Any]] = {}
    for shape in args.shapes.split(","):
        work = args.work / f"{shape}-{args.cases}-{args.seed}"
        t = time.perf_counter()
        counts = generate(work, shape, args.cases, args.seed)
        print(f"{shape}: {counts['claims']:,} open claims of {counts['debtors']:,} debtors "
              f"({time.perf_counter() - t:.1f} s to generate or find)", flush=True)
        runs = [run_child(__file__, shape, work) for _ in range(args.repeat)]
        steps = [s for s in STEPS if all(s in r["times"] for r in runs)]
        med = {s: statistics.median(r["times"][s] for r in runs) for s in steps}
        results[shape] = {**runs[0], "median": med, "rss_mb": max(r["rss_mb"] for r in runs),
                          "all": {s: [round(r["times"][s], 2) for r in runs] for s in steps}}
        r = results[shape]
        print(f"  {r['cases']:,} cases ({r['new_cases']:,} new), {r['items']:,} claims handed, "
              f"file {r['file_mb']:.0f} MB, peak RSS {r['rss_mb']:.0f} MB")
        for s in steps:
            print(f"  {s:20s} {med[s]:7.2f} s  {r['all'][s]}")
        print(f"  skipped {r['skipped']:,}: {r['reasons']}", flush=True)
    busy = os.getloadavg()[0]
    table = _table(results)
    print(table)
    if args.docs:
        section = (
            "## Enforcement hand-off\n\n"
            f"`.venv/bin/python benchmarks/bench_handoff.py --cases {args.cases} --repeat {args.repeat}` "
            f"({date.today():%Y-%m-%d}, 2 vCPU shared, load average {busy:.1f}): the open claims of "
            "`synth.enforcement_data` (every skip reason; see the script's docstring for the shapes) through the "
            "pure path of a hand-off day and the night after. Each figure is the median wall time of "
            f"{args.repeat} fresh child processes after reading the Parquet files; µs per claim divides by the "
            "open claims going in (select) or the claims handed over (the rest). `validate` is the XSD "
            "validation alone, already inside `write_handoff`'s time; `write_updates (synth)` writes "
            f"the updates of a night with payments on {args.paid_share:.0%} of the cases "
            "(`synth.enforcement_outcomes.update_frames`).\n\n" + table + "\n")
        replace_section(ROOT / "docs" / "BENCHMARKS.md", "Enforcement hand-off", section)


def _table(results: dict[str, dict[str, Any]]) -> str:
    names = list(results)
    head = "| step | " + " | ".join(f"{n}: s | µs/claim" for n in names) + " |"
    rule = "|---|" + "---:|---:|" * len(names)
    lines = [head, rule]
    lines.append("| open claims in → claims handed (cases) | " + " | ".join(
        f"{r['claims_in']:,} → {r['items']:,} | ({r['cases']:,})" for r in results.values()) + " |")
    steps = [s for s in STEPS if any(s in r["median"] for r in results.values())]
    for s in steps:
        cells = []
        for r in results.values():
            if s not in r["median"]:
                cells.append("— | —")
                continue
            per = r["claims_in"] if s == "select" else r["items"]
            cells.append(f"{r['median'][s]:.2f} | {r['median'][s] / max(per, 1) * 1e6:.1f}")
        label = {"write_updates_synth": "write_updates (synth)", "validate": "(validate, inside write_handoff)"}.get(s, s)
        lines.append(f"| {label} | " + " | ".join(cells) + " |")
    total = {n: sum(v for k, v in r["median"].items() if k != "validate") for n, r in results.items()}
    lines.append("| **total** | " + " | ".join(
        f"**{total[n]:.2f}** | {total[n] / max(r['items'], 1) * 1e6:.1f}" for n, r in results.items()) + " |")
    first = names[0]
    base = total[first] / max(results[first]["items"], 1)
    lines.append(f"| µs per claim ÷ `{first}`'s | " + " | ".join(
        f"| {total[n] / max(r['items'], 1) / base:.2f}" for n, r in results.items()) + " |")
    lines.append("| file MB / peak RSS MB | " + " | ".join(
        f"{r['file_mb']:.0f} | {r['rss_mb']:.0f}" for r in results.values()) + " |")
    return "\n".join(lines)


if __name__ == "__main__":
    main()
