"""The payer's designation of amounts (§ 225 Abs. 1 AO, § 366 Abs. 1 BGB): literal cases per spelling and
rule, and the invariants on random designated payments (matching/amounts.py, docs/MATCHING.md)."""

from __future__ import annotations

import random
import re
from datetime import date

import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from oracle_matcher import items, kz, txs

from claims.kassenzeichen import complete
from matching import load_match_config, match
from matching.amounts import _BARE, _DAY_MONTH, _DEC_DE, _DEC_EN, CURRENCY, read_designations
from matching.config import MatchConfig

CFG = load_match_config(None)
OFF = MatchConfig.from_toml({"allocation": {"honour_designation": False}})
X, Y, Z, W, V = kz("12345678901"), kz("23456789012"), kz("34567890123"), kz("45678901234"), kz("56789012345")
ANNA = "Anna Müller"
IBAN = "DE89370400440532013000"


def _dotted(k: str) -> str:
    return f"{k[:4]}.{k[4:8]}.{k[8:]}"


def _rec(y_open: int = 20000) -> pl.DataFrame:
    # Anna owes X 55,00 (due later) and Y (older: the legal order pays it first); Z is Bernd's; W has a
    # main claim and a Mahngebühr under one Kassenzeichen
    return items([
        {"receivable_id": "x", "kassenzeichen": X, "debtor_id": "d1", "amount_cents": 5500, "debtor_name": ANNA,
         "due_date": date(2026, 3, 1), "debtor_iban": IBAN},
        {"receivable_id": "y", "kassenzeichen": Y, "debtor_id": "d1", "amount_cents": y_open, "debtor_name": ANNA,
         "due_date": date(2025, 11, 15), "debtor_iban": IBAN},
        {"receivable_id": "v", "kassenzeichen": V, "debtor_id": "d1", "amount_cents": 3000, "debtor_name": ANNA},
        {"receivable_id": "z", "kassenzeichen": Z, "debtor_id": "d2", "amount_cents": 3000, "debtor_name": "Bernd Schäfer"},
        {"receivable_id": "w", "kassenzeichen": W, "debtor_id": "d1", "amount_cents": 150000, "debtor_name": ANNA},
        {"receivable_id": "wm", "kassenzeichen": W, "debtor_id": "d1", "amount_cents": 600, "debtor_name": ANNA,
         "claim_type": "MAHNGEBUEHR"},
    ])


def _allocs(result) -> list[tuple]:
    return sorted(result.allocations.select("transaction_id", "receivable_id", "amount_cents", "rule").iter_rows())


def _unres(result) -> list[tuple]:
    return sorted(result.unresolved.select("transaction_id", "reason", "unallocated_cents").iter_rows())


def _pay(text: str, cents: int, cfg: MatchConfig = CFG, rec: pl.DataFrame | None = None, **more):
    row = {"remittance": text, "amount_cents": cents, "counterparty_name": ANNA, **more}
    return match(txs([row]), _rec() if rec is None else rec, cfg)


def test_the_issue_example_gives_each_item_its_designated_amount() -> None:
    text = f"KZ {_dotted(X)} 55,00 Euro, KZ {_dotted(Y)} 125,- Euro Rest folgt"
    r = _pay(text, 18000)
    assert _allocs(r) == [("t0", "x", 5500, "payer_designation"), ("t0", "y", 12500, "payer_designation")]
    assert r.unresolved.is_empty()
    # without the designation the legal order pays the older item Y first: 180,00 all to Y
    off = _pay(text, 18000, OFF)
    assert _allocs(off) == [("t0", "y", 18000, "order.ao225")]


