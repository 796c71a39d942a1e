"""The review page in-process: every page and action, the refused ones included (real files, real argon2)."""

from __future__ import annotations

import asyncio
import re
import threading
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from review_data import (
    IBAN_BAD,
    IBAN_ERIKA,
    OTHER,
    PASSWORD,
    TENANT,
    config_file,
    klaerungsliste,
    make_client,
    write_state,
    write_users,
)

from ledger.journal import effective_decisions, read_decisions
from review import create_app, hash_password, load_review_config, load_users
from review.throttle import LoginThrottle

LIST = f"/t/{TENANT}/"


def item(tx: str) -> str:
    return f"/t/{TENANT}/item/{tx}"


@pytest.fixture(scope="module")
def users_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_users(tmp_path_factory.mktemp("users") / "users.toml")


@pytest.fixture
def env(tmp_path: Path, users_file: Path) -> dict[str, Any]:
    state = write_state(tmp_path / "state")
    config = load_review_config(config_file(tmp_path, state))
    return {"state": state, "app": create_app(config, load_users(users_file))}


def token(page: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert found, "no CSRF token on the page"
    return found.group(1)


def login(env: dict[str, Any], who: str) -> Any:
    client = make_client(env["app"])
    page = client.get("/login")
    r = client.post("/login", data={"login": who, "password": PASSWORD, "csrf_token": token(page.text), "next": "/"},
                    follow_redirects=False)
    assert r.status_code == 303, r.text
    return client


def decide(client: Any, tx: str, **form: Any) -> Any:
    page = client.get(item(tx))
    run_id = re.search(r'name="run_id" value="([^"]+)"', page.text)
    data = {"csrf_token": token(page.text), "run_id": run_id.group(1) if run_id else "", **form}
    return client.post(item(tx) + "/decide", data=data, follow_redirects=False)


def assign(client: Any, tx: str, parts: list[tuple[str, str]]) -> Any:
    return decide(client, tx, action="assign", rid=[p[0] for p in parts], amt=[p[1] for p in parts])


def post(client: Any, url: str, page_url: str, **form: Any) -> Any:
    return client.post(url, data={"csrf_token": token(client.get(page_url).text), **form}, follow_redirects=False)


# --- login, session, headers ------------------------------------------------------------------------------

def test_login_required_and_login_logout(env: dict[str, Any]) -> None:
    client = make_client(env["app"])
    r = client.get(LIST, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"].startswith("/login?next=")
    r = client.post("/login", data={"login": "anna", "password": "falsch", "csrf_token": token(client.get("/login").text)})
    assert r.status_code == 401 and "Passwort falsch" in r.text
    r = client.post("/login", data={"login": "niemand", "password": PASSWORD,
                                    "csrf_token": token(client.get("/login").text)})
    assert r.status_code == 401
    client = login(env, "anna")
    assert client.get(LIST).status_code == 200
    assert post(client, "/logout", LIST, follow_redirects=False).status_code == 303
    assert client.get(LIST, follow_redirects=False).status_code == 303


def test_login_and_logout_need_the_csrf_token(env: dict[str, Any]) -> None:
    client = make_client(env["app"])
    client.get("/login")
    r = client.post("/login", data={"login": "anna", "password": PASSWORD})
    assert r.status_code == 403 and "CSRF" in r.text
    client = login(env, "anna")
    assert client.post("/logout", data={}).status_code == 403
    assert client.get(LIST).status_code == 200               # still logged in


def test_next_parameter_cannot_redirect_elsewhere(env: dict[str, Any]) -> None:
    client = make_client(env["app"])
    r = client.post("/login", data={"login": "sven", "password": PASSWORD, "next": "//evil.example/",
                                    "csrf_token": token(client.get("/login").text)}, follow_redirects=False)
    assert r.headers["location"] == "/"


def test_security_headers_and_no_script(env: dict[str, Any]) -> None:
    r = login(env, "anna").get(item("tx-split"))
    csp = r.headers["content-security-policy"]
    assert "default-src 'none'" in csp and "script-src 'self';" in csp and "unsafe-inline" not in csp
    assert "unsafe-eval" not in csp
    assert r.headers["x-frame-options"] == "DENY" and r.headers["x-content-type-options"] == "nosniff"
    assert r.headers["cache-control"] == "no-store"
    assert re.findall(r"<script[^>]*>.*?</script>", r.text, re.S) == ['<script src="/static/keys.js" defer></script>']
    cookie = r.request.headers.get("cookie", "")
    assert "kasse_review=" in cookie


# --- server-side sessions, login throttle ---------------------------------------------------------------

def login_as(client: Any, who: str, password: str = PASSWORD, headers: dict[str, str] | None = None) -> Any:
    """One POST /login from ``client`` (no assertion on the outcome)."""
    return client.post("/login", data={"login": who, "password": password, "next": "/",
                                       "csrf_token": token(client.get("/login").text)},
                       headers=headers or {}, follow_redirects=False)


def test_a_cookie_copied_before_logout_is_refused_after_it(env: dict[str, Any]) -> None:
    anna = login(env, "anna")
    assert anna.get(LIST).status_code == 200
    copied = anna.cookies.get("kasse_review")
    assert copied
    thief = make_client(env["app"], ("10.9.9.9", 4444))
    thief.cookies.set("kasse_review", copied)
    assert thief.get(LIST).status_code == 200                 # the copy works while the session is live
    assert post(anna, "/logout", LIST).status_code == 303
    r = thief.get(LIST, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"].startswith("/login?next=")
    anna.cookies.set("kasse_review", copied)                  # replayed in the same browser: refused too
    assert anna.get(LIST, follow_redirects=False).status_code == 303
    assert env["app"].state.review.sessions.count() == 0      # logout deleted the row
    # a new login is a new session, and ending it leaves other sessions of the same user alive
    one, two = login(env, "anna"), login(env, "anna")
    assert post(one, "/logout", LIST).status_code == 303
    assert two.get(LIST).status_code == 200 and one.get(LIST, follow_redirects=False).status_code == 303


def test_a_password_change_ends_the_sessions(tmp_path: Path) -> None:
    users_path = write_users(tmp_path / "users.toml")
    state = write_state(tmp_path / "state")
    app = create_app(load_review_config(config_file(tmp_path, state)), load_users(users_path), users_path)
    env = {"state": state, "app": app}
    bert, anna = login(env, "bert"), login(env, "anna")
    text = users_path.read_text()
    start = text.index("[users.bert]")
    old_hash = re.search(r'password_hash = "([^"]+)"', text[start:])
    assert old_hash
    users_path.write_text(text[:start] + text[start:].replace(old_hash.group(1), hash_password("neu-und-lang"), 1))
    assert bert.get(LIST, follow_redirects=False).status_code == 303       # logged out
    assert anna.get(LIST).status_code == 200                                  # the others stay


def test_wrong_passwords_from_one_address_do_not_lock_out_the_user_elsewhere(env: dict[str, Any]) -> None:
    env["app"].state.review.throttle = LoginThrottle(first_delay=600)        # no race with the clock
    attacker = make_client(env["app"], ("10.0.0.1", 123))
    codes = [login_as(attacker, "anna", "falsch").status_code for _ in range(6)]
    assert codes == [401] * 5 + [429]                          # the login name is locked for the attacker …
    r = login_as(attacker, "anna")                             # … even with the right password
    assert r.status_code == 429 and "diesen Anmeldenamen" in r.text and int(r.headers["retry-after"]) > 0
    real = make_client(env["app"], ("10.0.0.2", 123))          # … but not for anna at her own desk
    assert login_as(real, "anna").status_code == 303
    assert real.get(LIST).status_code == 200
    assert login_as(attacker, "anna").status_code == 429       # her login unlocks nothing for the attacker


def test_an_address_trying_many_login_names_is_throttled(env: dict[str, Any]) -> None:
    env["app"].state.review.throttle = LoginThrottle(first_delay=600)
    attacker = make_client(env["app"], ("10.0.0.1", 123))
    codes = [login_as(attacker, f"user{i}", "falsch", headers={"X-Forwarded-For": f"192.0.2.{i}"}).status_code
             for i in range(10)]
    assert codes == [401] * 10                                 # X-Forwarded-For is not believed by default
    r = login_as(attacker, "user10", "falsch", headers={"X-Forwarded-For": "192.0.2.99"})
    assert r.status_code == 429 and "dieser Adresse" in r.text and int(r.headers["retry-after"]) > 0
    assert login_as(attacker, "anna").status_code == 429       # the address waits, whatever name it tries
    assert login_as(make_client(env["app"], ("10.0.0.2", 123)), "anna").status_code == 303
    assert len(env["app"].state.review.throttle.addresses) == 1


def test_x_forwarded_for_counts_only_from_a_trusted_proxy(tmp_path: Path, users_file: Path) -> None:
    state = write_state(tmp_path / "state")
    config = replace(load_review_config(config_file(tmp_path, state)), trusted_proxies=("10.0.0.9",))
    app = create_app(config, load_users(users_file))
    app.state.review.throttle = LoginThrottle(address_free=2, first_delay=600)
    proxy = make_client(app, ("10.0.0.9", 80))
    for _ in range(2):
        assert login_as(proxy, "x", "falsch", headers={"X-Forwarded-For": "203.0.113.5"}).status_code == 401
    assert login_as(proxy, "x", "falsch", headers={"X-Forwarded-For": "203.0.113.5"}).status_code == 429
    assert login_as(proxy, "anna", headers={"X-Forwarded-For": "203.0.113.6"}).status_code == 303
    assert set(app.state.review.throttle.addresses._rows) == {"203.0.113.5"}


def test_passwords_are_checked_off_the_event_loop(env: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> None:
    import review.users

    seen: list[tuple[str, bool]] = []
    real = review.users._HASHER

    class Spy:
        def verify(self, hashed: str, password: str) -> bool:
            try:
                asyncio.get_running_loop()
                on_loop = True
            except RuntimeError:
                on_loop = False
            seen.append((threading.current_thread().name, on_loop))
            return real.verify(hashed, password)

        def hash(self, password: str) -> str:
            return real.hash(password)

    monkeypatch.setattr(review.users, "_HASHER", Spy())
    client = make_client(env["app"])
    assert login_as(client, "anna", "falsch").status_code == 401
    assert login_as(client, "niemand", "falsch").status_code == 401       # the dummy hash too
    assert login_as(client, "anna").status_code == 303
    assert len(seen) == 3
    assert not any(on_loop for _, on_loop in seen), seen                  # a worker thread, no event loop


# --- list --------------------------------------------------------------------------------------------------

def tx_ids(html: str) -> list[str]:
    seen: list[str] = []
    for tx in re.findall(r'href="/t/[^/]+/item/([^"]+)">', html):
        if tx not in seen:
            seen.append(tx)
    return seen


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"reason": "overpayment"}, ["tx-over"]),
        ({"q": "mustermann", "sort": "amount", "dir": "asc"}, ["tx-over", "tx-split"]),
        ({"q": "DE76 2004 1133", "sort": "amount", "dir": "asc"}, ["tx-noref", "tx-double"]),
        ({"q": "33,33"}, ["tx-noref"]),
        ({"q": "33.33"}, ["tx-noref"]),
        ({"q": "6.000,00"}, ["tx-big"]),
        ({"q": "4711.0000.0001"}, ["tx-double"]),                   # reference in the remittance
        ({"q": "E2E-tx-xss"}, ["tx-xss"]),                          # end-to-end id
        ({"age_min": "10", "age_max": "20"}, ["tx-double"]),
        ({"amount_min": "100,00", "sort": "amount", "dir": "desc"}, ["tx-big", "tx-split"]),
        ({"account": "DE12500105170648489890", "sort": "age", "dir": "asc"}, ["tx-double", "tx-big"]),
        ({"sort": "amount", "dir": "asc"}, ["tx-xss", "tx-over", "tx-noref"]),       # first page of 3
        ({"sort": "amount", "dir": "asc", "page": "2"}, ["tx-double", "tx-split", "tx-big"]),
        ({"q": "nobody at all"}, []),
    ],
)
def test_list_filters_search_sort_page(env: dict[str, Any], params: dict[str, str], expected: list[str]) -> None:
    r = login(env, "anna").get(LIST, params=params)
    assert r.status_code == 200
    assert tx_ids(r.text) == expected


