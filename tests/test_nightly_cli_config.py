"""``kasse nightly`` refuses to run without a config file, with a tenant whose inbox folder is missing
(exit 2, nothing created) or on a ledger a newer release migrated: a night on built-in defaults or a mistyped ``tenant_dir`` would otherwise
report success and book nothing, night after night."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from nightly_files import Entry, write_mt940

import jobs.nightly as night
from claims.config import load_tenant_config
from claims.errors import ConfigError
from flows.cli import main
from ledger.db import connect
from ledger.migrations import latest_version

DAY = date(2026, 11, 16)


def _nightly(*extra: str) -> int:
    return main(["nightly", "--no-prefect", "--date", DAY.isoformat(), *extra])


def test_nightly_without_a_config_file_is_an_error_naming_the_file_and_the_option(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.chdir(tmp_path)
    assert _nightly() == 2
    err = capsys.readouterr().err
    assert str(tmp_path / "kasse.toml") in err and "--config" in err
    assert list(tmp_path.iterdir()) == []                   # no ledger, no tenant "default" folders


def test_a_missing_inbox_folder_refuses_the_run_naming_the_folder(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = tmp_path / "kasse.toml"
    config.write_text('[tenant]\nid = "stadt"\n[paths]\ntenant_dir = "statd"\n', encoding="utf-8")
    write_mt940(tmp_path / "stadt" / "inbox" / "a.sta", day=DAY, seq=1, opening=0, entries=[Entry(100, "x")])
    assert _nightly("--config", str(config)) == 2
    err = capsys.readouterr().err
    assert str(tmp_path / "statd" / "inbox") in err and "tenant_dir" in err and str(config) in err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["kasse.toml", "stadt"]   # no ledger made


def test_an_inbox_that_is_a_file_is_refused_too(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = tmp_path / "kasse.toml"
    config.write_text('[tenant]\nid = "stadt"\n', encoding="utf-8")
    (tmp_path / "stadt").mkdir()
    (tmp_path / "stadt" / "inbox").write_text("not a folder", encoding="utf-8")
    assert _nightly("--config", str(config)) == 2
    assert "is not a folder" in capsys.readouterr().err


def test_run_night_refuses_a_missing_inbox_before_touching_the_ledger(tmp_path: Path) -> None:
    (tmp_path / "kasse.toml").write_text('[tenant]\nid = "stadt"\n', encoding="utf-8")
    cfg = load_tenant_config(tmp_path / "kasse.toml")
    with pytest.raises(ConfigError, match=r"inbox folder .* does not exist"):
        night.run_night(cfg, DAY)
    assert not cfg.ledger.exists()


def test_an_empty_inbox_folder_is_a_quiet_night(tmp_path: Path) -> None:
    (tmp_path / "kasse.toml").write_text('[tenant]\nid = "stadt"\n', encoding="utf-8")
    cfg = load_tenant_config(tmp_path / "kasse.toml")
    cfg.inbox.mkdir(parents=True)
    assert _nightly("--config", str(tmp_path / "kasse.toml")) == 0
    assert cfg.ledger.exists()


def test_a_ledger_of_a_newer_release_is_refused_with_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "kasse.toml").write_text('[tenant]\nid = "stadt"\n', encoding="utf-8")
    cfg = load_tenant_config(tmp_path / "kasse.toml")
    cfg.inbox.mkdir(parents=True)
    con = connect(cfg.ledger)
    con.execute("INSERT INTO schema_version VALUES (?, 'from the future', now())", [latest_version() + 1])
    con.close()
    assert _nightly("--config", str(tmp_path / "kasse.toml")) == 2
    assert f"schema version {latest_version() + 1}" in capsys.readouterr().err
