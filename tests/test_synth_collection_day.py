"""synth.collection_day: the bank's statement of a collection date, made from a real pain.008 file, read
back by our own parsers — one full batch credit per PmtInf naming it, the returns as debits with their
reason, the collected amount plus the bank's charge — and settled by the nightly run's batch break-down
and return matching (collection.returns)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import polars as pl
import pytest
from test_collection_pain import CREATED, CREDITOR, collections

from claims.claim import CLAIM_SCHEMA
from claims.config import CollectionSection
from collection.history import COLLECTED_SCHEMA, RETURNED_SCHEMA
from collection.pain008 import pain008_bytes
from collection.pain_read import read_pain
from collection.returns import CREDIT_SCHEMA, RETURN_SCHEMA, apply_returns, break_down_batches
from parsers import parse_file
from synth.accounts import TREASURY_ACCOUNTS
from synth.bookings import StatementHeader
from synth.cases import RETURN_CODES
from synth.collection_day import RETURN_FEE_CENTS, collection_day_files, pick_returns, quiet_day_file

DAY = dt.date(2026, 12, 10)
OPENING = 1_000_000


def pain() -> bytes:
    """Four collections in two PmtInf (FRST and RCUR) of one file."""
    xml, _ = pain008_bytes(collections(), CREDITOR, collection_date=DAY, message_id="MUSTER2612100001",
                           created_at=CREATED)
    return xml


def header(bank: str, day: dt.date = DAY) -> StatementHeader:
    acct = TREASURY_ACCOUNTS[bank]
    return StatementHeader(acct, 233, day, OPENING, f"{acct.iban}-{day:%Y%m%d}-00233")


def parsed(tmp_path: Path, files: dict[str, bytes]) -> tuple[pl.DataFrame, pl.DataFrame, list[str]]:
    """Transactions, statements and the findings above ``info`` of the one file in ``files``."""
    ((name, data),) = files.items()
    path = tmp_path / name
    path.write_bytes(data)
    res = parse_file(path)
    return res.transactions, res.statements, [i.one_line() for i in res.issues if i.severity != "info"]


def test_returns_are_picked_evenly_and_the_same_file_gives_the_same_picks() -> None:
    rows = read_pain(pain())
    ids = sorted(rows["end_to_end_id"])
    picked = pick_returns(rows, ("AC04", "MS03"))
    assert picked.rows() == [(ids[1], "AC04"), (ids[2], "MS03")]       # 4 ids: positions 4//3 and 8//3
    assert pick_returns(rows, ("AC04", "MS03")).equals(picked)
    assert pick_returns(rows, {ids[0]: "MD01"}).rows() == [(ids[0], "MD01")]
    with pytest.raises(ValueError, match="5 returns asked for"):
        pick_returns(rows, ("AC04",) * 5)
    with pytest.raises(ValueError, match="no collection with end-to-end id"):
        pick_returns(rows, {"KZ-NOT-THERE": "AC04"})


def test_camt_statement_credits_each_batch_in_full_and_debits_the_returns_with_their_reason(tmp_path: Path) -> None:
    xml = pain()
    rows = read_pain(xml)
    files = collection_day_files(xml, ("AC04", "MS03"), header=header("volksbank"), fmt="camt.053")
    assert list(files) == [f"2026-12-10_C53_{TREASURY_ACCOUNTS['volksbank'].iban}_camt.053.001.08.xml"]
    text = next(iter(files.values())).decode("utf-8")
    assert text.count("<Btch><MsgId>MUSTER2612100001</MsgId><PmtInfId>") == 2
    tx, st, issues = parsed(tmp_path, files)
    assert issues == []
    sums = rows.group_by("payment_info_id").agg(pl.col("amount_cents").sum()).sort("payment_info_id")
    credits = tx.filter(pl.col("amount_cents") > 0).sort("customer_ref")
    assert credits.select("customer_ref", "amount_cents").rows() == sums.rows()
    assert set(credits.select("tx_code", "bank_tx_code").rows()) == {("192", "PMNT/IDDT/ESDD")}
    back = tx.filter(pl.col("amount_cents") < 0).sort("end_to_end_id")
    picked = pick_returns(rows, ("AC04", "MS03")).join(rows, on="end_to_end_id").sort("end_to_end_id")
    assert back.select("end_to_end_id", "return_reason", "mandate_id").rows() == \
        picked.select("end_to_end_id", "reason_code", "mandate_id").rows()
    assert back["amount_cents"].to_list() == [-(c + RETURN_FEE_CENTS) for c in picked["amount_cents"]]
    assert back["charges_cents"].to_list() == [RETURN_FEE_CENTS] * 2
    assert st["closing_cents"].to_list() == [OPENING + int(tx["amount_cents"].sum())]
    assert st["sequence_no"].to_list() == [233]


def test_mt940_statement_has_gvc_192_with_kref_and_gvc_109_with_reason_key_and_charge(tmp_path: Path) -> None:
    xml = pain()
    rows = read_pain(xml)
    files = collection_day_files(xml, {rows["end_to_end_id"][0]: "AC04"}, header=header("sparkasse"), fmt="mt940",
                                 fee_cents=450)
    assert list(files) == [f"MT940_{TREASURY_ACCOUNTS['sparkasse'].iban}_20261210.sta"]
    text = next(iter(files.values())).decode("iso-8859-1")
    assert "\r\n:86:192?00SEPA-LASTSCHRIFT SAMMLER" in text and "KREF+" in text
    tx, st, issues = parsed(tmp_path, files)
    assert issues == []
    credits = tx.filter(pl.col("amount_cents") > 0)
    assert sorted(credits["customer_ref"]) == sorted(rows["payment_info_id"].unique())
    (ret,) = tx.filter(pl.col("amount_cents") < 0).iter_rows(named=True)
    first = rows.row(0, named=True)
    assert ret["tx_code"] == "109" and ret["end_to_end_id"] == first["end_to_end_id"]
    assert ret["amount_cents"] == -(first["amount_cents"] + 450)
    assert (ret["charges_cents"], ret["original_amount_cents"]) == (450, first["amount_cents"])
    # ?34 carries the DK reason key; the parser gives it as sent, or as the ISO code where a table maps it
    assert ret["return_reason"] in ("AC04", RETURN_CODES["AC04"])
    assert st["closing_cents"].to_list() == [OPENING + int(tx["amount_cents"].sum())]


def test_the_night_settles_the_batch_and_matches_both_returns(tmp_path: Path) -> None:
    """What the nightly run does with the camt statement (collection.returns, the functions take_back calls)."""
    xml = pain()
    rows = read_pain(xml)
    tx, _, _ = parsed(tmp_path, collection_day_files(xml, header=header("volksbank"), fmt="camt.053"))
    tx = tx.with_columns(pl.lit("t").alias("tenant"))
    collected = rows.select(
        pl.lit("t").alias("tenant"), pl.lit("MUSTER2612100001").alias("message_id"),
        pl.col("payment_info_id").alias("pmtinf_id"), "end_to_end_id", "mandate_id", "sequence_type",
        pl.col("end_to_end_id").alias("receivable_id"), pl.col("end_to_end_id").alias("kassenzeichen"),
        "amount_cents", pl.col("party_iban").alias("debtor_iban"), pl.lit(DAY).alias("collection_date"),
        pl.lit(dt.date(2026, 12, 9)).alias("due_date"))
    collected = collected.select([(pl.col(k) if k in collected.columns else pl.lit(None)).cast(v).alias(k)
                                  for k, v in COLLECTED_SCHEMA.items()])
    credit_rows = tx.filter(pl.col("amount_cents") > 0).select(
        "tenant", "transaction_id", "bank_ref", "booking_date", "amount_cents",
        pl.col("customer_ref").alias("batch_ref"), "remittance").cast(CREDIT_SCHEMA)  # type: ignore[arg-type]
    prior = pl.DataFrame(schema={"rule": pl.String(), "receivable_id": pl.String(), "amount_cents": pl.Int64()})
    alloc, held, unknown = break_down_batches(credit_rows, collected, prior)
    assert held.height == 0 and unknown.height == 0
    assert sorted(alloc["receivable_id"]) == sorted(rows["end_to_end_id"])
    assert alloc["amount_cents"].sum() == rows["amount_cents"].sum()
    ret_rows = tx.filter(pl.col("amount_cents") < 0).select(
        "tenant", "transaction_id", "bank_ref", "booking_date", "amount_cents",
        pl.col("return_reason").alias("reason_code"), "end_to_end_id", "mandate_id", "original_amount_cents",
        pl.col("charges_cents").alias("fee_cents")).cast(RETURN_SCHEMA)  # type: ignore[arg-type]
    settings = CollectionSection()
    out = apply_returns(ret_rows, collected, pl.DataFrame(schema=RETURNED_SCHEMA), pl.DataFrame(schema=CLAIM_SCHEMA),
                        settings=settings)
    assert out.held.height == 0
    assert sorted(out.actions.select("reason_code", "action").rows()) == [("AC04", "block_mandate"),
                                                                          ("MS03", "retry_once")]
    picked = pick_returns(rows, ("AC04", "MS03")).join(rows, on="end_to_end_id")
    assert sorted(out.reversals.select("receivable_id", "amount_cents").rows()) == sorted(
        (e, -c) for e, c in picked.select("end_to_end_id", "amount_cents").rows())


def test_a_statement_before_the_collection_date_is_refused_and_a_quiet_day_has_no_entries(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="cannot credit a collection due on 2026-12-10"):
        collection_day_files(pain(), header=header("volksbank", dt.date(2026, 12, 9)))
    with pytest.raises(ValueError, match="fmt is one of"):
        collection_day_files(pain(), header=header("volksbank"), fmt="camt.054")
    for bank, fmt in (("sparkasse", "mt940"), ("volksbank", "camt.053")):
        tx, st, issues = parsed(tmp_path, quiet_day_file(header(bank), fmt))
        assert tx.height == 0 and issues == []
        assert st.select("opening_cents", "closing_cents").rows() == [(OPENING, OPENING)]
