"""The dunning booking files each letter in the case files: one PDF per notice, cut from the final print
run with exactly the pages the layout gives it, under the debtor and each claim; a rerun files nothing
twice; a crash after the commit is finished by the next call."""

from __future__ import annotations

import io
from pathlib import Path

import polars as pl
import pytest
from faults import InjectedFailure, fail_at
from pypdf import PdfReader
from test_dunning_job import AS_OF, first_night, prepare_and_release, tenant

from jobs.dunning import run_dunning
from jobs.dunning.filing import letter_key, read_layout
from jobs.dunning.record import read_record, week_key
from ledger.documents import DocumentError, documents_of, read_index, read_object, verify
from outputs.pdf_pages import PageRangeError, split_pages


def _pages(data: bytes) -> int:
    return len(PdfReader(io.BytesIO(data)).pages)


def _texts(data: bytes) -> str:
    return "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(data)).pages)


def test_the_booking_files_one_pdf_per_notice_with_the_layouts_pages(tmp_path: Path) -> None:
    cfg = tenant(tmp_path)
    first_night(cfg)
    run_id = prepare_and_release(cfg)
    booked = run_dunning(cfg, AS_OF, user="anna")
    assert booked.status == "booked"
    letters = Path(booked.paths["letters.pdf"])
    layout = read_layout(letters.parent / "print_file.csv")
    assert layout.height == 3
    lines = read_index(cfg.state_dir, "stadt")
    # three notices, each under its debtor and its one claim
    assert len(lines) == 6 and {e["kind"] for e in lines} == {"mahnung"} and {e["run_id"] for e in lines} == {run_id}
    notices = pl.read_parquet(cfg.runs_dir / run_id / "final_notices.parquet")
    whole = letters.read_bytes()
    for notice_id, debtor_id, first, pages in (layout.join(notices.select("notice_id", "debtor_id"), on="notice_id")
                                              .select("notice_id", "debtor_id", "first_page", "pages").iter_rows()):
        mine = documents_of(lines, "debtor", debtor_id)
        assert [e["key"] for e in mine] == [letter_key(run_id, notice_id)]
        data = read_object(cfg.state_dir, "stadt", mine[0]["sha256"])
        assert _pages(data) == pages
        assert data == split_pages(whole, [(first, pages)])[0]                # the very pages of the print run
        assert debtor_id in _texts(data)
        assert mine[0]["title"].startswith("Mahnung vom 18.11.2026 (Nr. ")
        assert (mine[0]["date"], mine[0]["retention_until"]) == ("2026-11-18", "2034-12-31")
    receivable = documents_of(lines, "receivable", "R1")
    assert len(receivable) == 1 and receivable[0]["sha256"] == documents_of(lines, "debtor", "D-R1")[0]["sha256"]
    assert verify(cfg.state_dir, "stadt") == []
    assert (cfg.runs_dir / run_id / "documents.json").exists()              # the chain head, kept with the run

    # the same week again: nothing booked, nothing filed
    assert run_dunning(cfg, AS_OF, user="anna").status == "nothing_to_do"
    assert len(read_index(cfg.state_dir, "stadt")) == 6


def test_a_crash_while_filing_is_finished_by_the_next_call_and_files_nothing_twice(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    cfg = tenant(tmp_path)
    first_night(cfg)
    prepare_and_release(cfg)
    fail_at(monkeypatch, "documents")                                       # after the filing, before the step ends
    with pytest.raises(InjectedFailure):
        run_dunning(cfg, AS_OF, user="anna")
    assert len(read_index(cfg.state_dir, "stadt")) == 6
    assert read_record(cfg, week_key(AS_OF)).stage == "booked"             # type: ignore[union-attr]
    fail_at(monkeypatch, None)
    assert run_dunning(cfg, AS_OF, user="anna").status == "booked"          # the finish phase
    assert len(read_index(cfg.state_dir, "stadt")) == 6 and verify(cfg.state_dir, "stadt") == []


def test_a_print_run_changed_after_it_was_written_is_not_filed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    cfg = tenant(tmp_path)
    first_night(cfg)
    prepare_and_release(cfg)
    fail_at(monkeypatch, "letters")
    with pytest.raises(InjectedFailure):
        run_dunning(cfg, AS_OF, user="anna")
    fail_at(monkeypatch, None)
    letters = next((cfg.reports / "stadt").rglob("letters.pdf"))
    letters.write_bytes(letters.read_bytes() + b"\n% appended")
    # the finish phase writes the letters anew (the same notices give the same bytes) and files them
    assert run_dunning(cfg, AS_OF, user="anna").status == "booked"
    assert len(read_index(cfg.state_dir, "stadt")) == 6

    from jobs.dunning.filing import file_letters
    run_id = read_index(cfg.state_dir, "stadt")[0]["run_id"]
    paths = {"letters.pdf": str(letters)}
    letters.chmod(0o644)
    letters.write_bytes(letters.read_bytes() + b"\n% appended")
    with pytest.raises(DocumentError, match="does not match its manifest"):
        file_letters(cfg, run_id, pl.read_parquet(cfg.runs_dir / run_id / "final_notices.parquet"),
                     pl.read_parquet(cfg.runs_dir / run_id / "final_items.parquet"), paths)


def test_split_pages_refuses_ranges_outside_the_pdf_or_overlapping() -> None:
    from fpdf import FPDF

    doc = FPDF()
    for _ in range(4):
        doc.add_page()
    data = bytes(doc.output())
    assert [_pages(p) for p in split_pages(data, [(1, 1), (2, 3)])] == [1, 3]
    assert split_pages(data, [(2, 2)]) == split_pages(data, [(2, 2)])        # the same bytes every time
    with pytest.raises(PageRangeError, match="not in the PDF"):
        split_pages(data, [(4, 2)])
    with pytest.raises(PageRangeError, match="overlap"):
        split_pages(data, [(1, 2), (2, 1)])
