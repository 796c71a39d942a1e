"""Every enforcement code a clerk can meet has a German text: skip reasons, waivers, outcomes, limitation."""

from __future__ import annotations

import pytest

from claims.vocab import (
    AllowanceMethod,
    ClaimStanding,
    EnforcementOutcome,
    HandoffSkip,
    Interruption,
    LimitationState,
    MahnungWaiver,
    OutcomeHold,
)
from outputs.dunning_texts import text_of
from outputs.enforcement_texts import (
    ALLOWANCE_METHOD_TEXT,
    HANDOFF_SKIP_TEXT,
    INTERRUPTION_TEXT,
    LIMITATION_TEXT,
    MAHNUNG_WAIVER_TEXT,
    OUTCOME_HOLD_TEXT,
    OUTCOME_TEXT,
    STANDING_TEXT,
)


@pytest.mark.parametrize(("enum", "table"), [
    (HandoffSkip, HANDOFF_SKIP_TEXT), (MahnungWaiver, MAHNUNG_WAIVER_TEXT), (EnforcementOutcome, OUTCOME_TEXT),
    (LimitationState, LIMITATION_TEXT), (Interruption, INTERRUPTION_TEXT), (ClaimStanding, STANDING_TEXT),
    (AllowanceMethod, ALLOWANCE_METHOD_TEXT), (OutcomeHold, OUTCOME_HOLD_TEXT)])
def test_every_member_has_a_german_text(enum: type, table: dict[str, str]) -> None:
    assert set(table) == {m.value for m in enum}
    assert all(text.strip() and text != code for code, text in table.items())
    assert len(set(table.values())) == len(table)


def test_the_outcome_codes_are_the_agreed_ones() -> None:
    # h17-format writes and reads these values in the enforcement office's files: they must not drift
    assert [m.value for m in EnforcementOutcome] == ["paid", "partly_paid", "instalments", "uncollectible", "moved",
                                                     "returned", "written_off"]


def test_unknown_codes_are_shown_as_they_are() -> None:
    assert text_of(HANDOFF_SKIP_TEXT, "mahnfrist").startswith("Mahnfrist")
    assert text_of(OUTCOME_TEXT, "neu") == "neu"
