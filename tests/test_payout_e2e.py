"""A payout end to end, with the real jobs: refunds decided by clerks and booked by a night, the payout
run prepared, released and booked (pain.001 in the outbox), the bank's batch debit of that very file back
through the next night (``payout_bookings``), one transfer returned a day later (GVC 159 with ``?34`` /
camt ``RtrInf``: ``payout_returns`` and ``payee_blocks``), and the next payout run: the refund to the
blocked IBAN skipped ``payee_blocked``, the one decided with a new IBAN paid. The bank's files are made
from our own pain.001 (``synth.payout_day``), in MT940 and in camt.053."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import polars as pl
import pytest
from nightly_files import ACCOUNT, Entry, write_mt940
from test_payout_job import PAYEE, REFUND_IBAN, K, export, q, tenant

import jobs.nightly as night
from claims.config import TenantConfig
from collection.pain_read import read_pain
from collection.xsd import validate
from jobs.payout import release, run_payout
from ledger.db import connect
from ledger.journal import new_decision, record_decision
from ledger.payout_back_state import blocked_payee_ibans, refunds_waiting_for_iban
from ledger.publish import read_published
from synth.bookings import Account, StatementHeader
from synth.payout_day import payout_day_files

D1, D2 = date(2026, 11, 16), date(2026, 11, 17)     # payments; the night that books the first refunds
TODAY, EXEC = date(2026, 11, 18), date(2026, 11, 19)  # preparation; execution (the bank debits the batch)
BACK = date(2026, 11, 20)                           # the payee's bank returns one transfer
D5, TODAY2, EXEC2 = date(2026, 11, 23), date(2026, 11, 24), date(2026, 11, 25)
NEW_IBAN = "DE75512108001245126199"
OWN = Account(bank="sparkasse", bank_name="Sparkasse Musterstadt", blz=ACCOUNT[4:12], bic="BYLADEM1001",
              iban=ACCOUNT, owner="Stadtkasse Musterstadt")


def decide(cfg: TenantConfig, picks: dict[int, str]) -> None:
    """A clerk decides a refund for each Klärungsliste payment of the given amount (cents → IBAN)."""
    kl, _, _ = read_published(cfg.state_dir / "published", "stadt")
    for tx, cents in zip(kl["transaction_id"], kl["unallocated_cents"], strict=True):
        if cents in picks:
            record_decision(cfg.state_dir, new_decision("stadt", tx, "refund", user="clara", role="clerk",
                                                        amount_cents=cents, requires_approval=False,
                                                        refund_iban=picks[cents]))


def pay_out(cfg: TenantConfig, execution: date, today: date) -> tuple[str, dict[str, object]]:
    """Prepare (anna), release (sven, supervisor), book; the booked file's path and counts."""
    prepared = run_payout(cfg, execution, user="anna", today=today)
    assert prepared.status == "prepared", prepared.message
    release(cfg, prepared.run_id, user="sven", role="supervisor")       # type: ignore[arg-type]
    booked = run_payout(cfg, execution, user="anna", today=today)
    assert booked.status == "booked"
    (name,) = [d["file_name"] for d in booked.counts["files"]]
    return str(cfg.tenant_dir / "outbox" / name), booked.counts


