"""The nightly import of the enforcement office's outcomes files: real files (written with write_outcomes),
a real ledger file, the plain nightly steps (docs/ENFORCEMENT.md, "Importing outcomes")."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

import polars as pl
import pytest
from faults import InjectedFailure, fail_at
from nightly_files import ACCOUNT, Entry, kz, write_mt940, write_open_items

import jobs.nightly as night
from claims.config import TenantConfig, load_tenant_config
from claims.vocab import BlockReason, DocumentKind, HandoffSkip, OutcomeHold, SkipReason
from dunning.select import select as dunning_select
from enforcement.file_format import Party
from enforcement.outcomes_file import OutcomesHeader, write_outcomes
from enforcement.select import select as handoff_select
from jobs.dunning import run_dunning
from jobs.nightly.outcomes import is_outcomes_file
from ledger.db import connect, fetch
from ledger.documents import read_index, read_object
from ledger.enforcement_state import case_claims, open_case_claims
from ledger.outcomes_state import outcome_blocks
from ledger.tables import TABLES

D0, D1, D2, D3 = date(2026, 12, 1), date(2026, 12, 2), date(2026, 12, 3), date(2026, 12, 4)
K = [kz(i) for i in range(5)]
OFFICE = "VS-DT"
N = None
LOG_TABLES = {"runs", "audit_events", "files", "issues"}


def header(message_id: str = "E-1", tenant: str = "stadt") -> OutcomesHeader:
    return OutcomesHeader(message_id=message_id, created=datetime(2026, 12, 1, 20, 0), office_id=OFFICE,
                          sender=Party("Vollstreckungsstelle Detmold"), receiver=Party("Stadtkasse", tenant=tenant))


def tenant(tmp_path: Path) -> TenantConfig:
    (tmp_path / "kasse.toml").write_text(f'[tenant]\nid = "stadt"\n[enforcement]\noffice_id = "{OFFICE}"\n'
                                         '[reference]\ndigits = 12\n', encoding="utf-8")
    return load_tenant_config(tmp_path / "kasse.toml")


def setup(tmp_path: Path) -> TenantConfig:
    """R0..R4 exported and booked; R0+R1 handed in case C1, R2 in C2, R3 in C3 (to VS-DT), R4 in C9 (another
    office) — the hand-off job's rows inserted directly."""
    cfg = tenant(tmp_path)
    write_open_items(cfg.inbox / "export.csv", [(f"R{i}", K[i], 10000 + i) for i in range(5)])
    night.run_night(cfg, D0)
    con = connect(cfg.ledger)
    try:
        for case, debtor, rids, office in (("C1", "D-R0", ["R0", "R1"], OFFICE), ("C2", "D-R2", ["R2"], OFFICE),
                                           ("C3", "D-R3", ["R3"], OFFICE), ("C9", "D-R4", ["R4"], "VS-X")):
            con.execute("INSERT INTO enforcement_cases (tenant, run_id, case_number, debtor_id, new, opened_on, "
                        "handed_off_on, office_id, debtor_name, debtor_street, debtor_postcode, debtor_city) "
                        "VALUES ('stadt', 'h1', ?, ?, true, ?, ?, ?, ?, 'Ring 1', '32756', 'Detmold')",
                        [case, debtor, D0, D0, office, f"Schuldner {debtor}"])
            for rid in rids:
                con.execute("INSERT INTO enforcement_case_claims (tenant, run_id, case_number, receivable_id, "
                            "main_receivable_id, ancillary, debtor_id, kassenzeichen, claim_type, law, handed_off_on, "
                            "handed_cents) VALUES ('stadt', 'h1', ?, ?, ?, false, ?, ?, 'GRUNDSTEUER', 'public', ?, 10000)",
                            [case, rid, rid, debtor, K[int(rid[1])], D0])
    finally:
        con.close()
    return cfg


def outcomes_file(rows: list[tuple], fees: list[tuple] = (), *, message_id: str = "E-1") -> bytes:
    """``rows``: (reference, case, sequence, code, collected cents, kassenzeichen); ``fees``: (reference,
    case, sequence, kind, cents)."""
    out = pl.DataFrame(rows, schema={"office_reference": pl.String, "case_number": pl.String, "sequence": pl.Int64,
                                     "outcome": pl.String, "collected_cents": pl.Int64, "kassenzeichen": pl.String},
                       orient="row").with_columns(pl.lit(D1).alias("outcome_date"))
    fee = pl.DataFrame(list(fees), schema={"office_reference": pl.String, "case_number": pl.String,
                                           "sequence": pl.Int64, "kind": pl.String, "amount_cents": pl.Int64},
                       orient="row")
    return write_outcomes(header(message_id), out, fee)


