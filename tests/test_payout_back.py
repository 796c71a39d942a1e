"""Our payouts back in the nightly run: the outgoing transfer the bank booked (by end-to-end id, or the
batch debit of a whole pain.001), and the returned transfer (the refund reopened, that IBAN blocked for
payouts) — with real MT940 and camt.053 files through the real nightly, and the pure rules literally."""

from __future__ import annotations

import io
from datetime import UTC, date, datetime
from pathlib import Path

import polars as pl
import pytest
from test_collect_back import statement
from test_collect_job import first_night, fixed_clock, q, tenant  # noqa: F401 (fixture)

import jobs.nightly as night
from claims.config import TenantConfig
from collection.pain001 import DebtorAccount, write_pain001
from collection.pain_read import read_pain
from collection.payout_back import (
    BLOCK_SCHEMA,
    BOOKING_SCHEMA,
    PAID_SCHEMA,
    PAYOUT_RETURN_SCHEMA,
    TX_COLUMNS,
    book_outgoing,
    skip_blocked,
    take_returns,
)
from ledger.db import connect
from ledger.payout_back_state import blocked_payee_ibans, refunds_waiting_for_iban

IBAN_A = "DE89370400440532013000"
IBAN_B = "DE27100777770209299700"
IBAN_C = "DE44500105175407324931"
PAY_DAY = date(2026, 11, 18)
N1, N2, N3 = date(2026, 11, 18), date(2026, 11, 19), date(2026, 11, 20)


# --- the pure rules -------------------------------------------------------------------------------------

def paid(*rows: tuple[str, str, str, str, int]) -> pl.DataFrame:
    """(end_to_end_id, pmtinf_id, message_id, payee_iban, cents)"""
    return pl.DataFrame([{"tenant": "t", "message_id": m, "pmtinf_id": p, "end_to_end_id": e, "source": "refund",
                          "source_id": f"D-{e}", "debtor_id": "X", "payee_iban": i, "amount_cents": c,
                          "execution_date": PAY_DAY} for e, p, m, i, c in rows], schema=PAID_SCHEMA)


def tx(tid: str, cents: int, *, e2e: str | None = None, kref: str | None = None, text: str | None = None,
       reason: str | None = None, iban: str | None = None, day: date = N1, orig: int | None = None,
       charges: int | None = None) -> dict[str, object]:
    return {"tenant": "t", "transaction_id": tid, "bank_ref": f"B{tid}", "booking_date": day, "amount_cents": cents,
            "end_to_end_id": e2e, "customer_ref": kref, "remittance": text, "return_reason": reason,
            "counterparty_iban": iban, "original_amount_cents": orig, "charges_cents": charges}


def frame(*rows: dict[str, object]) -> pl.DataFrame:
    schema = {c: pl.String() for c in TX_COLUMNS} | {"booking_date": pl.Date(), "amount_cents": pl.Int64(),
                                                    "original_amount_cents": pl.Int64(), "charges_cents": pl.Int64()}
    return pl.DataFrame(list(rows), schema=schema)


PAID = paid(("E1", "M1-TRF", "M1", IBAN_A, 1234), ("E2", "M2-TRF", "M2", IBAN_B, 5000),
            ("E3", "M2-TRF", "M2", IBAN_C, 700))
NONE_BOOKED = pl.DataFrame(schema=BOOKING_SCHEMA)


def test_a_debit_naming_the_end_to_end_id_with_the_amount_books_that_payout() -> None:
    out = book_outgoing(frame(tx("T1", -1234, e2e="E1")), PAID, NONE_BOOKED)
    assert out.bookings.select("end_to_end_id", "transaction_id", "amount_cents").rows() == [("E1", "T1", 1234)]
    assert out.held.is_empty() and out.taken["transaction_id"].to_list() == ["T1"]


