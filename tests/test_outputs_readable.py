"""Issue 19 §3 and §1: the reports people read, checked for what makes them readable (XLSX column widths in
the unit polars takes, day close texts, charts, key figures for controlling)."""

from __future__ import annotations

import io
import re
import zipfile
from pathlib import Path

import polars as pl
import pytest
from test_outputs_files import frames, write  # noqa: F401  (the module's fixture and writer)

from outputs.excel_csv import Col, width_chars, width_pixels, xlsx_bytes


@pytest.fixture(scope="module")
def out(tmp_path_factory: pytest.TempPathFactory, frames: dict) -> Path:  # noqa: F811
    path = tmp_path_factory.mktemp("readable")
    write(path, frames)
    return path


def sheet_widths(xlsx: bytes, sheet: int = 1) -> list[float]:
    z = zipfile.ZipFile(io.BytesIO(xlsx))
    xml = z.read(f"xl/worksheets/sheet{sheet}.xml").decode()
    cols = re.findall(r'<col min="(\d+)" max="(\d+)" width="([\d.]+)"', xml)
    out: list[float] = []
    for lo, hi, w in cols:
        out += [float(w)] * (int(hi) - int(lo) + 1)
    return out


def test_pixel_widths_are_what_excel_shows_as_characters() -> None:
    assert width_pixels(10) == 75 and width_pixels(40) == 285
    assert width_chars(Col("x", "Buchungstag", "date")) == 14          # the header and its filter button
    assert width_chars(Col("x", "Verwendungszweck", width=40)) == 40


def test_klaerungsliste_xlsx_columns_are_as_wide_as_meant(out: Path) -> None:
    from outputs.report import KLAERUNG_COLS

    widths = sheet_widths((out / "klaerungsliste.xlsx").read_bytes())
    assert len(widths) == len(KLAERUNG_COLS)
    for col, width in zip(KLAERUNG_COLS, widths, strict=True):
        # Excel stores the width in characters (+ ~0.7 padding); the bug gave 1/7 of it (pixels read as chars)
        assert abs(width - width_chars(col)) < 1.0, (col.header, width)
        assert width >= len(col.header) + 2, col.header
    by_header = dict(zip([c.header for c in KLAERUNG_COLS], widths, strict=True))
    assert by_header["Buchungstag"] >= len("31.12.2026") + 1       # a date never shows as ###
    assert by_header["Betrag"] >= len("-1.234.567,89 €") + 1       # nor a seven-digit amount
    assert by_header["Verwendungszweck"] >= 40


def test_an_empty_sheet_gets_the_same_widths() -> None:
    import polars as pl

    cols = [Col("d", "Buchungstag", "date"), Col("t", "Zahler", width=28)]
    data = xlsx_bytes([("leer", pl.DataFrame({"d": [], "t": []}, schema={"d": pl.Date, "t": pl.String}), cols)],
                      created=__import__("datetime").date(2026, 1, 1))
    assert sheet_widths(data)[:2] == pytest.approx([14.71, 28.71], abs=0.05)


# --- the day close a Kassenleiter signs (issue 19 §3) ---------------------------------------------------------

def pdf_text(pdf: bytes) -> str:
    from pypdf import PdfReader

    return "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf)).pages)


def model_of(frames: dict, **extra: object) -> dict:  # noqa: F811
    from datetime import date

    from outputs.report_model import build_model

    return build_model(tenant="musterstadt", booking_date=date(2024, 5, 17), run_id="r",
                       day_close=extra.pop("dc", frames["dc"]), klaerungsliste=frames["kl"],
                       key_figures=frames["kf"], **extra)  # type: ignore[arg-type]


def test_counts_carry_thousands_dots_and_banks_stand_beside_ibans(frames: dict) -> None:  # noqa: F811
    from outputs.fmt import de_int
    from outputs.report_model import bank_name

    assert de_int(1234567) == "1.234.567" and de_int(999) == "999"
    assert bank_name("DE89370400440532013000") == "Commerzbank"
    assert bank_name("DE00123") == "" and bank_name(None) == ""
    m = model_of(frames)
    assert all("bank_txt" in r and "n_unresolved_txt" in r for r in m["rows"])
    assert m["summary"][0]["n_incoming_txt"] == str(m["summary"][0]["n_incoming"])  # small: no dot


