"""Reading more of what payers write: letters for digits, ISO 11649 creditor references, a year attached.

Literal cases per kind (docs/MATCHING.md "Finding the designated items"), each with the cases that must
be held: a reading that fails the check digit or names several Kassenzeichen is never booked.
"""

from __future__ import annotations

import json
import re

import polars as pl
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from oracle_matcher import _letters_read, _placed, _rf_kz, items, kz, txs
from stdnum import iso11649
from stdnum.iso7064 import mod_97_10

from claims.kassenzeichen import complete, is_valid
from matching import load_match_config, match
from matching.config import MatchConfig
from matching.creditor_ref import rf_references
from matching.letters import letter_texts
from matching.refexpr import reading_places

CFG = load_match_config(None)
K1, K2 = kz("10000000001"), kz("10000000002")  # 100000000013, 100000000021


def _allocs(result) -> list[tuple]:
    return sorted(result.allocations.select("transaction_id", "receivable_id", "amount_cents", "rule").iter_rows())


def _unres(result) -> list[tuple]:
    return sorted(result.unresolved.select("transaction_id", "reason").iter_rows())


def _candidates(result, tid: str) -> list[tuple[str, str]]:
    row = result.unresolved.filter(pl.col("transaction_id") == tid)
    return sorted((c["receivable_id"], c["why"]) for c in json.loads(row["candidates"][0]))


def _rec(*extra: dict) -> pl.DataFrame:
    return items([
        {"receivable_id": "r1", "kassenzeichen": K1, "debtor_id": "d1", "amount_cents": 10000, "debtor_name": "Anna Müller",
         "debtor_iban": "DE89370400440532013000"},
        {"receivable_id": "r2", "kassenzeichen": K2, "debtor_id": "d2", "amount_cents": 5000, "debtor_name": "Bernd Schäfer"},
        *extra,
    ])


def _pay(rows: list[dict], rec: pl.DataFrame | None = None, cfg: MatchConfig = CFG):
    return match(txs(rows), _rec() if rec is None else rec, cfg)


def _rf(content: str, good: bool = True) -> str:
    """``RF`` + check digits (python-stdnum: ISO 7064 mod 97-10) + ``content``; wrong ones unless ``good``."""
    check = mod_97_10.calc_check_digits(content + "RF")
    ref = f"RF{check}{content}"
    assert iso11649.is_valid(ref)
    return ref if good else f"RF{(int(check) + 1) % 97 + 1:02d}{content}"


def _grouped(ref: str) -> str:
    return " ".join(ref[i:i + 4] for i in range(0, len(ref), 4))


# --- letters typed for digits ------------------------------------------------------------------------


def test_letters_for_digits_are_read_where_the_check_digit_confirms() -> None:
    spelled = [
        "KZ 1OOO.OOOO.OO13",            # capital O for every 0
        "Kassenzeichen: 1ooo oooo oo13",  # small o
        "KZ1OOOOOOOOO13 Grundsteuer",    # prefix glued to the number
        "l000 0000 00l3",               # small l for 1
        "KZ lOOO OOOO OOl3",            # groups of letters only, inside a number
        "I000-0000-00I3",               # capital I for 1
        "Abfall 10000000O013 danke",    # one slip in a plain number
        "Kassenz. 1OOO.OOOO.OO13Abfallgebuehren",  # glued to the next word by a bank line cut
        "Rechnung:lOOOOOOOOOl3",        # after a colon, no space
    ]
    for text in spelled:
        r = _pay([{"remittance": text, "amount_cents": 10000}])
        assert _allocs(r) == [("t0", "r1", 10000, "reference.letters")], text
        assert r.unresolved.is_empty(), text


def test_letters_in_the_eref_or_the_creditor_reference() -> None:
    r = _pay([{"end_to_end_id": "1OOOOOOOOO21", "amount_cents": 5000},
              {"creditor_ref": "1OOOOOOOOO13", "amount_cents": 10000}])
    assert _allocs(r) == [("t0", "r2", 5000, "reference.letters"), ("t1", "r1", 10000, "reference.letters")]


def test_letters_whose_reading_fails_the_check_digit_are_held() -> None:
    # 1OOOOOOOOO14 reads 100000000014: no valid Kassenzeichen, and a letter reading is never typo-repaired
    r = _pay([{"remittance": "KZ 1OOOOOOOOO14", "amount_cents": 10000}])
    assert _allocs(r) == [] and _unres(r) == [("t0", "no_reference")]


