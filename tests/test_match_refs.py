"""Reference extraction and typo repair against a plain-Python reading of their documented rules.

The vectorised functions (:func:`matching.refexpr.reference_candidates`,
:func:`matching.typos.typo_repairs`) are checked on random payment texts — separators, prefixes, bank
line cuts, glued numbers, RF creditor references, other Unicode digits and white space — against the
character-by-character oracles below, for every check-digit scheme and for references longer than an
Int64 holds (20 digits: the string paths).
"""

from __future__ import annotations

import re

import polars as pl
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from claims.kassenzeichen import complete, is_valid
from claims.kassenzeichen_expr import check_ok
from matching.config import MatchConfig
from matching.refexpr import MAX_WORDS, reference_candidates, text_tokens
from matching.typos import typo_repairs

SETTINGS = settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
#: separators of the grammar; \t, \n and NBSP are white space to both Python and Polars (Rust) regexes
SEPARATORS = ".-/ \t\n\u00a0"
ASCII = "0123456789"
#: other Unicode decimal digits (\d matches them; they are never a valid Kassenzeichen)
OTHER_DIGITS = "\u0663\uff15"


# --- the oracles ------------------------------------------------------------------------------------


def _is_digit(ch: str) -> bool:
    return ch in ASCII or ch in OTHER_DIGITS


def _joined(remittance: str | None, eref: str | None, cref: str | None) -> str:
    """The fields joined by `` | `` (absent ones left out), RF + its two check digits blanked."""
    text = " | ".join(f for f in (remittance, eref, cref) if f is not None)
    out, i = [], 0
    while i < len(text):
        at_word_start = i == 0 or not (text[i - 1].isalnum() or text[i - 1] == "_")
        if at_word_start and text[i:i + 2].upper() == "RF" and len(text) >= i + 4 and all(map(_is_digit, text[i + 2:i + 4])):
            out.append(" ")
            i += 4
        else:
            out.append(text[i])
            i += 1
    return "".join(out)


def _stretches(text: str, n: int) -> list[str]:
    """Maximal runs of digits and separators, cut to start and end with a digit, at least n long."""
    found, i = [], 0
    while i < len(text):
        if not _is_digit(text[i]):
            i += 1
            continue
        j, last = i, i
        while j < len(text) and (_is_digit(text[j]) or text[j] in SEPARATORS):
            if _is_digit(text[j]):
                last = j
            j += 1
        if last - i + 1 >= n:
            found.append(text[i:last + 1])
        i = j
    return found


def _digit_runs(text: str) -> list[str]:
    """Maximal runs of digits."""
    runs, cur = [], ""
    for ch in text + " ":
        if _is_digit(ch):
            cur += ch
        elif cur:
            runs.append(cur)
            cur = ""
    return runs


def _valid(ref: str, scheme: str) -> bool:
    return all(c in ASCII for c in ref) and is_valid(ref, scheme)


def oracle_refs(rows: list[tuple[int, str | None, str | None, str | None]], cfg: MatchConfig) -> set[tuple]:
    """(transaction_id, ref, kind, valid) as the docstring of reference_candidates describes them."""
    n, out = cfg.digits, set()
    for tid, rem, eref, cref in rows:
        text = _joined(rem, eref, cref)
        long_runs = []
        for s in _stretches(text, n):
            groups = _digit_runs(s)
            for a in range(len(groups)):
                for b in range(a, len(groups)):
                    ref = "".join(groups[a:b + 1])
                    if len(ref) == n:  # whole groups adding up to n digits
                        out.add((tid, ref, "exact", _valid(ref, cfg.check_digit)))
            long_runs.append("".join(groups))
        long_runs += _digit_runs(text)  # a reference glued to a neighbouring number
        if cfg.check_digit != "none":
            for run in long_runs:
                if n + 1 <= len(run) <= cfg.max_run:
                    for off in range(len(run) - n + 1):
                        ref = run[off:off + n]
                        out.add((tid, ref, "window", _valid(ref, cfg.check_digit)))
    return out


