"""The review page's payout pages over a tenant the real jobs made (tests/payout_review_data.py):
"Auszahlungen" with the pain.001 file, the sums, the transfers (masked IBAN), set-offs and skipped refunds,
the draft Verrechnungsmitteilungen, and the four-eyes release (refused for a clerk, an auditor, the
preparer, without CSRF, twice; shown at once; booked by the job's next call); another tenant's user and
the enforcement office see nothing of it."""

from __future__ import annotations

import re
import shutil
from datetime import date
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from collection_review_data import PASSWORD, review_config
from payout_review_data import BAD_IBAN, OTHER, TENANT, build, config, write_users
from review_data import make_client
from test_payout_job import EXEC, REFUND_IBAN, TODAY

from jobs.payout import run_payout
from jobs.payout.record import read_record
from ledger.db import connect, fetch
from ledger.publish_payout import PAYOUT_RUNS_SCHEMA, publish_payout, read_payout_published
from ledger.release_journal import read_releases, record_release
from review import create_app, load_review_config, load_users

PAYOUTS = f"/t/{TENANT}/payouts"


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The jobs' tenant, made once; each test works on a copy."""
    folder = tmp_path_factory.mktemp("paying") / "t"
    build(folder)
    write_users(folder / "users.toml")
    return folder


def _env(folder: Path, page_size: int = 50) -> dict[str, Any]:
    cfg = config(folder)
    record = read_record(cfg, EXEC)
    assert record is not None
    app = create_app(load_review_config(review_config(folder, cfg.state_dir, page_size)),
                     load_users(folder / "users.toml"))
    return {"cfg": cfg, "state": cfg.state_dir, "run": record.run_id, "app": app}


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
    data = {"csrf_token": token(client.get(PAYOUTS).text)} if csrf == "page" else {"csrf_token": csrf} if csrf else {}
    return client.post(f"{PAYOUTS}/{run_id}/release", data=data, follow_redirects=False)


def text_of(html: str) -> str:
    """The page's visible text, one space between words (tags dropped)."""
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def ledger(cfg: Any, sql: str, run_id: str) -> list[tuple[Any, ...]]:
    con = connect(cfg.ledger)
    try:
        return fetch(con, sql, {"r": run_id}).rows()
    finally:
        con.close()


def test_the_prepared_run_shows_its_file_sums_skipped_refunds_and_the_release_button(env: dict[str, Any]) -> None:
    page = login(env, "sven").get(PAYOUTS)
    assert page.status_code == 200
    text = text_of(page.text)
    assert "Auszahlung zum 19.11.2026" in text and "vorbereitet, wartet auf Freigabe" in text
    assert "Verrechnet zum 18.11.2026" in text
    # sums: A's 50 € credit, 20 € of it set off against R3, 30 € paid out (the bad IBAN's 30 € are not)
    assert "Guthaben 50,00 €" in text and "verrechnet 20,00 € (1 Verrechnung)" in text
    assert "ausgezahlt 30,00 € (1 Überweisung)" in text
    # the pain.001 file: one transfer, its control sum, valid against its XSD
    assert "pain.001.001.09" in text and "gültig" in text
    files = read_payout_published(env["state"], TENANT).files
    assert files.select("count", "control_sum_cents", "stage").rows() == [(1, 3000, "prepared")]
    assert files["file_name"][0] in text
    assert "IBAN ungültig: keine Auszahlung, bitte Erstattung neu entscheiden" in text
    # what is released is on the page: the transfer, the set-off, the skipped refund (its IBAN masked too)
    assert "Überweisungen (1)" in text and "Verrechnungen (1)" in text and "Übersprungen (1)" in text
    assert "DE44 ···· 4931" in text and "Anna Alt" in text and "Otto Unbekannt" in text
    assert "DE00 ···· 3000" in text and BAD_IBAN not in page.text and REFUND_IBAN not in page.text
    assert page.text.count("Auszahlungslauf freigeben") == 1
    assert f'action="{PAYOUTS}/{env["run"]}/release"' in page.text
    assert f'href="{PAYOUTS}"' in page.text                                  # the nav link


