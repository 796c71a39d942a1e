"""The batch credit broken down per claim; returns reverse, reopen with the original due date, charge the
fee when configured, and carry the reason's action."""

from __future__ import annotations

from datetime import date

import polars as pl

from claims.claim import CLAIM_SCHEMA
from claims.config import CollectionSection
from collection.history import RETURNED_SCHEMA, empty
from collection.returns import ALLOCATION_COLUMNS, apply_returns, break_down_batches
from matching.schema import ALLOCATION_SCHEMA
from tests.collection_frames import claim, claims, collected, credits, returned, returns

DAY = date(2027, 2, 15)
S = CollectionSection()
NO_PRIOR = pl.DataFrame(schema=ALLOCATION_SCHEMA)


def _record() -> pl.DataFrame:
    return collected(
        {"end_to_end_id": "KZ51-20270215", "receivable_id": "R1", "kassenzeichen": "5.1", "collection_date": DAY,
         "amount_cents": 10_000, "due_date": date(2027, 2, 13)},
        {"end_to_end_id": "KZ52-20270215", "receivable_id": "R2", "kassenzeichen": "5.2", "collection_date": DAY,
         "amount_cents": 2_500, "mandate_id": "M-2"},
        {"end_to_end_id": "KZ53-20270215", "receivable_id": "R3", "kassenzeichen": "5.3", "collection_date": DAY,
         "amount_cents": 700, "pmtinf_id": "PMT2", "sequence_type": "FRST", "mandate_id": "M-3"},
    )


def test_the_allocation_columns_are_the_matchers() -> None:
    assert ALLOCATION_COLUMNS == ALLOCATION_SCHEMA


def test_a_batch_credit_is_broken_down_per_claim() -> None:
    cr = credits({"transaction_id": "T1", "bank_ref": "B1", "amount_cents": 12_500, "batch_ref": "PMT1"},
                 {"transaction_id": "T2", "bank_ref": "B2", "amount_cents": 700, "batch_ref": None,
                  "remittance": "SAMMLER PMT2 2 POSTEN"},
                 {"transaction_id": "T3", "bank_ref": "B3", "amount_cents": 999, "batch_ref": None,
                  "remittance": "Kassenzeichen 5.9"})
    alloc, held, unknown = break_down_batches(cr, _record(), NO_PRIOR)
    assert alloc.schema == pl.Schema(ALLOCATION_SCHEMA)
    assert alloc.select("transaction_id", "receivable_id", "amount_cents", "rule", "booking_date").rows() == [
        ("T1", "R1", 10_000, "direct_debit", date(2027, 2, 16)),
        ("T1", "R2", 2_500, "direct_debit", date(2027, 2, 16)),
        ("T2", "R3", 700, "direct_debit", date(2027, 2, 16)),
    ]
    assert held.is_empty()
    assert unknown["transaction_id"].to_list() == ["T3"]           # not ours: left to the matcher


def test_the_message_id_names_every_batch_of_the_file() -> None:
    cr = credits({"transaction_id": "T1", "amount_cents": 13_200, "batch_ref": "MSG1"})
    alloc, held, _ = break_down_batches(cr, _record(), NO_PRIOR)
    assert alloc["receivable_id"].to_list() == ["R1", "R2", "R3"] and held.is_empty()


def test_a_credit_that_is_not_the_batch_sum_is_held() -> None:
    cr = credits({"transaction_id": "T1", "amount_cents": 10_000, "batch_ref": "PMT1"})     # R2 rejected?
    alloc, held, _ = break_down_batches(cr, _record(), NO_PRIOR)
    assert alloc.is_empty()
    assert held.rows() == [("T1", "batch_amount_mismatch")]


def test_a_batch_credited_twice_is_held() -> None:
    cr = credits({"transaction_id": "T1", "amount_cents": 12_500, "batch_ref": "PMT1"},
                 {"transaction_id": "T2", "amount_cents": 12_500, "batch_ref": "PMT1"})
    alloc, held, _ = break_down_batches(cr, _record(), NO_PRIOR)
    assert set(alloc["transaction_id"]) == {"T1"}
    assert held.rows() == [("T2", "batch_duplicate")]
    # the next day the same batch again: its claims are booked already
    prior = alloc
    again, held2, _ = break_down_batches(credits({"transaction_id": "T9", "amount_cents": 12_500, "batch_ref": "PMT1"}),
                                         _record(), prior)
    assert again.is_empty() and held2.rows() == [("T9", "batch_duplicate")]
    # a batch whose claims were returned since (net zero) is no duplicate of them
    back = pl.DataFrame([{**r, "amount_cents": -r["amount_cents"], "rule": "dd_return"} for r in alloc.iter_rows(named=True)],
                        schema=ALLOCATION_SCHEMA)
    third, _, _ = break_down_batches(credits({"transaction_id": "T9", "amount_cents": 12_500, "batch_ref": "PMT1"}),
                                     _record(), pl.concat([prior, back]))
    assert third.height == 2


