"""Report files: atomic writing with a manifest, German Excel CSV, XLSX, HTML escaping, signed PDF."""

from __future__ import annotations

import io
import json
import re
import zipfile
from datetime import date
from pathlib import Path

import polars as pl
import pytest
from outputs_frames import SPK, TENANT, VB, alloc, stmt, tx, unres
from outputs_frames import allocations as A
from outputs_frames import statements as S
from outputs_frames import transactions as T
from outputs_frames import unresolved as U

from outputs import (
    PlannedFile,
    ReportPaths,
    day_close,
    key_figures,
    klaerungsliste,
    verify,
    write_all,
    write_reports,
)
from outputs.report_model import build_model
from outputs.report_pdf import render_pdf, to_latin1

D1, D2 = date(2024, 5, 16), date(2024, 5, 17)
EVIL = '<script>alert("x")</script> Łukasz Ωmega'


@pytest.fixture(scope="module")
def frames() -> dict:
    s1 = stmt(SPK, 3, 100_000, 150_000, D1)
    s2 = stmt(SPK, 5, 150_000, 140_000, D2)            # statement 4 missing
    s3 = stmt(VB, 10, 0, 2_000, D2)                     # bank says 20.00, book will say 25.00
    rows = [tx(s1, 0, 60_000), tx(s1, 1, -10_000), tx(s2, 0, -10_000),
            tx(s3, 0, 2_500, counterparty_name=EVIL, remittance='=HYPERLINK("http://evil")'),
            tx(s2, 1, 123_456_789, counterparty_name="Müller-Lüdenscheidt GmbH & Co. KG",
               counterparty_iban="DE00123", iban_valid=False, remittance="-5 Mahnung")]
    un = U([unres(rows[0], "no_reference"),
            unres(rows[3], "ambiguous", candidates=[{"receivable_id": "R1", "kassenzeichen": "4711",
                                                      "amount_cents": 2_500, "score": 0.9, "why": "amount"}]),
            unres(rows[4], "overpayment", 456_789)])
    stmts, txs = S([s1, s2, s3]), T(rows)
    c1 = day_close(stmts, txs, un, booking_date=D1)
    c2 = day_close(stmts, txs, un, booking_date=D2, previous=c1)
    return {
        "dc": c2, "kl": klaerungsliste(un, txs, as_of=D2),
        "kf": key_figures(txs, A([alloc(rows[4], 123_000_000)]), un, as_of=D2),
    }


def write(out: Path, frames: dict) -> ReportPaths:
    return write_reports(out, tenant=TENANT, booking_date=D2, day_close=frames["dc"],
                         klaerungsliste=frames["kl"], key_figures=frames["kf"], run_id="run-0517")


@pytest.fixture(scope="module")
def out(tmp_path_factory: pytest.TempPathFactory, frames: dict) -> Path:
    """The reports written once for the whole module."""
    path = tmp_path_factory.mktemp("reports")
    write(path, frames)
    return path


def test_all_files_written_with_a_true_manifest(out: Path, frames: dict) -> None:
    tmp_path = out
    names = {p.name for p in tmp_path.iterdir()}
    assert {"day_close.html", "day_close.pdf", "day_close.csv", "day_close.parquet", "klaerungsliste.csv",
            "klaerungsliste.xlsx", "klaerungsliste.parquet", "key_figures_summary.parquet",
            "key_figures_age_structure.parquet", "manifest.json"} <= names
    assert not [n for n in names if n.startswith(".")]                # no staging left behind
    assert verify(tmp_path) == []
    man = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    entry = {e["file"]: e for e in man["files"]}
    assert man["tenant"] == TENANT and man["booking_date"] == "2024-05-17" and man["run_id"] == "run-0517"
    assert entry["day_close.parquet"]["rows"] == frames["dc"].height
    assert entry["day_close.parquet"]["sums"]["difference_cents"] == frames["dc"]["difference_cents"].sum()
    assert entry["klaerungsliste.csv"]["sums"]["unallocated_cents"] == 60_000 + 2_500 + 456_789
    back = pl.read_parquet(tmp_path / "day_close.parquet")
    assert back.equals(frames["dc"])


def test_same_night_twice_gives_identical_files(tmp_path: Path, out: Path, frames: dict) -> None:
    paths = write(tmp_path, frames)
    assert paths.manifest.read_bytes() == (out / "manifest.json").read_bytes()
    assert paths.key_figures["summary"] == tmp_path / "key_figures_summary.parquet"


