"""Matching rules, one small literal table per rule (a comment per case)."""

from __future__ import annotations

import json
from datetime import date

import polars as pl
from oracle_matcher import items, kz, prior, txs

from matching import load_match_config, match
from matching.config import MatchConfig

CFG = load_match_config(None)
K1, K2, K3, K4 = kz("10000000001"), kz("10000000002"), kz("10000000005"), kz("20000000007")


def _allocs(result) -> list[tuple]:
    return sorted(result.allocations.select("transaction_id", "receivable_id", "amount_cents", "rule").iter_rows())


def _unres(result) -> list[tuple]:
    return sorted(result.unresolved.select("transaction_id", "reason", "unallocated_cents").iter_rows())


def _rec() -> pl.DataFrame:
    return items([
        {"receivable_id": "r1", "kassenzeichen": K1, "debtor_id": "d1", "amount_cents": 10000,
         "debtor_iban": "DE89370400440532013000", "debtor_name": "Anna Müller"},
        # K2: a main claim with its Mahngebühr and Säumniszuschlag under one Kassenzeichen
        {"receivable_id": "r2", "kassenzeichen": K2, "debtor_id": "d2", "amount_cents": 9000, "due_date": date(2026, 1, 1),
         "debtor_name": "Schäfer, Bernd"},
        {"receivable_id": "r2m", "kassenzeichen": K2, "debtor_id": "d2", "amount_cents": 600, "claim_type": "MAHNGEBUEHR",
         "debtor_name": "Schäfer, Bernd"},
        {"receivable_id": "r2s", "kassenzeichen": K2, "debtor_id": "d2", "amount_cents": 1200, "claim_type": "SAEUMNISZUSCHLAG",
         "debtor_name": "Schäfer, Bernd"},
        {"receivable_id": "r3", "kassenzeichen": K3, "debtor_id": "d3", "amount_cents": 7500, "external_ref": "BN-2024-0042"},
        # settled already: kept with 0 so that a second payment is recognised
        {"receivable_id": "r4", "kassenzeichen": K4, "debtor_id": "d4", "amount_cents": 0},
    ])


def test_exact_reference_in_many_spellings() -> None:
    spelled = [f"KZ {K1[:4]}.{K1[4:8]}.{K1[8:]}", f"Kassenzeichen: {K1[:6]}-{K1[6:]}", f"Az. {K1[:3]}/{K1[3:]}",
               f"GRUNDST {K1[:7]} {K1[7:]} Q1"]  # the last: cut by a bank line break
    for text in spelled:
        r = match(txs([{"remittance": text, "amount_cents": 10000}]), _rec(), CFG)
        assert _allocs(r) == [("t0", "r1", 10000, "reference.exact")], text
        assert r.unresolved.is_empty()


def test_reference_from_eref_and_rf_creditor_ref() -> None:
    # EREF of a direct-debit collection (GVC 171) carries the Kassenzeichen plus a due date
    r = match(txs([{"end_to_end_id": f"{K1}-20260115", "amount_cents": 10000, "tx_code": "171"},
                   # ISO 11649 structured creditor reference
                   {"creditor_ref": f"RF18{K3}", "amount_cents": 7500, "tx_code": "167"}]), _rec(), CFG)
    assert _allocs(r) == [("t0", "r1", 10000, "reference.exact"), ("t1", "r3", 7500, "reference.exact")]


def test_external_ref_matches_as_reference() -> None:
    r = match(txs([{"remittance": "Beitragsnr. BN 2024 0042", "amount_cents": 7500}]), _rec(), CFG)
    assert _allocs(r) == [("t0", "r3", 7500, "reference.exact")]


def test_reference_glued_to_a_number_is_found_as_window() -> None:
    r = match(txs([{"remittance": f"RECHNUNGSNR 4711{K1}", "amount_cents": 10000}]), _rec(), CFG)
    assert _allocs(r) == [("t0", "r1", 10000, "reference.window")]


def test_partial_payment_follows_ao225_inside_the_kassenzeichen() -> None:
    # 9500 of 10800: main claim 9000 first, then the Mahngebühr 500 of 600; Säumniszuschlag untouched
    r = match(txs([{"remittance": f"KZ {K2}", "amount_cents": 9500, "counterparty_name": "B. Schaefer"}]), _rec(), CFG)
    assert _allocs(r) == [("t0", "r2", 9000, "order.ao225"), ("t0", "r2m", 500, "order.ao225")]
    assert r.unresolved.is_empty()


