"""The release of a prepared dunning run: a supervisor other than the preparer, once; forged lines ignored."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ledger.journal import JournalError, journal_dir
from ledger.release_journal import load_releases, read_releases, record_release

T = "musterstadt"


def test_a_supervisor_other_than_the_preparer_releases_once(tmp_path: Path) -> None:
    r = record_release(tmp_path, T, "run-1", user="sven", role="supervisor", prepared_by="anna", note="ok")
    assert (r.run_id, r.released_by, r.prepared_by, r.note) == ("run-1", "sven", "anna", "ok")
    assert read_releases(tmp_path, T) == {"run-1": r}
    with pytest.raises(JournalError, match="released already"):
        record_release(tmp_path, T, "run-1", user="vera", role="supervisor", prepared_by="anna")
    assert read_releases(tmp_path, T)["run-1"].released_by == "sven"


@pytest.mark.parametrize(("user", "role", "match"), [
    ("anna", "supervisor", "four-eyes"),     # the preparer herself
    ("ben", "clerk", "supervisor"),
    ("ulla", "auditor", "supervisor"),
])
def test_release_refusals(tmp_path: Path, user: str, role: str, match: str) -> None:
    with pytest.raises(JournalError, match=match):
        record_release(tmp_path, T, "run-1", user=user, role=role, prepared_by="anna")
    assert read_releases(tmp_path, T) == {}


def test_forged_and_repeated_release_lines_are_ignored_and_reported(tmp_path: Path) -> None:
    folder = journal_dir(tmp_path, T) / "releases"
    folder.mkdir(parents=True)
    lines = [
        {"kind": "dunning_release", "tenant": T, "run_id": "run-1", "user": "anna", "role": "supervisor",
         "prepared_by": "anna", "created_at": "2026-12-07T06:00:00+00:00"},       # self-release
        {"kind": "dunning_release", "tenant": T, "run_id": "run-1", "user": "ben", "role": "clerk",
         "prepared_by": "anna", "created_at": "2026-12-07T06:01:00+00:00"},       # not a supervisor
        {"kind": "dunning_release", "tenant": T, "run_id": "run-1", "user": "sven", "role": "supervisor",
         "prepared_by": "anna", "created_at": "2026-12-07T06:02:00+00:00"},       # the valid one
        {"kind": "dunning_release", "tenant": T, "run_id": "run-1", "user": "vera", "role": "supervisor",
         "prepared_by": "anna", "created_at": "2026-12-07T06:03:00+00:00"},       # a second release
        {"kind": "dunning_release", "tenant": T, "user": "vera", "role": "supervisor",
         "prepared_by": "anna", "created_at": "2026-12-07T06:04:00+00:00"},       # no run_id
    ]
    (folder / "forged.jsonl").write_text("".join(json.dumps(x) + "\n" for x in lines) + "oops\n", encoding="utf-8")
    releases, issues = load_releases(tmp_path, T)
    assert {k: v.released_by for k, v in releases.items()} == {"run-1": "sven"}
    assert [i.code for i in issues] == ["journal.bad_line"] + ["journal.dunning_release_refused"] * 4


def test_collection_releases_share_the_journal_with_their_kind_and_wording(tmp_path: Path) -> None:
    rel = record_release(tmp_path, T, "c-1", user="sven", role="supervisor", prepared_by="anna",
                         kind="collection_release")
    assert rel.kind == "collection_release"
    assert read_releases(tmp_path, T)["c-1"].kind == "collection_release"
    record_release(tmp_path, T, "d-1", user="sven", role="supervisor", prepared_by="anna")
    assert read_releases(tmp_path, T)["d-1"].kind == "dunning_release"
    with pytest.raises(JournalError, match="collection run c-1 is released already"):
        record_release(tmp_path, T, "c-1", user="vera", role="supervisor", prepared_by="anna", kind="collection_release")
    with pytest.raises(JournalError, match="prepared collection run c-2"):
        record_release(tmp_path, T, "c-2", user="anna", role="supervisor", prepared_by="anna", kind="collection_release")
    with pytest.raises(ValueError, match="kind"):
        record_release(tmp_path, T, "x-1", user="sven", role="supervisor", prepared_by="anna", kind="teleport_release")


def test_payout_releases_share_the_journal_with_their_kind_and_wording(tmp_path: Path) -> None:
    rel = record_release(tmp_path, T, "p-1", user="sven", role="supervisor", prepared_by="anna", kind="payout_release")
    assert rel.kind == read_releases(tmp_path, T)["p-1"].kind == "payout_release"
    with pytest.raises(JournalError, match="prepared payout run p-2"):
        record_release(tmp_path, T, "p-2", user="anna", role="supervisor", prepared_by="anna", kind="payout_release")
