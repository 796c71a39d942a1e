"""The day-close report as a PDF a Kassenleiter signs (fpdf2, A4 landscape, two signature lines).

Font: fpdf2's core fonts are latin-1 only (no ``€``, no names in other scripts), so the writer embeds
DejaVu Sans when a copy is on the machine (Debian ``fonts-dejavu-core``, present on most systems).
Without it the text is transliterated safely (``€`` -> ``EUR``, other characters outside latin-1 -> ``?``)
and the PDF says so in its footer. The PDF shows the day close and summaries; single unresolved payments
are in the Klärungsliste files.
"""

from __future__ import annotations

import hashlib
import json
import re
import unicodedata
from datetime import datetime, time
from pathlib import Path
from typing import Any, Literal

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


class ArchiveUnavailable(RuntimeError):
    """The PDF/A archive copy cannot be made on this machine (no font to embed)."""


class _Pdf(FPDF):
    footer_text = ""
    fixed_id = ""                          # archive copy: /ID from the report's content, not the clock

    def file_id(self) -> str | Literal[-1] | None:
        return f"<{self.fixed_id}><{self.fixed_id}>" if self.fixed_id else -1

    def footer(self) -> None:
        self.set_y(-10)
        self.set_font(size=7)
        self.cell(0, 5, self.footer_text + f"   Seite {self.page_no()}/{{nb}}", align="C")


#: The smallest font size (pt) a table's numbers shrink to so that none wraps.
MIN_TABLE_SIZE = 6.0
_PADDING = 0.8


