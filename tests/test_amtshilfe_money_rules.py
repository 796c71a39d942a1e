"""The money side of Amtshilfe, rule by rule (literal tables): the creditor register taken from the requests
(collection/forward.py), the ``payment_forwarded`` events of a forward, and the nightly's settled cases and
cost invoices per period (jobs/nightly/amtshilfe_money.py)."""

from __future__ import annotations

from datetime import date

import polars as pl
import pytest

from claims.config import AmtshilfeSection, Creditor
from claims.vocab import PayoutSkip
from collection.forward import ACCOUNT_SCHEMA, ITEM_SCHEMA, forward_due, forward_events, register_frame
from jobs.nightly.amtshilfe_money import (
    ACCEPTED_SCHEMA,
    INVOICED_SCHEMA,
    invoice_document,
    invoice_kassenzeichen,
    invoices,
    period_before,
    settled,
)

EXEC = date(2026, 12, 10)
IHK_IBAN, IHK_NEW, HWK_IBAN = "DE02120300000000202051", "DE89370400440532013000", "DE44500105175407324931"


def accounts(*rows: tuple[str, str | None, str | None, int, bool]) -> pl.DataFrame:
    """(creditor, name, IBAN, seq, open)."""
    return pl.DataFrame([{"creditor": c, "name": n, "iban": i, "bic": None, "seq": s, "open": o}
                         for c, n, i, s, o in rows], schema=ACCOUNT_SCHEMA)


def items(*rows: tuple[str, str, int, str | None, str | None]) -> pl.DataFrame:
    """(creditor, case number, cents, payment reference, file number): one allocation each."""
    return pl.DataFrame([{"creditor": c, "transaction_id": f"T{i}", "receivable_id": f"{k}-1", "kassenzeichen": k,
                          "external_ref": ref, "creditor_file_number": fn, "debtor_name": "Anna Alt",
                          "paid_on": date(2026, 12, 1), "amount_cents": a}
                         for i, (c, k, a, ref, fn) in enumerate(rows)], schema=ITEM_SCHEMA)


NONE_GIVEN = pl.DataFrame(schema={"creditor": pl.String(), "amount_cents": pl.Int64()})


def test_a_creditor_without_config_is_paid_to_the_account_of_its_latest_request() -> None:
    register = register_frame([], accounts(("IHK-BI", "IHK alt", IHK_IBAN, 1, False),
                                           ("IHK-BI", "IHK Bielefeld", IHK_NEW.lower(), 7, True),
                                           ("IHK-BI", "IHK ohne Konto", None, 9, True)))
    assert register.select("creditor", "name", "iban", "reference", "remittance", "conflict").rows() == [
        ("IHK-BI", "IHK Bielefeld", IHK_NEW, None, "{refs} Weiterleitung Kz {kassenzeichen}", None)]
    tr, skipped, _ = forward_due(items(("IHK-BI", "AH01", 5500, "IHK-4711", "A-1")), NONE_GIVEN, register, EXEC)
    assert skipped.is_empty()
    assert tr.select("payee_name", "payee_iban", "amount_cents", "remittance").rows() == [
        ("IHK Bielefeld", IHK_NEW, 5500, "IHK-4711 Weiterleitung Kz AH01")]


def test_the_config_entry_overrides_the_requests_account() -> None:
    config = [Creditor(id="ihk-bi", name="IHK Kasse", iban=HWK_IBAN, reference="VH-1")]
    register = register_frame(config, accounts(("IHK-BI", "IHK Bielefeld", IHK_NEW, 7, True),
                                               ("HWK", "HWK Bielefeld", HWK_IBAN, 3, True)))
    assert register.select("creditor", "name", "iban").rows() == [
        ("ihk-bi", "IHK Kasse", HWK_IBAN), ("HWK", "HWK Bielefeld", HWK_IBAN)]
    tr, skipped, _ = forward_due(items(("IHK-BI", "AH01", 5500, "R1", "A-1")), NONE_GIVEN, register, EXEC)
    assert skipped.is_empty()
    assert tr.select("source_id", "payee_name", "payee_iban", "remittance").rows() == [
        ("IHK-BI@20261210", "IHK Kasse", HWK_IBAN, "VH-1 Weiterleitung Kz AH01")]


