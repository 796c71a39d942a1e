"""The review page's "Regeln": proposals of the run, propose, four-eyes approval, expiry, revocation (in-process)."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from review_data import (
    AS_OF,
    OTHER,
    TENANT,
    config_file,
    klaerungsliste,
    open_items,
    write_state,
    write_users,
)
from test_review_app import login, token

from ledger.publish import publish
from ledger.rule_journal import read_rules
from matching.learned import PROPOSAL_SCHEMA
from review import create_app, load_review_config, load_users

RULES = f"/t/{TENANT}/rules"
IBAN = "DE75512108001245126199"
TODAY = datetime.now(UTC).date()


def _proposals() -> pl.DataFrame:
    row = {"kind": "iban_to_debtor", "key": IBAN, "target": "D-1", "evidence_count": 4, "evidence_users": "anna,paula",
           "first_at": "2026-10-01T08:00:00+00:00", "last_at": "2026-11-20T08:00:00+00:00"}
    return pl.DataFrame([row], schema=PROPOSAL_SCHEMA).with_columns(
        pl.lit(TODAY + timedelta(days=365)).alias("valid_until"))


@pytest.fixture(scope="module")
def users_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_users(tmp_path_factory.mktemp("users") / "users.toml")


@pytest.fixture
def env(tmp_path: Path, users_file: Path) -> dict[str, Any]:
    state = write_state(tmp_path / "state")
    publish(state / "published", TENANT, klaerungsliste=klaerungsliste(), open_items=open_items(), run_id="run-0002",
            as_of=AS_OF, extra={"rule_proposals": _proposals()})
    config = load_review_config(config_file(tmp_path, state))
    return {"state": state, "app": create_app(config, load_users(users_file))}


def _post(client: Any, url: str, **form: Any) -> Any:
    return client.post(url, data={"csrf_token": token(client.get(RULES).text), **form}, follow_redirects=False)


def _propose(client: Any, key: str = IBAN, run_id: str = "run-0002") -> Any:
    return _post(client, f"{RULES}/propose", kind="iban_to_debtor", key=key, run_id=run_id)


def _rule_id(env: dict[str, Any]) -> str:
    (rule,) = read_rules(env["state"], TENANT)
    return rule.rule_id


def test_the_page_lists_the_runs_proposal(env: dict[str, Any]) -> None:
    page = login(env, "anna").get(RULES)
    assert page.status_code == 200
    assert IBAN in page.text and "Als Regel vorschlagen" in page.text and "anna, paula" in page.text
    assert "Noch keine Regeln." in page.text
    auditor = login(env, "otto").get(RULES)
    assert IBAN in auditor.text and "Als Regel vorschlagen" not in auditor.text   # auditors read only
    assert login(env, "anna").get(f"/t/{OTHER}/rules").status_code == 403


def test_propose_takes_debtor_and_evidence_from_the_run_not_the_form(env: dict[str, Any]) -> None:
    bert = login(env, "bert")
    r = bert.post(f"{RULES}/propose", data={"csrf_token": token(bert.get(RULES).text), "kind": "iban_to_debtor",
                                             "key": IBAN, "run_id": "run-0002", "target": "D-EVIL",
                                             "evidence_users": ""}, follow_redirects=False)
    assert r.status_code == 303
    (rule,) = read_rules(env["state"], TENANT)
    assert (rule.target, rule.evidence_users, rule.proposed_by) == ("D-1", ("anna", "paula"), "bert")
    assert rule.proposed_valid_until == TODAY + timedelta(days=365)
    page = bert.get(RULES)
    assert "wartet auf Freigabe" in page.text and "Keine neuen Vorschläge" in page.text
    r = _propose(bert)                                                    # not twice
    assert r.status_code == 409 and "proposed already" in r.text


def test_propose_refused_when_stale_unknown_without_csrf_or_as_auditor(env: dict[str, Any]) -> None:
    anna = login(env, "anna")
    assert _propose(anna, run_id="run-0001").status_code == 409          # the run published since
    assert _propose(anna, key="DE02120300000000202051").status_code == 404   # no such proposal
    r = anna.post(f"{RULES}/propose", data={"kind": "iban_to_debtor", "key": IBAN, "run_id": "run-0002"})
    assert r.status_code == 403 and "CSRF" in r.text
    assert _propose(login(env, "otto")).status_code == 403
    assert read_rules(env["state"], TENANT) == []


@pytest.mark.parametrize(("who", "why"), [
    ("bert", "darf keine Regeln freigeben"),     # a clerk (and the proposer)
    ("paula", "Vier-Augen-Prinzip"),              # a supervisor whose decisions are the evidence
    ("otto", "darf nur lesen"),                   # an auditor
])
def test_approval_refused(env: dict[str, Any], who: str, why: str) -> None:
    assert _propose(login(env, "bert")).status_code == 303
    r = _post(login(env, who), f"/t/{TENANT}/rule/{_rule_id(env)}/approve", valid_until="2027-12-31")
    assert r.status_code == 403 and why in r.text
    assert read_rules(env["state"], TENANT)[0].approved_by is None


def test_supervisor_who_proposed_may_not_approve(env: dict[str, Any]) -> None:
    assert _propose(login(env, "sven")).status_code == 303
    r = _post(login(env, "sven"), f"/t/{TENANT}/rule/{_rule_id(env)}/approve", valid_until="2027-12-31")
    assert r.status_code == 403 and "Vier-Augen-Prinzip" in r.text


def test_approve_expire_revoke(env: dict[str, Any]) -> None:
    assert _propose(login(env, "bert")).status_code == 303
    rid = _rule_id(env)
    sven = login(env, "sven")
    page = sven.get(RULES)
    assert f'value="{(TODAY + timedelta(days=365)).isoformat()}"' in page.text      # the proposed validity
    assert _post(sven, f"/t/{TENANT}/rule/{rid}/approve", valid_until="2020-01-01").status_code == 422
    assert _post(sven, f"/t/{TENANT}/rule/{rid}/approve", valid_until="bald").status_code == 422
    until = TODAY + timedelta(days=30)
    assert _post(sven, f"/t/{TENANT}/rule/{rid}/approve", valid_until=until.isoformat()).status_code == 303
    (rule,) = read_rules(env["state"], TENANT)
    assert (rule.approved_by, rule.valid_until, rule.state_on(TODAY)) == ("sven", until, "approved")
    assert "in Kraft" in sven.get(RULES).text
    # a clerk cannot end or revoke it; a supervisor ends it earlier, never later
    bert = login(env, "bert")
    assert _post(bert, f"/t/{TENANT}/rule/{rid}/expire", valid_until=TODAY.isoformat()).status_code == 403
    assert _post(bert, f"/t/{TENANT}/rule/{rid}/revoke", reason="x").status_code == 403
    later = (until + timedelta(days=1)).isoformat()
    assert _post(sven, f"/t/{TENANT}/rule/{rid}/expire", valid_until=later).status_code == 409
    yesterday = TODAY - timedelta(days=1)
    assert _post(sven, f"/t/{TENANT}/rule/{rid}/expire", valid_until=yesterday.isoformat()).status_code == 303
    assert read_rules(env["state"], TENANT)[0].state_on(TODAY) == "expired"
    assert "abgelaufen" in sven.get(RULES).text
    # revoked after it ran out: it can never be proposed for this debtor again
    assert _post(sven, f"/t/{TENANT}/rule/{rid}/revoke", reason="").status_code == 422
    assert _post(sven, f"/t/{TENANT}/rule/{rid}/revoke", reason="Schuldner verzogen").status_code == 303
    assert read_rules(env["state"], TENANT)[0].state_on(TODAY) == "revoked"


def test_revoke_needs_a_reason_and_shows_it(env: dict[str, Any]) -> None:
    assert _propose(login(env, "bert")).status_code == 303
    rid = _rule_id(env)
    paula = login(env, "paula")
    assert _post(paula, f"/t/{TENANT}/rule/{rid}/revoke", reason="  ").status_code == 422
    assert _post(paula, f"/t/{TENANT}/rule/{rid}/revoke", reason="<b>Konto gewechselt</b>").status_code == 303
    page = paula.get(RULES)
    assert "widerrufen von paula" in page.text and "&lt;b&gt;Konto gewechselt&lt;/b&gt;" in page.text
    assert re.search(r"Als Regel vorschlagen", page.text) is None     # revoked for this debtor: not proposed again
    assert _post(paula, f"/t/{TENANT}/rule/unknown/revoke", reason="x").status_code == 404


def test_rules_page_without_published_rule_files(tmp_path: Path, users_file: Path) -> None:
    # a snapshot of an older run (no rules files): the page shows nothing to propose, no error
    state = write_state(tmp_path / "state")
    app = create_app(load_review_config(config_file(tmp_path, state)), load_users(users_file))
    page = login({"app": app}, "anna").get(RULES)
    assert page.status_code == 200 and "Keine neuen Vorschläge" in page.text
