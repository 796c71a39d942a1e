"""The ledger's DuckDB tables agree with the stage schemas; nothing in the ledger code updates or
deletes booked facts (the migrations themselves: test_ledger_migrations.py)."""

from __future__ import annotations

import re
from pathlib import Path

import duckdb
import polars as pl

from ledger.db import connect, fetch
from ledger.tables import STAGE_TABLES, TABLES, duckdb_type

ROOT = Path(__file__).resolve().parent.parent


def _columns(con: duckdb.DuckDBPyConnection, table: str) -> dict[str, str]:
    df = fetch(con, "SELECT column_name, data_type FROM information_schema.columns WHERE table_name = $t "
                    "ORDER BY ordinal_position", {"t": table})
    return dict(zip(df["column_name"], df["data_type"], strict=True))


def test_every_stage_schema_lives_in_its_ledger_table_with_the_same_types(tmp_path: Path) -> None:
    con = connect(tmp_path / "k.duckdb")
    for table, stage in STAGE_TABLES.items():
        cols = _columns(con, table)
        for name, dtype in stage.items():
            assert name in cols, f"{table}.{name} missing"
            assert cols[name] == duckdb_type(dtype), f"{table}.{name}: {cols[name]} != {dtype}"
    con.close()


def test_ledger_tables_are_exactly_the_declared_schemas_and_every_row_has_tenant_and_run(tmp_path: Path) -> None:
    con = connect(tmp_path / "k.duckdb")
    for table, schema in TABLES.items():
        assert list(_columns(con, table)) == list(schema), table
        assert {"tenant", "run_id"} <= set(schema), table
        back = fetch(con, f"SELECT * FROM {table}", table=table)
        assert dict(back.schema) == schema
    con.close()


def test_no_update_or_delete_of_ledger_tables_in_the_code() -> None:
    tables = "|".join(TABLES)
    pattern = re.compile(rf"\b(UPDATE\s+({tables})\b|DELETE\s+FROM\s+({tables})\b|\bTRUNCATE\b|DROP\s+TABLE)",
                         re.IGNORECASE)
    offenders = []
    sources = [*(ROOT / "ledger").rglob("*.py"), *(ROOT / "ledger" / "sql").glob("*.sql"),
               *(ROOT / "jobs").rglob("*.py"), *(ROOT / "flows").glob("*.py")]
    assert any(p.suffix == ".sql" for p in sources) and any("jobs" in p.parts for p in sources)
    for path in sources:
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if pattern.search(line) and "pattern" not in line:
                offenders.append(f"{path.name}:{n}: {line.strip()}")
    assert not offenders, offenders


def test_only_flows_import_prefect() -> None:
    for path in (ROOT / "ledger").glob("*.py"):
        text = path.read_text(encoding="utf-8")
        assert not re.search(r"^\s*(from|import) prefect", text, re.MULTILINE), path.name


def test_polars_roundtrip_keeps_money_as_integer_cents(tmp_path: Path) -> None:
    con = connect(tmp_path / "k.duckdb")
    money = [c for t, s in TABLES.items() for c, d in s.items() if c.endswith("_cents") and d != pl.Int64()]
    con.close()
    assert money == []
