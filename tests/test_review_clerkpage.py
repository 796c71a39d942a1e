"""The review page for a full day's work (issue 19 §2): the payer's own open items, save and next, bulk
actions, export, page size, soft locks, the full history, German labels."""

from __future__ import annotations

import doctest
import io
import re
from datetime import date
from pathlib import Path
from typing import Any

import openpyxl
import polars as pl
import pytest
from review_data import TENANT, config_file, klaerungsliste, write_state, write_users
from review_data import open_items as review_open_items
from test_review_app import assign, decide, item, login, token

import review.labels
from claims.vocab import ClaimType, Rule
from ledger.journal import effective_decisions, new_decision, read_decisions
from review import create_app, load_review_config, load_users
from review.bulk import exact_suggestion
from review.history import payment_history
from review.labels import CLAIM_TYPE_TEXT, ROLE_TEXT, RULE_TEXT, de_date, de_time, label
from review.listing import next_payment, parse_list_query
from review.locks import LockStore
from review.state import Snapshot, _with_search_columns
from review.users import ROLES

LIST = f"/t/{TENANT}/"


@pytest.fixture(scope="module")
def users_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_users(tmp_path_factory.mktemp("users") / "users.toml")


@pytest.fixture
def env(tmp_path: Path, users_file: Path) -> dict[str, Any]:
    state = write_state(tmp_path / "state")
    config = load_review_config(config_file(tmp_path, state))
    return {"state": state, "app": create_app(config, load_users(users_file))}


def payer_box(html: str) -> str:
    found = re.search(r'<div class="payer" id="zahler">(.*?)</div>', html, re.S)
    assert found, "no payer box on the page"
    return found.group(1)


# --- 1. the payer's own open items ----------------------------------------------------------------------

def test_payer_items_by_iban_come_without_a_search(env: dict[str, Any]) -> None:
    html = login(env, "anna").get(item("tx-over")).text     # Erika's IBAN, no candidates of the matcher
    box = payer_box(html)
    assert "Erika Mustermann" in box and "IBAN des Zahlers ist beim Schuldner hinterlegt" in box
    assert "2 offene Posten über 150,00 €" in box
    # both of her items are rows of the split table, with an amount field each
    assert "Betrag für 1234.5678.9012" in html and "Betrag für 1234.5678.9029" in html
    assert "Betrag für 9999.1111.2222" not in html           # not hers


def test_payer_items_by_name_when_the_iban_is_unknown(env: dict[str, Any]) -> None:
    box = payer_box(login(env, "anna").get(item("tx-big")).text)   # Bäckerei Korn GmbH, no IBAN
    assert "Bäckerei Korn GmbH" in box and "ähnlicher Name (100 %)" in box and "6.000,00 €" in box


def test_payer_items_by_an_earlier_assignment_from_the_same_iban(env: dict[str, Any]) -> None:
    anna = login(env, "anna")
    assert "Max Müller" not in payer_box(anna.get(item("tx-double")).text)   # Hans Doppelt, Max's IBAN
    assert assign(anna, "tx-noref", [("R-ABF-7", "33,33")]).status_code == 303
    box = payer_box(anna.get(item("tx-double")).text)
    assert "Max Müller" in box and "früher einer Zahlung von dieser IBAN zugeordnet" in box


def test_no_payer_match_says_so(env: dict[str, Any]) -> None:
    box = payer_box(login(env, "anna").get(item("tx-xss")).text)
    assert "führen zu einem Schuldner" in box


# --- 2. save and next, page size, sum, export ---------------------------------------------------------------

def test_next_payment_follows_the_filtered_sorted_list_and_skips_decided_ones() -> None:
    items = _with_search_columns(klaerungsliste())
    by_amount = parse_list_query({"sort": "amount", "dir": "asc"})
    # amounts: tx-xss 12,34 < tx-over 20,00 < tx-noref 33,33 < tx-double 80,00 < tx-split 150,00 < tx-big
    assert next_payment(items, by_amount, "tx-xss", {}) == "tx-over"
    assert next_payment(items, by_amount, "tx-xss", {"tx-over": "pending", "tx-noref": "effective"}) == "tx-double"
    assert next_payment(items, by_amount, "tx-big", {}) is None                    # the last one
    only_open = parse_list_query({"sort": "amount", "dir": "asc", "status": "open"})
    # the decided payment has left the "open" filter, yet its place in the order still counts
    assert next_payment(items, only_open, "tx-over", {"tx-over": "pending"}) == "tx-noref"
    erika = parse_list_query({"q": "erika"})                                       # age desc: tx-split, tx-over
    assert next_payment(items, erika, "tx-split", {}) == "tx-over"
    assert next_payment(items, erika, "tx-noref", {}) == "tx-split"                # not in the list: its first
    pending = parse_list_query({"status": "pending"})                               # decided ones only: none
    assert next_payment(items, pending, "tx-over", {"tx-over": "pending", "tx-xss": "pending"}) is None