def test_a_batch_debit_by_kref_or_by_text_books_every_payout_of_the_batch() -> None:
    for row in (tx("T2", -5700, kref="M2-TRF"), tx("T2", -5700, kref="M2"), tx("T2", -5700, text="SAMMLER M2-TRF")):
        out = book_outgoing(frame(row), PAID, NONE_BOOKED)
        assert out.bookings.select("end_to_end_id", "pmtinf_id", "amount_cents").rows() == [
            ("E2", "M2-TRF", 5000), ("E3", "M2-TRF", 700)]


def test_wrong_amount_and_second_debit_are_held_and_foreign_debits_pass() -> None:
    out = book_outgoing(frame(tx("T1", -1200, e2e="E1"), tx("T2", -5000, kref="M2-TRF"), tx("T9", -999, e2e="X9"),
                              tx("T8", -100, text="STROM")), PAID, NONE_BOOKED)
    assert out.bookings.is_empty()
    assert out.held.rows() == [("T1", "payout_amount_mismatch"), ("T2", "payout_amount_mismatch")]
    assert sorted(out.taken["transaction_id"]) == ["T1", "T2"]                 # T8, T9 are not ours
    before = pl.DataFrame([{"tenant": "t", "end_to_end_id": "E1", "pmtinf_id": "M1-TRF", "transaction_id": "T0",
                            "booking_date": N1, "amount_cents": 1234}], schema=BOOKING_SCHEMA)
    again = book_outgoing(frame(tx("T1", -1234, e2e="E1", day=N2)), PAID, before)
    assert again.held.rows() == [("T1", "payout_duplicate")] and again.bookings.is_empty()
    twice = book_outgoing(frame(tx("T1", -1234, e2e="E1"), tx("T2", -1234, e2e="E1")), PAID, NONE_BOOKED)
    assert twice.bookings["transaction_id"].to_list() == ["T1"] and twice.held.rows() == [("T2", "payout_duplicate")]


NONE_BACK = pl.DataFrame(schema=PAYOUT_RETURN_SCHEMA)


def test_a_return_by_end_to_end_id_or_by_iban_and_amount_reopens_and_blocks() -> None:
    back = take_returns(frame(tx("R1", 1234, e2e="E1", reason="AC04", day=N2)), PAID, NONE_BACK)
    assert back.returned.select("end_to_end_id", "source_id", "reason_code", "amount_cents", "return_date").rows() == [
        ("E1", "D-E1", "AC04", 1234, N2)]
    assert back.blocks.select("iban", "since", "reason", "end_to_end_id").rows() == [(IBAN_A, N2, "AC04", "E1")]
    loose = take_returns(frame(tx("R2", 700, reason="AC01", iban=IBAN_C.lower(), day=N2)), PAID, NONE_BACK)
    assert loose.returned["end_to_end_id"].to_list() == ["E3"] and loose.held.is_empty()
    # kept fee: credited less the reported charge, or with the original amount
    fee = take_returns(frame(tx("R3", 4750, e2e="E2", reason="AC04", charges=250, day=N2),
                             tx("R4", 1100, e2e="E1", reason="MS03", orig=1234, day=N2)), PAID, NONE_BACK)
    assert sorted(fee.returned["end_to_end_id"]) == ["E1", "E2"]


def test_returns_that_do_not_fit_are_held_or_left_to_the_matcher() -> None:
    back = take_returns(frame(tx("R1", 1000, e2e="E1", reason="AC04", day=N2),        # ours, wrong amount
                              tx("R2", 5000, reason="AC04", iban="DE00999", day=N2),   # not ours
                              tx("R3", 1234, e2e="E1", reason="AC04", day=N1 - (N2 - N1))), PAID, NONE_BACK)
    assert back.returned.is_empty() and back.held.rows() == [("R1", "payout_return_unmatched")]
    prior = take_returns(frame(tx("R1", 1234, e2e="E1", reason="AC04", day=N2)), PAID, NONE_BACK).returned
    dup = take_returns(frame(tx("R5", 1234, e2e="E1", reason="AC04", day=N3)), PAID, prior)
    assert dup.returned.is_empty() and dup.held.rows() == [("R5", "payout_return_duplicate")]


