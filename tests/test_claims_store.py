"""Stadtkasse's own claims in the store: a fee claim is an open item the matcher can book a payment on."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import polars as pl
import pytest
from nightly_files import Entry, kz, write_mt940, write_open_items

import jobs.nightly as night
from claims.kassenzeichen import normalise
from jobs.rundir import RunDir
from ledger.booking import book
from ledger.config import TenantConfig, load_tenant_config
from ledger.db import connect, fetch
from ledger.handoff import HandOffError
from ledger.state import current_open_items
from ledger.tables import CLAIMS, OWN_CLAIMS, TABLES

D1, D2 = date(2026, 11, 16), date(2026, 11, 17)
K_CLAIM, K_FEE = kz(1), kz(2)


def tenant(tmp_path: Path) -> TenantConfig:
    (tmp_path / "kasse.toml").write_text('[tenant]\nid = "stadt"\n', encoding="utf-8")
    return load_tenant_config(tmp_path / "kasse.toml")


def fee(**over: object) -> pl.DataFrame:
    """A Mahngebühr of 5 € on the export's claim R1, as dunning will create it."""
    row = {"tenant": "stadt", "run_id": "dunning-1", "receivable_id": "F-R1-1", "kassenzeichen": K_FEE,
           "kz_norm": normalise(K_FEE), "debtor_id": "D-R1", "debtor_name": "Schuldner R1",
           "claim_type": "MAHNGEBUEHR", "amount_cents": 500, "due_date": D1, "law": "public", "origin": "fee",
           "creditor": "stadt", "created_at": datetime(2026, 11, 16, 20, tzinfo=UTC),
           "parent_receivable_id": "R1"} | over
    return pl.DataFrame([row]).select([pl.col(c).cast(t) if c in row else pl.lit(None, t).alias(c)
                                       for c, t in CLAIMS.items()])


def stage_fee(cfg: TenantConfig) -> None:
    """Book the fee claim into the ledger by a run of its own (what the dunning job will do)."""
    run = pl.DataFrame([{"tenant": "stadt", "run_id": "dunning-1", "booking_date": D1, "mode": "plain",
                         "job": "dunning", "started_at": datetime.now(UTC)}]).select(
        [pl.col(c).cast(t) if c in ("tenant", "run_id", "booking_date", "mode", "job", "started_at")
         else pl.lit(None, t).alias(c) for c, t in TABLES["runs"].items()])
    con = connect(cfg.ledger)
    try:
        book(con, {"runs": run, "claims": fee()}, run_id="dunning-1")
    finally:
        con.close()


def open_now(cfg: TenantConfig) -> dict[str, int]:
    con = connect(cfg.ledger)
    try:
        df = current_open_items(con, "stadt")
    finally:
        con.close()
    return dict(zip(df["receivable_id"], df["amount_cents"], strict=True))


def test_a_payment_quoting_a_fees_kassenzeichen_is_allocated_to_the_fee(tmp_path: Path) -> None:
    cfg = tenant(tmp_path)
    write_open_items(cfg.inbox / "export_1116.csv", [("R1", K_CLAIM, 9900)])
    write_mt940(cfg.inbox / "sparkasse_1116.sta", day=D1, seq=1, opening=0, entries=[Entry(-350, "Kontofuehrung")])
    night.run_night(cfg, D1)
    stage_fee(cfg)
    assert open_now(cfg) == {"F-R1-1": 500, "R1": 9900}          # the fee is an open item beside the export

    # night 2: a new export (which does not know the fee) and the fee's payment
    write_open_items(cfg.inbox / "export_1117.csv", [("R1", K_CLAIM, 9900)])
    write_mt940(cfg.inbox / "sparkasse_1117.sta", day=D2, seq=2, opening=-350,
                entries=[Entry(500, f"Mahngebuehr KZ {K_FEE}", name="Schuldner R1")])
    night.run_night(cfg, D2)

    con = connect(cfg.ledger)
    alloc = fetch(con, "SELECT receivable_id, amount_cents, import_id, decided_by FROM allocations")
    unresolved = fetch(con, "SELECT * FROM unresolved")
    con.close()
    assert alloc.rows() == [("F-R1-1", 500, OWN_CLAIMS, "auto")]
    assert unresolved.height == 0
    assert open_now(cfg) == {"R1": 9900}                          # settled: no longer open


def test_a_claim_breaking_its_rules_stops_the_run_before_it_is_staged(tmp_path: Path) -> None:
    folder = RunDir(tmp_path / "run")
    folder.book("claims", fee())                                  # a good one is staged
    with pytest.raises(HandOffError, match="fee_is_the_tenants"):
        folder.book("claims", fee(creditor="landkreis"))          # a fee always belongs to the tenant
    with pytest.raises(HandOffError, match="own_origin"):
        folder.book("claims", fee(origin="export"))               # export claims come by the export only


def test_an_allocation_without_receivable_stops_the_run(tmp_path: Path) -> None:
    row = {"tenant": "stadt", "run_id": "r", "transaction_id": "t1", "receivable_id": None, "amount_cents": 100,
           "rule": "reference.exact", "decided_by": "auto", "booking_date": D1}
    frame = pl.DataFrame([row], schema_overrides={"receivable_id": pl.String()})
    with pytest.raises(HandOffError, match="receivable_id"):
        RunDir(tmp_path / "run").book("allocations", frame)


def test_an_item_with_a_bad_iban_is_kept_and_the_day_close_lists_the_finding(tmp_path: Path) -> None:
    cfg = tenant(tmp_path)
    path = cfg.inbox / "export_1116.csv"
    write_open_items(path, [("R1", K_CLAIM, 9900), ("R2", K_FEE, 500)])
    path.write_text(path.read_text(encoding="utf-8").replace("Schuldner R2;;", "Schuldner R2;DE00123;"),
                    encoding="utf-8")
    write_mt940(cfg.inbox / "sparkasse_1116.sta", day=D1, seq=1, opening=0,
                entries=[Entry(500, f"KZ {K_FEE}", name="Schuldner R2")])
    report = night.run_night(cfg, D1)
    con = connect(cfg.ledger)
    alloc = fetch(con, "SELECT receivable_id FROM allocations")["receivable_id"].to_list()
    items = fetch(con, "SELECT receivable_id, debtor_iban, origin, creditor FROM open_items ORDER BY 1").rows()
    con.close()
    assert items == [("R1", None, "export", "stadt"), ("R2", None, "export", "stadt")]   # R2 kept, IBAN dropped
    assert alloc == ["R2"]
    html = Path(report["reports"]["day_close_html"]).read_text(encoding="utf-8")
    assert "Befunde beim Import" in html and "open_items.invalid_iban" in html and "export_1116.csv: line 3" in html
    assert "1 Befund beim Import (siehe unten)" in html
