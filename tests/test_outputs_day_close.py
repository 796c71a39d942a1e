"""Day close: Ist against Soll per account, statement gaps, no statement, corrections of locked days."""

from __future__ import annotations

from datetime import date

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from outputs_frames import SPK, TENANT, VB, stmt, tx, unres
from outputs_frames import statements as S
from outputs_frames import transactions as T
from outputs_frames import unresolved as U

from outputs import DAY_CLOSE_SCHEMA, check_totals, day_close
from outputs.day_close import account_key, late_days

D1, D2, D3 = date(2024, 5, 16), date(2024, 5, 17), date(2024, 5, 21)


def row(df: pl.DataFrame, account: str) -> dict:
    rows = df.filter(pl.col("account_iban") == account).to_dicts()
    assert len(rows) == 1, rows
    return rows[0]


def test_totals_equal_the_sums_of_the_rows_given() -> None:
    s1 = stmt(SPK, 3, 100_000, 147_655, D1)
    rows = [tx(s1, 0, 60_000), tx(s1, 1, -10_000), tx(s1, 2, -2_345)]
    dc = day_close(S([s1]), T(rows), U([]), booking_date=D1)
    assert dict(dc.schema) == DAY_CLOSE_SCHEMA
    r = row(dc, SPK)
    assert r["credits_cents"] == 60_000                       # positive entries
    assert r["debits_cents"] == 12_345                        # negative entries, as a positive number
    assert r["booked_cents"] == sum(t["amount_cents"] for t in rows)
    assert r["n_transactions"] == 3
    assert (r["opening_cents"], r["closing_cents"]) == (100_000, 147_655)
    assert r["book_opening_cents"] == 100_000                 # no previous close: the statement's opening
    assert r["book_closing_cents"] == 147_655
    assert (r["difference_cents"], r["status"], r["note"]) == (0, "ok", "")
    check_totals(dc)


def test_an_entry_missing_from_the_book_shows_as_a_difference() -> None:
    s1 = stmt(SPK, 3, 100_000, 150_000, D1)                   # the bank moved +500.00
    dc = day_close(S([s1]), T([tx(s1, 0, 49_990)]), U([]), booking_date=D1)  # the book has +499.90
    r = row(dc, SPK)
    assert r["difference_cents"] == 10
    assert r["status"] == "difference"


def test_statement_number_gap_against_the_previous_day_appears() -> None:
    s1 = stmt(SPK, 3, 100_000, 100_000, D1)
    s2 = stmt(SPK, 5, 100_000, 100_000, D2)                   # 4 never arrived
    s3 = stmt(SPK, 9, 100_000, 100_000, D2, statement_index=1)  # 6-8 never arrived
    stmts = S([s1, s2, s3])
    c1 = day_close(stmts, T([]), U([]), booking_date=D1)
    c2 = day_close(stmts, T([]), U([]), booking_date=D2, previous=c1)
    r = row(c2, SPK)
    assert r["missing_statements"] == "4, 6–8"
    assert r["status"] == "missing_statement"
    assert r["last_sequence_no"] == 9
    assert r["statement_nos"] == "00005/001, 00009/001"


def test_numbering_restarting_with_the_year_is_no_gap() -> None:
    s1 = stmt(SPK, 250, 0, 0, date(2023, 12, 29))
    s2 = stmt(SPK, 1, 0, 0, date(2024, 1, 2))
    s3 = stmt(SPK, 3, 0, 0, date(2024, 1, 2), statement_index=1)
    stmts = S([s1, s2, s3])
    c1 = day_close(stmts, T([]), U([]), booking_date=date(2023, 12, 29))
    c2 = day_close(stmts, T([]), U([]), booking_date=date(2024, 1, 2), previous=c1)
    assert row(c2, SPK)["missing_statements"] == "2"


def test_several_statements_a_day_open_with_the_first_and_close_with_the_last() -> None:
    a = stmt(SPK, 4, 1_000, 1_500, D1, page_no=1)
    b = stmt(SPK, 4, 1_500, 1_200, D1, page_no=2, statement_key="k2", statement_no="00004/002")
    dc = day_close(S([b, a]), T([tx(a, 0, 500), tx(b, 0, -300)]), U([]), booking_date=D1)
    r = row(dc, SPK)
    assert (r["opening_cents"], r["closing_cents"], r["n_statements"]) == (1_000, 1_200, 2)
    assert r["difference_cents"] == 0


def test_expected_account_without_statement_is_listed() -> None:
    s1 = stmt(SPK, 3, 0, 0, D1)
    dc = day_close(S([s1]), T([]), U([]), booking_date=D1, expected_accounts=[VB])
    r = row(dc, VB)
    assert (r["status"], r["n_statements"], r["tenant"]) == ("no_statement", 0, TENANT)
    assert r["difference_cents"] is None