def test_skip_blocked_keeps_only_unblocked_ibans() -> None:
    blocks = pl.DataFrame([{"tenant": "t", "iban": IBAN_B, "since": N2, "reason": "AC04", "end_to_end_id": "E2"}],
                          schema=BLOCK_SCHEMA)
    kept, skipped = skip_blocked(pl.DataFrame({"payee_iban": [IBAN_A, "de27 1007 7777 0209 2997 00"], "n": [1, 2]}),
                                 blocks)
    assert kept["n"].to_list() == [1]
    assert skipped.select("n", "blocked_reason", "blocked_by_end_to_end_id").rows() == [(2, "AC04", "E2")]


# --- through the nightly ----------------------------------------------------------------------------------

def pay_out(cfg: TenantConfig, files: list[tuple[str, list[tuple[str, str, int]]]]) -> pl.DataFrame:
    """Write each pain.001 (message id, [(e2e, iban, cents)]) with the real writer, read it back, and book
    its transfers as a payout run would (``payouts`` + the run's ``runs`` row); the payout record."""
    rows = []
    for mid, items in files:
        buf = io.BytesIO()
        frame_ = pl.DataFrame({"end_to_end_id": [e for e, _, _ in items], "amount_cents": [c for _, _, c in items],
                               "payee_name": [f"Empfaenger {e}" for e, _, _ in items],
                               "payee_iban": [i for _, i, _ in items],
                               "remittance": [f"Erstattung {e}" for e, _, _ in items]})
        write_pain001(frame_, DebtorAccount("Stadtkasse Musterstadt", "DE02120300000000202051"),
                      execution_date=PAY_DAY, message_id=mid, created_at=datetime(2026, 11, 17, 9, 0), sink=buf)
        for r in read_pain(buf.getvalue()).iter_rows(named=True):
            rows.append({"tenant": "stadt", "run_id": "payout-run-1", "message_id": mid,
                         "pmtinf_id": r["payment_info_id"], "end_to_end_id": r["end_to_end_id"], "source": "refund",
                         "source_id": f"DEC-{r['end_to_end_id']}", "transaction_id": None, "debtor_id": "D-R0",
                         "payee_name": "x", "payee_iban": r["party_iban"], "payee_bic": None,
                         "amount_cents": r["amount_cents"], "execution_date": PAY_DAY, "remittance": "x",
                         "file_name": f"{mid}.xml", "file_sha256": "0" * 64, "prepared_by": "anna",
                         "released_by": "sven"})
    out = pl.DataFrame(rows)
    con = connect(cfg.ledger)
    try:
        con.register("p", out.to_arrow())
        cols = ", ".join(f'"{c}"' for c in out.columns)
        con.execute(f"INSERT INTO payouts ({cols}) SELECT {cols} FROM p")
        con.execute("INSERT INTO runs (tenant, run_id, booking_date, started_at, committed_at, mode, job) VALUES "
                    "('stadt', 'payout-run-1', ?, ?, ?, 'plain', 'payout')",
                    [PAY_DAY, datetime(2026, 11, 17, 9, 0, tzinfo=UTC), datetime(2026, 11, 17, 9, 1, tzinfo=UTC)])
    finally:
        con.close()
    return out


def ledger_reads(cfg: TenantConfig) -> tuple[pl.DataFrame, pl.DataFrame]:
    con = connect(cfg.ledger)
    try:
        return refunds_waiting_for_iban(con, "stadt"), blocked_payee_ibans(con, "stadt")
    finally:
        con.close()


@pytest.fixture
def paid_out(tmp_path: Path) -> tuple[TenantConfig, pl.DataFrame]:
    cfg = tenant(tmp_path)
    first_night(cfg)
    rec = pay_out(cfg, [("STADT261118A1", [("ERST-1", IBAN_A, 1234)]),
                        ("STADT261118B1", [("ERST-2", IBAN_B, 5000), ("ERST-3", IBAN_C, 700)])])
    return cfg, rec


