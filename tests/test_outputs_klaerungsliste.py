"""Klärungsliste and key figures: sections, age, candidates, rates and age bands."""

from __future__ import annotations

import json
from datetime import date, timedelta

import polars as pl
import pytest
from outputs_frames import SPK, TENANT, VB, alloc, stmt, tx, unres
from outputs_frames import allocations as A
from outputs_frames import transactions as T
from outputs_frames import unresolved as U

from outputs import KLAERUNG_SCHEMA, SUMMARY_SCHEMA, key_figures, klaerungsliste

AS_OF = date(2024, 6, 1)


def test_sections_age_and_provenance() -> None:
    s1 = stmt(SPK, 3, 0, 0, date(2024, 5, 2))
    rows = [tx(s1, 0, 5_000), tx(s1, 1, 1_000), tx(s1, 2, 3_000), tx(s1, 3, 200)]
    un = U([
        unres(rows[0], "no_reference"),
        unres(rows[1], "overpayment", 300),   # surplus after booking 7.00
        unres(rows[2], "ambiguous"),          # parked by a clerk (state below)
        unres(rows[3], "double_payment"),     # item already settled
    ]).with_columns(state=pl.when(pl.col("transaction_id") == rows[2]["transaction_id"])
                    .then(pl.lit("parked")).otherwise(pl.lit("open")))
    kl = klaerungsliste(un, T(rows), as_of=AS_OF)
    assert dict(kl.schema) == KLAERUNG_SCHEMA
    got = dict(zip(kl["reason"], kl["section"], strict=True))
    assert got == {"no_reference": "unresolved", "overpayment": "overpayment",
                   "double_payment": "overpayment", "ambiguous": "verwahrgeld"}
    assert kl["section"].to_list()[0] == "unresolved"          # the list starts with what needs clearing
    assert set(kl["age_days"]) == {30}
    first = kl.row(0, named=True)
    assert (first["counterparty_name"], first["remittance"]) == ("Zahler 0", "KZ 10000")
    assert first["counterparty_iban"] == "DE89370400440532013000" and first["iban_valid"] is True
    assert first["statement_id"] == s1["statement_id"] and first["entry_index"] == 0
    assert kl.filter(pl.col("reason") == "overpayment")["unallocated_cents"].item() == 300
    assert first["reason_text"].startswith("Kein Kassenzeichen")


def test_oldest_first_then_largest() -> None:
    old, new = stmt(SPK, 1, 0, 0, date(2024, 1, 5)), stmt(VB, 2, 0, 0, date(2024, 5, 30))
    rows = [tx(new, 0, 100), tx(new, 1, 900), tx(old, 0, 50)]
    kl = klaerungsliste(U([unres(r, "ambiguous") for r in rows]), T(rows), as_of=AS_OF)
    assert kl["amount_cents"].to_list() == [50, 900, 100]
    assert kl["age_days"].to_list() == [148, 2, 2]


def test_candidates_become_readable_text() -> None:
    s1 = stmt(SPK, 3, 0, 0, date(2024, 5, 30))
    t = tx(s1, 0, 123_456)
    cands = [{"receivable_id": "R1", "kassenzeichen": "4711-0815", "debtor_name": "Meier", "amount_cents": 123_456,
              "score": 0.934, "why": "name+amount"},
             {"receivable_id": "R2", "kassenzeichen": "4711-0816", "amount_cents": 100, "score": 0.5, "why": "amount"}]
    kl = klaerungsliste(U([unres(t, "ambiguous", candidates=cands)]), T([t]), as_of=AS_OF)
    r = kl.row(0, named=True)
    assert r["n_candidates"] == 2
    assert r["candidates_text"] == "KZ 4711-0815 Meier 1.234,56 € (0.93 name+amount) | KZ 4711-0816 1,00 € (0.5 amount)"
    assert json.loads(r["candidates"])[0]["receivable_id"] == "R1"   # the JSON is kept for machines


