"""The review page's dunning views: Mahnsperren (set, four-eyes approval, lift), the prepared Mahnlauf
with its release (four-eyes) and sample letters (only from the tenant's folders), a debtor's Mahnhistorie."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from review_data import OTHER, TENANT, config_file, write_state, write_users
from test_review_app import login, token

from claims.vocab import BlockReason, BlockState
from ledger.block_journal import read_blocks, set_block
from ledger.publish_dunning import RUNS_SCHEMA, publish_dunning
from ledger.release_journal import read_releases
from review import create_app, load_review_config, load_users
from review.dunning_state import debtor_notices, read_dunning

BLOCKS = f"/t/{TENANT}/blocks"
DUNNING = f"/t/{TENANT}/dunning"
TODAY = datetime.now(UTC).date()
RUN = "dun-2026-W10"
PDF = b"%PDF-1.4\n% Musterbriefe\n%%EOF\n"


def write_dunning(state: Path, *, status: str = "prepared", prepared_by: str = "bert",
                  sample_pdf: str | None = None, letters_pdf: str | None = None, tenant: str = TENANT) -> Path:
    """A dunning snapshot published by the job's own ``publish_dunning`` (runs, notices, notice items)."""
    counts = {"level": {"mahnung": 2, "zahlungserinnerung": 1},
              "skipped": {"blocked": 2, "schonfrist": 5, "below_threshold": 1},
              "blocked": {"INSOLVENZ": 1, "STUNDUNG": 1}, "dropped": {"settled": 1} if status == "booked" else {}}
    at = datetime(2026, 3, 10, 6, 0, tzinfo=UTC)
    runs = pl.DataFrame([{
        "run_id": RUN, "week": "2026-W10", "as_of": date(2026, 3, 10), "status": status,
        "prepared_by": prepared_by, "prepared_at": at,
        "released_by": "sven" if status != "prepared" else None,
        "released_at": at + timedelta(hours=3) if status != "prepared" else None,
        "booked_at": at + timedelta(days=1) if status == "booked" else None,
        "n_notices": 3, "n_claims": 4, "fees_total_cents": 1850, "surcharges_total_cents": 4200,
        "interest_total_cents": 0, "counts_json": json.dumps(counts), "sample_pdf": sample_pdf,
        "letters_pdf": letters_pdf,
    }], schema=RUNS_SCHEMA)
    notices = [("N-1", "dun-2026-W06", "D1", "Erika Mustermann", "zahlungserinnerung", date(2026, 2, 10), date(2026, 2, 20), 1, 5000),
               ("N-1", RUN, "D1", "Erika Mustermann", "mahnung", date(2026, 3, 10), date(2026, 3, 20), 2, 15700),
               ("N-3", RUN, "D2", "<script>alert(1)</script>", "mahnung", date(2026, 3, 10), date(2026, 3, 20), 1, 3933)]
    items = [("dun-2026-W06", "N-1", "R-HUND-1", "1234.5678.9029", "HUNDESTEUER", date(2026, 2, 15), 5000, 0, 0, 0),
             (RUN, "N-1", "R-GRST-1", "1234.5678.9012", "GRUNDSTEUER", date(2026, 2, 15), 10000, 100, 600, 0),
             (RUN, "N-1", "R-HUND-1", "1234.5678.9029", "HUNDESTEUER", date(2026, 2, 15), 5000, 0, 0, 0),
             (RUN, "N-3", "R-ABF-7", "5555.0000.1111", "ABFALL", date(2026, 2, 15), 3333, 0, 600, 0)]
    return publish_dunning(
        state, tenant, runs=runs,
        notices=pl.DataFrame(notices, schema=["notice_id", "run_id", "debtor_id", "debtor_name", "level", "notice_date",
                                              "deadline", "n_claims", "total_cents"], orient="row").with_columns(
            status=pl.when(pl.col("run_id") == RUN).then(pl.lit(status)).otherwise(pl.lit("booked"))),
        items=pl.DataFrame(items, schema=["run_id", "notice_id", "receivable_id", "kassenzeichen", "claim_type",
                                          "due_date", "open_cents", "saeumniszuschlag_cents", "mahngebuehr_cents",
                                          "interest_cents"], orient="row"))


