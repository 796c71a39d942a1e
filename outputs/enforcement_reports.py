"""The enforcement reports as files for the treasury, the auditors and the finance department (issue 17 §2, §5).

Takes an :class:`enforcement.reports.EnforcementReport` and writes, with the repo's manifest
(:func:`outputs.atomic.write_all`: SHA-256, rows and cent sums per file, all or nothing)::

    vollstreckungskennzahlen.parquet       the key figures as computed (FIGURE_SCHEMA), for further use
    vollstreckungskennzahlen.xlsx          the same for people: German labels, euros, the gpaNRW comparison
                                           values and where the year's value lies; a sheet with the sources
    verjaehrung_warnliste.xlsx / .csv      the claims whose limitation ends within the warning days, soonest first
    verjaehrung_warnliste.parquet
    forderungsbewertung.xlsx               by state, age class, claim type and method; the postings per method;
                                           every claim with its allowance
    forderungsbewertung.pdf                one summary page to sign (postings and the state × age class table)
    forderungsbewertung_posten.parquet     the claims with their allowance
    amtshilfe_kennzahlen.csv / .parquet    the foreign creditors' requests per year (also a sheet "Amtshilfe"
                                           of vollstreckungskennzahlen.xlsx): received, accepted, returned by
                                           reason, withdrawn, settled, uncollectible, collected, forwarded,
                                           cost contributions invoiced (amtshilfe.key_figures)

Money stays integer cents until the XLSX (a number in € format) or the CSV (decimal comma) is written.
"""

from __future__ import annotations

import io
from collections.abc import Mapping
from datetime import UTC, datetime, time
from pathlib import Path
from typing import Any

import polars as pl
from fpdf import FPDF
from fpdf.fonts import FontFace

from enforcement.key_figures import GPA_COMPARISON
from enforcement.reports import EnforcementReport
from outputs.amtshilfe_texts import AMTSHILFE_FIGURE_TEXT, ERSUCHEN_CHECK_TEXT
from outputs.atomic import PlannedFile, write_all
from outputs.enforcement_texts import ALLOWANCE_METHOD_TEXT, INTERRUPTION_TEXT, STANDING_TEXT
from outputs.excel_csv import Col, excel_csv_bytes, xlsx_bytes
from outputs.fmt import de_date, eur
from outputs.report_pdf import find_font, to_latin1

#: Figures whose numerator (and, second set, denominator) is an amount in cents; the others count claims.
MONEY_NUMERATOR = frozenset({"erfolgsquote_summe", "realisierte_nebenforderungen", "anteil_nebenforderungen",
                             "realisierte_nebenforderungen_je_vollzeit_stelle", "deckungsgrad",
                             "aufwendungen_je_abgewickelte"})
MONEY_DENOMINATOR = frozenset({"erfolgsquote_summe", "anteil_nebenforderungen", "deckungsgrad"})

FIGURE_COLS = (
    Col("label", "Kennzahl", width=58), Col("value", "Wert", "float"), Col("unit", "Einheit", width=20),
    Col("num_count", "Zähler (Anzahl)", "int"), Col("num_cents", "Zähler (EUR)", "cents"),
    Col("den_count", "Nenner (Anzahl)", "int"), Col("den_cents", "Nenner (EUR)", "cents"),
    Col("period_from", "Zeitraum von", "date"), Col("period_to", "Zeitraum bis", "date"),
    Col("compared_value", "Jahreswert (verglichen)", "float", width=12), Col("bench_min", "Minimum", "float"),
    Col("bench_q1", "1. Quartil", "float"), Col("bench_median", "Median", "float"),
    Col("bench_q3", "3. Quartil", "float"), Col("bench_max", "Maximum", "float"),
    Col("bench_mean", "Mittelwert", "float"), Col("bench_n", "Anzahl Kommunen", "int"),
    Col("quartile", "Quartil", "int"), Col("position", "Lage im Vergleich", width=40),
    Col("bench_source", "Quelle", width=44), Col("bench_year", "Vergleichsjahr", "int"),
)
BENCH_COLS = (Col("label", "Kennzahl", width=58), Col("year", "Jahr", "int"), Col("min", "Minimum", "float"),
              Col("q1", "1. Quartil", "float"), Col("median", "Median", "float"), Col("q3", "3. Quartil", "float"),
              Col("max", "Maximum", "float"), Col("mean", "Mittelwert", "float"), Col("n", "Anzahl Kommunen", "int"),
              Col("source", "Quelle", width=44))