def test_open_requests_naming_different_ibans_hold_the_money_a_closed_one_does_not() -> None:
    register = register_frame([], accounts(("IHK-BI", "IHK", IHK_IBAN, 1, True), ("IHK-BI", "IHK", IHK_NEW, 2, True),
                                           ("HWK", "HWK", IHK_IBAN, 1, False), ("HWK", "HWK", HWK_IBAN, 2, True)))
    assert register.select("creditor", "conflict").sort("creditor").rows() == [
        ("HWK", None), ("IHK-BI", f"{IHK_IBAN} / {IHK_NEW}")]
    tr, skipped, proof = forward_due(items(("IHK-BI", "AH01", 5500, "R1", "A-1"), ("HWK", "AH02", 700, None, "H-9")),
                                     NONE_GIVEN, register, EXEC)
    assert skipped.select("source_id", "amount_cents", "reason").rows() == [
        ("IHK-BI@20261210", 5500, PayoutSkip.CREDITOR_ACCOUNT_CONFLICT.value)]
    assert "verschiedene IBAN" in skipped["detail"][0]
    # the HWK's payment reference is missing: its file number is the reference
    assert tr.select("payee_iban", "remittance").rows() == [(HWK_IBAN, "H-9 Weiterleitung Kz AH02")]
    assert proof["creditor"].to_list() == ["HWK"]


def test_an_invalid_iban_of_a_request_is_held_never_guessed() -> None:
    register = register_frame([], accounts(("IHK-BI", "IHK", "DE00123456780000000000", 1, True)))
    tr, skipped, _ = forward_due(items(("IHK-BI", "AH01", 5500, "R1", "A-1")), NONE_GIVEN, register, EXEC)
    assert tr.is_empty() and skipped["reason"].to_list() == [PayoutSkip.IBAN_INVALID.value]


def test_many_references_fall_back_to_the_references_then_to_the_proof() -> None:
    register = register_frame([], accounts(("IHK-BI", "IHK", IHK_IBAN, 1, True)))
    few = items(*[("IHK-BI", f"AH{i:010d}", 100, f"BN-{i:09d}", None) for i in range(5)])
    tr, _, _ = forward_due(few, NONE_GIVEN, register, EXEC)
    assert tr["remittance"].to_list() == [
        "BN-000000000, BN-000000001, BN-000000002, BN-000000003, BN-000000004 Weiterleitung 10.12.2026"]
    many = items(*[("IHK-BI", f"AH{i:010d}", 100, f"BN-{i:09d}", None) for i in range(12)])
    tr, _, _ = forward_due(many, NONE_GIVEN, register, EXEC)
    assert tr["remittance"].to_list() == ["Weiterleitung 10.12.2026: 12 Posten lt. Weiterleitungsnachweis"]
    assert all(len(t) <= 140 for t in tr["remittance"].to_list())


def test_a_forward_gives_one_payment_forwarded_event_per_request_it_covers() -> None:
    register = register_frame([], accounts(("IHK-BI", "IHK", IHK_IBAN, 1, True)))
    alloc = pl.concat([items(("IHK-BI", "AH01", 5500, "R1", "A-1"), ("IHK-BI", "AH02", 700, "R2", "A-2")),
                       items(("IHK-BI", "AH01", 300, "R1", "A-1"), ("IHK-BI", "KZ-OLD", 200, None, None))
                       .with_columns(pl.lit("T9").alias("transaction_id"))])
    _, _, proof = forward_due(alloc, pl.DataFrame({"creditor": ["IHK-BI"], "amount_cents": [5000]}), register, EXEC)
    cases = pl.DataFrame({"case_number": ["AH01", "AH02"], "creditor_id": ["ihk-bi", "ihk-bi"],
                          "creditor_file_number": ["A-1", "A-2"], "payment_reference": ["R1", "R2"]})
    ev = forward_events(proof, cases, EXEC)
    # 5,000 of AH01's 5,800 were forwarded before: 800 of AH01, all of AH02; KZ-OLD belongs to no request
    assert ev.rows() == [("IHK-BI@20261210:AH01", "payment_forwarded", "ihk-bi", "A-1", "AH01", "R1", EXEC, 800),
                         ("IHK-BI@20261210:AH02", "payment_forwarded", "ihk-bi", "A-2", "AH02", "R2", EXEC, 700)]
    assert int(proof["amount_cents"].sum()) == 800 + 700 + 200


@pytest.mark.parametrize(("day", "period", "expected"), [
    (date(2027, 1, 1), "month", (date(2026, 12, 1), date(2026, 12, 31))),
    (date(2027, 1, 17), "month", (date(2026, 12, 1), date(2026, 12, 31))),
    (date(2026, 3, 1), "month", (date(2026, 2, 1), date(2026, 2, 28))),
    (date(2026, 4, 1), "quarter", (date(2026, 1, 1), date(2026, 3, 31))),
    (date(2026, 6, 30), "quarter", (date(2026, 1, 1), date(2026, 3, 31))),
    (date(2027, 1, 2), "quarter", (date(2026, 10, 1), date(2026, 12, 31))),
    (date(2027, 5, 5), "year", (date(2026, 1, 1), date(2026, 12, 31))),
])
def test_the_period_invoiced_is_the_last_complete_one(day: date, period: str, expected: tuple[date, date]) -> None:
    assert period_before(day, period) == expected


