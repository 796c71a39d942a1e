"""Publish the payout runs for the review page ("Auszahlungen"; :mod:`ledger.publish_payout`).

Everything comes from the run folders the job wrote; the ledger only says which runs are booked (its
``runs`` rows) and when. A prepared run shows what its preparation computed (``*_prepare`` frames, the
prepared file, the draft letters); a booked run what was booked (``kept_*``, the final file and letters,
what was dropped) — the rows the booking step appended to ``payouts`` and ``setoffs`` are exactly these.
The skipped refunds are the preparation's in both cases: what the run left out, and why.

Details (transfers, set-offs, skipped refunds) are published for the runs not booked yet and the last
:data:`KEEP_BOOKED` booked runs; older runs keep their figures (the ledger keeps the rest).
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import polars as pl

from claims.vocab import PayoutSkip
from jobs.payout.record import all_records
from jobs.rundir import json_or_empty
from jobs.runner import open_ledger
from ledger.config import TenantConfig
from ledger.db import fetch
from ledger.publish_payout import masked_iban, publish_payout

#: Booked runs whose transfers, set-offs and skipped refunds are published (the newest ones).
KEEP_BOOKED = 12


def _parquet(folder: Path, name: str) -> pl.DataFrame | None:
    path = folder / f"{name}.parquet"
    return pl.read_parquet(path) if path.exists() else None


def _ts(value: object) -> datetime | None:
    if not value:
        return None
    at = datetime.fromisoformat(str(value))
    return at if at.tzinfo else at.replace(tzinfo=UTC)


def _pdf(cfg: TenantConfig, raw: object) -> str | None:
    """The letters' PDF as the page serves it: relative to the tenant's run folders when it lies in them
    (``review.views_dunning.safe_pdf`` reads it from there; the state folder can move), else as written."""
    if not raw:
        return None
    path = Path(str(raw))
    try:
        return str(path.relative_to(cfg.runs_dir))
    except ValueError:
        return str(path)


def _details(folder: Path, run_id: str, booked: bool) -> dict[str, pl.DataFrame]:
    """One run's transfers, set-offs, skipped and dropped refunds (module docstring)."""
    stage = "booked" if booked else "prepared"
    tr = _parquet(folder, "kept_transfers" if booked else "transfers_prepare")
    so = _parquet(folder, "kept_setoffs" if booked else "setoffs_prepare")
    letters = _parquet(folder, "final_letters" if booked else "letters_prepare")
    due = _parquet(folder, "in_prepare_due")
    skipped = _parquet(folder, "skipped_prepare")
    credits = _parquet(folder, "credits_prepare")
    tag = [pl.lit(run_id).alias("run_id")]
    out: dict[str, pl.DataFrame] = {}
    if tr is not None:
        out["transfers"] = tr.with_columns(*tag, pl.lit(stage).alias("status"),
                                           masked_iban("payee_iban").alias("payee_iban_masked")).drop("payee_iban")
    if so is not None:
        names = (letters.select("letter_id", "debtor_name").unique("letter_id") if letters is not None
                 else pl.DataFrame(schema={"letter_id": pl.String(), "debtor_name": pl.String()}))
        out["setoffs"] = so.join(names, on="letter_id", how="left").with_columns(*tag, pl.lit(stage).alias("status"))
    payee = (due.select("source_id", "payee_name", "kassenzeichen") if due is not None
             else pl.DataFrame(schema={"source_id": pl.String(), "payee_name": pl.String(), "kassenzeichen": pl.String()}))
    parts = []
    if skipped is not None:
        # an invalid IBAN's detail is the IBAN as decided: published masked as every other IBAN
        parts.append(skipped.select("source_id", "transaction_id", "amount_cents", "reason", "detail")
                     .with_columns(pl.lit("payout").alias("kind"),
                                   pl.when(pl.col("reason") == PayoutSkip.IBAN_INVALID.value)
                                   .then(masked_iban("detail")).otherwise(pl.col("detail")).alias("detail")))
    if credits is not None:
        parts.append(credits.filter(pl.col("setoff_skip").is_not_null()).select(
            "source_id", "transaction_id", "amount_cents", pl.col("setoff_skip").alias("reason"),
            pl.lit(None, pl.String).alias("detail"), pl.lit("setoff").alias("kind")))
    if parts:
        out["skipped"] = pl.concat(parts, how="vertical_relaxed").join(payee, on="source_id", how="left",
                                                                       maintain_order="left").with_columns(*tag)
    dropped = _parquet(folder, "dropped") if booked else None
    if dropped is not None:
        out["dropped"] = dropped.with_columns(*tag)
    return out


