"""Write the night's reports for one tenant and booking day: plan every file, then write them atomically.

Files (all in ``out_dir``, listed with rows, money sums and SHA-256 in ``manifest.json``):

=============================  ==============================================================
``day_close.html``             day close + corrections + Klärungsliste + key figures (people)
``day_close.pdf``              the same day close to sign (Kassenleiter/in, zweite Unterschrift)
``day_close_pdfa.pdf``         the same PDF as PDF/A-2B archive copy (only where DejaVu Sans is found)
``day_close.csv``              German Excel CSV of the day-close rows
``day_close.parquet``          DAY_CLOSE_SCHEMA rows (machines, controlling)
``klaerungsliste.csv``         German Excel CSV (BOM, ``;``, decimal comma, formulas neutralised)
``klaerungsliste.xlsx``        one sheet per section, amounts as numbers in € format
``klaerungsliste.parquet``     KLAERUNG_SCHEMA rows
``key_figures_<name>.parquet`` one file per key-figure frame (summary, per_day_account, …)
``key_figures.xlsx``           the same for people: one sheet per view, German headers, amounts in €
``key_figures.csv``            the overview (day figures and the stock apart) for German Excel
=============================  ==============================================================
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import polars as pl

from outputs.atomic import MANIFEST, PlannedFile, write_all
from outputs.day_close import DAY_CLOSE_SCHEMA, check_totals, day_close
from outputs.excel_csv import Col, excel_csv_bytes, xlsx_bytes
from outputs.key_figures import key_figures
from outputs.key_figures_files import key_figures_csv, key_figures_xlsx
from outputs.klaerungsliste import KLAERUNG_SCHEMA, klaerungsliste
from outputs.report_html import render_html
from outputs.report_model import SECTION_TEXT, build_model

#: The day close's PDF/A archive copy (written beside ``day_close.pdf`` when a font can be embedded).
ARCHIVE_PDF = "day_close_pdfa.pdf"

#: Day-close CSV columns (German headers).
DAY_CLOSE_COLS = [
    Col("kind", "Art"), Col("tenant", "Mandant"), Col("account_iban", "Konto"), Col("currency", "Währung"),
    Col("booking_date", "Buchungstag", "date"), Col("corrected_date", "korrigierter Tag", "date"),
    Col("statement_nos", "Auszug Nr."), Col("opening_cents", "Anfangssaldo Bank", "cents"),
    Col("credits_cents", "Eingänge", "cents"), Col("debits_cents", "Ausgänge", "cents"),
    Col("closing_cents", "Endsaldo Bank", "cents"), Col("book_opening_cents", "Buchbestand Anfang", "cents"),
    Col("booked_cents", "Buchungen netto", "cents"), Col("book_closing_cents", "Buchbestand Ende", "cents"),
    Col("difference_cents", "Differenz", "cents"), Col("missing_statements", "Fehlende Auszüge"),
    Col("n_transactions", "Buchungen", "int"), Col("n_unresolved", "Ungeklärt Anzahl", "int"),
    Col("unresolved_cents", "Ungeklärt Betrag", "cents"), Col("status", "Status"), Col("note", "Hinweis"),
]

#: Klärungsliste CSV/XLSX columns (German headers).
KLAERUNG_COLS = [
    Col("section_txt", "Bereich", width=12), Col("age_days", "Alter (Tage)", "int"),
    Col("booking_date", "Buchungstag", "date"), Col("value_date", "Valuta", "date"),
    Col("amount_cents", "Betrag", "cents"), Col("unallocated_cents", "offen", "cents"),
    Col("currency", "Währung"), Col("counterparty_name", "Zahler", width=28), Col("counterparty_iban", "IBAN", width=24),
    Col("iban_valid", "IBAN gültig", "bool"), Col("remittance", "Verwendungszweck", width=48),
    Col("reason_text", "Grund", width=56), Col("reason", "Grund-Code"), Col("candidates_text", "Vorschläge", width=50),
    Col("account_iban", "Konto", width=24), Col("bank_ref", "Bankreferenz"), Col("end_to_end_id", "End-to-End-ID"),
    Col("transaction_id", "Transaktions-ID"),
]


@dataclass(frozen=True)
class ReportPaths:
    """Where :func:`write_reports` put each file (``files`` maps file name -> path, manifest included)."""

    out_dir: Path
    manifest: Path
    day_close_html: Path
    day_close_pdf: Path
    day_close_csv: Path
    day_close_parquet: Path
    klaerungsliste_csv: Path
    klaerungsliste_xlsx: Path
    klaerungsliste_parquet: Path
    key_figures: dict[str, Path]
    files: dict[str, Path]
    key_figures_xlsx: Path | None = None   # the key figures for people (absent without a summary)


# the PDF writer is imported when a PDF is made: fpdf takes about 0.2 s to import, and the commands that
# only need a part of this package (``kasse match`` writes its files with ``outputs.atomic``) should not wait
def _pdf(model: dict[str, Any]) -> bytes:
    from outputs.report_pdf import render_pdf

    return render_pdf(model)


def _archive_pdf(model: dict[str, Any]) -> list[PlannedFile]:
    """The PDF/A-2B archive copy of the day close, where the machine has the font to embed (else none)."""
    from outputs.report_pdf import ArchiveUnavailable, render_pdf

    try:
        return [PlannedFile(ARCHIVE_PDF, render_pdf(model, archive=True), None, {})]
    except ArchiveUnavailable:
        return []


def _font_found() -> bool:
    from outputs.report_pdf import find_font

    return find_font() is not None


def _parquet(df: pl.DataFrame) -> bytes:
    buf = io.BytesIO()
    df.write_parquet(buf, compression="zstd", statistics=False)
    return buf.getvalue()


def _sums(df: pl.DataFrame) -> dict[str, int]:
    cols = [c for c in df.columns if c.endswith("_cents")]
    if not cols or df.is_empty():
        return dict.fromkeys(cols, 0)
    row = df.select([pl.col(c).sum() for c in cols]).row(0, named=True)
    return {k: int(v or 0) for k, v in row.items()}


def _only(df: pl.DataFrame, tenant: str) -> pl.DataFrame:
    return df.filter(pl.col("tenant") == tenant) if "tenant" in df.columns else df


def plan_reports(*, tenant: str, booking_date: date, day_close: pl.DataFrame, klaerungsliste: pl.DataFrame,
                 key_figures: dict[str, pl.DataFrame], run_id: str,
                 issues: pl.DataFrame | None = None, delivered: pl.DataFrame | None = None,
                 history: pl.DataFrame | None = None) -> list[PlannedFile]:
    """Render every report file in memory (nothing written): the "plan" half of :func:`write_reports`."""
    dc = _only(day_close, tenant)
    kl = _only(klaerungsliste, tenant)
    kf = {k: _only(v, tenant) for k, v in key_figures.items()}
    if list(dc.schema.items()) != list(DAY_CLOSE_SCHEMA.items()):
        raise AssertionError("write_reports: day_close does not have DAY_CLOSE_SCHEMA")
    if list(kl.schema.items()) != list(KLAERUNG_SCHEMA.items()):
        raise AssertionError("write_reports: klaerungsliste does not have KLAERUNG_SCHEMA")
    check_totals(dc)
    model = build_model(tenant=tenant, booking_date=booking_date, run_id=run_id, day_close=dc,
                        klaerungsliste=kl, key_figures=kf, issues=None if issues is None else _only(issues, tenant),
                        files=None if delivered is None else _only(delivered, tenant), history=history)
    kl_h = kl.with_columns(pl.col("section").replace_strict(SECTION_TEXT, default=pl.col("section"))
                           .alias("section_txt"))
    sheets = [(SECTION_TEXT[s], kl_h.filter(pl.col("section") == s), KLAERUNG_COLS) for s in SECTION_TEXT]
    files = [
        PlannedFile("day_close.html", render_html(model).encode("utf-8"), dc.height, _sums(dc)),
        PlannedFile("day_close.pdf", _pdf(model), None, {}),
        *_archive_pdf(model),
        PlannedFile("day_close.csv", excel_csv_bytes(dc, DAY_CLOSE_COLS), dc.height, _sums(dc)),
        PlannedFile("day_close.parquet", _parquet(dc), dc.height, _sums(dc)),
        PlannedFile("klaerungsliste.csv", excel_csv_bytes(kl_h, KLAERUNG_COLS), kl.height, _sums(kl)),
        PlannedFile("klaerungsliste.xlsx", xlsx_bytes(sheets, created=booking_date), kl.height, _sums(kl)),
        PlannedFile("klaerungsliste.parquet", _parquet(kl), kl.height, _sums(kl)),
    ]
    files += [PlannedFile(f"key_figures_{name}.parquet", _parquet(df), df.height, _sums(df))
              for name, df in sorted(kf.items())]
    if "summary" in kf:                    # for people: German labels, euros, one sheet per view
        files += [PlannedFile("key_figures.xlsx", key_figures_xlsx(kf, created=booking_date), kf["summary"].height,
                              _sums(kf["summary"])),
                  PlannedFile("key_figures.csv", key_figures_csv(kf), kf["summary"].height, _sums(kf["summary"]))]
    return files


def write_reports(out_dir: Path, *, tenant: str, booking_date: date, day_close: pl.DataFrame,
                  klaerungsliste: pl.DataFrame, key_figures: dict[str, pl.DataFrame], run_id: str,
                  issues: pl.DataFrame | None = None, delivered: pl.DataFrame | None = None,
                  history: pl.DataFrame | None = None) -> ReportPaths:
    """Write all reports of ``tenant`` for ``booking_date`` into ``out_dir`` atomically, with a manifest.

    Frames are the outputs of :func:`outputs.day_close`, :func:`outputs.klaerungsliste` and
    :func:`outputs.key_figures` (rows of other tenants are left out); ``issues`` (ISSUE_SCHEMA) are the
    run's import findings, listed in the day close ("Befunde beim Import"); ``delivered`` the night's files
    (rejected ones and open-items exports listed, "Eingelesene Dateien"); ``history`` the earlier nights'
    automation rates (booking_date, n_incoming, automation_rate_pct) for the 30-day chart. Everything is
    rendered first; then all files go to a staging folder and are renamed into place, ``manifest.json``
    last. If anything fails, ``out_dir`` keeps what it had before.
    """
    files = plan_reports(tenant=tenant, booking_date=booking_date, day_close=day_close,
                         klaerungsliste=klaerungsliste, key_figures=key_figures, run_id=run_id, issues=issues,
                         delivered=delivered, history=history)
    meta = {"kind": "stadtkasse.reports", "version": 1, "tenant": tenant,
            "booking_date": booking_date.isoformat(), "run_id": run_id,
            "pdf_font": "DejaVu Sans" if _font_found() else "core latin-1 (transliterated)"}
    paths = write_all(Path(out_dir), files, meta)
    return ReportPaths(
        out_dir=Path(out_dir), manifest=paths[MANIFEST],
        day_close_html=paths["day_close.html"], day_close_pdf=paths["day_close.pdf"],
        day_close_csv=paths["day_close.csv"], day_close_parquet=paths["day_close.parquet"],
        klaerungsliste_csv=paths["klaerungsliste.csv"], klaerungsliste_xlsx=paths["klaerungsliste.xlsx"],
        klaerungsliste_parquet=paths["klaerungsliste.parquet"],
        key_figures={n[len("key_figures_"):-len(".parquet")]: p for n, p in paths.items()
                     if n.startswith("key_figures_")},
        files=paths, key_figures_xlsx=paths.get("key_figures.xlsx"),
    )


def publish_reports(out_dir: Path, *, tenant: str, booking_date: date, run_id: str,
                    statements: pl.DataFrame, transactions: pl.DataFrame, allocations: pl.DataFrame,
                    unresolved: pl.DataFrame, previous: pl.DataFrame | None = None,
                    expected_accounts: Sequence[str] = ()) -> tuple[ReportPaths, pl.DataFrame]:
    """Compute day close, Klärungsliste and key figures from ledger frames and write them; one call.

    Returns the paths and the day-close rows (for the ledger to store and lock).
    """
    dc = day_close(statements, transactions, unresolved, booking_date=booking_date, previous=previous,
                   expected_accounts=expected_accounts, tenant=tenant)
    kl = klaerungsliste(unresolved, transactions, as_of=booking_date)
    kf = key_figures(transactions, allocations, unresolved, as_of=booking_date)
    paths = write_reports(out_dir, tenant=tenant, booking_date=booking_date, day_close=dc,
                          klaerungsliste=kl, key_figures=kf, run_id=run_id)
    return paths, dc
