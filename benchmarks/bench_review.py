"""Benchmark of the review page: server time of the list and detail pages over N unresolved items
(default 50,000: a large town's backlog; issue 19 asks p95 ≤ 100 ms server time for both).

Publishes a synthetic Klärungsliste (N payments, 2·N open items; every fourth item carries the IBAN of a
payer, so the detail page's "payer's own open items" find debtors by IBAN and by name) with the nightly
run's own ``publish``, writes a journal of N/10 decisions, logs in through the real login form and
requests pages in-process. Each detail view also renews the clerk's soft lock (SQLite) and works out
"the next payment" of the clerk's last list. Server time is read from the ``Server-Timing`` header the
app sets (routing, Polars, Jinja, journal fold); the client round trip is printed beside it.
Run: ``.venv/bin/python benchmarks/bench_review.py [n]``.
"""

from __future__ import annotations

import re
import statistics
import sys
import tempfile
import time
import warnings
from datetime import date
from pathlib import Path
from typing import Any

import polars as pl
from argon2 import PasswordHasher

from ledger.journal import Allocation, new_decision, record_decision
from ledger.publish import publish
from review import create_app
from review.config import ReviewConfig
from review.users import User

TENANT = "musterstadt"
AS_OF = date(2026, 3, 10)
FIRST = ["Erika", "Max", "Hans", "Aylin", "Jan", "Sofia", "Lukas", "Mia", "Paul", "Emma", "Ali", "Lea"]
LAST = ["Mustermann", "Müller", "Schmidt", "Yilmaz", "Schneider", "Fischer", "Weber", "Korn", "Wagner", "Becker"]
REASONS = ["no_reference", "ambiguous", "overpayment", "double_payment", "unknown_reference"]
ACCOUNTS = ["DE89370400440532013000", "DE12500105170648489890", "DE02120300000000202051"]