def test_a_case_is_settled_when_no_claim_is_open_after_tonights_allocations() -> None:
    cases = pl.DataFrame({"case_number": ["AH1", "AH2", "AH3", "AH4"], "settled_cents": [1500, 700, 900, 400]})
    # what the ledger holds open: AH1's second claim 300, AH2's claim 700; AH3 and AH4 are paid already
    open_claims = pl.DataFrame({"kassenzeichen": ["AH1", "AH2"], "receivable_id": ["AH1-2", "AH2-1"],
                                "amount_cents": [300, 700]})
    tonight = pl.DataFrame({"receivable_id": ["AH1-2", "AH1-2", "AH2-1"], "kassenzeichen": ["AH1", "AH1", "AH2"],
                            "amount_cents": [300, 0, 699]})
    assert settled(cases, open_claims, tonight).rows() == [("AH1", 1500), ("AH3", 900), ("AH4", 400)]
    # a reversal tonight on a paid case: it waits
    reversal = pl.DataFrame({"receivable_id": ["AH3-1"], "kassenzeichen": ["AH3"], "amount_cents": [-100]})
    assert settled(cases, open_claims, reversal).rows() == [("AH4", 400)]


def accepted(*rows: tuple[str, str, date]) -> pl.DataFrame:
    return pl.DataFrame([{"creditor_id": c, "creditor_file_number": f, "case_number": f"AH-{f}", "accepted_on": d,
                          "creditor_name": f"Name {c}"} for c, f, d in rows], schema=ACCEPTED_SCHEMA)


def test_the_cost_invoice_takes_the_last_period_once_per_creditor_and_each_request_once() -> None:
    s = AmtshilfeSection(district_postcodes=("33602",), cost_free_creditor_ids=("STADT-X",))
    acc = accepted(("IHK-BI", "A-1", date(2026, 12, 2)), ("IHK-BI", "A-2", date(2026, 12, 31)),
                   ("HWK", "H-1", date(2026, 12, 15)), ("STADT-X", "X-1", date(2026, 12, 3)),
                   ("IHK-BI", "A-3", date(2027, 1, 1)), ("HWK", "H-0", date(2026, 11, 30)))
    none = pl.DataFrame(schema=INVOICED_SCHEMA)
    got = invoices(acc, none, s, tenant="stadt", booking_date=date(2027, 1, 1))
    kz_ihk = invoice_kassenzeichen("stadt", "IHK-BI", date(2026, 12, 1), date(2026, 12, 31))
    assert got.select("invoice_id", "kassenzeichen", "item_id", "amount_cents").rows() == [
        ("HWK:2026-12-01:2026-12-31", invoice_kassenzeichen("stadt", "hwk ", date(2026, 12, 1), date(2026, 12, 31)),
         "contribution-HWK-H-1", 3700),
        ("IHK-BI:2026-12-01:2026-12-31", kz_ihk, "contribution-IHK-BI-A-1", 3700),
        ("IHK-BI:2026-12-01:2026-12-31", kz_ihk, "contribution-IHK-BI-A-2", 3700)]
    assert kz_ihk.startswith("AK") and len(kz_ihk) == 12
    # the next night of January: the creditors invoiced for December are not invoiced again
    again = invoices(acc, got.select("item_id", "invoice_id"), s, tenant="stadt", booking_date=date(2027, 1, 2))
    assert again.is_empty()
    # February invoices January: only A-3, never the December requests again
    feb = invoices(acc, got.select("item_id", "invoice_id"), s, tenant="stadt", booking_date=date(2027, 2, 1))
    assert feb.select("invoice_id", "item_id").rows() == [("IHK-BI:2027-01-01:2027-01-31", "contribution-IHK-BI-A-3")]


def test_the_invoice_document_lists_the_items_and_the_total_in_german_conventions() -> None:
    s = AmtshilfeSection(district_postcodes=("33602",))
    got = invoices(accepted(("IHK-BI", "A-1", date(2026, 12, 2)), ("IHK-BI", "A-2", date(2026, 12, 9))),
                   pl.DataFrame(schema=INVOICED_SCHEMA), s, tenant="stadt", booking_date=date(2027, 1, 1))
    doc = invoice_document(got)
    assert doc.select("Aktenzeichen_Glaeubiger", "Datum", "Posten", "Betrag_EUR").rows() == [
        ("A-1", "02.12.2026", "Kostenbeitrag § 5 Abs. 1 VO VwVG NRW", "37,00"),
        ("A-2", "09.12.2026", "Kostenbeitrag § 5 Abs. 1 VO VwVG NRW", "37,00"),
        (None, None, "Summe", "74,00")]
    assert set(doc["Kassenzeichen"].to_list()) == {got["kassenzeichen"][0]}
