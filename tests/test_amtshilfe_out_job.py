"""Requests going out (issue 18 §4) over a real ledger: the hand-off routes a debtor outside the district to
the competent authority of the directory (one Requests XML per authority, XSD-valid, released with the
batch, booked in migration 13), holds a debtor no authority is found for, never sends twice; the nightly
reads the authority's answers (a Rückgabe frees the claims for our office; unknown references are issues);
a debtor who pays us directly settles the request and a Rücknahme goes out; a crash on the booking books
nothing twice."""

from __future__ import annotations

import json
import shutil
from datetime import date, datetime
from pathlib import Path

import polars as pl
import pytest
from faults import InjectedFailure, fail_at
from nightly_files import ACCOUNT, Entry, kz, write_mt940

import jobs.nightly as night
from amtshilfe import model
from amtshilfe.xml_format import read_requests, write_answers
from claims.config import TenantConfig, load_tenant_config
from claims.vocab import ErsuchenCheck, ErsuchenMessage, OutgoingState
from jobs.dunning import release as release_dunning
from jobs.dunning import run_dunning
from jobs.handoff import release, run_handoff
from jobs.handoff.record import read_record
from jobs.handoff.steps import STEPS
from ledger.amtshilfe_out import open_out_claims, out_requests
from ledger.db import connect, fetch, row_counts
from ledger.release_journal import read_releases

D1 = date(2026, 11, 16)
DUN = date(2026, 11, 18)
HANDOFF = date(2026, 12, 9)
LATER = date(2026, 12, 16)
K = [kz(i) for i in range(8)]
DUE = date(2026, 10, 1)
HEAD = ("receivable_id;kassenzeichen;debtor_id;debtor_name;debtor_iban;claim_type;amount;due_date;debtor_street;"
        "debtor_postcode;debtor_city")
ROWS = (f"R0;{K[0]};A;Anna Alt;;GRUNDSTEUER;150,00;{DUE};Markt 1;33602;Musterstadt",       # in the district
        f"R1;{K[1]};B;Bernd Bau;;GRUNDSTEUER;99,00;{DUE};Klemensstraße 1;48143;Münster",    # Münster's office
        f"R2;{K[2]};C;Carla Cent;;GRUNDSTEUER;50,00;{DUE};Gasse 3;99998;Nirgendwo")        # nobody listed
DIRECTORY = ("postcode;ags;authority_id;authority_name;authority_street;authority_postcode;authority_city;exchange\n"
             "48143;05515000;VS-MS;Stadt Münster, Vollstreckung;Klemensstraße 10;48143;Münster;xta:vs-ms\n")


def tenant(root: Path) -> TenantConfig:
    (root / "authorities.csv").write_text(DIRECTORY, encoding="utf-8")
    (root / "kasse.toml").write_text(
        f'[tenant]\nid = "stadt"\nname = "Stadt Musterstadt"\n[[accounts]]\niban = "{ACCOUNT}"\n'
        '[letters]\nsender_street = "Rathausplatz 1"\nsender_postcode = "33602"\nsender_city = "Musterstadt"\n'
        '[enforcement]\noffice_id = "VS-MU"\noffice_name = "Vollstreckungsstelle Musterstadt"\n'
        'office_street = "Amtsweg 5"\noffice_postcode = "33602"\noffice_city = "Musterstadt"\n'
        '[amtshilfe]\ndistrict_postcodes = ["33602"]\nauthorities_file = "authorities.csv"\n', encoding="utf-8")
    return load_tenant_config(root / "kasse.toml")


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


def blocked(cfg: TenantConfig) -> list[str]:
    """The claims the dunning run leaves out because a request is open (``open_out_claims``)."""
    con = connect(cfg.ledger)
    try:
        return sorted(open_out_claims(con, "stadt")["receivable_id"].to_list())
    finally:
        con.close()


