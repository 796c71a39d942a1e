"""Learned rules (matching/learned.py): proposed from clerk decisions, applied as evidence of their own kind,
never against a reference. One literal case per rule, with a comment each."""

from __future__ import annotations

import random

import polars as pl
from hypothesis import given
from hypothesis import strategies as st
from oracle_matcher import items, kz, txs
from test_match_properties import SETTINGS, _case

from matching import load_match_config, match
from matching.learned import PROPOSAL_SCHEMA, propose_rules

CFG = load_match_config(None)
K1, K2 = kz("10000000001"), kz("10000000002")
SPOUSE = "DE02120300000000202051"        # an account on file for nobody: the spouse pays for d1
KNOWN = "DE89370400440532013000"         # on file for d2


def _rec() -> pl.DataFrame:
    return items([
        {"receivable_id": "r1", "kassenzeichen": K1, "debtor_id": "d1", "amount_cents": 10000, "debtor_name": "Anna Müller"},
        {"receivable_id": "r1b", "kassenzeichen": kz("10000000005"), "debtor_id": "d1", "amount_cents": 2500,
         "debtor_name": "Anna Müller"},
        {"receivable_id": "r2", "kassenzeichen": K2, "debtor_id": "d2", "amount_cents": 10000, "debtor_name": "Bernd Schäfer",
         "debtor_iban": KNOWN},
    ])


def _rules(*rows: tuple[str, str, str]) -> pl.DataFrame:
    return pl.DataFrame([{"rule_id": i, "kind": "iban_to_debtor", "key": k, "target": t} for i, k, t in rows])


def _allocs(r) -> list[tuple]:
    return sorted(r.allocations.select("transaction_id", "receivable_id", "amount_cents", "rule").iter_rows())


def _unres(r) -> list[tuple]:
    return sorted(r.unresolved.select("transaction_id", "reason").iter_rows())


def _history(rows: list[tuple[str, str, str, str]]) -> pl.DataFrame:
    """(decision_id, clerk, payer IBAN, debtor) per booked decision."""
    return pl.DataFrame([{"decision_id": d, "decided_by": u, "decided_at": f"2026-01-0{i + 1}", "counterparty_iban": b,
                          "debtor_id": t} for i, (d, u, b, t) in enumerate(rows)])


# --- proposal --------------------------------------------------------------------------------------------

def test_three_alike_decisions_propose_a_rule() -> None:
    h = _history([("a", "anna", "de02 1203 0000 0000 2020 51", "d1"), ("b", "anna", SPOUSE, "d1"),
                  ("c", "ben", SPOUSE, "d1")])
    p = propose_rules(h, min_decisions=3)
    assert p.schema == pl.Schema(PROPOSAL_SCHEMA)
    # spelled with blanks or without: one payer
    assert p.select("kind", "key", "target", "evidence_count", "evidence_users").rows() == [
        ("iban_to_debtor", SPOUSE, "d1", 3, "anna,ben")]


def test_too_few_decisions_propose_nothing() -> None:
    h = _history([("a", "anna", SPOUSE, "d1"), ("b", "anna", SPOUSE, "d1")])
    assert propose_rules(h, min_decisions=3).height == 0
    assert propose_rules(h, min_decisions=2).height == 1


def test_one_decision_for_another_debtor_proposes_nothing() -> None:
    # three for d1, one for d2 from the same IBAN: the IBAN does not stand for one debtor
    h = _history([("a", "anna", SPOUSE, "d1"), ("b", "anna", SPOUSE, "d1"), ("c", "anna", SPOUSE, "d1"),
                  ("d", "anna", SPOUSE, "d2")])
    assert propose_rules(h, min_decisions=3).height == 0


def test_a_split_over_two_debtors_counts_against() -> None:
    # decision c assigned money to d1 and d2 (two rows): not one debtor
    h = _history([("a", "anna", SPOUSE, "d1"), ("b", "anna", SPOUSE, "d1"), ("c", "anna", SPOUSE, "d1"),
                  ("c", "anna", SPOUSE, "d2")])
    assert propose_rules(h, min_decisions=3).height == 0


