"""The case files' document store (ledger/documents.py): content-addressed read-only objects, the
hash-chained append-only index, verification of both, idempotent filing, purge only after retention."""

from __future__ import annotations

import json
import os
import stat
from datetime import date
from pathlib import Path

import pytest

from claims.config import DocumentsSection
from claims.vocab import DocumentKind, SubjectKind
from ledger.documents import (
    HEAD,
    INDEX,
    DocumentError,
    IndexReader,
    NewDocument,
    documents_of,
    file_document,
    file_documents,
    object_path,
    purge,
    put,
    read_index,
    read_object,
    retention_until,
    store_dir,
    verify,
)

T = "stadt"
SIX = DocumentsSection()                       # 6 years after the accounts' approval, assumed 2 years on


def doc(data: bytes = b"%PDF letter 1", *, subject: str = "D1", key: str = "mahnung:r1:N1",
        day: date = date(2026, 11, 18), kind: SubjectKind = SubjectKind.DEBTOR, title: str = "Mahnung") -> NewDocument:
    return NewDocument(data, kind, subject, DocumentKind.MAHNUNG, key, day, title, run_id="r1")


def test_put_twice_is_one_read_only_object(tmp_path: Path) -> None:
    a = put(tmp_path, T, b"same bytes")
    b = put(tmp_path, T, b"same bytes")
    assert a == b and len(a) == 64
    objects = [p for p in (store_dir(tmp_path, T) / "objects").rglob("*") if p.is_file()]
    assert objects == [object_path(tmp_path, T, a)]
    assert objects[0].parent.name == a[:2] and objects[0].name == a[2:]
    assert stat.S_IMODE(objects[0].stat().st_mode) & 0o222 == 0              # nobody may write it
    assert read_object(tmp_path, T, a) == b"same bytes"
    assert put(tmp_path, T, b"other bytes") != a


def test_filing_the_same_key_again_files_nothing_and_other_bytes_are_refused(tmp_path: Path) -> None:
    first = file_document(tmp_path, T, doc(), settings=SIX)
    again = file_document(tmp_path, T, doc(), settings=SIX)
    assert again == first and len(read_index(tmp_path, T)) == 1
    under_claim = file_document(tmp_path, T, doc(kind=SubjectKind.RECEIVABLE, subject="R1"), settings=SIX)
    assert under_claim["sha256"] == first["sha256"] and under_claim["seq"] == 1
    with pytest.raises(DocumentError, match="never changes"):
        file_document(tmp_path, T, doc(b"%PDF letter 1, altered"), settings=SIX)
    assert len(read_index(tmp_path, T)) == 2 and verify(tmp_path, T) == []


def test_an_index_entry_says_what_the_document_is_and_how_long_it_is_kept(tmp_path: Path) -> None:
    e = file_document(tmp_path, T, doc(title="Mahnung vom 18.11.2026 (Nr. N1)"), settings=SIX)
    assert {k: e[k] for k in ("tenant", "subject_kind", "subject_id", "kind", "key", "date", "title", "media_type",
                              "size", "run_id", "retention_until", "seq", "prev")} == {
        "tenant": T, "subject_kind": "debtor", "subject_id": "D1", "kind": "mahnung", "key": "mahnung:r1:N1",
        "date": "2026-11-18", "title": "Mahnung vom 18.11.2026 (Nr. N1)", "media_type": "application/pdf",
        "size": 13, "run_id": "r1", "retention_until": "2034-12-31", "seq": 0, "prev": "0" * 64}
    # 2026 + 2 (the accounts approved in 2028, the period starts 1 Jan 2029) + 6 years → 31 Dec 2034
    assert retention_until(date(2026, 1, 1), SIX) == date(2034, 12, 31)
    assert retention_until(date(2026, 12, 31), DocumentsSection(retention_years=10, approval_lag_years=1)) == \
        date(2037, 12, 31)