def test_a_payment_matched_later_leaves_the_list() -> None:
    s1 = stmt(SPK, 3, 0, 0, date(2024, 5, 30))
    rows = [tx(s1, 0, 100), tx(s1, 1, 200)]
    night1 = klaerungsliste(U([unres(r, "no_reference") for r in rows]), T(rows), as_of=AS_OF)
    night2 = klaerungsliste(U([unres(rows[1], "no_reference")]), T(rows), as_of=AS_OF)  # row 0 matched
    assert night1.height == 2 and night2["transaction_id"].to_list() == [rows[1]["transaction_id"]]


def test_unknown_transaction_is_a_handoff_bug() -> None:
    s1 = stmt(SPK, 3, 0, 0, date(2024, 5, 30))
    with pytest.raises(ValueError, match="not in transactions"):
        klaerungsliste(U([unres(tx(s1, 0, 1), "ambiguous")]), T([]), as_of=AS_OF)


def test_key_figures_rates_and_counts() -> None:
    s1 = stmt(SPK, 3, 0, 0, AS_OF)
    rows = [tx(s1, i, 1_000) for i in range(8)] + [tx(s1, 8, -400)]
    al = A([alloc(rows[0], 1_000), alloc(rows[1], 1_000), alloc(rows[2], 1_000), alloc(rows[3], 1_000),
            alloc(rows[4], 700),                         # partly booked: surplus stays open
            alloc(rows[5], 1_000, "clerk", "clerk42")])  # a clerk decided: not automatic
    un = U([unres(rows[4], "overpayment", 300), unres(rows[6], "no_reference"), unres(rows[7], "ambiguous")])
    kf = key_figures(T(rows), al, un, as_of=AS_OF)
    s = kf["summary"].row(0, named=True)
    assert dict(kf["summary"].schema) == SUMMARY_SCHEMA
    assert (s["n_incoming"], s["n_outgoing"], s["outgoing_cents"]) == (8, 1, 400)
    assert (s["n_auto"], s["auto_cents"]) == (4, 4_000)
    assert s["automation_rate_pct"] == pytest.approx(50.0)
    assert s["n_unresolved_payments"] == 3 and s["unresolved_per_10000"] == pytest.approx(3_750.0)
    assert s["unresolved_cents"] == 2_300
    rules = {(r["rule"], r["decided_by"]): r["n_allocations"] for r in kf["by_rule"].to_dicts()}
    assert rules == {("reference.exact", "auto"): 5, ("clerk", "clerk"): 1}
    pda = kf["per_day_account"].row(0, named=True)
    assert (pda["n_incoming"], pda["incoming_cents"], pda["n_auto"]) == (8, 8_000, 4)


def test_age_bands_have_sharp_edges() -> None:
    ages = [0, 7, 8, 30, 31, 90, 91, 400]
    rows = []
    for i, age in enumerate(ages):
        s = stmt(SPK, i + 1, 0, 0, AS_OF - timedelta(days=age))
        rows.append(tx(s, 0, 100 * (i + 1)))
    kf = key_figures(T(rows), A([]), U([unres(r, "no_reference") for r in rows]), as_of=AS_OF)
    age = kf["age_structure"]
    assert age["age_band"].to_list() == ["0–7", "8–30", "31–90", ">90"]
    assert age["n_items"].to_list() == [2, 2, 2, 2]
    assert age["unallocated_cents"].to_list() == [300, 700, 1_100, 1_500]


def test_no_payments_gives_no_rate_not_a_division_error() -> None:
    kf = key_figures(T([]), A([]), U([]), as_of=AS_OF)
    assert kf["summary"].is_empty() and kf["age_structure"].is_empty()


def test_old_unresolved_items_count_for_the_tenant_when_only_the_days_payments_are_passed() -> None:
    old = stmt(SPK, 1, 0, 0, AS_OF - timedelta(days=45))
    today = stmt(SPK, 2, 0, 0, AS_OF)
    t_old, t_new = tx(old, 0, 4_000), tx(today, 0, 1_000)
    kf = key_figures(T([t_new]), A([]), U([unres(t_old, "no_reference"), unres(t_new, "ambiguous")]), as_of=AS_OF)
    age = {r["age_band"]: r["n_items"] for r in kf["age_structure"].to_dicts() if r["tenant"] == TENANT}
    assert age == {"0–7": 1, "8–30": 0, "31–90": 1, ">90": 0}
    assert kf["summary"]["unresolved_cents"].item() == 5_000
