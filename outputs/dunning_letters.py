"""The dunning run's letters as one print-ready PDF, with a GiroCode each, and the print centre's data file.

:func:`render_letters` turns :func:`dunning.notices.group_notices`' two frames into one PDF (fpdf2, A4,
all letters in **one** document: a print centre takes one file per run) and a frame saying where each
letter starts and how many pages it has. :func:`write_print_run` writes the PDF, ``print_file.csv``
(one row per letter: address, level, pages, total, deadline) and ``manifest.json`` atomically
(``outputs.atomic``).

**Layout** (DIN 5008 form B, mm from the page's top left): letterhead at the top; the window-envelope
address field at left 20, top 45, 85 × 45 — the return-address line in its upper zone, the recipient in
its lower 27 mm (name in at most two lines, street, postcode and city, the country in capitals when it is
not Germany); the information block at the right (date, notice number, debtor number, contact); the
subject (*Zahlungserinnerung*, *Mahnung*, *Vollstreckungsankündigung*) from 98.5; fold marks at 105 and
210, the hole mark at 148.5. Then the table of claims (Kassenzeichen, what for, due date, open principal,
Säumniszuschlag, Mahngebühr, interest) with its sums, the amount and the deadline, the warning that
ancillary claims are enforced too (§ 6 Abs. 4 VwVG NRW, on a Mahnung and a Vollstreckungsankündigung),
the bank details and the GiroCode. A letter whose table does not fit continues on the next page under a
repeated header (subject, number, debtor) and the table's column heads; every page says "Seite i von n"
of its own letter.

**GiroCode** (EPC069-12, version 002): ``BCD``, ``002``, character set ``1`` (UTF-8), ``SCT``, the BIC
(may be empty), the account holder, the IBAN, ``EUR`` and the amount with two decimals, no purpose, no
structured reference, the remittance (:func:`epc_payload`). The QR code is made by **segno** with error
level M as EPC requires; its mask is fixed (:data:`QR_MASK`) instead of segno's search over all eight,
which was 80 % of a code's time — every mask gives a valid code that readers decode (checked with zbarimg
on rendered pages). The modules go into the PDF as a grey-scale image (one byte per module, enlarged to
four pixels a module): a quarter of the time of a segno PNG and a sixth of drawing the modules as
rectangles (docs/BENCHMARKS.md, "Dunning: letters").

The letter's frame — sender, window address, marks, fonts, line breaking, page numbers, draft marks — is
:mod:`outputs.letter_pdf`, shared with the Verrechnungsmitteilung (:mod:`outputs.setoff_letters`). The
PDF's creation date is the notice date: the same notices give the same bytes.
"""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import polars as pl
import segno
from PIL import Image

from claims.money import format_eur_expr, plain_eur
from dunning.notices import REMITTANCE_MANY
from outputs.atomic import PlannedFile, write_all, write_file_atomically
from outputs.excel_csv import Col, excel_csv_bytes
from outputs.fmt import eur
from outputs.letter_pdf import (
    BOTTOM,
    CLAIM_WORDS,
    DRAFT_MARK,
    LEFT,
    MACHINE_NOTE,
    RIGHT,
    ROW,
    WIDTH,
    Columns,
    LetterPdf,
    Sender,
    address_frame,
    claim_words,
    country_line,
    iban_groups,
    plain_iban,
    resolve_font,
    sender_from_config,
)

#: File names of a print run.
LETTERS_PDF = "letters.pdf"
PRINT_FILE = "print_file.csv"
#: The print file's columns, in this order.
PRINT_COLUMNS = ("notice_id", "debtor_id", "name", "street", "postcode", "city", "country", "level", "first_page",
                 "pages", "total_cents", "deadline")
#: QR mask pattern used for every GiroCode (module docstring: a fixed mask is valid and 5× faster).
QR_MASK = 2
#: EPC069-12 limits.
QR_PIXELS = 4
EPC_MAX_CENTS = 99_999_999_999
EPC_MAX_VERSION = 13


@dataclass(frozen=True, slots=True)
class LevelText:
    """The words of one level's letter (written for these letters; § references from DOMAIN.md §1)."""

    subject: str
    intro: str
    pay: str                      # "{total}" and "{deadline}" are filled in
    warning: str                  # empty: none (a Zahlungserinnerung threatens nothing)
    legal: str


