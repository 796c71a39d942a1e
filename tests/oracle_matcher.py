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

RULES = ("reference.exact", "reference.window", "reference.letters", "reference.typo", "iban_amount")
#: letters typed for digits (docs/MATCHING.md), read in numbers: words of digits and these letters joined by separators
LETTERS = {"O": "0", "o": "0", "I": "1", "l": "1"}


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


def _placed(t: dict[str, Any], cfg: MatchConfig, kind: str) -> list[tuple[int, int, str]]:
    """(stretch number, place of the first digit in the stretch's digits, reading) of the exact (whole
    digit groups) or window readings of the stretches with more than ``digits`` digits."""
    n = cfg.digits
    out = []
    for k, stretch in enumerate(s for s in re.findall(rf"\d[\d.\s/\-]{{{n - 2},}}\d", _digit_plain(t))
                                if len(re.findall(r"\d", s)) > n):
        groups = re.findall(r"\d+", stretch)
        starts = [sum(len(g) for g in groups[:i]) for i in range(len(groups))]
        run = "".join(groups)
        if kind == "exact":
            for a in range(len(groups)):
                for b in range(a, len(groups)):
                    if len("".join(groups[a:b + 1])) == n:
                        out.append((k, starts[a], run[starts[a]:starts[a] + n]))
        elif len(run) <= cfg.max_run:
            out += [(k, i, run[i:i + n]) for i in range(len(run) - n + 1)]
        else:  # a stretch too long to read as a whole: its long digit groups
            for g, at in zip(groups, starts, strict=True):
                if n < len(g) <= cfg.max_run:
                    out += [(k, at + i, g[i:i + n]) for i in range(len(g) - n + 1)]
    return out


def _ambiguous(t: dict[str, Any], cfg: MatchConfig, kind: str, hits: set[str]) -> bool:
    """Two readings of one stretch that share digits name two different Kassenzeichen of ``hits``."""
    places = [p for p in _placed(t, cfg, kind) if p[2] in hits]
    return any(a[0] == b[0] and abs(a[1] - b[1]) < cfg.digits and a[2] != b[2] for a in places for b in places)


def _rf_kz(t: dict[str, Any], cfg: MatchConfig) -> set[str]:
    """The Kassenzeichen (``digits`` digits after leading zeros) inside valid ISO 11649 references: the
    first RF of each field, ended at each boundary of its groups (up to 21 characters), counted where
    exactly one ending passes mod 97 (RF and the check digits moved to the end, letters A=10 … Z=35)."""
    n, out = cfg.digits, set()
    for field in ("remittance", "end_to_end_id", "creditor_ref"):
        m = re.search(r"(?i)\bRF\s?([0-9]{2})((?:\s?[0-9A-Z])+)", t[field] or "")
        if not m:
            continue
        groups = re.findall(r"[0-9A-Za-z]+", m.group(2))
        contents = {"".join(groups[:k]).upper() for k in range(1, len(groups) + 1)}
        ok = [c for c in contents if len(c) <= 21
              and int("".join(str(int(ch, 36)) for ch in c + "RF" + m.group(1))) % 97 == 1]
        if len(ok) == 1 and ok[0].isdigit() and len(ok[0]) >= n and set(ok[0][:len(ok[0]) - n]) <= {"0"}:
            out.add(ok[0][len(ok[0]) - n:])
    return out


