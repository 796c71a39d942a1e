"""A data centre's night on loopback (issue 21): a real Prefect server, a process work pool, two workers.

Six small synthetic tenants, each with its own config and ledger file, are deployed with ``kasse deploy``
and run with ``kasse night --pool``. One tenant's run is paused inside its booking transaction and its
worker killed (SIGKILL to the worker's process group and the flow run's): its ledger holds no run, the
other five complete, and the rerun books the night exactly once. Two runs of one tenant started at once
both complete one after the other: the slot ``tenant-<id>`` keeps any two runs of a tenant apart, which
the runs' logs show (when each held the slot).
"""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager, suppress
from datetime import date
from itertools import pairwise
from pathlib import Path
from typing import Any

import duckdb
import pytest

REPO = Path(__file__).resolve().parent.parent
HOOKS = Path(__file__).resolve().parent / "loopback_hooks"
BIN = Path(sys.executable).parent
LIMIT = 480          # seconds at most (server start, deploy, the night, a lease running out): ~3 min usually
DAY = date(2026, 1, 2)          # synth.scale's booking day
TENANTS = [f"t{i}" for i in range(6)]
KILLED = "t0"                   # paused in its booking transaction, its worker killed (first picked up)
TWICE = "t1"                    # two runs started at once
PAYMENTS = 40

pytestmark = pytest.mark.slow


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait(check: Callable[[], bool], what: str, deadline: float) -> None:
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.5)
    raise AssertionError(f"timed out waiting for {what}")


def _healthy(url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/health", timeout=2) as r:
            return bool(r.status == 200)
    except OSError:
        return False


def _kill_group(pgid: int) -> None:
    with suppress(ProcessLookupError):
        os.killpg(pgid, signal.SIGKILL)


@contextmanager
def _process(args: list[str], env: dict[str, str], log: Path, cwd: Path = REPO) -> Iterator[subprocess.Popen[bytes]]:
    """A process in its own group, logging to ``log``; stopped (SIGINT, then SIGKILL) and reaped at the end."""
    with log.open("ab") as out:
        proc = subprocess.Popen(args, env=env, cwd=cwd, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        yield proc
    finally:
        if proc.poll() is None:
            try:
                os.killpg(proc.pid, signal.SIGINT)
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                _kill_group(proc.pid)
                proc.wait(timeout=10)
            except ProcessLookupError:
                proc.wait(timeout=10)
        _kill_group(proc.pid)            # what it started in its group (a worker's flow runs)


def _kasse(*args: str, env: dict[str, str], timeout: float) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "flows.cli", *args], env=env, cwd=REPO, capture_output=True,
                          text=True, timeout=timeout, check=False)


def _tenants(root: Path) -> list[Path]:
    """Six tenants, configs side by side in ``root`` (so each ledger is ``<root>/<tenant>.duckdb``); one
    synthetic delivery, copied into each inbox (each tenant books it into its own ledger)."""
    from synth import generate_scale

    g = generate_scale(root / "generated", n_items=400, n_payments=PAYMENTS, seed=100, tenant="synth")
    configs = []
    for name in TENANTS:
        inbox = root / name / "inbox"
        inbox.mkdir(parents=True)
        shutil.copy2(g.open_items, inbox / g.open_items.name)
        for p in g.statements:
            shutil.copy2(p, inbox / f"{p.parent.name}_{p.name}")
        config = root / f"{name}.toml"
        config.write_text(f'[tenant]\nid = "{name}"\n', encoding="utf-8")
        configs.append(config)
    return configs


def _ledger(root: Path, tenant: str) -> tuple[int, int, int]:
    """(committed nightly runs, transactions, distinct transaction ids) in the tenant's own ledger file."""
    path = root / f"{tenant}.duckdb"
    if not path.exists():
        return (0, 0, 0)
    con = duckdb.connect(str(path), read_only=True)
    try:
        runs = con.sql("SELECT count(*) FROM runs WHERE job = 'nightly' AND tenant = ?", params=[tenant]).fetchall()
        tx = con.sql("SELECT count(*), count(DISTINCT transaction_id) FROM transactions").fetchall()
    finally:
        con.close()
    return (int(runs[0][0]), int(tx[0][0]), int(tx[0][1]))


def _lines(out: str) -> dict[str, str]:
    """``kasse night``'s lines: tenant -> state."""
    return {parts[0]: parts[1] for parts in (line.split() for line in out.splitlines())
            if len(parts) >= 2 and parts[0] in TENANTS}


