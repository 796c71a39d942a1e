"""`kasse serve` against a real Prefect server on loopback: the deployment is registered with its cron
schedule, a run scheduled a few seconds ahead is picked up by the serving process and completes."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from test_nightly_plain import D1, counts, deliver_day1

from claims.config import TenantConfig, load_tenant_config

BIN = Path(sys.executable).parent
LIMIT = 240  # seconds for the whole test: server start, registration, one run


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait(check, what: str, deadline: float) -> None:
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(1)
    raise AssertionError(f"timed out waiting for {what}")


def _healthy(url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/health", timeout=2) as r:
            return bool(r.status == 200)
    except OSError:
        return False


def _stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGINT)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)


@pytest.mark.slow
def test_kasse_serve_registers_a_cron_deployment_and_a_scheduled_run_completes(tmp_path: Path) -> None:
    deadline = time.monotonic() + LIMIT
    port = _free_port()
    api = f"http://127.0.0.1:{port}/api"
    env = {**os.environ, "PREFECT_HOME": str(tmp_path / "prefect"), "PREFECT_API_URL": api,
           "PREFECT_SERVER_ANALYTICS_ENABLED": "false", "DO_NOT_TRACK": "1", "PREFECT_UI_ENABLED": "false",
           "PREFECT_RUNNER_POLL_FREQUENCY": "2", "PREFECT_LOGGING_LEVEL": "WARNING"}
    site = tmp_path / "site"
    site.mkdir()
    (site / "kasse.toml").write_text('[tenant]\nid = "stadt"\n[schedule]\nnightly = "0 2 * * *"\n', encoding="utf-8")
    cfg = load_tenant_config(site / "kasse.toml")
    deliver_day1(cfg)
    logs = tmp_path / "logs"
    logs.mkdir()
    with (logs / "server.log").open("wb") as server_log, (logs / "serve.log").open("wb") as serve_log:
        server = subprocess.Popen([str(BIN / "prefect"), "server", "start", "--host", "127.0.0.1",
                                   "--port", str(port)], env=env, stdout=server_log, stderr=subprocess.STDOUT,
                                  start_new_session=True)
        serving = None
        try:
            _wait(lambda: _healthy(api), "the Prefect server", deadline)
            serving = subprocess.Popen([str(BIN / "kasse"), "serve", "--config", str(site / "kasse.toml")],
                                       env=env, cwd=site, stdout=serve_log, stderr=subprocess.STDOUT,
                                       start_new_session=True)
            _follow(api, deadline, logs, cfg)
        finally:
            if serving is not None:
                _stop(serving)
            _stop(server)


def _follow(api: str, deadline: float, logs: Path, cfg: TenantConfig) -> None:
    """Schedule a run of the served deployment and check that it booked the night."""
    state = asyncio.run(_schedule_and_follow(api, deadline))
    assert state == "COMPLETED", (logs / "serve.log").read_text(errors="replace")[-3000:]
    assert counts(cfg)["transactions"] == 4
    assert (cfg.state_dir / "published" / "stadt" / "meta.json").exists()


async def _schedule_and_follow(api: str, deadline: float) -> str:
    """Wait for the deployment, check its cron, schedule a run 5 s ahead, follow it to a final state."""
    from prefect.client.orchestration import PrefectClient

    async with PrefectClient(api) as client:
        dep = None
        while dep is None and time.monotonic() < deadline:
            try:
                dep = await client.read_deployment_by_name("stadtkasse-nightly/nightly-stadt")
            except Exception:  # not registered yet (ObjectNotFound)
                await asyncio.sleep(1)
        assert dep is not None, "deployment was not registered"
        crons = [getattr(s.schedule, "cron", None) for s in dep.schedules]
        assert crons == ["0 2 * * *"]
        run = await client.create_flow_run_from_deployment(
            dep.id, parameters={"booking_date": D1.isoformat()},
            state=_scheduled(datetime.now(UTC) + timedelta(seconds=5)))
        while time.monotonic() < deadline:
            fr = await client.read_flow_run(run.id)
            if fr.state is not None and fr.state.is_final():
                return str(fr.state.type.value)
            await asyncio.sleep(2)
        return "TIMEOUT"


def _scheduled(when: datetime):
    from prefect.states import Scheduled

    return Scheduled(scheduled_time=when)
