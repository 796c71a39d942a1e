"""Reading the open-items export (CSV or Parquet) into a raw frame for :mod:`parsers.open_items`.

The raw frame has lower-cased column names, a ``source_line`` and, for Parquet, only the columns the
loader uses. Every column is a string, as the CSV delivers it, except where a typed Parquet column
means exactly what its string would (the loader then need not parse it back):

* ``due_date``, ``mandate_date``, ``dunning_block_until``, ``notice_date`` of type ``Date`` stay dates;
* ``amount`` of an integer type or ``Decimal`` with at most two places stays a number;
* ``amount`` as ``Float`` (raw name ``amount``) is rounded to ``amount_cents`` once, here.

Typed columns are cast to strings only for the messages of rejected rows, where the string is the
one the whole column would have given.

:class:`RawExport` lists which columns kept their type and the column names the file has (for the
missing-columns message).
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from pathlib import Path

import polars as pl

from parsers.issues import ERROR, Issue
from parsers.open_items_rows import BadRow, csv_rows

REQUIRED = ("receivable_id", "kassenzeichen", "debtor_id", "debtor_name", "claim_type", "amount", "due_date")
OPTIONAL = ("tenant", "debtor_iban", "external_ref", "mandate_id", "mandate_date", "dunning_block_until", "law",
            "debtor_street", "debtor_postcode", "debtor_city", "debtor_country", "debtor_birth_date",
            "notice_date", "block_reason")
DATES = ("due_date", "mandate_date", "dunning_block_until", "debtor_birth_date", "notice_date")
_WANTED = {*REQUIRED, *OPTIONAL, "amount_cents"}


@dataclass(frozen=True)
class RawExport:
    """The export as read: ``frame`` (renamed, ``source_line`` added), ``typed`` columns, all ``names``."""

    frame: pl.DataFrame
    typed: frozenset[str]
    names: list[str]


def _norm(name: str) -> str:
    return name.strip().lower()


def _keeps_type(name: str, dtype: pl.DataType) -> bool:
    """Whether a Parquet column of ``dtype`` under the normalised ``name`` can stay typed."""
    if name in DATES:
        return dtype == pl.Date
    if name == "amount":
        return dtype.is_integer() or (isinstance(dtype, pl.Decimal) and (dtype.scale or 0) <= 2)
    return False


def _read_parquet(path: Path) -> RawExport:
    schema = pl.read_parquet_schema(path)
    float_amount = "amount" in schema and schema["amount"].is_float()
    names = [*schema, *(["amount_cents"] if float_amount and "amount_cents" not in schema else [])]
    names = [_norm(c) for c in names] + ([] if "source_line" in schema else ["source_line"])
    df = pl.read_parquet(path, columns=[c for c in schema if _norm(c) in _WANTED])
    if float_amount:
        # a float export is rounded to cents once, here, and never used as float again
        df = df.with_columns((pl.col("amount") * 100).round().cast(pl.Int64).alias("amount_cents"))
    # a float amount stays as it is too: only the messages of rejected rows show it (as a string)
    typed = {c for c in df.columns if c != "amount_cents" and (_keeps_type(_norm(c), schema[c]) or (float_amount and c == "amount"))}
    to_string = [c for c in df.columns if c != "amount_cents" and c not in typed and df.schema[c] != pl.String]
    if to_string:
        df = df.with_columns(pl.col(to_string).cast(pl.String))
    # hstack, not with_columns: a column of another chunking makes with_columns copy the whole frame
    df = df.hstack([pl.int_range(1, df.height + 1, dtype=pl.Int32, eager=True).alias("source_line")])  # not read
    df = df.rename({c: _norm(c) for c in df.columns})
    return RawExport(df, frozenset(_norm(c) for c in typed), names)


def _parse(data: bytes, sep: str, *, ragged: bool = False) -> pl.DataFrame:
    return pl.read_csv(data, separator=sep, infer_schema=False, truncate_ragged_lines=ragged)


def _each_line_a_row(data: bytes, sep: str, df: pl.DataFrame) -> bool:
    """Whether every line after the header is one row of the header's width (the usual export), judged
    without reading it line by line. Polars has refused any row with a field too many; so with no
    ``"`` in the file, as many separators as full rows have mean that no row has one too few either.
    With quotes (a quoted value may hold separators and line breaks): no row stops before the last
    column, and there are as many line breaks as lines of rows."""
    if b'"' not in data:
        return data.count(sep.encode()) == (df.height + 1) * (df.width - 1)
    breaks = data.count(b"\n")
    return df.width > 0 and df[:, -1].null_count() == 0 and breaks == df.height + data.endswith(b"\n")


def _rows_of_the_header_width(data: bytes, sep: str, df: pl.DataFrame | None,
                               path: str) -> tuple[pl.DataFrame, pl.Series, list[Issue]]:
    """The rows of the header's width, the line each starts on, and an issue per other record."""
    rows = csv_rows(data, sep)
    try:  # Polars reads the file leniently (or has read it), and the other records' rows are dropped
        whole = df if df is not None else _parse(data, sep, ragged=True)
    except pl.exceptions.PolarsError:  # a quote Polars cannot read: those records are left out too
        whole = None
    if whole is None or whole.height != rows.keep.len():
        rows = csv_rows(data, sep, quoting=True)
        whole = _parse(rows.kept or b"", sep)
        rows = replace(rows, keep=pl.repeat(True, rows.lines.len(), eager=True))
        if whole.height != rows.lines.len():
            raise ValueError(f"{rows.lines.len()} lines hold rows, but {whole.height} rows were read "
                             "(quoting that Polars reads otherwise?)")
    issues = [_bad_row(path, row, rows.width, sep) for row in rows.bad]
    return whole.filter(rows.keep), rows.lines.alias("source_line"), issues


