"""The hand-off job over a real ledger: dunning booked → days pass → prepare → release by another user →
book → the batch in the outbox (XSD-valid, read back, counts and sums equal to the ledger), the case file;
never twice; a later claim joins the open case; four-eyes; a claim paid between prepare and book; a crash
at every checkpoint; the accrued surcharge becomes a fee claim."""

from __future__ import annotations

import json
import shutil
from datetime import UTC, date, datetime
from pathlib import Path

import polars as pl
import pytest
from faults import InjectedFailure, fail_at
from nightly_files import ACCOUNT, Entry, kz, write_mt940

import jobs.nightly as night
from claims.config import TenantConfig, load_tenant_config
from claims.vocab import BlockReason, DocumentKind, SubjectKind
from enforcement.cases import case_number_valid
from enforcement.handoff_file import read_handoff
from jobs.dunning import release as release_dunning
from jobs.dunning import run_dunning
from jobs.handoff import release, run_handoff
from jobs.handoff.record import read_record
from jobs.handoff.steps import STEPS, outbox_dir
from ledger.block_journal import set_block
from ledger.booking import book
from ledger.db import connect, fetch, row_counts
from ledger.documents import documents_of, read_index, read_object
from ledger.journal import JournalError
from ledger.publish_handoff import read_handoff_published
from ledger.release_journal import read_releases
from outputs.atomic import verify

D1 = date(2026, 11, 16)                   # Monday: the export (due 1 Oct) and a statement
DUN = date(2026, 11, 18)                  # Wednesday: the Mahnung (deadline a week later + post)
HANDOFF = date(2026, 12, 9)               # three weeks later: the Mahnfrist and the buffers have run out
K = [kz(i) for i in range(8)]
DUE = date(2026, 10, 1)
HEAD = ("receivable_id;kassenzeichen;debtor_id;debtor_name;debtor_iban;claim_type;amount;due_date;debtor_street;"
        "debtor_postcode;debtor_city")
ROWS = (f"R0;{K[0]};A;Anna Alt;;GRUNDSTEUER;150,00;{DUE};Markt 1;33602;Musterstadt",
        f"R1;{K[1]};B;Bernd Bau;;GRUNDSTEUER;99,00;{DUE};Weg 2;33602;Musterstadt",
        f"R2;{K[2]};C;Carla Cent;;GRUNDSTEUER;50,00;{DUE};Gasse 3;33602;Musterstadt")


def tenant(tmp_path: Path) -> TenantConfig:
    (tmp_path / "kasse.toml").write_text(
        f'[tenant]\nid = "stadt"\nname = "Stadt Musterstadt"\n[[accounts]]\niban = "{ACCOUNT}"\n'
        '[letters]\nsender_street = "Rathausplatz 1"\nsender_postcode = "33602"\nsender_city = "Musterstadt"\n'
        '[enforcement]\noffice_id = "VS-MU"\noffice_name = "Vollstreckungsstelle Musterstadt"\n'
        'office_street = "Amtsweg 5"\noffice_postcode = "33602"\noffice_city = "Musterstadt"\n', encoding="utf-8")
    return load_tenant_config(tmp_path / "kasse.toml")


def export(cfg: TenantConfig, name: str, rows: tuple[str, ...] = ROWS) -> None:
    path = cfg.inbox / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join([HEAD, *rows]) + "\n", encoding="utf-8")


def dunned(cfg: TenantConfig) -> None:
    """The export and Monday's statement, then the week's dunning run prepared, released and booked."""
    export(cfg, "export_1116.csv")
    write_mt940(cfg.inbox / "s_1116.sta", day=D1, seq=1, opening=100000, entries=[Entry(-350, "Kontofuehrung")])
    night.run_night(cfg, D1)
    out = run_dunning(cfg, DUN, user="anna")
    assert out.status == "prepared" and out.run_id
    release_dunning(cfg, out.run_id, user="sven", role="supervisor")
    assert run_dunning(cfg, DUN, user="anna").status == "booked"