AMTSHILFE_COLS = (Col("year_text", "Jahr", width=8), Col("label", "Kennzahl fremde Ersuchen", width=50),
                  Col("reason_text", "Grund der Rückgabe", width=84), Col("count", "Anzahl", "int"),
                  Col("amount_cents", "Betrag (EUR)", "cents"))
WARNING_COLS = (
    Col("kassenzeichen", "Kassenzeichen"), Col("receivable_id", "Sollstellungs-ID"),
    Col("debtor_id", "Schuldnernummer"), Col("debtor_name", "Schuldner", width=28),
    Col("claim_type", "Forderungsart"), Col("open_cents", "offener Betrag", "cents"),
    Col("due_date", "fällig seit", "date"), Col("last_interruption", "letzte Unterbrechung", "date", width=20),
    Col("interruption_text", "Art der Unterbrechung", width=44),
    Col("expires_on", "verjährt mit Ablauf", "date", width=19), Col("days_left", "Tage bis Verjährung", "int", width=19),
)
REPORT_COLS = (
    Col("standing_text", "Stand", width=30), Col("age_class", "Altersklasse", width=14),
    Col("claim_type", "Forderungsart"), Col("method_text", "Bewertung", width=40),
    Col("rate_percent", "Satz (%)", "float"), Col("n_claims", "Anzahl", "int"),
    Col("open_cents", "offener Betrag", "cents"), Col("allowance_cents", "Wertberichtigung", "cents"),
    Col("net_cents", "Wert nach Berichtigung", "cents", width=16),
)
POSTING_COLS = (
    Col("valuation_date", "Bewertungsstichtag", "date", width=14), Col("method_text", "Bewertung", width=44),
    Col("n_claims", "Anzahl", "int"), Col("open_cents", "offener Betrag", "cents"),
    Col("allowance_cents", "Wertberichtigung (Bestand zum Stichtag)", "cents", width=22),
)
ITEM_COLS = (
    Col("receivable_id", "Sollstellungs-ID"), Col("claim_type", "Forderungsart"),
    Col("due_date", "fällig seit", "date"), Col("age_days", "Alter (Tage)", "int"),
    Col("age_class", "Altersklasse", width=14), Col("standing_text", "Stand", width=30),
    Col("method_text", "Bewertung", width=40), Col("rate_percent", "Satz (%)", "float"),
    Col("open_cents", "offener Betrag", "cents"), Col("allowance_cents", "Wertberichtigung", "cents"),
    Col("net_cents", "Wert nach Berichtigung", "cents", width=16),
)


def _texts(df: pl.DataFrame) -> pl.DataFrame:
    """``standing`` / ``method`` / ``last_interruption_kind`` in words (an unknown code as it is)."""
    adds = []
    for code, table, name in (("standing", STANDING_TEXT, "standing_text"), ("method", ALLOWANCE_METHOD_TEXT, "method_text"),
                              ("last_interruption_kind", INTERRUPTION_TEXT, "interruption_text")):
        if code in df.columns:
            adds.append(pl.col(code).replace_strict({str(k): v for k, v in table.items()}, default=pl.col(code),
                                                    return_dtype=pl.String).alias(name))
    return df.with_columns(adds)


def figure_sheet(figures: pl.DataFrame) -> pl.DataFrame:
    """The key figures with numerator and denominator split into counts and cents (:data:`FIGURE_COLS`)."""
    money_n = pl.col("figure").is_in(list(MONEY_NUMERATOR))
    money_d = pl.col("figure").is_in(list(MONEY_DENOMINATOR))
    return figures.with_columns(
        pl.when(money_n).then(None).otherwise(pl.col("numerator")).alias("num_count"),
        pl.when(money_n).then(pl.col("numerator")).alias("num_cents"),
        pl.when(money_d).then(None).otherwise(pl.col("denominator")).alias("den_count"),
        pl.when(money_d).then(pl.col("denominator")).alias("den_cents"),
        pl.col("value").round(2), pl.col("compared_value").round(2))


def _cents_sums(df: pl.DataFrame, cols: tuple[Col, ...]) -> dict[str, int]:
    return {c.source: int(df[c.source].fill_null(0).sum()) for c in cols if c.kind == "cents"}


def _parquet(df: pl.DataFrame) -> bytes:
    buf = io.BytesIO()
    df.write_parquet(buf)
    return buf.getvalue()


def _comparison() -> pl.DataFrame:
    return pl.DataFrame([{"label": b.label, "year": b.year, "source": b.source, "n": b.n, "min": b.minimum,
                          "q1": b.q1, "median": b.median, "q3": b.q3, "max": b.maximum, "mean": b.mean}
                         for b in GPA_COMPARISON])


