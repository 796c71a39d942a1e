"""The review page's SEPA collection pages over a tenant the real jobs made (tests/collection_review_data.py):
"Lastschrifteinzug" with its files, claims, skipped claims and the four-eyes release (refused for a clerk,
an auditor, the preparer, without CSRF; shown at once; booked by the job's next call), "Mandate" with
filter and history, "Rücklastschriften"; every page refuses another tenant's user."""

from __future__ import annotations

import re
import shutil
from datetime import date
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from collection_review_data import (
    NEXT,
    OTHER,
    PASSWORD,
    TENANT,
    build,
    prepared_run,
    review_config,
    tenant_config,
    write_users,
)
from review_data import make_client
from test_collect_job import NOW

from jobs.collect import run_collect
from ledger.db import connect, fetch
from ledger.publish_collection import RUNS_SCHEMA, lay_releases, publish_collection, read_collection_published
from ledger.release_journal import read_releases, record_release
from parsers.schema import conform
from review import create_app, load_review_config, load_users

COLLECTION = f"/t/{TENANT}/collection"


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The jobs' tenant, made once; each test works on a copy."""
    folder = tmp_path_factory.mktemp("collecting") / "t"
    build(folder)
    write_users(folder / "users.toml")
    return folder


def _env(folder: Path, page_size: int = 50) -> dict[str, Any]:
    cfg = tenant_config(folder)
    config = load_review_config(review_config(folder, cfg.state_dir, page_size))
    return {"cfg": cfg, "state": cfg.state_dir, "run": prepared_run(cfg),
            "app": create_app(config, load_users(folder / "users.toml"))}


@pytest.fixture
def env(built: Path, tmp_path: Path) -> dict[str, Any]:
    shutil.copytree(built, tmp_path / "t", symlinks=True)
    return _env(tmp_path / "t")


def login(env: dict[str, Any], who: str) -> Any:
    client = make_client(env["app"])
    page = client.get("/login")
    r = client.post("/login", data={"login": who, "password": PASSWORD, "csrf_token": token(page.text), "next": "/"},
                    follow_redirects=False)
    assert r.status_code == 303, r.text
    return client


