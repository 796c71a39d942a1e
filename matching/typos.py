"""Typo repair of references: one wrong digit, or two neighbouring digits swapped.

Variants are generated set-based (a cross join with a small table of edits), only for references that
failed the check digit or found no item. A repair counts only if the variant passes the check digit
AND exactly one Kassenzeichen among the open items fits; that is what makes it safe: mod 11 and Luhn
catch every single wrong digit, so a valid Kassenzeichen one edit away is the one that was meant —
unless there are two, which is then ambiguous.
"""

from __future__ import annotations

import polars as pl

from matching.config import MatchConfig
from matching.refexpr import check_ok


def _edits(n: int) -> pl.LazyFrame:
    """All edits of an ``n``-digit string: (pos, new digit) substitutions and (pos, pos+1) swaps."""
    subs = pl.DataFrame({"pos": [p for p in range(n) for _ in range(10)], "new": [str(d) for _ in range(n) for d in range(10)]})
    swaps = pl.DataFrame({"pos": list(range(n - 1)), "new": [None] * (n - 1)}, schema={"pos": pl.Int64, "new": pl.String})
    return pl.concat([subs.with_columns(pl.col("pos").cast(pl.Int64)), swaps]).lazy()


def typo_repairs(refs: pl.DataFrame, kz_index: pl.DataFrame, cfg: MatchConfig) -> pl.DataFrame:
    """For each (transaction_id, ref) the one Kassenzeichen a single edit away, if exactly one exists.

    ``refs``: transaction_id, ref (``digits`` long). ``kz_index``: kz_norm (unique). Returns
    transaction_id, ref, kz_norm (repairs) plus ``n_fits`` (> 1 rows are returned too, for suggestions).
    """
    n = cfg.digits
    if cfg.check_digit == "none" or refs.is_empty():
        return pl.DataFrame(schema={"transaction_id": pl.String, "ref": pl.String, "kz_norm": pl.String, "n_fits": pl.UInt32})
    r = pl.col("ref")
    p = pl.col("pos")
    variant = (
        pl.when(pl.col("new").is_null())
        .then(pl.concat_str([r.str.slice(0, p), r.str.slice(p + 1, 1), r.str.slice(p, 1), r.str.slice(p + 2)]))
        .otherwise(pl.concat_str([r.str.slice(0, p), pl.col("new"), r.str.slice(p + 1)]))
    )
    found = (
        refs.lazy()
        .select("transaction_id", "ref")
        .unique()
        .join(_edits(n), how="cross")
        .with_columns(variant.alias("kz_norm"))
        .filter(pl.col("kz_norm") != r)
        .join(kz_index.lazy().select("kz_norm"), on="kz_norm", how="semi")  # existence first: cheap
        .filter(check_ok(pl.col("kz_norm"), n, cfg.check_digit))
        .unique(["transaction_id", "ref", "kz_norm"])
        .with_columns(pl.len().over("transaction_id", "ref").cast(pl.UInt32).alias("n_fits"))
        .select("transaction_id", "ref", "kz_norm", "n_fits")
    )
    return found.collect()
