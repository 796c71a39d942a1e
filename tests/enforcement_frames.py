"""Small hand-off, updates and outcomes frames for the enforcement file tests (issue 17 §2)."""

from __future__ import annotations

from datetime import date, datetime

import polars as pl

from enforcement.file_format import Party
from enforcement.handoff_file import Header
from enforcement.outcomes_file import OutcomesHeader

D = date
HANDOFF_DAY = D(2026, 12, 7)
HEADER = Header(
    message_id="H-2026-0001", created=datetime(2026, 12, 7, 9, 30), tenant="musterstadt",
    creditor=Party("Stadt Musterstadt", tenant="musterstadt", street="Markt 1", postcode="33602", city="Musterstadt"),
    sender=Party("Stadtkasse Musterstadt", contact=("Telefon 0521 51-0", "kasse@musterstadt.example")),
    receiver=Party("Vollstreckungsstelle Detmold", tenant="detmold"), handoff_date=HANDOFF_DAY)
UPDATE_HEADER = Header(message_id="U-2026-0001", created=datetime(2026, 12, 9, 2, 0), tenant="musterstadt",
                       creditor=HEADER.creditor, sender=HEADER.sender, receiver=HEADER.receiver)
OUTCOMES_HEADER = OutcomesHeader(message_id="E-2026-0042", created=datetime(2026, 12, 20, 14, 0), office_id="VS-DT",
                                 sender=Party("Vollstreckungsstelle Detmold", tenant="detmold"),
                                 receiver=Party("Stadtkasse Musterstadt", tenant="musterstadt"))


def cases() -> pl.DataFrame:
    return pl.DataFrame({
        "case_number": ["V-2026-000001", "V-2026-000002", "V-2026-000003"],
        "debtor_id": ["A", "B", "C"],
        "debtor_name": ["Jürgen Müller & Söhne <GmbH>", "Özlem Şahin", "Zoë Ærøskøbing"],
        "debtor_street": ["Goethestraße 3", "Am Markt 1", "Hauptstraße 5"],
        "debtor_postcode": ["33602", "44135", "1010"], "debtor_city": ["Bielefeld", "Dortmund", "Wien"],
        "debtor_birth_date": [D(1970, 1, 2), None, D(1988, 8, 8)], "debtor_country": ["DE", "DE", "AT"]})


def claims() -> pl.DataFrame:
    n = None
    return pl.DataFrame({
        "case_number": ["V-2026-000001", "V-2026-000001", "V-2026-000002", "V-2026-000003"],
        "kassenzeichen": ["1.2345.6789.012", "1.2345.6789.013", "2.0000.0000.001", "3.0000.0000.001"],
        "claim_type": ["GRUNDSTEUER", "SAEUMNISZUSCHLAG", "HUNDESTEUER", "GEWERBESTEUER"],
        "notice_date": [D(2026, 1, 10), D(2026, 1, 10), D(2026, 3, 1), D(2026, 5, 4)],
        "due_date": [D(2026, 2, 15), D(2026, 2, 15), D(2026, 4, 1), D(2026, 5, 15)],
        "principal_cents": [10000, 500, 9600, 123456789],
        "surcharges_cents": [300, 0, 0, 6172800], "fees_cents": [600, 0, 600, 1234569],
        "schonfrist_end": [D(2026, 2, 22), D(2026, 2, 22), D(2026, 4, 8), D(2026, 5, 22)],
        "enforceable_since": [D(2026, 11, 20)] * 4,
        "notice_reference": ["GB-2026-1", n, "HB-17", n],
        "main_kassenzeichen": [n, "1.2345.6789.012", n, n],
        "mahnung_date": [D(2026, 11, 1), n, D(2026, 11, 1), D(2026, 11, 1)],
        "mahnung_deadline": [D(2026, 11, 8), n, D(2026, 11, 8), D(2026, 11, 8)],
        "mahnung_omitted": [n, "ancillary", n, n]})


def updates() -> tuple[pl.DataFrame, pl.DataFrame]:
    n = None
    ups = pl.DataFrame({
        "update_id": ["UPD-1", "UPD-2", "UPD-3", "UPD-4"],
        "case_number": ["V-2026-000001", "V-2026-000002", "V-2026-000003", "V-2026-000003"],
        "kind": ["partial_payment", "settled", "suspended", "resumed"],
        "effective_date": [D(2026, 12, 8), D(2026, 12, 8), D(2026, 12, 8), D(2027, 3, 1)],
        "suspension_reason": [n, n, "ADV", n], "suspended_until": [n, n, D(2027, 2, 28), n],
        "note": [n, "Zahlung vom 08.12.2026", n, n]}, schema_overrides={"suspended_until": pl.Date})
    claims_ = pl.DataFrame({
        "update_id": ["UPD-1", "UPD-2"], "kassenzeichen": ["1.2345.6789.012", "2.0000.0000.001"],
        "paid_cents": [5000, 10200], "open_principal_cents": [5000, 0], "open_surcharges_cents": [300, 0],
        "open_fees_cents": [600, 0]})
    return ups, claims_


def outcomes() -> tuple[pl.DataFrame, pl.DataFrame]:
    n = None
    out = pl.DataFrame({
        "office_reference": ["2026/0815", "2026/0816", "2026/0817", "2026/0815"],
        "case_number": ["V-2026-000001", "V-2026-000002", "V-2026-000003", "V-2026-000001"],
        "sequence": [1, 1, 1, 2],
        "outcome": ["partly_paid", "instalments", "moved", "paid"],
        "outcome_date": [D(2026, 12, 15), D(2026, 12, 16), D(2026, 12, 17), D(2026, 12, 19)],
        "collected_cents": [5000, 0, 0, 5900],
        "kassenzeichen": ["1.2345.6789.012", n, n, n],
        "instalment_cents": [n, 2500, n, n], "instalment_first_due": [n, D(2027, 1, 15), n, n],
        "instalment_count": [n, 4, n, n],
        "new_street": [n, n, "Ring 2", n], "new_postcode": [n, n, "32756", n], "new_city": [n, n, "Detmold", n],
        "new_country": [n, n, "DE", n], "note": ["Kontopfändung", n, n, n]},
        schema_overrides={"instalment_first_due": pl.Date})
    fees = pl.DataFrame({
        "office_reference": ["2026/0815", "2026/0815", "2026/0816"],
        "case_number": ["V-2026-000001", "V-2026-000001", "V-2026-000002"], "sequence": [1, 1, 1],
        "kind": ["pfaendung", "auslagen", "vermoegensauskunft"],
        "basis": ["§ 11 VO VwVG NRW", "§ 15 VO VwVG NRW", n], "description": [n, "Zustellung", n],
        "amount_cents": [2500, 350, 5000]})
    return out, fees