def test_letters_naming_two_kassenzeichen_are_held_as_ambiguous() -> None:
    r = _pay([{"remittance": "KZ 1OOOOOOOOO13 und 1OOOOOOOOO21", "amount_cents": 10000}])
    assert _allocs(r) == [] and _unres(r) == [("t0", "ambiguous")]
    assert _candidates(r, "t0") == [("r1", "reference.letters"), ("r2", "reference.letters")]


def test_letters_follow_the_amount_and_payer_rules_of_a_repair() -> None:
    # the amount does not fit and nothing says the payer is the debtor: held like a typo repair
    r = _pay([{"remittance": "KZ 1OOOOOOOOO13", "amount_cents": 4000, "counterparty_name": "Z. Fremd"},
              # the payer is the debtor by name: the partial payment is booked
              {"remittance": "KZ 1OOOOOOOOO21", "amount_cents": 2000, "counterparty_name": "Bernd Schaefer"},
              # paid from the IBAN of another debtor (d1): held
              {"remittance": "KZ 1OOOOOOOOO21", "amount_cents": 2000, "counterparty_iban": "DE89370400440532013000"}])
    assert _allocs(r) == [("t1", "r2", 2000, "reference.letters")]
    assert _unres(r) == [("t0", "typo_unconfirmed"), ("t2", "reference_other_debtor")]


def test_an_exact_reference_wins_over_letters() -> None:
    r = _pay([{"remittance": f"KZ {K1} (alt: 1OOOOOOOOO21)", "amount_cents": 10000}])
    assert _allocs(r) == [("t0", "r1", 10000, "reference.exact")]


def test_letters_are_read_only_with_typo_repair_on() -> None:
    off = MatchConfig(typo_repair=False)
    r = _pay([{"remittance": "KZ 1OOOOOOOOO13", "amount_cents": 10000}], cfg=off)
    assert _allocs(r) == [] and _unres(r) == [("t0", "no_reference")]


def test_words_that_are_not_numbers_are_not_read() -> None:
    tx = pl.DataFrame({
        "transaction_id": [0, 1, 2, 3, 4],
        "remittance": ["Obst 2026Oktober IO Ol", "Zahlung 10, lO Rechnung", "KZ 9O12 ab", None, "Nr. 4711 lOl 2026 Ostern"],
        "end_to_end_id": [None, None, None, "NOTPROVIDED", None],
        "creditor_ref": [None, None, None, None, None],
    }, schema_overrides={"end_to_end_id": pl.String, "creditor_ref": pl.String})
    read = letter_texts(tx, CFG)
    # numbers only: 9O12, and lOl between 4711 and 2026; "lO" after a comma, "IO" and words with other
    # letters stay
    assert read.rows() == [(2, "KZ 9012 ab", None, None), (4, "Nr. 4711 101 2026 Ostern", None, None)]


# --- ISO 11649 creditor references -------------------------------------------------------------------


def test_valid_rf_with_a_padded_kassenzeichen_is_an_exact_reference() -> None:
    padded = _rf("000" + K1)  # 15 digits: read as a plain text, only windows would hold the Kassenzeichen
    for row in ({"remittance": padded}, {"creditor_ref": padded, "tx_code": "167"},
                {"remittance": _grouped(padded) + " Grundsteuer 2026"},  # print form, text after it
                {"remittance": padded.lower()}):
        r = _pay([{**row, "amount_cents": 10000}])
        assert _allocs(r) == [("t0", "r1", 10000, "reference.exact")], row


def test_rf_with_bad_check_digits_is_no_reference_of_its_own() -> None:
    bad = _rf("000" + K1, good=False)
    tx = txs([{"remittance": bad, "amount_cents": 10000}]).with_row_index("n")
    assert rf_references(tx.select(pl.col("n").alias("transaction_id"), "remittance", "end_to_end_id", "creditor_ref"),
                         CFG).is_empty()
    # its digits are read like any other text: the Kassenzeichen proves itself by its own check digit
    r = _pay([{"remittance": bad, "amount_cents": 10000}])
    assert _allocs(r) == [("t0", "r1", 10000, "reference.window")]
    r = _pay([{"remittance": _rf(K1, good=False), "amount_cents": 10000}])
    assert _allocs(r) == [("t0", "r1", 10000, "reference.exact")]
    # a bad RF whose Kassenzeichen fails its check digit too: nothing is booked
    r = _pay([{"remittance": _rf("000" + K1[:-1] + "4", good=False), "amount_cents": 10000}])
    assert _allocs(r) == []


