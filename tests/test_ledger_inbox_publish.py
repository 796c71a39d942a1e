"""Inbox moves (archive under hash, quarantine with reason, idempotent) and the atomic published state."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import polars as pl

from jobs.nightly.inbox import Move, apply_moves, list_inbox, plan_move, scan_inbox
from ledger.publish import (
    KEEP_VERSIONS,
    PUBLISHED_KLAERUNG_SCHEMA,
    publish,
    published_klaerungsliste,
    read_published,
)
from ledger.tables import UNRESOLVED
from matching.schema import OPEN_ITEM_SCHEMA
from parsers.schema import TRANSACTION_SCHEMA, conform

DAY = date(2026, 11, 16)


def test_inbox_lists_bank_files_and_exports_and_skips_files_still_arriving(tmp_path: Path) -> None:
    inbox = tmp_path / "inbox"
    (inbox / "sparkasse").mkdir(parents=True)
    for name in ("sparkasse/a.sta", "b.xml", "open_items.csv", "c.sta.part", ".hidden"):
        (inbox / name).write_text("x", encoding="utf-8")
    banks, exports = list_inbox(inbox)
    assert [p.name for p in banks] == ["b.xml", "a.sta"]
    assert [p.name for p in exports] == ["open_items.csv"]
    assert list_inbox(tmp_path / "missing") == ([], [])


def _plan(tmp_path: Path, rows: dict[str, tuple[str | None, str, str | None]]) -> list[Move]:
    """Moves for the inbox files named in ``rows`` (name -> sha, status, reason), as the ingest step plans them."""
    entries = {e.path.name: e for e in scan_inbox(tmp_path / "inbox")}
    moves = [plan_move(entries[n], {"source_file": sha, "status": st, "reason": why}, tenant_dir=tmp_path,
                       booking_date=DAY) for n, (sha, st, why) in rows.items()]
    return [m for m in moves if m is not None]


def test_moves_archive_under_hash_quarantine_with_reason_and_are_idempotent(tmp_path: Path) -> None:
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    for name in ("good.sta", "again.sta", "bad.sta"):
        (inbox / name).write_text(name, encoding="utf-8")
    moves = _plan(tmp_path, {"good.sta": ("a" * 64, "ok", None), "again.sta": ("b" * 64, "duplicate", "already booked"),
                             "bad.sta": (None, "rejected", "not a bank statement: no :20:")})
    apply_moves(moves, tenant_dir=tmp_path)
    assert sorted(p.name for p in (tmp_path / "archive" / "2026-11-16").iterdir()) == [
        f"{'a' * 64}-good.sta", f"{'b' * 64}-again.sta"]
    assert (tmp_path / "quarantine" / "bad.sta.reason.txt").read_text(encoding="utf-8").startswith("not a bank")
    assert not list(inbox.iterdir())
    assert apply_moves(moves, tenant_dir=tmp_path) == []     # a second attempt finds nothing left to move
    # a crash between commit and move: the next night reads the file again (duplicate) and it lands on its copy
    (inbox / "good.sta").write_text("good.sta", encoding="utf-8")
    assert apply_moves(moves[:1], tenant_dir=tmp_path) == []  # not the file this plan read: left for that night
    apply_moves(_plan(tmp_path, {"good.sta": ("a" * 64, "duplicate", "same")}), tenant_dir=tmp_path)
    assert not (inbox / "good.sta").exists()
    assert len(list((tmp_path / "archive" / "2026-11-16").iterdir())) == 2


def test_quarantine_never_overwrites_an_earlier_rejected_file(tmp_path: Path) -> None:
    for n in range(2):
        (tmp_path / "inbox").mkdir(exist_ok=True)
        (tmp_path / "inbox" / "bad.sta").write_text(f"v{n}", encoding="utf-8")
        apply_moves(_plan(tmp_path, {"bad.sta": (None, "rejected", f"reason {n}")}), tenant_dir=tmp_path)
    q = tmp_path / "quarantine"
    assert (q / "bad.sta").read_text(encoding="utf-8") == "v0"
    assert (q / "bad.1.sta").read_text(encoding="utf-8") == "v1"
    assert (q / "bad.1.sta.reason.txt").read_text(encoding="utf-8").strip() == "reason 1"


def _kl(n: int) -> pl.DataFrame:
    unresolved = pl.DataFrame({"transaction_id": [f"tx{i}" for i in range(n)], "bank_ref": ["B"] * n,
                               "booking_date": [date(2026, 11, 10)] * n, "amount_cents": [100] * n,
                               "unallocated_cents": [100] * n, "reason": ["no_reference"] * n,
                               "candidates": ["[]"] * n, "state": ["open"] * n}, schema_overrides=UNRESOLVED)
    tx = conform(pl.DataFrame({"transaction_id": [f"tx{i}" for i in range(n)], "account_iban": ["DE1"] * n,
                               "counterparty_name": ["=cmd|' /C calc'!A0"] * n},
                            schema_overrides=TRANSACTION_SCHEMA), TRANSACTION_SCHEMA)
    return published_klaerungsliste(unresolved, tx, tenant="t", as_of=DAY)


def test_published_klaerungsliste_has_the_contract_columns_and_age() -> None:
    kl = _kl(2)
    assert dict(kl.schema) == PUBLISHED_KLAERUNG_SCHEMA
    assert kl["age_days"].to_list() == [6, 6]
    assert kl["account_iban"].to_list() == ["DE1", "DE1"]


def test_publish_switches_versions_atomically_and_keeps_a_few(tmp_path: Path) -> None:
    root = tmp_path / "published"
    items = pl.DataFrame(schema=OPEN_ITEM_SCHEMA)
    for n in range(KEEP_VERSIONS + 2):
        link = publish(root, "t", klaerungsliste=_kl(n), open_items=items, run_id=f"r{n}", as_of=DAY)
        kl, _, meta = read_published(root, "t")
        assert kl.height == n and meta["run_id"] == f"r{n}"
        assert json.loads((link / "meta.json").read_text(encoding="utf-8"))["as_of"] == "2026-11-16"
    assert link.is_symlink()
    versions = [p for p in (root / ".t").iterdir() if not p.name.startswith(".")]
    assert len(versions) == KEEP_VERSIONS
    assert not [p for p in root.iterdir() if p.name.startswith(".t.link")]
