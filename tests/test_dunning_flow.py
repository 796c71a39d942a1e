"""The weekly dunning run as the real Prefect flow (session-wide harness): prepare, release, book, again."""

from __future__ import annotations

from pathlib import Path

import pytest
from test_dunning_job import AS_OF, counts, first_night, q, tenant

from jobs.dunning import release

pytestmark = pytest.mark.usefixtures("prefect_harness")


def test_the_flow_prepares_then_books_after_the_release_and_then_has_nothing_to_do(tmp_path: Path) -> None:
    from flows.dunning import dunning

    cfg = tenant(tmp_path)
    first_night(cfg)
    args = {"config": str(cfg.source), "as_of": AS_OF.isoformat(), "user": "anna"}
    prepared = dunning(**args)
    assert (prepared["status"], prepared["tenant"], prepared["counts"]["n_notices"]) == ("prepared", "stadt", 3)
    assert counts(cfg)["dunning_notices"] == 0
    release(cfg, prepared["run_id"], user="sven", role="supervisor")
    booked = dunning(**args)
    assert (booked["status"], booked["run_id"]) == ("booked", prepared["run_id"])
    assert q(cfg, "SELECT count(*) AS n FROM dunning_notices")["n"].to_list() == [3]
    again = dunning(**args)
    assert again["status"] == "nothing_to_do" and counts(cfg)["dunning_notices"] == 3