@pytest.fixture(scope="module")
def users_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_users(tmp_path_factory.mktemp("users") / "users.toml")


def _env(tmp_path: Path, users_file: Path, **dunning: Any) -> dict[str, Any]:
    state = write_state(tmp_path / "state")
    write_dunning(state, **dunning)
    config = load_review_config(config_file(tmp_path, state))
    return {"state": state, "root": tmp_path, "app": create_app(config, load_users(users_file))}


@pytest.fixture
def env(tmp_path: Path, users_file: Path) -> dict[str, Any]:
    return _env(tmp_path, users_file)


def _post(client: Any, url: str, page: str = BLOCKS, **form: Any) -> Any:
    return client.post(url, data={"csrf_token": token(client.get(page).text), **form}, follow_redirects=False)


def _set(client: Any, target: str, *, kind: str = "claim", reason: str = "STUNDUNG", until: str = "",
         note: str = "Antrag vom 01.03.") -> Any:
    return _post(client, f"{BLOCKS}/set", kind=kind, target=target, reason=reason, until=until, note=note)


# --- Mahnsperren -------------------------------------------------------------------------------------


def test_set_a_block_on_a_claim_by_kassenzeichen_and_on_a_debtor(env: dict[str, Any]) -> None:
    anna = login(env, "anna")
    until = (TODAY + timedelta(days=30)).isoformat()
    assert _set(anna, "123456789012", until=until).status_code == 303          # Kassenzeichen without dots
    r = _set(anna, "D2", kind="debtor", reason="INSOLVENZ", note="Verfahren eröffnet, AG Köln")
    assert r.status_code == 303
    blocks = {(b.receivable_id, b.debtor_id): b for b in read_blocks(env["state"], TENANT)}
    claim, debtor = blocks[("R-GRST-1", None)], blocks[(None, "D2")]
    assert (claim.reason, claim.until, claim.set_by, claim.needs_approval) == ("STUNDUNG", TODAY + timedelta(days=30), "anna", False)
    assert (debtor.reason, debtor.until, debtor.needs_approval) == ("INSOLVENZ", None, True)
    page = anna.get(BLOCKS).text
    assert "Stundung (§ 222 AO)" in page and "Insolvenzverfahren" in page and "1234.5678.9012" in page
    assert "Max Müller" in page and "über 90 Tage: braucht Freigabe" in page
    assert 'href="/t/musterstadt/debtor?id=D2"' in page                       # to the debtor's history


@pytest.mark.parametrize(("form", "status", "why"), [
    ({"target": "0000.0000.0000"}, 422, "keine offene Forderung"),
    ({"target": "D9", "kind": "debtor"}, 422, "kein Schuldner"),
    ({"target": "R-ABF-7", "reason": "LAUNE"}, 422, "Sperrgrund"),
    ({"target": "R-ABF-7", "until": "2020-01-01"}, 422, "Vergangenheit"),
    ({"target": "R-ABF-7", "until": "31.12.2027"}, 422, "Datum"),
    ({"target": "R-ABF-7", "note": "  "}, 422, "Begründung"),
])
def test_set_refused(env: dict[str, Any], form: dict[str, str], status: int, why: str) -> None:
    r = _set(login(env, "anna"), **form)
    assert r.status_code == status and why in r.text
    assert read_blocks(env["state"], TENANT) == []


