"""The review page for a full day's work in a real headless Chromium (Debian's, driven by Playwright):
keyboard flow with "save and next", bulk retry and a supervisor's bulk approval, the soft lock seen by a
second clerk in another browser context. When ``KASSE_SCREENSHOTS`` names a folder, the list and detail
pages are saved there as PNG (docs/REVIEW.md)."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from typing import Any

import duckdb
import pytest
from nightly_files import Entry, kz, write_mt940, write_open_items
from review_data import PASSWORD, TENANT, config_file, write_state, write_users
from test_review_browser import ARGS, CHROMIUM, serve

from claims.config import load_tenant_config
from jobs.nightly import run_night
from ledger.journal import effective_decisions, read_decisions
from review import create_app, load_review_config, load_users

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian's chromium is not installed (/usr/bin/chromium)"),
]


@contextmanager
def browser() -> Iterator[Any]:
    """One Chromium; each test opens a context per person (separate cookies, like two PCs)."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=ARGS)
        try:
            yield chromium
        finally:
            chromium.close()


def settle_focus(page: Any) -> None:
    """Leave the search field the page focuses on load (autofocus may land after the load event): wait for
    it to take the focus, press Escape, and wait until no field has it — only then do the keys act."""
    focused = page.locator("input:focus")
    deadline = time.monotonic() + 5
    while focused.count() == 0 and time.monotonic() < deadline:
        page.wait_for_timeout(50)
    page.keyboard.press("Escape")
    deadline = time.monotonic() + 10
    while focused.count() and time.monotonic() < deadline:
        page.wait_for_timeout(50)


def person(chromium: Any, base: str, who: str) -> tuple[Any, list[str]]:
    """A fresh context logged in as ``who``: its page and the console errors it logs (a CSP violation)."""
    page = chromium.new_context(viewport={"width": 1400, "height": 900}, locale="de-DE").new_page()
    page.set_default_timeout(90_000)      # a loaded CI machine: a bulk POST or a night may take a while
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.goto(f"{base}/login")
    page.fill("input[name=login]", who)
    page.fill("input[name=password]", PASSWORD)
    page.click("button:has-text('Anmelden')")
    page.wait_for_url(lambda url: "/login" not in url)
    if page.url == f"{base}/":
        page.click(f"a:has-text('{TENANT}')")
    page.wait_for_url(f"{base}/t/{TENANT}/")
    return page, errors


@pytest.fixture
def app_env(tmp_path: Path) -> dict[str, Any]:
    state = write_state(tmp_path / "state")
    config = load_review_config(config_file(tmp_path, state, page_size=50))
    return {"state": state, "app": create_app(config, load_users(write_users(tmp_path / "u.toml"))),
            "shots": Path(os.environ.get("KASSE_SCREENSHOTS") or tmp_path)}


def test_keyboard_save_and_next(app_env: dict[str, Any]) -> None:
    with serve(app_env["app"]) as base, browser() as chromium:
        anna, errors = person(chromium, base, "anna")
        anna.goto(f"{base}/t/{TENANT}/?sort=amount&dir=asc&status=open")
        assert anna.evaluate("document.activeElement.name") == "q"           # the search field has the focus
        settle_focus(anna)
        anna.keyboard.press("j")                                              # the first row: 12,34 €
        anna.keyboard.press("Enter")
        anna.wait_for_url(f"{base}/t/{TENANT}/item/tx-xss")
        anna.keyboard.press("r")                                              # to the retry form's note
        anna.keyboard.type("Zahler anschreiben")
        anna.keyboard.press("Alt+Enter")                                     # "Neu abgleichen und weiter"
        anna.wait_for_url(f"{base}/t/{TENANT}/item/tx-over")                 # the next by amount: 20,00 €
        assert "Neuer Abgleich über 0,00 € gespeichert" in anna.inner_text(".flash")
        anna.keyboard.press("z")                                              # the first amount field
        assert anna.evaluate("document.activeElement.classList.contains('amount')")
        anna.keyboard.press("Escape")
        anna.keyboard.press("n")                                              # next without deciding
        anna.wait_for_url(f"{base}/t/{TENANT}/item/tx-noref")
        anna.keyboard.press("b")                                              # back to the same filtered list
        anna.wait_for_url(lambda url: "status=open" in url and "sort=amount" in url)
        assert "tx-xss" not in anna.inner_text("table.items")                 # decided: left the "open" filter
        assert errors == []
    (d,) = read_decisions(app_env["state"], TENANT)
    assert (d.transaction_id, d.action, d.note) == ("tx-xss", "retry", "Zahler anschreiben")


