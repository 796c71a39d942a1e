"""Reference candidates from payment texts, as Polars expressions (no Python loop over payments).

A Kassenzeichen arrives with or without separators (``.``, space, ``-``, ``/``), behind a prefix
(``KZ``, ``Kassenzeichen:``, ``Az.``), cut by a bank line break, several in one text, or in the EREF
or the structured creditor reference (``RF..``). We find the *stretches* of digits and separators in
each text field, take every ``digits`` digits made of whole digit groups (``exact``) and every
``digits``-long window of a longer run (``window``: a reference glued to a neighbouring number).
Most stretches are one Kassenzeichen: they skip the group analysis. Check digits are computed on the
number (table look-ups), duplicates found by hashes first; tests/test_match_refs.py holds the rules
as plain-Python oracles.
"""

from __future__ import annotations

import polars as pl

from claims.kassenzeichen_expr import check_int, check_ok
from matching.config import MatchConfig
from matching.rows import running_sum


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


#: the text fields a reference is looked for in (their stretches never join: see :func:`joined_text`)
_FIELDS = ("remittance", "end_to_end_id", "creditor_ref")


def _stretch_pattern(n: int) -> str:
    """A stretch: a digit, at least ``n − 2`` digits or separators (``.`` white space ``/`` ``-``), a digit."""
    return rf"\d[\d.\s/\-]{{{n - 2},}}\d"


def _stretches(tx: pl.DataFrame, n: int) -> pl.DataFrame:
    """transaction_id, ``s`` (one stretch per row), ``run`` (its digits), ``nd`` (their number), ``k``
    (stretches of the payment).

    Field by field: no separator joins two fields in :func:`joined_text` (`` | ``), and an RF with its
    two check digits cannot span one, so the stretches of the joined text are those of its fields. One
    lazy plan: Polars runs its string passes on all cores."""
    text = tx.select("transaction_id", *_FIELDS)
    # RF check digits are removed only where an RF occurs ((?i)RF: no other letter case-folds to R or F)
    rf = text.select(pl.any_horizontal(pl.col(f).str.contains("[Rr][Ff]").fill_null(False) for f in _FIELDS)).to_series()
    parts = [text.lazy()]
    if rf.any():
        parts = [text.filter(~rf).lazy(), text.filter(rf).lazy().with_columns(
            pl.col(f).str.replace_all(r"(?i)\bRF\d\d", " ") for f in _FIELDS)]
    lists = pl.concat(parts).select("transaction_id", *(pl.col(f).str.extract_all(_stretch_pattern(n)) for f in _FIELDS))
    lists = lists.with_columns(pl.sum_horizontal(pl.col(f).list.len() for f in _FIELDS).alias("k"))
    first, *rest = _FIELDS  # the remittance (nearly always there), then the few EREFs and RF references
    st = pl.concat([
        lists.select("transaction_id", pl.col(first).alias("s"), "k").explode("s").drop_nulls("s"),
        *(lists.select("transaction_id", pl.col(f).alias("s"), "k").filter(pl.col("s").list.len() > 0).explode("s")
          for f in rest),
    ])
    # a stretch holds only digits and separators: dropping the separators leaves its digits
    return st.with_columns(pl.col("s").str.replace_all(r"[.\s/\-]", "").alias("run")).with_columns(
        pl.col("run").str.len_chars().alias("nd")).collect()


def _distinct(df: pl.DataFrame, col: str) -> pl.DataFrame:
    """The distinct rows of ``df`` (transaction_id, ``col``). A row whose hash no other row shares is
    distinct; only the few rows sharing a hash (duplicates, or a collision) are compared in full."""
    h = df.select(pl.col(col).hash(1) ^ pl.col("transaction_id").hash(2)).to_series()
    ordered = h.sort()  # equal hashes become neighbours (a sort: several times cheaper than a hash set here)
    again = ordered.filter(ordered == ordered.shift(1))
    if again.is_empty():
        return df
    shared = h.is_in(again.implode())
    return pl.concat([df.filter(~shared), df.filter(shared).unique()])


def _groups(long: pl.DataFrame) -> pl.DataFrame:
    """The digit groups of the stretches ``long``: sid (row of ``long``), g, len, start, end (in the run)."""
    return (
        long.select(pl.col("s").str.extract_all(r"\d+").alias("g")).with_row_index("sid")
        .explode("g")
        .with_columns(pl.col("g").str.len_chars().cast(pl.Int64).alias("len"))
        .with_columns(running_sum("len", "sid").alias("end"))
        .with_columns((pl.col("end") - pl.col("len")).alias("start"))
    )


