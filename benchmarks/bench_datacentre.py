"""A Rechenzentrum's night (issue 21): N tenants, plain sequential, one or two Prefect workers, with and
without night shifts.

    .venv/bin/python benchmarks/bench_datacentre.py [--tenants 40] [--items 50000] [--payments 2500]
                                                    [--modes plain,one,two,one-shifts,two-shifts] [--dir /tmp/kasse-datacentre]
                                                    [--query-seconds 10] [--docs]

The tenants are :func:`synth.datacentre.generate_datacentre` (each its own config extending a shared
base, its own inbox and ledger file; bank files in the real shapes: MT940 in three encodings and two
line ends, camt.053 in every serialisation, remittance habits, Parquet or CSV exports; booking day
2026-01-02). Every mode starts from freshly copied tenant folders (empty ledgers, full inboxes) and runs
the same night:

* ``plain`` — ``kasse nightly --no-prefect`` for every tenant, one after the other, in ONE child process
  (the existing plain command: :func:`flows.cmd_nightly.holding` around :func:`jobs.nightly.run_night`
  per tenant, each tenant timed);
* ``one`` / ``two`` — a real local Prefect server (``prefect server start``, its own ``PREFECT_HOME`` in
  the run folder, SQLite), ``kasse deploy --pool P`` (one deployment per tenant on a process work pool),
  one or two ``prefect worker start --pool P --type process --limit 1`` (each runs one flow run at a
  time), and ``kasse night --pool P --date D`` (every tenant's nightly now; waits). The per-tenant
  figures come from the server: each flow run's wall from PENDING (a worker took it and starts its
  process) to its end, its task runs, its state;
* ``one-shifts`` / ``two-shifts`` — the same pool with ``kasse night --shifts`` (two shifts per worker):
  each shift one flow-run process running its tenants as subflow runs (``flows/night_shift.py``); the
  per-tenant wall is the subflow run's, from ``kasse night``'s lines (no task-run split).

Figures per mode: wall time of the whole night, per-tenant median and p95 (plain: each tenant's
``run_night``; Prefect: each flow run from PENDING to its end), the Prefect overhead per flow run (median
of flow-run wall minus the same tenant's plain time, and of flow-run wall minus the sum of its task runs;
the part from PENDING to RUNNING, the process start, is shown by itself too), CPU seconds per tenant
(plain: the child's CPU time per tenant; Prefect: the workers' CPU time with the flow-run processes they
reaped, from all workers online to the night's end, divided by the flow runs), peak RSS per worker (the worker and the flow-run processes it starts, summed, sampled every 0.2 s;
plain: the child's ``ru_maxrss``) and the machine load (``/proc/loadavg``) before and after. Ratios
(one worker / two workers, plain / two workers, one worker / plain) are of walls measured in this one run. ``--docs``
writes the "Data centre: one night of N tenants" section of docs/BENCHMARKS.md.

An idle worker asks the server for runs every ``PREFECT_WORKER_QUERY_SECONDS`` (Prefect's default 10 s):
with ``--limit 1`` a worker that finished a run waits up to that long for its next, so the walls of the
Prefect modes hold up to one poll interval per run of idling; ``--query-seconds`` sets it for the workers.

Modes ``one``/``two`` need the commands of issue 21's work pool (``kasse deploy``, ``kasse night``):
a mode whose command this checkout lacks is reported as not run. Not a test: nothing here asserts time.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Iterator
from datetime import date, datetime
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(ROOT))

from child import replace_section  # noqa: E402

DAY = date(2026, 1, 2)          # synth.bench.FIRST_DAY: the booking day of every tenant's statements
POOL = "kasse-bench"
MODES = ("plain", "one", "two", "one-shifts", "two-shifts")
WORKERS = {"one": 1, "two": 2, "one-shifts": 1, "two-shifts": 2}
#: ``kasse night --shifts`` per mode: two shifts per worker, so a worker that ends early takes another
SHIFTS = {"one-shifts": 2, "two-shifts": 4}
BIN = Path(sys.executable).parent
SECTION = "Data centre: one night of N tenants"
NIGHTLY_FLOW = "stadtkasse-nightly"   # flows/nightly.py's flow; `kasse night` tags its runs NIGHT_TAG
NIGHT_TAG = "kasse-night"


def load() -> str:
    """The load averages (1, 5, 15 min) as ``uptime`` shows them."""
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


def p95(values: list[float]) -> float:
    """Nearest-rank 95th percentile (a small N gives its largest values, as it should)."""
    ordered = sorted(values)
    return ordered[max(0, -(-95 * len(ordered) // 100) - 1)]


# --- the plain mode's child ------------------------------------------------------------------------

def plain_child(configs_file: Path) -> None:
    """Run every tenant's night plainly in this process; print per-tenant seconds and allocations as JSON."""
    from claims.config import load_tenant_config
    from flows.cmd_nightly import holding
    from jobs.nightly import run_night

    configs: list[Path | None] = [Path(p) for p in json.loads(configs_file.read_text())]
    out: dict[str, Any] = {"seconds": {}, "cpu": {}, "allocations": {}}
    t0 = time.perf_counter()
    with holding(configs):
        for c in configs:
            cfg = load_tenant_config(c)
            t, cpu = time.perf_counter(), time.process_time()
            report = run_night(cfg, DAY)
            out["seconds"][cfg.tenant] = time.perf_counter() - t
            out["cpu"][cfg.tenant] = time.process_time() - cpu
            out["allocations"][cfg.tenant] = report.get("match", {}).get("n_allocations", 0)
    out["wall_in_child"] = time.perf_counter() - t0
    print(json.dumps(out))


