"""The payer's designation of amounts: "KZ 1234… 55,00 Euro, KZ 2345… 125,- Euro" (§ 225 Abs. 1 AO, § 366 Abs. 1 BGB).

A payer who writes an amount next to each Kassenzeichen has said which debt each part of the money
pays; that comes before any legal order. This module reads such amounts from the remittance, pairs each
with the reference it stands next to, and turns a complete designation that adds up into *parts*: one
amount per Kassenzeichen, each filling only that Kassenzeichen's items (inside it the class order of
:mod:`matching.allocate` applies). A designation that is not complete or does not add up is held.

Read only for the few payments whose decision it can change (several Kassenzeichen named, or an amount
that does not fit), never for the fast lane; all of it set-based: words by ``str.extract_all``, one row
per word, runs and pairs by shifts and group-bys along the payment's words.

Words (upper case, ``RF`` + check digits removed): numbers with their separators (``1.234,56``,
``125,-``, ``1234.5678.901``, ``15.01.2026``), ``€``, and letter words. An **amount** is

- a number with a decimal comma or ``,-``: ``55,00``, ``1.234,56``, ``125,-``, ``125,--``;
- a number with two decimals after a point, ``55.00`` (``1,234.56``), unless it reads as a day and month
  (``15.01``) with no currency word beside it;
- a whole number of at most six digits (or ``1.234``) with a currency word (``€``, ``EUR``, ``EURO``)
  just before or after it: ``EUR 55``, ``55 €`` — unless it is part of a Kassenzeichen written in
  groups (``1234 5678 9012 EUR 55``: without the 9012 the run of digit groups no longer holds the
  Kassenzeichen found; a run holding none found: unless the rest is whole Kassenzeichen lengths).

A **reference** is a run of neighbouring number words (not amounts) with at least ``digits`` digits; it
stands for the Kassenzeichen found for the payment whose digits it contains. Pairing: the references and
amounts must alternate (``R A R A`` — each amount after its reference — or ``A R A R``); a single amount
equal to the payment is its total, not a designation (and a total before or after a full list of pairs
is dropped). A designation is followed only when every reference names exactly one of the payment's
Kassenzeichen, every Kassenzeichen found has an amount, and the amounts add up to the payment.
"""

from __future__ import annotations

from collections.abc import Callable

import polars as pl

from claims.vocab import Rule, UnresolvedReason
from matching.evidence import LEVEL
from matching.rows import running_sum

#: Words of a remittance: a number with its separators (and a ``,-`` ending), the euro sign, a letter word.
WORD = r"\d+(?:[.,/\-]\d+)*(?:,-+)?|€|\p{L}+"
#: A remittance holding none of these holds no amount (a cheap test before the words are read).
HINT = r"(?i)\d,\d\d|\d\.\d\d(?:[^\d.]|$)|\d,-|€|\bEUR"
CURRENCY = ("€", "EUR", "EURO", "EUROS")
#: Largest whole number read as an amount next to a currency word (999.999 €).
BARE_DIGITS = 6

_DEC_DE = r"^(?:\d+|\d{1,3}(?:\.\d{3})+),(?:\d{2}|-+)$"
_DEC_EN = r"^(?:\d+|\d{1,3}(?:,\d{3})+)\.\d{2}$"
_DAY_MONTH = r"^(?:0?[1-9]|[12]\d|3[01])\.(?:0[1-9]|1[0-2])$"
_BARE = rf"^(?:\d{{1,{BARE_DIGITS}}}|\d{{1,3}}\.\d{{3}})$"


