"""Forwarding money collected for other creditors (collection/forward.py): literal tables for what is due,
what is held and why, and the Weiterleitungsnachweis."""

from __future__ import annotations

from datetime import date

import polars as pl

from claims.vocab import PayoutSkip
from collection.forward import (
    CREDITOR_SCHEMA,
    FORWARDED_SCHEMA,
    ITEM_SCHEMA,
    creditor_of,
    forward_due,
    proof_files,
    source_id,
)

EXEC = date(2026, 12, 10)
BS_IBAN = "DE89370400440532013000"
REGISTER = pl.DataFrame([
    {"creditor": "BS", "name": "ARD ZDF Deutschlandradio Beitragsservice", "iban": BS_IBAN, "bic": "COBADEFFXXX",
     "reference": "VH-4711", "remittance": None},
    {"creditor": "IHK", "name": "IHK Musterstadt", "iban": "DE00 1234", "bic": None, "reference": None,
     "remittance": None},
], schema=CREDITOR_SCHEMA)


def items(*rows: tuple[str, str, str, int, date]) -> pl.DataFrame:
    """(creditor, transaction, receivable, cents, paid on) → allocations; the Kassenzeichen is ``KZ-<receivable>``."""
    return pl.DataFrame([{"creditor": c, "transaction_id": t, "receivable_id": r, "kassenzeichen": f"KZ-{r}",
                          "external_ref": f"BN-{r}", "debtor_name": "Anna Alt", "paid_on": d, "amount_cents": a}
                         for c, t, r, a, d in rows], schema=ITEM_SCHEMA)


def given(*rows: tuple[str, int]) -> pl.DataFrame:
    return pl.DataFrame([{"creditor": c, "amount_cents": a} for c, a in rows], schema=FORWARDED_SCHEMA)


D1, D2 = date(2026, 12, 1), date(2026, 12, 3)


def test_money_allocated_to_a_creditors_claims_is_forwarded_in_one_transfer_with_its_items() -> None:
    tr, skipped, proof = forward_due(items(("BS", "T1", "R1", 5500, D1), ("BS", "T2", "R2", 1000, D2)), given(),
                                     REGISTER, EXEC)
    assert skipped.is_empty()
    assert tr.select("source", "source_id", "end_to_end_id", "payee_name", "payee_iban", "payee_bic", "amount_cents",
                     "setoff_cents", "remittance", "debtor_id").rows() == [
        ("forward", "BS@20261210", "WTL261210-BS", "ARD ZDF Deutschlandradio Beitragsservice", BS_IBAN, "COBADEFFXXX",
         6500, 0, "VH-4711 Weiterleitung Kz KZ-R1, KZ-R2", None)]
    assert proof.select("source_id", "kassenzeichen", "external_ref", "paid_on", "amount_cents").rows() == [
        ("BS@20261210", "KZ-R1", "BN-R1", D1, 5500), ("BS@20261210", "KZ-R2", "BN-R2", D2, 1000)]


def test_what_was_forwarded_is_not_forwarded_again() -> None:
    alloc = items(("BS", "T1", "R1", 5500, D1))
    tr, skipped, proof = forward_due(alloc, given(("BS", 5500)), REGISTER, EXEC)
    assert tr.is_empty() and skipped.is_empty() and proof.is_empty()


def test_a_payment_after_a_forward_forwards_only_the_new_part_and_its_item() -> None:
    alloc = items(("BS", "T1", "R1", 3000, D1), ("BS", "T2", "R1", 2000, D2))
    tr, _, proof = forward_due(alloc, given(("BS", 3000)), REGISTER, EXEC)
    assert tr["amount_cents"].to_list() == [2000]
    assert proof.select("transaction_id", "amount_cents").rows() == [("T2", 2000)]


def test_a_partly_forwarded_item_lists_only_its_rest() -> None:
    alloc = items(("BS", "T1", "R1", 3000, D1), ("BS", "T2", "R2", 2000, D2))
    tr, _, proof = forward_due(alloc, given(("BS", 1000)), REGISTER, EXEC)
    assert tr["amount_cents"].to_list() == [4000]
    assert proof.select("transaction_id", "amount_cents").rows() == [("T1", 2000), ("T2", 2000)]


def test_a_reversal_before_forwarding_reduces_the_forward() -> None:
    alloc = items(("BS", "T1", "R1", 3000, D1), ("BS", "T2", "R2", 2000, D1), ("BS", "T2", "R2", -2000, D2))
    tr, skipped, proof = forward_due(alloc, given(), REGISTER, EXEC)
    assert tr["amount_cents"].to_list() == [3000] and skipped.is_empty()
    assert proof["transaction_id"].to_list() == ["T1"]


def test_a_reversal_after_forwarding_is_held_never_a_negative_transfer() -> None:
    alloc = items(("BS", "T1", "R1", 3000, D1), ("BS", "T1", "R1", -3000, D2), ("BS", "T3", "R2", 1000, D2))
    tr, skipped, proof = forward_due(alloc, given(("BS", 3000)), REGISTER, EXEC)
    assert tr.is_empty() and proof.is_empty()
    assert skipped.select("source", "source_id", "amount_cents", "reason").rows() == [
        ("forward", "BS@20261210", -2000, PayoutSkip.REVERSED_AFTER_FORWARD.value)]
    assert "2000" in skipped["detail"][0]


def test_an_unknown_creditor_and_an_invalid_iban_are_skipped_and_the_others_paid() -> None:
    alloc = items(("BS", "T1", "R1", 100, D1), ("HWK", "T2", "R2", 200, D1), ("IHK", "T3", "R3", 300, D1))
    tr, skipped, proof = forward_due(alloc, given(), REGISTER, EXEC)
    assert tr["source_id"].to_list() == ["BS@20261210"]
    assert skipped.select("source_id", "amount_cents", "reason").rows() == [
        ("HWK@20261210", 200, PayoutSkip.CREDITOR_UNKNOWN.value), ("IHK@20261210", 300, PayoutSkip.IBAN_INVALID.value)]
    assert proof["creditor"].unique().to_list() == ["BS"]


def test_a_remittance_too_long_for_140_characters_points_to_the_proof() -> None:
    alloc = items(*[("BS", f"T{i}", f"R{i:03d}", 100, D1) for i in range(30)])
    tr, _, proof = forward_due(alloc, given(), REGISTER, EXEC)
    assert tr["remittance"].to_list() == ["VH-4711 Weiterleitung 10.12.2026: 30 Posten lt. Weiterleitungsnachweis"]
    assert proof["amount_cents"].sum() == tr["amount_cents"].sum() == 3000


def test_the_source_id_names_the_creditor_and_the_proof_is_german_csv() -> None:
    assert source_id("BS", EXEC) == "BS@20261210"
    ids = pl.Series(["BS@20261210", "Stadt@Nord@20261211"])
    assert ids.to_frame("s").select(creditor_of(pl.col("s")))["s"].to_list() == ["BS", "Stadt@Nord"]
    _, _, proof = forward_due(items(("BS", "T1", "R1", 5505, D1)), given(), REGISTER, EXEC)
    [(name, rows)] = proof_files(proof, EXEC)
    assert name == "weiterleitung_20261210_BS.csv"
    assert rows.row(0) == ("KZ-R1", "BN-R1", "Anna Alt", "01.12.2026", "55,05", "R1", "T1")
