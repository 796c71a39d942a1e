"""Counter-based random numbers as Polars Series (SplitMix64), deterministic for a seed.

No numpy is needed: value ``i`` of stream ``s`` under seed ``k`` is a pure function of ``(k, s, i)``,
so a big file can be made chunk by chunk (``offset``) and comes out byte-identical every time.
"""

from __future__ import annotations

from collections.abc import Sequence

import polars as pl

_GOLDEN = 0x9E3779B97F4A7C15
_C1 = 0xBF58476D1CE4E5B9
_C2 = 0x94D049BB133111EB
_U64 = pl.UInt64


def _lit(v: int) -> pl.Expr:
    return pl.lit(v % 2**64, dtype=_U64)


def u64(n: int, seed: int, stream: int, offset: int = 0) -> pl.Series:
    """``n`` pseudo-random UInt64 values: positions ``offset .. offset+n-1`` of stream ``stream``."""
    base = (seed * 0xD1B54A32D192ED03 + stream * 0xABC98388FB8FAC03 + 1) % 2**64
    frame = pl.DataFrame({"x": pl.int_range(offset, offset + n, eager=True, dtype=pl.Int64).cast(_U64)})
    x = pl.col("x")
    frame = frame.with_columns(x * _lit(_GOLDEN) + _lit(base))
    frame = frame.with_columns((x.xor(x // _lit(2**30))) * _lit(_C1))
    frame = frame.with_columns((x.xor(x // _lit(2**27))) * _lit(_C2))
    frame = frame.with_columns(x.xor(x // _lit(2**31)))
    return frame.to_series()


def integers(n: int, low: int, high: int, seed: int, stream: int, offset: int = 0) -> pl.Series:
    """``n`` integers uniform in ``[low, high)`` as Int64."""
    span = high - low
    return (u64(n, seed, stream, offset) % span).cast(pl.Int64) + low


def uniform(n: int, seed: int, stream: int, offset: int = 0) -> pl.Series:
    """``n`` floats uniform in ``[0, 1)`` (for choices and shapes only, never for money)."""
    return (u64(n, seed, stream, offset) // 2**11).cast(pl.Float64) / float(2**53)


def choice(n: int, weights: Sequence[float], seed: int, stream: int, offset: int = 0) -> pl.Series:
    """``n`` indices into ``weights`` drawn with those relative weights (UInt32)."""
    total = float(sum(weights))
    cum: list[float] = []
    acc = 0.0
    for w in weights[:-1]:
        acc += w / total
        cum.append(acc)
    edges = pl.Series(cum, dtype=pl.Float64)
    return edges.search_sorted(uniform(n, seed, stream, offset), side="right").cast(pl.UInt32)