def test_verify_finds_an_altered_object(tmp_path: Path) -> None:
    sha = file_document(tmp_path, T, doc(), settings=SIX)["sha256"]
    path = object_path(tmp_path, T, sha)
    os.chmod(path, 0o644)
    path.write_bytes(b"%PDF letter 2")                                          # same size, other bytes
    assert verify(tmp_path, T) == [f"object {sha}: its bytes do not match its hash (altered)"]
    with pytest.raises(DocumentError, match="altered"):
        read_object(tmp_path, T, sha)
    path.unlink()
    assert verify(tmp_path, T) == [f"object {sha}: missing"]


def _three(tmp_path: Path) -> Path:
    file_documents(tmp_path, T, [doc(b"a", key="k1"), doc(b"b", key="k2"), doc(b"c", key="k3")], settings=SIX)
    assert verify(tmp_path, T) == []
    return store_dir(tmp_path, T) / INDEX


def test_verify_finds_an_edited_index_line(tmp_path: Path) -> None:
    index = _three(tmp_path)
    lines = index.read_bytes().split(b"\n")
    edited = json.loads(lines[1])
    edited["title"] = "Zahlungserinnerung"                                      # a quiet change of one field
    lines[1] = json.dumps(edited, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode()
    index.write_bytes(b"\n".join(lines))
    assert verify(tmp_path, T) == ["index line 3: prev does not match the hash of the line before (that line was "
                                   "edited, removed or inserted)"]


def test_verify_finds_a_removed_line_and_a_cut_off_tail(tmp_path: Path) -> None:
    index = _three(tmp_path)
    original = index.read_bytes()
    lines = original.split(b"\n")
    index.write_bytes(b"\n".join([lines[0], lines[2], b""]))                    # the middle line removed
    problems = verify(tmp_path, T)
    assert any("line 2: seq 2 where 1" in p for p in problems)
    assert any("line 2: prev does not match" in p for p in problems)
    assert any(p.startswith("object ") and "named by no index line" in p for p in problems)
    index.write_bytes(b"\n".join([lines[0], lines[1], b""]))                    # the last line cut off
    assert [p for p in verify(tmp_path, T) if p.startswith("index")] == [
        f"index head: {HEAD} names line 2 but the index ends at line 1 with another hash (lines were cut off or "
        "the head changed)"]


def test_a_torn_last_line_is_not_a_line_and_the_next_filing_replaces_it(tmp_path: Path) -> None:
    index = _three(tmp_path)
    with open(index, "ab") as fh:
        fh.write(b'{"op":"file","sub')                                          # a crash inside a write
    assert len(read_index(tmp_path, T)) == 3
    assert verify(tmp_path, T) == ["index: the last line is unfinished (a write was interrupted; the next filing "
                                   "removes it)"]
    file_document(tmp_path, T, doc(b"d", key="k4"), settings=SIX)
    assert [e["seq"] for e in read_index(tmp_path, T)] == [0, 1, 2, 3] and verify(tmp_path, T) == []


def test_purge_keeps_everything_within_retention_and_is_a_dry_run_by_default(tmp_path: Path) -> None:
    old = file_document(tmp_path, T, doc(b"old", key="k-old", day=date(2015, 3, 1)), settings=SIX)   # until 2023
    new = file_document(tmp_path, T, doc(b"new", key="k-new", day=date(2026, 3, 1)), settings=SIX)   # until 2034
    shared = file_documents(tmp_path, T, [doc(b"shared", key="k-s1", day=date(2015, 3, 1)),
                                          doc(b"shared", key="k-s2", subject="D2", day=date(2025, 3, 1))],
                            settings=SIX)
    assert old["retention_until"] == "2023-12-31"
    # on the last day of the period nothing is purged
    assert purge(tmp_path, T, today=date(2023, 12, 31), settings=SIX, user="admin", dry_run=False).expired == ()
    dry = purge(tmp_path, T, today=date(2027, 1, 1), settings=SIX, user="admin")
    assert dry.dry_run and dry.expired == (old["sha256"],) and dry.kept == 2     # the shared object: one line is young
    assert object_path(tmp_path, T, old["sha256"]).exists()                    # a dry run removes nothing
    # raising the retention later keeps documents filed under the shorter one
    longer = DocumentsSection(retention_years=10)
    assert purge(tmp_path, T, today=date(2027, 1, 1), settings=longer, user="admin", dry_run=False).expired == ()
    done = purge(tmp_path, T, today=date(2027, 1, 1), settings=SIX, user="admin", dry_run=False)
    assert done.expired == (old["sha256"],)
    assert not object_path(tmp_path, T, old["sha256"]).exists()
    for e in (new, *shared):
        assert read_object(tmp_path, T, e["sha256"])
    last = read_index(tmp_path, T)[-1]
    assert (last["op"], last["sha256"], last["by"]) == ("purge", old["sha256"], "admin")
    assert verify(tmp_path, T) == []                                            # the removal is on record
    listed = documents_of(read_index(tmp_path, T), "debtor", "D1")
    assert [(e["key"], e["purged"]) for e in listed] == [("k-old", True), ("k-s1", False), ("k-new", False)]


def test_names_are_data_no_path_is_built_from_them(tmp_path: Path) -> None:
    for bad in ("../other", "a/b", "..", "", ".hidden", "x\x00"):
        with pytest.raises(DocumentError, match="plain name"):
            put(tmp_path, bad, b"x")
    with pytest.raises(DocumentError, match="SHA-256"):
        read_object(tmp_path, T, "../../etc/passwd")
    # ids and titles with slashes and dots are kept as text only
    e = file_document(tmp_path, T, doc(subject="../../D1", title="../../etc/passwd", key="a/b"), settings=SIX)
    assert e["subject_id"] == "../../D1" and sorted(p.name for p in (tmp_path / "documents").iterdir()) == [T]
    with pytest.raises(DocumentError, match="title"):
        file_document(tmp_path, T, doc(title=" "), settings=SIX)


def test_the_reader_picks_up_appended_lines_and_tenants_stay_apart(tmp_path: Path) -> None:
    reader = IndexReader(tmp_path)
    assert reader.lines(T) == []
    file_document(tmp_path, T, doc(b"a", key="k1"), settings=SIX)
    assert [e["key"] for e in reader.lines(T)] == ["k1"]
    file_document(tmp_path, T, doc(b"b", key="k2"), settings=SIX)
    file_document(tmp_path, "nachbar", doc(b"c", key="k3"), settings=SIX)
    assert [e["key"] for e in reader.lines(T)] == ["k1", "k2"]
    assert [e["key"] for e in reader.lines("nachbar")] == ["k3"]
    assert verify(tmp_path, "nachbar") == [] and read_index(tmp_path, "nachbar")[0]["seq"] == 0


def test_the_command_verifies_and_purges_only_with_apply(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from flows.cli import main

    (tmp_path / "kasse.toml").write_text('[tenant]\nid = "stadt"\n[documents]\nretention_years = 6\n', encoding="utf-8")
    cfg_state = tmp_path / "state"
    old = file_document(cfg_state, T, doc(b"old", key="k-old", day=date(2015, 3, 1)), settings=SIX)
    file_document(cfg_state, T, doc(b"new", key="k-new", day=date(2026, 3, 1)), settings=SIX)
    conf = str(tmp_path / "kasse.toml")
    assert main(["documents", "verify", "--config", conf]) == 0
    assert main(["documents", "purge", "--config", conf, "--today", "2027-01-01"]) == 0
    assert f"would remove {old['sha256']}" in capsys.readouterr().out
    assert object_path(cfg_state, T, old["sha256"]).exists()
    assert main(["documents", "purge", "--config", conf, "--today", "2027-01-01", "--apply", "--user", "admin"]) == 0
    assert not object_path(cfg_state, T, old["sha256"]).exists()
    assert main(["documents", "verify", "--config", conf]) == 0
    index = store_dir(cfg_state, T) / INDEX
    index.write_bytes(index.read_bytes().replace(b'"k-new"', b'"k-neu"'))
    assert main(["documents", "verify", "--config", conf]) == 1