def test_bulk_retry_then_a_supervisor_approves_in_bulk(app_env: dict[str, Any]) -> None:
    with serve(app_env["app"]) as base, browser() as chromium:
        anna, errors = person(chromium, base, "anna")
        anna.goto(f"{base}/t/{TENANT}/?sort=amount&dir=desc")
        settle_focus(anna)
        for key in ("j", "x", "j", "x", "j", "j", "x"):                       # tick rows 1, 2 and 4
            anna.keyboard.press(key)
        assert anna.locator("input[name=tid]:checked").count() == 3
        anna.click("button[name=bulk][value=retry]")
        assert "3 von 3 Zahlungen gespeichert" in anna.inner_text(".meta")
        assert anna.locator(".bulk-result tr.ok").count() == 3
        anna.screenshot(path=str(app_env["shots"] / "review_day_bulk.png"), full_page=True)

        sven, sven_errors = person(chromium, base, "sven")
        sven.goto(f"{base}/t/{TENANT}/?status=pending")
        assert sven.locator("table.items tbody tr[data-row]").count() == 3
        for box in sven.locator("input[name=tid]").all():
            box.check()
        sven.click("button[name=bulk][value=approve]")
        assert "3 von 3 Zahlungen freigegeben" in sven.inner_text(".meta")
        assert errors == [] and sven_errors == []
    approved = effective_decisions(app_env["state"], TENANT)
    assert sorted(d.transaction_id for d in approved) == ["tx-big", "tx-noref", "tx-split"]
    assert {(d.action, d.user, d.approved_by) for d in approved} == {("retry", "anna", "sven")}


def test_the_soft_lock_seen_by_a_second_clerk(app_env: dict[str, Any]) -> None:
    shots = app_env["shots"]
    with serve(app_env["app"]) as base, browser() as chromium:
        bert, bert_errors = person(chromium, base, "bert")
        anna, errors = person(chromium, base, "anna")
        bert.goto(f"{base}/t/{TENANT}/item/tx-split")                         # Bert works on it
        anna.goto(f"{base}/t/{TENANT}/?sort=amount&dir=desc")
        row = anna.locator("tr[data-row]", has_text="150,00")
        assert row.locator(".badge.lock").inner_text() == "geöffnet von Bert"
        assert anna.locator(".badge.lock").count() == 1
        anna.screenshot(path=str(shots / "review_day_list.png"), full_page=True)
        anna.goto(f"{base}/t/{TENANT}/item/tx-split")
        assert "Geöffnet von Bert (bert) seit" in anna.inner_text(".flash.lock")
        assert "Erika Mustermann" in anna.inner_text("#zahler")              # the payer's own items up front
        anna.screenshot(path=str(shots / "review_day_detail.png"), full_page=True)
        bert.fill("form:has(input[value=retry]) input[name=note]", "erledigt")
        bert.click("button:has-text('Neu abgleichen und weiter')")
        anna.goto(f"{base}/t/{TENANT}/?sort=amount&dir=desc")
        assert anna.locator("tr[data-row]", has_text="150,00").locator(".badge.lock").count() == 0
        assert errors == [] and bert_errors == []