_ANCILLARY = ("Wir weisen darauf hin, dass dabei auch die Nebenforderungen – Säumniszuschläge, Mahngebühren, "
              "Zinsen und Kosten – beigetrieben werden (§ 6 Abs. 4 VwVG NRW).")
_LEGAL = ("Rechtsgrundlagen: Mahngebühr § 9 VO VwVG NRW (einmal je Forderung); Säumniszuschläge § 240 AO, "
          "für Gebühren und Beiträge i. V. m. § 12 KAG NRW, für Verwaltungsgebühren § 18 GebG NRW; "
          "Verzugszinsen bei privatrechtlichen Forderungen § 288 BGB.")

#: The texts per level (``claims.vocab.DunningLevel`` values).
LEVEL_TEXTS: dict[str, LevelText] = {
    "zahlungserinnerung": LevelText(
        subject="Zahlungserinnerung",
        intro=("bitte denken Sie an die Zahlung der folgenden Beträge, die in Kürze fällig werden. Überweisen "
               "Sie sie bitte rechtzeitig zum jeweiligen Fälligkeitstag; so entstehen weder Säumniszuschläge "
               "noch Mahngebühren."),
        pay="Gesamtbetrag {total}, zahlbar zu den oben genannten Fälligkeitstagen.",
        warning="", legal=""),
    "mahnung": LevelText(
        subject="Mahnung",
        intro=("nach unseren Unterlagen sind die folgenden fälligen Beträge bis heute nicht bei uns eingegangen. "
               "Bitte überweisen Sie den Gesamtbetrag einschließlich der angefallenen Säumniszuschläge, Zinsen "
               "und der Mahngebühr."),
        pay="Bitte zahlen Sie {total} bis spätestens {deadline} (Eingang auf unserem Konto).",
        warning=("Geht der Betrag nicht fristgerecht ein, müssen Sie mit der Vollstreckung rechnen; sie "
                 "verursacht weitere Kosten. " + _ANCILLARY),
        legal=_LEGAL),
    "vollstreckungsankuendigung": LevelText(
        subject="Vollstreckungsankündigung",
        intro=("die folgenden Beträge sind trotz Mahnung bis heute nicht bei uns eingegangen. Hiermit kündigen "
               "wir Ihnen die Vollstreckung an."),
        pay="Bitte zahlen Sie {total} bis spätestens {deadline} (Eingang auf unserem Konto).",
        warning=("Geht der Betrag bis dahin nicht ein, leiten wir ohne weitere Ankündigung Vollstreckungs"
                 "maßnahmen ein, zum Beispiel die Pfändung Ihres Kontos, Ihres Arbeitseinkommens oder "
                 "beweglicher Sachen; sie verursachen weitere Kosten. " + _ANCILLARY
                 + " Diese Ankündigung selbst ist gebührenfrei."),
        legal=_LEGAL),
}

_SETTLED = ("Haben Sie inzwischen gezahlt, ist dieses Schreiben für Sie gegenstandslos. Können Sie nicht "
            "sofort zahlen, wenden Sie sich bitte umgehend an uns.")
_QUOTE_ALL = ("Verwendungszweck: Bitte geben Sie alle oben genannten Kassenzeichen an oder überweisen Sie je "
              "Kassenzeichen getrennt.")
_QUOTE_LABEL = "Verwendungszweck (bitte unbedingt angeben):"
#: The claims-table line naming the notice's fee Kassenzeichen (the booking gives the fees and surcharges
#: of one notice one Kassenzeichen of their own, jobs/dunning/charges.py; the remittance names it too).
FEE_KZ_LINE = "Mahngebühr, Säumniszuschläge, Zinsen: Kassenzeichen {kz}"
#: The line under it on a later letter (optional notice column ``earlier_fees_cents`` > 0): the fee columns
#: show what is OPEN of the claim's fees, those of earlier letters included (jobs/dunning/charges.owed).
EARLIER_FEES_LINE = ("Säumniszuschlag, Mahngebühr, Zinsen: noch offene Beträge; darin aus früheren Schreiben "
                     "noch offen: {amount}")


def _one_line(text: str) -> str:
    """Text for one EPC field: control characters and line breaks become spaces."""
    return " ".join("".join(ch if ch.isprintable() else " " for ch in text).split())


