"""``kasse handoff`` (prepare, release with the users file, book) and the Prefect flow."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from test_handoff_job import HANDOFF, dunned, q, tenant

from flows.cli import main
from jobs.handoff import release


def test_the_command_prepares_refuses_the_preparer_and_books_after_a_release(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    from review.users import hash_password

    cfg = tenant(tmp_path)
    dunned(cfg)
    users = tmp_path / "users.toml"
    secret = hash_password("geheim-123")
    users.write_text("".join(f'[users.{login}]\nname = "{login}"\nrole = "{role}"\ntenants = ["stadt"]\n'
                             f'password_hash = "{secret}"\n' for login, role in
                             (("anna", "supervisor"), ("ben", "clerk"), ("sven", "supervisor"))), encoding="utf-8")
    monkeypatch.setenv("KASSE_PASSWORD", "geheim-123")
    assert cfg.source is not None
    base = ["handoff", "--config", str(cfg.source)]
    capsys.readouterr()
    assert main([*base, "--date", HANDOFF.isoformat(), "--user", "anna", "--json"]) == 0
    (prepared,) = json.loads(capsys.readouterr().out)
    assert prepared["status"] == "prepared" and prepared["counts"]["n_cases"] == 3
    run_id = prepared["run_id"]
    assert main([*base, "--release", run_id, "--users", str(users), "--user", "anna"]) == 2   # the preparer
    assert main([*base, "--release", run_id, "--users", str(users), "--user", "ben"]) == 2    # a clerk
    assert main([*base, "--release", run_id, "--users", str(users), "--user", "sven"]) == 0
    assert main([*base, "--date", HANDOFF.isoformat(), "--user", "anna"]) == 0
    out = capsys.readouterr().out
    assert "booked" in out and "n_cases: 3" in out
    assert q(cfg, "SELECT count(*) AS n, sum(total_cents) AS s FROM enforcement_cases").rows() == [(3, 32599)]
    assert main([*base, "--date", HANDOFF.isoformat(), "--user", "anna"]) == 0
    assert "booked already" in capsys.readouterr().out
    assert main(["handoff", "--config", str(tmp_path / "missing.toml"), "--date", HANDOFF.isoformat()]) == 2


@pytest.mark.usefixtures("prefect_harness")
def test_the_flow_prepares_then_books_after_the_release_and_then_has_nothing_to_do(tmp_path: Path) -> None:
    from flows.handoff import handoff

    cfg = tenant(tmp_path)
    dunned(cfg)
    args = {"config": str(cfg.source), "handoff_date": HANDOFF.isoformat(), "user": "anna"}
    (prepared,) = handoff(**args)
    assert (prepared["status"], prepared["tenant"], prepared["counts"]["n_cases"]) == ("prepared", "stadt", 3)
    release(cfg, prepared["run_id"], user="sven", role="supervisor")
    (booked,) = handoff(**args)
    assert (booked["status"], booked["run_id"]) == ("booked", prepared["run_id"])
    assert booked["counts"]["n_claims"] == 12 and booked["counts"]["released_by"] == "sven"
    (again,) = handoff(**args)
    assert again["status"] == "nothing_to_do"
    assert q(cfg, "SELECT count(*) AS n FROM enforcement_case_claims").rows() == [(12,)]


def test_serve_knows_the_handoff_schedule(tmp_path: Path) -> None:
    from flows.cmd_serve import SCHEDULED_JOBS

    cfg = tenant(tmp_path)
    assert "handoff" in SCHEDULED_JOBS and SCHEDULED_JOBS["handoff"][:2] == ("flows.handoff", "handoff")
    assert "handoff" not in cfg.schedules()                             # off unless set
    assert cfg.enforcement.outbox is None