def state_of(cfg: TenantConfig) -> dict[str, str | None]:
    con = connect(cfg.ledger)
    try:
        got = out_requests(con, "stadt")
    finally:
        con.close()
    return dict(zip(got["debtor_id"].to_list(), got["state"].to_list(), strict=True))


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The export, a statement and a booked week of dunning (built once; each test works on a copy)."""
    root = tmp_path_factory.mktemp("out")
    cfg = tenant(root)
    cfg.inbox.mkdir(parents=True, exist_ok=True)
    (cfg.inbox / "export_1116.csv").write_text("\n".join([HEAD, *ROWS]) + "\n", encoding="utf-8")
    write_mt940(cfg.inbox / "s_1116.sta", day=D1, seq=1, opening=100000, entries=[Entry(-350, "Kontofuehrung")])
    night.run_night(cfg, D1)
    out = run_dunning(cfg, DUN, user="anna")
    release_dunning(cfg, out.run_id or "", user="sven", role="supervisor")
    assert run_dunning(cfg, DUN, user="anna").status == "booked"
    return root


def copy_of(template: Path, tmp_path: Path) -> TenantConfig:
    shutil.copytree(template, tmp_path / "t", symlinks=True)
    return load_tenant_config(tmp_path / "t" / "kasse.toml")


def handed(cfg: TenantConfig, day: date = HANDOFF) -> str:
    """Prepare, release (another person), book the hand-off of ``day``."""
    out = run_handoff(cfg, day, user="anna")
    assert out.status == "prepared" and out.run_id, out
    release(cfg, out.run_id, user="sven", role="supervisor")
    assert run_handoff(cfg, day, user="anna").status == "booked"
    return out.run_id


def out_files(cfg: TenantConfig) -> list[Path]:
    return sorted((cfg.tenant_dir / "outbox" / "amtshilfe_out").glob("*/*.xml"))


def test_a_debtor_outside_the_district_goes_to_the_competent_authority_once_released(template: Path,
                                                                                     tmp_path: Path) -> None:
    cfg = copy_of(template, tmp_path)
    before = counts(cfg)
    out = run_handoff(cfg, HANDOFF, user="anna")
    assert out.status == "prepared" and out.run_id
    c = out.counts
    # Anna (33602) to our office; Bernd (48143) to Münster; Carla (99998): no authority, held for a person
    assert (c["n_cases"], c["n_out_requests"], c["n_out_held"]) == (1, 1, 1)
    assert c["skipped"] == {"no_competent_authority": 3}                  # R2 and its two fee claims
    assert counts(cfg) == before and out_files(cfg) == []                 # preparing books and sends nothing
    draft = Path(out.paths["run_folder"]) / "prepared" / "amtshilfe_out" / "VS-MS"
    assert [p.suffix for p in draft.iterdir()] == [".xml"]

    release(cfg, out.run_id, user="sven", role="supervisor")              # the same four-eyes release
    booked = run_handoff(cfg, HANDOFF, user="anna")
    assert booked.status == "booked" and booked.counts["n_out_requests"] == 1
    assert q(cfg, "SELECT debtor_id FROM enforcement_cases")["debtor_id"].to_list() == ["A"]
    req = q(cfg, "SELECT * FROM amtshilfe_out_requests").row(0, named=True)
    assert (req["debtor_id"], req["authority_id"], req["exchange"], req["prepared_by"], req["released_by"]) == (
        "B", "VS-MS", "xta:vs-ms", "anna", "sven")
    claims = q(cfg, "SELECT receivable_id, claim_type, open_cents FROM amtshilfe_out_claims ORDER BY 1")
    assert claims.rows() == [("GEB-900000000036-1", "MAHNGEBUEHR", 649), ("GEB-900000000036-2", "SAEUMNISZUSCHLAG", 100),
                             ("R1", "GRUNDSTEUER", 9900)]
    assert state_of(cfg) == {"B": OutgoingState.SENT}
    assert blocked(cfg) == ["GEB-900000000036-1", "GEB-900000000036-2", "R1"]   # no dunning while it is out
    # the claims stay in our books, open
    assert q(cfg, "SELECT count(*) AS n FROM claims WHERE parent_receivable_id = 'R1'")["n"][0] == 2

    # the file: in the authority's folder, valid against the XSD (read back), equal to the ledger
    [path] = out_files(cfg)
    assert path.parent.name == "VS-MS"
    manifest = json.loads(path.with_name(path.stem + ".manifest.json").read_text(encoding="utf-8"))
    assert manifest["files"][0]["file_name"] == path.name and manifest["n_requests"] == 1
    back = read_requests(path)
    assert back.rejected.height == 0
    assert (back.header.sender.authority_id, back.header.receiver.authority_id) == ("VS-MU", "VS-MS")
    e = back.data.requests.row(0, named=True)
    assert (e["creditor_file_number"], e["debtor_name"], e["debtor_postcode"], e["payment_reference"]) == (
        req["file_number"], "Bernd Bau", "48143", K[1])
    n = back.data.notices.row(0, named=True)
    assert (n["notice_file_number"], n["principal_cents"], n["surcharge_cents"], n["costs_cents"]) == (
        K[1], 9900, 100, 649)
    assert req["total_cents"] == 10649 == manifest["total_cents"]


def test_never_sent_twice_and_the_claims_are_skipped_while_the_request_is_open(template: Path,
                                                                                tmp_path: Path) -> None:
    cfg = copy_of(template, tmp_path)
    handed(cfg)
    after = counts(cfg)
    assert run_handoff(cfg, HANDOFF, user="anna").status == "nothing_to_do"   # the day is booked
    later = run_handoff(cfg, LATER, user="anna")                              # a week later: nothing new
    assert later.status == "nothing_to_do"
    assert later.counts["skipped"]["in_enforcement"] == 3 + 4                 # Bernd's (with Münster), Anna's
    assert later.counts["n_out_requests"] == 0 and len(out_files(cfg)) == 1
    assert counts(cfg) == after


def answers_file(cfg: TenantConfig, name: str, rueckgaben: list[dict[str, object]],
                 sachstand: list[dict[str, object]] | None = None, sender: str = "VS-MS") -> Path:
    header = model.Header(message_id=f"MS-{name}", created=datetime(2026, 12, 10, 9, 0),
                          sender=model.Body("Stadt Münster", sender), receiver=model.Body("Stadt Musterstadt", "VS-MU"))
    data = model.answers(pl.DataFrame(rueckgaben) if rueckgaben else None,
                         pl.DataFrame(sachstand) if sachstand else None)
    path = cfg.inbox / f"{name}.xml"
    path.write_bytes(write_answers(header, data))
    return path


def night_of(cfg: TenantConfig, day: date, seq: int, opening: int, entries: list[Entry]) -> None:
    write_mt940(cfg.inbox / f"s_{day:%m%d}.sta", day=day, seq=seq, opening=opening, entries=entries)
    night.run_night(cfg, day)


def test_a_rueckgabe_frees_the_claims_for_our_office_and_unknown_answers_are_issues(template: Path,
                                                                                     tmp_path: Path) -> None:
    cfg = copy_of(template, tmp_path)
    handed(cfg)
    number = q(cfg, "SELECT file_number FROM amtshilfe_out_requests")["file_number"][0]
    day = date(2026, 12, 10)
    ref = {"creditor_id": "VS-MU", "message_date": day}
    sent = answers_file(cfg, "ms_1210", [{**ref, "message_id": "M1", "creditor_file_number": number,
                                   "reason": ErsuchenCheck.NOT_COMPETENT, "text": "Schuldner verzogen nach Köln"}],
                 [{**ref, "message_id": "M2", "creditor_file_number": "STADT-2026-999999-X", "code": "accepted"}])
    data = sent.read_bytes()
    night_of(cfg, day, 2, 99650, [Entry(-100, "Kontofuehrung")])
    ev = q(cfg, "SELECT kind, state, reason, text FROM amtshilfe_out_events WHERE kind <> 'sent'")
    assert ev.rows() == [("returned", "returned", "not_competent", "Schuldner verzogen nach Köln")]
    assert state_of(cfg) == {"B": OutgoingState.RETURNED} and blocked(cfg) == []
    issues = q(cfg, "SELECT code, message FROM issues WHERE code LIKE 'amtshilfe.%' ORDER BY code")
    assert issues["code"].to_list() == ["amtshilfe.answer_unknown", "amtshilfe.out_returned"]
    assert "Schuldner verzogen nach Köln" in issues["message"][1]
    # the same file again books nothing
    (cfg.inbox / "ms_again.xml").write_bytes(data)
    night_of(cfg, date(2026, 12, 11), 3, 99550, [Entry(-100, "Kontofuehrung")])
    assert q(cfg, "SELECT count(*) AS n FROM amtshilfe_out_events")["n"][0] == 2
    # the next hand-off gives Bernd's claims to our own office; nothing goes to Münster again
    handed(cfg, LATER)
    assert sorted(q(cfg, "SELECT DISTINCT debtor_id FROM enforcement_cases")["debtor_id"]) == ["A", "B"]
    assert len(out_files(cfg)) == 1


def test_a_direct_payment_settles_the_request_and_a_ruecknahme_goes_out(template: Path, tmp_path: Path) -> None:
    cfg = copy_of(template, tmp_path)
    handed(cfg)
    number = q(cfg, "SELECT file_number FROM amtshilfe_out_requests")["file_number"][0]
    # Bernd pays us directly: the Grundsteuer and the dunning fees, each quoting its Kassenzeichen
    night_of(cfg, date(2026, 12, 10), 2, 99650,
             [Entry(9900, f"KZ {K[1]}", name="Bernd Bau"), Entry(749, "KZ 900000000036", name="Bernd Bau")])
    assert q(cfg, "SELECT count(*) AS n FROM allocations")["n"][0] >= 2
    out = run_handoff(cfg, LATER, user="anna")
    assert out.status == "prepared" and (out.counts["n_out_settled"], out.counts["n_out_recalls"]) == (1, 1)
    assert state_of(cfg) == {"B": OutgoingState.SENT}                       # nothing booked before the release
    release(cfg, out.run_id or "", user="sven", role="supervisor")
    assert run_handoff(cfg, LATER, user="anna").status == "booked"
    assert state_of(cfg) == {"B": OutgoingState.SETTLED}
    kinds = q(cfg, "SELECT kind FROM amtshilfe_out_events ORDER BY recorded_at, position")["kind"].to_list()
    assert kinds == ["sent", "settled", "recalled"]
    recall = [p for p in out_files(cfg) if "20261216" in p.name]
    assert len(recall) == 1
    back = read_requests(recall[0])
    ch = back.data.changes.row(0, named=True)
    assert (ch["message"], ch["creditor_file_number"], back.data.requests.height) == (
        ErsuchenMessage.RUECKNAHME, number, 0)
    assert run_handoff(cfg, date(2026, 12, 23), user="anna").status == "nothing_to_do"   # never recalled twice


BOOK_POINTS = ["reconcile", "stage", "book", "book.amtshilfe_out_requests", "book.commit", "outbox", "done"]


@pytest.mark.parametrize("point", [*[name for name, _ in STEPS["prepare"]], *BOOK_POINTS])
def test_a_crash_on_the_booking_books_and_sends_once(template: Path, tmp_path: Path, point: str,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    cfg = copy_of(template, tmp_path)
    fail_at(monkeypatch, point)
    for _ in range(6):
        try:
            out = run_handoff(cfg, HANDOFF, user="anna")
        except InjectedFailure:
            fail_at(monkeypatch, None)
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
    assert (after["amtshilfe_out_requests"], after["amtshilfe_out_claims"], after["amtshilfe_out_events"]) == (1, 3, 1)
    assert len(out_files(cfg)) == 1
    assert run_handoff(cfg, HANDOFF, user="anna").status == "nothing_to_do"
    assert counts(cfg) == after
