"""One transaction per run on a real DuckDB file: all rows or none; idempotent per run id."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import polars as pl
import pytest
from faults import InjectedFailure, fail_at

from ledger.booking import BookingConflict, book
from ledger.db import connect, row_counts
from ledger.tables import TABLES


def _frames(run_id: str, sha: str = "a" * 64) -> dict[str, pl.DataFrame]:
    return {
        "runs": pl.DataFrame([{"tenant": "t", "run_id": run_id, "booking_date": date(2026, 11, 16),
                               "started_at": datetime.now(UTC), "mode": "plain"}]),
        "files": pl.DataFrame([{"tenant": "t", "run_id": run_id, "source_path": "x.sta", "source_file": sha,
                                "status": "ok"}]),
        "allocations": pl.DataFrame([{"tenant": "t", "run_id": run_id, "transaction_id": "tx1",
                                      "receivable_id": "R1", "amount_cents": 1250, "rule": "reference.exact",
                                      "decided_by": "auto", "booking_date": date(2026, 11, 16)}]),
        "audit_events": pl.DataFrame([{"tenant": "t", "run_id": run_id, "at": datetime.now(UTC),
                                       "event": "run.committed"}]),
    }


@pytest.mark.parametrize("where", [f"book.{t}" for t in TABLES] + ["book.commit"])
def test_a_failure_anywhere_in_the_transaction_leaves_nothing(tmp_path: Path, where: str,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    con = connect(tmp_path / "k.duckdb")
    before = row_counts(con)
    fail_at(monkeypatch, where)
    with pytest.raises(InjectedFailure):
        book(con, _frames("r1"), run_id="r1")
    fail_at(monkeypatch, None)
    assert row_counts(con) == before
    assert book(con, _frames("r1"), run_id="r1")["allocations"] == 1
    con.close()


def test_the_same_run_is_booked_once(tmp_path: Path) -> None:
    con = connect(tmp_path / "k.duckdb")
    book(con, _frames("r1"), run_id="r1")
    after = row_counts(con)
    assert book(con, _frames("r1"), run_id="r1") == {}
    assert row_counts(con) == after
    con.close()


def test_a_file_booked_by_another_run_meanwhile_is_a_conflict(tmp_path: Path) -> None:
    con = connect(tmp_path / "k.duckdb")
    book(con, _frames("r1"), run_id="r1")
    after = row_counts(con)
    with pytest.raises(BookingConflict):
        book(con, _frames("r2"), run_id="r2")
    assert row_counts(con) == after
    con.close()


def test_booked_rows_survive_reopening_the_file(tmp_path: Path) -> None:
    path = tmp_path / "k.duckdb"
    con = connect(path)
    book(con, _frames("r1"), run_id="r1")
    con.close()
    con = connect(path, read_only=True)
    assert row_counts(con)["allocations"] == 1
    con.close()


def test_unknown_table_is_refused(tmp_path: Path) -> None:
    con = connect(tmp_path / "k.duckdb")
    with pytest.raises(ValueError, match="not ledger tables"):
        book(con, {"payments": pl.DataFrame({"a": [1]})}, run_id="r1")
    con.close()
