"""The mandate register: folded from the claims, refused with a reason, amended not overwritten, state and
sequence type from the collection record."""

from __future__ import annotations

from datetime import date

import polars as pl

from claims.config import CollectionSection
from collection.history import COLLECTED_SCHEMA, RETURNED_SCHEMA, empty
from collection.mandates import REGISTER_SCHEMA, amend_register, mandate_states, mandates_from_claims
from tests.collection_frames import IBAN_A, IBAN_B, claim, claims, collected, returned

ON = date(2027, 2, 10)
S = CollectionSection()


def _states(reg: pl.DataFrame, col: pl.DataFrame | None = None, ret: pl.DataFrame | None = None, *,
            on: date = ON, settings: CollectionSection = S) -> dict[str, dict[str, object]]:
    out = mandate_states(reg, empty(COLLECTED_SCHEMA) if col is None else col,
                         empty(RETURNED_SCHEMA) if ret is None else ret, on=on, settings=settings)
    return {r["mandate_id"]: r for r in out.iter_rows(named=True)}


def test_one_row_per_mandate_from_its_claims() -> None:
    reg = mandates_from_claims(claims(claim("R1"), claim("R2", debtor_iban=f" {IBAN_A[:4]} {IBAN_A[4:]} "),
                                      claim("R3", mandate_id=None), claim("R4", mandate_id="  ")), on=ON)
    assert reg.schema == pl.Schema(REGISTER_SCHEMA)
    assert reg.select("mandate_id", "debtor_id", "debtor_iban", "problem").rows() == [("M-1", "D1", IBAN_A, None)]


def test_what_cannot_be_a_mandate_is_refused_with_a_reason() -> None:
    reg = mandates_from_claims(claims(
        claim("R1", mandate_id="TWO"), claim("R2", mandate_id="TWO", debtor_id="D2"),
        claim("R3", mandate_id="NOIBAN", debtor_iban=None),
        claim("R4", mandate_id="IBANS"), claim("R5", mandate_id="IBANS", debtor_iban=IBAN_B),
        claim("R6", mandate_id="LIST", debtor_iban=f"{IBAN_A},{IBAN_B}"),
        claim("R7", mandate_id="NODATE", mandate_date=None),
        claim("R8", mandate_id="FUTURE", mandate_date=date(2027, 3, 1)),
        claim("R9", mandate_id="OK"),
    ), on=ON)
    got = dict(reg.select("mandate_id", "problem").rows())
    assert got == {"TWO": "two_debtors", "NOIBAN": "no_iban", "IBANS": "iban_unclear", "LIST": "iban_unclear",
                   "NODATE": "no_mandate_date", "FUTURE": "mandate_date_future", "OK": None}
    st = _states(reg)
    assert st["TWO"]["state"] == "refused" and st["TWO"]["state_reason"] == "two_debtors"
    assert st["TWO"]["next_sequence"] is None
    assert st["OK"]["state"] == "active"


def test_an_iban_change_is_recorded_and_reported_until_collected() -> None:
    day1 = mandates_from_claims(claims(claim("R1"), claim("R2", mandate_id="M-2")), on=date(2027, 1, 5))
    reg1, am1 = amend_register(day1.clear(), day1, on=date(2027, 1, 5))
    assert am1.is_empty() and reg1.height == 2
    # the next export carries a new IBAN for M-1, and no longer names M-2
    day2 = mandates_from_claims(claims(claim("R1", debtor_iban=IBAN_B)), on=date(2027, 2, 1))
    reg2, am2 = amend_register(reg1, day2, on=date(2027, 2, 1))
    assert am2.select("mandate_id", "field", "old_value", "new_value", "seen_on").rows() == [
        ("M-1", "debtor_iban", IBAN_A, IBAN_B, date(2027, 2, 1))]
    m1 = reg2.filter(pl.col("mandate_id") == "M-1").row(0, named=True)
    assert (m1["debtor_iban"], m1["original_iban"], m1["amended_on"]) == (IBAN_B, IBAN_A, date(2027, 2, 1))
    assert reg2["mandate_id"].to_list() == ["M-1", "M-2"]          # M-2 kept
    # a second change before any collection keeps the IBAN the last collection used
    day3 = mandates_from_claims(claims(claim("R1", debtor_iban="DE89370400440532013000")), on=date(2027, 2, 3))
    reg3, _ = amend_register(reg2, day3, on=date(2027, 2, 3))
    assert reg3.filter(pl.col("mandate_id") == "M-1")["original_iban"].item() == IBAN_A
    st = _states(reg3)
    assert st["M-1"]["amendment_pending"] is True and st["M-1"]["original_iban"] == IBAN_A
    col = collected({"end_to_end_id": "E1", "receivable_id": "R1", "collection_date": date(2027, 2, 8), "amount_cents": 5})
    st = _states(reg3, col)
    assert st["M-1"]["amendment_pending"] is False and st["M-1"]["original_iban"] is None