def test_save_and_next_goes_to_the_next_payment_of_the_clerks_list(env: dict[str, Any]) -> None:
    anna = login(env, "anna")
    anna.get(LIST, params={"sort": "amount", "dir": "asc", "status": "open"})
    r = decide(anna, "tx-xss", action="retry", then="next")
    assert r.status_code == 303 and r.headers["location"] == item("tx-over")
    html = anna.get(item("tx-over")).text
    assert "Neuer Abgleich über 0,00 € gespeichert" in html or "Neuer Abgleich" in html
    assert f'href="{item("tx-over")}/next" data-key="n"' in html
    nxt = anna.get(item("tx-over") + "/next", follow_redirects=False)               # on without deciding
    assert nxt.status_code == 303 and nxt.headers["location"] == item("tx-noref")
    r = decide(anna, "tx-big", action="retry", then="next")                         # the last: back to the list
    assert r.status_code == 303 and r.headers["location"].startswith(LIST + "?")
    assert "status=open" in r.headers["location"]
    r = decide(anna, "tx-over", action="retry")                                     # plain save stays
    assert r.headers["location"] == item("tx-over")
    anna.get(LIST, params={"status": "open"})                                       # nothing undecided after
    last = anna.get(item("tx-noref") + "/next", follow_redirects=False)
    assert last.headers["location"] == LIST + "?status=open&sort=age&dir=desc&page=1"


def test_page_size_sum_and_german_dates_on_the_list(env: dict[str, Any]) -> None:
    anna = login(env, "anna")
    html = anna.get(LIST).text                                                      # [review] page_size = 3
    assert "Seite 1 von 2" in html and "Summe offen: <strong>6.295,67 €</strong>" in html
    assert "Buchungstag 10.03.2026" in html and "<td>02.03.2026</td>" in html
    assert "Mehrere Forderungen passen gleich gut" in html and ">ambiguous<" not in html
    assert "autofocus" in html and 'data-key="/"' in html
    big = anna.get(LIST, params={"size": "25"}).text
    assert "Seite 1 von 1" in big and len(re.findall(r"<tr data-row>", big)) == 6
    assert "Seite 1 von 2" in anna.get(LIST, params={"size": "7"}).text             # not offered: configured size
    assert "Summe offen: <strong>170,00 €</strong>" in anna.get(LIST, params={"q": "erika"}).text


def test_export_of_the_filtered_list_csv_and_xlsx(env: dict[str, Any]) -> None:
    anna = login(env, "anna")
    assign(anna, "tx-noref", [("R-ABF-7", "33,33")])
    r = anna.get(f"/t/{TENANT}/export.csv", params={"q": "m", "sort": "amount", "dir": "asc", "page": "2"})
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    assert 'filename="klaerungsliste-musterstadt-2026-03-10.csv"' in r.headers["content-disposition"]
    text = r.content.decode("utf-8-sig")
    lines = text.strip().split("\r\n")
    assert lines[0].split(";")[:6] == ["Buchungstag", "Alter (Tage)", "Konto", "Betrag", "offen", "Zahler"]
    # every row of the filter (all pages, page=2 ignored), in the list's order (amount ascending)
    assert [ln.split(";")[5] for ln in lines[1:]] == ["Erika Mustermann", "Max Müller", "Erika Mustermann",
                                                      "Bäckerei Korn GmbH"]
    lines = lines[1:]
    assert "33,33" in lines[1] and "Kein Kassenzeichen im Verwendungszweck gefunden" in lines[1]
    assert lines[1].split(";")[10] == "wirksam"                                  # under the threshold
    x = anna.get(f"/t/{TENANT}/export.xlsx", params={"reason": "no_reference"})
    assert x.status_code == 200
    sheet = openpyxl.load_workbook(io.BytesIO(x.content)).active
    assert sheet.title == "Klärungsliste"
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][:5] == ("Buchungstag", "Alter (Tage)", "Konto", "Betrag", "offen")
    assert sorted(r[5] for r in rows[1:]) == sorted(["Max Müller", "<script>alert('x')</script>", "Bäckerei Korn GmbH"])
    assert {r[4] for r in rows[1:]} == {33.33, 12.34, 6000.0}
    assert anna.get(f"/t/{TENANT}/export.pdf").status_code == 404


