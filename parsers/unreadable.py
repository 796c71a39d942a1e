"""A bank file with an entry that cannot be read is rejected as a whole: a statement is never booked in part.

Its parser has already reported such an entry as an error with the line or XPath and the raw text
(``mt940.bad_entry``, ``camt.bad_amount``, ``camt.amount_not_cents``, ``camt.bad_cdtdbtind``,
``camt.bad_date`` …). Booking the rest would book a statement whose balance does not add up, and a row
without an amount would reach matching as a payment of unknown size. :func:`unreadable_entry` gives the
file-level error naming the first such entry; ``parsers.ingest`` rejects the file with it. What counts:

* a ``:61:`` the MT940 parser could not read at all (it left the entry out);
* a row without ``amount_cents``: amount missing, malformed or not whole cents, CdtDbtInd neither
  CRDT nor DBIT, a batch detail without an amount of its own;
* a booked row without ``booking_date`` (BookgDt malformed or missing). A pending or information
  row (``PDNG``, ``INFO``: camt.052/054, MT942) may have none yet: it is not booked.

>>> import polars as pl
>>> from parsers.schema import TRANSACTION_SCHEMA, conform
>>> tx = conform(pl.DataFrame({"statement_id": ["S1"], "entry_index": [2], "amount_cents": [None], "booked": [True],
...                            "source_xpath": ["/Document/BkToCstmrStmt/Stmt[1]/Ntry[3]"]}), TRANSACTION_SCHEMA)
>>> print(unreadable_entry(tx, []).message)
statement S1: entry /Document/BkToCstmrStmt/Stmt[1]/Ntry[3] has no usable amount; a statement is never booked in part, so nothing of this file is booked
"""

from __future__ import annotations

import polars as pl

from parsers.issues import ERROR, WARNING, Issue

#: codes of entries a parser could not read and left out of its frames
LEFT_OUT = frozenset({"mt940.bad_entry"})
CODE = "file.unreadable_entry"
_CONSEQUENCE = "a statement is never booked in part, so nothing of this file is booked"


def _unreadable_rows(transactions: pl.DataFrame) -> pl.DataFrame:
    booked = pl.col("booked").fill_null(True)
    return transactions.filter(pl.col("amount_cents").is_null() | (booked & pl.col("booking_date").is_null()))


def _parser_said(issues: list[Issue], entry: str) -> Issue | None:
    """The parser's own finding about the entry at ``entry`` (its XPath, or its line), if any."""
    return next((i for i in issues if i.severity in (ERROR, WARNING)
                 and (i.locator == entry or i.locator.startswith(entry + "/"))), None)


def unreadable_entry(transactions: pl.DataFrame, issues: list[Issue]) -> Issue | None:
    """The error that rejects a file (``transactions`` and ``issues`` of one file, as its parser gave
    them) because of an entry that cannot be read, naming the first one; ``None`` when there is none."""
    left_out = [i for i in issues if i.code in LEFT_OUT and i.severity == ERROR]
    rows = _unreadable_rows(transactions)
    n = len(left_out) + rows.select("statement_key", "statement_id", "entry_index").unique().height
    more = f" ({n} such entries)" if n > 1 else ""
    if left_out:
        first = left_out[0]
        return Issue(first.source_path, first.locator, ERROR, CODE,
                     f"{first.message}; {_CONSEQUENCE}{more}", first.raw)
    if rows.is_empty():
        return None
    row = rows.row(0, named=True)
    entry = row["source_xpath"] or (f"line {row['source_line']} :61:" if row["source_line"] is not None
                                    else f"no. {(row['entry_index'] or 0) + 1}")
    what = "booking date" if row["amount_cents"] is not None else "amount" if row["entry_amount_cents"] is None \
        else f"amount for its batch detail no. {(row['detail_index'] or 0) + 1}"
    said = _parser_said(issues, entry)
    why = f" ({said.code}: {said.message})" if said else ""
    statement = row["statement_id"] or row["statement_key"] or "?"
    return Issue(row["source_path"] or "", entry, ERROR, CODE,
                 f"statement {statement}: entry {entry} has no usable {what}{why}; {_CONSEQUENCE}{more}",
                 (row["raw"] or "")[:2000])
