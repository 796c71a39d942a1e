"""Payments on the cases of foreign creditors: the nightly matcher finds the case number (a Kassenzeichen of
the tenant's scheme) and the creditor's payment reference (``external_ref``, e.g. the Beitragsnummer), and
never books a reference that names two debtors (docs/AMTSHILFE.md "In the ledger", docs/MATCHING.md)."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path
from typing import Any

import polars as pl
from nightly_files import Entry, write_mt940, write_open_items

import jobs.nightly as night
from amtshilfe import model
from amtshilfe.xml_format import write_requests
from claims.config import TenantConfig, load_tenant_config
from claims.kassenzeichen import complete
from jobs.nightly.amtshilfe import case_number
from ledger.db import connect, fetch

D0, D1, D2 = date(2026, 12, 1), date(2026, 12, 2), date(2026, 12, 3)
HEADER = model.Header(message_id="BS-2026-001", created=datetime(2026, 12, 1, 9, 0),
                      sender=model.Body("IHK Ostwestfalen", "IHK-BI"), receiver=model.Body("Stadt Bielefeld", "VS-BI"))


def tenant(tmp_path: Path) -> TenantConfig:
    (tmp_path / "kasse.toml").write_text(
        '[tenant]\nid = "stadt"\n[enforcement]\noffice_id = "VS-BI"\noffice_name = "Stadt Bielefeld"\n'
        '[amtshilfe]\ndistrict_postcodes = ["33602"]\n', encoding="utf-8")
    cfg = load_tenant_config(tmp_path / "kasse.toml")
    write_open_items(cfg.inbox / "export.csv", [("R0", "100000000001", 1000)])
    night.run_night(cfg, D0)
    return cfg


def request(mid: str, file_number: str, reference: str, debtor: str) -> dict[str, Any]:
    return {"message_id": mid, "creditor_id": "IHK-BI", "creditor_name": "IHK Ostwestfalen",
            "creditor_file_number": file_number, "request_date": date(2026, 11, 2), "debtor_name": debtor,
            "debtor_street": "Markt 1", "debtor_postcode": "33602", "debtor_city": "Bielefeld",
            "enforceable_statement": "vollstreckbar", "enforceable_date": date(2026, 10, 10),
            "payment_reference": reference}


def notice(mid: str, principal: int) -> dict[str, Any]:
    return {"message_id": mid, "position": 1, "notice_date": date(2026, 9, 5), "notice_authority": "IHK",
            "notice_file_number": f"B-{mid}", "principal_cents": principal, "surcharge_cents": 0, "costs_cents": 500}


#: file number → (payment reference, debtor, principal): A-3 and A-4 share a reference but not the debtor
CASES = {"A-1": ("BN 4711 0001", "Anna Muster", 10_000), "A-2": ("BN-4711-0002", "Bernd Beispiel", 5_000),
         "A-3": ("BN 4711 0009", "Carla Clausen", 3_000), "A-4": ("BN 4711 0009", "Dora Dorn", 3_000),
         "A-5": ("BN 4711 0005", "Emil Ernst", 2_000), "A-6": ("BN 4711 0006", "Fritz Fink", 1_000),
         "A-7": ("BN 4711 0007", "Gina Gold", 1_000)}


def with_requests(tmp_path: Path) -> TenantConfig:
    cfg = tenant(tmp_path)
    ids = {fn: f"E-{fn}" for fn in CASES}
    data = model.requests(pl.DataFrame([request(ids[fn], fn, ref, who) for fn, (ref, who, _) in CASES.items()]),
                          pl.DataFrame([notice(ids[fn], p) for fn, (_, _, p) in CASES.items()]))
    (cfg.inbox / "ihk.xml").write_bytes(write_requests(HEADER, data))
    night.run_night(cfg, D1)
    return cfg


def spaced(kz: str) -> str:
    return f"{kz[:4]} {kz[4:8]} {kz[8:]}"


def outcome(cfg: TenantConfig) -> dict[str, tuple[Any, ...]]:
    """remittance → (receivable ids booked, reason held, kassenzeichen among the candidates)."""
    con = connect(cfg.ledger)
    try:
        tx = fetch(con, "SELECT transaction_id, remittance FROM transactions WHERE booking_date = $d", {"d": D2})
        alloc = fetch(con, "SELECT transaction_id, list(receivable_id ORDER BY receivable_id) AS r "
                           "FROM allocations GROUP BY ALL")
        held = fetch(con, "SELECT transaction_id, reason, candidates FROM unresolved")
    finally:
        con.close()
    out = {}
    for t, text in tx.iter_rows():
        booked = alloc.filter(pl.col("transaction_id") == t)["r"].to_list()
        h = held.filter(pl.col("transaction_id") == t)
        cands = sorted({c["kassenzeichen"] for c in pl.Series(h["candidates"]).str.json_decode().explode()
                        .drop_nulls().to_list()}) if h.height and h["candidates"][0] else []
        out[text] = (tuple(booked[0]) if booked else (), h["reason"][0] if h.height else None, tuple(cands))
    return out


def test_a_payment_quoting_the_case_number_or_the_creditors_reference_is_booked_on_its_case(tmp_path: Path) -> None:
    cfg = with_requests(tmp_path)
    k = {fn: case_number("stadt", "IHK-BI", fn) for fn in CASES}
    con = connect(cfg.ledger)
    try:
        claims = fetch(con, "SELECT kassenzeichen, kz_norm, external_ref FROM claims WHERE origin = 'amtshilfe' "
                            "ORDER BY 1").rows()
    finally:
        con.close()
    assert claims == sorted((k[fn], k[fn], ref) for fn, (ref, _, _) in CASES.items())
    wrong_kz = complete("81234567891", "mod11")   # a valid Kassenzeichen in the range, of no case
    assert wrong_kz and wrong_kz not in k.values()
    texts = {"case": f"Vollstreckung Az {spaced(k['A-1'])}", "reference": "Beitragsnummer BN-4711-0002",
             "both": f"Kassenzeichen {k['A-5']} Beitragsnr BN 4711 0005", "wrong": f"Az {wrong_kz} BN 4711 9999",
             "two debtors": "Beitragsnummer BN 4711 0009", "two debtors, their sum": "BN47110009 Rundfunk",
             "two cases": f"{k['A-6']} BN 4711 0007"}
    write_mt940(cfg.inbox / "bank.sta", day=D2, seq=1, opening=0, entries=[
        Entry(10_500, texts["case"]), Entry(5_500, texts["reference"]), Entry(2_500, texts["both"]),
        Entry(3_000, texts["wrong"]), Entry(3_500, texts["two debtors"]),
        Entry(7_000, texts["two debtors, their sum"]), Entry(3_000, texts["two cases"])])
    night.run_night(cfg, D2)
    got = outcome(cfg)
    assert got[texts["case"]] == ((f"{k['A-1']}-1",), None, ())
    assert got[texts["reference"]] == ((f"{k['A-2']}-1",), None, ())
    assert got[texts["both"]] == ((f"{k['A-5']}-1",), None, ())
    assert got[texts["wrong"]][:2] == ((), "unknown_reference")
    # a reference naming two debtors' cases is held, both cases shown, never booked
    assert got[texts["two debtors"]] == ((), "ambiguous", tuple(sorted((k["A-3"], k["A-4"]))))
    assert got[texts["two debtors, their sum"]][1:] == ("ambiguous", tuple(sorted((k["A-3"], k["A-4"]))))
    assert got[texts["two debtors, their sum"]][0] == ()
    # the case number of one debtor and the reference of another, the amount their sum: the payer named
    # both (as with two Kassenzeichen side by side), so both are paid
    assert got[texts["two cases"]] == (tuple(sorted((f"{k['A-6']}-1", f"{k['A-7']}-1"))), None, ())


def test_the_amtshilfe_key_figures_are_in_the_enforcement_report(tmp_path: Path) -> None:
    """The import's events, a payment booked on a case (the night books the case ``settled``), and the
    events of the payout job and of a person (inserted here as those book them) give the year's figures
    in the report's files."""
    cfg = with_requests(tmp_path)
    k = case_number("stadt", "IHK-BI", "A-1")
    write_mt940(cfg.inbox / "bank.sta", day=D2, seq=1, opening=0, entries=[Entry(10_500, f"Az {k}")])
    night.run_night(cfg, D2)
    con = connect(cfg.ledger)
    try:
        cols = "tenant, run_id, event_id, kind, creditor_id, creditor_file_number, event_date, amount_cents"
        con.execute(f"INSERT INTO amtshilfe_events ({cols}) VALUES "
                    "('stadt', 'r', 'F1', 'payment_forwarded', 'IHK-BI', 'A-1', DATE '2026-12-04', 10500), "
                    "('stadt', 'r', 'U1', 'uncollectible', 'IHK-BI', 'A-2', DATE '2026-12-05', NULL), "
                    "('stadt', 'r', 'C1', 'cost_invoice', 'IHK-BI', NULL, DATE '2026-12-31', 25900)")
    finally:
        con.close()
    from jobs.enforcement_report import write_reports

    paths = write_reports(cfg, date(2026, 12, 31))
    figures = pl.read_parquet(paths["amtshilfe_kennzahlen.parquet"])
    got = {(r["figure"], r["reason"]): (r["count"], r["amount_cents"]) for r in figures.iter_rows(named=True)}
    total = sum(p + 500 for _, _, p in CASES.values())
    assert got == {("received", None): (7, total), ("accepted", None): (7, total), ("flagged", None): (0, 0),
                   ("returned", None): (0, 0), ("withdrawn", None): (0, None), ("settled", None): (1, None),
                   ("uncollectible", None): (1, None), ("collected", None): (1, 10_500),
                   ("forwarded", None): (1, 10_500), ("cost_invoiced", None): (1, 25_900)}
    assert set(figures["year"].to_list()) == {2026}
    text = paths["amtshilfe_kennzahlen.csv"].read_bytes().decode("utf-8-sig").splitlines()
    assert text[0] == "Jahr;Kennzahl fremde Ersuchen;Grund der Rückgabe;Anzahl;Betrag (EUR)"
    assert "2026;An die Gläubiger weitergeleitet;;1;105,00" in text
    import openpyxl

    wb = openpyxl.load_workbook(paths["vollstreckungskennzahlen.xlsx"], read_only=True)
    try:
        rows = list(wb["Amtshilfe"].iter_rows(values_only=True))
    finally:
        wb.close()
    assert rows[0] == ("Jahr", "Kennzahl fremde Ersuchen", "Grund der Rückgabe", "Anzahl", "Betrag (EUR)")
    assert ("Eingegangene fremde Ersuchen (ersuchter Betrag)", 7, total / 100) in [r[1:2] + r[3:] for r in rows[1:]]