def epc_payload(*, name: str, iban: str, amount_cents: int, remittance: str, bic: str = "") -> str:
    """The GiroCode's text (EPC069-12 version 002, UTF-8, SCT, unstructured remittance).

    >>> epc_payload(name="Stadtkasse Musterstadt", iban="DE02 3705 0299 0000 6847 12", amount_cents=12345,
    ...             remittance="1.2345.6789.012").split("\\n")
    ['BCD', '002', '1', 'SCT', '', 'Stadtkasse Musterstadt', 'DE02370502990000684712', 'EUR123.45', '', '', '1.2345.6789.012']
    """
    name, remittance, iban, bic = _one_line(name), _one_line(remittance), plain_iban(iban), plain_iban(bic)
    if not 0 < len(name) <= 70:
        raise ValueError(f"GiroCode: the account holder needs 1 to 70 characters, got {len(name)}")
    if not 5 <= len(iban) <= 34:
        raise ValueError(f"GiroCode: no valid IBAN to pay to ({iban!r}): set [letters] pay_to_iban or [[accounts]]")
    if bic and len(bic) not in (8, 11):
        raise ValueError(f"GiroCode: a BIC has 8 or 11 characters, got {bic!r}")
    if not 1 <= amount_cents <= EPC_MAX_CENTS:
        raise ValueError(f"GiroCode: amount out of range ({amount_cents} cents)")
    if len(remittance) > 140:
        raise ValueError(f"GiroCode: remittance longer than 140 characters ({len(remittance)})")
    amount = "EUR" + plain_eur(amount_cents)
    text = "\n".join(("BCD", "002", "1", "SCT", bic, name, iban, amount, "", "", remittance))
    if len(text.encode("utf-8")) > 331:
        raise ValueError("GiroCode: payload longer than 331 bytes")
    return text


_INVERT = bytes(0 if i else 255 for i in range(256))      # module 1 (dark) -> black, 0 -> white


def qr_modules(payload: str) -> tuple[int, bytes]:
    """The QR code of ``payload`` (segno, error level M, :data:`QR_MASK`): its size and one byte per module,
    row by row (1 dark). Plain bytes, so that a worker process can make them (:func:`_girocodes`)."""
    qr = segno.make_qr(payload.encode("utf-8"), error="m", boost_error=False, mask=QR_MASK)
    if int(qr.version) > EPC_MAX_VERSION:
        raise ValueError(f"GiroCode: QR version {qr.version} above EPC's {EPC_MAX_VERSION}")
    return len(qr.matrix), b"".join(bytes(row) for row in qr.matrix)


def _qr_chunk(payloads: list[str | None]) -> list[tuple[int, bytes] | None]:
    return [qr_modules(p) if p else None for p in payloads]


def _image(size: int, modules: bytes) -> Image.Image:
    img = Image.frombytes("L", (size, size), modules.translate(_INVERT))
    # a few pixels a module: a viewer scaling a one-pixel-per-module image smooths the edges into grey and
    # zbarimg no longer read the code of a page rendered at 100-150 dpi (it read every one at 4 pixels)
    return img.resize((size * QR_PIXELS, size * QR_PIXELS), Image.Resampling.NEAREST)


def girocode_image(payload: str) -> Image.Image:
    """The QR code of ``payload`` as a grey image, :data:`QR_PIXELS` pixels a module (no quiet zone: the
    letter leaves the space free)."""
    return _image(*qr_modules(payload))


#: A run of at least this many letters makes its QR codes in a worker process (``workers`` = None).
POOL_MIN_LETTERS = 1500
_CHUNK = 100


def _girocodes(payloads: list[str | None], workers: int | None) -> Iterator[Image.Image | None]:
    """The GiroCode images in order; QR encoding (40 % of a letter's time, pure Python) in ``workers``
    processes while this one lays out the letters, or here when ``workers`` is 0, the run is small (the
    worker's start costs about as much as 1,000 codes) or no process can be started (e.g. inside a daemon)."""
    if workers is None:
        workers = 1 if len(payloads) >= POOL_MIN_LETTERS and (os.cpu_count() or 1) >= 2 else 0
    chunks = [payloads[i:i + _CHUNK] for i in range(0, len(payloads), _CHUNK)]
    results: Iterator[list[tuple[int, bytes] | None]] = iter(())
    pool = None
    if workers > 0 and len(chunks) > 1:
        try:
            pool = ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context("spawn"))
            results = pool.map(_qr_chunk, chunks)
        except (OSError, AssertionError, RuntimeError):       # no child processes here: make them inline
            pool = None
    try:
        for chunk in (results if pool is not None else map(_qr_chunk, chunks)):
            for made in chunk:
                yield _image(*made) if made else None
    finally:
        if pool is not None:
            pool.shutdown(cancel_futures=True)


