"""What every parser returns: frames plus issues, never an exception for bad input."""

from __future__ import annotations

from dataclasses import dataclass, field

import polars as pl

from parsers.issues import Issue
from parsers.schema import STATEMENT_SCHEMA, TRANSACTION_SCHEMA, empty

#: One row per input file: how many entries were read, or why it was rejected.
FILE_SCHEMA: dict[str, pl.DataType] = {
    "source_path": pl.String(),
    "source_file": pl.String(),      # SHA-256 (null when the file could not be read at all)
    "source_format": pl.String(),    # detected format, or null
    "status": pl.String(),           # ok | rejected | duplicate
    "reason": pl.String(),           # one line, for rejected/duplicate files
    "n_statements": pl.Int32(),
    "n_entries": pl.Int32(),         # entries (:61: / Ntry)
    "n_rows": pl.Int32(),            # rows in transactions (batch details expanded)
    "size_bytes": pl.Int64(),
}


@dataclass(slots=True)
class ParseResult:
    """Canonical frames of one or more files, with every finding as an :class:`Issue`.

    ``files`` has one row per input file, so that counts in = counts out + rejected.
    """

    transactions: pl.DataFrame = field(default_factory=lambda: empty(TRANSACTION_SCHEMA))
    statements: pl.DataFrame = field(default_factory=lambda: empty(STATEMENT_SCHEMA))
    issues: list[Issue] = field(default_factory=list)
    files: pl.DataFrame = field(default_factory=lambda: empty(FILE_SCHEMA))
    #: the ``files`` row of each input path, in input order (set by :func:`parsers.ingest.parse_paths`)
    input_rows: list[int] = field(default_factory=list)

    @property
    def has_errors(self) -> bool:
        return any(i.severity == "error" for i in self.issues)
