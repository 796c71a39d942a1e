"""The key figures for controlling as files people open: ``key_figures.xlsx`` (one sheet per view, German
headers, amounts as € numbers) and ``key_figures.csv`` (the overview for German Excel).

The Parquet files beside them keep the code names and cents for machines. The overview ("Übersicht") turns
the one-row summary into one row per figure and says what each refers to, because the summary mixes two
kinds: figures of **this booking day** (payments booked that day, how many went through automatically) and
the **stock on the as-of day** (every payment still unresolved, whenever it was booked). A reader must never
add the stock up over days as if it were a day's figure.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

import polars as pl

from claims.vocab import Rule
from outputs.excel_csv import Col, excel_csv_bytes, xlsx_bytes
from outputs.klaerungsliste import ALL_REASON_TEXT

DAY = "Buchungstag"
STOCK = "Bestand am Stichtag"

#: (summary column, German label, kind, what it refers to); kind: count | cents | pct | per10000
OVERVIEW: tuple[tuple[str, str, str, str], ...] = (
    ("n_incoming", "Einzahlungen", "count", DAY),
    ("incoming_cents", "Summe der Einzahlungen", "cents", DAY),
    ("n_outgoing", "Auszahlungen", "count", DAY),
    ("outgoing_cents", "Summe der Auszahlungen", "cents", DAY),
    ("n_auto", "automatisch gebuchte Einzahlungen", "count", DAY),
    ("auto_cents", "Summe der automatisch gebuchten Einzahlungen", "cents", DAY),
    ("automation_rate_pct", "Automatisierungsgrad (%)", "pct", DAY),
    ("n_unresolved_payments", "davon ungeklärt geblieben", "count", DAY),
    ("unresolved_per_10000", "Ungeklärte je 10.000 Einzahlungen", "per10000", DAY),
    ("unresolved_cents", "offener Betrag aller ungeklärten Zahlungen", "cents", STOCK),
)

#: German names of the allocation rules (docs/GLOSSARY.md, "Zuordnungsregel").
RULE_TEXT: dict[str, str] = {
    Rule.REFERENCE_EXACT: "Kassenzeichen genau", Rule.REFERENCE_WINDOW: "Kassenzeichen im Datumsfenster",
    Rule.REFERENCE_LETTERS: "Kassenzeichen, Buchstaben statt Ziffern", Rule.REFERENCE_TYPO: "Kassenzeichen nach Tippfehler",
    Rule.IBAN_AMOUNT: "IBAN und Betrag", Rule.ORDER_AO225: "Tilgungsreihenfolge § 225 AO",
    Rule.ORDER_BGB367: "Tilgungsreihenfolge § 367 BGB", Rule.ORDER_MIXED: "Tilgungsreihenfolge (gemischt)",
    Rule.PAYER_DESIGNATION: "Tilgungsbestimmung des Zahlers", Rule.DD_RETURN: "Storno durch Rücklastschrift",
    Rule.DIRECT_DEBIT: "Anteil an eigener Lastschrift", Rule.CLERK: "Sachbearbeitung",
    Rule.LEARNED_RULE: "gelernte Regel", Rule.SET_OFF: "Verrechnung mit Erstattung",
}

OVERVIEW_COLS = (Col("scope", "Bezug", width=20), Col("label", "Kennzahl", width=46), Col("count", "Anzahl", "int"),
                 Col("cents", "Betrag", "cents"), Col("rate", "Quote", "float"),
                 Col("first_booking_date", "erster Buchungstag", "date"),
                 Col("last_booking_date", "letzter Buchungstag", "date"), Col("as_of", "Stichtag", "date"))
PER_DAY_COLS = (Col("booking_date", "Buchungstag", "date"), Col("account_iban", "Konto", width=24),
                Col("n_incoming", "Einzahlungen", "int"), Col("incoming_cents", "Summe Einzahlungen", "cents"),
                Col("n_outgoing", "Auszahlungen", "int"), Col("outgoing_cents", "Summe Auszahlungen", "cents"),
                Col("n_auto", "automatisch gebucht", "int"), Col("n_unresolved_payments", "ungeklärt", "int"))
AGE_COLS = (Col("age_band", "Alter (Tage)"), Col("n_items", "Anzahl", "int"),
            Col("unallocated_cents", "offener Betrag", "cents"))
RULE_COLS = (Col("rule_txt", "Zuordnungsregel", width=34), Col("decided_txt", "entschieden", width=16),
             Col("rule", "Regel-Code", width=20), Col("n_allocations", "Zuordnungen", "int"),
             Col("amount_cents", "Betrag", "cents"))
LEARNED_COLS = (Col("rule_id", "gelernte Regel (ID)", width=30), Col("n_allocations", "Zuordnungen", "int"),
                Col("amount_cents", "Betrag", "cents"))
REASON_COLS = (Col("reason_txt", "Klärungsgrund", width=56), Col("reason", "Grund-Code", width=26),
               Col("n_items", "Anzahl", "int"), Col("unallocated_cents", "offener Betrag", "cents"))


def overview(summary: pl.DataFrame, age: pl.DataFrame | None = None) -> pl.DataFrame:
    """One row per figure of the (one-tenant) summary: Bezug, Kennzahl and the value in the fitting column.
    The stock rows name no booking days (they cover every day up to the as-of day); ``age`` (the age
    structure) adds the number of unresolved payments in stock."""
    rows = []
    stock_n = None if age is None or age.height == 0 else int(age["n_items"].sum())
    for r in summary.iter_rows(named=True):          # one row per tenant
        figures = [(r[col], label, kind, scope) for col, label, kind, scope in OVERVIEW]
        if stock_n is not None:
            figures.insert(-1, (stock_n, "ungeklärte Zahlungen (Klärungsliste)", "count", STOCK))
        for value, label, kind, scope in figures:
            day = scope == DAY
            rows.append({"scope": scope, "label": label,
                         "count": value if kind == "count" else None,
                         "cents": value if kind == "cents" else None,
                         "rate": None if kind not in ("pct", "per10000") or value is None else round(float(value), 2),
                         "first_booking_date": r["first_booking_date"] if day else None,
                         "last_booking_date": r["last_booking_date"] if day else None,
                         "as_of": r["as_of"]})
    return pl.DataFrame(rows, schema={"scope": pl.String(), "label": pl.String(), "count": pl.Int64(),
                                      "cents": pl.Int64(), "rate": pl.Float64(), "first_booking_date": pl.Date(),
                                      "last_booking_date": pl.Date(), "as_of": pl.Date()})


def _labelled(kf: dict[str, pl.DataFrame]) -> list[tuple[str, pl.DataFrame, Sequence[Col]]]:
    by_rule = kf["by_rule"].with_columns(
        pl.col("rule").replace_strict(RULE_TEXT, default=pl.col("rule"), return_dtype=pl.String()).alias("rule_txt"),
        pl.when(pl.col("decided_by") == "auto").then(pl.lit("automatisch")).otherwise(pl.lit("Sachbearbeitung"))
        .alias("decided_txt"))
    by_reason = kf["by_reason"].with_columns(
        pl.col("reason").replace_strict(ALL_REASON_TEXT, default=pl.col("reason"), return_dtype=pl.String())
        .alias("reason_txt"))
    sheets: list[tuple[str, pl.DataFrame, Sequence[Col]]] = [
        ("Übersicht", overview(kf["summary"], kf.get("age_structure")), OVERVIEW_COLS),
        ("Je Tag und Konto", kf["per_day_account"], PER_DAY_COLS),
        ("Altersstruktur", kf["age_structure"].sort("band_order"), AGE_COLS),
        ("Nach Zuordnungsregel", by_rule, RULE_COLS),
    ]
    if "by_learned_rule" in kf:
        sheets.append(("Gelernte Regeln", kf["by_learned_rule"], LEARNED_COLS))
    sheets.append(("Nach Klärungsgrund", by_reason, REASON_COLS))
    return sheets


def key_figures_xlsx(kf: dict[str, pl.DataFrame], *, created: date) -> bytes:
    """``key_figures.xlsx``: one sheet per view with German headers, amounts as € numbers."""
    return xlsx_bytes(_labelled(kf), created=created, title="Kennzahlen Zahlungsverkehr")


def key_figures_csv(kf: dict[str, pl.DataFrame]) -> bytes:
    """``key_figures.csv``: the overview (Bezug, Kennzahl, value) for German Excel."""
    return excel_csv_bytes(overview(kf["summary"], kf.get("age_structure")), OVERVIEW_COLS)
