"""Field-level checks against the real camt samples (each test names the trap from SOURCES.md)."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import polars as pl
import pytest

from parsers.camt import parse_camt
from parsers.result import ParseResult


@pytest.fixture(scope="module")
def camt(samples_dir: Path):  # type: ignore[no-untyped-def]
    cache: dict[str, ParseResult] = {}

    def parse(name: str) -> ParseResult:
        if name not in cache:
            cache[name] = parse_camt(samples_dir / "camt" / name, sha256="f" * 64, tenant="t1")
        return cache[name]

    return parse


def rows(result: ParseResult, *cols: str) -> list[tuple]:  # type: ignore[type-arg]
    return result.transactions.select(cols).rows()


def codes(result: ParseResult) -> list[str]:
    return [i.code for i in result.issues]


def test_dk_codes_batch_and_parties(camt) -> None:  # type: ignore[no-untyped-def]
    r = camt("viafintech__camt_parser__053_valid_example.xml")
    assert rows(r, "entry_index", "detail_index", "amount_cents", "entry_amount_cents") == [
        (0, 0, -200, -200), (1, 0, -300, -300), (2, 0, 100, 100), (3, 0, -350, -600), (3, 1, -250, -600),
    ]
    assert rows(r, "swift_code", "tx_code", "bank_tx_code")[0] == ("NTRF", "020", "NTRF+020")
    assert rows(r, "tx_code")[2] == ("051",)
    first = r.transactions.row(0, named=True)
    assert first["counterparty_name"] == "Testkonto Nummer 2"  # a debit: the creditor
    assert first["counterparty_iban"] == "DE09300606010012345671"
    assert first["counterparty_bic"] == "DAAEDEDDXXX"
    assert first["end_to_end_id"] == "EndToEndReference"
    assert first["mandate_id"] == "MandateReference"
    assert first["customer_ref"] == "PaymentIdentification"
    assert first["creditor_id"] == "CreditorIdentifier"
    assert first["bank_ref"] == "2013122710583450000"
    assert first["booking_text"].startswith("Überweisungs-Gutschrift; GVC")
    assert first["remittance"] == "TEST BERWEISUNG MITTELS BLZUND KONTONUMMER - DTA"  # the bank's damage, kept
    assert first["tenant"] == "t1" and first["account_iban"] == "DE14740618130000033626"
    assert first["source_xpath"] == "/Document/BkToCstmrStmt/Stmt[1]/Ntry[1]"
    assert first["raw"].startswith("<Ntry>") and "NTRF+020" in first["raw"]
    second = r.transactions.row(1, named=True)
    assert second["end_to_end_id"] is None  # NOTPROVIDED
    assert second["ultimate_party"] == "keine Information vorhanden"
    third = r.transactions.row(2, named=True)  # a credit whose debtor account is Othr/Id (BBAN)
    assert (third["counterparty_name"], third["counterparty_iban"]) == ("Testkonto Nummer 2", "740618130100033626")
    batch = r.transactions.filter(pl.col("entry_index") == 3)
    # the batch's creditor account is the statement's own account, so the other party is the counterparty
    assert batch["counterparty_iban"].to_list() == ["DE58740618130100033626"] * 2
    assert batch["end_to_end_id"].to_list() == ["STZV-EtE27122013-11:02-1", "STZV-EtE27122013-11:02-2"]
    assert batch["remittance"].to_list()[1] == "Sammelueberweisung 1. Zahlung   TAN:283044"
    st = r.statements.row(0, named=True)
    assert (st["statement_no"], st["sequence_no"], st["page_no"], st["kind"]) == ("130000005", 130000005, 1, "statement")
    assert (st["opening_cents"], st["closing_cents"], st["entries_sum_cents"]) == (3306, 2306, -1000)
    assert st["statement_key"] == "DE14740618130000033626|130000005|2013-12-27|3306|2013-12-27|2306"


def test_dk_gvc_166_with_iso_domain(camt) -> None:  # type: ignore[no-untyped-def]
    r = camt("adorsys__multibanking__camt.xml")
    assert set(rows(r, "swift_code", "tx_code", "bank_tx_code")) == {("NTRF", "166", "PMNT/RCDT/ESCT")}
    assert rows(r, "remittance")[3] == ("348525,  7.369,51,348573,    167,51",)
    assert r.statements["kind"].to_list() == ["report"]


def test_returns_charges_and_batches_postfinance(camt) -> None:  # type: ignore[no-untyped-def]
    r = camt("viafintech__camt_parser__053_valid_example_v4.xml")
    tx = r.transactions
    assert sorted(tx["return_reason"].drop_nulls().to_list()) == ["MD06", "MD06", "NARR", "NARR", "NARR"]
    # the batch details add up to their entry
    sums = tx.group_by("entry_index").agg(pl.col("amount_cents").sum(), pl.col("entry_amount_cents").first())
    assert sums.filter(pl.col("amount_cents") != pl.col("entry_amount_cents")).height == 0
    assert tx.filter(pl.col("entry_index") == 6).height == 10
    returns = tx.filter(pl.col("return_reason") == "MD06")
    assert returns.select("amount_cents", "is_reversal", "charges_cents").rows() == [(-600, True, 70), (-1553, True, 70)]
    assert returns["counterparty_name"].to_list() == ["Bernasconi Maria", "Rutschmann Pia"]
    assert tx["charges_cents"].drop_nulls().sum() > 0
    assert "000000000002016030002820804" in tx["creditor_ref"].to_list()


def test_returns_r02_am06_and_datetime_goldman(camt) -> None:  # type: ignore[no-untyped-def]
    r = camt("newinnovations__camt053__example-camt053-b.xml")
    reasons = r.transactions["return_reason"].drop_nulls().to_list()
    assert {"R02", "AM06", "4"} <= set(reasons)
    assert any("REJECT REVERSAL" in x for x in reasons)  # a return without a code keeps its narrative
    assert r.transactions["booking_date"].to_list()[-1] == date(2026, 4, 20)  # BookgDt/DtTm
    assert r.statements["balance_ok"].to_list() == [True]
    assert r.statements["opening_cents"].item() < 0  # a DBIT balance is negative
    fx = r.transactions.row(9, named=True)  # EUR booking of a USD instruction (CcyXchg)
    assert (fx["amount_cents"], fx["currency"], fx["original_amount_cents"], fx["original_currency"]) == (
        -2906, "EUR", 2500, "USD")
    assert "CcyXchg" in fx["raw"]


def test_reversal_sign_follows_cdtdbtind_as_booked(camt) -> None:  # type: ignore[no-untyped-def]
    # Goldman file: entry 0 is CRDT with RvslInd true (the reversal of a debit) and is booked +10.00;
    # the statement only balances when reversals are taken as booked, without a second sign flip.
    r = camt("newinnovations__camt053__example-camt053-b.xml")
    assert rows(r, "amount_cents", "is_reversal")[0] == (1000, True)
    assert r.statements["balance_ok"].item() is True


def test_mixed_signs_info_status_and_leading_dot_amount(camt) -> None:  # type: ignore[no-untyped-def]
    r = camt("Subite-eu__camt-to-coda__LT809872649478701594_CAMT_054_2024-08-12.xml")
    tx = r.transactions
    assert tx.height == 93 and tx["entry_index"].unique().to_list() == [0]
    assert tx["detail_index"].to_list() == list(range(93))
    assert set(tx["status"].to_list()) == {"INFO"} and not tx["booked"].any()
    assert (tx["amount_cents"] > 0).any() and (tx["amount_cents"] < 0).any()
    assert 44 in tx["amount_cents"].abs().to_list()  # <Amt>.44</Amt>
    assert "camt.raw_capped" in codes(r)
    assert tx["raw"].str.len_chars().max() < 20_200  # type: ignore[operator]
    assert tx["raw"][0].endswith("the file has the whole entry]")


def test_one_line_xml_othr_account_missing_sts_and_booking_date(camt) -> None:  # type: ignore[no-untyped-def]
    r = camt("Subite-eu__camt-to-coda__LT625883379695428516_CAMT_053_2024-03-12.xml")
    assert r.statements["account_iban"].to_list() == ["LT625883379695428516", "LT414319056143772570"]
    assert r.statements["page_no"].to_list() == [2, 2]  # MsgPgntn/PgNb
    assert set(r.transactions["status"].to_list()) == {"BOOK"}
    assert r.transactions["booking_date"].null_count() == 11
    issues = [(i.code, i.severity) for i in r.issues]
    assert issues.count(("camt.missing_status", "info")) == 11
    assert issues.count(("camt.missing_booking_date", "warning")) == 11
    mismatch = [i for i in r.issues if i.code == "camt.batch_count_mismatch"]
    assert len(mismatch) == 4
    assert mismatch[1].locator == "/Document/BkToCstmrStmt/Stmt[1]/Ntry[4]/NtryDtls"
    assert "102" in mismatch[1].message


def test_batch_count_mismatch_ing(camt) -> None:  # type: ignore[no-untyped-def]
    r = camt("viafintech__camt_parser__053_valid_example_with_batch.xml")
    assert "camt.batch_without_details" in codes(r)
    assert rows(r, "amount_cents")[0] == (-475374,)


def test_v8_parties_under_pty_and_lone_detail_in_other_currency(camt) -> None:  # type: ignore[no-untyped-def]
    r = camt("genkgo__camt__camt053.v8.xml")
    row = r.transactions.row(0, named=True)
    assert row["counterparty_name"] == "NAME NAME"  # Dbtr/Pty/Nm of a credit
    assert (row["amount_cents"], row["currency"]) == (885, "EUR")  # the booked amount, not TxDtls/Amt SEK 0
    assert row["booking_date"] == date(2014, 12, 31)  # DtTm with offset: the date as written
    assert row["end_to_end_id"] == "MUELL/FINP/RA12345"


def test_five_decimal_amounts_that_are_whole_cents(camt) -> None:  # type: ignore[no-untyped-def]
    r = camt("genkgo__camt__camt053.v2.five.decimals.xml")
    assert rows(r, "amount_cents") == [(885,)]
    assert r.statements.select("opening_cents", "closing_cents").row(0) == (1815, 2705)


def test_dt_holding_datetime_and_currency_exchange(camt) -> None:  # type: ignore[no-untyped-def]
    r = camt("genkgo__camt__camt53.only-Dt-with-DtTm.xml")
    assert r.statements.select("opening_date", "opening_cents").row(0) == (date(2025, 7, 23), 544209)
    fx = camt("genkgo__camt__camt052.v4.xml")
    assert "CcyXchg" in fx.transactions["raw"][0]  # kept in raw
    assert fx.statements["currency"].to_list() == ["SEK"]


def test_v1_proprietary_account_and_amounts_without_decimals(camt) -> None:  # type: ignore[no-untyped-def]
    v1 = camt("genkgo__camt__camt052.v1.xml")
    assert v1.statements["account_iban"].to_list() == ["CH2801234000123456789"]
    be = camt("Subite-eu__camt-to-coda__BE68793230773034-202411.xml")
    assert be.transactions["amount_cents"].null_count() == 0
    assert be.transactions["remittance"].null_count() < be.transactions.height


def test_notification_has_no_balances(camt) -> None:  # type: ignore[no-untyped-def]
    r = camt("viafintech__camt_parser__054_valid_example.xml")
    st = r.statements.row(0, named=True)
    assert (st["kind"], st["opening_cents"], st["closing_cents"], st["balance_ok"]) == ("notification", None, None, None)
    assert r.transactions["return_reason"].drop_nulls().to_list() == ["MD06", "MD06"]
