"""Statement checks on small literal statement tables (one comment per case)."""

from __future__ import annotations

from datetime import date
from typing import Any

import polars as pl

from parsers.checks import check_statements
from parsers.schema import STATEMENT_SCHEMA, conform

ACCT = "DE02120300000000202051"


def st(no: str, opening: int | None, entries: int, closing: int | None, d: date, **extra: Any) -> dict[str, Any]:
    seq, _, page = no.partition("/")
    return {
        "tenant": "default", "account_iban": ACCT, "currency": "EUR", "statement_id": f"S{no}",
        "statement_no": no, "sequence_no": int(seq), "page_no": int(page) if page else None, "kind": "statement",
        "opening_date": d, "closing_date": d, "opening_cents": opening, "closing_cents": closing,
        "entries_sum_cents": entries, "n_entries": 1, "source_path": f"{no.replace('/', '-')}.sta", **extra,
    }


def frame(*rows: dict[str, Any]) -> pl.DataFrame:
    return conform(pl.DataFrame(list(rows)), STATEMENT_SCHEMA)


def codes(issues: list[Any]) -> list[tuple[str, str]]:
    return [(i.code, i.locator) for i in issues]


def test_balance_mismatch_message_states_expected_and_actual() -> None:
    issues = check_statements(frame(st("00004/001", 76665649, 35859401, 112525040, date(2024, 5, 17))))
    assert [(i.code, i.severity, i.source_path) for i in issues] == [
        ("statement.balance_mismatch", "error", "00004-001.sta")
    ]
    assert issues[0].message == (
        "statement 00004/001: opening 766656.49 + entries 358594.01 = 1125250.50, "
        "but closing says 1125250.40 (0.10 too much)"
    )


def test_balance_too_little_and_negative_balances() -> None:
    # -100.00 + -5.00 = -105.00 but the bank says -104.00: the entries come to 1.00 too little
    issues = check_statements(frame(st("7", -10000, -500, -10400, date(2024, 1, 2))))
    assert issues[0].message.endswith("= -105.00, but closing says -104.00 (1.00 too little)")


def test_no_balances_no_balance_check() -> None:
    # camt.054 and MT942 carry no balances: nothing to check
    assert check_statements(frame(st("1", None, 500, None, date(2024, 1, 2)))) == []


def test_clean_sequence_with_pages_gives_nothing() -> None:
    rows = frame(
        st("00004/001", 100, 50, 150, date(2024, 5, 16)),
        st("00004/002", 150, 10, 160, date(2024, 5, 16)),  # the next page of the same statement
        st("00005/001", 160, -60, 100, date(2024, 5, 17)),
    )
    assert check_statements(rows) == []


def test_gap_names_the_missing_numbers() -> None:
    rows = frame(st("00004/001", 100, 0, 100, date(2024, 5, 16)), st("00006/001", 100, 0, 100, date(2024, 5, 18)))
    (gap,) = check_statements(rows)
    assert (gap.code, gap.severity, gap.locator) == ("statement.gap", "warning", "statement 00006/001")
    assert "after 00004 comes 00006: 00005 missing" in gap.message


def test_gap_of_several() -> None:
    rows = frame(st("00004/001", 100, 0, 100, date(2024, 5, 16)), st("00009/001", 100, 0, 100, date(2024, 5, 18)))
    assert "00005–00008 missing" in check_statements(rows)[0].message


def test_restart_at_one_in_a_new_year_is_not_a_gap() -> None:
    rows = frame(
        st("00250/001", 100, 0, 100, date(2024, 12, 31)),
        st("00001/001", 100, 0, 100, date(2025, 1, 2)),
    )
    assert check_statements(rows) == []


def test_restart_within_the_year_is_reported() -> None:
    rows = frame(st("00250/001", 100, 0, 100, date(2024, 6, 3)), st("00001/001", 100, 0, 100, date(2024, 6, 4)))
    assert codes(check_statements(rows)) == [("statement.sequence_order", "statement 00001/001")]


def test_unnumbered_statements_are_not_gap_checked() -> None:
    # :28C:0 means the bank does not number its statements
    rows = frame(st("0", 100, 0, 100, date(2024, 6, 3)), st("0", 100, 0, 100, date(2024, 6, 9)))
    assert check_statements(rows) == []


def test_continuity_opening_must_equal_previous_closing() -> None:
    rows = frame(st("00004/001", 100, 50, 150, date(2024, 5, 16)), st("00005/001", 140, 0, 140, date(2024, 5, 17)))
    (issue,) = check_statements(rows)
    assert issue.code == "statement.continuity"
    assert "opens with 1.40, but the previous statement 00004/001 (00004-001.sta) closed with 1.50" in issue.message


def test_accounts_and_currencies_are_checked_separately() -> None:
    rows = frame(
        st("00004/001", 100, 0, 100, date(2024, 5, 16)),
        st("00005/001", 999, 0, 999, date(2024, 5, 17), account_iban="DE89370400440532013000"),
        st("00005/001", 555, 0, 555, date(2024, 5, 17), currency="USD"),
    )
    assert check_statements(rows) == []


def test_reports_and_notifications_are_not_sequence_checked() -> None:
    rows = frame(st("4", 100, 0, 100, date(2024, 5, 16)), st("9", 5, 0, 5, date(2024, 5, 17), kind="report"))
    assert check_statements(rows) == []


def test_previous_statement_from_the_ledger() -> None:
    previous = frame(st("00003/001", 0, 100, 100, date(2024, 5, 15)))
    ok = frame(st("00004/001", 100, 0, 100, date(2024, 5, 16)))
    assert check_statements(ok, previous=previous) == []
    late = frame(st("00005/001", 90, 0, 90, date(2024, 5, 17)))
    assert sorted(codes(check_statements(late, previous=previous))) == [
        ("statement.continuity", "statement 00005/001"),
        ("statement.gap", "statement 00005/001"),
    ]


def test_two_ledger_statements_are_not_rechecked() -> None:
    previous = frame(st("00001/001", 0, 0, 7, date(2024, 5, 1)), st("00003/001", 0, 0, 0, date(2024, 5, 3)))
    assert check_statements(frame(st("00004/001", 0, 0, 0, date(2024, 5, 4))), previous=previous) == []


def test_order_of_rows_does_not_matter() -> None:
    rows = [st(f"{n:05d}/001", 100 * n, 100, 100 * (n + 1), date(2024, 5, n)) for n in range(1, 9)]
    rows[5]["opening_cents"] = 1  # one broken link, reported once whatever the order
    forward, backward = check_statements(frame(*rows)), check_statements(frame(*reversed(rows)))
    assert codes(forward) == codes(backward)
    assert sorted(c for c, _ in codes(forward)) == ["statement.balance_mismatch", "statement.continuity"]


def test_a_ledger_copy_of_the_same_statement_is_not_its_predecessor() -> None:
    same = st("00004/001", 100, 50, 150, date(2024, 5, 16), statement_key="K4")
    previous = frame(st("00003/001", 0, 100, 100, date(2024, 5, 15), statement_key="K3"), same)
    assert check_statements(frame(same), previous=previous) == []


def test_previous_may_carry_ledger_columns_and_miss_some() -> None:
    # the nightly run passes the ledger's statements table (with run_id, maybe without a column or two)
    previous = frame(st("00003/001", 0, 100, 100, date(2024, 5, 15))).with_columns(run_id=pl.lit("r1")).drop("page_no")
    assert codes(check_statements(frame(st("00005/001", 100, 0, 100, date(2024, 5, 17))), previous=previous)) == [
        ("statement.gap", "statement 00005/001")
    ]
