"""The review page's hand-off: "Vollstreckungsübergabe" shows the draft batch a supervisor releases — its
counts, sums, cases, the claims left out with why, the draft Übergabeliste — and the four-eyes release
(refused for the preparer, a clerk, an auditor; shown at once; booked by the job's next call)."""

from __future__ import annotations

import re
import shutil
from pathlib import Path
from typing import Any

import pytest
from collection_review_data import PASSWORD, review_config
from payout_review_data import TENANT, write_users
from review_data import make_client
from test_handoff_job import HANDOFF, dunned, q, tenant

from claims.config import load_tenant_config
from jobs.handoff import run_handoff
from review import create_app, load_review_config, load_users

PAGE = f"/t/{TENANT}/handoff"


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A dunned tenant whose hand-off paula prepared (made once; each test works on a copy)."""
    folder = tmp_path_factory.mktemp("handing") / "t"
    folder.mkdir()
    cfg = tenant(folder)
    dunned(cfg)
    assert run_handoff(cfg, HANDOFF, user="paula").status == "prepared"
    write_users(folder / "users.toml")
    return folder


@pytest.fixture
def env(built: Path, tmp_path: Path) -> dict[str, Any]:
    shutil.copytree(built, tmp_path / "t", symlinks=True)
    cfg = load_tenant_config(tmp_path / "t" / "kasse.toml")
    app = create_app(load_review_config(review_config(tmp_path / "t", cfg.state_dir)),
                     load_users(tmp_path / "t" / "users.toml"))
    return {"cfg": cfg, "app": app}


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


def text_of(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def run_id_of(page: str) -> str:
    found = re.search(r'action="/t/stadt/handoff/([^/"]+)/release"', page)
    assert found, "no release form"
    return found.group(1)


def test_the_draft_batch_shows_counts_sums_cases_and_the_release_button(env: dict[str, Any]) -> None:
    sven = login(env, "sven")
    page = sven.get(PAGE)
    assert page.status_code == 200
    text = text_of(page.text)
    assert "Übergabe vom 09.12.2026" in text and "vorbereitet, wartet auf Freigabe" in text
    assert "Fälle 3 (davon neu 3)" in text and "Forderungen 12 (davon 3 Säumniszuschläge" in text
    assert "Hauptforderungen 299,00 €" in text and "Summe 325,99 €" in text
    assert "Anna Alt" in text and "Bernd Bau" in text and "Carla Cent" in text
    assert "handoff.xml" in text and "uebergabeliste.pdf" in text
    assert page.text.count("Übergabe freigeben") == 1 and f'href="{PAGE}"' in page.text
    pdf = sven.get(f"{PAGE}/{run_id_of(page.text)}/list.pdf")
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF") and "entwurf" in pdf.headers["content-disposition"]


def test_only_a_supervisor_other_than_the_preparer_releases_and_the_job_then_books(env: dict[str, Any]) -> None:
    paula = login(env, "paula")                                         # she prepared it
    page = paula.get(PAGE).text
    assert "Übergabe freigeben" not in page and "nicht paula" in page
    found = re.search(r'run-id">([^<]+)<', page)
    assert found
    run_id = found.group(1)
    assert paula.post(f"{PAGE}/{run_id}/release", data={"csrf_token": token(page)},
                      follow_redirects=False).status_code == 403
    anna = login(env, "anna")                                           # a clerk
    assert anna.post(f"{PAGE}/{run_id}/release", data={"csrf_token": token(anna.get(PAGE).text)},
                     follow_redirects=False).status_code == 403
    sven = login(env, "sven")
    assert sven.post(f"{PAGE}/{run_id}/release", data={}, follow_redirects=False).status_code == 403   # no CSRF
    r = sven.post(f"{PAGE}/{run_id}/release", data={"csrf_token": token(sven.get(PAGE).text)},
                  follow_redirects=False)
    assert r.status_code == 303
    assert "freigegeben, wird gebucht" in text_of(sven.get(PAGE).text)
    assert sven.post(f"{PAGE}/{run_id}/release", data={"csrf_token": token(sven.get(PAGE).text)},
                     follow_redirects=False).status_code == 409
    assert run_handoff(env["cfg"], HANDOFF, user="paula").status == "booked"
    assert q(env["cfg"], "SELECT DISTINCT released_by FROM enforcement_cases").rows() == [("sven",)]
    assert "gebucht" in text_of(sven.get(PAGE).text)