def test_decisions_without_iban_propose_nothing() -> None:
    h = _history([("a", "anna", None, "d1"), ("b", "anna", None, "d1"), ("c", "anna", "", "d1")])  # type: ignore[list-item]
    assert propose_rules(h, min_decisions=3).height == 0


def test_existing_rules_are_not_proposed_again() -> None:
    h = _history([("a", "anna", SPOUSE, "d1"), ("b", "anna", SPOUSE, "d1"), ("c", "anna", SPOUSE, "d1")])

    def on_file(state: str, target: str = "d1") -> pl.DataFrame:
        return pl.DataFrame([{"kind": "iban_to_debtor", "key": SPOUSE, "target": target, "state": state}])

    assert propose_rules(h, on_file("proposed"), min_decisions=3).height == 0   # waits for approval
    assert propose_rules(h, on_file("approved"), min_decisions=3).height == 0   # in force
    assert propose_rules(h, on_file("revoked"), min_decisions=3).height == 0    # a supervisor said no to it
    assert propose_rules(h, on_file("expired"), min_decisions=3).height == 1    # ran out: may come again
    assert propose_rules(h, on_file("revoked", "d9"), min_decisions=3).height == 1  # no to another target only


# --- applying --------------------------------------------------------------------------------------------

def test_rule_books_a_payment_without_reference_on_the_one_item_of_its_amount() -> None:
    r = match(txs([{"remittance": "Steuer Mueller", "amount_cents": 2500, "counterparty_iban": SPOUSE}]), _rec(), CFG,
              rules=_rules(("R1", SPOUSE, "d1")))
    assert _allocs(r) == [("t0", "r1b", 2500, "learned_rule")]
    assert r.unresolved.is_empty()
    assert r.by_rule.rows() == [("t0", "r1b", "R1")]
    assert r.summary["per_rule"]["learned_rule"] == {"allocations": 1, "cents": 2500}
    assert r.summary["per_learned_rule"] == {"R1": {"allocations": 1, "cents": 2500}}
    assert r.summary["automation_rate"] == 1.0


def test_without_rules_the_same_payment_is_held() -> None:
    r = match(txs([{"remittance": "Steuer Mueller", "amount_cents": 2500, "counterparty_iban": SPOUSE}]), _rec(), CFG)
    assert _allocs(r) == [] and _unres(r) == [("t0", "no_reference")]
    assert r.by_rule.height == 0 and "per_learned_rule" not in r.summary


def test_rule_of_another_iban_does_nothing() -> None:
    r = match(txs([{"remittance": "x", "amount_cents": 2500, "counterparty_iban": "DE75512108001245126199"}]), _rec(),
              CFG, rules=_rules(("R1", SPOUSE, "d1")))
    assert _unres(r) == [("t0", "no_reference")]


def test_no_item_of_the_amount_stays_held() -> None:
    r = match(txs([{"remittance": "x", "amount_cents": 777, "counterparty_iban": SPOUSE}]), _rec(), CFG,
              rules=_rules(("R1", SPOUSE, "d1")))
    assert _allocs(r) == [] and _unres(r) == [("t0", "no_reference")]


def test_two_items_of_the_amount_are_ambiguous() -> None:
    rec = pl.concat([_rec(), items([{"receivable_id": "r1c", "kassenzeichen": kz("10000000006"), "debtor_id": "d1",
                                     "amount_cents": 2500}])], how="vertical_relaxed")
    r = match(txs([{"remittance": "x", "amount_cents": 2500, "counterparty_iban": SPOUSE}]), rec, CFG,
              rules=_rules(("R1", SPOUSE, "d1")))
    assert _allocs(r) == [] and _unres(r) == [("t0", "ambiguous")]
    shown = {c["receivable_id"] for c in r.unresolved["candidates"].str.json_decode().explode().to_list()}
    assert shown == {"r1b", "r1c"}