# --- 3. bulk actions ---------------------------------------------------------------------------------------

def bulk(client: Any, action: str, ids: list[str], **form: Any) -> Any:
    page = client.get(LIST, params={"size": "25"}).text
    run_id = re.search(r'name="run_id" value="([^"]+)"', page)
    data = {"csrf_token": token(page), "run_id": run_id.group(1) if run_id else "", "bulk": action, "tid": ids, **form}
    return client.post(f"/t/{TENANT}/bulk", data=data, follow_redirects=False)


def result_rows(html: str) -> dict[str, str]:
    rows = re.findall(r'<small class="mono">([^<]+)</small></td>.*?<span class="badge [a-z]+">([^<]+)</span>', html, re.S)
    return dict(rows)


def test_bulk_retry_writes_one_pending_decision_per_row(env: dict[str, Any]) -> None:
    anna = login(env, "anna")
    r = bulk(anna, "retry", ["tx-split", "tx-noref", "nope"])
    assert r.status_code == 200
    assert result_rows(r.text) == {"tx-split": "gespeichert, wartet auf Freigabe",
                                   "tx-noref": "gespeichert, wartet auf Freigabe",
                                   "nope": "steht nicht (mehr) in der Klärungsliste"}
    decisions = read_decisions(env["state"], TENANT)
    assert sorted((d.transaction_id, d.action, d.state, d.requires_approval) for d in decisions) == [
        ("tx-noref", "retry", "pending", True), ("tx-split", "retry", "pending", True)]
    again = bulk(anna, "retry", ["tx-split"])                                      # a decision is already there
    assert result_rows(again.text) == {"tx-split": "übersprungen: hat schon eine Entscheidung (wartet auf Freigabe)"}


def test_bulk_assign_as_suggested_only_for_a_single_exact_candidate(env: dict[str, Any]) -> None:
    anna = login(env, "anna")
    r = bulk(anna, "assign_suggested", ["tx-noref", "tx-big", "tx-split", "tx-double", "tx-over"])
    got = result_rows(r.text)
    assert got["tx-noref"] == got["tx-big"] == "gespeichert, wartet auf Freigabe"
    assert got["tx-split"] == "übersprungen: 2 Vorschläge, nicht genau einer"
    assert got["tx-double"] == got["tx-over"] == "übersprungen: kein Vorschlag"
    decisions = {d.transaction_id: d for d in read_decisions(env["state"], TENANT)}
    assert set(decisions) == {"tx-noref", "tx-big"}
    assert [(a.receivable_id, a.amount_cents) for a in decisions["tx-noref"].allocations] == [("R-ABF-7", 3333)]
    assert all(d.state == "pending" for d in decisions.values())    # below the threshold too: four-eyes


def test_exact_suggestion_needs_the_open_amount_to_equal_the_payment() -> None:
    row = klaerungsliste().filter(pl.col("transaction_id") == "tx-noref").row(0, named=True)
    items = review_open_items()
    assert exact_suggestion(row, items)[0] is not None
    less = items.with_columns(pl.when(pl.col("receivable_id") == "R-ABF-7").then(3000)
                              .otherwise(pl.col("amount_cents")).alias("amount_cents"))
    assert exact_suggestion(row, less) == (None, "Betrag des Vorschlags ist nicht genau der offene Betrag der Zahlung")
    gone = items.filter(pl.col("receivable_id") != "R-ABF-7")
    assert exact_suggestion(row, gone) == (None, "vorgeschlagener Posten 5555.0000.1111 ist nicht mehr offen")