def test_expected_iban_matches_a_statement_that_names_blz_and_account_number() -> None:
    s1 = stmt("37050198/1900001234", 3, 0, 0, D1)        # MT940 :25: as a Sparkasse sends it
    dc = day_close(S([s1]), T([]), U([]), booking_date=D1, expected_accounts=["DE63 3705 0198 1900 0012 34"])
    assert dc["account_iban"].to_list() == ["37050198/1900001234"] and dc["status"].to_list() == ["ok"]


def test_book_balance_continues_from_the_previous_close_and_an_account_without_statement() -> None:
    s1 = stmt(SPK, 3, 0, 5_000, D1)
    s2 = stmt(VB, 7, 700, 700, D1)
    s3 = stmt(SPK, 4, 5_000, 4_000, D3)
    stmts, txs = S([s1, s2, s3]), T([tx(s1, 0, 5_000), tx(s3, 0, -1_000)])
    c1 = day_close(stmts, txs, U([]), booking_date=D1)
    c2 = day_close(stmts, txs, U([]), booking_date=D2, previous=c1)
    assert row(c2, VB)["status"] == "no_statement" and row(c2, VB)["book_closing_cents"] == 700
    c3 = day_close(stmts, txs, U([]), booking_date=D3, previous=pl.concat([c1, c2]))
    r = row(c3, SPK)
    assert (r["book_opening_cents"], r["book_closing_cents"], r["status"]) == (5_000, 4_000, "ok")


def test_pending_and_intraday_rows_do_not_count() -> None:
    s1 = stmt(SPK, 3, 0, 100, D1)
    rows = [tx(s1, 0, 100), tx(s1, 1, 999, booked=False, status="PDNG"),
            tx(s1, 2, 555, statement_key="other", source_format="camt.054")]  # notification of another file
    dc = day_close(S([s1]), T(rows), U([]), booking_date=D1)
    assert row(dc, SPK)["credits_cents"] == 100


def test_duplicate_delivery_counts_once() -> None:
    s1 = stmt(SPK, 3, 0, 100, D1)
    rows = [tx(s1, 0, 100)]
    dc = day_close(S([s1, s1]), T(rows + rows), U([]), booking_date=D1)
    assert (row(dc, SPK)["credits_cents"], row(dc, SPK)["n_statements"]) == (100, 1)


def test_unresolved_stock_is_summed_per_account() -> None:
    s1 = stmt(SPK, 3, 0, 3_000, D1)
    s2 = stmt(SPK, 4, 3_000, 3_000, D2)
    rows = [tx(s1, 0, 1_000), tx(s1, 1, 2_000)]
    un = U([unres(rows[0], "no_reference"), unres(rows[1], "overpayment", 250)])
    c1 = day_close(S([s1, s2]), T(rows), un, booking_date=D1)
    c2 = day_close(S([s1, s2]), T(rows), un, booking_date=D2, previous=c1)
    assert (row(c2, SPK)["n_unresolved"], row(c2, SPK)["unresolved_cents"]) == (2, 1_250)


def test_unresolved_payment_without_its_transaction_is_a_handoff_bug() -> None:
    s1 = stmt(SPK, 3, 0, 0, D1)
    ghost = tx(s1, 0, 100)
    with pytest.raises(ValueError, match="no row in transactions"):
        day_close(S([s1]), T([]), U([unres(ghost, "no_reference")]), booking_date=D1)


def test_late_entry_for_a_locked_day_gives_a_dated_correction_row() -> None:
    s1 = stmt(SPK, 3, 0, 1_700, D1)
    s2 = stmt(SPK, 4, 1_700, 1_700, D2)
    first = [tx(s1, 0, 1_000)]
    locked = day_close(S([s1]), T(first), U([]), booking_date=D1)
    assert row(locked, SPK)["difference_cents"] == 700        # 7.00 not yet booked
    late = [*first, tx(s1, 1, 700)]                            # arrives with the next night's run
    corr = day_close(S([s1, s2]), T(late), U([]), booking_date=D1, locked=locked, today=D2)
    r = row(corr, SPK)
    assert (r["kind"], r["booking_date"], r["corrected_date"]) == ("correction", D2, D1)
    assert (r["credits_cents"], r["book_closing_cents"], r["difference_cents"]) == (700, 700, -700)
    assert r["closing_cents"] == 0 and r["opening_cents"] == 0  # the bank's figures did not change
    assert "16.05.2024" in r["note"]
    # the next day opens with the corrected book balance and is clean
    c2 = day_close(S([s1, s2]), T(late), U([]), booking_date=D2, previous=pl.concat([locked, corr]))
    assert (row(c2, SPK)["book_opening_cents"], row(c2, SPK)["status"]) == (1_700, "ok")
    # running the correction again against locked + correction finds nothing more
    again = day_close(S([s1, s2]), T(late), U([]), booking_date=D1, locked=pl.concat([locked, corr]), today=D3)
    assert again.is_empty() and dict(again.schema) == DAY_CLOSE_SCHEMA