def test_never_against_a_reference_to_another_debtor() -> None:
    # the payer's rule says d1, the payment quotes d2's valid Kassenzeichen with its exact amount: held,
    # booked neither by the rule nor by the reference
    r = match(txs([{"remittance": f"KZ {K2}", "amount_cents": 10000, "counterparty_iban": SPOUSE}]), _rec(), CFG,
              rules=_rules(("R1", SPOUSE, "d1")))
    assert _allocs(r) == []
    assert _unres(r) == [("t0", "learned_rule_contradicted")]
    shown = {c["receivable_id"] for c in r.unresolved["candidates"].str.json_decode().explode().to_list()}
    assert "r2" in shown
    # without the rule the reference books it, as always
    assert _allocs(match(txs([{"remittance": f"KZ {K2}", "amount_cents": 10000, "counterparty_iban": SPOUSE}]),
                         _rec(), CFG)) == [("t0", "r2", 10000, "reference.exact")]


def test_a_reference_to_the_rules_debtor_books_by_the_reference() -> None:
    r = match(txs([{"remittance": f"KZ {K1}", "amount_cents": 10000, "counterparty_iban": SPOUSE}]), _rec(), CFG,
              rules=_rules(("R1", SPOUSE, "d1")))
    assert _allocs(r) == [("t0", "r1", 10000, "reference.exact")] and r.by_rule.height == 0


def test_iban_on_file_for_another_debtor_contradicts_the_rule() -> None:
    # a rule says KNOWN pays for d1, but the export has KNOWN on file for d2: held
    r = match(txs([{"remittance": "x", "amount_cents": 2500, "counterparty_iban": KNOWN}]), _rec(), CFG,
              rules=_rules(("R1", KNOWN, "d1")))
    assert _allocs(r) == [] and _unres(r) == [("t0", "learned_rule_contradicted")]


def test_two_payments_for_one_item_are_a_conflict() -> None:
    r = match(txs([{"remittance": "x", "amount_cents": 2500, "counterparty_iban": SPOUSE},
                   {"remittance": "y", "amount_cents": 2500, "counterparty_iban": SPOUSE}]), _rec(), CFG,
              rules=_rules(("R1", SPOUSE, "d1")))
    assert _allocs(r) == [] and _unres(r) == [("t0", "conflict"), ("t1", "conflict")]


def test_an_item_a_reference_books_is_not_taken_by_a_rule() -> None:
    r = match(txs([{"remittance": "KZ " + kz("10000000005"), "amount_cents": 2500},
                   {"remittance": "y", "amount_cents": 2500, "counterparty_iban": SPOUSE}]), _rec(), CFG,
              rules=_rules(("R1", SPOUSE, "d1")))
    assert _allocs(r) == [("t0", "r1b", 2500, "reference.exact")]
    assert _unres(r) == [("t1", "conflict")]


def test_rules_mixed_with_ordinary_payments() -> None:
    r = match(txs([{"remittance": f"KZ {K2}", "amount_cents": 10000},
                   {"remittance": "Rate", "amount_cents": 2500, "counterparty_iban": SPOUSE},
                   {"remittance": "nichts", "amount_cents": 5}]), _rec(), CFG, rules=_rules(("R1", SPOUSE, "d1")))
    assert _allocs(r) == [("t0", "r2", 10000, "reference.exact"), ("t1", "r1b", 2500, "learned_rule")]
    assert _unres(r) == [("t2", "no_reference")]
    assert r.by_rule.rows() == [("t1", "r1b", "R1")]


# --- invariants on small random municipalities (the generator of test_match_properties) -----------------

def _random_rules(t: pl.DataFrame, rec: pl.DataFrame, seed: int) -> pl.DataFrame:
    """A rule for some payer IBANs, to a random debtor: right or wrong, as a careless approval might be."""
    rng = random.Random(seed)
    debtors = sorted(set(rec["debtor_id"].to_list()))
    ibans = sorted({i for i in t["counterparty_iban"].to_list() if i})
    return pl.DataFrame([{"rule_id": f"R{n}", "kind": "iban_to_debtor", "key": i, "target": rng.choice(debtors)}
                         for n, i in enumerate(ibans) if rng.random() < 0.7],
                        schema={"rule_id": pl.String(), "kind": pl.String(), "key": pl.String(), "target": pl.String()})


