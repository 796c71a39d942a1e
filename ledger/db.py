"""Opening the ledger file and moving frames in and out of it (the only module that speaks SQL I/O)."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import duckdb
import polars as pl

from ledger.migrations import migrate
from ledger.tables import TABLES
from parsers.schema import conform


class LedgerBusy(RuntimeError):
    """Another process holds the ledger file (DuckDB: one writer, and no reader while it writes)."""


def connect(path: Path | str, *, read_only: bool = False) -> duckdb.DuckDBPyConnection:
    """Open (and create/migrate, unless ``read_only``) the ledger DuckDB file."""
    try:
        if read_only:
            return duckdb.connect(str(path), read_only=True)
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        con = duckdb.connect(str(path))
    except duckdb.IOException as exc:
        if "lock" not in str(exc).lower():
            raise
        raise LedgerBusy(f"ledger {path} is in use by another process: {exc}") from exc
    migrate(con)
    return con


@contextmanager
def hold(path: Path | str) -> Iterator[None]:
    """Keep the ledger's database open across several steps (one process, many tenants in one night).

    DuckDB keeps one database instance per file and process while any connection to it is open, and
    writes its checkpoint when the last one closes. Holding an anchor connection lets every step open
    and close its own connection cheaply; the checkpoint happens once, at the end of the block.
    """
    anchor = connect(path)
    try:
        yield
    finally:
        anchor.close()
        del anchor          # a traceback kept by the caller must not keep the connection alive


def fetch(con: duckdb.DuckDBPyConnection, sql: str, params: Sequence[Any] | dict[str, Any] | None = None,
          *, table: str | None = None) -> pl.DataFrame:
    """Run a query and return a Polars frame (conformed to ``TABLES[table]`` when given)."""
    df = con.sql(sql, params=params).pl() if params is not None else con.sql(sql).pl()
    if table is not None:
        df = conform(df, TABLES[table])
    return df


def insert(con: duckdb.DuckDBPyConnection, table: str, frame: pl.DataFrame) -> int:
    """Append ``frame`` (conformed to the table's schema) to ``table``; return the number of rows."""
    if frame.height == 0:
        return 0
    staged = conform(frame, TABLES[table]).to_arrow()
    name = f"_stage_{table}"
    con.register(name, staged)
    try:
        con.execute(f"INSERT INTO {table} BY NAME SELECT * FROM {name}")
    finally:
        con.unregister(name)
    return frame.height


def row_counts(con: duckdb.DuckDBPyConnection) -> dict[str, int]:
    """Rows per ledger table (tests use it to show that a failed run added nothing)."""
    return {table: scalar(con, f"SELECT count(*) FROM {table}") for table in TABLES}


def scalar(con: duckdb.DuckDBPyConnection, sql: str, params: dict[str, Any] | None = None) -> Any:
    """The first value of a query's first row (None when it returns no row)."""
    rows = con.sql(sql, params=params).fetchall() if params is not None else con.sql(sql).fetchall()
    return rows[0][0] if rows else None
