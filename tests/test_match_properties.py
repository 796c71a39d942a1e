"""Invariants of the matcher on small random municipalities, and the differential test against the
naive oracle (tests/oracle_matcher.py)."""

from __future__ import annotations

import random
from datetime import date, timedelta

import polars as pl
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from oracle_matcher import items, kz, oracle_match, prior, txs

from matching import load_match_config, match

CFG = load_match_config(None)
SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
NAMES = ["Müller, Anna", "Bernd Schäfer", "Çelik, Elif", "Metallbau Krämer e.K.", "Schmidt, Petra", "Wójcik, Michał"]
CLAIMS = ["GRUNDSTEUER", "ABFALL", "MAHNGEBUEHR", "SAEUMNISZUSCHLAG", "ZINSEN", "KITA"]


def _rf(content: str, good: bool) -> str:
    """An ISO 11649 creditor reference for ``content`` (with wrong check digits unless ``good``)."""
    check = 98 - int("".join(str(int(ch, 36)) for ch in content + "RF00")) % 97
    return f"RF{(check if good else check % 97 + 1):02d}{content}"


def _spell(rng: random.Random, k: str) -> str:
    """A Kassenzeichen as a payer might write it (clean, formatted, cut, mistyped, swapped, letters for
    digits, a year attached, inside an RF creditor reference)."""
    how = rng.randrange(11)
    if how == 7:
        return "".join(rng.choice({"0": "0OOo", "1": "1lIl"}.get(c, c)) for c in k)
    if how == 8:
        return rng.choice([f"{k}/2026", f"{k}-2026", f"{k[:4]} {k[4:8]} {k[8:]} 2026", f"{k}2026", f"2026{k}"])
    if how == 9:
        rf = _rf("0" * rng.randrange(4) + k, rng.random() < 0.7)
        return rng.choice([rf, " ".join(rf[i:i + 4] for i in range(0, len(rf), 4))])
    if how == 1:
        return f"{k[:4]}.{k[4:8]}.{k[8:]}"
    if how == 2:
        cut = rng.randrange(1, len(k))
        return f"{k[:cut]} {k[cut:]}"
    if how == 3:
        i = rng.randrange(len(k))
        return k[:i] + str((int(k[i]) + rng.randrange(1, 10)) % 10) + k[i + 1:]
    if how == 4:
        i = rng.randrange(len(k) - 1)
        return k[:i] + k[i + 1] + k[i] + k[i + 2:]
    if how == 5:
        return f"4711{k}"
    return k


def _iban_field(rng: random.Random, ibans: list[str], d: int) -> str | None:
    """A debtor's IBAN field as exports hold it: its own, a neighbour's, none, or a list written by hand."""
    pick = rng.random()
    if pick < 0.6:
        return ibans[d]
    if pick < 0.75:
        return ibans[(d + 1) % len(ibans)]
    if pick < 0.9:  # a list: ';' or ',', blanks every four characters, lower case
        other = " ".join(ibans[(d + 1) % len(ibans)][i:i + 4] for i in range(0, 22, 4))
        return rng.choice([";", ", "]).join([ibans[d].lower(), other])
    return None


