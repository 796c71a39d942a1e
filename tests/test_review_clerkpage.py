"""The review page for a full day's work (issue 19 §2): the payer's own open items, save and next, bulk
actions, export, page size, soft locks, the full history, German labels."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from review_data import TENANT, config_file, write_state, write_users
from test_review_app import assign, item, login

from review import create_app, load_review_config, load_users

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
