"""The filtered Klärungsliste as a file (CSV or XLSX with German headers), exactly the rows the list shows
for the same filters, in the same order, on all pages.

The files are written by :mod:`outputs.excel_csv` (what the nightly Klärungsliste uses), so amounts are
numbers for German Excel and payer texts can never become formulas.
"""

from __future__ import annotations

from datetime import date

import polars as pl

from outputs.excel_csv import Col, excel_csv_bytes, xlsx_bytes
from outputs.klaerungsliste import ALL_REASON_TEXT
from review.labels import ITEM_STATE_TEXT

COLUMNS = (
    Col("booking_date", "Buchungstag", "date"),
    Col("age_days", "Alter (Tage)", "int"),
    Col("account_iban", "Konto", "text", 24),
    Col("amount_cents", "Betrag", "cents"),
    Col("unallocated_cents", "offen", "cents"),
    Col("counterparty_name", "Zahler", "text", 28),
    Col("counterparty_iban", "IBAN des Zahlers", "text", 24),
    Col("remittance", "Verwendungszweck", "text", 50),
    Col("reason_text", "Grund", "text", 40),
    Col("state_text", "Stand", "text", 14),
    Col("decision_text", "Entscheidung", "text", 22),
    Col("transaction_id", "Transaktion", "text", 24),
)


def export_frame(matched: pl.DataFrame, decided: dict[str, str]) -> pl.DataFrame:
    """The rows with German texts for the codes (``decided``: transaction_id -> German decision state)."""
    return matched.with_columns(
        pl.col("reason").replace_strict(ALL_REASON_TEXT, default=pl.col("reason"), return_dtype=pl.String())
        .alias("reason_text"),
        pl.col("state").replace_strict(ITEM_STATE_TEXT, default=pl.col("state"), return_dtype=pl.String())
        .alias("state_text"),
        pl.col("transaction_id").replace_strict(decided, default=None, return_dtype=pl.String())
        .alias("decision_text"),
    )


def list_csv(matched: pl.DataFrame, decided: dict[str, str]) -> bytes:
    """CSV for German Excel (UTF-8 with BOM, ``;``, decimal comma)."""
    return excel_csv_bytes(export_frame(matched, decided), COLUMNS)


def list_xlsx(matched: pl.DataFrame, decided: dict[str, str], as_of: date) -> bytes:
    """An XLSX workbook with one sheet ``Klärungsliste``."""
    return xlsx_bytes([("Klärungsliste", export_frame(matched, decided), COLUMNS)], created=as_of)