def _case(seed: int) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame | None]:
    rng = random.Random(seed)
    recs, kzs = [], []
    n_debtors = rng.randint(2, 6)
    ibans = [f"DE{rng.randrange(10**18):018d}00" for _ in range(n_debtors)]
    n = 0
    for d in range(n_debtors):
        for _ in range(rng.randint(1, 2)):
            while True:
                body = f"{rng.randrange(10**10, 10**11)}"
                k = kz(body) if body and __import__("claims.kassenzeichen").kassenzeichen.mod11(body) is not None else None
                if k:
                    break
            kzs.append((k, d))
            for _ in range(rng.randint(1, 3)):
                n += 1
                recs.append({
                    "receivable_id": f"r{n}", "kassenzeichen": k, "debtor_id": f"d{d}", "debtor_name": NAMES[d],
                    "debtor_iban": _iban_field(rng, ibans, d),
                    "claim_type": rng.choice(CLAIMS), "law": rng.choice(["public", "public", "private"]),
                    "amount_cents": rng.choice([0, 500, 1000, 2500, 2500, 4000]),
                    "due_date": date(2026, 1, 1) + timedelta(days=rng.randrange(40)),
                })
    amounts = sorted({r["amount_cents"] for r in recs} | {1500, 3500, 7000})
    rows = []
    for i in range(rng.randint(1, 9)):
        k, d = rng.choice(kzs)
        text_kind = rng.randrange(6)
        text = {0: "Danke", 1: f"KZ {_spell(rng, k)}", 2: f"{_spell(rng, k)} {_spell(rng, rng.choice(kzs)[0])}",
                3: f"Az. {_spell(rng, k)} Gebuehr", 4: f"Kassenzeichen: {_spell(rng, k)}", 5: "Steuer 2026"}[text_kind]
        # the Kassenzeichen's open sum (less a bank's charges, now and then), or any amount
        owed = sum(r["amount_cents"] for r in recs if r["kassenzeichen"] == k)
        amount = rng.choice([*amounts, owed, owed, owed - rng.choice([50, 300])])
        amount = amount if amount > 0 else 500
        row = {"transaction_id": f"p{i}", "remittance": text, "amount_cents": amount,
               "booking_date": date(2026, 2, 1) + timedelta(days=rng.randrange(3)),
               "bank_ref": rng.choice([f"B{i}", None]),
               "counterparty_iban": rng.choice([ibans[d], ibans[rng.randrange(n_debtors)], None, "AT611904300234573201"]),
               "counterparty_name": rng.choice([NAMES[d], NAMES[(d + 1) % len(NAMES)], f"P. {NAMES[d].split(',')[0]}", None]),
               # on whose behalf: the debtor, someone else, or nobody named
               "ultimate_party": rng.choice([None, None, NAMES[d], NAMES[rng.randrange(n_debtors)]]),
               "charges_cents": rng.choice([None, None, None, 300])}
        roll = rng.random()
        if roll < 0.1:
            row.update(tx_code="805", amount_cents=-amount)
        elif roll < 0.25:
            row.update(tx_code="109", amount_cents=-amount, end_to_end_id=k, remittance="RUECKLASTSCHRIFT")
        elif roll < 0.3:
            row.update(booked=False)
        rows.append(row)
    earlier = None
    if rng.random() < 0.5:
        picks = rng.sample(recs, k=min(2, len(recs)))
        earlier = prior([{"transaction_id": f"old{j}", "receivable_id": r["receivable_id"], "kassenzeichen": r["kassenzeichen"],
                          "amount_cents": rng.choice(amounts) or 500} for j, r in enumerate(picks)])
    return txs(rows), items(recs), earlier


def _as_sets(result) -> tuple[set[tuple], set[tuple]]:
    a = set(result.allocations.select("transaction_id", "receivable_id", "amount_cents", "rule").iter_rows())
    u = set(result.unresolved.select("transaction_id", "reason", "unallocated_cents").iter_rows())
    return a, u


@SETTINGS
@given(st.integers(0, 2**31))
def test_vectorised_equals_the_naive_oracle(seed: int) -> None:
    t, rec, earlier = _case(seed)
    assert _as_sets(match(t, rec, CFG, prior_allocations=earlier)) == oracle_match(t, rec, CFG, earlier)


@SETTINGS
@given(st.integers(0, 2**31))
def test_every_payment_exactly_once_and_no_item_overpaid(seed: int) -> None:
    t, rec, earlier = _case(seed)
    r = match(t, rec, CFG, prior_allocations=earlier)
    credits = t.filter(pl.col("booked") & (pl.col("amount_cents") > 0) & ~pl.col("tx_code").str.starts_with("8"))
    pos = r.allocations.filter(pl.col("amount_cents") > 0)
    # a transaction appears at most once in unresolved
    assert r.unresolved["transaction_id"].is_unique().all()
    for tid, amount in credits.select("transaction_id", "amount_cents").iter_rows():
        booked = int(pos.filter(pl.col("transaction_id") == tid)["amount_cents"].sum())
        left = r.unresolved.filter(pl.col("transaction_id") == tid)["unallocated_cents"].sum()
        assert booked + left == amount, tid
        assert booked > 0 or left == amount
    got = pos.group_by("receivable_id").agg(pl.col("amount_cents").sum()).join(
        rec.select("receivable_id", pl.col("amount_cents").alias("open")), on="receivable_id")
    assert (got["amount_cents"] <= got["open"]).all()


@SETTINGS
@given(st.integers(0, 2**31), st.randoms(use_true_random=False))
def test_shuffling_the_input_changes_nothing(seed: int, rnd: random.Random) -> None:
    t, rec, earlier = _case(seed)
    a = match(t, rec, CFG, prior_allocations=earlier)
    order = list(range(t.height))
    rnd.shuffle(order)
    b = match(t[order], rec.sample(fraction=1.0, shuffle=True, seed=rnd.randrange(1000)), CFG, prior_allocations=earlier)
    assert a.allocations.equals(b.allocations)
    assert a.unresolved.equals(b.unresolved)
    assert a.summary == b.summary