FIRST = [("A-1", "C1", 1, "paid", 20001, N), ("A-2", "C2", 1, "written_off", 0, K[2]),
         ("A-3", "C3", 1, "returned", 0, N), ("A-7", "X-7", 1, "moved", 0, N),
         ("A-9", "C9", 1, "uncollectible", 0, N)]
FIRST_FEES = [("A-1", "C1", 1, "pfaendung", 2500), ("A-1", "C1", 1, "auslagen", 350),
              ("A-3", "C3", 1, "wegegeld", 120)]


def first_file() -> bytes:
    return outcomes_file(FIRST, FIRST_FEES)


def deliver(cfg: TenantConfig, name: str, data: bytes) -> Path:
    path = cfg.inbox / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


def table(cfg: TenantConfig, sql: str) -> pl.DataFrame:
    con = connect(cfg.ledger)
    try:
        return fetch(con, sql)
    finally:
        con.close()


def facts(cfg: TenantConfig) -> dict[str, pl.DataFrame]:
    """Every booked-fact table without run ids and creation times (what a repeat must not change)."""
    out = {}
    for name in TABLES:
        if name in LOG_TABLES:
            continue
        df = table(cfg, f"SELECT * FROM {name}").drop("run_id", "created_at", strict=False)
        out[name] = df.sort(df.columns, nulls_last=True)
    return out


def files_rows(cfg: TenantConfig, run_day: date) -> list[tuple]:
    return table(cfg, f"SELECT source_path, status, kind, reason FROM files WHERE booking_date = DATE '{run_day}' "
                      "ORDER BY source_path").rows()


def test_an_outcomes_file_is_recognised_by_its_root_and_namespace(tmp_path: Path) -> None:
    good = deliver(tenant(tmp_path), "o.xml", first_file())
    assert is_outcomes_file(good)
    other = tmp_path / "x.xml"
    other.write_bytes(first_file().replace(b"urn:stadtkasse:enforcement:1", b"urn:example:other"))
    assert not is_outcomes_file(other)
    camt = tmp_path / "c.xml"
    camt.write_bytes(b'<?xml version="1.0"?><Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.02"/>')
    assert not is_outcomes_file(camt)


def test_import_books_outcomes_fee_claims_and_case_documents_once(tmp_path: Path) -> None:
    cfg = setup(tmp_path)
    deliver(cfg, "ergebnisse_1.xml", first_file())
    report = night.run_night(cfg, D1)
    assert report["files"]["ok"] == 1
    rows = table(cfg, "SELECT outcome_id, case_number, receivable_id, outcome, state, hold_reason, collected_cents, "
                      "fees_cents FROM enforcement_outcomes ORDER BY outcome_id").rows()
    assert rows == [
        ("VS-DT|A-1|C1|1", "C1", N, "paid", "booked", N, 20001, 2850),
        ("VS-DT|A-2|C2|1", "C2", "R2", "written_off", "booked", N, 0, 0),
        ("VS-DT|A-3|C3|1", "C3", N, "returned", "booked", N, 0, 120),
        ("VS-DT|A-7|X-7|1", "X-7", N, "moved", "held", OutcomeHold.CASE_UNKNOWN, 0, 0),
        ("VS-DT|A-9|C9|1", "C9", N, "uncollectible", "held", OutcomeHold.OTHER_OFFICE, 0, 0)]
    fees = table(cfg, "SELECT kind, amount_cents, fee_receivable_id FROM enforcement_outcome_fees ORDER BY kind").rows()
    assert [(k, a) for k, a, _ in fees] == [("auslagen", 350), ("pfaendung", 2500), ("wegegeld", 120)]
    claims = table(cfg, "SELECT receivable_id, kassenzeichen, claim_type, amount_cents, origin, parent_receivable_id, "
                        "debtor_id, debtor_name, due_date FROM claims ORDER BY amount_cents").rows()
    assert [c[2:] for c in claims] == [("KOSTEN", 120, "fee", "R3", "D-R3", "Schuldner D-R3", D1),
                                       ("KOSTEN", 350, "fee", "R0", "D-R0", "Schuldner D-R0", D1),
                                       ("KOSTEN", 2500, "fee", "R0", "D-R0", "Schuldner D-R0", D1)]
    assert {c[0] for c in claims} == {f[2] for f in fees}
    assert claims[1][1] == claims[2][1] != claims[0][1]           # one fee Kassenzeichen per outcome
    assert claims[1][1].startswith("9")                            # [dunning] fee_kassenzeichen_prefix
    con = connect(cfg.ledger)
    try:
        still = open_case_claims(con, "stadt")["receivable_id"].to_list()
    finally:
        con.close()
    assert still == ["R4"]                     # paid, written off, returned close; the held one does not
    docs = [e for e in read_index(cfg.state_dir, "stadt") if e.get("kind") == DocumentKind.OUTCOME]
    assert sorted((e["subject_kind"], e["subject_id"]) for e in docs) == [("case", "C1"), ("case", "C2"), ("case", "C3")]
    assert all(e["media_type"] == "application/xml" for e in docs)
    one = read_object(cfg.state_dir, "stadt", docs[0]["sha256"])
    assert one.startswith(b"<Outcome") and b"<CaseNumber>" in one
    assert files_rows(cfg, D1)[0][1:3] == ("ok", "enforcement_outcomes")
    assert list((cfg.tenant_dir / "archive" / D1.isoformat()).iterdir())     # archived like the others
    issues = table(cfg, "SELECT code FROM issues WHERE code LIKE 'outcomes.%' ORDER BY code")["code"].to_list()
    assert issues == ["outcomes.fee_unknown_kind", "outcomes.held.case_unknown", "outcomes.held.other_office"]


