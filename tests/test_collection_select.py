"""Which claims a collection date collects: one literal test per rule, the end-to-end id, the remittance."""

from __future__ import annotations

import re
from datetime import date

import polars as pl

from claims.config import CollectionSection
from collection.history import COLLECTED_SCHEMA, RETURNED_SCHEMA, empty
from collection.mandates import mandate_states, mandates_from_claims
from collection.select import MAX_E2E, SELECTED_SCHEMA, SKIPPED_SCHEMA, select_collections
from tests.collection_frames import IBAN_A, claim, claims, collected, returned

DAY = date(2027, 2, 15)          # a Monday, TARGET2 day
S = CollectionSection()


def _run(cl: pl.DataFrame, col: pl.DataFrame | None = None, ret: pl.DataFrame | None = None, *,
         day: date = DAY, settings: CollectionSection = S) -> tuple[pl.DataFrame, dict[str, str]]:
    col = empty(COLLECTED_SCHEMA) if col is None else col
    ret = empty(RETURNED_SCHEMA) if ret is None else ret
    reg = mandate_states(mandates_from_claims(cl, on=day), col, ret, on=day, settings=settings)
    sel, skipped = select_collections(cl, reg, col, ret, collection_date=day, settings=settings)
    assert sel.schema == pl.Schema(SELECTED_SCHEMA) and skipped.schema == pl.Schema(SKIPPED_SCHEMA)
    assert sel.height + skipped.height == cl.height                      # every claim accounted for
    return sel, dict(skipped.select("receivable_id", "reason").rows())


def test_a_due_claim_with_an_active_mandate_is_collected_with_its_open_amount() -> None:
    sel, skipped = _run(claims(claim("R1", kz="5.1234.5678", amount_cents=4_711)))
    assert skipped == {}
    r = sel.row(0, named=True)
    assert (r["amount_cents"], r["sequence_type"], r["debtor_iban"], r["mandate_id"]) == (4_711, "RCUR", IBAN_A, "M-1")
    assert r["end_to_end_id"] == "KZ512345678-20270215"
    assert r["remittance"] == "Kassenzeichen 5.1234.5678 GRUNDSTEUER Faelligkeit 15.02.2027"
    assert r["collection_date"] == DAY and r["due_date"] == date(2027, 2, 15)


def test_each_rule_skips_with_its_reason() -> None:
    cl = claims(
        claim("R01", mandate_id=None),
        claim("R02", origin="amtshilfe"),
        claim("R03", mandate_id="TWO"), claim("R03b", mandate_id="TWO", debtor_id="D2"),
        claim("R04", mandate_id="OLD", mandate_date=date(2023, 1, 1)),
        claim("R05", block_reason="STUNDUNG"),
        claim("R06", amount_cents=0),
        claim("R07", due_date=date(2027, 2, 16)),
        claim("R08", due_date=date(2027, 2, 5)),                   # Friday, 10 days before: outside the window
        claim("R09", notice_date=date(2027, 2, 2)),                # 13 days before: too late a pre-notification
        claim("R10", dunning_block_until=date(2027, 3, 1)),       # a Mahnsperre does not stop a collection
        claim("R11", due_date=date(2027, 2, 8), notice_date=date(2027, 2, 1)),   # 7 days before, notice 14
    )
    sel, skipped = _run(cl)
    assert skipped == {"R01": "no_mandate", "R02": "foreign_creditor", "R03": "mandate_refused",
                       "R03b": "mandate_refused", "R04": "mandate_expired", "R05": "claim_blocked",
                       "R06": "nothing_open", "R07": "not_due", "R08": "overdue", "R09": "prenotice_late"}
    assert sel["receivable_id"].to_list() == ["R10", "R11"]