def test_list_shows_paging_and_run(env: dict[str, Any]) -> None:
    r = login(env, "otto").get(LIST)                      # the auditor reads
    assert "Seite 1 von 2" in r.text and "run-0001" in r.text and "6 von 6" in r.text


def test_user_data_is_escaped(env: dict[str, Any]) -> None:
    client = login(env, "anna")
    for url in (LIST + "?q=script", item("tx-xss")):
        html = client.get(url).text
        assert "<script>alert" not in html and "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;" in html
    assert "&lt;b&gt;fett&lt;/b&gt; &amp; &#34;zitiert&#34;" in client.get(item("tx-xss")).text


# --- tenants -------------------------------------------------------------------------------------------------

def test_a_clerk_sees_only_their_tenants(env: dict[str, Any]) -> None:
    anna = login(env, "anna")
    assert anna.get(f"/t/{OTHER}/").status_code == 403
    assert anna.get(f"/t/{OTHER}/item/tx-nachbar").status_code == 403
    r = anna.post(f"/t/{OTHER}/item/tx-nachbar/decide", data={"csrf_token": token(anna.get(LIST).text),
                                                                "action": "retry", "run_id": "run-0001"})
    assert r.status_code == 403
    assert anna.get(f"/t/{TENANT}/item/tx-nachbar").status_code == 404      # not in her tenant's list either
    assert read_decisions(env["state"], OTHER) == []
    sven = login(env, "sven")
    assert sven.get(f"/t/{OTHER}/").status_code == 200 and "tx-nachbar" in sven.get(f"/t/{OTHER}/").text


