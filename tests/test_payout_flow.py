"""``kasse payout`` (prepare, release with the users file, book) and the Prefect flow."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from test_payout_job import EXEC, TODAY, nights, q, tenant

from flows.cli import main
from jobs.payout import release


def test_the_command_prepares_refuses_the_preparer_and_books_after_a_release(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    from review.users import hash_password

    cfg = tenant(tmp_path)
    nights(cfg)
    users = tmp_path / "users.toml"
    secret = hash_password("geheim-123")
    users.write_text("".join(f'[users.{login}]\nname = "{login}"\nrole = "{role}"\ntenants = ["stadt"]\n'
                             f'password_hash = "{secret}"\n' for login, role in
                             (("anna", "supervisor"), ("ben", "clerk"), ("sven", "supervisor"))), encoding="utf-8")
    monkeypatch.setenv("KASSE_PASSWORD", "geheim-123")
    assert cfg.source is not None
    base = ["payout", "--config", str(cfg.source)]
    capsys.readouterr()
    assert main([*base, "--date", EXEC.isoformat(), "--user", "anna", "--json"]) == 0
    (prepared,) = json.loads(capsys.readouterr().out)
    assert prepared["status"] == "prepared" and prepared["counts"]["n_payouts"] == 2
    assert prepared["counts"]["n_setoffs"] == 1
    run_id = prepared["run_id"]
    assert main([*base, "--release", run_id, "--users", str(users), "--user", "anna"]) == 2   # the preparer
    assert main([*base, "--release", run_id, "--users", str(users), "--user", "ben"]) == 2    # a clerk
    assert main([*base, "--release", run_id, "--users", str(users), "--user", "sven"]) == 0
    assert main([*base, "--date", EXEC.isoformat(), "--user", "anna"]) == 0
    assert "booked" in capsys.readouterr().out
    assert q(cfg, "SELECT count(*) AS n, sum(amount_cents) AS s FROM payouts").rows() == [(2, 6000)]
    assert main(["payout", "--config", str(tmp_path / "missing.toml"), "--date", EXEC.isoformat()]) == 2


@pytest.mark.usefixtures("prefect_harness")
def test_the_flow_prepares_then_books_after_the_release_and_then_has_nothing_to_do(tmp_path: Path) -> None:
    from flows.payout import payout

    cfg = tenant(tmp_path)
    nights(cfg)
    # ``now``: the set-off day on the caller's clock (the demo's simulated day), not the machine's
    args = {"config": str(cfg.source), "execution_date": EXEC.isoformat(), "user": "anna",
            "now": f"{TODAY.isoformat()}T09:00:00+01:00"}
    (prepared,) = payout(**args)
    assert (prepared["status"], prepared["tenant"], prepared["counts"]["n_payouts"]) == ("prepared", "stadt", 2)
    assert prepared["counts"]["set_off_on"] == TODAY.isoformat()
    release(cfg, prepared["run_id"], user="sven", role="supervisor")
    (booked,) = payout(**args)
    assert (booked["status"], booked["run_id"]) == ("booked", prepared["run_id"])
    (again,) = payout(**args)
    assert again["status"] == "nothing_to_do"
    assert q(cfg, "SELECT set_off_on FROM setoffs")["set_off_on"].to_list() == [TODAY]
