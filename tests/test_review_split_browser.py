"""Issue 19 §1 in a real headless Chromium: a split built from "Weitere offene Posten suchen" that the page
refuses comes back exactly as the clerk filled it (found rows, typed amounts, free rows, the search)."""

from __future__ import annotations

from pathlib import Path

import pytest
from review_data import TENANT, config_file, write_state, write_users
from test_review_browser import CHROMIUM, browser_page, log_in, serve

from review import create_app, load_review_config, load_users

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian's chromium is not installed (/usr/bin/chromium)"),
]


def test_a_refused_split_comes_back_intact_in_the_browser(tmp_path: Path) -> None:
    state = write_state(tmp_path / "state")
    app = create_app(load_review_config(config_file(tmp_path, state)), load_users(write_users(tmp_path / "u.toml")))
    with serve(app) as base, browser_page() as (page, errors):
        log_in(page, base, "anna")
        page.goto(f"{base}/t/{TENANT}/item/tx-split")
        page.fill("input[name=items_q]", "Müller")
        page.click("button:has-text('Suchen')")
        page.fill("input[aria-label='Betrag für 1234.5678.9012']", "100,00")
        page.fill("input[aria-label='Betrag für 5555.0000.1111']", "33,33")
        page.fill("input[aria-label='Kassenzeichen (weitere Zeile 2)']", "9999.1111.2222")
        page.fill("input[aria-label='Betrag (weitere Zeile 2)']", "1,00")
        page.click("button:has-text('Zuordnen')")
        assert "es fehlen 15,67 €" in page.inner_text(".flash.error")
        assert page.input_value("input[aria-label='Betrag für 1234.5678.9012']") == "100,00"
        assert page.input_value("input[aria-label='Betrag für 1234.5678.9029']") == ""
        assert page.input_value("input[aria-label='Betrag für 5555.0000.1111']") == "33,33"
        assert page.input_value("input[aria-label='Kassenzeichen (weitere Zeile 1)']") == ""
        assert page.input_value("input[aria-label='Kassenzeichen (weitere Zeile 2)']") == "9999.1111.2222"
        assert page.input_value("input[aria-label='Betrag (weitere Zeile 2)']") == "1,00"
        assert page.input_value("input[name=items_q]") == "Müller"
        # the clerk corrects one amount and the same page books it
        page.fill("input[aria-label='Betrag für 1234.5678.9012']", "100,00")
        page.fill("input[aria-label='Betrag für 5555.0000.1111']", "33,33")
        page.fill("input[aria-label='Betrag (weitere Zeile 2)']", "16,67")
        page.click("button:has-text('Zuordnen')")
        assert "150,00 € gespeichert" in page.inner_text(".flash")
        assert [e for e in errors if "422" not in e] == []
