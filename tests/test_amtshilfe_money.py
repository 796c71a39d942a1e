"""Amtshilfe money over a real ledger and the real jobs: a delivery imported by a night, payments on its cases,
the payout run forwarding to the account the requests name (no ``[[creditors]]``) and booking
``payment_forwarded`` events, the next night's Answers file with them and ``settled``, never twice across
reruns; open requests naming two IBANs held; the cost invoice once per creditor and period, across reruns
and a second period (docs/AMTSHILFE.md "Forwarding", "Feedback")."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from faults import InjectedFailure, fail_at
from nightly_files import write_open_items
from test_amtshilfe_import import HEADER, deliver, notice, request

import jobs.nightly as night
from amtshilfe import model
from amtshilfe.xml_format import read_answers, write_requests
from claims.config import TenantConfig, load_tenant_config
from jobs.nightly.amtshilfe import case_number
from jobs.payout import release, run_payout
from ledger.booking import book
from ledger.db import connect, fetch
from ledger.tables import ALLOCATIONS, OWN_CLAIMS, TABLES

IHK_IBAN = "DE02120300000000202051"
OTHER_IBAN = "DE89370400440532013000"
D0, D1, D2 = date(2026, 12, 1), date(2026, 12, 2), date(2026, 12, 3)
EXEC = date(2026, 12, 4)                          # Friday
D3, D4 = date(2026, 12, 7), date(2026, 12, 8)


def tenant(tmp_path: Path, extra: str = "") -> TenantConfig:
    (tmp_path / "kasse.toml").write_text(
        '[tenant]\nid = "stadt"\nname = "Stadtkasse Bielefeld"\n'
        '[enforcement]\noffice_id = "VS-BI"\noffice_name = "Stadt Bielefeld"\n'
        f'[amtshilfe]\ndistrict_postcodes = ["33602"]\n[payout]\naccount = "{OTHER_IBAN}"\n{extra}',
        encoding="utf-8")
    cfg = load_tenant_config(tmp_path / "kasse.toml")
    write_open_items(cfg.inbox / "export.csv", [("R0", "100000000001", 1000)])
    night.run_night(cfg, D0)
    return cfg


def q(cfg: TenantConfig, sql: str) -> pl.DataFrame:
    con = connect(cfg.ledger)
    try:
        return fetch(con, sql)
    finally:
        con.close()


def import_requests(cfg: TenantConfig, iban_2: str = IHK_IBAN) -> tuple[str, str]:
    """The night of D1: A-1 (two notices, 105 € + 205 €) and A-2 (55 €) of the IHK accepted."""
    data = model.requests(
        pl.DataFrame([request("E-1", "A-1"), request("E-2", "A-2", creditor_iban=iban_2, payment_reference="IHK-22")]),
        pl.DataFrame([notice("E-1", 1, 10_000), notice("E-1", 2, 20_000), notice("E-2", 1, 5_000)]))
    deliver(cfg, "ihk.xml", write_requests(HEADER, data))
    night.run_night(cfg, D1)
    return case_number("stadt", "IHK-BI", "A-1"), case_number("stadt", "IHK-BI", "A-2")


def pay(cfg: TenantConfig, run_id: str, day: date, *rows: tuple[str, str, int]) -> None:
    """Allocations booked as a night books them: (transaction, receivable, cents)."""
    alloc = pl.DataFrame([{"tenant": "stadt", "run_id": run_id, "transaction_id": t, "receivable_id": r,
                           "kassenzeichen": r.rsplit("-", 1)[0], "amount_cents": a, "rule": "kassenzeichen_exact",
                           "decided_by": "auto", "booking_date": day, "import_id": OWN_CLAIMS} for t, r, a in rows])
    runs = pl.DataFrame([{"tenant": "stadt", "run_id": run_id, "booking_date": day, "mode": "plain", "job": "test",
                          "started_at": datetime.now(UTC)}])
    frames: dict[str, Any] = {
        "runs": runs.select([pl.col(c).cast(t) if c in runs.columns else pl.lit(None, t).alias(c)
                             for c, t in TABLES["runs"].items()]),
        "allocations": alloc.select([pl.col(c).cast(t) if c in alloc.columns else pl.lit(None, t).alias(c)
                                     for c, t in ALLOCATIONS.items()])}
    con = connect(cfg.ledger)
    try:
        book(con, frames, run_id=run_id)
    finally:
        con.close()


def answers(cfg: TenantConfig) -> list[Path]:
    return sorted((cfg.tenant_dir / "outbox" / "amtshilfe").glob("*.xml"))


def sachstand(path: Path) -> list[tuple[Any, ...]]:
    got = read_answers(path.read_bytes())
    assert got.rejected.height == 0
    return got.data.sachstand.sort("code", "case_number").select(
        "code", "creditor_file_number", "case_number", "amount_cents", "paid_on").rows()


def test_money_is_forwarded_to_the_requests_account_reported_and_settled_once(tmp_path: Path) -> None:
    cfg = tenant(tmp_path)
    c1, c2 = import_requests(cfg)
    first = answers(cfg)
    assert len(first) == 1                                             # the two acceptances
    # A-2 paid in full, A-1 in part (100 of 105 € on its first claim)
    pay(cfg, "pay-1", D1, ("T1", f"{c2}-1", 5_500), ("T2", f"{c1}-1", 10_000))
    night.run_night(cfg, D2)
    assert q(cfg, "SELECT event_id, kind, creditor_id, creditor_file_number, amount_cents FROM amtshilfe_events "
                  "WHERE kind = 'settled'").rows() == [(f"settled:{c2}", "settled", "IHK-BI", "A-2", 5_500)]
    assert q(cfg, "SELECT creditor_file_number, state FROM amtshilfe_requests QUALIFY row_number() OVER "
                  "(PARTITION BY creditor_file_number ORDER BY seq DESC) = 1 ORDER BY 1").rows() == [
        ("A-1", "accepted"), ("A-2", "settled")]
    assert q(cfg, "SELECT count(*) AS n FROM amtshilfe_notices n JOIN amtshilfe_requests r USING (seq) "
                  "WHERE r.state = 'settled'")["n"][0] == 1          # its notice carried to the settled row
    new = [p for p in answers(cfg) if p not in first]
    assert [sachstand(p) for p in new] == [[("settled", "A-2", c2, None, None)]]

    # the payout run forwards to the IBAN the requests name: no [[creditors]] entry
    out = run_payout(cfg, EXEC, user="anna", today=D2)
    assert out.status == "prepared" and out.run_id and out.counts["n_forwards"] == 1
    release(cfg, out.run_id, user="sven", role="supervisor")
    assert run_payout(cfg, EXEC, user="anna", today=D2).status == "booked"
    assert q(cfg, "SELECT payee_name, payee_iban, amount_cents, remittance FROM payouts").rows() == [
        ("IHK Ostwestfalen zu Bielefeld", IHK_IBAN, 15_500,
         f"IHK-22, IHK-4711 Weiterleitung Kz {', '.join(sorted([c1, c2]))}")]
    events = "SELECT event_id, kind, creditor_id, creditor_file_number, case_number, event_date, amount_cents " \
             "FROM amtshilfe_events WHERE kind = 'payment_forwarded' ORDER BY event_id"
    assert q(cfg, events).rows() == sorted([
        (f"IHK-BI@20261204:{c1}", "payment_forwarded", "IHK-BI", "A-1", c1, EXEC, 10_000),
        (f"IHK-BI@20261204:{c2}", "payment_forwarded", "IHK-BI", "A-2", c2, EXEC, 5_500)])
    assert run_payout(cfg, EXEC, user="anna", today=D2).status == "nothing_to_do"   # rerun: nothing booked
    assert q(cfg, events).height == 2

    # the next night reports both forwards; the one after reports nothing again
    before = answers(cfg)
    night.run_night(cfg, D3)
    [report] = [p for p in answers(cfg) if p not in before]
    assert sorted(sachstand(report)) == sorted([("payment_forwarded", "A-1", c1, 10_000, EXEC),
                                        ("payment_forwarded", "A-2", c2, 5_500, EXEC)])
    night.run_night(cfg, D4)
    assert len(answers(cfg)) == len(before) + 1
    assert q(cfg, "SELECT count(*) AS n FROM amtshilfe_events WHERE kind = 'settled'")["n"][0] == 1

    # the rest of A-1 is paid: settled; the second forward covers it alone and is reported with the total
    pay(cfg, "pay-2", D4, ("T3", f"{c1}-1", 500), ("T4", f"{c1}-2", 20_500))
    night.run_night(cfg, date(2026, 12, 9))
    assert q(cfg, "SELECT event_id FROM amtshilfe_events WHERE kind = 'settled' ORDER BY 1")["event_id"].to_list() == \
        sorted([f"settled:{c1}", f"settled:{c2}"])
    second = date(2026, 12, 11)
    out = run_payout(cfg, second, user="anna", today=date(2026, 12, 10))
    assert out.run_id
    release(cfg, out.run_id, user="sven", role="supervisor")
    assert run_payout(cfg, second, user="anna", today=date(2026, 12, 10)).counts["forward_cents"] == 21_000
    before = answers(cfg)
    night.run_night(cfg, date(2026, 12, 14))
    [report] = [p for p in answers(cfg) if p not in before]
    got = read_answers(report.read_bytes()).data.sachstand
    assert got.select("code", "case_number", "amount_cents", "note").rows() == [
        ("payment_forwarded", c1, 21_000, "forwarded so far: 31000 cents")]


def test_open_requests_with_two_ibans_hold_the_forward_until_the_config_names_the_account(tmp_path: Path) -> None:
    cfg = tenant(tmp_path)
    c1, _ = import_requests(cfg, iban_2=OTHER_IBAN)
    pay(cfg, "pay-1", D1, ("T2", f"{c1}-1", 10_000))
    night.run_night(cfg, D2)
    out = run_payout(cfg, EXEC, user="anna", today=D2)
    assert out.status == "nothing_to_do" and out.counts["skipped"] == {"creditor_account_conflict": 1}
    assert q(cfg, "SELECT count(*) AS n FROM amtshilfe_events WHERE kind = 'payment_forwarded'")["n"][0] == 0
    # a person enters the account: the config overrides the requests
    with (tmp_path / "kasse.toml").open("a", encoding="utf-8") as fh:
        fh.write(f'[[creditors]]\nid = "IHK-BI"\nname = "IHK Kasse"\niban = "{IHK_IBAN}"\nreference = "VH-9"\n')
    cfg = load_tenant_config(tmp_path / "kasse.toml")
    out = run_payout(cfg, EXEC, user="anna", today=D2)
    assert out.run_id and out.counts["n_forwards"] == 1
    release(cfg, out.run_id, user="sven", role="supervisor")
    run_payout(cfg, EXEC, user="anna", today=D2)
    assert q(cfg, "SELECT payee_name, payee_iban, remittance FROM payouts").rows() == [
        ("IHK Kasse", IHK_IBAN, f"VH-9 Weiterleitung Kz {c1}")]
    assert q(cfg, "SELECT event_id, amount_cents FROM amtshilfe_events WHERE kind = 'payment_forwarded'").rows() == [
        (f"IHK-BI@20261204:{c1}", 10_000)]


def test_the_cost_invoice_is_booked_once_per_creditor_and_period(tmp_path: Path) -> None:
    cfg = tenant(tmp_path)
    c1, c2 = import_requests(cfg)                                     # accepted on 2 Dec
    jan = date(2027, 1, 4)
    before = answers(cfg)
    night.run_night(cfg, jan)
    invoice = "SELECT event_id, kind, creditor_id, amount_cents FROM amtshilfe_events WHERE kind = 'cost_invoice'"
    assert q(cfg, invoice).rows() == [
        ("cost_invoice:IHK-BI:2026-12-01:2026-12-31", "cost_invoice", "IHK-BI", 7_400)]
    items = q(cfg, "SELECT item_id, creditor_file_number, case_number, amount_cents, kassenzeichen "
                   "FROM amtshilfe_invoice_items ORDER BY item_id")
    kz = items["kassenzeichen"][0]
    assert items.rows() == [("contribution-IHK-BI-A-1", "A-1", c1, 3_700, kz),
                            ("contribution-IHK-BI-A-2", "A-2", c2, 3_700, kz)]
    # the invoiced amount is the tenant's claim against the IHK
    assert q(cfg, "SELECT receivable_id, kassenzeichen, debtor_id, debtor_name, amount_cents, origin, creditor, "
                  "claim_type, due_date FROM claims WHERE origin = 'fee'").rows() == [
        (f"{kz}-1", kz, "AH-GL-IHK-BI", "IHK Ostwestfalen zu Bielefeld", 7_400, "fee", "stadt", "KOSTEN",
         date(2027, 2, 3))]
    # an authority is not dunned like a citizen: the invoice's claim is not among the dunning run's claims
    from ledger.db import connect
    from ledger.dunning_state import read_dunning_state

    con = connect(cfg.ledger)
    try:
        dunnable = read_dunning_state(con, "stadt").claims
    finally:
        con.close()
    assert kz not in dunnable["kassenzeichen"].to_list()
    # the Answers file carries the invoice with its items; the document lies beside it
    [report] = [p for p in answers(cfg) if p not in before]
    got = read_answers(report.read_bytes()).data
    assert got.sachstand.select("code", "period_from", "period_to").rows() == [
        ("cost_invoice", date(2026, 12, 1), date(2026, 12, 31))]
    assert sorted(got.cost_items.select("creditor_file_number", "kind", "amount_cents").rows()) == [
        ("A-1", "contribution", 3_700), ("A-2", "contribution", 3_700)]
    doc = (cfg.tenant_dir / "outbox" / "amtshilfe" / f"stadt-KR-{kz}.csv").read_text(encoding="utf-8-sig")
    assert doc.splitlines()[-1].endswith(";Summe;;74,00") and doc.count("37,00") == 2

    # the next nights of January: nothing again; a request accepted in January is invoiced in February alone
    night.run_night(cfg, date(2027, 1, 5))
    data = model.requests(pl.DataFrame([request("E-3", "A-3")]), pl.DataFrame([notice("E-3", 1, 1_000)]))
    deliver(cfg, "ihk_2.xml", write_requests(model.Header("IHK-2027-001", HEADER.created, HEADER.sender,
                                                          HEADER.receiver), data))
    night.run_night(cfg, date(2027, 1, 6))
    assert q(cfg, invoice).height == 1 and q(cfg, "SELECT count(*) AS n FROM claims WHERE origin = 'fee'")["n"][0] == 1
    night.run_night(cfg, date(2027, 2, 1))
    night.run_night(cfg, date(2027, 2, 2))
    assert q(cfg, invoice + " ORDER BY 1").rows() == [
        ("cost_invoice:IHK-BI:2026-12-01:2026-12-31", "cost_invoice", "IHK-BI", 7_400),
        ("cost_invoice:IHK-BI:2027-01-01:2027-01-31", "cost_invoice", "IHK-BI", 3_700)]
    assert q(cfg, "SELECT item_id FROM amtshilfe_invoice_items ORDER BY 1")["item_id"].to_list() == [
        "contribution-IHK-BI-A-1", "contribution-IHK-BI-A-2", "contribution-IHK-BI-A-3"]
    assert q(cfg, "SELECT sum(amount_cents) AS s FROM claims WHERE origin = 'fee'")["s"][0] == 11_100


@pytest.mark.parametrize("step", ["book", "book.commit", "reports"])
def test_a_crash_before_or_after_the_commit_settles_and_invoices_once(tmp_path: Path, step: str,
                                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    cfg = tenant(tmp_path)
    _, c2 = import_requests(cfg)
    pay(cfg, "pay-1", D1, ("T1", f"{c2}-1", 5_500))
    jan = date(2027, 1, 4)                            # settles A-2 and invoices December in one night
    fail_at(monkeypatch, step)
    with pytest.raises(InjectedFailure):
        night.run_night(cfg, jan)
    fail_at(monkeypatch, None)
    night.run_night(cfg, jan)
    night.run_night(cfg, date(2027, 1, 5))
    assert q(cfg, "SELECT kind, count(*) AS n FROM amtshilfe_events WHERE kind IN ('settled', 'cost_invoice') "
                  "GROUP BY 1 ORDER BY 1").rows() == [("cost_invoice", 1), ("settled", 1)]
    assert q(cfg, "SELECT count(*) AS n FROM amtshilfe_invoice_items")["n"][0] == 2
    assert q(cfg, "SELECT count(*) AS n FROM claims WHERE origin = 'fee'")["n"][0] == 1
    assert q(cfg, "SELECT count(*) AS n FROM amtshilfe_requests WHERE state = 'settled'")["n"][0] == 1
    sent = q(cfg, "SELECT feedback_id FROM amtshilfe_feedback WHERE feedback_id LIKE 'settled%' "
                  "OR feedback_id LIKE 'cost_invoice%' ORDER BY 1")["feedback_id"].to_list()
    assert sent == ["cost_invoice-IHK-BI-2026-12-01-2026-12-31", f"settled-settled:{c2}"]
    assert len(list((cfg.tenant_dir / "outbox" / "amtshilfe").glob("*.csv"))) == 1
