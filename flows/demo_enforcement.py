"""``kasse demo``'s enforcement days: the hand-off, a recall the same night, and the office's outcomes.

After the payout day (``flows/demo_payout.py``), the sample municipality's story runs on:

1. **the hand-off** — on the next TARGET2 day (the Mahnungen of the dunning week are past their deadline,
   the postal buffer and the bank lag): ``kasse handoff`` prepared by ``kasse-demo``, released by
   ``aufsicht`` (four-eyes), booked; the batch (XML, CSV, Übergabeliste) in the outbox, each case's record
   and its claims' notices as exported in the case file;
2. **the recall night** — the next TARGET2 day: the debtor of the first case pays its main claim by
   transfer quoting the Kassenzeichen (``synth.enforcement_day``), and the debtor of the second case was
   granted a Stundung that day (the block journal, as the review page writes it); the nightly run books the
   payment and tells the enforcement office the same night: a partial payment (the fees stay open) and a
   suspension, in the updates file in the outbox;
3. **the outcomes night** — the next TARGET2 day: the office's outcomes file arrives in the inbox (the
   third case fruitless, with the office's fees; the fourth in instalments); the nightly run imports it,
   books the fees as claims and blocks the fruitless claims (NIEDERSCHLAGUNG) for dunning and hand-off.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import polars as pl

from flows.demo_payout import PREPARER, SUPERVISOR, _next_target_day, write_statements


def _handoff_call(cfg: Any, config: Path, day: date, user: str, *, prefect: bool) -> Any:
    if prefect:
        from flows.handoff import handoff

        (res,) = handoff(config=str(config), handoff_date=day.isoformat(), user=user)
        return SimpleNamespace(**{**res, "handoff_date": date.fromisoformat(res["handoff_date"])})
    from jobs.handoff import run_handoff

    return run_handoff(cfg, day, user=user)


def _q(cfg: Any, sql: str, params: list[Any]) -> pl.DataFrame:
    from ledger.db import connect, fetch

    con = connect(cfg.ledger, read_only=True)
    try:
        return fetch(con, sql, params)
    finally:
        con.close()


def handed_cases(cfg: Any, run_id: str) -> pl.DataFrame:
    """The main claims the hand-off run booked, one per case (the largest), with the debtor's name and IBAN."""
    return _q(cfg, """
        SELECT c.case_number, c.debtor_id, k.debtor_name, c.receivable_id, c.kassenzeichen, c.handed_cents,
               o.debtor_iban
        FROM enforcement_case_claims c JOIN enforcement_cases k USING (tenant, run_id, case_number)
        LEFT JOIN (SELECT receivable_id, any_value(debtor_iban) AS debtor_iban FROM open_items
                   WHERE tenant = $1 GROUP BY ALL) o USING (receivable_id)
        WHERE c.tenant = $1 AND c.run_id = $2 AND NOT c.ancillary
        QUALIFY row_number() OVER (PARTITION BY c.case_number ORDER BY c.handed_cents DESC, c.receivable_id) = 1
        ORDER BY c.case_number""", [cfg.tenant, run_id])


def _updates_of(cfg: Any, day: date) -> str:
    got = _q(cfg, """SELECT u.kind, count(*) AS n FROM enforcement_updates u JOIN runs r USING (tenant, run_id)
                     WHERE u.tenant = $1 AND r.booking_date = $2 GROUP BY ALL ORDER BY 1""", [cfg.tenant, day])
    return ", ".join(f"{k}: {n}" for k, n in got.iter_rows()) or "none"


def _outcomes_of(cfg: Any) -> str:
    got = _q(cfg, "SELECT outcome, state, count(*) AS n FROM enforcement_outcomes WHERE tenant = $1 GROUP BY ALL "
                  "ORDER BY 1", [cfg.tenant])
    fees = _q(cfg, "SELECT count(*) AS n, coalesce(sum(amount_cents), 0) AS c FROM enforcement_outcome_fees "
                   "WHERE tenant = $1", [cfg.tenant])
    parts = [f"{o} ({s}): {n}" for o, s, n in got.iter_rows()]
    return f"{', '.join(parts) or 'none'}; office fees booked as claims: {fees['n'][0]}, {fees['c'][0] / 100:,.2f} EUR"


