"""The "Amtshilfe" page (review/views_amtshilfe.py): flagged requests with the surcharge asked vs expected, the
decisions posted into the journal, four-eyes for "fruchtlos", the cases with filters and the CSV, who may see
and decide. The snapshot is published literally (ledger.publish_amtshilfe); the nightly's side is in
test_amtshilfe_decisions. With ``KASSE_SCREENSHOTS`` naming a folder the browser test saves its screenshot there."""

from __future__ import annotations

import json
import os
from datetime import date
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from argon2 import PasswordHasher
from review_data import OTHER, PASSWORD, TENANT, config_file, write_state
from test_review_app import token
from test_review_browser import CHROMIUM, browser_page, serve
from test_review_casefile import login

from ledger.amtshilfe_journal import read_decisions
from ledger.publish_amtshilfe import publish_amtshilfe
from review import create_app, load_review_config, load_users

PAGE = f"/t/{TENANT}/amtshilfe"
ON = date(2026, 12, 2)
USERS = {"vera": ("vollstreckung", [TENANT]), "volker": ("vollstreckung", [TENANT]), "otto": ("auditor", [TENANT]),
         "anna": ("clerk", [TENANT]), "sven": ("supervisor", [TENANT]), "nora": ("vollstreckung", [OTHER])}


def write_users(path: Path) -> Path:
    hasher = PasswordHasher(time_cost=1, memory_cost=8192, parallelism=1)
    lines = []
    for who, (role, tenants) in USERS.items():
        lines += [f"[users.{who}]", f'role = "{role}"', f"tenants = {json.dumps(tenants)}",
                  f'password_hash = "{hasher.hash(PASSWORD)}"', ""]
    path.write_text("\n".join(lines), encoding="utf-8")
    return path


def req(fn: str, state: str, creditor: str = "WDR", **more: Any) -> dict[str, Any]:
    names = {"WDR": "Westdeutscher Rundfunk Köln", "IHK-BI": "IHK Ostwestfalen zu Bielefeld"}
    return {"creditor_id": creditor, "creditor_name": names[creditor], "creditor_file_number": fn, "state": state,
            "seq": more.pop("seq", 1), "request_date": date(2023, 11, 2), "received_on": ON,
            "debtor_name": f"Schuldner {fn}", "debtor_street": "Markt 1", "debtor_postcode": "33602",
            "debtor_city": "Bielefeld", "rundfunk": creditor == "WDR", "total_cents": 13316, **more}


def snapshot() -> dict[str, pl.DataFrame]:
    requests = pl.DataFrame([
        req("A-1", "flagged", seq=3, check="surcharge_doubt"),
        req("A-2", "accepted", seq=2, case_number="AH00000000A2", claims_cents=13316, paid_cents=5000,
            open_cents=8316, forwarded_cents=5000),
        req("B-7", "accepted", creditor="IHK-BI", seq=4, case_number="AH00000000B7", claims_cents=20000,
            paid_cents=0, open_cents=20000, forwarded_cents=0),
        req("B-8", "returned", creditor="IHK-BI", seq=5, check="not_competent"),
    ])
    notices = pl.DataFrame([
        {"creditor_id": "WDR", "creditor_file_number": "A-1", "seq": 3, "position": p, "notice_date": date(2023, 9, 1),
         "notice_authority": "WDR", "notice_file_number": f"F-{p}", "period_from": date(2023, 1, 1),
         "period_to": date(2023, 3, 31), "principal_cents": 5508, "surcharge_cents": s,
         "expected_surcharge_cents": 800, "costs_cents": 0} for p, s in ((1, 1500), (2, 800))])
    return {"requests": requests, "notices": notices}