def _state(pid: int) -> str:
    """The process's state letter ("R", "S", "D", "Z" …), or "gone"."""
    try:
        return Path(f"/proc/{pid}/stat").read_text(encoding="ascii").rsplit(")", 1)[1].split()[0]
    except OSError:
        return "gone"


def _gone(pid: int) -> bool:
    """The process has ended (no longer in /proc, or a zombie whose files the kernel has closed)."""
    return _state(pid) in ("gone", "Z", "X")


def _unlocked(ledger: Path) -> bool:
    """No process holds the ledger file's lock any more (the kernel may take a moment after a kill)."""
    try:
        duckdb.connect(str(ledger), read_only=True).close()
    except duckdb.IOException:
        return False
    return True


def _ancestors(pid: int) -> list[int]:
    """``pid``'s parent, grandparent, … (from /proc)."""
    out = []
    while pid > 1:
        try:
            stat = Path(f"/proc/{pid}/stat").read_text(encoding="ascii")
        except OSError:
            break
        pid = int(stat.rsplit(")", 1)[1].split()[1])
        out.append(pid)
    return out


def _of(fr: Any, tenant: str) -> bool:
    return str(fr.parameters.get("config", "")).endswith(f"/{tenant}.toml")


async def _taken(api: str, tenant: str) -> bool:
    """Has a worker taken a run of ``tenant`` (its state no longer SCHEDULED)?"""
    from prefect.client.orchestration import PrefectClient
    from prefect.client.schemas.objects import StateType

    async with PrefectClient(api) as client:
        return any(_of(fr, tenant) and fr.state is not None and fr.state.type != StateType.SCHEDULED
                   for fr in await client.read_flow_runs())


async def _crash(api: str, tenant: str) -> None:
    """Mark the killed run of ``tenant`` crashed, as an operator does for a run whose machine died."""
    from prefect.client.orchestration import PrefectClient
    from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterState, FlowRunFilterStateType
    from prefect.client.schemas.objects import StateType
    from prefect.states import Crashed

    async with PrefectClient(api) as client:
        running = await client.read_flow_runs(flow_run_filter=FlowRunFilter(
            state=FlowRunFilterState(type=FlowRunFilterStateType(any_=[StateType.RUNNING]))))
        for fr in running:
            if _of(fr, tenant):
                await client.set_flow_run_state(fr.id, Crashed(message="worker killed"), force=True)


async def _slot_intervals(api: str) -> dict[str, list[tuple[float, float]]]:
    """tenant -> (held, released) timestamps of every run that held its slot, from the runs' logs."""
    from prefect.client.orchestration import PrefectClient
    from prefect.client.schemas.filters import LogFilter, LogFilterFlowRunId

    out: dict[str, list[tuple[float, float]]] = {}
    async with PrefectClient(api) as client:
        for fr in await client.read_flow_runs():
            logs = await client.read_logs(LogFilter(flow_run_id=LogFilterFlowRunId(any_=[fr.id])))
            held = [lg.timestamp.timestamp() for lg in logs if lg.message.endswith(": slot held")]
            released = [lg.timestamp.timestamp() for lg in logs if lg.message.endswith(": slot released")]
            if held and released:
                tenant = Path(str(fr.parameters.get("config", ""))).stem
                out.setdefault(tenant, []).append((min(held), max(released)))
    return out


def _night(*tenants: str) -> list[str]:
    """``kasse night`` on the pool for the test's day (all tenants, or those named)."""
    return [sys.executable, "-m", "flows.cli", "night", "--pool", "rz", "--date", DAY.isoformat(),
            *[a for t in tenants for a in ("--tenant", t)]]