def test_private_law_follows_bgb367() -> None:
    rec = _rec().with_columns(pl.lit("private").alias("law"))
    r = match(txs([{"remittance": f"KZ {K2}", "amount_cents": 1000, "counterparty_name": "Bernd Schäfer"}]), rec, CFG)
    assert _allocs(r) == [("t0", "r2m", 600, "order.bgb367"), ("t0", "r2s", 400, "order.bgb367")]


def test_full_payment_of_all_items_of_a_kassenzeichen_is_exact() -> None:
    r = match(txs([{"remittance": f"KZ {K2}", "amount_cents": 10800}]), _rec(), CFG)
    assert [a[3] for a in _allocs(r)] == ["reference.exact"] * 3


def test_overpayment_books_the_open_amount_and_lists_the_surplus() -> None:
    r = match(txs([{"remittance": K1, "amount_cents": 12000, "counterparty_name": "MUELLER, ANNA"}]), _rec(), CFG)
    assert _allocs(r) == [("t0", "r1", 10000, "reference.exact")]
    assert _unres(r) == [("t0", "overpayment", 2000)]


def test_payment_for_a_settled_item_is_a_double_payment() -> None:
    r = match(txs([{"remittance": K4, "amount_cents": 5000}]), _rec(), CFG)
    assert _allocs(r) == [] and _unres(r) == [("t0", "double_payment", 5000)]


def test_open_amounts_carry_over_between_days_whatever_the_file_order() -> None:
    # day 2 pays 6000, day 1 pays 6000: day 1 gets 6000, day 2 the remaining 4000 and 2000 surplus
    t = txs([{"remittance": K1, "amount_cents": 6000, "booking_date": date(2026, 2, 3), "transaction_id": "late",
              "counterparty_iban": "DE89370400440532013000"},
             {"remittance": K1, "amount_cents": 6000, "booking_date": date(2026, 2, 2), "transaction_id": "early",
              "counterparty_name": "A. Müller"}])
    r = match(t, _rec(), CFG)
    assert _allocs(r) == [("early", "r1", 6000, "reference.exact"), ("late", "r1", 4000, "reference.exact")]
    assert _unres(r) == [("late", "overpayment", 2000)]


def test_typo_repair_one_digit_and_one_swap() -> None:
    wrong = K1[:5] + str((int(K1[5]) + 1) % 10) + K1[6:]
    swapped = K3[:9] + K3[10] + K3[9] + K3[11:]
    assert swapped != K3
    r = match(txs([{"remittance": wrong, "amount_cents": 10000}, {"remittance": swapped, "amount_cents": 7500}]), _rec(), CFG)
    assert _allocs(r) == [("t0", "r1", 10000, "reference.typo"), ("t1", "r3", 7500, "reference.typo")]


def test_typo_with_an_amount_that_does_not_fit_is_not_booked() -> None:
    wrong = K1[:5] + str((int(K1[5]) + 1) % 10) + K1[6:]
    r = match(txs([{"remittance": wrong, "amount_cents": 4000}]), _rec(), CFG)
    assert _allocs(r) == [] and _unres(r) == [("t0", "typo_unconfirmed", 4000)]


def test_typo_with_a_partial_amount_from_the_debtors_own_account_is_booked() -> None:
    # the repaired reference and the payer's known IBAN agree: a partial payment of Anna's
    wrong = K1[:5] + str((int(K1[5]) + 1) % 10) + K1[6:]
    r = match(txs([{"remittance": wrong, "amount_cents": 4000, "counterparty_iban": "DE89370400440532013000"}]), _rec(), CFG)
    assert _allocs(r) == [("t0", "r1", 4000, "reference.typo")] and _unres(r) == []


def test_an_item_found_twice_counts_once_and_the_payer_is_still_asked_for() -> None:
    # the Kassenzeichen and the Beitragsnummer both name r5: one item of 75.00, not two; 150.00 from the
    # debtor's own account: 75.00 booked, 75.00 over; the same from a stranger: held
    rec = pl.concat([_rec(), items([{"receivable_id": "r5", "kassenzeichen": kz("30000000001"), "debtor_id": "d5",
                                     "amount_cents": 7500, "external_ref": "BN-2024-0077",
                                     "debtor_iban": "DE02120300000000202051"}])])
    text = f"{kz('30000000001')} Beitragsnummer BN-2024-0077"
    own = match(txs([{"remittance": text, "amount_cents": 15000, "counterparty_iban": "DE02120300000000202051"}]), rec, CFG)
    assert _allocs(own) == [("t0", "r5", 7500, "reference.exact")] and _unres(own) == [("t0", "overpayment", 7500)]
    stranger = match(txs([{"remittance": text, "amount_cents": 15000, "counterparty_name": "Peter Schmitt"}]), rec, CFG)
    assert _allocs(stranger) == [] and _unres(stranger) == [("t0", "payer_unconfirmed", 15000)]