@pytest.fixture
def env(tmp_path: Path) -> dict[str, Any]:
    state = write_state(tmp_path / "state")
    publish_amtshilfe(state, TENANT, snapshot(), on=ON)
    publish_amtshilfe(state, OTHER, {"requests": pl.DataFrame([req("N-1", "flagged", check="duplicate",
                                                                     debtor_name="Nachbar Geheim")])}, on=ON)
    app = create_app(load_review_config(config_file(tmp_path, state, page_size=10)),
                     load_users(write_users(tmp_path / "u.toml")))
    return {"app": app, "state": state}


def post(client: Any, path: str, **data: Any) -> Any:
    return client.post(path, data={"csrf_token": token(client.get(PAGE).text), **data}, follow_redirects=False)


def decide(client: Any, fn: str, seq: int, action: str, creditor: str = "WDR", **more: Any) -> Any:
    return post(client, f"{PAGE}/decide", creditor_id=creditor, file_number=fn, seq=str(seq), action=action,
                **({"note": "geprüft"} | more))


def test_the_flagged_request_shows_the_surcharge_asked_and_expected(env: dict[str, Any]) -> None:
    page = login(env, "vera").get(PAGE)
    assert page.status_code == 200
    html = page.text
    flagged = html[html.index('id="vorgelegt"'):html.index('id="entscheidungen"')]
    assert "Säumniszuschlag entspricht nicht 1 %" in flagged and "A-1" in flagged and "A-2" not in flagged
    assert "15,00 €" in flagged and "8,00 €" in flagged and flagged.count("weicht ab") == 1
    assert 'value="accept"' in flagged and 'value="return"' in flagged
    cases = html[html.index('id="faelle"'):]
    assert "AH00000000A2" in cases and "50,00 €" in cases and "83,16 €" in cases
    assert "Noch nichts weitergeleitet." in html
    assert "Nachbar Geheim" not in html
    assert f'<a href="{PAGE}">Amtshilfe</a>' in html


def test_a_decision_is_written_to_the_journal_once(env: dict[str, Any]) -> None:
    vera = login(env, "vera")
    assert decide(vera, "A-1", 2, "accept").status_code == 409              # the page showed an older row
    r = decide(vera, "A-1", 3, "accept", note="Zuschlag laut Satzung 2013 richtig")
    assert r.status_code == 303
    [d] = read_decisions(env["state"], TENANT)
    assert (d.action, d.decided_by, d.seq, d.seen_state, d.note) == ("accept", "vera", 3, "flagged",
                                                                      "Zuschlag laut Satzung 2013 richtig")
    html = vera.get(PAGE).text
    assert "wird im nächsten Nachtlauf gebucht" in html and "Entschieden von vera" in html
    again = decide(login(env, "volker"), "A-1", 3, "return", reason="surcharge_doubt")
    assert again.status_code == 422 and "withdraw it first" in again.text
    assert decide(vera, "A-1", 3, "return", reason="").status_code == 422      # a return needs its reason
    assert decide(vera, "A-9", 1, "accept").status_code == 404
    # withdrawn before the night: the request can be decided again
    assert post(vera, f"{PAGE}/decision/{d.decision_id}/withdraw", note="").status_code == 422
    assert post(vera, f"{PAGE}/decision/{d.decision_id}/withdraw", note="doch zurückgeben").status_code == 303
    assert decide(vera, "A-1", 3, "return", reason="surcharge_doubt", note="bitte prüfen").status_code == 303
    assert [x.state for x in read_decisions(env["state"], TENANT)] == ["withdrawn", "effective"]


def test_fruchtlos_needs_a_second_person_of_the_office(env: dict[str, Any]) -> None:
    vera = login(env, "vera")
    assert decide(vera, "A-2", 2, "uncollectible").status_code == 422            # the certificate's date
    r = decide(vera, "A-2", 2, "uncollectible", certificate_date="2026-11-30", note="nichts pfändbar")
    assert r.status_code == 303
    [d] = read_decisions(env["state"], TENANT)
    assert d.state == "awaiting_approval"
    assert post(vera, f"{PAGE}/decision/{d.decision_id}/approve").status_code == 403    # four-eyes
    assert 'value="accept"' not in vera.get(PAGE).text.split('id="entscheidungen"')[1]
    volker = login(env, "volker")
    assert "Freigeben" in volker.get(PAGE).text
    assert post(volker, f"{PAGE}/decision/{d.decision_id}/approve").status_code == 303
    [d] = read_decisions(env["state"], TENANT)
    assert (d.state, d.approved_by) == ("effective", "volker")


