"""Instalment agreements (dunning/instalments.py): literal cases of § 5 Abs. 2 VwVG NRW as docs/DUNNING.md
states them, the blocks they give to the selection, and the plans file reader."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import polars as pl
import pytest

from dunning.instalments import (
    PLAN_SCHEMA,
    PlanFileError,
    instalment_blocks,
    plan_status,
    read_plans,
)
from dunning.select import select

D = date


def _plan(**kw: object) -> dict[str, object]:
    """Three monthly instalments of 100,00 €, first due 15 Jan 2026, agreed 5 Jan, on claims R1, R2."""
    base: dict[str, object] = {"plan_id": "P1", "debtor_id": "D1", "receivable_ids": ["R1", "R2"],
                               "agreed_on": D(2026, 1, 5), "first_due": D(2026, 1, 15), "n_instalments": 3,
                               "amount_cents": 10_000, "total_cents": None, "interval_months": 1, "grace_days": None}
    return base | kw


def _plans(*rows: dict[str, object]) -> pl.DataFrame:
    return pl.DataFrame(list(rows), schema=PLAN_SCHEMA)


def _pay(*rows: tuple[str | None, str | None, date, int]) -> pl.DataFrame:
    return pl.DataFrame([{"debtor_id": d, "receivable_id": r, "paid_on": p, "amount_cents": a} for d, r, p, a in rows],
                        schema={"debtor_id": pl.String(), "receivable_id": pl.String(), "paid_on": pl.Date(),
                                "amount_cents": pl.Int64()})


def _one(plans: pl.DataFrame, pay: pl.DataFrame, as_of: date, **kw: object) -> dict[str, object]:
    return plan_status(plans, pay, as_of, **kw).row(0, named=True)  # type: ignore[arg-type]


def test_on_time_paid_at_each_due_date() -> None:
    pay = _pay((None, "R1", D(2026, 1, 15), 10_000), (None, "R2", D(2026, 2, 14), 10_000))
    got = _one(_plans(_plan()), pay, D(2026, 2, 20))
    assert got["status"] == "on_time"
    assert (got["paid_cents"], got["expected_cents"], got["total_cents"]) == (20_000, 20_000, 30_000)
    assert got["first_missed"] is None and got["ends_on"] == D(2026, 3, 22)


def test_paid_late_within_grace_is_on_time_and_one_day_more_is_missed() -> None:
    in_grace = _pay((None, "R1", D(2026, 1, 22), 10_000))          # due 15 Jan + 7 days
    assert _one(_plans(_plan()), in_grace, D(2026, 2, 1))["status"] == "on_time"
    too_late = _pay((None, "R1", D(2026, 1, 23), 10_000))
    got = _one(_plans(_plan()), too_late, D(2026, 2, 1))
    assert (got["status"], got["first_missed"]) == ("missed", D(2026, 1, 15))


def test_grace_not_over_yet_is_not_missed() -> None:
    # nothing paid, but on 22 Jan the grace of the first instalment has not ended
    assert _one(_plans(_plan()), _pay(), D(2026, 1, 22))["status"] == "on_time"
    assert _one(_plans(_plan()), _pay(), D(2026, 1, 23))["status"] == "missed"


def test_plan_grace_days_and_tenant_default() -> None:
    pay = _pay((None, "R1", D(2026, 1, 25), 10_000))
    assert _one(_plans(_plan()), pay, D(2026, 2, 1))["status"] == "missed"
    assert _one(_plans(_plan()), pay, D(2026, 2, 1), grace_days=10)["status"] == "on_time"
    assert _one(_plans(_plan(grace_days=14)), pay, D(2026, 2, 1))["status"] == "on_time"


def test_second_instalment_missed() -> None:
    pay = _pay((None, "R1", D(2026, 1, 15), 10_000), (None, "R1", D(2026, 2, 10), 5_000))
    got = _one(_plans(_plan()), pay, D(2026, 3, 1))
    assert (got["status"], got["first_missed"], got["paid_cents"], got["expected_cents"]) == (
        "missed", D(2026, 2, 15), 15_000, 20_000)


def test_completed_early() -> None:
    pay = _pay((None, "R2", D(2026, 1, 10), 30_000))
    got = _one(_plans(_plan()), pay, D(2026, 1, 20))
    assert (got["status"], got["paid_cents"], got["expected_cents"]) == ("completed", 30_000, 10_000)


def test_paid_ahead_covers_the_next_instalment() -> None:
    pay = _pay((None, "R1", D(2026, 1, 15), 20_000))               # two at once, nothing in February
    assert _one(_plans(_plan()), pay, D(2026, 3, 1))["status"] == "on_time"
    assert _one(_plans(_plan()), pay, D(2026, 3, 23))["status"] == "missed"    # third never came


def test_catching_up_after_a_miss_does_not_revive_the_plan() -> None:
    """The law: a missed instalment ends the agreement. Arrears paid later keep it ended."""
    pay = _pay((None, "R1", D(2026, 2, 10), 20_000))               # instalment 1 missed (grace to 22 Jan)
    got = _one(_plans(_plan()), pay, D(2026, 2, 20))
    assert (got["status"], got["first_missed"], got["paid_cents"]) == ("missed", D(2026, 1, 15), 20_000)


def test_payments_before_the_agreement_and_of_other_claims_do_not_count() -> None:
    pay = _pay((None, "R1", D(2026, 1, 4), 10_000), (None, "R9", D(2026, 1, 15), 10_000))
    got = _one(_plans(_plan()), pay, D(2026, 2, 1))
    assert (got["status"], got["paid_cents"]) == ("missed", 0)


def test_payment_by_debtor_and_all_claims_plan() -> None:
    claims = pl.DataFrame({"receivable_id": ["R7"], "debtor_id": ["D1"]})
    plan = _plans(_plan(receivable_ids=None))
    # a payment naming a claim of the debtor counts for a plan over all the debtor's claims
    assert _one(plan, _pay((None, "R7", D(2026, 1, 15), 10_000)), D(2026, 2, 1), claims=claims)["status"] == "on_time"
    assert _one(plan, _pay((None, "R7", D(2026, 1, 15), 10_000)), D(2026, 2, 1))["status"] == "missed"
    # a payment naming only the debtor counts for either kind of plan
    by_debtor = _pay(("D1", None, D(2026, 1, 15), 10_000))
    assert _one(plan, by_debtor, D(2026, 2, 1))["status"] == "on_time"
    assert _one(_plans(_plan()), by_debtor, D(2026, 2, 1))["status"] == "on_time"
    assert _one(_plans(_plan()), _pay(("D2", None, D(2026, 1, 15), 10_000)), D(2026, 2, 1))["status"] == "missed"


def test_total_below_n_times_amount_makes_the_last_instalment_the_rest() -> None:
    plan = _plans(_plan(total_cents=25_000))                       # 100 + 100 + 50
    pay = _pay((None, "R1", D(2026, 1, 15), 10_000), (None, "R1", D(2026, 2, 15), 10_000),
               (None, "R1", D(2026, 3, 15), 5_000))
    got = _one(plan, pay, D(2026, 3, 20))
    assert (got["status"], got["total_cents"], got["expected_cents"]) == ("completed", 25_000, 25_000)
    assert _one(plan, pay.head(2), D(2026, 3, 23))["status"] == "missed"


def test_month_end_schedule() -> None:
    plan = _plans(_plan(first_due=D(2026, 1, 31), agreed_on=D(2026, 1, 20), grace_days=0))
    pay = _pay((None, "R1", D(2026, 1, 31), 10_000), (None, "R1", D(2026, 2, 28), 10_000))
    assert _one(plan, pay, D(2026, 3, 1))["status"] == "on_time"       # 2nd due 28 Feb, not 3 Mar
    got = _one(plan, pay, D(2026, 4, 1))                                 # 3rd due 31 Mar, not 28 Mar
    assert (got["status"], got["first_missed"]) == ("missed", D(2026, 3, 31))
    quarterly = _plans(_plan(interval_months=3, grace_days=0))
    assert _one(quarterly, _pay((None, "R1", D(2026, 1, 15), 10_000)), D(2026, 4, 14))["status"] == "on_time"
    assert _one(quarterly, _pay((None, "R1", D(2026, 1, 15), 10_000)), D(2026, 4, 16))["status"] == "missed"


def test_several_plans_keep_their_order_and_their_own_payments() -> None:
    plans = _plans(_plan(plan_id="B", debtor_id="D2", receivable_ids=["R5"]), _plan())
    pay = _pay((None, "R1", D(2026, 1, 15), 10_000))
    got = plan_status(plans, pay, D(2026, 2, 1))
    assert got["plan_id"].to_list() == ["B", "P1"]
    assert got["status"].to_list() == ["missed", "on_time"]


def test_blocks_only_for_plans_on_time() -> None:
    plans = _plans(_plan(), _plan(plan_id="P2", debtor_id="D2", receivable_ids=None),
                   _plan(plan_id="P3", debtor_id="D3", receivable_ids=["R30"]))
    pay = _pay((None, "R1", D(2026, 1, 15), 10_000), ("D2", None, D(2026, 1, 15), 10_000))
    blocks = instalment_blocks(plans, pay, D(2026, 2, 1))
    assert blocks.to_dicts() == [
        {"receivable_id": "R1", "debtor_id": None, "block_reason": "RATENZAHLUNG", "block_from": D(2026, 1, 5),
         "block_until": D(2026, 3, 22)},
        {"receivable_id": "R2", "debtor_id": None, "block_reason": "RATENZAHLUNG", "block_from": D(2026, 1, 5),
         "block_until": D(2026, 3, 22)},
        {"receivable_id": None, "debtor_id": "D2", "block_reason": "RATENZAHLUNG", "block_from": D(2026, 1, 5),
         "block_until": D(2026, 3, 22)},
    ]


def test_the_selection_skips_blocked_claims_and_duns_them_after_a_miss() -> None:
    claims = pl.DataFrame({"receivable_id": ["R1", "R2", "R3"], "debtor_id": ["D1"] * 3,
                           "claim_type": ["GRUNDSTEUER"] * 3, "amount_cents": [30_000, 20_000, 5_000],
                           "due_date": [D(2025, 11, 15)] * 3})
    kept = _pay((None, "R1", D(2026, 1, 15), 10_000))
    sel = select(claims, D(2026, 2, 3), blocks=instalment_blocks(_plans(_plan()), kept, D(2026, 2, 3)))
    assert sel.selected["receivable_id"].to_list() == ["R3"]
    assert sel.skipped.select("receivable_id", "reason", "block_reason").rows() == [
        ("R1", "blocked", "RATENZAHLUNG"), ("R2", "blocked", "RATENZAHLUNG")]
    # the February instalment never comes: after its grace both claims return, with their surcharges
    sel = select(claims, D(2026, 2, 24), blocks=instalment_blocks(_plans(_plan()), kept, D(2026, 2, 24)))
    assert sel.selected["receivable_id"].to_list() == ["R1", "R2", "R3"]
    assert sel.selected["saeumniszuschlag_cents"].to_list() == [1_200, 800, 200]


# --- the plans file -----------------------------------------------------------------------------------

HEADER = ("plan_id;debtor_id;receivable_ids;agreed_on;first_due;n_instalments;amount_cents;total_cents;"
          "interval_months;grace_days\n")


def _write(tmp_path: Path, body: str, header: str = HEADER) -> Path:
    path = tmp_path / "plans.csv"
    path.write_bytes(b"\xef\xbb\xbf" + (header + body).encode("utf-8"))
    return path


def test_read_plans_csv(tmp_path: Path) -> None:
    path = _write(tmp_path, "P1;D1;R1, R2;2026-01-05;2026-01-15;3;10000;;;\nP2;D2;;2026-01-05;2026-02-01;6;2500;14000;3;14\n")
    got = read_plans(path)
    assert got.schema == pl.Schema(PLAN_SCHEMA)
    assert got.to_dicts() == [
        _plan(interval_months=None),
        {"plan_id": "P2", "debtor_id": "D2", "receivable_ids": None, "agreed_on": D(2026, 1, 5),
         "first_due": D(2026, 2, 1), "n_instalments": 6, "amount_cents": 2500, "total_cents": 14_000,
         "interval_months": 3, "grace_days": 14},
    ]
    pq = tmp_path / "plans.parquet"
    got.write_parquet(pq)
    assert read_plans(pq).equals(got)


def test_read_plans_optional_columns_may_be_missing(tmp_path: Path) -> None:
    path = _write(tmp_path, "P1;D1;2026-01-05;2026-01-15;3;10000\n",
                  header="plan_id;debtor_id;agreed_on;first_due;n_instalments;amount_cents\n")
    row = read_plans(path).row(0, named=True)
    assert (row["receivable_ids"], row["interval_months"], row["grace_days"]) == (None, None, None)


@pytest.mark.parametrize(("body", "line", "reason"), [
    ("P1;D1;R1;2026-01-05;2026-01-15;3;10000;;1;\nP2;D1;R2;05.01.2026;2026-01-15;3;100;;1;\n", 3,
     "agreed_on is not a date"),
    ("P1;D1;R1;2026-01-05;2026-01-15;drei;10000;;1;\n", 2, "n_instalments is not a whole number"),
    ("P1;D1;R1;2026-01-05;2026-01-15;3;100,00;;1;\n", 2, "amount_cents is not a whole number"),
    ("P1;D1;R1;2026-01-05;2026-01-15;0;10000;;1;\n", 2, "n_instalments must be above 0"),
    ("P1;D1;R1;2026-01-05;2026-01-15;3;10000;;1;-1\n", 2, "grace_days must not be negative"),
    ("P1;D1;R1;2026-01-05;2026-01-01;3;10000;;1;\n", 2, "first_due lies before agreed_on"),
    ("P1;;R1;2026-01-05;2026-01-15;3;10000;;1;\n", 2, "debtor_id is empty"),
    ("P1;D1;R1;2026-01-05;2026-01-15;3;10000;30001;1;\n", 2, "total_cents is more than n_instalments"),
    ("P1;D1;R1;2026-01-05;2026-01-15;3;10000;;1;\nP1;D2;R2;2026-01-05;2026-01-15;3;10000;;1;\n", 2,
     "plan_id appears twice"),
])
def test_read_plans_names_file_line_and_reason(tmp_path: Path, body: str, line: int, reason: str) -> None:
    path = _write(tmp_path, body)
    with pytest.raises(PlanFileError) as err:
        read_plans(path)
    assert (err.value.path, err.value.line) == (path, line)
    assert reason in str(err.value) and str(path) in str(err.value)


def test_read_plans_missing_column_and_missing_file(tmp_path: Path) -> None:
    path = _write(tmp_path, "P1;D1\n", header="plan_id;debtor_id\n")
    with pytest.raises(PlanFileError, match=r"line 1: missing column.*agreed_on"):
        read_plans(path)
    with pytest.raises(PlanFileError, match="no such file"):
        read_plans(tmp_path / "nope.csv")