def test_auditor_reads_but_cannot_write_and_csrf_is_required(env: dict[str, Any]) -> None:
    set_block(env["state"], TENANT, debtor_id="D1", reason=BlockReason.MAHNSPERRE, until=None, note="Prüfung",
              user="anna", role="clerk")
    (block,) = read_blocks(env["state"], TENANT)
    otto = login(env, "otto")
    page = otto.get(BLOCKS).text
    assert "Mahnsperre" in page and "Sperre setzen" not in page and "Aufheben" not in page and "Freigeben" not in page
    assert _set(otto, "R-ABF-7").status_code == 403
    assert _post(otto, f"/t/{TENANT}/block/{block.block_id}/lift", note="weg").status_code == 403
    anna = login(env, "anna")
    r = anna.post(f"{BLOCKS}/set", data={"kind": "claim", "target": "R-ABF-7", "reason": "STUNDUNG", "note": "x"})
    assert r.status_code == 403 and "CSRF" in r.text
    assert anna.get(f"/t/{OTHER}/blocks").status_code == 403
    assert len(read_blocks(env["state"], TENANT)) == 1


@pytest.mark.parametrize(("setter", "approver", "why"), [
    ("sven", "sven", "Vier-Augen-Prinzip"),        # the setter, a supervisor
    ("anna", "bert", "nur eine Aufsicht"),         # a clerk
    ("anna", "otto", "darf nur lesen"),            # an auditor
])
def test_long_block_approval_refused(env: dict[str, Any], setter: str, approver: str, why: str) -> None:
    role = "supervisor" if setter == "sven" else "clerk"
    b = set_block(env["state"], TENANT, receivable_id="R-GEW-9", reason=BlockReason.ADV, until=None,
                  note="Klage anhängig", user=setter, role=role)
    r = _post(login(env, approver), f"/t/{TENANT}/block/{b.block_id}/approve")
    assert r.status_code == 403 and why in r.text
    assert read_blocks(env["state"], TENANT)[0].approved_by is None


def test_long_block_approved_by_another_supervisor(env: dict[str, Any]) -> None:
    b = set_block(env["state"], TENANT, receivable_id="R-GEW-9", reason=BlockReason.ADV,
                  until=TODAY + timedelta(days=200), note="Klage anhängig", user="sven", role="supervisor")
    paula = login(env, "paula")
    assert "Freigeben" in paula.get(BLOCKS).text and "Freigeben" not in login(env, "sven").get(BLOCKS).text
    r = _post(paula, f"/t/{TENANT}/block/{b.block_id}/approve")
    assert r.status_code == 303
    (after,) = read_blocks(env["state"], TENANT)
    assert after.approved_by == "paula" and not after.awaiting_approval
    assert after.state_on(TODAY + timedelta(days=150)) == BlockState.IN_FORCE
    assert "freigegeben von paula" in paula.get(BLOCKS).text
    assert _post(paula, f"/t/{TENANT}/block/{b.block_id}/approve").status_code == 409      # nothing left to approve


def test_short_block_needs_no_approval(env: dict[str, Any]) -> None:
    b = set_block(env["state"], TENANT, receivable_id="R-GEW-9", reason=BlockReason.MAHNSPERRE,
                  until=TODAY + timedelta(days=90), note="Rückfrage Fachamt", user="anna", role="clerk")
    assert not b.needs_approval
    assert _post(login(env, "sven"), f"/t/{TENANT}/block/{b.block_id}/approve").status_code == 409


def test_lift_needs_a_note_and_happens_once(env: dict[str, Any]) -> None:
    b = set_block(env["state"], TENANT, debtor_id="D1", reason=BlockReason.VERSTORBEN, until=None,
                  note="Sterbeurkunde liegt vor", user="anna", role="clerk")
    bert = login(env, "bert")
    assert _post(bert, f"/t/{TENANT}/block/{b.block_id}/lift", note=" ").status_code == 422
    assert _post(bert, f"/t/{TENANT}/block/{b.block_id}/lift", note="Erbe ermittelt").status_code == 303
    (after,) = read_blocks(env["state"], TENANT)
    assert (after.lifted_by, after.lift_note, after.state_on(TODAY)) == ("bert", "Erbe ermittelt", BlockState.LIFTED)
    assert _post(bert, f"/t/{TENANT}/block/{b.block_id}/lift", note="nochmal").status_code == 409
    assert "Keine Sperren" in bert.get(BLOCKS).text                             # live ones only by default
    assert "Erbe ermittelt" in bert.get(f"{BLOCKS}?show=all").text
    assert _post(bert, f"/t/{TENANT}/block/nope/lift", note="x").status_code == 404