def token(page: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert found, "no CSRF token on the page"
    return found.group(1)


def release(client: Any, run_id: str, *, csrf: str | None = "page") -> Any:
    data = {"csrf_token": token(client.get(COLLECTION).text)} if csrf == "page" else \
        {"csrf_token": csrf} if csrf else {}
    return client.post(f"{COLLECTION}/{run_id}/release", data=data, follow_redirects=False)


def text_of(html: str) -> str:
    """The page's visible text, one space between words (tags dropped)."""
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def test_the_prepared_run_is_on_top_with_its_files_skipped_claims_and_the_release_button(env: dict[str, Any]) -> None:
    page = login(env, "sven").get(COLLECTION)
    assert page.status_code == 200
    text = text_of(page.text)
    # the prepared run of 27.11. first, then the booked one of 20.11.
    assert text.index("Einzug zum 27.11.2026") < text.index("Einzug zum 20.11.2026")
    assert "vorbereitet, wartet auf Freigabe" in text and "gebucht" in text
    assert "1 Forderung über 120,00 €" in text and "2 Forderungen über 249,00 €" in text
    # the files with count, control sum and the XSD they were validated against
    assert text.count("pain.008.001.08") == 2 and "gültig" in text
    assert "Mandat nach Rücklastschrift gesperrt" in text                  # R1 after its AC04 return
    assert "Mandatsdaten unbrauchbar: bitte klären" in text                  # M-3 has no date of signature
    assert "Kein SEPA-Mandat: Zahlung per Überweisung" in text
    assert page.text.count("Lastschrifteinzug freigeben") == 1             # only the prepared run
    assert f'action="{COLLECTION}/{env["run"]}/release"' in page.text


def test_the_run_page_lists_its_claims_and_the_skipped_ones_with_reasons(env: dict[str, Any]) -> None:
    otto = login(env, "otto")
    page = otto.get(f"{COLLECTION}/{env['run']}")
    assert page.status_code == 200
    text = text_of(page.text)
    assert "Ilse Später" in text and "KZ512000000400-20261127" in text and "120,00 €" in text
    assert "Lastschrifteinzug freigeben" not in page.text                  # an auditor reads only
    # skipped: R1 (blocked by AC04), R3 (refused: no date), R2 and the fee claim (no mandate)
    assert "Rücklastschrift AC04: Konto erloschen" in text and "Datum der Unterschrift fehlt" in text
    assert "Forderungen im Einzug (1)" in text and "Nicht eingezogen (4)" in text
    only = text_of(otto.get(f"{COLLECTION}/{env['run']}?reason=mandate_blocked").text)
    assert "Nicht eingezogen (1 von 4)" in only and "Max Müller" in only and "Bäckerei Korn" not in only
    assert otto.get(f"{COLLECTION}/no-such-run").status_code == 404


def test_the_lists_are_paged(built: Path, tmp_path: Path) -> None:
    shutil.copytree(built, tmp_path / "t", symlinks=True)
    env = _env(tmp_path / "t", page_size=1)
    anna = login(env, "anna")
    first = text_of(anna.get(f"{COLLECTION}/{env['run']}").text)
    assert "Seite 1 von 4" in first
    pages = [text_of(anna.get(f"{COLLECTION}/{env['run']}?skipped_page={n}").text) for n in (1, 2, 3, 4)]
    names = [next(n for n in ("Max Müller", "Hans Ohnedatum", "Bäckerei Korn") if n in p.split("Nicht eingezogen")[1])
             for p in pages]
    assert sorted(set(names)) == ["Bäckerei Korn", "Hans Ohnedatum", "Max Müller"]
    assert "Seite 4 von 4" in text_of(anna.get(f"{COLLECTION}/{env['run']}?skipped_page=99").text)   # clamped
    assert "Seite 1 von 4" in text_of(anna.get(f"{COLLECTION}/{env['run']}?skipped_page=x").text)


@pytest.mark.parametrize(("who", "status"), [("anna", 403), ("otto", 403)])
def test_clerk_and_auditor_read_but_may_not_release(env: dict[str, Any], who: str, status: int) -> None:
    client = login(env, who)
    for path in (COLLECTION, f"/t/{TENANT}/mandates", f"/t/{TENANT}/returns", f"/t/{TENANT}/mandate?id=M-1"):
        assert client.get(path).status_code == 200
    assert "Lastschrifteinzug freigeben" not in client.get(COLLECTION).text
    assert release(client, env["run"]).status_code == status
    assert read_releases(env["state"], TENANT) .get(env["run"]) is None


def test_the_preparer_may_not_release_even_as_supervisor(built: Path, tmp_path: Path) -> None:
    folder = tmp_path / "t"
    build(folder, next_by="paula")
    write_users(folder / "users.toml")
    env = _env(folder)
    paula = login(env, "paula")
    page = paula.get(COLLECTION).text
    assert "Lastschrifteinzug freigeben" not in page and "nicht paula" in page
    r = release(paula, env["run"])
    assert r.status_code == 403 and "Vier-Augen-Prinzip" in r.text
    assert env["run"] not in read_releases(env["state"], TENANT)
    assert release(login(env, "sven"), env["run"]).status_code == 303


@pytest.mark.parametrize("csrf", [None, "forged-token"])
def test_a_release_without_the_csrf_token_is_refused(env: dict[str, Any], csrf: str | None) -> None:
    r = release(login(env, "sven"), env["run"], csrf=csrf)
    assert r.status_code == 403
    assert env["run"] not in read_releases(env["state"], TENANT)


def test_released_on_the_page_shown_at_once_then_booked_by_the_job(env: dict[str, Any]) -> None:
    sven = login(env, "sven")
    r = release(sven, env["run"])
    assert r.status_code == 303 and r.headers["location"] == COLLECTION
    page = sven.get(COLLECTION).text
    assert "freigegeben" in page and "Lastschrifteinzug freigeben" not in page      # shown at once
    assert "freigegeben, wird gebucht" in page
    rel = read_releases(env["state"], TENANT)[env["run"]]
    assert (rel.kind, rel.released_by, rel.prepared_by) == ("collection_release", "sven", "anna")
    again = release(login(env, "paula"), env["run"])
    assert again.status_code == 409
    # the job's next call books the run the page released, and publishes it as booked
    assert run_collect(env["cfg"], NEXT, user="anna", now=NOW).status == "booked"
    con = connect(env["cfg"].ledger)
    try:
        got = fetch(con, "SELECT receivable_id, prepared_by, released_by FROM collections WHERE run_id = $r",
                    {"r": env["run"]})
    finally:
        con.close()
    assert got.rows() == [("R4", "anna", "sven")]
    text = text_of(sven.get(COLLECTION).text)
    assert "vorbereitet, wartet auf Freigabe" not in text and text.count("gebucht") >= 2


def test_the_mandate_register_filters_by_state_and_shows_a_history(env: dict[str, Any]) -> None:
    anna = login(env, "anna")
    every = text_of(anna.get(f"/t/{TENANT}/mandates").text)
    assert all(m in every for m in ("M-0", "M-1", "M-3", "M-4")) and "alle (4)" in every
    blocked = text_of(anna.get(f"/t/{TENANT}/mandates?state=blocked").text)
    assert "M-1" in blocked and "M-0" not in blocked and "Rücklastschrift AC04: Konto erloschen" in blocked
    refused = text_of(anna.get(f"/t/{TENANT}/mandates?state=refused").text)
    assert "M-3" in refused and "Datum der Unterschrift fehlt" in refused and "M-1" not in refused
    assert "M-4" in text_of(anna.get(f"/t/{TENANT}/mandates?q=später").text)
    assert "M-0" in text_of(anna.get(f"/t/{TENANT}/mandates?state=bogus").text)   # an unknown filter: all
    history = text_of(anna.get(f"/t/{TENANT}/mandate?id=M-1").text)
    assert "Gesperrt" in history and "KZ512000000109-20261120" in history and "AC04" in history
    assert "Mandat sperren" in history and "20.11.2026" in history
    assert anna.get(f"/t/{TENANT}/mandate?id=M-404").status_code == 404
    assert anna.get(f"/t/{TENANT}/mandate").status_code == 404


def test_the_returns_page_names_reason_action_reopened_claim_and_fee(env: dict[str, Any]) -> None:
    otto = login(env, "otto")
    text = text_of(otto.get(f"/t/{TENANT}/returns").text)
    assert "AC04" in text and "Konto erloschen" in text and "Mandat sperren" in text
    assert "wieder offen: 99,00 €" in text and "fällig 20.11.2026" in text
    assert "3,00 €" in text and "R1-RLS-20261125" in text and "1 Rücklastschrift über 99,00 €" in text
    none = text_of(otto.get(f"/t/{TENANT}/returns?code=MS03").text)
    assert "keine Rücklastschriften mit MS03" in none


def test_another_tenants_user_sees_nothing_of_it(env: dict[str, Any]) -> None:
    # the other tenant publishes a mandate of its own; nora (supervisor there only) may not look here
    publish_collection(env["state"], OTHER, {"mandates": pl.DataFrame(
        {"tenant": [OTHER], "mandate_id": ["M-NACHBAR"], "state": ["active"]})}, on=date(2026, 12, 1))
    nora = login(env, "nora")
    paths = [COLLECTION, f"{COLLECTION}/{env['run']}", f"/t/{TENANT}/mandates", f"/t/{TENANT}/mandate?id=M-1",
             f"/t/{TENANT}/returns"]
    assert [nora.get(p).status_code for p in paths] == [403] * len(paths)
    page = nora.get(f"/t/{OTHER}/mandates")
    assert page.status_code == 200 and "M-NACHBAR" in page.text and "M-1" not in text_of(page.text)
    r = nora.post(f"{COLLECTION}/{env['run']}/release", data={"csrf_token": token(page.text)}, follow_redirects=False)
    assert r.status_code == 403 and env["run"] not in read_releases(env["state"], TENANT)
    sven = login(env, "sven")                                  # both tenants: each page shows its own
    assert "M-NACHBAR" not in sven.get(f"/t/{TENANT}/mandates").text
    assert sven.get(f"/t/{TENANT}/mandate?id=M-NACHBAR").status_code == 404
    assert "Noch kein Einzugslauf veröffentlicht" in sven.get(f"/t/{OTHER}/collection").text


def test_names_are_escaped(tmp_path: Path) -> None:
    state = tmp_path / "state"
    run = "20261127-stadt-collect-deadbeef"
    publish_collection(state, TENANT, {
        "runs": pl.DataFrame([{"run_id": run, "run_date": date(2026, 11, 27), "status": "prepared",
                               "prepared_by": "anna", "n_items": 1, "total_cents": 100}], schema_overrides=RUNS_SCHEMA),
        "items": pl.DataFrame({"run_id": [run], "status": ["prepared"], "receivable_id": ["R9"],
                               "kassenzeichen": ["1"], "debtor_name": ["<script>alert(1)</script>"],
                               "mandate_id": ["M-<b>"], "amount_cents": [100]}),
    }, on=date(2026, 11, 27))
    users = write_users(tmp_path / "users.toml")
    app = create_app(load_review_config(review_config(tmp_path, state)), load_users(users))
    page = login({"app": app}, "sven").get(f"{COLLECTION}/{run}")
    assert page.status_code == 200
    assert "<script>alert" not in page.text and "&lt;script&gt;alert(1)&lt;/script&gt;" in page.text
    assert "M-%3Cb%3E" in page.text and "M-&lt;b&gt;" in page.text


def test_a_release_line_counts_only_for_its_kind_and_its_preparer(tmp_path: Path) -> None:
    runs = conform(pl.DataFrame([{"run_id": r, "status": "prepared", "prepared_by": "anna"} for r in ("a", "b", "c")]),
                   RUNS_SCHEMA)
    record_release(tmp_path, TENANT, "a", user="sven", role="supervisor", prepared_by="anna", kind="collection_release")
    record_release(tmp_path, TENANT, "b", user="sven", role="supervisor", prepared_by="anna", kind="dunning_release")
    record_release(tmp_path, TENANT, "c", user="sven", role="supervisor", prepared_by="bert", kind="collection_release")
    laid = lay_releases(runs, tmp_path, TENANT, "collection_release")
    assert laid.select("run_id", "status", "released_by").rows() == [("a", "released", "sven"), ("b", "prepared", None),
                                                                     ("c", "prepared", None)]
    assert laid.columns == runs.columns
    assert read_collection_published(tmp_path, TENANT).runs.height == 0        # nothing published: empty frames