@pytest.mark.parametrize("text", [
    f"KZ {X} 55,00 KZ {Y} 125,00",                       # decimal comma, amount after its reference
    f"KZ {X} 55,- € KZ {Y} 125,- €",                     # ",-" with the euro sign
    f"KZ {X} 55,-€, KZ {Y} 125,--",                      # glued euro sign, ",--"
    f"KZ {X} EUR 55 KZ {Y} EUR 125",                     # currency word before a whole number
    f"KZ {X} 55 EUR KZ {Y} 125 Euro",                    # currency word after it
    f"KZ {X} 55.00 KZ {Y} 125.00",                       # decimal point
    f"55,00 EUR für {_dotted(X)} und 125,00 EUR für {_dotted(Y)}",   # amounts before their references
    f"EUR 55 {X} EUR 125 {Y}",                           # before, currency word first
    f"Kassenzeichen {X[:4]} {X[4:8]} {X[8:]} EUR 55, Kassenzeichen {Y[:4]} {Y[4:8]} {Y[8:]} EUR 125",  # in groups
    f"KZ {X[:4]} {X[4:8]} {X[8:]} 55 EUR KZ {Y} 125 EUR",  # groups, then a whole number and the currency
    f"KZ {X}: 55,00; KZ {Y}: 125,00 (Rest folgt)",
    f"KZ {X} 55,00 KZ {Y} 125,00 Summe 180,00",          # a total after the pairs is not one of them
    f"Gesamt 180,00 EUR: KZ {X} 55,00 KZ {Y} 125,00",    # nor before them
    f"Rechnung vom 15.01.2026 KZ {X} 55,00 KZ {Y} 125,00",  # a date is not an amount
])
def test_amount_spellings(text: str) -> None:
    r = _pay(text, 18000)
    assert _allocs(r) == [("t0", "x", 5500, "payer_designation"), ("t0", "y", 12500, "payer_designation")], text
    assert r.unresolved.is_empty(), text


def test_thousands_separator() -> None:
    # 1.234,56 to W (its main claim first inside the Kassenzeichen), 55,00 to X
    r = _pay(f"KZ {W} 1.234,56 EUR KZ {X} 55,00 EUR", 128956)
    assert _allocs(r) == [("t0", "w", 123456, "payer_designation"), ("t0", "x", 5500, "payer_designation")]
    assert _allocs(_pay(f"{W} EUR 1.234 {X} EUR 55", 128900)) == [
        ("t0", "w", 123400, "payer_designation"), ("t0", "x", 5500, "payer_designation")]


def test_incomplete_designations_are_held() -> None:
    cases = [
        f"KZ {X} 55,00 KZ {Y}",                    # Y has no amount
        f"KZ {X} KZ {Y} 55,00 125,00",             # amounts not next to their references
        f"KZ {X} 55,00 KZ {kz('99999999999')} 125,00",  # an amount for a Kassenzeichen we do not know
        f"KZ {X} 55,00 KZ 999999999999 125,00",    # … or one that is not a Kassenzeichen at all
        f"KZ {X} 55,00 KZ {Y} 100,00 25,00",       # one amount too many
    ]
    for text in cases:
        r = _pay(text, 18000)
        assert _allocs(r) == [] and _unres(r) == [("t0", "designation_incomplete", 18000)], text
        cands = r.unresolved["candidates"][0]
        assert '"x"' in cands, text  # the clerk sees the items found


def test_designation_that_does_not_add_up_is_held() -> None:
    r = _pay(f"KZ {X} 50,00 KZ {Y} 125,00", 18000)
    assert _allocs(r) == [] and _unres(r) == [("t0", "designation_sum_mismatch", 18000)]


def test_honour_designation_false_ignores_the_amounts() -> None:
    r = _pay(f"KZ {X} 50,00 KZ {Y} 125,00", 18000, OFF)
    assert _allocs(r) == [("t0", "y", 18000, "order.ao225")] and r.unresolved.is_empty()
    r = _pay(f"KZ {X} 55,00 KZ {Y}", 18000, OFF)
    assert _allocs(r) == [("t0", "y", 18000, "order.ao225")]


