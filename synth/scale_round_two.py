"""Round-two kinds of issue 14 at scale (``generate_scale(..., mix=0.4)``): Polars expressions, no row loops.

The scale set has three items per debtor, one per Kassenzeichen, and picks each payment's item from a
shuffled order. A share ``mix`` of the payments (those whose item no later payment picks again) becomes
one of the kinds of :mod:`synth.round_two` that need no second debtor: ``designation_amounts`` and
``designation_bad`` (the debtor's first two items, only where no other payment picks the second),
``neighbour``, ``letters_for_digits``, ``rf_reference`` (structured in half of the camt ones),
``year_attached``, ``cross_border_short`` (valid AT, BE and PL IBANs, computed), and ``european_names``
for the items of debtors named in a European alphabet (:data:`EURO_SHARE` of the debtors when ``mix`` is
on). ``contradicting`` needs a second debtor owing the same amount and is left to :func:`synth.generate`.
A designation that does not fit its row (the partner item paid by another payment, no IBAN on file)
becomes one of the other kinds; a Kassenzeichen without 0 or 1 to type as a letter keeps its base
case; so the share is about ``mix``, and designations are rarer the more of the items are paid.
"""

from __future__ import annotations

import polars as pl

from synth import rand
from synth.generated import EXPECTED_TYPE
from synth.names import EUROPEAN_NAMES, FIRST_NAMES, LAST_NAMES
from synth.numbers import format_kassenzeichen, german_iban, iban_expr, rf_expr
from synth.spelling import latin1, transliterate

#: kinds for items of debtors with German names, and their weights among them
KINDS = ("designation_amounts", "designation_bad", "neighbour", "letters_for_digits", "rf_reference",
         "year_attached", "cross_border_short")
_WEIGHTS = (20, 7, 10, 13, 16, 16, 14)
#: share of debtors named in a European alphabet when round two is on
EURO_SHARE = 0.15
_HOLD = "designation"


def _euro_pool() -> tuple[list[str], list[str], list[str]]:
    """(export names "Last, First", own-account names "First Last", 4 bank spellings per name)."""
    export, plain, spelt = [], [], []
    for men, women, men_last, women_last in EUROPEAN_NAMES.values():
        for firsts, lasts in ((men, men_last), (women, women_last)):
            for first in firsts:
                for last in lasts:
                    export.append(f"{last}, {first}")
                    plain.append(f"{first} {last}")
                    spelt += [f"{first} {last}", f"{last}, {first}", transliterate(f"{first} {last}"),
                              transliterate(f"{first} {last}", expanded=True).upper()]
    return export, plain, spelt


EURO_EXPORT, EURO_PLAIN, EURO_SPELT = _euro_pool()
#: what Latin-1 lacks, as a Sparkasse MT940 spells it
_NON_LATIN1 = sorted({ch for name in EURO_SPELT for ch in name if ord(ch) > 255} | {"€"})
LATIN1_FROM, LATIN1_TO = _NON_LATIN1, [latin1(ch) for ch in _NON_LATIN1]
#: (country, bank code, bank-code digits, account digits, BIC) of the cross-border payers
_FOREIGN = (("AT", 12000, 5, 11, "BKAUATWWXXX"), ("AT", 20111, 5, 11, "GIBAATWWXXX"),
            ("BE", 1, 3, 7, "GEBABEBBXXX"), ("BE", 68, 3, 7, "GKCCBEBBXXX"),
            ("PL", 10202892, 8, 16, "BPKOPLPWXXX"), ("PL", 10901014, 8, 16, "WBKPPLPPXXX"))


def _pick(pool: list[str] | tuple[str, ...], idx: pl.Expr) -> pl.Expr:
    return pl.lit(pl.Series(pool)).gather(idx)


def euro_debtors(n: int, seed: int) -> list[pl.Series]:
    """Columns ``euro`` (the item's debtor is named in a European alphabet) and ``eidx`` (which name)."""
    return [(rand.uniform(n, seed, 150) < EURO_SHARE).alias("euro"),
            rand.integers(n, 0, len(EURO_EXPORT), seed, 151).alias("eidx")]


