"""`kasse serve` registers one deployment per tenant and scheduled job, with the job's own cron."""

from __future__ import annotations

from pathlib import Path

import pytest

from claims.errors import ConfigError
from flows.cmd_serve import SCHEDULED_JOBS, deployments


def config(tmp_path: Path, schedule: str) -> Path:
    path = tmp_path / "kasse.toml"
    path.write_text(f'[tenant]\nid = "stadt"\n[schedule]\n{schedule}\n', encoding="utf-8")
    return path


def test_each_scheduled_job_is_a_deployment_with_its_cron(tmp_path: Path) -> None:
    (dep,) = deployments([config(tmp_path, 'nightly = "15 3 * * 1-5"\ntimezone = "Europe/Berlin"')], None)
    assert dep.name == "nightly-stadt"
    assert [s.schedule.cron for s in dep.schedules] == ["15 3 * * 1-5"]
    assert "nightly" in dep.tags and set(SCHEDULED_JOBS) == {"nightly", "dunning", "collect", "payout",
                                                                            "handoff"}


def test_the_weekly_dunning_run_is_a_deployment_when_its_cron_is_set(tmp_path: Path) -> None:
    deps = deployments([config(tmp_path, 'nightly = "15 3 * * 1-5"\ndunning = "0 6 * * 2"')], None)
    assert [(d.name, [s.schedule.cron for s in d.schedules]) for d in deps] == [
        ("dunning-stadt", ["0 6 * * 2"]), ("nightly-stadt", ["15 3 * * 1-5"])]
    assert "dunning" in deps[0].tags


def test_the_enforcement_handoff_is_a_deployment_when_its_cron_is_set(tmp_path: Path) -> None:
    deps = deployments([config(tmp_path, 'handoff = "0 7 * * 3"')], None)
    assert [(d.name, d.flow_name, [s.schedule.cron for s in d.schedules]) for d in deps] == [
        ("handoff-stadt", "stadtkasse-handoff", ["0 7 * * 3"]), ("nightly-stadt", "stadtkasse-nightly", ["0 2 * * *"])]


def test_cron_option_overrides_the_nightly(tmp_path: Path) -> None:
    (dep,) = deployments([config(tmp_path, 'nightly = "15 3 * * 1-5"')], "0 1 * * *")
    assert [s.schedule.cron for s in dep.schedules] == ["0 1 * * *"]


def test_a_job_this_release_cannot_run_is_refused(tmp_path: Path) -> None:
    # the typed config refuses a [schedule] key of a job it does not know, before anything is registered
    with pytest.raises(ConfigError, match="teleport"):
        deployments([config(tmp_path, 'teleport = "0 6 * * 1"')], None)


def test_the_payout_run_is_a_deployment_when_its_cron_is_set(tmp_path: Path) -> None:
    deps = deployments([config(tmp_path, 'payout = "0 8 * * 1-5"')], None)
    assert [(d.name, [s.schedule.cron for s in d.schedules]) for d in deps] == [
        ("nightly-stadt", ["0 2 * * *"]), ("payout-stadt", ["0 8 * * 1-5"])]


def test_the_collection_run_is_a_deployment_when_its_cron_is_set(tmp_path: Path) -> None:
    deps = deployments([config(tmp_path, 'collect = "30 7 * * 1-5"')], None)
    assert [(d.name, [s.schedule.cron for s in d.schedules]) for d in deps] == [
        ("collect-stadt", ["30 7 * * 1-5"]), ("nightly-stadt", ["0 2 * * *"])]
    assert "collect" in deps[0].tags and deps[0].name.startswith("collect")