def test_filter_by_debtor_and_kassenzeichen(env: dict[str, Any]) -> None:
    set_block(env["state"], TENANT, receivable_id="R-ABF-7", reason=BlockReason.RATENZAHLUNG,
              until=TODAY + timedelta(days=60), note="Raten ab April", user="anna", role="clerk")
    set_block(env["state"], TENANT, debtor_id="D3", reason=BlockReason.INSOLVENZ,
              until=TODAY + timedelta(days=60), note="Antrag gestellt", user="anna", role="clerk")
    anna = login(env, "anna")
    for q, shown, hidden in [("5555.0000.1111", "Raten ab April", "Antrag gestellt"),
                             ("555500001111", "Raten ab April", "Antrag gestellt"),
                             ("D3", "Antrag gestellt", "Raten ab April"),
                             ("bäckerei", "Antrag gestellt", "Raten ab April")]:
        page = anna.get(BLOCKS, params={"q": q}).text
        assert shown in page and hidden not in page, q


# --- Mahnlauf ------------------------------------------------------------------------------------------


def test_the_prepared_run_with_german_counts(env: dict[str, Any]) -> None:
    page = login(env, "anna").get(DUNNING)
    assert page.status_code == 200
    text = page.text
    for shown in (RUN, "vorbereitet, wartet auf Freigabe", "Mahnung", "Zahlungserinnerung", "18,50 €", "42,00 €",
                  "Mahnsperre oder anderer Sperrgrund in Kraft", "Schonfrist (eine Woche) noch nicht abgelaufen",
                  "Unter der Kleinbetragsgrenze", "3 Schreiben über 4 Forderungen", "– Insolvenzverfahren",
                  "– Stundung (§ 222 AO)"):
        assert shown in text, shown
    assert "Beim Buchen zurückgehalten" not in text
    assert "Mahnlauf freigeben" not in text                                    # a clerk cannot release
    assert "Mahnlauf freigeben" not in login(env, "bert").get(DUNNING).text    # nor the preparer
    assert "Mahnlauf freigeben" in login(env, "sven").get(DUNNING).text


@pytest.mark.parametrize(("who", "why"), [("anna", "nur eine Aufsicht"), ("otto", "darf nur lesen")])
def test_release_refused_for_clerk_and_auditor(env: dict[str, Any], who: str, why: str) -> None:
    r = _post(login(env, who), f"{DUNNING}/{RUN}/release", page=DUNNING)
    assert r.status_code == 403 and why in r.text
    assert read_releases(env["state"], TENANT) == {}


def test_the_preparer_may_not_release(tmp_path: Path, users_file: Path) -> None:
    env = _env(tmp_path, users_file, prepared_by="sven")
    r = _post(login(env, "sven"), f"{DUNNING}/{RUN}/release", page=DUNNING)
    assert r.status_code == 403 and "Vier-Augen-Prinzip" in r.text
    assert read_releases(env["state"], TENANT) == {}


def test_another_supervisor_releases_once(env: dict[str, Any]) -> None:
    sven = login(env, "sven")
    r = sven.post(f"{DUNNING}/{RUN}/release", data={}, follow_redirects=False)
    assert r.status_code == 403 and "CSRF" in r.text
    assert _post(sven, f"{DUNNING}/{RUN}/release", page=DUNNING).status_code == 303
    (release,) = read_releases(env["state"], TENANT).values()
    assert (release.run_id, release.released_by, release.prepared_by) == (RUN, "sven", "bert")
    page = sven.get(DUNNING).text                      # the journal line is laid over the published run
    assert "freigegeben, wird gebucht" in page and "der nächste Mahnlauf bucht ihn" in page
    assert "Mahnlauf freigeben" not in page
    assert _post(login(env, "paula"), f"{DUNNING}/{RUN}/release", page=DUNNING).status_code == 409
    assert _post(sven, f"{DUNNING}/unknown/release", page=DUNNING).status_code == 404