def test_iban_and_unique_amount_fallback() -> None:
    # no reference, but the payer's IBAN is known for d1 and d1 has one item of exactly 100.00
    r = match(txs([{"remittance": "Steuer", "amount_cents": 10000, "counterparty_iban": "DE89 3704 0044 0532 0130 00"}]), _rec(), CFG)
    assert _allocs(r) == [("t0", "r1", 10000, "iban_amount")]


def test_known_iban_with_another_amount_is_not_booked() -> None:
    r = match(txs([{"remittance": "Steuer", "amount_cents": 9999, "counterparty_iban": "DE89370400440532013000"}]), _rec(), CFG)
    assert _unres(r) == [("t0", "no_reference", 9999)]


def test_iban_owner_found_in_a_list_written_with_spaces_and_lower_case() -> None:
    # the export may hold several IBANs per debtor, as written by people: lists, blanks, lower case
    rec = pl.concat([_rec(), items([{"receivable_id": "r9", "kassenzeichen": kz("30000000001"), "debtor_id": "d9",
                                     "amount_cents": 4321, "debtor_iban": "at61 1904 3002 3457 3201; DE02120300000000202051"}])])
    for payer in ("AT611904300234573201", "DE02 1203 0000 0000 2020 51"):
        r = match(txs([{"remittance": "Rate", "amount_cents": 4321, "counterparty_iban": payer}]), rec, CFG)
        assert _allocs(r) == [("t0", "r9", 4321, "iban_amount")], payer


def test_iban_known_for_two_debtors_decides_nothing() -> None:
    # d1's IBAN also stands in d9's list: the payer could be either, so the fallback does not book
    rec = pl.concat([_rec(), items([{"receivable_id": "r9", "kassenzeichen": kz("30000000001"), "debtor_id": "d9",
                                     "amount_cents": 10000, "debtor_iban": "AT611904300234573201,de89370400440532013000"}])])
    r = match(txs([{"remittance": "Steuer", "amount_cents": 10000, "counterparty_iban": "DE89370400440532013000"}]), rec, CFG)
    assert _allocs(r) == [] and _unres(r) == [("t0", "no_reference", 10000)]


def test_third_party_payer_reference_decides() -> None:
    # a Hausverwaltung (unknown IBAN) pays Anna's item: the reference decides
    r = match(txs([{"remittance": K1, "amount_cents": 10000, "counterparty_name": "Hausverwaltung Schmitz GmbH",
                    "counterparty_iban": "DE02120300000000202051"}]), _rec(), CFG)
    assert _allocs(r) == [("t0", "r1", 10000, "reference.exact")]


def test_known_payer_quoting_another_debtors_reference_with_wrong_amount_is_held() -> None:
    # Anna (known IBAN) quotes d3's Kassenzeichen but pays an amount that fits nothing there
    r = match(txs([{"remittance": K3, "amount_cents": 1234, "counterparty_iban": "DE89370400440532013000"}]), _rec(), CFG)
    assert _unres(r) == [("t0", "reference_other_debtor", 1234)]


def test_amount_that_does_not_fit_needs_a_recognisable_payer() -> None:
    # a stranger quotes Anna's Kassenzeichen with an amount that fits nothing: maybe a wrong reference
    r = match(txs([{"remittance": K1, "amount_cents": 5000, "counterparty_name": "Peter Schmitt"},
                   # no payer name at all: the same
                   {"remittance": K1, "amount_cents": 5000},
                   # Anna's own account: hers
                   {"remittance": K1, "amount_cents": 5000, "counterparty_iban": "DE89370400440532013000",
                    "counterparty_name": "Konto 4711"}]), _rec(), CFG)
    assert _unres(r) == [("t0", "payer_unconfirmed", 5000), ("t1", "payer_unconfirmed", 5000)]
    assert _allocs(r) == [("t2", "r1", 5000, "reference.exact")]


