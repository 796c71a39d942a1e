"""The "Vollstreckung" page (review/views_enforcement.py): the cases of the tenant from the published snapshot
(filters, links to the case file), the limitation warnings soonest first, who may see it, tenant isolation.
The snapshot is the one the nightly publish step writes from the literal ledger of test_enforcement_report;
the other tenant has one case of its own. With ``KASSE_SCREENSHOTS`` naming a folder the browser test saves
its screenshot there."""

from __future__ import annotations

import os
import re
from datetime import date
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from review_data import OTHER, PASSWORD, TENANT, config_file, write_state
from test_enforcement_report import AS_OF, build_ledger, tenant
from test_review_browser import CHROMIUM, browser_page, serve
from test_review_casefile import login, write_users

from jobs.enforcement_report import publish_state
from ledger.publish_enforcement import publish_enforcement
from review import create_app, load_review_config, load_users

PAGE = f"/t/{TENANT}/vollstreckung"


@pytest.fixture
def env(tmp_path: Path) -> dict[str, Any]:
    cfg = tenant(tmp_path, TENANT)
    build_ledger(cfg)
    publish_state(cfg, on=AS_OF)
    state = write_state(cfg.state_dir)
    publish_enforcement(state, OTHER, {"cases": pl.DataFrame({
        "case_number": ["NACHBAR-2026-000001-X"], "debtor_id": ["N-1"], "debtor_name": ["Nachbar Geheim"],
        "office_id": ["VS"], "opened_on": [date(2026, 5, 1)], "n_claims": [1], "n_open_claims": [1],
        "handed_cents": [1000], "open_cents": [1000], "state": ["open"]})}, on=AS_OF)
    app = create_app(load_review_config(config_file(tmp_path, state, page_size=3)),
                     load_users(write_users(tmp_path / "u.toml")))
    return {"app": app, "state": state}


def _cases(html: str) -> list[str]:
    return re.findall(r'akte\?subject=case&amp;id=([^"]+)">\1</a></td>\s*<td>', html)


def test_the_enforcement_office_sees_its_open_cases_and_the_warnings(env: dict[str, Any]) -> None:
    client = login(env, "vera")
    page = client.get(PAGE)
    assert page.status_code == 200
    html = page.text
    assert _cases(html) == ["C4", "C1", "C0"]                              # open ones, newest first
    assert f'href="/t/{TENANT}/akte?subject=case&amp;id=C1"' in html
    assert "Name D-A" in html and "525,00 €" in html                       # C1: A 500 € + AZ 25 € open now
    assert "Teilzahlung gemeldet" in html and "Teilweise bezahlt" in html   # C4's last update and outcome
    warnings = html[html.index("Verjährung droht"):]
    assert warnings.index("KZ-W2") < warnings.index("KZ-W1")               # soonest end first
    assert "31.12.2026" in warnings and "Schriftliche Zahlungsaufforderung (Mahnung)" in warnings
    assert "Nachbar Geheim" not in html and "NACHBAR" not in html
    assert '<a href="/t/musterstadt/vollstreckung">Vollstreckung</a>' in html   # in the menu


def test_filters_and_pages(env: dict[str, Any]) -> None:
    client = login(env, "otto")                                             # the auditor reads it too
    closed = client.get(PAGE, params={"state": "closed"}).text
    assert _cases(closed) == ["C3", "C2"]
    assert "Fruchtlos / uneinbringlich" in closed and "Bezahlt" in closed
    every = client.get(PAGE, params={"state": ""}).text
    assert _cases(every) == ["C4", "C3", "C2"] and "Seite 1 von 2" in every   # page_size 3
    assert _cases(client.get(PAGE, params={"state": "", "page": "2"}).text) == ["C1", "C0"]
    assert _cases(client.get(PAGE, params={"office": "VS"}).text) == ["C4", "C1", "C0"]
    nothing = client.get(PAGE, params={"office": "ANDERE"}).text
    assert _cases(nothing) == [] and "keine Fälle" in nothing
    assert _cases(client.get(PAGE, params={"state": "bogus"}).text) == ["C4", "C1", "C0"]


def test_other_tenants_and_other_roles_are_refused(env: dict[str, Any]) -> None:
    nora = login(env, "nora")                                               # the neighbour's enforcement office
    assert nora.get(PAGE).status_code == 403
    own = nora.get(f"/t/{OTHER}/vollstreckung").text
    assert "NACHBAR-2026-000001-X" in own and "Name D-A" not in own and "KZ-W2" not in own
    assert login(env, "anna").get(PAGE).status_code == 403                  # the treasury's clerk
    assert login(env, "vera").get("/t/unbekannt/vollstreckung").status_code == 403


def test_before_the_first_publish_the_page_says_so(tmp_path: Path) -> None:
    state = write_state(tmp_path / "state")
    app = create_app(load_review_config(config_file(tmp_path, state)), load_users(write_users(tmp_path / "u.toml")))
    page = login({"app": app}, "vera").get(PAGE)
    assert page.status_code == 200 and "Noch nichts veröffentlicht" in page.text and "keine Fälle" in page.text


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
        page.click("nav >> text=Vollstreckung")
        page.wait_for_url(f"{base}{PAGE}")
        assert page.locator("table.items").first.locator("tbody tr").count() == 3
        page.screenshot(path=str(out / "review_vollstreckung.png"), full_page=True)
        page.click("text=C1")
        page.wait_for_url(re.compile(r".*/akte\?subject=case&id=C1$"))
        assert "Vollstreckungsfall C1" in page.inner_text("h1")
    assert errors == []
