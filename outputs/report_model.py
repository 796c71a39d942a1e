"""What the HTML and PDF reports show, formatted once for people (German numbers and dates).

:func:`build_model` turns the frames into plain dicts of strings; the HTML template and the PDF writer
only lay them out, so both say exactly the same thing. Row formatting is vectorised in Polars; only the
(few) account rows and the first ``max_items`` Klärungsliste rows become Python dicts.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import polars as pl

from claims.vocab import Section
from outputs.fmt import de_date, eur, eur_expr
from outputs.klaerungsliste import section_totals

STATUS_TEXT = {
    "ok": "in Ordnung",
    "difference": "Differenz",
    "missing_statement": "Auszug fehlt",
    "no_statement": "kein Auszug",
}
SECTION_TEXT = {Section.UNRESOLVED: "Ungeklärt", Section.OVERPAYMENT: "Überzahlung", Section.VERWAHRGELD: "Verwahrgeld"}

#: Day-close columns that are summed into the totals line.
TOTAL_COLUMNS = ("opening_cents", "credits_cents", "debits_cents", "closing_cents", "book_opening_cents",
                 "booked_cents", "book_closing_cents", "difference_cents", "n_unresolved", "unresolved_cents")

#: Explanations printed above the day-close table.
HOW_TO_READ = [
    "Ist = Bestand laut Kontoauszug der Bank (Anfangs- und Endsaldo des Tages).",
    "Soll = Buchbestand der Stadtkasse: Buchbestand des Vortags + Eingänge − Ausgänge des Tages.",
    "Differenz = Endsaldo laut Bank − Buchbestand Ende. Sie muss 0,00 € sein (§ 31 KomHVO NRW).",
    "„Auszug fehlt“: in der Nummernfolge der Kontoauszüge fehlt eine Nummer — bei der Bank anfordern.",
    "Ungeklärt: Zahlungen auf dem Konto, die noch keiner Forderung zugeordnet sind (Klärungsliste).",
]


def _money_rows(df: pl.DataFrame, cols: list[str]) -> list[dict[str, Any]]:
    shown = df.with_columns([eur_expr(c).fill_null("").alias(f"{c}_txt") for c in cols])
    return shown.to_dicts()


def _day_rows(dc: pl.DataFrame) -> list[dict[str, Any]]:
    money = [c for c in TOTAL_COLUMNS if c.endswith("_cents")]
    rows = _money_rows(dc, money)
    for r in rows:  # a handful of accounts
        r["status_txt"] = STATUS_TEXT.get(r["status"], r["status"])
        r["hint"] = _hint(r)
        r["date_txt"] = de_date(r["booking_date"])
        r["corrected_txt"] = de_date(r["corrected_date"])
    return rows


def _hint(r: dict[str, Any]) -> str:
    """Where a difference comes from: the opening (a day or statement missing) or the day's movements."""
    parts = []
    if r["missing_statements"]:
        parts.append(f"Kontoauszug Nr. {r['missing_statements']} fehlt")
    if r["kind"] == "close" and r["difference_cents"]:
        if r["opening_cents"] is not None and r["book_opening_cents"] is not None:
            gap = r["opening_cents"] - r["book_opening_cents"]
            if gap:
                parts.append(f"Anfangssaldo der Bank weicht um {eur(gap, sign=True)} vom Buchbestand des Vortags ab")
        if r["opening_cents"] is not None and r["closing_cents"] is not None:
            moved = r["closing_cents"] - r["opening_cents"] - r["booked_cents"]
            if moved:
                parts.append(f"Umsätze laut Bank weichen um {eur(moved, sign=True)} von den Buchungen ab")
    if r["status"] == "no_statement":
        parts.append("kein Kontoauszug eingegangen — Buchbestand fortgeschrieben")
    return "; ".join(parts)


def _totals(dc: pl.DataFrame) -> dict[str, str]:
    sums = dc.select([pl.col(c).sum() for c in TOTAL_COLUMNS]).row(0, named=True)
    return {f"{k}_txt": (str(v) if k.startswith("n_") else eur(v)) for k, v in sums.items()}


def _klaerung_rows(kl: pl.DataFrame, max_items: int) -> list[dict[str, Any]]:
    head = kl.head(max_items).with_columns(
        eur_expr("amount_cents").alias("amount_txt"),
        eur_expr("unallocated_cents").alias("unallocated_txt"),
        pl.col("booking_date").dt.to_string("%d.%m.%Y").alias("date_txt"),
        pl.col("section").replace_strict(SECTION_TEXT, default=pl.col("section")).alias("section_txt"),
        pl.when(pl.col("iban_valid").not_()).then(pl.lit(" (ungültig)")).otherwise(pl.lit("")).alias("iban_note"),
    )
    return head.to_dicts()


