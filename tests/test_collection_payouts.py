"""Payout selection (collection/payouts.py): each skip reason, the ids and texts, literal tables."""

from __future__ import annotations

from datetime import date

import polars as pl

from collection.payouts import end_to_end_id, payable, transfers
from collection.setoff import credit_debtors, set_off

GOOD = "DE89370400440532013000"
EXEC = date(2026, 12, 9)


def due(*rows: tuple[str, int, str | None, str | None, str | None]) -> pl.DataFrame:
    """rows = (source_id, cents, iban, payee name, Kassenzeichen)."""
    return pl.DataFrame({"source": ["refund"] * len(rows), "source_id": [r[0] for r in rows],
                         "transaction_id": [f"t-{r[0]}" for r in rows], "bank_ref": [None] * len(rows),
                         "amount_cents": [r[1] for r in rows], "payee_iban": [r[2] for r in rows],
                         "payee_name": [r[3] for r in rows], "received_on": [date(2026, 12, 1)] * len(rows),
                         "kassenzeichen": [r[4] for r in rows]},
                        schema_overrides={"bank_ref": pl.String, "payee_iban": pl.String, "payee_name": pl.String,
                                          "kassenzeichen": pl.String})


def no_booked() -> pl.DataFrame:
    return pl.DataFrame(schema={"source_id": pl.String, "amount_cents": pl.Int64})


def test_every_skip_reason_and_the_first_that_applies_wins() -> None:
    d = due(("ok", 1000, "de89 3704 0044 0532 0130 00", "Erika Müller", "1234.5678.9012"),
            ("paid", 1000, GOOD, "Erika", None),
            ("part", 1000, GOOD, "Erika", None),
            ("iban", 1000, "DE00370400440532013000", "Erika", None),
            ("paid-bad-iban", 1000, "DE00370400440532013000", "Erika", None),   # already paid wins
            ("noname", 1000, GOOD, "  ", None),
            ("name", 1000, GOOD, "Erika Mustermann ★", None),
            ("longname", 1000, GOOD, "N" * 71, None),
            ("long", 1000, GOOD, "Erika", ", ".join(["1234.5678.9012"] * 9)))
    booked = pl.DataFrame({"source_id": ["paid", "paid", "part", "paid-bad-iban"], "amount_cents": [600, 400, 300, 1000]})
    cand, skipped = payable(d, booked)
    assert cand.select("source_id", "amount_cents", "payee_iban", "payee_name").rows() == [
        ("ok", 1000, GOOD, "Erika Müller"), ("part", 700, GOOD, "Erika")]            # compact IBAN, the rest due
    assert skipped.select("source_id", "reason").rows() == [
        ("paid", "already_paid"), ("iban", "iban_invalid"), ("paid-bad-iban", "already_paid"),
        ("noname", "no_payee_name"), ("name", "payee_name_invalid"), ("longname", "payee_name_invalid"),
        ("long", "remittance_too_long")]
    details = dict(skipped.select("source_id", "detail").iter_rows())
    assert details["iban"] == "DE00370400440532013000" and "★" in details["name"] and "too_long" in details["longname"]
    # every refund in exactly one of the two
    assert sorted(cand["source_id"].to_list() + skipped["source_id"].to_list()) == sorted(d["source_id"].to_list())


def test_the_epc_charset_refuses_umlauts_the_dk_set_takes() -> None:
    d = due(("a", 100, GOOD, "Jörg Groß", None))
    from collection.sepa_text import Charset

    assert payable(d, no_booked())[0].height == 1
    assert payable(d, no_booked(), charset=Charset.EPC)[1]["reason"].to_list() == ["payee_name_invalid"]


def test_end_to_end_ids_are_traceable_and_fit_35_characters() -> None:
    f = pl.DataFrame({"source_id": ["3f2a9b1c-1234-5678-9abc-def012345678", "d_1"]})
    got = f.select(end_to_end_id(EXEC).alias("e"))["e"].to_list()
    assert got == ["ERS261209-3f2a9b1c-1234-5678-9abc-d", "ERS261209-d1"]
    assert all(len(e) <= 35 for e in got)


def test_transfers_after_the_set_off_and_a_refund_set_off_in_full() -> None:
    cand, _ = payable(due(("r1", 1000, GOOD, "Erika", "1234.5678.9012"), ("r2", 500, GOOD, "Max", None),
                          ("r3", 300, GOOD, "Otto", "9999.0000.1111")), no_booked())
    credits = credit_debtors(cand, pl.DataFrame({"transaction_id": ["t-r1", "t-r3"], "receivable_id": ["X", "Y"],
                                                 "debtor_id": ["A", "C"], "amount_cents": [1, 1]}))
    claims = pl.DataFrame({"receivable_id": ["A1", "C1"], "debtor_id": ["A", "C"], "claim_type": ["GRUNDSTEUER"] * 2,
                           "amount_cents": [250, 900], "due_date": [date(2026, 1, 1)] * 2, "kassenzeichen": ["k", "c"]})
    out = set_off(credits, claims, EXEC, letter_prefix="V-", decided_by="anna")
    tr, full = transfers(out.credits, cand, EXEC)
    assert tr.select("source_id", "debtor_id", "amount_cents", "credit_cents", "setoff_cents", "remittance").rows() == [
        ("r1", "A", 750, 1000, 250, "Erstattung Kassenzeichen 1234.5678.9012 abzgl. Verrechnung"),
        ("r2", None, 500, 500, 0, "Erstattung Zahlung vom 01.12.2026")]
    assert tr["end_to_end_id"].to_list() == ["ERS261209-r1", "ERS261209-r2"]
    assert full.select("source_id", "amount_cents", "reason").rows() == [("r3", 300, "set_off_in_full")]
