"""The German DK structure of ``:86:`` (DFÜ-Abkommen Anlage 3), vectorised over all entries.

``GVC?00booking text?10primanota?20…?29 purpose?30 BIC/BLZ?31 IBAN/account?32?33 name?34 key ext?60…?63``.
Lines are joined without separators first (DK wraps at 65 characters, even inside ``?2`` + ``2``),
then each subfield is located by a marker. The purpose lines ``?20``–``?29`` and ``?60``–``?63`` are
joined without separators and split at the SEPA keywords, whose content runs on across subfields.
Unstructured ``:86:`` text stays as text in ``remittance``.
"""

from __future__ import annotations

import polars as pl

#: SEPA keywords in DK order, and the column each one fills (None: kept only in ``raw``).
SEPA_KEYWORDS: dict[str, str | None] = {
    "EREF": "end_to_end_id",
    "KREF": "customer_ref",
    "MREF": "mandate_id",
    "CRED": "creditor_id",
    "DEBT": None,
    "COAM": "_coam",
    "OAMT": "_oamt",
    "SVWZ": "_svwz",
    "ABWA": "_abwa",
    "ABWE": "_abwe",
}

#: GVCs whose ``?34`` is a SEPA return reason (DOMAIN.md rules 8–9: returned direct debits and
#: returned transfers). Elsewhere ``?34`` is e.g. the direct-debit sequence type 990–993.
RETURN_GVCS = ["108", "109", "159", "160", "193"]

#: Subfield numbers we treat as markers. DK defines 00, 10, 20–34, 60–63; real files also use
#: 11, 35, 38 and 70/71. Any other ``?`` + two characters (``?2A``, ``?96``) is text plus a warning.
VALID_SUBFIELDS = ["00", "10", "11", *[str(n) for n in range(20, 39)], "60", "61", "62", "63", "70", "71"]
PURPOSE_SUBFIELDS = [*[str(n) for n in range(20, 30)], "60", "61", "62", "63"]
_KW = "\x1f"  # unit separator: cannot occur in decoded bank text
# A "?" not followed by a valid subfield number: nothing, one character, a non-digit, or a number
# outside VALID_SUBFIELDS (the same verdict as ``is_in(VALID_SUBFIELDS)`` on each piece; a test checks).
_BAD_MARKER = r"(?s)\?(?:$|[^0-9]|[0-9](?:$|[^0-9])|0[1-9]|1[2-9]|39|[4589][0-9]|6[4-9]|7[2-9])"


def _nonempty(expr: pl.Expr) -> pl.Expr:
    """The stripped text, null when empty or ``NOTPROVIDED``."""
    value = expr.str.strip_chars()
    return pl.when(~value.is_in(["", "NOTPROVIDED"])).then(value)


def _first_per_entry(rows: pl.DataFrame, value: pl.Expr) -> pl.DataFrame:
    """``_eid`` and ``value`` of the first row of each entry in ``rows`` (an entry's rows are contiguous)."""
    return rows.filter(pl.col("_eid") != pl.col("_eid").shift(1).fill_null(-1)).select("_eid", value)


def _subfields_valid(df: pl.DataFrame, pieces: pl.DataFrame) -> pl.DataFrame:
    """Fast path (every marker valid): one value per subfield, the first if repeated.

    A filter per subfield (on the number as an integer: much cheaper than comparing strings), its
    first row per entry and a join on the entry number are much cheaper than filtered
    aggregations in one group_by.
    """
    pieces = pieces.select(  # drop "p" at once: these frames are the parser's memory peak
        "_eid", pl.col("p").str.slice(0, 2).cast(pl.Int16, strict=False).alias("c"), pl.col("p").str.slice(2).alias("v")
    )
    c, v = pl.col("c"), pl.col("v")
    out = df.select("_eid")
    for num in (0, 10, 30, 31, 32, 33, 34):
        out = out.join(_first_per_entry(pieces.filter(c == num), v.alias(f"_{num:02d}")), on="_eid", how="left")
    purpose = pieces.filter(c.is_between(20, 29) | c.is_between(60, 63)).group_by("_eid").agg(v.alias("_purpose"))
    return out.join(purpose, on="_eid", how="left").with_columns(
        pl.concat_str([pl.col("_32").fill_null(""), pl.col("_33").fill_null("")]).alias("_name"),
        pl.col("_purpose").fill_null([]).list.join(""),
        pl.lit(None, dtype=pl.String).alias("details_bad_subfield"),
    ).drop("_32", "_33")


