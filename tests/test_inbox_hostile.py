"""Hostile inbox contents (issue 12): ZIP member names that climb out, a lost ledger, names that are not
UTF-8 or too long for ``<sha256>-<name>``, and links, FIFOs and unreadable folders.

``tmp_path`` is the whole world: the ledger, state, reports and the tenant folder lie below it, and a
canary file outside the tenant folder must come through every night untouched.
"""

from __future__ import annotations

import io
import os
import zipfile
from datetime import date
from pathlib import Path

import polars as pl
import pytest
from nightly_files import ACCOUNT, OTHER_ACCOUNT, Entry, write_mt940

from claims.config import TenantConfig, load_tenant_config
from flows.cli import main
from jobs.nightly.inbox import Move, UnsafeMove, apply_moves
from ledger.db import connect, fetch
from ledger.tables import TABLES
from parsers.names import printable, safe_file_name

D1, D2 = date(2026, 11, 16), date(2026, 11, 17)
SECRET = "root:$6$SECRET-HASH-4711$:19000:0:99999:7:::"


def world(tmp_path: Path) -> TenantConfig:
    (tmp_path / "kasse.toml").write_text('[tenant]\nid = "stadt"\n', encoding="utf-8")
    (tmp_path / "canary.txt").write_text("canary\n", encoding="utf-8")
    cfg = load_tenant_config(tmp_path / "kasse.toml")
    cfg.inbox.mkdir(parents=True)
    return cfg


def nightly(tmp_path: Path, day: date) -> int:
    return main(["nightly", "--no-prefect", "--config", str(tmp_path / "kasse.toml"), "--date", day.isoformat()])


def statement(path: Path, seq: int, account: str = ACCOUNT) -> None:
    write_mt940(path, day=D1, seq=seq, opening=100000, account=account, entries=[Entry(1000 + seq, f"Zahlung {seq}")])


def table(cfg: TenantConfig, name: str) -> pl.DataFrame:
    con = connect(cfg.ledger)
    try:
        return fetch(con, f"SELECT * FROM {name}", table=name)
    finally:
        con.close()


def everything_written(cfg: TenantConfig, tmp_path: Path) -> str:
    """The text of every ledger table and of every file the runs wrote (Parquet read as frames; not the
    delivered files themselves in the inbox, archive or quarantine)."""
    parts = [table(cfg, t).write_csv() for t in TABLES]
    for root, _dirs, files in os.walk(tmp_path):
        if any(Path(root).is_relative_to(d) for d in (tmp_path / "outside", cfg.inbox, cfg.archive)):
            continue
        for f in files:
            p = Path(root) / f
            delivered = p.parent == cfg.quarantine and not p.name.endswith(".reason.txt")
            if p.is_symlink() or delivered or ".duckdb" in p.name:
                continue
            if p.suffix == ".parquet":
                parts.append(pl.read_parquet(p).write_csv())
            else:
                parts.append(p.read_bytes().decode("latin-1"))
    return "\n".join(parts)


# --- 1. ZIP member names are data, never paths ---------------------------------------------------------


def _evil_zip(path: Path) -> None:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("/../../../kasse.duckdb", "not a statement\n")
        zf.writestr("../../x", "not a statement either\n")
        zf.writestr("../../../canary.txt", "nor this\n")
    path.write_bytes(buf.getvalue())


def test_zip_member_names_climbing_out_move_nothing(tmp_path: Path) -> None:
    cfg = world(tmp_path)
    statement(cfg.inbox / "good.sta", 1)
    (cfg.tenant_dir / "x").write_text("tenant file\n", encoding="utf-8")
    nightly(tmp_path, D1)                           # a ledger with one run, so there is something to lose
    _evil_zip(cfg.inbox / "evil.zip")
    (cfg.inbox / "evil.zip!").mkdir()               # makes inbox/evil.zip!/../../.. a real path
    assert nightly(tmp_path, D2) == 0
    assert (tmp_path / "canary.txt").read_text(encoding="utf-8") == "canary\n"
    assert (cfg.tenant_dir / "x").read_text(encoding="utf-8") == "tenant file\n"
    assert cfg.ledger.is_file() and table(cfg, "runs").height == 2
    files = table(cfg, "files").filter(pl.col("booking_date") == D2)
    members = files.filter(pl.col("source_path").str.contains("evil.zip!", literal=True))
    assert members.height == 3                      # each member recorded, as data
    assert set(members["status"]) == {"rejected"} and members["archived_as"].null_count() == 3
    assert files.filter(pl.col("source_path").str.ends_with("/evil.zip"))["archived_as"].str.contains("archive/").all()
    assert not list((cfg.tenant_dir / "quarantine").glob("*duckdb*"))
    assert (cfg.inbox / "evil.zip!").is_dir() and not (cfg.inbox / "evil.zip").exists()   # the ZIP was archived
    assert nightly(tmp_path, D2 + (D2 - D1)) == 0   # and the next night is an ordinary one


