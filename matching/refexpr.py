"""Reference candidates from payment texts, as Polars expressions (no Python loop over payments).

A Kassenzeichen arrives with or without separators (``.``, space, ``-``, ``/``), behind a prefix
(``KZ``, ``Kassenzeichen:``, ``Az.``), cut by a bank line break, several in one text, or in the EREF
or the structured creditor reference (``RF..``). We normalise the joined text, collapse separators
between digit groups, and take every digit run of exactly ``digits`` digits (``exact``) and every
``digits``-long window of a longer run (``window``: a reference glued to a neighbouring number).
"""

from __future__ import annotations

import polars as pl

from matching.config import MatchConfig

_WEIGHTS_MOD11 = (2, 3, 4, 5, 6, 7)


def digit(expr: pl.Expr, i: int) -> pl.Expr:
    """The ``i``-th character of ``expr`` as an integer (0..9)."""
    return expr.str.slice(i, 1).cast(pl.Int32, strict=False)


def check_ok(expr: pl.Expr, digits: int, scheme: str) -> pl.Expr:
    """Whether a ``digits``-long digit string has a valid check digit under ``scheme`` (vectorised).

    mod11: weights 2..7 repeating from the rightmost body digit, check = (11 − sum mod 11) mod 11, 10
    never issued. mod10: Luhn (every second digit from the rightmost body digit doubled).
    """
    well_formed = (expr.str.len_chars() == digits) & expr.str.contains("^[0-9]+$")
    if scheme == "none":
        return well_formed.fill_null(False)
    body = digits - 1
    # up to 18 digits fit an Int64: integer arithmetic is much cheaper than string slices
    number = expr.cast(pl.Int64, strict=False) if digits <= 18 else None
    terms = []
    for i in range(body):
        j = body - 1 - i  # position from the right of the body, 0 = rightmost
        d = digit(expr, i) if number is None else (number // 10 ** (j + 1)) % 10
        if scheme == "mod11":
            terms.append(d * _WEIGHTS_MOD11[j % 6])
        else:
            terms.append(((d * 2) % 10 + (d * 2) // 10) if j % 2 == 0 else d)
    total = pl.sum_horizontal(terms)
    check = (11 - total % 11) % 11 if scheme == "mod11" else (10 - total % 10) % 10
    last = digit(expr, body) if number is None else number % 10
    return (well_formed & (check == last) & (check != 10)).fill_null(False)


def joined_text() -> pl.Expr:
    """Remittance + EREF + creditor reference, with a non-separator between the fields."""
    return pl.concat_str(
        [pl.col("remittance"), pl.col("end_to_end_id"), pl.col("creditor_ref")], separator=" | ", ignore_nulls=True
    )


def plain_text(cfg: MatchConfig) -> pl.Expr:
    """The joined text upper-cased, prefixes (``KZ``, ``Kassenzeichen:`` …) and RF check digits removed:
    the text whose words are looked up as ``external_ref``."""
    text = joined_text().str.to_uppercase().str.replace_all(r"\bRF\d\d", " ")
    if cfg.prefixes:
        alts = "|".join(sorted((p.replace(".", r"\.") for p in cfg.prefixes), key=len, reverse=True))
        text = text.str.replace_all(rf"\b(?:{alts})\b\.?:?", " ")
    return text


def plain_digits_text() -> pl.Expr:
    """The joined text without RF check digits (``RF18`` + reference: the 18 is not part of it)."""
    text = joined_text()
    return pl.when(text.str.contains("(?i)RF")).then(text.str.replace_all(r"(?i)\bRF\d\d", " ")).otherwise(text)


def running_sum(col: str, key: str) -> pl.Expr:
    """``col``'s cumulative sum within runs of equal ``key`` (rows of a key contiguous, as after an explode):
    the global running sum minus the sum before the run — no grouping, unlike ``cum_sum().over(key)``."""
    total = pl.col(col).cum_sum()
    first = (pl.col(key) != pl.col(key).shift(1)).fill_null(True)
    return total - pl.when(first).then(total - pl.col(col)).otherwise(None).forward_fill()


def reference_candidates(tx: pl.DataFrame, cfg: MatchConfig) -> pl.DataFrame:
    """One row per (transaction_id, ref, kind) with ``kind`` exact | window and ``valid`` (check digit).

    A *stretch* is a maximal run of digits and separators (``.`` space ``-`` ``/``) that starts and
    ends with a digit (``KZ 1.2345.6789.012``, a Kassenzeichen cut by a bank line break, or a date
    glued to it by a space). ``exact``: ``digits`` digits made of whole digit groups of a stretch
    (``11/2026 5077 5195 6274`` holds ``507751956274``). ``window``: any other ``digits``-long slice
    of a stretch's digits, or of a longer digit run, up to ``max_run`` digits (``RG4711`` + reference).
    ``tx`` needs transaction_id, remittance, end_to_end_id, creditor_ref. Eager on purpose: as one
    lazy plan this ran twice as long.
    """
    n = cfg.digits
    # the text is built once (both extractions below read it)
    tx = tx.select("transaction_id", plain_digits_text().alias("_text"))
    plain = pl.col("_text")
    stretches = (
        tx.select("transaction_id", plain.str.extract_all(rf"\d[\d.\s/\-]{{{n - 2},}}\d").alias("s"))
        .explode("s")
        .drop_nulls("s")
        .unique()
        .with_row_index("sid")
    )
    groups = (
        stretches.select("sid", pl.col("s").str.extract_all(r"\d+").alias("g"))
        .explode("g")
        .with_columns(pl.col("g").str.len_chars().cast(pl.Int64).alias("len"))
        .with_columns(running_sum("len", "sid").alias("end"))
        .with_columns((pl.col("end") - pl.col("len")).alias("start"))
    )
    runs = stretches.select("transaction_id", "sid", pl.col("s").str.replace_all(r"[.\s/\-]", "").alias("run"))
    exact = (
        groups.select("sid", "start").join(groups.select("sid", "end"), on="sid")
        .filter(pl.col("end") - pl.col("start") == n)
        .join(runs, on="sid")
        .select("transaction_id", pl.col("run").str.slice(pl.col("start"), n).alias("ref"), pl.lit("exact").alias("kind"))
    )
    frames = [exact]
    if cfg.check_digit != "none":
        glued = tx.select("transaction_id", plain.str.extract_all(rf"\d{{{n + 1},}}").alias("run")).explode("run")
        long_runs = pl.concat([runs.select("transaction_id", "run"), glued]).drop_nulls("run").filter(
            pl.col("run").str.len_chars().is_between(n + 1, cfg.max_run)).unique()
        windows = (
            long_runs.with_columns(pl.int_ranges(0, pl.col("run").str.len_chars() - n + 1).alias("off"))
            .explode("off")
            .select("transaction_id", pl.col("run").str.slice(pl.col("off"), n).alias("ref"), pl.lit("window").alias("kind"))
        )
        frames.append(windows)
    out = pl.concat(frames).unique(["transaction_id", "ref", "kind"])
    # lazy: only a lazy plan evaluates the shared integer cast of check_ok once (eager repeats it per digit)
    return out.lazy().with_columns(check_ok(pl.col("ref"), n, cfg.check_digit).alias("valid")).collect()


#: ``external_ref`` may be written with separators (``BN 2024 0042``): up to this many neighbouring
#: words are glued together when looking it up.
MAX_WORDS = 4


def text_tokens(tx: pl.DataFrame, cfg: MatchConfig) -> pl.DataFrame:
    """Alphanumeric words of the plain text and glued runs of up to 4 neighbours, 4+ characters long:
    the keys looked up in ``external_ref`` (normalised to ``[A-Z0-9]``)."""
    words = (
        tx.lazy()
        .select("transaction_id", plain_text(cfg).str.extract_all(r"[A-Z0-9]+").alias("w"))
        .explode("w")
        .drop_nulls("w")
        .with_columns(pl.int_range(pl.len()).over("transaction_id").alias("i"))
    )
    grams = [
        words.select(
            "transaction_id",
            pl.concat_str([pl.col("w").shift(-k).over("transaction_id", order_by="i") for k in range(size)]).alias("token"),
        )
        for size in range(1, MAX_WORDS + 1)
    ]
    return pl.concat(grams).drop_nulls("token").filter(pl.col("token").str.len_chars() >= 4).unique().collect()
