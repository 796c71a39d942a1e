"""One ledger file per tenant by default (issue 21): ``[paths] ledger`` unset is ``<tenant id>.duckdb`` beside
the config, so tenants never wait for each other's write lock; a shared file stays possible when set, and a
site whose tenants ran on the old default (``kasse.duckdb``) is told to name that file, never given a new,
empty ledger."""

from __future__ import annotations

from pathlib import Path

import pytest
from test_nightly_plain import D1, D2, deliver_day1

from claims.config import load_tenant_config
from flows.cli import main
from flows.cmd_nightly import run_reports
from ledger.db import connect, fetch
from ledger.marker import read_marker
from ledger.publish import read_published
from review.config import load_review_config


def _site(root: Path, name: str, paths: str = "") -> Path:
    """``<root>/<name>.toml`` for tenant ``name`` (all tenants' configs in one folder, as a data centre keeps them)."""
    root.mkdir(parents=True, exist_ok=True)
    config = root / f"{name}.toml"
    config.write_text(f'[tenant]\nid = "{name}"\n{paths}', encoding="utf-8")
    return config


def _tenants_in(ledger: Path) -> list[tuple[str, int]]:
    con = connect(ledger, read_only=True)
    try:
        return fetch(con, "SELECT tenant, count(*) FROM transactions GROUP BY tenant ORDER BY tenant").rows()
    finally:
        con.close()


def test_an_unset_ledger_is_the_tenants_own_file_beside_the_config(tmp_path: Path) -> None:
    cfg = load_tenant_config(_site(tmp_path, "nord"))
    assert cfg.ledger == tmp_path / "nord.duckdb"
    assert cfg.state_dir == tmp_path / "state"               # shared by the folder's tenants: one review page


def test_a_set_ledger_is_shared_by_the_tenants_that_name_it(tmp_path: Path) -> None:
    shared = '[paths]\nledger = "kasse.duckdb"\n'
    a, b = (load_tenant_config(_site(tmp_path, n, shared)) for n in ("nord", "sued"))
    assert a.ledger == b.ledger == tmp_path / "kasse.duckdb"


def test_two_tenants_of_one_folder_book_into_their_own_files(tmp_path: Path) -> None:
    configs: list[Path | None] = [_site(tmp_path, n) for n in ("nord", "sued")]
    for c in configs:
        deliver_day1(load_tenant_config(c))
    reports = run_reports(configs, D1, tenants=None, prefect=False)
    assert [r["tenant"] for r in reports] == ["nord", "sued"]
    assert _tenants_in(tmp_path / "nord.duckdb") == [("nord", 4)]
    assert _tenants_in(tmp_path / "sued.duckdb") == [("sued", 4)]
    assert not (tmp_path / "kasse.duckdb").exists()
    for name in ("nord", "sued"):                           # each marker names its tenant's own file
        assert read_marker(load_tenant_config(tmp_path / f"{name}.toml"))["ledger"] == str(tmp_path / f"{name}.duckdb")
    review = load_review_config(tmp_path / "nord.toml")     # one page serves both: the folder's state
    for name in ("nord", "sued"):
        klaerungsliste, _, meta = read_published(review.state_dir / "published", name)
        assert set(klaerungsliste["tenant"]) == {name} and meta["tenant"] == name


def test_a_site_on_the_old_shared_default_is_refused_naming_the_file_then_runs_when_it_is_set(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = _site(tmp_path, "stadt", '[paths]\nledger = "kasse.duckdb"\n')     # as the old default was
    deliver_day1(load_tenant_config(config))
    assert main(["nightly", "--no-prefect", "--date", D1.isoformat(), "--config", str(config)]) == 0
    capsys.readouterr()
    _site(tmp_path, "stadt")                                # the upgrade: the key was never written
    assert main(["nightly", "--no-prefect", "--date", D2.isoformat(), "--config", str(config)]) == 4
    err = capsys.readouterr().err
    assert str(tmp_path / "kasse.duckdb") in err and "[paths] ledger" in err
    assert not (tmp_path / "stadt.duckdb").exists()         # no new, empty ledger was started
    _site(tmp_path, "stadt", '[paths]\nledger = "kasse.duckdb"\n')              # the explicit setting
    assert main(["nightly", "--no-prefect", "--date", D2.isoformat(), "--config", str(config)]) == 0
    assert _tenants_in(tmp_path / "kasse.duckdb") == [("stadt", 4)]
