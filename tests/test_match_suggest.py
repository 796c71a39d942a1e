"""Name suggestions and candidate lists (matching.suggest): literal cases, the block and pair caps, and a
differential test against a plain pairwise reference (every pair, sorted, cut, scored one by one)."""

from __future__ import annotations

import json

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from rapidfuzz import fuzz, utils

from matching import load_match_config, suggest
from matching.names import fold_name
from matching.suggest import MAX_BLOCK, candidates_json, name_suggestions

CFG = load_match_config(None)
TEXT = pl.String()


def _frames(payments: list[tuple[object, str, int, str | None]], open_items: list[tuple[str, int, str | None]],
            tid: pl.DataType = TEXT) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame]:
    """held, pay, rec from (transaction_id, reason, amount, payer name) and (receivable_id, amount, debtor)."""
    held = pl.DataFrame({"transaction_id": [p[0] for p in payments], "reason": [p[1] for p in payments]},
                        schema={"transaction_id": tid, "reason": pl.String()})
    pay = pl.DataFrame({"transaction_id": [p[0] for p in payments], "amount_cents": [p[2] for p in payments],
                        "counterparty_name": [p[3] for p in payments]},
                       schema={"transaction_id": tid, "amount_cents": pl.Int64(), "counterparty_name": pl.String()})
    rec = pl.DataFrame({"receivable_id": [i[0] for i in open_items], "kassenzeichen": [f"KZ-{i[0]}" for i in open_items],
                        "amount_cents": [i[1] for i in open_items], "debtor_name": [i[2] for i in open_items]},
                       schema={"receivable_id": pl.String(), "kassenzeichen": pl.String(), "amount_cents": pl.Int64(),
                               "debtor_name": pl.String()})
    return held, pay, rec


def _reference(held: pl.DataFrame, pay: pl.DataFrame, rec: pl.DataFrame, cap: int) -> tuple[list[tuple], int]:
    """Every (payment, item) pair of a small block, sorted by ids, the first ``cap`` scored one by one."""
    wanted = set(held.filter(pl.col("reason").is_in(["no_reference", "unknown_reference"]))["transaction_id"])
    items = [r for r in rec.iter_rows(named=True) if r["amount_cents"] > 0]
    block: dict[int, int] = {}
    for r in items:
        block[r["amount_cents"]] = block.get(r["amount_cents"], 0) + 1
    pairs = sorted(
        (p["transaction_id"], r["receivable_id"], p["counterparty_name"], r["debtor_name"] or "", r["kassenzeichen"],
         r["amount_cents"])
        for p in pay.iter_rows(named=True) if p["transaction_id"] in wanted and p["counterparty_name"] is not None
        for r in items if r["amount_cents"] == p["amount_cents"] and block[r["amount_cents"]] <= MAX_BLOCK
    )
    kept = []
    for t, r, a, b, kz, amount in pairs[:cap]:
        s = fuzz.WRatio(utils.default_process(fold_name(a)), utils.default_process(fold_name(b)))
        if s >= CFG.name_min_score:
            kept.append((t, r, round(s / 100 * 0.7, 3), "name_amount", kz, amount))
    return kept, max(0, len(pairs) - cap)