def test_the_same_file_again_under_its_name_or_another_changes_nothing(tmp_path: Path) -> None:
    cfg = setup(tmp_path)
    deliver(cfg, "ergebnisse_1.xml", first_file())
    night.run_night(cfg, D1)
    before = facts(cfg)
    n_docs = len(read_index(cfg.state_dir, "stadt"))
    deliver(cfg, "ergebnisse_1.xml", first_file())
    deliver(cfg, "kopie.xml", first_file())
    deliver(cfg, "neu_gesendet.xml", outcomes_file(FIRST, FIRST_FEES, message_id="E-2"))   # other bytes, the same outcomes
    report = night.run_night(cfg, D2)
    assert report["files"] == {"duplicate": 2, "ok": 1} | {k: v for k, v in report["files"].items()
                                                           if k not in ("duplicate", "ok")}
    after = facts(cfg)
    assert all(after[t].equals(before[t]) for t in before), [t for t in before if not after[t].equals(before[t])]
    assert len(read_index(cfg.state_dir, "stadt")) == n_docs


def test_a_changed_outcome_under_the_same_id_is_held_and_books_nothing(tmp_path: Path) -> None:
    cfg = setup(tmp_path)
    deliver(cfg, "ergebnisse_1.xml", first_file())
    night.run_night(cfg, D1)
    claims_before = table(cfg, "SELECT count(*) AS n FROM claims")["n"][0]
    deliver(cfg, "korrektur.xml", outcomes_file([("A-1", "C1", 1, "paid", 19999, N)],
                                                [("A-1", "C1", 1, "pfaendung", 9900)], message_id="E-3"))
    night.run_night(cfg, D2)
    rows = table(cfg, "SELECT state, hold_reason, collected_cents FROM enforcement_outcomes "
                      "WHERE outcome_id = 'VS-DT|A-1|C1|1' ORDER BY collected_cents").rows()
    assert rows == [("held", OutcomeHold.CHANGED, 19999), ("booked", N, 20001)]
    assert table(cfg, "SELECT count(*) AS n FROM claims")["n"][0] == claims_before
    assert table(cfg, "SELECT count(*) AS n FROM enforcement_outcome_fees")["n"][0] == 3


def test_a_bad_outcome_is_rejected_and_the_rest_imported(tmp_path: Path) -> None:
    cfg = setup(tmp_path)
    data = outcomes_file([("A-1", "C1", 1, "paid", 20001, N), ("A-3", "C3", 1, "returned", 0, N)])
    data = data.replace(b"<Code>returned</Code>", b"<Code>vanished</Code>", 1)
    deliver(cfg, "teils.xml", data)
    night.run_night(cfg, D1)
    assert table(cfg, "SELECT case_number, state FROM enforcement_outcomes").rows() == [("C1", "booked")]
    assert files_rows(cfg, D1)[0][1] == "ok"
    rejected = table(cfg, "SELECT source_path, locator, message FROM issues WHERE code = 'outcomes.rejected'").rows()
    assert len(rejected) == 1
    path, locator, message = rejected[0]
    assert path.endswith("teils.xml") and locator.startswith("line ") and "Code" in locator
    assert "C3" in message and "vanished" in message


