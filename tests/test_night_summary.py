"""The nightly summary for people (Prefect artifact): euros, German labels, the night apart from the stock."""

from __future__ import annotations

from outputs.night_summary import night_markdown, night_tables

REPORT = {
    "files": {"ok": 3, "rejected": 1, "transactions": 1234},
    "match": {"n_allocations": 1200, "allocated_cents": 123456789, "n_unresolved": 1181,
              "unresolved_cents": 9876543, "matcher": {"x": 1}},
    "close": {"klaerungsliste": 1181, "corrections": 0},
    "booked": {"allocations": 1200},
}


def test_night_and_stock_stand_apart_with_euros() -> None:
    tables = night_tables(REPORT)
    night, stock = dict(tables["Diese Nacht"]), dict(tables["Bestand nach der Nacht"])
    assert night["zugeordneter Betrag"] == "1.234.567,89 €"
    assert night["Buchungen gelesen"] == "1.234" and night["Dateien abgewiesen"] == "1"
    assert night["Zeilen gebucht: allocations"] == "1.200"
    assert stock == {"ungeklärte Zahlungen (Klärungsliste)": "1.181", "offener Betrag der Klärungsliste": "98.765,43 €",
                     "Zeilen der Klärungsliste": "1.181"}
    assert not set(night) & set(stock)


def test_markdown_has_two_tables_and_no_cents() -> None:
    text = "\n".join(night_markdown(REPORT))
    assert text.index("## Diese Nacht") < text.index("## Bestand nach der Nacht")
    assert "123456789" not in text and "_cents" not in text
