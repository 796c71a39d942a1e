"""Nothing booked twice: truncated, corrected, repeated and overlapping deliveries of the same statements.

Each case comes from an attack on a ledger after one normal night (issue 12): a truncated MT940 was
booked and the full file booked again, a corrected re-send was booked beside the original, and a
statement standing twice in one file was booked twice under the same transaction ids.
"""

from __future__ import annotations

import re
import zipfile
from datetime import date
from pathlib import Path

import duckdb
import polars as pl
import pytest
from nightly_files import Entry, write_mt940

import jobs.nightly as night
from claims.config import TenantConfig, load_tenant_config
from ledger.booking import BookingConflict, LedgerWriteError, book
from ledger.db import connect, fetch, row_counts
from parsers import parse_paths

SAMPLES = Path(__file__).resolve().parent.parent.parent / "shared" / "samples"
D1 = date(2026, 11, 16)
ENTRIES = [Entry(15000, "Grundsteuer KZ 1", ref="NONREF"), Entry(8900, "Hundesteuer KZ 2"), Entry(-350, "Gebuehr")]


def statement(path: Path, *, seq: int = 1, day: date = D1, opening: int = 100000,
              entries: list[Entry] | None = None) -> Path:
    write_mt940(path, day=day, seq=seq, opening=opening, entries=ENTRIES if entries is None else entries)
    return path


def cut_before_closing(path: Path, target: Path) -> Path:
    """The file as a broken transfer leaves it: everything up to (not including) the closing balance."""
    text = path.read_bytes()
    target.write_bytes(text[: text.index(b":62F:")])
    return target


def codes(result: object) -> list[str]:
    return sorted(i.code for i in result.issues)  # type: ignore[attr-defined]


# --- parse level -------------------------------------------------------------------------------------


def test_truncated_mt940_is_rejected_whole_and_names_the_statement(tmp_path: Path) -> None:
    full = statement(tmp_path / "full.sta", entries=ENTRIES)
    cut = cut_before_closing(full, tmp_path / "cut.sta")
    result = parse_paths([cut])
    assert result.files["status"].to_list() == ["rejected"]
    assert "statement.incomplete" in result.files["reason"][0]
    assert "has no closing balance" in result.files["reason"][0]
    assert result.transactions.height == 0 and result.statements.height == 0


def test_every_truncation_point_books_nothing_or_everything(tmp_path: Path) -> None:
    """Cut anywhere: either the file is rejected, or it is whole (the cut fell after the closing)."""
    full = statement(tmp_path / "full.sta", entries=ENTRIES)
    data = full.read_bytes()
    whole = parse_paths([full]).transactions.height
    for n in range(20, len(data), 7):
        (tmp_path / "c.sta").write_bytes(data[:n])
        result = parse_paths([tmp_path / "c.sta"])
        got = result.transactions.height
        assert got in (0, whole), (n, got)
        if n < data.index(b":62F:") + 5:
            assert got == 0, n


def test_statement_twice_in_one_mt940_is_kept_once(tmp_path: Path) -> None:
    one = statement(tmp_path / "one.sta")
    twice = tmp_path / "twice.sta"
    twice.write_bytes(one.read_bytes() * 2)
    result = parse_paths([twice])
    assert result.files["status"].to_list() == ["ok"]
    assert result.statements.height == 1 and result.transactions.height == 3
    assert result.transactions["transaction_id"].is_unique().all()
    assert codes(result) == ["statement.duplicate"]


def test_same_statement_twice_in_one_file_with_other_entries_is_held_back(tmp_path: Path) -> None:
    a = statement(tmp_path / "a.sta", entries=[Entry(5000, "KZ 1"), Entry(5000, "KZ 2")])
    b = statement(tmp_path / "b.sta", entries=[Entry(6000, "KZ 1"), Entry(4000, "KZ 2")])  # same balances
    both = tmp_path / "both.sta"
    both.write_bytes(a.read_bytes() + b.read_bytes())
    result = parse_paths([both])
    assert result.transactions.height == 0
    assert result.files["status"].to_list() == ["rejected"]
    assert "statement.conflict" in result.files["reason"][0]


def _single_statement_camt() -> bytes:
    data = (SAMPLES / "camt" / "viafintech__camt_parser__053_valid_example.xml").read_bytes()
    assert data.count(b"<Stmt>") == 1
    return data


def test_statement_twice_in_one_camt_is_kept_once(tmp_path: Path) -> None:
    data = _single_statement_camt()
    start, end = data.index(b"<Stmt>"), data.index(b"</Stmt>") + len(b"</Stmt>")
    (tmp_path / "twice.xml").write_bytes(data[:end] + data[start:end] + data[end:])
    (tmp_path / "once.xml").write_bytes(data)
    once = parse_paths([tmp_path / "once.xml"])
    twice = parse_paths([tmp_path / "twice.xml"])
    assert once.transactions.height > 0
    assert twice.transactions.height == once.transactions.height
    assert twice.transactions["transaction_id"].is_unique().all()
    assert "statement.duplicate" in codes(twice)


