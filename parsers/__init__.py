"""Bank statement parsers: every format becomes the canonical frames of :mod:`parsers.schema`.

Public names: :func:`parse_paths` (a batch of files/folders, what ``kasse parse`` calls),
:func:`parse_file` (one file), :class:`ParseResult`, :class:`Issue` and the frame schemas.
"""

from parsers.ingest import parse_file, parse_paths
from parsers.issues import Issue
from parsers.result import ParseResult
from parsers.schema import ISSUE_SCHEMA, STATEMENT_SCHEMA, TRANSACTION_SCHEMA

__all__ = [
    "ISSUE_SCHEMA",
    "STATEMENT_SCHEMA",
    "TRANSACTION_SCHEMA",
    "Issue",
    "ParseResult",
    "parse_file",
    "parse_paths",
]