def test_the_mandate_reason_is_carried_to_the_skipped_row() -> None:
    cl = claims(claim("R1", mandate_id="TWO"), claim("R2", mandate_id="TWO", debtor_id="D2"), claim("R3"))
    _, skipped = _run(cl)
    assert skipped == {"R1": "mandate_refused", "R2": "mandate_refused"}
    reg = mandates_from_claims(cl, on=DAY)
    states = mandate_states(reg, empty(COLLECTED_SCHEMA), empty(RETURNED_SCHEMA), on=DAY, settings=S)
    _, sk = select_collections(cl, states, empty(COLLECTED_SCHEMA), empty(RETURNED_SCHEMA), collection_date=DAY, settings=S)
    assert set(sk["mandate_reason"]) == {"two_debtors"}


def test_a_due_date_on_a_closed_day_is_collected_on_the_next_target_day() -> None:
    cl = claims(claim("R1", due_date=date(2027, 3, 26)))          # Good Friday
    assert _run(cl, day=date(2027, 3, 25))[1] == {"R1": "not_due"}
    sel, _ = _run(cl, day=date(2027, 3, 30))
    assert sel["receivable_id"].to_list() == ["R1"]
    wider = CollectionSection(due_window_days=30)
    assert _run(claims(claim("R1", due_date=date(2027, 1, 20))), settings=wider)[1] == {}


def test_a_claim_is_never_collected_twice() -> None:
    cl = claims(claim("R1"), claim("R2"), claim("R3"), claim("R4"))
    prev = date(2027, 2, 10)
    col = collected(*({"end_to_end_id": f"E{i}", "receivable_id": f"R{i}", "collection_date": prev, "amount_cents": 5}
                      for i in (1, 2, 3, 4)),
                    {"end_to_end_id": "E4b", "receivable_id": "R4", "collection_date": date(2027, 2, 12), "amount_cents": 5})
    ret = returned({"end_to_end_id": "E2", "reason_code": "MS03", "return_date": date(2027, 2, 11)},   # retry once
                   {"end_to_end_id": "E3", "reason_code": "MD06", "return_date": date(2027, 2, 11)},   # none
                   {"end_to_end_id": "E4", "reason_code": "AM04", "return_date": date(2027, 2, 11)},
                   {"end_to_end_id": "E4b", "reason_code": "AM04", "return_date": date(2027, 2, 13)})  # retried already
    sel, skipped = _run(cl, col, ret)
    assert skipped == {"R1": "already_collected", "R3": "returned", "R4": "returned"}
    assert sel["receivable_id"].to_list() == ["R2"]
    assert sel["end_to_end_id"].to_list() == ["KZ5002-20270215"]     # a new id for the retry


def test_end_to_end_ids_are_unique_per_collection_and_traceable() -> None:
    cl = claims(claim("R2", kz="5.1234.5678"), claim("R1", kz="5.1234.5678", claim_type="ABFALL"),
                claim("R3", kz="7" * 21), claim("R4", kz="6" * 20))
    sel, skipped = _run(cl)
    assert skipped == {"R3": "reference_too_long"}
    ids = dict(sel.select("receivable_id", "end_to_end_id").rows())
    assert ids == {"R1": "KZ512345678-20270215-1", "R2": "KZ512345678-20270215-2", "R4": f"KZ{'6' * 20}-20270215"}
    assert all(re.fullmatch(r"[A-Za-z0-9-]{1,35}", i) and len(i) <= MAX_E2E for i in ids.values())
    # a rerun of the same date gives the same ids
    again, _ = _run(cl)
    assert dict(again.select("receivable_id", "end_to_end_id").rows()) == ids


def test_the_mandate_change_travels_with_the_collection() -> None:
    cl = claims(claim("R1"))
    reg = mandates_from_claims(cl, on=DAY).with_columns(pl.lit("DE89370400440532013000").alias("original_iban"),
                                                         pl.lit(date(2027, 2, 1)).alias("amended_on"))
    states = mandate_states(reg, empty(COLLECTED_SCHEMA), empty(RETURNED_SCHEMA), on=DAY, settings=S)
    sel, _ = select_collections(cl, states, empty(COLLECTED_SCHEMA), empty(RETURNED_SCHEMA), collection_date=DAY, settings=S)
    assert sel.select("amendment_pending", "original_iban").row(0) == (True, "DE89370400440532013000")
