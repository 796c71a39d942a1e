"""Close step: day close (Tagesabschluss), Klärungsliste and key figures from the run's frames.

Computed before the booking so that the day close is locked in the same transaction as the payments
it sums; the report files are written after the commit from exactly these frames. A day already
closed is never closed again: the report functions return dated correction rows instead, and a night
repeated with nothing new gives no correction at all.
"""

from __future__ import annotations

import dataclasses
import json
from datetime import date
from pathlib import Path
from typing import Any

import polars as pl

from jobs.rundir import RunDir
from ledger.config import TenantConfig
from ledger.publish import published_klaerungsliste
from ledger.state import LATE_DAYS, LedgerState
from matching.schema import UNRESOLVED_SCHEMA
from parsers.schema import STATEMENT_SCHEMA, TRANSACTION_SCHEMA, conform

#: Sub-folder of the night's report folder that holds the finance system's files (own manifest).
HKR_DIR = "hkr"


def expected_accounts(cfg: TenantConfig) -> list[str]:
    """The tenant's bank accounts from its config (``[[accounts]] iban = …`` or ``accounts = [...]``)."""
    out: list[str] = []
    for key in ("accounts", "bank_accounts"):
        value = cfg.raw.get(key)
        if isinstance(value, dict):
            value = value.get("accounts", list(value.values()))
        for a in value if isinstance(value, list) else []:
            iban = a.get("iban") if isinstance(a, dict) else a
            if isinstance(iban, str) and iban:
                out.append(iban.replace(" ", ""))
    return sorted(set(out))


def days_to_close(closes: pl.DataFrame, new_statements: pl.DataFrame, booking_date: date) -> list[date]:
    """The booking date, plus earlier closed days (within LATE_DAYS) a late statement of tonight belongs to."""
    closed = set(closes.filter(pl.col("kind") == "close")["booking_date"].to_list())
    late = {d for d in new_statements["closing_date"].drop_nulls().to_list()
            if d < booking_date and d in closed and (booking_date - d).days <= LATE_DAYS}
    return [*sorted(late), booking_date]


def close(cfg: TenantConfig, booking_date: date, run_id: str, folder: RunDir) -> dict[str, int]:
    """Compute and stage the day close; write Klärungsliste and key figures frames to the run folder."""
    from outputs.day_close import DAY_CLOSE_SCHEMA, day_close
    from outputs.key_figures import key_figures
    from outputs.klaerungsliste import klaerungsliste

    state = folder.state()
    new_tx = folder.read("book_transactions")
    transactions = conform(
        pl.concat([state.day_transactions, state.unresolved_tx, new_tx], how="diagonal_relaxed")
        .unique(subset="transaction_id", keep="last", maintain_order=True), TRANSACTION_SCHEMA)
    statements = conform(pl.concat([state.statements, folder.read("book_statements")], how="diagonal_relaxed"),
                         STATEMENT_SCHEMA)
    current = folder.read("current_unresolved")
    unresolved = conform(current, UNRESOLVED_SCHEMA)
    earlier = conform(state.day_closes, DAY_CLOSE_SCHEMA)
    new_rows = []
    for day_ in days_to_close(earlier, folder.read("book_statements"), booking_date):
        day = pl.lit(day_)
        own = (((pl.col("kind") == "close") & (pl.col("booking_date") == day))
               | ((pl.col("kind") == "correction") & (pl.col("corrected_date") == day)))
        locked = earlier.filter(own)
        rows = day_close(statements, transactions, unresolved, booking_date=day_,
                         previous=earlier.filter(~own),
                         expected_accounts=expected_accounts(cfg), locked=locked, today=booking_date,
                         tenant=cfg.tenant)
        new_rows.append(rows)
        earlier = pl.concat([earlier, rows], how="vertical")
    rows = pl.concat(new_rows, how="vertical")
    folder.book("day_closes", rows.with_columns(pl.lit(cfg.tenant).alias("tenant"), pl.lit(run_id).alias("run_id"),
                                                pl.lit(booking_date).alias("closed_on")))
    day = pl.lit(booking_date)
    shown = earlier.filter(((pl.col("kind") == "close") & (pl.col("booking_date") == day))
                           | ((pl.col("kind") == "correction") & (pl.col("booking_date") == day)))
    folder.write("report_day_close", shown)

    day_allocations = pl.concat([
        state.allocations.filter(pl.col("booking_date") == day), folder.read("run_allocations"),
    ], how="diagonal_relaxed")
    # with its state: a parked item is Verwahrgeld in the report, not an unresolved payment
    with_state = conform(current, {**UNRESOLVED_SCHEMA, "state": pl.String()})
    folder.write("report_klaerungsliste", klaerungsliste(with_state, transactions, as_of=booking_date))
    figures = key_figures(transactions.filter(pl.col("booking_date") == day), day_allocations, unresolved,
                          as_of=booking_date)
    for name, frame in figures.items():
        folder.write(f"kf_{name}", frame)
    folder.write_json("key_figures", {"names": sorted(figures)})
    folder.write("published_klaerungsliste", published_klaerungsliste(
        current, transactions, tenant=cfg.tenant, as_of=booking_date))
    folder.write("report_hkr_bookings", hkr_bookings(cfg, booking_date, folder, state, transactions))
    return {"day_close_rows": rows.height, "corrections": rows.filter(pl.col("kind") == "correction").height,
            "klaerungsliste": current.height}


