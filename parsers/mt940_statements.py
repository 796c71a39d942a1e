"""Statement-level tags of MT940/MT942: ``:20: :25: :28C: :60x: :62x:`` and the MT942 markers."""

from __future__ import annotations

import polars as pl

from parsers.mt940_entries import amount_cents, yymmdd

#: Tags that only occur in MT942 interim reports; a block with one of them and no :60x: is MT942.
MT942_TAGS = ["13", "13D", "34F", "90D", "90C"]

_BALANCE = r"^([CD])(\d{6})([A-Z]{3})?(\d*,\d*)\s*$"


def parse_balance(content: pl.Expr, prefix: str) -> list[pl.Expr]:
    """``C240517EUR123,45`` -> ``{prefix}_date``, ``{prefix}_cents`` (signed), ``{prefix}_currency``,
    ``{prefix}_ok``. The currency may be missing (raphaelm ``:62M:C020315105000,00``)."""
    g = content.str.strip_chars().str.extract_groups(_BALANCE)
    date, _clamped = yymmdd(g.struct.field("2"))
    cents = amount_cents(g.struct.field("4"))
    sign = pl.when(g.struct.field("1") == "D").then(-1).otherwise(1)
    return [
        date.alias(f"{prefix}_date"),
        (cents * sign).alias(f"{prefix}_cents"),
        g.struct.field("3").alias(f"{prefix}_currency"),
        (date.is_not_null() & cents.is_not_null()).alias(f"{prefix}_ok"),
    ]


def _first(fields: pl.DataFrame, tags: list[str], name: str, last: bool = False) -> pl.DataFrame:
    sub = fields.filter(pl.col("tag").is_in(tags))
    pick = pl.col("content").last() if last else pl.col("content").first()
    line = pl.col("line_no").last() if last else pl.col("line_no").first()
    return sub.group_by("stmt").agg(
        pick.alias(name), line.alias(f"{name}_line"), pl.col("tag").last().alias(f"{name}_tag")
    )


def statement_heads(fields: pl.DataFrame) -> pl.DataFrame:
    """One row per statement (``stmt`` >= 0) with its reference, account, number and balances.

    Columns: ``stmt``, ``ref``, ``account``, ``statement_no``, ``sequence_no``, ``page_no``,
    ``opening_*``/``closing_*`` (date, cents, currency, ok, raw, line, tag), ``is_mt942``,
    ``currency``, ``line_20``.
    """
    # Entries and details are most of the rows and carry nothing for the heads: leave them out first.
    body = fields.filter((pl.col("stmt") >= 0) & ~pl.col("tag").is_in(["61", "86"]))
    base = body.group_by("stmt").agg(
        pl.col("line_no").first().alias("line_20"),
        pl.col("tag").is_in(MT942_TAGS).any().alias("_has942"),
        pl.col("content").filter(pl.col("tag") == "34F").first().alias("_34f"),
    )
    heads = base
    for part in (
        _first(body, ["20"], "ref"),
        _first(body, ["25"], "account"),
        _first(body, ["28C", "28"], "statement_no"),
        _first(body, ["60F", "60M"], "opening_raw"),
        _first(body, ["62F", "62M"], "closing_raw", last=True),
    ):
        heads = heads.join(part, on="stmt", how="left")
    number = pl.col("statement_no").str.extract_groups(r"^(\d+)(?:/(\d+))?")
    heads = heads.with_columns(
        pl.col("ref").str.strip_chars(),
        pl.col("account").str.strip_chars(),
        pl.col("statement_no").str.strip_chars(),
        number.struct.field("1").cast(pl.Int64, strict=False).alias("sequence_no"),
        number.struct.field("2").cast(pl.Int64, strict=False).alias("page_no"),
        *parse_balance(pl.col("opening_raw").fill_null(""), "opening"),
        *parse_balance(pl.col("closing_raw").fill_null(""), "closing"),
    )
    return heads.with_columns(
        (pl.col("_has942") & pl.col("opening_raw").is_null()).alias("is_mt942"),
        pl.coalesce(
            "opening_currency", "closing_currency", pl.col("_34f").str.extract(r"^([A-Z]{3})", 1)
        ).alias("currency"),
    ).sort("stmt")
