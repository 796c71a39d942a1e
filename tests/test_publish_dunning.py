"""The dunning snapshot for the review page: written atomically beside the nightly's, release lines laid over."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import polars as pl

from ledger.publish_dunning import (
    ITEMS_SCHEMA,
    NOTICES_SCHEMA,
    RUNS_SCHEMA,
    publish_dunning,
    read_dunning_published,
)
from ledger.release_journal import record_release

T = "musterstadt"


def _runs(status: str = "prepared") -> pl.DataFrame:
    return pl.DataFrame([{"run_id": "r1", "week": "2026-W49", "as_of": date(2026, 12, 1), "status": status,
                          "prepared_by": "anna", "prepared_at": datetime(2026, 12, 1, 6, tzinfo=UTC),
                          "n_notices": 2, "n_claims": 3, "fees_total_cents": 1200}])


def test_nothing_published_reads_as_empty_frames(tmp_path: Path) -> None:
    got = read_dunning_published(tmp_path, T)
    assert got.runs.schema == RUNS_SCHEMA and got.runs.height == 0 and got.meta == {}
    assert got.notices.schema == NOTICES_SCHEMA and got.items.schema == ITEMS_SCHEMA


def test_a_release_line_shows_as_released_before_the_job_runs_again(tmp_path: Path) -> None:
    notices = pl.DataFrame([{"notice_id": "M20261201-000001", "run_id": "r1", "status": "prepared",
                             "debtor_id": "D1", "level": "mahnung", "total_cents": 5600}])
    link = publish_dunning(tmp_path, T, runs=_runs(), notices=notices, items=pl.DataFrame(schema=ITEMS_SCHEMA))
    assert link.is_symlink() and not (tmp_path / "published" / T).exists()   # beside the nightly's snapshot
    got = read_dunning_published(tmp_path, T)
    assert got.runs.select("status", "released_by").rows() == [("prepared", None)]
    assert got.notices["total_cents"].to_list() == [5600] and got.meta["n_runs"] == 1
    record_release(tmp_path, T, "r1", user="sven", role="supervisor", prepared_by="anna")
    got = read_dunning_published(tmp_path, T)
    assert got.runs.select("status", "released_by").rows() == [("released", "sven")]
    assert got.runs["released_at"][0] is not None


def test_a_new_version_replaces_the_old_and_only_three_are_kept(tmp_path: Path) -> None:
    for status in ("prepared", "booked", "booked", "booked"):
        publish_dunning(tmp_path, T, runs=_runs(status), notices=pl.DataFrame(schema=NOTICES_SCHEMA),
                        items=pl.DataFrame(schema=ITEMS_SCHEMA))
    assert read_dunning_published(tmp_path, T).runs["status"].to_list() == ["booked"]
    versions = [p for p in (tmp_path / "published_dunning" / f".{T}").iterdir() if not p.name.startswith(".")]
    assert len(versions) == 3
