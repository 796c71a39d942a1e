"""The Kassenzeichen's check digit over Polars expressions: a whole column checked at once.

The scalar rules are in :mod:`claims.kassenzeichen`; these are the same rules, vectorised, for the
open-items import (every Kassenzeichen of an export) and the matcher (every reference found in a
remittance). ``mod11``: weights 2..7 repeating from the rightmost body digit, check = (11 − sum mod 11)
mod 11, bodies giving 10 never issued; ``mod10``: Luhn.
"""

from __future__ import annotations

import functools

import polars as pl

__all__ = ["check_int", "check_ok", "digit"]

_WEIGHTS_MOD11 = (2, 3, 4, 5, 6, 7)


def digit(expr: pl.Expr, i: int) -> pl.Expr:
    """The ``i``-th character of ``expr`` as an integer (0..9)."""
    return expr.str.slice(i, 1).cast(pl.Int32, strict=False)


#: digits per look-up table of :func:`check_int` (10⁴ one-byte entries each)
_CHUNK = 4


@functools.cache
def _chunk_tables(digits: int, scheme: str) -> tuple[pl.Series, ...]:
    """One table per chunk of ``_CHUNK`` digits, from the right: ``table[v]`` is the chunk's share of the
    check sum (mod 11 or 10) when its digits read ``v`` — the check digit itself counting once."""
    mod = 11 if scheme == "mod11" else 10
    out = []
    for place in range(0, digits, _CHUNK):
        width = min(_CHUNK, digits - place)
        v = pl.int_range(10**width, eager=True)
        total = pl.zeros(len(v), dtype=pl.Int64, eager=True)
        for i in range(width):
            d, j = (v // 10**i) % 10, place + i - 1  # j: position from the right of the body
            if j < 0:  # the check digit
                total += d
            elif scheme == "mod11":
                total += d * _WEIGHTS_MOD11[j % 6]
            else:
                total += (d * 2 % 10 + d * 2 // 10) if j % 2 == 0 else d
        out.append((total % mod).cast(pl.UInt8))
    return tuple(out)


def check_int(number: pl.Expr, digits: int, scheme: str) -> pl.Expr:
    """Whether a non-negative Int64 of ``digits`` places (leading zeros allowed, ``digits`` ≤ 18) has a
    valid ``mod11`` / ``mod10`` check digit (its last digit); null where ``number`` is null. Numbers out of
    range (negative, more places) are an error: the caller tests the form first.

    The check digit c fits the body's sum S iff (S + c) ≡ 0 (mod 11 resp. 10) — for mod11 this also
    excludes the never issued check value 10. S + c is summed from table look-ups per 4-digit chunk
    (two integer divisions for 12 digits instead of two per digit).
    """
    mod = 11 if scheme == "mod11" else 10
    tables = _chunk_tables(digits, scheme)
    size = 10**_CHUNK
    terms, rest = [], number
    for k, table in enumerate(tables):
        if k == len(tables) - 1:
            chunk = rest
        else:
            high = rest // size
            chunk, rest = rest - high * size, high
        terms.append(pl.lit(table).gather(chunk))
    total = pl.sum_horizontal(terms)  # at most 5 chunks of < 11: fits the UInt8 of the tables
    return total.is_in([m * mod for m in range(len(tables))])


def check_ok(expr: pl.Expr, digits: int, scheme: str) -> pl.Expr:
    """Whether a ``digits``-long digit string has a valid check digit under ``scheme`` (vectorised).

    mod11: weights 2..7 repeating from the rightmost body digit, check = (11 − sum mod 11) mod 11, 10
    never issued. mod10: Luhn (every second digit from the rightmost body digit doubled).
    """
    if scheme != "none" and digits <= 18:  # fits an Int64: integer arithmetic is much cheaper than strings
        # ``digits`` ASCII characters without a sign that read as an integer are ``digits`` ASCII digits
        plain = ((expr.str.len_bytes() == digits) & (expr.str.len_chars() == digits)
                 & ~expr.str.starts_with("+") & ~expr.str.starts_with("-"))
        number = pl.when(plain).then(expr.cast(pl.Int64, strict=False))
        return (plain & check_int(number, digits, scheme)).fill_null(False)  # (named after ``expr``)
    well_formed = (expr.str.len_chars() == digits) & expr.str.contains("^[0-9]+$")
    if scheme == "none":
        return well_formed.fill_null(False)
    body = digits - 1
    terms = []
    for i in range(body):
        j = body - 1 - i  # position from the right of the body, 0 = rightmost
        d = digit(expr, i)
        if scheme == "mod11":
            terms.append(d * _WEIGHTS_MOD11[j % 6])
        else:
            terms.append(((d * 2) % 10 + (d * 2) // 10) if j % 2 == 0 else d)
    total = pl.sum_horizontal(terms)
    check = (11 - total % 11) % 11 if scheme == "mod11" else (10 - total % 10) % 10
    return (well_formed & (check == digit(expr, body)) & (check != 10)).fill_null(False)
