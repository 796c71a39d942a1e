"""Publish the hand-off runs for the review page (:mod:`ledger.publish_handoff`).

Everything comes from the run folders the job wrote; the ledger only says which runs are booked (its
``runs`` rows) and when. A prepared run shows its draft batch (``cases_prepare``, the prepared files, the
draft Übergabeliste); a booked run what was booked (``kept_cases``, the final files and list, what was
dropped) — the rows the booking appended to ``enforcement_cases`` are exactly these. The skipped claims
are the preparation's in both cases: what the run left out, and why.

Details (cases, skipped, dropped) are published for the runs not booked yet and the last
:data:`KEEP_BOOKED` booked runs; older runs keep their figures (the ledger keeps the rest).
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import polars as pl

from enforcement.file_format import NAMESPACE
from jobs.handoff.record import all_records
from jobs.rundir import json_or_empty
from jobs.runner import open_ledger
from ledger.config import TenantConfig
from ledger.db import fetch
from ledger.publish_handoff import publish_handoff
from outputs.enforcement_batch import HANDOFF_PDF

#: Booked runs whose cases, skipped and dropped claims are published (the newest ones).
KEEP_BOOKED = 12


def _parquet(folder: Path, name: str) -> pl.DataFrame | None:
    path = folder / f"{name}.parquet"
    return pl.read_parquet(path) if path.exists() else None


def _ts(value: object) -> datetime | None:
    if not value:
        return None
    at = datetime.fromisoformat(str(value))
    return at if at.tzinfo else at.replace(tzinfo=UTC)


def _list_pdf(cfg: TenantConfig, folder: Path, stage: str) -> str | None:
    """The Übergabeliste as the page serves it: relative to the tenant's run folders."""
    path = folder / stage / HANDOFF_PDF
    if not path.exists():
        return None
    try:
        return str(path.relative_to(cfg.runs_dir))
    except ValueError:
        return str(path)


def _details(folder: Path, run_id: str, booked: bool) -> dict[str, pl.DataFrame]:
    stage = "booked" if booked else "prepared"
    tag = pl.lit(run_id).alias("run_id")
    out: dict[str, pl.DataFrame] = {}
    cases = _parquet(folder, "kept_cases" if booked else "cases_prepare")
    if cases is not None:
        out["cases"] = cases.with_columns(tag, pl.lit(stage).alias("status"))
    skipped = _parquet(folder, "skipped_prepare")
    if skipped is not None:
        out["skipped"] = skipped.with_columns(tag)
    dropped = _parquet(folder, "dropped") if booked else None
    if dropped is not None:
        out["dropped"] = dropped.with_columns(tag)
    return out


def run_frames(cfg: TenantConfig, booked_at: dict[str, datetime]) -> dict[str, pl.DataFrame]:
    """``runs``, ``files``, ``cases``, ``skipped`` and ``dropped`` of every recorded run."""
    records = all_records(cfg)
    detailed = {r.run_id for r in records if r.run_id not in booked_at}
    detailed |= {r.run_id for r in sorted((r for r in records if r.run_id in booked_at),
                                          key=lambda r: r.handoff_date)[-KEEP_BOOKED:]}
    runs: list[dict[str, Any]] = []
    files: list[dict[str, Any]] = []
    parts: dict[str, list[pl.DataFrame]] = {"cases": [], "skipped": [], "dropped": []}
    for r in records:
        folder = cfg.runs_dir / r.run_id
        booked = r.run_id in booked_at
        prepared = json_or_empty(folder / "prepared_summary.json")
        summary = json_or_empty(folder / "book_summary.json") if booked else prepared
        stage = "final" if booked else "prepared"
        for d in summary.get("files", []):
            files.append({"run_id": r.run_id, "stage": stage, "file_name": d.get("file_name"),
                          "message_id": summary.get("message_id"), "count": summary.get("n_claims"),
                          "control_sum_cents": summary.get("total_cents"), "sha256": d.get("sha256"),
                          "xsd": NAMESPACE})
        runs.append({
            "run_id": r.run_id, "run_date": r.handoff_date, "status": "booked" if booked else "prepared",
            "prepared_by": r.prepared_by, "prepared_at": r.prepared_at,
            "released_by": summary.get("released_by") if booked else None,
            "released_at": _ts(summary.get("released_at")) if booked else None,
            "booked_at": booked_at.get(r.run_id), "n_items": summary.get("n_claims"),
            "total_cents": summary.get("total_cents"),
            "counts_json": json.dumps({"skipped": prepared.get("skipped", {}), "dropped": summary.get("dropped", {})}),
            "schema": NAMESPACE, "message_id": summary.get("message_id"), "n_cases": summary.get("n_cases"),
            "n_new_cases": summary.get("n_new_cases"), "n_fee_claims": summary.get("n_fee_claims"),
            "principal_cents": summary.get("principal_cents"), "surcharges_cents": summary.get("surcharges_cents"),
            "fees_cents": summary.get("fees_cents"), "list_pdf": _list_pdf(cfg, folder, stage)})
        if r.run_id in detailed:
            for name, frame in _details(folder, r.run_id, booked).items():
                parts[name].append(frame)
    out = {name: pl.concat(fs, how="diagonal_relaxed") for name, fs in parts.items() if fs}
    if runs:
        out["runs"] = pl.DataFrame(runs, infer_schema_length=None)
    if files:
        out["files"] = pl.DataFrame(files, infer_schema_length=None)
    return out


def publish_state(cfg: TenantConfig, *, on: date | None = None) -> Path:
    """Publish the tenant's hand-off snapshot (module docstring) as of ``on`` (default: today); return the
    link the page reads."""
    day = on or datetime.now(UTC).date()
    con = open_ledger(cfg)
    try:
        booked = fetch(con, "SELECT run_id, committed_at FROM runs WHERE tenant = $t AND job = 'handoff'",
                       {"t": cfg.tenant})
    finally:
        con.close()
        del con
    booked_at = dict(zip(booked["run_id"].to_list(), booked["committed_at"].to_list(), strict=True))
    return publish_handoff(cfg.state_dir, cfg.tenant, run_frames(cfg, booked_at), on=day)