def synthetic(n: int) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(Klärungsliste, open items) with names, IBAN-like strings, remittances and candidate JSON."""
    i = pl.int_range(0, n, eager=True)
    items = pl.DataFrame({"i": i}).with_columns(((pl.col("i") * 7919) % 500_000 + 100).alias("amount_cents"))
    items = items.with_columns(
        pl.format("tx{}", pl.col("i")).alias("transaction_id"),
        pl.lit(TENANT).alias("tenant"),
        pl.lit(pl.Series(ACCOUNTS)).gather(pl.col("i") % len(ACCOUNTS)).alias("account_iban"),
        (pl.lit(AS_OF) - pl.duration(days=pl.col("i") % 120)).alias("booking_date"),
        (pl.col("i") % 120).alias("age_days"),
        pl.col("amount_cents").alias("unallocated_cents"),
        pl.concat_str([pl.lit(pl.Series(FIRST)).gather(pl.col("i") % len(FIRST)), pl.lit(" "),
                       pl.lit(pl.Series(LAST)).gather((pl.col("i") // 7) % len(LAST))]).alias("counterparty_name"),
        pl.format("DE{}{}", (pl.col("i") % 89 + 10), (pl.col("i") * 104729 % 10**18).cast(pl.String).str.zfill(18))
        .alias("counterparty_iban"),
        pl.lit(True).alias("iban_valid"),
        pl.format("Zahlung {} Kassenzeichen {}.{} Rechnung vom 01.02.2026", pl.col("i"),
                  (pl.col("i") % 9000 + 1000), (pl.col("i") % 90000 + 10000)).alias("remittance"),
        pl.format("E2E-{}", pl.col("i")).alias("end_to_end_id"),
        pl.format("REF{}", pl.col("i")).alias("bank_ref"),
        pl.format(":61:2603020302C{}NTRFNONREF//REF{}", pl.col("i"), pl.col("i")).alias("raw"),
        pl.lit(pl.Series(REASONS)).gather(pl.col("i") % len(REASONS)).alias("reason"),
        pl.concat_str([
            pl.lit('[{"receivable_id": "R'), (pl.col("i") * 2).cast(pl.String),
            pl.lit('", "kassenzeichen": "'), (pl.col("i") * 2).cast(pl.String),
            pl.lit('", "amount_cents": '), pl.col("amount_cents").cast(pl.String),
            pl.lit(', "score": 0.7, "why": "name"}, {"receivable_id": "R'), (pl.col("i") * 2 + 1).cast(pl.String),
            pl.lit('", "kassenzeichen": "'), (pl.col("i") * 2 + 1).cast(pl.String),
            pl.lit('", "amount_cents": 500, "score": 0.4, "why": "amount"}]'),
        ]).alias("candidates"),
        pl.lit("open").alias("state"),
    ).drop("i")
    j = pl.int_range(0, 2 * n, eager=True)
    open_items = pl.DataFrame({"j": j}).with_columns(
        pl.lit(TENANT).alias("tenant"), pl.format("R{}", pl.col("j")).alias("receivable_id"),
        pl.col("j").cast(pl.String).alias("kassenzeichen"), pl.col("j").cast(pl.String).alias("kz_norm"),
        pl.format("D{}", pl.col("j") // 2).alias("debtor_id"),
        pl.concat_str([pl.lit(pl.Series(FIRST)).gather((pl.col("j") // 2) % len(FIRST)), pl.lit(" "),
                       pl.lit(pl.Series(LAST)).gather((pl.col("j") // 2) % len(LAST))]).alias("debtor_name"),
        pl.lit("GRUNDSTEUER").alias("claim_type"), ((pl.col("j") * 31) % 400_000 + 500).alias("amount_cents"),
        pl.lit(date(2026, 2, 15)).alias("due_date"),
        # every fourth item: the IBAN payment j // 2 was made from (the payer's own items by IBAN)
        pl.when(pl.col("j") % 4 == 0).then(
            pl.format("DE{}{}", ((pl.col("j") // 2) % 89 + 10),
                      ((pl.col("j") // 2) * 104729 % 10**18).cast(pl.String).str.zfill(18))
        ).alias("debtor_iban"),
    ).drop("j")
    return items, open_items


def timed(client: Any, url: str) -> tuple[float, float, float]:
    """(server ms from Server-Timing, client round trip ms, CPU ms of the process) for one GET. The CPU
    time (all threads, client included) is what a request costs when the machine is shared: on a loaded
    machine the wall-clock figures mostly measure the wait for a core."""
    t0, c0 = time.perf_counter(), time.process_time()
    r = client.get(url)
    wall = (time.perf_counter() - t0) * 1000
    cpu = (time.process_time() - c0) * 1000
    if r.status_code != 200 or r.history or "/item/" not in r.text:
        raise RuntimeError(f"{url}: HTTP {r.status_code}, not the page asked for (login failed?)")
    server = float(re.search(r"app;dur=([0-9.]+)", r.headers["server-timing"]).group(1))  # type: ignore[union-attr]
    return server, wall, cpu


def p95(values: list[float]) -> float:
    """The 95th percentile (nearest rank)."""
    ordered = sorted(values)
    return ordered[max(0, -(-len(ordered) * 95 // 100) - 1)]


def main(n: int = 50_000) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from starlette.testclient import TestClient
    with tempfile.TemporaryDirectory() as tmp:
        state = Path(tmp)
        items, open_items = synthetic(n)
        t0 = time.perf_counter()
        publish(state / "published", TENANT, klaerungsliste=items, open_items=open_items, run_id="bench", as_of=AS_OF)
        print(f"published {n} unresolved + {open_items.height} open items in {time.perf_counter() - t0:.2f} s")
        for k in range(0, n, 10):                                   # a journal of n/10 decisions
            record_decision(state, new_decision(TENANT, f"tx{k}", "assign", user="anna", role="clerk",
                                                amount_cents=100, requires_approval=k % 20 == 0,
                                                allocations=[Allocation(f"R{2 * k}", str(2 * k), 100)]))
        pw = PasswordHasher(time_cost=1, memory_cost=8192, parallelism=1).hash("bench")
        users = {"anna": User("anna", "Anna", "clerk", (TENANT,), pw)}
        client = TestClient(create_app(ReviewConfig(state_dir=state, four_eyes_above_cents=10000), users))
        page = client.get("/login").text
        csrf = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)  # type: ignore[union-attr]
        client.post("/login", data={"login": "anna", "password": "bench", "csrf_token": csrf}, follow_redirects=False)
        base = f"/t/{TENANT}/"
        cold = timed(client, base)
        shown = re.search(r"(\d+) von (\d+) Zahlungen", client.get(base).text)
        print(f"first list request (reads the snapshot, folds the journal): server {cold[0]:.1f} ms; "
              f"the page says {shown.group(0) if shown else '?'}")
        cases = {
            "list default (age desc)": base,
            "list sort amount asc": base + "?sort=amount&dir=asc",
            "list search name": base + "?q=yilmaz",
            "list search amount 80,19": base + "?q=80,19",
            "list search IBAN": base + "?q=DE15+0000+0000+0000+5236",
            "list reason+account+age": base + f"?reason=overpayment&account={ACCOUNTS[1]}&age_min=10&age_max=90",
            "list last page": base + "?page=200",
            "list status pending": base + "?status=pending",
            "list 200 rows a page": base + "?size=200",
            "list status open, amount asc": base + "?status=open&sort=amount&dir=asc",
        }
        rows = []
        for name, url in cases.items():
            samples = [timed(client, url) for _ in range(30)]
            rows.append((name, statistics.median(s[0] for s in samples), p95([s[0] for s in samples]),
                         max(s[0] for s in samples), statistics.median(s[1] for s in samples),
                         p95([s[2] for s in samples])))
        client.get(base + "?status=open&sort=amount&dir=asc")      # the list "save and next" walks
        detail = [timed(client, f"/t/{TENANT}/item/tx{(k * 97) % n}") for k in range(100)]
        rows.append(("detail (100 different items)", statistics.median(s[0] for s in detail),
                     p95([s[0] for s in detail]), max(s[0] for s in detail), statistics.median(s[1] for s in detail),
                     p95([s[2] for s in detail])))
        print(f"\n{'page':34} {'server median ms':>17} {'server p95 ms':>14} {'server max ms':>14} "
              f"{'round trip ms':>14} {'CPU p95 ms':>11}")
        for name, med, q95, worst, wall, cpu in rows:
            print(f"{name:34} {med:17.1f} {q95:14.1f} {worst:14.1f} {wall:14.1f} {cpu:11.1f}")
        lists = [r[2] for r in rows if r[0].startswith("list")]
        print(f"\nlist pages: worst p95 {max(lists):.1f} ms; detail p95 {rows[-1][2]:.1f} ms "
              f"(target: p95 ≤ 100 ms server time)")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 50_000)
