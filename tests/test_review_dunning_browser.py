"""The dunning views in a real headless Chromium: a supervisor approves a long block and releases the
prepared run; the debtor's history. No console errors (a CSP violation would show there). With
``KASSE_SCREENSHOTS`` naming a folder, saves the screenshots used in docs/REVIEW.md."""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from review_data import TENANT, config_file, write_state, write_users
from test_review_browser import CHROMIUM, browser_page, log_in, serve
from test_review_dunning import RUN, write_dunning

from claims.vocab import BlockReason
from ledger.block_journal import lift_block, read_blocks, set_block
from ledger.release_journal import read_releases
from review import create_app, load_review_config, load_users

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian's chromium is not installed (/usr/bin/chromium)"),
]


def test_dunning_pages_in_the_browser(tmp_path: Path) -> None:
    state = write_state(tmp_path / "state")
    pdf = tmp_path / "state" / "runs" / TENANT / RUN / "sample_letters.pdf"
    pdf.parent.mkdir(parents=True)
    pdf.write_bytes(b"%PDF-1.4\n%%EOF\n")
    write_dunning(state, sample_pdf=str(pdf))
    today = datetime.now(UTC).date()
    set_block(state, TENANT, debtor_id="D3", reason=BlockReason.INSOLVENZ, until=None,
              note="Insolvenzverfahren eröffnet, AG Köln 73 IN 12/26", user="anna", role="clerk")
    set_block(state, TENANT, receivable_id="R-GRST-1", reason=BlockReason.STUNDUNG, until=today + timedelta(days=45),
              note="Stundungsantrag vom 01.12.", user="bert", role="clerk")
    lifted = set_block(state, TENANT, receivable_id="R-ABF-7", reason=BlockReason.MAHNSPERRE,
                       until=today + timedelta(days=20), note="Widerspruch eingelegt", user="anna", role="clerk")
    lift_block(state, TENANT, lifted.block_id, user="bert", role="clerk", note="Widerspruch zurückgenommen")
    app = create_app(load_review_config(config_file(tmp_path, state)), load_users(write_users(tmp_path / "u.toml")))
    out = Path(os.environ.get("KASSE_SCREENSHOTS") or tmp_path)
    with serve(app) as base, browser_page() as (page, errors):
        log_in(page, base, "sven")
        page.click("nav >> text=Mahnsperren")
        assert page.locator("table.items tbody tr").count() == 2            # the lifted one only with "alle"
        page.select_option("select[name=show]", "all")
        page.click("button:has-text('Filtern')")
        assert page.locator("table.items tbody tr").count() == 3
        page.screenshot(path=str(out / "review_dunning_blocks.png"), full_page=True)
        page.locator("tr", has_text="Insolvenzverfahren eröffnet").locator("button:has-text('Freigeben')").click()
        assert "freigegeben" in page.inner_text(".flash")

        page.click("nav >> text=Mahnlauf")
        page.screenshot(path=str(out / "review_dunning_run.png"), full_page=True)
        with page.expect_download() as download:
            page.click("text=PDF herunterladen")
        assert Path(download.value.path()).read_bytes().startswith(b"%PDF")
        page.click("button:has-text('Mahnlauf freigeben')")
        assert "freigegeben" in page.inner_text(".flash")

        page.goto(f"{base}/t/{TENANT}/item/tx-split")
        page.locator("a:has-text('Mahnhistorie')").first.click()
        assert "Mahnung vom 10.03.2026" in page.inner_text("main")
        page.screenshot(path=str(out / "review_dunning_debtor.png"), full_page=True)
        assert errors == []
    assert [b.approved_by for b in read_blocks(state, TENANT) if b.debtor_id == "D3"] == ["sven"]
    assert read_releases(state, TENANT)[RUN].released_by == "sven"


def test_waivers_page_in_the_browser(tmp_path: Path) -> None:
    """A clerk records a Mahnverzicht in the form; another supervisor approves it (no console errors)."""
    from ledger.waiver_journal import read_waivers

    state = write_state(tmp_path / "state")
    app = create_app(load_review_config(config_file(tmp_path, state)), load_users(write_users(tmp_path / "u.toml")))
    out = Path(os.environ.get("KASSE_SCREENSHOTS") or tmp_path)
    with serve(app) as base, browser_page() as (page, errors):
        log_in(page, base, "anna")
        page.click("nav >> text=Mahnverzicht")
        page.select_option("select[name=kind]", "debtor")
        page.fill("input[name=target]", "D2")
        page.select_option("select[name=reason]", "address_unknown")
        page.fill("input[name=note]", "EMA-Anfrage vom 02.11. ohne Treffer, Akte 20.4/113")
        page.click("button:has-text('Erfassen')")
        assert "zweite Aufsicht" in page.inner_text(".flash")
        page.context.clear_cookies()
        log_in(page, base, "sven")
        page.goto(f"{base}/t/{TENANT}/waivers")
        page.screenshot(path=str(out / "review_waivers.png"), full_page=True)
        page.locator("tr", has_text="EMA-Anfrage").locator("button:has-text('Freigeben')").click()
        assert "freigegeben" in page.inner_text(".flash")
        assert errors == []
    assert [w.approved_by for w in read_waivers(state, TENANT)] == ["sven"]
