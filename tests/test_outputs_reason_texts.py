"""Every reason code the matcher documents has a German explanation on the Klärungsliste."""

from __future__ import annotations

import re
from pathlib import Path

from outputs.klaerungsliste import REASON_TEXT

ROOT = Path(__file__).resolve().parent.parent


def _documented_reasons() -> set[str]:
    text = (ROOT / "docs" / "MATCHING.md").read_text(encoding="utf-8")
    section = text.split("reason codes", 1)[1].split("\n## ", 1)[0]
    return set(re.findall(r"^\| `([a-z_]+)`", section, flags=re.MULTILINE))


def test_documented_reason_codes_are_found() -> None:
    assert {"no_reference", "ambiguous", "payer_unconfirmed"} <= _documented_reasons()


def test_every_documented_reason_has_a_german_text() -> None:
    missing = sorted(_documented_reasons() - set(REASON_TEXT))
    assert not missing, f"reason codes without a German text in outputs/klaerungsliste.py: {missing}"
