"""The Verrechnungsmitteilung (issue 16 §4): amounts and Kassenzeichen in the text, the payout to a masked
IBAN or none, a long table over pages with its heads repeated, umlauts and an address abroad, draft marks,
the letter frame shared with the dunning letters, and the payout job's hand-off refused when it would
print a wrong letter."""

from __future__ import annotations

import inspect
import re
import shutil
import subprocess
from datetime import date
from pathlib import Path
from typing import Any

import polars as pl
import pytest

from outputs import dunning_letters
from outputs.letter_pdf import CLAIM_WORDS, DRAFT_MARK, masked_iban
from outputs.report_pdf import find_font
from outputs.setoff_letters import (
    LETTER_COLUMNS,
    LINE_COLUMNS,
    TEXTS,
    check_setoff_letters,
    render_setoff_letters,
    write_setoff_letters,
)
from tests.test_dunning_letters import notices as dunning_notices

D = date
SENDER = dunning_letters.Sender(
    name="Stadtkasse Musterstadt", street="Markt 1", postcode="33602", city="Musterstadt",
    contact=("Telefon 0521 51-0",), iban="DE02370502990000684712", bic="COKSDE33XXX",
    bank_name="Sparkasse Musterstadt")
PAYEE = "DE89 3704 0044 0532 0130 00"
DAY = D(2026, 12, 8)


def letter(letter_id: str, **kw: Any) -> dict[str, Any]:
    base = {"letter_id": letter_id, "debtor_id": "A", "debtor_name": "Jürgen Müller",
            "debtor_street": "Goethestraße 3", "debtor_postcode": "33602", "debtor_city": "Bielefeld",
            "debtor_country": "DE", "letter_date": DAY, "credit_cents": 50000, "setoff_cents": 32150,
            "payout_cents": 17850, "payee_iban": PAYEE, "source_transaction_date": D(2026, 12, 3)}
    return {**base, **kw}


def line(letter_id: str, kz: str, before: int, setoff: int, **kw: Any) -> dict[str, Any]:
    base = {"letter_id": letter_id, "receivable_id": f"r-{kz}", "kassenzeichen": kz, "claim_type": "GRUNDSTEUER",
            "due_date": D(2026, 11, 15), "open_before_cents": before, "setoff_cents": setoff,
            "open_after_cents": before - setoff}
    return {**base, **kw}


def frames(letters: list[dict[str, Any]], lines: list[dict[str, Any]]) -> tuple[pl.DataFrame, pl.DataFrame]:
    return pl.DataFrame(letters, schema=LETTER_COLUMNS), pl.DataFrame(lines, schema=LINE_COLUMNS)


#: V1: 500,00 € credit, 321,50 € set off against two claims (one paid in full, one with 40,00 € left),
#: 178,50 € paid out. V2: abroad, 300,00 € set off in full against 60 claims (5,00 € each), nothing paid
#: out: three pages. V3: 500,00 € credit, 200,00 € set off, nothing paid out: 300,00 € credit left.
LETTERS, LINES = frames(
    [letter("V1"),
     letter("V2", debtor_id="B", debtor_name="Zoë Ærøskøbing-Łukasiewicz", debtor_street="Hauptstraße 5",
            debtor_postcode="1010", debtor_city="Wien", debtor_country="AT", credit_cents=30000,
            setoff_cents=30000, payout_cents=0, payee_iban=None),
     letter("V3", debtor_id="C", credit_cents=50000, setoff_cents=20000, payout_cents=0, payee_iban=None)],
    [line("V1", "1.2345.6789.012", 21150, 21150),
     line("V1", "100000000123", 15000, 11000, claim_type="ABFALL", due_date=D(2026, 10, 1)),
     *[line("V2", f"1.{4000 + i}.5555.{100 + i}", 1500, 500, claim_type=("HUNDESTEUER", "NEUE_ABGABE")[i % 2])
       for i in range(60)],
     line("V3", "200000000001", 20000, 20000, claim_type="KITA")])


def page_count(pdf: bytes) -> int:
    return len(re.findall(rb"/Type /Page\b(?!s)", pdf))


def pages_text(pdf: bytes) -> list[str]:
    """The content stream of each page of an uncompressed core-font PDF (the streams that show text; an
    image, such as a dunning letter's GiroCode, is a stream too)."""
    streams = [m.decode("latin-1") for m in re.findall(rb"stream\n(.*?)endstream", pdf, re.S) if b") Tj" in m]
    assert len(streams) == page_count(pdf)
    return streams