def test_a_broken_file_is_quarantined_with_its_reason(tmp_path: Path) -> None:
    cfg = setup(tmp_path)
    data = first_file()
    deliver(cfg, "kaputt.xml", data[: len(data) // 2])
    deliver(cfg, "fremd.xml", write_outcomes(header(tenant="andere"), *_one()))
    night.run_night(cfg, D1)
    got = {Path(p).name: (s, r) for p, s, _, r in files_rows(cfg, D1)}
    assert got["kaputt.xml"][0] == "rejected" and "not well-formed" in got["kaputt.xml"][1]
    assert got["fremd.xml"][0] == "rejected" and "andere" in got["fremd.xml"][1]
    assert (cfg.tenant_dir / "quarantine" / "kaputt.xml").exists()
    assert "not well-formed" in (cfg.tenant_dir / "quarantine" / "kaputt.xml.reason.txt").read_text()
    assert table(cfg, "SELECT count(*) AS n FROM enforcement_outcomes")["n"][0] == 0


def _one() -> tuple[pl.DataFrame, pl.DataFrame]:
    out = pl.DataFrame({"office_reference": ["A-1"], "case_number": ["C1"], "sequence": [1], "outcome": ["paid"],
                        "outcome_date": [D1], "collected_cents": [100]})
    return out, pl.DataFrame(schema={"office_reference": pl.String, "case_number": pl.String, "sequence": pl.Int64,
                                     "kind": pl.String, "amount_cents": pl.Int64})


@pytest.mark.parametrize("step", ["ingest", "book", "book.commit", "reports", "archive"])
def test_a_crash_before_or_after_the_commit_books_once_and_files_every_document(
        tmp_path: Path, step: str, monkeypatch: pytest.MonkeyPatch) -> None:
    cfg = setup(tmp_path)
    deliver(cfg, "ergebnisse_1.xml", first_file())
    fail_at(monkeypatch, step)
    with pytest.raises(InjectedFailure):
        night.run_night(cfg, D1)
    fail_at(monkeypatch, None)
    night.run_night(cfg, D1)
    _booked_once(cfg)


def test_a_crash_between_the_commit_and_the_filing_is_completed_by_the_next_run(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    cfg = setup(tmp_path)
    deliver(cfg, "ergebnisse_1.xml", first_file())

    def crash(*args: object, **kwargs: object) -> None:
        raise InjectedFailure("the reports fail right after the commit")

    monkeypatch.setattr(night.close, "write_reports", crash)
    with pytest.raises(InjectedFailure):
        night.run_night(cfg, D1)
    monkeypatch.undo()
    assert table(cfg, "SELECT count(*) AS n FROM enforcement_outcomes")["n"][0] == 5     # committed
    assert not [e for e in read_index(cfg.state_dir, "stadt") if e.get("kind") == DocumentKind.OUTCOME]
    night.run_night(cfg, D1)                    # the file is a duplicate now; the filing is caught up
    _booked_once(cfg)


def _booked_once(cfg: TenantConfig) -> None:
    assert table(cfg, "SELECT count(*) AS n FROM enforcement_outcomes")["n"][0] == 5
    assert table(cfg, "SELECT count(*) AS n FROM enforcement_outcome_fees")["n"][0] == 3
    assert table(cfg, "SELECT count(*) AS n FROM claims")["n"][0] == 3
    docs = [e for e in read_index(cfg.state_dir, "stadt") if e.get("kind") == DocumentKind.OUTCOME]
    assert len(docs) == 3


def test_written_off_stays_out_of_dunning_and_hand_off_and_returned_may_go_again(tmp_path: Path) -> None:
    cfg = setup(tmp_path)
    deliver(cfg, "ergebnisse_1.xml", first_file())
    night.run_night(cfg, D1)
    con = connect(cfg.ledger)
    try:
        blocks = outcome_blocks(con, "stadt")
        open_cases = open_case_claims(con, "stadt")
        everything = case_claims(con, "stadt")
    finally:
        con.close()
    assert blocks.select("receivable_id", "block_reason").rows() == [("R2", BlockReason.NIEDERSCHLAGUNG)]
    claims = pl.DataFrame({
        "receivable_id": ["R2", "R3"], "debtor_id": ["D-R2", "D-R3"], "kassenzeichen": [K[2], K[3]],
        "claim_type": ["GRUNDSTEUER"] * 2, "amount_cents": [10002, 10003], "due_date": [date(2026, 9, 1)] * 2,
        "debtor_name": ["Schuldner D-R2", "Schuldner D-R3"], "debtor_street": ["Ring 1"] * 2,
        "debtor_postcode": ["32756"] * 2, "debtor_city": ["Detmold"] * 2, "law": ["public"] * 2})
    mahnungen = pl.DataFrame({"receivable_id": ["R2", "R3"], "notice_id": ["M2", "M3"], "level": ["mahnung"] * 2,
                              "notice_date": [date(2026, 10, 1)] * 2, "deadline": [date(2026, 10, 8)] * 2})
    h = handoff_select(claims, D3, cfg.enforcement, cfg.dunning, mahnungen=mahnungen, blocks=blocks,
                       open_cases=open_cases)
    assert h.selected["receivable_id"].to_list() == ["R3"]          # returned: its case closed, handed again
    skip = h.skipped.row(0, named=True)
    assert (skip["receivable_id"], skip["reason"], skip["block_reason"]) == ("R2", HandoffSkip.BLOCKED,
                                                                              BlockReason.NIEDERSCHLAGUNG)
    d = dunning_select(claims, D3, cfg.dunning, blocks=blocks)
    assert "R2" not in d.selected["receivable_id"].to_list()
    assert d.skipped.filter(pl.col("receivable_id") == "R2")["reason"].to_list() == [SkipReason.BLOCKED]
    assert everything.filter(pl.col("receivable_id") == "R3")["closed_by"].to_list() == ["returned"]


def test_moved_records_the_new_address_and_shows_it_without_touching_the_export(tmp_path: Path) -> None:
    cfg = setup(tmp_path)
    out = pl.DataFrame({"office_reference": ["A-5"], "case_number": ["C2"], "sequence": [1], "outcome": ["moved"],
                        "outcome_date": [D1], "collected_cents": [0], "new_street": ["Neue Str. 9"],
                        "new_postcode": ["32657"], "new_city": ["Lemgo"]})
    deliver(cfg, "umzug.xml", write_outcomes(header(), out, _one()[1]))
    night.run_night(cfg, D1)
    assert table(cfg, "SELECT state, new_street, new_postcode, new_city, new_country FROM enforcement_outcomes").rows() \
        == [("booked", "Neue Str. 9", "32657", "Lemgo", "DE")]
    shown = table(cfg, "SELECT severity, message FROM issues WHERE code = 'outcomes.moved'").rows()
    assert shown and shown[0][0] == "info" and "Neue Str. 9, 32657 Lemgo" in shown[0][1]
    con = connect(cfg.ledger)
    try:
        assert open_case_claims(con, "stadt").filter(pl.col("case_number") == "C2").height == 1   # still in its case
    finally:
        con.close()
    assert table(cfg, "SELECT count(*) AS n FROM open_items WHERE debtor_street = 'Neue Str. 9'")["n"][0] == 0


def test_the_dunning_run_leaves_a_written_off_claim_alone(tmp_path: Path) -> None:
    (tmp_path / "kasse.toml").write_text(f'[tenant]\nid = "stadt"\n[[accounts]]\niban = "{ACCOUNT}"\n', encoding="utf-8")
    cfg = load_tenant_config(tmp_path / "kasse.toml")
    monday, wednesday = date(2026, 11, 16), date(2026, 11, 18)
    write_open_items(cfg.inbox / "export.csv", [("R0", K[0], 15000), ("R1", K[1], 9900)], due=date(2026, 10, 1))
    write_mt940(cfg.inbox / "bank.sta", day=monday, seq=1, opening=100000, entries=[Entry(-350, "Kontofuehrung")])
    night.run_night(cfg, monday)
    con = connect(cfg.ledger)
    try:
        con.execute("INSERT INTO enforcement_cases (tenant, run_id, case_number, debtor_id, opened_on, handed_off_on, "
                    "office_id) VALUES ('stadt', 'h1', 'C1', 'D-R1', DATE '2026-11-02', DATE '2026-11-02', 'VS')")
        con.execute("INSERT INTO enforcement_case_claims (tenant, run_id, case_number, receivable_id, debtor_id, "
                    "handed_off_on) VALUES ('stadt', 'h1', 'C1', 'R1', 'D-R1', DATE '2026-11-02')")
        con.execute("INSERT INTO enforcement_outcomes (tenant, run_id, outcome_id, case_number, outcome, outcome_date, "
                    "state) VALUES ('stadt', 'n1', 'VS|1|C1|1', 'C1', 'written_off', DATE '2026-11-10', 'booked')")
    finally:
        con.close()
    out = run_dunning(cfg, wednesday, user="anna")
    assert out.counts["blocked"] == {"NIEDERSCHLAGUNG": 1} and out.counts["n_notices"] == 1
    skipped = pl.read_parquet(Path(out.paths["run_folder"]) / "skipped_prepare.parquet")
    assert skipped.select("receivable_id", "reason", "block_reason").rows() == [("R1", "blocked", "NIEDERSCHLAGUNG")]
