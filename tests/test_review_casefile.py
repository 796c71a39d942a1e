"""The case file page (review/views_casefile.py): who may read it, the documents of a debtor in order,
downloads checked against their hash and named safely, the deterministic ZIP export, tenant isolation."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import os
import zipfile
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from argon2 import PasswordHasher
from review_data import OTHER, PASSWORD, TENANT, config_file, make_client, write_state
from test_review_app import token

from claims.config import DocumentsSection
from claims.vocab import DocumentKind, SubjectKind
from ledger.documents import NewDocument, file_documents, object_path, purge
from outputs.casefile_export import KIND_TEXT, SUBJECT_TEXT, case_zip, safe_filename
from review import create_app, load_review_config, load_users

AKTE = f"/t/{TENANT}/akte"
USERS = {"vera": ("vollstreckung", [TENANT]), "otto": ("auditor", [TENANT]), "anna": ("clerk", [TENANT]),
         "sven": ("supervisor", [TENANT]), "nora": ("vollstreckung", [OTHER])}


def write_users(path: Path) -> Path:
    hasher = PasswordHasher(time_cost=1, memory_cost=8192, parallelism=1)
    lines = []
    for login, (role, tenants) in USERS.items():
        lines += [f"[users.{login}]", f'role = "{role}"', f"tenants = {json.dumps(tenants)}",
                  f'password_hash = "{hasher.hash(PASSWORD)}"', ""]
    path.write_text("\n".join(lines), encoding="utf-8")
    return path


def letter(n: int, debtor: str, day: date, *, title: str | None = None,
           kind: DocumentKind = DocumentKind.MAHNUNG) -> list[NewDocument]:
    data = f"%PDF-1.4\n% letter {n} to {debtor}\n%%EOF\n".encode()
    title = title or f"Mahnung vom {day:%d.%m.%Y} (Nr. N{n})"
    return [NewDocument(data, SubjectKind.DEBTOR, debtor, kind, f"mahnung:run:{n}", day, title, run_id="run-1"),
            NewDocument(data, SubjectKind.RECEIVABLE, f"R-{n}", kind, f"mahnung:run:{n}", day, title, run_id="run-1")]


@pytest.fixture
def env(tmp_path: Path) -> dict[str, Any]:
    state = write_state(tmp_path / "state")
    docs = [*letter(2, "D1", date(2026, 3, 10)), *letter(1, "D1", date(2026, 2, 10),
                                                          title='Zahlungserinnerung "Ärger"/../x\r\nSet-Cookie: a=b'),
            *letter(3, "D2", date(2026, 3, 10))]
    file_documents(state, TENANT, docs, settings=DocumentsSection())
    file_documents(state, OTHER, letter(9, "D1", date(2026, 3, 1)), settings=DocumentsSection())
    app = create_app(load_review_config(config_file(tmp_path, state)), load_users(write_users(tmp_path / "u.toml")))
    return {"state": state, "app": app}


def login(env: dict[str, Any], who: str) -> Any:
    client = make_client(env["app"])
    page = client.get("/login")
    r = client.post("/login", data={"login": who, "password": PASSWORD, "csrf_token": token(page.text), "next": "/"},
                    follow_redirects=False)
    assert r.status_code == 303, r.text
    return client


def test_every_kind_and_subject_has_a_german_text() -> None:
    assert set(KIND_TEXT) == set(DocumentKind) and all(KIND_TEXT.values())
    assert set(SUBJECT_TEXT) == set(SubjectKind) and all(SUBJECT_TEXT.values())


def test_the_enforcement_office_reads_a_debtors_documents_in_order(env: dict[str, Any]) -> None:
    client = login(env, "vera")
    page = client.get(AKTE, params={"subject": "debtor", "id": "D1"})
    assert page.status_code == 200
    html = page.text
    assert "2 Dokumente" in html and "letter" not in html
    first, second = html.index("10.02.2026"), html.index("10.03.2026")
    assert first < second                                                    # by date, not by filing order
    assert "Zahlungserinnerung &#34;Ärger&#34;/../x" in html                  # titles are escaped text
    assert html.count("/akte/dok/") == 2 and "D2" not in html.split("<main>")[1].split("</form>")[1]
    assert client.get(AKTE).status_code == 200                               # the form alone
    assert client.get(AKTE, params={"subject": "x", "id": "D1"}).status_code == 400


def test_a_download_is_the_filed_bytes_with_a_safe_name(env: dict[str, Any]) -> None:
    client = login(env, "otto")                                             # auditors read too
    lines = client.app.state.review.documents.lines(TENANT)
    seq = next(e["seq"] for e in lines if e["subject_id"] == "D1" and e["key"] == "mahnung:run:1")
    r = client.get(f"{AKTE}/dok/{seq}")
    assert r.status_code == 200 and r.headers["content-type"] == "application/pdf"
    assert hashlib.sha256(r.content).hexdigest() == lines[seq]["sha256"]
    disposition = r.headers["content-disposition"]
    assert disposition.startswith('attachment; filename="Zahlungserinnerung _Aerger_.._x_Set-Cookie_ a_b.pdf"')
    assert "\r" not in disposition and "\n" not in disposition and "/" not in disposition.split("filename*")[0]
    assert client.get(f"{AKTE}/dok/999").status_code == 404


def test_an_altered_object_is_not_served(env: dict[str, Any]) -> None:
    client = login(env, "vera")
    entry = client.app.state.review.documents.lines(TENANT)[0]
    path = object_path(env["state"], TENANT, entry["sha256"])
    os.chmod(path, 0o644)
    path.write_bytes(b"%PDF-1.4\n% forged\n%%EOF\n")
    r = client.get(f"{AKTE}/dok/{entry['seq']}")
    assert r.status_code == 500 and "altered" in r.text and b"forged" not in r.content


def test_the_zip_export_is_deterministic_and_its_index_hashes_match(env: dict[str, Any]) -> None:
    client = login(env, "vera")
    r = client.get(f"{AKTE}/export.zip", params={"subject": "debtor", "id": "D1"})
    assert r.status_code == 200 and r.headers["content-type"] == "application/zip"
    assert 'filename="akte-musterstadt-debtor-D1.zip"' in r.headers["content-disposition"]
    assert client.get(f"{AKTE}/export.zip", params={"subject": "debtor", "id": "D1"}).content == r.content
    z = zipfile.ZipFile(io.BytesIO(r.content))
    names = z.namelist()
    assert names[:2] == ["index.csv", "index.json"] and len(names) == 4
    index = json.loads(z.read("index.json"))
    assert (index["tenant"], index["subject_kind"], index["subject_id"]) == (TENANT, "debtor", "D1")
    assert [d["date"] for d in index["documents"]] == ["2026-02-10", "2026-03-10"]
    for d in index["documents"]:
        assert hashlib.sha256(z.read(d["file"])).hexdigest() == d["sha256"] and z.getinfo(d["file"]).file_size == d["size"]
        assert d["file"].startswith("dokumente/") and ".." not in d["file"]
    rows = list(csv.DictReader(io.StringIO(z.read("index.csv").decode("utf-8-sig")), delimiter=";"))
    assert [r["SHA-256"] for r in rows] == [d["sha256"] for d in index["documents"]]
    assert {i.date_time for i in z.infolist()} == {(2026, 2, 10, 0, 0, 0), (2026, 3, 10, 0, 0, 0)}
    assert client.get(f"{AKTE}/export.zip", params={"subject": "debtor", "id": "D-none"}).status_code == 404


def test_a_purged_document_is_listed_without_its_file(env: dict[str, Any]) -> None:
    state = env["state"]
    file_documents(state, TENANT, letter(7, "D1", date(2010, 5, 5)), settings=DocumentsSection())
    assert len(purge(state, TENANT, today=date(2026, 12, 7), settings=DocumentsSection(), user="admin",
                     dry_run=False).expired) == 1
    client = login(env, "vera")
    assert "nach Ablauf gelöscht" in client.get(AKTE, params={"id": "D1"}).text
    z = zipfile.ZipFile(io.BytesIO(client.get(f"{AKTE}/export.zip", params={"id": "D1"}).content))
    docs = json.loads(z.read("index.json"))["documents"]
    assert [(d["date"], d["purged"], d["file"] is None) for d in docs] == [
        ("2010-05-05", True, True), ("2026-02-10", False, False), ("2026-03-10", False, False)]
    assert len(z.namelist()) == 4


def test_other_tenants_case_files_are_closed(env: dict[str, Any]) -> None:
    nora = login(env, "nora")                                               # vollstreckung of the other tenant
    assert nora.get(AKTE, params={"id": "D1"}).status_code == 403
    assert nora.get(f"{AKTE}/dok/0").status_code == 403
    assert nora.get(f"{AKTE}/export.zip", params={"id": "D1"}).status_code == 403
    own = nora.get(f"/t/{OTHER}/akte", params={"id": "D1"})
    assert own.status_code == 200 and "1 Dokument" in own.text and "N9" in own.text and "N1)" not in own.text
    # a document number of the other tenant's index means nothing in this one
    vera = login(env, "vera")
    other_seq = len(env["app"].state.review.documents.lines(OTHER)) + 10
    assert vera.get(f"{AKTE}/dok/{other_seq}").status_code == 404
    assert vera.get(f"/t/{OTHER}/akte/dok/0").status_code == 403


def test_clerks_and_supervisors_read_and_nobody_logged_out_does(env: dict[str, Any]) -> None:
    for who in ("anna", "sven"):
        assert login(env, who).get(AKTE, params={"id": "D1"}).status_code == 200
    anon = make_client(env["app"])
    r = anon.get(AKTE, params={"id": "D1"}, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"].startswith("/login")


def test_case_zip_of_the_same_documents_is_the_same_bytes() -> None:
    entries = [{"seq": 0, "date": "2026-01-02", "kind": "mahnung", "title": "A", "sha256": hashlib.sha256(b"a").hexdigest(),
                "size": 1, "media_type": "application/pdf", "run_id": "r", "retention_until": "2034-12-31",
                "key": "k", "purged": False}]
    blobs = {hashlib.sha256(b"a").hexdigest(): b"a"}
    one = case_zip("t", "debtor", "D", entries, blobs.__getitem__)
    assert one == case_zip("t", "debtor", "D", [dict(e) for e in entries], blobs.__getitem__)
    assert safe_filename("", "application/pdf") == "dokument.pdf"
    assert safe_filename("..", "text/plain") == "dokument.txt"


def test_the_enforcement_office_sees_only_the_case_files(env: dict[str, Any]) -> None:
    vera = make_client(env["app"])
    page = vera.get("/login")
    r = vera.post("/login", data={"login": "vera", "password": PASSWORD, "csrf_token": token(page.text), "next": "/"},
                  follow_redirects=False)
    assert r.headers["location"] == AKTE                                     # starts at the case files
    for path in ("/", "/decisions", "/rules", "/dunning", "/blocks", "/item/tx-split", "/collection", "/mandates",
                 "/returns"):
        assert vera.get(f"/t/{TENANT}{path}").status_code == 403, path      # no payments, no Klärungsliste
    assert vera.get("/t/musterstadt/debtor", params={"id": "D1"}).status_code == 403
    nav = vera.get(AKTE).text.split("<nav>")[1].split("</nav>")[0]
    assert "Akten" in nav and "Klärungsliste" not in nav
    assert "Klärungsliste" in login(env, "otto").get(AKTE).text.split("<nav>")[1]   # the auditor reads both