def test_no_designation_when_the_amounts_decide_nothing() -> None:
    # one Kassenzeichen: its amount in the text decides nothing (a partial payment of Y as today)
    r = _pay(f"KZ {Y} Rechnungsbetrag 200,00 Teilzahlung", 5000)
    assert _allocs(r) == [("t0", "y", 5000, "reference.exact")]
    # the fast lane: one item, paid exactly, whatever the text says
    assert _allocs(_pay(f"KZ {X} 99,00", 5500)) == [("t0", "x", 5500, "reference.exact")]
    # a single amount that is the payment's total: the legal order across the items named
    assert _allocs(_pay(f"KZ {X} und KZ {Y}, zusammen 180,00 EUR", 18000)) == [("t0", "y", 18000, "order.ao225")]
    # numbers that are not amounts: a year, a date, a quarter
    assert _allocs(_pay(f"KZ {X} KZ {Y} Grundsteuer 2026 Q1 15.01", 25500)) == [
        ("t0", "x", 5500, "reference.exact"), ("t0", "y", 20000, "reference.exact")]


def test_one_kassenzeichen_with_less_designated_than_paid_is_held() -> None:
    # the payer says 55,00 are for Y and names a second Kassenzeichen that cannot be read (glued to its
    # amount at an MT940 line break): the other 125,00 are not Y's by the payer's word
    r = _pay(f"KZ {_dotted(Y)} 55,00 Euro, KZ {Z[:-1]}125,00 EUR", 18000)
    assert _allocs(r) == []
    assert _unres(r) == [("t0", "designation_incomplete", 18000)]
    # more designated than paid: a short payment of the amount named, all of it for Y
    assert _allocs(_pay(f"KZ {Y} 200,00 EUR", 18000)) == [("t0", "y", 18000, "reference.exact")]
    # the payment's own amount in the text: a total, as before
    assert _allocs(_pay(f"KZ {Y} 180,00 EUR davon Mahngebuehr 6,00", 18000)) == [("t0", "y", 18000, "reference.exact")]


def test_a_part_that_does_not_fit_needs_a_recognisable_payer() -> None:
    # Y's 125,00 is a partial payment: as for any amount that does not fit, the payer must be the debtor
    text = f"KZ {X} 55,00 KZ {Y} 125,00"
    assert _unres(_pay(text, 18000, counterparty_name="Peter Schmitt")) == [("t0", "payer_unconfirmed", 18000)]
    own = _pay(text, 18000, counterparty_name="Konto 4711", counterparty_iban=IBAN)
    assert _allocs(own) == [("t0", "x", 5500, "payer_designation"), ("t0", "y", 12500, "payer_designation")]
    # two debtors' Kassenzeichen: each part must be exactly what is open
    assert _allocs(_pay(f"KZ {X} 55,00 KZ {Z} 30,00", 8500, counterparty_name="Peter Schmitt")) == [
        ("t0", "x", 5500, "payer_designation"), ("t0", "z", 3000, "payer_designation")]
    assert _unres(_pay(f"KZ {X} 55,00 KZ {Z} 20,00", 7500)) == [("t0", "several_debtors", 7500)]


def test_more_designated_than_open_books_the_open_amount_and_lists_the_rest() -> None:
    # X has 55,00 open but 75,00 are designated for it: X gets 55,00, the 20,00 are an overpayment (never
    # moved to Y against the payer's word)
    r = _pay(f"KZ {X} 75,00 KZ {Y} 125,00", 20000)
    assert _allocs(r) == [("t0", "x", 5500, "payer_designation"), ("t0", "y", 12500, "payer_designation")]
    assert _unres(r) == [("t0", "overpayment", 2000)]


def test_inside_a_kassenzeichen_the_legal_order_applies() -> None:
    # 100,00 for W (main claim 1.500,00 + Mahngebühr 6,00): the main claim first (§ 225 AO)
    r = _pay(f"KZ {W} 100,00 KZ {X} 55,00", 15500)
    assert _allocs(r) == [("t0", "w", 10000, "payer_designation"), ("t0", "x", 5500, "payer_designation")]


