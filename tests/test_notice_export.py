"""The claims' notices as exported, for the case file: every export row of a handed claim, one CSV per case."""

from __future__ import annotations

from datetime import UTC, date, datetime

import duckdb
import polars as pl

from ledger.enforcement_state import export_history
from ledger.migrations import migrate
from outputs.notice_export import notice_export_documents

T = "muster"


def _ledger() -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    migrate(con)
    for imp, at in (("i1", datetime(2026, 1, 5, 6, tzinfo=UTC)), ("i2", datetime(2026, 2, 5, 6, tzinfo=UTC))):
        con.execute("INSERT INTO open_item_imports (tenant, run_id, import_id, imported_at) VALUES (?, 'r', ?, ?)",
                    [T, imp, at])
    rows = [("i1", "R1", "1234.1", 12000, 7), ("i2", "R1", "1234.1", 11000, 9), ("i1", "R2", "1234.2", 500, 8),
            ("i2", "R3", "9.9", 100, 2)]
    for imp, rid, kz, cents, line in rows:
        con.execute("INSERT INTO open_items (tenant, run_id, import_id, receivable_id, kassenzeichen, claim_type, "
                    "amount_cents, due_date, source_file, source_line, debtor_name) "
                    "VALUES (?, 'r', ?, ?, ?, 'GRUNDSTEUER', ?, DATE '2026-02-15', 'op.csv', ?, ?)",
                    [T, imp, rid, kz, cents, line, "Erika\nMuster"])
    return con


def test_every_export_row_of_the_handed_claims_one_csv_per_case() -> None:
    con = _ledger()
    hist = export_history(con, T, ["R1", "R2"])
    assert hist.select("receivable_id", "import_id").rows() == [("R1", "i1"), ("R1", "i2"), ("R2", "i1")]
    cases = hist.join(pl.DataFrame({"receivable_id": ["R2", "R1"], "case_number": ["C-B", "C-A"]}),
                      on="receivable_id")
    docs = {k: (b.decode("utf-8-sig").splitlines(), n) for k, b, n in notice_export_documents(cases)}
    assert set(docs) == {"C-A", "C-B"}
    lines, n = docs["C-A"]
    assert n == 2 and lines[0].startswith("eingelesen am (UTC);Import;Datei;Zeile;Kassenzeichen")
    assert lines[1].split(";")[:7] == ["2026-01-05 06:00:00", "i1", "op.csv", "7", "1234.1", "GRUNDSTEUER", "120,00"]
    assert lines[2].split(";")[6] == "110,00"                 # the later export shows the changed amount
    assert "Erika Muster" in lines[1]                         # a line break in a text never splits a row
    assert docs["C-B"][1] == 1 and len(docs["C-B"][0]) == 2
    assert export_history(con, T, []).height == 0 and export_history(con, "other", ["R1"]).height == 0
    con.close()


def test_nothing_in_nothing_out() -> None:
    assert notice_export_documents(pl.DataFrame()) == []
    one = pl.DataFrame({"case_number": ["C"], "receivable_id": ["R"], "kassenzeichen": ["K"],
                        "due_date": [date(2026, 1, 1)]})
    ((key, data, n),) = notice_export_documents(one)
    assert (key, n) == ("C", 1) and data.count(b"\r\n") == 2
