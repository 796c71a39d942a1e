"""The real Prefect flow (``kasse nightly``) under one session-wide test harness: three flow runs in all."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from test_nightly_plain import D1, counts, deliver_day1, facts, tenant

from flows.cli import main
from ledger.publish import read_published

pytestmark = pytest.mark.usefixtures("prefect_harness")


def _artifact_keys() -> set[str]:
    from prefect.client.orchestration import get_client

    async def read() -> set[str]:
        async with get_client() as client:
            return {a.key for a in await client.read_artifacts() if a.key}

    return asyncio.run(read())


def _artifact_text(key: str) -> str:
    from prefect.client.orchestration import get_client

    async def read() -> str:
        async with get_client() as client:
            return "\n".join(str(a.data) for a in await client.read_artifacts() if a.key == key)

    return asyncio.run(read())


def test_flow_fails_cleanly_then_books_once_and_a_repeat_changes_nothing(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    from faults import InjectedFailure, fail_at

    cfg = tenant(tmp_path)
    deliver_day1(cfg)
    args = ["nightly", "--date", D1.isoformat(), "--config", str(cfg.source)]
    empty = counts(cfg)
    fail_at(monkeypatch, "match")
    with pytest.raises(InjectedFailure):
        main(args)                                       # the flow run fails in its match task
    fail_at(monkeypatch, None)
    assert counts(cfg) == empty

    assert main(args) == 0
    out = capsys.readouterr().out
    assert "stadt 2026-11-16" in out and "day_close_pdf" in out
    first = facts(cfg)
    assert first["transactions"].height == 4
    kl, _, meta = read_published(cfg.state_dir / "published", "stadt")
    assert kl.height == 1 and meta["as_of"] == "2026-11-16"
    assert {"nightly-stadt", "nightly-stadt-pdf"} <= _artifact_keys()
    summary = _artifact_text("nightly-stadt")               # euros, and the night apart from the stock
    assert "## Diese Nacht" in summary and "## Bestand nach der Nacht" in summary
    assert "| offener Betrag der Klärungsliste |" in summary and " €" in summary
    assert "_cents" not in summary

    assert main(args) == 0                               # the same night again
    again = facts(cfg)
    for table, df in first.items():
        assert again[table].equals(df), table
    assert counts(cfg)["runs"] == 2
