"""Every Amtshilfe code a clerk or a creditor can meet has a German text: checks, outcomes, feedback."""

from __future__ import annotations

import pytest

from claims.vocab import (
    AmtshilfeFigure,
    ErsuchenCheck,
    ErsuchenCostItem,
    ErsuchenDecision,
    ErsuchenFeedback,
    ErsuchenOutcome,
    ErsuchenState,
)
from outputs.amtshilfe_texts import (
    AMTSHILFE_FIGURE_TEXT,
    ERSUCHEN_CHECK_TEXT,
    ERSUCHEN_COST_ITEM_TEXT,
    ERSUCHEN_DECISION_TEXT,
    ERSUCHEN_FEEDBACK_TEXT,
    ERSUCHEN_OUTCOME_TEXT,
    ERSUCHEN_STATE_TEXT,
)
from outputs.dunning_texts import text_of


@pytest.mark.parametrize(("enum", "table"), [
    (ErsuchenCheck, ERSUCHEN_CHECK_TEXT), (ErsuchenOutcome, ERSUCHEN_OUTCOME_TEXT),
    (ErsuchenFeedback, ERSUCHEN_FEEDBACK_TEXT), (ErsuchenCostItem, ERSUCHEN_COST_ITEM_TEXT),
    (ErsuchenDecision, ERSUCHEN_DECISION_TEXT), (ErsuchenState, ERSUCHEN_STATE_TEXT),
    (AmtshilfeFigure, AMTSHILFE_FIGURE_TEXT)])
def test_every_member_has_a_german_text(enum: type, table: dict[str, str]) -> None:
    assert set(table) == {m.value for m in enum}
    assert all(text.strip() and text != code for code, text in table.items())
    assert len(set(table.values())) == len(table)


def test_an_unknown_code_is_shown_as_it_is() -> None:
    assert text_of(ERSUCHEN_CHECK_TEXT, "not_competent").startswith("Nicht zuständig")
    assert text_of(ERSUCHEN_CHECK_TEXT, "something_new") == "something_new"