# --- layout (mm) -----------------------------------------------------------------------------------------
#: table columns: (header, width, right-aligned)
_COLS: Columns = (
    ("Kassenzeichen", 28, False), ("Forderung", 32, False), ("fällig am", 18, False),
    ("Offener Betrag", 23, True), ("Säumniszuschlag", 26, True), ("Mahngebühr", 20, True), ("Zinsen", 18, True))
_QR = 30.0                               # GiroCode edge


class _Letters(LetterPdf):
    """One FPDF document; :meth:`letter` appends one dunning letter and returns its (first page, pages)."""

    def first_page(self, n: dict[str, Any], text: LevelText) -> float:
        info = [("Datum", n["date_txt"]), ("Schreiben-Nr.", n["notice_id"]), ("Schuldner-Nr.", n["debtor_id"])]
        y = self.opening((n["name"], n["street"], n["place"], n["country_line"]), info, text.subject)
        return self.para(y + 2.0, text.intro) + 3.0

    def next_page(self, n: dict[str, Any], text: LevelText) -> float:
        return self.continuation(f"{text.subject} vom {n['date_txt']} · Nr. {n['notice_id']} · Fortsetzung",
                                 n["name"])

    def dunning_head(self, y: float) -> float:
        return self.table_head(y, _COLS)

    # --- one letter -------------------------------------------------------------------------------------
    def letter(self, n: dict[str, Any], rows: list[tuple[str, ...]], qr: Image.Image | None) -> tuple[int, int]:
        pdf, s = self.pdf, self.s
        text = LEVEL_TEXTS[n["level"]]
        y = self.first_page(n, text)
        first = pdf.page
        y = self.dunning_head(y)
        for cells in rows:
            if y + ROW > BOTTOM:
                y = self.dunning_head(self.next_page(n, text))
            y = self.row(y, _COLS, cells)
        notes = [FEE_KZ_LINE.format(kz=n["fee_kassenzeichen"])] if n.get("fee_kassenzeichen") else []
        if n.get("earlier_fees_cents"):
            notes.append(EARLIER_FEES_LINE.format(amount=eur(n["earlier_fees_cents"])))
        below = sum(self.para_height(t, 8, lh=ROW, width=WIDTH - 1.2) for t in notes)
        if y + 2 * ROW + below > BOTTOM:                                  # the sums (+ the fee lines)
            y = self.dunning_head(self.next_page(n, text))
        pdf.set_line_width(0.2)
        pdf.line(LEFT, y + 0.3, RIGHT, y + 0.3)
        y = self.row(y + 0.6, _COLS, n["sums"], bold=True)
        for note in notes:
            y = self.para(y, note, 8, lh=ROW, x=LEFT + 0.6, width=WIDTH - 1.2)
        self.font(9, True)
        self.at(LEFT + 0.6, y + 0.4, WIDTH - 1.2, 5, f"Zu zahlender Gesamtbetrag: {n['total_txt']}", "R")
        y += 7.0

        pay = text.pay.format(total=n["total_txt"], deadline=n["deadline_txt"])
        quote = _QUOTE_ALL if n["remittance"] == REMITTANCE_MANY else n["remittance"]
        tail = (self.para_height(pay, bold=True) + 2 + (self.para_height(text.warning) + 2 if text.warning else 0)
                + self.para_height(_SETTLED) + 3 + max(_QR + 5, 6 * 4.2 + self.para_height(quote, 8.5, width=120))
                + 4 + (self.para_height(text.legal, 7, lh=3.2) + 2 if text.legal else 0) + 16)
        if y + tail > BOTTOM:
            y = self.next_page(n, text)
        y = self.para(y, pay, bold=True) + 2
        if text.warning:
            y = self.para(y, text.warning) + 2
        y = self.para(y, _SETTLED) + 3

        top = y
        self.font(9, True)
        self.at(LEFT, y, 120, 4.2, "Bankverbindung")
        y += 4.6
        bank = [("Empfänger", s.holder), ("IBAN", iban_groups(s.iban)), ("BIC", s.bic), ("Bank", s.bank_name)]
        for label, value in bank:
            if not value:
                continue
            self.font(8.5)
            self.at(LEFT, y, 22, 4.2, label)
            self.at(LEFT + 22, y, 98, 4.2, value)
            y += 4.2
        if quote is not _QUOTE_ALL:
            y = self.para(y + 0.5, _QUOTE_LABEL, 8.5, lh=3.9, width=120)
        y = self.para(y + 0.5, quote, 8.5, bold=quote is not _QUOTE_ALL, lh=3.9, width=120)
        if qr is not None:
            pdf.image(qr, x=RIGHT - _QR, y=top, w=_QR, h=_QR)
            self.font(6.5)
            self.at(RIGHT - _QR, top + _QR + 2.5, _QR, 3, "GiroCode: mit der Banking-App scannen", "C")
        y = max(y, top + _QR + 6) + 3
        if text.legal:
            y = self.para(y, text.legal, 7, lh=3.2) + 2
        y = self.para(y, "Mit freundlichen Grüßen") + 1
        y = self.para(y, s.name)
        self.para(y + 1, MACHINE_NOTE, 7, lh=3.2)

        return first, self.number_pages(first, n["notice_id"])


