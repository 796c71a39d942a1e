"""The hand-off batch for people (issue 17 §2): the Übergabeliste PDF (sums per case and in total, the
four-eyes signature block, the draft mark until released, "Seite n von m"), the CSV for German Excel, and
the batch's manifest (SHA-256, counts, control sums per file)."""

from __future__ import annotations

import hashlib
import json
import re
import shutil
import subprocess
from datetime import date
from pathlib import Path

import polars as pl
import pytest
from enforcement_frames import HEADER, UPDATE_HEADER, cases, claims, updates

from outputs.atomic import MANIFEST, verify
from outputs.enforcement_batch import (
    HANDOFF_CSV,
    HANDOFF_PDF,
    HANDOFF_XML,
    UPDATES_XML,
    write_handoff_batch,
    write_updates_batch,
)
from outputs.enforcement_csv import HANDOFF_CSV_COLUMNS, handoff_csv_bytes
from outputs.enforcement_list import DRAFT_MARK, Signoff, render_handoff_list
from outputs.report_pdf import find_font

D = date
PREPARED = Signoff("Anna Schmidt", D(2026, 12, 7))
RELEASED = Signoff("Anna Schmidt", D(2026, 12, 7), "Bernd Meier", D(2026, 12, 8))


def plain(signoff: Signoff | None = RELEASED, cs: pl.DataFrame | None = None, cl: pl.DataFrame | None = None) -> str:
    """The PDF with the core font and uncompressed streams: its texts are readable in the bytes."""
    data = render_handoff_list(HEADER, cases() if cs is None else cs, claims() if cl is None else cl, signoff,
                               font=False, compress=False)
    assert data.startswith(b"%PDF-")
    return data.decode("latin-1")


def shown(text: str) -> list[str]:
    """Every string drawn with ``Tj``, its PDF escapes (``\\(``, ``\\)``, ``\\\\``) undone."""
    return [re.sub(r"\\(.)", r"\1", s) for s in re.findall(r"\(((?:[^()\\]|\\.)*)\) Tj", text)]


def test_the_list_has_the_sums_per_case_and_the_total() -> None:
    words = shown(plain())
    for w in ("Summe Fall V-2026-000001", "114,00", "109,00", "5,00", "Summe Fall V-2026-000002", "102,00",
              "Summe Fall V-2026-000003", "1.308.641,58", "Gesamtsumme", "1.234.768,89", "61.731,00", "12.357,69",
              "1.308.857,58", "3 Fälle, 4 Forderungen"):
        assert w in words, w
    # each case's sum row comes after its claims and before the next case
    assert words.index("Summe Fall V-2026-000001") < words.index("Fall V-2026-000002")
    assert words.index("Gesamtsumme") > words.index("Summe Fall V-2026-000003")


def test_the_list_shows_the_enforceability_of_each_claim() -> None:
    words = shown(plain())
    assert "GB-2026-1 vom 10.01.2026" in words and "01.11.2026 / 08.11.2026" in words
    assert "entbehrlich: Nebenforderung" in words and "Grundsteuer" in words and "Säumniszuschlag" in words
    assert any("geb. 02.01.1970" in w for w in words) and any("Wien, Österreich" in w for w in words)


def test_signature_block_and_draft_mark() -> None:
    released = shown(plain(RELEASED))
    assert "Erstellt (Sachbearbeitung)" in released and "Freigegeben (zweite Person, Vier-Augen-Prinzip)" in released
    assert {"Anna Schmidt", "07.12.2026", "Bernd Meier", "08.12.2026"} <= set(released)
    assert released.count("Unterschrift") == 2
    assert not any("ENTWURF" in w for w in released)
    draft = shown(plain(PREPARED))
    assert draft.count(DRAFT_MARK.replace("–", "-")) == 2                  # banner and diagonal, on the one page
    assert "Anna Schmidt" in draft and "Bernd Meier" not in draft
    assert shown(plain(None)).count(DRAFT_MARK.replace("–", "-")) == 2
    with pytest.raises(ValueError, match="another person"):
        Signoff("Anna Schmidt", D(2026, 12, 7), " anna schmidt", D(2026, 12, 8))
    with pytest.raises(ValueError, match="both the releaser and the date"):
        Signoff("Anna Schmidt", D(2026, 12, 7), "Bernd Meier")