def test_six_tenants_on_two_workers_a_killed_worker_and_a_tenant_twice(tmp_path: Path) -> None:
    deadline = time.monotonic() + LIMIT
    port = _free_port()
    api = f"http://127.0.0.1:{port}/api"
    pause = tmp_path / "pause"
    pause.mkdir()
    logs = tmp_path / "logs"
    logs.mkdir()
    env = {**os.environ, "PREFECT_HOME": str(tmp_path / "prefect"), "PREFECT_API_URL": api,
           "PREFECT_SERVER_ANALYTICS_ENABLED": "false", "DO_NOT_TRACK": "1", "PREFECT_UI_ENABLED": "false",
           "PREFECT_LOGGING_LEVEL": "INFO", "PYTHONPATH": str(REPO),
           "PREFECT_WORKER_QUERY_SECONDS": "1", "PREFECT_WORKER_PREFETCH_SECONDS": "1",
           "PREFECT_SERVER_SERVICES_REPOSSESSOR_LOOP_SECONDS": "2"}
    env.pop("PREFECT_PROFILE", None)
    worker = [str(BIN / "prefect"), "worker", "start", "--pool", "rz", "--type", "process"]
    worker_env = {**env, "KASSE_LOOPBACK_PAUSE_DIR": str(pause)}
    with ExitStack() as stack:
        stack.enter_context(_process([str(BIN / "prefect"), "server", "start", "--host", "127.0.0.1", "--port",
                                      str(port)], env, logs / "server.log"))
        configs = _tenants(tmp_path)                                     # while the server starts
        _wait(lambda: _healthy(api), "the Prefect server", deadline)
        deployed = _kasse("deploy", "--pool", "rz", "--limit", "6", *[a for c in configs for a in ("--config", str(c))],
                          env={**env, "PYTHONPATH": f"{REPO}{os.pathsep}{HOOKS}"}, timeout=120)
        assert deployed.returncode == 0, deployed.stderr[-3000:]
        assert "7 deployments" in deployed.stdout and "stadtkasse-night-shift/shift-rz" in deployed.stdout  # 6 nights + the shift

        # the night: the doomed worker takes t0 (created first; one run at a time), which pauses inside its
        # booking transaction; then the two workers of the night start and run the others in parallel, and
        # a second run of t1 is started beside the night's
        (pause / f"pause-{KILLED}").touch()
        doomed = stack.enter_context(_process([*worker, "--limit", "1"], worker_env, logs / "worker-0.log"))
        night = stack.enter_context(_process(_night(), env, logs / "night.log"))
        _wait(lambda: asyncio.run(_taken(api, KILLED)), f"a worker taking {KILLED}", deadline)
        for n in (1, 2):
            stack.enter_context(_process([*worker, "--limit", "3"], worker_env, logs / f"worker-{n}.log"))
        twice = stack.enter_context(_process(_night(TWICE), env, logs / "twice.log"))
        _wait(lambda: (pause / f"paused-{KILLED}").exists(), f"{KILLED} in its booking transaction", deadline)
        flow_pid = int((pause / f"paused-{KILLED}").read_text(encoding="utf-8"))
        assert doomed.pid in _ancestors(flow_pid)
        for pgid in {os.getpgid(flow_pid), doomed.pid}:
            _kill_group(pgid)
        doomed.wait(timeout=10)
        _wait(lambda: _gone(flow_pid) and _unlocked(tmp_path / f"{KILLED}.duckdb"),
              f"the killed flow run's process to end (state {_state(flow_pid)})", deadline)
        (pause / f"pause-{KILLED}").unlink()
        assert _ledger(tmp_path, KILLED)[:2] == (0, 0)                     # nothing of the run committed
        asyncio.run(_crash(api, KILLED))
        # the rerun, at once: it waits on the server until the killed run's slot lease has run out
        rerun = stack.enter_context(_process(_night(KILLED), env, logs / "rerun.log"))

        outs = {}
        for name, proc in (("night", night), ("twice", twice), ("rerun", rerun)):
            proc.wait(timeout=max(1.0, deadline - time.monotonic()))
            outs[name] = (logs / f"{name}.log").read_text(errors="replace")
            assert proc.returncode == (1 if name == "night" else 0), outs[name][-3000:]
        assert _lines(outs["night"]) == {**dict.fromkeys(TENANTS, "COMPLETED"), KILLED: "CRASHED"}, outs["night"]
        assert _lines(outs["twice"]) == {TWICE: "COMPLETED"} and _lines(outs["rerun"]) == {KILLED: "COMPLETED"}
        for tenant in TENANTS:                                   # each night booked once; t1's repeat adds no row
            runs = 2 if tenant == TWICE else 1
            assert _ledger(tmp_path, tenant) == (runs, PAYMENTS, PAYMENTS), tenant

        intervals = asyncio.run(_slot_intervals(api))
        assert {t: len(spans) for t, spans in intervals.items()} == {**dict.fromkeys(TENANTS, 1), TWICE: 2,
                                                                      KILLED: 1}
        for tenant, spans in intervals.items():
            spans.sort()
            for (_, end), (start, _) in pairwise(spans):
                assert start >= end, f"two runs of {tenant} held its slot at once: {spans}"
