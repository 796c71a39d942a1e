"""Failure injection for tests: make a run fail at one named checkpoint (``ledger.checkpoints``).

Production code carries no failure flag; it calls ``checkpoints.reached(name)`` after each step and,
inside the booking transaction, after each table and before the commit. :func:`fail_at` replaces that
function for the test so that it raises :class:`InjectedFailure` at ``name`` (``None``: nowhere).
"""

from __future__ import annotations

import pytest

from ledger import checkpoints


class InjectedFailure(RuntimeError):
    """Raised on purpose at a checkpoint (the tests prove that every step can fail without harm)."""


def fail_at(monkeypatch: pytest.MonkeyPatch, name: str | None) -> None:
    """From now on in this test, reaching checkpoint ``name`` raises :class:`InjectedFailure`."""
    def reached(point: str) -> None:
        if name is not None and point == name:
            raise InjectedFailure(f"injected failure at {point}")

    monkeypatch.setattr(checkpoints, "reached", reached)