def test_filters_and_the_csv(env: dict[str, Any]) -> None:
    otto = login(env, "otto")                                                   # the auditor reads
    ihk = otto.get(PAGE, params={"creditor": "IHK-BI"}).text
    cases = ihk[ihk.index('id="faelle"'):]
    assert "B-7" in cases and "B-8" in cases and "A-2" not in cases
    returned = otto.get(PAGE, params={"state": "returned"}).text
    assert "B-8" in returned[returned.index('id="faelle"'):] and "B-7" not in returned[returned.index('id="faelle"'):]
    csv = otto.get(f"{PAGE}/export.csv", params={"creditor": "IHK-BI"})
    assert csv.status_code == 200 and csv.headers["content-type"].startswith("text/csv")
    lines = csv.content.decode("utf-8-sig").splitlines()
    assert lines[0].startswith("Gläubiger;Gläubiger-Kennung;Aktenzeichen Gläubiger;Unser Fall;Schuldner;Stand")
    assert len(lines) == 3 and any("zurückgegeben" in x for x in lines) and any("200,00" in x for x in lines)
    assert 'value="accept"' not in otto.get(PAGE).text                            # no forms for the auditor


def test_who_may_see_and_decide(env: dict[str, Any]) -> None:
    for who in ("anna", "sven"):                                                  # treasury roles: not theirs
        client = login(env, who)
        assert client.get(PAGE).status_code == 403
        assert client.get(f"{PAGE}/export.csv").status_code == 403
    otto = login(env, "otto")
    assert decide(otto, "A-1", 3, "accept").status_code == 403
    nora = login(env, "nora")                                                     # the neighbour's office
    assert nora.get(PAGE).status_code == 403
    assert "Nachbar Geheim" in nora.get(f"/t/{OTHER}/amtshilfe").text
    vera = login(env, "vera")
    page = vera.get(PAGE).text
    r = vera.post(f"{PAGE}/decide", data={"csrf_token": "falsch", "creditor_id": "WDR", "file_number": "A-1",
                                          "seq": "3", "action": "accept", "note": "x"}, follow_redirects=False)
    assert r.status_code == 403 and token(page)
    assert read_decisions(env["state"], TENANT) == []


@pytest.mark.browser
@pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian's chromium is not installed (/usr/bin/chromium)")
def test_the_page_in_the_browser(env: dict[str, Any], tmp_path: Path) -> None:
    out = Path(os.environ.get("KASSE_SCREENSHOTS") or tmp_path)
    with serve(env["app"]) as base, browser_page() as (page, errors):
        page.goto(f"{base}/login")
        page.fill("input[name=login]", "vera")
        page.fill("input[name=password]", PASSWORD)
        page.click("button:has-text('Anmelden')")
        page.wait_for_url(f"{base}/t/{TENANT}/akte")
        page.click("nav >> text=Amtshilfe")
        page.wait_for_url(f"{base}{PAGE}")
        page.screenshot(path=str(out / "review_amtshilfe.png"), full_page=True)
        flagged = page.locator("#vorgelegt")
        flagged.locator("form:has(input[value=accept]) input[name=note]").fill("Zuschlag geprüft: richtig")
        flagged.locator("button:has-text('Annehmen')").click()
        page.wait_for_url(f"{base}{PAGE}")
        assert "Entscheidung für A-1 erfasst" in page.inner_text("main")
        assert "wird im nächsten Nachtlauf gebucht" in page.inner_text("#entscheidungen")
    assert errors == []
    [d] = read_decisions(env["state"], TENANT)
    assert (d.action, d.decided_by) == ("accept", "vera")