def many(n_cases: int, per_case: int) -> tuple[pl.DataFrame, pl.DataFrame]:
    base_case, base_claim = cases().row(0, named=True), claims().row(0, named=True)
    cs = pl.DataFrame([{**base_case, "case_number": f"V-{i:04d}", "debtor_id": f"D{i}"} for i in range(n_cases)],
                      schema=cases().schema)
    cl = pl.DataFrame([{**base_claim, "case_number": f"V-{i:04d}", "kassenzeichen": f"K{i}.{j}"}
                       for i in range(n_cases) for j in range(per_case)], schema=claims().schema)
    return cs, cl


def test_pages_say_seite_n_von_m_and_a_long_case_continues() -> None:
    cs, cl = many(3, 40)                               # 120 claims: a case longer than a page
    words = shown(plain(RELEASED, cs, cl))
    pages = [w for w in words if w.startswith("Seite ")]
    m = len(pages)
    assert m >= 3 and pages == [f"Seite {i} von {m}" for i in range(1, m + 1)]
    assert any(w.endswith("(Fortsetzung)") for w in words)
    assert words.count("Übergabeliste an die Vollstreckungsstelle".replace("Ü", "\xdc")) == m
    assert "Summe Fall V-0002" in words and "4.360,00" in words              # 40 × 109,00
    assert "13.080,00" in words and "3 Fälle, 120 Forderungen" in words
    # the signature block went to a page of its own: the total is repeated above it
    assert ("Gesamtsumme der Übergabe: 13.080,00 EUR - 3 Fälle, 120 Forderungen (Hauptforderungen 12.000,00 EUR, "
            "Zuschläge 360,00 EUR, Gebühren 720,00 EUR)") in words
    assert words.index("Erstellt (Sachbearbeitung)") > words.index(f"Seite {m - 1} von {m}")


def test_a_case_that_fits_on_a_page_is_not_split() -> None:
    cs, cl = many(12, 6)
    text = plain(RELEASED, cs, cl)
    for page in text.split("/Type /Page\n")[1:] or [text]:
        words = shown(page)
        heads = [w for w in words if w.startswith("Fall V-")]
        sums = [w for w in words if w.startswith("Summe Fall V-")]
        assert [h.removeprefix("Fall ") for h in heads] == [s.removeprefix("Summe Fall ") for s in sums]


@pytest.mark.skipif(find_font() is None, reason="DejaVu Sans not on this machine")
def test_fonts_embedded_and_same_batch_same_bytes() -> None:
    one = render_handoff_list(HEADER, cases(), claims(), RELEASED)
    assert one.count(b"/FontFile2") == 2
    assert one == render_handoff_list(HEADER, cases(), claims(), RELEASED)


@pytest.mark.skipif(shutil.which("pdftotext") is None, reason="poppler-utils not on this machine")
def test_pdftotext_reads_the_list(tmp_path: Path) -> None:
    (tmp_path / "l.pdf").write_bytes(render_handoff_list(HEADER, cases(), claims(), PREPARED))
    out = subprocess.run(["pdftotext", "-layout", str(tmp_path / "l.pdf"), "-"], capture_output=True, check=True,
                         text=True).stdout
    assert "Übergabeliste an die Vollstreckungsstelle" in out and "Jürgen Müller & Söhne <GmbH>" in out
    assert "1.308.857,58" in out and "Seite 1 von 1" in out and "ENTWURF – nicht freigegeben" in out


def test_csv_for_people() -> None:
    data, rows = handoff_csv_bytes(cases(), claims())
    assert data.startswith(b"\xef\xbb\xbf") and rows == 4
    lines = data.decode("utf-8-sig").split("\r\n")
    assert lines[0] == ";".join(c.header for c in HANDOFF_CSV_COLUMNS)
    assert lines[1] == ("V-2026-000001;A;Jürgen Müller & Söhne <GmbH>;1970-01-02;Goethestraße 3;33602;Bielefeld;DE;"
                        "1.2345.6789.012;Grundsteuer;;GB-2026-1;2026-01-10;2026-02-15;2026-11-01;2026-11-08;;"
                        "2026-11-20;100,00;3,00;6,00;109,00")
    assert lines[2].split(";")[10] == "1.2345.6789.012" and lines[2].split(";")[16] == "ancillary"
    assert lines[4].split(";")[-4:] == ["1234567,89", "61728,00", "12345,69", "1308641,58"]


