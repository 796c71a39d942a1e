"""``kasse demo``: the nightly run over every booking day of a sample municipality, then one dunning week.

For each booking day found in the sample's ``statements/`` (oldest first) the day's bank files are copied
into a fresh inbox under ``--out`` (the open-items export arrives with the first day), then the nightly
flow runs for that day. Reports land in ``<out>/<tenant>/<date>/``; the ledger is ``<out>/kasse.duckdb``.

Then the weekly dunning run of the first day it may run (the bank lag after the last booking day) goes
through its three calls: prepared by ``kasse-demo``, released by a second person (``aufsicht``, a
supervisor: the four-eyes release the review page or ``kasse dunning --release`` writes), booked. Its
letters, print file and claims file land in ``<out>/<tenant>/<run date>/dunning/``.

Then the **collection day** (when the tenant config has ``[collection] creditor_id``): the first due date
of claims with a mandate after the booking days is collected on its TARGET2 day with ``kasse collect`` —
prepared by ``kasse-demo``, released by ``aufsicht``, booked; the pain.008 file and its manifest land in
the tenant's outbox. The **next demo day** is that collection date: the bank's statement of the collecting
account is made from the pain.008 file just written (``synth.collection_day``: the batch credited in full,
two returns, AC04 and MS03, debited with the bank's charge), the other accounts get a statement without
entries, and the nightly run books the day: ``direct_debit`` allocations, ``dd_return`` reversals (the
claims open again with their original due dates), the return-fee claims, the returns' actions.

At the end it prints where everything is and how to open the review page on the demo: it writes
``<out>/demo_users.toml`` with one login per role (random passwords, printed once; ``kasse review`` serves
them on a loopback address only).
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import sys
import time
from datetime import date, datetime, timedelta
from datetime import time as clock_time
from pathlib import Path
from types import SimpleNamespace
from typing import Any
from zoneinfo import ZoneInfo

from claims.config import load_tenant_config
from claims.errors import ConfigError

MARKER = ".kasse-demo"
_DATE = re.compile(r"(20\d\d)-?(0[1-9]|1[0-2])-?(0[1-9]|[12]\d|3[01])")


def register(subparsers: Any) -> None:
    """Add the ``demo`` sub-command."""
    p = subparsers.add_parser("demo", help="run the nightly flow over every day of the sample set, then one dunning week and one "
                          "collection day",
                              description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--samples", type=Path, default=Path("data_samples"), help="sample set (kasse generate)")
    p.add_argument("--out", type=Path, default=Path("out"), help="output folder (recreated)")
    p.add_argument("--no-prefect", action="store_true", help="run the plain steps without Prefect")
    p.set_defaults(run=run)


def file_day(path: Path) -> date | None:
    """The booking day a bank file is for: from its name, else from the statement inside."""
    m = _DATE.search(path.name)
    if m:
        return date(int(m[1]), int(m[2]), int(m[3]))
    from parsers import parse_file

    st = parse_file(path).statements
    days = st["closing_date"].drop_nulls() if st.height else None
    return days.max() if days is not None and days.len() else None   # type: ignore[return-value]


def deliveries(samples: Path) -> dict[date, list[Path]]:
    """Bank files of the sample set grouped by booking day (files whose day is unknown come first)."""
    by_day: dict[date, list[Path]] = {}
    for p in sorted((samples / "statements").rglob("*")):
        if p.is_file() and not p.name.startswith("."):
            by_day.setdefault(file_day(p) or date.min, []).append(p)
    return dict(sorted(by_day.items()))


def prepare(samples: Path, out: Path) -> Path:
    """Recreate ``out`` (only if it is empty or an earlier demo's) and write its ``kasse.toml``."""
    if out.exists() and any(out.iterdir()) and not (out / MARKER).exists():
        raise ConfigError(f"{out} exists and is not a demo folder: choose another --out")
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    (out / MARKER).write_text("made by kasse demo; deleted by the next one\n", encoding="utf-8")
    base = samples / "kasse.toml"
    tenant = load_tenant_config(base if base.exists() else None).tenant
    extends = f'extends = "{Path(os.path.relpath(base.resolve(), out.resolve())).as_posix()}"\n' \
        if base.exists() else f'[tenant]\nid = "{tenant}"\n'
    config = out / "kasse.toml"
    config.write_text(
        f"{extends}\n[paths]\nledger = \"kasse.duckdb\"\ntenant_dir = \"files/{tenant}\"\n"
        "state_dir = \"state\"\nreports = \".\"\n", encoding="utf-8")
    return config


def run(args: argparse.Namespace) -> int:
    """Execute ``kasse demo``."""
    os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")     # the demo prints its own summary
    from flows.cmd_nightly import describe, run_reports
    from flows.demo_enforcement import enforcement_days
    from flows.demo_payout import payout_day

    samples, out = args.samples, args.out
    if not (samples / "statements").is_dir():
        print(f"kasse demo: {samples}/statements not found (make one with `kasse generate --out {samples}`)",
              file=sys.stderr)
        return 2
    try:
        config = prepare(samples, out)
    except ConfigError as exc:
        print(f"kasse demo: {exc}", file=sys.stderr)
        return 2
    cfg = load_tenant_config(config)
    cfg.inbox.mkdir(parents=True, exist_ok=True)     # a night refuses a tenant without its inbox folder
    plans = samples / "instalment_plans.csv"         # the dunning run reads the tenant's instalment plans
    if plans.is_file():
        shutil.copy2(plans, cfg.tenant_dir / "instalment_plans.csv")
    days = deliveries(samples)
    exports = sorted(p for p in samples.iterdir() if p.is_file() and p.name.startswith("open_items"))
    started = time.perf_counter()
    last: dict[str, Any] = {}
    for n, (day, files) in enumerate(days.items()):
        for p in [*(exports if n == 0 else []), *files]:
            target = cfg.inbox / p.relative_to(samples)
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(p, target)
        if day == date.min:
            continue                        # undated files wait for the first dated day
        (last,) = run_reports([config], day, tenants=None, prefect=not args.no_prefect)
        print(describe(last))
    dunned = dunning_week(cfg, config, max(days), prefect=not args.no_prefect)
    collected = collection_day(cfg, config, max(days), prefect=not args.no_prefect)
    back: dict[str, Any] = {}
    paid: dict[str, Any] = {}
    if collected:
        back = bank_day(cfg, config, days[max(days)], collected, prefect=not args.no_prefect)
        paid = payout_day(cfg, config, collected["day"], collected["last"], prefect=not args.no_prefect)
    enforced: dict[str, Any] = {}
    if paid:
        enforced = enforcement_days(cfg, config, paid["execution_date"], paid["last"], prefect=not args.no_prefect)
    took = time.perf_counter() - started
    from flows.demo_users import USERS_FILE, write_demo_users

    logins = write_demo_users(out, cfg.tenant)
    rep = last.get("reports") or {}
    what = "".join(s for s, done in ((" and the collection day", back), (" and the payout day", paid),
                                     (" and the enforcement days", enforced)) if done)
    print(f"\n{len(days)} booking days{what} in {took:.1f} s. Open these first:")
    print(f"  day close (to sign): {rep.get('day_close_pdf', '-')}")
    print(f"  Klärungsliste:       {rep.get('klaerungsliste_xlsx', '-')}")
    print(f"  dunning letters:     {dunned.get('letters.pdf', '-')}")
    if collected:
        print(f"  collection file:     {', '.join(p for p in collected['files'])}")
        print(f"  collection day:      {(back.get('reports') or {}).get('day_close_pdf', '-')}")
    if paid:
        print(f"  payout file:         {', '.join(paid['files'])}")
        print(f"  Verrechnungsmitt.:   {paid.get('letters') or '- (nothing set off)'}")
        print(f"  payout bank day:     {(paid['report'].get('reports') or {}).get('day_close_pdf', '-')}")
    if enforced:
        hand = enforced.get("handoff") or {}
        print(f"  hand-off batch:      {', '.join(str(p) for n, p in hand.items() if str(p).endswith(('.xml', '.pdf')))}")
        if enforced.get("updates"):
            print(f"  updates (recall):    {', '.join(enforced['updates'])}")
        if enforced.get("outcomes"):
            print(f"  outcomes (office):   {enforced['outcomes']} (imported by the night, archived)")
    print(f"  key figures:         {rep.get('key_figures_xlsx', '-')}")
    print(f"  every day's reports: {out / cfg.tenant}/<date>/   ledger: {cfg.ledger}")
    print("\nThe review page (clerks' Klärungsliste; demo logins, this machine only):")
    print(f"  kasse review --config {config} --users {out / USERS_FILE}")
    print("  then open http://127.0.0.1:8080/ and log in as")
    for who in logins:
        print(f"    {who.login:<16} {who.password}   ({ROLE_TEXT.get(who.role, who.role)})")
    print(f"  (the passwords are new each demo; they are also in {out / 'demo_logins.txt'})")
    return 0


ROLE_TEXT = {"clerk": "Sachbearbeitung: entscheidet", "supervisor": "Aufsicht: gibt frei",
             "auditor": "Prüfung: liest nur"}


def dunning_week(cfg: Any, config: Path, last_day: date, *, prefect: bool) -> dict[str, str]:
    """Prepare, release (a second person) and book the dunning week after ``last_day``; its file paths."""
    from dunning.calendar import next_business_day
    from flows.cmd_dunning import describe
    from jobs.dunning import release

    as_of = last_day
    for _ in range(cfg.settings.dunning.bank_lag_days):
        as_of = next_business_day(as_of + timedelta(days=1), cfg.settings.dunning.holiday_region)

    def call(user: str) -> Any:
        if prefect:
            from flows.dunning import dunning

            res = dunning(config=str(config), as_of=as_of.isoformat(), user=user)
            return SimpleNamespace(**{**res, "as_of": date.fromisoformat(res["as_of"])})
        from jobs.dunning import run_dunning

        return run_dunning(cfg, as_of, user=user)

    prepared = call("kasse-demo")
    print(describe(prepared))
    if prepared.status != "prepared":
        return {}
    release(cfg, prepared.run_id, user="aufsicht", role="supervisor")
    print(f"released by aufsicht (supervisor, not the preparer): run {prepared.run_id}")
    booked = call("kasse-demo")
    print(describe(booked))
    return dict(booked.paths or {})


def _open_claims(cfg: Any) -> Any:
    from ledger.db import connect
    from ledger.state import current_open_items

    con = connect(cfg.ledger, read_only=True)
    try:
        return current_open_items(con, cfg.tenant)
    finally:
        con.close()


def _collect_call(cfg: Any, config: Path, day: date, user: str, *, prefect: bool) -> Any:
    """One call of the collection job for ``day`` on the demo's clock: a week before the collection date,
    09:00 in Germany (the job checks the send deadline against its clock; the demo's dates are simulated,
    so the real clock would make the demo fail once the sample's collection date is near)."""
    now = datetime.combine(day - timedelta(days=7), clock_time(9), ZoneInfo("Europe/Berlin"))
    if prefect:
        from flows.collect import collect

        (res,) = collect(config=str(config), collection_date=day.isoformat(), user=user, now=now.isoformat())
        return SimpleNamespace(**{**res, "collection_date": date.fromisoformat(res["collection_date"])})
    from jobs.collect import run_collect

    return run_collect(cfg, day, user=user, now=now)


def collection_day(cfg: Any, config: Path, last_day: date, *, prefect: bool) -> dict[str, Any]:
    """Collect the first due date of claims with a mandate after ``last_day``: prepare, release (a second
    person), book; the booked outcome's files (``files``: the pain.008 files in the outbox) or ``{}``."""
    import polars as pl

    from collection.dates import next_target_day
    from flows.cmd_collect import describe
    from jobs.collect import release

    if not cfg.collection.creditor_id:
        return {}
    claims = _open_claims(cfg).filter(pl.col("mandate_id").is_not_null() & (pl.col("due_date") > last_day))
    if claims.is_empty():
        print(f"\nno claim with a mandate is due after {last_day}: no collection day")
        return {}
    due = claims["due_date"].min()
    day = next_target_day(due)
    print(f"\ncollection day: the claims with a mandate due {due} are collected on {day}")
    prepared = _collect_call(cfg, config, day, "kasse-demo", prefect=prefect)
    print(describe(prepared))
    if prepared.status != "prepared":
        return {}
    release(cfg, prepared.run_id, user="aufsicht", role="supervisor")
    print(f"released by aufsicht (supervisor, not the preparer): run {prepared.run_id}")
    booked = _collect_call(cfg, config, day, "kasse-demo", prefect=prefect)
    print(describe(booked))
    files = [p for name, p in (booked.paths or {}).items() if name.endswith(".xml")]
    return {"day": day, "files": files, "counts": booked.counts, "run_id": booked.run_id}


def _last_statements(files: list[Path]) -> dict[str, Any]:
    """Per bank folder of the sample set (``statements/<bank>/``, the ``bank`` of ``[[accounts]]``): the last
    statement's number and closing balance, which the collection day's statements go on from."""
    from parsers import parse_file

    out: dict[str, Any] = {}
    for p in files:
        st = parse_file(p).statements
        if st.height:
            row = st.sort("closing_date").row(-1, named=True)
            out[p.parent.name] = (int(row["sequence_no"]), int(row["closing_cents"]))
    return out


def bank_day(cfg: Any, config: Path, last_files: list[Path], collected: dict[str, Any], *,
             prefect: bool) -> dict[str, Any]:
    """The collection date's bank files, made from the pain.008 files just written (``synth.collection_day``:
    the batch credit, two returns), into the inbox; then the nightly run of that day. Its report."""
    import polars as pl

    from collection.pain_read import read_pain
    from flows.cmd_nightly import describe, run_reports
    from flows.demo_payout import write_statements
    from synth.collection_day import DEFAULT_RETURNS, RETURN_FEE_CENTS, collection_day_files, pick_returns

    day: date = collected["day"]
    pains = [Path(p).read_bytes() for p in collected["files"]]
    collecting = (cfg.collection.account or cfg.settings.accounts[0].iban).replace(" ", "").upper()
    print(f"\nnext demo day {day}: the bank's statements, made from the released pain.008 file(s)")
    collected["last"] = write_statements(cfg, day, _last_statements(last_files), lambda iban, header, fmt: (
        collection_day_files(pains, DEFAULT_RETURNS, header=header, fmt=fmt) if iban == collecting else None))
    rows = pl.concat([read_pain(b) for b in pains])
    batches = rows.group_by("payment_info_id", maintain_order=True).agg(pl.len(), pl.col("amount_cents").sum())
    for pid, n, cents in batches.iter_rows():
        print(f"  batch credit {pid}: {n} collections, {cents / 100:,.2f} EUR (the full sum)")
    back = pick_returns(rows, DEFAULT_RETURNS).join(rows, on="end_to_end_id")
    actions = cfg.collection.return_actions
    for r in back.iter_rows(named=True):
        action = actions.get(r["reason_code"], "none")
        print(f"  return {r['reason_code']} of {r['end_to_end_id']}: {r['amount_cents'] / 100:,.2f} EUR "
              f"+ {RETURN_FEE_CENTS / 100:,.2f} EUR bank charge, mandate {r['mandate_id']} → {action}")
    (report,) = run_reports([config], day, tenants=None, prefect=prefect)
    print(describe(report))
    print(summary_of_day(cfg, day))
    return report


def summary_of_day(cfg: Any, day: date) -> str:
    """What the night of the collection date booked of our collections (read from the ledger)."""
    from ledger.db import connect, fetch

    con = connect(cfg.ledger, read_only=True)
    try:
        alloc = fetch(con, "SELECT rule, count(*) AS n, sum(amount_cents) AS cents FROM allocations "
                           "WHERE tenant = ? AND booking_date = ? AND rule IN ('direct_debit', 'dd_return') "
                           "GROUP BY rule ORDER BY rule", [cfg.tenant, day])
        fees = fetch(con, "SELECT count(*) AS n, coalesce(sum(amount_cents), 0) AS cents FROM claims "
                          "WHERE tenant = ? AND origin = 'fee' AND due_date = ? AND receivable_id LIKE '%-RLS-%'",
                     [cfg.tenant, day])
    finally:
        con.close()
    lines = [f"  {r['rule']}: {r['n']} allocations, {r['cents'] / 100:,.2f} EUR" for r in alloc.iter_rows(named=True)]
    lines.append(f"  return-fee claims: {fees['n'][0]}, {fees['cents'][0] / 100:,.2f} EUR")
    return "\n".join(lines)