def test_mt940_single_and_batch_debits_book_the_payouts_and_the_matcher_never_sees_them(
        paid_out: tuple[TenantConfig, pl.DataFrame]) -> None:
    cfg, rec = paid_out
    batch = rec.filter(pl.col("message_id") == "STADT261118B1")["pmtinf_id"][0]
    statement(cfg, N1, 2, 99650, [
        (-1234, "116", f"?00SEPA-UEBERWEISUNG?20EREF+ERST-1?21SVWZ+Erstattung ERST-1?31{IBAN_A}?32EMPFAENGER"),
        (-5700, "191", f"?00SAMMEL-UEBERWEISUNG?20KREF+{batch}?21SVWZ+SAMMLER 2 POSTEN"),
    ])
    night.run_night(cfg, N1)
    got = q(cfg, "SELECT end_to_end_id, pmtinf_id, amount_cents, booking_date FROM payout_bookings ORDER BY 1")
    assert got.rows() == [("ERST-1", rec["pmtinf_id"][0], 1234, N1), ("ERST-2", batch, 5000, N1),
                          ("ERST-3", batch, 700, N1)]
    assert q(cfg, "SELECT count(*) AS n FROM unresolved")["n"][0] == 0
    assert q(cfg, "SELECT count(*) AS n FROM allocations")["n"][0] == 0
    summary = q(cfg, "SELECT summary FROM runs WHERE job = 'nightly' AND booking_date = '2026-11-18'")["summary"][0]
    assert '"n_payouts_booked": 3' in summary


def test_mt940_return_gvc_159_reopens_the_refund_blocks_the_iban_and_a_second_debit_is_held(
        paid_out: tuple[TenantConfig, pl.DataFrame]) -> None:
    cfg, _ = paid_out
    closing = statement(cfg, N1, 2, 99650, [
        (-1234, "116", f"?00SEPA-UEBERWEISUNG?20EREF+ERST-1?21SVWZ+Erstattung ERST-1?31{IBAN_A}?32EMPFAENGER")])
    night.run_night(cfg, N1)
    # ?34 902 is AC04 in the package's table (collection/return_codes.csv); the same debit a second time
    statement(cfg, N2, 3, closing, [
        (1234, "159", f"?00SEPA-UEBERW. RETOURE?20EREF+ERST-1?21SVWZ+RETOURE KONTO ERLOSCHEN?31{IBAN_A}?34902"),
        (-1234, "116", f"?00SEPA-UEBERWEISUNG?20EREF+ERST-1?21SVWZ+Erstattung ERST-1?31{IBAN_A}"),
    ])
    night.run_night(cfg, N2)
    back = q(cfg, "SELECT end_to_end_id, source, source_id, reason_code, amount_cents, return_date, payee_iban "
                  "FROM payout_returns")
    assert back.rows() == [("ERST-1", "refund", "DEC-ERST-1", "AC04", 1234, N2, IBAN_A)]
    waiting, blocks = ledger_reads(cfg)
    assert waiting.select("source_id", "amount_cents").rows() == [("DEC-ERST-1", 1234)]
    assert blocks.select("iban", "since", "reason", "end_to_end_id").rows() == [(IBAN_A, N2, "AC04", "ERST-1")]
    held = q(cfg, "SELECT reason, amount_cents FROM unresolved")
    assert held.rows() == [("payout_duplicate", -1234)]                     # the second debit, for a clerk
    assert q(cfg, "SELECT count(*) AS n FROM allocations")["n"][0] == 0     # the returned credit is no payment
    # a payout of the same refund to a new IBAN, committed later, ends the wait; the block stays
    con = connect(cfg.ledger)
    try:
        con.execute("INSERT INTO payouts (tenant, run_id, end_to_end_id, source, source_id, payee_iban, amount_cents) "
                    "VALUES ('stadt', 'payout-run-2', 'ERST-1B', 'refund', 'DEC-ERST-1', ?, 1234)", [IBAN_C])
        con.execute("INSERT INTO runs (tenant, run_id, booking_date, started_at, committed_at, mode, job) VALUES "
                    "('stadt', 'payout-run-2', ?, now(), now(), 'plain', 'payout')", [N3])
    finally:
        con.close()
    waiting, blocks = ledger_reads(cfg)
    assert waiting.is_empty() and blocks["iban"].to_list() == [IBAN_A]