def _numbers(todo: pl.DataFrame) -> pl.DataFrame:
    """The number words of the payments ``todo`` (_t, remittance), in text order: ``pos`` (the word's
    place among all words, so a gap is a word between), ``dec`` (an amount by its own spelling),
    ``bare`` (a whole number that may be an amount), ``cur_before`` / ``cur_after`` (a currency word
    right before / after it). The other words are read only for the currency and left out."""
    words = (
        todo.select("_t", pl.col("remittance").str.to_uppercase().str.replace_all(r"\bRF\d\d", " ")
                    .str.extract_all(WORD).alias("w"))
        .explode("w").drop_nulls("w")
        .with_row_index("pos")
    )
    w, t = pl.col("w"), pl.col("_t")
    cur = w.is_in(CURRENCY)
    nums = words.with_columns(
        (cur.shift(1) & (t.shift(1) == t)).fill_null(False).alias("cur_before"),
        (cur.shift(-1) & (t.shift(-1) == t)).fill_null(False).alias("cur_after"),
    ).filter(w.str.contains(r"^\d"))
    en = w.str.contains(_DEC_EN)
    decimal = w.str.contains(_DEC_DE) | (en & (~w.str.contains(_DAY_MONTH) | pl.col("cur_before") | pl.col("cur_after")))
    return nums.with_columns(decimal.alias("dec"), w.str.contains(_BARE).alias("bare"))


def _cents(w: pl.Expr) -> pl.Expr:
    """The cents of an amount word (read only for the words that are amounts)."""
    return (
        pl.when(w.str.contains(",", literal=True) & ~w.str.contains(_DEC_EN))
        .then(w.str.replace_all(".", "", literal=True).str.replace(r",-+$", ",00").str.replace(",", "", literal=True))
        .when(w.str.contains(_DEC_EN))
        .then(w.str.replace_all(",", "", literal=True).str.replace(".", "", literal=True))
        .otherwise(w.str.replace_all(".", "", literal=True) + "00")
        .cast(pl.Int64, strict=False)
    )


def _tokens(nums: pl.DataFrame, found: pl.DataFrame, digits: int) -> pl.DataFrame:
    """The references (``R``: ``ref`` = the digits of a run of number words) and amounts (``A``:
    ``cents``) of each payment, in text order (``pos``), from its number words ``nums`` (:func:`_numbers`);
    ``found``: _t, kz (see :func:`read_designations`). Most runs are one word: only the others are
    grouped."""
    t, pos, num = pl.col("_t"), pl.col("pos"), ~pl.col("dec")
    # a run: neighbouring number words (no word between), not amounts by their spelling
    joined = num & (num.shift(1) & (pos.shift(1) == pos - 1) & (t.shift(1) == t)).fill_null(False)
    goes_on = (num.shift(-1) & (pos.shift(-1) == pos + 1) & (t.shift(-1) == t)).fill_null(False)
    nums = nums.with_columns(
        pl.when(num).then((num & ~joined).cum_sum()).alias("run"), pl.col("w").str.replace_all(r"\D", "").alias("dg"),
        (num & ~joined & ~goes_on).alias("alone"), (num & ~joined).alias("first"), (num & ~goes_on).alias("last"))
    nums = nums.with_columns(pl.col("dg").str.len_chars().alias("nd"))
    # a whole number with a currency word on the outer side of its run may be an amount
    outer = pl.col("bare") & ((pl.col("last") & pl.col("cur_after")) | (pl.col("first") & pl.col("cur_before")))
    maybe = nums.filter(num & outer)
    amount = pl.lit(False)
    if maybe.height:
        runs = nums.join(maybe.select("run").unique(), on="run", how="semi")
        dg = pl.col("dg")
        runs = runs.group_by("run").agg(
            pl.col("_t").first(), pl.col("nd").sum().alias("total"), dg.str.join("").alias("all"),
            dg.slice(1).str.join("").alias("no_first"), dg.slice(0, pl.len() - 1).str.join("").alias("no_last"))
        # which of the payment's Kassenzeichen the run holds, and whether it still holds them without its
        # first (last) word
        has = pl.col("all").str.contains(pl.col("kz"), literal=True)
        held = runs.join(found.select("_t", "kz"), on="_t").with_columns(has.alias("in")).group_by("run").agg(
            pl.col("in").any().alias("has_kz"),
            (~pl.col("in") | pl.col("no_first").str.contains(pl.col("kz"), literal=True)).all().alias("keep_first"),
            (~pl.col("in") | pl.col("no_last").str.contains(pl.col("kz"), literal=True)).all().alias("keep_last"))
        maybe = maybe.join(runs.drop("_t").join(held, on="run", how="left"), on="run", maintain_order="left")
        # an amount when the run without it still holds the Kassenzeichen it holds ("123456789012 55
        # EUR"; but "1234 5678 9012 EUR 55": the 9012 is the Kassenzeichen's, the 55 the amount); in a run
        # holding none of them, when the rest of the run is whole Kassenzeichen lengths or too short for one
        rest = pl.col("total") - pl.col("nd")
        by_digits = (pl.col("total") % digits != 0) & ((rest % digits == 0) | (rest < digits))
        at_last = pl.col("last") & pl.col("cur_after")
        keeps = pl.when(at_last).then(pl.col("keep_last")).otherwise(pl.col("keep_first"))
        maybe = maybe.filter(pl.when(pl.col("has_kz").fill_null(False)).then(keeps).otherwise(by_digits).fill_null(False))
        amount = pos.is_in(maybe["pos"].implode())
    nums = nums.with_columns(amount.alias("is_amount"))
    refs = nums.filter(num & ~pl.col("is_amount"))
    several = refs.filter(~pl.col("alone"))
    refs = pl.concat([
        refs.filter(pl.col("alone")).select("_t", "pos", pl.col("dg").alias("ref")),
        several.group_by("run").agg(pl.col("_t").first(), pos.first(), pl.col("dg").str.join("").alias("ref"))
        .select("_t", "pos", "ref"),
    ]).filter(pl.col("ref").str.len_chars() >= digits)
    amounts = nums.filter(pl.col("dec") | pl.col("is_amount")).select("_t", "pos", _cents(pl.col("w")).alias("cents"))
    return pl.concat([
        refs.select("_t", "pos", pl.lit("R").alias("kind"), "ref", pl.lit(None, pl.Int64).alias("cents")),
        amounts.select("_t", "pos", pl.lit("A").alias("kind"), pl.lit(None, pl.String).alias("ref"), "cents"),
    ]).sort("pos")


