"""ledger.enforcement_state: when a handed claim leaves its case (a settled update, a completing outcome)."""

from __future__ import annotations

from datetime import date

import duckdb
import pytest

from ledger.enforcement_state import case_claims, cases, known_case_numbers, open_case_claims
from ledger.migrations import migrate

T = "muster"


@pytest.fixture
def con():
    c = duckdb.connect()
    migrate(c)
    yield c
    c.close()


def _hand(con, run_id: str, case: str, debtor: str, rids: list[str], on: date) -> None:
    con.execute("INSERT INTO enforcement_cases (tenant, run_id, case_number, debtor_id, new, opened_on, handed_off_on, "
                "office_id) VALUES (?, ?, ?, ?, true, ?, ?, 'VS')", [T, run_id, case, debtor, on, on])
    for rid in rids:
        con.execute("INSERT INTO enforcement_case_claims (tenant, run_id, case_number, receivable_id, debtor_id, "
                    "handed_off_on, handed_cents, ancillary) VALUES (?, ?, ?, ?, ?, ?, 1000, false)",
                    [T, run_id, case, rid, debtor, on])


def test_claims_stay_open_until_settled_or_completed(con) -> None:
    _hand(con, "r1", "C1", "D1", ["a", "b"], date(2026, 3, 1))
    _hand(con, "r1", "C2", "D2", ["c"], date(2026, 3, 1))
    _hand(con, "r1", "C3", "D3", ["d", "e"], date(2026, 3, 1))
    assert open_case_claims(con, T).height == 5
    con.execute("INSERT INTO enforcement_updates (tenant, run_id, update_id, case_number, kind, effective_date) "
                "VALUES (?, 'n1', 'u1', 'C1', 'settled', DATE '2026-03-10')", [T])
    con.execute("INSERT INTO enforcement_outcomes (tenant, run_id, outcome_id, case_number, receivable_id, outcome, "
                "outcome_date, state) VALUES (?, 'n2', 'o1', 'C3', 'd', 'uncollectible', DATE '2026-04-01', 'booked'),"
                " (?, 'n2', 'o2', 'C2', NULL, 'paid', DATE '2026-04-02', 'held'),"
                " (?, 'n2', 'o3', 'C2', NULL, 'partly_paid', DATE '2026-04-02', 'booked')", [T, T, T])
    still = open_case_claims(con, T)
    assert sorted(still["receivable_id"]) == ["c", "e"]          # a held outcome and a partial one close nothing
    per_case = {r["case_number"]: r for r in cases(con, T).iter_rows(named=True)}
    assert per_case["C1"]["closed_on"] == date(2026, 3, 10) and per_case["C1"]["closed_by"] == "settled"
    assert per_case["C3"]["closed_on"] is None and per_case["C3"]["n_open_claims"] == 1
    assert sorted(known_case_numbers(con, T)) == ["C1", "C2", "C3"]
    assert case_claims(con, "other").height == 0


def test_a_claim_handed_again_after_its_case_closed_is_open_in_the_new_case(con) -> None:
    _hand(con, "r1", "C1", "D1", ["a"], date(2026, 3, 1))
    con.execute("INSERT INTO enforcement_outcomes (tenant, run_id, outcome_id, case_number, outcome, outcome_date, "
                "state) VALUES (?, 'n1', 'o1', 'C1', 'returned', DATE '2026-04-01', 'booked')", [T])
    _hand(con, "r2", "C9", "D1", ["a"], date(2026, 5, 1))
    rows = case_claims(con, T)
    assert rows.height == 2
    assert open_case_claims(con, T)["case_number"].to_list() == ["C9"]
