"""The matcher on the synthetic municipality (synth.generate) against its ground truth.

Asserts the issue's bar: zero wrong allocations, no item receives more than it is owed, every payment
appears exactly once, and at least 97 % of the decidable payments are allocated. The round-two set
(``mix=0.4``: the kinds of issue 14 make up 40 % of the payments) is judged kind by kind with
:mod:`synth.quality`; ``benchmarks/match_quality.py`` prints the same figures as a table.
"""

from __future__ import annotations

import polars as pl
import pytest

from matching import load_match_config, match
from parsers import parse_paths
from parsers.open_items import load_open_items
from synth.quality import judge, over_paid_items, per_case, totals, truth_by_transaction
from synth.round_two import KINDS

synth = pytest.importorskip("synth.municipality")


@pytest.fixture(scope="module")
def outcome(tmp_path_factory: pytest.TempPathFactory) -> tuple[pl.DataFrame, pl.DataFrame, object]:
    s = synth.generate(tmp_path_factory.mktemp("musterstadt"), seed=1)
    cfg = load_match_config(s.config)
    items, _ = load_open_items(s.open_items, tenant="musterstadt", config=cfg)
    parsed = parse_paths(list(s.statements), tenant="musterstadt")
    result = match(parsed.transactions, items, cfg)
    return truth_by_transaction(s.truth_frame(), parsed.transactions), items, result


def test_every_truth_row_found(outcome) -> None:
    truth, _, result = outcome
    assert truth["transaction_id"].is_unique().all()
    assert truth.height == result.summary["rows"]


def test_zero_wrong_allocations_and_no_item_over_allocated(outcome) -> None:
    truth, items, result = outcome
    got = result.allocations.select("transaction_id", "receivable_id", "amount_cents")  # reversals included
    expected = truth.select("transaction_id", "expected").explode("expected").drop_nulls("expected").select(
        "transaction_id", pl.col("expected").struct.field("receivable_id"), pl.col("expected").struct.field("amount_cents"))
    wrong = got.join(expected, on=["transaction_id", "receivable_id", "amount_cents"], how="anti")
    assert wrong.is_empty(), wrong
    per_item = got.filter(pl.col("amount_cents") > 0).group_by("receivable_id").agg(pl.col("amount_cents").sum()).join(
        items.select("receivable_id", pl.col("amount_cents").alias("open")), on="receivable_id")
    assert per_item.filter(pl.col("amount_cents") > pl.col("open")).is_empty()


def test_every_payment_exactly_once(outcome) -> None:
    truth, _, result = outcome
    credits = truth.filter((pl.col("amount_cents") > 0) & ~pl.col("case").is_in(["fee"]))
    booked = result.allocations.filter(pl.col("amount_cents") > 0).group_by("transaction_id").agg(pl.col("amount_cents").sum().alias("b"))
    left = result.unresolved.group_by("transaction_id").agg(pl.len().alias("n"), pl.col("unallocated_cents").sum().alias("u"))
    assert (left["n"] == 1).all()
    check = credits.join(booked, on="transaction_id", how="left").join(left, on="transaction_id", how="left").with_columns(
        pl.col("b").fill_null(0), pl.col("u").fill_null(0))
    assert (check["b"] + check["u"] == check["amount_cents"]).all()


def test_at_least_97_percent_of_decidable_payments_allocated(outcome) -> None:
    truth, _, result = outcome
    decidable = truth.filter(pl.col("decidable") & (pl.col("expected").list.len() > 0))
    booked = decidable.join(result.allocations.select("transaction_id").unique(), on="transaction_id", how="semi")
    assert booked.height / decidable.height >= 0.97, (booked.height, decidable.height)
    # what must not be booked is not: wrong references, no reference, double payments
    held = truth.filter(pl.col("expected").list.len() == 0).join(
        result.allocations.filter(pl.col("amount_cents") > 0), on="transaction_id", how="semi")
    assert held.is_empty(), held


# --- round two (issue 14): the new kinds mixed in at 40 % ------------------------------------------------

#: kinds booked less often than 98 % of their decidable payments, with the share they do reach: a designation
#: whose second Kassenzeichen lost its blank at an MT940 ``?2x`` line break (``…766149,50 EUR``) cannot be
#: paired and is held as ``designation_incomplete`` (safe; docs/MATCHING.md, known limits)
LOWER_BAR = {"designation_amounts": 0.90, "designation_overlap": 0.90}
BASE_KINDS = ("full", "partial", "over", "double", "multi", "third_party", "no_ref", "wrong_ref", "typo_digit",
              "typo_swap", "iban_only", "dd_collection", "dd_return", "fee", "refund_out")


@pytest.fixture(scope="module")
def round_two(tmp_path_factory: pytest.TempPathFactory) -> tuple[pl.DataFrame, int, dict[str, object]]:
    """(judged truth rows, items over-paid, the run's summary) of seed 1 with the round-two kinds."""
    s = synth.generate(tmp_path_factory.mktemp("round-two"), seed=1, mix=0.4)
    cfg = load_match_config(s.config)
    items, _ = load_open_items(s.open_items, tenant="musterstadt", config=cfg)
    parsed = parse_paths(list(s.statements), tenant="musterstadt")
    result = match(parsed.transactions, items, cfg)
    truth = truth_by_transaction(s.truth_frame(), parsed.transactions)
    judged = judge(truth, result.allocations, result.unresolved)
    return judged, over_paid_items(result.allocations, items).height, result.summary


def test_round_two_every_payment_found_and_kinds_mixed_in(round_two) -> None:
    judged, _, summary = round_two
    assert judged["transaction_id"].is_unique().all()
    assert judged.height == summary["rows"]
    share = judged.filter(pl.col("case").is_in(KINDS)).height / judged.height
    assert 0.35 <= share <= 0.45, share
    assert set(KINDS) <= set(judged["case"])


def test_round_two_no_item_over_paid(round_two) -> None:
    assert round_two[1] == 0


def test_round_two_no_loss_on_the_base_kinds(round_two) -> None:
    judged = round_two[0].filter(pl.col("case").is_in(BASE_KINDS))
    assert judged["wrong"].sum() == 0, per_case(judged.filter(pl.col("wrong")))
    t = totals(judged)
    assert t["decidable_exact"] / t["decidable_to_book"] >= 0.97, t


@pytest.mark.parametrize("kind", KINDS)
def test_round_two_zero_wrong_allocations(round_two, kind: str) -> None:
    judged = round_two[0].filter(pl.col("case") == kind)
    assert judged.height >= 2
    wrong = judged.filter(pl.col("wrong"))
    assert wrong.is_empty(), wrong.select("amount_cents", "quoted", "payer_name", "expected", "note")
    if kind in {"designation_bad", "contradicting"}:  # must be held, never booked
        assert not judged["booked"].any()
        assert judged["expected_hold"].is_not_null().all()


@pytest.mark.parametrize("kind", KINDS)
def test_round_two_at_least_98_percent_of_decidable_booked_exactly(round_two, kind: str) -> None:
    judged = round_two[0].filter((pl.col("case") == kind) & pl.col("decidable") & (pl.col("expected").list.len() > 0))
    if judged.is_empty():  # a kind that must be held: judged by the test above
        assert kind in {"designation_bad", "contradicting"}
        return
    assert judged["exact"].sum() / judged.height >= LOWER_BAR.get(kind, 0.98), per_case(judged)


def test_round_two_goal_of_issue_14(round_two) -> None:
    judged, over, _ = round_two
    t = totals(judged)
    assert t["wrong"] == 0 and over == 0
    assert t["decidable_exact"] / t["decidable_to_book"] >= 0.98, t