class _Writer:
    def __init__(self, model: dict[str, Any], font: Path | None, compliance: str | None = None) -> None:
        self.m = model
        self.pdf = _Pdf(orientation="L", unit="mm", format="A4", enforce_compliance=compliance)
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

    def fitting(self, rows: list[list[str]], widths: list[float], right: set[int], size: float,
                bold_last: bool) -> tuple[float, list[float]]:
        """A size and column widths at which every number (right-aligned cell) fits on one line, so that no
        sum wraps: the font shrinks down to :data:`MIN_TABLE_SIZE`; if a number is still too wide there, the
        number columns get the room they need and the text columns share what is left."""
        while True:
            self.font(size, bold=bold_last)        # the totals line is bold, the widest
            need = {j: max((self.pdf.get_string_width(self.t(values[j])) for values in rows if j < len(values)),
                           default=0.0) + 2 * _PADDING + 1.0 for j in right}
            if all(need[j] <= widths[j] for j in right):
                return size, widths
            if size - 0.25 >= MIN_TABLE_SIZE:
                size -= 0.25
                continue
            grown = {j: max(widths[j], need[j]) for j in right}
            text = [j for j in range(len(widths)) if j not in right]
            rest = sum(widths) - sum(grown.values())
            share = sum(widths[j] for j in text) or 1.0
            return size, [grown[j] if j in right else widths[j] * rest / share for j in range(len(widths))]

    def table(self, head: list[str], rows: list[list[str]], widths: list[float], right: set[int],
              bold_last: bool = False, size: float = 7.5) -> None:
        size, widths = self.fitting(rows, widths, right, size, bold_last)
        self.font(size)
        with self.pdf.table(col_widths=widths, width=sum(widths), align="LEFT", text_align="LEFT",
                            line_height=size * 0.56, headings_style=FontFace(emphasis="BOLD", fill_color=(230, 230, 230)),
                            padding=_PADDING) as tb:
            for i, values in enumerate([head, *rows]):
                row = tb.row()
                style = FontFace(emphasis="BOLD") if bold_last and i == len(rows) else None
                for j, v in enumerate(values):
                    row.cell(self.t(v), align="RIGHT" if j in right and i > 0 else "LEFT", style=style)

    def day_table(self) -> None:
        m = self.m
        head = ["Konto (IBAN) / Bank", "Auszug Nr.", "Anfangssaldo Bank (Ist)", "Eingänge", "Ausgänge",
                "Endsaldo Bank (Ist)", "Buchbestand Anfang (Soll)", "Buchbestand Ende (Soll)", "Differenz",
                "Auszug fehlt Nr.", "Ungeklärt Anzahl", "Ungeklärt Betrag", "Status"]
        rows = [[r["account_iban"] + (f"\n{r['bank_txt']}" if r["bank_txt"] else ""), r["statement_nos"],
                 r["opening_cents_txt"], r["credits_cents_txt"], r["debits_cents_txt"], r["closing_cents_txt"],
                 r["book_opening_cents_txt"], r["book_closing_cents_txt"], r["difference_cents_txt"],
                 r["missing_statements"], r["n_unresolved_txt"], r["unresolved_cents_txt"], r["status_txt"]]
                for r in m["rows"]]
        tt = m["totals"]
        rows.append(["Summe", "", tt["opening_cents_txt"], tt["credits_cents_txt"], tt["debits_cents_txt"],
                     tt["closing_cents_txt"], tt["book_opening_cents_txt"], tt["book_closing_cents_txt"],
                     tt["difference_cents_txt"], "", tt["n_unresolved_txt"], tt["unresolved_cents_txt"], ""])
        self.table(head, rows, [38, 15, 22, 21, 21, 22, 22, 22, 21, 12, 15, 22, 24], {2, 3, 4, 5, 6, 7, 8, 10, 11},
                   bold_last=True, size=7)
        hints = [f"{r['account_iban']}: {r['hint']}" for r in m["rows"] if r["hint"]]
        if hints:
            self.pdf.ln(1)
            self.line("Hinweise: " + " · ".join(hints), 8)

    def night_files(self) -> None:
        files = [f for f in self.m["files"] if f["status"] == "rejected" or f["kind"] == "open_items"]
        if not files:
            return
        self.heading("Eingelesene Dateien: abgewiesene und Sollstellungen")
        self.line("Abgewiesene Dateien liegen in quarantine/ des Mandanten, mit dem Grund daneben. "
                  "Sollstellungen: die offenen Posten des Fachverfahrens, wie übernommen.", 8)
        rows = [[f["status_txt"], f["kind_txt"], f["name"], f["n_txt"], f["reason"]] for f in files]
        self.table(["Ergebnis", "Art", "Datei", "Zeilen", "Grund"], rows, [24, 48, 80, 16, 109], {3})

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
        rows = [[f["severity_txt"], f["code"], f["n_txt"], f["first_txt"]] for f in self.m["findings"]]
        self.table(["Art", "Befund", "Anzahl", "Erste Stellen"], rows, [20, 70, 18, 169], {2})

    def summaries(self) -> None:
        m = self.m
        self.pdf.ln(6)
        self.heading("Anlage: Klärungsliste (Einzelposten in klaerungsliste.xlsx / .csv)", room=80)
        self.table(["Bereich", "Anzahl", "Offener Betrag"],
                   [[s["section_txt"], s["n_txt"], s["cents_txt"]] for s in m["sections"]], [40, 20, 32], {1, 2})
        self.heading("Altersstruktur der ungeklärten Posten", room=70)
        top = self.pdf.get_y()
        self.table(["Alter (Tage)", "Anzahl", "Offener Betrag"],
                   [[a["age_band"], a["n_items_txt"], a["unallocated_cents_txt"]] for a in m["age"]],
                   [40, 20, 32], {1, 2})
        after = self.pdf.get_y()
        self.age_chart(x=115, y=top, w=150, h=max(after - top, 30))
        self.pdf.set_y(max(after, top + 32))
        if m["automation_history"]:
            self.heading(f"Automatisierungsgrad der letzten {len(m['automation_history'])} Buchungstage", room=70)
            self.automation_chart(x=10, y=self.pdf.get_y() + 1, w=270, h=48)
        self.heading("Anlage: Kennzahlen (gpaNRW)")
        for srow in m["summary"]:
            self.line(f"Zeitraum: {srow['first_txt']} bis {srow['last_txt']} (Buchungstage der ausgewerteten Zahlungen)", 8)
        self.table(["Einzahlungen", "Summe Einzahlungen", "automatisch gebucht", "Automatisierungsgrad",
                    "Ungeklärte Einzahlungen", "Ungeklärte je 10.000 Einzahlungen"],
                   [[s["n_incoming_txt"], s["incoming_cents_txt"], s["n_auto_txt"], s["automation_txt"],
                     s["n_unresolved_payments_txt"], s["per10000_txt"]] for s in m["summary"]],
                   [26, 34, 32, 36, 38, 50], {0, 1, 2, 3, 4, 5})

    def age_chart(self, x: float, y: float, w: float, h: float) -> None:
        """Bars of the unresolved amount per age band (drawn with fpdf's own rectangles), count beside."""
        pdf, age = self.pdf, self.m["age"]
        if not age:
            return
        most = max((a["unallocated_cents"] or 0) for a in age) or 1
        label_w, row_h = 18, min(8.0, (h - 4) / len(age))
        self.font(7)
        for i, a in enumerate(age):
            top = y + 5 + i * row_h
            pdf.set_xy(x, top)
            pdf.cell(label_w, row_h - 1, self.t(f"{a['age_band']} Tage"), align="R")
            bar = (w - label_w - 48) * (a["unallocated_cents"] or 0) / most
            pdf.set_fill_color(*((164, 0, 0) if i == len(age) - 1 else (200, 120, 40) if i >= 2 else (70, 110, 160)))
            if bar > 0:
                pdf.rect(x + label_w + 2, top + 0.8, bar, row_h - 2.6, style="F")
            pdf.set_xy(x + label_w + 3 + bar, top)
            pdf.cell(44, row_h - 1, self.t(f"{a['unallocated_cents_txt']} ({a['n_items_txt']})"))
        pdf.set_fill_color(255, 255, 255)

    def automation_chart(self, x: float, y: float, w: float, h: float) -> None:
        """One bar per booking day (0–100 %), gridlines at 25 % steps, the day's rate above its bar."""
        pdf, days = self.pdf, self.m["automation_history"]
        axis_w, foot = 10, 8
        plot_h = h - foot - 4
        base = y + 4 + plot_h
        self.font(6)
        pdf.set_draw_color(190, 190, 190)
        for pct in (0, 25, 50, 75, 100):
            gy = base - plot_h * pct / 100
            pdf.line(x + axis_w, gy, x + w, gy)
            pdf.set_xy(x, gy - 1.5)
            pdf.cell(axis_w - 1, 3, f"{pct} %", align="R")
        pdf.set_draw_color(0, 0, 0)
        slot = (w - axis_w) / max(len(days), 1)
        bar_w = min(slot * 0.7, 12)
        for i, d in enumerate(days):
            cx = x + axis_w + slot * (i + 0.5)
            bh = plot_h * max(0.0, min(d["rate"], 100.0)) / 100
            last = i == len(days) - 1
            pdf.set_fill_color(*((23, 97, 23) if last else (70, 110, 160)))
            if bh > 0:
                pdf.rect(cx - bar_w / 2, base - bh, bar_w, bh, style="F")
            pdf.set_xy(cx - slot / 2, base - bh - 3.2)
            pdf.cell(slot, 3, f"{d['rate']:.0f}", align="C")
            pdf.set_xy(cx - slot / 2, base + 0.8)
            pdf.cell(slot, 3, d["short_txt"], align="C")
        pdf.set_fill_color(255, 255, 255)
        pdf.set_y(base + foot)

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
        bad = m["n_problems"] > 0 or not m["n_accounts"] or m.get("n_rejected_files", 0) > 0
        pdf.set_text_color(164, 0, 0) if bad else pdf.set_text_color(23, 97, 23)
        self.line(m["verdict"], 10, bold=True)
        pdf.set_text_color(0, 0, 0)
        self.heading("So lesen Sie den Tagesabschluss")
        for text in m["how_to_read"]:
            self.line(f"• {text}" if self.unicode else f"- {text}", 8)
        self.heading("Abstimmung je Bankkonto (§ 31 KomHVO NRW)", room=60)
        self.day_table()
        self.corrections()
        self.night_files()
        self.findings()
        self.signatures()
        self.summaries()
        return bytes(pdf.output())