def shown(stream: str) -> list[str]:
    """The strings a page stream shows, in order (fpdf2 escapes parentheses)."""
    return [m.replace("\\(", "(").replace("\\)", ")") for m in re.findall(r"\(((?:[^()\\]|\\.)*)\) Tj", stream)]


def plain() -> tuple[bytes, pl.DataFrame, list[str]]:
    data, layout = render_setoff_letters(LETTERS, LINES, SENDER, font=False, compress=False)
    return data, layout, pages_text(data)


def test_the_pdf_opens_and_the_layout_gives_each_letters_pages() -> None:
    data, layout = render_setoff_letters(LETTERS, LINES, SENDER)
    assert data.startswith(b"%PDF-") and data.rstrip().endswith(b"%%EOF")
    assert layout.columns == ["letter_id", "first_page", "pages"]
    assert layout.rows() == [("V1", 1, 1), ("V2", 2, 3), ("V3", 5, 1)]
    assert page_count(data) == layout["pages"].sum() == 5
    if shutil.which("pdfinfo"):
        info = subprocess.run(["pdfinfo", "-"], input=data, capture_output=True, check=True).stdout.decode()
        assert re.search(r"Pages:\s+5\b", info)


def test_the_letter_states_the_amounts_kassenzeichen_and_the_masked_iban() -> None:
    _, _, pages = plain()
    one = " ".join(shown(pages[0]))
    for words in ("Verrechnungsmitteilung", "1.2345.6789.012", "100000000123", "Grundsteuer", "Abfallgebühren",
                  "15.11.2026", "01.10.2026", "211,50", "110,00", "40,00", "361,50", "321,50",
                  "Zahlungseingang vom 03.12.2026", "Guthaben von 500,00 EUR",
                  "Hiermit erklären wir in Höhe von 321,50 EUR die Aufrechnung", "-321,50 EUR", "178,50 EUR",
                  "auf Ihr Konto mit der IBAN **** **** **** **** **30 00.", "noch 40,00 EUR offen",
                  "IBAN DE02 3705 0299 0000 6847 12", "Abrechnungsbescheid", "Seite 1 von 1"):
        assert words in one, words
    assert "0532" not in one and "DE89" not in one                    # the debtor's IBAN only masked
    assert "Auszahlung an Sie erfolgt nicht" not in one
    # the table row by row: Kassenzeichen, type in German, due date, open before, set off, open after
    cells = shown(pages[0])
    at = cells.index("100000000123")
    assert cells[at:at + 6] == ["100000000123", "Abfallgebühren", "01.10.2026", "150,00", "110,00", "40,00"]
    at = cells.index("Summe")
    assert cells[at:at + 4] == ["Summe", "361,50", "321,50", "40,00"]


def test_nothing_paid_out_and_a_credit_left_are_said_so() -> None:
    _, _, pages = plain()
    whole = " ".join(" ".join(shown(p)) for p in pages[1:4])
    assert "eine Auszahlung an Sie erfolgt nicht" in whole and "IBAN ****" not in whole
    assert "noch 600,00 EUR offen" in whole                              # 60 × 10,00 € left of the claims
    three = " ".join(shown(pages[4]))
    assert "verbleibende Guthaben von 300,00 EUR" in three and "erfolgt nicht" not in three
    assert "vollständig beglichen" in three and "offen. Bitte" not in three


def test_a_long_table_continues_on_the_next_page_under_its_heads() -> None:
    _, _, pages = plain()
    letter_pages = pages[1:4]
    tables = [p for p in letter_pages if "Kassenzeichen" in shown(p)]
    assert len(tables) == 2                                              # the table spans two pages
    for p in tables:
        cells = shown(p)
        head = cells.index("Kassenzeichen")
        assert cells[head:head + 6] == ["Kassenzeichen", "Forderungsart", "fällig am", "offen vorher",
                                        "verrechnet", "offen danach"]
    for p in letter_pages[1:]:
        assert "Verrechnungsmitteilung vom 08.12.2026 · Nr. V2 · Fortsetzung".replace("·", "\xb7") in shown(p)
    listed = [c for p in letter_pages for c in shown(p) if c.startswith("1.4")]
    assert listed == [f"1.{4000 + i}.5555.{100 + i}" for i in range(60)]          # every claim, in order, once
    assert [c for p in letter_pages for c in shown(p) if c.startswith("Seite")] == [
        "Seite 1 von 3", "Seite 2 von 3", "Seite 3 von 3"]
    assert "Neue Abgabe" in shown(letter_pages[0])                       # a type not in CLAIM_WORDS, in words


