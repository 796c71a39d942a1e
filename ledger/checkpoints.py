"""Named points of a run where the tests inject failures; in production they do nothing.

A job calls :func:`reached` after each step (``"ingest"``, ``"match"`` …) and the booking transaction
after each table (``"book.<table>"``) and before its commit (``"book.commit"``). Tests replace the
function (``monkeypatch.setattr(checkpoints, "reached", ...)``) to raise at one of them and prove that a
failure there leaves the ledger as it was and a rerun completes. No production signature carries a
failure flag.
"""

from __future__ import annotations


def reached(name: str) -> None:
    """The run has reached the point ``name`` (nothing happens unless a test replaced this)."""