def _named(pairs: pl.DataFrame) -> pl.DataFrame:
    """The rows of ``pairs`` (ref, kz, typo) whose reference run names the Kassenzeichen: holds its digits,
    or (``typo``: found by typo repair) is as long and differs by one digit or one swap of neighbours."""
    pairs = pairs.with_row_index("_p")
    inside = pl.col("ref").str.contains(pl.col("kz"), literal=True)
    if "typo" not in pairs.columns:
        return pairs.filter(inside).drop("_p")
    same_len = pl.col("ref").str.len_chars() == pl.col("kz").str.len_chars()
    near = pairs.filter(pl.col("typo") & same_len & ~inside).select(
        "_p", "ref", "kz", pl.int_ranges(0, pl.col("ref").str.len_chars()).alias("i")).explode("i")
    at = pl.col("i")
    diff = near.filter(pl.col("ref").str.slice(at, 1) != pl.col("kz").str.slice(at, 1)).group_by("_p").agg(
        at.min().alias("i0"), at.max().alias("i1"), pl.len().alias("n"), pl.col("ref").first(), pl.col("kz").first())
    swap = ((pl.col("n") == 2) & (pl.col("i1") == pl.col("i0") + 1)
            & (pl.col("ref").str.slice(pl.col("i0"), 1) == pl.col("kz").str.slice(pl.col("i1"), 1))
            & (pl.col("ref").str.slice(pl.col("i1"), 1) == pl.col("kz").str.slice(pl.col("i0"), 1)))
    edited = diff.filter((pl.col("n") == 1) | swap)["_p"]
    return pairs.filter(inside | pl.col("_p").is_in(edited.implode())).drop("_p")


