"""Files for German Excel: CSV (UTF-8 with BOM, ``;``, decimal comma) and XLSX (xlsxwriter).

Columns are described by :class:`Col` (source column, German header, kind). Text is attacker-controlled
(payer names, remittance): in the CSV a cell starting with ``= + - @``, tab or CR gets a leading
apostrophe so Excel shows it as text instead of running it as a formula; in the XLSX every text cell is
written as a string (``strings_to_formulas`` off), so nothing there is ever a formula. Amounts stay
integer cents until this module turns them into ``1234,56`` (CSV) or a number with a € format (XLSX).
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time
from typing import Any, Literal

import polars as pl
import xlsxwriter

from outputs.fmt import cents_plain_expr

Kind = Literal["text", "cents", "date", "int", "bool", "float"]

#: Leading characters Excel (and LibreOffice) would treat as the start of a formula.
FORMULA_START = r"^[=+\-@\t\r]"

_DEFAULT_WIDTH = {"text": 18, "cents": 16, "date": 11, "int": 9, "bool": 8, "float": 10}
#: room for the autofilter's drop-down button beside a header, in characters
_FILTER_BUTTON = 3
EUR_FORMAT = '#,##0.00 "€";-#,##0.00 "€"'
DATE_FORMAT = "dd.mm.yyyy"
COUNT_FORMAT = "#,##0"                  # thousands separator as the reader's Excel shows it (1.234 in German)
FLOAT_FORMAT = "#,##0.00"


@dataclass(frozen=True)
class Col:
    """One exported column: where it comes from, its German header, and how to write it."""

    source: str
    header: str
    kind: Kind = "text"
    width: int = 0                                  # XLSX column width in characters (0: from the kind)
                                                    # (turned into pixels for polars by width_pixels)


def neutralise_expr(col: str) -> pl.Expr:
    """Text with a leading apostrophe where Excel would otherwise see a formula (``=SUM(…)`` -> ``'=SUM(…)``)."""
    c = pl.col(col)
    return pl.when(c.str.contains(FORMULA_START)).then(pl.concat_str([pl.lit("'"), c])).otherwise(c)


def _csv_expr(col: Col) -> pl.Expr:
    c = pl.col(col.source)
    if col.kind == "cents":
        e = cents_plain_expr(col.source)
    elif col.kind == "text":
        e = neutralise_expr(col.source)
    elif col.kind == "date":
        e = c.dt.to_string("%Y-%m-%d")
    elif col.kind == "bool":
        e = pl.when(c).then(pl.lit("ja")).when(~c).then(pl.lit("nein")).otherwise(pl.lit(None, pl.String()))
    elif col.kind == "float":
        e = c.round(2).cast(pl.String()).str.replace(".", ",", literal=True)
    else:
        e = c.cast(pl.String())
    return e.alias(col.header)


def excel_csv_bytes(df: pl.DataFrame, cols: Sequence[Col]) -> bytes:
    """``df`` as CSV for German Excel: UTF-8 BOM, ``;``, decimal comma, ISO dates, formulas neutralised."""
    out = df.select([_csv_expr(c) for c in cols])
    buf = io.BytesIO()
    out.write_csv(buf, separator=";", include_bom=True, line_terminator="\r\n", quote_style="necessary")
    return buf.getvalue()


def width_chars(col: Col) -> int:
    """The column's width in characters: its own or its kind's, never narrower than its header (and the
    autofilter button beside it)."""
    return max(col.width or _DEFAULT_WIDTH[col.kind], len(col.header) + _FILTER_BUTTON)


def width_pixels(chars: int) -> int:
    """Excel's pixel width for a width in characters of the default font (Calibri 11: 7 px per digit plus
    5 px padding, as xlsxwriter converts). polars' ``write_excel(column_widths=…)`` takes pixels."""
    return int(chars * 7 + 0.5) + 5


def _print_setup(ws: Any) -> None:
    """Printed, a list reads across: A4 landscape, every column on one page's width, the header row on every
    page, page numbers below."""
    ws.set_landscape()
    ws.set_paper(9)
    ws.fit_to_pages(1, 0)
    ws.repeat_rows(0)
    ws.set_footer("&L&A&RSeite &P von &N")


def _xlsx_frame(df: pl.DataFrame, cols: Sequence[Col]) -> pl.DataFrame:
    exprs = []
    for col in cols:
        c = pl.col(col.source)
        if col.kind == "cents":  # the very edge: cents become a number of euros for Excel's double cells
            e = (c.cast(pl.Float64()) / 100.0)
        elif col.kind == "bool":
            e = pl.when(c).then(pl.lit("ja")).when(~c).then(pl.lit("nein")).otherwise(pl.lit(None, pl.String()))
        else:
            e = c
        exprs.append(e.alias(col.header))
    return df.select(exprs)


def xlsx_bytes(sheets: Sequence[tuple[str, pl.DataFrame, Sequence[Col]]], *, created: date,
               title: str = "Klärungsliste") -> bytes:
    """An XLSX workbook with one table per sheet; amounts as numbers in € format, dates as dates.

    ``created`` is written as the document's creation time so the same input gives the same bytes;
    ``title`` is the document's title property.
    """
    buf = io.BytesIO()
    wb = xlsxwriter.Workbook(buf, {"in_memory": True, "strings_to_formulas": False,
                                   "strings_to_urls": False, "strings_to_numbers": False})
    wb.set_properties({"title": title, "created": datetime.combine(created, time())})
    for name, df, cols in sheets:
        frame = _xlsx_frame(df, cols)
        formats = {c.header: EUR_FORMAT for c in cols if c.kind == "cents"}
        formats |= {c.header: DATE_FORMAT for c in cols if c.kind == "date"}
        formats |= {c.header: COUNT_FORMAT for c in cols if c.kind == "int"}
        formats |= {c.header: FLOAT_FORMAT for c in cols if c.kind == "float"}
        if frame.is_empty():
            ws = wb.add_worksheet(name)
            ws.write_row(0, 0, frame.columns)
            ws.write_string(1, 0, "keine Einträge")
            for i, c in enumerate(cols):
                ws.set_column_pixels(i, i, width_pixels(width_chars(c)))
            _print_setup(ws)
            continue
        # fixed widths: autofit would cost another pass over every cell; polars wants pixels, not characters
        widths: dict[Any, Any] = {c.header: width_pixels(width_chars(c)) for c in cols}
        fmts: dict[Any, Any] = formats
        frame.write_excel(workbook=wb, worksheet=name, column_formats=fmts, column_widths=widths,
                          freeze_panes=(1, 0), table_style="Table Style Light 9")
        _print_setup(wb.get_worksheet_by_name(name))
    wb.close()
    return buf.getvalue()