def _money(col: str) -> pl.Expr:
    return format_eur_expr(col, symbol=False).fill_null("").alias(col)


def _prepared(notices: pl.DataFrame, items: pl.DataFrame) -> tuple[list[dict[str, Any]], dict[str, list[tuple[str, ...]]]]:
    """Everything printed, formatted once per column (not per cell in the render loop)."""
    amounts = ("open_cents", "saeumniszuschlag_cents", "mahngebuehr_cents", "interest_cents")
    it = items.select(
        "notice_id", pl.col("kassenzeichen").fill_null(""), claim_words().fill_null(""),
        pl.col("due_date").dt.strftime("%d.%m.%Y").fill_null(""), *[_money(c) for c in amounts])
    rows: dict[str, list[tuple[str, ...]]] = {}
    for r in it.iter_rows():
        rows.setdefault(r[0], []).append(r[1:])
    nt = address_frame(notices).with_columns(
        pl.col("notice_date").dt.strftime("%d.%m.%Y").alias("date_txt"),
        pl.col("deadline").dt.strftime("%d.%m.%Y").alias("deadline_txt"),
        pl.col("debtor_id").fill_null(""),
    )
    out = []
    for n in nt.iter_rows(named=True):
        n["country_line"] = country_line(n["debtor_country"])
        n["total_txt"] = eur(n["total_cents"])
        n["sums"] = ("Summe", "", "", *[eur(n[c], symbol=False) for c in amounts])
        out.append(n)
    return out, rows


def render_letters(notices: pl.DataFrame, items: pl.DataFrame, sender: Sender, *,
                   font: Path | bool | None = True, compress: bool = True,
                   workers: int | None = None, draft: bool = False) -> tuple[bytes, pl.DataFrame]:
    """All letters in one PDF, and a frame ``notice_id``, ``first_page``, ``pages`` (in the notices' order).

    ``notices``/``items``: :class:`dunning.notices.Notices`' frames. ``font=True`` looks for DejaVu Sans,
    ``False``/``None`` forces the latin-1 core font, a path uses that TTF. ``compress=False`` leaves the
    page streams readable (tests look for the texts in them). No notices: one page saying so (a PDF needs a
    page); :func:`write_print_run` then writes no PDF at all. ``workers``: processes making the QR codes
    (None: one for a run of :data:`POOL_MIN_LETTERS` letters or more on a machine with two cores, else none).
    ``draft``: every page carries :data:`DRAFT_MARK` (the prepare phase's samples; the final run has none).
    A notice's ``fee_kassenzeichen`` (optional column, set once the fees are booked) is printed under the
    claims table, and so is :data:`EARLIER_FEES_LINE` when its optional ``earlier_fees_cents`` is above 0."""
    unknown = set(notices["level"].unique().to_list()) - set(LEVEL_TEXTS)
    if unknown:
        raise ValueError(f"render_letters: no letter text for level(s) {sorted(map(str, unknown))}")
    path = resolve_font(font)
    first_day = notices["notice_date"].min() if notices.height else None
    created = first_day if isinstance(first_day, date) else date(1970, 1, 1)
    doc = _Letters(sender, path, created)
    doc.pdf.set_compression(compress)
    prepared, rows = _prepared(notices, items)
    payloads = [epc_payload(name=sender.holder, iban=sender.iban, amount_cents=n["total_cents"],
                            remittance=n["remittance"], bic=sender.bic) if n["total_cents"] > 0 else None
                for n in prepared]                  # every payload checked before the first page is laid out
    firsts, counts = [], []
    for n, qr in zip(prepared, _girocodes(payloads, workers), strict=True):
        first, pages = doc.letter(n, rows.get(n["notice_id"], []), qr)
        firsts.append(first)
        counts.append(pages)
    if not prepared:
        doc.no_letters()
    if draft:
        doc.draft_marks()
    layout = pl.DataFrame({"notice_id": notices["notice_id"], "first_page": firsts, "pages": counts},
                          schema={"notice_id": pl.String, "first_page": pl.Int64, "pages": pl.Int64})
    return doc.output(), layout