@pytest.mark.parametrize("status", ["released", "booked"])
def test_released_and_booked_runs_show_their_state(tmp_path: Path, users_file: Path, status: str) -> None:
    env = _env(tmp_path, users_file, status=status)
    paula = login(env, "paula")
    page = paula.get(DUNNING).text
    assert {"released": "freigegeben, wird gebucht", "booked": "gebucht"}[status] in page
    assert "Mahnlauf freigeben" not in page and "sven" in page
    r = _post(paula, f"{DUNNING}/{RUN}/release", page=DUNNING)
    assert r.status_code == 409 and "schon freigegeben von sven" in r.text
    assert read_releases(env["state"], TENANT) == {}


def test_the_booked_runs_final_letters(tmp_path: Path, users_file: Path) -> None:
    final = _pdf_at(tmp_path / "reports" / TENANT / "2026-03-11" / "mahnschreiben.pdf")
    env = _env(tmp_path, users_file, status="booked", letters_pdf=final)
    anna = login(env, "anna")
    page = anna.get(DUNNING).text
    assert "Briefe (endgültig)" in page and f'href="{DUNNING}/{RUN}/letters.pdf"' in page
    assert "Beim Buchen zurückgehalten" in page and "Inzwischen beglichen" in page
    assert f"{RUN}/sample.pdf" not in page                                     # no draft was published
    r = anna.get(f"{DUNNING}/{RUN}/letters.pdf")
    assert r.status_code == 200 and r.content == PDF and "mahnschreiben" in r.headers["content-disposition"]
    assert anna.get(f"{DUNNING}/{RUN}/sample.pdf").status_code == 404
    assert anna.get(f"{DUNNING}/{RUN}/users.pdf").status_code == 404           # only the two kinds


def test_no_run_published_yet(tmp_path: Path, users_file: Path) -> None:
    state = write_state(tmp_path / "state")
    app = create_app(load_review_config(config_file(tmp_path, state)), load_users(users_file))
    assert "Noch kein Mahnlauf veröffentlicht" in login({"app": app}, "anna").get(DUNNING).text


# --- sample letters: only from the tenant's report and run folders -------------------------------------


def _pdf_at(path: Path) -> str:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(PDF)
    return str(path)


def test_sample_letters_from_the_run_folder_are_served(tmp_path: Path, users_file: Path) -> None:
    pdf = _pdf_at(tmp_path / "state" / "runs" / TENANT / RUN / "sample_letters.pdf")
    env = _env(tmp_path, users_file, sample_pdf=pdf)
    otto = login(env, "otto")                                                  # reading is for everyone
    assert f'href="{DUNNING}/{RUN}/sample.pdf"' in otto.get(DUNNING).text
    r = otto.get(f"{DUNNING}/{RUN}/sample.pdf")
    assert r.status_code == 200 and r.content == PDF
    assert r.headers["content-type"] == "application/pdf" and r.headers["content-disposition"].startswith("attachment")


def test_sample_letters_from_the_report_folder_and_relative_paths(tmp_path: Path, users_file: Path) -> None:
    _pdf_at(tmp_path / "reports" / TENANT / "2026-03-10" / "musterbriefe.pdf")
    env = _env(tmp_path, users_file, sample_pdf=str(tmp_path / "reports" / TENANT / "2026-03-10" / "musterbriefe.pdf"))
    assert login(env, "anna").get(f"{DUNNING}/{RUN}/sample.pdf").status_code == 200
    _pdf_at(tmp_path / "state" / "runs" / TENANT / RUN / "m.pdf")
    write_dunning(env["state"], sample_pdf=f"{RUN}/m.pdf")                     # relative: from the run folder
    assert login(env, "anna").get(f"{DUNNING}/{RUN}/sample.pdf").content == PDF