def test_the_run_page_lists_transfers_set_offs_and_skipped_refunds(env: dict[str, Any]) -> None:
    otto = login(env, "otto")
    page = otto.get(f"{PAYOUTS}/{env['run']}")
    assert page.status_code == 200
    text = text_of(page.text)
    assert "Auszahlungslauf freigeben" not in page.text                      # an auditor reads only
    assert "Überweisungen (1)" in text and "Verrechnungen (1)" in text and "Übersprungen (1)" in text
    # the transfer: payee, masked IBAN (never in full), remittance with the Kassenzeichen, end-to-end id
    assert "Anna Alt" in text and "DE44 ···· 4931" in text and REFUND_IBAN not in page.text
    transfer = read_payout_published(env["state"], TENANT).transfers.row(0, named=True)
    assert transfer["end_to_end_id"] in text and transfer["end_to_end_id"].startswith("ERS261119-")
    assert transfer["remittance"] in text and "Kassenzeichen" in transfer["remittance"]
    assert (transfer["credit_cents"], transfer["setoff_cents"], transfer["amount_cents"]) == (5000, 2000, 3000)
    # the set-off: debtor, Kassenzeichen of R3, amount, its letter
    setoff = read_payout_published(env["state"], TENANT).setoffs.row(0, named=True)
    assert (setoff["receivable_id"], setoff["debtor_name"], setoff["amount_cents"]) == ("R3", "Anna Alt", 2000)
    assert setoff["kassenzeichen"] in text and setoff["letter_id"] in text and "ABFALL" in text
    # skipped: the unknown payer's refund to an invalid IBAN
    assert "Otto Unbekannt" in text and "Nicht ausgezahlt" in text and "iban_invalid" in text
    assert otto.get(f"{PAYOUTS}/no-such-run").status_code == 404


def test_the_draft_verrechnungsmitteilungen_are_served_from_the_run_folder(env: dict[str, Any]) -> None:
    anna = login(env, "anna")
    page = anna.get(PAYOUTS).text
    assert f'href="{PAYOUTS}/{env["run"]}/letters.pdf"' in page and "Entwurf" in page
    pdf = anna.get(f"{PAYOUTS}/{env['run']}/letters.pdf")
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    assert "verrechnungsmitteilungen-entwurf" in pdf.headers["content-disposition"]
    assert anna.get(f"{PAYOUTS}/no-such-run/letters.pdf").status_code == 404


def test_a_letters_path_outside_the_tenants_folders_is_not_served(env: dict[str, Any], tmp_path: Path) -> None:
    outside = tmp_path / "elsewhere.pdf"
    outside.write_bytes(b"%PDF-1.4 not ours")
    publish_payout(env["state"], TENANT, {"runs": pl.DataFrame(
        [{"run_id": "r-out", "run_date": date(2026, 11, 20), "status": "prepared", "prepared_by": "anna",
          "letters_pdf": str(outside)}], schema_overrides=PAYOUT_RUNS_SCHEMA)}, on=date(2026, 11, 20))
    sven = login(env, "sven")
    assert sven.get(f"{PAYOUTS}/r-out/letters.pdf").status_code == 403
    assert "nicht im Ordner des Mandanten" in text_of(sven.get(PAYOUTS).text)


@pytest.mark.parametrize(("who", "why"), [("anna", "das darf nur eine Aufsicht"), ("otto", "darf nur lesen")])
def test_clerk_and_auditor_read_but_may_not_release(env: dict[str, Any], who: str, why: str) -> None:
    client = login(env, who)
    assert client.get(PAYOUTS).status_code == 200
    assert client.get(f"{PAYOUTS}/{env['run']}").status_code == 200
    assert "Auszahlungslauf freigeben" not in client.get(PAYOUTS).text
    r = release(client, env["run"])
    assert r.status_code == 403 and why in text_of(r.text)
    assert env["run"] not in read_releases(env["state"], TENANT)


