"""The case file in a real headless Chromium, over a real dunning booking: the enforcement office opens a
debtor's case file, downloads the Mahnung (the PDF page sent) and the ZIP. No console errors. With
``KASSE_SCREENSHOTS`` naming a folder, saves the screenshot used in docs/DOCUMENTS.md."""

from __future__ import annotations

import io
import json
import os
import zipfile
from pathlib import Path

import pytest
from argon2 import PasswordHasher
from pypdf import PdfReader
from review_data import PASSWORD
from test_dunning_job import AS_OF, first_night, prepare_and_release, tenant
from test_review_browser import CHROMIUM, browser_page, serve

from jobs.dunning import run_dunning
from review import create_app, load_review_config, load_users

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian's chromium is not installed (/usr/bin/chromium)"),
]


def test_the_case_file_in_the_browser(tmp_path: Path) -> None:
    cfg = tenant(tmp_path)
    first_night(cfg)
    prepare_and_release(cfg)
    assert run_dunning(cfg, AS_OF, user="anna").status == "booked"
    hasher = PasswordHasher(time_cost=1, memory_cost=8192, parallelism=1)
    users = tmp_path / "users.toml"
    users.write_text(f'[users.vera]\nname = "Vera Vollstreckung"\nrole = "vollstreckung"\ntenants = ["stadt"]\n'
                     f'password_hash = "{hasher.hash(PASSWORD)}"\n', encoding="utf-8")
    app = create_app(load_review_config(cfg.source), load_users(users))
    out = Path(os.environ.get("KASSE_SCREENSHOTS") or tmp_path)
    with serve(app) as base, browser_page() as (page, errors):
        page.goto(f"{base}/login")
        page.fill("input[name=login]", "vera")
        page.fill("input[name=password]", PASSWORD)
        page.click("button:has-text('Anmelden')")
        page.wait_for_url(f"{base}/t/stadt/akte")
        page.fill("input[name=id]", "D-R0")
        page.click("button:has-text('Akte öffnen')")
        assert page.locator("table.casefile tbody tr").count() == 1
        assert "Mahnung vom 18.11.2026" in page.inner_text("table.casefile")
        page.screenshot(path=str(out / "review_casefile.png"), full_page=True)
        with page.expect_download() as download:
            page.click("text=herunterladen")
        pdf = Path(download.value.path()).read_bytes()
        assert download.value.suggested_filename.startswith("Mahnung vom 18.11.2026 (Nr. ")
        assert len(PdfReader(io.BytesIO(pdf)).pages) == 1 and "D-R0" in PdfReader(io.BytesIO(pdf)).pages[0].extract_text()
        with page.expect_download() as download:
            page.click("text=Akte als ZIP exportieren")
        z = zipfile.ZipFile(download.value.path())
        assert json.loads(z.read("index.json"))["subject_id"] == "D-R0" and len(z.namelist()) == 3
    assert errors == []
