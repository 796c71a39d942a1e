"""The payout pages in a real headless Chromium over a tenant the real jobs made: the prepared run with its
pain.001 file and sums, its transfers, set-offs and skipped refunds; a supervisor who did not prepare it
releases it, the job books it. No console errors (a CSP violation would show there). With
``KASSE_SCREENSHOTS`` naming a folder, saves the screenshots used in docs/REVIEW.md."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
from collection_review_data import PASSWORD, review_config
from payout_review_data import TENANT, build, write_users
from test_payout_job import EXEC, TODAY
from test_review_browser import CHROMIUM, browser_page, serve

from jobs.payout import run_payout
from ledger.release_journal import read_releases
from review import create_app, load_review_config, load_users

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian's chromium is not installed (/usr/bin/chromium)"),
]


def log_in(page: Any, base: str, who: str) -> None:
    page.goto(f"{base}/login")
    page.fill("input[name=login]", who)
    page.fill("input[name=password]", PASSWORD)
    page.click("button:has-text('Anmelden')")
    page.wait_for_url(lambda url: "/login" not in url)
    if page.url == f"{base}/":                           # several tenants: pick one
        page.click(f"a[href='/t/{TENANT}/']")
    page.wait_for_url(f"{base}/t/{TENANT}/")


def test_a_supervisor_releases_the_prepared_payout_run_in_the_browser_and_the_job_books_it(tmp_path: Path) -> None:
    cfg, run_id = build(tmp_path / "t")
    app = create_app(load_review_config(review_config(tmp_path, cfg.state_dir)),
                     load_users(write_users(tmp_path / "users.toml")))
    out = Path(os.environ.get("KASSE_SCREENSHOTS") or tmp_path)
    with serve(app) as base, browser_page() as (page, errors):
        log_in(page, base, "sven")
        page.click("nav >> text=Auszahlungen")
        cards = page.locator("section.card.collection")
        assert cards.count() == 1
        assert "vorbereitet, wartet auf Freigabe" in cards.first.inner_text()
        assert "pain.001.001.09" in cards.first.inner_text()
        page.screenshot(path=str(out / "review_payouts.png"), full_page=True)

        page.click("text=Überweisungen, Verrechnungen und übersprungene ansehen")
        main = page.inner_text("main")
        assert "DE44 ···· 4931" in main and "Anna Alt" in main and "IBAN ungültig" in main
        page.screenshot(path=str(out / "review_payout_run.png"), full_page=True)

        page.click("button:has-text('Auszahlungslauf freigeben')")
        page.wait_for_url(f"{base}/t/{TENANT}/payouts")
        assert "freigegeben" in page.inner_text(".flash")
        assert "freigegeben, wird gebucht" in cards.first.inner_text()
        assert page.locator("button:has-text('Auszahlungslauf freigeben')").count() == 0

        assert read_releases(cfg.state_dir, TENANT)[run_id].released_by == "sven"
        assert run_payout(cfg, EXEC, user="anna", today=TODAY).status == "booked"
        page.reload()
        assert cards.first.locator(".badge").inner_text() == "gebucht"
        assert errors == []
