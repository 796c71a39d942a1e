"""Interim reports (MT942) carry no balances: their key must still tell two different reports apart."""

from __future__ import annotations

from pathlib import Path

from parsers import parse_paths


def _mt942(stamp: str, amount: str, ref: str) -> str:
    # the same account and the same :28C: number, as a bank sends every intraday report of a day
    return (
        ":20:INTRADAY\r\n:25:DE02120300000000202051\r\n:28C:0\r\n:34F:EURD0,00\r\n"
        f":13D:{stamp}+0100\r\n:61:2611201120C{amount}NTRFNONREF//{ref}\r\n"
        ":86:166?00SEPA-UEBERWEISUNG?20SVWZ+KZ 5123.4567.8901\r\n-\r\n"
    )


def test_two_different_interim_reports_are_both_kept(tmp_path: Path) -> None:
    (tmp_path / "a.sta").write_text(_mt942("2611200900", "10,00", "B1"), encoding="utf-8")
    (tmp_path / "b.sta").write_text(_mt942("2611201300", "25,50", "B2"), encoding="utf-8")
    result = parse_paths([tmp_path])
    assert sorted(result.files["status"].to_list()) == ["ok", "ok"]
    assert result.statements.height == 2
    assert result.statements["statement_key"].n_unique() == 2
    tx = result.transactions
    assert sorted(tx["amount_cents"].to_list()) == [1000, 2550]
    assert tx["transaction_id"].n_unique() == 2
    assert not tx["booked"].any()  # pending entries, never booked
    assert not [i for i in result.issues if i.code.startswith("statement.")]


def test_the_same_interim_report_in_a_second_file_is_a_duplicate(tmp_path: Path) -> None:
    text = _mt942("2611200900", "10,00", "B1")
    (tmp_path / "a.sta").write_text(text, encoding="utf-8")
    (tmp_path / "b.sta").write_text(text + "\r\n", encoding="utf-8")  # other bytes, same report
    result = parse_paths([tmp_path])
    assert result.transactions.height == 1
    assert [i.code for i in result.issues if i.code.startswith("statement.")] == ["statement.duplicate"]


def test_known_interim_key_from_the_ledger_is_recognised(tmp_path: Path) -> None:
    (tmp_path / "a.sta").write_text(_mt942("2611200900", "10,00", "B1"), encoding="utf-8")
    first = parse_paths([tmp_path / "a.sta"])
    (tmp_path / "c.sta").write_text(_mt942("2611200900", "10,00", "B1") + "\r\n", encoding="utf-8")
    again = parse_paths([tmp_path / "c.sta"], known_statement_keys=frozenset(first.statements["statement_key"]))
    assert again.transactions.height == 0
