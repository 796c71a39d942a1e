"""The frame every letter of the Stadtkasse shares: sender, window address, marks, fonts, lines, pages.

The dunning letters (:mod:`outputs.dunning_letters`) and the Verrechnungsmitteilung
(:mod:`outputs.setoff_letters`) are different letters in one frame, so a debtor and a print centre see one
house style and the envelope's window shows the address on both. :class:`LetterPdf` is one FPDF document
(A4, mm, no automatic page break: the letters decide where a page ends) with what a letter needs besides
its own words:

* **DIN 5008 form B** (mm from the page's top left): the letterhead (the sender's name and address) at
  the top; the window-envelope address field at left 20, top 45, 85 × 45 — the return-address line in its
  upper zone, the recipient in its lower 27 mm (name in at most three lines, a longer one cut with "...",
  street, postcode and city, the country's German name in capitals when it is not Germany); the
  information block at the right (date, numbers, the sender's contact lines); the subject from 98.5; fold
  marks at 105 and 210, the hole mark at 148.5 (:meth:`LetterPdf.opening`).
* A continuation page's header (:meth:`LetterPdf.continuation`), a table's column heads and rows
  (:meth:`LetterPdf.table_head`, :meth:`LetterPdf.row`), and "Seite i von n" of each letter on every one
  of its pages, written once its page count is known (:meth:`LetterPdf.number_pages`).
* The draft mark :data:`DRAFT_MARK` on every page (:meth:`LetterPdf.draft_marks`).
* Text: placed with fpdf2's ``text()`` and broken into lines on cached word widths (a word wider than its
  column is cut, so no name runs out of the window); DejaVu Sans embedded (subset) when it is on the
  machine (``outputs.report_pdf.find_font``), else the core font with the characters outside latin-1
  replaced (:func:`resolve_font`).

The PDF's creation date is the letters' date: the same letters give the same bytes.
"""

from __future__ import annotations

import gettext
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time
from functools import lru_cache
from pathlib import Path
from typing import Any

import polars as pl
import pycountry
from fpdf import FPDF

from claims.config import TenantConfig
from claims.errors import ConfigError
from outputs.report_pdf import find_font, to_latin1

# --- layout (mm) -----------------------------------------------------------------------------------------
LEFT, RIGHT = 25.0, 190.0                # DIN 5008: 25 mm left, 20 mm right
WIDTH = RIGHT - LEFT
BOTTOM = 274.0                           # content ends here; the page line below
ROW = 4.6                                # table row height
NAME_LINES = 3                           # name lines in the address field (+ street, place, country = 6)
#: A table's columns: (head, width in mm, right-aligned).
Columns = tuple[tuple[str, float, bool], ...]

#: The mark on every page of a DRAFT run (the prepare phase's samples for the releaser): never to be sent.
DRAFT_MARK = "ENTWURF – nicht versenden"
#: The last line of every letter.
MACHINE_NOTE = "Dieses Schreiben wurde maschinell erstellt und ist ohne Unterschrift gültig."

#: What each claim type is for, in words a debtor reads (a type not listed: its code in words).
CLAIM_WORDS: dict[str, str] = {
    "GRUNDSTEUER": "Grundsteuer", "GEWERBESTEUER": "Gewerbesteuer", "HUNDESTEUER": "Hundesteuer",
    "VERGNUEGUNGSTEUER": "Vergnügungsteuer", "ZWEITWOHNUNGSTEUER": "Zweitwohnungsteuer",
    "ABFALL": "Abfallgebühren", "STRASSENREINIGUNG": "Straßenreinigung", "ABWASSER": "Abwassergebühren",
    "KAG_BEITRAG": "Beitrag nach KAG", "VERWALTUNGSGEBUEHR": "Verwaltungsgebühr", "BUSSGELD": "Bußgeld",
    "ZWANGSGELD": "Zwangsgeld", "KITA": "Kita-Beitrag", "RUNDFUNK_AMTSHILFE": "Rundfunkbeitrag",
    "MAHNGEBUEHR": "Mahngebühr", "SAEUMNISZUSCHLAG": "Säumniszuschlag", "KOSTEN": "Kosten",
    "ZINSEN": "Zinsen", "VERSPAETUNGSZUSCHLAG": "Verspätungszuschlag",
}


