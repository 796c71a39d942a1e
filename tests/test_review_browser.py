"""The review page in a real headless Chromium (Debian's package, driven by Playwright).

Login as clerk → open the payment → split it over two open items → logout → login as supervisor →
approve → the next nightly run books it (allocations with rule ``clerk``, decided_by the clerk) and the
payment leaves the published Klärungsliste. A second test looks at the pages with richer data and,
when ``KASSE_SCREENSHOTS`` names a folder, saves the screenshots used in docs/REVIEW.md.
"""

from __future__ import annotations

import os
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from typing import Any

import duckdb
import polars as pl
import pytest
import uvicorn
from nightly_files import Entry, kz, write_mt940, write_open_items
from review_data import (
    AS_OF,
    PASSWORD,
    TENANT,
    config_file,
    klaerungsliste,
    open_items,
    write_state,
    write_users,
)

from claims.config import load_tenant_config
from jobs.nightly import run_night
from ledger.journal import Allocation, effective_decisions, new_decision, record_decision
from ledger.publish import publish, read_published
from ledger.rule_journal import approve_rule, propose_rule, read_rules
from matching.learned import PROPOSAL_SCHEMA
from review import create_app, load_review_config, load_users

CHROMIUM = Path("/usr/bin/chromium")
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--no-first-run"]

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian's chromium is not installed (/usr/bin/chromium)"),
]


@contextmanager
def serve(app: Any) -> Iterator[str]:
    """The app on a free loopback port in a background thread (a real uvicorn server)."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", ws="none", lifespan="off"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the review server did not start")
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(10)
        sock.close()


@contextmanager
def browser_page() -> Iterator[tuple[Any, list[str]]]:
    """A fresh Chromium page, and the console errors it logs (a CSP violation would show there)."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=ARGS)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 900}, locale="de-DE")
            errors: list[str] = []
            page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
            yield page, errors
        finally:
            browser.close()


def log_in(page: Any, base: str, who: str) -> None:
    page.goto(f"{base}/login")
    page.fill("input[name=login]", who)
    page.fill("input[name=password]", PASSWORD)
    page.click("button:has-text('Anmelden')")
    page.wait_for_url(lambda url: "/login" not in url)
    if page.url == f"{base}/":                           # several tenants: pick one
        page.click(f"a:has-text('{TENANT}')")
    page.wait_for_url(f"{base}/t/{TENANT}/")


def test_clerk_splits_supervisor_approves_next_night_books(tmp_path: Path) -> None:
    (tmp_path / "kasse.toml").write_text(
        f'[tenant]\nid = "{TENANT}"\n\n[paths]\nledger = "kasse.duckdb"\ntenant_dir = "{TENANT}"\n'
        'state_dir = "state"\n\n[review]\nfour_eyes_above = "100,00"\n', encoding="utf-8")
    inbox = tmp_path / TENANT / "inbox"
    kz1, kz2 = kz(1), kz(2)
    write_open_items(inbox / "open_items.csv", [("R1", kz1, 10000), ("R2", kz2, 5000)])
    write_mt940(inbox / "day1.sta", day=date(2026, 3, 2), seq=1, opening=0,
                entries=[Entry(15000, "Sammelzahlung Steuern")])
    cfg = load_tenant_config(tmp_path / "kasse.toml")
    run_night(cfg, date(2026, 3, 2))
    (tx,) = read_published(cfg.state_dir / "published", TENANT)[0]["transaction_id"].to_list()

    app = create_app(load_review_config(tmp_path / "kasse.toml"), load_users(write_users(tmp_path / "users.toml")))
    with serve(app) as base, browser_page() as (page, errors):
        log_in(page, base, "anna")
        page.click("text=Erika Mustermann")
        page.fill("input[name=items_q]", "Schuldner")
        page.click("button:has-text('Suchen')")
        page.fill(f"input[aria-label='Betrag für {kz1}']", "100,00")
        page.fill(f"input[aria-label='Betrag für {kz2}']", "50,00")
        page.click("button:has-text('Zuordnen')")
        assert "wartet auf Freigabe" in page.inner_text(".flash")
        page.click("button:has-text('Abmelden')")
        page.wait_for_url(f"{base}/login")

        log_in(page, base, "sven")
        page.click("text=Entscheidungen")
        assert "anna" in page.inner_text(".decision.pending")
        page.click("button:has-text('Freigeben')")
        assert "Freigegeben" in page.inner_text(".flash")
        (decision,) = effective_decisions(cfg.state_dir, TENANT)
        assert (decision.transaction_id, decision.user, decision.approved_by) == (tx, "anna", "sven")

        run_night(cfg, date(2026, 3, 3))                  # the next nightly run books the decision
        page.goto(f"{base}/t/{TENANT}/")
        assert "0 von 0 Zahlungen" in page.inner_text("main")
        assert errors == []

    con = duckdb.connect(str(cfg.ledger), read_only=True)
    try:
        rows = con.execute("SELECT receivable_id, amount_cents, rule, decided_by FROM allocations "
                           "WHERE transaction_id = ? ORDER BY receivable_id", [tx]).fetchall()
        booked = con.execute("SELECT status, approved_by FROM clerk_decisions WHERE decision_id = ?",
                             [decision.decision_id]).fetchall()
    finally:
        con.close()
    assert rows == [("R1", 10000, "clerk", "anna"), ("R2", 5000, "clerk", "anna")]
    assert booked == [("booked", "sven")]