def read_designations(todo: pl.DataFrame, found: pl.DataFrame, digits: int) -> tuple[pl.DataFrame, pl.DataFrame]:
    """``(held, parts)`` for the payments ``todo`` (_t, remittance, amount_cents) whose Kassenzeichen
    ``found`` (_t, kz: the digits of each Kassenzeichen found for the payment, once; optional ``typo``:
    the payment's Kassenzeichen were found by typo repair) are known.

    ``held``: _t, reason — a designation that is not complete (``designation_incomplete``) or does not add
    up to the payment (``designation_sum_mismatch``). ``parts``: _t, kz, cents — a designation to follow.
    Payments without a designation of amounts are in neither (the Kassenzeichen alone decides)."""
    tok = _tokens(_numbers(todo), found, digits)
    t, is_a = pl.col("_t"), pl.col("kind") == "A"
    first, last = (t != t.shift(1)).fill_null(True), (t != t.shift(-1)).fill_null(True)

    def counts(tok: pl.DataFrame) -> pl.DataFrame:
        """Per payment (tokens in order): amounts, references, amounts equal to the payment, and whether
        two neighbours are of one kind (then references and amounts do not alternate)."""
        same = ((pl.col("kind") == pl.col("kind").shift(1)) & ~first).fill_null(False)
        return tok.with_columns(same.alias("same")).group_by("_t", maintain_order=True).agg(
            is_a.sum().alias("n_a"), (~is_a).sum().alias("n_r"),
            (is_a & (pl.col("cents") == pl.col("pay"))).fill_null(False).sum().alias("n_eq"), pl.col("same").any())

    tok = tok.join(todo.select("_t", pl.col("amount_cents").alias("pay")), on="_t", maintain_order="left")
    # a total written before or after a full list of pairs ("… Summe 180,00") is not one of them
    n = counts(tok)
    tok = tok.join(n.select("_t", (pl.col("n_a") == pl.col("n_r") + 1).alias("one_more")), on="_t", maintain_order="left")
    total = (is_a & (pl.col("cents") == pl.col("pay")) & pl.col("one_more")).fill_null(False)
    first_total = pl.when(first).then(total).otherwise(None).forward_fill()
    tok = tok.filter(~(total & (first | (last & ~first_total))))
    per = counts(tok).join(found.group_by("_t").agg(pl.len().alias("n_kz")), on="_t", how="left")
    # one Kassenzeichen, and the text gives amounts but not the payment's: when one of them is less than
    # the payment, the payer said that only that much is for this Kassenzeichen ("KZ X 236,- Euro, KZ
    # Y…49,50 EUR" with Y unreadable, e.g. glued to its amount at a line break): the rest of the money is
    # meant for something not found, and booking it all to X would go against the payer's word. (An amount
    # above the payment is a short payment of the amount named: all of the money is for X.)
    below = tok.group_by("_t").agg((is_a & (pl.col("cents") < pl.col("pay"))).fill_null(False).any().alias("below"))
    lone = per.join(below, on="_t").filter(
        (pl.col("n_kz").fill_null(0) == 1) & (pl.col("n_r") <= 1) & (pl.col("n_eq") == 0) & pl.col("below"))["_t"]
    # no amount; a single amount that is the payment's total; one Kassenzeichen: nothing designated
    per = per.filter((pl.col("n_a") > 0) & ~((pl.col("n_a") == 1) & (pl.col("n_eq") == 1))
                     & ((pl.col("n_r") > 1) | (pl.col("n_kz").fill_null(0) > 1)))
    # references and amounts alternate (R A R A or A R A R): the i-th amount is the i-th reference's
    paired = (pl.col("n_a") == pl.col("n_r")) & ~pl.col("same")
    tok = tok.join(per.filter(paired).select("_t"), on="_t", how="semi").with_columns(
        is_a.cast(pl.Int64).alias("ia"), (~is_a).cast(pl.Int64).alias("ir"))
    tok = tok.with_columns(pl.when(is_a).then(running_sum("ia", "_t")).otherwise(running_sum("ir", "_t")).alias("i"))
    pairs = tok.filter(~is_a).select("_t", "i", "ref").join(tok.filter(is_a).select("_t", "i", "cents"), on=["_t", "i"])
    # each reference names exactly one Kassenzeichen found for the payment (its digits are in the run; for
    # a payment found by typo repair: the run is that Kassenzeichen with one wrong digit or one swap)
    named = _named(pairs.join(found, on="_t"))
    one = named.group_by("_t", "i").agg(pl.col("kz").first(), pl.len().alias("n"), pl.col("cents").first())
    bad_ref = pairs.join(one.filter(pl.col("n") == 1), on=["_t", "i"], how="anti")["_t"]
    parts = one.filter(pl.col("n") == 1).group_by("_t", "kz").agg(pl.col("cents").sum())
    unpaid = found.select("_t", "kz").join(per.filter(paired).select("_t"), on="_t", how="semi").join(
        parts, on=["_t", "kz"], how="anti")["_t"]
    incomplete = pl.concat([per.filter(~paired)["_t"], bad_ref, unpaid, lone]).unique()
    sums = parts.group_by("_t").agg(pl.col("cents").sum()).join(
        todo.select("_t", pl.col("amount_cents").alias("pay")), on="_t").filter(
        ~t.is_in(incomplete.implode()))
    mismatch = sums.filter((pl.col("cents") != pl.col("pay")).fill_null(True))["_t"]
    held = pl.concat([
        incomplete.to_frame("_t").with_columns(pl.lit(UnresolvedReason.DESIGNATION_INCOMPLETE).alias("reason")),
        mismatch.to_frame("_t").with_columns(pl.lit(UnresolvedReason.DESIGNATION_SUM_MISMATCH).alias("reason")),
    ])
    return held, parts.join(held, on="_t", how="anti").select("_t", "kz", "cents")