def test_rf_reading_needs_a_kassenzeichen_inside() -> None:
    def refs(text: str) -> list[str]:
        tx = pl.DataFrame({"transaction_id": [0], "remittance": [text], "end_to_end_id": [None], "creditor_ref": [None]},
                          schema_overrides={"end_to_end_id": pl.String, "creditor_ref": pl.String})
        return rf_references(tx, CFG)["ref"].to_list()

    assert refs(_rf("000" + K1)) == [K1]
    assert refs(_rf("1" + K1)) == []         # 13 digits, not zero-padded: no Kassenzeichen of its own
    assert refs(_rf("KZ" + K1)) == []        # letters inside
    assert refs(_rf(K1[:-1])) == []          # too short
    assert refs("RF18 5390 0754 7034") == ["539007547034"]  # ISO 11649's own example: 12 digits


def test_rf_whose_end_is_unclear_is_not_read() -> None:
    # a group after the reference that makes a second valid reference with the same check digits
    content = "000" + K1
    check = mod_97_10.calc_check_digits(content + "RF")
    tail = next(f"{x:04d}" for x in range(10**4) if iso11649.is_valid(f"RF{check}{content}{x:04d}"))
    text = _grouped(f"RF{check}{content}") + " " + tail
    tx = pl.DataFrame({"transaction_id": [0], "remittance": [text], "end_to_end_id": [None], "creditor_ref": [None]},
                      schema_overrides={"end_to_end_id": pl.String, "creditor_ref": pl.String})
    assert rf_references(tx, CFG).is_empty()


# --- a year attached ----------------------------------------------------------------------------------


def test_kassenzeichen_with_a_year_attached() -> None:
    texts = {f"KZ {K1}/2026": "reference.exact", f"KZ {K1}-2026": "reference.exact",
             f"KZ {K1} 2026": "reference.exact", f"KZ {K1[:4]} {K1[4:8]} {K1[8:]} 2026": "reference.exact",
             f"KZ {K1}2026": "reference.window", f"KZ 2026{K1}": "reference.window",
             f"KZ {K1[:4]}.{K1[4:8]}.{K1[8:]}2026": "reference.window"}
    for text, rule in texts.items():
        r = _pay([{"remittance": text, "amount_cents": 10000}])
        assert _allocs(r) == [("t0", "r1", 10000, rule)], text


def _year_twin() -> tuple[str, str]:
    """A valid Kassenzeichen A whose last eight digits and the year 2026 are a valid Kassenzeichen B."""
    for body in range(10**10, 10**10 + 10**4):
        a = complete(str(body), "mod11")
        if a and is_valid(a[4:] + "2026", "mod11"):
            return a, a[4:] + "2026"
    raise AssertionError("no twin found")


def test_a_year_that_also_reads_as_another_kassenzeichen_is_held() -> None:
    a, b = _year_twin()
    rec = items([{"receivable_id": "ra", "kassenzeichen": a, "debtor_id": "d1", "amount_cents": 10000},
                 {"receivable_id": "rb", "kassenzeichen": b, "debtor_id": "d1", "amount_cents": 7000}])
    r = match(txs([{"remittance": f"KZ {a[:4]} {a[4:8]} {a[8:]} 2026", "amount_cents": 10000},  # exact: two readings
                   {"remittance": f"KZ {a}2026", "amount_cents": 10000},                       # glued: two windows
                   {"remittance": f"KZ {a}/2026", "amount_cents": 10000}]), rec, CFG)           # one reading only
    assert _allocs(r) == [("t2", "ra", 10000, "reference.exact")]
    assert _unres(r) == [("t0", "ambiguous"), ("t1", "ambiguous")]
    assert _candidates(r, "t0") == [("ra", "reference.exact"), ("rb", "reference.exact")]
    assert _candidates(r, "t1") == [("ra", "reference.window"), ("rb", "reference.window")]


def test_two_kassenzeichen_side_by_side_are_not_ambiguous() -> None:
    # one stretch, two Kassenzeichen that share no digit: both designated, as before
    r = _pay([{"remittance": f"KZ {K1[:4]} {K1[4:8]} {K1[8:]} {K2[:4]} {K2[4:8]} {K2[8:]}", "amount_cents": 15000}])
    assert _allocs(r) == [("t0", "r1", 10000, "reference.exact"), ("t0", "r2", 5000, "reference.exact")]