def test_pages_in_the_browser_and_screenshots(tmp_path: Path) -> None:
    state = write_state(tmp_path / "state")
    record_decision(state, new_decision(TENANT, "tx-big", "assign", user="bert", role="clerk", amount_cents=600000,
                                        requires_approval=True, allocations=[Allocation("R-GEW-9", "9999.1111.2222", 600000)]))
    record_decision(state, new_decision(TENANT, "tx-double", "park", user="bert", role="clerk", amount_cents=8000,
                                        requires_approval=False, note="Zahler nicht erreichbar"))
    config = load_review_config(config_file(tmp_path, state, page_size=50))
    app = create_app(config, load_users(write_users(tmp_path / "u.toml")))
    out = Path(os.environ.get("KASSE_SCREENSHOTS") or tmp_path)
    with serve(app) as base, browser_page() as (page, errors):
        log_in(page, base, "anna")
        page.goto(f"{base}/t/{TENANT}/?sort=amount&dir=desc")
        assert page.locator("table.items tbody tr").count() == 6
        assert page.locator("span.badge.pending").count() == 1 and page.locator("span.badge.effective").count() == 1
        page.screenshot(path=str(out / "review_list.png"), full_page=True)
        page.goto(f"{base}/t/{TENANT}/item/tx-split")
        assert page.locator("pre.remittance").inner_text().splitlines() == [
            "Grundsteuer + Hundesteuer", "KZ 1234.5678.9012 und 1234.5678.9029"]
        page.fill("input[aria-label='Betrag für 1234.5678.9012']", "100,00")
        page.fill("input[aria-label='Betrag für 1234.5678.9029']", "49,99")
        page.click("button:has-text('Zuordnen')")
        assert "es fehlen 0,01 €" in page.inner_text(".flash.error")
        page.fill("input[aria-label='Betrag für 1234.5678.9029']", "")
        page.screenshot(path=str(out / "review_detail.png"), full_page=True)
        page.goto(f"{base}/t/{TENANT}/item/tx-xss")
        assert page.locator("script:not([src='/static/keys.js'])").count() == 0      # only the keyboard file
        assert "<script>alert('x')</script>" in page.inner_text("h1")      # shown as text, not run
        assert [e for e in errors if "422" not in e] == []     # only the refused split above


def test_rules_page_in_the_browser(tmp_path: Path) -> None:
    """Regeln: a clerk adopts the run's proposal, a supervisor (not of its evidence) approves it."""
    state = write_state(tmp_path / "state")
    older = propose_rule(state, TENANT, key="DE02120300000000202051", target="D-2", evidence_count=5,
                         evidence_users=["anna"], user="bert", role="clerk")
    approve_rule(state, TENANT, older.rule_id, user="sven", role="supervisor", valid_until=date(2027, 12, 31))
    proposals = pl.DataFrame([{"kind": "iban_to_debtor", "key": "DE75512108001245126199", "target": "D-1",
                               "evidence_count": 4, "evidence_users": "anna,paula",
                               "first_at": "2026-10-01T08:00:00", "last_at": "2026-11-20T08:00:00"},
                              {"kind": "iban_to_debtor", "key": "DE44500105175407324931", "target": "D-3",
                               "evidence_count": 3, "evidence_users": "bert",
                               "first_at": "2026-09-14T08:00:00", "last_at": "2026-11-02T08:00:00"}],
                             schema=PROPOSAL_SCHEMA).with_columns(pl.lit(date(2027, 11, 30)).alias("valid_until"))
    booked = pl.DataFrame({"rule_id": [older.rule_id], "n_allocations": [12], "allocated_cents": [143250]})
    publish(state / "published", TENANT, klaerungsliste=klaerungsliste(), open_items=open_items(), run_id="run-0002",
            as_of=AS_OF, extra={"rule_proposals": proposals, "rules": booked})
    app = create_app(load_review_config(config_file(tmp_path, state)), load_users(write_users(tmp_path / "u.toml")))
    out = Path(os.environ.get("KASSE_SCREENSHOTS") or tmp_path)
    with serve(app) as base, browser_page() as (page, errors):
        log_in(page, base, "bert")
        page.click("text=Regeln")
        assert "1.432,50" in page.inner_text("main")                 # what the approved rule booked
        page.locator("tr", has_text="DE75512108001245126199").locator("button").click()
        assert "wartet auf Freigabe" in page.inner_text(".flash")
        page.click("button:has-text('Abmelden')")
        page.wait_for_url(f"{base}/login")
        log_in(page, base, "sven")
        page.goto(f"{base}/t/{TENANT}/rules")
        assert page.locator("input[name=valid_until][min]").input_value() == "2027-11-30"
        page.screenshot(path=str(out / "review_rules.png"), full_page=True)
        page.locator("button:has-text('Freigeben')").click()
        assert "freigegeben bis 30.11.2027" in page.inner_text(".flash")
        assert errors == []
    assert sorted(str(r.state_on(date(2026, 12, 7))) for r in read_rules(state, TENANT)) == ["approved", "approved"]