def _letters_read(t: dict[str, Any], cfg: MatchConfig) -> dict[str, Any]:
    """``t`` with the letters of its numbers read as digits: runs of words of digits and O, o, I, l joined
    by separators, holding a digit (prefixes glued to them dropped)."""
    alts = "|".join(re.escape(p) for p in sorted(cfg.prefixes, key=len, reverse=True))
    out = dict(t)
    for field in ("remittance", "end_to_end_id", "creditor_ref"):
        if t[field] is None:
            continue
        text = re.sub(rf"(?i:\b(?:{alts}))([0-9OoIl])", r"\1", t[field]) if alts else t[field]
        pieces = []
        for piece in re.findall(r"\w+|\W+", text):
            if re.fullmatch(r"\w+", piece) and not re.fullmatch(r"[0-9OoIl]+", piece):  # cut off a glued number
                head = re.match(r"[0-9OoIl]*[0-9]", piece)
                tail = re.search(r"[0-9][0-9OoIl]*$", piece)
                h = head.group() if head else ""
                t_ = tail.group() if tail else ""
                pieces += [x for x in (h, piece[len(h):len(piece) - len(t_)], t_) if x]
            else:
                pieces.append(piece)
        runs: list[list[int]] = [[]]  # pieces of numbers: words of digits and the letters, joined by separators
        for k, piece in enumerate(pieces):
            if re.fullmatch(r"[0-9OoIl]+", piece) or re.fullmatch(r"[.\s/\-]+", piece):
                runs[-1].append(k)
            elif runs[-1]:
                runs.append([])
        for run in runs:
            if any(re.search(r"[0-9]", pieces[k]) and re.fullmatch(r"[0-9OoIl]+", pieces[k]) for k in run):
                for k in run:
                    pieces[k] = "".join(LETTERS.get(c, c) for c in pieces[k]) if re.fullmatch(r"[0-9OoIl]+", pieces[k]) else pieces[k]
        out[field] = "".join(pieces)
    return out


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
        levels: dict[int, set[str]] = {lv: set() for lv in range(len(RULES))}
        tokens = _tokens(t, cfg)
        known = {r["kz_norm"] for r in recs if _valid(r["kz_norm"], cfg)}
        exact_hits = {x for x in exact if x in known}
        ext_debtors: dict[str, set[str]] = {}
        for r in recs:
            if r["kz_norm"] in exact_hits:
                levels[0].add(r["receivable_id"])
            ext = re.sub(r"[^A-Z0-9]", "", (r["external_ref"] or "").upper())
            if ext and ext in tokens:
                levels[0].add(r["receivable_id"])
                ext_debtors.setdefault(ext, set()).add(r["debtor_id"])
        # an external reference quoted that several debtors' items carry names no one
        ambiguous = _ambiguous(t, cfg, "exact", exact_hits) or any(len(d) > 1 for d in ext_debtors.values())
        if not levels[0]:
            levels[0] = {r["receivable_id"] for r in recs if r["kz_norm"] in _rf_kz(t, cfg) & known}
        if not levels[0]:
            window_hits = {x for x in windows if x in known}
            levels[1] = {r["receivable_id"] for r in recs if r["kz_norm"] in window_hits}
            ambiguous = _ambiguous(t, cfg, "window", window_hits)
        typo_ambiguous = ambiguous
        if ambiguous:  # shown to the clerk, never booked: no repair is tried
            levels[0] = levels[1] = set()
        elif not levels[0] and not levels[1] and cfg.typo_repair and cfg.check_digit != "none":
            lettered = {x for x in _refs(_letters_read(t, cfg), cfg)[0] if x in known}
            if len(lettered) == 1:
                levels[2] = {r["receivable_id"] for r in recs if r["kz_norm"] in lettered}
            typo_ambiguous = len(lettered) > 1
        if not any(levels.values()) and not typo_ambiguous and cfg.typo_repair and cfg.check_digit != "none":
            all_known = {r["kz_norm"] for r in recs}
            for ref in exact:
                if _valid(ref, cfg):
                    continue  # a valid reference is never one edit from another valid one
                fits = {v for v in _edits(ref) if _valid(v, cfg) and v in all_known}
                if len(fits) > 1:
                    same = {v for v in fits if sum(r["amount_cents"] for r in recs if r["kz_norm"] == v) == t["amount_cents"]}
                    fits = same if len(same) == 1 else fits
                if len(fits) == 1:
                    levels[3] |= {r["receivable_id"] for r in recs if r["kz_norm"] in fits}
                elif len(fits) > 1:
                    typo_ambiguous = True
        if not any(levels.values()) and cfg.iban_amount and payer is not None:
            levels[4] = {r["receivable_id"] for r in recs
                         if r["debtor_id"] == payer and r["amount_cents"] > 0 and r["amount_cents"] == t["amount_cents"]}
        level = next((lv for lv in range(len(RULES)) if levels[lv]), None)
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
        if fits_all and open_sum > 0 and level < 4 and payer is not None and payer not in debtors:
            types = {by_id[i]["claim_type"] for i in ids}
            rival = [r for r in recs if r["debtor_id"] == payer and r["amount_cents"] > 0
                     and r["amount_cents"] == t["amount_cents"] and r["claim_type"] in types]
            up = t["ultimate_party"]
            for_x = len(debtors) == 1 and up is not None and same_person_naive(up, debtor_name) and \
                not any(same_person_naive(up, r["debtor_name"]) for r in rival)
            if level in (2, 3) or (rival and not for_x):  # letters or typo: repaired readings
                unresolved.add((t["transaction_id"], "evidence_conflict", t["amount_cents"]))
                continue
        short = open_sum - t["amount_cents"]
        if level < 2 and len(debtors) == 1 and _abroad(t) and \
                0 < short <= min(cfg.charges_max_cents, open_sum * cfg.charges_max_percent / 100):
            confirmed = True  # short by the banks' charges
        if level == 4 and len(ids) > 1:
            reason = "ambiguous"
        elif len(debtors) > 1 and not fits_all:
            reason = "several_debtors"
        elif open_sum == 0:
            reason = "double_payment"
        elif not fits_all and other:
            reason = "reference_other_debtor"
        elif not fits_all and not confirmed:
            reason = "typo_unconfirmed" if level in (2, 3) else "payer_unconfirmed"
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
