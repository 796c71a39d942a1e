"""``kasse demo``'s Amtshilfe nights: a delivery of foreign creditors' requests, then a payment on one case.

After the enforcement days (``flows/demo_enforcement.py``) the sample municipality's enforcement office
works for others too (issue 18; docs/AMTSHILFE.md):

1. **the delivery night** — the next TARGET2 day: a delivery of :data:`N_MESSAGES` messages of seven
   creditors (``synth.amtshilfe_data``: Beitragsservice run-off requests and requests dated after the NRW
   cut-off, an IHK, an HWK, municipalities; debtors inside and outside the district, missing formal
   fields, changes, a repeat) arrives in the inbox as our XML, every :data:`BAD_EVERY`-th request broken (a
   date that does not exist, a negative amount, a missing element). The nightly run imports the good
   ones — accepted requests become cases with claims, the others are returned or held for a person — and
   writes the Answers file per creditor into ``outbox/amtshilfe``; each broken record is an issue;
2. **the payment night** — the next TARGET2 day: the debtor of the first accepted case pays its total
   by transfer quoting our case number; the nightly matcher books it on the case's claims.

The demo's tenant config names the synth district (``[amtshilfe] district_postcodes``, written by
:func:`flows.cmd_demo.prepare`).
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import polars as pl

from flows.demo_payout import _next_target_day, write_statements

#: Messages in the demo's delivery (kept small: the demo runs in CI).
N_MESSAGES = 60
#: Every n-th request of the file is broken.
BAD_EVERY = 20
SEED = 7


def _q(cfg: Any, sql: str, params: list[Any]) -> pl.DataFrame:
    from ledger.db import connect, fetch

    con = connect(cfg.ledger, read_only=True)
    try:
        return fetch(con, sql, params)
    finally:
        con.close()


def delivery_summary(cfg: Any, day: date) -> dict[str, Any]:
    """What the night of ``day`` made of the deliveries: outcomes, reasons, rejected records, answer files."""
    events = _q(cfg, """SELECT e.outcome, e."check", count(*) AS n FROM amtshilfe_events e JOIN runs r
                        USING (tenant, run_id) WHERE e.tenant = $1 AND r.booking_date = $2 GROUP BY ALL
                        ORDER BY ALL""", [cfg.tenant, day])
    rejected = _q(cfg, """SELECT count(*) AS n FROM issues WHERE tenant = $1 AND booking_date = $2
                          AND code = 'amtshilfe.record_rejected'""", [cfg.tenant, day])["n"][0]
    files = sorted(str(p) for p in (cfg.tenant_dir / "outbox" / "amtshilfe").glob("*.xml"))
    outcomes: dict[str, int] = {}
    reasons: dict[str, int] = {}
    for outcome, check, n in events.iter_rows():
        outcomes[outcome] = outcomes.get(outcome, 0) + n
        if check:
            reasons[f"{outcome}: {check}"] = n
    return {"outcomes": outcomes, "reasons": reasons, "rejected": int(rejected), "feedback": files}


def amtshilfe_days(cfg: Any, config: Path, after: date, last: dict[str, tuple[int, int]], *,
                   prefect: bool) -> dict[str, Any]:
    """The two nights of the module docstring after ``after``; what they made."""
    from flows.cmd_nightly import describe as night_text
    from flows.cmd_nightly import run_reports
    from synth.amtshilfe_data import delivery, requests_xml, with_bad_records
    from synth.enforcement_day import credit_day_files

    night = _next_target_day(after)
    d = delivery(N_MESSAGES, SEED)
    data, broken = with_bad_records(requests_xml(d), "xml", every=BAD_EVERY)
    target = cfg.inbox / f"amtshilfe_{d.header.message_id}_{night:%Y%m%d}.xml"
    target.write_bytes(data)
    print(f"\nAmtshilfe night {night}: a delivery of {d.data.requests.height} requests and "
          f"{d.data.changes.height} changes of foreign creditors ({broken.height} records broken) arrives: "
          f"{target.name}")
    last = write_statements(cfg, night, last, lambda iban, header, fmt: None)
    (report,) = run_reports([config], night, tenants=None, prefect=prefect)
    print(night_text(report))
    got = delivery_summary(cfg, night)
    print("  requests: " + ", ".join(f"{k} {v}" for k, v in got["outcomes"].items()))
    print("  why returned / held: " + (", ".join(f"{k} ({v})" for k, v in got["reasons"].items()) or "-"))
    print(f"  records rejected by the reader: {got['rejected']} (issues amtshilfe.record_rejected)")
    print(f"  answers to the creditors: {len(got['feedback'])} files in {cfg.tenant_dir / 'outbox' / 'amtshilfe'}")

    case = _q(cfg, """SELECT case_number, debtor_name, creditor_name, total_cents FROM amtshilfe_requests
                      WHERE tenant = $1 AND state = 'accepted' AND case_number IS NOT NULL
                      ORDER BY seq LIMIT 1""", [cfg.tenant])
    if case.height == 0:
        return {"night": night, **got}
    number, debtor, creditor, total = case.row(0)
    pay_night = _next_target_day(night)
    print(f"\npayment night {pay_night}: {debtor} pays {total / 100:,.2f} EUR quoting case {number} "
          f"({creditor})")
    credit = pl.DataFrame([{"amount_cents": total, "name": debtor, "iban": "DE89370400440532013000",
                            "remittance": f"Vollstreckungshilfe Az {number[:4]} {number[4:8]} {number[8:]}"}])
    receiving = (cfg.settings.accounts[0].iban if cfg.settings.accounts else "").replace(" ", "").upper()
    last = write_statements(cfg, pay_night, last, lambda iban, header, fmt: (
        credit_day_files(credit, header=header, fmt=fmt) if iban == receiving else None))
    (report,) = run_reports([config], pay_night, tenants=None, prefect=prefect)
    print(night_text(report))
    booked = _q(cfg, """SELECT count(*) AS n, coalesce(sum(amount_cents), 0) AS c, any_value("rule") AS r
                        FROM allocations WHERE tenant = $1 AND kassenzeichen = $2""", [cfg.tenant, number])
    n, cents, rule = booked.row(0)
    print(f"  booked on case {number}: {cents / 100:,.2f} EUR on {n} claims ({rule or 'nothing booked'}); "
          "forwarded to the creditor by the next payout run")
    return {"night": night, "payment_night": pay_night, "case_number": number, "booked_cents": int(cents),
            "last": last, **got}


__all__ = ["BAD_EVERY", "N_MESSAGES", "amtshilfe_days", "delivery_summary"]