def run_plain(configs: list[Path], work: Path) -> dict[str, Any]:
    listing = work / "configs.json"
    listing.write_text(json.dumps([str(c) for c in configs]))
    t0 = time.perf_counter()
    proc = subprocess.Popen([sys.executable, __file__, "--plain-child", str(listing)], stdout=subprocess.PIPE,
                            env=_env({}))
    assert proc.stdout is not None
    raw = proc.stdout.read()
    proc.stdout.close()
    _pid, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - t0
    proc.returncode = os.waitstatus_to_exitcode(status)   # reaped by wait4: tell the Popen object
    if proc.returncode != 0:
        raise SystemExit(f"plain night failed (exit {proc.returncode})")
    got = json.loads(raw)
    secs = list(got["seconds"].values())
    return {"wall": wall, "per_tenant": got["seconds"], "median": statistics.median(secs), "p95": p95(secs),
            "cpu_median": statistics.median(got["cpu"].values()), "cpu_per_tenant": got["cpu"],
            "rss": usage.ru_maxrss / 1024, "allocations": got["allocations"], "failed": 0}


# --- Prefect: server, workers, memory --------------------------------------------------------------

def _env(extra: dict[str, str]) -> dict[str, str]:
    env = dict(os.environ, PYTHONPATH=str(ROOT), DO_NOT_TRACK="1", PREFECT_SERVER_ANALYTICS_ENABLED="false",
               PREFECT_LOGGING_LEVEL="WARNING")
    env.update(extra)
    return env


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def _stop(proc: subprocess.Popen[bytes], grace: float = 20) -> None:
    """End a process we started (and its process group: it was started in a session of its own)."""
    if proc.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(grace)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