def test_corrected_resend_is_a_conflict_in_the_batch_and_against_the_ledger(tmp_path: Path) -> None:
    original = statement(tmp_path / "a.sta")
    corrected = statement(tmp_path / "b.sta", entries=[Entry(15100, "Grundsteuer KZ 1"), *ENTRIES[1:]])
    together = parse_paths([original, corrected])
    assert together.transactions.height == 3
    (conflict,) = [i for i in together.issues if i.code == "statement.conflict"]
    assert conflict.severity == "error" and conflict.source_path == str(corrected)
    assert "corrected re-send" in conflict.message
    assert together.files["status"].to_list() == ["ok", "rejected"]
    # the next night: the original is in the ledger (its statements and entries)
    later = parse_paths([corrected], previous_statements=together.statements, known_entries=together.transactions)
    assert later.transactions.height == 0
    assert [i.code for i in later.issues] == ["statement.conflict"]
    assert later.files["status"].to_list() == ["rejected"]


def test_changed_redelivery_with_the_same_key_is_a_conflict_not_a_duplicate(tmp_path: Path) -> None:
    """Same number and balances, other entries (the sum unchanged): checked against the ledger."""
    a = statement(tmp_path / "a.sta", entries=[Entry(5000, "KZ 1")])
    b = statement(tmp_path / "b.sta", entries=[Entry(3000, "KZ 1"), Entry(2000, "KZ 2")])
    first = parse_paths([a])
    later = parse_paths([b], previous_statements=first.statements)
    assert [(i.code, i.severity) for i in later.issues] == [("statement.conflict", "error")]
    assert later.transactions.height == 0


def test_shared_entries_under_another_number_are_a_conflict(tmp_path: Path) -> None:
    """A bank re-sends the day's entries as a statement with a new number and another opening."""
    entries = [Entry(15000, "KZ 1"), Entry(8900, "KZ 2")]
    a = statement(tmp_path / "a.sta", seq=1, opening=100000, entries=entries)
    # the same entries (same bank references) under number 7, opening 5000,00 instead of 1000,00
    text = a.read_text(encoding="latin-1").replace(":28C:00001/001", ":28C:00007/001")
    text = text.replace("EUR1000,00", "EUR5000,00").replace("EUR1239,00", "EUR5239,00")
    (tmp_path / "b.sta").write_text(text, encoding="latin-1")
    first = parse_paths([a])
    later = parse_paths([tmp_path / "b.sta"], previous_statements=first.statements,
                        known_entries=first.transactions)
    assert later.transactions.height == 0
    (conflict,) = later.issues
    assert conflict.code == "statement.conflict" and "repeats 2 booked entries" in conflict.message


def test_next_days_statement_is_no_conflict(tmp_path: Path) -> None:
    """The guard must not hold back ordinary statements: the same texts, amounts and references next day."""
    a = statement(tmp_path / "a.sta", seq=1)
    b = statement(tmp_path / "b.sta", seq=2, day=date(2026, 11, 17), opening=100000 + sum(e.cents for e in ENTRIES))
    first = parse_paths([a])
    later = parse_paths([b], previous_statements=first.statements, known_entries=first.transactions)
    assert later.issues == [] and later.transactions.height == 3


def test_two_identical_interim_reports_in_one_file_give_their_rows_once(tmp_path: Path) -> None:
    report = (":20:INTERIM\r\n:25:12030000/0000202051\r\n:28C:0\r\n:34F:EUR0,\r\n:13D:2611161200+0100\r\n"
              ":61:2611161116CR50,00NTRFNONREF//B1\r\n:86:166?00GUTSCHRIFT?20KZ 1\r\n"
              ":61:2611161116CR20,00NTRFNONREF//B2\r\n:86:166?00GUTSCHRIFT?20KZ 2\r\n:90C:2EUR70,00\r\n-\r\n")
    (tmp_path / "i.sta").write_bytes(report.encode() * 2)
    result = parse_paths([tmp_path / "i.sta"])
    assert result.transactions.height == 2
    other = report.replace("CR20,00", "CR30,00")
    (tmp_path / "j.sta").write_bytes((report + other).encode())
    assert parse_paths([tmp_path / "j.sta"]).transactions.height == 4    # two different reports stay apart


# --- the nightly run on a real ledger ------------------------------------------------------------------


def tenant(tmp_path: Path) -> TenantConfig:
    (tmp_path / "kasse.toml").write_text('[tenant]\nid = "stadt"\n', encoding="utf-8")
    return load_tenant_config(tmp_path / "kasse.toml")


def ledger_counts(cfg: TenantConfig) -> dict[str, int]:
    con = connect(cfg.ledger)
    try:
        return row_counts(con)
    finally:
        con.close()


def booked(cfg: TenantConfig) -> pl.DataFrame:
    con = connect(cfg.ledger)
    try:
        return fetch(con, "SELECT transaction_id, amount_cents, bank_ref FROM transactions")
    finally:
        con.close()


