"""The one way the dunning functions take an optional input frame: declared columns, missing ones null."""

from __future__ import annotations

import polars as pl


def conform(frame: pl.DataFrame | pl.LazyFrame | None, schema: dict[str, pl.DataType]) -> pl.LazyFrame:
    """``frame`` as a lazy frame of exactly ``schema``'s columns, in order and cast; a column it lacks is
    null, and ``None`` is an empty frame (the store has no earlier notices, no blocks, …).

    >>> conform(pl.DataFrame({"b": [1], "x": ["dropped"]}), {"a": pl.String(), "b": pl.Int64()}).collect().rows()
    [(None, 1)]
    """
    if frame is None:
        return pl.LazyFrame(schema=schema)
    lf = frame.lazy()
    have = lf.collect_schema().names()
    return lf.with_columns([pl.lit(None, t).alias(c) for c, t in schema.items() if c not in have]).select(
        [pl.col(c).cast(t) for c, t in schema.items()])
