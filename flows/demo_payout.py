"""``kasse demo``'s payout day: a clerk's refund, the night that books it, the payout run, the bank's debit.

After the collection day and its night (``flows/cmd_demo.py``):

1. **the clerk's refund** — a payment on the demo's Klärungsliste that paid more than was owed
   (``overpayment`` / ``double_payment``) is refunded to the account it came from, written through the
   decision journal the review page writes (:mod:`ledger.journal`) by ``sachbearbeitung`` (a clerk);
   above ``[review] four_eyes_above`` a supervisor (``aufsicht``) approves it, as on the page. The
   payment is picked so that the set-off shows: a payer whose payment went to claims of one debtor who
   has another claim open and due on the payout day; else the first over-payment (no set-off then);
2. **the night that books it** — the next TARGET2 day, every account with a statement without entries;
   the nightly run books the refund (``refunds``);
3. **the payout run** — on the next TARGET2 day (the set-off day, the demo's clock), for the first
   execution date a file sent then still reaches: prepared by ``kasse-demo``, released by ``aufsicht``,
   booked; the pain.001 and its manifest in the outbox, the Verrechnungsmitteilung PDF when something
   was set off;
4. **the bank day** — the execution date: the paying account's statement made from the released pain.001
   (``synth.payout_day``: the batch debit), the others without entries; the nightly run books the
   debit per payout (``payout_bookings``).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, timedelta
from datetime import time as clock_time
from pathlib import Path
from types import SimpleNamespace
from typing import Any
from zoneinfo import ZoneInfo

import polars as pl

CLERK, SUPERVISOR, PREPARER = "sachbearbeitung", "aufsicht", "kasse-demo"
#: a statement's maker for one account: (iban, header, fmt) -> {file name: bytes}, or None for a quiet day
Maker = Callable[[str, Any, str], "dict[str, bytes] | None"]


def write_statements(cfg: Any, day: date, last: dict[str, tuple[int, int]], make: Maker) -> dict[str, tuple[int, int]]:
    """Every account's statement of ``day`` into the inbox, going on from ``last`` (per bank folder: number,
    closing balance); what ``make`` gives, else a statement without entries. The new ``last``."""
    from flows.cmd_demo import _last_statements
    from synth.bookings import Account, StatementHeader
    from synth.collection_day import quiet_day_file

    owner = cfg.settings.tenant.name or cfg.tenant
    written: list[Path] = []
    for acc in cfg.settings.accounts:
        bank = acc.bank or acc.iban
        number, opening = last.get(bank, (0, 0))
        account = Account(bank=bank, bank_name=acc.name or bank, blz=acc.iban[4:12], bic=acc.bic or "", iban=acc.iban,
                          owner=owner)
        header = StatementHeader(account, number + 1, day, opening, f"{acc.iban}-{day:%Y%m%d}-{number + 1:05d}")
        fmt = "mt940" if (acc.format or "").lower().startswith("mt940") else "camt.053"
        made = make(acc.iban.replace(" ", "").upper(), header, fmt) or quiet_day_file(header, fmt)
        for name, data in made.items():
            target = cfg.inbox / "statements" / bank / name
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(data)
            written.append(target)
            print(f"  {bank}: {name}")
    return {**last, **_last_statements(written)}


def _next_target_day(day: date) -> date:
    from collection.dates import next_target_day

    return next_target_day(day + timedelta(days=1))


def pick_refunds(cfg: Any, on: date) -> list[dict[str, Any]]:
    """The Klärungsliste payments the clerk refunds (module docstring, 1.): their rows with ``debtor_id``,
    ``n_due`` (the debtor's claims due on ``on``) where the set-off applies. One, where a payment is set
    off in part; else the one set off in full and one paid out in full."""
    from claims.vocab import UnresolvedReason
    from ledger.db import connect, fetch
    from ledger.publish import read_published
    from ledger.state import current_open_items

    kl, _, _ = read_published(cfg.state_dir / "published", cfg.tenant)
    over = kl.filter(pl.col("reason").is_in([str(r) for r in UnresolvedReason.surplus()])
                     & (pl.col("state") == "open") & (pl.col("unallocated_cents") > 0)
                     & pl.col("counterparty_iban").is_not_null() & pl.col("iban_valid").fill_null(False)
                     & pl.col("counterparty_name").is_not_null()).sort("booking_date", "transaction_id")
    if over.is_empty():
        return []
    con = connect(cfg.ledger, read_only=True)
    try:
        owners = fetch(con, "SELECT DISTINCT a.transaction_id, o.debtor_id FROM allocations a JOIN open_items o "
                            "USING (tenant, receivable_id) WHERE a.tenant = ?", [cfg.tenant])
        due = current_open_items(con, cfg.tenant).filter((pl.col("amount_cents") > 0) & (pl.col("due_date") <= on))
    finally:
        con.close()
    # one debtor per payment, and that debtor has a claim open and due on the set-off day
    single = owners.filter(pl.len().over("transaction_id") == 1)
    dues = due.group_by("debtor_id").agg(pl.len().alias("n_due"), pl.col("amount_cents").sum().alias("due_cents"))
    rows = over.join(single, on="transaction_id", how="left").join(dues, on="debtor_id", how="left")
    fit = rows.filter(pl.col("n_due").is_not_null()).sort(
        pl.col("unallocated_cents") > pl.col("due_cents"), "booking_date", "transaction_id",
        descending=[True, False, False])
    plain = rows.filter(pl.col("n_due").is_null()).with_columns(pl.lit(None, pl.String()).alias("debtor_id"))
    picked = fit.head(1)
    if picked.is_empty() or picked["unallocated_cents"][0] <= picked["due_cents"][0]:
        picked = pl.concat([picked, plain.head(1)], how="diagonal_relaxed")   # a transfer shows too
    return picked.to_dicts()


def _payout_call(cfg: Any, config: Path, day: date, user: str, today: date, *, prefect: bool) -> Any:
    if prefect:
        from flows.payout import payout

        now = datetime.combine(today, clock_time(9), ZoneInfo("Europe/Berlin"))   # the set-off day, 09:00
        (res,) = payout(config=str(config), execution_date=day.isoformat(), user=user, now=now.isoformat())
        return SimpleNamespace(**{**res, "execution_date": date.fromisoformat(res["execution_date"])})
    from jobs.payout import run_payout

    return run_payout(cfg, day, user=user, today=today)


def payout_day(cfg: Any, config: Path, after: date, last: dict[str, tuple[int, int]], *,
               prefect: bool) -> dict[str, Any]:
    """The payout day after the collection day ``after`` (module docstring); what it did (``{}``: nothing)."""
    from flows.cmd_nightly import describe as night_text
    from flows.cmd_nightly import run_reports
    from flows.cmd_payout import describe
    from jobs.payout import release
    from jobs.payout.steps import next_execution_date
    from ledger.journal import new_decision, record_approval, record_decision
    from review.config import review_config_of
    from synth.payout_day import payout_day_files

    night = _next_target_day(after)
    prepare_on = _next_target_day(night)
    picked = pick_refunds(cfg, prepare_on)
    if not picked:
        print("\nno over-payment on the Klärungsliste: no payout day")
        return {}
    print("\npayout day:")
    for row in picked:
        cents = int(row["unallocated_cents"])
        print(f"  {CLERK} refunds {cents / 100:,.2f} EUR of {row['counterparty_name']}'s payment of "
              f"{row['booking_date']} ({row['reason']}) to {row['counterparty_iban']}"
              + (f": debtor {row['debtor_id']} has {row['n_due']} claim(s) due, set off first"
                 if row.get("n_due") else ""))
        decision = record_decision(cfg.state_dir, new_decision(
            cfg.tenant, row["transaction_id"], "refund", user=CLERK, role="clerk", amount_cents=cents,
            requires_approval=review_config_of(cfg).requires_approval(cents), refund_iban=row["counterparty_iban"],
            note="Überzahlung: Erstattung an das Konto der Zahlung (kasse demo)"))
        if decision.requires_approval:
            record_approval(cfg.state_dir, cfg.tenant, decision.decision_id, user=SUPERVISOR, role="supervisor")
            print(f"    approved by {SUPERVISOR} (supervisor, four-eyes above the review threshold)")
    print(f"\nnight of {night}: statements without entries; the night books the refund")
    last = write_statements(cfg, night, last, lambda iban, header, fmt: None)
    (report,) = run_reports([config], night, tenants=None, prefect=prefect)
    print(night_text(report))

    now = datetime.combine(prepare_on, clock_time(9), ZoneInfo(cfg.payout.timezone))
    execution = next_execution_date(cfg, now)
    print(f"\npayout run on {prepare_on} (the set-off day) for execution date {execution}")
    prepared = _payout_call(cfg, config, execution, PREPARER, prepare_on, prefect=prefect)
    print(describe(prepared))
    if prepared.status != "prepared":
        return {}
    release(cfg, prepared.run_id, user=SUPERVISOR, role="supervisor")
    print(f"released by {SUPERVISOR} (supervisor, not the preparer): run {prepared.run_id}")
    booked = _payout_call(cfg, config, execution, PREPARER, prepare_on, prefect=prefect)
    print(describe(booked))
    files = [p for name, p in (booked.paths or {}).items() if name.endswith(".xml")]
    pains = [Path(p).read_bytes() for p in files]
    paying = (cfg.payout_account or "").replace(" ", "").upper()

    print(f"\nbank day {execution}: the paying account's statement, made from the released pain.001")
    last = write_statements(cfg, execution, last, lambda iban, header, fmt: (
        payout_day_files(pains, header=header, fmt=fmt) if pains and iban == paying else None))
    (report,) = run_reports([config], execution, tenants=None, prefect=prefect)
    print(night_text(report))
    print(summary_of_payouts(cfg, execution))
    return {"execution_date": execution, "files": files, "letters": (booked.paths or {}).get("letters"),
            "counts": booked.counts, "run_id": booked.run_id, "report": report, "last": last,
            "refunded": [r["transaction_id"] for r in picked]}


def summary_of_payouts(cfg: Any, day: date) -> str:
    """What the night of the execution date booked of our payouts (read from the ledger)."""
    from ledger.db import connect, fetch

    con = connect(cfg.ledger, read_only=True)
    try:
        got = fetch(con, "SELECT count(*) AS n, coalesce(sum(amount_cents), 0) AS cents FROM payout_bookings "
                         "WHERE tenant = ? AND booking_date = ?", [cfg.tenant, day])
    finally:
        con.close()
    return f"  payouts booked by the bank: {got['n'][0]}, {got['cents'][0] / 100:,.2f} EUR"