def test_a_mandate_turning_up_with_another_debtor_is_refused() -> None:
    day1 = mandates_from_claims(claims(claim("R1")), on=ON)
    day2 = mandates_from_claims(claims(claim("R1", debtor_id="D9")), on=ON)
    reg, am = amend_register(day1, day2, on=ON)
    assert reg["problem"].to_list() == ["two_debtors"]
    assert am.select("field", "old_value", "new_value").rows() == [("debtor_id", "D1", "D9")]


def test_expiry_36_months_from_the_last_collection_or_the_signature() -> None:
    reg = mandates_from_claims(claims(claim("R1", mandate_date=date(2024, 2, 10)),
                                      claim("R2", mandate_id="M-2", mandate_date=date(2020, 1, 1))), on=ON)
    # never used: signed 10 Feb 2024, expired from 10 Feb 2027 on
    assert _states(reg, on=date(2027, 2, 9))["M-1"]["state"] == "active"
    st = _states(reg, on=date(2027, 2, 10))
    assert (st["M-1"]["state"], st["M-1"]["state_reason"], st["M-1"]["expires_on"]) == \
        ("expired", "unused", date(2027, 2, 10))
    # used in March 2024 (a collection counts even when it came back)
    col = collected({"end_to_end_id": "E2", "receivable_id": "R2", "mandate_id": "M-2",
                     "collection_date": date(2024, 3, 1), "amount_cents": 5})
    ret = returned({"end_to_end_id": "E2", "reason_code": "MD06", "return_date": date(2024, 3, 5)})
    st = _states(reg, col, ret, on=date(2027, 2, 28))
    assert (st["M-2"]["state"], st["M-2"]["expires_on"]) == ("active", date(2027, 3, 1))
    assert _states(reg, col, ret, on=date(2027, 3, 1))["M-2"]["state"] == "expired"
    assert _states(reg, on=ON, settings=CollectionSection(mandate_expiry_months=60))["M-1"]["state"] == "active"


def test_a_blocking_return_blocks_and_other_returns_do_not() -> None:
    reg = mandates_from_claims(claims(claim("R1"), claim("R2", mandate_id="M-2")), on=ON)
    col = collected({"end_to_end_id": "E1", "receivable_id": "R1", "collection_date": date(2027, 1, 4), "amount_cents": 5},
                    {"end_to_end_id": "E2", "receivable_id": "R2", "mandate_id": "M-2",
                     "collection_date": date(2027, 1, 4), "amount_cents": 5})
    ret = returned({"end_to_end_id": "E1", "reason_code": "ac04", "return_date": date(2027, 1, 8)},
                   {"end_to_end_id": "E2", "reason_code": "MS03", "return_date": date(2027, 1, 8)})
    st = _states(reg, col, ret)
    assert (st["M-1"]["state"], st["M-1"]["state_reason"], st["M-1"]["next_sequence"]) == ("blocked", "AC04", None)
    assert st["M-2"]["state"] == "active"
    assert _states(reg, col, ret, on=date(2027, 1, 7))["M-1"]["state"] == "active"     # not yet returned
    # the tenant's table decides: AC04 only reopens
    lax = CollectionSection(return_actions={"AC04": "none"})
    assert _states(reg, col, ret, settings=lax)["M-1"]["state"] == "active"


def test_the_sequence_type_of_the_next_collection() -> None:
    reg = mandates_from_claims(claims(claim("R1"), claim("R2", mandate_id="M-2")), on=ON)
    assert {m: s["next_sequence"] for m, s in _states(reg).items()} == {"M-1": "RCUR", "M-2": "RCUR"}
    frst = CollectionSection(first_sequence="FRST")
    col = collected({"end_to_end_id": "E1", "receivable_id": "R1", "collection_date": date(2027, 1, 4), "amount_cents": 5},
                    {"end_to_end_id": "E2", "receivable_id": "R2", "mandate_id": "M-2",
                     "collection_date": date(2027, 1, 4), "amount_cents": 5})
    ret = returned({"end_to_end_id": "E2", "reason_code": "MS03", "return_date": date(2027, 1, 8)})
    st = _states(reg, col, ret, settings=frst)
    # M-1's first collection went through: RCUR; M-2's came back: FRST again
    assert (st["M-1"]["next_sequence"], st["M-2"]["next_sequence"]) == ("RCUR", "FRST")
    assert _states(reg, settings=frst)["M-1"]["next_sequence"] == "FRST"


def test_a_one_off_mandate_is_ooff_once_then_expired() -> None:
    rows = claims(claim("R1"))
    reg = mandates_from_claims(rows.with_columns(pl.lit(False).alias("mandate_recurring")), on=ON)
    assert _states(reg)["M-1"]["next_sequence"] == "OOFF"
    col = collected({"end_to_end_id": "E1", "receivable_id": "R1", "collection_date": date(2027, 1, 4), "amount_cents": 5})
    st = _states(reg, col)
    assert (st["M-1"]["state"], st["M-1"]["state_reason"]) == ("expired", "one_off_used")
