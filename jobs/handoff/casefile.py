"""The hand-off record of each case for its case file: the case's own hand-off message.

Per case one document (issue 17 §3: the hand-off record in the case file): a complete hand-off message
of the same format — the batch's header (message id, date, parties) with the counts and control sums of
this case, and the case's ``Case`` element exactly as it went out. Why this and not the Übergabeliste:
the list holds every debtor of the batch (the case file of one debtor must not show the others), a PDF
per case costs a rendering per case, and the message is what the office received for the case, readable
by ``enforcement.handoff_file.read_handoff`` and checked against the same XSD. The signed list stays with
the batch (run folder and outbox).

The cases are cut from the booked batch file — our own writer's bytes, validated against the XSD as a
whole — at its ``<Case>`` elements (a ``<`` in text is always escaped, so the tags cannot occur inside a
value); per case only the header's counts and control sums are rewritten, from the file's claim rows. No
rendering, parsing or validation per case: 100,000 cases cost seconds, not the minutes a writer call per
case would.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import polars as pl

from enforcement.file_format import euros

#: The header's counts and control sums, as the writer lays them out (replaced per case).
_TOTALS = re.compile(rb"<Counts>.*?</ControlSums>", re.DOTALL)
_NUMBER = re.compile(rb"<CaseNumber>([^<]*)</CaseNumber>")
_AMOUNTS = ("principal_cents", "surcharges_cents", "fees_cents")


_FIELDS = (b"Cases", b"Claims", b"Principal", b"Surcharges", b"Fees", b"Total")
_FIELD = re.compile(rb"<(Cases|Claims|Principal|Surcharges|Fees|Total)>[^<]*</\1>")
_CASE = re.compile(rb"<Case>.*?</Case>", re.DOTALL)


def _template(block: bytes) -> bytes:
    """The header's ``Counts``/``ControlSums`` block with a ``%s`` for each figure, in :data:`_FIELDS` order
    (the writer's layout kept; a ``%`` in it is escaped)."""
    found = [m.group(1) for m in _FIELD.finditer(block)]
    if found != list(_FIELDS):
        raise ValueError(f"a hand-off header with the totals {found!r}, expected {list(_FIELDS)!r}")
    return _FIELD.sub(lambda m: b"<%s>%%s</%s>" % (m.group(1), m.group(1)), block.replace(b"%", b"%%"))


def case_messages(batch: bytes, claims: pl.DataFrame) -> Iterator[tuple[str, bytes]]:
    """``(case number, the case's own hand-off message)`` for every ``Case`` of the hand-off file
    ``batch``, in the file's order; ``claims``: the file's claim rows (``case_number`` and the amounts in
    cents) the batch was written from (module docstring)."""
    figures = claims.group_by("case_number").agg(pl.len().alias("n"), *[pl.col(c).sum() for c in _AMOUNTS])
    per_case = {r[0]: (str(r[1]).encode(), *(euros(int(v)).encode() for v in (*r[2:], sum(r[2:]))))
                for r in figures.iter_rows()}
    first = batch.find(b"<Case>")
    if first < 0:
        return
    head, tail = batch[:first], batch[batch.rfind(b"</Case>") + len(b"</Case>"):]
    block = _TOTALS.search(head)
    if block is None:
        raise ValueError("a hand-off file without counts and control sums in its header")
    template = _template(block.group(0))
    before, after = head[:block.start()], head[block.end():]
    for m in _CASE.finditer(batch, first):
        case = m.group(0)
        found = _NUMBER.search(case)
        number = found.group(1).decode() if found else ""
        yield number, before + template % (b"1", *per_case[number]) + after + case + tail


__all__ = ["case_messages"]
