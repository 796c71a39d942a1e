"""Rows named by their number: a payment by its processing position, an item by its row in the export.

Joins, group-bys and sorts on such numbers are several times cheaper than on string ids; the strings
(ids, names, Kassenzeichen) are fetched by a gather, only for the rows that need them.
"""

from __future__ import annotations

import polars as pl


def fetch(df: pl.DataFrame, src: pl.DataFrame, key: str, cols: tuple[str, ...]) -> pl.DataFrame:
    """``df`` with ``cols`` of ``src`` taken at the row numbers in ``df[key]`` (replacing columns of the
    same name, ``key`` itself included: all are read at the numbers ``df`` had)."""
    at = df[key]
    return df.with_columns(src[c].gather(at).alias(c) for c in cols)


def running_sum(col: str, key: str) -> pl.Expr:
    """``col``'s cumulative sum within runs of equal ``key`` (rows of a key contiguous, as after an explode):
    the global running sum minus the sum before the run — no grouping, unlike ``cum_sum().over(key)``."""
    total = pl.col(col).cum_sum()
    first = (pl.col(key) != pl.col(key).shift(1)).fill_null(True)
    return total - pl.when(first).then(total - pl.col(col)).otherwise(None).forward_fill()


def among_sorted(keys: pl.Series, index: pl.DataFrame) -> pl.DataFrame:
    """The rows of ``index`` whose key (its column named like ``keys``) is one of ``keys``. The few distinct
    keys are sorted: an index sorted by its key is then joined along the order (no hash table of its
    keys); any other index is joined by hashing."""
    return keys.unique().sort().to_frame().join(index, on=keys.name)