def test_a_debit_of_another_amount_is_held_with_its_reason(paid_out: tuple[TenantConfig, pl.DataFrame]) -> None:
    cfg, _ = paid_out
    statement(cfg, N1, 2, 99650, [(-1200, "116", "?00SEPA-UEBERWEISUNG?20EREF+ERST-1?21SVWZ+Erstattung")])
    night.run_night(cfg, N1)
    assert q(cfg, "SELECT count(*) AS n FROM payout_bookings")["n"][0] == 0
    assert q(cfg, "SELECT reason, amount_cents FROM unresolved").rows() == [("payout_amount_mismatch", -1200)]


def test_a_tenant_row_overrides_the_return_code_table(tmp_path: Path) -> None:
    cfg = tenant(tmp_path, '[collection.mt940_return_codes]\n"902" = "AC06"\n')
    first_night(cfg)
    pay_out(cfg, [("STADT261118A1", [("ERST-1", IBAN_A, 1234)])])
    statement(cfg, N2, 2, 99650, [
        (1234, "159", f"?00SEPA-UEBERW. RETOURE?20EREF+ERST-1?21SVWZ+RETOURE?31{IBAN_A}?34902")])
    night.run_night(cfg, N2)
    assert q(cfg, "SELECT reason_code FROM payout_returns")["reason_code"].to_list() == ["AC06"]


# --- camt.053 -------------------------------------------------------------------------------------------

def camt053(cfg: TenantConfig, day: date, seq: int, opening: int, entries: list[str]) -> None:
    """A camt.053.001.02 statement of the tenant's account; ``entries``: <Ntry> elements."""
    def bal(code: str, cents: int) -> str:
        return (f'<Bal><Tp><CdOrPrtry><Cd>{code}</Cd></CdOrPrtry></Tp><Amt Ccy="EUR">{abs(cents) / 100:.2f}</Amt>'
                f"<CdtDbtInd>{'CRDT' if cents >= 0 else 'DBIT'}</CdtDbtInd><Dt><Dt>{day}</Dt></Dt></Bal>")
    import re
    moved = sum((1 if "<CdtDbtInd>CRDT</CdtDbtInd><Sts>" in e else -1)
                * round(float(re.search(r'<Amt Ccy="EUR">([0-9.]+)</Amt>', e).group(1)) * 100)  # type: ignore[union-attr]
                for e in entries)
    doc = ('<?xml version="1.0" encoding="UTF-8"?>\n<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.02">'
           f"<BkToCstmrStmt><GrpHdr><MsgId>CAMT{seq}</MsgId><CreDtTm>{day}T20:00:00</CreDtTm></GrpHdr>"
           f"<Stmt><Id>STMT{seq}</Id><ElctrncSeqNb>{seq}</ElctrncSeqNb><CreDtTm>{day}T20:00:00</CreDtTm>"
           f"<Acct><Id><IBAN>DE02120300000000202051</IBAN></Id></Acct>{bal('PRCD', opening)}{bal('CLBD', opening + moved)}"
           + "".join(entries) + "</Stmt></BkToCstmrStmt></Document>\n")
    (cfg.inbox / f"camt_{day:%m%d}.xml").write_text(doc, encoding="utf-8")


def ntry(cents: int, day: date, ref: str, details: str) -> str:
    cdi = "CRDT" if cents > 0 else "DBIT"
    return (f'<Ntry><Amt Ccy="EUR">{abs(cents) / 100:.2f}</Amt><CdtDbtInd>{cdi}</CdtDbtInd><Sts>BOOK</Sts>'
            f"<BookgDt><Dt>{day}</Dt></BookgDt><ValDt><Dt>{day}</Dt></ValDt><AcctSvcrRef>{ref}</AcctSvcrRef>"
            f"<BkTxCd><Prtry><Cd>NTRF+{'159' if cents > 0 else '191'}+00931</Cd><Issr>DK</Issr></Prtry></BkTxCd>"
            f"<NtryDtls>{details}</NtryDtls></Ntry>")