def _subfields(df: pl.DataFrame) -> pl.DataFrame:
    """Per structured entry (``_eid``): the subfield values, joined per meaning, in file order.

    The flat text is split at every ``?``; a piece whose first two characters are not a valid
    subfield number is text of the subfield before it (with a warning), found by a forward fill;
    then repeated subfields are joined (lists collected, joined afterwards). Without such markers
    (the usual file) a repeated ``?00``/``?10``/``?3x`` keeps its first value.

    A file with a few broken markers is read the careful way only where that can change a value:
    the entries with a broken marker, a repeated ``?00``/``?10``/``?30``-``?34`` or ``?33`` before
    ``?32`` (both readings agree on every other entry; a test checks). The careful reading costs
    about ten times the plain one per entry.
    """
    pieces = df.select("_eid", pl.col("_flat0").str.split("?").list.slice(1).alias("p")).explode("p")
    pieces = pieces.filter(pl.col("p").is_not_null())
    broken = df.select(pl.col("_flat0").str.contains(_BAD_MARKER)).to_series()
    n_broken = broken.sum()
    if not n_broken:  # cheaper than is_in on pieces
        return _subfields_valid(df, pieces)
    if n_broken * 4 > df.height:
        return _subfields_marked(pieces)
    careful = pl.concat([df.filter(broken).get_column("_eid"), _differ(pieces)]).unique()
    plain = ~pl.col("_eid").is_in(careful.implode())
    valid = _subfields_valid(df.filter(plain), pieces.filter(plain))
    marked = _subfields_marked(pieces.filter(~plain))
    return pl.concat([valid.select(marked.columns), marked], how="vertical").sort("_eid")


def _differ(pieces: pl.DataFrame) -> pl.Series:
    """Entries the plain reading would read differently even without broken markers: a kept subfield
    repeated, or ``?33`` before ``?32`` (the name is joined in file order)."""
    code = pl.col("p").str.slice(0, 2)
    kept = pieces.select("_eid", code.alias("c")).filter(pl.col("c").is_in(["00", "10", "30", "31", "32", "33", "34"]))
    repeated = kept.group_by("_eid", "c").len().filter(pl.col("len") > 1).get_column("_eid")
    names = kept.filter(pl.col("c").is_in(["32", "33"]))
    swapped = _first_per_entry(names, pl.col("c")).filter(pl.col("c") == "33").get_column("_eid")
    return pl.concat([repeated, swapped])


def _subfields_marked(pieces: pl.DataFrame) -> pl.DataFrame:
    """The careful reading (broken markers become text of the subfield before them, warned)."""
    code = pl.col("p").str.slice(0, 2)
    valid = code.is_in(VALID_SUBFIELDS)
    # "?2A" (zilverline deutsche_bank) sits exactly where the next 27-character purpose line starts:
    # a purpose marker with a damaged number. It is read as one (content kept, marker dropped, warned).
    damaged = code.str.contains(r"^2[A-Z]$")
    first = (pl.col("_eid") != pl.col("_eid").shift(1)).fill_null(True)
    pieces = pieces.with_columns(
        pl.when(valid).then(code).when(damaged).then(pl.lit("29")).when(first).then(pl.lit("??"))
        .forward_fill().alias("c"),
        pl.when(valid | damaged)
        .then(pl.col("p").str.slice(2))
        .when(pl.col("p") == "")
        .then(pl.lit(""))  # a stray "?" closing the text (WoLpH malformed_details): dropped, warned
        .otherwise(pl.lit("?") + pl.col("p"))
        .alias("v"),
        pl.when(~valid).then(pl.lit("?") + code).alias("bad"),
    )
    c, v = pl.col("c"), pl.col("v")
    lists = pieces.group_by("_eid").agg(
        v.filter(c == "00").alias("_00"),
        v.filter(c == "10").alias("_10"),
        v.filter(c == "30").alias("_30"),
        v.filter(c == "31").alias("_31"),
        v.filter(c.is_in(["32", "33"])).alias("_name"),
        v.filter(c == "34").alias("_34"),
        v.filter(c.is_in(PURPOSE_SUBFIELDS)).alias("_purpose"),
        pl.col("bad").drop_nulls().alias("details_bad_subfield"),
    )
    joined = [pl.col(n).list.join("") for n in ("_00", "_10", "_30", "_31", "_name", "_34", "_purpose")]
    return lists.with_columns(*joined, pl.col("details_bad_subfield").list.join(", "))


def _keywords(sub: pl.DataFrame) -> pl.DataFrame:
    """Split each purpose text at the SEPA keywords; one column per keyword plus ``_free`` (text before)."""
    kws = [f"{k}+" for k in SEPA_KEYWORDS]
    split = sub.select(
        "_eid", pl.col("_purpose").str.replace_many(kws, [_KW + k for k in kws]).str.split(_KW).alias("p")
    )
    out = split.select(
        "_eid", pl.col("p").list.first().alias("_free"), (pl.col("p").list.len() > 1).alias("_has_kw")
    )
    # The keyword parts (all but the first), in entry order; per keyword its first part per entry.
    parts = split.select("_eid", pl.col("p").list.slice(1)).explode("p").filter(pl.col("p").is_not_null())
    parts = parts.with_columns(pl.col("p").str.slice(0, 4).alias("k"))
    for kw, target in SEPA_KEYWORDS.items():
        if target is not None:
            found = _first_per_entry(parts.filter(pl.col("k") == kw), pl.col("p").str.slice(5).alias(target))
            out = out.join(found, on="_eid", how="left")
    return out