def test_the_preparer_may_not_release_even_as_supervisor(tmp_path: Path) -> None:
    folder = tmp_path / "t"
    build(folder, by="paula")
    write_users(folder / "users.toml")
    env = _env(folder)
    paula = login(env, "paula")
    page = paula.get(PAYOUTS).text
    assert "Auszahlungslauf freigeben" not in page and "nicht paula" in page
    r = release(paula, env["run"])
    assert r.status_code == 403 and "Vier-Augen-Prinzip" in r.text
    assert env["run"] not in read_releases(env["state"], TENANT)
    assert release(login(env, "sven"), env["run"]).status_code == 303


@pytest.mark.parametrize("csrf", [None, "forged-token"])
def test_a_release_without_the_csrf_token_is_refused(env: dict[str, Any], csrf: str | None) -> None:
    r = release(login(env, "sven"), env["run"], csrf=csrf)
    assert r.status_code == 403
    assert env["run"] not in read_releases(env["state"], TENANT)


def test_released_on_the_page_shown_at_once_refused_twice_then_booked_by_the_job(env: dict[str, Any]) -> None:
    sven = login(env, "sven")
    r = release(sven, env["run"])
    assert r.status_code == 303 and r.headers["location"] == PAYOUTS
    page = sven.get(PAYOUTS).text
    assert "freigegeben, wird gebucht" in page and "Auszahlungslauf freigeben" not in page    # shown at once
    rel = read_releases(env["state"], TENANT)[env["run"]]
    assert (rel.kind, rel.released_by, rel.prepared_by) == ("payout_release", "sven", "anna")
    again = release(login(env, "paula"), env["run"])
    assert again.status_code == 409 and "schon freigegeben von sven" in again.text
    assert len(read_releases(env["state"], TENANT)) == 1
    # the job's next call books the run the page released, and publishes it as booked
    booked = run_payout(env["cfg"], EXEC, user="anna", today=TODAY)
    assert (booked.status, booked.run_id) == ("booked", env["run"])
    assert ledger(env["cfg"], "SELECT payee_name, amount_cents, prepared_by, released_by FROM payouts "
                              "WHERE run_id = $r", env["run"]) == [("Anna Alt", 3000, "anna", "sven")]
    assert ledger(env["cfg"], "SELECT receivable_id, amount_cents FROM setoffs WHERE run_id = $r",
                  env["run"]) == [("R3", 2000)]
    text = text_of(sven.get(PAYOUTS).text)
    assert "vorbereitet, wartet auf Freigabe" not in text and "gebucht" in text
    assert "Überweisungen (1)" in text_of(sven.get(f"{PAYOUTS}/{env['run']}").text)
    files = read_payout_published(env["state"], TENANT).files
    assert files.select("stage", "count", "control_sum_cents").rows() == [("final", 1, 3000)]
    pdf = sven.get(f"{PAYOUTS}/{env['run']}/letters.pdf")                   # now the final letters
    assert pdf.status_code == 200 and "entwurf" not in pdf.headers["content-disposition"]
    assert release(sven, env["run"]).status_code == 409                     # booked: nothing to release