@SETTINGS
@given(st.integers(0, 2**31))
def test_rules_book_only_what_nothing_else_named_and_never_against_a_reference(seed: int) -> None:
    t, rec, earlier = _case(seed)
    rules = _random_rules(t, rec, seed)
    plain = match(t, rec, CFG, prior_allocations=earlier)
    ruled = match(t, rec, CFG, prior_allocations=earlier, rules=rules)
    target = dict(rules.select("key", "target").iter_rows())
    payer = dict(t.select("transaction_id", "counterparty_iban").iter_rows())
    amount = dict(t.select("transaction_id", "amount_cents").iter_rows())
    debtor = dict(rec.select("receivable_id", "debtor_id").iter_rows())
    before = {tid: reason for tid, reason in plain.unresolved.select("transaction_id", "reason").iter_rows()}
    by_rule = ruled.allocations.filter(pl.col("rule") == "learned_rule")
    for tid, rid, cents in by_rule.select("transaction_id", "receivable_id", "amount_cents").iter_rows():
        assert before.get(tid) == "no_reference", tid                 # only what nothing reference-like named
        assert debtor[rid] == target[payer[tid]] and cents == amount[tid]   # the rule's debtor, the whole amount
    assert sorted(by_rule["transaction_id"].to_list()) == sorted(ruled.by_rule["transaction_id"].to_list())
    # a payment a reference booked to another debtor than its payer's rule: never booked now
    other = plain.allocations.filter(pl.col("amount_cents") > 0).select("transaction_id", "receivable_id").iter_rows()
    for tid, rid in other:
        rule_for = target.get(payer.get(tid) or "")
        if rule_for is not None and debtor[rid] != rule_for:
            assert ruled.allocations.filter(pl.col("transaction_id") == tid).filter(pl.col("amount_cents") > 0).height == 0
            assert ruled.unresolved.filter(pl.col("transaction_id") == tid)["reason"].to_list() == [
                "learned_rule_contradicted"]
    # payments from IBANs without a rule: booked or held as without rules, held for the same reason (but for
    # those sharing an item with a payment from a rule's IBAN, or left with a surplus: a payment held now
    # leaves them more of the items they name)
    ruled_ids = set(t.filter(pl.col("counterparty_iban").is_in(list(target)))["transaction_id"].to_list())
    pa = plain.allocations.select("transaction_id", "receivable_id")
    shared = set(pa.filter(pl.col("transaction_id").is_in(list(ruled_ids)))["receivable_id"].to_list())
    ruled_ids |= set(pa.filter(pl.col("receivable_id").is_in(list(shared)))["transaction_id"].to_list())
    ruled_ids |= {x for x, why in before.items() if why in ("overpayment", "double_payment")}
    # (and direct-debit returns: one may find a collection among the bookings the rules made)
    ruled_ids |= set(t.filter(pl.col("amount_cents") < 0)["transaction_id"].to_list())

    def outcome(r) -> tuple[set[str], set[tuple]]:
        booked = set(r.allocations.filter(pl.col("amount_cents") > 0)["transaction_id"].to_list()) - ruled_ids
        held = {(x, why) for x, why in r.unresolved.select("transaction_id", "reason").iter_rows() if x not in ruled_ids}
        return booked, held

    assert outcome(plain) == outcome(ruled)
    # every payment exactly once, no item over-paid
    credits = t.filter(pl.col("booked") & (pl.col("amount_cents") > 0) & ~pl.col("tx_code").str.starts_with("8"))
    pos = ruled.allocations.filter(pl.col("amount_cents") > 0)
    assert ruled.unresolved["transaction_id"].is_unique().all()
    for tid, cents in credits.select("transaction_id", "amount_cents").iter_rows():
        booked = int(pos.filter(pl.col("transaction_id") == tid)["amount_cents"].sum())
        left = ruled.unresolved.filter(pl.col("transaction_id") == tid)["unallocated_cents"].sum()
        assert booked + left == cents, tid
    got = pos.group_by("receivable_id").agg(pl.col("amount_cents").sum()).join(
        rec.select("receivable_id", pl.col("amount_cents").alias("open")), on="receivable_id")
    assert (got["amount_cents"] <= got["open"]).all()
