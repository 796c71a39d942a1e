"""The dunning run's loose ends wired (issue 15): the notice's fee Kassenzeichen in the remittance and
the letter, the DRAFT mark on every page of the prepare phase's samples."""

from __future__ import annotations

import shutil
import subprocess
from datetime import date
from pathlib import Path

import polars as pl
import pytest

from dunning.notices import REMITTANCE_MANY, REMITTANCE_MAX, Notices, group_notices, with_fee_kassenzeichen
from dunning.select import SELECTED_COLUMNS
from outputs.dunning_letters import DRAFT_MARK, Sender, render_letters, write_print_run

RUN = date(2026, 12, 8)
SENDER = Sender(name="Stadtkasse Musterstadt", street="Markt 1", postcode="33602", city="Musterstadt",
                contact=(), iban="DE02370502990000684712", bic="COKSDE33XXX", bank_name="Sparkasse")
_TYPES: dict[str, pl.DataType] = {
    "receivable_id": pl.String(), "debtor_id": pl.String(), "kassenzeichen": pl.String(),
    "claim_type": pl.String(), "due_date": pl.Date(), "due_effective": pl.Date(), "level": pl.String(),
    "open_cents": pl.Int64(), "saeumniszuschlag_cents": pl.Int64(), "surcharge_months": pl.Int64(),
    "interest_cents": pl.Int64(), "surcharge_rule": pl.String(), "mahngebuehr_cents": pl.Int64(),
    "fee_basis_cents": pl.Int64(), "mahngebuehr_rule": pl.String()}


def grouped(rows: list[dict[str, object]]) -> Notices:
    base = {"kassenzeichen": "1.2345.6789.012", "claim_type": "GRUNDSTEUER", "due_date": date(2026, 10, 1),
            "due_effective": date(2026, 10, 1), "level": "mahnung", "open_cents": 10000,
            "saeumniszuschlag_cents": 200, "surcharge_months": 2, "interest_cents": 0, "surcharge_rule": "ao_240",
            "mahngebuehr_cents": 600, "fee_basis_cents": 10000, "mahngebuehr_rule": "vo_vwvg_9"}
    sel = pl.DataFrame([{**base, **r} for r in rows], schema=_TYPES).select(SELECTED_COLUMNS)
    who = pl.DataFrame({"debtor_id": ["A", "B", "C"], "debtor_name": ["Jürgen Müller", "Özlem Şahin", "Ida Roth"],
                        "debtor_street": ["Goethestraße 3", "Am Markt 1", "Weg 2"],
                        "debtor_postcode": ["33602", "44135", "33602"],
                        "debtor_city": ["Bielefeld", "Dortmund", "Bielefeld"], "debtor_country": ["DE", None, None]})
    return group_notices(sel, who, RUN)


NOTICES = grouped([{"receivable_id": "r1", "debtor_id": "A"},
                   {"receivable_id": "r2", "debtor_id": "A", "kassenzeichen": "2.3456.7890.123"},
                   {"receivable_id": "r3", "debtor_id": "B"},
                   *[{"receivable_id": f"c{i}", "debtor_id": "C", "kassenzeichen": f"{i:012d}"} for i in range(10)]])


def _ids() -> dict[str, str]:
    return dict(zip(NOTICES.notices["debtor_id"], NOTICES.notices["notice_id"], strict=True))


def test_the_fee_kassenzeichen_follows_the_main_claims_in_the_remittance() -> None:
    ids = _ids()
    fees = pl.DataFrame({"notice_id": [ids["A"], ids["C"]], "fee_kassenzeichen": ["900000000028", "900000000036"]})
    got = with_fee_kassenzeichen(NOTICES.notices, NOTICES.items, fees)
    assert got.columns == [*NOTICES.notices.columns, "fee_kassenzeichen"]
    rem = dict(zip(got["debtor_id"], got["remittance"], strict=True))
    assert rem["A"] == "1.2345.6789.012 2.3456.7890.123 900000000028"
    assert rem["B"] == NOTICES.notices.filter(pl.col("debtor_id") == "B")["remittance"][0] == "1.2345.6789.012"
    # ten 12-digit main numbers fit (10 × 13 − 1 = 129), with the fee number they do not (142 > 140)
    assert NOTICES.notices.filter(pl.col("debtor_id") == "C")["remittance"][0] != REMITTANCE_MANY
    assert rem["C"] == REMITTANCE_MANY and len(" ".join([f"{i:012d}" for i in range(10)] + ["9" * 12])) > REMITTANCE_MAX
    assert got.filter(pl.col("debtor_id") == "B")["fee_kassenzeichen"][0] is None
    assert got.drop("remittance", "fee_kassenzeichen").equals(NOTICES.notices.drop("remittance"))


def _page_texts(pdf: Path) -> list[str]:
    out = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True, check=True, text=True).stdout
    return [p for p in out.split("\f") if p.strip()]