def test_overlapping_designations_are_both_booked_when_the_items_cover_them() -> None:
    # t0: X 55 + Y 125; t1: Y 50 + V 30. Y has 200,00 open: enough for both parts on it
    t = txs([{"remittance": f"KZ {X} 55,00 KZ {Y} 125,00", "amount_cents": 18000, "counterparty_name": ANNA},
             {"remittance": f"KZ {Y} 50,00 KZ {V} 30,00", "amount_cents": 8000, "counterparty_name": ANNA}])
    r = match(t, _rec(), CFG)
    assert _allocs(r) == [("t0", "x", 5500, "payer_designation"), ("t0", "y", 12500, "payer_designation"),
                          ("t1", "v", 3000, "payer_designation"), ("t1", "y", 5000, "payer_designation")]
    assert r.unresolved.is_empty()
    # Y has only 150,00 open: t0 (first in processing order) fits, t1 does not and is held
    r = match(t, _rec(y_open=15000), CFG)
    assert _allocs(r) == [("t0", "x", 5500, "payer_designation"), ("t0", "y", 12500, "payer_designation")]
    assert _unres(r) == [("t1", "conflict", 8000)]


def test_designation_beside_a_plain_payment_of_the_same_kassenzeichen() -> None:
    # t0 pays Y alone (a set of its own: the same set as t1's part for Y), t1 designates X and Y: the two
    # fill Y in processing order; no conflict, nothing over-paid
    t = txs([{"remittance": f"KZ {Y}", "amount_cents": 10000, "counterparty_name": ANNA},
             {"remittance": f"KZ {X} 55,00 KZ {Y} 100,00", "amount_cents": 15500, "counterparty_name": ANNA}])
    r = match(t, _rec(), CFG)
    assert _allocs(r) == [("t0", "y", 10000, "reference.exact"), ("t1", "x", 5500, "payer_designation"),
                          ("t1", "y", 10000, "payer_designation")]
    # a plain payment naming X and Y together is another set on the same items: both held as before
    t = txs([{"remittance": f"KZ {X} KZ {Y}", "amount_cents": 25500},
             {"remittance": f"KZ {X} 55,00 KZ {Y} 100,00", "amount_cents": 15500, "counterparty_name": ANNA}])
    r = match(t, _rec(), CFG)
    assert _unres(r) == [("t0", "conflict", 25500), ("t1", "conflict", 15500)]


def test_read_designations_directly() -> None:
    todo = pl.DataFrame({"_t": [0, 1, 2], "amount_cents": [18000, 18000, 18000], "remittance": [
        f"KZ {X} 55,00 KZ {Y} 125,-", f"{X} 55,00 {Y}", f"{X} 55,00 {Y} 100,00"]})
    found = pl.DataFrame({"_t": [0, 0, 1, 1, 2, 2], "kz": [X, Y] * 3})
    held, parts = read_designations(todo, found, 12)
    assert sorted(held.rows()) == [(1, "designation_incomplete"), (2, "designation_sum_mismatch")]
    assert sorted(parts.rows()) == [(0, X, 5500), (0, Y, 12500)]


# ---------------------------------------------------------------- invariants on random designations

SETTINGS = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
SPELL = [lambda c: f"{c // 100},{c % 100:02d}", lambda c: f"{c // 100},{c % 100:02d} EUR",
         lambda c: f"EUR {c // 100}" if c % 100 == 0 else f"{c // 100}.{c % 100:02d}",
         lambda c: f"{c // 100},-" if c % 100 == 0 else f"{c // 100},{c % 100:02d} €"]