def _exact(st: pl.DataFrame, long: pl.DataFrame, groups: pl.DataFrame, n: int) -> pl.LazyFrame:
    """transaction_id, ref: ``n`` digits made of whole groups of a stretch, once per payment."""
    # a stretch of exactly n digits (most of them) is one exact reference: all its groups; the payment's
    # only stretch gives one row, so those rows need no de-duplication
    whole = pl.col("nd") == n
    single = st.lazy().filter(whole & (pl.col("k") == 1)).select("transaction_id", pl.col("run").alias("ref"))
    # longer stretches: whole groups adding up to n digits, found by an equi-join start + n = end
    pairs = groups.select("sid", "start").join(
        groups.select("sid", "end"), left_on=["sid", pl.col("start") + n], right_on=["sid", "end"])
    hit = long.select(pl.col("transaction_id", "run").gather(pairs["sid"])).with_columns(pairs["start"])
    others = pl.concat([
        st.lazy().filter(whole & (pl.col("k") > 1)).select("transaction_id", pl.col("run").alias("ref")),
        hit.lazy().select("transaction_id", pl.col("run").str.slice(pl.col("start"), n).alias("ref")),
    ]).unique()
    return pl.concat([single, others])


def _windows(long: pl.DataFrame, groups: pl.DataFrame, n: int, max_run: int) -> pl.LazyFrame:
    """transaction_id, ref: every n-slice of a stretch's digits up to ``max_run`` long, and of each digit
    run of more than n digits (all of them lie in a stretch: only needed where the stretch is too long)."""
    fits = pl.col("nd").is_between(n + 1, max_run)
    too_long = long.with_row_index("sid").filter(~fits)["sid"]
    glued = groups.filter(pl.col("len").is_between(n + 1, max_run) & pl.col("sid").is_in(too_long.implode()))
    runs = pl.concat([
        long.filter(fits).select("transaction_id", "run"),
        long.select(pl.col("transaction_id").gather(glued["sid"])).with_columns(glued["g"].alias("run")),
    ])
    windows = (
        runs.lazy().with_columns(pl.int_ranges(0, pl.col("run").str.len_chars() - n + 1).alias("off"))
        .explode("off")
        .select("transaction_id", pl.col("run").str.slice(pl.col("off"), n).alias("ref"))
    )
    return _distinct(windows.collect(), "ref").lazy()


def reference_candidates(
    tx: pl.DataFrame, cfg: MatchConfig, *, kinds: tuple[str, ...] = ("exact", "window")
) -> pl.DataFrame:
    """One row per (transaction_id, ref, kind) with ``kind`` exact | window (those of ``kinds``) and
    ``valid`` (check digit).

    A *stretch* is a maximal run of digits and separators (``.`` space ``-`` ``/``) that starts and
    ends with a digit (``KZ 1.2345.6789.012``, a Kassenzeichen cut by a bank line break, or a date
    glued to it by a space). ``exact``: ``digits`` digits made of whole digit groups of a stretch
    (``11/2026 5077 5195 6274`` holds ``507751956274``). ``window``: any other ``digits``-long slice
    of a stretch's digits, or of a longer digit run, up to ``max_run`` digits (``RG4711`` + reference).
    ``tx`` needs transaction_id, remittance, end_to_end_id, creditor_ref.
    """
    n = cfg.digits
    st = _stretches(tx, n)
    long = st.filter(pl.col("nd") > n)  # the few stretches with more than n digits
    groups = _groups(long)
    out = []
    if "exact" in kinds:
        out.append(_exact(st, long, groups, n).with_columns(pl.lit("exact").alias("kind")))
    if "window" in kinds and cfg.check_digit != "none":
        out.append(_windows(long, groups, n, cfg.max_run).with_columns(pl.lit("window").alias("kind")))
    if not out:
        return pl.DataFrame(schema={"transaction_id": tx.schema["transaction_id"], "ref": pl.String(), "kind": pl.String(),
                                    "valid": pl.Boolean()})
    return pl.concat(out).with_columns(valid_ref(cfg).alias("valid")).collect()


def valid_ref(cfg: MatchConfig, col: str = "ref") -> pl.Expr:
    """Whether ``col`` (``digits`` characters matched by ``\\d``) is a well-formed Kassenzeichen: ASCII digits
    with a valid check digit."""
    n, ref = cfg.digits, pl.col(col)
    if cfg.check_digit == "none":  # refs are n \d characters: well formed iff all ASCII, i.e. n bytes
        return ref.str.len_bytes() == n
    if n <= 18:
        return ((ref.str.len_bytes() == n) & check_int(ref.cast(pl.Int64, strict=False), n, cfg.check_digit)).fill_null(False)
    return check_ok(ref, n, cfg.check_digit)