def test_camt_batch_debit_by_pmtinfid_and_a_return_with_rtrinf(paid_out: tuple[TenantConfig, pl.DataFrame]) -> None:
    cfg, rec = paid_out
    batch = rec.filter(pl.col("message_id") == "STADT261118B1")["pmtinf_id"][0]
    camt053(cfg, N1, 2, 99650, [ntry(-5700, N1, "BATCH1", f"<Btch><PmtInfId>{batch}</PmtInfId><NbOfTxs>2</NbOfTxs>"
                                                         f"</Btch><TxDtls><Refs><PmtInfId>{batch}</PmtInfId></Refs>"
                                                         "</TxDtls>")])
    night.run_night(cfg, N1)
    assert q(cfg, "SELECT end_to_end_id FROM payout_bookings ORDER BY 1")["end_to_end_id"].to_list() == [
        "ERST-2", "ERST-3"]
    camt053(cfg, N2, 3, 99650 - 5700, [ntry(700, N2, "RET1", (
        "<TxDtls><Refs><EndToEndId>ERST-3</EndToEndId></Refs><AmtDtls><InstdAmt><Amt Ccy=\"EUR\">7.00</Amt>"
        "</InstdAmt></AmtDtls><RltdPties><Cdtr><Nm>Empfaenger</Nm></Cdtr><CdtrAcct><Id><IBAN>"
        f"{IBAN_C}</IBAN></Id></CdtrAcct></RltdPties><RtrInf><Rsn><Cd>AC01</Cd></Rsn></RtrInf></TxDtls>"))])
    night.run_night(cfg, N2)
    assert q(cfg, "SELECT end_to_end_id, reason_code FROM payout_returns").rows() == [("ERST-3", "AC01")]
    _, blocks = ledger_reads(cfg)
    assert blocks["iban"].to_list() == [IBAN_C]
    assert q(cfg, "SELECT count(*) AS n FROM unresolved")["n"][0] == 0


def test_a_gvc_159_credit_without_a_34_reason_is_still_our_return(paid_out: tuple[TenantConfig, pl.DataFrame]) -> None:
    cfg, _ = paid_out
    statement(cfg, N2, 2, 99650, [(700, "159", f"?00SEPA-UEBERW. RETOURE?20EREF+ERST-3?21SVWZ+RETOURE?31{IBAN_C}")])
    night.run_night(cfg, N2)
    assert q(cfg, "SELECT end_to_end_id, reason_code FROM payout_returns").rows() == [("ERST-3", None)]
    _, blocks = ledger_reads(cfg)
    assert blocks.select("iban", "reason").rows() == [(IBAN_C, None)]
    assert q(cfg, "SELECT count(*) AS n FROM unresolved")["n"][0] == 0


def test_the_klaerungsliste_shows_a_held_payout_row_in_german() -> None:
    from outputs.klaerungsliste import ALL_REASON_TEXT

    assert ALL_REASON_TEXT["payout_duplicate"] == "Auszahlung bereits abgebucht: zweite Abbuchung"
    assert ALL_REASON_TEXT["batch_duplicate"] == "Sammelgutschrift bereits verbucht"


def test_a_returned_forward_never_waits_for_a_clerks_iban() -> None:
    """Money for another creditor that came back is due again by itself (collection.forward); only a
    refund waits for a new IBAN."""
    import duckdb

    from ledger.migrations import migrate

    con = duckdb.connect()
    try:
        migrate(con)
        con.execute("INSERT INTO runs (tenant, run_id, committed_at) VALUES ('stadt', 'n1', now())")
        con.execute("INSERT INTO payout_returns (tenant, run_id, end_to_end_id, source, source_id, amount_cents, "
                    "return_date) VALUES ('stadt', 'n1', 'E1', 'refund', 'D-1', 500, DATE '2026-11-20'), "
                    "('stadt', 'n1', 'E2', 'forward', 'IHK@20261118', 900, DATE '2026-11-20')")
        assert refunds_waiting_for_iban(con, "stadt")["end_to_end_id"].to_list() == ["E1"]
    finally:
        con.close()