def test_nightly_truncated_then_full_then_truncated_again_books_once(tmp_path: Path) -> None:
    cfg = tenant(tmp_path)
    full = statement(tmp_path / "full.sta")
    cfg.inbox.mkdir(parents=True)
    cut_before_closing(full, cfg.inbox / "cut.sta")
    r1 = night.run_night(cfg, D1)
    assert r1["files"]["rejected"] == 1 and r1["files"]["transactions"] == 0
    assert (cfg.tenant_dir / "quarantine" / "cut.sta").exists()
    assert ledger_counts(cfg)["transactions"] == 0
    (cfg.inbox / "full.sta").write_bytes(full.read_bytes())
    night.run_night(cfg, date(2026, 11, 17))
    assert booked(cfg).height == 3
    cut_before_closing(full, cfg.inbox / "cut_again.sta")
    night.run_night(cfg, date(2026, 11, 18))
    assert booked(cfg).height == 3


def test_nightly_corrected_resend_is_quarantined_as_a_conflict(tmp_path: Path) -> None:
    cfg = tenant(tmp_path)
    statement(cfg.inbox / "a.sta")
    night.run_night(cfg, D1)
    before = ledger_counts(cfg)
    statement(cfg.inbox / "a_korrektur.sta", entries=[Entry(15100, "Grundsteuer KZ 1"), *ENTRIES[1:]])
    report = night.run_night(cfg, date(2026, 11, 17))
    assert report["files"]["rejected"] == 1 and report["files"]["transactions"] == 0
    after = ledger_counts(cfg)
    assert after["transactions"] == before["transactions"] and after["statements"] == before["statements"]
    note = (cfg.tenant_dir / "quarantine" / "a_korrektur.sta.reason.txt").read_text(encoding="utf-8")
    assert "statement.conflict" in note and "corrected re-send" in note
    con = connect(cfg.ledger)
    try:
        issues = fetch(con, "SELECT severity, code FROM issues WHERE code = 'statement.conflict'")
    finally:
        con.close()
    assert issues.rows() == [("error", "statement.conflict")]


def test_nightly_statement_twice_in_one_zipped_file_is_booked_once(tmp_path: Path) -> None:
    cfg = tenant(tmp_path)
    one = statement(tmp_path / "one.sta")
    cfg.inbox.mkdir(parents=True)
    with zipfile.ZipFile(cfg.inbox / "delivery.zip", "w") as zf:
        zf.writestr("twice.sta", one.read_bytes() * 2)
        zf.writestr("renamed copy.sta", one.read_bytes().replace(b"\r\n", b"\n"))
    night.run_night(cfg, D1)
    got = booked(cfg)
    assert got.height == 3 and got["transaction_id"].is_unique().all()


# --- the ledger's last guard --------------------------------------------------------------------------


def test_the_ledger_refuses_a_transaction_id_it_holds(tmp_path: Path) -> None:
    cfg = tenant(tmp_path)
    statement(cfg.inbox / "a.sta")
    night.run_night(cfg, D1)
    con = connect(cfg.ledger)
    try:
        rows = fetch(con, "SELECT * FROM transactions", table="transactions").with_columns(run_id=pl.lit("r-again"))
        before = row_counts(con)
        with pytest.raises(BookingConflict, match="already in the ledger"):
            book(con, {"transactions": rows}, run_id="r-again")
        with pytest.raises(BookingConflict, match="more than once in this run"):
            book(con, {"transactions": pl.concat([rows.head(1), rows.head(1)])}, run_id="r-twice")
        assert row_counts(con) == before
    finally:
        con.close()


class _DiskFull:
    """A connection whose COMMIT fails as a full disk makes it fail (then no transaction is active)."""

    def __init__(self, con: duckdb.DuckDBPyConnection) -> None:
        self.con, self.failed = con, False

    def execute(self, sql: str, *args: object) -> object:
        if sql == "COMMIT":
            self.failed = True
            self.con.execute("ROLLBACK")
            raise duckdb.IOException('Could not write file "kasse.duckdb.wal": No space left on device')
        if sql == "ROLLBACK" and self.failed:
            raise duckdb.TransactionException("TransactionContext Error: cannot rollback - no transaction is active")
        return self.con.execute(sql, *args)

    def __getattr__(self, name: str) -> object:
        return getattr(self.con, name)


def test_a_full_disk_at_commit_is_reported_as_such(tmp_path: Path) -> None:
    con = connect(tmp_path / "kasse.duckdb")
    try:
        before = row_counts(con)
        with pytest.raises(LedgerWriteError, match=re.escape("No space left on device")) as err:
            book(_DiskFull(con), {}, run_id="r1")  # type: ignore[arg-type]
        assert "no transaction is active" not in str(err.value)
        assert "nothing of this run was booked" in str(err.value)
        assert row_counts(con) == before
    finally:
        con.close()