def _random_run(seed: int) -> tuple[pl.DataFrame, pl.DataFrame, dict[str, dict[str, int]]]:
    rng = random.Random(seed)
    kzs = [kz(str(b)) for b in (10000000000 + 7919 * i for i in range(1, 60)) if complete(str(b), "mod11")][:6]
    recs, n = [], 0
    for j, k in enumerate(kzs):
        for claim in rng.sample(["GRUNDSTEUER", "MAHNGEBUEHR", "SAEUMNISZUSCHLAG"], rng.randint(1, 2)):
            n += 1
            recs.append({"receivable_id": f"r{n}", "kassenzeichen": k, "debtor_id": f"d{j % 2}", "claim_type": claim,
                         "amount_cents": rng.choice([0, 1500, 2500, 5000, 12500]), "debtor_name": ANNA,
                         "debtor_iban": IBAN if j % 2 == 0 else None})
    rows, designed = [], {}
    for i in range(rng.randint(1, 6)):
        chosen = rng.sample(kzs, rng.randint(2, 3))
        parts = {k: rng.choice([500, 1500, 2500, 5000, 7000, 12500]) for k in chosen}
        after = rng.random() < 0.7
        text = " ".join(f"KZ {k} {rng.choice(SPELL)(c)}" if after else f"{rng.choice(SPELL)(c)} für {k}"
                        for k, c in parts.items())
        total = sum(parts.values()) + rng.choice([0, 0, 0, 100])  # now and then one that does not add up
        tid = f"p{i}"
        designed[tid] = parts
        rows.append({"transaction_id": tid, "remittance": text, "amount_cents": total,
                     "counterparty_iban": rng.choice([IBAN, None]), "counterparty_name": rng.choice([ANNA, "Peter Schmitt"])})
    return txs(rows), items(recs), designed


@SETTINGS
@given(st.integers(0, 2**31))
def test_designations_never_over_allocate_and_never_leave_their_kassenzeichen(seed: int) -> None:
    t, rec, designed = _random_run(seed)
    r = match(t, rec, CFG)
    pos = r.allocations
    # every payment once; booked + unresolved = the payment
    for tid, amount in t.select("transaction_id", "amount_cents").iter_rows():
        booked = int(pos.filter(pl.col("transaction_id") == tid)["amount_cents"].sum())
        left = int(r.unresolved.filter(pl.col("transaction_id") == tid)["unallocated_cents"].sum())
        assert booked + left == amount, tid
    # no item gets more than it had open
    got = pos.group_by("receivable_id").agg(pl.col("amount_cents").sum()).join(
        rec.select("receivable_id", pl.col("amount_cents").alias("open")), on="receivable_id")
    assert (got["amount_cents"] <= got["open"]).all()
    # a payment booked by its designation puts at most each part on its Kassenzeichen, and nothing elsewhere
    for tid, parts in designed.items():
        mine = pos.filter(pl.col("transaction_id") == tid)
        if mine.is_empty():
            continue
        assert set(mine["rule"]) == {"payer_designation"}, (tid, mine)
        per_kz = dict(mine.group_by("kassenzeichen").agg(pl.col("amount_cents").sum()).iter_rows())
        assert set(per_kz) <= set(parts)
        assert all(per_kz[k] <= parts[k] for k in per_kz)
    # a designation that does not add up is never booked
    for tid, amount in t.select("transaction_id", "amount_cents").iter_rows():
        if amount != sum(designed[tid].values()):
            assert pos.filter(pl.col("transaction_id") == tid).is_empty()
            assert r.unresolved.filter(pl.col("transaction_id") == tid)["reason"].to_list() == ["designation_sum_mismatch"]


def test_typo_repaired_references_keep_their_amounts() -> None:
    # both Kassenzeichen mistyped (one wrong digit, one swap): the repair finds X and Y, and each written
    # (mistyped) reference still carries its amount
    wrong = X[:5] + str((int(X[5]) + 1) % 10) + X[6:]
    swapped = next(Y[:i] + Y[i + 1] + Y[i] + Y[i + 2:] for i in range(len(Y) - 1) if Y[i] != Y[i + 1])
    r = _pay(f"KZ {wrong} 55,00 KZ {swapped} 125,00", 18000)
    assert _allocs(r) == [("t0", "x", 5500, "payer_designation"), ("t0", "y", 12500, "payer_designation")]
    # a typo'd reference beside an exact one is not read as the exact one (the exact tier alone counts):
    # the amount next to it names nothing found
    assert _unres(_pay(f"KZ {X} 55,00 KZ {swapped} 125,00", 18000)) == [("t0", "designation_incomplete", 18000)]