def test_names_compared_after_case_punctuation_and_word_order() -> None:
    held, pay, rec = _frames(
        [("t1", "no_reference", 10000, "MÜLLER, ANNA"),        # case, comma, word order: token sort 100 → 95
         ("t2", "unknown_reference", 2500, "anna müller"),     # case only: 100
         ("t3", "no_reference", 4000, "Anna Mueller"),         # ue is how ü is spelled without dots: 100
         ("t4", "no_reference", 5000, "WEISS JUERGEN"),        # ß = SS, order: token sort 100 → 95
         ("t6", "no_reference", 6000, "Michal Wojcik"),        # ł, ó transliterated: 100
         ("t7", "no_reference", 7000, "Weber, Otto"),          # 60: under 80, no suggestion
         ("t5", "ambiguous", 10000, "Anna Müller")],           # has evidence already: not asked by name
        [("r1", 10000, "Anna Müller"), ("r2", 2500, "Anna Müller"), ("r3", 4000, "Anna Müller"),
         ("r4", 5000, "Jürgen Weiß"), ("r5", 10000, "Otto Normal"), ("r6", 2500, None),
         ("r7", 6000, "Michał Wójcik"), ("r8", 7000, "Jürgen Weiß")],
    )
    out, left_out = name_suggestions(held, pay, rec, CFG)
    assert left_out == 0
    assert out.columns == ["transaction_id", "receivable_id", "score", "why", "kassenzeichen", "amount_cents"]
    assert out.rows() == [
        ("t1", "r1", 0.665, "name_amount", "KZ-r1", 10000),
        ("t2", "r2", 0.7, "name_amount", "KZ-r2", 2500),
        ("t3", "r3", 0.7, "name_amount", "KZ-r3", 4000),
        ("t4", "r4", 0.665, "name_amount", "KZ-r4", 5000),
        ("t6", "r7", 0.7, "name_amount", "KZ-r7", 6000),
    ]


def test_only_same_open_amount_and_blocks_up_to_max_block() -> None:
    common = [(f"c{i:03d}", 700, "Anna Müller") for i in range(MAX_BLOCK + 1)]  # one over the block limit
    edge = [(f"e{i:03d}", 900, "Anna Müller") for i in range(MAX_BLOCK)]        # exactly at the limit
    held, pay, rec = _frames(
        [("t1", "no_reference", 700, "Anna Müller"), ("t2", "no_reference", 900, "Anna Müller"),
         ("t3", "no_reference", 901, "Anna Müller"),                        # no item of this amount
         ("t4", "no_reference", 0, "Anna Müller"),                          # settled items (0 open) never suggested
         ("t5", "no_reference", 900, None)],                                # no payer name: nothing to compare
        [*common, *edge, ("z1", 0, "Anna Müller"), ("x1", 902, "Anna Müller")],
    )
    out, left_out = name_suggestions(held, pay, rec, CFG)
    assert left_out == 0
    assert out["transaction_id"].unique().to_list() == ["t2"]
    assert out["receivable_id"].to_list() == [e[0] for e in edge]
    assert (out["amount_cents"] == 900).all()


@pytest.mark.parametrize("tid", [pl.String(), pl.UInt32()])
@pytest.mark.parametrize("cap", [1, 4, 5, 6, 9, 11, 100])
def test_pair_cap_keeps_the_first_pairs_by_ids_and_counts_the_rest(
    monkeypatch: pytest.MonkeyPatch, tid: pl.DataType, cap: int
) -> None:
    # pairs in id order: t10 (3 items), t2 (2), t3 (3), t4 (1), t5 (2) = 11; "t10" sorts before "t2" as text
    ids: list[object] = ["t10", "t2", "t3", "t4", "t5"] if tid == pl.String() else [10, 2, 3, 4, 5]
    held, pay, rec = _frames(
        [(ids[0], "no_reference", 100, "Anna Müller"), (ids[1], "no_reference", 200, "Bernd Schäfer"),
         (ids[2], "unknown_reference", 300, "Clara Weiß"), (ids[3], "no_reference", 400, "Dieter Groß"),
         (ids[4], "no_reference", 200, "SCHÄFER BERND")],
        [("a3", 100, "Anna Müller"), ("a1", 100, "Anna Mueller"), ("a2", 100, "Müller, Anna"),
         ("b2", 200, "Bernd Schäfer"), ("b1", 200, "Schäfer, Bernd"),
         ("c1", 300, "Clara Weiß"), ("c3", 300, "Clara Weiss"), ("c2", 300, "Weiß, Clara"), ("d1", 400, "Dieter Groß")],
        tid,
    )
    monkeypatch.setattr(suggest, "MAX_PAIRS", cap)
    out, left_out = name_suggestions(held, pay, rec, CFG)
    want, want_left = _reference(held, pay, rec, cap)
    assert left_out == want_left == max(0, 11 - cap)
    assert out.rows() == want
    assert out.schema["transaction_id"] == tid


