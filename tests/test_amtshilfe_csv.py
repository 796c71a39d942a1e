"""amtshilfe.csv_format: the bulk CSV in German Excel conventions, both encodings and line ends, every rejection."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import polars as pl
import pytest
from amtshilfe_frames import requests

from amtshilfe import model
from amtshilfe.csv_format import COLUMNS, read_requests_csv, write_requests_csv
from amtshilfe.xml_format import AmtshilfeFileError


def _csv_requests() -> model.Requests:
    """The test requests without the changes (the CSV carries requests only)."""
    r = requests()
    return model.requests(r.requests, r.notices.filter(pl.col("message_id").is_in(["E-1", "E-2"])))


HEAD = ("Aktenzeichen Gläubiger;Gläubiger-Kennung;Gläubiger;Ersuchensdatum;Schuldner Name;PLZ;Bescheiddatum;"
        "Zeitraum von;Zeitraum bis;Hauptforderung;Säumniszuschläge;Kosten")


def _csv(*rows: str, head: str = HEAD, eol: str = "\r\n", encoding: str = "utf-8") -> bytes:
    return eol.join([head, *rows, ""]).encode(encoding)


@pytest.mark.parametrize("encoding", ["utf-8-sig", "utf-8", "cp1252"])
@pytest.mark.parametrize("eol", ["\r\n", "\n"])
def test_round_trip_in_every_encoding_and_line_end(encoding: str, eol: str) -> None:
    data = _csv_requests()
    raw = write_requests_csv(data, encoding=encoding, line_terminator=eol)  # type: ignore[arg-type]
    assert raw.startswith(b"\xef\xbb\xbf") == (encoding == "utf-8-sig")
    assert (b"\r\n" in raw) == (eol == "\r\n")
    assert ("Müller".encode(encoding.replace("-sig", "")) in raw)
    got = read_requests_csv(raw, file="bs.csv")
    assert got.encoding == encoding
    assert got.rejected.is_empty() and got.count_in == 3 and got.ignored_columns == ()
    assert got.data.requests.to_dicts() == data.requests.to_dicts()
    assert got.data.notices.to_dicts() == data.notices.to_dicts()
    assert got.data.changes.is_empty()


def test_the_written_columns_are_the_documented_ones() -> None:
    raw = write_requests_csv(_csv_requests())
    header = raw.decode("utf-8-sig").split("\r\n")[0].split(";")
    assert header == [c.header for c in COLUMNS]
    row = raw.decode("utf-8-sig").split("\r\n")[2]
    assert ";1234567,89;0,01;5,00" in row and ";01.07.2025;31.12.2025;" in row and "29.02.1980" in row


def test_amounts_and_dates_in_excel_shapes() -> None:
    got = read_requests_csv(_csv(
        "K1;X;Stadt A;30.11.2026;Meier;32756;01.07.2025;01.01.2025;30.06.2025;1.234.567,89;8;0,5",
        "K1;X;Stadt A;30.11.2026;Meier;32756;1.7.2025;;;0,01;;",
        "K2;X;Stadt A;30.11.2026;Kurz;32758;;;;1234567,89;0,00;12"))
    assert got.rejected.is_empty()
    n = got.data.notices
    assert n["principal_cents"].to_list() == [123456789, 1, 123456789]
    assert n["surcharge_cents"].to_list() == [800, 0, 0] and n["costs_cents"].to_list() == [50, 0, 1200]
    assert n["notice_date"].to_list() == [date(2025, 7, 1), date(2025, 7, 1), None]
    assert n["position"].to_list() == [1, 2, 1]
    assert got.data.requests["message_id"].to_list() == ["Z2", "Z4"]   # first line of each request
    assert got.data.requests["debtor_postcode"].to_list() == ["32756", "32758"]


@pytest.mark.parametrize(("field", "value", "reason"), [
    ("Hauptforderung", "12,345", "Hauptforderung: not an amount '12,345'"),
    ("Hauptforderung", "-5,00", "Hauptforderung: not an amount '-5,00'"),
    ("Hauptforderung", "1,234.56", "Hauptforderung: not an amount '1,234.56'"),
    ("Hauptforderung", "", "Hauptforderung: missing"),
    ("Kosten", "12 EUR", "Kosten: not an amount '12 EUR'"),
    ("Ersuchensdatum", "2026-11-30", "Ersuchensdatum: not a date dd.mm.yyyy '2026-11-30'"),
    ("Ersuchensdatum", "31.11.2026", "Ersuchensdatum: not a date dd.mm.yyyy '31.11.2026'"),
    ("Ersuchensdatum", "", "Ersuchensdatum: missing"),
    ("Bescheiddatum", "1.7.25", "Bescheiddatum: not a date dd.mm.yyyy '1.7.25'"),
    ("Aktenzeichen Gläubiger", "", "Aktenzeichen Gläubiger: missing"),
    ("Zeitraum bis", "31.12.2024", "Zeitraum bis: the period ends before it starts"),
])
def test_each_row_reason(field: str, value: str, reason: str) -> None:
    values = ["K1", "X", "Stadt A", "30.11.2026", "Meier", "32756", "01.07.2025", "01.01.2025", "30.06.2025", "10,00",
              "8,00", "0"]
    good = dict(zip(HEAD.split(";"), values, strict=True))
    bad = {**good, field: value}
    other = {**good, "Aktenzeichen Gläubiger": "K2"}
    got = read_requests_csv(_csv(";".join(good.values()), ";".join(bad.values()), ";".join(other.values())),
                            file="f.csv")
    assert got.count_in == 3 == got.data.notices.height + got.rejected.height
    rows = got.rejected.to_dicts()
    mine = [r for r in rows if r["line"] == 3]
    assert mine == [{"file": "f.csv", "line": 3, "element": reason.split(":")[0], "message": "ersuchen",
                     "message_id": mine[0]["message_id"], "creditor_file_number": bad["Aktenzeichen Gläubiger"] or None,
                     "reason": reason}]
    if field != "Aktenzeichen Gläubiger":       # the request's other row goes with it; K2 is read
        assert [r["reason"] for r in rows if r["line"] == 2] == ["another row of request K1 was rejected (line 3)"]
        assert got.data.requests["creditor_file_number"].to_list() == ["K2"]
    else:                                       # a row without a file number belongs to no request
        assert got.data.requests["creditor_file_number"].to_list() == ["K1", "K2"]


def test_rows_of_one_request_must_agree() -> None:
    got = read_requests_csv(_csv(
        "K1;X;Stadt A;30.11.2026;Meier;32756;;;;10,00;;",
        "K1;X;Stadt A;30.11.2026;Maier;32756;;;;11,00;;",
        "K2;X;Stadt A;30.11.2026;Kurz;32758;;;;1,00;;"))
    assert got.rejected["reason"].to_list() == ["rows of request K1 differ in debtor_name"] * 2
    assert got.rejected["line"].to_list() == [2, 3]
    assert got.data.requests["creditor_file_number"].to_list() == ["K2"]


def test_the_same_file_number_of_two_creditors_is_two_requests() -> None:
    got = read_requests_csv(_csv(
        "K1;X;Stadt A;30.11.2026;Meier;32756;;;;10,00;;",
        "K1;Y;IHK;30.11.2026;Meier;32756;;;;11,00;;"))
    assert got.rejected.is_empty() and got.data.requests["creditor_id"].to_list() == ["X", "Y"]


def test_a_row_with_the_wrong_field_count_is_rejected_and_empty_lines_are_skipped() -> None:
    got = read_requests_csv(_csv(
        "K1;X;Stadt A;30.11.2026;Meier;32756;;;;10,00;;",
        ";;;;;;;;;;;",
        "K2;X;Stadt A;30.11.2026;Kurz;32758;;;;1,00",
        "",
        "K3;X;Stadt A;30.11.2026;Lang;32758;;;;1,00;;"))
    assert got.rejected.select("line", "element", "reason").rows() == [(4, None, "10 fields, the header has 12")]
    assert got.count_in == 3 and got.data.requests["creditor_file_number"].to_list() == ["K1", "K3"]



def test_a_cut_row_rejects_the_other_rows_of_its_request() -> None:
    # K1 has two notices; its second row is cut short: read without it, K1 would demand too little
    got = read_requests_csv(_csv(
        "K1;X;Stadt A;30.11.2026;Meier;32756;;;;10,00;;",
        "K1;X;Stadt A;30.11.2026;Meier;32756;;;;7,00",
        "K2;X;Stadt A;30.11.2026;Kurz;32758;;;;1,00;;"))
    assert got.rejected.select("line", "creditor_file_number", "reason").rows() == [
        (2, "K1", "another row of request K1 was rejected (line 3)"),
        (3, "K1", "10 fields, the header has 12")]
    assert got.count_in == 3 and got.data.requests["creditor_file_number"].to_list() == ["K2"]

def test_line_numbers_count_a_quoted_line_break() -> None:
    got = read_requests_csv(_csv(
        'K1;X;"Stadt A\r\nKämmerei";30.11.2026;Meier;32756;;;;10,00;;',
        "K2;X;Stadt A;30.11.2026;Kurz;32758;;;;x;;"))
    assert got.rejected["line"].to_list() == [4]
    assert got.data.requests["creditor_name"].to_list() == ["Stadt A\r\nKämmerei"]


def test_formula_protection_round_trips() -> None:
    data = _csv_requests()
    reqs = data.requests.with_columns(pl.lit("=HYPERLINK(1)").alias("debtor_name"))
    raw = write_requests_csv(model.requests(reqs, data.notices))
    assert b";'=HYPERLINK(1);" in raw
    assert read_requests_csv(raw).data.requests["debtor_name"].to_list() == ["=HYPERLINK(1)"] * 2


def test_unknown_columns_are_named_and_headers_are_case_blind() -> None:
    head = HEAD.upper().replace("GLÄUBIGER;", "Gläubiger;") + ";Bemerkung"
    got = read_requests_csv(_csv("K1;X;Stadt A;30.11.2026;Meier;32756;;;;10,00;;;egal", head=head))
    assert got.ignored_columns == ("Bemerkung",) and got.data.requests.height == 1


def test_whole_file_refused() -> None:
    with pytest.raises(AmtshilfeFileError, match=r"required column.s. missing: Hauptforderung"):
        read_requests_csv(_csv("K1;X", head="Aktenzeichen Gläubiger;Ersuchensdatum"))
    with pytest.raises(AmtshilfeFileError, match="a column header appears twice"):
        read_requests_csv(_csv("", head=HEAD + ";PLZ"))
    with pytest.raises(AmtshilfeFileError, match="no header row"):
        read_requests_csv(b"")
    with pytest.raises(AmtshilfeFileError, match=r"neither UTF-8 nor Windows-1252 .byte 0x81"):
        read_requests_csv(_csv("K1;X;St\x81dt;30.11.2026;M;1;;;;1,00;;", encoding="latin-1"))


def test_a_path_and_a_windows_1252_file_with_umlauts(tmp_path: Path) -> None:
    path = tmp_path / "lieferung.csv"
    path.write_bytes(_csv("K1;X;Stadt Lüdenscheid;30.11.2026;Größe;58507;;;;10,00;;", encoding="cp1252", eol="\n"))
    got = read_requests_csv(path)
    assert got.encoding == "cp1252" and got.data.requests["debtor_name"].to_list() == ["Größe"]
    assert got.data.requests["creditor_name"].to_list() == ["Stadt Lüdenscheid"]


def test_writer_refuses_what_the_csv_cannot_carry() -> None:
    full = requests()
    with pytest.raises(AmtshilfeFileError, match="requests only"):
        write_requests_csv(full)
    data = _csv_requests()
    with pytest.raises(AmtshilfeFileError, match="at least one notice"):
        write_requests_csv(model.requests(data.requests, data.notices.filter(pl.col("message_id") == "E-1")))
    euro = data.requests.with_columns(pl.lit("Łódź").alias("debtor_city"))
    with pytest.raises(AmtshilfeFileError, match="Windows-1252"):
        write_requests_csv(model.requests(euro, data.notices), encoding="cp1252")


def test_a_message_id_naming_two_requests_is_rejected() -> None:
    head = "Nachrichten-ID;" + HEAD
    got = read_requests_csv(_csv(
        "M1;K1;X;Stadt A;30.11.2026;Meier;32756;;;;10,00;;",
        "M1;K2;X;Stadt A;30.11.2026;Kurz;32758;;;;1,00;;",
        "M2;K3;X;Stadt A;30.11.2026;Lang;32758;;;;1,00;;", head=head))
    assert got.rejected["reason"].to_list() == ["message id M1 names more than one request"] * 2
    assert got.data.requests["message_id"].to_list() == ["M2"]