def test_each_page_ends_above_the_footer() -> None:
    """No text below the content's bottom (274 mm) but the footer (282 mm): nothing runs into it."""
    _, _, pages = plain()
    bottom_pt = (297 - 274) * 72 / 25.4
    for p in pages:
        ys = [(float(y), s) for y, s in re.findall(r"BT [\d.]+ ([\d.]+) Td \(((?:[^()\\]|\\.)*)\) Tj", p)]
        body = [(y, s) for y, s in ys if not (s.startswith("Seite") or s.startswith("Stadtkasse Musterstadt \xb7 V"))]
        assert min(y for y, _ in body) > bottom_pt - 3


@pytest.mark.skipif(shutil.which("pdftotext") is None, reason="pdftotext missing")
def test_umlauts_and_an_address_abroad_with_the_embedded_font() -> None:
    data, _ = render_setoff_letters(LETTERS, LINES, SENDER)
    text = subprocess.run(["pdftotext", "-f", "2", "-l", "2", "-layout", "-", "-"], input=data,
                          capture_output=True, check=True).stdout.decode()
    if find_font() is not None:
        assert "Zoë Ærøskøbing-Łukasiewicz" in text and "Hundesteuer" in text
    lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
    at = next(i for i, ln in enumerate(lines) if ln.startswith("Zo"))
    assert [re.split(r"\s{2,}", ln)[0] for ln in lines[at + 1:at + 4]] == ["Hauptstraße 5", "1010 Wien", "ÖSTERREICH"]


def test_the_core_font_replaces_what_latin_1_lacks() -> None:
    _, _, pages = plain()
    assert "Zoë Ærøskøbing-Lukasiewicz" in shown(pages[1]) and "ÖSTERREICH" in shown(pages[1])


def test_draft_marks_on_every_page_and_none_without() -> None:
    data, _ = render_setoff_letters(LETTERS, LINES, SENDER, font=False, compress=False, draft=True)
    mark = DRAFT_MARK.replace("–", "-")
    assert all(shown(p).count(mark) == 2 for p in pages_text(data))     # the banner and the words across
    _, _, pages = plain()
    assert not any(mark in shown(p) for p in pages)


def test_the_frame_is_the_dunning_letters_frame() -> None:
    """Same debtor, same sender: the dunning letter and the Verrechnungsmitteilung draw the same marks,
    letterhead, return line and window address, at the same places, up to the information block."""
    _, _, pages = plain()
    one = dunning_notices([{"receivable_id": "a1", "debtor_id": "A"}])        # Jürgen Müller, as V1
    dun, _ = dunning_letters.render_letters(one.notices, one.items, SENDER, font=False, compress=False)
    frame = pages_text(dun)[0].split("(Datum) Tj")[0]
    assert pages[0].split("(Datum) Tj")[0] == frame
    for mark in ("11.34 544.25 m 25.51 544.25 l S", "11.34 246.61 m 25.51 246.61 l S",
                 "11.34 420.95 m 31.18 420.95 l S"):                # fold marks 105, 210 mm; hole mark 148.5 mm
        assert all(mark in p for p in pages)
    # the recipient in the window's lower zone: left 25 mm, 63.5 to 90 mm from the top
    name_y = float(re.search(r"BT 70.87 ([\d.]+) Td \(J.rgen M.ller\) Tj", frame)[1])  # type: ignore[index]
    assert (297 - 90) * 72 / 25.4 < name_y < (297 - 63.5) * 72 / 25.4


def test_claim_types_are_named_as_on_the_dunning_letters() -> None:
    assert dunning_letters.CLAIM_WORDS is CLAIM_WORDS
    _, _, pages = plain()
    assert CLAIM_WORDS["KITA"] in shown(pages[4])


def test_same_letters_give_the_same_bytes() -> None:
    assert render_setoff_letters(LETTERS, LINES, SENDER)[0] == render_setoff_letters(LETTERS, LINES, SENDER)[0]


def test_the_texts_declare_the_set_off_with_its_law() -> None:
    assert "erklären wir in Höhe von {setoff} die Aufrechnung" in TEXTS.declaration and "{setoff}" in TEXTS.declaration
    assert "§ 226 AO" in TEXTS.legal and "§§ 387 ff. BGB" in TEXTS.legal and "§ 389 BGB" in TEXTS.legal
    assert "§ 218 Abs. 2 AO" in TEXTS.dispute and "Abrechnungsbescheid" in TEXTS.dispute
    assert "{iban}" in TEXTS.paid_out and "{payout}" in TEXTS.paid_out