def oracle_typos(todo: list[tuple[int, str]], index: set[str], cfg: MatchConfig) -> set[tuple]:
    """(transaction_id, ref, kz_norm, n_fits): valid indexed numbers one wrong digit or one swap of
    neighbours away from an invalid reference. A reference holding other Unicode digits is repaired only
    where that is its check digit alone (the body's sum is known: the check digit is recomputed)."""
    fits: dict[tuple[int, str], set[str]] = {}
    for tid, ref in todo:
        if _valid(ref, cfg.check_digit):
            continue
        if all(c in ASCII for c in ref):
            edits = {ref[:i] + d + ref[i + 1:] for i in range(len(ref)) for d in ASCII}
            edits |= {ref[:i] + ref[i + 1] + ref[i] + ref[i + 2:] for i in range(len(ref) - 1)}
        else:
            edits = {ref[:-1] + d for d in ASCII} if all(c in ASCII for c in ref[:-1]) else set()
        fits[(tid, ref)] = {e for e in edits - {ref} if e in index and _valid(e, cfg.check_digit)}
    return {(tid, ref, kz, len(kzs)) for (tid, ref), kzs in fits.items() for kz in kzs}


# --- random payment texts ---------------------------------------------------------------------------


def _kz(body: int, n: int, scheme: str) -> str:
    """A Kassenzeichen with ``n`` digits (a valid one where the body can have a check digit)."""
    if scheme == "none":
        return f"{body % 10**n:0{n}d}"
    text = f"{body % 10 ** (n - 1):0{n - 1}d}"
    return complete(text, scheme) or text + "0"


@st.composite
def token(draw: st.DrawFn, n: int, scheme: str) -> str:
    kind = draw(st.sampled_from(["kz", "kz", "kz_cut", "kz_typo", "number", "word", "prefix", "rf", "unicode"]))
    if kind in ("kz", "kz_cut", "kz_typo"):
        k = _kz(draw(st.integers(0, 10**18)), n, scheme)
        if kind == "kz_cut":  # separators (a bank line cut, a formatted number) at random places
            cuts = sorted(draw(st.sets(st.integers(1, n - 1), max_size=3)))
            parts = [k[a:b] for a, b in zip([0, *cuts], [*cuts, n], strict=True)]
            k = "".join(p + draw(st.sampled_from(["", ".", " ", "-", "/", "\n", " - ", "\u00a0"])) for p in parts[:-1]) + parts[-1]
        elif kind == "kz_typo":
            i = draw(st.integers(0, n - 2))
            k = k[:i] + k[i + 1] + k[i] + k[i + 2:] if draw(st.booleans()) else k[:i] + draw(st.sampled_from(ASCII)) + k[i + 1:]
        return k
    if kind == "number":  # dates, invoice numbers, long glued runs
        return draw(st.text(ASCII, min_size=1, max_size=40))
    if kind == "word":
        return draw(st.sampled_from(["Rechnung", "Gebuehr", "RG", "Q1", "|", "x", "Grundsteuer 2026", "11/2026"]))
    if kind == "prefix":
        return draw(st.sampled_from(["KZ", "Kassenzeichen:", "Az.", "KZ:", "kz"]))
    if kind == "rf":
        return draw(st.sampled_from(["RF", "rf", "Rf", "xRF", "RF1"])) + draw(st.text(ASCII, min_size=0, max_size=3))
    return draw(st.text(ASCII + OTHER_DIGITS, min_size=1, max_size=n + 2))


@st.composite
def field(draw: st.DrawFn, n: int, scheme: str) -> str | None:
    if draw(st.integers(0, 3)) == 0:
        return None
    parts = draw(st.lists(token(n, scheme), max_size=5))
    glue = st.sampled_from(["", " ", " ", ". ", "-", "/", "\n", "\t", ", "])
    return "".join(p + draw(glue) for p in parts)


