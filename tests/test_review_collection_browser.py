"""The collection pages in a real headless Chromium over a tenant the real jobs made: a supervisor who did
not prepare it releases the prepared run, the job books it; the run's claims, the mandates filtered by
state, a mandate's history and the returns. No console errors (a CSP violation would show there). With
``KASSE_SCREENSHOTS`` naming a folder, saves the screenshots used in docs/REVIEW.md."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
from collection_review_data import NEXT, PASSWORD, TENANT, build, prepared_run, review_config, write_users
from test_collect_job import NOW
from test_review_browser import CHROMIUM, browser_page, serve

from jobs.collect import run_collect
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


def test_a_supervisor_releases_the_prepared_run_in_the_browser_and_the_job_books_it(tmp_path: Path) -> None:
    cfg = build(tmp_path / "t")
    run_id = prepared_run(cfg)
    app = create_app(load_review_config(review_config(tmp_path, cfg.state_dir)),
                     load_users(write_users(tmp_path / "users.toml")))
    out = Path(os.environ.get("KASSE_SCREENSHOTS") or tmp_path)
    with serve(app) as base, browser_page() as (page, errors):
        log_in(page, base, "sven")
        page.click("nav >> text=Lastschrifteinzug")
        cards = page.locator("section.card.collection")
        assert cards.count() == 2
        assert "vorbereitet, wartet auf Freigabe" in cards.first.inner_text()
        page.screenshot(path=str(out / "review_collection_runs.png"), full_page=True)

        page.click("text=Forderungen und übersprungene ansehen >> nth=0")
        assert "Ilse Später" in page.inner_text("main")
        page.select_option("select[name=reason]", "mandate_blocked")
        page.click("button:has-text('Filtern')")
        assert "Rücklastschrift AC04: Konto erloschen" in page.inner_text("main")
        page.screenshot(path=str(out / "review_collection_run.png"), full_page=True)

        page.click("button:has-text('Lastschrifteinzug freigeben')")
        page.wait_for_url(f"{base}/t/{TENANT}/collection")
        assert "freigegeben" in page.inner_text(".flash")
        assert "freigegeben, wird gebucht" in cards.first.inner_text()
        assert page.locator("button:has-text('Lastschrifteinzug freigeben')").count() == 0

        page.click("nav >> text=Mandate")
        page.select_option("select[name=state]", "blocked")
        page.click("button:has-text('Filtern')")
        assert page.locator("table.items tbody tr").count() == 1
        page.select_option("select[name=state]", "")
        page.click("button:has-text('Filtern')")
        page.screenshot(path=str(out / "review_mandates.png"), full_page=True)
        page.click("a:has-text('M-1')")
        assert "Konto erloschen" in page.inner_text("main")
        page.screenshot(path=str(out / "review_mandate.png"), full_page=True)

        page.click("nav >> text=Rücklastschriften")
        assert "wieder offen: 99,00 €" in page.inner_text("main")
        page.screenshot(path=str(out / "review_returns.png"), full_page=True)

        assert read_releases(cfg.state_dir, TENANT)[run_id].released_by == "sven"
        assert run_collect(cfg, NEXT, user="anna", now=NOW).status == "booked"
        page.click("nav >> text=Lastschrifteinzug")
        assert [cards.nth(i).locator(".badge").inner_text() for i in range(2)] == ["gebucht", "gebucht"]
        assert errors == []
