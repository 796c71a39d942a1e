"""Clerk decisions checked against the Klärungsliste and open items (plain frames, no I/O)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

import polars as pl

from jobs.nightly.decisions import apply_decisions
from ledger.tables import OPEN_ITEMS, UNRESOLVED
from parsers.schema import conform

DAY = date(2026, 11, 17)


@dataclass
class Alloc:
    receivable_id: str
    kassenzeichen: str
    amount_cents: int


@dataclass
class Dec:
    decision_id: str
    transaction_id: str
    action: str
    amount_cents: int = 0
    allocations: tuple[Alloc, ...] = ()
    refund_iban: str | None = None
    user: str = "anna"
    created_at: str = "2026-11-17T08:00:00+00:00"
    tenant: str = "t"
    note: str = ""
    approved_by: str | None = None
    extra: dict[str, str] = field(default_factory=dict)


UNRES = pl.DataFrame([
    {"tenant": "t", "transaction_id": "tx1", "booking_date": date(2026, 11, 16), "amount_cents": 5000,
     "unallocated_cents": 5000, "reason": "no_reference", "state": "open"},
    {"tenant": "t", "transaction_id": "tx2", "booking_date": date(2026, 11, 16), "amount_cents": 3000,
     "unallocated_cents": 1000, "reason": "overpayment", "state": "open"},
], schema_overrides=dict(UNRESOLVED)).pipe(conform, UNRESOLVED)
OPEN = pl.DataFrame([
    {"tenant": "t", "receivable_id": "R1", "kassenzeichen": "K1", "amount_cents": 4000, "import_id": "i1"},
    {"tenant": "t", "receivable_id": "R2", "kassenzeichen": "K2", "amount_cents": 500, "import_id": "i1"},
], schema_overrides=dict(OPEN_ITEMS)).pipe(conform, OPEN_ITEMS)


def _apply(*decisions: Dec, known: tuple[str, ...] = ()):
    return apply_decisions(decisions, tenant="t", run_id="r9", booking_date=DAY, unresolved=UNRES,
                           open_items=OPEN, known_ids=known)


def _status(out) -> dict[str, tuple[str, str | None]]:
    return {r["decision_id"]: (r["status"], r["reason"]) for r in out.decisions.iter_rows(named=True)}


def test_refund_resolves_the_item_and_allocations_must_add_up() -> None:
    out = _apply(Dec("d1", "tx1", "assign", 5000, (Alloc("R1", "K1", 4000), Alloc("R2", "K2", 500))),
                 Dec("d2", "tx2", "refund", 1000, refund_iban="DE44500105175407324931", user="bert"))
    assert _status(out)["d1"][0] == "rejected"                  # 4000 + 500 is not the 5000 it claims
    assert "add up to 45.00, expected 50.00" in (_status(out)["d1"][1] or "")
    assert _status(out)["d2"] == ("booked", None)
    assert out.refunds["amount_cents"].to_list() == [1000]
    assert out.events.filter(pl.col("transaction_id") == "tx2")["state"].to_list() == ["resolved"]


def test_partial_assignment_leaves_the_remainder_on_the_list() -> None:
    out = _apply(Dec("d1", "tx1", "assign", 4500, (Alloc("R1", "K1", 4000), Alloc("R2", "K2", 500))))
    assert _status(out)["d1"] == ("booked", None)
    assert out.allocations.select("receivable_id", "amount_cents", "rule", "decided_by", "import_id").rows() == [
        ("R1", 4000, "clerk", "anna", "i1"), ("R2", 500, "clerk", "anna", "i1")]
    ev = out.events.row(0, named=True)
    assert (ev["state"], ev["unallocated_cents"]) == ("open", 500)


def test_amounts_that_do_not_add_up_are_rejected_with_the_reason() -> None:
    out = _apply(
        Dec("a", "tx1", "assign", 6000, (Alloc("R1", "K1", 6000),)),            # more than unallocated
        Dec("b", "tx2", "assign", 1000, (Alloc("R2", "K2", 1000),)),            # more than R2 has open
        Dec("c", "tx2", "assign", 1000, (Alloc("R404", "K", 1000),)),           # unknown receivable
        Dec("d", "tx9", "park"),                                                # not on the list
        Dec("e", "tx2", "refund", 1000),                                        # refund without IBAN
    )
    s = _status(out)
    assert {k: v[0] for k, v in s.items()} == dict.fromkeys("abcde", "rejected")
    assert "only 50.00" in s["a"][1] and "0.05" not in s["b"][1] and "R404" in s["c"][1]
    assert "no longer on the Klärungsliste" in s["d"][1] and "refund_iban" in s["e"][1]
    assert out.allocations.height == 0 and out.refunds.height == 0 and out.events.height == 0


def test_decisions_already_recorded_are_skipped_and_park_keeps_the_item() -> None:
    out = _apply(Dec("old", "tx1", "assign", 4000, (Alloc("R1", "K1", 4000),)), Dec("p", "tx1", "park"),
                 known=("old",))
    assert list(_status(out)) == ["p"]
    assert out.events["state"].to_list() == ["parked"]
    assert out.handled == {"tx1"}