def _claims() -> pl.DataFrame:
    return claims(claim("R1", kz="5.1", due_date=date(2027, 2, 13)), claim("R2", kz="5.2", mandate_id="M-2"),
                  claim("R3", kz="5.3", mandate_id="M-3"))


def test_a_return_reverses_reopens_with_the_original_due_date_and_acts() -> None:
    ret = returns(
        {"transaction_id": "X1", "bank_ref": "RB1", "amount_cents": -10_000, "reason_code": "ac04",
         "end_to_end_id": "KZ51-20270215"},
        # no end-to-end id: mandate and amount, the bank added its fee of 3,00 €
        {"transaction_id": "X2", "amount_cents": -2_800, "reason_code": "MS03", "mandate_id": "M-2", "fee_cents": 300},
    )
    out = apply_returns(ret, _record(), empty(RETURNED_SCHEMA), _claims(), settings=S)
    assert out.held.is_empty()
    assert out.reversals.schema == pl.Schema(ALLOCATION_SCHEMA)
    assert out.reversals.select("transaction_id", "receivable_id", "kassenzeichen", "amount_cents", "rule").rows() == [
        ("X1", "R1", "5.1", -10_000, "dd_return"), ("X2", "R2", "5.2", -2_500, "dd_return")]
    assert out.reopened.select("receivable_id", "due_date", "amount_cents").rows() == [
        ("R1", date(2027, 2, 13), 10_000), ("R2", date(2027, 2, 15), 2_500)]
    assert out.actions.select("mandate_id", "receivable_id", "reason_code", "action").rows() == [
        ("M-1", "R1", "AC04", "block_mandate"), ("M-2", "R2", "MS03", "retry_once")]
    assert out.returned.schema == pl.Schema(RETURNED_SCHEMA)
    assert out.returned.select("end_to_end_id", "return_date", "amount_cents").rows() == [
        ("KZ51-20270215", date(2027, 2, 20), 10_000), ("KZ52-20270215", date(2027, 2, 20), 2_500)]
    assert out.fees.is_empty()                                        # not charged by default


def test_the_return_fee_becomes_an_own_claim_when_the_tenant_charges_it() -> None:
    ret = returns({"transaction_id": "X2", "amount_cents": -2_800, "reason_code": "MS03", "mandate_id": "M-2",
                   "end_to_end_id": "KZ52-20270215"},                 # fee not sent: the difference is it
                  {"transaction_id": "X1", "amount_cents": -10_000, "reason_code": "MD06",
                   "end_to_end_id": "KZ51-20270215", "fee_cents": 0})
    out = apply_returns(ret, _record(), empty(RETURNED_SCHEMA), _claims(), settings=CollectionSection(return_fee_charge=True))
    assert set(out.fees.columns) == {*CLAIM_SCHEMA, "parent_receivable_id"}
    f = out.fees.row(0, named=True)
    assert out.fees.height == 1
    assert (f["receivable_id"], f["parent_receivable_id"], f["amount_cents"], f["claim_type"], f["origin"]) == \
        ("R2-RLS-20270220", "R2", 300, "KOSTEN", "fee")
    assert (f["kassenzeichen"], f["debtor_id"], f["due_date"], f["mandate_id"], f["creditor"]) == \
        ("5.2", "D1", date(2027, 2, 20), None, "t")
    fixed = apply_returns(ret, _record(), empty(RETURNED_SCHEMA), _claims(),
                          settings=CollectionSection(return_fee_charge=True, return_fee_fixed="5,00"))
    assert fixed.fees["amount_cents"].to_list() == [500, 500]