def test_a_clerk_clears_a_nights_list_with_keyboard_and_bulk_actions(tmp_path: Path) -> None:
    """The whole day: a real night publishes three payments; the clerk assigns two as suggested in bulk and
    splits the third with "Zuordnen und weiter"; a supervisor approves all three in bulk; the next night
    books them and the Klärungsliste is empty."""
    (tmp_path / "kasse.toml").write_text(
        f'[tenant]\nid = "{TENANT}"\n\n[paths]\nledger = "kasse.duckdb"\ntenant_dir = "{TENANT}"\n'
        'state_dir = "state"\n', encoding="utf-8")
    inbox = tmp_path / TENANT / "inbox"
    k1, k2, k3, k4 = kz(1), kz(2), kz(3), kz(4)
    write_open_items(inbox / "open_items.csv", [("R1", k1, 10000), ("R2", k2, 5000), ("R3", k3, 7777),
                                                ("R4", k4, 4900)])
    write_mt940(inbox / "day1.sta", day=date(2026, 3, 2), seq=1, opening=0, entries=[
        Entry(7777, "Zahlung", name="Schuldner R3", iban="DE02120300000000202051"),
        Entry(14900, "Sammelzahlung Steuern"),
        Entry(5000, "Abgabe", name="Schuldner R2"),
    ])
    cfg = load_tenant_config(tmp_path / "kasse.toml")
    run_night(cfg, date(2026, 3, 2))
    app = create_app(load_review_config(tmp_path / "kasse.toml"), load_users(write_users(tmp_path / "u.toml")))
    with serve(app) as base, browser() as chromium:
        anna, errors = person(chromium, base, "anna")
        anna.goto(f"{base}/t/{TENANT}/?status=open&sort=amount&dir=desc")
        settle_focus(anna)
        for key in ("j", "x", "j", "x", "j", "x"):
            anna.keyboard.press(key)
        checked = anna.locator("input[name=tid]:checked")      # polled from here: the page's CSP forbids eval
        deadline = time.monotonic() + 60
        while checked.count() < 3 and time.monotonic() < deadline:
            anna.wait_for_timeout(100)
        assert checked.count() == 3
        anna.click("button[name=bulk][value=assign_suggested]")
        assert "2 von 3 Zahlungen gespeichert" in anna.inner_text(".meta")
        assert "übersprungen: kein Vorschlag" in anna.inner_text(".bulk-result")
        anna.keyboard.press("b")
        anna.wait_for_url(lambda url: "status=open" in url)
        anna.wait_for_load_state()
        settle_focus(anna)                                                       # out of the search field
        anna.keyboard.press("j")
        anna.keyboard.press("Enter")                                             # the one left: 149,00 €
        anna.wait_for_url(lambda url: "/item/" in url)
        anna.fill("input[name=items_q]", "Schuldner")
        anna.click("button:has-text('Suchen')")
        anna.fill(f"input[aria-label='Betrag für {k1}']", "100,00")
        anna.fill(f"input[aria-label='Betrag für {k4}']", "49,00")
        anna.focus(f"input[aria-label='Betrag für {k4}']")
        anna.keyboard.press("Alt+Enter")                                         # "Zuordnen und weiter"
        anna.wait_for_url(lambda url: url.split("?")[0] == f"{base}/t/{TENANT}/")  # nothing left: the list
        assert "Keine weitere unentschiedene Zahlung" in anna.inner_text("main")

        sven, sven_errors = person(chromium, base, "sven")
        sven.goto(f"{base}/t/{TENANT}/?status=pending")
        for box in sven.locator("input[name=tid]").all():
            box.check()
        sven.click("button[name=bulk][value=approve]")
        assert "3 von 3 Zahlungen freigegeben" in sven.inner_text(".meta")
        run_night(cfg, date(2026, 3, 3))                                         # the next night books them
        sven.goto(f"{base}/t/{TENANT}/")
        assert "0 von 0 Zahlungen" in sven.inner_text("main")
        assert errors == [] and sven_errors == []
    con = duckdb.connect(str(cfg.ledger), read_only=True)
    try:
        rows = con.execute("SELECT receivable_id, amount_cents, rule, decided_by FROM allocations "
                           "WHERE rule = 'clerk' ORDER BY receivable_id").fetchall()
    finally:
        con.close()
    assert rows == [("R1", 10000, "clerk", "anna"), ("R2", 5000, "clerk", "anna"), ("R3", 7777, "clerk", "anna"),
                    ("R4", 4900, "clerk", "anna")]