def test_several_items_of_two_debtors_only_when_the_amounts_add_up() -> None:
    ok = match(txs([{"remittance": f"{K1} {K3}", "amount_cents": 17500}]), _rec(), CFG)
    assert _allocs(ok) == [("t0", "r1", 10000, "reference.exact"), ("t0", "r3", 7500, "reference.exact")]
    bad = match(txs([{"remittance": f"{K1} {K3}", "amount_cents": 17000}]), _rec(), CFG)
    assert _unres(bad) == [("t0", "several_debtors", 17000)]
    cands = json.loads(bad.unresolved["candidates"][0])
    assert {c["receivable_id"] for c in cands} == {"r1", "r3"} and len(cands) <= 3


def test_two_payments_for_the_same_items_fill_them_in_turn() -> None:
    # Bernd pays K2 (10,800 over three items) in two parts: the payments share one tape (main claim
    # first, then the fees), the second takes what the first left
    r = match(txs([{"remittance": f"KZ {K2}", "amount_cents": 6000, "counterparty_name": "Bernd Schäfer"},
                   {"remittance": f"KZ {K2}", "amount_cents": 4800, "counterparty_name": "Bernd Schäfer",
                    "booking_date": date(2026, 2, 3)}]), _rec(), CFG)
    assert _allocs(r) == [("t0", "r2", 6000, "order.ao225"), ("t1", "r2", 3000, "reference.exact"),
                          ("t1", "r2m", 600, "reference.exact"), ("t1", "r2s", 1200, "reference.exact")]
    assert r.unresolved.is_empty()


def test_sets_that_begin_with_the_same_item_are_told_apart() -> None:
    # K2's three items, and the same three with K3's: two sets beginning with r2, sharing items, so a
    # conflict; each paid exactly, each would be booked alone
    r = match(txs([{"remittance": f"KZ {K2}", "amount_cents": 10800},
                   {"remittance": f"KZ {K2} KZ {K3}", "amount_cents": 18300}]), _rec(), CFG)
    assert _unres(r) == [("t0", "conflict", 10800), ("t1", "conflict", 18300)] and _allocs(r) == []
    alone = match(txs([{"remittance": f"KZ {K2} KZ {K3}", "amount_cents": 18300}]), _rec(), CFG)
    assert len(_allocs(alone)) == 4 and alone.unresolved.is_empty()


def test_payments_designating_overlapping_sets_are_a_conflict() -> None:
    # t0 pays Anna's item exactly, t1 the same item together with K3's, t2 K3's item exactly: two sets
    # share an item each time, in one run, so none is booked and each is listed with its evidence;
    # t3 pays an item nobody else names and is booked
    r = match(txs([{"remittance": K1, "amount_cents": 10000},
                   {"remittance": f"{K1} {K3}", "amount_cents": 17500},
                   {"remittance": K3, "amount_cents": 7500},
                   {"remittance": f"KZ {K2}", "amount_cents": 10800}]), _rec(), CFG)
    assert _unres(r) == [("t0", "conflict", 10000), ("t1", "conflict", 17500), ("t2", "conflict", 7500)]
    assert {a[0] for a in _allocs(r)} == {"t3"}
    shown = {t: sorted(c["receivable_id"] for c in json.loads(js))
             for t, js in r.unresolved.select("transaction_id", "candidates").iter_rows()}
    assert shown == {"t0": ["r1"], "t1": ["r1", "r3"], "t2": ["r3"]}


def test_skipped_rows_are_counted_not_matched() -> None:
    t = txs([{"remittance": K1, "amount_cents": 10000, "booked": False},             # pending (MT942)
             {"remittance": "Kontofuehrung", "amount_cents": -990, "tx_code": "805"},  # bank fee
             {"remittance": "Zinsen", "amount_cents": 12, "tx_code": "804"},          # credit interest
             {"remittance": "Lieferant", "amount_cents": -5000, "tx_code": "116"}])   # our own transfer
    r = match(t, _rec(), CFG)
    assert r.allocations.is_empty() and r.unresolved.is_empty()
    assert r.summary["skipped"] == {"bank_fee": 2, "debit": 1, "pending": 1}