class _Pdf(FPDF):
    footer_text = ""

    def footer(self) -> None:
        self.set_y(-10)
        self.set_font(size=7)
        self.cell(0, 5, self.footer_text + f"   Seite {self.page_no()}/{{nb}}", align="C")


def valuation_pdf(rep: EnforcementReport, *, tenant: str) -> bytes:
    """One A4 landscape page: the postings per method and the open claims by state and age class, with
    lines for who prepared and who checked it (fpdf2; DejaVu Sans where the machine has it)."""
    font = find_font()
    pdf = _Pdf(orientation="L", unit="mm", format="A4")
    pdf.set_margins(12, 12, 12)
    if font is not None:
        pdf.add_font("dejavu", "", font)
        pdf.add_font("dejavu", "B", font.with_name("DejaVuSans-Bold.ttf"))
        family = "dejavu"
    else:
        family = "helvetica"

    def t(text: object) -> str:
        return str(text) if font is not None else to_latin1(str(text))

    day = de_date(rep.as_of)
    pdf.footer_text = t(f"Forderungsbewertung zum {day} · {tenant} · Stadtkasse")
    pdf.set_title(t(f"Forderungsbewertung {tenant} {day}"))
    pdf.set_author("Stadtkasse")
    pdf.set_creation_date(datetime.combine(rep.as_of, time(), tzinfo=UTC))
    pdf.add_page()
    pdf.set_font(family, "B", 14)
    pdf.cell(0, 8, t(f"Forderungsbewertung zum {day} – {tenant}"), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(family, "", 8)
    pdf.multi_cell(0, 4, t(
        "Offene Forderungen zum Stichtag, bewertet nach [enforcement] der Mandantenkonfiguration: "
        "Einzelwertberichtigung für uneinbringliche oder niedergeschlagene Forderungen, Pauschalwertberichtigung "
        "nach Altersklasse (Tage seit Fälligkeit), verjährte Forderungen (§ 47 AO) werden abgeschrieben. Die "
        "Wertberichtigung ist der Bestand zum Stichtag; zu buchen ist der Unterschied zum Vorjahresbestand. "
        "Einzelposten: forderungsbewertung.xlsx."), new_x="LMARGIN", new_y="NEXT")
    pdf.ln(2)
    head = FontFace(emphasis="BOLD", fill_color=(225, 225, 225))

    def table(header: list[str], rows: list[list[str]], widths: tuple[int, ...], total: list[str]) -> None:
        pdf.set_font(family, "", 8)
        align = ("LEFT",) + ("RIGHT",) * (len(header) - 1)
        with pdf.table(col_widths=widths, text_align=align, headings_style=head, line_height=5,
                       width=sum(widths), align="LEFT") as tab:
            for r in [header, *rows]:
                tab.row([t(c) for c in r])
            tab.row([t(c) for c in total], style=FontFace(emphasis="BOLD"))
        pdf.ln(3)

    post = _texts(rep.valuation.postings)
    pdf.set_font(family, "B", 10)
    pdf.cell(0, 6, t("Wertberichtigungen je Verfahren (zu buchen)"), new_x="LMARGIN", new_y="NEXT")
    rows = [[r["method_text"], str(r["n_claims"]), eur(r["open_cents"]), eur(r["allowance_cents"])]
            for r in post.iter_rows(named=True)]
    table(["Bewertung", "Anzahl", "offener Betrag", "Wertberichtigung"], rows, (110, 25, 45, 45),
          ["Summe", str(int(post["n_claims"].sum())), eur(int(post["open_cents"].sum())),
           eur(int(post["allowance_cents"].sum()))])

    by = (_texts(rep.valuation.report).group_by("standing_text", "age_class", maintain_order=True)
          .agg(pl.col("n_claims").sum(), pl.col("open_cents").sum(), pl.col("allowance_cents").sum(),
               pl.col("net_cents").sum()))
    pdf.set_font(family, "B", 10)
    pdf.cell(0, 6, t("Offene Forderungen nach Stand und Altersklasse"), new_x="LMARGIN", new_y="NEXT")
    rows = [[f"{r['standing_text']} · {r['age_class']}", str(r["n_claims"]), eur(r["open_cents"]),
             eur(r["allowance_cents"]), eur(r["net_cents"])] for r in by.iter_rows(named=True)]
    table(["Stand · Altersklasse", "Anzahl", "offener Betrag", "Wertberichtigung", "Wert nach Berichtigung"], rows,
          (110, 25, 45, 45, 45), ["Summe", str(int(by["n_claims"].sum())), eur(int(by["open_cents"].sum())),
                                  eur(int(by["allowance_cents"].sum())), eur(int(by["net_cents"].sum()))])
    pdf.set_font(family, "", 9)
    pdf.ln(6)
    pdf.cell(130, 6, t("Aufgestellt: ____________________  Datum: __________"))
    pdf.cell(0, 6, t("Geprüft: ____________________  Datum: __________"), new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())


def amtshilfe_sheet(figures: pl.DataFrame) -> pl.DataFrame:
    """The Amtshilfe figures with their German labels and reasons."""
    def texts(col: str, table: dict[str, str]) -> pl.Expr:   # (an unknown code shown as it is)
        return pl.col(col).replace_strict(table, default=pl.col(col), return_dtype=pl.String)

    return figures.with_columns(pl.col("year").cast(pl.String).alias("year_text"),   # (no thousands separator)
                                texts("figure", AMTSHILFE_FIGURE_TEXT).alias("label"),
                                texts("reason", ERSUCHEN_CHECK_TEXT).alias("reason_text"))


def report_files(rep: EnforcementReport, *, tenant: str) -> list[PlannedFile]:
    """Every file of the module docstring, rendered in memory."""
    figs = figure_sheet(rep.figures)
    ah = amtshilfe_sheet(rep.amtshilfe)
    warn = _texts(rep.warnings)
    val = rep.valuation
    items, by, post = _texts(val.items), _texts(val.report), _texts(val.postings)
    made = rep.as_of
    return [
        PlannedFile("vollstreckungskennzahlen.parquet", _parquet(rep.figures), rep.figures.height),
        PlannedFile("vollstreckungskennzahlen.xlsx", xlsx_bytes(
            [("Kennzahlen", figs, FIGURE_COLS), ("Vergleichswerte gpaNRW", _comparison(), BENCH_COLS),
             ("Amtshilfe", ah, AMTSHILFE_COLS)],
            created=made, title="Vollstreckungskennzahlen"), figs.height),
        PlannedFile("amtshilfe_kennzahlen.csv", excel_csv_bytes(ah, AMTSHILFE_COLS), ah.height,
                    _cents_sums(ah, AMTSHILFE_COLS)),
        PlannedFile("amtshilfe_kennzahlen.parquet", _parquet(rep.amtshilfe), ah.height),
        PlannedFile("verjaehrung_warnliste.xlsx", xlsx_bytes([("Warnliste", warn, WARNING_COLS)], created=made,
                                                             title="Verjährung: Warnliste"),
                    warn.height, _cents_sums(warn, WARNING_COLS)),
        PlannedFile("verjaehrung_warnliste.csv", excel_csv_bytes(warn, WARNING_COLS), warn.height,
                    _cents_sums(warn, WARNING_COLS)),
        PlannedFile("verjaehrung_warnliste.parquet", _parquet(rep.warnings), warn.height),
        PlannedFile("forderungsbewertung.xlsx", xlsx_bytes(
            [("Buchungen", post, POSTING_COLS), ("Bewertung", by, REPORT_COLS), ("Einzelposten", items, ITEM_COLS)],
            created=made, title="Forderungsbewertung"), items.height, _cents_sums(post, POSTING_COLS)),
        PlannedFile("forderungsbewertung.pdf", valuation_pdf(rep, tenant=tenant)),
        PlannedFile("forderungsbewertung_posten.parquet", _parquet(val.items), val.items.height,
                    _cents_sums(val.items, ITEM_COLS)),
    ]


def write_enforcement_reports(out_dir: Path, rep: EnforcementReport, meta: Mapping[str, Any]) -> dict[str, Path]:
    """Write the files into ``out_dir`` with a manifest (atomically); return name -> path."""
    tenant = str(meta.get("tenant", ""))
    return write_all(out_dir, report_files(rep, tenant=tenant), {
        **meta, "as_of": rep.as_of.isoformat(), "since": rep.since.isoformat(),
        "n_warnings": rep.warnings.height, "n_expired": rep.n_expired})


__all__ = ["AMTSHILFE_COLS", "FIGURE_COLS", "ITEM_COLS", "POSTING_COLS", "REPORT_COLS", "WARNING_COLS", "amtshilfe_sheet", "figure_sheet",
           "report_files", "valuation_pdf", "write_enforcement_reports"]
