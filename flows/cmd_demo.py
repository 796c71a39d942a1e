"""``kasse demo``: the nightly run over every booking day of a sample municipality, then one dunning week.

For each booking day found in the sample's ``statements/`` (oldest first) the day's bank files are copied
into a fresh inbox under ``--out`` (the open-items export arrives with the first day), then the nightly
flow runs for that day. Reports land in ``<out>/<tenant>/<date>/``; the ledger is ``<out>/kasse.duckdb``.

Then the weekly dunning run of the first day it may run (the bank lag after the last booking day) goes
through its three calls: prepared by ``kasse-demo``, released by a second person (``aufsicht``, a
supervisor: the four-eyes release the review page or ``kasse dunning --release`` writes), booked. Its
letters, print file and claims file land in ``<out>/<tenant>/<run date>/dunning/``.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import sys
import time
from datetime import date, timedelta
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from claims.config import load_tenant_config
from claims.errors import ConfigError

MARKER = ".kasse-demo"
_DATE = re.compile(r"(20\d\d)-?(0[1-9]|1[0-2])-?(0[1-9]|[12]\d|3[01])")


def register(subparsers: Any) -> None:
    """Add the ``demo`` sub-command."""
    p = subparsers.add_parser("demo", help="run the nightly flow over every day of the sample set, then one dunning week",
                              description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--samples", type=Path, default=Path("data_samples"), help="sample set (kasse generate)")
    p.add_argument("--out", type=Path, default=Path("out"), help="output folder (recreated)")
    p.add_argument("--no-prefect", action="store_true", help="run the plain steps without Prefect")
    p.set_defaults(run=run)


def file_day(path: Path) -> date | None:
    """The booking day a bank file is for: from its name, else from the statement inside."""
    m = _DATE.search(path.name)
    if m:
        return date(int(m[1]), int(m[2]), int(m[3]))
    from parsers import parse_file

    st = parse_file(path).statements
    days = st["closing_date"].drop_nulls() if st.height else None
    return days.max() if days is not None and days.len() else None   # type: ignore[return-value]


def deliveries(samples: Path) -> dict[date, list[Path]]:
    """Bank files of the sample set grouped by booking day (files whose day is unknown come first)."""
    by_day: dict[date, list[Path]] = {}
    for p in sorted((samples / "statements").rglob("*")):
        if p.is_file() and not p.name.startswith("."):
            by_day.setdefault(file_day(p) or date.min, []).append(p)
    return dict(sorted(by_day.items()))


def prepare(samples: Path, out: Path) -> Path:
    """Recreate ``out`` (only if it is empty or an earlier demo's) and write its ``kasse.toml``."""
    if out.exists() and any(out.iterdir()) and not (out / MARKER).exists():
        raise ConfigError(f"{out} exists and is not a demo folder: choose another --out")
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    (out / MARKER).write_text("made by kasse demo; deleted by the next one\n", encoding="utf-8")
    base = samples / "kasse.toml"
    tenant = load_tenant_config(base if base.exists() else None).tenant
    extends = f'extends = "{Path(os.path.relpath(base.resolve(), out.resolve())).as_posix()}"\n' \
        if base.exists() else f'[tenant]\nid = "{tenant}"\n'
    config = out / "kasse.toml"
    config.write_text(
        f"{extends}\n[paths]\nledger = \"kasse.duckdb\"\ntenant_dir = \"files/{tenant}\"\n"
        "state_dir = \"state\"\nreports = \".\"\n", encoding="utf-8")
    return config


def run(args: argparse.Namespace) -> int:
    """Execute ``kasse demo``."""
    os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")     # the demo prints its own summary
    from flows.cmd_nightly import describe, run_reports

    samples, out = args.samples, args.out
    if not (samples / "statements").is_dir():
        print(f"kasse demo: {samples}/statements not found (make one with `kasse generate --out {samples}`)",
              file=sys.stderr)
        return 2
    try:
        config = prepare(samples, out)
    except ConfigError as exc:
        print(f"kasse demo: {exc}", file=sys.stderr)
        return 2
    cfg = load_tenant_config(config)
    cfg.inbox.mkdir(parents=True, exist_ok=True)     # a night refuses a tenant without its inbox folder
    plans = samples / "instalment_plans.csv"         # the dunning run reads the tenant's instalment plans
    if plans.is_file():
        shutil.copy2(plans, cfg.tenant_dir / "instalment_plans.csv")
    days = deliveries(samples)
    exports = sorted(p for p in samples.iterdir() if p.is_file() and p.name.startswith("open_items"))
    started = time.perf_counter()
    last: dict[str, Any] = {}
    for n, (day, files) in enumerate(days.items()):
        for p in [*(exports if n == 0 else []), *files]:
            target = cfg.inbox / p.relative_to(samples)
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(p, target)
        if day == date.min:
            continue                        # undated files wait for the first dated day
        (last,) = run_reports([config], day, tenants=None, prefect=not args.no_prefect)
        print(describe(last))
    dunned = dunning_week(cfg, config, max(days), prefect=not args.no_prefect)
    took = time.perf_counter() - started
    rep = last.get("reports") or {}
    print(f"\n{len(days)} booking days in {took:.1f} s. Open these first:")
    print(f"  day close (to sign): {rep.get('day_close_pdf', '-')}")
    print(f"  Klärungsliste:       {rep.get('klaerungsliste_xlsx', '-')}")
    print(f"  dunning letters:     {dunned.get('letters.pdf', '-')}")
    print(f"  every day's reports: {out / cfg.tenant}/<date>/   ledger: {cfg.ledger}")
    return 0


def dunning_week(cfg: Any, config: Path, last_day: date, *, prefect: bool) -> dict[str, str]:
    """Prepare, release (a second person) and book the dunning week after ``last_day``; its file paths."""
    from dunning.calendar import next_business_day
    from flows.cmd_dunning import describe
    from jobs.dunning import release

    as_of = last_day
    for _ in range(cfg.settings.dunning.bank_lag_days):
        as_of = next_business_day(as_of + timedelta(days=1), cfg.settings.dunning.holiday_region)

    def call(user: str) -> Any:
        if prefect:
            from flows.dunning import dunning

            (res,) = dunning(configs=[str(config)], as_of=as_of.isoformat(), user=user)
            return SimpleNamespace(**{**res, "as_of": date.fromisoformat(res["as_of"])})
        from jobs.dunning import run_dunning

        return run_dunning(cfg, as_of, user=user)

    prepared = call("kasse-demo")
    print(describe(prepared))
    if prepared.status != "prepared":
        return {}
    release(cfg, prepared.run_id, user="aufsicht", role="supervisor")
    print(f"released by aufsicht (supervisor, not the preparer): run {prepared.run_id}")
    booked = call("kasse-demo")
    print(describe(booked))
    return dict(booked.paths or {})
