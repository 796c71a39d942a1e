"""Issue 19 §3 and §1: the reports people read, checked for what makes them readable (XLSX column widths in
the unit polars takes, day close texts, charts, key figures for controlling)."""

from __future__ import annotations

import io
import re
import zipfile
from pathlib import Path

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