def test_returns_that_do_not_fit_are_held() -> None:
    ret = returns(
        {"transaction_id": "X1", "amount_cents": -9_000, "reason_code": "AC04", "end_to_end_id": "KZ51-20270215"},
        {"transaction_id": "X2", "amount_cents": -2_500, "reason_code": "MS03", "end_to_end_id": "KZ52-20270215"},
        {"transaction_id": "X3", "amount_cents": -2_500, "reason_code": "MS03", "end_to_end_id": "KZ52-20270215"},
        {"transaction_id": "X4", "amount_cents": -700, "reason_code": "MS03", "end_to_end_id": "KZ53-20270215"},
        {"transaction_id": "X5", "amount_cents": -4_242, "reason_code": "MS03", "mandate_id": "M-1"},
    )
    before = returned({"end_to_end_id": "KZ53-20270215", "reason_code": "MS03", "return_date": date(2027, 2, 18)})
    out = apply_returns(ret, _record(), before, _claims(), settings=S)
    assert out.held.rows() == [("X1", "return_unmatched"), ("X3", "return_duplicate"), ("X4", "return_duplicate"),
                               ("X5", "return_unmatched")]
    assert out.reversals["transaction_id"].to_list() == ["X2"]


def test_a_mandate_and_amount_naming_two_collections_is_held() -> None:
    rec = pl.concat([_record(), collected({"end_to_end_id": "KZ54-20270215", "receivable_id": "R4", "collection_date": DAY,
                                           "amount_cents": 10_000})])
    ret = returns({"transaction_id": "X1", "amount_cents": -10_000, "reason_code": "MS03", "mandate_id": "M-1"})
    out = apply_returns(ret, rec, empty(RETURNED_SCHEMA), _claims(), settings=S)
    assert out.reversals.is_empty() and out.held.rows() == [("X1", "return_unmatched")]


def test_round_trip_select_credit_return_retry() -> None:
    """Selected claims become the record; the batch credit pays them; an MS03 return reopens one, and the
    next collection date collects it once more with a new id — but not a third time."""
    from collection.history import COLLECTED_SCHEMA
    from collection.mandates import mandate_states, mandates_from_claims
    from collection.select import select_collections

    cl = _claims()
    day = date(2027, 2, 15)
    reg = mandates_from_claims(cl, on=day)

    def run(on: date, col: pl.DataFrame, ret: pl.DataFrame) -> pl.DataFrame:
        st = mandate_states(reg, col, ret, on=on, settings=S)
        sel, _ = select_collections(cl, st, col, ret, collection_date=on, settings=S)
        return sel

    sel = run(day, empty(COLLECTED_SCHEMA), empty(RETURNED_SCHEMA))
    assert sel["receivable_id"].to_list() == ["R1", "R2", "R3"]
    record = sel.with_columns(pl.lit("MSG-A").alias("message_id"), pl.lit("PMT-A").alias("pmtinf_id")).select(list(COLLECTED_SCHEMA))
    total = int(record["amount_cents"].sum())
    alloc, held, _ = break_down_batches(credits({"transaction_id": "T1", "amount_cents": total, "batch_ref": "PMT-A"}),
                                        record, NO_PRIOR)
    assert held.is_empty() and int(alloc["amount_cents"].sum()) == total
    e2e = record.filter(pl.col("receivable_id") == "R2")["end_to_end_id"].item()
    out = apply_returns(returns({"transaction_id": "X1", "amount_cents": -12_345, "reason_code": "MS03", "end_to_end_id": e2e}),
                        record, empty(RETURNED_SCHEMA), cl, settings=S)
    assert out.reversals["amount_cents"].to_list() == [-12_345]
    again = run(date(2027, 2, 22), record, out.returned)
    assert again["receivable_id"].to_list() == ["R2"] and again["end_to_end_id"].item() != e2e
    record2 = pl.concat([record, again.with_columns(pl.lit("MSG-B").alias("message_id"), pl.lit("PMT-B").alias("pmtinf_id"))
                         .select(list(COLLECTED_SCHEMA))])
    out2 = apply_returns(returns({"transaction_id": "X2", "amount_cents": -12_345, "reason_code": "MS03",
                                  "end_to_end_id": again["end_to_end_id"].item(), "booking_date": date(2027, 2, 24)}),
                         record2, out.returned, cl, settings=S)
    assert run(date(2027, 3, 1), record2, pl.concat([out.returned, out2.returned])).is_empty()
