"""Publish the collection runs, the mandate register and the returns for the review page.

The page never opens the ledger; it reads ``<state_dir>/published_collection/<tenant>/``
(:mod:`ledger.publish_collection`). This module gathers what goes there: the booked part from the ledger
(:func:`ledger.publish_collection.ledger_frames`) and, for each date the job has prepared, its run from
the run folder (summary, files, the prepared collections, the skipped claims, what the booking dropped).
The collection job calls :func:`publish_state` at the end of every call, the nightly run after it has
booked the night's returns.

What a snapshot keeps: every run's figures; the collections (``items``) and skipped claims of the runs not
booked yet and of the last :data:`KEEP_BOOKED` booked runs — a run skips every claim without a mandate,
and thousands of claims a run over years would make the page read millions of rows for nothing. Older
runs show their counts; their collections are in the ledger (``collections``).
"""

from __future__ import annotations

import json
import re
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import polars as pl

from jobs.collect.record import all_records
from jobs.rundir import json_or_empty
from jobs.runner import open_ledger
from ledger.config import TenantConfig
from ledger.publish_collection import RELEASE_KIND, ledger_frames, publish_collection
from ledger.release_journal import read_releases

#: Booked runs whose collections and skipped claims are published (the newest ones).
KEEP_BOOKED = 12
_NAMESPACE = re.compile(rb"urn:iso:std:iso:20022:tech:xsd:(pain\.\d{3}\.\d{3}\.\d{2})")


def _parquet(path: Path) -> pl.DataFrame | None:
    return pl.read_parquet(path) if path.exists() else None


def file_schema(path: Path, default: str) -> str:
    """The pain schema a written file declares (its namespace; the job validated it against that XSD)."""
    try:
        with path.open("rb") as fh:
            head = fh.read(2048)
    except OSError:
        return default
    hit = _NAMESPACE.search(head)
    return hit.group(1).decode() if hit else default


def _ts(value: str | None) -> datetime | None:
    if not value:
        return None
    at = datetime.fromisoformat(value)
    return at if at.tzinfo else at.replace(tzinfo=UTC)


def run_frames(cfg: TenantConfig, booked_at: dict[str, datetime]) -> dict[str, pl.DataFrame]:
    """``runs``, ``files``, the prepared ``items``, ``skipped`` and ``dropped`` of every date's run."""
    from jobs.collect.steps import pain_version

    releases = {k: r for k, r in read_releases(cfg.state_dir, cfg.tenant).items() if r.kind == RELEASE_KIND}
    records = all_records(cfg)
    detailed = {r.run_id for r in records if r.run_id not in booked_at}
    detailed |= {r.run_id for r in sorted((r for r in records if r.run_id in booked_at),
                                          key=lambda r: r.collection_date)[-KEEP_BOOKED:]}
    runs: list[dict[str, Any]] = []
    files: list[dict[str, Any]] = []
    items: list[pl.DataFrame] = []
    skipped: list[pl.DataFrame] = []
    dropped: list[pl.DataFrame] = []
    version = pain_version(cfg)
    for r in records:
        folder = cfg.runs_dir / r.run_id
        booked = r.run_id in booked_at
        prepared = json_or_empty(folder / "prepared_summary.json")
        summary = json_or_empty(folder / "book_summary.json") if booked else prepared
        rel = releases.get(r.run_id) if not booked or not summary.get("released_by") else None
        stage = "final" if booked else "prepared"
        schema = version
        for d in summary.get("files", []):
            schema = file_schema(folder / stage / str(d.get("file_name")), version)
            files.append({**{k: d.get(k) for k in ("file_name", "message_id", "pmtinf_id", "sequence_type", "count",
                                                   "control_sum_cents", "sha256")},
                          "run_id": r.run_id, "stage": stage, "xsd": schema})
        runs.append({
            "run_id": r.run_id, "run_date": r.collection_date,
            "status": "booked" if booked else "released" if rel else "prepared",
            "prepared_by": r.prepared_by, "prepared_at": r.prepared_at,
            "released_by": summary.get("released_by") if booked else rel.released_by if rel else None,
            "released_at": _ts(summary.get("released_at") if booked else rel.released_at if rel else None),
            "booked_at": booked_at.get(r.run_id), "n_items": summary.get("n_collections"),
            "total_cents": summary.get("total_cents"),
            "counts_json": json.dumps({"sequence": summary.get("sequence", {}), "skipped": prepared.get("skipped", {}),
                                       "dropped": summary.get("dropped", {})}),
            "schema": schema})
        if r.run_id not in detailed:
            continue
        claims = _parquet(folder / "in_prepare_claims.parquet")
        left_out = _parquet(folder / "skipped_prepare.parquet")
        if left_out is not None and claims is not None:
            skipped.append(left_out.drop("tenant").join(
                claims.select("receivable_id", "kassenzeichen", "debtor_id", "debtor_name", "claim_type", "due_date",
                              "amount_cents"), on="receivable_id", how="left")
                .with_columns(pl.lit(r.run_id).alias("run_id")))
        if booked:
            taken = _parquet(folder / "dropped.parquet")
            if taken is not None:
                dropped.append(taken.with_columns(pl.lit(r.run_id).alias("run_id")))
            continue
        sel = _parquet(folder / "selected_prepare.parquet")
        if sel is not None:
            ids = json_or_empty(folder / "message_ids.json")
            items.append(sel.with_columns(pl.lit(r.run_id).alias("run_id"), pl.lit("prepared").alias("status"),
                                          pl.col("sequence_type").replace_strict(ids, default=None,
                                                                                 return_dtype=pl.String())
                                          .alias("message_id")))
    return {"runs": pl.DataFrame(runs), "files": pl.DataFrame(files), "items": _concat(items),
            "skipped": _concat(skipped), "dropped": _concat(dropped), "_detailed": pl.DataFrame({"run_id": sorted(detailed)},
                                                                                                  schema={"run_id": pl.String()})}


def _concat(frames: list[pl.DataFrame]) -> pl.DataFrame:
    return pl.concat(frames, how="diagonal_relaxed") if frames else pl.DataFrame()


def publish_state(cfg: TenantConfig, *, on: date | None = None) -> Path:
    """Publish the tenant's collection snapshot (module docstring) as of ``on`` (default: today); return the
    link the page reads."""
    day = on or datetime.now(UTC).date()
    con = open_ledger(cfg)
    try:
        led = ledger_frames(con, cfg.tenant, on=day, settings=cfg.collection)
    finally:
        con.close()
        del con
    runs = led.pop("booked_runs")
    booked_at = dict(zip(runs["run_id"].to_list(), runs["committed_at"].to_list(), strict=True))
    frames = run_frames(cfg, booked_at)
    detailed = frames.pop("_detailed")
    booked_items = led.pop("items").join(detailed, on="run_id", how="semi")
    frames["items"] = _concat([f for f in (booked_items, frames["items"]) if f.width])
    return publish_collection(cfg.state_dir, cfg.tenant, {k: v for k, v in {**led, **frames}.items() if v.width},
                              on=day)
