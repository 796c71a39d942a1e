"""The letter frame shared by the dunning letters and the Verrechnungsmitteilung (outputs/letter_pdf.py):
its docstring examples, the names the dunning module still exports, and no file left open."""

from __future__ import annotations

import doctest
import gc
import warnings
from datetime import date

import outputs.dunning_letters as dunning_letters
import outputs.letter_pdf as letter_pdf
from outputs.letter_pdf import LetterPdf, Sender, iban_groups, masked_iban, resolve_font
from outputs.report_pdf import find_font


def test_docstring_examples_hold() -> None:
    result = doctest.testmod(letter_pdf)
    assert result.failed == 0 and result.attempted >= 2


def test_the_dunning_module_exports_the_frames_names_unchanged() -> None:
    for name in ("Sender", "sender_from_config", "country_line", "CLAIM_WORDS", "DRAFT_MARK"):
        assert getattr(dunning_letters, name) is getattr(letter_pdf, name), name
        assert name in dunning_letters.__all__


def test_iban_groups_and_masks() -> None:
    assert iban_groups("DE02370502990000684712") == "DE02 3705 0299 0000 6847 12"
    assert masked_iban(" de02 3705 0299 0000 6847 12 ") == "**** **** **** **** **47 12"
    assert masked_iban("NO9386011117947") == "**** **** ***7 947"


def test_resolve_font() -> None:
    assert resolve_font(True) == find_font()
    assert resolve_font(False) is None and resolve_font(None) is None
    assert resolve_font(letter_pdf.Path("/x/y.ttf")) == letter_pdf.Path("/x/y.ttf")


def test_a_letter_document_leaves_no_file_open() -> None:
    """fpdf2 reads the TTF at add_font and closes it when it writes: a finished document warns of nothing."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        doc = LetterPdf(Sender(name="Stadtkasse Ä"), find_font(), date(2026, 12, 8))
        first = doc.opening(("Jürgen Müller", "Goethestraße 3", "33602 Bielefeld", ""), [("Datum", "08.12.2026")],
                            "Betreff")
        assert first > 107
        doc.pdf.set_compression(False)
        assert doc.number_pages(1, "X1") == 1
        doc.draft_marks()
        assert doc.output().startswith(b"%PDF-")
        del doc
        gc.collect()
    assert [w for w in caught if issubclass(w.category, ResourceWarning)] == []
