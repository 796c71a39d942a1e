"""The hostile corpus (tests/hostile/corpus.py) through `kasse parse` and through two nights.

Every input gets one line of outcome with the expected status, no run ends in a traceback, nothing
outside the inbox is read into a reason or moved, the secret never appears anywhere, nothing is
booked twice, and the peak memory of each command stays below 1 GiB.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import duckdb
import polars as pl
import pytest
from hostile.corpus import SECRET, Case, build

KASSE = Path(sys.executable).parent / "kasse"
GIB = 1 << 30


def run_measured(args: list[str], cwd: Path) -> tuple[int, str, int]:
    """Run a command; return exit code, stdout + stderr, and the child's peak RSS in bytes (wait4)."""
    log = cwd / f".out-{os.getpid()}.log"
    with open(log, "wb") as fh:
        proc = subprocess.Popen(args, cwd=cwd, stdout=fh, stderr=subprocess.STDOUT,
                                env={**os.environ, "DO_NOT_TRACK": "1", "PREFECT_SERVER_ANALYTICS_ENABLED": "false"})
        _, status, usage = os.wait4(proc.pid, 0)
        proc.returncode = os.waitstatus_to_exitcode(status)
    out = log.read_bytes().decode("utf-8", "replace")
    log.unlink()
    return proc.returncode, out, usage.ru_maxrss * 1024


def expect(rows: pl.DataFrame, cases: list[Case], prefix: str) -> None:
    """Each case has exactly one row with its status (and reason text)."""
    names = [p.removeprefix(prefix) for p in rows["source_path"]]
    assert len(names) == len(set(names)), "an input has more than one row"
    by_name = dict(zip(names, rows.select("status", "reason").iter_rows(), strict=True))
    for case in cases:
        assert case.name in by_name, f"no outcome for {case.name!r}; have {sorted(by_name)}"
        status, reason = by_name[case.name]
        if case.status != "*":
            assert status == case.status, (case.name, status, reason)
        if case.why:
            assert case.why in (reason or ""), (case.name, reason)
        assert "\n" not in (reason or "")


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[Case]]:
    root = tmp_path_factory.mktemp("world")
    tenant = root / "stadt"
    cases = build(tenant / "inbox", outside=root / "outside")
    (root / "canary.txt").write_text("untouched\n", encoding="utf-8")
    return root, cases


def test_kasse_parse_gives_every_input_one_line(world: tuple[Path, list[Case]], tmp_path: Path) -> None:
    root, cases = world
    inbox = root / "stadt" / "inbox"
    code, out, rss = run_measured([str(KASSE), "parse", str(inbox), "--out", str(tmp_path / "out")], cwd=root)
    assert code == 1, out                                   # some files rejected, the rest written
    assert "Traceback" not in out
    files = pl.read_csv(tmp_path / "out" / "files.csv", infer_schema_length=None)
    members = files.filter(~pl.col("source_path").str.contains("!", literal=True)
                           | pl.col("source_path").str.contains("evil.zip!/placeholder", literal=True))
    assert members.height >= len({c.name.split("!")[0] for c in cases})
    expect(files, cases, f"{inbox}/")
    for name in ("files.csv", "issues.csv"):
        assert SECRET not in (tmp_path / "out" / name).read_text(encoding="utf-8")
    assert SECRET not in out
    assert rss < GIB, f"kasse parse peaked at {rss / 2**20:.0f} MiB"


def test_two_nights_over_the_hostile_inbox(world: tuple[Path, list[Case]], tmp_path: Path) -> None:
    root, cases = world
    (root / "kasse.toml").write_text('[tenant]\nid = "stadt"\n[paths]\ntenant_dir = "stadt"\n'
                                     'ledger = "kasse.duckdb"\n', encoding="utf-8")
    before_outside = sorted(p.name for p in (root / "outside").iterdir())
    code, out, rss = run_measured([str(KASSE), "nightly", "--no-prefect", "--config", "kasse.toml",
                                   "--date", "2026-11-16"], cwd=root)
    assert code == 0, out
    assert "Traceback" not in out
    assert rss < GIB, f"the night peaked at {rss / 2**20:.0f} MiB"
    con = duckdb.connect(str(root / "kasse.duckdb"), read_only=True)
    try:
        files = con.sql("SELECT source_path, status, reason FROM files").pl()
        tx = con.sql("SELECT transaction_id, account_iban, bank_ref FROM transactions").pl()
        text = "\n".join(str(v) for t in ("files", "issues", "audit_events")
                         for row in con.sql(f"SELECT * FROM {t}").fetchall() for v in row)
    finally:
        con.close()
    expect(files, [c for c in cases if c.name != "evil.zip!/placeholder.txt"] + [
        Case("evil.zip!/placeholder.txt", "rejected")], f"{root / 'stadt' / 'inbox'}/")
    assert SECRET not in text
    assert tx["transaction_id"].is_unique().all() and tx.select("account_iban", "bank_ref").is_unique().all()
    # nothing outside the tenant's folders moved or written; the ledger in place
    assert (root / "canary.txt").read_text(encoding="utf-8") == "untouched\n"
    assert sorted(p.name for p in (root / "outside").iterdir()) == before_outside
    for note in (root / "stadt" / "quarantine").rglob("*.reason.txt"):
        assert SECRET not in note.read_text(encoding="utf-8")
    booked = tx.height
    # the second night: what stayed in the inbox (links, special files) is recorded again, nothing booked
    code, out, _ = run_measured([str(KASSE), "nightly", "--no-prefect", "--config", "kasse.toml",
                                 "--date", "2026-11-17"], cwd=root)
    assert code == 0, out
    con = duckdb.connect(str(root / "kasse.duckdb"), read_only=True)
    try:
        assert con.sql("SELECT count(*) FROM transactions").fetchall() == [(booked,)]
    finally:
        con.close()
