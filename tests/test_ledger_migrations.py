"""Migrations: numbered and append-only, a ledger built by migrations alone has exactly the tables the
live schema dicts declare, and a ledger file written by the first release upgrades and runs a night."""

from __future__ import annotations

import json
import zipfile
from datetime import date
from pathlib import Path

import duckdb
import pytest
from nightly_files import Entry, kz, write_mt940, write_open_items

import jobs.nightly as night
from claims.config import load_tenant_config
from ledger.db import connect, fetch, row_counts, scalar
from ledger.migrations import MIGRATIONS, LedgerTooNew, current_version, latest_version, migrate
from ledger.tables import TABLES, create_table_sql

FIXTURES = Path(__file__).resolve().parent / "fixtures"
Definitions = dict[str, list[tuple[str, str]]]


def definitions(con: duckdb.DuckDBPyConnection) -> Definitions:
    """Column names and DuckDB types of every table but ``schema_version``, in column order."""
    rows = con.sql("SELECT table_name, column_name, data_type FROM information_schema.columns "
                   "WHERE table_schema = 'main' AND table_name <> 'schema_version' "
                   "ORDER BY table_name, ordinal_position").fetchall()
    out: Definitions = {}
    for table, column, dtype in rows:
        out.setdefault(table, []).append((column, dtype))
    return out


def declared() -> Definitions:
    """What the live schema dicts of ledger/tables.py say the tables are (created in a scratch database)."""
    con = duckdb.connect()
    for name, schema in TABLES.items():
        con.execute(create_table_sql(name, schema))
    try:
        return definitions(con)
    finally:
        con.close()


def migrated_only() -> Definitions:
    """The tables an empty database gets from the migrations alone."""
    con = duckdb.connect()
    try:
        assert migrate(con) == latest_version()
        return definitions(con)
    finally:
        con.close()


def test_migrations_are_numbered_from_one_contiguous_with_unique_names_and_applied_once(tmp_path: Path) -> None:
    numbers = [n for n, _, _ in MIGRATIONS]
    names = [name for _, name, _ in MIGRATIONS]
    assert numbers == list(range(1, len(numbers) + 1))
    assert len(set(names)) == len(names) and all(names)
    path = tmp_path / "k.duckdb"
    connect(path).close()
    con = connect(path)                     # opening again applies nothing twice
    versions = fetch(con, "SELECT version FROM schema_version ORDER BY version")["version"].to_list()
    con.close()
    assert versions == numbers


def test_a_table_definition_changed_without_a_migration_fails_here() -> None:
    """Add a column to a schema dict and this fails until a migration (``ALTER TABLE … ADD COLUMN``)
    brings the tables to the same shape."""
    got, want = migrated_only(), declared()
    assert sorted(got) == sorted(want), "tables created by the migrations differ from ledger/tables.py"
    for table, columns in want.items():
        assert got[table] == columns, (
            f"table {table}: the migrations give {got[table]}, ledger/tables.py declares {columns}; "
            "append a migration to ledger/migrations.py (never edit a released one)")


def test_a_ledger_newer_than_this_release_is_refused(tmp_path: Path) -> None:
    con = connect(tmp_path / "k.duckdb")
    con.execute("INSERT INTO schema_version VALUES (?, 'from the future', now())", [latest_version() + 1])
    with pytest.raises(LedgerTooNew, match=f"schema version {latest_version() + 1}"):
        migrate(con)
    con.close()


@pytest.fixture
def ledger_v1(tmp_path: Path) -> tuple[Path, dict]:
    """The first release's ledger file, unzipped into tmp_path, and what the fixture recorded of it."""
    with zipfile.ZipFile(FIXTURES / "ledger_v1.duckdb.zip") as z:
        z.extract("ledger_v1.duckdb", tmp_path)
    meta = json.loads((FIXTURES / "ledger_v1.json").read_text(encoding="utf-8"))
    return tmp_path / "ledger_v1.duckdb", meta


def test_the_first_releases_ledger_upgrades_keeps_its_rows_and_runs_a_night(tmp_path: Path,
                                                                           ledger_v1: tuple[Path, dict]) -> None:
    path, meta = ledger_v1
    raw = duckdb.connect(str(path), read_only=True)
    assert scalar(raw, "SELECT max(version) FROM schema_version") == meta["schema_version"] == 1   # as released
    raw.close()

    con = connect(path)                                             # opening migrates
    assert current_version(con) == latest_version()
    assert fetch(con, "SELECT version FROM schema_version ORDER BY 1")["version"].to_list() == \
        [n for n, _, _ in MIGRATIONS]
    assert definitions(con) == migrated_only()
    v1_rows = {t: n for t, n in meta["rows"].items() if t != "schema_version"}
    assert row_counts(con) == {**dict.fromkeys(TABLES, 0), **v1_rows}   # tables added later start empty
    assert fetch(con, "SELECT DISTINCT origin FROM open_items")["origin"].to_list() == ["export"]  # migration 3
    closing = scalar(con, "SELECT closing_cents FROM statements ORDER BY sequence_no DESC LIMIT 1")
    con.close()

    (tmp_path / "kasse.toml").write_text(f'[tenant]\nid = "{meta["tenant"]}"\n[paths]\nledger = "{path.name}"\n',
                                         encoding="utf-8")
    cfg = load_tenant_config(tmp_path / "kasse.toml")
    k = kz(9)
    write_open_items(cfg.inbox / "export_1119.csv", [("R9", k, 4000)])
    write_mt940(cfg.inbox / "sparkasse_1119.sta", day=date(2026, 11, 19), seq=3, opening=closing,
                entries=[Entry(4000, f"KZ {k}", name="Schuldner R9"), Entry(-120, "Kontofuehrung")])
    report = night.run_night(cfg, date(2026, 11, 19))
    assert report["files"]["ok"] == 2

    con = connect(path)
    counts = row_counts(con)
    alloc = fetch(con, "SELECT amount_cents FROM allocations WHERE receivable_id = 'R9'")["amount_cents"].to_list()
    gap = scalar(con, "SELECT count(*) FROM issues WHERE run_id = $r AND code LIKE '%gap%'", {"r": report["run_id"]})
    con.close()
    rows = meta["rows"]
    assert counts["runs"] == rows["runs"] + 1
    assert counts["transactions"] == rows["transactions"] + 2
    assert counts["statements"] == rows["statements"] + 1
    assert alloc == [4000]
    assert gap == 0                                                 # statement 3 follows statement 2 of the old file


def test_migration_5_adds_notice_date_and_block_reason_to_open_items_and_claims() -> None:
    con = duckdb.connect()
    try:
        migrate(con)
        got = definitions(con)
    finally:
        con.close()
    for table in ("open_items", "claims"):
        assert got[table][-2:] == [("notice_date", "DATE"), ("block_reason", "VARCHAR")], table
