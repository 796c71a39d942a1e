"""Cut one PDF into several by page ranges: each booked letter of a print run as its own PDF.

The dunning run writes all letters into one PDF for the print centre and records where each letter
starts and how many pages it has (``outputs.dunning_letters.render_letters``' layout, the print file's
``first_page``/``pages``). The case file keeps each letter on its own, made of **the very pages that were
printed** (the page objects are copied, not drawn again), by **pypdf** — pure Python, well kept, and its
output is the same bytes for the same input (no random file id), so cutting a run again gives the same
SHA-256 and the document store keeps each letter once.
"""

from __future__ import annotations

import io
from collections.abc import Iterator, Sequence

from pypdf import PdfReader, PdfWriter


class PageRangeError(ValueError):
    """A page range does not fit the PDF (the layout and the file do not belong together)."""


def split_pages(pdf: bytes, ranges: Sequence[tuple[int, int]]) -> list[bytes]:
    """One PDF per ``(first_page, pages)`` (1-based, as the layout says), in the order given.

    Refuses a range outside the document, or ranges that overlap: a letter is never cut out of the
    wrong pages.

    >>> from fpdf import FPDF
    >>> doc = FPDF()
    >>> for _ in range(3):
    ...     doc.add_page()
    >>> [len(PdfReader(io.BytesIO(p)).pages) for p in split_pages(bytes(doc.output()), [(1, 2), (3, 1)])]
    [2, 1]
    """
    return list(iter_pages(pdf, ranges))


def iter_pages(pdf: bytes, ranges: Sequence[tuple[int, int]]) -> Iterator[bytes]:
    """:func:`split_pages` one piece at a time (a run of 100,000 letters is not held in memory twice).
    Every range is checked before the first piece is made."""
    reader = PdfReader(io.BytesIO(pdf))
    total = len(reader.pages)
    taken: set[int] = set()
    for first, pages in ranges:
        if first < 1 or pages < 1 or first + pages - 1 > total:
            raise PageRangeError(f"pages {first}–{first + pages - 1} are not in the PDF ({total} pages)")
        span = set(range(first, first + pages))
        if span & taken:
            raise PageRangeError(f"pages {first}–{first + pages - 1} overlap another letter's")
        taken |= span
    return _pieces(reader, list(ranges))


def _pieces(reader: PdfReader, ranges: list[tuple[int, int]]) -> Iterator[bytes]:
    for first, pages in ranges:
        writer = PdfWriter()
        for i in range(first - 1, first - 1 + pages):
            writer.add_page(reader.pages[i])
        buf = io.BytesIO()
        writer.write(buf)
        yield buf.getvalue()


def page_count(pdf: bytes) -> int:
    """How many pages ``pdf`` has."""
    return len(PdfReader(io.BytesIO(pdf)).pages)


__all__ = ["PageRangeError", "iter_pages", "page_count", "split_pages"]