@pytest.mark.parametrize("fmt", ["mt940", "camt.053"])
def test_a_payout_goes_out_is_booked_by_the_bank_comes_back_and_the_blocked_iban_is_skipped(
        tmp_path: Path, fmt: str) -> None:
    cfg = tenant(tmp_path)
    export(cfg)
    # Anna pays 200 € for K0 (150 €): 50 € over; Otto gives 30 €, 12 € and 15 € naming nothing we know
    write_mt940(cfg.inbox / "s1.sta", day=D1, seq=1, opening=0, entries=[
        Entry(20000, f"Grundsteuer KZ {K[0]}", name="Anna Alt", iban=PAYEE),
        *[Entry(c, t, name="Otto Unbekannt", iban="DE27100777770209299700")
          for c, t in ((3000, "Spende Fest"), (1200, "Spende Chor"), (1500, "Spende Sport"))]])
    night.run_night(cfg, D1)
    decide(cfg, {5000: REFUND_IBAN, 3000: PAYEE})
    write_mt940(cfg.inbox / "s2.sta", day=D2, seq=2, opening=25700, entries=[Entry(-100, "Gebuehr")])
    night.run_night(cfg, D2)

    sent, counts = pay_out(cfg, EXEC, TODAY)
    assert (counts["n_payouts"], counts["total_cents"], counts["n_setoffs"]) == (2, 6000, 1)   # A: 20 € set off
    pain = Path(sent).read_bytes()
    ours = q(cfg, "SELECT end_to_end_id, payee_iban, amount_cents, source_id FROM payouts ORDER BY payee_iban")
    to_otto = ours.filter(pl.col("payee_iban") == PAYEE).row(0, named=True)

    # the night of the execution date: the bank's batch debit of that very file
    header = StatementHeader(OWN, 3, EXEC, 25600, f"{ACCOUNT}-3")
    (name, data), = payout_day_files(pain, header=header, fmt=fmt).items()
    (cfg.inbox / name).write_bytes(data)
    night.run_night(cfg, EXEC)
    booked = q(cfg, "SELECT end_to_end_id, amount_cents, booking_date FROM payout_bookings ORDER BY 1")
    assert booked.rows() == sorted((e, c, EXEC) for e, c in zip(ours["end_to_end_id"], ours["amount_cents"],
                                                                strict=True))
    kl, _, _ = read_published(cfg.state_dir / "published", "stadt")
    assert sorted(kl["unallocated_cents"].to_list()) == [1200, 1500]    # the debit is no unknown payment

    # a day later Otto's bank returns his transfer: account closed (AC04)
    header = StatementHeader(OWN, 4, BACK, 25600 - 6000, f"{ACCOUNT}-4")
    (name, data), = payout_day_files(pain, {to_otto["end_to_end_id"]: "AC04"}, header=header, fmt=fmt,
                                     debit=False).items()
    assert b"RETOURE" in data
    (cfg.inbox / name).write_bytes(data)
    night.run_night(cfg, BACK)
    back = q(cfg, "SELECT end_to_end_id, source_id, reason_code, amount_cents, return_date FROM payout_returns")
    assert back.rows() == [(to_otto["end_to_end_id"], to_otto["source_id"], "AC04", 3000, BACK)]
    con = connect(cfg.ledger)
    try:
        blocks, waiting = blocked_payee_ibans(con, "stadt"), refunds_waiting_for_iban(con, "stadt")
    finally:
        con.close()
    assert blocks.select("iban", "since", "reason").rows() == [(PAYEE, BACK, "AC04")]
    assert waiting["source_id"].to_list() == [to_otto["source_id"]]
    assert q(cfg, "SELECT count(*) AS n FROM unresolved WHERE amount_cents = 3000 AND booking_date = "
                  f"'{BACK}'")["n"][0] == 0                            # the return is no payment to match

    # the clerk decides Otto's other gifts: one to the blocked IBAN, one to a new IBAN
    decide(cfg, {1200: PAYEE, 1500: NEW_IBAN})
    write_mt940(cfg.inbox / "s5.sta", day=D5, seq=5, opening=22600, entries=[Entry(-100, "Gebuehr")])
    night.run_night(cfg, D5)
    prepared = run_payout(cfg, EXEC2, user="anna", today=TODAY2)
    assert prepared.counts["skipped"] == {"already_paid": 2, "payee_blocked": 1}
    assert (prepared.counts["n_payouts"], prepared.counts["total_cents"]) == (1, 1500)
    skipped = pl.read_parquet(Path(prepared.paths["run_folder"]) / "skipped_prepare.parquet")
    blocked = skipped.filter(pl.col("reason") == "payee_blocked").row(0, named=True)
    assert blocked["amount_cents"] == 1200
    assert blocked["detail"] == f"{PAYEE} gesperrt seit 20.11.2026 (AC04, Rückläufer {to_otto['end_to_end_id']})"
    release(cfg, prepared.run_id, user="sven", role="supervisor")       # type: ignore[arg-type]
    second = run_payout(cfg, EXEC2, user="anna", today=TODAY2)
    (file2,) = second.counts["files"]
    sent2 = cfg.tenant_dir / "outbox" / file2["file_name"]
    assert validate(sent2) == "pain.001.001.09"
    assert read_pain(sent2).select("party_iban", "amount_cents").rows() == [(NEW_IBAN, 1500)]
    assert q(cfg, f"SELECT count(*) AS n FROM payouts WHERE payee_iban = '{PAYEE}' AND execution_date = '{EXEC2}'"
             )["n"][0] == 0


