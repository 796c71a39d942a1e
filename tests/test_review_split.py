"""Issue 19 §1: a refused split comes back exactly as the clerk filled it; the item search offers only items
with money open; the auditor sees no editable fields; no amount looks filled in that was not typed."""

from __future__ import annotations

import re
from html import unescape
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from review_data import PASSWORD, TENANT, config_file, make_client, open_items, write_state, write_users

from review import create_app, load_review_config, load_users
from review.explain import search_open_items
from review.views_detail import FREE_ROWS, split_rows

ITEM = f"/t/{TENANT}/item/tx-split"


@pytest.fixture(scope="module")
def users_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_users(tmp_path_factory.mktemp("users") / "users.toml")


def login(tmp_path: Path, users_file: Path, who: str) -> Any:
    state = write_state(tmp_path / "state")
    app = create_app(load_review_config(config_file(tmp_path, state)), load_users(users_file))
    client = make_client(app)
    page = client.get("/login").text
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert csrf
    r = client.post("/login", data={"login": who, "password": PASSWORD, "csrf_token": csrf.group(1), "next": "/"},
                    follow_redirects=False)
    assert r.status_code == 303
    return client


def assign_form(page: str) -> list[tuple[str, str]]:
    """The assign form's fields in document order, as a browser submits them."""
    form = page[page.index('class="assign"'):page.index("</form>", page.index('class="assign"'))]
    return [(m.group(1), unescape(m.group(2))) for m in re.finditer(r'<input[^>]*?name="(\w+)"[^>]*?value="([^"]*)"',
                                                                   form, re.S)]


def amounts_by_label(page: str) -> dict[str, str]:
    return {unescape(m.group(1)): unescape(m.group(2)) for m in
            re.finditer(r'aria-label="([^"]+)"[^>]*?value="([^"]*)"', page, re.S)}


def test_split_rows_pairs_listed_and_free_rows_again() -> None:
    rows = split_rows(["R1", "R2", "R3", "5555.0000.1111", ""], ["10,00", "", "3,00", "1,00"], 3)
    assert rows.listed == {"R1": "10,00", "R2": "", "R3": "3,00"}
    assert rows.free == [("5555.0000.1111", "1,00"), ("", "")]
    assert split_rows(["R1"], ["1"], 7).listed == {"R1": "1"} and split_rows(["R1"], ["1"], -1).free == [("R1", "1")]


def test_a_refused_split_with_found_items_comes_back_as_filled(tmp_path: Path, users_file: Path) -> None:
    anna = login(tmp_path, users_file, "anna")
    page = anna.get(ITEM, params={"items_q": "Müller"}).text
    assert "5555.0000.1111" in page                               # found by the search, not proposed
    fields = assign_form(page)
    typed = {"Betrag für 1234.5678.9012": "100,00", "Betrag für 5555.0000.1111": "33,33",
             "Kassenzeichen (weitere Zeile 2)": "9999.1111.2222", "Betrag (weitere Zeile 2)": "1,00"}
    rids = [v for k, v in fields if k == "rid"]
    assert len(rids) == 3 + FREE_ROWS
    amt = ["100,00", "", "33,33", "", "1,00"]
    rids[4] = "9999.1111.2222"
    data = {k: v for k, v in fields if k not in ("rid", "amt")}
    r = anna.post(ITEM + "/decide", data={**data, "rid": rids, "amt": amt}, follow_redirects=False)
    assert r.status_code == 422
    assert "es fehlen 15,67 €" in r.text
    shown = amounts_by_label(r.text)
    for label, value in typed.items():
        assert shown[label] == value, label
    assert shown["Betrag für 1234.5678.9029"] == ""
    assert shown["Kassenzeichen (weitere Zeile 1)"] == ""          # no SO-…/R-… ids refilled
    assert not re.search(r'name="rid"[^>]*value="R-', r.text.replace('type="hidden" name="rid"', ""))
    assert 'name="items_q" value="Müller"' in r.text               # the search is still there
    # sending the page back unchanged would submit the same rows again
    again = [v for k, v in assign_form(r.text) if k == "rid"]
    assert again == rids


def test_the_message_names_the_row_by_its_kassenzeichen(tmp_path: Path, users_file: Path) -> None:
    anna = login(tmp_path, users_file, "anna")
    fields = assign_form(anna.get(ITEM).text)
    rids = [v for k, v in fields if k == "rid"]
    data = {k: v for k, v in fields if k not in ("rid", "amt")}
    r = anna.post(ITEM + "/decide", data={**data, "rid": rids, "amt": ["zehn", "50,00", "", ""]})
    assert r.status_code == 422
    assert "Zeile 1 (1234.5678.9012): &#39;zehn&#39; ist kein Betrag" in r.text
    assert amounts_by_label(r.text)["Betrag für 1234.5678.9012"] == "zehn"


def test_no_amount_looks_filled_in(tmp_path: Path, users_file: Path) -> None:
    page = login(tmp_path, users_file, "anna").get(ITEM).text
    amounts = re.findall(r'<input name="amt"[^>]*>', page)
    assert amounts and all("placeholder" not in a for a in amounts)


def test_the_auditor_sees_no_editable_field(tmp_path: Path, users_file: Path) -> None:
    page = login(tmp_path, users_file, "otto").get(ITEM, params={"items_q": "Müller"}).text
    assert "1234.5678.9012" in page and "5555.0000.1111" in page  # reads the candidates and the search
    fields = re.findall(r"<(?:input|textarea|select)[^>]*>", page)
    names = {m for f in fields for m in re.findall(r'name="(\w+)"', f)}
    assert names <= {"items_q", "csrf_token"}                     # the search and the logout form only
    assert "disabled" not in page


def test_the_item_search_offers_only_items_with_money_open() -> None:
    items = open_items().with_columns(
        pl.when(pl.col("receivable_id") == "R-HUND-1").then(0).otherwise(pl.col("amount_cents")).alias("amount_cents"))
    found = search_open_items(items, "Erika")
    assert found["receivable_id"].to_list() == ["R-GRST-1"]
    assert search_open_items(open_items(), "Erika")["receivable_id"].to_list() == ["R-GRST-1", "R-HUND-1"]
