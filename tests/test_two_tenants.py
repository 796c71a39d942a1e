"""Between municipalities (issue 17 §4), with real tenants: Oerlinghausen's treasury hands cases to Detmold's
enforcement office. Three configs, three ledgers, three tenant folders, one state folder (the data centre).

The exchange (``jobs.exchange``) carries the files; Detmold's nightly books the cases (migration 11) and
publishes them for its ``vollstreckung`` users; Lage (a third tenant) sees nothing of it."""

from __future__ import annotations

import json
import os
from dataclasses import replace
from datetime import date, datetime
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from argon2 import PasswordHasher
from enforcement_frames import HEADER, OUTCOMES_HEADER, UPDATE_HEADER, cases, claims, outcomes, updates
from review_data import PASSWORD, make_client
from test_review_app import token

import jobs.nightly as night
from claims.config import TenantConfig, load_tenant_config
from enforcement.file_format import Party
from enforcement.handoff_file import write_handoff, write_updates
from enforcement.outcomes_file import write_outcomes
from enforcement.route import Envelope, Peer, envelope, message_kind, route
from jobs.exchange import EXCHANGED, exchange, summary
from ledger.db import connect, fetch
from ledger.office_state import read_office_published

A, B, C = "oerlinghausen", "detmold", "lage"
DAY = date(2026, 12, 8)
CREDITOR = Party("Stadt Oerlinghausen", tenant=A, street="Rathausplatz 1", postcode="33813", city="Oerlinghausen")
OFFICE = Party("Vollstreckungsstelle Detmold", tenant=B)
H = replace(HEADER, tenant=A, creditor=CREDITOR, receiver=OFFICE)
U = replace(UPDATE_HEADER, tenant=A, creditor=CREDITOR, receiver=OFFICE)
OH = replace(OUTCOMES_HEADER, office_id="VS-DT", sender=OFFICE, receiver=Party("Stadtkasse Oerlinghausen", tenant=A))

TOML = {
    A: '[enforcement]\noffice_tenant = "detmold"\noffice_id = "VS-DT"\n',
    B: '[enforcement]\noffice_id = "VS-DT"\nclients = ["oerlinghausen"]\n',
    C: '[enforcement]\noffice_id = "VS-LA"\n',
}


@pytest.fixture
def dc(tmp_path: Path) -> dict[str, TenantConfig]:
    """The data centre: one config, ledger and tenant folder per tenant; one state folder."""
    out = {}
    for t, extra in TOML.items():
        path = tmp_path / f"{t}.toml"
        path.write_text(f'[tenant]\nid = "{t}"\n\n[paths]\nledger = "{t}.duckdb"\nstate_dir = "state"\n\n{extra}',
                        encoding="utf-8")
        cfg = load_tenant_config(path)
        cfg.inbox.mkdir(parents=True)
        out[t] = cfg
    return out


def put(cfg: TenantConfig, rel: str, data: bytes) -> Path:
    path = cfg.tenant_dir / "outbox" / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


def inbox_files(cfg: TenantConfig) -> list[Path]:
    return sorted(p for p in cfg.inbox.rglob("*") if p.is_file())


def handoff() -> bytes:
    return write_handoff(H, cases(), claims())


def rows(cfg: TenantConfig, sql: str) -> pl.DataFrame:
    con = connect(cfg.ledger, read_only=True)
    try:
        return fetch(con, sql)
    finally:
        con.close()