# --- detail ----------------------------------------------------------------------------------------------------

def test_detail_shows_raw_text_iban_verdict_and_why(env: dict[str, Any]) -> None:
    client = login(env, "anna")
    html = client.get(item("tx-split")).text
    assert '<pre class="remittance">Grundsteuer + Hundesteuer\nKZ 1234.5678.9012 und 1234.5678.9029</pre>' in html
    assert "DE54 1002 0030 1234 5678 90" in html and 'class="verdict ok"' in html
    assert "Referenz gefunden" in html and "IBAN bekannt" in html and "Name 100 %" in html
    assert "1234.5678.9029" in html and "Abgleich: 0.90" in html
    assert "Mehrere Forderungen passen gleich gut" in html     # the reason code explained in German
    bad = client.get(item("tx-xss")).text
    assert 'class="verdict bad"' in bad and "ungültig: Invalid checksum digits" in bad
    searched = client.get(item("tx-noref"), params={"items_q": "Korn"}).text
    assert "9999.1111.2222" in searched                       # a manual pick beyond the matcher's proposals
    assert client.get(item("nope")).status_code == 404


# --- decisions --------------------------------------------------------------------------------------------------

def test_assign_split_then_second_user_approves(env: dict[str, Any]) -> None:
    anna = login(env, "anna")
    r = assign(anna, "tx-split", [("R-GRST-1", "100,00"), ("R-HUND-1", "50.00")])
    assert r.status_code == 303
    (d,) = read_decisions(env["state"], TENANT)
    assert (d.action, d.state, d.user, d.amount_cents) == ("assign", "pending", "anna", 15000)
    assert [(a.receivable_id, a.amount_cents) for a in d.allocations] == [("R-GRST-1", 10000), ("R-HUND-1", 5000)]
    assert d.before["unallocated_cents"] == 15000 and d.before["run_id"] == "run-0001"
    assert d.after["status"] == "assigned"
    assert "wartet auf Freigabe" in anna.get(item("tx-split")).text
    assert "wartet auf Freigabe" in anna.get(LIST, params={"status": "pending"}).text
    # the author cannot approve: she is a clerk, and it is her own decision
    r = post(anna, f"/t/{TENANT}/decision/{d.decision_id}/approve", item("tx-split"))
    assert r.status_code == 403
    sven = login(env, "sven")
    assert "Freigeben" in sven.get(f"/t/{TENANT}/decisions").text
    r = post(sven, f"/t/{TENANT}/decision/{d.decision_id}/approve", f"/t/{TENANT}/decisions")
    assert r.status_code == 303
    (eff,) = effective_decisions(env["state"], TENANT)
    assert (eff.decision_id, eff.approved_by) == (d.decision_id, "sven")
    assert "wird im nächsten Lauf gebucht" in sven.get(item("tx-split")).text
    r = post(login(env, "paula"), f"/t/{TENANT}/decision/{d.decision_id}/approve", item("tx-split"))
    assert r.status_code == 409                                 # already approved


