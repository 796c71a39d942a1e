"""``kasse collect`` (prepare, release with the users file, book) and the Prefect flow."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from test_collect_job import DAY, first_night, fixed_clock, q, tenant  # noqa: F401 (fixture)

from flows.cli import main
from jobs.collect import release


def test_the_command_prepares_refuses_the_preparer_and_books_after_a_release(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    from review.users import hash_password

    cfg = tenant(tmp_path)
    first_night(cfg)
    users = tmp_path / "users.toml"
    secret = hash_password("geheim-123")
    users.write_text("".join(f'[users.{login}]\nname = "{login}"\nrole = "{role}"\ntenants = ["stadt"]\n'
                             f'password_hash = "{secret}"\n' for login, role in
                             (("anna", "supervisor"), ("ben", "clerk"), ("sven", "supervisor"))), encoding="utf-8")
    monkeypatch.setenv("KASSE_PASSWORD", "geheim-123")
    assert cfg.source is not None
    base = ["collect", "--config", str(cfg.source)]
    capsys.readouterr()
    assert main([*base, "--date", DAY.isoformat(), "--user", "anna", "--json"]) == 0
    (prepared,) = json.loads(capsys.readouterr().out)
    assert prepared["status"] == "prepared" and prepared["counts"]["n_collections"] == 2
    run_id = prepared["run_id"]
    assert main([*base, "--release", run_id, "--users", str(users), "--user", "anna"]) == 2   # the preparer
    assert main([*base, "--release", run_id, "--users", str(users), "--user", "ben"]) == 2    # a clerk
    assert main([*base, "--release", run_id, "--users", str(users), "--user", "sven"]) == 0
    assert main([*base, "--date", DAY.isoformat(), "--user", "anna"]) == 0
    assert "booked" in capsys.readouterr().out
    assert q(cfg, "SELECT count(*) AS n FROM collections")["n"].to_list() == [2]
    assert main(["collect", "--config", str(tmp_path / "missing.toml"), "--date", DAY.isoformat()]) == 2


@pytest.mark.usefixtures("prefect_harness")
def test_the_flow_prepares_then_books_after_the_release_and_then_has_nothing_to_do(tmp_path: Path) -> None:
    from flows.collect import collect

    cfg = tenant(tmp_path)
    first_night(cfg)
    args = {"config": str(cfg.source), "collection_date": DAY.isoformat(), "user": "anna"}
    (prepared,) = collect(**args)
    assert (prepared["status"], prepared["tenant"], prepared["counts"]["n_collections"]) == ("prepared", "stadt", 2)
    release(cfg, prepared["run_id"], user="sven", role="supervisor")
    (booked,) = collect(**args)
    assert (booked["status"], booked["run_id"]) == ("booked", prepared["run_id"])
    (again,) = collect(**args)
    assert again["status"] == "nothing_to_do"
    assert q(cfg, "SELECT count(*) AS n FROM collections")["n"].to_list() == [2]
