"""``kasse deploy`` and ``kasse night`` without a server: what the deployments carry, and the refusals."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from claims.errors import ConfigError
from flows.cli import main
from flows.cmd_deploy import CHECKOUT, deploy, search_path
from flows.cmd_serve import deployments
from flows.tenant_slot import slot_name


def _config(folder: Path, tenant: str, schedule: str = "") -> Path:
    path = folder / f"{tenant}.toml"
    path.write_text(f'[tenant]\nid = "{tenant}"\n{schedule}', encoding="utf-8")
    return path


def test_a_pool_deployment_runs_one_tenant_in_this_checkout(tmp_path: Path) -> None:
    config = _config(tmp_path, "nord", '[schedule]\ndunning = "0 6 * * 2"\n')
    deps = deployments([config], None, pool="rz", job_variables={"working_dir": str(CHECKOUT)})
    assert [(d.name, d.work_pool_name, d.parameters) for d in deps] == [
        ("dunning-nord", "rz", {"config": str(config.resolve())}),
        ("nightly-nord", "rz", {"config": str(config.resolve())})]
    assert {d.entrypoint for d in deps} == {"flows.dunning.dunning", "flows.nightly.nightly"}
    assert deps[1].job_variables == {"working_dir": str(CHECKOUT)}
    assert (CHECKOUT / "flows" / "nightly.py").is_file()


def test_served_deployments_go_to_no_pool(tmp_path: Path) -> None:
    (dep,) = deployments([_config(tmp_path, "nord")], None)
    assert dep.work_pool_name is None and dep.parameters == {"config": str((tmp_path / "nord.toml").resolve())}


def test_the_flow_runs_search_this_checkout_first_then_the_shells_path(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PYTHONPATH", f"/opt/extra{os.pathsep}{CHECKOUT}")
    assert search_path() == f"{CHECKOUT}{os.pathsep}/opt/extra"
    monkeypatch.delenv("PYTHONPATH")
    assert search_path() == str(CHECKOUT)


def test_two_configs_of_one_tenant_are_refused_before_anything_is_made(tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    with pytest.raises(ConfigError, match="same tenant"):
        deploy([_config(tmp_path / "a", "nord"), _config(tmp_path / "b", "nord")], "rz", None, None)
    with pytest.raises(ConfigError, match="at least 1"):
        deploy([_config(tmp_path / "a", "nord")], "rz", 0, None)


def test_the_tenant_slot_is_named_for_the_tenant() -> None:
    assert slot_name("nord") == "tenant-nord"


@pytest.mark.parametrize("argv", [["deploy", "--pool", "rz", "--config", "x.toml"], ["night", "--pool", "rz"]])
def test_without_a_prefect_server_the_commands_say_so(argv: list[str], monkeypatch: pytest.MonkeyPatch,
                                                      capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.delenv("PREFECT_API_URL", raising=False)
    assert main(argv) == 2
    assert "PREFECT_API_URL" in capsys.readouterr().err
