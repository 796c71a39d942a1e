"""Set-off before paying out (collection/setoff.py): literal tables for each rule and each reason."""

from __future__ import annotations

from datetime import date, timedelta

import polars as pl

from claims.config import SETOFF_CLAIM_TYPES, SETOFF_DESPITE_BLOCKS
from collection.setoff import (
    LETTER_SCHEMA,
    LINE_SCHEMA,
    SETOFF_SCHEMA,
    credit_debtors,
    eligible_claims,
    set_off,
)

ON = date(2026, 12, 8)
TYPES = SETOFF_CLAIM_TYPES


def credits(*rows: tuple[str, str, int]) -> pl.DataFrame:
    """rows = (source_id, transaction_id, cents); all refunds, money in on 1 Dec, IBAN of the payee."""
    return pl.DataFrame({"source": ["refund"] * len(rows), "source_id": [r[0] for r in rows],
                         "transaction_id": [r[1] for r in rows], "bank_ref": [f"B-{r[1]}" for r in rows],
                         "amount_cents": [r[2] for r in rows], "payee_iban": ["DE89370400440532013000"] * len(rows),
                         "received_on": [date(2026, 12, 1)] * len(rows)})


def links(*rows: tuple[str, str, str | None, int]) -> pl.DataFrame:
    """rows = (transaction_id, receivable_id, debtor_id, cents): what the payment paid before."""
    return pl.DataFrame(rows, schema={"transaction_id": pl.String, "receivable_id": pl.String,
                                      "debtor_id": pl.String, "amount_cents": pl.Int64}, orient="row")


def claims(*rows: tuple, **extra: list) -> pl.DataFrame:
    """rows = (receivable_id, debtor_id, claim_type, open cents, due date)."""
    base = {"receivable_id": [r[0] for r in rows], "kassenzeichen": [f"KZ-{r[0]}" for r in rows],
            "debtor_id": [r[1] for r in rows], "claim_type": [r[2] for r in rows],
            "amount_cents": [r[3] for r in rows], "due_date": [r[4] for r in rows],
            "debtor_name": [f"Name {r[1]}" for r in rows], "import_id": ["imp"] * len(rows)}
    return pl.DataFrame({**base, **extra})


def run(cr: pl.DataFrame, lk: pl.DataFrame, cl: pl.DataFrame, **kw: object):  # type: ignore[no-untyped-def]
    ok = eligible_claims(cl, ON, claim_types=TYPES, despite_blocks=SETOFF_DESPITE_BLOCKS,
                         blocks=kw.pop("blocks", None))  # type: ignore[arg-type]
    return set_off(credit_debtors(cr, lk), ok, ON, letter_prefix="VM-x-", decided_by="anna", **kw)  # type: ignore[arg-type]


def test_the_debtor_is_certain_only_when_the_payment_paid_claims_of_exactly_one_debtor() -> None:
    cr = credits(("r1", "t1", 100), ("r2", "t2", 100), ("r3", "t3", 100), ("r4", "t4", 100), ("r5", "t5", 100))
    lk = links(("t1", "A1", "A", 500), ("t1", "A2", "A", 300),          # two claims of one debtor: A
               ("t2", "A1", "A", 200), ("t2", "B1", "B", 100),          # two debtors
               ("t4", "A1", "A", 100), ("t4", "A1", "A", -100),         # reversed: paid nothing now
               ("t5", "C1", None, 100))                                 # a claim without a debtor id
    got = credit_debtors(cr, lk).select("source_id", "debtor_id", "setoff_skip").rows()
    assert got == [("r1", "A", None), ("r2", None, "several_debtors"), ("r3", None, "unknown_payer"),
                   ("r4", None, "unknown_payer"), ("r5", None, "several_debtors")]


def test_oldest_due_first_never_more_than_open_and_the_rest_is_paid_out() -> None:
    cl = claims(("A-new", "A", "GRUNDSTEUER", 3000, date(2026, 11, 15)),
                ("A-old", "A", "ABFALL", 1000, date(2026, 5, 15)),
                ("B-1", "B", "GRUNDSTEUER", 9999, date(2026, 5, 15)))          # another debtor's: never touched
    out = run(credits(("r1", "t1", 2500)), links(("t1", "X", "A", 1)), cl)
    assert out.setoffs.select("receivable_id", "amount_cents").rows() == [("A-old", 1000), ("A-new", 1500)]
    assert out.credits.select("setoff_cents", "payout_cents").rows() == [(2500, 0)]
    assert out.payouts.is_empty()
    assert out.lines.select("receivable_id", "open_before_cents", "setoff_cents", "open_after_cents").rows() == [
        ("A-old", 1000, 1000, 0), ("A-new", 3000, 1500, 1500)]
    # more money than open: the claims are settled, the rest is paid out
    out = run(credits(("r1", "t1", 5000)), links(("t1", "X", "A", 1)), cl)
    assert out.setoffs["amount_cents"].to_list() == [1000, 3000]
    assert out.payouts.select("source_id", "payout_cents").rows() == [("r1", 1000)]
    assert out.letters.select("debtor_id", "credit_cents", "setoff_cents", "payout_cents", "payee_iban").rows() == [
        ("A", 5000, 4000, 1000, "DE89370400440532013000")]


