"""The key figures of the foreign creditors' requests per year (amtshilfe/key_figures.py): literal events in,
literal rows out."""

from __future__ import annotations

from datetime import date
from typing import Any

import polars as pl

from amtshilfe.key_figures import FIGURE_SCHEMA, amtshilfe_key_figures

F = "f" * 12


def ev(day: date, kind: str | None, *, message: str | None = None, outcome: str | None = None,
       check: str | None = None, amount: int | None = None, file: str | None = None) -> dict[str, Any]:
    return {"event_date": day, "kind": kind, "message": message, "outcome": outcome, "check": check,
            "amount_cents": amount, "file_sha256": file}


def received(day: date, outcome: str, amount: int, check: str | None = None) -> dict[str, Any]:
    kind = {"accepted": "accepted", "returned": "returned"}.get(outcome)
    return ev(day, kind, message="ersuchen", outcome=outcome, check=check, amount=amount, file=F)


EVENTS = pl.DataFrame([
    received(date(2025, 12, 30), "accepted", 10_000),
    received(date(2026, 1, 5), "accepted", 20_000),
    received(date(2026, 1, 5), "accepted", 5_000),
    received(date(2026, 1, 5), "returned", 1_000, "not_competent"),
    received(date(2026, 1, 5), "returned", 2_000, "not_competent"),
    received(date(2026, 1, 5), "returned", 3_000, "source_closed"),
    received(date(2026, 1, 5), "flagged", 4_000, "surcharge_doubt"),
    received(date(2026, 1, 6), "repeated", 20_000),                     # a repeat: not received again
    ev(date(2026, 1, 6), None, message="aussetzung", outcome="applied", file=F),   # a change: no figure
    ev(date(2026, 2, 1), "accepted", amount=4_000),                     # the person accepted the flagged one
    ev(date(2026, 2, 1), "withdrawn", message="ruecknahme", outcome="applied", amount=5_000, file=F),
    ev(date(2026, 3, 1), "payment_forwarded", amount=7_500),
    ev(date(2026, 3, 2), "payment_forwarded", amount=2_500),
    ev(date(2026, 3, 2), "settled", amount=20_000),
    ev(date(2026, 4, 1), "uncollectible"),
    ev(date(2026, 4, 30), "cost_invoice", amount=7_400),
    ev(date(2027, 1, 2), "settled"),                                    # after as_of
])
COLLECTED = pl.DataFrame({"booking_date": [date(2026, 2, 27), date(2026, 2, 27), date(2026, 3, 1), date(2026, 3, 5)],
                          "transaction_id": ["T1", "T1", "T2", "T3"], "amount_cents": [5_000, 2_500, 2_500, -500]})


def test_the_figures_per_year_from_literal_events() -> None:
    got = amtshilfe_key_figures(EVENTS, COLLECTED, as_of=date(2026, 12, 31))
    assert got.schema == pl.Schema(FIGURE_SCHEMA)
    rows = {(r["year"], r["figure"], r["reason"]): (r["count"], r["amount_cents"]) for r in got.iter_rows(named=True)}
    assert rows == {
        (2025, "received", None): (1, 10_000), (2025, "accepted", None): (1, 10_000),
        (2025, "flagged", None): (0, 0), (2025, "returned", None): (0, 0), (2025, "withdrawn", None): (0, None),
        (2025, "settled", None): (0, None), (2025, "uncollectible", None): (0, None),
        (2025, "collected", None): (0, 0), (2025, "forwarded", None): (0, 0), (2025, "cost_invoiced", None): (0, 0),
        (2026, "received", None): (6, 35_000),
        (2026, "accepted", None): (3, 29_000),
        (2026, "flagged", None): (1, 4_000),
        (2026, "returned", "not_competent"): (2, 3_000), (2026, "returned", "source_closed"): (1, 3_000),
        (2026, "withdrawn", None): (1, None), (2026, "settled", None): (1, None),
        (2026, "uncollectible", None): (1, None),
        (2026, "collected", None): (3, 9_500),
        (2026, "forwarded", None): (2, 10_000),
        (2026, "cost_invoiced", None): (1, 7_400),
    }
    # the order: year, then the figures as the vocabulary lists them, reasons sorted
    assert got.filter(pl.col("year") == 2026)["figure"].to_list() == [
        "received", "accepted", "flagged", "returned", "returned", "withdrawn", "settled", "uncollectible",
        "collected", "forwarded", "cost_invoiced"]


def test_without_as_of_every_year_and_nothing_gives_no_rows() -> None:
    got = amtshilfe_key_figures(EVENTS, None)
    assert got.filter(pl.col("year") == 2027).select("figure", "count").filter(pl.col("count") > 0).rows() == [
        ("settled", 1)]
    assert amtshilfe_key_figures(None).height == 0