def test_nobody_approves_their_own_decision(env: dict[str, Any]) -> None:
    sven = login(env, "sven")
    assert assign(sven, "tx-big", [("9999.1111.2222", "6.000,00")]).status_code == 303   # by Kassenzeichen
    (d,) = read_decisions(env["state"], TENANT)
    assert d.state == "pending" and d.allocations[0].receivable_id == "R-GEW-9"
    r = post(sven, f"/t/{TENANT}/decision/{d.decision_id}/approve", item("tx-big"))
    assert r.status_code == 403 and "Vier-Augen" in r.text
    assert read_decisions(env["state"], TENANT)[0].state == "pending"
    assert post(login(env, "paula"), f"/t/{TENANT}/decision/{d.decision_id}/approve", item("tx-big")).status_code == 303
    assert read_decisions(env["state"], TENANT)[0].state == "effective"


@pytest.mark.parametrize(
    ("parts", "message"),
    [
        ([("R-GRST-1", "100,00"), ("R-HUND-1", "49,99")], "es fehlen 0,01 €"),
        ([("R-GRST-1", "100,00"), ("R-HUND-1", "50,00"), ("R-ABF-7", "0,01")], "sind zu viel 0,01 €"),
        ([("R-GRST-1", "150,00")], "übersteigt den offenen Betrag"),
        ([("R-GRST-1", "1OO,00"), ("R-HUND-1", "50,00")], "ist kein Betrag"),
        ([("R-UNBEKANNT", "150,00")], "nicht gefunden"),
        ([("R-GRST-1", "75,00"), ("R-GRST-1", "75,00")], "zweimal"),
        ([("R-GRST-1", ""), ("R-HUND-1", "")], "mindestens einem"),
    ],
)
def test_amounts_that_do_not_add_up_are_refused(env: dict[str, Any], parts: list[tuple[str, str]], message: str) -> None:
    r = assign(login(env, "anna"), "tx-split", parts)
    assert r.status_code == 422 and message in r.text
    assert read_decisions(env["state"], TENANT) == []
    assert 'value="' + parts[0][1] + '"' in r.text               # the clerk's input is kept