def test_a_handoff_reaches_the_office_and_becomes_its_received_cases(dc: dict[str, TenantConfig]) -> None:
    a, b, c = dc[A], dc[B], dc[C]
    data = handoff()
    put(a, "handoff/H-2026-0001/handoff.xml", data)
    put(a, "handoff/H-2026-0001/manifest.json", b"{}")
    carried = exchange(list(dc.values()))
    assert [(r.sender, r.receiver, r.status, r.kind, r.message_id) for r in carried] == [
        (A, B, "moved", "Handoff", "H-2026-0001")]
    (arrived,) = inbox_files(b)
    assert arrived.read_bytes() == data and arrived.relative_to(b.inbox).parts[:2] == ("exchange", A)
    assert not (a.tenant_dir / "outbox" / "handoff" / "H-2026-0001" / "handoff.xml").exists()
    assert (a.tenant_dir / "outbox" / "handoff" / "H-2026-0001" / "manifest.json").exists()    # not carried
    assert [p.name[65:] for p in (a.tenant_dir / EXCHANGED).iterdir()] == ["handoff.xml"]
    assert inbox_files(a) == [] and inbox_files(c) == []

    report = night.run_night(b, DAY)
    assert report["files"]["ok"] == 1
    got = rows(b, "SELECT creditor_tenant, creditor_name, message_id, case_number, debtor_name, n_claims, total_cents, "
                  "received_on FROM office_cases ORDER BY case_number")
    assert got["creditor_tenant"].to_list() == [A] * 3 and got["message_id"].to_list() == ["H-2026-0001"] * 3
    assert got["case_number"].to_list() == ["V-2026-000001", "V-2026-000002", "V-2026-000003"]
    assert got["n_claims"].to_list() == [2, 1, 1]
    assert got["total_cents"].to_list() == [10000 + 300 + 600 + 500, 9600 + 600, 123456789 + 6172800 + 1234569]
    assert got["creditor_name"].unique().to_list() == ["Stadt Oerlinghausen"] and got["received_on"][0] == DAY
    assert rows(b, "SELECT count(*) AS n FROM office_case_claims")["n"][0] == 4
    f = rows(b, "SELECT status, kind, source_format, archived_as FROM files")
    assert f.row(0) == ("ok", "enforcement", "enforcement_handoff", f.row(0)[3]) and f.row(0)[3].startswith("archive/")
    assert inbox_files(b) == []
    pub = read_office_published(b.state_dir, B)
    assert pub.cases["state"].to_list() == ["open"] * 3
    assert pub.cases["open_cents"].to_list() == pub.cases["handed_cents"].to_list()
    # the creditor's ledger holds none of it, the third tenant's folders stay empty
    assert not c.ledger.exists() and not (c.state_dir / "published_office" / C).exists()


def test_an_update_settles_a_case_at_the_office(dc: dict[str, TenantConfig]) -> None:
    a, b = dc[A], dc[B]
    put(a, "handoff.xml", handoff())
    ups, ucl = updates()
    ups = pl.concat([ups, pl.DataFrame({"update_id": ["UPD-9"], "case_number": ["V-2026-000099"], "kind": ["settled"],
                                        "effective_date": [date(2026, 12, 8)]})], how="diagonal_relaxed")
    put(a, "updates-2026-12-09.xml", write_updates(U, ups, ucl))    # the same exchange: hand-off goes first
    assert [r.status for r in exchange(list(dc.values()))] == ["moved", "moved"]
    night.run_night(b, DAY)
    pub = read_office_published(b.state_dir, B)
    state = dict(zip(pub.cases["case_number"].to_list(), pub.cases["state"].to_list(), strict=True))
    assert state == {"V-2026-000001": "open", "V-2026-000002": "settled", "V-2026-000003": "open"}
    # case 3: suspended on 8 Dec, resumed 1 Mar 2027: the latest decides
    c3 = pub.cases.filter(pl.col("case_number") == "V-2026-000003").row(0, named=True)
    assert c3["latest_kind"] == "resumed" and c3["n_updates"] == 2
    c2 = pub.cases.filter(pl.col("case_number") == "V-2026-000002").row(0, named=True)
    assert c2["open_cents"] == 0 and c2["latest_note"] == "Zahlung vom 08.12.2026"
    c1 = pub.claims.filter(pl.col("kassenzeichen") == "1.2345.6789.012").row(0, named=True)
    assert (c1["handed_cents"], c1["paid_cents"], c1["open_cents"]) == (10900, 5000, 5900)
    held = rows(b, "SELECT update_id, hold_reason FROM office_updates WHERE hold_reason IS NOT NULL")
    assert held.rows() == [("UPD-9", "case not received by this office")]

    # the same updates again under another message id: nothing booked twice
    put(a, "updates-again.xml", write_updates(replace(U, message_id="U-2026-0002"), ups, ucl))
    assert [r.status for r in exchange(list(dc.values()))] == ["moved"]
    night.run_night(b, date(2026, 12, 9))
    assert rows(b, "SELECT count(*) AS n FROM office_updates")["n"][0] == 5


def test_exchange_twice_carries_nothing_twice(dc: dict[str, TenantConfig]) -> None:
    a, b = dc[A], dc[B]
    data = handoff()
    put(a, "handoff.xml", data)
    assert summary(exchange(list(dc.values())))["counts"] == {"moved": 1}
    assert exchange(list(dc.values())) == []                       # nothing left
    put(a, "handoff.xml", data)              # the hand-off job delivered the same bytes again (after a crash)
    again = exchange(list(dc.values()))
    assert [(r.status, r.receiver) for r in again] == [("duplicate", B)]
    assert len(inbox_files(b)) == 1 and not (a.tenant_dir / "outbox" / "handoff.xml").exists()
    # and the office's nightly books one file with the same bytes once
    night.run_night(b, DAY)
    (b.inbox / "again.xml").write_bytes(data)
    night.run_night(b, date(2026, 12, 9))
    assert rows(b, "SELECT count(*) AS n FROM office_cases")["n"][0] == 3
    assert rows(b, "SELECT status FROM files ORDER BY booking_date")["status"].to_list() == ["ok", "duplicate"]


