"""Numbered schema migrations of the ledger, applied in order and recorded in ``schema_version``.

A migration is never edited once released: a later change to a table is a new entry appended to
:data:`MIGRATIONS` (SQL text such as ``ALTER TABLE … ADD COLUMN``, or a Python function). ``0001`` is
frozen SQL text (``ledger/sql/0001_initial.sql``), generated once from :mod:`ledger.tables`, so a
change to a schema dict there never changes what an old migration does. The migration tests build a
ledger by migrations only and fail when its tables differ from the live schema dicts, and upgrade a
ledger file written by the first release (``tests/fixtures/ledger_v1.duckdb.zip``).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from importlib.resources import files

import duckdb

Apply = Callable[[duckdb.DuckDBPyConnection], None]
Migration = tuple[int, str, Apply]


def sql_file(name: str) -> Apply:
    """A migration that runs the statements of ``ledger/sql/<name>`` (package data)."""
    def apply(con: duckdb.DuckDBPyConnection) -> None:
        con.execute(files("ledger").joinpath("sql", name).read_text(encoding="utf-8"))
    apply.__name__ = f"sql_file({name!r})"
    return apply


def sql(text: str) -> Apply:
    """A migration given as SQL text (one or more statements separated by ``;``)."""
    def apply(con: duckdb.DuckDBPyConnection) -> None:
        con.execute(text)
    return apply


#: Every migration: (number, name, function). Append only; never edit or renumber a released entry.
MIGRATIONS: list[Migration] = [
    (1, "initial tables", sql_file("0001_initial.sql")),
    (2, "runs.job: the job a run belongs to", sql("ALTER TABLE runs ADD COLUMN job VARCHAR DEFAULT 'nightly'")),
    (3, "claims: Stadtkasse's own claims; open_items.origin, creditor, debtor address", sql_file("0003_claims.sql")),
    (4, "match_rules: learned matching rules; allocations.rule_id", sql_file("0004_learned_rules.sql")),
    (5, "open_items, claims: notice_date and block_reason (dunning)", sql_file("0005_dunning_columns.sql")),
    (6, "dunning_notices, dunning_notice_items: the booked dunning runs", sql_file("0006_dunning_notices.sql")),
    (7, "collections, collection_returns, mandates, mandate_amendments: SEPA collection", sql_file("0007_collections.sql")),
    (8, "payouts, setoffs: SEPA payouts and the set-offs before them", sql_file("0008_payouts.sql")),
    (9, "payout_bookings, payout_returns, payee_blocks: the payouts back in the nightly run",
     sql_file("0009_payout_back.sql")),
    (10, "enforcement_cases, enforcement_case_claims, enforcement_updates, enforcement_update_claims, "
         "enforcement_outcomes, enforcement_outcome_fees: the enforcement hand-off", sql_file("0010_enforcement.sql")),
    (11, "office_cases, office_case_claims, office_updates, office_update_claims: cases received from another "
         "tenant (issue 17 §4)", sql_file("0011_office.sql")),
    (12, "amtshilfe_requests, amtshilfe_notices, amtshilfe_events, amtshilfe_feedback: foreign creditors (issue 18)",
     sql_file("0012_amtshilfe.sql")),
    (13, "amtshilfe_out_requests, amtshilfe_out_claims, amtshilfe_out_events: requests going out (issue 18 §4)",
     sql_file("0013_amtshilfe_out.sql")),
    (14, "amtshilfe_invoice_items: the items of the Amtshilfe cost invoices (issue 18 §3)",
     sql_file("0014_amtshilfe_invoices.sql")),
    (15, "claim_changes: a claim amended or cancelled after it was booked; amtshilfe_notices.receivable_id "
         "(issue 18 §3)", sql_file("0015_claim_changes.sql")),
]


class LedgerTooNew(RuntimeError):
    """The ledger file was migrated by a newer release than this one (never open it with older code)."""


def current_version(con: duckdb.DuckDBPyConnection) -> int:
    """Highest applied migration number (0 for a fresh file)."""
    con.execute(
        "CREATE TABLE IF NOT EXISTS schema_version (version INTEGER, name VARCHAR, applied_at TIMESTAMPTZ)"
    )
    rows = con.sql("SELECT coalesce(max(version), 0) FROM schema_version").fetchall()
    return int(rows[0][0])


def latest_version() -> int:
    """The number of the last migration this release knows."""
    return MIGRATIONS[-1][0]


def migrate(con: duckdb.DuckDBPyConnection) -> int:
    """Apply the pending migrations, each in its own transaction; return the version reached."""
    version = current_version(con)
    if version > latest_version():
        raise LedgerTooNew(f"the ledger is at schema version {version}, this release knows up to "
                           f"{latest_version()}: run the release that wrote it (or a newer one)")
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
