"""Field-level tests of the MT940 parser, one per real-world trap (small literal snippets and the samples)."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import polars as pl
import pytest

from parsers.mt940 import parse_mt940
from parsers.result import ParseResult
from parsers.schema import STATEMENT_SCHEMA, TRANSACTION_SCHEMA, assert_schema

HEAD = ":20:STARTUMS\n:25:12345678/1234567890\n:28C:00004/001\n:60F:C240102EUR100,00\n"
TAIL = ":62F:C240102EUR110,00\n-\n"


def parse_bytes(tmp_path: Path, data: bytes | str, encoding: str | None = None) -> ParseResult:
    path = tmp_path / "in.sta"
    path.write_bytes(data.encode("utf-8") if isinstance(data, str) else data)
    return parse_mt940(path, sha256="f" * 64, tenant="t1", encoding=encoding)


def sample(samples_dir: Path, name: str) -> ParseResult:
    return parse_mt940(samples_dir / "mt940" / name, sha256="s" * 64)


def tx(result: ParseResult, i: int = 0) -> dict:
    return result.transactions.row(i, named=True)


def codes(result: ParseResult) -> list[str]:
    return [i.code for i in result.issues]


# --- frames, provenance -------------------------------------------------------------------------

def test_frames_have_the_contract_schemas_and_provenance(tmp_path: Path) -> None:
    r = parse_bytes(tmp_path, HEAD + ":61:2401020102C10,00NTRFNONREF//B1\n:86:166?00GUTSCHRIFT?20SVWZ+X\n" + TAIL)
    assert_schema(r.transactions, TRANSACTION_SCHEMA, "transactions")
    assert_schema(r.statements, STATEMENT_SCHEMA, "statements")
    t = tx(r)
    assert (t["tenant"], t["source_file"], t["source_line"], t["source_format"]) == ("t1", "f" * 64, 5, "mt940")
    assert t["raw"] == ":61:2401020102C10,00NTRFNONREF//B1\n:86:166?00GUTSCHRIFT?20SVWZ+X"
    assert t["statement_key"] == "12345678/1234567890|00004/001|2024-01-02|10000|2024-01-02|11000"
    assert t["transaction_id"].endswith(":0:0") and t["iban_valid"] is None
    s = r.statements.row(0, named=True)
    assert (s["sequence_no"], s["page_no"], s["n_entries"], s["entries_sum_cents"], s["balance_ok"]) == (4, 1, 1, 1000, True)
    assert r.files.height == 0


@pytest.mark.parametrize("lead", ["", "\n", "\r\n\r\n", "\x01\r\n", "preamble\n\n"])
def test_source_line_counts_leading_empty_lines(tmp_path: Path, lead: str) -> None:
    r = parse_bytes(tmp_path, lead + HEAD + ":61:240102C10,00NTRF\n" + TAIL)
    assert tx(r)["source_line"] == 5 + lead.count("\n")


def test_output_is_deterministic(samples_dir: Path) -> None:
    a = sample(samples_dir, "betterplace__mt940_parser__sepa_mt9401.txt")
    b = sample(samples_dir, "betterplace__mt940_parser__sepa_mt9401.txt")
    assert a.transactions.equals(b.transactions) and a.statements.equals(b.statements)
    assert a.issues == b.issues


# --- tag lines that are not tags, end markers that are not ends ---------------------------------

@pytest.mark.parametrize("line", [":12:11 Uhr", ":26:37 Fo", ":KO:NR:4011", ":28C:mitten im Text"])
def test_tag_lookalike_inside_86_is_text(tmp_path: Path, line: str) -> None:
    r = parse_bytes(tmp_path, HEAD + ":61:240102C10,00NTRF\n:86:166?20SVWZ+Anfang \n" + line + "\n" + TAIL)
    assert tx(r)["remittance"] == "Anfang " + line
    assert "mt940.unknown_tag" not in codes(r)
    assert r.statements["n_entries"].to_list() == [1]


def test_unknown_tag_outside_86_is_a_warning_with_raw(tmp_path: Path) -> None:
    r = parse_bytes(tmp_path, HEAD + ":99:seltsam\n:61:240102C10,00NTRF\n" + TAIL)
    issue = next(i for i in r.issues if i.code == "mt940.unknown_tag")
    assert (issue.severity, issue.raw, issue.locator) == ("warning", ":99:seltsam", "line 5")
    assert r.transactions.height == 1


@pytest.mark.parametrize("line", ["-Nr. 1000620785", "-ID:?27DE21"])
def test_dash_line_inside_86_is_not_the_end(tmp_path: Path, line: str) -> None:
    r = parse_bytes(tmp_path, HEAD + ":61:240102C10,00NTRF\n:86:166?20SVWZ+Rechnung\n" + line + "\n" + TAIL)
    assert r.statements["closing_cents"].to_list() == [11000]
    assert line in tx(r)["raw"]


def test_samples_with_lookalikes(samples_dir: Path) -> None:
    assert "2017-01-01T13:12:11" in tx(sample(samples_dir, "WoLpH__mt940__transaction_details_wrapped.sta"))["remittance"]
    r = sample(samples_dir, "sandermarechal__jejik-mt940__bug-core-5401.txt")
    assert tx(r)["remittance"] == "VERTR:KO:NR:401113172APRIL 2021"
    r = sample(samples_dir, "sandermarechal__jejik-mt940__oldenburgischelandesbankmitbindestrich.txt")
    assert "-Nr. 1000620785" in tx(r)["raw"] and r.statements["closing_cents"].to_list() == [0]
    r = sample(samples_dir, "my-flow__mt940__message_separator_in_text.sta")
    assert r.statements["closing_cents"].to_list() == [-3909]


# --- envelopes, separators, control bytes, preamble ----------------------------------------------

def test_fints_at_at_separator_and_mt942(samples_dir: Path) -> None:
    r = sample(samples_dir, "my-flow__mt940__pending.sta")
    t = tx(r)
    assert (t["status"], t["booked"], t["source_format"], t["amount_cents"]) == ("PDNG", False, "mt942", -2)
    assert t["counterparty_bic"] == "COBADEHD001" and t["booking_text"] == "EURO-Überweisung"
    s = r.statements.row(0, named=True)
    assert (s["kind"], s["opening_cents"], s["closing_cents"], s["balance_ok"]) == ("interim", None, None, None)
    assert s["currency"] == "EUR"


def test_mt942_with_13d_and_two_34f(samples_dir: Path) -> None:
    r = sample(samples_dir, "WoLpH__mt940__self-provided_mt942.sta")
    assert r.statements["kind"].to_list() == ["interim"] and tx(r)["swift_code"] == "MCI0"
    assert tx(r)["bank_ref"] == "055001022000001" and tx(r)["amount_cents"] == -42


def test_swift_envelopes_two_messages_on_one_line(samples_dir: Path) -> None:
    r = sample(samples_dir, "sandermarechal__jejik-mt940__postfinance.txt")
    assert r.statements["statement_no"].to_list() == ["999/1", "999/2"]
    assert r.transactions["amount_cents"].to_list() == [7970, 14950, -7990, 1010]
    assert "mt940.control_bytes" in codes(r)


def test_envelope_and_control_bytes_literal(tmp_path: Path) -> None:
    body = HEAD + ":61:240102C10,00NTRF\n" + TAIL
    data = ("\x01{1:F01X}{2:O940X}{4:\n" + body.replace("-\n", "-}{5:{CHK:1}}\x03\n")).encode() + b"\x1a"
    r = parse_bytes(tmp_path, data)
    assert r.transactions.height == 1 and r.statements["balance_ok"].to_list() == [True]


def test_preamble_and_86_before_61(samples_dir: Path) -> None:
    r = sample(samples_dir, "svenstaro__mt940-rs__MT940_DK_Example.sta")
    assert (r.statements.height, r.transactions.height) == (15, 89)
    assert "mt940.text_outside_statement" in codes(r) and "mt940.statement_info" in codes(r)
    assert tx(r)["amount_cents"] == -82941978 and tx(r)["currency"] == "DKK"  # DK + funds letter K


def test_missing_dash_and_missing_newline(samples_dir: Path) -> None:
    assert sample(samples_dir, "fruitl00p__php-mt940__Kontist_sample").transactions.height == 6
    r = sample(samples_dir, "zilverline__mt940__deutsche_bank.txt")  # ends with :62M: and no "-"
    assert r.statements["closing_cents"].to_list() == [587]


def test_62m_directly_followed_by_20(samples_dir: Path) -> None:
    r = sample(samples_dir, "fruitl00p__php-mt940__Spk_sample")
    assert r.statements["n_entries"].to_list() == [4, 4, 1, 1]
    assert r.statements["balance_ok"].to_list() == [True] * 4


def test_ns_blocks_and_balance_without_currency(samples_dir: Path) -> None:
    r = sample(samples_dir, "WoLpH__mt940__raphaelm.sta")
    assert r.statements["n_entries"].to_list() == [6, 2, 1]
    assert r.statements["closing_cents"].to_list()[0] == 10500000
    assert r.statements["currency"].to_list()[0] == "DEM"
    assert tx(r)["value_date"] == date(2002, 3, 17)


def test_repeated_86_are_joined(samples_dir: Path) -> None:
    t = tx(sample(samples_dir, "sandermarechal__jejik-mt940__rabobank.txt"))
    assert t["remittance"] == "Terugboeking NIET AKKOORD MET AFSCHRIJVING KOSTEN KINDEROPVANG JUNI 20095731"
    assert t["amount_cents"] == -121328  # 000000001213,28


# --- encodings -----------------------------------------------------------------------------------

def test_latin1_file_decodes_with_an_info_issue(samples_dir: Path) -> None:
    r = sample(samples_dir, "my-flow__mt940__transactions.sta")
    assert "SEPA-ÜBERWEISUNG" in r.transactions["booking_text"].to_list()
    issue = next(i for i in r.issues if i.code == "mt940.encoding_fallback")
    assert issue.severity == "info" and "latin-1" in issue.message


def test_dos_codepage_file(samples_dir: Path) -> None:
    r = sample(samples_dir, "WoLpH__mt940__raiffeisen-cmi.sta")
    assert "összevont utánvét" in tx(r)["remittance"]
    assert "cp850" in next(i.message for i in r.issues if i.code == "mt940.encoding_fallback")


def test_cp850_mojibake_is_repaired_with_a_warning(samples_dir: Path) -> None:
    r = sample(samples_dir, "fruitl00p__php-mt940__Spk_sample")
    assert tx(r)["counterparty_name"].startswith("MÜLLER")
    assert "mt940.mojibake_repaired" in codes(r)


def test_explicit_encoding_wins(tmp_path: Path) -> None:
    data = (HEAD + ":61:240102C10,00NTRF\n:86:166?32Ärger\n" + TAIL).encode("cp1252")
    assert tx(parse_bytes(tmp_path, data, encoding="cp1252"))["counterparty_name"] == "Ärger"
    assert "mt940.encoding_fallback" not in codes(parse_bytes(tmp_path, data, encoding="cp1252"))


def test_utf8_umlauts(samples_dir: Path) -> None:
    t = tx(sample(samples_dir, "sandermarechal__jejik-mt940__sparkasse2.txt"))
    assert t["counterparty_name"] == "GEBÜHREN MANUELL GG UST-FREI"


# --- :61: grammar ---------------------------------------------------------------------------------

def test_february_30_is_clamped_with_a_warning(samples_dir: Path) -> None:
    r = sample(samples_dir, "WoLpH__mt940__february_30.sta")
    assert tx(r)["value_date"] == date(2016, 2, 29)
    issue = next(i for i in r.issues if i.code == "mt940.date_clamped")
    assert issue.severity == "warning" and "160230" in issue.message and "160230" in issue.raw


@pytest.mark.parametrize(
    ("dates", "value", "booking"),
    [
        ("1401011229", date(2014, 1, 1), date(2013, 12, 29)),  # Knab: entry in the previous year
        ("1412310102", date(2014, 12, 31), date(2015, 1, 2)),  # entry in the next year
        ("2402280301", date(2024, 2, 28), date(2024, 3, 1)),
        ("240228", date(2024, 2, 28), date(2024, 2, 28)),  # no entry date: booking = value date
    ],
)
def test_entry_date_year_nearest_the_value_date(tmp_path: Path, dates: str, value: date, booking: date) -> None:
    t = tx(parse_bytes(tmp_path, HEAD + f":61:{dates}C10,00NTRF\n" + TAIL))
    assert (t["value_date"], t["booking_date"]) == (value, booking)


@pytest.mark.parametrize(
    ("mark_amount", "cents", "reversal"),
    [
        ("C10,00", 1000, False),
        ("D10,00", -1000, False),
        ("RC10,00", -1000, True),  # reversal of a credit: money goes out
        ("RD10,00", 1000, True),  # reversal of a debit: money comes back
        ("CR300,", 30000, False),  # C + funds code R, "300," = 300.00
        ("DK829419,78", -82941978, False),
        ("CN0,01", 1, False),
        ("C0,", 0, False),
        ("D000000000473,17", -47317, False),
        ("C5,9", 590, False),
    ],
)
def test_marks_funds_codes_and_amounts(tmp_path: Path, mark_amount: str, cents: int, reversal: bool) -> None:
    t = tx(parse_bytes(tmp_path, HEAD + f":61:240102{mark_amount}NTRFNONREF\n" + TAIL))
    assert (t["amount_cents"], t["is_reversal"], t["swift_code"]) == (cents, reversal, "NTRF")


def test_entry_date_that_is_no_date_falls_back_to_the_value_date(tmp_path: Path) -> None:
    r = parse_bytes(tmp_path, HEAD + ":61:2401021399C10,00NTRF\n" + TAIL)
    assert tx(r)["booking_date"] == date(2024, 1, 2)
    assert next(i for i in r.issues if i.code == "mt940.bad_entry_date").severity == "warning"


def test_samples_reversals(samples_dir: Path) -> None:
    t = tx(sample(samples_dir, "sandermarechal__jejik-mt940__sparkasse2.txt"))
    assert (t["amount_cents"], t["is_reversal"], t["tx_code"]) == (102725, True, "899")  # RDR
    r = sample(samples_dir, "betterplace__mt940_parser__sepa_mt9401.txt")
    rcr = r.transactions.filter(pl.col("is_reversal"))
    assert rcr["amount_cents"].to_list()[0] == -20488 and rcr["booking_text"].to_list()[0] == "SAMMLER/STORNO"


@pytest.mark.parametrize(
    ("rest", "key", "cust", "bank"),
    [
        ("NTRFNONREF//0724710345313905", "NTRF", None, "0724710345313905"),
        (" NRTIKREF+//2016021783252833", "NRTI", "KREF+", "2016021783252833"),  # space before the key
        ("NONREF", None, None, None),  # Penta: no booking key
        ("NMSC", "NMSC", None, None),  # Volksbank: nothing after the key
        ("NOV NONREF", "NOV", None, None),  # ING: key padded with a space
        ("N0510000234982341123", "N051", "0000234982341123", None),
        ("NTRF1004688128      //6128522200250001", "NTRF", "1004688128", "6128522200250001"),
    ],
)
def test_booking_key_and_references(tmp_path: Path, rest: str, key: str | None, cust: str | None,
                                    bank: str | None) -> None:
    t = tx(parse_bytes(tmp_path, HEAD + f":61:240102D12,35{rest}\n" + TAIL))
    assert (t["swift_code"], t["customer_ref"], t["bank_ref"]) == (key, cust, bank)


def test_supplementary_details_line(samples_dir: Path) -> None:
    t = tx(sample(samples_dir, "sandermarechal__jejik-mt940__commerzbank.txt"))
    assert (t["original_amount_cents"], t["original_currency"], t["charges_cents"]) == (1185, "EUR", 50)
    assert t["swift_code"] == "NRTI" and t["amount_cents"] == -1235


def test_bad_entry_is_an_error_and_the_rest_goes_on(tmp_path: Path) -> None:
    r = parse_bytes(tmp_path, HEAD + ":61:24010XC1,00NTRF\n:61:240102C10,00NTRF\n" + TAIL)
    issue = next(i for i in r.issues if i.code == "mt940.bad_entry")
    assert (issue.severity, issue.locator, issue.raw) == ("error", "line 5 :61:", ":61:24010XC1,00NTRF")
    assert r.transactions.height == 1 and tx(r)["entry_index"] == 1


# --- statement tags -------------------------------------------------------------------------------

def test_negative_balances_and_empty_statement(samples_dir: Path) -> None:
    r = sample(samples_dir, "zilverline__mt940__rabobank_with_debet_previous_balance.txt")
    s = r.statements.row(0, named=True)
    assert s["opening_cents"] < 0 and s["closing_cents"] < 0 and s["n_entries"] == 0 and s["balance_ok"]


def test_account_with_spaces_is_normalised(samples_dir: Path) -> None:
    r = sample(samples_dir, "zilverline__mt940__knab_date_and_accounting_date_different_year.txt")
    assert r.statements["account_iban"].to_list() == ["NL92KNAB0123456789"]


@pytest.mark.parametrize(("c28", "seq", "page"), [("00004/00001", 4, 1), ("0/32", 0, 32), ("2021/02", 2021, 2),
                                                  ("0", 0, None), ("1", 1, None)])
def test_statement_number(tmp_path: Path, c28: str, seq: int, page: int | None) -> None:
    r = parse_bytes(tmp_path, HEAD.replace("00004/001", c28) + TAIL)
    s = r.statements.row(0, named=True)
    assert (s["statement_no"], s["sequence_no"], s["page_no"]) == (c28, seq, page)


def test_missing_closing_balance_is_a_warning(samples_dir: Path) -> None:
    r = sample(samples_dir, "WoLpH__mt940__gv_codes.sta")
    assert "mt940.missing_closing" in codes(r) and r.statements["balance_ok"].to_list() == [None]
    r = sample(samples_dir, "sandermarechal__jejik-mt940__oldenburgischelandesbank2.txt")  # :65F:Dnullnull…
    assert "mt940.missing_closing" in codes(r) and r.transactions.height == 1


def test_bad_balance_is_an_error(tmp_path: Path) -> None:
    r = parse_bytes(tmp_path, HEAD.replace("C240102EUR100,00", "Cnullnull100") + TAIL)
    issue = next(i for i in r.issues if i.code == "mt940.bad_balance")
    assert issue.severity == "error" and issue.locator == "line 4 :60F:"
    assert r.statements["balance_ok"].to_list() == [None]


# --- :86: DK details ------------------------------------------------------------------------------

def test_dk_details_full_keyword_set(samples_dir: Path) -> None:
    t = tx(sample(samples_dir, "sandermarechal__jejik-mt940__commerzbank.txt"))
    assert t["tx_code"] == "109" and t["booking_text"] == "SEPA-LASTSCHR. RETOURE CORE"
    assert t["primanota"] == "9075/629"
    assert t["end_to_end_id"] == "A1.200080779.400143254.4961336"  # runs on over ?20/?21
    assert t["customer_ref"] == "SEPA-DA20200601221740-34972000-P1"  # KREF+ beats the :61: reference
    assert t["mandate_id"] == "20852HW2723821"  # "MR" ?22 "EF+2": keyword split across subfields
    assert t["creditor_id"] == "DE41EON00000129793"
    assert t["remittance"].startswith("SONSTIGE GRUENDE ENDABRECHNUNG NR. 500106875")
    assert (t["counterparty_bic"], t["counterparty_iban"], t["counterparty_name"]) == (
        "CSDBDE71XXX", "DE50712345600200691329", "TESTEREL")


def test_return_reason_from_34_for_return_gvcs(samples_dir: Path) -> None:
    r = sample(samples_dir, "betterplace__mt940_parser__sepa_mt9401.txt")
    ret = r.transactions.filter(pl.col("tx_code") == "159")
    assert ret.height == 17 and set(ret["return_reason"].to_list()) <= {"914", "903", "901", "902", "905", "911"}
    assert ret["return_reason"].null_count() == 0
    other = tx(sample(samples_dir, "WoLpH__mt940__malformed_details.sta"))  # GVC 105, ?34992 = sequence type
    assert (other["text_key_ext"], other["return_reason"]) == ("992", None)


def test_keywords_literal(tmp_path: Path) -> None:
    d86 = (":86:171?00SEPA-LASTSCHRIFT?109310?20EREF+NOTPROVIDED?21MREF+M-1?22CRED+DE98ZZZ09999999999?23SVWZ+"
           "Kassenz. 5.22\n?2429.9430.7?25ABWA+Max Mustermann?30BYLADEM1001?31DE23 1203 0000\n?32Muster?33frau, Erika")
    t = tx(parse_bytes(tmp_path, HEAD + ":61:240102C10,00NDDT\n" + d86 + "\n" + TAIL))
    assert t["end_to_end_id"] is None and t["mandate_id"] == "M-1" and t["creditor_id"] == "DE98ZZZ09999999999"
    assert t["remittance"] == "Kassenz. 5.2229.9430.7" and t["ultimate_party"] == "Max Mustermann"
    assert t["counterparty_iban"] == "DE2312030000" and t["counterparty_name"] == "Musterfrau, Erika"


def test_no_keywords_remittance_is_the_joined_purpose(tmp_path: Path) -> None:
    t = tx(parse_bytes(tmp_path, HEAD + ":61:240102C10,00NTRF\n:86:051?00Gutschrift?20RECHNUNG 4711?21 VOM 2.1.\n" + TAIL))
    assert t["remittance"] == "RECHNUNG 4711 VOM 2.1." and t["tx_code"] == "051"


def test_unstructured_86_stays_text(samples_dir: Path) -> None:
    t = tx(sample(samples_dir, "fruitl00p__php-mt940__Penta_sample"))
    assert t["tx_code"] == "999" and t["remittance"].startswith("SEPA_STANDING_ORDER:Unkostenbeitrag")
    t = tx(sample(samples_dir, "svenstaro__mt940-rs__buxtehude.sta"))
    assert t["tx_code"] is None and t["remittance"]


def test_triodos_angle_subfields(samples_dir: Path) -> None:
    t = tx(sample(samples_dir, "sandermarechal__jejik-mt940__triodos.txt"))
    assert t["remittance"] == "ALGEMENE TUSSENREKENING KOSTEN VAN 01-10-2010 TOT EN MET 31-12-2010"
    assert t["counterparty_iban"] == "0390123456"


def test_invalid_subfield_is_a_warning(samples_dir: Path) -> None:
    r = sample(samples_dir, "zilverline__mt940__deutsche_bank.txt")
    warn = [i for i in r.issues if i.code == "mt940.invalid_subfield"]
    assert [i.locator for i in warn] == ["line 5 :61:", "line 9 :61:"] and "?2A" in warn[1].message
    assert tx(r, 1)["end_to_end_id"] == "D979899680037A3DFA78E45315095381"


def test_abwa_and_60_63(samples_dir: Path) -> None:
    t = tx(sample(samples_dir, "WoLpH__mt940__details_60-63.sta"))
    assert t["ultimate_party"] == "Finanzamt Muenchen Abteilung Erhebung"


# --- garbage never raises -------------------------------------------------------------------------

@pytest.mark.parametrize("data", [b"", b"\x00\xff\xfe garbage", b":20", b":20X:ref\n", b"<?xml version='1.0'?><Document/>", b"-\n-\n",
                                  b":61:240102C10,00NTRF\n"])
def test_garbage_gives_no_statement(tmp_path: Path, data: bytes) -> None:
    r = parse_bytes(tmp_path, data)
    assert "mt940.no_statement" in codes(r) and r.transactions.height == 0


def test_unreadable_path(tmp_path: Path) -> None:
    r = parse_mt940(tmp_path / "missing.sta", sha256="x")
    assert codes(r) == ["mt940.unreadable"]