@pytest.mark.parametrize("where", ["outside", "dotdot", "symlink", "other_tenant", "not_pdf", "missing"])
def test_hostile_sample_paths_are_refused(tmp_path: Path, users_file: Path, where: str) -> None:
    runs = tmp_path / "state" / "runs" / TENANT / RUN
    secret = _pdf_at(tmp_path / "geheim" / "secret.pdf")
    raw = {
        "outside": secret,
        "dotdot": f"{RUN}/../../../../geheim/secret.pdf",
        "symlink": str(runs / "link.pdf"),
        "other_tenant": _pdf_at(tmp_path / "state" / "runs" / OTHER / RUN / "sample.pdf"),
        "not_pdf": str(runs / "users.toml"),
        "missing": str(runs / "nothing.pdf"),
    }[where]
    runs.mkdir(parents=True, exist_ok=True)
    (runs / "link.pdf").symlink_to(secret)
    (runs / "users.toml").write_text("secret", encoding="utf-8")
    env = _env(tmp_path, users_file, sample_pdf=raw)
    anna = login(env, "anna")
    r = anna.get(f"{DUNNING}/{RUN}/sample.pdf")
    assert r.status_code == 403 and "nicht im Bericht- oder Laufordner" in r.text
    assert not r.content.startswith(b"%PDF") and "secret" not in r.text
    page = anna.get(DUNNING).text
    assert "sample.pdf" not in page and "liegen nicht im Bericht- oder Laufordner" in page


# --- Mahnhistorie --------------------------------------------------------------------------------------


def test_a_debtors_notices_with_their_claims(env: dict[str, Any]) -> None:
    set_block(env["state"], TENANT, debtor_id="D1", reason=BlockReason.STUNDUNG,
              until=TODAY + timedelta(days=30), note="Stundung bis Monatsende", user="anna", role="clerk")
    otto = login(env, "otto")
    r = otto.get(f"/t/{TENANT}/debtor", params={"id": "D1"})
    assert r.status_code == 200
    text = r.text
    assert "Erika Mustermann" in text and "2 Mahnschreiben" in text
    assert text.index("Mahnung vom 10.03.2026") < text.index("Zahlungserinnerung vom 10.02.2026")   # newest first
    assert "zahlbar bis 20.03.2026" in text and "157,00 €" in text and "6,00" in text and "1,00" in text
    assert "1234.5678.9012" in text and "Stundung (§ 222 AO)" in text
    assert text.count("vorbereitet, noch nicht versandt") == 1                  # the prepared run's notice only
    r = otto.get(f"/t/{TENANT}/debtor", params={"id": "D2"})
    assert "<script>alert(1)</script>" not in r.text and "&lt;script&gt;" in r.text
    assert "noch nicht gemahnt" in otto.get(f"/t/{TENANT}/debtor", params={"id": "D3"}).text
    assert otto.get(f"/t/{TENANT}/debtor").status_code == 404
    assert otto.get(f"/t/{OTHER}/debtor", params={"id": "D1"}).status_code == 403


def test_the_payment_detail_links_each_candidates_debtor_history(env: dict[str, Any]) -> None:
    page = login(env, "anna").get(f"/t/{TENANT}/item/tx-split").text
    assert f'href="/t/{TENANT}/debtor?id=D1"' in page and "Mahnhistorie" in page


def test_navigation_has_the_dunning_pages(env: dict[str, Any]) -> None:
    page = login(env, "otto").get(f"/t/{TENANT}/").text
    assert f'href="{DUNNING}"' in page and f'href="{BLOCKS}"' in page


