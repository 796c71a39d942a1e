"""Request and answer frames for the Amtshilfe format tests: every message kind, full and minimal rows."""

from __future__ import annotations

from datetime import date, datetime

import polars as pl

from amtshilfe import model
from amtshilfe.model import SACHSTAND_CODES
from claims.vocab import ErsuchenCheck, ErsuchenCostItem, ErsuchenFeedback

HEADER = model.Header(message_id="BS-2026-12-07-001", created=datetime(2026, 12, 7, 9, 30),
                      sender=model.Body("ARD ZDF Deutschlandradio Beitragsservice", "BS-KOELN", "Freimersdorfer Weg 6",
                                        "50829", "Köln"),
                      receiver=model.Body("Stadt Detmold, Vollstreckungsstelle", "VS-DT"))
ANSWER_HEADER = model.Header(message_id="VS-DT-A-0001", created=datetime(2026, 12, 8, 6, 0),
                             sender=model.Body("Stadt Detmold, Vollstreckungsstelle", "VS-DT"),
                             receiver=model.Body("ARD ZDF Deutschlandradio Beitragsservice", "BS-KOELN"))


def requests() -> model.Requests:
    """Two requests (one full, one lacking every formal field a check looks at), an Aenderung with a new
    address and new notices, an Aussetzung with and one without an end, a Ruecknahme."""
    reqs = pl.DataFrame([
        {"message_id": "E-1", "creditor_id": "BS-KOELN", "creditor_name": "ARD ZDF Deutschlandradio Beitragsservice",
         "creditor_file_number": "BS/2026/000123", "creditor_street": "Freimersdorfer Weg 6",
         "creditor_postcode": "50829", "creditor_city": "Köln", "creditor_iban": "DE02120300000000202051",
         "creditor_bic": "BYLADEM1001", "payment_reference": "123456789", "request_date": date(2026, 11, 30),
         "debtor_name": "Müller", "debtor_given_name": "Erika", "debtor_birth_date": date(1980, 2, 29),
         "debtor_street": "Lange Straße 12", "debtor_postcode": "32756", "debtor_city": "Detmold",
         "debtor_country": "DE", "enforceable_statement": "Die Forderungen sind vollstreckbar (§ 10 Abs. 5 RBStV).",
         "enforceable_date": date(2026, 11, 15)},
        {"message_id": "E-2", "creditor_file_number": "BS/2026/000124", "request_date": date(2026, 11, 30)},
    ])
    changes = pl.DataFrame([
        {"message_id": "A-1", "message": "aenderung", "creditor_id": "BS-KOELN",
         "creditor_file_number": "BS/2026/000100", "message_date": date(2026, 12, 1), "debtor_name": "Schmidt", "debtor_birth_date": date(1975, 5, 5),
         "debtor_street": "Bruchstraße 3", "debtor_postcode": "32756", "debtor_city": "Detmold",
         "debtor_country": "DE", "note": "Neue Anschrift laut Melderegister"},
        {"message_id": "S-1", "message": "aussetzung", "creditor_id": "BS-KOELN",
         "creditor_file_number": "BS/2026/000101", "message_date": date(2026, 12, 1),
         "suspended_until": date(2027, 3, 31)},
        {"message_id": "S-2", "message": "aussetzung", "creditor_file_number": "BS/2026/000102",
         "message_date": date(2026, 12, 1)},
        {"message_id": "R-1", "message": "ruecknahme", "creditor_id": "BS-KOELN",
         "creditor_file_number": "BS/2026/000103", "message_date": date(2026, 12, 2), "note": "Forderung beglichen"},
    ])
    notices = pl.DataFrame([
        {"message_id": "E-1", "position": 1, "notice_date": date(2025, 7, 1), "notice_authority": "WDR",
         "notice_file_number": "FB-2025-1", "period_from": date(2025, 1, 1), "period_to": date(2025, 6, 30),
         "principal_cents": 11016, "surcharge_cents": 800, "costs_cents": 0},
        {"message_id": "E-1", "position": 2, "notice_date": date(2026, 1, 2), "notice_authority": "WDR",
         "notice_file_number": "FB-2026-1", "period_from": date(2025, 7, 1), "period_to": date(2025, 12, 31),
         "principal_cents": 123456789, "surcharge_cents": 1, "costs_cents": 500},
        {"message_id": "E-2", "position": 1, "principal_cents": 1, "surcharge_cents": 0, "costs_cents": 0},
        {"message_id": "A-1", "position": 1, "notice_date": date(2025, 7, 1), "notice_authority": "WDR",
         "notice_file_number": "FB-2025-9", "period_from": date(2025, 1, 1), "period_to": date(2025, 3, 31),
         "principal_cents": 5508, "surcharge_cents": 800, "costs_cents": 0},
    ])
    return model.requests(reqs, notices, changes)


def answers() -> model.Answers:
    """A Rueckgabe per check code, a Sachstand per code (a cost invoice with two items), two Informations."""
    rueck = pl.DataFrame([
        {"message_id": f"RG-{i}", "creditor_id": "BS-KOELN", "creditor_file_number": f"BS/2026/{i:06d}",
         "message_date": date(2026, 12, 8), "reason": str(check), "text": f"Rückgabe: {check}",
         "competent_authority": "Stadt Lemgo, Vollstreckungsstelle" if check == ErsuchenCheck.NOT_COMPETENT else None,
         "case_number": "AH-2026-000001" if i == 1 else None}
        for i, check in enumerate(ErsuchenCheck, start=1)])
    sach = pl.DataFrame([
        {"message_id": f"SS-{code}", "creditor_id": None if code == ErsuchenFeedback.COST_INVOICE else "BS-KOELN",
         "creditor_file_number": None if code == ErsuchenFeedback.COST_INVOICE else "BS/2026/000123",
         "case_number": None if code == ErsuchenFeedback.COST_INVOICE else "AH-2026-000007",
         "message_date": date(2026, 12, 8), "code": str(code),
         "amount_cents": 1 if code == ErsuchenFeedback.PAYMENT_FORWARDED else None,
         "paid_on": date(2026, 12, 7) if code == ErsuchenFeedback.PAYMENT_FORWARDED else None,
         "period_from": date(2026, 11, 1) if code == ErsuchenFeedback.COST_INVOICE else None,
         "period_to": date(2026, 11, 30) if code == ErsuchenFeedback.COST_INVOICE else None,
         "note": "Fruchtlosigkeitsbescheinigung folgt" if code == ErsuchenFeedback.UNCOLLECTIBLE else None}
        for code in SACHSTAND_CODES])
    items = pl.DataFrame([
        {"message_id": "SS-cost_invoice", "position": 1, "creditor_file_number": "BS/2026/000123",
         "kind": ErsuchenCostItem.CONTRIBUTION, "description": "Kostenbeitrag § 5 Abs. 1 VO VwVG NRW", "amount_cents": 3700},
        {"message_id": "SS-cost_invoice", "position": 2, "creditor_file_number": "BS/2026/000124",
         "kind": ErsuchenCostItem.OUTLAY, "amount_cents": 3700},
    ])
    info = pl.DataFrame([
        {"message_id": "IN-1", "creditor_id": "BS-KOELN", "creditor_file_number": "BS/2026/000123",
         "message_date": date(2026, 12, 8), "text": "Der Schuldner ist verstorben; Nachlasspfleger bestellt."},
        {"message_id": "IN-2", "message_date": date(2026, 12, 8), "text": "Neue Bankverbindung ab 1.1.2027 & <folgt>."},
    ])
    return model.answers(rueck, sach, items, info)