@pytest.mark.skipif(shutil.which("pdftotext") is None, reason="poppler-utils not on this machine")
def test_the_letter_names_the_fee_kassenzeichen_under_the_claims_table(tmp_path: Path) -> None:
    ids = _ids()
    fees = pl.DataFrame({"notice_id": [ids["A"]], "fee_kassenzeichen": ["900000000028"]})
    final = with_fee_kassenzeichen(NOTICES.notices, NOTICES.items, fees)
    paths = write_print_run(final, NOTICES.items, SENDER, tmp_path)
    text = "\n".join(_page_texts(paths["letters.pdf"]))
    assert text.count("Mahngebühr, Säumniszuschläge, Zinsen: Kassenzeichen 900000000028") == 1
    assert "1.2345.6789.012 2.3456.7890.123 900000000028" in text      # the remittance printed beside the QR
    assert "ENTWURF" not in text


@pytest.mark.skipif(shutil.which("pdftotext") is None, reason="poppler-utils not on this machine")
def test_a_draft_carries_the_mark_on_every_page_and_the_final_run_none(tmp_path: Path) -> None:
    data, layout = render_letters(NOTICES.notices, NOTICES.items, SENDER, draft=True)
    (tmp_path / "draft.pdf").write_bytes(data)
    pages = _page_texts(tmp_path / "draft.pdf")
    assert len(pages) == int(layout["pages"].sum()) >= 3           # the 10-claim letter has two pages
    assert all(DRAFT_MARK in page for page in pages)               # the banner (the diagonal words come apart)
    final, _ = render_letters(NOTICES.notices, NOTICES.items, SENDER)
    (tmp_path / "final.pdf").write_bytes(final)
    assert not any("ENTWURF" in p for p in _page_texts(tmp_path / "final.pdf"))
    # both marks on every page, also with the core font (latin-1: the dash becomes "-")
    raw, layout = render_letters(NOTICES.notices, NOTICES.items, SENDER, draft=True, font=False, compress=False)
    assert raw.count(b"(ENTWURF - nicht versenden) Tj") == 2 * int(layout["pages"].sum())
    plain, _ = render_letters(NOTICES.notices, NOTICES.items, SENDER, font=False, compress=False)
    assert b"ENTWURF" not in plain


def test_the_print_run_manifest_says_draft(tmp_path: Path) -> None:
    import json

    draft = write_print_run(NOTICES.notices, NOTICES.items, SENDER, tmp_path / "d", draft=True, font=False)
    final = write_print_run(NOTICES.notices, NOTICES.items, SENDER, tmp_path / "f", font=False)
    assert json.loads(draft["manifest.json"].read_text(encoding="utf-8"))["draft"] is True
    assert json.loads(final["manifest.json"].read_text(encoding="utf-8"))["draft"] is False


@pytest.mark.skipif(shutil.which("pdftoppm") is None or shutil.which("zbarimg") is None,
                    reason="poppler-utils / zbar-tools not on this machine")
def test_the_girocode_carries_the_fee_kassenzeichen(tmp_path: Path) -> None:
    ids = _ids()
    fees = pl.DataFrame({"notice_id": [ids["A"]], "fee_kassenzeichen": ["900000000028"]})
    final = with_fee_kassenzeichen(NOTICES.notices, NOTICES.items, fees)
    data, _ = render_letters(final.head(1), NOTICES.items, SENDER)
    (tmp_path / "one.pdf").write_bytes(data)
    subprocess.run(["pdftoppm", "-r", "150", "-png", "-f", "1", "-l", "1", str(tmp_path / "one.pdf"),
                    str(tmp_path / "p")], check=True)
    png = next(tmp_path.glob("p*.png"))
    out = subprocess.run(["zbarimg", "-q", "--raw", str(png)], capture_output=True, text=True).stdout
    lines = out.strip().splitlines()
    assert lines[0] == "BCD" and lines[7] == "EUR216.00"
    assert lines[-1] == "1.2345.6789.012 2.3456.7890.123 900000000028"


def test_a_later_letter_quotes_every_fee_kassenzeichen_once_after_the_main_claims() -> None:
    ids = _ids()
    fees = pl.DataFrame({"notice_id": [ids["A"], ids["A"], ids["A"], ids["C"]],
                         "fee_kassenzeichen": ["900000000028", "900000000036", "900000000028", None]})
    got = with_fee_kassenzeichen(NOTICES.notices, NOTICES.items, fees)
    a = got.filter(pl.col("debtor_id") == "A").row(0, named=True)
    assert a["remittance"] == "1.2345.6789.012 2.3456.7890.123 900000000028 900000000036"
    assert a["fee_kassenzeichen"] == "900000000028, 900000000036"           # the letter's line
    c = got.filter(pl.col("debtor_id") == "C").row(0, named=True)           # a null number is no number
    assert c["fee_kassenzeichen"] is None and c["remittance"] != REMITTANCE_MANY
    # two claims under one Kassenzeichen: quoted once
    same = grouped([{"receivable_id": "s1", "debtor_id": "A"}, {"receivable_id": "s2", "debtor_id": "A"}])
    one = with_fee_kassenzeichen(same.notices, same.items, pl.DataFrame(
        {"notice_id": same.notices["notice_id"], "fee_kassenzeichen": ["900000000028"]}))
    assert one["remittance"].to_list() == ["1.2345.6789.012 900000000028"]