def _locked_day_corrected(frames: dict) -> pl.DataFrame:  # noqa: F811
    """The day close of one account with a 5,00 € difference, reprinted with the correction that ends it."""
    dc = frames["dc"].filter(pl.col("status") == "difference")
    assert dc.height == 1 and dc["difference_cents"].item() != 0
    fix = dc.with_columns(
        pl.lit("correction").alias("kind"), pl.col("booking_date").alias("corrected_date"),
        *[pl.lit(0, pl.Int64()).alias(c) for c in ("opening_cents", "credits_cents", "debits_cents",
                                                   "closing_cents", "book_opening_cents", "booked_cents",
                                                   "n_transactions", "n_unresolved", "unresolved_cents")],
        (-pl.col("difference_cents")).alias("book_closing_cents"), (-pl.col("difference_cents")).alias("difference_cents"),
        pl.lit("ok").alias("status"), pl.lit("Korrektur").alias("note"),
    ).select(dc.columns)
    return pl.concat([dc, fix.cast(dict(dc.schema))])  # type: ignore[arg-type]


def test_a_locked_day_reprinted_with_its_correction_says_it_is_settled(frames: dict) -> None:  # noqa: F811
    from outputs.report_pdf import render_pdf

    uncorrected = model_of(frames, dc=frames["dc"].filter(pl.col("status") == "difference"))
    assert "nicht abgestimmt" in uncorrected["verdict"] and uncorrected["n_problems"] == 1
    m = model_of(frames, dc=_locked_day_corrected(frames))
    assert m["n_problems"] == 0 and m["n_settled"] == 1
    assert "nicht abgestimmt" not in m["verdict"]
    assert m["verdict"].startswith("Alle Konten abgestimmt: 1 Konto nach Korrektur, Differenz jetzt 0,00 €")
    assert m["rows"][0]["status_txt"] == "in Ordnung nach Korrektur"
    text = pdf_text(render_pdf(m))
    assert "nach Korrektur" in text and "nicht abgestimmt" not in text
    # a correction that does not bring the difference to 0,00 € settles nothing
    half = _locked_day_corrected(frames).with_columns(
        pl.when(pl.col("kind") == "correction").then(pl.col("difference_cents") // 2)
        .otherwise(pl.col("difference_cents")).alias("difference_cents"))
    assert model_of(frames, dc=half)["n_problems"] == 1


def test_rejected_files_and_open_item_exports_are_listed(frames: dict) -> None:  # noqa: F811
    from outputs.report_html import render_html
    from outputs.report_pdf import render_pdf

    files = pl.DataFrame({
        "source_path": ["inbox/kaputt.sta", "inbox/op_2024-05-17.csv", "inbox/spk.sta", "inbox/alt.csv"],
        "status": ["rejected", "ok", "ok", "duplicate"], "kind": ["statement", "open_items", "statement", "open_items"],
        "reason": ["not a bank statement", None, None, "export already imported"], "n_rows": [0, 12345, 40, 0]})
    m = model_of(frames, files=files)
    assert [f["name"] for f in m["files"]][:2] == ["kaputt.sta", "op_2024-05-17.csv"]
    assert m["n_rejected_files"] == 1 and "1 Datei abgewiesen" in m["verdict"]
    text = pdf_text(render_pdf(m))
    assert "kaputt.sta" in text and "not a bank statement" in text and "12.345" in text
    assert "spk.sta" not in text                                   # accepted bank files are not listed
    html = render_html(m)
    assert "kaputt.sta" in html and "op_2024-05-17.csv" in html and "12.345" in html


def test_sums_do_not_wrap_in_the_pdf(frames: dict) -> None:  # noqa: F811
    from outputs.report_pdf import render_pdf

    m = model_of(frames)
    big = "-1.234.567.890,12 €"                                  # a city with billions on its accounts
    m["totals"] = {k: (big if k.endswith("cents_txt") else "1.234.567") for k in m["totals"]}
    lines = pdf_text(render_pdf(m)).splitlines()
    assert sum(line.count(big) for line in lines) == 8            # every sum whole on one line
    assert any("1.234.567" in line for line in lines)


def test_charts_age_structure_and_thirty_days_of_automation(frames: dict, tmp_path: Path) -> None:  # noqa: F811
    from datetime import date, timedelta

    from jobs.nightly.close import reported_automation
    from outputs.report_pdf import render_pdf

    reports = tmp_path / "musterstadt"
    for i in range(35):
        day = date(2024, 4, 1) + timedelta(days=i)
        (reports / day.isoformat()).mkdir(parents=True)
        pl.DataFrame({"n_incoming": [100 + i], "automation_rate_pct": [50.0 + i]}).write_parquet(
            reports / day.isoformat() / "key_figures_summary.parquet")
    (reports / "not-a-date").mkdir()
    history = reported_automation(reports, date(2024, 5, 17))
    assert history.height == 30 and history["booking_date"].max() == date(2024, 5, 5)
    m = model_of(frames, history=history)
    days = m["automation_history"]
    assert len(days) == 30 and days[-1]["date_txt"] == "17.05.2024"   # tonight's rate last
    assert days[0]["date_txt"] == "07.04.2024" and days[-2]["rate"] == 84.0
    plain = render_pdf(m, font=False, compress=False)
    assert b"Automatisierungsgrad der letzten 30 Buchungstage" in plain
    bars = plain.count(b" re f")
    assert bars >= 29 + 1                          # a bar per earlier day (all > 0 %) and the age band with money
    assert "Altersstruktur" in pdf_text(render_pdf(m))


def test_the_archive_copy_is_pdfa_and_the_same_bytes_each_time(out: Path, frames: dict) -> None:  # noqa: F811
    from outputs.report_pdf import find_font

    if find_font() is None:
        pytest.skip("no DejaVu Sans: the archive copy is not made (the day close says so in the manifest)")
    pdfa = (out / "day_close_pdfa.pdf").read_bytes()
    assert b'pdfaid:part="2"' in pdfa or b"<pdfaid:part>2</pdfaid:part>" in pdfa
    assert b'pdfaid:conformance="B"' in pdfa or b"<pdfaid:conformance>B</pdfaid:conformance>" in pdfa
    assert b"/OutputIntents" in pdfa and b"xmp:ModifyDate=\"2024-05-17T00:00:00" in pdfa
    assert pdf_text(pdfa) == pdf_text((out / "day_close.pdf").read_bytes())
    from test_outputs_files import write as again

    second = tmp_path_of(out) / "again"
    again(second, frames)
    assert (second / "day_close_pdfa.pdf").read_bytes() == pdfa


def tmp_path_of(out: Path) -> Path:
    return out.parent


# --- key figures for controlling ------------------------------------------------------------------------------

def test_key_figures_xlsx_one_sheet_per_view_with_german_headers(out: Path) -> None:
    z = zipfile.ZipFile(io.BytesIO((out / "key_figures.xlsx").read_bytes()))
    sheets = re.findall(r'<sheet name="([^"]+)"', z.read("xl/workbook.xml").decode())
    assert sheets == ["Übersicht", "Je Tag und Konto", "Altersstruktur", "Nach Zuordnungsregel", "Gelernte Regeln",
                      "Nach Klärungsgrund"]
    shared = z.read("xl/sharedStrings.xml").decode()
    for text in ("Automatisierungsgrad (%)", "Bestand am Stichtag", "Buchungstag", "Kassenzeichen genau",
                 "Überzahlung: Rest nach Zuordnung", "automatisch"):
        assert text in shared, text
    styles = z.read("xl/styles.xml").decode()
    assert "€" in styles and "#,##0" in styles                      # euros and counts with separators
    manifest = (out / "manifest.json").read_text(encoding="utf-8")
    assert "key_figures.xlsx" in manifest and "key_figures.csv" in manifest


def test_key_figures_csv_keeps_the_day_and_the_stock_apart(out: Path, frames: dict) -> None:  # noqa: F811
    from outputs.key_figures_files import overview

    back = pl.read_csv(out / "key_figures.csv", separator=";", encoding="utf8-lossy", infer_schema=False)
    assert back.columns[:5] == ["Bezug", "Kennzahl", "Anzahl", "Betrag", "Quote"]
    by = {(r["Bezug"], r["Kennzahl"]): r for r in back.to_dicts()}
    summary = frames["kf"]["summary"].row(0, named=True)
    day = by[("Buchungstag", "Summe der Einzahlungen")]
    assert day["Betrag"] == f"{summary['incoming_cents'] // 100},{summary['incoming_cents'] % 100:02d}"
    assert day["erster Buchungstag"] == "2024-05-16"
    stock = by[("Bestand am Stichtag", "offener Betrag aller ungeklärten Zahlungen")]
    assert stock["Betrag"] == "5192,89" and stock["erster Buchungstag"] is None   # the stock names no days
    assert by[("Bestand am Stichtag", "ungeklärte Zahlungen (Klärungsliste)")]["Anzahl"] == "3"
    rows = overview(frames["kf"]["summary"])
    assert set(rows["scope"]) == {"Buchungstag", "Bestand am Stichtag"}