@pytest.mark.parametrize(("header", "why"), [
    (replace(H, receiver=replace(OFFICE, tenant=C)), "'oerlinghausen' is not a client of the office of tenant 'lage'"),
    (replace(H, receiver=replace(OFFICE, tenant="bielefeld")), "'bielefeld' is not a tenant of this exchange"),
    (replace(H, tenant=C), "Tenant 'lage' in the header is not 'oerlinghausen'"),
])
def test_a_file_whose_header_disagrees_with_the_route_stays(dc: dict[str, TenantConfig], header: Any,
                                                            why: str) -> None:
    a = dc[A]
    path = put(a, "handoff.xml", write_handoff(header, cases(), claims()))
    (row,) = exchange(list(dc.values()))
    assert row.status == "refused" and why in (row.reason or "")
    assert path.exists() and all(inbox_files(t) == [] for t in dc.values())


def test_a_client_must_name_the_office_too(dc: dict[str, TenantConfig], tmp_path: Path) -> None:
    """Detmold lists Oerlinghausen, but Oerlinghausen's config hands to its own office: nothing goes."""
    (tmp_path / f"{A}.toml").write_text(f'[tenant]\nid = "{A}"\n\n[paths]\nledger = "{A}.duckdb"\nstate_dir = "state"\n',
                                        encoding="utf-8")
    cfgs = [load_tenant_config(tmp_path / f"{A}.toml"), dc[B], dc[C]]
    put(cfgs[0], "handoff.xml", handoff())
    (row,) = exchange(cfgs)
    assert row.status == "refused" and "hands its cases to its own office, not to 'detmold'" in (row.reason or "")


def test_links_and_broken_files_stay_and_local_files_are_left_alone(dc: dict[str, TenantConfig]) -> None:
    a, b = dc[A], dc[B]
    secret = a.tenant_dir.parent / "secret.xml"
    secret.write_bytes(handoff())
    (a.tenant_dir / "outbox").mkdir(parents=True)
    os.symlink(secret, a.tenant_dir / "outbox" / "link.xml")
    put(a, "broken.xml", handoff()[:400])
    put(a, "own-office.xml", write_handoff(replace(H, receiver=Party("Vollstreckungsstelle")), cases(), claims()))
    put(a, "pain.001.xml", b'<?xml version="1.0"?><Document xmlns="urn:iso:std:iso:20022:tech:xsd:pain.001.001.09"/>')
    got = {r.file: (r.status, r.reason or "") for r in exchange(list(dc.values()))}
    assert got["link.xml"][0] == "refused" and "symbolic link" in got["link.xml"][1]
    assert got["broken.xml"][0] == "refused" and "not well-formed" in got["broken.xml"][1]
    assert got["own-office.xml"] == ("local", "")
    assert "pain.001.xml" not in got
    assert inbox_files(b) == [] and secret.exists()


def test_outcomes_go_back_to_the_creditor(dc: dict[str, TenantConfig]) -> None:
    a, b, c = dc[A], dc[B], dc[C]
    out, fees = outcomes()
    data = write_outcomes(OH, out, fees)
    put(b, "outcomes/E-2026-0042.xml", data)
    put(b, "outcomes/wrong-office.xml", write_outcomes(replace(OH, office_id="VS-XX", message_id="E-2"), out, fees))
    got = {r.file: r for r in exchange(list(dc.values()))}
    assert got["outcomes/E-2026-0042.xml"].status == "moved" and got["outcomes/E-2026-0042.xml"].receiver == A
    assert got["outcomes/wrong-office.xml"].status == "refused"
    assert "OfficeId 'VS-XX'" in (got["outcomes/wrong-office.xml"].reason or "")
    (arrived,) = inbox_files(a)
    assert arrived.read_bytes() == data and inbox_files(c) == []


def test_the_office_quarantines_a_handoff_of_a_tenant_that_is_not_its_client(dc: dict[str, TenantConfig]) -> None:
    b = dc[B]
    (b.inbox / "stray.xml").write_bytes(write_handoff(replace(H, tenant=C), cases(), claims()))
    night.run_night(b, DAY)
    assert rows(b, "SELECT count(*) AS n FROM office_cases")["n"][0] == 0
    (reason,) = (b.tenant_dir / "quarantine").glob("*.reason.txt")
    assert "Tenant 'lage' is not a client of this enforcement office" in reason.read_text(encoding="utf-8")