def test_bulk_park_needs_a_note_csrf_and_a_deciding_role(env: dict[str, Any]) -> None:
    anna = login(env, "anna")
    assert bulk(anna, "park", ["tx-double"]).status_code == 422
    r = bulk(anna, "park", ["tx-double"], note="Zahler unbekannt, Rückfrage Bank")
    assert result_rows(r.text) == {"tx-double": "gespeichert, wartet auf Freigabe"}
    (d,) = read_decisions(env["state"], TENANT)
    assert (d.action, d.note, d.state) == ("park", "Zahler unbekannt, Rückfrage Bank", "pending")
    no_token = anna.post(f"/t/{TENANT}/bulk", data={"bulk": "retry", "tid": ["tx-split"], "run_id": "run-0001"})
    assert no_token.status_code == 403
    assert bulk(login(env, "otto"), "retry", ["tx-split"]).status_code == 403      # the auditor
    assert "name=\"tid\"" not in login(env, "otto").get(LIST).text                # and sees no boxes
    assert bulk(anna, "delete", ["tx-split"]).status_code == 400
    assert bulk(anna, "retry", []).status_code == 400
    stale = anna.post(f"/t/{TENANT}/bulk", data={"csrf_token": token(anna.get(LIST).text), "run_id": "run-0000",
                                                  "bulk": "retry", "tid": ["tx-split"]})
    assert stale.status_code == 409


def test_bulk_approve_by_a_supervisor_never_their_own(env: dict[str, Any]) -> None:
    anna, sven = login(env, "anna"), login(env, "sven")
    bulk(anna, "retry", ["tx-split", "tx-noref"])
    bulk(sven, "retry", ["tx-big"])
    assert bulk(anna, "approve", ["tx-split"]).status_code == 403                  # a clerk may not approve
    got = result_rows(bulk(sven, "approve", ["tx-split", "tx-noref", "tx-big", "tx-over"]).text)
    assert got == {"tx-split": "freigegeben (anna): wird im nächsten Lauf gebucht",
                   "tx-noref": "freigegeben (anna): wird im nächsten Lauf gebucht",
                   "tx-big": "übersprungen: eigene Entscheidung (Vier-Augen-Prinzip)",
                   "tx-over": "übersprungen: keine Entscheidung wartet auf Freigabe"}
    assert sorted((d.transaction_id, d.approved_by) for d in effective_decisions(env["state"], TENANT)) == [
        ("tx-noref", "sven"), ("tx-split", "sven")]


# --- 4. soft locks, history -------------------------------------------------------------------------------

def test_a_second_clerk_sees_who_has_the_payment_open(env: dict[str, Any]) -> None:
    anna, bert = login(env, "anna"), login(env, "bert")
    assert "Geöffnet von" not in bert.get(item("tx-split")).text                   # nobody else had it open
    html = anna.get(item("tx-split")).text
    assert "Geöffnet von Bert (bert) seit" in html
    listing = anna.get(LIST, params={"size": "25"}).text
    assert listing.count("geöffnet von Bert") == 1
    assert "geöffnet von Bert" not in bert.get(LIST, params={"size": "25"}).text    # not one's own
    assert "Geöffnet von Anna" in bert.get(item("tx-split")).text
    decide(bert, "tx-split", action="retry")                                        # a decision ends bert's mark
    assert "geöffnet von Bert" not in anna.get(LIST, params={"size": "25"}).text
    otto = login(env, "otto")                                                       # an auditor leaves no mark
    otto.get(item("tx-noref"))
    assert "geöffnet von" not in anna.get(LIST, params={"q": "Max"}).text


def test_a_soft_lock_expires(tmp_path: Path) -> None:
    store = LockStore(tmp_path / "locks.sqlite3", seconds=600)
    store.touch("t", "tx1", "bert", "Bert", now=1000.0)
    assert set(store.held_by_others("t", ["tx1", "tx2"], "anna", now=1599.0)) == {"tx1"}
    assert store.held_by_others("t", ["tx1"], "bert", now=1100.0) == {}
    assert store.held_by_others("t", ["tx1"], "anna", now=1600.0) == {}
    store.touch("t", "tx1", "bert", "Bert", now=1500.0)                              # viewing again renews it
    lock = store.held_by_others("t", ["tx1"], "anna", now=1700.0)["tx1"]
    assert (lock.since, lock.expires_at) == (1000.0, 2100.0)
    assert store.held_by_others("u", ["tx1"], "anna", now=1700.0) == {}              # another tenant
    many = [f"tx{i}" for i in range(1200)]
    for tx in many[::100]:
        store.touch("t", tx, "bert", "Bert", now=1700.0)
    assert len(store.held_by_others("t", many, "anna", now=1701.0)) == 13           # tx1 and 12 more


