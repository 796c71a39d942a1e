"""A deliberately naive, obviously correct matcher: the oracle of the differential tests.

Plain Python, one payment after the other, following docs/MATCHING.md word by word. Kept only to
test the vectorised matcher against; never used in production (it loops over payments on purpose).
Also holds small builders for literal test frames.
"""

from __future__ import annotations

import re
from datetime import date
from typing import Any

import polars as pl
from anyascii import anyascii

from claims.claim import OPEN_ITEM_SCHEMA
from claims.kassenzeichen import complete, is_valid
from matching.config import MAIN, MatchConfig
from matching.schema import ALLOCATION_SCHEMA
from parsers.schema import TRANSACTION_SCHEMA, conform

RULES = ("reference.exact", "reference.window", "reference.typo", "iban_amount")


def kz(body: str, scheme: str = "mod11") -> str:
    """A valid Kassenzeichen from an 11-digit body (test helper; the body must be issuable)."""
    out = complete(body, scheme)
    assert out is not None, body
    return out


def items(rows: list[dict[str, Any]]) -> pl.DataFrame:
    """Open items from dicts; defaults fill what a test does not care about."""
    base = {"tenant": "t", "debtor_name": "X", "claim_type": "GRUNDSTEUER", "due_date": date(2026, 1, 15), "law": "public"}
    full = [{**base, **r} for r in rows]
    for r in full:
        r.setdefault("kz_norm", re.sub(r"\D", "", r["kassenzeichen"]))
    return conform(pl.DataFrame(full, infer_schema_length=None), OPEN_ITEM_SCHEMA)


def txs(rows: list[dict[str, Any]]) -> pl.DataFrame:
    """Transactions from dicts; booked credits on 2026-02-02 unless said otherwise."""
    base = {"booked": True, "booking_date": date(2026, 2, 2), "tx_code": "166", "currency": "EUR"}
    full = [{**base, **r} for r in rows]
    for i, r in enumerate(full):
        r.setdefault("transaction_id", f"t{i}")
        r.setdefault("bank_ref", f"B{i:04d}")
    return conform(pl.DataFrame(full, infer_schema_length=None), TRANSACTION_SCHEMA)


def prior(rows: list[dict[str, Any]]) -> pl.DataFrame:
    """Earlier allocations (ALLOCATION_SCHEMA) from dicts."""
    base = {"rule": "reference.exact", "confidence": 1.0, "decided_by": "auto", "booking_date": date(2026, 1, 20)}
    return conform(pl.DataFrame([{**base, **r} for r in rows], infer_schema_length=None), ALLOCATION_SCHEMA)


def _valid(ref: str, cfg: MatchConfig) -> bool:
    if len(ref) != cfg.digits:
        return False
    if cfg.check_digit == "mod11" and complete(ref[:-1], "mod11") is None:
        return False
    return is_valid(ref, cfg.check_digit)


def _plain(t: dict[str, Any], cfg: MatchConfig) -> str:
    parts = [t[c] for c in ("remittance", "end_to_end_id", "creditor_ref") if t[c] is not None]
    text = " | ".join(parts).upper()
    text = re.sub(r"\bRF\d\d", " ", text)
    for p in sorted(cfg.prefixes, key=len, reverse=True):
        text = re.sub(r"\b" + re.escape(p) + r"\b\.?:?", " ", text)
    return text


def _digit_plain(t: dict[str, Any]) -> str:
    parts = [t[c] for c in ("remittance", "end_to_end_id", "creditor_ref") if t[c] is not None]
    return re.sub(r"(?i)\bRF\d\d", " ", " | ".join(parts))


def _text(t: dict[str, Any], cfg: MatchConfig) -> str:
    text = _digit_plain(t)
    while True:
        new = re.sub(r"(\d)[.\s/\-]+(\d)", r"\1\2", text)
        if new == text:
            return text
        text = new