names = st.sampled_from(["Anna Müller", "MÜLLER ANNA", "Anna Mueller", "Müller, Anna", "Bernd Schäfer", "schäfer bernd",
                         "Otto", "", "ÄÖÜ äöü ß", "Weiß-Groß GmbH", "GROSS WEISS GMBH"])


@settings(max_examples=60, deadline=None)
@given(
    payments=st.lists(st.tuples(st.sampled_from(["no_reference", "unknown_reference", "ambiguous"]),
                                st.integers(0, 4), st.one_of(st.none(), names)), max_size=12),
    open_items=st.lists(st.tuples(st.integers(0, 4), st.one_of(st.none(), names)), max_size=15),
    cap=st.integers(1, 40),
)
def test_same_as_every_pair_scored_one_by_one(payments: list, open_items: list, cap: int) -> None:
    held, pay, rec = _frames([(f"t{i}", r, a, n) for i, (r, a, n) in enumerate(payments)],
                             [(f"r{i}", a, n) for i, (a, n) in enumerate(open_items)])
    old = suggest.MAX_PAIRS
    suggest.MAX_PAIRS = cap  # hypothesis runs many examples per test call: set and restore by hand
    try:
        out, left_out = name_suggestions(held, pay, rec, CFG)
    finally:
        suggest.MAX_PAIRS = old
    want, want_left = _reference(held, pay, rec, cap)
    assert (out.rows(), left_out) == (want, want_left)


def test_candidates_json_takes_item_fields_from_cands_and_looks_up_the_rest() -> None:
    rec = pl.DataFrame({"receivable_id": ["r1", "r2", "r3"], "kassenzeichen": ["K1", "K2", "K3"],
                        "amount_cents": [100, 200, 300]})
    four = pl.DataFrame({"transaction_id": ["t1", "t1", "t2", "t2", "t3"], "receivable_id": ["r1", "r2", "r3", "r9", "r1"],
                         "score": [0.5, 0.7, 0.6, 0.9, 0.4], "why": ["reference.typo", "name_amount", "iban_amount",
                                                                     "name_amount", "reference.typo"]})
    old = candidates_json(four, rec, CFG).sort("transaction_id")
    # r9 is not among the items: left out; t1 lists the better score first
    assert json.loads(old.filter(pl.col("transaction_id") == "t1")["candidates"][0]) == [
        {"receivable_id": "r2", "kassenzeichen": "K2", "amount_cents": 200, "score": 0.7, "why": "name_amount"},
        {"receivable_id": "r1", "kassenzeichen": "K1", "amount_cents": 100, "score": 0.5, "why": "reference.typo"},
    ]
    assert old["transaction_id"].to_list() == ["t1", "t2", "t3"]
    # the same candidates carrying the item fields (some rows without them), against no items at all:
    # rows that carry them need no look-up; the others are looked up (and dropped when not found)
    carried = four.join(rec, on="receivable_id", how="left").with_columns(
        pl.when(pl.col("transaction_id") == "t3").then(None).otherwise(pl.col("kassenzeichen")).alias("kassenzeichen"))
    assert candidates_json(carried, rec, CFG).sort("transaction_id").equals(old)
    no_items = candidates_json(carried, rec.clear(), CFG)
    assert sorted(no_items["transaction_id"]) == ["t1", "t2"]
    # what the name suggestions return feeds it directly (no items needed)
    held, pay, items = _frames([("t1", "no_reference", 100, "anna müller")], [("r1", 100, "Anna Müller")])
    names, _ = name_suggestions(held, pay, items, CFG)
    got = json.loads(candidates_json(names, rec.clear(), CFG)["candidates"][0])
    assert got == [{"receivable_id": "r1", "kassenzeichen": "KZ-r1", "amount_cents": 100, "score": 0.7, "why": "name_amount"}]


def test_nothing_wanted_gives_an_empty_frame_of_the_id_dtype() -> None:
    held, pay, rec = _frames([(7, "ambiguous", 100, "Anna Müller")], [("r1", 100, "Anna Müller")], pl.UInt32())
    out, left_out = name_suggestions(held, pay, rec, CFG)
    assert (out.height, left_out) == (0, 0)
    assert out.schema["transaction_id"] == pl.UInt32() and out.schema["amount_cents"] == pl.Int64()
