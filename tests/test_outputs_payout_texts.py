"""Every payout code a clerk can meet has a German text."""

from __future__ import annotations

import pytest

from claims.vocab import PayoutSkip, PayoutSource, SetoffSkip
from outputs.dunning_texts import text_of
from outputs.payout_texts import PAYOUT_SKIP_TEXT, PAYOUT_SOURCE_TEXT, SETOFF_SKIP_TEXT


@pytest.mark.parametrize(("enum", "table"), [
    (PayoutSkip, PAYOUT_SKIP_TEXT), (SetoffSkip, SETOFF_SKIP_TEXT), (PayoutSource, PAYOUT_SOURCE_TEXT)])
def test_every_member_has_a_german_text(enum: type, table: dict[str, str]) -> None:
    assert set(table) == {m.value for m in enum}
    assert all(text.strip() and text != code for code, text in table.items())
    assert len(set(table.values())) == len(table)


def test_an_unknown_code_is_shown_as_it_is() -> None:
    assert text_of(PAYOUT_SKIP_TEXT, "something_new") == "something_new"
    assert text_of(PAYOUT_SKIP_TEXT, "iban_invalid").startswith("IBAN ungültig")


def test_every_payout_code_is_documented() -> None:
    import re
    from pathlib import Path

    text = (Path(__file__).resolve().parent.parent / "docs" / "SEPA_PAYOUT.md").read_text(encoding="utf-8")
    documented = set(re.findall(r"^\| `([a-z_]+)`", text, flags=re.MULTILINE))
    assert {m.value for m in (*PayoutSkip, *SetoffSkip)} <= documented