# --- the route, literally ---------------------------------------------------------------------------------

PEERS = {A: Peer(A, "VS-OE", B, ()), B: Peer(B, "VS-DT", None, (A,)), C: Peer(C, "VS-LA", None, ())}


@pytest.mark.parametrize(("env", "sender", "want"), [
    (Envelope("Handoff", "m", A, B, None), A, (B, None)),
    (Envelope("Update", "m", A, B, None), A, (B, None)),
    (Envelope("Handoff", "m", A, None, None), A, (None, None)),            # own office: not the exchange's
    (Envelope("Handoff", "m", A, A, None), A, (None, None)),
    (Envelope("Handoff", "m", B, B, None), A, (None, "Tenant 'detmold' in the header is not 'oerlinghausen'")),
    (Envelope("Handoff", "m", A, C, None), A, (None, "tenant 'oerlinghausen' is not a client")),
    (Envelope("Handoff", "m", C, B, None), C, (None, "tenant 'lage' is not a client")),
    (Envelope("Outcomes", "m", B, A, "VS-DT"), B, (A, None)),
    (Envelope("Outcomes", "m", None, A, "VS-DT"), B, (A, None)),
    (Envelope("Outcomes", "m", B, A, "VS-OE"), B, (None, "OfficeId 'VS-OE'")),
    (Envelope("Outcomes", "m", C, A, "VS-DT"), B, (None, "Sender/Tenant 'lage'")),
    (Envelope("Outcomes", "m", B, C, "VS-DT"), B, (None, "tenant 'lage' is not a client")),
    (Envelope("Outcomes", "m", None, B, "VS-OE"), A, (None, "tenant 'detmold' is not a client")),
    (Envelope("Outcomes", "m", None, None, "VS-OE"), A, (None, None)),   # to its own treasury: not carried
])
def test_route(env: Envelope, sender: str, want: tuple[str | None, str | None]) -> None:
    receiver, why = route(env, sender, PEERS)
    assert receiver == want[0]
    assert (why is None) == (want[1] is None) and (want[1] is None or want[1] in (why or ""))


def test_envelope_and_kind_read_only_the_header() -> None:
    data = handoff()
    assert message_kind(data[:300]) == "Handoff" and message_kind(b":20:STARTUMS\r\n") is None
    assert message_kind(b'<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.08"/>') is None
    env = envelope(data)
    assert env == Envelope("Handoff", "H-2026-0001", A, B, None)
    assert envelope(write_outcomes(OH, *outcomes())) == Envelope("Outcomes", "E-2026-0042", B, A, "VS-DT")


# --- the page -----------------------------------------------------------------------------------------------

USERS = {"vera": ("vollstreckung", [B]), "olaf": ("supervisor", [A]), "lena": ("vollstreckung", [C])}


def _client(dc: dict[str, TenantConfig], tmp_path: Path, who: str) -> Any:
    from review import create_app, load_review_config, load_users

    hasher = PasswordHasher(time_cost=1, memory_cost=8192, parallelism=1)
    lines = []
    for login, (role, tenants) in USERS.items():
        lines += [f"[users.{login}]", f'role = "{role}"', f"tenants = {json.dumps(tenants)}",
                  f'password_hash = "{hasher.hash(PASSWORD)}"', ""]
    (tmp_path / "users.toml").write_text("\n".join(lines), encoding="utf-8")
    app = create_app(load_review_config(dc[B].source), load_users(tmp_path / "users.toml"))
    client = make_client(app)
    page = client.get("/login")
    r = client.post("/login", data={"login": who, "password": PASSWORD, "csrf_token": token(page.text), "next": "/"},
                    follow_redirects=False)
    assert r.status_code == 303, r.text
    return client