def test_failure_while_staging_leaves_the_folder_as_it_was(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import outputs.atomic

    (tmp_path / "a.txt").write_bytes(b"old a")
    files = [PlannedFile("a.txt", b"new a", 1), PlannedFile("b.txt", b"new b", 1)]
    real, calls = outputs.atomic._fsync_write, []

    def disk_full_at_the_second(path: Path, data: bytes) -> None:
        calls.append(path)
        if len(calls) == 2:
            raise OSError(28, "injected: No space left on device")
        real(path, data)

    monkeypatch.setattr(outputs.atomic, "_fsync_write", disk_full_at_the_second)
    with pytest.raises(OSError, match="injected"):
        write_all(tmp_path, files, {})
    monkeypatch.setattr(outputs.atomic, "_fsync_write", real)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.txt"]
    assert (tmp_path / "a.txt").read_bytes() == b"old a"
    write_all(tmp_path, files, {})
    assert (tmp_path / "a.txt").read_bytes() == b"new a" and verify(tmp_path) == []
    (tmp_path / "b.txt").write_bytes(b"tampered")
    assert verify(tmp_path) == ["b.txt: sha256 differs from the manifest"]


def test_klaerungsliste_csv_for_german_excel(out: Path) -> None:
    tmp_path = out
    raw = (tmp_path / "klaerungsliste.csv").read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")                          # UTF-8 BOM for Excel
    back = pl.read_csv(raw, separator=";", decimal_comma=True, try_parse_dates=True)
    assert back.columns[:6] == ["Bereich", "Alter (Tage)", "Buchungstag", "Valuta", "Betrag", "offen"]
    assert back["Betrag"].dtype == pl.Float64 and back["Buchungstag"].dtype == pl.Date
    got = {round(v * 100) for v in back["offen"].to_list()}
    assert got == {60_000, 2_500, 456_789}
    assert "1234567,89" in raw.decode("utf-8-sig")                  # decimal comma, no thousands dot
    assert "'=HYPERLINK(\"\"http://evil\"\")" in raw.decode("utf-8-sig")  # neutralised and CSV-quoted
    assert "'-5 Mahnung" in back["Verwendungszweck"].to_list()
    assert set(back["Bereich"]) == {"Ungeklärt", "Überzahlung"}
    assert back.filter(pl.col("IBAN") == "DE00123")["IBAN gültig"].item() == "nein"


def test_klaerungsliste_xlsx_has_sheets_numbers_and_no_formulas(out: Path) -> None:
    tmp_path = out
    z = zipfile.ZipFile(io.BytesIO((tmp_path / "klaerungsliste.xlsx").read_bytes()))
    workbook = z.read("xl/workbook.xml").decode()
    assert re.findall(r'<sheet name="([^"]+)"', workbook) == ["Ungeklärt", "Überzahlung", "Verwahrgeld"]
    sheets = "".join(z.read(n).decode() for n in z.namelist() if n.startswith("xl/worksheets/sheet"))
    assert "<f>" not in sheets                                        # nothing became a formula
    shared = z.read("xl/sharedStrings.xml").decode()
    assert "=HYPERLINK" in shared                                     # kept as plain text
    assert "<v>1234567.89</v>" in sheets                              # an amount is a number cell
    assert "€" in z.read("xl/styles.xml").decode()                    # with a euro number format


def test_html_escapes_untrusted_text_and_shows_findings(out: Path) -> None:
    tmp_path = out
    html = (tmp_path / "day_close.html").read_text(encoding="utf-8")
    assert "<script>" not in html and "&lt;script&gt;" in html
    assert "Łukasz Ωmega" in html
    assert "Auszug fehlt" in html and "Kontoauszug Nr. 4 fehlt" in html
    assert "1.234.567,89 €" in html and "17.05.2024" in html
    assert "Kassenleiter/in" in html and "zweite Unterschrift" in html
    assert "Automatisierungsgrad" in html and "&gt;90" in html


def test_pdf_is_valid_and_has_both_signature_lines(out: Path, frames: dict) -> None:
    pdf = (out / "day_close.pdf").read_bytes()
    assert pdf.startswith(b"%PDF-") and pdf.rstrip().endswith(b"%%EOF")
    assert len(re.findall(rb"/Type /Page\b", pdf)) >= 1
    model = build_model(tenant=TENANT, booking_date=D2, run_id="r", day_close=frames["dc"],
                        klaerungsliste=frames["kl"], key_figures=frames["kf"])
    plain = render_pdf(model, font=False, compress=False)             # core font: text readable in the stream
    for text in (b"Kassenleiter/in", b"zweite Unterschrift", b"Ort, Datum", b"Tagesabschluss vom 17.05.2024"):
        assert text in plain, text


def test_latin1_fallback_never_fails_on_foreign_text() -> None:
    assert to_latin1("Łukasz Ωmega – 5 €") == "Lukasz ?mega - 5 EUR"
    assert to_latin1("Müller") == "Müller"


def test_reports_doc_names_every_column() -> None:
    from outputs import DAY_CLOSE_SCHEMA, KLAERUNG_SCHEMA
    from outputs.key_figures import SUMMARY_SCHEMA as KF

    doc = (Path(__file__).resolve().parent.parent / "docs" / "REPORTS.md").read_text(encoding="utf-8")
    missing = [c for c in [*DAY_CLOSE_SCHEMA, *KLAERUNG_SCHEMA] if f"`{c}`" not in doc]
    missing += [c for c in ("automation_rate_pct", "unresolved_per_10000") if c in KF and f"`{c}`" not in doc]
    assert missing == [], f"docs/REPORTS.md does not explain {missing}"


def test_a_night_without_anything_still_writes_every_file(tmp_path: Path) -> None:
    empty_tx, empty_un = T([]), U([])
    dc = day_close(S([]), empty_tx, empty_un, booking_date=D2)
    paths = write_reports(tmp_path, tenant=TENANT, booking_date=D2, day_close=dc,
                          klaerungsliste=klaerungsliste(empty_un, empty_tx, as_of=D2),
                          key_figures=key_figures(empty_tx, A([]), empty_un, as_of=D2), run_id="empty")
    assert verify(tmp_path) == []
    assert "Keine Konten" in paths.day_close_html.read_text(encoding="utf-8")
    assert pl.read_csv(paths.klaerungsliste_csv, separator=";").height == 0


def test_docstring_examples_hold() -> None:
    import doctest
    import importlib

    for name in ("outputs.fmt", "outputs.day_close"):
        result = doctest.testmod(importlib.import_module(name))
        assert result.failed == 0 and result.attempted > 0, name


def test_outputs_stay_plain_functions() -> None:
    root = Path(__file__).resolve().parent.parent / "outputs"
    offenders = [p.name for p in root.glob("*.py")
                 if re.search(r"^\s*(import|from)\s+(prefect|duckdb)\b", p.read_text(encoding="utf-8"), re.M)]
    assert offenders == []
