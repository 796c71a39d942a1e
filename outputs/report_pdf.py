"""The day-close report as a PDF a Kassenleiter signs (fpdf2, A4 landscape, two signature lines).

Font: fpdf2's core fonts are latin-1 only (no ``€``, no names in other scripts), so the writer embeds
DejaVu Sans when a copy is on the machine (Debian ``fonts-dejavu-core``, present on most systems).
Without it the text is transliterated safely (``€`` -> ``EUR``, other characters outside latin-1 -> ``?``)
and the PDF says so in its footer. The PDF shows the day close and summaries; single unresolved payments
are in the Klärungsliste files.
"""

from __future__ import annotations

import unicodedata
from datetime import datetime, time
from pathlib import Path
from typing import Any

from fpdf import FPDF
from fpdf.fonts import FontFace

#: Where Debian-based systems keep DejaVu Sans (first hit wins).
FONT_CANDIDATES = (
    Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"),
    Path("/usr/share/fonts/TTF/DejaVuSans.ttf"),
    Path("/usr/share/fonts/dejavu/DejaVuSans.ttf"),
)
_LATIN1_FIX = {"€": "EUR", "–": "-", "—": "-", "−": "-", "„": '"', "“": '"', "”": '"', "‚": "'", "‘": "'",
               "’": "'", "…": "...", "≠": "!=",
               "Ł": "L", "ł": "l", "Đ": "D", "đ": "d", "Œ": "OE", "œ": "oe", "ı": "i", "Ş": "S", "ş": "s"}


def find_font() -> Path | None:
    """The DejaVu Sans TTF on this machine, or ``None``."""
    for p in FONT_CANDIDATES:
        if p.is_file() and p.with_name("DejaVuSans-Bold.ttf").is_file():
            return p
    return None


def to_latin1(text: str) -> str:
    """Text the core fonts can print: known symbols spelt out, accents kept where latin-1 has them."""
    out = []
    for ch in text:
        if ch in _LATIN1_FIX:
            out.append(_LATIN1_FIX[ch])
        elif ord(ch) < 256:
            out.append(ch)
        else:
            base = unicodedata.normalize("NFKD", ch).encode("latin-1", "ignore").decode("latin-1")
            out.append(base or "?")
    return "".join(out)


class _Pdf(FPDF):
    footer_text = ""

    def footer(self) -> None:
        self.set_y(-10)
        self.set_font(size=7)
        self.cell(0, 5, self.footer_text + f"   Seite {self.page_no()}/{{nb}}", align="C")