def reading_places(tx: pl.DataFrame, cfg: MatchConfig, kind: str) -> pl.DataFrame:
    """transaction_id, ``sid`` (a stretch of the payment), ``pos`` (first digit in the stretch's digits),
    ref: where each reading of :func:`reference_candidates` of ``kind`` (exact | window) lies in a stretch
    of more than ``digits`` digits (a stretch of exactly ``digits`` digits has one reading).

    Two readings of one stretch overlap when their places are less than ``digits`` apart: they share
    digits, so the payer meant at most one of them (``1000 0000 0013 2026`` reads ``100000000013`` and
    ``000000132026``; ``1000000000132026`` has five windows). Read only for the few payments whose
    references name more than one Kassenzeichen."""
    n = cfg.digits
    long = _stretches(tx, n).filter(pl.col("nd") > n).with_row_index("sid")
    groups = _groups(long)
    if kind == "exact":
        pairs = groups.select("sid", "start").join(
            groups.select("sid", "end"), left_on=["sid", pl.col("start") + n], right_on=["sid", "end"])
        runs = long.select("sid", "transaction_id", "run").join(pairs.rename({"start": "pos"}), on="sid")
        return runs.select("transaction_id", "sid", "pos", pl.col("run").str.slice(pl.col("pos"), n).alias("ref"))
    # the runs of _windows: whole stretches up to max_run digits, else their digit groups of more than n
    fits = pl.col("nd").is_between(n + 1, cfg.max_run)
    glued = groups.filter(pl.col("len").is_between(n + 1, cfg.max_run)).join(
        long.filter(~fits).select("sid", "transaction_id"), on="sid")
    runs = pl.concat([
        long.filter(fits).select("transaction_id", "sid", "run", pl.lit(0, pl.Int64).alias("base")),
        glued.select("transaction_id", "sid", pl.col("g").alias("run"), pl.col("start").alias("base")),
    ])
    return (
        runs.with_columns(pl.int_ranges(0, pl.col("run").str.len_chars() - n + 1).alias("off"))
        .explode("off")
        .select("transaction_id", "sid", (pl.col("base") + pl.col("off")).alias("pos"),
                pl.col("run").str.slice(pl.col("off"), n).alias("ref"))
    )


#: ``external_ref`` may be written with separators (``BN 2024 0042``): up to this many neighbouring
#: words are glued together when looking it up.
MAX_WORDS = 4


def text_tokens(tx: pl.DataFrame, cfg: MatchConfig, keys: pl.Series | None = None) -> pl.DataFrame:
    """Alphanumeric words of the plain text and glued runs of up to 4 neighbours, 4+ characters long:
    the keys looked up in ``external_ref`` (normalised to ``[A-Z0-9]``).

    With ``keys`` (the normalised values looked up) only the tokens that can be one of them: as long as
    one, and starting like one (the first word's first four characters, or all of a shorter word, begin
    a key). The runs are chosen on word lengths first; their text is built only for those."""
    words = (
        tx.lazy()
        .select("transaction_id", plain_text(cfg).str.extract_all(r"[A-Z0-9]+").alias("w"))
        .explode("w")
        .drop_nulls("w")
        .with_columns(pl.col("w").str.len_bytes().alias("n"))  # (ASCII: bytes are characters)
        .collect()
    )
    w, n = pl.col("w"), pl.col("n")
    lo, hi, start = 4, 10**9, pl.lit(True)
    if keys is not None:
        keys = keys.drop_nulls()
        keys = keys.filter(keys.str.len_bytes() >= 4)
        if keys.is_empty():
            return pl.DataFrame(schema={"transaction_id": tx.schema["transaction_id"], "token": pl.String()})
        length = pl.col("k").str.len_bytes()
        lo, hi = keys.to_frame("k").select(length.min().alias("lo"), length.max().alias("hi")).row(0)
        heads = [keys.str.slice(0, k).unique().implode() for k in range(1, 5)]
        start = pl.when(n >= 4).then(w.str.slice(0, 4).is_in(heads[3]))
        for k in (3, 2, 1):
            start = start.when(n == k).then(w.is_in(heads[k - 1]))
    # the words of a payment are neighbouring rows (explode keeps a list together): a run of `size` words
    # starting at a row is whole when the row size − 1 further down still belongs to the same payment
    tid = pl.col("transaction_id")
    rows = words.select(
        start.fill_null(False).alias("start"),
        *(((tid.shift(-(size - 1)) == tid).fill_null(False)
           & pl.sum_horizontal([n.shift(-k) for k in range(size)]).is_between(lo, hi)).alias(f"r{size}")
          for size in range(1, MAX_WORDS + 1)),
    )
    grams = []
    for size in range(1, MAX_WORDS + 1):
        at = (rows["start"] & rows[f"r{size}"]).arg_true()
        parts = pl.DataFrame({f"w{k}": words["w"].gather(at + k) for k in range(size)})
        grams.append(pl.DataFrame({"transaction_id": words["transaction_id"].gather(at),
                                   "token": parts.select(pl.concat_str(parts.columns).alias("token"))["token"]}))
    return _distinct(pl.concat(grams), "token")