def claim_words(col: str = "claim_type") -> pl.Expr:
    """The claim type ``col`` in :data:`CLAIM_WORDS` (an unlisted code: its words in title case), vectorised.

    >>> pl.DataFrame({"claim_type": ["ABFALL", "NEUE_STEUER"]}).select(claim_words())["claim_type"].to_list()
    ['Abfallgebühren', 'Neue Steuer']
    """
    return pl.col(col).replace_strict(
        CLAIM_WORDS, default=pl.col(col).str.replace_all("_", " ").str.to_titlecase(), return_dtype=pl.String)


@dataclass(frozen=True, slots=True)
class Sender:
    """Who sends the letters and where the money goes (``[letters]`` of the tenant config)."""

    name: str
    street: str = ""
    postcode: str = ""
    city: str = ""
    contact: tuple[str, ...] = ()
    iban: str = ""
    bic: str = ""
    bank_name: str = ""
    account_holder: str = ""

    @property
    def holder(self) -> str:
        return self.account_holder or self.name


def plain_iban(iban: str) -> str:
    """An IBAN without spaces, in capitals."""
    return "".join(iban.split()).upper()


def iban_groups(iban: str) -> str:
    """An IBAN in groups of four, as printed: ``DE02 3705 0299 0000 6847 12``."""
    return " ".join(iban[i:i + 4] for i in range(0, len(iban), 4))


def masked_iban(iban: str) -> str:
    """An IBAN for a letter that names the debtor's own account: all but the last four characters as ``*``,
    in groups of four (the letter may be read by others; the last four let the debtor recognise it).

    >>> masked_iban("DE02 3705 0299 0000 6847 12")
    '**** **** **** **** **47 12'
    """
    plain = plain_iban(iban)
    return iban_groups("*" * max(len(plain) - 4, 0) + plain[-4:])


def sender_from_config(cfg: TenantConfig) -> Sender:
    """The sender from ``[letters]``, with the defaults of docs/CONFIG.md (first ``[[accounts]]``).

    :class:`~claims.errors.ConfigError` when there is no valid IBAN to be paid to: a letter asking for
    money must say where to, and its GiroCode needs it."""
    from schwifty import IBAN
    from schwifty.exceptions import SchwiftyException

    lt = cfg.letters
    name = lt.sender_name or f"Stadtkasse {cfg.settings.tenant.name or cfg.tenant}"
    iban = plain_iban(lt.pay_to_iban or (cfg.accounts[0].iban if cfg.accounts else ""))
    where = cfg.source or "the tenant config"
    if not iban:
        raise ConfigError(f"{where}: the dunning letters need an account to be paid to: set [letters] pay_to_iban "
                          "or an [[accounts]] entry")
    try:
        IBAN(iban)
    except SchwiftyException as exc:
        raise ConfigError(f"{where}: [letters] pay_to_iban / [[accounts]] iban {iban!r} is not a valid IBAN: {exc}") \
            from exc
    acct = next((a for a in cfg.accounts if plain_iban(a.iban) == iban), None)
    bic = lt.bic if lt.bic is not None else (acct.bic if acct else None)
    bank = lt.bank_name if lt.bank_name is not None else (acct.name or acct.bank if acct else None)
    return Sender(name=name, street=lt.sender_street, postcode=lt.sender_postcode, city=lt.sender_city,
                  contact=tuple(lt.contact), iban=iban, bic=(bic or "").replace(" ", "").upper(),
                  bank_name=bank or "", account_holder=lt.account_holder or name)


@lru_cache(maxsize=1)
def _german_countries() -> gettext.NullTranslations:
    return gettext.translation("iso3166-1", pycountry.LOCALES_DIR, languages=["de"], fallback=True)


def country_line(code: str | None) -> str:
    """The last address line for a letter abroad: the country's German name in capitals ('' for Germany)."""
    code = (code or "").strip().upper()
    if code in ("", "DE", "DEU"):
        return ""
    found = pycountry.countries.get(alpha_2=code) if len(code) == 2 else pycountry.countries.get(alpha_3=code)
    return (_german_countries().gettext(found.name) if found is not None else code).upper()


