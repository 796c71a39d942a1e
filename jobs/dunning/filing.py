"""File each booked letter in the case files: its own PDF of the very pages sent, under the debtor and
under each claim it names (``ledger.documents``; docs/DOCUMENTS.md).

Runs after the final letters are written (step ``documents``, in the ``book`` and ``finish`` phases of
``jobs.dunning.steps``). It reads what went to the print centre — ``letters.pdf``, checked against its
``manifest.json`` first (a file changed after it was written is not filed), and ``print_file.csv``, whose
``first_page``/``pages`` say where each letter lies — cuts the PDF (``outputs.pdf_pages``) and files
each piece with the key ``mahnung:<run_id>:<notice_id>``. Filing is idempotent per key, so a rerun (a
crash after the commit is finished by the next call) files nothing twice.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import polars as pl

from claims.vocab import DocumentKind, SubjectKind
from ledger.config import TenantConfig
from ledger.documents import DocumentError, NewDocument, file_documents, head
from outputs.atomic import verify
from outputs.dunning_letters import LETTERS_PDF, PRINT_FILE
from outputs.dunning_texts import LEVEL_TEXT, text_of
from outputs.pdf_pages import iter_pages


def letter_key(run_id: str, notice_id: str) -> str:
    """The idempotency key of a booked letter in the document store."""
    return f"mahnung:{run_id}:{notice_id}"


def letter_title(level: str, notice_date: date, notice_id: str) -> str:
    """The title the case file shows, e.g. ``Mahnung vom 18.11.2026 (Nr. N-…)``."""
    return f"{text_of(LEVEL_TEXT, level)} vom {notice_date:%d.%m.%Y} (Nr. {notice_id})"


def read_layout(print_file: Path) -> pl.DataFrame:
    """``notice_id``, ``first_page``, ``pages`` from the print file (the repo's Excel CSV: ``;``, BOM)."""
    df = pl.read_csv(print_file, separator=";", encoding="utf8", infer_schema=False)
    return df.select("notice_id", pl.col("first_page").cast(pl.Int64), pl.col("pages").cast(pl.Int64))


def file_letters(cfg: TenantConfig, run_id: str, notices: pl.DataFrame, items: pl.DataFrame,
                 paths: dict[str, str]) -> dict[str, Any]:
    """File every booked letter of run ``run_id`` (``notices``/``items``: the run's final notices and their
    claims; ``paths``: the written print run). Returns counts and the store's chain head afterwards."""
    if notices.height == 0 or LETTERS_PDF not in paths:
        return {"letters": 0, "documents": 0, "new": 0}
    pdf_path = Path(paths[LETTERS_PDF])
    problems = verify(pdf_path.parent)
    if problems:
        raise DocumentError(f"the print run in {pdf_path.parent} does not match its manifest ({'; '.join(problems)}): "
                            "its letters are not filed")
    layout = read_layout(pdf_path.parent / PRINT_FILE)
    rows = notices.select("notice_id", "debtor_id", "level", "notice_date").join(
        layout, on="notice_id", how="left", maintain_order="left")
    missing = rows.filter(pl.col("first_page").is_null())["notice_id"].to_list()
    if missing or layout.height != notices.height:
        raise DocumentError(f"the print file of run {run_id} does not list the booked notices "
                            f"({len(missing)} missing, {layout.height} rows for {notices.height} notices)")
    pieces = iter_pages(pdf_path.read_bytes(), list(zip(rows["first_page"], rows["pages"], strict=True)))
    claims = items.group_by("notice_id", maintain_order=True).agg(pl.col("receivable_id").unique(maintain_order=True))
    per_notice = dict(zip(claims["notice_id"].to_list(), claims["receivable_id"].to_list(), strict=True))

    def docs() -> Iterator[NewDocument]:
        for (notice_id, debtor_id, level, notice_date, _first, _pages), data in zip(rows.iter_rows(), pieces,
                                                                                  strict=True):
            subjects = [(SubjectKind.DEBTOR, debtor_id)] + [(SubjectKind.RECEIVABLE, r)
                                                            for r in per_notice.get(notice_id, [])]
            title = letter_title(level, notice_date, notice_id)
            for kind, ident in subjects:
                yield NewDocument(data, kind, str(ident), DocumentKind.MAHNUNG, letter_key(run_id, notice_id),
                                  notice_date, title, run_id=run_id)

    before = (head(cfg.state_dir, cfg.tenant) or {}).get("seq", -1)
    lines = file_documents(cfg.state_dir, cfg.tenant, docs(), settings=cfg.documents)
    top = head(cfg.state_dir, cfg.tenant) or {}
    return {"letters": rows.height, "documents": len(lines), "new": int(top.get("seq", -1)) - int(before),
            "head": top}


__all__ = ["file_letters", "letter_key", "letter_title", "read_layout"]