def test_several_credits_of_one_debtor_share_the_claims_in_the_order_the_money_came() -> None:
    cr = credits(("r1", "t1", 700), ("r2", "t2", 700)).with_columns(
        pl.Series("received_on", [date(2026, 12, 2), date(2026, 11, 30)]))
    cl = claims(("A1", "A", "GRUNDSTEUER", 1000, date(2026, 6, 1)))
    out = run(cr, links(("t1", "X", "A", 1), ("t2", "Y", "A", 1)), cl)
    assert out.setoffs.select("source_id", "receivable_id", "amount_cents").rows() == [("r2", "A1", 700),
                                                                                        ("r1", "A1", 300)]
    assert out.credits.select("source_id", "setoff_cents", "payout_cents").rows() == [("r1", 300, 400),
                                                                                       ("r2", 700, 0)]
    assert out.lines.select("open_before_cents", "setoff_cents", "open_after_cents").rows() == [(1000, 1000, 0)]
    assert out.letters["source_transaction_date"].to_list() == [date(2026, 11, 30)]
    assert out.letters.height == 1 and out.letters["letter_id"].to_list() == ["VM-x-0001"]


def test_only_due_allowed_own_unblocked_claims_are_set_off() -> None:
    cl = claims(("not-due", "A", "GRUNDSTEUER", 100, date(2026, 12, 9)),
                ("due-today", "A", "GRUNDSTEUER", 100, ON),
                ("fine", "A", "BUSSGELD", 100, date(2026, 1, 1)),                 # type not allowed by default
                ("amtshilfe", "A", "GRUNDSTEUER", 100, date(2026, 1, 1)),
                ("stundung", "A", "GRUNDSTEUER", 100, date(2026, 1, 1)),
                ("adv", "A", "GRUNDSTEUER", 100, date(2026, 1, 1)),
                ("mahnsperre-over", "A", "GRUNDSTEUER", 100, date(2026, 1, 1)),    # its end date has passed
                ("mahnsperre", "A", "GRUNDSTEUER", 100, date(2026, 1, 1)),         # an end date alone blocks
                ("niederschlagung", "A", "GRUNDSTEUER", 100, date(2026, 1, 1)),    # does not prevent set-off
                ("unknown-reason", "A", "GRUNDSTEUER", 100, date(2026, 1, 1)),
                ("journal-claim", "A", "GRUNDSTEUER", 100, date(2026, 1, 1)),
                ("paid", "A", "GRUNDSTEUER", 0, date(2026, 1, 1)),
                origin=["export", "export", "export", "amtshilfe", "export", "export", "export", "export", "export",
                        "fee", "export", "export"],
                block_reason=[None, None, None, None, "Stundung", "ADV", None, None, "NIEDERSCHLAGUNG", "STREIT",
                              None, None],
                dunning_block_until=[None, None, None, None, None, None, date(2026, 12, 1), date(2027, 1, 1), None,
                                     None, None, None])
    blocks = pl.DataFrame({"receivable_id": ["journal-claim"], "debtor_id": [None], "block_reason": ["INSOLVENZ"],
                           "block_from": [date(2026, 1, 1)], "block_until": [None]},
                          schema={"receivable_id": pl.String, "debtor_id": pl.String, "block_reason": pl.String,
                                  "block_from": pl.Date, "block_until": pl.Date})
    ok = eligible_claims(cl, ON, claim_types=TYPES, despite_blocks=SETOFF_DESPITE_BLOCKS, blocks=blocks)
    assert sorted(ok["receivable_id"]) == ["due-today", "mahnsperre-over", "niederschlagung"]
    # a block by debtor (insolvency) keeps all their claims out
    by_debtor = blocks.with_columns(pl.lit(None, pl.String).alias("receivable_id"), pl.lit("A").alias("debtor_id"))
    assert eligible_claims(cl, ON, claim_types=TYPES, despite_blocks=SETOFF_DESPITE_BLOCKS,
                           blocks=by_debtor).is_empty()
    # a block not yet begun holds nothing
    later = blocks.with_columns(pl.lit(date(2027, 1, 1)).alias("block_from"))
    assert "journal-claim" in eligible_claims(cl, ON, claim_types=TYPES, blocks=later)["receivable_id"].to_list()
    assert eligible_claims(cl, ON, claim_types=[]).is_empty()           # no type allowed: nothing set off


def test_an_uncertain_debtor_is_paid_out_in_full_and_gets_no_letter() -> None:
    cl = claims(("A1", "A", "GRUNDSTEUER", 1000, date(2026, 6, 1)), ("B1", "B", "GRUNDSTEUER", 1000, date(2026, 6, 1)))
    out = run(credits(("r1", "t1", 500), ("r2", "t2", 400)),
              links(("t1", "A1", "A", 100), ("t1", "B1", "B", 100)), cl)
    assert out.credits.select("source_id", "setoff_skip", "setoff_cents", "payout_cents").rows() == [
        ("r1", "several_debtors", 0, 500), ("r2", "unknown_payer", 0, 400)]
    assert out.setoffs.is_empty() and out.allocations.is_empty() and out.letters.is_empty() and out.lines.is_empty()


