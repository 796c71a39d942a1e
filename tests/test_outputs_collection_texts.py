"""Every collection code a clerk can meet has a German text."""

from __future__ import annotations

import pytest

from claims.vocab import CollectionHold, CollectSkip, MandateProblem, MandateState, PayoutHold, ReturnAction
from outputs.collection_texts import (
    COLLECT_SKIP_TEXT,
    COLLECTION_HOLD_TEXT,
    MANDATE_PROBLEM_TEXT,
    MANDATE_STATE_TEXT,
    PAYOUT_HOLD_TEXT,
    RETURN_ACTION_TEXT,
)
from outputs.dunning_texts import text_of


@pytest.mark.parametrize(("enum", "table"), [
    (CollectSkip, COLLECT_SKIP_TEXT), (MandateState, MANDATE_STATE_TEXT), (MandateProblem, MANDATE_PROBLEM_TEXT),
    (ReturnAction, RETURN_ACTION_TEXT), (CollectionHold, COLLECTION_HOLD_TEXT),
    (PayoutHold, PAYOUT_HOLD_TEXT)])
def test_every_member_has_a_german_text(enum: type, table: dict[str, str]) -> None:
    assert set(table) == {m.value for m in enum}
    assert all(text.strip() and text != code for code, text in table.items())
    assert len(set(table.values())) == len(table)


def test_a_return_code_is_shown_as_it_is() -> None:
    assert text_of(MANDATE_PROBLEM_TEXT, "AC04") == "AC04"
    assert text_of(COLLECT_SKIP_TEXT, "returned") == "Nach Rücklastschrift kein erneuter Einzug: Mahnverfahren"


def test_every_return_code_with_an_action_has_a_german_text() -> None:
    from claims.config import RETURN_ACTIONS
    from outputs.collection_texts import RETURN_REASON_TEXT

    assert set(RETURN_ACTIONS) <= set(RETURN_REASON_TEXT)
    assert all(len(code) == 4 and code.isupper() and text.strip() for code, text in RETURN_REASON_TEXT.items())
    assert RETURN_REASON_TEXT["AC04"] == "Konto erloschen"
    assert text_of(RETURN_REASON_TEXT, "ZZ99") == "ZZ99"                 # an unknown code as it is