def _amount(cents: pl.Expr, style: pl.Expr) -> pl.Expr:
    """An amount as people write it: ``55,00 EUR``, ``55,00 Euro``, ``EUR 55,00``, ``55.00``, ``55,- €``."""
    e, c = (cents // 100).cast(pl.String), (cents % 100).cast(pl.String).str.zfill(2)
    comma = pl.concat_str(e, pl.lit(","), c)
    return (pl.when(style == 0).then(pl.concat_str(comma, pl.lit(" EUR")))
            .when(style == 1).then(pl.concat_str(comma, pl.lit(" Euro")))
            .when(style == 2).then(pl.concat_str(pl.lit("EUR "), comma))
            .when(style == 3).then(pl.concat_str(e, pl.lit("."), c))
            .when(cents % 100 == 0).then(pl.concat_str(e, pl.lit(",- €")))
            .otherwise(pl.concat_str(comma, pl.lit(" €"))))


def _foreign(idx: pl.Expr, account: pl.Expr) -> tuple[pl.Expr, pl.Expr]:
    """(IBAN, BIC) at the foreign bank ``idx`` of :data:`_FOREIGN`, for a random ``account`` (Int64)."""
    iban = pl.lit(None, dtype=pl.String)
    for i, (country, bank, bank_digits, digits, _) in reversed(list(enumerate(_FOREIGN))):
        acct = account % 10**digits
        if country == "BE":  # national check: the first ten digits mod 97, 0 written as 97
            acct = account % 10**7
            check = (bank * 10**7 + acct) % 97
            acct = acct * 100 + pl.when(check == 0).then(97).otherwise(check)
            digits += 2
        iban = pl.when(idx == i).then(iban_expr(country, pl.lit(bank, dtype=pl.Int64), bank_digits, acct, digits)) \
            .otherwise(iban)
    return iban, _pick([b for *_, b in _FOREIGN], idx)


def apply(out: pl.DataFrame, f: pl.DataFrame, items: pl.DataFrame, n: int, seed: int, mix: float) -> pl.DataFrame:
    """``out`` (the scale payments) with a share ``mix`` turned into round-two kinds; adds ``cdtr_ref``
    and ``expected_hold``. ``f`` holds the payments' picks joined to their items (``k`` = item row)."""
    m = items.height
    r = lambda s, lo, hi: rand.integers(n, lo, hi, seed, 300 + s)  # noqa: E731
    g = f.select("p", "k", "case", "receivable_id", "kassenzeichen", "amount_cents", "debtor_name", "debtor_iban",
                 "claim_type", "payer_name", "payer_iban", "payer_bic", "euro", "eidx", "style", "first", "last",
                 "acct").with_columns(
        rand.uniform(n, seed, 300).alias("u"),
        pl.Series(KINDS).gather(rand.choice(n, _WEIGHTS, seed, 301)).alias("kind"),
        pl.Series(KINDS[2:]).gather(rand.choice(n, _WEIGHTS[2:], seed, 302)).alias("other"),
        r(2, 0, 4).alias("v"), r(3, 20, 90).alias("pct0"), r(4, 20, 90).alias("pct1"), r(5, 0, 2).alias("whole"),
        r(6, 0, 5).alias("a0"), r(7, 0, 5).alias("a1"), r(8, 100, 2_001).alias("delta"), r(9, 0, 4).alias("sep"),
        r(10, 0, len(_FOREIGN)).alias("bank"), r(11, 10**15, 10**16).alias("facct"),
        r(12, 50, 1_501).alias("charges"), r(13, 0, 3).alias("how"), r(14, 0, 4).alias("style1"),
    )
    # the partner of a designation: the debtor's other one of its first two items, paid by no other payment
    k = pl.col("k")
    partner = pl.when(k % 3 == 0).then(k + 1).otherwise(k - 1)
    g = g.with_columns(partner.alias("partner")).with_columns(
        ((k % 3 < 2) & (pl.col("partner") < m) & ~pl.col("partner").is_in(g["k"].implode())).alias("partner_free"))
    safe = pl.col("partner").clip(0, max(m - 1, 0))
    g = g.with_columns(
        pl.lit(items["kassenzeichen"]).gather(safe).alias("kz1"),
        pl.lit(items["amount_cents"]).gather(safe).alias("open1"),
        pl.lit(items["receivable_id"]).gather(safe).alias("rid1"),
    )
    # a designation whose partner is taken (or whose debtor has no IBAN on file) becomes another kind
    fits = pl.col("partner_free") & pl.col("debtor_iban").is_not_null()
    g = g.with_columns(
        pl.when(pl.col("euro")).then(pl.lit("european_names"))
        .when(pl.col("kind").str.starts_with("designation") & ~fits).then(pl.col("other"))
        .otherwise(pl.col("kind")).alias("kind"))
    kind, kz, open0 = pl.col("kind"), pl.col("kassenzeichen"), pl.col("amount_cents")
    written = format_kassenzeichen(kz, pl.col("style"))
    q = written
    letters = (pl.when(q.str.contains("0") & (pl.col("v") < 2))
               .then(q.str.replace("0", "O", literal=True, n=1))
               .when(q.str.contains("0")).then(q.str.replace("0", "o", literal=True, n=1))
               .when(q.str.contains("1") & (pl.col("v") < 2)).then(q.str.replace("1", "l", literal=True, n=1))
               .when(q.str.contains("1")).then(q.str.replace("1", "I", literal=True, n=1)))
    rf = rf_expr(kz)
    rf_printed = pl.concat_str(rf.str.slice(0, 4), rf.str.slice(4, 4), rf.str.slice(8, 4), rf.str.slice(12, 4),
                               separator=" ")
    camt = pl.col("p") % 5 >= 3  # generate_scale books rows 3 and 4 of every five on the Volksbank account
    structured = (kind == "rf_reference") & camt & (pl.col("how") == 0)
    year = (pl.when(pl.col("sep") == 3).then(pl.concat_str(kz, pl.lit("2026")))
            .otherwise(pl.concat_str(written, _pick(["/", "-", " "], pl.col("sep").clip(0, 2)), pl.lit("2026"))))
    part0 = (open0 * pl.col("pct0") // 100)
    part1 = (pl.col("open1") * pl.col("pct1") // 100)
    part0 = pl.when((pl.col("whole") == 1) & (part0 >= 100)).then(part0 // 100 * 100).otherwise(part0).clip(1)
    part1 = pl.when((pl.col("whole") == 1) & (part1 >= 100)).then(part1 // 100 * 100).otherwise(part1).clip(1)
    g = g.with_columns(part0.alias("part0"), part1.alias("part1"))
    designation = pl.concat_str(
        pl.lit("KZ "), written, pl.lit(" "), _amount(pl.col("part0"), pl.col("a0")), pl.lit(", KZ "),
        format_kassenzeichen(pl.col("kz1"), pl.col("style1")), pl.lit(" "), _amount(pl.col("part1"), pl.col("a1")),
        pl.when(pl.col("whole") == 0).then(pl.lit(" Rest folgt")).otherwise(pl.lit("")))
    sum_parts = pl.col("part0") + pl.col("part1")
    bad_paid = pl.when(sum_parts - pl.col("delta") > 0).then(sum_parts - pl.col("delta")).otherwise(sum_parts + pl.col("delta"))
    bad_paid = pl.when(bad_paid == open0 + pl.col("open1")).then(bad_paid + 1).otherwise(bad_paid)
    charges = pl.min_horizontal(pl.col("charges"), open0 // 2)
    euro_paid = (open0 * pl.col("pct0") // 100).clip(1)
    paid = (pl.when(kind == "designation_amounts").then(sum_parts).when(kind == "designation_bad").then(bad_paid)
            .when(kind == "cross_border_short").then(open0 - charges).when(kind == "european_names").then(euro_paid)
            .otherwise(open0))
    feasible = (
        (pl.col("u") < mix) & (pl.col("p") < m) & (pl.col("p") + m >= n) & (pl.col("case") != "double")
        & ((kind != "letters_for_digits") | letters.is_not_null())
    )
    one = pl.concat_list(pl.struct(pl.col("receivable_id"), paid.alias("amount_cents")))
    two = pl.concat_list(pl.struct(pl.col("receivable_id"), pl.col("part0").alias("amount_cents")),
                         pl.struct(pl.col("rid1").alias("receivable_id"), pl.col("part1").alias("amount_cents")))
    purpose = pl.col("claim_type").str.to_lowercase()
    stranger_name = pl.concat_str(_pick(FIRST_NAMES, pl.col("first")), pl.lit(" "), _pick(LAST_NAMES, pl.col("last")))
    stranger_iban = german_iban(pl.lit(37050198, dtype=pl.Int64), pl.col("acct"))
    foreign_iban, foreign_bic = _foreign(pl.col("bank"), pl.col("facct"))
    debtor_last = pl.col("debtor_name").str.split(", ").list.first()
    quoted = (pl.when(kind == "letters_for_digits").then(letters).when(kind == "rf_reference")
              .then(pl.when(pl.col("how") == 1).then(rf_printed).otherwise(rf))
              .when(kind == "year_attached").then(year).otherwise(written))
    svwz = (pl.when(kind.str.starts_with("designation")).then(designation)
            .when(structured).then(pl.lit(None, dtype=pl.String))
            .when(kind == "neighbour").then(pl.concat_str(
                pl.lit("Kassenzeichen "), written, pl.lit(" "), purpose, pl.lit(" für "),
                _pick(["Frau ", "Familie ", "Herrn ", ""], pl.col("v")), debtor_last))
            .otherwise(pl.concat_str(pl.lit("Kassenzeichen "), quoted, pl.lit(" "), purpose)))
    new = g.select(
        feasible.alias("r2"), kind.alias("case"), paid.alias("amount_cents"),
        (kind != "designation_bad").alias("decidable"),
        pl.when(kind == "designation_amounts").then(two).when(kind == "designation_bad")
        .then(pl.lit([], dtype=EXPECTED_TYPE)).otherwise(one).cast(EXPECTED_TYPE).alias("expected"),
        kz.alias("kz_quoted"), quoted.alias("quoted"), svwz.alias("svwz"),
        pl.when(kind == "neighbour").then(stranger_name)
        .when(kind == "cross_border_short").then(stranger_name.str.to_uppercase())
        .when(kind == "european_names").then(_pick(EURO_SPELT, pl.col("eidx") * 4 + pl.col("v")))
        .otherwise(pl.col("payer_name")).alias("cp_name"),
        pl.when(kind.is_in(["neighbour", "european_names"])).then(stranger_iban)
        .when(kind == "cross_border_short").then(foreign_iban).otherwise(pl.col("payer_iban")).alias("cp_iban"),
        pl.when(kind.is_in(["neighbour", "european_names"])).then(pl.lit("COLSDE33XXX"))
        .when(kind == "cross_border_short").then(foreign_bic).otherwise(pl.col("payer_bic")).alias("cp_bic"),
        pl.when(structured).then(rf).alias("cdtr_ref"),
        pl.when(kind == "designation_bad").then(pl.lit(_HOLD)).alias("expected_hold"),
    )
    base = out.with_columns(pl.lit(None, dtype=pl.String).alias("cdtr_ref"),
                            pl.lit(None, dtype=pl.String).alias("expected_hold"))
    both = base.hstack(new.rename(lambda c: f"_{c}"))
    return both.select(
        "p", *[pl.when(pl.col("_r2")).then(pl.col(f"_{c}")).otherwise(pl.col(c)).alias(c)
               for c in base.columns if c != "p"])


def to_latin1(text: pl.Expr) -> pl.Expr:
    """Texts as an ISO-8859-1 MT940 carries them (see :func:`synth.spelling.latin1`)."""
    return text.str.replace_many(LATIN1_FROM, LATIN1_TO)