def test_the_allocations_the_ledger_books_and_the_frames_schemas() -> None:
    cl = claims(("A1", "A", "GRUNDSTEUER", 300, date(2026, 6, 1)), ("A2", "A", "MAHNGEBUEHR", 600, date(2026, 7, 1)))
    out = run(credits(("r1", "t1", 1000)), links(("t1", "X", "A", 1)), cl)
    assert out.allocations.select("transaction_id", "bank_ref", "receivable_id", "kassenzeichen", "amount_cents",
                                  "rule", "decided_by", "booking_date", "import_id").rows() == [
        ("t1", "B-t1", "A1", "KZ-A1", 300, "set_off", "anna", ON, "imp"),
        ("t1", "B-t1", "A2", "KZ-A2", 600, "set_off", "anna", ON, "imp")]
    assert out.setoffs.schema == pl.Schema(SETOFF_SCHEMA) and set(out.setoffs["letter_id"]) == {"VM-x-0001"}
    assert out.letters.schema == pl.Schema(LETTER_SCHEMA) and out.lines.schema == pl.Schema(LINE_SCHEMA)
    assert out.letters.select("debtor_name", "letter_date", "credit_cents", "setoff_cents", "payout_cents").rows() == [
        ("Name A", ON, 1000, 900, 100)]
    # switched off: nothing set off, everything paid
    off = run(credits(("r1", "t1", 1000)), links(("t1", "X", "A", 1)), cl, enabled=False)
    assert off.setoffs.is_empty() and off.payouts["payout_cents"].to_list() == [1000]


def test_letters_are_numbered_by_debtor_and_each_lists_only_its_own_claims() -> None:
    cl = claims(("B1", "B", "GRUNDSTEUER", 100, date(2026, 6, 1)), ("A1", "A", "GRUNDSTEUER", 200, date(2026, 6, 1)))
    out = run(credits(("rb", "tb", 1000), ("ra", "ta", 1000)), links(("tb", "X", "B", 1), ("ta", "Y", "A", 1)), cl)
    assert out.letters.select("letter_id", "debtor_id", "setoff_cents").rows() == [("VM-x-0001", "A", 200),
                                                                                  ("VM-x-0002", "B", 100)]
    assert out.lines.select("letter_id", "receivable_id").rows() == [("VM-x-0001", "A1"), ("VM-x-0002", "B1")]


def test_invariants_on_random_tables() -> None:
    """Whatever the tables: a credit gives exactly what it sets off plus what it pays; a claim never gets
    more than open; only the debtor's own claims; oldest due first (a later claim gets money only when
    every earlier claim of the debtor is settled)."""
    from hypothesis import given, settings
    from hypothesis import strategies as st

    money = st.integers(min_value=1, max_value=5000)

    @settings(max_examples=60, deadline=None)
    @given(st.lists(st.tuples(st.sampled_from("ABC"), money), min_size=1, max_size=6),
           st.lists(st.tuples(st.sampled_from("ABCD"), money, st.integers(0, 400)), max_size=10))
    def check(cr_rows: list[tuple[str, int]], cl_rows: list[tuple[str, int, int]]) -> None:
        cr = credits(*[(f"r{i}", f"t{i}", c) for i, (_, c) in enumerate(cr_rows)])
        lk = links(*[(f"t{i}", f"x{i}", d, 1) for i, (d, _) in enumerate(cr_rows)])
        cl = claims(*[(f"c{i:02d}", d, "GRUNDSTEUER", c, date(2026, 1, 1) + timedelta(days=days))
                      for i, (d, c, days) in enumerate(cl_rows)]) if cl_rows else claims(
            ("none", "Z", "GRUNDSTEUER", 1, ON))
        out = run(cr, lk, cl)
        got = out.credits
        assert (got["setoff_cents"] + got["payout_cents"] == got["amount_cents"]).all()
        assert (got["setoff_cents"] >= 0).all()
        so = out.setoffs.join(cl.select("receivable_id", pl.col("debtor_id").alias("owner"), pl.col("amount_cents")
                                        .alias("open"), "due_date"), on="receivable_id")
        assert (so["debtor_id"] == so["owner"]).all()
        per = so.group_by("receivable_id").agg(pl.col("amount_cents").sum(), pl.col("open").first())
        assert (per["amount_cents"] <= per["open"]).all()
        settled = cl.join(per, on="receivable_id", how="left").with_columns(
            (pl.col("amount_cents_right").fill_null(0) == pl.col("amount_cents")).alias("full"),
            (pl.col("amount_cents_right").fill_null(0) > 0).alias("some"))
        for debtor in settled["debtor_id"].unique().to_list():
            rows = settled.filter(pl.col("debtor_id") == debtor).sort("due_date", "receivable_id")
            some, full = rows["some"].to_list(), rows["full"].to_list()
            for i in range(len(rows)):
                if some[i]:
                    assert all(full[:i]), rows
    check()
