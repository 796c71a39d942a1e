"""The nightly import of Amtshilfe deliveries (jobs/nightly/amtshilfe.py): real files written with the format
writers, a real ledger file, the plain nightly steps (docs/AMTSHILFE.md "In the ledger")."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from faults import InjectedFailure, fail_at
from nightly_files import write_open_items

import jobs.nightly as night
from amtshilfe import model
from amtshilfe.csv_format import write_requests_csv
from amtshilfe.xml_format import read_answers, write_requests
from claims.config import TenantConfig, load_tenant_config
from jobs.nightly.amtshilfe import case_number
from ledger.db import connect, fetch

D0, D1, D2 = date(2026, 12, 1), date(2026, 12, 2), date(2026, 12, 3)
IHK = {"creditor_id": "IHK-BI", "creditor_name": "IHK Ostwestfalen zu Bielefeld", "creditor_iban":
       "DE02120300000000202051"}
HEADER = model.Header(message_id="IHK-2026-001", created=datetime(2026, 12, 1, 9, 0),
                      sender=model.Body("IHK Ostwestfalen zu Bielefeld", "IHK-BI"),
                      receiver=model.Body("Stadt Bielefeld, Vollstreckungsstelle", "VS-BI"))


def tenant(tmp_path: Path) -> TenantConfig:
    (tmp_path / "kasse.toml").write_text(
        '[tenant]\nid = "stadt"\n[enforcement]\noffice_id = "VS-BI"\noffice_name = "Stadt Bielefeld"\n'
        '[amtshilfe]\ndistrict_postcodes = ["33602"]\n', encoding="utf-8")
    cfg = load_tenant_config(tmp_path / "kasse.toml")
    write_open_items(cfg.inbox / "export.csv", [("R0", "100000000001", 1000)])
    night.run_night(cfg, D0)
    return cfg


def request(mid: str, file_number: str, **extra: Any) -> dict[str, Any]:
    return {"message_id": mid, **IHK, "creditor_file_number": file_number, "request_date": date(2026, 11, 2),
            "debtor_name": "Anna Muster", "debtor_street": "Markt 1", "debtor_postcode": "33602",
            "debtor_city": "Bielefeld", "enforceable_statement": "vollstreckbar", "payment_reference": "IHK-4711",
            "enforceable_date": date(2026, 10, 10), **extra}


def notice(mid: str, position: int, principal: int) -> dict[str, Any]:
    return {"message_id": mid, "position": position, "notice_date": date(2026, 9, 5),
            "notice_authority": "IHK Bielefeld", "notice_file_number": f"B-{position}",
            "principal_cents": principal, "surcharge_cents": 0, "costs_cents": 500}


def delivery() -> model.Requests:
    """E-1 (two notices) and E-2 accepted; E-3 outside the district: returned; E-4 not enforceable."""
    return model.requests(
        pl.DataFrame([request("E-1", "A-1"), request("E-2", "A-2"), request("E-3", "A-3", debtor_postcode="10115"),
                      request("E-4", "A-4", enforceable_statement=None, enforceable_date=None)]),
        pl.DataFrame([notice("E-1", 1, 10_000), notice("E-1", 2, 20_000), notice("E-2", 1, 5_000),
                      notice("E-3", 1, 1_000), notice("E-4", 1, 1_000)]))


def deliver(cfg: TenantConfig, name: str, data: bytes) -> None:
    (cfg.inbox / name).write_bytes(data)


def table(cfg: TenantConfig, sql: str) -> pl.DataFrame:
    con = connect(cfg.ledger)
    try:
        return fetch(con, sql)
    finally:
        con.close()


def facts(cfg: TenantConfig) -> dict[str, list[tuple[Any, ...]]]:
    out = {}
    for t, cols in (("amtshilfe_requests", "creditor_file_number, state, case_number, seq"),
                    ("amtshilfe_notices", "creditor_file_number, seq, position, principal_cents"),
                    ("amtshilfe_events", "event_id, kind, outcome, \"check\""),
                    ("amtshilfe_feedback", "feedback_id, file_name"),
                    ("claims", "receivable_id, kassenzeichen, amount_cents, creditor, origin, claim_type")):
        out[t] = table(cfg, f"SELECT {cols} FROM {t} ORDER BY ALL").rows()
    return out


def outbox_files(cfg: TenantConfig) -> list[Path]:
    return sorted((cfg.tenant_dir / "outbox" / "amtshilfe").glob("*.xml"))


def test_a_delivery_becomes_claims_and_a_feedback_file_and_again_adds_nothing(tmp_path: Path) -> None:
    cfg = tenant(tmp_path)
    deliver(cfg, "ihk_1.xml", write_requests(HEADER, delivery()))
    night.run_night(cfg, D1)
    assert table(cfg, "SELECT status, kind FROM files WHERE booking_date = DATE '2026-12-02'").rows() == [
        ("ok", "amtshilfe")]
    f = facts(cfg)
    c1, c2 = case_number("stadt", "IHK-BI", "A-1"), case_number("stadt", "IHK-BI", "A-2")
    assert [r[:3] for r in f["amtshilfe_requests"]] == [("A-1", "accepted", c1), ("A-2", "accepted", c2),
                                                         ("A-3", "returned", None), ("A-4", "returned", None)]
    assert f["claims"][-3:] == sorted([(f"{c1}-1", c1, 10_500, "IHK-BI", "amtshilfe", "AMTSHILFE"),
                                       (f"{c1}-2", c1, 20_500, "IHK-BI", "amtshilfe", "AMTSHILFE"),
                                       (f"{c2}-1", c2, 5_500, "IHK-BI", "amtshilfe", "AMTSHILFE")])
    assert sorted(r[3] for r in f["amtshilfe_events"] if r[3]) == ["not_competent", "not_enforceable"]
    # the feedback: one file for the IHK, two Sachstand accepted and two Rückgaben
    [answer] = outbox_files(cfg)
    back = read_answers(answer.read_bytes())
    assert back.rejected.height == 0
    assert sorted(back.data.rueckgaben["reason"].to_list()) == ["not_competent", "not_enforceable"]
    assert sorted(back.data.sachstand["case_number"].to_list()) == sorted([c1, c2])
    assert len(f["amtshilfe_feedback"]) == 4

    # the same delivery again (same bytes) and in another file (same content): nothing added, nothing sent
    deliver(cfg, "ihk_1.xml", write_requests(HEADER, delivery()))
    deliver(cfg, "ihk_1b.xml", write_requests(model.Header("IHK-2026-002", HEADER.created, HEADER.sender,
                                                           HEADER.receiver), delivery()))
    night.run_night(cfg, D2)
    g = facts(cfg)
    assert {k: v for k, v in g.items() if k != "amtshilfe_events"} == {
        k: v for k, v in f.items() if k != "amtshilfe_events"}
    assert outbox_files(cfg) == [answer]
    new_events = [r for r in g["amtshilfe_events"] if r not in f["amtshilfe_events"]]
    assert {r[2] for r in new_events} == {"repeated"}   # a returned request sent again unchanged too
    assert table(cfg, "SELECT status FROM files WHERE booking_date = DATE '2026-12-03' ORDER BY source_path").rows() \
        == [("duplicate",), ("ok",)]


def test_a_ruecknahme_of_an_open_request_withdraws_it_and_is_reported(tmp_path: Path) -> None:
    cfg = tenant(tmp_path)
    deliver(cfg, "ihk_1.xml", write_requests(HEADER, delivery()))
    night.run_night(cfg, D1)
    withdraw = model.requests(changes=pl.DataFrame([
        {"message_id": "R-1", "message": "ruecknahme", "creditor_id": "IHK-BI", "creditor_file_number": "A-1",
         "message_date": date(2026, 12, 2)},
        {"message_id": "R-2", "message": "ruecknahme", "creditor_id": "IHK-BI", "creditor_file_number": "A-99",
         "message_date": date(2026, 12, 2)}]))
    deliver(cfg, "ihk_2.xml", write_requests(model.Header("IHK-2026-003", HEADER.created, HEADER.sender,
                                                          HEADER.receiver), withdraw))
    night.run_night(cfg, D2)
    current = table(cfg, "SELECT state, case_number, total_cents FROM amtshilfe_requests "
                         "WHERE creditor_file_number = 'A-1' ORDER BY seq").rows()
    c1 = case_number("stadt", "IHK-BI", "A-1")
    assert current == [("accepted", c1, 31_000), ("withdrawn", c1, 31_000)]
    # the withdrawn request keeps its notices (written again under the new row)
    assert table(cfg, "SELECT count(*) FROM amtshilfe_notices WHERE creditor_file_number = 'A-1'").item() == 4
    second = outbox_files(cfg)[-1]
    back = read_answers(second.read_bytes())
    assert back.data.sachstand[["code", "creditor_file_number"]].rows() == [("withdrawn", "A-1")]
    assert back.data.rueckgaben[["reason", "creditor_file_number"]].rows() == [("unknown_case", "A-99")]


def test_a_csv_delivery_with_a_bad_row_imports_the_good_ones_and_reports_the_bad(tmp_path: Path) -> None:
    cfg = tenant(tmp_path)
    data = write_requests_csv(delivery()).decode("utf-8-sig").splitlines()
    bad = data[1].split(";")
    bad[-3] = "zwölf"                      # Hauptforderung not an amount
    text = "\r\n".join([data[0], ";".join(bad), *data[2:]]) + "\r\n"
    deliver(cfg, "ihk.csv", text.encode("utf-8"))
    night.run_night(cfg, D1)
    issues = table(cfg, "SELECT code, locator FROM issues WHERE code LIKE 'amtshilfe%' ORDER BY ALL").rows()
    assert [c for c, _ in issues] == ["amtshilfe.record_rejected", "amtshilfe.record_rejected"]
    assert table(cfg, "SELECT creditor_file_number, state FROM amtshilfe_requests ORDER BY 1").rows() == [
        ("A-2", "accepted"), ("A-3", "returned"), ("A-4", "returned")]


def test_a_broken_file_is_quarantined_with_its_reason(tmp_path: Path) -> None:
    cfg = tenant(tmp_path)
    deliver(cfg, "cut.xml", write_requests(HEADER, delivery())[:-200])
    night.run_night(cfg, D1)
    [(status, reason, archived)] = table(cfg, "SELECT status, reason, archived_as FROM files "
                                              "WHERE booking_date = DATE '2026-12-02'").rows()
    assert status == "rejected" and reason and "quarantine" in archived
    assert table(cfg, "SELECT count(*) FROM amtshilfe_events").item() == 0


@pytest.mark.parametrize("step", ["ingest", "book", "book.commit", "reports", "archive"])
def test_a_crash_before_or_after_the_commit_books_once(tmp_path: Path, step: str,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    cfg = tenant(tmp_path)
    deliver(cfg, "ihk_1.xml", write_requests(HEADER, delivery()))
    fail_at(monkeypatch, step)
    with pytest.raises(InjectedFailure):
        night.run_night(cfg, D1)
    fail_at(monkeypatch, None)
    night.run_night(cfg, D1)
    f = facts(cfg)
    assert len(f["amtshilfe_requests"]) == 4
    assert len([r for r in f["claims"] if r[4] == "amtshilfe"]) == 3
    assert len(f["amtshilfe_events"]) == 4
    assert len(f["amtshilfe_feedback"]) == 4
    assert len(outbox_files(cfg)) == 1