def test_decide_without_csrf_or_as_auditor_is_refused(env: dict[str, Any]) -> None:
    anna = login(env, "anna")
    r = anna.post(item("tx-noref") + "/decide", data={"action": "retry", "run_id": "run-0001"})
    assert r.status_code == 403 and "CSRF" in r.text
    r = anna.post(item("tx-noref") + "/decide", data={"action": "retry", "run_id": "run-0001", "csrf_token": "x" * 43})
    assert r.status_code == 403
    otto = login(env, "otto")
    assert "Zuordnen</button>" not in otto.get(item("tx-noref")).text
    assert decide(otto, "tx-noref", action="retry").status_code == 403
    assert read_decisions(env["state"], TENANT) == []


def test_refund_checks_the_iban_small_amounts_need_no_approval(env: dict[str, Any]) -> None:
    anna = login(env, "anna")
    r = decide(anna, "tx-noref", action="refund", refund_iban=IBAN_BAD)
    assert r.status_code == 422 and "ungültig" in r.text
    assert decide(anna, "tx-noref", action="refund", refund_iban="DE54 1002 0030 1234 5678 90").status_code == 303
    (d,) = effective_decisions(env["state"], TENANT)           # 33,33 € is below the 100,00 € limit
    assert (d.action, d.refund_iban, d.amount_cents, d.requires_approval) == ("refund", IBAN_ERIKA, 3333, False)


def test_park_needs_a_note_retry_moves_no_money(env: dict[str, Any]) -> None:
    anna = login(env, "anna")
    r = decide(anna, "tx-double", action="park", note=" ")
    assert r.status_code == 422 and "warum" in r.text
    assert decide(anna, "tx-double", action="park", note="Zahler telefonisch nicht erreicht").status_code == 303
    assert decide(anna, "tx-big", action="retry").status_code == 303
    states = {(d.transaction_id, d.action): (d.state, d.amount_cents) for d in read_decisions(env["state"], TENANT)}
    assert states == {("tx-double", "park"): ("effective", 8000), ("tx-big", "retry"): ("effective", 0)}


def test_withdraw_own_pending_but_not_someone_elses(env: dict[str, Any]) -> None:
    anna = login(env, "anna")
    assign(anna, "tx-split", [("R-GRST-1", "100,00"), ("R-HUND-1", "50,00")])
    (d,) = read_decisions(env["state"], TENANT)
    url = f"/t/{TENANT}/decision/{d.decision_id}/withdraw"
    assert post(login(env, "bert"), url, item("tx-split")).status_code == 403
    assert post(anna, url, item("tx-split")).status_code == 303
    assert read_decisions(env["state"], TENANT)[0].state == "withdrawn"
    assert post(anna, url, item("tx-split")).status_code == 409


