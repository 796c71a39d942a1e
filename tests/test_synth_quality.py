"""synth.quality on hand-made frames: what counts as booked, exact, wrong and held."""

from __future__ import annotations

import polars as pl

from synth.generated import EXPECTED_TYPE
from synth.quality import judge, markdown, over_paid_items, per_case, totals


def _truth() -> pl.DataFrame:
    exp = [
        [{"receivable_id": "A", "amount_cents": 100}],                                             # t1 exact
        [{"receivable_id": "B", "amount_cents": 50}, {"receivable_id": "C", "amount_cents": 70}],  # t2 wrong split
        [],                                                                                        # t3 held, fine
        [],                                                                                        # t4 booked: wrong
        [{"receivable_id": "D", "amount_cents": 30}],                                              # t5 missed
    ]
    return pl.DataFrame({
        "transaction_id": ["t1", "t2", "t3", "t4", "t5"],
        "case": ["full", "designation_amounts", "contradicting", "contradicting", "full"],
        "decidable": [True, True, False, False, True],
        "expected": exp,
    }, schema_overrides={"expected": EXPECTED_TYPE})


ALLOC = pl.DataFrame({"transaction_id": ["t1", "t2", "t2", "t4"], "receivable_id": ["A", "B", "C", "E"],
                      "amount_cents": [100, 90, 30, 40]})
UNRESOLVED = pl.DataFrame({"transaction_id": ["t3", "t5", "t5"], "reason": ["conflict", "no_reference", "ambiguous"]})


def test_judge_counts_each_payment_against_its_truth() -> None:
    j = judge(_truth(), ALLOC, UNRESOLVED).sort("transaction_id")
    assert j["booked"].to_list() == [True, True, False, True, False]
    assert j["exact"].to_list() == [True, False, True, False, False]
    assert j["wrong"].to_list() == [False, True, False, True, False]
    assert j["held_as"].to_list()[4] == ["ambiguous", "no_reference"]


def test_per_case_table_and_totals() -> None:
    j = judge(_truth(), ALLOC, UNRESOLVED)
    table = per_case(j)
    full = table.filter(pl.col("case") == "full").row(0, named=True)
    assert full == {"case": "full", "rows": 2, "decidable": "yes", "expected": 2, "booked": 1, "exact": 1,
                    "wrong": 0, "held_as": "ambiguous, no_reference"}
    contra = table.filter(pl.col("case") == "contradicting").row(0, named=True)
    assert (contra["decidable"], contra["booked"], contra["wrong"], contra["exact"]) == ("no", 1, 1, 1)
    assert totals(j) == {"rows": 5, "decidable_to_book": 3, "decidable_booked": 2, "decidable_exact": 1,
                         "wrong": 2, "held_but_booked": 1}
    md = markdown(table).splitlines()
    assert md[0].startswith("| case | rows | decidable | allocation expected")
    assert "| designation_amounts | 1 | yes | 1 | 1 | 0 | 1 | – |" in md


def test_over_paid_items() -> None:
    items = pl.DataFrame({"receivable_id": ["A", "B", "C"], "amount_cents": [100, 80, 30]})
    over = over_paid_items(ALLOC, items)
    assert over["receivable_id"].to_list() == ["B"]