def test_masked_iban_keeps_only_the_last_four() -> None:
    assert masked_iban(PAYEE) == "**** **** **** **** **30 00"
    assert masked_iban("at61 1904 3002 3457 3201") == "**** **** **** **** 3201"


def test_write_is_atomic_and_returns_the_layout(tmp_path: Path) -> None:
    path = tmp_path / "verrechnung.pdf"
    layout = write_setoff_letters(LETTERS, LINES, SENDER, path, draft=True)
    assert layout["pages"].sum() == page_count(path.read_bytes()) == 5
    before = path.read_bytes()
    bad = LINES.filter(pl.col("kassenzeichen") != "100000000123")          # V1 without one of its lines
    with pytest.raises(ValueError, match="sum of the letter's lines"):
        write_setoff_letters(LETTERS, bad, SENDER, path)
    assert path.read_bytes() == before and [p.name for p in tmp_path.iterdir()] == ["verrechnung.pdf"]


def test_the_contract_of_the_payout_job() -> None:
    assert list(inspect.signature(write_setoff_letters).parameters) == ["letters", "lines", "sender", "path", "draft"]
    assert inspect.signature(write_setoff_letters).parameters["draft"].kind is inspect.Parameter.KEYWORD_ONLY


def test_no_letters_one_page_saying_so() -> None:
    data, layout = render_setoff_letters(LETTERS.head(0), LINES.head(0), SENDER, font=False, compress=False)
    assert page_count(data) == 1 and layout.height == 0 and b"Keine Verrechnungsmitteilungen" in data


@pytest.mark.parametrize(("letters", "lines", "msg"), [
    # V1's lines add up to 321,50 €, the letter says 300,00 €
    ([letter("V1", setoff_cents=30000, payout_cents=20000)],
     [line("V1", "a", 21150, 21150), line("V1", "b", 15000, 11000)], "sum of the letter's lines"),
    # money paid out but no account to pay it to
    ([letter("V1", payee_iban=None)], [line("V1", "a", 32150, 32150)], "without a payee IBAN"),
    ([letter("V1", payee_iban="  ")], [line("V1", "a", 32150, 32150)], "without a payee IBAN"),
    # set off + paid out (321,50 + 200,00) more than the credit (500,00)
    ([letter("V1", payout_cents=20000)], [line("V1", "a", 32150, 32150)], "exceed the credit"),
    # a claim due only after the letter's date cannot be set off (§ 387 BGB)
    ([letter("V1")], [line("V1", "a", 32150, 32150, due_date=D(2026, 12, 9))], "before it was due"),
    # open after is not open before minus set off
    ([letter("V1")], [{**line("V1", "a", 40000, 32150), "open_after_cents": 0}], "open_after"),
    # more set off than was open
    ([letter("V1")], [line("V1", "a", 30000, 32150)], "more than is open"),
    # a line that sets off nothing
    ([letter("V1", setoff_cents=32150)], [line("V1", "a", 32150, 32150), line("V1", "b", 100, 0)], "sets off nothing"),
    # two letters with one id
    ([letter("V1"), letter("V1")], [line("V1", "a", 32150, 32150)], "not unique"),
    # a line of a letter that is not there
    ([letter("V1")], [line("V1", "a", 32150, 32150), line("V9", "b", 100, 100)], "line of no letter"),
    # a letter without lines: nothing set off to list
    ([letter("V1"), letter("V2")], [line("V1", "a", 32150, 32150)], "sum of the letter's lines"),
    # no credit
    ([letter("V1", credit_cents=0, payout_cents=0, setoff_cents=0)], [line("V1", "a", 100, 100)], "no credit"),
    ([letter("V1", letter_date=None)], [line("V1", "a", 32150, 32150)], "empty"),
    ([letter("V1")], [line("V1", "a", 32150, 32150, kassenzeichen=None)], "empty amount, date or Kassenzeichen"),
])
def test_a_wrong_hand_off_is_refused(letters: list[dict[str, Any]], lines: list[dict[str, Any]], msg: str) -> None:
    lt, ln = frames(letters, lines)
    with pytest.raises(ValueError, match=msg):
        render_setoff_letters(lt, ln, SENDER)


def test_a_missing_column_is_named() -> None:
    with pytest.raises(ValueError, match="payee_iban"):
        check_setoff_letters(LETTERS.drop("payee_iban"), LINES)
