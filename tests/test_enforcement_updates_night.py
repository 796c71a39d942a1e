"""The nightly run's updates to the enforcement office over real files and a real ledger (no Prefect).

Cases are put into the ledger tables directly (the hand-off job is another's); the nights are real.
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from faults import InjectedFailure, fail_at
from nightly_files import Entry, kz, write_mt940, write_open_items

import jobs.nightly as night
from claims.config import TenantConfig, load_tenant_config
from claims.vocab import BlockReason
from enforcement.handoff_file import read_updates
from jobs.nightly import enforcement_updates as eu
from ledger.block_journal import set_block
from ledger.db import connect, fetch
from ledger.documents import read_index

T = "stadt"
D1, D2, D3 = date(2026, 11, 16), date(2026, 11, 17), date(2026, 11, 18)
K = [kz(i) for i in range(5)]


def tenant(tmp_path: Path) -> TenantConfig:
    (tmp_path / "kasse.toml").write_text(
        f'[tenant]\nid = "{T}"\nname = "Stadt Muster"\n[enforcement]\noffice_id = "VS"\n'
        'office_name = "Vollstreckungsstelle Muster"\noffice_city = "Muster"\n', encoding="utf-8")
    return load_tenant_config(tmp_path / "kasse.toml")


def first_night(cfg: TenantConfig) -> None:
    """Open items R0..R4 (one debtor each), booked by a night without payments."""
    write_open_items(cfg.inbox / "export.csv", [(f"R{i}", K[i], c) for i, c in
                                                 enumerate((15000, 9900, 5000, 7000, 3000))])
    night.run_night(cfg, D1)


def hand(cfg: TenantConfig, cases: dict[str, tuple[str, str]], on: date = D1) -> None:
    """Hand claims over: case -> (receivable id, office id), one hand-off run committed on ``on``."""
    con = connect(cfg.ledger)
    try:
        at = datetime(on.year, on.month, on.day, 23, tzinfo=UTC)
        con.execute("INSERT INTO runs (tenant, run_id, booking_date, started_at, committed_at, mode, job) "
                    "VALUES (?, 'handoff-1', ?, ?, ?, 'plain', 'handoff')", [T, on, at, at])
        for case, (rid, office) in cases.items():
            i = int(rid[1:])
            con.execute("INSERT INTO enforcement_cases (tenant, run_id, case_number, debtor_id, new, opened_on, "
                        "handed_off_on, office_id) VALUES (?, 'handoff-1', ?, ?, true, ?, ?, ?)",
                        [T, case, f"D-{rid}", on, on, office])
            con.execute("INSERT INTO enforcement_case_claims (tenant, run_id, case_number, receivable_id, debtor_id, "
                        "kassenzeichen, claim_type, ancillary, handed_off_on, handed_cents) VALUES "
                        "(?, 'handoff-1', ?, ?, ?, ?, 'GRUNDSTEUER', false, ?, ?)",
                        [T, case, rid, f"D-{rid}", K[i], on,
                         fetch(con, "SELECT amount_cents FROM open_items WHERE receivable_id = $r",
                               {"r": rid})["amount_cents"][0]])
    finally:
        con.close()


def pay(cfg: TenantConfig, day: date, seq: int, payments: dict[int, int]) -> None:
    write_mt940(cfg.inbox / f"bank_{seq}.sta", day=day, seq=seq, opening=0, entries=[
        Entry(c, f"Grundsteuer KZ {K[i]}", name=f"Schuldner R{i}") for i, c in payments.items()])


def booked(cfg: TenantConfig) -> tuple[list[tuple], list[tuple]]:
    con = connect(cfg.ledger)
    try:
        ups = fetch(con, "SELECT update_id, case_number, kind, office_id, message_id FROM enforcement_updates "
                         "ORDER BY update_id").rows()
        cls = fetch(con, "SELECT update_id, receivable_id, paid_cents, open_principal_cents "
                         "FROM enforcement_update_claims ORDER BY update_id, receivable_id").rows()
        return ups, cls
    finally:
        con.close()


def files(cfg: TenantConfig) -> list[Path]:
    return sorted((cfg.tenant_dir / "outbox" / eu.OUTBOX_SUB).rglob("updates.xml"))


def test_a_full_and_a_partial_payment_go_out_the_same_night_and_a_claim_in_no_case_gives_nothing(
        tmp_path: Path) -> None:
    cfg = tenant(tmp_path)
    first_night(cfg)
    hand(cfg, {"C1": ("R0", "VS"), "C2": ("R1", "VS")})
    pay(cfg, D2, 1, {0: 15000, 1: 4900, 3: 7000})
    report = night.run_night(cfg, D2)
    ups, cls = booked(cfg)
    assert [u[:3] for u in ups] == [("C1.20261117.settled", "C1", "settled"),
                                    ("C2.20261117.partial_payment", "C2", "partial_payment")]
    assert cls == [("C1.20261117.settled", "R0", 15000, 0), ("C2.20261117.partial_payment", "R1", 4900, 5000)]
    assert report["enforcement"] == {"partial_payment": 1, "settled": 1, "suspended": 0, "resumed": 0, "reopened": 0}
    assert report["enforcement_outbox"] == {"messages": 1, "updates": 2}
    [xml] = files(cfg)
    back = read_updates(xml)
    assert back.rejected.is_empty() and back.header.message_id == ups[0][4]
    assert back.header.receiver.name == "Vollstreckungsstelle Muster"
    assert back.updates["kind"].to_list() == ["settled", "partial_payment"]
    assert back.update_claims["open_principal_cents"].to_list() == [0, 5000]
    manifest = json.loads((xml.parent / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["by_kind"] == {"partial_payment": 1, "settled": 1}
    con = connect(cfg.ledger)
    sha = fetch(con, "SELECT DISTINCT file_sha256 FROM enforcement_updates")["file_sha256"].to_list()
    summary = json.loads(fetch(con, "SELECT summary FROM runs WHERE run_id = $r", {"r": report["run_id"]})["summary"][0])
    con.close()
    assert sha == [manifest["files"][0]["sha256"]]                     # the booked hash is the file's
    assert summary["enforcement_updates"]["settled"] == 1
    filed = [e for e in read_index(cfg.state_dir, T) if e.get("kind") == "update"]
    assert sorted((e["subject_id"], e["key"]) for e in filed) == [
        ("C1", "update:C1.20261117.settled"), ("C2", "update:C2.20261117.partial_payment")]
    # the next night: C1 is closed (settled), C2 unchanged: nothing new, no new file
    again = night.run_night(cfg, D3)
    assert booked(cfg)[0] == ups and again["enforcement_outbox"] == {"messages": 0, "updates": 0}
    assert len(files(cfg)) == 1


def test_two_offices_get_two_files(tmp_path: Path) -> None:
    cfg = tenant(tmp_path)
    first_night(cfg)
    hand(cfg, {"C1": ("R1", "VS"), "C2": ("R2", "VS-OTHER")})
    pay(cfg, D2, 1, {1: 1000, 2: 1000})
    night.run_night(cfg, D2)
    xmls = files(cfg)
    assert len(xmls) == 2
    read = [read_updates(p) for p in xmls]
    assert sorted(r.header.receiver.name for r in read) == ["VS-OTHER", "Vollstreckungsstelle Muster"]
    assert sorted(r.updates["case_number"][0] for r in read) == ["C1", "C2"]
    assert len({r.header.message_id for r in read}) == 2


@pytest.mark.parametrize("point", ["book.commit", "enforcement_outbox.message"])
def test_a_crash_before_or_after_the_commit_books_once_and_writes_the_file_once(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, point: str) -> None:
    cfg = tenant(tmp_path)
    first_night(cfg)
    hand(cfg, {"C1": ("R0", "VS")})
    pay(cfg, D2, 1, {0: 6000})
    fail_at(monkeypatch, point)
    with pytest.raises(InjectedFailure):
        night.run_night(cfg, D2)
    assert files(cfg) == []
    assert len(booked(cfg)[0]) == (1 if point != "book.commit" else 0)
    fail_at(monkeypatch, None)
    report = night.run_night(cfg, D2)
    ups, cls = booked(cfg)
    assert ups == [("C1.20261117.partial_payment", "C1", "partial_payment", "VS", ups[0][4])]
    assert cls == [("C1.20261117.partial_payment", "R0", 6000, 9000)]
    assert report["enforcement_outbox"] == {"messages": 1, "updates": 1}
    [xml] = files(cfg)
    before = xml.stat().st_mtime_ns
    assert read_updates(xml).updates["update_id"].to_list() == ["C1.20261117.partial_payment"]
    assert night.run_night(cfg, D2)["enforcement_outbox"] == {"messages": 0, "updates": 0}
    assert xml.stat().st_mtime_ns == before                            # never written twice


def test_a_stundung_after_the_hand_off_suspends_and_its_end_resumes(tmp_path: Path) -> None:
    cfg = tenant(tmp_path)
    first_night(cfg)
    hand(cfg, {"C1": ("R1", "VS")})
    set_block(cfg.state_dir, T, debtor_id="D-R1", reason=BlockReason.STUNDUNG, until=D3, note="Antrag",
              user="anna", role="clerk", start=D2)
    assert night.run_night(cfg, D2)["enforcement"]["suspended"] == 1
    assert night.run_night(cfg, D3)["enforcement"]["suspended"] == 0          # still in force: no repeat
    later = D3 + timedelta(days=1)
    assert night.run_night(cfg, later)["enforcement"]["resumed"] == 1
    ups, _ = booked(cfg)
    assert [u[0] for u in ups] == ["C1.20261117.suspended", "C1.20261119.resumed"]
    kinds = [read_updates(p).updates.select("kind", "suspension_reason").row(0) for p in files(cfg)]
    assert sorted(kinds) == [("resumed", None), ("suspended", "STUNDUNG")]


def test_a_tenant_without_cases_reads_and_writes_nothing_of_this(tmp_path: Path) -> None:
    cfg = tenant(tmp_path)
    first_night(cfg)
    pay(cfg, D2, 1, {0: 15000})
    report = night.run_night(cfg, D2)
    assert report["enforcement"] == {} and report["enforcement_outbox"] == {}
    run = cfg.runs_dir / report["run_id"]
    assert not any(run.glob("enf_*.parquet"))


def test_a_reversal_on_a_settled_case_becomes_an_issue_for_a_clerk(tmp_path: Path) -> None:
    import polars as pl

    from jobs.rundir import RunDir
    from ledger.tables import ISSUES

    cfg = tenant(tmp_path)
    folder = RunDir(tmp_path / "run")
    folder.write_json(eu.STATE, {"cases": True})
    folder.write_json("summary", {"n_unresolved": 0})
    folder.write("enf_case_claims", pl.DataFrame(schema={"case_number": pl.String(), "receivable_id": pl.String()}))
    for name in ("enf_allocations", "enf_booked", "enf_booked_claims"):
        folder.write(name, pl.DataFrame())
    folder.write("enf_settled_claims", pl.DataFrame({"case_number": ["C1"], "receivable_id": ["R0"],
                                                     "kassenzeichen": [K[0]], "closed_on": [D2]}))
    folder.write("run_allocations", pl.DataFrame({"receivable_id": ["R0"], "amount_cents": [-15000],
                                                  "booking_date": [D3]}))
    folder.write("open_now", pl.DataFrame({"receivable_id": ["R0"], "amount_cents": [15000]}))
    folder.write("book_issues", pl.DataFrame(schema=ISSUES))
    out = eu.stage(cfg, D3, "20261118-stadt-abcdef12", datetime(2026, 11, 18, 22, tzinfo=UTC), folder)
    assert out["reopened"] == 1 and sum(v for k, v in out.items() if k != "reopened") == 0
    issues = folder.read("book_issues")
    assert issues.select("code", "severity", "locator").rows() == [(eu.REOPENED, "warning", "case C1 claim R0")]
    assert "open again (15000 cents)" in issues["message"][0]
    assert not folder.file("book_enforcement_updates").exists()
    assert folder.read_json("summary")["enforcement_updates"]["reopened"] == 1
