"""What pain.008 and pain.001 share: column expressions that render XML text for a whole frame at once,
the checks of the input frame, and the streamed write of the rendered rows.

The writers build each transaction block as one string per row with Polars expressions (escape, amount,
concatenation), then write the rows in chunks: no Python loop over the transactions and no element tree
in memory, which keeps 200,000 collections within seconds (docs/BENCHMARKS.md, "SEPA: pain files").
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import BinaryIO
from xml.sax.saxutils import escape

import polars as pl

from collection.sepa_text import Charset, FieldKind, refuse_bad_text

#: The largest amount a SEPA transaction may carry (EPC: 999,999,999.99 EUR), in cents.
MAX_AMOUNT_CENTS = 99_999_999_999
#: Rows rendered and written per chunk: large enough to amortise, small enough to keep memory flat.
CHUNK_ROWS = 20_000


class PainInputError(ValueError):
    """The input frame cannot become a pain file (missing column, null, bad amount, duplicate id …)."""


@dataclass(frozen=True)
class PaymentInfoSummary:
    """One PmtInf block as written: its id, the group it holds, count and sum in cents."""

    payment_info_id: str
    sequence_type: str | None
    count: int
    control_sum_cents: int


@dataclass(frozen=True)
class PainFile:
    """What a writer wrote: the ids, counts and sums (for the manifest and the ledger) and the SHA-256
    of the bytes."""

    version: str
    message_id: str
    count: int
    control_sum_cents: int
    payment_infos: tuple[PaymentInfoSummary, ...]
    sha256: str


def esc(expr: pl.Expr) -> pl.Expr:
    """XML-escape a string column (``&``, ``<``, ``>``; text content needs no more)."""
    return (
        expr.str.replace_all("&", "&amp;", literal=True)
        .str.replace_all("<", "&lt;", literal=True)
        .str.replace_all(">", "&gt;", literal=True)
    )


def x(text: str) -> str:
    """XML-escape one Python string (header fields)."""
    return escape(text)


def amount_expr(cents: pl.Expr) -> pl.Expr:
    """Integer cents as the decimal text of a SEPA amount: 1234 -> "12.34", 5 -> "0.05"."""
    return pl.format("{}.{}", cents // 100, (cents % 100).cast(pl.String).str.zfill(2))


def amount_text(cents: int) -> str:
    """One amount in cents as SEPA decimal text (for the control sums)."""
    return f"{cents // 100}.{cents % 100:02d}"


def check_frame(
    frame: pl.DataFrame,
    required: Mapping[str, pl.DataType],
    optional: Mapping[str, pl.DataType],
    text_fields: Mapping[str, FieldKind],
    charset: Charset,
) -> pl.DataFrame:
    """The frame with exactly the columns the writer uses, cast to their types; raises PainInputError for a
    missing column, a null in a required column, an amount outside 0.01 .. 999,999,999.99 EUR, a repeated
    end-to-end id, and SepaTextError for any text that would have to change."""
    missing = [c for c in required if c not in frame.columns]
    if missing:
        raise PainInputError(f"missing column(s): {', '.join(missing)}")
    if frame.is_empty():
        raise PainInputError("no transactions: a pain file needs at least one")
    if not frame.schema["amount_cents"].is_integer():
        raise PainInputError(f"amount_cents must be integer cents, not {frame.schema['amount_cents']}")
    dates = [c for c, t in required.items() if t == pl.Date() and frame.schema[c] != pl.Date()]
    if dates:
        raise PainInputError(f"column(s) {dates} must be dates (pl.Date)")
    cols = {**required, **{c: t for c, t in optional.items() if c in frame.columns}}
    out = frame.select([pl.col(c).cast(t) for c, t in cols.items()])
    for c in optional:
        if c not in out.columns:
            out = out.with_columns(pl.lit(None, optional[c]).alias(c))
    nulls = out.select(pl.col(list(required)).null_count()).row(0, named=True)
    bad_nulls = {c: n for c, n in nulls.items() if n}
    if bad_nulls:
        raise PainInputError(f"null values in required column(s): {bad_nulls}")
    bad_amount = out.with_row_index("row").filter(
        (pl.col("amount_cents") < 1) | (pl.col("amount_cents") > MAX_AMOUNT_CENTS)
    )
    if not bad_amount.is_empty():
        rows = bad_amount.select("row", "amount_cents").head(5).rows()
        raise PainInputError(
            f"amount outside 0.01 .. 999999999.99 EUR in {bad_amount.height} row(s), e.g. {rows}"
        )
    dup = out.filter(pl.col("end_to_end_id").is_duplicated())["end_to_end_id"].unique().sort()
    if dup.len():
        raise PainInputError(f"end_to_end_id repeated in one file: {dup.head(5).to_list()}")
    refuse_bad_text(out, text_fields, charset=charset)
    return out


def check_header_text(values: Mapping[str, tuple[str, FieldKind]], charset: Charset) -> None:
    """The header fields (creditor or debtor name, ids) under the same rules as the rows."""
    frame = pl.DataFrame({k: [v] for k, (v, _) in values.items()}, schema={k: pl.String for k in values})
    refuse_bad_text(frame, {k: kind for k, (_, kind) in values.items()}, charset=charset)


def created_text(created_at: datetime) -> str:
    """CreDtTm at seconds precision; with its UTC offset when the time carries one, else as given
    (local time, as sepaxml writes it)."""
    return created_at.isoformat(timespec="seconds")


def date_text(day: date) -> str:
    return day.isoformat()


class HashingSink:
    """Writes to a binary file and hashes what goes through it (the manifest's SHA-256)."""

    def __init__(self, sink: BinaryIO) -> None:
        self._sink = sink
        self._hash = hashlib.sha256()

    def write(self, data: str) -> None:
        raw = data.encode("utf-8")
        self._hash.update(raw)
        self._sink.write(raw)

    def hexdigest(self) -> str:
        return self._hash.hexdigest()


def write_rows(sink: HashingSink, frame: pl.DataFrame, row_xml: pl.Expr) -> None:
    """Render row_xml for every row and write it, CHUNK_ROWS rows at a time, one transaction per line."""
    for start in range(0, frame.height, CHUNK_ROWS):
        chunk = frame.slice(start, CHUNK_ROWS).select(row_xml.alias("xml"))
        sink.write(chunk["xml"].str.join("\n").item() + "\n")


def payment_info_id(message_id: str, part: str) -> str:
    """The PmtInfId of one group of a message: the message id and the group's key (``M-20261210-FRST``);
    unique forever as long as the message id is."""
    return f"{message_id}-{part}"
