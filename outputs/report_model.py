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
from outputs.fmt import de_date, de_int, eur, eur_expr
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
    rows = shown.to_dicts()
    counts = [c for c in df.columns if c.startswith("n_") and df.schema[c].is_integer()]
    for r in rows:  # report rows: a handful of accounts, age bands, rules
        r.update({f"{c}_txt": de_int(r[c]) for c in counts})
    return rows


def bank_name(iban: str | None) -> str:
    """The bank behind an IBAN, as schwifty's bank registry knows it ("" when it does not).

    schwifty is imported here, when a report is made: loading its registry costs about 0.3 s, and
    ``kasse match``/``kasse parse`` import this package without making a report."""
    from schwifty import IBAN

    if not iban:
        return ""
    try:
        return str(getattr(IBAN(iban), "bank_name", None) or "")
    except ValueError:
        return ""


def _day_rows(dc: pl.DataFrame) -> list[dict[str, Any]]:
    money = [c for c in TOTAL_COLUMNS if c.endswith("_cents")]
    rows = _money_rows(dc, money)
    for r in rows:  # a handful of accounts
        r["status_txt"] = STATUS_TEXT.get(r["status"], r["status"])
        r["hint"] = _hint(r)
        r["date_txt"] = de_date(r["booking_date"])
        r["corrected_txt"] = de_date(r["corrected_date"])
        r["bank_txt"] = bank_name(r["account_iban"])
        r["settled"] = False
    return rows


def settle(rows: list[dict[str, Any]], corrections: list[dict[str, Any]]) -> int:
    """Mark the day's close rows that corrections printed with them bring back into balance.

    A locked day is never rewritten; a night repeated for it adds correction rows (``corrected_date`` = the
    day) that carry the change, and the status the recomputed day has. A close row not ``ok`` whose
    corrections end in ``ok`` with the differences adding up to 0,00 € is *settled*: the report says so
    instead of "nicht abgestimmt". Returns how many rows were settled.
    """
    settled = 0
    for r in rows:
        mine = [c for c in corrections if c["account_iban"] == r["account_iban"]
                and c["corrected_date"] == r["booking_date"]]
        if r["status"] == "ok" or not mine:
            continue
        after = (r["difference_cents"] or 0) + sum(c["difference_cents"] or 0 for c in mine)
        if after == 0 and mine[-1]["status"] == "ok":
            r["settled"] = True
            r["status_txt"] = "in Ordnung nach Korrektur"
            r["hint"] = (f"Differenz {eur(r['difference_cents'])} im gesperrten Abschluss, durch die Korrektur "
                         "unten ausgeglichen: jetzt 0,00 €")
            settled += 1
    return settled


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
    return {f"{k}_txt": (de_int(v) if k.startswith("n_") else eur(v)) for k, v in sums.items()}


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
        r["per10000_txt"] = "–" if per is None else de_int(round(per))
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
                    "n_txt": de_int(rows.height),
                    "first_txt": "; ".join(first) + (" …" if rows.height > FIRST_LINES else "")})
    return sorted(out, key=lambda r: (rank.get(r["severity"], 2), r["code"]))


_FILE_KIND_TEXT = {"statement": "Kontoauszug", "open_items": "Sollstellungen (offene Posten)",
                   "other": "keine Datei"}
_FILE_STATUS_TEXT = {"ok": "übernommen", "rejected": "abgewiesen", "duplicate": "bereits eingelesen"}


def night_files(files: pl.DataFrame | None) -> list[dict[str, Any]]:
    """The night's delivered files for the day close: every rejected file with its reason first, then every
    open-items export with its number of items, then the bank files (a few dozen rows at most)."""
    if files is None or files.height == 0:
        return []
    order = {"rejected": 0, "duplicate": 2}
    out = []
    for r in files.to_dicts():
        kind = r.get("kind") or ("open_items" if r.get("source_format") == "open_items" else "statement")
        out.append({
            "name": str(r.get("source_path") or "").rsplit("/", 1)[-1], "kind": kind,
            "kind_txt": _FILE_KIND_TEXT.get(kind, kind), "status": r.get("status") or "",
            "status_txt": _FILE_STATUS_TEXT.get(r.get("status") or "", r.get("status") or ""),
            "n_txt": de_int(r.get("n_rows")), "reason": r.get("reason") or "",
            "_rank": order.get(r.get("status") or "", 1 if kind == "open_items" else 3 if kind == "statement" else 1),
        })
    out.sort(key=lambda f: (f["_rank"], f["name"]))
    return out


