"""The Übergabeliste: the hand-off batch as a PDF that two people sign off before it leaves (fpdf2, A4
landscape).

One table of the cases and their claims (Kassenzeichen, claim type, notice, due date, Mahnung and its
deadline, enforceable since, principal, surcharges, fees, sum), a sum row per case and the total of the
batch with its counts, the enforceability confirmation, and a signature block for the two people of the
four-eyes release: who prepared the list and who released it, each with the date. Until a releaser is
given (:class:`Signoff`), every page carries :data:`DRAFT_MARK`; the releaser must be another person than
the preparer. Every page says "Seite n von m" (written once the page count is known, as the dunning
letters do).

The input frames are the hand-off writer's (``cases``, ``claims``; columns in
``enforcement.handoff_file``) and its :class:`~enforcement.handoff_file.Header`. Text is drawn with
fpdf2's ``text()`` at computed positions (not ``cell()``/``table()``): a batch of 100,000 cases is
thousands of pages. A text wider than its column is cut with "…", never drawn over the next one.

Fonts: DejaVu Sans embedded when on the machine (``outputs.report_pdf.find_font``), else the core font
with characters outside latin-1 replaced. The creation date is the hand-off date: the same batch gives
the same bytes.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time
from pathlib import Path
from typing import Any

import polars as pl
from fpdf import FPDF

from enforcement.handoff_file import Header
from outputs.dunning_letters import country_line
from outputs.enforcement_csv import handoff_rows
from outputs.fmt import de_date, eur
from outputs.report_pdf import find_font, to_latin1

#: The mark on every page of a list not yet released.
DRAFT_MARK = "ENTWURF – nicht freigegeben"
#: What the creditor confirms above the signatures.
CONFIRMATION = ("Die aufgeführten Forderungen sind vollstreckbar (§ 6 VwVG NRW): Leistungsbescheid bekannt"
                "gegeben, Forderung fällig, Schonfrist abgelaufen, gemahnt oder Mahnung entbehrlich; "
                "Nebenforderungen werden mit ihrer Hauptforderung beigetrieben (§ 6 Abs. 4 VwVG NRW). Wir "
                "ersuchen um Vollstreckung. Zahlungen und Änderungen teilen wir unverzüglich mit.")


@dataclass(frozen=True)
class Signoff:
    """Who prepared the list and who released it (four eyes). No releaser yet: the list is a draft."""

    preparer: str
    prepared_on: date
    releaser: str | None = None
    released_on: date | None = None

    def __post_init__(self) -> None:
        if self.releaser is not None and self.releaser.strip().casefold() == self.preparer.strip().casefold():
            raise ValueError("the releaser of a hand-off list must be another person than its preparer")
        if (self.releaser is None) != (self.released_on is None):
            raise ValueError("a release needs both the releaser and the date")

    @property
    def released(self) -> bool:
        return self.releaser is not None


# --- layout (mm, A4 landscape) -----------------------------------------------------------------------------
_LEFT, _RIGHT = 12.0, 285.0
_WIDTH = _RIGHT - _LEFT
_TOP_TABLE = 33.0
_BOTTOM = 194.0
_ROW = 4.6
#: claim columns: (header, width, right-aligned)
_COLS: tuple[tuple[str, float, bool], ...] = (
    ("Kassenzeichen", 28, False), ("Forderungsart", 30, False), ("Bescheid", 44, False),
    ("fällig am", 18, False), ("Mahnung / Frist bis", 40, False), ("vollstreckbar seit", 26, False),
    ("Hauptforderung", 24, True), ("Zuschläge", 21, True), ("Gebühren", 20, True), ("Summe", 22, True))
_TEXT_COLS = 6                            # the columns before the amounts
_TEXT_WIDTH = sum(w for _, w, _ in _COLS[:_TEXT_COLS])
#: Why no Mahnung was needed (the hand-off's ``mahnung_omitted``), in words; another code is shown as it is.
OMITTED_WORDS = {"ancillary": "Nebenforderung", "address_unknown": "Anschrift unbekannt",
                 "without_means": "offensichtlich mittellos", "disproportionate": "unverhältnismäßig",
                 "coercive_fine": "Zwangsgeld"}
_SIGN_HEIGHT = 58.0


class _List:
    def __init__(self, header: Header, font: Path | None) -> None:
        self.h = header
        self.pdf = FPDF(orientation="L", unit="mm", format="A4")
        self.pdf.set_auto_page_break(False)
        self.pdf.set_margins(_LEFT, 10, 297 - _RIGHT)
        created = header.handoff_date or header.created.date()
        self.pdf.set_creation_date(datetime.combine(created, time()))
        self.unicode = font is not None
        if font is not None:
            self.pdf.add_font("dejavu", "", font)
            self.pdf.add_font("dejavu", "B", font.with_name("DejaVuSans-Bold.ttf"))
            self.family = "dejavu"
        else:
            self.family = "helvetica"
        self.pdf.set_title(self.t(f"Übergabeliste {header.message_id}"))
        self.pdf.set_author(self.t(header.sender.name))
        self._font: tuple[float, bool] = (0.0, False)
        self._lift = 0.0
        self._widths: dict[tuple[str, float, bool], float] = {}

    def t(self, text: Any) -> str:
        s = "" if text is None else str(text)
        return s if self.unicode else to_latin1(s)

    def font(self, size: float, bold: bool = False) -> None:
        if self._font != (size, bold):
            self.pdf.set_font(self.family, "B" if bold else "", size)
            self._font = (size, bold)
            self._lift = size * 0.3528 * 0.35

    def width(self, s: str) -> float:
        key = (s, *self._font)
        w = self._widths.get(key)
        if w is None:
            w = self._widths[key] = self.pdf.get_string_width(s)
        return w

    def fit(self, s: str, width: float) -> str:
        """``s`` cut with "…" (or "..." in the core font) to fit ``width``."""
        if self.width(s) <= width:
            return s
        dots = "…" if self.unicode else "..."
        while s and self.width(s + dots) > width:
            s = s[:-1]
        return s.rstrip() + dots

    def at(self, x: float, y: float, w: float, h: float, text: Any, align: str = "L") -> None:
        s = self.fit(self.t(text), w)
        if not s:
            return
        if align == "R":
            x += w - self.width(s)
        elif align == "C":
            x += (w - self.width(s)) / 2
        self.pdf.text(x, y + h / 2 + self._lift, s)

    def para(self, y: float, text: str, size: float, width: float = _WIDTH, lh: float = 4.2) -> float:
        """``text`` wrapped at spaces into ``width``; returns the y below it."""
        self.font(size)
        line: list[str] = []
        for word in self.t(text).split():
            if line and self.width(" ".join([*line, word])) > width:
                self.at(_LEFT, y, width, lh, " ".join(line))
                y, line = y + lh, []
            line.append(word)
        if line:
            self.at(_LEFT, y, width, lh, " ".join(line))
            y += lh
        return y

    # --- page furniture -----------------------------------------------------------------------------------
    def page(self, table: bool = True) -> float:
        """A new page with the list's head and (``table``) the table's column heads; returns the first y."""
        pdf, h = self.pdf, self.h
        pdf.add_page()
        self.font(13, True)
        self.at(_LEFT, 10, 170, 6, "Übergabeliste an die Vollstreckungsstelle")
        self.font(8)
        when = de_date(h.handoff_date) if h.handoff_date else de_date(h.created.date())
        self.at(_LEFT, 17, _WIDTH, 4, f"Gläubiger: {h.creditor.name}  ·  Absender: {h.sender.name}  ·  "
                                      f"Empfänger: {h.receiver.name}")
        self.at(_LEFT, 21.5, _WIDTH, 4, f"Übergabe vom {when}  ·  Datei-Nr. {h.message_id}  ·  Mandant {h.tenant}"
                                        "  ·  Beträge in Euro; Zuschläge: Säumniszuschläge und Zinsen bis zum "
                                        "Übergabetag")
        if not table:
            return _TOP_TABLE - _ROW
        y = _TOP_TABLE - _ROW - 1
        self.font(7, True)
        pdf.set_fill_color(225, 225, 225)
        pdf.rect(_LEFT, y, _WIDTH, _ROW, style="F")
        x = _LEFT
        for head, w, right in _COLS:
            self.at(x + 0.6, y, w - 1.2, _ROW, head, "R" if right else "L")
            x += w
        return _TOP_TABLE

    def cells(self, y: float, values: Sequence[str], bold: bool = False) -> float:
        """One table row; a row whose first cell is its only text before the amounts (a sum row) gets the
        width of all text columns for it."""
        self.font(7, bold)
        x = _LEFT
        if not any(values[1:_TEXT_COLS]):
            self.at(x + 0.6, y, _TEXT_WIDTH - 1.2, _ROW, values[0])
            x, values, cols = _LEFT + _TEXT_WIDTH, values[_TEXT_COLS:], _COLS[_TEXT_COLS:]
        else:
            cols = _COLS
        for (_, w, right), value in zip(cols, values, strict=True):
            self.at(x + 0.6, y, w - 1.2, _ROW, value, "R" if right else "L")
            x += w
        return y + _ROW

    def case_row(self, y: float, case: dict[str, Any], more: bool = False) -> float:
        self.pdf.set_fill_color(242, 242, 242)
        self.pdf.rect(_LEFT, y, _WIDTH, _ROW, style="F")
        self.font(7.5, True)
        label = self.fit(self.t(f"Fall {case['case_number']}"), 60)
        self.at(_LEFT + 0.6, y, 60, _ROW, label)
        x = _LEFT + 0.6 + self.width(label) + 5
        self.font(7.5)
        self.at(x, y, _RIGHT - 0.6 - x, _ROW, case["debtor_txt"] + ("  (Fortsetzung)" if more else ""))
        return y + _ROW

    def draft_marks(self) -> None:
        pdf = self.pdf
        last = pdf.page
        pdf.set_text_color(200, 0, 0)
        pdf.set_draw_color(200, 0, 0)
        for page in range(1, pdf.pages_count + 1):
            pdf.page = page
            pdf.current_font_is_set_on_page = False
            self._font = (0.0, False)
            self.font(11, True)
            pdf.set_line_width(0.5)
            pdf.rect(_RIGHT - 80, 9, 80, 7)
            self.at(_RIGHT - 80, 9, 80, 7, DRAFT_MARK, "C")
            self.font(34, True)                # the words across the page: about 210 mm long
            mark = self.t(DRAFT_MARK)
            with pdf.local_context(fill_opacity=0.25), pdf.rotation(20, 148.5, 110):
                self.pdf.text(148.5 - self.width(mark) / 2, 115, mark)
        pdf.set_text_color(0, 0, 0)
        pdf.set_draw_color(0, 0, 0)
        pdf.set_line_width(0.2)
        pdf.page = last

    def footers(self) -> None:
        pdf = self.pdf
        last, pages = pdf.page, pdf.pages_count
        for page in range(1, pages + 1):
            pdf.page = page
            pdf.current_font_is_set_on_page = False
            self._font = (0.0, False)
            self.font(7)
            pdf.set_line_width(0.2)
            pdf.line(_LEFT, 199, _RIGHT, 199)
            self.at(_LEFT, 200, 180, 4, f"Übergabeliste {self.h.message_id} · {self.h.creditor.name}")
            self.at(_RIGHT - 40, 200, 40, 4, f"Seite {page} von {pages}", "R")
        pdf.page = last

    def signatures(self, y: float, signoff: Signoff | None) -> None:
        y = self.para(y + 2, CONFIRMATION, 8.5) + 4
        col = (_WIDTH - 10) / 2
        blocks = (("Erstellt (Sachbearbeitung)", signoff.preparer if signoff else None,
                   signoff.prepared_on if signoff else None),
                  ("Freigegeben (zweite Person, Vier-Augen-Prinzip)", signoff.releaser if signoff else None,
                   signoff.released_on if signoff else None))
        pdf = self.pdf
        pdf.set_line_width(0.2)
        for i, (title, name, when) in enumerate(blocks):
            x = _LEFT + i * (col + 10)
            pdf.rect(x, y, col, 36)
            self.font(9, True)
            self.at(x + 2, y + 1.5, col - 4, 5, title)
            for j, (label, value) in enumerate((("Name", name), ("Datum", de_date(when) if when else None),
                                                ("Unterschrift", None))):
                ly = y + 10 + j * 8.5
                self.font(8.5)
                self.at(x + 2, ly, 24, 5, label)
                pdf.line(x + 27, ly + 5, x + col - 3, ly + 5)
                if value:
                    self.font(9, True)
                    self.at(x + 28, ly, col - 31, 5, value)


def _prepared(cases: pl.DataFrame, claims: pl.DataFrame) -> list[tuple[dict[str, Any], list[tuple[str, ...]],
                                                                       tuple[int, int, int, int]]]:
    """Per case: its head values, its claim rows as printed, its four sums in cents."""
    rows = handoff_rows(cases, claims).with_columns(
        pl.concat_str([pl.col("notice_reference"), pl.lit(" vom ")]).fill_null("vom ").alias("_nref"),
        pl.concat_str([pl.col("mahnung_date").dt.strftime("%d.%m.%Y"), pl.lit(" / "),
                       pl.col("mahnung_deadline").dt.strftime("%d.%m.%Y")])
        .fill_null(pl.concat_str([pl.lit("entbehrlich: "), pl.col("mahnung_omitted").replace(OMITTED_WORDS)]))
        .fill_null("").alias("_mahnung"))
    out: list[tuple[dict[str, Any], list[tuple[str, ...]], tuple[int, int, int, int]]] = []
    current: str | None = None
    for r in rows.iter_rows(named=True):
        if r["case_number"] != current:
            current = r["case_number"]
            place = f"{r['debtor_postcode']} {r['debtor_city']}".strip()
            country = country_line(r["debtor_country"])
            parts = [r["debtor_name"], f"geb. {de_date(r['debtor_birth_date'])}" if r["debtor_birth_date"] else "",
                     ", ".join(p for p in (r["debtor_street"], place, country.title() if country else "") if p),
                     f"Schuldner-Nr. {r['debtor_id']}"]
            out.append(({"case_number": current, "debtor_txt": "  ·  ".join(p for p in parts if p)}, [],
                        (0, 0, 0, 0)))
        head, claim_rows, sums = out[-1]
        claim_rows.append((r["kassenzeichen"], r["claim_words"], r["_nref"] + de_date(r["notice_date"]), de_date(r["due_date"]),
                           r["_mahnung"], de_date(r["enforceable_since"]), eur(r["principal_cents"], symbol=False),
                           eur(r["surcharges_cents"], symbol=False), eur(r["fees_cents"], symbol=False),
                           eur(r["total_cents"], symbol=False)))
        out[-1] = (head, claim_rows, (sums[0] + r["principal_cents"], sums[1] + r["surcharges_cents"],
                                      sums[2] + r["fees_cents"], sums[3] + r["total_cents"]))
    return out


def _sum_cells(label: str, sums: tuple[int, ...]) -> tuple[str, ...]:
    return (label, "", "", "", "", "", *(eur(s, symbol=False) for s in sums))


def render_handoff_list(header: Header, cases: pl.DataFrame, claims: pl.DataFrame, signoff: Signoff | None = None,
                        *, font: Path | bool | None = True, compress: bool = True) -> bytes:
    """The Übergabeliste as PDF bytes. ``signoff``: preparer and (once released) releaser; without a
    releaser every page is marked :data:`DRAFT_MARK`. ``font``/``compress`` as in
    ``outputs.dunning_letters.render_letters`` (tests read the uncompressed streams)."""
    path = find_font() if font is True else (font if isinstance(font, Path) else None)
    doc = _List(header, path)
    doc.pdf.set_compression(compress)
    prepared = _prepared(cases, claims)
    y = doc.page()
    total = [0, 0, 0, 0]
    n_claims = 0
    for head, rows, sums in prepared:
        block = (len(rows) + 2) * _ROW + 1.5
        if y + min(block, 3 * _ROW) > _BOTTOM or (y + block > _BOTTOM and block <= _BOTTOM - _TOP_TABLE
                                                   and y > _TOP_TABLE):
            y = doc.page()                                  # keep a case on one page where it fits on one
        y = doc.case_row(y, head)
        for cells in rows:
            if y + _ROW > _BOTTOM:
                y = doc.case_row(doc.page(), head, more=True)
            y = doc.cells(y, cells)
        if y + _ROW > _BOTTOM:
            y = doc.case_row(doc.page(), head, more=True)
        y = doc.cells(y, _sum_cells(f"Summe Fall {head['case_number']}", sums), bold=True) + 1.5
        total = [a + b for a, b in zip(total, sums, strict=True)]
        n_claims += len(rows)
    if y + 2 * _ROW + 2 > _BOTTOM:
        y = doc.page()
    doc.pdf.set_line_width(0.4)
    doc.pdf.line(_LEFT, y + 0.5, _RIGHT, y + 0.5)
    y = doc.cells(y + 1, _sum_cells("Gesamtsumme", tuple(total)), bold=True)
    doc.font(8)
    doc.at(_LEFT + 0.6, y, _WIDTH, _ROW, f"{len(prepared)} Fälle, {n_claims} Forderungen")
    y += _ROW + 2
    if y + _SIGN_HEIGHT > _BOTTOM:                    # the signers see what they sign for on their page
        y = doc.page(table=False)
        doc.font(9, True)
        doc.at(_LEFT, y, _WIDTH, 5, f"Gesamtsumme der Übergabe: {eur(total[3])} – {len(prepared)} Fälle, "
                                    f"{n_claims} Forderungen (Hauptforderungen {eur(total[0])}, Zuschläge "
                                    f"{eur(total[1])}, Gebühren {eur(total[2])})")
        y += 7
    doc.signatures(y, signoff)
    if signoff is None or not signoff.released:
        doc.draft_marks()
    doc.footers()
    return bytes(doc.pdf.output())
