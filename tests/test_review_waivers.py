"""The review page's Mahnverzicht: recorded by a clerk, approved by another supervisor (always), withdrawn,
read-only for auditors and the enforcement office, the tenant's own only."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from review_data import OTHER, TENANT, config_file, write_state, write_users
from test_review_app import login, token

from ledger.waiver_journal import read_waivers, waivers_frame
from review import create_app, load_review_config, load_users

PAGE = f"/t/{TENANT}/waivers"
TODAY = datetime.now(UTC).date()


@pytest.fixture(scope="module")
def users_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_users(tmp_path_factory.mktemp("users") / "users.toml")


@pytest.fixture
def env(tmp_path: Path, users_file: Path) -> dict[str, Any]:
    state = write_state(tmp_path / "state")
    config = load_review_config(config_file(tmp_path, state))
    return {"state": state, "root": tmp_path, "app": create_app(config, load_users(users_file))}


def _post(client: Any, url: str, **form: Any) -> Any:
    return client.post(url, data={"csrf_token": token(client.get(PAGE).text), **form}, follow_redirects=False)


def _set(client: Any, target: str, *, kind: str = "claim", reason: str = "address_unknown", since: str = "",
         deadline: str = "", note: str = "EMA-Anfrage ohne Treffer") -> Any:
    return _post(client, f"{PAGE}/set", kind=kind, target=target, reason=reason, since=since, deadline=deadline,
                 note=note)


def test_record_approve_and_withdraw(env: dict[str, Any]) -> None:
    anna = login(env, "anna")
    assert _set(anna, "123456789012").status_code == 303                       # Kassenzeichen without dots
    (w,) = read_waivers(env["state"], TENANT)
    assert (w.receivable_id, w.waiver, w.since, w.approved_by) == ("R-GRST-1", "address_unknown", TODAY, None)
    page = anna.get(PAGE).text
    assert "Anschrift unbekannt" in page and "wartet auf Freigabe" in page and "1234.5678.9012" in page
    assert "Freigeben" not in page                                              # a clerk never approves
    sven = login(env, "sven")
    assert _post(sven, f"/t/{TENANT}/waiver/{w.waiver_id}/approve").status_code == 303
    assert waivers_frame(read_waivers(env["state"], TENANT), TODAY)["receivable_id"].to_list() == ["R-GRST-1"]
    assert _post(anna, f"/t/{TENANT}/waiver/{w.waiver_id}/withdraw", note="Anschrift ermittelt").status_code == 303
    assert waivers_frame(read_waivers(env["state"], TENANT), TODAY).height == 0


def test_the_supervisor_who_recorded_it_may_not_approve_it(env: dict[str, Any]) -> None:
    sven = login(env, "sven")
    assert _set(sven, "D2", kind="debtor", reason="refused", note="Schreiben vom 2.11.").status_code == 303
    (w,) = read_waivers(env["state"], TENANT)
    r = _post(sven, f"/t/{TENANT}/waiver/{w.waiver_id}/approve")
    assert r.status_code == 403 and "Vier-Augen-Prinzip" in r.text
    assert read_waivers(env["state"], TENANT)[0].approved_by is None


@pytest.mark.parametrize(("form", "why"), [
    ({"target": "0000.0000.0000"}, "keine offene Forderung"),
    ({"target": "R-ABF-7", "reason": "keine_lust"}, "Grund"),
    ({"target": "R-ABF-7", "reason": "public_reminder"}, "deadline"),
    ({"target": "R-ABF-7", "since": (TODAY + timedelta(days=2)).isoformat()}, "future"),
    ({"target": "R-ABF-7", "note": " "}, "Begründung"),
])
def test_refused(env: dict[str, Any], form: dict[str, str], why: str) -> None:
    r = _set(login(env, "anna"), **form)
    assert r.status_code == 422 and why in r.text
    assert read_waivers(env["state"], TENANT) == []


def test_auditor_reads_only_and_other_tenants_are_closed(env: dict[str, Any]) -> None:
    _set(login(env, "anna"), "R-ABF-7")
    otto = login(env, "otto")
    page = otto.get(PAGE).text
    assert "Mahnverzicht" in page and "Erfassen" not in page and "Zurücknehmen" not in page
    assert _set(otto, "R-ABF-7").status_code == 403
    assert login(env, "anna").get(f"/t/{OTHER}/waivers").status_code == 403
    assert len(read_waivers(env["state"], TENANT)) == 1