#: The archive copy's PDF/A level: 2B (visual fidelity; fpdf2 writes the XMP identification and the sRGB
#: output intent and refuses what the level forbids, e.g. a core font that is not embedded).
PDFA_LEVEL = "PDFA_2B"


def render_pdf(model: dict[str, Any], *, font: Path | bool | None = True, compress: bool = True,
               archive: bool = False) -> bytes:
    """Render the day-close PDF from :func:`outputs.report_model.build_model` output.

    ``font=True`` looks for DejaVu Sans, ``False``/``None`` forces the latin-1 core font, a path uses it.
    The creation date is the booking day, so the same input gives the same bytes. ``compress=False``
    leaves the page streams readable (tests look for the signature lines in them). ``archive=True`` makes
    the PDF/A-2B archive copy (:data:`PDFA_LEVEL`); it needs an embedded font, so it raises
    :class:`ArchiveUnavailable` when no Unicode font is found.
    """
    path = find_font() if font is True else (font if isinstance(font, Path) else None)
    if archive and path is None:
        raise ArchiveUnavailable("PDF/A needs an embedded font; DejaVu Sans was not found (fonts-dejavu-core)")
    w = _Writer(model, path, PDFA_LEVEL if archive else None)
    if archive:
        digest = hashlib.md5(json.dumps(model, sort_keys=True, default=str).encode(), usedforsecurity=False)
        w.pdf.fixed_id = digest.hexdigest().upper()
    w.pdf.set_compression(compress)
    w.pdf.set_creation_date(datetime.combine(datetime.fromisoformat(model["iso_date"]).date(), time()))
    out = w.render()
    return _xmp_dates_as_created(out) if archive else out


_XMP_DATE = re.compile(rb'xmp:(ModifyDate|MetadataDate)="([^"]*)"')
_XMP_CREATED = re.compile(rb'xmp:CreateDate="([^"]*)"')


def _xmp_dates_as_created(pdf: bytes) -> bytes:
    """fpdf2 stamps the PDF/A metadata's ModifyDate/MetadataDate with the clock; the copy is made from the
    night's data only, so both become the creation date (the booking day): the same night gives the same
    bytes. The metadata stream is not compressed and the stamps have the same length, so every offset in
    the cross-reference table stays right (checked)."""
    created = _XMP_CREATED.search(pdf)
    if created is None:
        return pdf

    def same(m: re.Match[bytes]) -> bytes:
        if len(m.group(2)) != len(created.group(1)):
            return m.group(0)
        return b'xmp:' + m.group(1) + b'="' + created.group(1) + b'"'

    fixed = _XMP_DATE.sub(same, pdf)
    return fixed if len(fixed) == len(pdf) else pdf