@contextlib.contextmanager
def prefect_server(home: Path) -> Iterator[dict[str, str]]:
    """A ``prefect server start`` on a free loopback port with its own home (SQLite); yields the env to use it."""
    shutil.rmtree(home, ignore_errors=True)
    home.mkdir(parents=True)
    port = _free_port()
    api = f"http://127.0.0.1:{port}/api"
    env = {"PREFECT_HOME": str(home), "PREFECT_API_URL": api}
    log = open(home / "server.log", "wb")  # noqa: SIM115 (closed below, after the server)
    proc = subprocess.Popen([str(BIN / "prefect"), "server", "start", "--host", "127.0.0.1", "--port", str(port)],
                            env=_env(env), stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        deadline = time.monotonic() + 180
        while True:
            try:
                with urllib.request.urlopen(f"{api}/health", timeout=2) as r:
                    if r.status == 200:
                        break
            except OSError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                raise SystemExit(f"the Prefect server did not start; see {home / 'server.log'}")
            time.sleep(0.5)
        env["server_pid"] = str(proc.pid)
        yield env
    finally:
        _stop(proc)
        log.close()


def _process_table() -> dict[int, tuple[int, int]]:
    """pid -> (parent pid, RSS in KiB) of every process we can read."""
    out: dict[int, tuple[int, int]] = {}
    page_kib = os.sysconf("SC_PAGE_SIZE") // 1024
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/stat", "rb") as fh:
                stat = fh.read().rsplit(b")", 1)[1].split()
            with open(f"/proc/{entry.name}/statm", "rb") as fh:
                rss_pages = int(fh.read().split()[1])
        except (OSError, IndexError, ValueError):
            continue
        out[int(entry.name)] = (int(stat[1]), rss_pages * page_kib)
    return out


class TreePeak:
    """Peak RSS (MiB) of each given process with all its descendants, summed, and of its largest process."""

    def __init__(self, pids: list[int], every: float = 0.2) -> None:
        self.pids, self.every = pids, every
        self.tree = {p: 0.0 for p in pids}
        self.single = {p: 0.0 for p in pids}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> TreePeak:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        while not self._stop.wait(self.every):
            table = _process_table()
            children: dict[int, list[int]] = {}
            for pid, (ppid, _) in table.items():
                children.setdefault(ppid, []).append(pid)
            for root in self.pids:
                todo, rss = [root], []
                while todo:
                    pid = todo.pop()
                    if pid in table:
                        rss.append(table[pid][1] / 1024)
                    todo.extend(children.get(pid, []))
                if rss:
                    self.tree[root] = max(self.tree[root], sum(rss))
                    self.single[root] = max(self.single[root], max(rss))


def cpu_seconds(pid: int) -> float:
    """CPU seconds of ``pid`` and of every child it has reaped (``/proc/<pid>/stat``: utime, stime, cutime,
    cstime): for a process worker, itself plus the flow-run processes it started and waited for."""
    with open(f"/proc/{pid}/stat", "rb") as fh:
        fields = fh.read().rsplit(b")", 1)[1].split()
    return sum(int(f) for f in fields[11:15]) / os.sysconf("SC_CLK_TCK")


def _wait_for_reaping(pids: list[int], timeout: float = 60) -> None:
    """Until the workers have no child left (a finished flow run's process ends a moment after its state)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and any(ppid in pids for ppid, _ in _process_table().values()):
        time.sleep(0.5)


def _run_command(args: list[str], env: dict[str, str], what: str) -> str:
    proc = subprocess.run(args, env=_env(env), cwd=ROOT, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise SystemExit(f"{what} failed (exit {proc.returncode}):\n{proc.stdout[-2000:]}\n{proc.stderr[-2000:]}")
    return proc.stdout


def has_pool_commands() -> bool:
    """Whether this checkout's ``kasse`` has ``deploy`` and ``night`` (issue 21's work-pool commands)."""
    return all(subprocess.run([sys.executable, "-m", "flows.cli", cmd, "--help"], env=_env({}), cwd=ROOT,
                              capture_output=True, check=False).returncode == 0 for cmd in ("deploy", "night"))


def _wait_for_workers(env: dict[str, str], n: int) -> None:
    os.environ.update({k: v for k, v in env.items() if k.startswith("PREFECT_")})
    from prefect.client.orchestration import get_client

    deadline = time.monotonic() + 180
    with get_client(sync_client=True) as client:
        while True:
            try:
                online = [w for w in client.read_workers_for_work_pool(POOL) if str(w.status).upper().endswith("ONLINE")]
            except Exception:  # the pool appears with the first deploy; a worker creates it otherwise
                online = []
            if len(online) >= n:
                return
            if time.monotonic() > deadline:
                raise SystemExit(f"{n} worker(s) did not come online in 180 s")
            time.sleep(1)


def _tenant_of(params: dict[str, Any]) -> str:
    """The tenant of a flow run: the folder of the config path in its parameters (tenants/<id>/kasse.toml)."""
    for value in params.values():
        for v in value if isinstance(value, list) else [value]:
            if isinstance(v, str) and v.endswith(".toml"):
                return Path(v).parent.name
    return "?"


def _flow_runs(env: dict[str, str], since: datetime) -> list[dict[str, Any]]:
    """Every flow run on the pool started after ``since``: tenant, state, wall, seconds in task runs."""
    os.environ.update({k: v for k, v in env.items() if k.startswith("PREFECT_")})
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import (
        FlowFilter,
        FlowFilterName,
        FlowRunFilter,
        FlowRunFilterId,
        FlowRunFilterStartTime,
        FlowRunFilterTags,
        WorkPoolFilter,
        WorkPoolFilterName,
    )

    out = []
    with get_client(sync_client=True) as client:
        runs = client.read_flow_runs(
            flow_filter=FlowFilter(name=FlowFilterName(any_=[NIGHTLY_FLOW])),
            flow_run_filter=FlowRunFilter(start_time=FlowRunFilterStartTime(after_=since),  # type: ignore[arg-type]
                                          tags=FlowRunFilterTags(all_=[NIGHT_TAG])),
            work_pool_filter=WorkPoolFilter(name=WorkPoolFilterName(any_=[POOL])))
        for run in runs:
            if run.start_time is None:   # created but never started (the night gave up waiting)
                out.append({"tenant": _tenant_of(run.parameters), "state": run.state_name, "wall": float("nan"),
                            "running": float("nan"), "in_tasks": 0.0, "tasks": 0})
                continue
            tasks = client.read_task_runs(flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=[run.id])))
            # the worker's slot is busy from PENDING (it took the run and starts its process) to the end;
            # Prefect's start_time is later (RUNNING: the process is up and has loaded the flow)
            pending = [st.timestamp for st in client.read_flow_run_states(run.id) if st.type.value == "PENDING"]
            begin = min(pending) if pending else run.start_time
            wall = run.end_time.timestamp() - begin.timestamp() if run.end_time and begin else float("nan")
            running = (run.end_time.timestamp() - run.start_time.timestamp()
                       if run.end_time and run.start_time else float("nan"))
            out.append({"tenant": _tenant_of(run.parameters), "state": run.state_name, "wall": wall,
                        "running": running, "in_tasks": sum(t.total_run_time.total_seconds() for t in tasks),
                        "tasks": len(tasks)})
    return out


def _night_lines(out: str) -> list[dict[str, Any]]:
    """``kasse night``'s tenant lines (``<tenant> <STATE> <seconds> s <run>``) as flow-run rows."""
    rows = []
    for line in out.splitlines():
        parts = line.split()
        if len(parts) >= 4 and parts[3] == "s" and not line.startswith("night:"):
            took = float("nan") if parts[2] == "-" else float(parts[2])
            rows.append({"tenant": parts[0], "state": "Completed" if parts[1] == "COMPLETED" else parts[1],
                         "wall": took, "running": took, "in_tasks": 0.0, "tasks": 0})
    return rows