def test_csv_neutralises_formulas() -> None:
    hostile = cases().with_columns(pl.lit("=1+1").alias("debtor_name"))
    line = handoff_csv_bytes(hostile, claims())[0].decode("utf-8-sig").split("\r\n")[1]
    assert line.split(";")[2] == "'=1+1"


def test_the_batch_with_its_manifest(tmp_path: Path) -> None:
    paths = write_handoff_batch(tmp_path / "b1", HEADER, cases(), claims(), PREPARED, font=False)
    assert set(paths) == {HANDOFF_XML, HANDOFF_CSV, HANDOFF_PDF, MANIFEST}
    assert verify(tmp_path / "b1") == []
    doc = json.loads(paths[MANIFEST].read_text(encoding="utf-8"))
    sums = {"principal_cents": 123476889, "surcharges_cents": 6173100, "fees_cents": 1235769,
            "total_cents": 130885758}
    assert doc["kind"] == "stadtkasse.enforcement_handoff" and doc["format"] == "urn:stadtkasse:enforcement:1"
    assert doc["cases"] == 3 and doc["claims"] == 4 and doc["control_sums"] == sums
    assert doc["draft"] is True and doc["prepared_by"] == "Anna Schmidt" and doc["released_by"] is None
    assert doc["receiver_tenant"] == "detmold" and doc["handoff_date"] == "2026-12-07"
    files = {f["file"]: f for f in doc["files"]}
    for name in (HANDOFF_XML, HANDOFF_CSV, HANDOFF_PDF):
        assert files[name]["sha256"] == hashlib.sha256(paths[name].read_bytes()).hexdigest()
        assert files[name]["sums"] == sums
    assert files[HANDOFF_XML]["rows"] == 4 and files[HANDOFF_CSV]["rows"] == 4 and files[HANDOFF_PDF]["rows"] is None
    released = write_handoff_batch(tmp_path / "b2", HEADER, cases(), claims(), RELEASED, font=False)
    again = json.loads(released[MANIFEST].read_text(encoding="utf-8"))
    assert again["draft"] is False and again["released_by"] == "Bernd Meier" and again["released_on"] == "2026-12-08"
    assert released[HANDOFF_XML].read_bytes() == paths[HANDOFF_XML].read_bytes()   # the release changes the PDF only
    assert released[HANDOFF_PDF].read_bytes() != paths[HANDOFF_PDF].read_bytes()
    paths[HANDOFF_CSV].write_bytes(b"changed")
    assert verify(tmp_path / "b1") == [f"{HANDOFF_CSV}: sha256 differs from the manifest"]


def test_a_batch_whose_file_is_invalid_leaves_nothing(tmp_path: Path) -> None:
    bad = cases().with_columns(pl.lit("X" * 141).alias("debtor_name"))
    with pytest.raises(ValueError, match="Case\\[1\\]/Debtor/Name"):
        write_handoff_batch(tmp_path / "b", HEADER, bad, claims(), PREPARED, font=False)
    assert not (tmp_path / "b").exists() or not any((tmp_path / "b").iterdir())


def test_the_updates_batch(tmp_path: Path) -> None:
    ups, ucl = updates()
    paths = write_updates_batch(tmp_path, UPDATE_HEADER, ups, ucl)
    assert verify(tmp_path) == []
    doc = json.loads(paths[MANIFEST].read_text(encoding="utf-8"))
    assert doc["by_kind"] == {"partial_payment": 1, "resumed": 1, "settled": 1, "suspended": 1}
    assert doc["control_sums"] == {"paid_cents": 15200, "open_cents": 5900}
    assert {f["file"]: f["rows"] for f in doc["files"]} == {UPDATES_XML: 4}
