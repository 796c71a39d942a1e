"""Every dunning code a clerk can meet has a German text: skip reasons, block reasons, levels."""

from __future__ import annotations

import re

import pytest

from claims.vocab import BlockReason, DunningLevel, SkipReason
from outputs.dunning_texts import BLOCK_REASON_TEXT, DROP_REASON_TEXT, LEVEL_TEXT, SKIP_REASON_TEXT, text_of


@pytest.mark.parametrize(("enum", "table"), [(SkipReason, SKIP_REASON_TEXT), (BlockReason, BLOCK_REASON_TEXT),
                                             (DunningLevel, LEVEL_TEXT)])
def test_every_member_has_a_german_text(enum: type, table: dict[str, str]) -> None:
    assert set(table) == {m.value for m in enum}
    assert all(text.strip() and text != code for code, text in table.items())
    assert len(set(table.values())) == len(table)              # no two codes read the same


def test_unknown_codes_are_shown_as_they_are() -> None:
    assert text_of(SKIP_REASON_TEXT, "schonfrist") == "Schonfrist (eine Woche) noch nicht abgelaufen"
    assert text_of(BLOCK_REASON_TEXT, "NEUER_GRUND") == "NEUER_GRUND"
    assert text_of(LEVEL_TEXT, None) == ""


def test_every_reason_a_booking_drops_a_notice_for_has_a_text() -> None:
    import inspect

    from jobs.dunning import steps

    codes = set(re.findall(r'pl\.lit\("([a-z_]+)"\)', inspect.getsource(steps.reconcile)))
    assert {"settled", "partly_paid", "changed"} <= codes
    assert codes | {m.value for m in SkipReason} <= set(DROP_REASON_TEXT)
