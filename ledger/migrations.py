"""Numbered schema migrations of the ledger, applied in order and recorded in ``schema_version``.

A migration is never edited once released: a later change to a table is a new entry (``ALTER TABLE
… ADD COLUMN``). ``0001`` creates every table from :mod:`ledger.tables`; the schema test fails when a
schema dict changes without a migration that brings an existing ledger file to the same shape.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

import duckdb

from ledger.tables import TABLES, create_table_sql

Migration = tuple[int, str, Callable[[duckdb.DuckDBPyConnection], None]]


def _0001_initial(con: duckdb.DuckDBPyConnection) -> None:
    for name, schema in TABLES.items():
        con.execute(create_table_sql(name, schema))


#: Every migration: (number, name, function). Append only.
MIGRATIONS: list[Migration] = [
    (1, "initial tables", _0001_initial),
]


def current_version(con: duckdb.DuckDBPyConnection) -> int:
    """Highest applied migration number (0 for a fresh file)."""
    con.execute(
        "CREATE TABLE IF NOT EXISTS schema_version (version INTEGER, name VARCHAR, applied_at TIMESTAMPTZ)"
    )
    rows = con.sql("SELECT coalesce(max(version), 0) FROM schema_version").fetchall()
    return int(rows[0][0])


def migrate(con: duckdb.DuckDBPyConnection) -> int:
    """Apply the pending migrations, each in its own transaction; return the version reached."""
    version = current_version(con)
    for number, name, apply in MIGRATIONS:
        if number <= version:
            continue
        con.execute("BEGIN TRANSACTION")
        try:
            apply(con)
            con.execute("INSERT INTO schema_version VALUES (?, ?, ?)", [number, name, datetime.now(UTC)])
            con.execute("COMMIT")
        except BaseException:
            con.execute("ROLLBACK")
            raise
        version = number
    return version