def write_letters(notices: pl.DataFrame, items: pl.DataFrame, sender: Sender, path: Path | str, *,
                  font: Path | bool | None = True, workers: int | None = None, draft: bool = False) -> pl.DataFrame:
    """Write the letters PDF to ``path`` atomically; return ``notice_id``, ``first_page``, ``pages``."""
    data, layout = render_letters(notices, items, sender, font=font, workers=workers, draft=draft)
    write_file_atomically(Path(path), lambda p: p.write_bytes(data))
    return layout


def print_file(notices: pl.DataFrame, layout: pl.DataFrame) -> pl.DataFrame:
    """The print centre's rows (:data:`PRINT_COLUMNS`): one per letter, with its pages."""
    return notices.join(layout, on="notice_id", how="left", maintain_order="left").select(
        "notice_id", "debtor_id", pl.col("debtor_name").alias("name"), pl.col("debtor_street").alias("street"),
        pl.col("debtor_postcode").alias("postcode"), pl.col("debtor_city").alias("city"),
        pl.col("debtor_country").fill_null("DE").alias("country"), "level", "first_page", "pages", "total_cents",
        "deadline")


_PRINT_COLS = [Col(c, c, "int" if c in ("first_page", "pages", "total_cents") else
                   "date" if c == "deadline" else "text") for c in PRINT_COLUMNS]


def print_file_bytes(print_rows: pl.DataFrame) -> bytes:
    """The print file as written: the repo's Excel CSV (UTF-8 with BOM, ``;``, ISO dates, integer cents)."""
    return excel_csv_bytes(print_rows, _PRINT_COLS)


def write_print_run(notices: pl.DataFrame, items: pl.DataFrame, sender: Sender, out_dir: Path | str, *,
                    font: Path | bool | None = True, workers: int | None = None,
                    draft: bool = False) -> dict[str, Path]:
    """Write ``letters.pdf``, ``print_file.csv`` and ``manifest.json`` into ``out_dir`` atomically (a run
    without letters: no PDF, a print file with its header only).

    The manifest lists each file's bytes and SHA-256, the letters' and pages' count and the total; the
    CSV is the repo's Excel CSV (UTF-8 with BOM, ``;``, ISO dates; ``total_cents`` integer cents).
    ``draft``: every page marked :data:`DRAFT_MARK`, and the manifest says ``"draft": true``."""
    data, layout = render_letters(notices, items, sender, font=font, workers=workers, draft=draft)
    pf = print_file(notices, layout)
    total = int(notices["total_cents"].sum() or 0)
    pages = int(layout["pages"].sum() or 0)
    files = [PlannedFile(PRINT_FILE, print_file_bytes(pf), pf.height, {"total_cents": total})]
    if pf.height:                                  # no letters: nothing to print, no PDF
        files.insert(0, PlannedFile(LETTERS_PDF, data))
    notice_date = notices["notice_date"].min() if notices.height else None
    meta = {"kind": "stadtkasse.dunning_letters", "version": 1, "sender": sender.name,
            "notice_date": notice_date.isoformat() if isinstance(notice_date, date) else None,
            "letters": pf.height, "pages": pages, "total_cents": total, "draft": draft,
            "by_level": {str(k): int(v) for k, v in notices["level"].value_counts(sort=True).rows()}}
    return write_all(Path(out_dir), files, meta)


__all__ = ["CLAIM_WORDS", "DRAFT_MARK", "EARLIER_FEES_LINE", "FEE_KZ_LINE", "LETTERS_PDF", "LEVEL_TEXTS", "POOL_MIN_LETTERS",
           "PRINT_COLUMNS", "PRINT_FILE", "QR_MASK", "Sender", "country_line", "epc_payload", "girocode_image",
           "print_file", "print_file_bytes", "qr_modules", "render_letters",
           "sender_from_config", "write_letters", "write_print_run"]