def reported_automation(tenant_reports: Path, booking_date: date, days: int = 30) -> pl.DataFrame:
    """The Automatisierungsgrad the earlier nights reported (their ``key_figures_summary.parquet`` in the
    sibling report folders ``<reports>/<tenant>/<date>/``), for the day close's 30-day chart: one row per
    booking day before ``booking_date`` (booking_date, n_incoming, automation_rate_pct). Reads at most
    ``days`` small files; a folder without the file (or not a date) is skipped."""
    schema = {"booking_date": pl.Date(), "n_incoming": pl.Int64(), "automation_rate_pct": pl.Float64()}
    dated = []
    for p in tenant_reports.iterdir() if tenant_reports.is_dir() else []:
        try:
            day = date.fromisoformat(p.name)
        except ValueError:
            continue
        if day < booking_date and (p / "key_figures_summary.parquet").is_file():
            dated.append((day, p / "key_figures_summary.parquet"))
    rows = []
    for day, path in sorted(dated)[-days:]:
        summary = pl.read_parquet(path, columns=["n_incoming", "automation_rate_pct"])
        if summary.height:
            rows.append({"booking_date": day, **summary.row(0, named=True)})
    return pl.DataFrame(rows, schema=schema)


def hkr_bookings(cfg: TenantConfig, booking_date: date, folder: RunDir, state: LedgerState,
                 transactions: pl.DataFrame) -> pl.DataFrame:
    """The finance system's booking rows of the night: earlier runs' allocations of this booking date
    (from the ledger, with their details) and this run's, so a repeated night lists the same rows."""
    from outputs.hkr_export import ITEM_COLUMNS, TX_COLUMNS
    from outputs.hkr_export import hkr_bookings as rows

    earlier = state.night_allocations
    tx = pl.concat([earlier.select(TX_COLUMNS), transactions.select(TX_COLUMNS)], how="vertical_relaxed")
    items = pl.concat([f.select(ITEM_COLUMNS) for f in (earlier, state.open_items, folder.read("book_open_items"))],
                      how="vertical_relaxed")
    allocations = pl.concat([earlier, folder.read("book_allocations")], how="diagonal_relaxed")
    return rows(allocations, tx, items, tenant=cfg.tenant, posting_date=booking_date)


def write_reports(cfg: TenantConfig, booking_date: date, run_id: str, folder: RunDir,
                  out_dir: Path) -> dict[str, str]:
    """Write the night's report files with ``outputs.write_reports``, and the finance system's booking
    and claims files into ``out_dir/hkr`` (``outputs.hkr_export``); return name -> path."""
    from outputs.hkr_export import hkr_claims, write_hkr
    from outputs.report import write_reports as write

    figures = {n: folder.read(f"kf_{n}") for n in folder.read_json("key_figures").get("names", [])}
    delivered = folder.read("book_files") if folder.file("book_files").exists() else None
    paths = write(out_dir, tenant=cfg.tenant, booking_date=booking_date,
                  day_close=folder.read("report_day_close"), klaerungsliste=folder.read("report_klaerungsliste"),
                  key_figures=figures, run_id=run_id, issues=folder.read("book_issues"), delivered=delivered,
                  history=reported_automation(out_dir.parent, booking_date))
    out = _as_paths(paths)
    # the claims the night created itself (return fees charged to debtors): the finance system books them
    staged = folder.file("book_claims")
    claims = folder.read("book_claims").with_columns(
        pl.lit(booking_date).alias("created_on"), pl.col("run_id").alias("created_by_run")) if staged.exists() else None
    hkr = write_hkr(out_dir / HKR_DIR, tenant=cfg.tenant, posting_date=booking_date,
                    bookings=folder.read("report_hkr_bookings"),
                    claims=None if claims is None else hkr_claims(claims, tenant=cfg.tenant))
    out |= {f"hkr/{name}": str(path) for name, path in hkr.items()}
    folder.write_json("reports", out)
    return out


def _as_paths(paths: Any) -> dict[str, str]:
    """The report writer's result (a dataclass, mapping or list of paths) as name -> path strings."""
    items: list[tuple[Any, Any]]
    if dataclasses.is_dataclass(paths) and not isinstance(paths, type):
        items = list(dataclasses.asdict(paths).items())
    elif isinstance(paths, dict):
        items = list(paths.items())
    elif isinstance(paths, (list, tuple)):
        items = [(Path(p).name, p) for p in paths]
    else:
        items = list(vars(paths).items())
    return {str(k): json.dumps(v, default=str) if isinstance(v, (dict, list, tuple)) else str(v)
            for k, v in items if v is not None}