def run_workers(configs: list[Path], n_workers: int, work: Path, env: dict[str, str],
                plain: dict[str, float] | None, shifts: int = 0) -> dict[str, Any]:
    """One night on ``n_workers`` process workers (one flow run at a time each); ``shifts`` > 0: the
    tenants in that many night shifts (each tenant a subflow run; its wall from ``kasse night``'s line)."""
    deploy = [sys.executable, "-m", "flows.cli", "deploy", "--pool", POOL, "--limit", str(n_workers)]
    for c in configs:
        deploy += ["--config", str(c)]
    _run_command(deploy, env, "kasse deploy")
    logs, workers = [], []
    try:
        for i in range(n_workers):
            logs.append(open(work / f"worker{n_workers}-{i}.log", "wb"))  # noqa: SIM115 (closed in finally)
            workers.append(subprocess.Popen(
                [str(BIN / "prefect"), "worker", "start", "--pool", POOL, "--type", "process", "--limit", "1",
                 "--name", f"bench-{n_workers}-{i}"],
                env=_env(env), cwd=ROOT, stdout=logs[-1], stderr=subprocess.STDOUT, start_new_session=True))
        _wait_for_workers(env, n_workers)
        cpu_before = sum(cpu_seconds(w.pid) for w in workers)
        since = datetime.now().astimezone()
        with TreePeak([w.pid for w in workers]) as peak:
            t0 = time.perf_counter()
            night = subprocess.run([sys.executable, "-m", "flows.cli", "night", "--pool", POOL, "--date", DAY.isoformat(),
                                    "--shifts", str(shifts)],
                                   env=_env(env), cwd=ROOT, capture_output=True, text=True, check=False)
            wall = time.perf_counter() - t0
        _wait_for_reaping([w.pid for w in workers])
        cpu = sum(cpu_seconds(w.pid) for w in workers) - cpu_before
        (work / f"night{n_workers}.out").write_text(night.stdout + night.stderr)
    finally:
        for w in workers:
            _stop(w)
        for log in logs:
            log.close()
    runs = _night_lines(night.stdout) if shifts else _flow_runs(env, since)
    done = [r for r in runs if r["state"] == "Completed"]
    walls = [r["wall"] for r in done] or [float("nan")]
    over_plain = [r["wall"] - plain[r["tenant"]] for r in done if plain and r["tenant"] in plain]
    over_tasks = [r["wall"] - r["in_tasks"] for r in done if r["tasks"]]
    start = [r["wall"] - r["running"] for r in done]
    return {"wall": wall, "exit": night.returncode, "median": statistics.median(walls), "p95": p95(walls),
            "pending_to_running": statistics.median(start) if start else None,
            "cpu_per_run": cpu / len(runs) if runs else None,
            "flow_runs": len(runs), "failed": len(runs) - len(done),
            "not_completed": [(r["tenant"], r["state"]) for r in runs if r["state"] != "Completed"],
            "overhead_vs_plain": statistics.median(over_plain) if over_plain else None,
            "overhead_vs_tasks": statistics.median(over_tasks) if over_tasks else None,
            "tasks_per_run": statistics.median([r["tasks"] for r in done]) if done else None,
            "rss": max(peak.tree.values()), "rss_single": max(peak.single.values()),
            "per_tenant": {r["tenant"]: r["wall"] for r in done}}