def test_payout_day_files_refuse_a_statement_before_the_execution_date(tmp_path: Path) -> None:
    import io
    from datetime import datetime

    from collection.pain001 import DebtorAccount, write_pain001

    rows = pl.DataFrame({"end_to_end_id": ["E1"], "amount_cents": [1234], "payee_name": ["Empfaenger"],
                         "payee_iban": [PAYEE], "remittance": ["Erstattung"]})
    buf = io.BytesIO()
    write_pain001(rows, DebtorAccount("Stadtkasse", ACCOUNT), execution_date=EXEC, message_id="M1",
                  created_at=datetime(2026, 11, 18, 9), sink=buf)
    with pytest.raises(ValueError, match="cannot book a transfer executed on"):
        payout_day_files(buf.getvalue(), header=StatementHeader(OWN, 1, TODAY, 0, "x"))
    with pytest.raises(ValueError, match="fmt is one of"):
        payout_day_files(buf.getvalue(), header=StatementHeader(OWN, 1, EXEC, 0, "x"), fmt="mt942")
    mt = payout_day_files(buf.getvalue(), {"E1": "AC01"}, header=StatementHeader(OWN, 1, EXEC, 0, "x"), fmt="mt940")
    text = next(iter(mt.values())).decode("iso-8859-1")
    assert "KREF+" in text and "?34901" in text and "EREF+E1" in text      # the batch debit and the return


def test_a_refund_to_a_blocked_iban_is_skipped_payee_blocked_with_the_block_named() -> None:
    from collection.payout_back import BLOCK_SCHEMA
    from collection.payouts import DUE_SCHEMA, SKIPPED_SCHEMA
    from jobs.payout.steps import skip_blocked_payees

    due = pl.DataFrame([{"source": "refund", "source_id": s, "transaction_id": f"T{s}", "bank_ref": None,
                         "amount_cents": c, "payee_iban": i, "payee_name": "Otto", "received_on": D1,
                         "kassenzeichen": None} for s, c, i in (("D1", 1200, PAYEE), ("D2", 1500, NEW_IBAN))],
                       schema=DUE_SCHEMA)
    blocks = pl.DataFrame([{"tenant": "stadt", "iban": PAYEE, "since": BACK, "reason": "AC04", "end_to_end_id": "E9"}],
                          schema=BLOCK_SCHEMA)
    kept, skipped = skip_blocked_payees(due, blocks)
    assert kept["source_id"].to_list() == ["D2"] and kept.columns == due.columns
    assert skipped.schema == pl.Schema(SKIPPED_SCHEMA)
    assert skipped.rows() == [("refund", "D1", "TD1", 1200, "payee_blocked",
                               f"{PAYEE} gesperrt seit 20.11.2026 (AC04, Rückläufer E9)")]
    # no block: nothing skipped; a block without a reason code says so
    none, _ = skip_blocked_payees(due, blocks.head(0))
    assert none.height == 2
    _, why = skip_blocked_payees(due, blocks.with_columns(pl.lit(None, pl.String()).alias("reason")))
    assert why["detail"].to_list() == [f"{PAYEE} gesperrt seit 20.11.2026 (ohne Grund, Rückläufer E9)"]
