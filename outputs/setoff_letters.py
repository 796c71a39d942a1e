"""The Verrechnungsmitteilung: the letter that declares a set-off (Aufrechnung) of a debtor's credit against
the debtor's due claims and says what is paid out (issue 16 §4).

Before the payout job (``jobs/payout/``) pays money out to a debtor — an over-payment, a refund — it
settles the debtor's other due claims with it. In law that is the Stadtkasse's **set-off**: § 226 AO
(taxes; for municipal taxes and charges through § 12 KAG NRW) with §§ 387 ff. BGB, which § 226 AO applies
and which govern private-law claims directly. A set-off takes effect only when it is **declared** to the
other side (§ 388 BGB); the claims then count as extinguished as far as they cover each other (§ 389 BGB,
§ 47 AO). This letter is that declaration, and the debtor's statement of account: the credit, every claim
set off (Kassenzeichen, what for, due date, open before, set off, open after), what is paid out and to
which account (the IBAN masked but for its last four characters), what remains open. The declaration is
no administrative act; a debtor who disputes it gets an Abrechnungsbescheid (§ 218 Abs. 2 AO) for claims
under the AO, and the letter says so. The words are :data:`TEXTS`; docs/SEPA_PAYOUT.md describes them.

The frame (sender, window address, marks, fonts, page numbers, draft mark) is :mod:`outputs.letter_pdf`,
the same as the dunning letters'; the claim types are named with the dunning letters' words
(:data:`outputs.letter_pdf.CLAIM_WORDS`). A letter whose table does not fit continues on the next page
under a repeated header and the table's column heads.

The two frames are the payout job's hand-off (:data:`LETTER_COLUMNS`, :data:`LINE_COLUMNS`); they are our
own data, so a broken invariant — sums that do not add up, a claim set off before it was due, a payout
without an account — is a bug and stops the letters (:func:`check_setoff_letters`) before anything is
laid out.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import polars as pl

from claims.money import format_eur_expr
from outputs.atomic import write_file_atomically
from outputs.fmt import eur
from outputs.letter_pdf import (
    BOTTOM,
    LEFT,
    MACHINE_NOTE,
    RIGHT,
    ROW,
    Columns,
    LetterPdf,
    Sender,
    address_frame,
    claim_words,
    country_line,
    iban_groups,
    masked_iban,
    resolve_font,
)

#: The letters frame: one row per Verrechnungsmitteilung (money in cents; ``payee_iban`` null when nothing
#: is paid out).
LETTER_COLUMNS: dict[str, type[pl.DataType]] = {
    "letter_id": pl.String, "debtor_id": pl.String, "debtor_name": pl.String, "debtor_street": pl.String,
    "debtor_postcode": pl.String, "debtor_city": pl.String, "debtor_country": pl.String, "letter_date": pl.Date,
    "credit_cents": pl.Int64, "setoff_cents": pl.Int64, "payout_cents": pl.Int64, "payee_iban": pl.String,
    "source_transaction_date": pl.Date,
}
#: The lines frame: one row per claim set off, in the order the letter lists them.
LINE_COLUMNS: dict[str, type[pl.DataType]] = {
    "letter_id": pl.String, "receivable_id": pl.String, "kassenzeichen": pl.String, "claim_type": pl.String,
    "due_date": pl.Date, "open_before_cents": pl.Int64, "setoff_cents": pl.Int64, "open_after_cents": pl.Int64,
}
#: The layout frame the render and write functions return.
LAYOUT_SCHEMA = {"letter_id": pl.String, "first_page": pl.Int64, "pages": pl.Int64}


@dataclass(frozen=True, slots=True)
class SetoffTexts:
    """The words of the Verrechnungsmitteilung (written for this letter; law: the module docstring).

    Placeholders in braces are filled in per letter."""

    subject: str
    intro: str            # {source_date} {credit}
    declaration: str      # {setoff}
    paid_out: str         # {payout} {iban}
    nothing_paid: str
    credit_left: str      # {rest}
    still_open: str       # {open}
    pay_to: str           # {holder} {iban} {bank}: the sender's account, when the sender has one
    all_settled: str
    dispute: str
    legal: str


TEXTS = SetoffTexts(
    subject="Verrechnungsmitteilung",
    intro=("aus dem Zahlungseingang vom {source_date} steht Ihnen ein Guthaben von {credit} zu. Zugleich sind "
           "die unten aufgeführten Forderungen gegen Sie fällig und noch nicht vollständig bezahlt."),
    declaration=("Hiermit erklären wir in Höhe von {setoff} die Aufrechnung mit diesen Forderungen gegen Ihren "
                 "Anspruch auf Auszahlung des Guthabens. Soweit sich Guthaben und Forderungen decken, sind beide "
                 "damit erloschen; die Verrechnung im Einzelnen:"),
    paid_out="Den Betrag von {payout} überweisen wir auf Ihr Konto mit der IBAN {iban}.",
    nothing_paid="Ihr Guthaben ist damit vollständig verrechnet; eine Auszahlung an Sie erfolgt nicht.",
    credit_left="Über das verbleibende Guthaben von {rest} erhalten Sie gesonderte Nachricht.",
    still_open=("Von den oben aufgeführten Forderungen sind danach noch {open} offen. Bitte zahlen Sie diesen "
                "Betrag unter Angabe des jeweiligen Kassenzeichens."),
    pay_to="Unsere Bankverbindung: {holder}, IBAN {iban}{bank}.",
    all_settled="Die oben aufgeführten Forderungen sind damit vollständig beglichen.",
    dispute=("Diese Aufrechnungserklärung ist kein Bescheid. Sind Sie mit der Verrechnung nicht einverstanden, "
             "wenden Sie sich bitte schriftlich an uns (Anschrift und Kontakt oben). Bei Steuern und anderen "
             "Abgaben, für die die Abgabenordnung gilt, entscheiden wir über Ihre Einwendungen durch einen "
             "Abrechnungsbescheid (§ 218 Abs. 2 AO); gegen diesen steht Ihnen der darin genannte Rechtsbehelf "
             "offen."),
    legal=("Rechtsgrundlagen: Aufrechnung § 226 AO, für Kommunalabgaben in Verbindung mit § 12 KAG NRW; "
           "für privatrechtliche Forderungen §§ 387 ff. BGB; Erlöschen der Forderungen § 47 AO, § 389 BGB."),
)

#: The table: (head, width in mm, right-aligned); 165 mm, the text width.
_COLS: Columns = (
    ("Kassenzeichen", 30, False), ("Forderungsart", 37, False), ("fällig am", 19, False),
    ("offen vorher", 26, True), ("verrechnet", 26, True), ("offen danach", 27, True))
_AMOUNTS = ("open_before_cents", "setoff_cents", "open_after_cents")


def _fail(what: str, bad: pl.DataFrame, key: str = "letter_id") -> None:
    if bad.height:
        ids = ", ".join(sorted({str(v) for v in bad[key].to_list()})[:5])
        raise ValueError(f"set-off letters: {what} ({bad.height}: {ids})")


def check_setoff_letters(letters: pl.DataFrame, lines: pl.DataFrame) -> None:
    """Refuse (``ValueError``) frames that would print a wrong letter: missing columns; a duplicate letter
    id; a line of no letter, a letter without lines; negative amounts; a line whose ``open_after`` is not
    ``open_before - setoff`` or that sets off nothing; a claim not yet due on the letter's date (only a due
    claim can be set off, § 387 BGB); a letter whose ``setoff_cents`` is not its lines' sum, whose set-off
    and payout exceed the credit, or that pays out without a ``payee_iban``."""
    for frame, cols, name in ((letters, LETTER_COLUMNS, "letters"), (lines, LINE_COLUMNS, "lines")):
        missing = [c for c in cols if c not in frame.columns]
        if missing:
            raise ValueError(f"set-off letters: the {name} frame lacks {missing}")
    _fail("letter_id not unique", letters.filter(pl.col("letter_id").is_duplicated()))
    _fail("a letter id, date, debtor or amount is empty", letters.filter(pl.any_horizontal(
        pl.col("letter_id", "debtor_id", "letter_date", "credit_cents", "setoff_cents", "payout_cents",
               "source_transaction_date").is_null())).with_columns(pl.col("letter_id").fill_null("?")))
    _fail("no credit, nothing set off or a negative payout", letters.filter(
        (pl.col("credit_cents") <= 0) | (pl.col("setoff_cents") <= 0) | (pl.col("payout_cents") < 0)))
    _fail("set-off and payout exceed the credit",
          letters.filter(pl.col("setoff_cents") + pl.col("payout_cents") > pl.col("credit_cents")))
    _fail("money paid out without a payee IBAN", letters.filter(
        (pl.col("payout_cents") > 0) & (pl.col("payee_iban").fill_null("").str.strip_chars() == "")))
    _fail("a line of no letter", lines.join(letters, on="letter_id", how="anti"))
    _fail("a line with an empty amount, date or Kassenzeichen", lines.filter(pl.any_horizontal(
        pl.col("kassenzeichen", "due_date", *_AMOUNTS).is_null())).with_columns(pl.col("letter_id").fill_null("?")))
    _fail("a line sets off nothing, more than is open, or open_after != open_before - setoff", lines.filter(
        (pl.col("setoff_cents") <= 0) | (pl.col("open_after_cents") < 0)
        | (pl.col("open_before_cents") - pl.col("setoff_cents") != pl.col("open_after_cents"))))
    dated = lines.join(letters.select("letter_id", "letter_date"), on="letter_id")
    _fail("a claim set off before it was due", dated.filter(pl.col("due_date") > pl.col("letter_date")))
    sums = lines.group_by("letter_id").agg(pl.col("setoff_cents").sum().alias("lines_cents"))
    _fail("setoff_cents is not the sum of the letter's lines", letters.join(sums, on="letter_id", how="left")
          .filter(pl.col("lines_cents").is_null() | (pl.col("lines_cents") != pl.col("setoff_cents"))))


def _money(col: str) -> pl.Expr:
    return format_eur_expr(col, symbol=False).fill_null("").alias(col)


def _prepared(letters: pl.DataFrame, lines: pl.DataFrame) -> tuple[list[dict[str, Any]], dict[str, list[tuple[str, ...]]]]:
    """Everything printed, formatted once per column."""
    it = lines.select(
        "letter_id", pl.col("kassenzeichen").fill_null(""), claim_words().fill_null(""),
        pl.col("due_date").dt.strftime("%d.%m.%Y").fill_null(""), *[_money(c) for c in _AMOUNTS])
    rows: dict[str, list[tuple[str, ...]]] = {}
    for r in it.iter_rows():
        rows.setdefault(r[0], []).append(r[1:])
    open_after = lines.group_by("letter_id").agg(
        pl.col("open_before_cents").sum().alias("sum_before"), pl.col("open_after_cents").sum().alias("sum_after"))
    lt = address_frame(letters).join(open_after, on="letter_id", how="left", maintain_order="left").with_columns(
        pl.col("letter_date").dt.strftime("%d.%m.%Y").alias("date_txt"),
        pl.col("source_transaction_date").dt.strftime("%d.%m.%Y").alias("source_txt"))
    out = []
    for n in lt.iter_rows(named=True):
        n["country_line"] = country_line(n["debtor_country"])
        n["sums"] = ("Summe", "", "", *(eur(n[c], symbol=False) for c in ("sum_before", "setoff_cents", "sum_after")))
        out.append(n)
    return out, rows


class _SetoffLetters(LetterPdf):
    """The Verrechnungsmitteilungen of one run in one document."""

    def next_page(self, n: dict[str, Any]) -> float:
        return self.continuation(f"{TEXTS.subject} vom {n['date_txt']} · Nr. {n['letter_id']} · Fortsetzung",
                                 n["name"])

    def room(self, y: float, height: float, n: dict[str, Any]) -> float:
        """``y`` if ``height`` fits below it on this page, else the top of a continuation page."""
        return y if y + height <= BOTTOM else self.next_page(n)

    def money_texts(self, n: dict[str, Any], rest: int) -> list[str]:
        """What is paid out and to which account (or that nothing is), what credit is left, what stays open."""
        tx, s = TEXTS, self.s
        said = []
        if n["payout_cents"] > 0:
            said.append(tx.paid_out.format(payout=eur(n["payout_cents"]), iban=masked_iban(n["payee_iban"])))
        elif not rest:
            said.append(tx.nothing_paid)
        if rest:
            said.append(tx.credit_left.format(rest=eur(rest)))
        if n["sum_after"]:
            said.append(tx.still_open.format(open=eur(n["sum_after"])))
            if s.iban:
                said.append(tx.pay_to.format(holder=s.holder, iban=iban_groups(s.iban),
                                             bank=f" ({s.bank_name})" if s.bank_name else ""))
        else:
            said.append(tx.all_settled)
        return said

    def letter(self, n: dict[str, Any], rows: list[tuple[str, ...]]) -> tuple[int, int]:
        pdf, s, tx = self.pdf, self.s, TEXTS
        info = [("Datum", n["date_txt"]), ("Schreiben-Nr.", n["letter_id"]), ("Schuldner-Nr.", n["debtor_id"])]
        y = self.opening((n["name"], n["street"], n["place"], n["country_line"]), info, tx.subject)
        first = pdf.page
        y = self.para(y + 2.0, tx.intro.format(source_date=n["source_txt"], credit=eur(n["credit_cents"])))
        declaration = tx.declaration.format(setoff=eur(n["setoff_cents"]))
        y = self.para(self.room(y + 2.0, self.para_height(declaration, bold=True) + 2 * ROW, n),
                      declaration, bold=True) + 3.0

        y = self.table_head(y, _COLS)
        for cells in rows:
            if y + ROW > BOTTOM:
                y = self.table_head(self.next_page(n), _COLS)
            y = self.row(y, _COLS, cells)
        if y + ROW + 0.6 > BOTTOM:                                           # the sums under the heads
            y = self.table_head(self.next_page(n), _COLS)
        pdf.set_line_width(0.2)
        pdf.line(LEFT, y + 0.3, RIGHT, y + 0.3)
        y = self.row(y + 0.6, _COLS, n["sums"], bold=True) + 4.0

        rest = n["credit_cents"] - n["setoff_cents"] - n["payout_cents"]
        account = [("Ihr Guthaben", eur(n["credit_cents"])), ("davon verrechnet", eur(-n["setoff_cents"])),
                   ("an Sie ausgezahlt", eur(n["payout_cents"]))]
        if rest:
            account.append(("verbleibendes Guthaben", eur(rest)))
        said = self.money_texts(n, rest)
        # two blocks, each kept on one page: what becomes of the money; then the hint, the law, the greeting
        money_h = len(account) * 4.6 + 4.3 + sum(self.para_height(t) + 2.0 for t in said)
        closing_h = (1.0 + self.para_height(tx.dispute) + 3.0 + self.para_height(tx.legal, 7, lh=3.2) + 3.0
                     + 2 * 4.3 + 1 + 1 + 3.2)
        y = self.room(y, money_h, n)
        for i, (label, value) in enumerate(account):
            last = i == len(account) - 1
            if last:                                                    # the result under a rule
                y += 0.8
                pdf.line(RIGHT - 95, y + 0.2, RIGHT, y + 0.2)
            self.font(9.5, last)
            self.at(RIGHT - 95, y + 0.5, 55, 4.6, label)
            self.at(RIGHT - 40, y + 0.5, 39.4, 4.6, value, "R")
            y += 4.6
        y += 3.5
        for text in said:
            y = self.para(y, text) + 2.0
        y = self.room(y, closing_h, n)
        y = self.para(y + 1.0, tx.dispute) + 3.0
        y = self.para(y, tx.legal, 7, lh=3.2) + 3.0
        y = self.para(y, "Mit freundlichen Grüßen") + 1
        y = self.para(y, s.name)
        self.para(y + 1, MACHINE_NOTE, 7, lh=3.2)
        return first, self.number_pages(first, n["letter_id"])


def render_setoff_letters(letters: pl.DataFrame, lines: pl.DataFrame, sender: Sender, *,
                          font: Path | bool | None = True, compress: bool = True,
                          draft: bool = False) -> tuple[bytes, pl.DataFrame]:
    """All Verrechnungsmitteilungen in one PDF, and a frame ``letter_id``, ``first_page``, ``pages`` (in the
    letters' order).

    ``letters``/``lines``: :data:`LETTER_COLUMNS` / :data:`LINE_COLUMNS` (checked first:
    :func:`check_setoff_letters`); a letter's lines are listed in their order in ``lines``. ``font=True``
    looks for DejaVu Sans, ``False``/``None`` forces the latin-1 core font, a path uses that TTF.
    ``compress=False`` leaves the page streams readable (tests look for the texts in them). ``draft``: every
    page carries :data:`outputs.letter_pdf.DRAFT_MARK`. No letters: one page saying so (a PDF needs one)."""
    check_setoff_letters(letters, lines)
    first_day = letters["letter_date"].min() if letters.height else None
    doc = _SetoffLetters(sender, resolve_font(font), first_day if isinstance(first_day, date) else date(1970, 1, 1))
    doc.pdf.set_compression(compress)
    prepared, rows = _prepared(letters, lines)
    firsts, counts = [], []
    for n in prepared:
        first, pages = doc.letter(n, rows[n["letter_id"]])
        firsts.append(first)
        counts.append(pages)
    if not prepared:
        doc.no_letters("Keine Verrechnungsmitteilungen in diesem Lauf.")
    if draft:
        doc.draft_marks()
    layout = pl.DataFrame({"letter_id": letters["letter_id"], "first_page": firsts, "pages": counts},
                          schema=LAYOUT_SCHEMA)
    return doc.output(), layout


def write_setoff_letters(letters: pl.DataFrame, lines: pl.DataFrame, sender: Sender, path: Path, *,
                         draft: bool = False) -> pl.DataFrame:
    """Write the Verrechnungsmitteilungen to ``path`` as one PDF, atomically (a failure leaves ``path`` as it
    was); return ``letter_id``, ``first_page``, ``pages``."""
    data, layout = render_setoff_letters(letters, lines, sender, draft=draft)
    write_file_atomically(Path(path), lambda p: p.write_bytes(data))
    return layout


__all__ = ["LAYOUT_SCHEMA", "LETTER_COLUMNS", "LINE_COLUMNS", "TEXTS", "SetoffTexts", "check_setoff_letters",
           "render_setoff_letters", "write_setoff_letters"]