def test_another_tenants_user_and_the_enforcement_office_see_nothing_of_it(env: dict[str, Any]) -> None:
    nora = login(env, "nora")                                   # supervisor of the other tenant only
    paths = [PAYOUTS, f"{PAYOUTS}/{env['run']}", f"{PAYOUTS}/{env['run']}/letters.pdf"]
    assert [nora.get(p).status_code for p in paths] == [403] * len(paths)
    own = nora.get(f"/t/{OTHER}/payouts")
    assert own.status_code == 200 and "Noch kein Auszahlungslauf veröffentlicht" in own.text
    assert "Anna Alt" not in own.text
    r = nora.post(f"{PAYOUTS}/{env['run']}/release", data={"csrf_token": token(own.text)}, follow_redirects=False)
    assert r.status_code == 403 and env["run"] not in read_releases(env["state"], TENANT)
    # a release line of the right kind for the other tenant changes nothing here, and the reverse
    record_release(env["state"], OTHER, env["run"], user="nora", role="supervisor", prepared_by="anna",
                   kind="payout_release")
    assert read_payout_published(env["state"], TENANT).runs["status"].to_list() == ["prepared"]
    vera = login(env, "vera")                                   # the enforcement office: case files only
    assert [vera.get(p).status_code for p in paths] == [403] * len(paths)
    assert "Auszahlungen" not in vera.get(f"/t/{TENANT}/akte").text


def test_names_are_escaped(tmp_path: Path) -> None:
    state = tmp_path / "state"
    run = "20261119-stadt-payout-deadbeef"
    publish_payout(state, TENANT, {
        "runs": pl.DataFrame([{"run_id": run, "run_date": date(2026, 11, 19), "status": "prepared",
                               "prepared_by": "anna", "n_items": 1, "total_cents": 100}],
                             schema_overrides=PAYOUT_RUNS_SCHEMA),
        "transfers": pl.DataFrame({"run_id": [run], "status": ["prepared"], "payee_name": ["<script>alert(1)</script>"],
                                   "remittance": ["<b>x</b>"], "amount_cents": [100]}),
    }, on=date(2026, 11, 19))
    users = write_users(tmp_path / "users.toml")
    app = create_app(load_review_config(review_config(tmp_path, state)), load_users(users))
    page = login({"app": app}, "sven").get(f"{PAYOUTS}/{run}")
    assert page.status_code == 200
    assert "<script>alert" not in page.text and "&lt;script&gt;alert(1)&lt;/script&gt;" in page.text
    assert "&lt;b&gt;x&lt;/b&gt;" in page.text


def test_the_lists_are_paged_and_the_overview_links_to_the_rest(tmp_path: Path) -> None:
    state = tmp_path / "state"
    run = "20261119-stadt-payout-cafe0001"
    publish_payout(state, TENANT, {
        "runs": pl.DataFrame([{"run_id": run, "run_date": date(2026, 11, 19), "status": "prepared",
                               "prepared_by": "anna", "n_items": 3, "total_cents": 600}],
                             schema_overrides=PAYOUT_RUNS_SCHEMA),
        "transfers": pl.DataFrame({"run_id": [run] * 3, "status": ["prepared"] * 3,
                                   "payee_name": ["Erna Eins", "Zora Zwei", "Dora Drei"], "amount_cents": [100, 200, 300]}),
    }, on=date(2026, 11, 19))
    users = write_users(tmp_path / "users.toml")
    app = create_app(load_review_config(review_config(tmp_path, state, page_size=1)), load_users(users))
    anna = login({"app": app}, "anna")
    overview = text_of(anna.get(PAYOUTS).text)
    assert "Dora Drei" in overview and "Zora Zwei" not in overview and "alle 3 ansehen" in overview
    pages = [text_of(anna.get(f"{PAYOUTS}/{run}?page={n}").text) for n in (1, 2, 3)]
    assert [n for p in pages for n in ("Dora Drei", "Erna Eins", "Zora Zwei") if n in p] == [
        "Dora Drei", "Erna Eins", "Zora Zwei"]
    assert "Seite 2 von 3" in pages[1]
    assert "Seite 3 von 3" in text_of(anna.get(f"{PAYOUTS}/{run}?page=99").text)     # clamped


def test_the_iban_is_published_masked() -> None:
    from ledger.publish_payout import masked_iban

    df = pl.DataFrame({"iban": ["DE89 3704 0044 0532 0130 00", "de44500105175407324931", "DE12", None]})
    assert df.select(masked_iban("iban"))["iban"].to_list() == ["DE89 ···· 3000", "DE44 ···· 4931", "····", "····"]