def designation(
    per: pl.DataFrame, cand: pl.DataFrame, pay: pl.DataFrame, kz_of: Callable[[pl.Series], pl.Series],
    digits: int, honour: bool, first_set: int,
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """The hook of :func:`matching.designate._decide`: ``per`` (one row per payment, sorted by ``_t``) with
    ``fits`` and ``des_reason``, and ``cand`` (its evidence rows) with ``part_key`` and ``part_cents``.

    ``fits``: the amount fits — for a designation followed, every part equals its Kassenzeichen's open
    amount; else the payment equals the set's open sum. ``des_reason``: the designation's reason to hold.
    ``part_key``, ``part_cents``: for the items of a designation followed, the set (tape) of the
    Kassenzeichen's items and the amount designated for it; null elsewhere. A part's set is that of a
    payment naming exactly these items (so it shares their tape): its item for one item, else the key of
    such a payment, else ``first_set`` + payments + its first item. ``kz_of``: the Kassenzeichen digits
    of items by their ``_r``.
    """
    fits = pl.col("amount_cents") == pl.col("open_sum")
    none = (pl.lit(None, pl.String).alias("des_reason"),)
    empty = (pl.lit(None, pl.Int64).alias("part_key"), pl.lit(None, pl.Int64).alias("part_cents"))
    # only the payments whose decision a designation can change, and whose text can hold an amount
    want = per.filter((pl.col("tier") < LEVEL[Rule.IBAN_AMOUNT]) & ((pl.col("n_items") > 1) | ~fits)).select("_t", "amount_cents") if honour \
        else per.clear().select("_t", "amount_cents")
    if want.height:
        want = want.with_columns(pl.lit(pay["remittance"]).gather(pl.col("_t")).alias("remittance")).filter(
            pl.col("remittance").str.contains(HINT).fill_null(False))
    if not want.height:
        return per.with_columns(fits.alias("fits"), *none), cand.with_columns(*empty)
    rows = cand.join(want.select("_t"), on="_t", how="semi").select("_t", "_r", "open")
    rows = rows.with_columns(kz_of(rows["_r"]).alias("kz"))
    found = rows.select("_t", "kz").unique(maintain_order=True).join(
        per.select("_t", (pl.col("tier") == LEVEL[Rule.REFERENCE_TYPO]).alias("typo")), on="_t", maintain_order="left")
    held, parts = read_designations(want, found, digits)
    # a part fits when it is exactly its Kassenzeichen's open amount (at the start of the run)
    kz_open = rows.group_by("_t", "kz").agg(pl.col("open").fill_null(0).sum().alias("kz_open"))
    parts = parts.join(kz_open, on=["_t", "kz"])
    part_fits = parts.group_by("_t").agg((pl.col("cents") == pl.col("kz_open")).all().alias("part_fits"))
    per = (
        per.join(part_fits, on="_t", how="left", maintain_order="left")
        .join(held.rename({"reason": "des_reason"}), on="_t", how="left", maintain_order="left")
        .with_columns(pl.coalesce("part_fits", fits).alias("fits")).drop("part_fits")
    )
    keys = _part_keys(parts, rows, cand, per, first_set, pay.height)
    cand = cand.join(
        rows.select("_t", "_r", "kz").join(keys, on=["_t", "kz"]).select("_t", "_r", "part_key", "part_cents"),
        on=["_t", "_r"], how="left", maintain_order="left")
    return per, cand


def _part_keys(parts: pl.DataFrame, rows: pl.DataFrame, cand: pl.DataFrame, per: pl.DataFrame, first_set: int,
               n_pay: int) -> pl.DataFrame:
    """(_t, kz, part_key, part_cents): each part's set, the same as that of any payment naming exactly its
    items (``parts``: _t, kz, cents; ``rows``: _t, _r, kz of the payments read)."""
    items = rows.join(parts.select("_t", "kz"), on=["_t", "kz"], how="semi").group_by("_t", "kz").agg(
        pl.col("_r").sort().alias("items"))
    sets = items.select("items").unique()
    # a payment that names exactly these items (no designation followed): the same set, the same tape
    mine = items.select(pl.col("items").explode()).to_series().implode()
    plain = (
        cand.join(parts.select("_t").unique(), on="_t", how="anti")
        .filter(pl.col("_r").is_in(mine))
        .group_by("_t").agg(pl.col("_r").sort().alias("items"))
        .join(per.select("_t", "n_items", "set_key"), on="_t")
        .filter(pl.col("items").list.len() == pl.col("n_items"))
        .select("items", "set_key").unique("items")
    )
    first = pl.col("items").list.first().cast(pl.Int64)
    keyed = sets.join(plain, on="items", how="left").with_columns(
        pl.when(pl.col("items").list.len() == 1).then(first)
        .otherwise(pl.coalesce("set_key", first + first_set + n_pay)).alias("part_key"))
    return items.join(keyed.select("items", "part_key"), on="items").join(parts, on=["_t", "kz"]).select(
        "_t", "kz", "part_key", pl.col("cents").alias("part_cents"))


def overcommitted(per: pl.DataFrame, cand: pl.DataFrame) -> pl.DataFrame:
    """``per`` with ``conflict`` for the designations that do not fit beside earlier ones of the run.

    Designations of several payments may share items: each part fills its Kassenzeichen's tape in
    processing order. A payment is held when a part of it finds the items' open amount already taken by
    earlier payments' parts (what was designated before it plus its own part is more than is open). One
    payment designating more than is open (and nobody before it) is booked, the rest an overpayment."""
    booked = per.filter(pl.col("reason").is_null()).select("_t")
    at = cand.filter(pl.col("part_key").is_not_null()).join(booked, on="_t", how="semi")
    if not at.height:
        return per
    # (a part's rows carry its key, amount and items' open amounts; one row per part)
    tape = (
        at.group_by("_t", "part_key").agg(pl.col("part_cents").first(), pl.col("open").fill_null(0).sum().alias("kz_open"))
        .sort("part_key", "_t")
        .with_columns(pl.col("part_cents").cum_sum().over("part_key").alias("c_end"))
        .with_columns((pl.col("c_end") - pl.col("part_cents")).alias("c_start"))
    )
    late = tape.filter((pl.col("c_start") > 0) & (pl.col("c_end") > pl.col("kz_open")))["_t"].unique()
    return per.with_columns(
        pl.when(pl.col("reason").is_null() & pl.col("_t").is_in(late.implode()))
        .then(pl.lit(UnresolvedReason.CONFLICT)).otherwise(pl.col("reason")).alias("reason"))