def _fig_rows(df: pl.DataFrame) -> list[dict[str, Any]]:
    money = [c for c in df.columns if c.endswith("_cents")]
    rows = _money_rows(df, money)
    for r in rows:
        for k in ("booking_date",):
            if k in r:
                r["date_txt"] = de_date(r[k])
    return rows


def _summary(kf: dict[str, pl.DataFrame]) -> list[dict[str, Any]]:
    rows = _fig_rows(kf["summary"])
    for r in rows:
        rate, per = r["automation_rate_pct"], r["unresolved_per_10000"]
        r["automation_txt"] = "–" if rate is None else f"{rate:.1f} %".replace(".", ",")
        r["per10000_txt"] = "–" if per is None else f"{per:.0f}"
        r["first_txt"], r["last_txt"] = de_date(r["first_booking_date"]), de_date(r["last_booking_date"])
    return rows


#: Findings per code shown with their first lines in the day close.
FIRST_LINES = 3
_SEVERITY_TEXT = {"error": "Fehler", "warning": "Warnung", "info": "Hinweis"}


def import_findings(issues: pl.DataFrame | None) -> list[dict[str, Any]]:
    """Tonight's findings while reading the inbox (ISSUE_SCHEMA rows), one row per code: severity, count
    and the first few places (``file: line``), errors first.

    >>> rows = import_findings(pl.DataFrame({"source_path": ["in/op.csv"] * 2, "locator": ["line 6", "line 9"],
    ...     "severity": ["warning"] * 2, "code": ["open_items.invalid_iban"] * 2, "message": ["", ""], "raw": ["", ""]}))
    >>> rows[0]["n"], rows[0]["severity_txt"], rows[0]["first_txt"]
    (2, 'Warnung', 'op.csv: line 6; op.csv: line 9')
    """
    if issues is None or issues.height == 0:
        return []
    rank = {"error": 0, "warning": 1}
    out = []
    for (code,), rows in issues.group_by(["code"], maintain_order=True):
        sev = min(rows["severity"].to_list(), key=lambda v: rank.get(v, 2))
        first = [f"{path.rsplit('/', 1)[-1]}: {loc}" if loc else path.rsplit("/", 1)[-1]
                 for path, loc in rows.select("source_path", "locator").head(FIRST_LINES).iter_rows()]
        out.append({"code": code, "severity": sev, "severity_txt": _SEVERITY_TEXT.get(sev, sev), "n": rows.height,
                    "first_txt": "; ".join(first) + (" …" if rows.height > FIRST_LINES else "")})
    return sorted(out, key=lambda r: (rank.get(r["severity"], 2), r["code"]))


def build_model(*, tenant: str, booking_date: date, run_id: str, day_close: pl.DataFrame,
                klaerungsliste: pl.DataFrame, key_figures: dict[str, pl.DataFrame],
                max_items: int = 200, issues: pl.DataFrame | None = None) -> dict[str, Any]:
    """Everything the reports print, as strings (money ``1.234,56 €``, dates ``dd.mm.yyyy``)."""
    closes = day_close.filter(pl.col("kind") == "close")
    corrections = day_close.filter(pl.col("kind") == "correction")
    sections = section_totals(klaerungsliste).with_columns(
        pl.col("section").replace_strict(SECTION_TEXT, default=pl.col("section")).alias("section_txt"),
        eur_expr("cents").alias("cents_txt"),
    ).to_dicts()
    problems = closes.filter(pl.col("status") != "ok").height
    findings = import_findings(issues)
    n_findings = sum(f["n"] for f in findings)
    return {
        "tenant": tenant,
        "date_txt": de_date(booking_date),
        "iso_date": booking_date.isoformat(),
        "run_id": run_id,
        "how_to_read": HOW_TO_READ,
        "n_accounts": closes.height,
        "n_problems": problems,
        "verdict": ("Keine Konten und keine Kontoauszüge für diesen Tag." if closes.height == 0
                    else "Alle Konten abgestimmt." if problems == 0
                    else f"{problems} von {closes.height} Konten nicht abgestimmt — bitte prüfen.")
                   + (f" {n_findings} {'Befund' if n_findings == 1 else 'Befunde'} beim Import (siehe unten)."
                      if n_findings else ""),
        "findings": findings,
        "rows": _day_rows(closes),
        "totals": _totals(closes),
        "corrections": _day_rows(corrections),
        "sections": sections,
        "klaerung_rows": _klaerung_rows(klaerungsliste, max_items),
        "klaerung_total": klaerungsliste.height,
        "max_items": max_items,
        "summary": _summary(key_figures),
        "age": _fig_rows(key_figures["age_structure"]),
        "per_day": _fig_rows(key_figures["per_day_account"]),
        "by_rule": _fig_rows(key_figures["by_rule"]),
        "by_learned_rule": _fig_rows(key_figures["by_learned_rule"]) if "by_learned_rule" in key_figures else [],
        "by_reason": _fig_rows(key_figures["by_reason"]),
    }