class _Writer:
    def __init__(self, model: dict[str, Any], font: Path | None) -> None:
        self.m = model
        self.pdf = _Pdf(orientation="L", unit="mm", format="A4")
        self.pdf.set_margins(10, 10, 10)
        self.pdf.set_auto_page_break(True, margin=14)
        self.unicode = font is not None
        if font is not None:
            self.pdf.add_font("dejavu", "", font)
            self.pdf.add_font("dejavu", "B", font.with_name("DejaVuSans-Bold.ttf"))
            self.family = "dejavu"
        else:
            self.family = "helvetica"
        note = "" if self.unicode else "  (ohne Unicode-Schrift: Sonderzeichen ersetzt)"
        self.pdf.footer_text = self.t(f"Tagesabschluss {model['date_txt']} · {model['tenant']} · Lauf {model['run_id']}{note}")
        self.pdf.set_title(self.t(f"Tagesabschluss {model['date_txt']} {model['tenant']}"))
        self.pdf.set_author("Stadtkasse")

    def t(self, text: Any) -> str:
        s = "" if text is None else str(text)
        return s if self.unicode else to_latin1(s)

    def font(self, size: float, bold: bool = False) -> None:
        self.pdf.set_font(self.family, "B" if bold else "", size)

    def heading(self, text: str, room: float = 40) -> None:
        if self.pdf.get_y() > self.pdf.h - room:  # keep a heading with the start of its table
            self.pdf.add_page()
        self.pdf.ln(3)
        self.font(11, bold=True)
        self.pdf.cell(0, 7, self.t(text), new_x="LMARGIN", new_y="NEXT")

    def line(self, text: str, size: float = 8.5, bold: bool = False) -> None:
        self.font(size, bold)
        self.pdf.multi_cell(0, 4.6, self.t(text), new_x="LMARGIN", new_y="NEXT")

    def table(self, head: list[str], rows: list[list[str]], widths: list[float], right: set[int],
              bold_last: bool = False, size: float = 7.5) -> None:
        self.font(size)
        with self.pdf.table(col_widths=widths, width=sum(widths), align="LEFT", text_align="LEFT",
                            line_height=4.2, headings_style=FontFace(emphasis="BOLD", fill_color=(230, 230, 230)),
                            padding=0.8) as tb:
            for i, values in enumerate([head, *rows]):
                row = tb.row()
                style = FontFace(emphasis="BOLD") if bold_last and i == len(rows) else None
                for j, v in enumerate(values):
                    row.cell(self.t(v), align="RIGHT" if j in right and i > 0 else "LEFT", style=style)

    def day_table(self) -> None:
        m = self.m
        head = ["Konto (IBAN)", "Auszug Nr.", "Anfangssaldo Bank (Ist)", "Eingänge", "Ausgänge",
                "Endsaldo Bank (Ist)", "Buchbestand Anfang (Soll)", "Buchbestand Ende (Soll)", "Differenz",
                "Auszug fehlt Nr.", "Ungeklärt Anzahl / Betrag", "Status"]
        rows = [[r["account_iban"], r["statement_nos"], r["opening_cents_txt"], r["credits_cents_txt"],
                 r["debits_cents_txt"], r["closing_cents_txt"], r["book_opening_cents_txt"],
                 r["book_closing_cents_txt"], r["difference_cents_txt"], r["missing_statements"],
                 f"{r['n_unresolved']} / {r['unresolved_cents_txt']}", r["status_txt"]] for r in m["rows"]]
        tt = m["totals"]
        rows.append(["Summe", "", tt["opening_cents_txt"], tt["credits_cents_txt"], tt["debits_cents_txt"],
                     tt["closing_cents_txt"], tt["book_opening_cents_txt"], tt["book_closing_cents_txt"],
                     tt["difference_cents_txt"], "", f"{tt['n_unresolved_txt']} / {tt['unresolved_cents_txt']}", ""])
        self.table(head, rows, [37, 16, 24, 24, 24, 24, 24, 24, 21, 14, 26, 19], {2, 3, 4, 5, 6, 7, 8, 10},
                   bold_last=True, size=7)
        hints = [f"{r['account_iban']}: {r['hint']}" for r in m["rows"] if r["hint"]]
        if hints:
            self.pdf.ln(1)
            self.line("Hinweise: " + " · ".join(hints), 8)

    def corrections(self) -> None:
        if not self.m["corrections"]:
            return
        self.heading("Korrekturen zu gesperrten Tagen")
        self.line("Abgeschlossene Tage bleiben unverändert; spätere Änderungen stehen hier als Veränderung.")
        rows = [[r["corrected_txt"], r["account_iban"], r["credits_cents_txt"], r["debits_cents_txt"],
                 r["book_closing_cents_txt"], r["closing_cents_txt"], r["difference_cents_txt"], r["note"]]
                for r in self.m["corrections"]]
        self.table(["Korrigierter Tag", "Konto", "Eingänge", "Ausgänge", "Buchbestand Ende", "Endsaldo Bank",
                    "Differenz", "Hinweis"], rows, [22, 44, 22, 22, 26, 26, 20, 95], {2, 3, 4, 5, 6})

    def findings(self) -> None:
        if not self.m["findings"]:
            return
        self.heading("Befunde beim Import")
        self.line("Fehler: Zeile nicht übernommen; Warnung: Zeile übernommen, der genannte Wert nicht.", 8)
        rows = [[f["severity_txt"], f["code"], str(f["n"]), f["first_txt"]] for f in self.m["findings"]]
        self.table(["Art", "Befund", "Anzahl", "Erste Stellen"], rows, [20, 70, 18, 169], {2})

    def summaries(self) -> None:
        m = self.m
        self.pdf.ln(6)
        self.heading("Anlage: Klärungsliste (Einzelposten in klaerungsliste.xlsx / .csv)")
        self.table(["Bereich", "Anzahl", "Offener Betrag"],
                   [[s["section_txt"], str(s["n"]), s["cents_txt"]] for s in m["sections"]], [40, 20, 32], {1, 2})
        self.heading("Altersstruktur der ungeklärten Posten")
        self.table(["Alter (Tage)", "Anzahl", "Offener Betrag"],
                   [[a["age_band"], str(a["n_items"]), a["unallocated_cents_txt"]] for a in m["age"]],
                   [40, 20, 32], {1, 2})
        self.heading("Anlage: Kennzahlen (gpaNRW)")
        for srow in m["summary"]:
            self.line(f"Zeitraum: {srow['first_txt']} bis {srow['last_txt']} (Buchungstage der ausgewerteten Zahlungen)", 8)
        self.table(["Einzahlungen", "Summe Einzahlungen", "automatisch gebucht", "Automatisierungsgrad",
                    "Ungeklärte Einzahlungen", "Ungeklärte je 10.000 Einzahlungen"],
                   [[str(s["n_incoming"]), s["incoming_cents_txt"], str(s["n_auto"]), s["automation_txt"],
                     str(s["n_unresolved_payments"]), s["per10000_txt"]] for s in m["summary"]],
                   [26, 34, 32, 36, 38, 50], {0, 1, 2, 3, 4, 5})

    def signatures(self) -> None:
        pdf = self.pdf
        if pdf.get_y() > pdf.h - 55:
            pdf.add_page()
        pdf.ln(8)
        self.line("Geprüft: Bank- und Buchbestände wie oben angegeben. Differenzen und fehlende Auszüge "
                  "sind zu klären und mit einer Korrekturzeile nachzuweisen.", 9)
        pdf.ln(16)
        y = pdf.get_y()
        self.font(9)
        for x, label in ((10, "Ort, Datum"), (100, "Kassenleiter/in"), (190, "zweite Unterschrift")):
            pdf.line(x, y, x + 80, y)
            pdf.set_xy(x, y + 1)
            pdf.cell(80, 5, self.t(label))

    def render(self) -> bytes:
        m, pdf = self.m, self.pdf
        pdf.add_page()
        self.font(16, bold=True)
        pdf.cell(0, 9, self.t(f"Tagesabschluss vom {m['date_txt']}"), new_x="LMARGIN", new_y="NEXT")
        self.line(f"Mandant: {m['tenant']}   ·   Buchungstag: {m['date_txt']}   ·   Lauf: {m['run_id']}", 9)
        bad = m["n_problems"] > 0 or not m["n_accounts"]
        pdf.set_text_color(164, 0, 0) if bad else pdf.set_text_color(23, 97, 23)
        self.line(m["verdict"], 10, bold=True)
        pdf.set_text_color(0, 0, 0)
        self.heading("So lesen Sie den Tagesabschluss")
        for text in m["how_to_read"]:
            self.line(f"• {text}" if self.unicode else f"- {text}", 8)
        self.heading("Abstimmung je Bankkonto (§ 31 KomHVO NRW)", room=60)
        self.day_table()
        self.corrections()
        self.findings()
        self.signatures()
        self.summaries()
        return bytes(pdf.output())


def render_pdf(model: dict[str, Any], *, font: Path | bool | None = True, compress: bool = True) -> bytes:
    """Render the day-close PDF from :func:`outputs.report_model.build_model` output.

    ``font=True`` looks for DejaVu Sans, ``False``/``None`` forces the latin-1 core font, a path uses it.
    The creation date is the booking day, so the same input gives the same bytes. ``compress=False``
    leaves the page streams readable (tests look for the signature lines in them).
    """
    path = find_font() if font is True else (font if isinstance(font, Path) else None)
    w = _Writer(model, path)
    w.pdf.set_compression(compress)
    w.pdf.set_creation_date(datetime.combine(datetime.fromisoformat(model["iso_date"]).date(), time()))
    return w.render()
