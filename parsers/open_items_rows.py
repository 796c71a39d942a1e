"""Which lines of an open-items CSV are rows of the header's width; the others are left out, by line.

One unquoted ``;`` inside a value (``Müller; Anna``) gives its line a field too many, and Polars' reader
then refuses the whole file; a line with fields missing it reads with the missing values empty. So the
fields of each record are counted, and a record of another width than the header's, or (``quoting``)
with a ``"`` that is no RFC 4180 quoting (``5" Rohr``, an unclosed ``"…``), is one bad row. Polars then
reads the file leniently and the bad rows are dropped (``keep``: one flag per row Polars reads); only
where it cannot read the file at all (a broken quote) does it get the header and the good records
(``kept``). Each record keeps the number of the line it starts on.

Counting is vectorised: a line without ``"`` has ``count(sep) + 1`` fields; from a line with quotes the
quoted values are taken out first. A quoted value may hold a line break: a line with an odd number of
quotes is joined with the lines after it until the quote closes (few: a Python loop over them only).
Empty lines are no records to keep (Polars reads them as rows of nothing).

>>> rows = csv_rows(b'id;name;amount\\n1;"M\\xc3\\xbcller; Anna";5\\n2;Lee; Bo;6\\n\\n3;Kim\\n', ";", quoting=True)
>>> rows.keep.to_list(), rows.lines.to_list(), [(b.line, b.fields) for b in rows.bad]
([True, False, False, False], [2], [(3, 4), (5, 2)])
>>> rows.kept
b'id;name;amount\\n1;"M\\xc3\\xbcller; Anna";5\\n'
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import polars as pl

#: separator bytes for reading the file line by line (one that the file does not hold is used)
_SPARE = ("\x1f", "\x1e", "\x1d", "\x1c", "\x00")
#: a quoted value spanning more lines than this is taken for an unclosed quote
MAX_LINES = 100
_QUOTED = r'"(?:[^"]|"")*"'


@dataclass(frozen=True)
class BadRow:
    """A record that is not read: its first ``line``, its ``fields`` (None: broken quoting), its ``text``."""

    line: int
    fields: int | None
    text: str


@dataclass(frozen=True)
class CsvRows:
    """The records after the header, one per row Polars reads: ``keep`` (of the header's ``width``),
    the first ``lines`` of the kept ones, the ``bad`` ones; with ``quoting`` checked, also ``kept``:
    the header and the kept records as a file (Polars refuses the whole file over one broken quote)."""

    width: int
    keep: pl.Series
    lines: pl.Series
    bad: list[BadRow]
    kept: bytes | None = None


def _lines(data: bytes) -> pl.Series:
    """The file's lines (``\\n`` or ``\\r\\n``), an empty line as null."""
    spare = next((s for s in _SPARE if s.encode() not in data), None)
    if spare is not None:  # Polars reads a file of one column with no quoting fast, line by line
        return pl.read_csv(data, has_header=False, separator=spare, quote_char=None, new_columns=["text"],
                           infer_schema=False).to_series()
    parts = data.decode("utf-8").split("\n")
    if parts and parts[-1] == "":
        parts.pop()
    return pl.Series("text", [p.removesuffix("\r") or None for p in parts], dtype=pl.String)


def _patterns(sep: str) -> tuple[str, str]:
    """Regexes of a whole record and of a record that stops inside a quoted value (its last field)."""
    s = re.escape(sep)
    field = rf'(?:{_QUOTED}|[^{s}"\n]*)'
    return rf"^{field}(?:{s}{field})*$", rf'^(?:{field}{s})*"(?:[^"]|"")*$'


def _join_quoted_breaks(frame: pl.DataFrame, sep: str) -> pl.DataFrame:
    """Records whose quoted value goes on over the next lines, joined (``whole``); their later lines dropped.

    Lines with an odd number of quotes are the candidates (few); a stray quote (``5" Rohr``) stays a
    line of its own, as its join with the next line neither closes nor stays inside a quoted value."""
    starts = frame.filter(pl.col("odd"))["row"].to_list()
    texts = frame["text"]
    whole, opening = (re.compile(p) for p in _patterns(sep))
    joined: dict[int, str] = {}
    used: set[int] = set()
    for i in starts:
        if i in used:
            continue
        text = texts[i]
        for j in range(i + 1, min(i + MAX_LINES, len(texts))):
            text = f"{text}\n{texts[j] or ''}"
            if whole.fullmatch(text):
                joined[i] = text
                used.update(range(i + 1, j + 1))
                break
            if not opening.fullmatch(text):
                break
    frame = frame.with_columns(whole=pl.lit(None, dtype=pl.Boolean))
    if not joined:
        return frame
    fixed = pl.DataFrame({"row": list(joined), "text": list(joined.values()), "whole": [True] * len(joined)},
                         schema={"row": pl.UInt32, "text": pl.String, "whole": pl.Boolean})
    return frame.filter(~pl.col("row").is_in(list(used))).update(fixed, on="row")


def _records(data: bytes, sep: str, quoting: bool) -> pl.DataFrame:
    """One row per record (header first): ``line`` it starts on, ``text``, ``fields`` (null: broken
    quoting, judged only with ``quoting``)."""
    frame = _lines(data).to_frame("text").with_row_index("row")
    text = pl.col("text")
    count = text.str.count_matches(sep, literal=True).cast(pl.Int32) + 1
    line = (pl.col("row") + 1).cast(pl.Int32).alias("line")
    quoted = text.str.contains('"', literal=True).fill_null(False)
    if not frame.select(quoted.any()).item():
        return frame.select(line, "text", count.alias("fields"))
    frame = _join_quoted_breaks(frame.with_columns(odd=quoted & (text.str.count_matches('"', literal=True) % 2 == 1)),
                                sep)
    outside = text.str.replace_all(_QUOTED, "")  # separators inside quoted values are no separators
    fields = pl.when(quoted).then(outside.str.count_matches(sep, literal=True).cast(pl.Int32) + 1).otherwise(count)
    if quoting:  # a '"' that is no RFC 4180 quoting: the record has no count of fields
        fields = pl.when(~quoted | pl.col("whole").fill_null(False) | text.str.contains(_patterns(sep)[0])).then(fields)
    return frame.select(line, "text", fields.alias("fields"))


def csv_rows(data: bytes, sep: str, *, quoting: bool = False) -> CsvRows:
    """The records of ``data`` (UTF-8, no BOM) against its header; ``ValueError`` if the header is broken.

    ``quoting``: also find the records with broken quoting, and give ``kept``."""
    records = _records(data, sep, quoting)
    if records.is_empty() or records["fields"][0] is None:
        raise ValueError("the header line (line 1) is not a row of column names (a '\"' that does not close?)")
    width = int(records["fields"][0])
    body = records.slice(1)
    keep = (pl.col("fields") == width).fill_null(False)
    bad = [BadRow(line, fields, text) for line, text, fields in
           body.filter(~keep & pl.col("text").is_not_null()).iter_rows()]
    good = body.filter(keep)
    kept = None
    if quoting:
        file = pl.concat([records["text"].head(1), good["text"]]).str.join("\n") + "\n"
        kept = file.cast(pl.Binary).item()
    return CsvRows(width, body.select(keep).to_series(), good["line"], bad, kept)