def _refs(t: dict[str, Any], cfg: MatchConfig) -> tuple[set[str], set[str]]:
    """(exact: whole digit groups of a stretch adding up to ``digits``; windows: other slices)."""
    n = cfg.digits
    plain = _digit_plain(t)
    exact, windows = set(), set()
    long_runs = [r for r in re.findall(r"\d+", plain) if len(r) > n]
    for stretch in re.findall(rf"\d[\d.\s/\-]{{{n - 2},}}\d", plain):
        groups = re.findall(r"\d+", stretch)
        for a in range(len(groups)):
            for b in range(a, len(groups)):
                joined = "".join(groups[a:b + 1])
                if len(joined) == n:
                    exact.add(joined)
        long_runs.append("".join(groups))
    if cfg.check_digit != "none":
        for run in long_runs:
            if n < len(run) <= cfg.max_run:
                windows.update(run[i:i + n] for i in range(len(run) - n + 1))
    return exact, windows


def _tokens(t: dict[str, Any], cfg: MatchConfig) -> set[str]:
    words = re.findall(r"[A-Z0-9]+", _plain(t, cfg))
    grams = {"".join(words[i:i + k]) for k in range(1, 5) for i in range(len(words) - k + 1)}
    return {g for g in grams if len(g) >= 4}


def _edits(ref: str) -> set[str]:
    out = {ref[:i] + d + ref[i + 1:] for i in range(len(ref)) for d in "0123456789"}
    out |= {ref[:i] + ref[i + 1] + ref[i] + ref[i + 2:] for i in range(len(ref) - 1)}
    out.discard(ref)
    return out


STOP = {"GMBH", "MBH", "UG", "KG", "OHG", "AG", "CO", "EK", "GBR", "EG", "EV", "SE", "HAFTUNGSBESCHRAENKT",
        "UND", "DR", "PROF", "FRAU", "HERR", "FAMILIE", "FAM"}


def _words(name: str | None) -> list[str]:
    s = (name or "").upper()
    for a, b in (("Ä", "AE"), ("Ö", "OE"), ("Ü", "UE"), ("ẞ", "SS")):
        s = s.replace(a, b)
    s = anyascii(s).upper()  # every other letter of any alphabet: Ł → L, Ø → O, Æ → AE, ı → I …
    return [w for w in re.split(r"[^A-Z]+", s) if w and w not in STOP]


def _abroad(t: dict[str, Any]) -> bool:
    """docs/MATCHING.md, bank charges: a foreign IBAN, or the bank reports charges or a larger original amount."""
    iban = (t["counterparty_iban"] or "").replace(" ", "").upper()
    foreign = re.match(r"[A-Z]{2}[0-9]{2}", iban) is not None and not iban.startswith("DE")
    original = t["original_amount_cents"]
    return foreign or (t["charges_cents"] or 0) > 0 or (original is not None and original > t["amount_cents"])


def same_person_naive(payer: str | None, debtor: str | None) -> bool:
    """docs/MATCHING.md: payer words ⊆ debtor words (initials match first letters), or the reverse."""
    pw, dw = _words(payer), _words(debtor)
    p_full = {w for w in pw if len(w) > 1}
    p_init = {w for w in pw if len(w) == 1}
    d_full = {w for w in dw if len(w) > 1}
    a = bool(p_full) and p_full <= d_full and p_init <= {w[0] for w in d_full}
    b = bool(d_full) and d_full <= p_full
    return a or b


def _rank(item: dict[str, Any], cfg: MatchConfig) -> int:
    order = cfg.private if item["law"] == "private" else cfg.public
    if item["claim_type"] in order:
        return order.index(item["claim_type"])
    return order.index(MAIN) if MAIN in order else len(order)