def _bad_row(path: str, row: BadRow, width: int, sep: str) -> Issue:
    """The issue of a record that is not read (:mod:`parsers.open_items_rows`)."""
    where, raw = f"line {row.line}", row.text[:2000]
    if row.fields is None:
        return Issue(path, where, ERROR, "open_items.bad_row",
                     f"a '\"' inside a value that is not quoted, or a quoted value that does not close "
                     f"(expected a value holding '{sep}' or '\"' quoted as \"…\", a '\"' in it doubled); the row is not read",
                     raw)
    why = f"a '{sep}' inside a value that is not quoted?" if row.fields > width else "values missing, a line cut short?"
    return Issue(path, where, ERROR, "open_items.field_count",
                 f"expected {width} fields like the header, got {row.fields} ({why}); the row is not read", raw)


def _read_csv(path: Path) -> tuple[RawExport, list[Issue]]:
    data = path.read_bytes()
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    end = data.find(b"\n")
    header = data if end < 0 else data[:end]
    sep = ";" if header.count(b";") >= header.count(b",") else ","
    with ThreadPoolExecutor(max_workers=1) as pool:  # Polars parses while Python checks the encoding
        frame = pool.submit(_parse, data, sep)
        try:
            data.decode("utf-8")  # a bad byte is reported as such, even where Polars fails too
        except UnicodeDecodeError:
            frame.exception()  # wait for Polars, and drop what it made of the file
            raise
        failed = frame.exception()
    df = None if failed is not None else frame.result()
    issues: list[Issue] = []
    if df is not None and _each_line_a_row(data, sep, df):
        line = pl.int_range(2, df.height + 2, dtype=pl.Int32, eager=True).alias("source_line")
    else:  # some record is not of the header's width (or Polars could not read the file): it is left out
        df, line, issues = _rows_of_the_header_width(data, sep, df, str(path))
    # hstack, not with_columns: a column of another chunking makes with_columns copy the whole frame
    df = df.with_columns(line) if "source_line" in df.columns else df.hstack([line])
    df = df.rename({c: _norm(c) for c in df.columns})
    return RawExport(df, frozenset(), df.columns), issues


def read_export(path: Path) -> tuple[RawExport | None, list[Issue]]:
    """The export as a :class:`RawExport`, or ``None`` and a file-level issue (unreadable, not UTF-8)."""
    p = str(path)
    try:
        if path.suffix.lower() == ".parquet":
            try:
                return _read_parquet(path), []
            except (OSError, pl.exceptions.PolarsError):
                pl.read_parquet(path)  # the whole-file reader's own words for what is wrong
                raise
        return _read_csv(path)
    except UnicodeDecodeError as exc:
        return None, [Issue(p, "", ERROR, "open_items.encoding", f"expected UTF-8, got a bad byte at {exc.start}")]
    except (OSError, ValueError, pl.exceptions.PolarsError) as exc:
        return None, [Issue(p, "", ERROR, "open_items.unreadable",
                              f"cannot read the export: {' '.join(str(exc).split()) or type(exc).__name__}")]