def q(cfg: TenantConfig, sql: str) -> pl.DataFrame:
    con = connect(cfg.ledger)
    try:
        return fetch(con, sql)
    finally:
        con.close()


def counts(cfg: TenantConfig) -> dict[str, int]:
    con = connect(cfg.ledger)
    try:
        return row_counts(con)
    finally:
        con.close()


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tenant whose week of dunning is booked (built once; each test works on a copy)."""
    root = tmp_path_factory.mktemp("dunned")
    dunned(tenant(root))
    return root


def copy_of(template: Path, tmp_path: Path) -> TenantConfig:
    shutil.copytree(template, tmp_path / "t", symlinks=True)   # the snapshots' links are relative
    return load_tenant_config(tmp_path / "t" / "kasse.toml")


def prepared(cfg: TenantConfig, day: date = HANDOFF) -> str:
    out = run_handoff(cfg, day, user="anna")
    assert out.status == "prepared" and out.run_id, out
    return out.run_id


def test_dunned_then_handed_over_once_released_by_another_person(template: Path, tmp_path: Path) -> None:
    cfg = copy_of(template, tmp_path)
    before = counts(cfg)
    out = run_handoff(cfg, HANDOFF, user="anna")
    assert out.status == "prepared" and out.run_id
    c = out.counts
    assert (c["n_cases"], c["n_new_cases"], c["n_claims"], c["n_file_claims"], c["n_fee_claims"]) == (3, 3, 12, 9, 3)
    assert counts(cfg) == before and not outbox_dir(cfg).exists()         # preparing books and sends nothing
    draft = json.loads((Path(out.paths["run_folder"]) / "prepared" / "manifest.json").read_text(encoding="utf-8"))
    assert draft["draft"] is True and draft["prepared_by"] == "anna" and draft["released_by"] is None
    pub = read_handoff_published(cfg.state_dir, "stadt")
    assert pub.runs.select("run_id", "status", "prepared_by", "n_cases").rows() == [(out.run_id, "prepared", "anna", 3)]
    assert sorted(pub.cases["debtor_id"]) == ["A", "B", "C"]
    assert run_handoff(cfg, HANDOFF, user="anna").status == "prepared"     # no release yet: shown again

    with pytest.raises(JournalError, match="four-eyes"):
        release(cfg, out.run_id, user="anna", role="supervisor")          # the preparer
    with pytest.raises(JournalError, match="supervisor"):
        release(cfg, out.run_id, user="ben", role="clerk")
    release(cfg, out.run_id, user="sven", role="supervisor")
    assert read_handoff_published(cfg.state_dir, "stadt").runs["status"].to_list() == ["released"]   # laid over
    booked = run_handoff(cfg, HANDOFF, user="anna")
    assert (booked.status, booked.run_id) == ("booked", out.run_id) and booked.counts["dropped"] == {}

    # the outbox: one folder per batch, files then manifest, the XML valid and equal to the ledger
    folder = outbox_dir(cfg) / f"handoff_20261209_{out.run_id[-8:]}"
    assert sorted(p.name for p in folder.iterdir()) == ["handoff.csv", "handoff.xml", "manifest.json",
                                                         "uebergabeliste.pdf"]
    assert verify(folder) == []
    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    assert (manifest["draft"], manifest["released_by"], manifest["prepared_by"]) == (False, "sven", "anna")
    back = read_handoff(folder / "handoff.xml")                           # validated against the XSD on reading
    assert back.rejected.height == 0 and back.header.receiver.name == "Vollstreckungsstelle Musterstadt"
    assert back.header.creditor.name == "Stadt Musterstadt" and back.header.creditor.street == "Rathausplatz 1"
    ledger_cases = q(cfg, "SELECT case_number, debtor_id, new, total_cents, message_id, released_by, prepared_by "
                          "FROM enforcement_cases ORDER BY debtor_id")
    assert ledger_cases["debtor_id"].to_list() == ["A", "B", "C"]
    assert set(ledger_cases["message_id"]) == {back.header.message_id}
    assert set(ledger_cases["released_by"]) == {"sven"} and set(ledger_cases["prepared_by"]) == {"anna"}
    assert all(case_number_valid(n) for n in ledger_cases["case_number"])
    assert sorted(back.cases["case_number"]) == sorted(ledger_cases["case_number"])
    claims = q(cfg, "SELECT case_number, receivable_id, handed_cents, kassenzeichen, ancillary FROM enforcement_case_claims")
    assert claims.height == 12 and claims["receivable_id"].n_unique() == 12
    file_total = int(back.claims.select(pl.sum_horizontal("principal_cents", "surcharges_cents", "fees_cents")).sum()
                     .item())
    assert file_total == int(claims["handed_cents"].sum()) == int(ledger_cases["total_cents"].sum()) == 32599
    per_case = claims.group_by("case_number").agg(pl.col("handed_cents").sum()).sort("case_number")
    assert per_case.rows() == ledger_cases.select("case_number", "total_cents").sort("case_number").rows()
    assert back.claims.filter(pl.col("principal_cents") > 0)["principal_cents"].sort().to_list() == [5000, 9900, 15000]

    # the case file: one hand-off record per case, the case's own XSD-valid message
    # (read back: XSD, the header's counts and control sums of the one case)
    index = read_index(cfg.state_dir, "stadt")
    in_files = 0
    for number, total in ledger_cases.select("case_number", "total_cents").iter_rows():
        docs = {d["kind"]: d for d in documents_of(index, SubjectKind.CASE, number)}
        assert set(docs) == {DocumentKind.HANDOFF, DocumentKind.NOTICE_EXPORT}
        doc = docs[DocumentKind.HANDOFF]
        assert doc["media_type"] == "application/xml"
        # the claims' notices as exported: one CSV row per export row of the case's claims from the export
        notices = read_object(cfg.state_dir, "stadt", docs[DocumentKind.NOTICE_EXPORT]["sha256"]).decode("utf-8-sig")
        exported = claims.filter((pl.col("case_number") == number) & ~pl.col("ancillary"))["kassenzeichen"]
        assert notices.startswith("eingelesen am (UTC);") and all(kz in notices for kz in exported.to_list())
        own = read_handoff(read_object(cfg.state_dir, "stadt", doc["sha256"]))
        assert own.rejected.height == 0 and own.count_in == 1
        assert own.cases["case_number"].to_list() == [number] and own.header.message_id == back.header.message_id
        mine = int(own.claims.select(pl.sum_horizontal("principal_cents", "surcharges_cents", "fees_cents")).sum()
                   .item())
        assert mine == total
        in_files += mine
    assert in_files == file_total

    # booked once: the same day again, and a later day (every claim is in an open case) book nothing
    after = counts(cfg)
    again = run_handoff(cfg, HANDOFF, user="anna")
    assert (again.status, again.run_id) == ("nothing_to_do", out.run_id) and "booked already" in again.message
    later = run_handoff(cfg, date(2026, 12, 16), user="anna")
    assert later.status == "nothing_to_do" and set(later.counts["skipped"]) == {"in_enforcement"}
    assert later.counts["skipped"]["in_enforcement"] == 12
    assert counts(cfg) == after and len(read_index(cfg.state_dir, "stadt")) == len(index)
    assert read_record(cfg, HANDOFF).stage == "done"                       # type: ignore[union-attr]
    pub = read_handoff_published(cfg.state_dir, "stadt")
    assert pub.runs.select("status", "released_by").rows() == [("booked", "sven")]


def test_the_surcharge_accrued_to_the_handoff_day_becomes_a_fee_claim_in_the_case(template: Path,
                                                                                  tmp_path: Path) -> None:
    cfg = copy_of(template, tmp_path)
    release(cfg, prepared(cfg), user="sven", role="supervisor")
    run_handoff(cfg, HANDOFF, user="anna")
    # due Thu 1 Oct: the Mahnung of 18 Nov booked two started months (1 % of the amount rounded down to
    # 50 €): 150 € → 3,00 €, 99 € / 50 € → 1,00 €; by 9 Dec a third month has started: 1,50 €, 0,50 €, 0,50 €
    fees = q(cfg, "SELECT c.parent_receivable_id, c.claim_type, c.amount_cents, c.origin, c.due_date, "
                  "e.case_number IS NOT NULL AS in_case, e.ancillary, e.basis FROM claims c "
                  "LEFT JOIN enforcement_case_claims e USING (receivable_id) "
                  "WHERE c.run_id LIKE '%handoff%' ORDER BY 1")
    assert fees.rows() == [("R0", "SAEUMNISZUSCHLAG", 150, "fee", HANDOFF, True, True, "vwvg_6_4"),
                           ("R1", "SAEUMNISZUSCHLAG", 50, "fee", HANDOFF, True, True, "vwvg_6_4"),
                           ("R2", "SAEUMNISZUSCHLAG", 50, "fee", HANDOFF, True, True, "vwvg_6_4")]
    mains = q(cfg, "SELECT receivable_id, saeumniszuschlag_accrued_cents, saeumniszuschlag_new_cents "
                   "FROM enforcement_case_claims WHERE NOT ancillary ORDER BY 1")
    assert mains.rows() == [("R0", 450, 150), ("R1", 150, 50), ("R2", 150, 50)]
    # the main claim and its fee claims in one case
    same = q(cfg, "SELECT main_receivable_id, count(DISTINCT case_number) AS n, count(*) AS k "
                  "FROM enforcement_case_claims GROUP BY 1 ORDER BY 1")
    assert same.rows() == [("R0", 1, 4), ("R1", 1, 4), ("R2", 1, 4)]   # main, Mahngebühr, SZ (dunning), SZ (now)


def test_a_claim_paid_between_prepare_and_book_is_dropped_and_reported(template: Path, tmp_path: Path) -> None:
    cfg = copy_of(template, tmp_path)
    run_id = prepared(cfg)
    release(cfg, run_id, user="sven", role="supervisor")
    # Thursday's night: Bernd pays R1 in full; then a clerk blocks Carla (Stundung)
    write_mt940(cfg.inbox / "s_1210.sta", day=date(2026, 12, 8), seq=2, opening=99650,
                entries=[Entry(9900, f"KZ {K[1]}", name="Bernd Bau")])
    night.run_night(cfg, date(2026, 12, 8))
    set_block(cfg.state_dir, "stadt", debtor_id="C", reason=BlockReason.STUNDUNG, until=date(2027, 2, 28),
              note="Antrag", user="ben", role="clerk", start=date(2026, 12, 8))
    out = run_handoff(cfg, HANDOFF, user="anna")
    assert (out.status, out.run_id) == ("booked", run_id)
    assert out.counts["n_cases"] == 1 and out.counts["n_dropped_cases"] == 2
    assert out.counts["dropped"] == {"nothing_open": 1, "main_claim_closed": 2, "blocked": 3}   # R1, its fees; C
    assert q(cfg, "SELECT debtor_id FROM enforcement_cases")["debtor_id"].to_list() == ["A"]
    events = q(cfg, "SELECT subject, detail FROM audit_events WHERE event = 'handoff.dropped' ORDER BY 1")
    reasons = {s: json.loads(d)["reason"] for s, d in events.iter_rows()}
    assert reasons["R1"] == "nothing_open" and reasons["R2"] == "blocked"
    pub = read_handoff_published(cfg.state_dir, "stadt")
    assert sorted(pub.dropped["debtor_id"].unique()) == ["B", "C"]
    back = read_handoff(next(outbox_dir(cfg).glob("*/handoff.xml")))
    assert back.cases["debtor_id"].to_list() == ["A"]


def test_nothing_enforceable_is_nothing_to_do_and_records_nothing(template: Path, tmp_path: Path) -> None:
    cfg = copy_of(template, tmp_path)
    out = run_handoff(cfg, date(2026, 11, 30), user="anna")               # the Mahnfrist has not run out
    assert out.status == "nothing_to_do" and out.counts["skipped"] == {"mahnfrist": 3, "main_claim_skipped": 6}
    assert read_record(cfg, date(2026, 11, 30)) is None


PREPARE_POINTS = [name for name, _ in STEPS["prepare"]]
BOOK_POINTS = ["reconcile", "stage", "book", "book.enforcement_cases", "book.claims", "book.commit", "outbox",
               "documents", "publish", "done"]


@pytest.mark.parametrize("point", [*PREPARE_POINTS, *BOOK_POINTS])
def test_a_crash_at_any_checkpoint_leaves_the_ledger_as_it_was_and_the_rerun_books_once(
        template: Path, tmp_path: Path, point: str, monkeypatch: pytest.MonkeyPatch) -> None:
    cfg = copy_of(template, tmp_path)
    before = counts(cfg)
    fail_at(monkeypatch, point)
    for _ in range(6):                                                 # prepare, release, book: with one crash
        try:
            out = run_handoff(cfg, HANDOFF, user="anna")
        except InjectedFailure:
            fail_at(monkeypatch, None)
            if point in PREPARE_POINTS or point in ("reconcile", "stage", "book") or point.startswith("book."):
                assert counts(cfg) == before                           # nothing booked before the commit
            continue
        if out.status == "prepared":
            rec = read_record(cfg, HANDOFF)
            assert rec is not None
            if rec.run_id not in read_releases(cfg.state_dir, "stadt"):
                release(cfg, rec.run_id, user="sven", role="supervisor")
        elif out.status in ("booked", "nothing_to_do"):
            break
    else:
        pytest.fail("the hand-off was not booked")
    after = counts(cfg)
    assert (after["enforcement_cases"], after["enforcement_case_claims"]) == (3, 12)
    assert after["claims"] == before["claims"] + 3 and after["runs"] == before["runs"] + 1
    assert read_record(cfg, HANDOFF).stage == "done"                   # type: ignore[union-attr]
    assert len(list(outbox_dir(cfg).glob("*/manifest.json"))) == 1
    docs = [e for e in read_index(cfg.state_dir, "stadt") if e.get("kind") == DocumentKind.HANDOFF]
    assert len(docs) == 3
    assert run_handoff(cfg, HANDOFF, user="anna").status == "nothing_to_do"
    assert counts(cfg) == after


def close_days(cfg: TenantConfig, days: list[date]) -> None:
    """Day closes for ``days`` booked directly (what nights without statements would leave)."""
    run_id = f"closes-{days[0]}"
    runs = pl.DataFrame([{"tenant": "stadt", "run_id": run_id, "booking_date": days[-1], "job": "nightly",
                          "mode": "plain", "started_at": datetime.now(UTC)}])
    closes = pl.DataFrame([{"tenant": "stadt", "run_id": run_id, "kind": "close", "booking_date": d,
                            "account_iban": ACCOUNT, "closed_on": d, "status": "ok"} for d in days])
    con = connect(cfg.ledger)
    try:
        book(con, {"runs": runs, "day_closes": closes}, run_id=run_id)
    finally:
        con.close()


def test_a_later_claim_of_the_same_debtor_joins_the_open_case(template: Path, tmp_path: Path) -> None:
    cfg = copy_of(template, tmp_path)
    release(cfg, prepared(cfg), user="sven", role="supervisor")
    run_handoff(cfg, HANDOFF, user="anna")
    first = dict(q(cfg, "SELECT debtor_id, case_number FROM enforcement_cases").iter_rows())
    # a new export brings Anna's R5 (40 €, due 16 Nov); the next dunning week dunns it
    export(cfg, "export_1210.csv", (*ROWS, f"R5;{K[5]};A;Anna Alt;;ABFALL;40,00;2026-11-16;Markt 1;33602;Musterstadt"))
    write_mt940(cfg.inbox / "s_1210.sta", day=date(2026, 12, 10), seq=2, opening=99650, entries=[Entry(-100, "Gebuehr")])
    night.run_night(cfg, date(2026, 12, 10))
    days = pl.date_range(date(2026, 11, 17), date(2026, 12, 15), eager=True)
    close_days(cfg, [d for d in days.to_list() if d.weekday() < 5 and d != date(2026, 12, 10)])
    dun = run_dunning(cfg, date(2026, 12, 16), user="anna")
    assert dun.status == "prepared" and dun.run_id
    release_dunning(cfg, dun.run_id, user="sven", role="supervisor")
    assert run_dunning(cfg, date(2026, 12, 16), user="anna").status == "booked"
    day = date(2027, 1, 13)
    out = run_handoff(cfg, day, user="anna")
    assert out.status == "prepared" and out.counts["n_new_cases"] == 0, out.counts
    release(cfg, out.run_id, user="sven", role="supervisor")           # type: ignore[arg-type]
    assert run_handoff(cfg, day, user="anna").status == "booked"
    second = q(cfg, f"SELECT debtor_id, case_number, new, opened_on FROM enforcement_cases WHERE run_id = '{out.run_id}'")
    assert second.filter(pl.col("debtor_id") == "A").rows() == [("A", first["A"], False, HANDOFF)]
    assert set(second["new"]) == {False} and all(first[d] == n for d, n in second.select("debtor_id", "case_number")
                                                 .iter_rows())
    r5 = q(cfg, "SELECT case_number, handed_off_on FROM enforcement_case_claims WHERE receivable_id = 'R5'")
    assert r5.rows() == [(first["A"], day)]
    # no claim of the first hand-off was handed over again
    twice = q(cfg, "SELECT receivable_id FROM enforcement_case_claims GROUP BY 1 HAVING count(*) > 1")
    assert twice.height == 0
    back = read_handoff(outbox_dir(cfg) / f"handoff_20270113_{out.run_id[-8:]}" / "handoff.xml")  # type: ignore[index]
    assert first["A"] in back.cases["case_number"].to_list()


def test_a_release_whose_cases_were_all_dropped_books_the_day_and_sends_nothing(template: Path,
                                                                                 tmp_path: Path) -> None:
    cfg = copy_of(template, tmp_path)
    release(cfg, prepared(cfg), user="sven", role="supervisor")
    for debtor in ("A", "B", "C"):
        set_block(cfg.state_dir, "stadt", debtor_id=debtor, reason=BlockReason.INSOLVENZ, until=date(2027, 1, 31),
                  note="Insolvenzantrag", user="ben", role="clerk", start=date(2026, 12, 8))
    before = counts(cfg)
    out = run_handoff(cfg, HANDOFF, user="anna")
    assert out.status == "booked" and out.counts["n_cases"] == 0 and out.counts["dropped"] == {"blocked": 9}
    after = counts(cfg)
    assert after["enforcement_cases"] == after["enforcement_case_claims"] == 0 and after["claims"] == before["claims"]
    assert after["runs"] == before["runs"] + 1                           # the day is booked: not prepared again
    assert not outbox_dir(cfg).exists() and not (Path(out.paths["run_folder"]) / "final").exists()
    assert not [e for e in read_index(cfg.state_dir, "stadt") if e.get("kind") == DocumentKind.HANDOFF]
    assert run_handoff(cfg, HANDOFF, user="anna").status == "nothing_to_do"