def run_frames(cfg: TenantConfig, booked_at: dict[str, datetime]) -> dict[str, pl.DataFrame]:
    """``runs``, ``files``, ``transfers``, ``setoffs``, ``skipped`` and ``dropped`` of every recorded run."""
    records = all_records(cfg)
    detailed = {r.run_id for r in records if r.run_id not in booked_at}
    detailed |= {r.run_id for r in sorted((r for r in records if r.run_id in booked_at),
                                          key=lambda r: r.execution_date)[-KEEP_BOOKED:]}
    runs: list[dict[str, Any]] = []
    files: list[dict[str, Any]] = []
    parts: dict[str, list[pl.DataFrame]] = {"transfers": [], "setoffs": [], "skipped": [], "dropped": []}
    for r in records:
        folder = cfg.runs_dir / r.run_id
        booked = r.run_id in booked_at
        prepared = json_or_empty(folder / "prepared_summary.json")
        summary = json_or_empty(folder / "book_summary.json") if booked else prepared
        stage = "final" if booked else "prepared"
        for d in summary.get("files", []):
            files.append({**{k: d.get(k) for k in ("file_name", "message_id", "pmtinf_id", "count",
                                                   "control_sum_cents", "sha256")},
                          "run_id": r.run_id, "stage": stage, "sequence_type": "TRF", "xsd": d.get("version")})
        paid, set_off = int(summary.get("total_cents") or 0), int(summary.get("setoff_cents") or 0)
        runs.append({
            "run_id": r.run_id, "run_date": r.execution_date, "status": "booked" if booked else "prepared",
            "prepared_by": r.prepared_by, "prepared_at": r.prepared_at,
            "released_by": summary.get("released_by") if booked else None,
            "released_at": _ts(summary.get("released_at")) if booked else None,
            "booked_at": booked_at.get(r.run_id), "n_items": summary.get("n_payouts"), "total_cents": paid,
            "counts_json": json.dumps({"skipped": prepared.get("skipped", {}), "no_setoff": prepared.get("no_setoff", {}),
                                       "dropped": summary.get("dropped", {})}),
            "schema": next((d.get("version") for d in summary.get("files", [])), None),
            "set_off_on": date.fromisoformat(summary["set_off_on"]) if summary.get("set_off_on") else r.set_off_on,
            "credit_cents": paid + set_off, "n_setoffs": summary.get("n_setoffs"), "setoff_cents": set_off,
            "n_letters": summary.get("n_letters"), "letters_pdf": _pdf(cfg, summary.get("letters_pdf"))})
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
    """Publish the tenant's payout snapshot (module docstring) as of ``on`` (default: today); return the
    link the page reads."""
    day = on or datetime.now(UTC).date()
    con = open_ledger(cfg)
    try:
        booked = fetch(con, "SELECT run_id, committed_at FROM runs WHERE tenant = $t AND job = 'payout'",
                       {"t": cfg.tenant})
    finally:
        con.close()
        del con
    booked_at = dict(zip(booked["run_id"].to_list(), booked["committed_at"].to_list(), strict=True))
    return publish_payout(cfg.state_dir, cfg.tenant, run_frames(cfg, booked_at), on=day)