@st.composite
def payments(draw: st.DrawFn, n: int, scheme: str) -> list[tuple[int, str | None, str | None, str | None]]:
    size = draw(st.integers(1, 6))
    return [(i, draw(field(n, scheme)), draw(field(n, scheme)), draw(field(n, scheme))) for i in range(size)]


def _frame(rows: list[tuple[int, str | None, str | None, str | None]]) -> pl.DataFrame:
    return pl.DataFrame(rows, schema={"transaction_id": pl.UInt32, "remittance": pl.String, "end_to_end_id": pl.String,
                                      "creditor_ref": pl.String}, orient="row")


def _check_refs(rows: list[tuple[int, str | None, str | None, str | None]], cfg: MatchConfig) -> None:
    got = reference_candidates(_frame(rows), cfg)
    assert got.columns == ["transaction_id", "ref", "kind", "valid"]
    assert got.dtypes == [pl.UInt32, pl.String, pl.String, pl.Boolean]
    assert got.height == got.unique(["transaction_id", "ref", "kind"]).height  # no row twice
    want = oracle_refs(rows, cfg)
    assert set(got.iter_rows()) == want
    # one kind asked for: exactly that kind's rows (matching reads windows only where no exact one hit)
    for kind in ("exact", "window"):
        part = reference_candidates(_frame(rows), cfg, kinds=(kind,))
        assert part.schema == got.schema
        assert set(part.iter_rows()) == {row for row in want if row[2] == kind}


# --- reference_candidates -----------------------------------------------------------------------------


@SETTINGS
@given(st.data())
def test_references_mod11_as_documented(data: st.DataObject) -> None:
    cfg = MatchConfig(digits=12, check_digit="mod11", max_run=data.draw(st.sampled_from([36, 16])))
    _check_refs(data.draw(payments(12, "mod11")), cfg)


@SETTINGS
@given(st.data())
def test_references_mod10_none_and_other_lengths_as_documented(data: st.DataObject) -> None:
    digits = data.draw(st.sampled_from([6, 12, 18, 20]))
    scheme = data.draw(st.sampled_from(["mod10", "none", "mod11"]))
    cfg = MatchConfig(digits=digits, check_digit=scheme, max_run=data.draw(st.sampled_from([36, digits + 4])))
    _check_refs(data.draw(payments(digits, scheme)), cfg)


def test_reference_cases() -> None:
    cfg = MatchConfig()
    k = _kz(10000000001, 12, "mod11")
    rows = [
        (0, f"KZ {k[0]}.{k[1:5]}.{k[5:9]}.{k[9:11]}x Gebuehr", None, None),  # letters after: not 12 digits
        (1, f"Az. {k[0]}-{k[1:5]}-{k[5:9]}-{k[9:]} | {k[:10]}l{k[11]}", f"{k}-20260215", None),  # EREF with a date
        (2, None, None, f"RF18{k}"),  # the 18 of RF18 is not part of the reference
        (3, f"RG4711{k} Rechnung", None, None),  # glued to an invoice number: a window only
        (4, f"{k[:7]} {k[7:]} 11/2026", None, None),  # a line cut, then a date glued by a space
        (5, "\u0663" * 12, None, None),  # other Unicode digits: found, never valid
    ]
    _check_refs(rows, cfg)
    got = reference_candidates(_frame(rows), cfg)
    exact = got.filter(pl.col("kind") == "exact")
    assert set(exact.filter(pl.col("valid"))["transaction_id"]) == {1, 2, 4}
    assert exact.filter(pl.col("transaction_id") == 2)["ref"].to_list() == [k]
    assert {3, 4} <= set(got.filter(pl.col("valid") & (pl.col("kind") == "window"))["transaction_id"])
    assert not got.filter(pl.col("transaction_id") == 5)["valid"].any()