def test_statement_for_a_locked_day_that_arrives_late_is_corrected_and_today_is_clean() -> None:
    s1 = stmt(SPK, 3, 10_000, 10_000, D1)
    s2 = stmt(SPK, 4, 10_000, 12_500, D2)                      # arrives only with the night of D3
    s3 = stmt(SPK, 5, 12_500, 12_000, D3)
    night1 = S([s1])
    c1 = day_close(night1, T([]), U([]), booking_date=D1)
    c2 = day_close(night1, T([]), U([]), booking_date=D2, previous=c1, expected_accounts=[SPK])
    assert row(c2, SPK)["status"] == "no_statement"          # D2 is closed without its statement
    locked = pl.concat([c1, c2])
    all_st, all_tx = S([s1, s2, s3]), T([tx(s2, 0, 2_500), tx(s3, 0, -500)])
    assert late_days(S([s2, s3]), booking_date=D3) == [D2]
    corr = day_close(all_st, all_tx, U([]), booking_date=D2, previous=c1,
                     locked=locked.filter(pl.col("booking_date") == D2), today=D3)
    r = row(corr, SPK)
    assert (r["corrected_date"], r["credits_cents"], r["book_closing_cents"], r["n_statements"]) == (D2, 2_500, 2_500, 1)
    c3 = day_close(all_st, all_tx, U([]), booking_date=D3, previous=pl.concat([locked, corr]))
    assert (row(c3, SPK)["book_opening_cents"], row(c3, SPK)["status"]) == (12_500, "ok")
    assert row(c3, SPK)["missing_statements"] == ""            # 4 was seen by the correction


def test_correction_made_when_the_same_night_runs_again_carries_into_the_next_day() -> None:
    s1 = stmt(SPK, 3, 0, 1_700, D1)
    s2 = stmt(SPK, 4, 1_700, 1_700, D2)
    locked = day_close(S([s1]), T([tx(s1, 0, 1_000)]), U([]), booking_date=D1)
    late = [tx(s1, 0, 1_000), tx(s1, 1, 700)]
    corr = day_close(S([s1]), T(late), U([]), booking_date=D1, locked=locked, today=D1)  # rerun of D1
    assert row(corr, SPK)["book_closing_cents"] == 700
    c2 = day_close(S([s1, s2]), T(late), U([]), booking_date=D2, previous=pl.concat([locked, corr]))
    assert (row(c2, SPK)["book_opening_cents"], row(c2, SPK)["status"]) == (1_700, "ok")


def test_locked_day_needs_a_correction_date() -> None:
    s1 = stmt(SPK, 3, 0, 0, D1)
    locked = day_close(S([s1]), T([]), U([]), booking_date=D1)
    with pytest.raises(ValueError, match="today"):
        day_close(S([s1]), T([]), U([]), booking_date=D1, locked=locked)


def test_same_input_same_close() -> None:
    s1, s2 = stmt(SPK, 3, 0, 50, D1), stmt(VB, 1, 10, 20, D1)
    rows = [tx(s1, 0, 50), tx(s2, 0, 10)]
    a = day_close(S([s1, s2]), T(rows), U([]), booking_date=D1)
    b = day_close(S([s2, s1]), T(rows[::-1]), U([]), booking_date=D1)
    assert a.equals(b)


@settings(max_examples=40, deadline=None)
@given(st.lists(st.integers(min_value=-10**9, max_value=10**9).filter(lambda x: x != 0), max_size=30),
       st.integers(min_value=-10**10, max_value=10**10), st.integers(min_value=-500, max_value=500))
def test_property_book_movements_are_the_sum_of_booked_rows(amounts: list[int], opening: int, error: int) -> None:
    closing = opening + sum(amounts) + error
    s1 = stmt(SPK, 1, opening, closing, D1)
    dc = day_close(S([s1]), T([tx(s1, i, a) for i, a in enumerate(amounts)]), U([]), booking_date=D1)
    r = row(dc, SPK)
    assert r["credits_cents"] == sum(a for a in amounts if a > 0)
    assert r["debits_cents"] == -sum(a for a in amounts if a < 0)
    assert r["book_closing_cents"] == opening + sum(amounts)
    assert r["difference_cents"] == error
    assert r["status"] == ("ok" if error == 0 else "difference")
    check_totals(dc)


def test_account_key_leaves_foreign_accounts_alone() -> None:
    assert account_key("NL91ABNA0417164300") == "NL91ABNA0417164300"
    assert account_key("DE02120300000000202051") == "12030000/202051"