def test_direct_debit_return_reverses_the_collection() -> None:
    earlier = prior([{"transaction_id": "coll", "receivable_id": "r1", "kassenzeichen": K1, "amount_cents": 10000}])
    rec = _rec().with_columns(pl.when(pl.col("receivable_id") == "r1").then(0).otherwise(pl.col("amount_cents")).alias("amount_cents"))
    t = txs([{"end_to_end_id": f"{K1}-20260115", "amount_cents": -10000, "tx_code": "109", "return_reason": "MD06"}])
    r = match(t, rec, CFG, prior_allocations=earlier)
    assert _allocs(r) == [("t0", "r1", -10000, "dd_return")]
    # a second return of the same collection in a later run finds it already reversed
    again = pl.concat([earlier, r.allocations])
    r2 = match(txs([{"end_to_end_id": K1, "amount_cents": -10000, "tx_code": "109", "transaction_id": "x"}]), rec, CFG,
               prior_allocations=again)
    assert _allocs(r2) == [] and _unres(r2) == [("x", "return_duplicate", -10000)]


def test_return_counts_every_earlier_row_of_the_item() -> None:
    # the collection paid r1; a later row without a Kassenzeichen (a clerk's correction) took it back
    # already, and r1 has left the export: the item's net is 0, so the return reverses nothing
    earlier = prior([
        {"transaction_id": "coll", "receivable_id": "r1", "kassenzeichen": K1, "amount_cents": 10000},
        {"transaction_id": "corr", "receivable_id": "r1", "kassenzeichen": None, "amount_cents": -10000},
    ])
    rec = _rec().filter(pl.col("receivable_id") != "r1")
    t = txs([{"end_to_end_id": K1, "amount_cents": -10000, "tx_code": "109", "transaction_id": "x"}])
    r = match(t, rec, CFG, prior_allocations=earlier)
    assert _allocs(r) == [] and _unres(r) == [("x", "return_duplicate", -10000)]


def test_return_without_a_known_collection_is_held() -> None:
    t = txs([{"end_to_end_id": K1, "amount_cents": -10000, "tx_code": "109"}])
    assert _unres(match(t, _rec(), CFG)) == [("t0", "return_unmatched", -10000)]


def test_no_reference_gets_name_suggestions_only() -> None:
    r = match(txs([{"remittance": "Danke", "amount_cents": 10000, "counterparty_name": "Anna Mueller"}]), _rec(), CFG)
    assert r.allocations.is_empty()
    assert _unres(r) == [("t0", "no_reference", 10000)]
    cands = json.loads(r.unresolved["candidates"][0])
    assert cands[0]["receivable_id"] == "r1" and cands[0]["why"] == "name_amount"


def test_check_digit_none_and_luhn_configs() -> None:
    cfg = MatchConfig.from_toml({"reference": {"digits": 8, "check_digit": "none"}})
    rec = items([{"receivable_id": "a", "kassenzeichen": "4711-0815", "debtor_id": "d", "amount_cents": 500}])
    r = match(txs([{"remittance": "Az 4711 0815", "amount_cents": 500}]), rec, cfg)
    assert _allocs(r) == [("t0", "a", 500, "reference.exact")]
    luhn = MatchConfig.from_toml({"reference": {"digits": 10, "check_digit": "mod10"}})
    good, bad = kz("799273987", "mod10"), "7992739870"
    rec = items([{"receivable_id": "a", "kassenzeichen": good, "debtor_id": "d", "amount_cents": 500}])
    assert _allocs(match(txs([{"remittance": good, "amount_cents": 500}]), rec, luhn)) == [("t0", "a", 500, "reference.exact")]
    assert _allocs(match(txs([{"remittance": bad, "amount_cents": 500}]), rec, luhn)) == [("t0", "a", 500, "reference.typo")]


def test_kassenzeichen_longer_than_18_digits_match_by_string_keys() -> None:
    # 20 digits do not fit an Int64: the key index holds the strings; exact, typo and partial payments
    # behave as with integer keys
    cfg = MatchConfig.from_toml({"reference": {"digits": 20, "check_digit": "mod11"}})
    k1, k2 = kz("1234567890123456789"), kz("9876543210987654321")
    rec = items([{"receivable_id": "a", "kassenzeichen": k1, "debtor_id": "d1", "amount_cents": 500},
                 {"receivable_id": "b", "kassenzeichen": k2, "debtor_id": "d2", "amount_cents": 700,
                  "debtor_iban": "DE89370400440532013000"}])
    swapped = k2[:4] + k2[5] + k2[4] + k2[6:]
    assert swapped != k2
    r = match(txs([{"remittance": f"KZ {k1[:10]} {k1[10:]}", "amount_cents": 500},
                   {"remittance": swapped, "amount_cents": 300, "counterparty_iban": "DE89370400440532013000"}]), rec, cfg)
    assert _allocs(r) == [("t0", "a", 500, "reference.exact"), ("t1", "b", 300, "reference.typo")]