def test_no_text_no_reference() -> None:
    got = reference_candidates(_frame([(0, None, None, None), (1, "Vielen Dank", "", None)]), MatchConfig())
    assert got.is_empty() and got.columns == ["transaction_id", "ref", "kind", "valid"]


def test_check_ok_matches_the_scalar_check_digits() -> None:
    for digits in (4, 7, 12, 18, 20):
        for scheme in ("mod11", "mod10", "none"):
            values = [_kz(b * 7919, digits, scheme) for b in range(300)] + [f"{b * 104729:0{digits}d}"[-digits:] for b in range(300)]
            values += ["+" + "1" * (digits - 1), "-" + "1" * (digits - 1), "1" * (digits + 1), "\u0663" * digits, ""]
            got = pl.DataFrame({"v": values}).select(check_ok(pl.col("v"), digits, scheme))["v"].to_list()
            assert got == [len(v) == digits and _valid(v, scheme) for v in values], (digits, scheme)


def oracle_tokens(rows: list[tuple[int, str | None, str | None, str | None]], cfg: MatchConfig) -> set[tuple]:
    """(transaction_id, token): words [A-Z0-9]+ of the upper-cased text without RF check digits and
    prefixes, and up to MAX_WORDS neighbouring words glued, 4+ characters long."""
    out = set()
    prefixes = "|".join(sorted((re.escape(p) for p in cfg.prefixes), key=len, reverse=True))
    for tid, *fields in rows:
        text = re.sub(r"\bRF\d\d", " ", " | ".join(f for f in fields if f is not None).upper())
        if prefixes:
            text = re.sub(rf"\b(?:{prefixes})\b\.?:?", " ", text)
        words = re.findall("[A-Z0-9]+", text)
        for size in range(1, MAX_WORDS + 1):
            out |= {(tid, "".join(words[i:i + size])) for i in range(len(words) - size + 1)}
    return {(tid, t) for tid, t in out if len(t) >= 4}


@SETTINGS
@given(st.data())
def test_text_tokens_as_documented(data: st.DataObject) -> None:
    cfg = MatchConfig(prefixes=data.draw(st.sampled_from([("KASSENZEICHEN", "KZ", "AZ"), ()])))
    rows = data.draw(payments(12, "mod11"))
    got = text_tokens(_frame(rows), cfg)
    assert got.height == got.unique().height
    assert set(got.iter_rows()) == oracle_tokens(rows, cfg)


@SETTINGS
@given(st.data())
def test_text_tokens_for_given_keys_keep_every_token_that_is_one(data: st.DataObject) -> None:
    # with the keys looked up, fewer tokens, but every token equal to a key is still there
    cfg = MatchConfig()
    rows = data.draw(payments(12, "mod11"))
    every = oracle_tokens(rows, cfg)
    some = sorted({t for _, t in every})
    keys = set(data.draw(st.lists(st.sampled_from(some), max_size=5))) if some else set()
    keys |= set(data.draw(st.lists(st.text("AB019", min_size=1, max_size=14), max_size=5)))
    got = set(text_tokens(_frame(rows), cfg, pl.Series(sorted(keys), dtype=pl.String)).iter_rows())
    assert got <= every
    assert {(tid, t) for tid, t in got if t in keys} == {(tid, t) for tid, t in every if t in keys}


# --- typo_repairs ------------------------------------------------------------------------------------


def _kz_key(digits: int) -> pl.Expr:
    """The integer item key as the matcher builds it (``kz_norm`` of ``digits`` ASCII digits as Int64)."""
    kz = pl.col("kz_norm")
    return pl.when(kz.str.contains(f"^[0-9]{{{digits}}}$")).then(kz.cast(pl.Int64, strict=False)).alias("_kz")


