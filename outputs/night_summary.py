"""The nightly run's summary for people (the Prefect artifact, ``kasse nightly``): German labels, euros
instead of cents, and the night's own figures kept apart from the stock after the night.

The run report mixes both kinds: ``match.n_allocations`` counts what this night booked, while
``match.n_unresolved`` is every payment still on the Klärungsliste, whenever it arrived. Read side by side
without a heading, a reader adds the stock up over nights; so the two stand in separate tables here.
"""

from __future__ import annotations

from typing import Any

from outputs.fmt import de_int, eur

#: Figures that describe the state after the night (cumulative), not the night's own work.
STOCK_KEYS = frozenset({"match.n_unresolved", "match.unresolved_cents", "close.klaerungsliste",
                        "match.n_rules_in_force"})

LABELS: dict[str, str] = {
    "files.ok": "Dateien übernommen", "files.rejected": "Dateien abgewiesen", "files.duplicate": "Dateien doppelt",
    "files.transactions": "Buchungen gelesen", "files.statements": "Kontoauszüge", "files.open_items": "offene Posten gelesen",
    "files.issues": "Befunde beim Import",
    "match.n_payments_matched": "Zahlungen abgeglichen", "match.n_rematched": "davon erneut abgeglichen",
    "match.n_allocations": "Zuordnungen gebucht", "match.allocated_cents": "zugeordneter Betrag",
    "match.n_decisions": "Entscheidungen der Sachbearbeitung", "match.n_decisions_rejected": "davon abgelehnt",
    "match.n_payouts_booked": "Auszahlungen von der Bank gebucht", "match.n_payouts_returned": "Auszahlungen zurück",
    "match.n_payout_rows_held": "Auszahlungszeilen zurückgehalten",
    "match.n_unresolved": "ungeklärte Zahlungen (Klärungsliste)", "match.unresolved_cents": "offener Betrag der Klärungsliste",
    "match.n_rules_in_force": "gelernte Regeln in Kraft", "close.klaerungsliste": "Zeilen der Klärungsliste",
    "close.day_close_rows": "Zeilen des Tagesabschlusses", "close.corrections": "Korrekturen zu gesperrten Tagen",
    "enforcement.partial_payment": "Vollstreckung: Teilzahlungen gemeldet",
    "enforcement.settled": "Vollstreckung: Fälle erledigt (Einstellung gemeldet)",
    "enforcement.suspended": "Vollstreckung: Fälle ausgesetzt", "enforcement.resumed": "Vollstreckung: Fälle fortgesetzt",
    "enforcement.reopened": "Vollstreckung: erledigte Fälle durch Rückbuchung wieder offen",
}


def _value(key: str, value: Any) -> str:
    if isinstance(value, bool) or not isinstance(value, int):
        return str(value)
    return eur(value) if key.endswith("_cents") else de_int(value)


def night_tables(report: dict[str, Any]) -> dict[str, list[tuple[str, str]]]:
    """``{"Diese Nacht": [(label, value)], "Bestand nach der Nacht": [...]}`` from a run report's ``files``,
    ``match``, ``close``, ``enforcement`` (the night's updates to the enforcement office) and ``booked``
    sections (numbers only; money as ``1.234,56 €``)."""
    night: list[tuple[str, str]] = []
    stock: list[tuple[str, str]] = []
    for section in ("files", "match", "close", "enforcement", "booked"):
        for k, v in (report.get(section) or {}).items():
            if not isinstance(v, int):
                continue
            key = f"{section}.{k}"
            label = LABELS.get(key) or (f"Zeilen gebucht: {k}" if section == "booked" else key)
            (stock if key in STOCK_KEYS else night).append((label, _value(key, v)))
    return {"Diese Nacht": night, "Bestand nach der Nacht": stock}


def night_markdown(report: dict[str, Any]) -> list[str]:
    """The two tables as Markdown lines (for the Prefect artifact)."""
    lines: list[str] = []
    for title, rows in night_tables(report).items():
        lines += [f"## {title}", "", "| Kennzahl | Wert |", "|---|---:|", *[f"| {k} | {v} |" for k, v in rows], ""]
    return lines