def enforcement_days(cfg: Any, config: Path, after: date, last: dict[str, tuple[int, int]], *,
                     prefect: bool) -> dict[str, Any]:
    """The three days of the module docstring after ``after``; what they made (``{}``: nothing handed over)."""
    from flows.cmd_handoff import describe
    from flows.cmd_nightly import describe as night_text
    from flows.cmd_nightly import run_reports
    from jobs.handoff import release
    from ledger.block_journal import set_block
    from synth.enforcement_day import credit_day_files, office_outcomes

    day = _next_target_day(after)
    print(f"\nhand-off day {day}: the dunned claims past their Mahnfrist go to the enforcement office")
    prepared = _handoff_call(cfg, config, day, PREPARER, prefect=prefect)
    print(describe(prepared))
    if prepared.status != "prepared":
        return {}
    release(cfg, prepared.run_id, user=SUPERVISOR, role="supervisor")
    print(f"released by {SUPERVISOR} (supervisor, not the preparer): run {prepared.run_id}")
    booked = _handoff_call(cfg, config, day, PREPARER, prefect=prefect)
    print(describe(booked))
    cases = handed_cases(cfg, booked.run_id)
    if cases.height < 4:
        return {"handoff": dict(booked.paths or {})}
    paid, stundung, fruitless, plan = cases.row(0, named=True), *cases.slice(1, 3).iter_rows(named=True)

    night = _next_target_day(day)
    print(f"\nrecall night {night}: {paid['debtor_name']} pays {paid['handed_cents'] / 100:,.2f} EUR on "
          f"{paid['kassenzeichen']} (case {paid['case_number']}); {stundung['debtor_name']} was granted a "
          f"Stundung (case {stundung['case_number']})")
    set_block(cfg.state_dir, cfg.tenant, debtor_id=stundung["debtor_id"], reason="STUNDUNG",
              until=night + timedelta(days=60), note="Stundungsantrag vom Tag nach der Abgabe (kasse demo)",
              user="sachbearbeitung", role="clerk", start=night)
    credit = pl.DataFrame([{"amount_cents": paid["handed_cents"], "name": paid["debtor_name"],
                            "iban": paid["debtor_iban"], "remittance": f"Kassenzeichen {paid['kassenzeichen']}"}])
    receiving = (cfg.settings.accounts[0].iban if cfg.settings.accounts else "").replace(" ", "").upper()
    last = write_statements(cfg, night, last, lambda iban, header, fmt: (
        credit_day_files(credit, header=header, fmt=fmt) if iban == receiving else None))
    (report,) = run_reports([config], night, tenants=None, prefect=prefect)
    print(night_text(report))
    print(f"  updates to the enforcement office that night: {_updates_of(cfg, night)}")

    outcomes_night = _next_target_day(night)
    office = _office_party(cfg)
    creditor = _creditor_party(cfg)
    rows = pl.DataFrame([
        {"office_reference": f"VS/{day:%Y}/0001", "case_number": fruitless["case_number"], "sequence": 1,
         "outcome": "uncollectible", "outcome_date": night, "collected_cents": 0,
         "note": "Pfändungsversuch fruchtlos, Vermögensauskunft abgegeben"},
        {"office_reference": f"VS/{day:%Y}/0002", "case_number": plan["case_number"], "sequence": 1,
         "outcome": "instalments", "outcome_date": night, "collected_cents": 0, "instalment_cents": 5000,
         "instalment_first_due": outcomes_night + timedelta(days=14), "instalment_count": 6},
    ])
    fees = pl.DataFrame([
        {"office_reference": f"VS/{day:%Y}/0001", "case_number": fruitless["case_number"], "sequence": 1,
         "kind": "pfaendung", "basis": "§ 10 VO VwVG NRW", "amount_cents": 2600},
        {"office_reference": f"VS/{day:%Y}/0001", "case_number": fruitless["case_number"], "sequence": 1,
         "kind": "auslagen", "basis": "§ 14 VO VwVG NRW", "description": "Zustellung", "amount_cents": 350},
    ])
    data = office_outcomes(rows, fees, office_id=cfg.enforcement.office_id, office=office, creditor=creditor,
                           message_id=f"VS-{outcomes_night:%Y%m%d}-1", created=datetime.now(UTC))
    target = cfg.inbox / "enforcement" / f"rueckmeldungen_{outcomes_night:%Y%m%d}.xml"
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(data)
    print(f"\noutcomes night {outcomes_night}: the office's outcomes file {target.name} arrives "
          f"(case {fruitless['case_number']} fruitless with fees, case {plan['case_number']} in instalments)")
    last = write_statements(cfg, outcomes_night, last, lambda iban, header, fmt: None)
    (report,) = run_reports([config], outcomes_night, tenants=None, prefect=prefect)
    print(night_text(report))
    print(f"  outcomes imported: {_outcomes_of(cfg)}")
    updates = sorted(str(p) for p in (cfg.tenant_dir / "outbox").rglob("*.xml") if "update" in p.name.lower())
    return {"handoff": dict(booked.paths or {}), "updates": updates, "outcomes": str(target), "last": last,
            "day": outcomes_night}


def _office_party(cfg: Any) -> Any:
    from enforcement.file_format import Party

    s = cfg.enforcement
    return Party(name=s.office_name, tenant=s.office_tenant, street=s.office_street, postcode=s.office_postcode,
                 city=s.office_city)


def _creditor_party(cfg: Any) -> Any:
    from enforcement.file_format import Party

    return Party(name=cfg.settings.tenant.name or cfg.tenant, tenant=cfg.tenant)