def _aligned(df: pl.DataFrame, part: pl.DataFrame) -> bool:
    """True if ``part`` has one row per row of ``df``, in the same ``_eid`` order."""
    return part.height == df.height and bool((part.get_column("_eid") == df.get_column("_eid")).all())


def parse_details(entries: pl.DataFrame, col: str = "details") -> pl.DataFrame:
    """Add the DK columns to ``entries`` from the raw ``:86:`` text in ``col`` (null allowed).

    Adds ``tx_code`` (GVC), ``booking_text``, ``primanota``, ``counterparty_bic``,
    ``counterparty_iban``, ``counterparty_name``, ``text_key_ext``, ``return_reason``,
    ``end_to_end_id``, ``details_customer_ref``, ``mandate_id``, ``creditor_id``, ``ultimate_party``,
    ``remittance``, ``details_oamt`` (text), ``details_coam`` (text), ``details_structured`` and
    ``details_bad_subfield`` (the invalid ``?xx`` markers, for the warning).
    """
    flat0 = pl.col(col).fill_null("").str.replace_all("\n", "", literal=True)
    df = entries.with_row_index("_eid").with_columns(flat0.alias("_flat0"))
    # Triodos (NL) writes DK-like subfields with ">" instead of "?".
    triodos = pl.col("_flat0").str.contains(r"^\d{3}>\d\d")
    if df.select(triodos.any()).item():
        df = df.with_columns(
            pl.when(triodos).then(pl.col("_flat0").str.replace_all(">", "?", literal=True)).otherwise(pl.col("_flat0"))
        )
    df = df.with_columns(pl.col("_flat0").str.contains(r"^\s*\d{3}\s*\?").alias("details_structured"))
    sub_in = df.filter(pl.col("details_structured")).select("_eid", "_flat0")
    sub = _subfields(sub_in)
    kw = _keywords(sub)
    gvc = pl.col("_flat0").str.strip_chars_start().str.slice(0, 3)
    df = df.with_columns(
        pl.when(pl.col("details_structured") | pl.col("_flat0").str.starts_with("999")).then(gvc).alias("tx_code"),
    ).drop("_flat0")
    del sub_in
    free = df.filter(~pl.col("details_structured")).select(
        "_eid", pl.col(col).fill_null("").str.replace(r"^999", "").str.replace_all(r"\s+", " ").alias("_text")
    )
    if free.height == 0 and _aligned(df, sub) and _aligned(df, kw):  # all structured: no join needed
        df = pl.concat([df, sub.drop("_eid"), kw.drop("_eid")], how="horizontal").with_columns(
            pl.lit(None, dtype=pl.String).alias("_text")
        )
    else:
        df = df.join(sub, on="_eid", how="left").join(kw, on="_eid", how="left").join(free, on="_eid", how="left")
    remittance = (
        pl.when(~pl.col("details_structured"))
        .then(_nonempty(pl.col("_text")))
        .when(pl.col("_has_kw"))
        .then(pl.coalesce(_nonempty(pl.col("_svwz")), _nonempty(pl.col("_free"))))
        .otherwise(_nonempty(pl.col("_purpose")))
    )
    return df.with_columns(
        _nonempty(pl.col("_00")).alias("booking_text"),
        _nonempty(pl.col("_10")).alias("primanota"),
        _nonempty(pl.col("_30")).alias("counterparty_bic"),
        _nonempty(pl.col("_31")).str.replace_all(" ", "", literal=True).alias("counterparty_iban"),
        _nonempty(pl.col("_name")).alias("counterparty_name"),
        _nonempty(pl.col("_34")).alias("text_key_ext"),
        remittance.alias("remittance"),
        pl.coalesce(_nonempty(pl.col("_abwa")), _nonempty(pl.col("_abwe"))).alias("ultimate_party"),
        _nonempty(pl.col("end_to_end_id")).alias("end_to_end_id"),
        _nonempty(pl.col("customer_ref")).alias("details_customer_ref"),
        _nonempty(pl.col("mandate_id")).alias("mandate_id"),
        _nonempty(pl.col("creditor_id")).alias("creditor_id"),
        _nonempty(pl.col("_oamt")).alias("details_oamt"),
        _nonempty(pl.col("_coam")).alias("details_coam"),
        pl.when(pl.col("details_bad_subfield").str.len_bytes() > 0).then(pl.col("details_bad_subfield"))
        .alias("details_bad_subfield"),
    ).with_columns(
        pl.when(pl.col("tx_code").is_in(RETURN_GVCS)).then(pl.col("text_key_ext")).alias("return_reason"),
    ).drop(
        "_eid", "_text", "_00", "_10", "_30", "_31", "_name", "_34", "_purpose", "_free", "_has_kw",
        "_svwz", "_abwa", "_abwe", "_oamt", "_coam", "customer_ref",
    )