def test_a_notice_is_named_by_run_and_notice_id(env: dict[str, Any]) -> None:
    notices = debtor_notices(read_dunning(env["state"], TENANT), "D1")     # both runs have a notice N-1
    assert [(n["run_id"], n["level"], [i["receivable_id"] for i in n["items"]]) for n in notices] == [
        (RUN, "mahnung", ["R-GRST-1", "R-HUND-1"]), ("dun-2026-W06", "zahlungserinnerung", ["R-HUND-1"])]


# --- with the real dunning job ---------------------------------------------------------------------------


def test_the_job_prepares_the_page_releases_the_job_books(tmp_path: Path, users_file: Path) -> None:
    """prepare (job, anna) → the page shows the run and its draft letters → sven releases on the page →
    the job books → the page shows it booked with the final letters, and the debtor's Mahnung."""
    from test_dunning_job import AS_OF as DUN_AS_OF
    from test_dunning_job import first_night

    from claims.config import load_tenant_config
    from jobs.dunning import run_dunning

    (tmp_path / "kasse.toml").write_text(f'[tenant]\nid = "{TENANT}"\n\n[[accounts]]\niban = "DE02120300000000202051"\n',
                                         encoding="utf-8")
    cfg = load_tenant_config(tmp_path / "kasse.toml")
    first_night(cfg)
    prepared = run_dunning(cfg, DUN_AS_OF, user="anna")
    assert prepared.status == "prepared" and prepared.run_id
    run_id = prepared.run_id
    app = create_app(load_review_config(tmp_path / "kasse.toml"), load_users(users_file))
    env = {"app": app}
    sven = login(env, "sven")
    page = sven.get(DUNNING).text
    assert run_id in page and "vorbereitet, wartet auf Freigabe" in page and "Mahnlauf freigeben" in page
    assert f"{run_id}/sample.pdf" in page                                    # the draft letters, in the run folder
    draft = sven.get(f"{DUNNING}/{run_id}/sample.pdf")
    assert draft.status_code == 200 and draft.content.startswith(b"%PDF")
    assert _post(login(env, "anna"), f"{DUNNING}/{run_id}/release", page=DUNNING).status_code == 403
    assert _post(sven, f"{DUNNING}/{run_id}/release", page=DUNNING).status_code == 303
    assert "freigegeben, wird gebucht" in sven.get(DUNNING).text

    booked = run_dunning(cfg, DUN_AS_OF, user="anna")
    assert (booked.status, booked.run_id) == ("booked", run_id)
    page = sven.get(DUNNING).text
    assert "gebucht" in page and "Mahnlauf freigeben" not in page
    assert f"{run_id}/letters.pdf" in page                                   # the final letters, in the reports
    final = sven.get(f"{DUNNING}/{run_id}/letters.pdf")
    (run,) = read_dunning(cfg.state_dir, TENANT).runs.to_dicts()
    assert Path(run["letters_pdf"]).is_relative_to(cfg.reports / TENANT) and run["letters_pdf"] != run["sample_pdf"]
    assert final.status_code == 200 and final.content == Path(run["letters_pdf"]).read_bytes()
    history = sven.get(f"/t/{TENANT}/debtor", params={"id": "D-R0"}).text
    assert "1 Mahnschreiben" in history and "Mahnung vom 18.11.2026" in history and "7,00" in history
    assert "noch nicht versandt" not in history


def test_the_page_follows_a_new_publication_and_a_release_written_elsewhere(env: dict[str, Any]) -> None:
    from ledger.release_journal import record_release

    otto = login(env, "otto")
    assert "vorbereitet, wartet auf Freigabe" in otto.get(DUNNING).text            # read (and cached) once
    record_release(env["state"], TENANT, RUN, user="paula", role="supervisor", prepared_by="bert")
    page = otto.get(DUNNING).text
    assert "freigegeben, wird gebucht" in page and "paula" in page
    write_dunning(env["state"], status="booked")                                  # the job publishes again
    assert "gebucht" in otto.get(DUNNING).text and "wird gebucht" not in otto.get(DUNNING).text
