"""The dunning letters (issue 15 §3): the PDF opens and its pages add up to the print file's, the GiroCode
payload literally, the texts per level, page numbers per letter, fonts embedded, the print run's files."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from datetime import date
from decimal import Decimal
from pathlib import Path

import polars as pl
import pytest
import segno.helpers

from claims.config import load_tenant_config
from dunning.notices import REMITTANCE_MANY, Notices, group_notices
from dunning.select import SELECTED_COLUMNS
from outputs.atomic import verify
from outputs.dunning_letters import (
    LEVEL_TEXTS,
    PRINT_COLUMNS,
    Sender,
    country_line,
    epc_payload,
    girocode_image,
    render_letters,
    sender_from_config,
    write_letters,
    write_print_run,
)
from outputs.report_pdf import find_font

D = date
RUN = D(2026, 12, 8)
SENDER = Sender(name="Stadtkasse Musterstadt", street="Markt 1", postcode="33602", city="Musterstadt",
                contact=("Telefon 0521 51-0",), iban="DE02370502990000684712", bic="COKSDE33XXX",
                bank_name="Sparkasse Musterstadt")
_TYPES: dict[str, pl.DataType] = {
    "receivable_id": pl.String(), "debtor_id": pl.String(), "kassenzeichen": pl.String(),
    "claim_type": pl.String(), "due_date": pl.Date(), "due_effective": pl.Date(), "level": pl.String(),
    "open_cents": pl.Int64(), "saeumniszuschlag_cents": pl.Int64(), "surcharge_months": pl.Int64(),
    "interest_cents": pl.Int64(), "surcharge_rule": pl.String(), "mahngebuehr_cents": pl.Int64(),
    "fee_basis_cents": pl.Int64(), "mahngebuehr_rule": pl.String()}


def notices(rows: list[dict[str, object]], debtors: pl.DataFrame | None = None) -> Notices:
    base = {"kassenzeichen": "1.2345.6789.012", "claim_type": "GRUNDSTEUER", "due_date": D(2026, 11, 16),
            "due_effective": D(2026, 11, 16), "level": "mahnung", "open_cents": 10000,
            "saeumniszuschlag_cents": 100, "surcharge_months": 1, "interest_cents": 0, "surcharge_rule": "ao_240",
            "mahngebuehr_cents": 600, "fee_basis_cents": 10000, "mahngebuehr_rule": "vo_vwvg_9"}
    sel = pl.DataFrame([{**base, **r} for r in rows], schema=_TYPES).select(SELECTED_COLUMNS)
    who = debtors if debtors is not None else pl.DataFrame({
        "debtor_id": ["A", "B", "C"], "debtor_name": ["Jürgen Müller", "Özlem Şahin", "Zoë Ærøskøbing-Łukasiewicz"],
        "debtor_street": ["Goethestraße 3", "Am Markt 1", "Hauptstraße 5"],
        "debtor_postcode": ["33602", "44135", "1010"], "debtor_city": ["Bielefeld", "Dortmund", "Wien"],
        "debtor_country": ["DE", None, "AT"]})
    return group_notices(sel, who, RUN)


#: A: one claim at Mahnung (100,00 + 1,00 + 6,00 = 107,00 €); B: 45 claims (two pages); C: a reminder
#: abroad (100,00 €, no fee, no surcharge).
THREE = notices([
    {"receivable_id": "a1", "debtor_id": "A"},
    *[{"receivable_id": f"b{i:02d}", "debtor_id": "B", "kassenzeichen": f"{i:012d}", "open_cents": 5000}
      for i in range(45)],
    {"receivable_id": "c1", "debtor_id": "C", "level": "zahlungserinnerung", "mahngebuehr_cents": 0,
     "saeumniszuschlag_cents": 0, "due_date": D(2026, 12, 14)},
])


def page_count(pdf: bytes) -> int:
    """Pages of a PDF parsed back from its objects (fpdf2 writes one ``/Type /Page`` object per page)."""
    return len(re.findall(rb"/Type /Page\b(?!s)", pdf))


def test_the_pdf_opens_and_its_pages_are_the_letters_pages() -> None:
    data, layout = render_letters(THREE.notices, THREE.items, SENDER)
    assert data.startswith(b"%PDF-") and data.rstrip().endswith(b"%%EOF")
    assert layout.columns == ["notice_id", "first_page", "pages"]
    assert layout.rows() == [("M20261208-000001", 1, 1), ("M20261208-000002", 2, 2),
                             ("M20261208-000003", 4, 1)]
    assert page_count(data) == layout["pages"].sum() == 4
    if shutil.which("pdfinfo"):
        info = subprocess.run(["pdfinfo", "-"], input=data, capture_output=True, check=True).stdout.decode()
        assert re.search(r"Pages:\s+4\b", info)


def test_same_notices_give_the_same_bytes() -> None:
    one, _ = render_letters(THREE.notices, THREE.items, SENDER)
    two, _ = render_letters(THREE.notices, THREE.items, SENDER)
    assert one == two


@pytest.mark.skipif(find_font() is None, reason="DejaVu Sans not on this machine")
def test_fonts_are_embedded() -> None:
    data, _ = render_letters(THREE.notices, THREE.items, SENDER)
    assert data.count(b"/FontFile2") == 2                       # regular and bold, as TrueType subsets
    assert re.search(rb"/BaseFont /[A-Z]{6}\+DejaVuSans", data)


def test_texts_per_level_page_numbers_and_the_ancillary_warning() -> None:
    data, _ = render_letters(THREE.notices, THREE.items, SENDER, font=False, compress=False)
    pages = data.split(b"/Type /Page\n")[1:] if b"/Type /Page\n" in data else None
    text = data.decode("latin-1")
    for words in ("(Mahnung) Tj", "(Zahlungserinnerung) Tj", "(Seite 1 von 1) Tj", "(Seite 1 von 2) Tj",
                  "(Seite 2 von 2) Tj", "Fortsetzung", "(OSTERREICH) Tj", "(Jurgen Muller) Tj",
                  "(Zu zahlender Gesamtbetrag: 107,00 EUR) Tj", "bis spatestens 18.12.2026"):
        assert words in text.replace("\u00d6", "O").replace("\u00fc", "u").replace("\u00e4", "a"), words
    assert text.count("6 Abs. 4 VwVG NRW") == 2                  # the two Mahnungen, not the reminder
    assert pages is None or len(pages) >= 1


def test_letter_texts_warn_about_ancillary_claims_except_the_reminder() -> None:
    assert "§ 6 Abs. 4 VwVG NRW" in LEVEL_TEXTS["mahnung"].warning
    assert "§ 6 Abs. 4 VwVG NRW" in LEVEL_TEXTS["vollstreckungsankuendigung"].warning
    assert LEVEL_TEXTS["zahlungserinnerung"].warning == ""
    assert "{deadline}" in LEVEL_TEXTS["mahnung"].pay and "{total}" in LEVEL_TEXTS["mahnung"].pay


def test_epc_payload_literally_and_as_segno_builds_it() -> None:
    got = epc_payload(name="Stadtkasse Musterstadt", iban="DE02 3705 0299 0000 6847 12", amount_cents=12345,
                      remittance="1.2345.6789.012 222222222222", bic="COKSDE33XXX")
    assert got == ("BCD\n002\n1\nSCT\nCOKSDE33XXX\nStadtkasse Musterstadt\nDE02370502990000684712\n"
                   "EUR123.45\n\n\n1.2345.6789.012 222222222222")
    # the library's own EPC helper builds the same bytes (UTF-8, version 002, SCT, unstructured remittance)
    build = segno.helpers._make_epc_qr_data  # type: ignore[attr-defined]
    ref = build("Stadtkasse Musterstadt", "DE02370502990000684712", Decimal("123.45"),
                text="1.2345.6789.012 222222222222", bic="COKSDE33XXX", encoding="utf-8")
    assert got.encode("utf-8") == ref
    assert epc_payload(name="A", iban="DE02370502990000684712", amount_cents=100000, remittance="x").split("\n")[7] \
        == "EUR1000.00"
    assert epc_payload(name="A\nB", iban="DE02370502990000684712", amount_cents=1, remittance="a\tb").split("\n")[
        5:] == ["A B", "DE02370502990000684712", "EUR0.01", "", "", "a b"]


@pytest.mark.parametrize(("kwargs", "msg"), [
    ({"iban": ""}, "IBAN"), ({"amount_cents": 0}, "amount"), ({"bic": "ABC"}, "BIC"),
    ({"remittance": "x" * 141}, "140"), ({"name": "n" * 71}, "70")])
def test_epc_payload_refuses_what_a_banking_app_would_not_take(kwargs: dict[str, object], msg: str) -> None:
    args: dict[str, object] = {"name": "Stadtkasse", "iban": "DE02370502990000684712", "amount_cents": 100,
                               "remittance": "x", **kwargs}
    with pytest.raises(ValueError, match=msg):
        epc_payload(**args)  # type: ignore[arg-type]


def test_girocode_is_an_epc_sized_qr_image() -> None:
    img = girocode_image(epc_payload(name="Stadtkasse Musterstadt", iban="DE02370502990000684712",
                                     amount_cents=12345, remittance="1.2345.6789.012"))
    assert img.mode == "L" and img.size[0] == img.size[1]
    modules = img.size[0] // 4
    assert 21 <= modules <= 17 + 4 * 13 and (modules - 17) % 4 == 0    # a QR version of at most 13


@pytest.mark.skipif(not (shutil.which("pdftoppm") and shutil.which("zbarimg")), reason="pdftoppm/zbarimg missing")
def test_the_printed_girocode_reads_back(tmp_path: Path) -> None:
    one = notices([{"receivable_id": "a1", "debtor_id": "A"}])
    pdf = tmp_path / "l.pdf"
    write_letters(one.notices, one.items, SENDER, pdf)
    subprocess.run(["pdftoppm", "-r", "100", "-png", str(pdf), str(tmp_path / "p")], check=True)
    png = sorted(tmp_path.glob("p*.png"))[0]
    out = subprocess.run(["zbarimg", "-q", "--raw", str(png)], capture_output=True, check=False).stdout.decode()
    assert out.strip("\n") == epc_payload(name=SENDER.holder, iban=SENDER.iban, amount_cents=10700,
                                          remittance="1.2345.6789.012", bic=SENDER.bic)


def test_print_run_files_add_up(tmp_path: Path) -> None:
    paths = write_print_run(THREE.notices, THREE.items, SENDER, tmp_path)
    assert set(paths) == {"letters.pdf", "print_file.csv", "manifest.json"}
    assert verify(tmp_path) == []
    pf = pl.read_csv(paths["print_file.csv"], separator=";", schema_overrides={"postcode": pl.String})
    assert tuple(pf.columns) == PRINT_COLUMNS
    assert pf.select("notice_id", "name", "country", "level", "first_page", "pages", "total_cents").rows() == [
        ("M20261208-000001", "Jürgen Müller", "DE", "mahnung", 1, 1, 10700),
        ("M20261208-000002", "Özlem Şahin", "DE", "mahnung", 2, 2, 45 * 5700),
        ("M20261208-000003", "Zoë Ærøskøbing-Łukasiewicz", "AT", "zahlungserinnerung", 4, 1, 10000)]
    assert page_count(paths["letters.pdf"].read_bytes()) == pf["pages"].sum()
    manifest = json.loads(paths["manifest.json"].read_text(encoding="utf-8"))
    assert (manifest["letters"], manifest["pages"], manifest["total_cents"]) == (3, 4, 10700 + 45 * 5700 + 10000)
    assert manifest["by_level"] == {"mahnung": 2, "zahlungserinnerung": 1}


def test_a_notice_whose_kassenzeichen_do_not_fit_asks_to_quote_them_all() -> None:
    many = notices([{"receivable_id": f"r{i}", "debtor_id": "A", "kassenzeichen": f"{i:012d}"} for i in range(12)])
    assert many.notices["remittance"][0] == REMITTANCE_MANY
    data, _ = render_letters(many.notices, many.items, SENDER, font=False, compress=False)
    assert b"alle oben genannten Kassenzeichen" in data


def test_country_line() -> None:
    assert (country_line("AT"), country_line("nl"), country_line("DE"), country_line(None), country_line("XX")) == \
        ("ÖSTERREICH", "NIEDERLANDE", "", "", "XX")


def test_sender_from_a_config_with_only_tenant_reference_and_accounts(tmp_path: Path) -> None:
    path = tmp_path / "kasse.toml"
    path.write_text('[tenant]\nid = "musterstadt"\nname = "Musterstadt"\n[reference]\ndigits = 12\n'
                    '[[accounts]]\niban = "DE02 3705 0299 0000 6847 12"\nbic = "COKSDE33XXX"\nname = "Sparkasse"\n'
                    '[[accounts]]\niban = "DE89370400440532013000"\n', encoding="utf-8")
    s = sender_from_config(load_tenant_config(path))
    assert (s.name, s.iban, s.bic, s.bank_name, s.holder) == (
        "Stadtkasse Musterstadt", "DE02370502990000684712", "COKSDE33XXX", "Sparkasse", "Stadtkasse Musterstadt")
    path.write_text(path.read_text(encoding="utf-8") + '[letters]\npay_to_iban = "DE89370400440532013000"\n'
                    'sender_name = "Stadt Musterstadt"\naccount_holder = "Stadtkasse"\n', encoding="utf-8")
    s = sender_from_config(load_tenant_config(path))
    assert (s.name, s.iban, s.bic, s.holder) == ("Stadt Musterstadt", "DE89370400440532013000", "", "Stadtkasse")


def test_an_unknown_level_is_refused() -> None:
    odd = THREE.notices.with_columns(pl.lit("oeffentliche_erinnerung").alias("level"))
    with pytest.raises(ValueError, match="oeffentliche_erinnerung"):
        render_letters(odd, THREE.items, SENDER)


def test_no_notices_no_letters(tmp_path: Path) -> None:
    one = notices([{"receivable_id": "a1", "debtor_id": "A"}])
    data, layout = render_letters(one.notices.head(0), one.items.head(0), SENDER, font=False, compress=False)
    assert page_count(data) == 1 and layout.height == 0 and b"Keine Schreiben" in data
    paths = write_print_run(one.notices.head(0), one.items.head(0), SENDER, tmp_path)
    assert set(paths) == {"print_file.csv", "manifest.json"} and not (tmp_path / "letters.pdf").exists()
    assert pl.read_csv(paths["print_file.csv"], separator=";").columns == list(PRINT_COLUMNS)


def test_qr_codes_made_in_a_worker_process_give_the_same_pdf() -> None:
    many = notices([{"receivable_id": f"r{i}", "debtor_id": f"D{i:03d}", "open_cents": 1000 + i} for i in range(250)],
                   debtors=pl.DataFrame({"debtor_id": ["D000"], "debtor_name": ["Jürgen Müller"]}))
    inline, layout = render_letters(many.notices, many.items, SENDER, workers=0)
    pooled, layout2 = render_letters(many.notices, many.items, SENDER, workers=1)
    assert inline == pooled and layout.equals(layout2) and layout.height == 250


def test_every_page_number_is_printed_in_the_footer_font() -> None:
    """The page numbers are written after the letter (when its page count is known), going back to its
    earlier pages: each page's stream must set the footer's font itself before the text."""
    data, _ = render_letters(THREE.notices, THREE.items, SENDER, font=False, compress=False)
    text = data.decode("latin-1")
    footers = list(re.finditer(r"\(Seite (\d) von (\d)\) Tj", text))
    assert [(m[1], m[2]) for m in footers] == [("1", "1"), ("1", "2"), ("2", "2"), ("1", "1")]
    for m in footers:
        stream = text[text.rfind("stream", 0, m.start()):m.start()]
        assert re.findall(r"/F\d+ ([\d.]+) Tf", stream)[-1] == "7.50"


@pytest.mark.parametrize("text", ["X" * 300, "Müller " + "Ö" * 120 + " GmbH", "a " * 5])
def test_no_wrapped_line_is_wider_than_its_column(text: str) -> None:
    """A name without spaces must not run out of the envelope's window: an over-wide word is cut."""
    from datetime import date

    from outputs.dunning_letters import _Letters

    letters = _Letters(SENDER, find_font(), date(2026, 12, 8))
    lines = letters.wrap(text, 78, 10)
    letters.font(10)
    assert all(letters.pdf.get_string_width(line) <= 78 for line in lines)
    assert "".join(lines).replace(" ", "") == text.replace(" ", "")
    letters.output()                                  # fpdf2 closes its font files when it writes
