"""The hand-off as a CSV for people (the enforcement office's clerks, the auditors): one row per claim with
its case and debtor, in the repo's Excel CSV (``outputs.excel_csv``: UTF-8 with BOM, ``;``, decimal comma,
ISO dates, formulas neutralised).

The machine file (``enforcement.handoff_file``) is what the enforcement software imports; this CSV says the
same for a person with Excel and is never read back. The input frames are the hand-off writer's
(``cases``, ``claims``; columns in ``enforcement.handoff_file``).
"""

from __future__ import annotations

import polars as pl

from enforcement.handoff_file import CASE_COLUMNS, CASE_OPTIONAL, CLAIM_COLUMNS, CLAIM_OPTIONAL
from outputs.dunning_letters import CLAIM_WORDS
from outputs.excel_csv import Col, excel_csv_bytes

#: The CSV's columns, in this order (source column, German header, kind).
HANDOFF_CSV_COLUMNS: tuple[Col, ...] = (
    Col("case_number", "Fallnummer"), Col("debtor_id", "Schuldner-Nr."), Col("debtor_name", "Name"),
    Col("debtor_birth_date", "Geburtsdatum", "date"), Col("debtor_street", "Straße"),
    Col("debtor_postcode", "PLZ"), Col("debtor_city", "Ort"), Col("debtor_country", "Land"),
    Col("kassenzeichen", "Kassenzeichen"), Col("claim_words", "Forderungsart"),
    Col("main_kassenzeichen", "Nebenforderung zu"), Col("notice_reference", "Bescheid"),
    Col("notice_date", "Bescheid vom", "date"), Col("due_date", "fällig am", "date"),
    Col("mahnung_date", "gemahnt am", "date"), Col("mahnung_deadline", "Mahnfrist bis", "date"),
    Col("mahnung_omitted", "Mahnung entbehrlich"), Col("enforceable_since", "vollstreckbar seit", "date"),
    Col("principal_cents", "Hauptforderung", "cents"), Col("surcharges_cents", "Säumniszuschläge", "cents"),
    Col("fees_cents", "Gebühren", "cents"), Col("total_cents", "Summe", "cents"),
)


def claim_words(col: str = "claim_type") -> pl.Expr:
    """A claim type in words (``GRUNDSTEUER`` -> ``Grundsteuer``); an unknown code as it is."""
    return pl.col(col).replace_strict(CLAIM_WORDS, default=pl.col(col), return_dtype=pl.String).alias("claim_words")


def handoff_rows(cases: pl.DataFrame, claims: pl.DataFrame) -> pl.DataFrame:
    """One row per claim, its case's debtor beside it, in the cases' order and the claims' order."""
    case_cols = [c for c in (*CASE_COLUMNS, *CASE_OPTIONAL) if c in cases.columns]
    claim_cols = [c for c in (*CLAIM_COLUMNS, *CLAIM_OPTIONAL) if c in claims.columns and c != "statement"]
    joined = cases.select(case_cols).with_row_index("_case").join(
        claims.select(claim_cols).with_row_index("_claim"), on="case_number", how="inner")
    for c in (*CASE_OPTIONAL, *CLAIM_OPTIONAL):
        if c not in joined.columns:
            joined = joined.with_columns(pl.lit(None, (CASE_OPTIONAL | CLAIM_OPTIONAL)[c]).alias(c))
    return joined.sort("_case", "_claim").with_columns(
        claim_words(), pl.col("debtor_country").fill_null("DE"),
        pl.sum_horizontal("principal_cents", "surcharges_cents", "fees_cents").alias("total_cents"),
    ).drop("_case", "_claim")


def handoff_csv_bytes(cases: pl.DataFrame, claims: pl.DataFrame) -> tuple[bytes, int]:
    """The CSV's bytes and its number of data rows (claims)."""
    rows = handoff_rows(cases, claims)
    return excel_csv_bytes(rows, HANDOFF_CSV_COLUMNS), rows.height