def oracle_match(transactions: pl.DataFrame, receivables: pl.DataFrame, cfg: MatchConfig,
                 prior_allocations: pl.DataFrame | None = None) -> tuple[set[tuple], set[tuple]]:
    """(allocations as {(transaction_id, receivable_id, amount_cents, rule)},
    unresolved as {(transaction_id, reason, unallocated_cents)})."""
    recs = receivables.to_dicts()
    by_id = {r["receivable_id"]: r for r in recs}
    owners: dict[str, set[str]] = {}
    for r in recs:
        for iban in re.split(r"[,;]", r["debtor_iban"] or ""):
            iban = re.sub(r"\s", "", iban).upper()
            if iban:
                owners.setdefault(iban, set()).add(r["debtor_id"])
    rows = sorted(transactions.to_dicts(), key=lambda t: (t["booking_date"], t["bank_ref"] or "\uffff", t["transaction_id"]))
    pays, rets = [], []
    for t in rows:
        code = t["tx_code"] or ""
        if not t["booked"] or any(code.startswith(p) for p in cfg.skip_tx_codes) or t["amount_cents"] == 0:
            continue
        if t["amount_cents"] < 0:
            if code in cfg.return_tx_codes or t["return_reason"] is not None:
                rets.append(t)
            continue
        pays.append(t)

    decided: list[tuple[dict[str, Any], list[str], dict[str, str]]] = []   # (payment, item ids, rule per item)
    unresolved: set[tuple] = set()
    for t in pays:
        exact, windows = _refs(t, cfg)
        payer_set = owners.get((t["counterparty_iban"] or "").replace(" ", "").upper(), set())
        payer = next(iter(payer_set)) if len(payer_set) == 1 else None
        levels: dict[int, set[str]] = {0: set(), 1: set(), 2: set(), 3: set()}
        tokens = _tokens(t, cfg)
        for r in recs:
            if r["kz_norm"] in exact and _valid(r["kz_norm"], cfg):
                levels[0].add(r["receivable_id"])
            ext = re.sub(r"[^A-Z0-9]", "", (r["external_ref"] or "").upper())
            if ext and ext in tokens:
                levels[0].add(r["receivable_id"])
        for r in recs:
            if r["kz_norm"] in windows and _valid(r["kz_norm"], cfg):
                levels[1].add(r["receivable_id"])
        typo_ambiguous = False
        if not levels[0] and not levels[1] and cfg.typo_repair and cfg.check_digit != "none":
            known = {r["kz_norm"] for r in recs}
            for ref in exact:
                if _valid(ref, cfg):
                    continue  # a valid reference is never one edit from another valid one
                fits = {v for v in _edits(ref) if _valid(v, cfg) and v in known}
                if len(fits) > 1:
                    same = {v for v in fits if sum(r["amount_cents"] for r in recs if r["kz_norm"] == v) == t["amount_cents"]}
                    fits = same if len(same) == 1 else fits
                if len(fits) == 1:
                    levels[2] |= {r["receivable_id"] for r in recs if r["kz_norm"] in fits}
                elif len(fits) > 1:
                    typo_ambiguous = True
        if not any(levels.values()) and cfg.iban_amount and payer is not None:
            levels[3] = {r["receivable_id"] for r in recs
                         if r["debtor_id"] == payer and r["amount_cents"] > 0 and r["amount_cents"] == t["amount_cents"]}
        level = next((lv for lv in (0, 1, 2, 3) if levels[lv]), None)
        if level is None:
            reason = "ambiguous" if typo_ambiguous else ("unknown_reference" if exact else "no_reference")
            unresolved.add((t["transaction_id"], reason, t["amount_cents"]))
            continue
        ids = sorted(levels[level])
        debtors = {by_id[i]["debtor_id"] for i in ids}
        open_sum = sum(by_id[i]["amount_cents"] for i in ids)
        fits_all = t["amount_cents"] == open_sum
        debtor = min(debtors)
        debtor_name = min(by_id[i]["debtor_name"] for i in ids if by_id[i]["debtor_id"] == debtor)
        other = payer is not None and payer != debtor
        confirmed = payer == debtor or same_person_naive(t["counterparty_name"], debtor_name) or \
            same_person_naive(t["ultimate_party"], debtor_name)
        reason = None
        # the reference and the payer's account name two debtors (docs/MATCHING.md, contradicting evidence)
        if fits_all and open_sum > 0 and level < 3 and payer is not None and payer not in debtors:
            types = {by_id[i]["claim_type"] for i in ids}
            rival = [r for r in recs if r["debtor_id"] == payer and r["amount_cents"] > 0
                     and r["amount_cents"] == t["amount_cents"] and r["claim_type"] in types]
            up = t["ultimate_party"]
            for_x = len(debtors) == 1 and up is not None and same_person_naive(up, debtor_name) and \
                not any(same_person_naive(up, r["debtor_name"]) for r in rival)
            if level == 2 or (rival and not for_x):
                unresolved.add((t["transaction_id"], "evidence_conflict", t["amount_cents"]))
                continue
        short = open_sum - t["amount_cents"]
        if level < 2 and len(debtors) == 1 and _abroad(t) and \
                0 < short <= min(cfg.charges_max_cents, open_sum * cfg.charges_max_percent / 100):
            confirmed = True  # short by the banks' charges
        if level == 3 and len(ids) > 1:
            reason = "ambiguous"
        elif len(debtors) > 1 and not fits_all:
            reason = "several_debtors"
        elif open_sum == 0:
            reason = "double_payment"
        elif not fits_all and other:
            reason = "reference_other_debtor"
        elif not fits_all and not confirmed:
            reason = "typo_unconfirmed" if level == 2 else "payer_unconfirmed"
        if reason:
            unresolved.add((t["transaction_id"], reason, t["amount_cents"]))
        else:
            rule_of = {i: RULES[level] for i in ids}
            decided.append((t, ids, rule_of))

    # overlapping but different designated sets in one run are left to a clerk
    sets_of: dict[str, set[tuple[str, ...]]] = {}
    for _, ids, _ in decided:
        for i in ids:
            sets_of.setdefault(i, set()).add(tuple(ids))
    allocations: set[tuple] = set()
    left = {r["receivable_id"]: r["amount_cents"] for r in recs}
    for t, ids, rule_of in decided:
        if any(len(sets_of[i]) > 1 for i in ids):
            unresolved.add((t["transaction_id"], "conflict", t["amount_cents"]))
            continue
        ordered = sorted(ids, key=lambda i: (_rank(by_id[i], cfg), by_id[i]["due_date"], i))
        laws = {by_id[i]["law"] for i in ids}
        n_open = sum(1 for i in ids if by_id[i]["amount_cents"] > 0)
        remaining = t["amount_cents"]
        got: list[tuple[str, int]] = []
        for i in ordered:
            take = min(remaining, left[i])
            if take > 0:
                got.append((i, take))
                left[i] -= take
                remaining -= take
        still_open = sum(left[i] for i in ids)
        if n_open > 1 and still_open > 0:
            rule = "order.mixed" if len(laws) > 1 else cfg.order_rule(laws.pop())
        else:
            rule = ""
        allocations |= {(t["transaction_id"], i, a, rule or rule_of[i]) for i, a in got}
        if remaining > 0:
            unresolved.add((t["transaction_id"], "overpayment" if got else "double_payment", remaining))

    # direct-debit returns
    pool = [(a[0], a[1], a[2]) for a in allocations]
    if prior_allocations is not None:
        pool += [(p["transaction_id"], p["receivable_id"], p["amount_cents"]) for p in prior_allocations.to_dicts()]
    kz_of = {r["receivable_id"]: r["kz_norm"] for r in recs}
    used: set[str] = set()
    net: dict[str, int] = {}
    for _, rid, amt in pool:
        net[rid] = net.get(rid, 0) + amt
    for t in rets:
        exact, windows = _refs(t, cfg)
        quoted = {x for x in exact | windows if _valid(x, cfg)}
        origs = {o for o, rid, amt in pool if amt > 0 and kz_of.get(rid) in quoted}
        back = -t["amount_cents"]
        fits = [o for o in origs if sum(a for oo, _, a in pool if oo == o and a > 0) in (back, t["original_amount_cents"])]
        if len(fits) != 1:
            unresolved.add((t["transaction_id"], "return_unmatched", t["amount_cents"]))
            continue
        if fits[0] in used:
            unresolved.add((t["transaction_id"], "return_duplicate", t["amount_cents"]))
            continue
        used.add(fits[0])
        rows_ = [(rid, min(a, max(net[rid], 0))) for o, rid, a in pool if o == fits[0] and a > 0]
        if all(a == 0 for _, a in rows_):
            unresolved.add((t["transaction_id"], "return_duplicate", t["amount_cents"]))
        allocations |= {(t["transaction_id"], rid, -a, "dd_return") for rid, a in rows_ if a > 0}
    return allocations, unresolved