# ------------------------------------------- the reading against a plain-Python reading of docs/MATCHING.md

def _cents(w: str) -> int | None:
    if re.fullmatch(_DEC_DE, w):
        euros, dec = w.replace(".", "").split(",")
        return int(euros) * 100 + (0 if dec.startswith("-") else int(dec))
    if re.fullmatch(_DEC_EN, w):
        euros, dec = w.replace(",", "").split(".")
        return int(euros) * 100 + int(dec)
    return int(w.replace(".", "")) * 100


def _naive(text: str, pay: int, found: list[str], n: int) -> tuple[str | None, dict[str, int] | None]:
    """(reason to hold, parts) or (None, None) for no designation: one payment, word by word."""
    words = re.findall(r"\d+(?:[.,/\-]\d+)*(?:,-+)?|€|[^\W\d_]+", re.sub(r"\bRF\d\d", " ", text.upper()))
    cur = [w in CURRENCY for w in words]
    before = [i > 0 and cur[i - 1] for i in range(len(words))]
    after = [i + 1 < len(words) and cur[i + 1] for i in range(len(words))]
    dec = [bool(re.fullmatch(_DEC_DE, w)) or (bool(re.fullmatch(_DEC_EN, w))
           and (not re.fullmatch(_DAY_MONTH, w) or before[i] or after[i])) for i, w in enumerate(words)]
    num = [w[0].isdigit() and not dec[i] for i, w in enumerate(words)]
    tokens: list[tuple[int, str, object]] = [(i, "A", _cents(w)) for i, w in enumerate(words) if dec[i]]
    i = 0
    while i < len(words):
        if not num[i]:
            i += 1
            continue
        j = i
        while j < len(words) and num[j]:
            j += 1
        run = list(range(i, j))
        nd = {k: len(re.sub(r"\D", "", words[k])) for k in run}
        total = sum(nd.values())
        digits = "".join(re.sub(r"\D", "", words[k]) for k in run)
        inside = [f for f in found if f in digits]

        def keeps(k: int, inside: list[str] = inside, run: list[int] = run) -> bool:
            without = "".join(re.sub(r"\D", "", words[m]) for m in run if m != k)
            return all(f in without for f in inside)

        amounts = {k for k in run if re.fullmatch(_BARE, words[k])
                   and ((k == run[-1] and after[k]) or (k == run[0] and before[k]))
                   and (keeps(k) if inside else (total % n != 0 and ((total - nd[k]) % n == 0 or total - nd[k] < n)))}
        tokens += [(k, "A", _cents(words[k])) for k in amounts]
        rest = [k for k in run if k not in amounts]
        ref = "".join(re.sub(r"\D", "", words[k]) for k in rest)
        if len(ref) >= n:
            tokens.append((rest[0], "R", ref))
        i = j
    tokens.sort()
    n_a = sum(k == "A" for _, k, _ in tokens)
    n_r = len(tokens) - n_a
    if n_a == n_r + 1:
        if tokens[0][1] == "A" and tokens[0][2] == pay:
            tokens = tokens[1:]
        elif tokens[-1][1] == "A" and tokens[-1][2] == pay:
            tokens = tokens[:-1]
    amounts_ = [v for _, k, v in tokens if k == "A"]
    refs = [v for _, k, v in tokens if k == "R"]
    if len(found) == 1 and len(refs) <= 1 and pay not in amounts_ and any(int(a) < pay for a in amounts_):  # type: ignore[call-overload]
        return "designation_incomplete", None  # less than the payment named for the one Kassenzeichen
    if not amounts_ or (len(amounts_) == 1 and amounts_[0] == pay) or (len(refs) <= 1 and len(found) <= 1):
        return None, None
    kinds = "".join(k for _, k, _ in tokens)
    if not re.fullmatch(r"(?:RA)+|(?:AR)+", kinds):
        return "designation_incomplete", None
    parts: dict[str, int] = {}
    for ref, cents in zip(refs, amounts_, strict=True):
        named = [k for k in found if k in str(ref)]
        if len(named) != 1:
            return "designation_incomplete", None
        parts[named[0]] = parts.get(named[0], 0) + int(cents)  # type: ignore[call-overload]
    if set(parts) != set(found):
        return "designation_incomplete", None
    if sum(parts.values()) != pay:
        return "designation_sum_mismatch", None
    return None, parts