#: Booking days shown in the automation chart.
HISTORY_DAYS = 30


def automation_history(history: pl.DataFrame | None, summary: pl.DataFrame, booking_date: date
                       ) -> list[dict[str, Any]]:
    """Automatisierungsgrad of the last :data:`HISTORY_DAYS` booking days up to ``booking_date`` (oldest
    first): earlier days as their own nights reported them (``history``: booking_date, n_incoming,
    automation_rate_pct), this day from tonight's summary. Days without incoming payments are left out."""
    cols = {"booking_date": pl.Date(), "n_incoming": pl.Int64(), "automation_rate_pct": pl.Float64()}
    today = summary.select(pl.lit(booking_date).alias("booking_date"), "n_incoming", "automation_rate_pct")
    parts = [today.select([pl.col(k).cast(v) for k, v in cols.items()])]
    if history is not None and history.height:
        parts.insert(0, history.filter(pl.col("booking_date") < booking_date)
                     .select([pl.col(k).cast(v) for k, v in cols.items()]))
    days = (pl.concat(parts).filter(pl.col("automation_rate_pct").is_not_null())
            .unique(subset="booking_date", keep="last").sort("booking_date").tail(HISTORY_DAYS))
    return [{"date_txt": de_date(d), "short_txt": d.strftime("%d.%m."), "rate": float(rate), "n_txt": de_int(n)}
            for d, n, rate in days.iter_rows()]


def build_model(*, tenant: str, booking_date: date, run_id: str, day_close: pl.DataFrame,
                klaerungsliste: pl.DataFrame, key_figures: dict[str, pl.DataFrame],
                max_items: int = 200, issues: pl.DataFrame | None = None, files: pl.DataFrame | None = None,
                history: pl.DataFrame | None = None) -> dict[str, Any]:
    """Everything the reports print, as strings (money ``1.234,56 €``, dates ``dd.mm.yyyy``).

    ``files`` are the night's delivered files (FILE_SCHEMA with ``kind``), ``history`` the earlier nights'
    automation rates (see :func:`automation_history`); both optional."""
    closes = day_close.filter(pl.col("kind") == "close")
    corrections = day_close.filter(pl.col("kind") == "correction")
    sections = section_totals(klaerungsliste).with_columns(
        pl.col("section").replace_strict(SECTION_TEXT, default=pl.col("section")).alias("section_txt"),
        eur_expr("cents").alias("cents_txt"),
    ).to_dicts()
    for sec in sections:                   # three sections
        sec["n_txt"] = de_int(sec["n"])
    rows, correction_rows = _day_rows(closes), _day_rows(corrections)
    settled = settle(rows, correction_rows)
    problems = closes.filter(pl.col("status") != "ok").height - settled
    findings = import_findings(issues)
    n_findings = sum(f["n"] for f in findings)
    delivered = night_files(files)
    rejected = sum(1 for f in delivered if f["status"] == "rejected")
    return {
        "tenant": tenant,
        "date_txt": de_date(booking_date),
        "iso_date": booking_date.isoformat(),
        "run_id": run_id,
        "how_to_read": HOW_TO_READ,
        "n_accounts": closes.height,
        "n_problems": problems,
        "verdict": ("Keine Konten und keine Kontoauszüge für diesen Tag." if closes.height == 0
                    else "Alle Konten abgestimmt." if problems == 0 and not settled
                    else (f"Alle Konten abgestimmt: {settled} {'Konto' if settled == 1 else 'Konten'} nach "
                          "Korrektur, Differenz jetzt 0,00 €.") if problems == 0
                    else f"{problems} von {closes.height} Konten nicht abgestimmt — bitte prüfen.")
                   + (f" {rejected} {'Datei' if rejected == 1 else 'Dateien'} abgewiesen (siehe unten)."
                      if rejected else "")
                   + (f" {de_int(n_findings)} {'Befund' if n_findings == 1 else 'Befunde'} beim Import (siehe unten)."
                      if n_findings else ""),
        "n_settled": settled,
        "findings": findings,
        "files": delivered,
        "n_rejected_files": rejected,
        "automation_history": automation_history(history, key_figures["summary"], booking_date),
        "rows": rows,
        "totals": _totals(closes),
        "corrections": correction_rows,
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