def test_the_office_page_shows_the_received_cases_and_nothing_of_the_creditors_ledger(
        dc: dict[str, TenantConfig], tmp_path: Path) -> None:
    a, b = dc[A], dc[B]
    ups, ucl = updates()
    put(a, "handoff.xml", handoff())
    put(a, "updates.xml", write_updates(U, ups, ucl))
    exchange(list(dc.values()))
    night.run_night(b, DAY)
    night.run_night(a, DAY)              # the creditor's own night: its ledger and Klärungsliste exist
    vera = _client(dc, tmp_path, "vera")
    page = vera.get(f"/t/{B}/vollstreckung/auftraege")
    assert page.status_code == 200
    assert all(n in page.text for n in ("V-2026-000001", "V-2026-000002", "V-2026-000003", "Stadt Oerlinghausen"))
    assert page.text.count(">STOP<") == 1 and "Özlem Şahin" in page.text
    assert vera.get(f"/t/{A}/").status_code == 403                     # the creditor's pages: not hers
    assert vera.get(f"/t/{A}/vollstreckung/auftraege").status_code == 403
    assert vera.get(f"/t/{B}/").status_code == 403                     # the office sees no Klärungsliste
    olaf = _client(dc, tmp_path, "olaf")                                # the creditor's supervisor
    assert olaf.get(f"/t/{B}/vollstreckung/auftraege").status_code == 403        # nor the office's other clients
    lena = _client(dc, tmp_path, "lena")                                # another tenant's office
    assert lena.get(f"/t/{B}/vollstreckung/auftraege").status_code == 403
    mine = lena.get(f"/t/{C}/vollstreckung/auftraege")
    assert mine.status_code == 200 and "V-2026-000001" not in mine.text and "Keine übergebenen Fälle" in mine.text


def test_created_is_not_part_of_the_route() -> None:
    """Two hand-offs that differ only in Created are two files (two SHA-256) with one message id: the
    office books the message once (``office_cases`` by creditor and message id)."""
    one = write_handoff(H, cases(), claims())
    two = write_handoff(replace(H, created=datetime(2026, 12, 7, 10, 0)), cases(), claims())
    assert one != two and envelope(one) == envelope(two)


def test_kasse_exchange_command(dc: dict[str, TenantConfig], capsys: pytest.CaptureFixture[str]) -> None:
    from flows.cli import main

    a = dc[A]
    argv = ["exchange", *(x for t in (A, B, C) for x in ("--config", str(dc[t].source)))]
    put(a, "handoff.xml", handoff())
    assert main([*argv, "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["counts"] == {"moved": 1} and report["files"][0]["receiver"] == B
    put(a, "wrong.xml", write_handoff(replace(H, message_id="H-2", receiver=replace(OFFICE, tenant=C)), cases(),
                                      claims()))
    assert main(argv) == 1                                  # refused: it stays, the line says why
    out = capsys.readouterr()
    assert f"{A} -> {C} refused Handoff wrong.xml: tenant 'oerlinghausen' is not a client" in out.out
    assert "refused 1" in out.err
    assert main(["exchange", "--config", str(a.source.parent / "missing.toml")]) == 2


def test_a_crash_between_copy_and_filing_delivers_again_and_books_once(dc: dict[str, TenantConfig],
                                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    import jobs.exchange as ex

    a, b = dc[A], dc[B]
    put(a, "handoff.xml", handoff())

    def crash(*_: object) -> None:
        raise RuntimeError("power cut")

    with monkeypatch.context() as m:
        m.setattr(ex, "_file_away", crash)
        with pytest.raises(RuntimeError):
            exchange(list(dc.values()))
    assert len(inbox_files(b)) == 1 and (a.tenant_dir / "outbox" / "handoff.xml").exists()
    night.run_night(b, DAY)                      # the office's night took the first copy meanwhile
    assert [r.status for r in exchange(list(dc.values()))] == ["moved"]      # carried again: the source stayed
    assert len(inbox_files(b)) == 1 and not (a.tenant_dir / "outbox" / "handoff.xml").exists()
    night.run_night(b, date(2026, 12, 9))
    assert rows(b, "SELECT count(*) AS n FROM office_cases")["n"][0] == 3      # booked once
    assert exchange(list(dc.values())) == []


def test_a_later_handoff_of_the_same_case_joins_it(dc: dict[str, TenantConfig]) -> None:
    a, b = dc[A], dc[B]
    put(a, "h1.xml", handoff())
    later_cases = cases().head(1)
    later = claims().head(1).with_columns(pl.lit("1.2345.6789.099").alias("kassenzeichen"),
                                          pl.lit(2000).alias("principal_cents"), pl.lit(0).alias("surcharges_cents"),
                                          pl.lit(0).alias("fees_cents"))
    put(a, "h2.xml", write_handoff(replace(H, message_id="H-2026-0002", handoff_date=date(2026, 12, 14)),
                                   later_cases, later))
    exchange(list(dc.values()))
    night.run_night(b, DAY)
    pub = read_office_published(b.state_dir, B)
    c1 = pub.cases.filter(pl.col("case_number") == "V-2026-000001").row(0, named=True)
    assert (c1["n_handoffs"], c1["n_claims"], c1["handed_cents"]) == (2, 3, 10000 + 300 + 600 + 500 + 2000)
    assert c1["last_handoff"] == date(2026, 12, 14) and pub.cases.height == 3