@st.composite
def typo_case(draw: st.DrawFn, n: int, scheme: str) -> tuple[list[tuple[int, str]], set[str]]:
    """Invalid references (a typo of a Kassenzeichen, or random digits) and an index that holds some of
    their one-edit neighbours."""
    refs, index = [], set()
    for tid in range(draw(st.integers(1, 5))):
        k = _kz(draw(st.integers(0, 10**20)), n, scheme)
        i = draw(st.integers(0, n - 2))
        bad = k[:i] + k[i + 1] + k[i] + k[i + 2:] if draw(st.booleans()) else k[:i] + draw(st.sampled_from(ASCII)) + k[i + 1:]
        if draw(st.integers(0, 4)) == 0:
            bad = draw(st.text(ASCII, min_size=n, max_size=n))
        refs.append((tid, bad))
        if draw(st.booleans()):
            index.add(k)
        # more Kassenzeichen one edit away (several fits), some not valid (never repaired to)
        for j in draw(st.sets(st.integers(0, n - 1), max_size=4)):
            index.add(bad[:j] + draw(st.sampled_from(ASCII)) + bad[j + 1:])
    index |= {_kz(draw(st.integers(0, 10**20)), n, scheme) for _ in range(3)}
    return refs, index


def _check_typos(refs: list[tuple[int, str]], index: set[str], cfg: MatchConfig, with_key: bool) -> None:
    frame = pl.DataFrame(refs, schema={"transaction_id": pl.UInt32, "ref": pl.String}, orient="row")
    frame = frame.with_columns(check_ok(pl.col("ref"), cfg.digits, cfg.check_digit).alias("valid"))
    kz_index = pl.DataFrame({"kz_norm": sorted(index)}, schema={"kz_norm": pl.String})
    if with_key:
        kz_index = kz_index.select(_kz_key(cfg.digits)).drop_nulls().sort("_kz")
    got = typo_repairs(frame, kz_index, cfg)
    assert got.schema == pl.Schema({"transaction_id": pl.UInt32, "ref": pl.String, "kz_norm": pl.String, "n_fits": pl.UInt32})
    expected = oracle_typos(refs, index, cfg) if cfg.check_digit != "none" else set()
    assert set(got.iter_rows()) == expected
    assert got.height == len(expected)


@SETTINGS
@given(st.data())
def test_typo_repairs_as_documented(data: st.DataObject) -> None:
    digits = data.draw(st.sampled_from([12, 12, 5, 18, 20]))
    scheme = data.draw(st.sampled_from(["mod11", "mod10", "none"]))
    refs, index = data.draw(typo_case(digits, scheme))
    _check_typos(refs, index, MatchConfig(digits=digits, check_digit=scheme), with_key=digits <= 18 and data.draw(st.booleans()))


def test_typo_repair_cases() -> None:
    cfg = MatchConfig()
    k1, k2 = _kz(12345678901, 12, "mod11"), _kz(10000000002, 12, "mod11")
    swapped = k1[:3] + k1[4] + k1[3] + k1[5:]
    wrong = k2[:5] + str((int(k2[5]) + 1) % 10) + k2[6:]
    leading = "0" + k2[1:]  # leading zeros survive the integer arithmetic (two fits: k2 and the index's 0…)
    # other Unicode digits: in the body never repaired, as the check digit recomputed
    cases = [(0, swapped), (1, wrong), (2, leading), (3, "\u0663" + k1[1:]), (4, k2[:-1] + "\u0663")]
    index = {k1, k2, "0" + _kz(2, 11, "mod11")}
    for with_key in (True, False):
        _check_typos(cases, index, cfg, with_key)
    refs = pl.DataFrame(cases, schema={"transaction_id": pl.UInt32, "ref": pl.String}, orient="row")
    got = typo_repairs(refs.with_columns(pl.lit(False).alias("valid")), pl.DataFrame({"kz_norm": sorted(index)}), cfg)
    assert sorted(got.select("transaction_id", "kz_norm", "n_fits").iter_rows()) == [
        (0, k1, 1), (1, k2, 1), (2, "0" + _kz(2, 11, "mod11"), 2), (2, k2, 2), (4, k2, 1)]