def test_full_history_of_a_payment(env: dict[str, Any]) -> None:
    anna, sven = login(env, "anna"), login(env, "sven")
    assign(anna, "tx-split", [("R-GRST-1", "100,00"), ("R-HUND-1", "50,00")])
    (first,) = read_decisions(env["state"], TENANT)
    post = {"csrf_token": token(sven.get(item("tx-split")).text), "back": item("tx-split")}
    assert sven.post(f"/t/{TENANT}/decision/{first.decision_id}/approve", data=post,
                     follow_redirects=False).status_code == 303
    decide(anna, "tx-split", action="park", note="Rückfrage beim Zahler")           # replaces the first
    html = anna.get(item("tx-split")).text
    section = html[html.index('id="verlauf"'):]
    texts = re.findall(r'<tr class="event (\w+)">', section)
    # the run published before the clerks decided; the later decision replaced the first
    assert texts == ["bank", "run", "decision", "approval", "superseded", "decision"]
    assert "Gutschrift über 150,00 €" in section and "Buchungstag 02.03.2026" in section
    assert "Zuordnung über 150,00 € an 1234.5678.9012 (100,00 €), 1234.5678.9029 (50,00 €)" in section
    assert "gesehen in Lauf run-0001 (Grund: Mehrere Forderungen passen gleich gut)" in section
    assert "anna (Sachbearbeitung)" in section and "Zuordnung durch eine spätere Entscheidung ersetzt" in section
    assert "„Rückfrage beim Zahler“" in section


def test_history_marks_what_the_run_did_with_a_decision() -> None:
    snap_meta = {"run_id": "run-2", "published_at": "2099-03-11T05:00:00+00:00", "as_of": "2026-03-11"}
    d = new_decision(TENANT, "tx-over", "refund", user="anna", role="clerk", amount_cents=2000,
                     requires_approval=False, refund_iban="DE54100200301234567890")
    snap = Snapshot(TENANT, snap_meta, klaerungsliste(), review_open_items(),
                    outcomes={d.decision_id: ("rejected", "IBAN gesperrt")})
    row = klaerungsliste().filter(pl.col("transaction_id") == "tx-over").row(0, named=True)
    events = payment_history(row, [d], snap)
    assert [e.kind for e in events] == ["bank", "decision", "outcome", "run"]
    assert any(e.text == "Lauf run-2: Erstattung abgelehnt (IBAN gesperrt)" for e in events)


# --- 5. German labels ----------------------------------------------------------------------------------------

def test_german_labels_dates_and_berlin_times() -> None:
    assert de_time("2026-07-01T10:00:00+00:00") == "01.07.2026 12:00"                # summer time
    assert de_time("2026-01-01T10:00:00") == "01.01.2026 11:00"                     # naive means UTC
    assert de_date(date(2026, 3, 2)) == "02.03.2026" and de_date(None) == "" and de_date("kaputt") == "kaputt"
    assert label("rule", "reference.exact") == "Kassenzeichen genau"
    assert label("why", "name_amount") == "Name und Betrag" and label("why", "iban_amount") == "IBAN und Betrag"
    assert label("reason", "no_reference") == "Kein Kassenzeichen im Verwendungszweck gefunden"
    assert label("action", "park") == "Verwahrgeld" and label("decision_state", "superseded") == "ersetzt"
    for member in ClaimType:
        assert CLAIM_TYPE_TEXT.get(member), member
    for member in Rule:
        assert RULE_TEXT.get(member), member
    for role in ROLES:
        assert ROLE_TEXT.get(role), role
    assert doctest.testmod(review.labels).failed == 0


def test_detail_speaks_german(env: dict[str, Any]) -> None:
    anna = login(env, "anna")
    html = anna.get(item("tx-split")).text
    assert "Grundsteuer · fällig 15.02.2026" in html and "Hundesteuer" in html
    assert "(Sachbearbeitung)" in html                                              # the role in the header
    assign(anna, "tx-split", [("R-GRST-1", "100,00"), ("R-HUND-1", "50,00")])
    html = anna.get(item("tx-split")).text
    assert re.search(r"Zuordnung von anna \(Sachbearbeitung\) am \d\d\.\d\d\.\d{4} \d\d:\d\d", html)