# --- living with the nightly run ----------------------------------------------------------------------------

def test_new_publication_is_picked_up_and_stale_forms_refused(env: dict[str, Any]) -> None:
    anna = login(env, "anna")
    page = anna.get(item("tx-noref"))
    write_state(env["state"], "run-0002", items=klaerungsliste().filter(~(klaerungsliste()["transaction_id"] == "tx-split")))
    r = anna.post(item("tx-noref") + "/decide", data={"csrf_token": token(page.text), "run_id": "run-0001",
                                                       "action": "retry"})
    assert r.status_code == 409 and "run-0002" in r.text
    assert anna.get(item("tx-split")).status_code == 404         # booked by the run meanwhile
    assert "run-0002" in anna.get(LIST).text and "5 von 5" in anna.get(LIST).text


def test_no_published_state_yet(tmp_path: Path, users_file: Path) -> None:
    app = create_app(load_review_config(config_file(tmp_path, tmp_path / "empty")), load_users(users_file))
    client = make_client(app)
    client.post("/login", data={"login": "anna", "password": PASSWORD, "csrf_token": token(client.get("/login").text)})
    r = client.get(LIST)
    assert r.status_code == 200 and "noch nichts veröffentlicht" in r.text
    assert client.get(item("tx-split")).status_code == 404


def test_decisions_the_run_has_seen_are_no_longer_announced(env: dict[str, Any]) -> None:
    anna = login(env, "anna")
    assert decide(anna, "tx-noref", action="retry", note="neue Sollstellung kommt").status_code == 303
    (d,) = effective_decisions(env["state"], TENANT)
    assert "wird im nächsten Lauf gebucht" in anna.get(item("tx-noref")).text
    write_state(env["state"], "run-0002")                     # the run read it; the payment is still unmatched
    html = anna.get(item("tx-noref")).text
    assert "vom Lauf run-0002 verarbeitet" in html and "wird im nächsten Lauf gebucht" not in html
    assert "wird im nächsten Lauf gebucht" not in anna.get(LIST).text
    r = post(anna, f"/t/{TENANT}/decision/{d.decision_id}/withdraw", item("tx-noref"))
    assert r.status_code == 409 and "schon verarbeitet" in r.text


def test_outcomes_published_by_the_run_are_shown(tmp_path: Path, users_file: Path) -> None:
    import polars as pl

    from ledger.journal import new_decision, record_decision

    state = write_state(tmp_path / "state")
    d = record_decision(state, new_decision(TENANT, "tx-over", "refund", user="anna", role="clerk", amount_cents=2000,
                                            requires_approval=False, refund_iban=IBAN_ERIKA,
                                            before={}, after={}))
    version = (state / "published" / TENANT).resolve()
    pl.DataFrame({"decision_id": [d.decision_id], "status": ["rejected"],
                  "reason": ["decision moves 20.00 but only 10.00 is unallocated"]}).write_parquet(
        version / "clerk_decisions.parquet")
    app = create_app(load_review_config(config_file(tmp_path, state)), load_users(users_file))
    env = {"state": state, "app": app}
    html = login(env, "anna").get(item("tx-over")).text
    assert "vom Lauf abgelehnt: decision moves 20.00 but only 10.00 is unallocated" in html


def test_removed_user_is_out_at_once_and_errors_have_one_shape(tmp_path: Path) -> None:
    users_path = write_users(tmp_path / "users.toml")
    state = write_state(tmp_path / "state")
    app = create_app(load_review_config(config_file(tmp_path, state)), load_users(users_path), users_path)
    env = {"state": state, "app": app}
    bert = login(env, "bert")
    assert bert.get(LIST).status_code == 200
    text = users_path.read_text()
    start = text.index("[users.bert]")
    users_path.write_text(text[:start] + text[text.index("[users.sven]"):])
    assert bert.get(LIST, follow_redirects=False).status_code == 303          # logged out
    users_path.write_text("not toml [")                                       # a broken file keeps the others
    anna = login(env, "anna")
    r = anna.get(item("tx-split") + "/decide")
    assert r.status_code == 405 and "405" in r.text and r.headers["content-security-policy"]
    r = anna.get("/nirgendwo")
    assert r.status_code == 404 and "Nicht gefunden" in r.text
    assert anna.head("/login").status_code == 200
