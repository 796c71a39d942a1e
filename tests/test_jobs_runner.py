"""The generic job runner: a second run of a tenant is refused while one holds it; every run has its
``runs`` row with the job's name; the nightly run is a job on it."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from nightly_files import Entry, write_mt940

import jobs.nightly as night
from claims.config import TenantConfig, load_tenant_config
from flows.cli import main
from jobs.runner import TenantBusy, new_run, tenant_lock
from ledger.db import connect, fetch

D1 = date(2026, 11, 16)


def tenant(tmp_path: Path) -> TenantConfig:
    (tmp_path / "kasse.toml").write_text('[tenant]\nid = "stadt"\n', encoding="utf-8")
    cfg = load_tenant_config(tmp_path / "kasse.toml")
    write_mt940(cfg.inbox / "a.sta", day=D1, seq=1, opening=100000, entries=[Entry(5000, "KZ 1")])
    return cfg


def test_a_second_run_of_a_tenant_is_refused_while_one_runs(tmp_path: Path,
                                                             capsys: pytest.CaptureFixture[str]) -> None:
    cfg = tenant(tmp_path)
    with tenant_lock(cfg):
        with pytest.raises(TenantBusy, match="stadt"):
            night.run_night(cfg, D1)
        code = main(["nightly", "--no-prefect", "--date", D1.isoformat(), "--config", str(cfg.source)])
        assert code == 3 and "another run" in capsys.readouterr().err
    night.run_night(cfg, D1)                      # the lock is free again: the night runs
    con = connect(cfg.ledger)
    try:
        assert fetch(con, "SELECT count(*) AS n FROM runs")["n"][0] == 1   # the refused runs booked nothing
    finally:
        con.close()


def test_every_run_has_its_runs_row_with_the_job(tmp_path: Path) -> None:
    cfg = tenant(tmp_path)
    report = night.run_night(cfg, D1)
    con = connect(cfg.ledger)
    try:
        runs = fetch(con, "SELECT run_id, job, booking_date, n_transactions FROM runs")
    finally:
        con.close()
    assert runs.rows() == [(report["run_id"], "nightly", D1, 1)]


def test_run_ids_name_the_job_beside_the_nightly() -> None:
    cfg = TenantConfig("stadt", Path("k.duckdb"), Path("t"), Path("s"), Path("r"))
    assert new_run("nightly", cfg, D1).run_id.startswith("20261116-stadt-")
    assert new_run("dunning", cfg, D1).run_id.startswith("20261116-stadt-dunning-")