# --- the whole run ---------------------------------------------------------------------------------

def fresh(args: argparse.Namespace) -> list[Path]:
    """The tenant folders, fresh (empty ledgers, full inboxes), from the generator's cache."""
    from synth.datacentre import generate_datacentre

    return generate_datacentre(args.dir / "site", args.tenants, n_items=args.items, n_payments=args.payments,
                               seed=args.seed).configs


def _fmt(v: float | None, spec: str = ".1f") -> str:
    return "–" if v is None else format(v, spec)


def table(results: dict[str, dict[str, Any]], args: argparse.Namespace) -> str:
    names = {"plain": "plain sequential (`kasse nightly --no-prefect`, one process)",
             "one": "one Prefect worker (`--limit 1`), a flow-run process per tenant",
             "two": "two Prefect workers (`--limit 1` each), a flow-run process per tenant",
             "one-shifts": "one Prefect worker, `kasse night --shifts 2` (a process per shift, tenants as subflows)",
             "two-shifts": "two Prefect workers, `kasse night --shifts 4`"}
    lines = ["| mode | wall s | per tenant median s | p95 s | CPU per tenant s "
             "| Prefect overhead per flow run s: vs plain / vs tasks (PENDING→RUNNING) "
             "| peak RSS per worker MiB | failed | load before → after |",
             "|---|---:|---:|---:|---:|---:|---:|---:|---|"]
    for mode, r in results.items():
        if "skipped" in r:
            lines.append(f"| {names[mode]} | not run: {r['skipped']} | | | | | | | |")
            continue
        over = ("–" if mode == "plain" else f"{_fmt(r['overhead_vs_plain'], '.2f')} / {_fmt(r['overhead_vs_tasks'], '.2f')}"
                f" (start {_fmt(r['pending_to_running'], '.2f')})")
        rss = f"{r['rss']:.0f}" + (f" (largest process {r['rss_single']:.0f})" if "rss_single" in r else "")
        cpu = r.get("cpu_median") if mode == "plain" else r.get("cpu_per_run")
        lines.append(f"| {names[mode]} | {r['wall']:.1f} | {r['median']:.2f} | {r['p95']:.2f} | {_fmt(cpu, '.2f')} "
                     f"| {over} | {rss} "
                     f"| {r['failed']} | {r['load_before']} → {r['load_after']} |")
    walls = {m: r["wall"] for m, r in results.items() if "wall" in r}
    ratios = []
    if "one" in walls and "two" in walls:
        ratios.append(f"one worker / two workers = **{walls['one'] / walls['two']:.2f}×** (goal ≥ 1.7×)")
    if "plain" in walls and "two" in walls:
        ratios.append(f"plain / two workers = {walls['plain'] / walls['two']:.2f}×")
    if "plain" in walls and "one" in walls:
        ratios.append(f"one worker / plain = {walls['one'] / walls['plain']:.2f}×")
    if "one-shifts" in walls and "two-shifts" in walls:
        ratios.append(f"shifts: one worker / two workers = **{walls['one-shifts'] / walls['two-shifts']:.2f}×**")
    if "plain" in walls and "two-shifts" in walls:
        ratios.append(f"plain / two workers with shifts = {walls['plain'] / walls['two-shifts']:.2f}×")
    poll = f"{args.query_seconds:g} s" if args.query_seconds is not None else "Prefect's default, 10 s"
    head = (f"{args.tenants} tenants × {args.items:,} open items and {args.payments:,} payments, booking day "
            f"{DAY.isoformat()}; {os.cpu_count()} cores; workers ask for runs every {poll}; "
            f"run {datetime.now().astimezone():%Y-%m-%d %H:%M %Z}.")
    cpu_line = ["CPU per tenant — the figure a capacity plan divides by, since it moves least with the load: "
                "plain, the median over the tenants of the process's CPU time (all threads) per tenant; Prefect, "
                "the workers' CPU time with the flow-run processes they started and reaped, from the moment all "
                "were online to the night's end, divided by the flow runs (so each worker's polling is in it)."]
    return "\n".join([head, "", *lines, "", "Ratios of walls in this run: " + ("; ".join(ratios) or "–") + ".",
                      *cpu_line])


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--tenants", type=int, default=40)
    ap.add_argument("--items", type=int, default=50_000)
    ap.add_argument("--payments", type=int, default=2_500)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--modes", default=",".join(MODES))
    ap.add_argument("--dir", type=Path, default=Path("/tmp/kasse-datacentre"))
    ap.add_argument("--query-seconds", type=float, default=None,
                    help="how often an idle worker asks the server for runs (PREFECT_WORKER_QUERY_SECONDS; "
                         "default Prefect's 10 s)")
    ap.add_argument("--docs", action="store_true", help=f"write the section '{SECTION}' of docs/BENCHMARKS.md")
    ap.add_argument("--plain-child", type=Path, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.plain_child:
        plain_child(args.plain_child)
        return 0
    modes = [m for m in args.modes.split(",") if m]
    unknown = set(modes) - set(MODES)
    if unknown:
        ap.error(f"unknown modes {sorted(unknown)}; choose from {', '.join(MODES)}")
    args.dir.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    fresh(args)
    print(f"generated {args.tenants} tenants in {time.perf_counter() - t0:.1f} s (not counted; cached by seed)")
    results: dict[str, dict[str, Any]] = {}
    plain_times: dict[str, float] | None = None
    pool_ok = has_pool_commands() if set(modes) & set(WORKERS) else False
    server: contextlib.AbstractContextManager[dict[str, str]] | None = None
    with contextlib.ExitStack() as stack:
        for mode in modes:
            if mode != "plain" and not pool_ok:
                results[mode] = {"skipped": "this checkout has no `kasse deploy` / `kasse night`"}
                continue
            configs = fresh(args)
            before = load()
            if mode == "plain":
                r = run_plain(configs, args.dir)
                plain_times = r["per_tenant"]
            else:
                if server is None:
                    server = prefect_server(args.dir / "prefect-home")
                    env = stack.enter_context(server)
                    if args.query_seconds is not None:
                        env["PREFECT_WORKER_QUERY_SECONDS"] = str(args.query_seconds)
                r = run_workers(configs, WORKERS[mode], args.dir, env, plain_times, SHIFTS.get(mode, 0))
            r.update(load_before=before, load_after=load())
            results[mode] = r
            print(f"{mode}: wall {r['wall']:.1f} s, median {r['median']:.2f} s, p95 {r['p95']:.2f} s, "
                  f"peak RSS {r['rss']:.0f} MiB, failed {r['failed']}, load {before} → {r['load_after']}", flush=True)
    text = table(results, args)
    print(text)
    (args.dir / "results.json").write_text(json.dumps(results, indent=1, default=str))
    if args.docs:
        replace_section(ROOT / "docs" / "BENCHMARKS.md", SECTION,
                        f"## {SECTION}\n\n`benchmarks/bench_datacentre.py --tenants {args.tenants}` "
                        f"(how and what: the script's docstring).\n\n{text}\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
