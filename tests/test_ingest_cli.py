"""``kasse parse``: outputs written, summary printed, exit codes 0/1/2; in-process and as a real process."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import polars as pl
import pytest

from flows.cli import main

BROKEN = Path(__file__).parent / "broken"
OUTPUTS = {"transactions.parquet", "statements.parquet", "issues.csv", "files.csv"}


def test_every_file_read_exit_0(samples_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    sample = samples_dir / "camt" / "viafintech__camt_parser__053_valid_example.xml"
    out = tmp_path / "out"
    assert main(["parse", str(sample), "--out", str(out)]) == 0
    assert {p.name for p in out.iterdir()} == OUTPUTS  # no temp file left behind
    tx = pl.read_parquet(out / "transactions.parquet")
    assert tx.height == 5 and set(tx["source_path"]) == {str(sample)}
    assert tx["amount_cents"].dtype == pl.Int64()
    assert pl.read_parquet(out / "statements.parquet").height == 1
    files = pl.read_csv(out / "files.csv")
    assert files["status"].to_list() == ["ok"]
    text = capsys.readouterr().out
    assert "1 files: 1 ok, 0 rejected, 0 duplicate" in text
    assert "1 statements, 4 entries (5 rows)" in text


def test_rejected_file_exit_1_rest_still_written(samples_dir: Path, tmp_path: Path,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    sample = samples_dir / "mt940" / "my-flow__mt940__sample.sta"
    out = tmp_path / "out"
    code = main(["parse", str(sample), str(BROKEN / "billion_laughs.xml"), str(BROKEN / "empty.sta"), "--out", str(out)])
    assert code == 1
    assert pl.read_parquet(out / "transactions.parquet").height == 4
    issues = pl.read_csv(out / "issues.csv")
    assert issues.columns == ["source_path", "locator", "severity", "code", "message"]
    assert {"xml.entities_forbidden", "file.empty"} <= set(issues["code"])
    text = capsys.readouterr().out
    assert "3 files: 1 ok, 2 rejected" in text
    assert f"rejected: {BROKEN / 'billion_laughs.xml'}: /: error xml.entities_forbidden:" in text
    assert "Traceback" not in text


def test_json_summary(samples_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["parse", str(samples_dir / "pain"), "--out", str(tmp_path / "o"), "--json"])
    summary = json.loads(capsys.readouterr().out)
    assert code == 1
    assert (summary["files"], summary["ok"], summary["rejected"]) == (7, 0, 7)
    assert all(" file.pain: " in f["reason"] for f in summary["rejected_files"])


def test_strict_exit_1_on_warnings(samples_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # a closing balance one cent off: an error issue, but the file was read (exit 0) unless --strict
    sample = samples_dir / "mt940" / "my-flow__mt940__sample.sta"
    assert main(["parse", str(sample), "--out", str(tmp_path / "a")]) == 0
    bad = tmp_path / "bad.sta"
    bad.write_bytes(sample.read_bytes().replace(b":62F:C100802EUR1925,52", b":62F:C100802EUR1925,53"))
    assert main(["parse", str(bad), "--out", str(tmp_path / "b")]) == 0
    assert "1 balance failures" in capsys.readouterr().out
    assert main(["parse", str(bad), "--out", str(tmp_path / "c"), "--strict"]) == 1
    assert "strict: " in capsys.readouterr().out


def test_usage_errors_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        main(["parse", str(tmp_path)])  # no --out
    assert exc.value.code == 2
    not_a_dir = tmp_path / "file"
    not_a_dir.write_text("x")
    assert main(["parse", str(tmp_path), "--out", str(not_a_dir)]) == 2
    assert "is not a folder" in capsys.readouterr().err


def test_real_process(samples_dir: Path, tmp_path: Path) -> None:
    kasse = Path(sys.executable).parent / "kasse"
    env = {k: v for k, v in os.environ.items() if k != "CI"}
    proc = subprocess.run(
        [str(kasse), "parse", str(samples_dir / "camt" / "genkgo__camt__camt054.v4.xml"), str(BROKEN / "bank_export.csv"),
         "--out", str(tmp_path / "out"), "--tenant", "kreis-x"],
        capture_output=True, text=True, env=env, timeout=120, check=False,
    )
    assert proc.returncode == 1, proc.stderr
    assert "2 files: 1 ok, 1 rejected, 0 duplicate" in proc.stdout
    assert "looks like CSV" in proc.stdout
    assert proc.stderr == ""
    tx = pl.read_parquet(tmp_path / "out" / "transactions.parquet")
    assert set(tx["tenant"]) == {"kreis-x"} and tx.height == 3


def test_summary_fits_one_screen(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    for n in range(40):
        (inbox / f"{n:02d}.csv").write_text(f"a;b;c\n{n};2;3\n4;5;6\n")
    assert main(["parse", str(inbox), "--out", str(tmp_path / "out")]) == 1
    text = capsys.readouterr().out
    assert len(text.splitlines()) <= 24
    assert "... and 25 more rejected files (see files.csv)" in text
    assert pl.read_csv(tmp_path / "out" / "files.csv").height == 40