def resolve_font(font: Path | bool | None) -> Path | None:
    """The TTF to embed: ``True`` looks for DejaVu Sans, a path is that file, ``False``/``None`` the core
    font (latin-1 only)."""
    return find_font() if font is True else (font if isinstance(font, Path) else None)


def address_frame(frame: pl.DataFrame) -> pl.DataFrame:
    """The recipient's lines from the ``debtor_*`` columns: ``name``, ``street``, ``place`` (postcode and
    city) and ``country_code`` (the country column as it is; :func:`country_line` makes the line)."""
    place = pl.concat_str([pl.col("debtor_postcode").fill_null(""), pl.col("debtor_city").fill_null("")],
                          separator=" ").str.strip_chars()
    return frame.with_columns(pl.col("debtor_name").fill_null("").alias("name"),
                              pl.col("debtor_street").fill_null("").alias("street"), place.alias("place"))


class LetterPdf:
    """One FPDF document of letters; a letter module adds its own pages and words on this frame."""

    def __init__(self, sender: Sender, font: Path | None, created: date) -> None:
        self.s = sender
        self.pdf = FPDF(unit="mm", format="A4")
        self.pdf.set_auto_page_break(False)
        self.pdf.set_margins(LEFT, 15, 210 - RIGHT)
        self.pdf.set_creation_date(datetime.combine(created, time()))
        self.unicode = font is not None
        self.pdf.set_title(self.t(f"Schreiben der {sender.name}"))
        self.pdf.set_author(self.t(sender.name))
        if font is not None:
            self.pdf.add_font("dejavu", "", font)
            self.pdf.add_font("dejavu", "B", font.with_name("DejaVuSans-Bold.ttf"))
            self.family = "dejavu"
        else:
            self.family = "helvetica"
        self._wraps: dict[tuple[str, float, float, bool], list[str]] = {}
        self._font: tuple[float, bool] = (0.0, False)
        self._lift = 0.0
        self._widths: dict[tuple[str, float, bool], float] = {}
        self.return_line = " · ".join(p for p in (sender.name, sender.street,
                                                 f"{sender.postcode} {sender.city}".strip()) if p)

    # --- text -------------------------------------------------------------------------------------------
    def t(self, text: Any) -> str:
        """``text`` as the font can print it (latin-1 replacements for the core font)."""
        s = "" if text is None else str(text)
        return s if self.unicode else to_latin1(s)

    def font(self, size: float, bold: bool = False) -> None:
        if self._font != (size, bold):
            self.pdf.set_font(self.family, "B" if bold else "", size)
            self._font = (size, bold)
            self._lift = size * 0.3528 * 0.35     # baseline below a line's middle: about a third of the size

    def at(self, x: float, y: float, w: float, h: float, text: str, align: str = "L", *, ready: bool = False) -> None:
        """``text`` in the box (x, y, w, h), vertically centred, aligned left, right (``R``) or centred (``C``).

        fpdf2's ``text()`` (one text operator at a baseline) instead of ``cell()``: a letter has about a
        hundred of these, and ``cell()`` cost six times as much (line-break and style machinery)."""
        s = text if ready else self.t(text)
        if not s:
            return
        if align != "L":
            free = w - self.width(s)
            x += free if align == "R" else free / 2
        self.pdf.text(x, y + h / 2 + self._lift, s)

    def wrap(self, text: str, width: float, size: float, bold: bool = False) -> list[str]:
        """``text`` broken at spaces into lines of at most ``width`` mm (a longer word is cut).

        Greedy, on cached word widths: fpdf2's ``multi_cell`` line breaking took a quarter of a letter's
        time for the few lines that differ from letter to letter (the remittance, long names). A word wider
        than the line is cut (:meth:`_pieces`)."""
        key = (text, width, size, bold)
        cached = self._wraps.get(key)
        if cached is not None:
            return cached
        self.font(size, bold)
        space = self.width(" ")
        lines: list[str] = []
        words: list[str] = []
        used = 0.0
        for word in (piece for token in self.t(text).split() for piece in self._pieces(token, width)):
            w = self.width(word)
            if words and used + space + w > width:
                lines.append(" ".join(words))
                words, used = [], 0.0
            used = used + space + w if words else w
            words.append(word)
        if words:
            lines.append(" ".join(words))
        if len(self._wraps) < 10_000:               # the texts every letter has; bounded for the rest
            self._wraps[key] = lines
        return lines

    def _pieces(self, word: str, width: float) -> list[str]:
        """``word`` as it is, or — wider than ``width`` (a name without spaces, a long id) — cut into pieces
        that fit, so no text runs out of its column or the envelope's window."""
        if self.width(word) <= width:
            return [word]
        pieces, start = [], 0
        for end in range(1, len(word) + 1):
            if end - start > 1 and self.pdf.get_string_width(word[start:end]) > width:
                pieces.append(word[start:end - 1])
                start = end - 1
        pieces.append(word[start:])
        return pieces

    def width(self, s: str) -> float:
        """The width of ``s`` in the current font (cached: amounts and dates repeat)."""
        key = (s, *self._font)
        w = self._widths.get(key)
        if w is None:
            w = self._widths[key] = self.pdf.get_string_width(s)
        return w

    def para(self, y: float, text: str, size: float = 9.5, bold: bool = False, lh: float = 4.3,
             x: float = LEFT, width: float = WIDTH) -> float:
        """``text`` wrapped from ``y``; returns the ``y`` below it."""
        lines = self.wrap(text, width, size, bold)
        self.font(size, bold)
        for i, line in enumerate(lines):
            self.at(x, y + i * lh, width, lh, line, ready=True)     # already converted by wrap
        return y + len(lines) * lh

    def para_height(self, text: str, size: float = 9.5, bold: bool = False, lh: float = 4.3,
                    width: float = WIDTH) -> float:
        return len(self.wrap(text, width, size, bold)) * lh

    # --- page furniture ---------------------------------------------------------------------------------
    def marks(self) -> None:
        """The fold marks (105, 210 mm) and the hole mark (148.5 mm) at the left edge."""
        pdf = self.pdf
        pdf.set_line_width(0.2)
        pdf.line(4, 105, 9, 105)
        pdf.line(4, 210, 9, 210)
        pdf.line(4, 148.5, 11, 148.5)

    def draft_marks(self, mark: str = DRAFT_MARK) -> None:
        """``mark`` on every page: a framed banner at the top right and the words across the page, in red
        (see-through), so no page of a draft can pass for a letter to send."""
        pdf = self.pdf
        last = pdf.page
        mark = self.t(mark)
        pdf.set_text_color(200, 0, 0)
        pdf.set_draw_color(200, 0, 0)
        for page in range(1, pdf.pages_count + 1):
            pdf.page = page
            pdf.current_font_is_set_on_page = False
            self._font = (0.0, False)
            self.font(11, True)
            pdf.set_line_width(0.5)
            pdf.rect(LEFT + 100, 6, WIDTH - 100, 7)
            self.at(LEFT + 100, 6, WIDTH - 100, 7, mark, "C", ready=True)
            self.font(40, True)
            # see-through, so the letter under it stays readable for the releaser
            with pdf.local_context(fill_opacity=0.3), pdf.rotation(35, 105, 170):
                self.at(105 - self.width(mark) / 2, 165, self.width(mark), 12, mark, ready=True)
        pdf.set_text_color(0, 0, 0)
        pdf.set_draw_color(0, 0, 0)
        pdf.page = last

    def opening(self, address: Sequence[str], info: Sequence[tuple[str, str]], subject: str) -> float:
        """A letter's first page up to the salutation; returns the ``y`` below it.

        ``address``: the recipient's name, street, place and country line (empty ones left out);
        ``info``: the information block's (label, value) rows above the sender's contact lines."""
        s, pdf = self.s, self.pdf
        pdf.add_page()
        self.marks()
        self.font(13, True)
        self.at(LEFT, 15, 120, 6, s.name)
        self.font(8)
        place = ", ".join(p for p in (s.street, f"{s.postcode} {s.city}".strip()) if p)
        if place:
            self.at(LEFT, 21.5, 120, 4, place)
        # address field: return line in the upper zone, the recipient in the lower 27 mm
        self.font(6.5)
        self.at(25, 57.5, 80, 3, self.return_line)
        pdf.line(25, 60.8, 100, 60.8)
        y = 63.5
        name_lines = self.wrap(address[0], 78, 10)             # converted by wrap
        if len(name_lines) > NAME_LINES:                        # the Anschriftzone holds six lines
            name_lines = [*name_lines[:NAME_LINES - 1], name_lines[NAME_LINES - 1].rstrip() + " ..."]
        self.font(10)
        lines = [*name_lines, *(self.t(v) for v in address[1:])]
        for line in (ln for ln in lines if ln):
            self.at(25, y, 80, 4.2, line, ready=True)
            y += 4.2
        # information block
        y = 50.0
        for label, value in info:
            self.font(8)
            self.at(125, y, 27, 4, label)
            self.font(8, True)
            self.at(152, y, 48, 4, value)
            y += 4.2
        self.font(8)
        y += 1.5
        for line in s.contact:
            self.at(125, y, 75, 4, line)
            y += 4.0
        self.font(12, True)
        self.at(LEFT, 98.5, WIDTH, 6, subject)
        return self.para(107.0, "Sehr geehrte Damen und Herren,")

    def continuation(self, title: str, name: str) -> float:
        """A new page of the same letter under a header (``title``, the recipient's ``name``); returns the
        ``y`` where its content starts."""
        self.pdf.add_page()
        self.marks()
        self.font(9, True)
        self.at(LEFT, 15, WIDTH, 5, title)
        self.font(8)
        self.at(LEFT, 20, WIDTH, 4, name)
        self.pdf.line(LEFT, 25.5, RIGHT, 25.5)
        return 30.0

    def table_head(self, y: float, cols: Columns) -> float:
        """The column heads of a table on a grey band; returns the ``y`` below them."""
        pdf = self.pdf
        self.font(7, True)
        pdf.set_fill_color(232, 232, 232)
        pdf.rect(LEFT, y, WIDTH, ROW, style="F")
        x = LEFT
        for head, w, right in cols:
            self.at(x + 0.6, y, w - 1.2, ROW, head, "R" if right else "L")
            x += w
        return y + ROW

    def row(self, y: float, cols: Columns, cells: Sequence[str], bold: bool = False) -> float:
        """One table row; returns the ``y`` below it."""
        self.font(8, bold)
        x = LEFT
        for (_, w, right), value in zip(cols, cells, strict=True):
            self.at(x + 0.6, y, w - 1.2, ROW, value, "R" if right else "L")
            x += w
        return y + ROW

    def number_pages(self, first: int, ref: str) -> int:
        """"Seite i von n" and ``ref`` (after the sender's name) at the foot of each page of the letter that
        began on page ``first`` and ends on the current page; returns its pages."""
        pdf, s = self.pdf, self.s
        last = pdf.page
        pages = last - first + 1
        self.font(7.5)
        for i in range(pages):                  # "Seite i von n" of this letter, written once n is known
            pdf.page = first + i
            pdf.current_font_is_set_on_page = False     # each earlier page gets the footer's font set anew
            pdf.line(LEFT, 281, RIGHT, 281)
            self.at(LEFT, 282, 100, 4, f"{s.name} · {ref}")
            self.at(RIGHT - 40, 282, 40, 4, f"Seite {i + 1} von {pages}", "R")
        pdf.page = last
        return pages

    def no_letters(self, text: str = "Keine Schreiben in diesem Lauf.") -> None:
        """The one page of a document without letters (fpdf2 writes a blank page into a PDF without pages)."""
        self.pdf.add_page()
        self.font(11)
        self.at(LEFT, 30, WIDTH, 6, text)

    def output(self) -> bytes:
        return bytes(self.pdf.output())


__all__ = ["BOTTOM", "CLAIM_WORDS", "DRAFT_MARK", "LEFT", "MACHINE_NOTE", "RIGHT", "ROW", "WIDTH", "Columns",
           "LetterPdf", "Sender", "address_frame", "claim_words", "country_line", "iban_groups", "masked_iban",
           "plain_iban", "resolve_font", "sender_from_config"]