# --- the vectorised readings against the plain-Python oracles of tests/oracle_matcher.py ----------------

_PIECES = ["O", "o", "I", "l", "0", "1", "7", "2026", K1, "Ol", "KZ", "Kz", "Obst", " ", ".", "-", "/", ", ", "\n", "ü",
           "RF", "rf 18", "00", "9O12", "Abfall", "x"]


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.lists(st.sampled_from(_PIECES), max_size=12).map("".join), min_size=1, max_size=6))
def test_letter_reading_equals_the_oracle(texts: list[str]) -> None:
    tx = pl.DataFrame({"transaction_id": list(range(len(texts))), "remittance": texts,
                       "end_to_end_id": [None] * len(texts), "creditor_ref": texts[::-1]},
                      schema_overrides={"end_to_end_id": pl.String})
    got = {row[0]: row[1:] for row in letter_texts(tx, CFG).rows()}
    for i, row in enumerate(tx.rows(named=True)):
        want = _letters_read(row, CFG)
        base = _letters_read({**row, "remittance": None, "creditor_ref": None}, CFG) | {
            f: _unglued_only(row[f]) for f in ("remittance", "creditor_ref")}
        expected = (want["remittance"], want["end_to_end_id"], want["creditor_ref"])
        if expected == (base["remittance"], None, base["creditor_ref"]):
            assert i not in got, row  # nothing read: the payment is left out
        else:
            assert got[i] == expected, row


def _unglued_only(text: str | None) -> str | None:
    """``text`` with the prefixes glued to a number dropped, nothing read (the oracle's first step)."""
    if text is None:
        return None
    alts = "|".join(re.escape(p) for p in sorted(CFG.prefixes, key=len, reverse=True))
    return re.sub(rf"(?i:\b(?:{alts}))([0-9OoIl])", r"\1", text)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.tuples(st.integers(0, 4), st.booleans(), st.booleans(), st.sampled_from(["", " Grundsteuer", " 2026", "/26"])),
                min_size=1, max_size=6))
def test_rf_reading_equals_the_oracle(specs: list[tuple[int, bool, bool, str]]) -> None:
    texts = []
    for pad, good, grouped, tail in specs:
        ref = _rf("0" * pad + K1, good)
        texts.append((_grouped(ref) if grouped else ref) + tail)
    tx = pl.DataFrame({"transaction_id": list(range(len(texts))), "remittance": texts, "end_to_end_id": [None] * len(texts),
                       "creditor_ref": [None] * len(texts)}, schema_overrides={"end_to_end_id": pl.String, "creditor_ref": pl.String})
    got = set(rf_references(tx, CFG).rows())
    want = {(i, ref) for i, row in enumerate(tx.rows(named=True)) for ref in _rf_kz(row, CFG)}
    assert got == want


_GROUPS = ["1000", "0000", "0013", "2026", K1, K2, "4711", "9", "12", " ", ".", "-", "/", " | ", "x"]


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.lists(st.sampled_from(_GROUPS), max_size=10).map("".join), min_size=1, max_size=5),
       st.sampled_from(["exact", "window"]))
def test_reading_places_equal_the_oracle(texts: list[str], kind: str) -> None:
    tx = pl.DataFrame({"transaction_id": list(range(len(texts))), "remittance": texts, "end_to_end_id": [None] * len(texts),
                       "creditor_ref": [None] * len(texts)}, schema_overrides={"end_to_end_id": pl.String, "creditor_ref": pl.String})
    got = {(t, ref, pos) for t, _, pos, ref in reading_places(tx, CFG, kind).rows()}
    want = {(i, ref, pos) for i, row in enumerate(tx.rows(named=True)) for _, pos, ref in _placed(row, CFG, kind)}
    assert got == want
    # the stretch numbers group the same places together
    by_stretch = reading_places(tx, CFG, kind).group_by("transaction_id", "sid").agg(pl.col("pos").sort())
    oracle = {}
    for i, row in enumerate(tx.rows(named=True)):
        for k, pos, _ in _placed(row, CFG, kind):
            oracle.setdefault((i, k), []).append(pos)
    assert sorted(sorted(p) for p in by_stretch["pos"].to_list()) == sorted(sorted(p) for p in oracle.values())
