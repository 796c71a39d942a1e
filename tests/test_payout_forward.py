"""Forwarding over a real ledger: a payment on a claim we enforce for the Beitragsservice (origin
``amtshilfe``) goes to the Beitragsservice in the same pain.001 as the refunds, with its
Weiterleitungsnachweis beside it in the outbox; the payment on our own fee claim is kept; a later run
forwards nothing again; a reversal after forwarding is held, never a negative transfer; a creditor without
an entry in ``[[creditors]]`` is skipped; a forward returned by the creditor's bank is due again but not
paid to the blocked IBAN."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from pathlib import Path

import polars as pl
from nightly_files import Entry, kz, write_mt940
from test_payout_job import D2, EXEC, TODAY, nights, q, tenant

import jobs.nightly as night
from claims.config import TenantConfig
from claims.kassenzeichen import normalise
from collection.pain_read import read_pain
from jobs.payout import release, run_payout
from ledger.booking import book
from ledger.db import connect
from ledger.tables import ALLOCATIONS, CLAIMS, OWN_CLAIMS, TABLES

BS_IBAN = "DE02120300000000202051"
K_AH, K_FEE = kz(7), kz(8)
REGISTER = (f'[[creditors]]\nid = "BS"\nname = "Beitragsservice"\niban = "{BS_IBAN}"\nbic = "BYLADEM1001"\n'
            'reference = "VH-4711"\n')


def _frame(table: dict[str, pl.DataType], rows: list[dict[str, object]]) -> pl.DataFrame:
    return pl.DataFrame(rows).select([pl.col(c).cast(t) if c in rows[0] else pl.lit(None, t).alias(c)
                                      for c, t in table.items()])


def _book(cfg: TenantConfig, run_id: str, frames: dict[str, pl.DataFrame]) -> None:
    run = _frame(TABLES["runs"], [{"tenant": "stadt", "run_id": run_id, "booking_date": D2, "mode": "plain",
                                   "job": "test", "started_at": datetime.now(UTC)}])
    con = connect(cfg.ledger)
    try:
        book(con, {"runs": run, **frames}, run_id=run_id)
    finally:
        con.close()


def stage_claims(cfg: TenantConfig, creditor: str = "BS") -> None:
    """Carla owes the Beitragsservice 80 € (AH1, enforced by us) and us a 5 € fee on it (F1)."""
    base = {"tenant": "stadt", "run_id": "claims-1", "debtor_id": "C", "debtor_name": "Carla Cramer",
            "due_date": date(2026, 11, 1), "law": "public", "created_at": datetime(2026, 11, 16, 20, tzinfo=UTC)}
    _book(cfg, "claims-1", {"claims": _frame(CLAIMS, [
        base | {"receivable_id": "AH1", "kassenzeichen": K_AH, "kz_norm": normalise(K_AH), "claim_type": "RUNDFUNK",
                "amount_cents": 8000, "origin": "amtshilfe", "creditor": creditor, "external_ref": "BN-123456789"},
        base | {"receivable_id": "F1", "kassenzeichen": K_FEE, "kz_norm": normalise(K_FEE), "claim_type": "MAHNGEBUEHR",
                "amount_cents": 500, "origin": "fee", "creditor": "stadt", "parent_receivable_id": "AH1"}])})


def carla_pays(cfg: TenantConfig) -> None:
    """The night of TODAY: Carla pays 50 € on AH1 (a part) and the 5 € fee."""
    write_mt940(cfg.inbox / "s3.sta", day=TODAY, seq=3, opening=22900,
                entries=[Entry(5000, f"Rundfunk KZ {K_AH}", name="Carla Cramer", iban="DE27100777770209299700"),
                         Entry(500, f"Gebuehr KZ {K_FEE}", name="Carla Cramer", iban="DE27100777770209299700")])
    night.run_night(cfg, TODAY)
    got = q(cfg, "SELECT receivable_id, sum(amount_cents) AS c FROM allocations "
                 "WHERE receivable_id IN ('AH1', 'F1') GROUP BY 1 ORDER BY 1")
    assert got.rows() == [("AH1", 5000), ("F1", 500)]


def test_money_for_the_beitragsservice_is_forwarded_once_beside_the_refunds(tmp_path: Path) -> None:
    cfg = tenant(tmp_path, REGISTER)
    nights(cfg)
    stage_claims(cfg)
    carla_pays(cfg)
    out = run_payout(cfg, EXEC, user="anna", today=TODAY)
    assert out.status == "prepared" and out.run_id
    assert (out.counts["n_payouts"], out.counts["n_forwards"], out.counts["forward_cents"]) == (3, 1, 5000)
    release(cfg, out.run_id, user="sven", role="supervisor")
    booked = run_payout(cfg, EXEC, user="anna", today=TODAY)
    assert booked.status == "booked" and booked.counts["forward_cents"] == 5000

    fw = q(cfg, "SELECT * FROM payouts WHERE source = 'forward'")
    assert fw.select("source_id", "debtor_id", "payee_name", "payee_iban", "amount_cents", "remittance").rows() == [
        ("BS@20261119", None, "Beitragsservice", BS_IBAN, 5000, f"VH-4711 Weiterleitung Kz {K_AH}")]
    outbox = cfg.tenant_dir / "outbox"
    rows = read_pain(outbox / booked.counts["files"][0]["file_name"])      # refunds and the forward in one file
    assert sorted(zip(rows["party_iban"], rows["amount_cents"], strict=True)) == sorted(
        q(cfg, "SELECT payee_iban, amount_cents FROM payouts").rows())
    assert BS_IBAN in rows["party_iban"].to_list() and len(rows["party_iban"]) == 3
    proof = (outbox / "weiterleitung_20261119_BS.csv").read_text(encoding="utf-8-sig").splitlines()
    assert proof == ["Kassenzeichen;Zeichen_Glaeubiger;Schuldner;Zahlung_vom;Betrag_EUR;Forderung;Zahlung",
                     f"{K_AH};BN-123456789;Carla Cramer;18.11.2026;50,00;AH1;{proof[1].rsplit(';', 1)[1]}"]
    manifest = json.loads(next(outbox.glob("*.manifest.json")).read_text(encoding="utf-8"))
    assert [p["file_name"] for p in manifest["proofs"]] == ["weiterleitung_20261119_BS.csv"]
    assert q(cfg, "SELECT count(*) AS n FROM payouts WHERE payee_name = 'Stadtkasse Musterstadt'")["n"][0] == 0

    # a later run forwards nothing again
    later = run_payout(cfg, date(2026, 11, 20), user="anna", today=date(2026, 11, 19))
    assert later.status == "nothing_to_do" and later.counts["n_forwards"] == 0

    # the payment is reversed after it was forwarded: held with the reason, never a negative transfer
    tx = q(cfg, "SELECT transaction_id FROM allocations WHERE receivable_id = 'AH1'")["transaction_id"][0]
    _book(cfg, "reversal-1", {"allocations": _frame(ALLOCATIONS, [
        {"tenant": "stadt", "run_id": "reversal-1", "transaction_id": tx, "receivable_id": "AH1",
         "kassenzeichen": K_AH, "amount_cents": -5000, "rule": "reversal", "decided_by": "auto",
         "booking_date": date(2026, 11, 19), "import_id": OWN_CLAIMS}])})
    held = run_payout(cfg, date(2026, 11, 23), user="anna", today=date(2026, 11, 20))
    assert held.status == "nothing_to_do"
    assert held.counts["skipped"] == {"already_paid": 2, "reversed_after_forward": 1}
    assert q(cfg, "SELECT count(*) AS n FROM payouts WHERE source = 'forward'")["n"][0] == 1


def test_a_creditor_without_a_register_entry_is_skipped_and_the_money_stays_due(tmp_path: Path) -> None:
    cfg = tenant(tmp_path)
    nights(cfg)
    stage_claims(cfg, creditor="WDR")
    carla_pays(cfg)
    out = run_payout(cfg, EXEC, user="anna", today=TODAY)
    assert out.counts["n_forwards"] == 0 and out.counts["skipped"]["creditor_unknown"] == 1
    skipped = pl.read_parquet(Path(out.paths["run_folder"]) / "skipped_prepare.parquet")
    assert skipped.filter(pl.col("reason") == "creditor_unknown").select("source_id", "amount_cents").rows() == [
        ("WDR@20261119", 5000)]


def test_a_forward_the_creditors_bank_returned_is_due_again_but_its_blocked_iban_is_not_paid(tmp_path: Path) -> None:
    from ledger.tables import PAYEE_BLOCKS, PAYOUT_RETURNS

    cfg = tenant(tmp_path, REGISTER)
    nights(cfg)
    stage_claims(cfg)
    carla_pays(cfg)
    out = run_payout(cfg, EXEC, user="anna", today=TODAY)
    assert out.run_id
    release(cfg, out.run_id, user="sven", role="supervisor")
    assert run_payout(cfg, EXEC, user="anna", today=TODAY).status == "booked"
    e2e = q(cfg, "SELECT end_to_end_id FROM payouts WHERE source = 'forward'")["end_to_end_id"][0]
    back = date(2026, 11, 20)
    _book(cfg, "return-1", {
        "payout_returns": _frame(PAYOUT_RETURNS, [{"tenant": "stadt", "run_id": "return-1", "end_to_end_id": e2e,
                                                   "source": "forward", "source_id": "BS@20261119",
                                                   "payee_iban": BS_IBAN, "reason_code": "AC04", "return_date": back,
                                                   "amount_cents": 5000, "transaction_id": "TX-RET"}]),
        "payee_blocks": _frame(PAYEE_BLOCKS, [{"tenant": "stadt", "run_id": "return-1", "iban": BS_IBAN,
                                               "since": back, "reason": "AC04", "end_to_end_id": e2e}])})
    again = run_payout(cfg, date(2026, 11, 24), user="anna", today=date(2026, 11, 23))
    assert again.status == "nothing_to_do"
    assert again.counts["skipped"] == {"already_paid": 2, "payee_blocked": 1}
    assert q(cfg, "SELECT count(*) AS n FROM payouts WHERE source = 'forward'")["n"][0] == 1