def test_a_move_outside_the_tenant_folders_is_refused(tmp_path: Path) -> None:
    cfg = world(tmp_path)
    (cfg.inbox / "a.sta").write_text("a", encoding="utf-8")
    bad = [Move(cfg.inbox / ".." / ".." / "canary.txt", cfg.tenant_dir / "quarantine" / "c"),
           Move(cfg.inbox / "a.sta", cfg.tenant_dir / "archive" / ".." / ".." / "elsewhere")]
    with pytest.raises(UnsafeMove, match="outside"):
        apply_moves(bad, tenant_dir=cfg.tenant_dir)
    assert (tmp_path / "canary.txt").exists() and (cfg.inbox / "a.sta").exists()
    assert not (tmp_path / "elsewhere").exists()


# --- 1b. a lost ledger stops the night -------------------------------------------------------------------


def test_a_deleted_or_replaced_ledger_stops_the_next_night(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    cfg = world(tmp_path)
    statement(cfg.inbox / "good.sta", 1)
    assert nightly(tmp_path, D1) == 0
    cfg.ledger.unlink()
    statement(cfg.inbox / "next.sta", 2)
    assert nightly(tmp_path, D2) == 4
    err = capsys.readouterr().err
    assert str(cfg.ledger) in err and "does not exist" in err and "restore" in err
    assert not cfg.ledger.exists()                  # no new, empty ledger was started
    assert (cfg.inbox / "next.sta").exists()        # and nothing was moved
    connect(cfg.ledger).close()                     # an empty ledger in its place: fewer runs than recorded
    assert nightly(tmp_path, D2) == 4
    assert "holds 0 runs" in capsys.readouterr().err


# --- 3. names that are not UTF-8, or too long for the archive name ------------------------------------------


def _odd_name(folder: Path, which: str) -> None:
    """good.sta, and a statement with a name that is not UTF-8 or 248 bytes long."""
    if which == "not_utf8":
        statement(Path(os.fsdecode(bytes(folder) + b"/umsatz-\xff\xfe.sta")), 2)
    else:
        statement(folder / ("l" * 244 + ".sta"), 3, account=OTHER_ACCOUNT)
    statement(folder / "good.sta", 1)


@pytest.mark.parametrize("which", ["not_utf8", "long"])
def test_kasse_parse_reads_odd_names_one_line_each(tmp_path: Path, which: str) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    _odd_name(folder, which)
    assert main(["parse", str(folder), "--out", str(tmp_path / "out")]) == 0
    files = pl.read_csv(tmp_path / "out" / "files.csv")
    assert files.height == 2 and set(files["status"]) == {"ok"}
    if which == "not_utf8":
        assert any("umsatz-\\xff\\xfe.sta" in p for p in files["source_path"])
    assert pl.read_parquet(tmp_path / "out" / "transactions.parquet").height == 2


@pytest.mark.parametrize("which", ["not_utf8", "long"])
def test_nightly_books_and_archives_odd_names_and_the_next_night_is_fine(tmp_path: Path, which: str) -> None:
    cfg = world(tmp_path)
    _odd_name(cfg.inbox, which)
    assert nightly(tmp_path, D1) == 0
    files = table(cfg, "files")
    assert files.height == 2 and set(files["status"]) == {"ok"}
    assert table(cfg, "transactions").height == 2
    assert not list(cfg.inbox.iterdir())            # every file archived
    archived = [p.name for p in (cfg.archive / D1.isoformat()).iterdir()]
    assert len(archived) == 2 and all(len(os.fsencode(n)) <= 255 and n.isprintable() for n in archived)
    assert nightly(tmp_path, D2) == 0
    assert table(cfg, "runs").height == 2


# --- 4. links, FIFOs and unreadable folders -------------------------------------------------------------------


def test_links_and_special_entries_are_recorded_never_followed_and_leak_nothing(tmp_path: Path) -> None:
    cfg = world(tmp_path)
    outside = tmp_path / "outside"
    (outside / "folder").mkdir(parents=True)
    (outside / "shadow").write_text(SECRET + "\nbin:*:19000:0:99999:7:::\n", encoding="utf-8")
    statement(outside / "elsewhere.sta", 5)
    statement(outside / "folder" / "inside.sta", 6)
    statement(cfg.inbox / "good.sta", 1)
    (cfg.inbox / "shadow.sta").symlink_to(outside / "shadow")
    (cfg.inbox / "elsewhere.sta").symlink_to(outside / "elsewhere.sta")
    (cfg.inbox / "dangling.sta").symlink_to(outside / "gone.sta")
    (cfg.inbox / "linked_folder").symlink_to(outside / "folder")
    os.mkfifo(cfg.inbox / "pipe.sta")
    odd = {"shadow.sta", "elsewhere.sta", "dangling.sta", "linked_folder", "pipe.sta"}
    if os.geteuid() != 0:                           # root reads a chmod 000 folder anyway
        (cfg.inbox / "locked").mkdir()
        statement(cfg.inbox / "locked" / "hidden.sta", 7)
        (cfg.inbox / "locked").chmod(0)
        odd.add("locked")
    try:
        for day in (D1, D2):                        # recorded again each night they are there
            assert nightly(tmp_path, day) == 0
    finally:
        if (cfg.inbox / "locked").exists():
            (cfg.inbox / "locked").chmod(0o755)
    files = table(cfg, "files")
    for night in (D1, D2):
        rows = files.filter(pl.col("booking_date") == night, pl.col("kind") == "other")
        assert sorted(Path(p).name for p in rows["source_path"]) == sorted(odd)
        assert set(rows["status"]) == {"rejected"} and rows["archived_as"].null_count() == rows.height
    assert files.filter(pl.col("status") == "ok").height == 1          # only good.sta booked
    assert table(cfg, "transactions").height == 1
    assert all((cfg.inbox / n).is_symlink() or (cfg.inbox / n).exists() for n in odd)   # left in place
    assert (outside / "shadow").read_text(encoding="utf-8").startswith(SECRET)
    assert (outside / "elsewhere.sta").is_file() and (outside / "folder" / "inside.sta").is_file()
    assert not (cfg.tenant_dir / "quarantine").exists() or not any(
        p.is_symlink() for p in (cfg.tenant_dir / "quarantine").iterdir())
    text = everything_written(cfg, tmp_path)
    assert "SECRET-HASH" not in text
    assert "symbolic link" in text and "FIFO" in text


def test_kasse_parse_rejects_links_inside_a_folder_but_follows_a_named_one(tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "shadow").write_text(SECRET + "\n", encoding="utf-8")
    statement(outside / "elsewhere.sta", 5)
    folder = tmp_path / "in"
    folder.mkdir()
    statement(folder / "good.sta", 1)
    (folder / "shadow.sta").symlink_to(outside / "shadow")
    (folder / "elsewhere.sta").symlink_to(outside / "elsewhere.sta")
    (folder / "dangling.sta").symlink_to(outside / "gone.sta")
    os.mkfifo(folder / "pipe.sta")
    assert main(["parse", str(folder), "--out", str(tmp_path / "out")]) == 1
    files = pl.read_csv(tmp_path / "out" / "files.csv")
    by_name = {Path(p).name: (s, r) for p, s, r in files.select("source_path", "status", "reason").iter_rows()}
    assert set(by_name) == {"good.sta", "shadow.sta", "elsewhere.sta", "dangling.sta", "pipe.sta"}
    assert by_name["good.sta"][0] == "ok"
    assert all(by_name[n][0] == "rejected" and "symbolic link" in by_name[n][1]
               for n in ("shadow.sta", "elsewhere.sta", "dangling.sta"))
    assert "SECRET-HASH" not in (tmp_path / "out" / "files.csv").read_text(encoding="utf-8")
    assert "SECRET-HASH" not in (tmp_path / "out" / "issues.csv").read_text(encoding="utf-8")
    # named on the command line, a link is followed: the operator chose it
    assert main(["parse", str(folder / "elsewhere.sta"), "--out", str(tmp_path / "out2")]) == 0


def test_a_text_file_is_described_not_quoted(tmp_path: Path) -> None:
    cfg = world(tmp_path)
    (cfg.inbox / "notes.sta").write_text(SECRET + "\n", encoding="utf-8")
    assert nightly(tmp_path, D1) == 0
    assert "SECRET-HASH" not in everything_written(cfg, tmp_path)
    assert (cfg.tenant_dir / "quarantine" / "notes.sta.reason.txt").exists()


def test_names_are_printable_and_made_names_are_safe_and_bounded() -> None:
    raw = os.fsdecode(b"a\xff\nb\x1b[31m.sta")
    assert printable(raw) == "a\\xff\\nb\\x1b[31m.sta"
    made = safe_file_name(os.fsdecode(b"\xff" * 300 + b".sta"))
    assert made.endswith(".sta") and len(made.encode("utf-8")) <= 120
    assert set(made) <= set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-")
    assert safe_file_name("/../../kasse.duckdb") == "_.._.._kasse.duckdb"
    assert safe_file_name("..") == "file" and safe_file_name("Umsätze 11.sta") == "Umsätze_11.sta"