NOISE = ["Rate", "3", "Q1", "2026", "15.01.2026", "15.01", "Rest folgt", "Grundsteuer", "EUR", "€", "vom", "Nr. 7",
         "12.50", "RF18"]


def _spell_ref(rng: random.Random, k: str) -> str:
    return rng.choice([k, _dotted(k), f"{k[:4]} {k[4:8]} {k[8:]}", f"{k[:6]}-{k[6:]}", f"KZ{k}", f"{k}/2026"])


def _spell_amount(rng: random.Random, c: int) -> str:
    e, d = divmod(c, 100)
    forms = [f"{e},{d:02d}", f"{e}.{d:02d}", f"{e:,}".replace(",", ".") + f",{d:02d}", f"{e},{d:02d} EUR", f"{e},{d:02d}€"]
    if d == 0:
        forms += [f"{e},-", f"EUR {e}", f"{e} EUR", f"€ {e}", f"{e} Euro", f"{e},--"]
    return rng.choice(forms)


def test_reading_equals_the_plain_reading_on_random_texts() -> None:
    rng = random.Random(20261207)
    kzs = [X, Y, Z, W, V]
    rows, founds, expect = [], [], {}
    for t in range(600):
        found = rng.sample(kzs, rng.randint(1, 3))
        parts = []
        for k in found + ([kz("99999999999")] if rng.random() < 0.1 else []):
            c = rng.choice([500, 5500, 12500, 123456, 7000, 99])
            ref, amt = _spell_ref(rng, k), _spell_amount(rng, c)
            parts.append((ref, amt, c) if rng.random() < 0.9 else (ref, "", 0))
        after = rng.random() < 0.6
        words = []
        for ref, amt, _ in parts:
            words += [w for w in ((ref, amt) if after else (amt, ref)) if w]
            if rng.random() < 0.3:
                words.insert(rng.randrange(len(words) + 1), rng.choice(NOISE))
        pay = sum(c for _, _, c in parts) + rng.choice([0, 0, 0, 0, 100])
        if rng.random() < 0.1:
            words.append(_spell_amount(rng, pay))  # a total
        text = rng.choice([" ", ", ", "; ", " und "]).join(words)
        rows.append({"_t": t, "amount_cents": pay, "remittance": text})
        founds += [{"_t": t, "kz": k} for k in found]
        expect[t] = _naive(text, pay, found, 12)
    held, parts_ = read_designations(pl.DataFrame(rows), pl.DataFrame(founds), 12)
    got: dict[int, tuple] = {t: (None, None) for t in expect}
    for t, reason in held.iter_rows():
        got[t] = (reason, None)
    for t, k, c in parts_.iter_rows():
        got[t] = (None, {**(got[t][1] or {}), k: c})
    wrong = {t: (rows[t]["remittance"], expect[t], got[t]) for t in expect if expect[t] != got[t]}
    assert not wrong, list(wrong.values())[:5]
    kinds = {None if p else r for r, p in expect.values()}
    assert {"designation_incomplete", "designation_sum_mismatch"} <= kinds and None in kinds
    assert sum(p is not None for _, p in expect.values()) > 100  # many designations followed
