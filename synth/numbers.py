"""Vectorised numbers for synthetic data: Kassenzeichen with mod-11 check digit, German IBANs.

Polars versions of :mod:`claims.kassenzeichen` (``mod11``) and of the IBAN check-digit rule
(ISO 13616, mod 97), for making millions of valid numbers fast; tests compare them with the scalar ones.
"""

from __future__ import annotations

import polars as pl

#: Printed forms of a Kassenzeichen, by index used in :func:`format_kassenzeichen`.
KZ_STYLES = ("dotted", "plain", "spaced", "dashed")


def mod11_check(body: pl.Expr) -> pl.Expr:
    """Mod-11 check digit of an 11-digit Int64 body (10 where the body is never issued).

    Weights 2,3,4,5,6,7 repeat from the rightmost body digit (DESIGN.md §3).
    """
    total = pl.lit(0, dtype=pl.Int64)
    for i in range(11):
        total = total + ((body // 10**i) % 10) * (2 + i % 6)
    return (11 - total % 11) % 11


def kassenzeichen_from_bodies(body: pl.Expr) -> pl.Expr:
    """12-digit Kassenzeichen (Int64) from 11-digit bodies; a body giving 10 is moved to the next one.

    Two bodies in a row never both give 10 (the sum changes by 2 between neighbours that differ only in
    the last digit), except across a carry; the expression then falls back to ``body + 2``.
    """
    c0 = mod11_check(body)
    c1 = mod11_check(body + 1)
    c2 = mod11_check(body + 2)
    return (
        pl.when(c0 != 10).then(body * 10 + c0)
        .when(c1 != 10).then((body + 1) * 10 + c1)
        .otherwise((body + 2) * 10 + c2)
    )


def german_iban(blz: pl.Expr, account: pl.Expr, *, invalid: pl.Expr | None = None) -> pl.Expr:
    """German IBAN strings from BLZ (8 digits) and account number (≤ 10 digits), both Int64.

    Where ``invalid`` is true, the check digits are deliberately wrong (a typo in the payer's data).
    """
    r = blz % 97
    r = (r * (10**10 % 97) + account % 97) % 97
    r = (r * (10**6 % 97) + 131400 % 97) % 97  # "DE00" as digits: D=13, E=14, then 00
    check = 98 - r
    if invalid is not None:
        check = pl.when(invalid).then((check - 2 + 37) % 97 + 2).otherwise(check)
    return pl.concat_str(
        pl.lit("DE"),
        check.cast(pl.String).str.zfill(2),
        blz.cast(pl.String).str.zfill(8),
        account.cast(pl.String).str.zfill(10),
    )


def format_kassenzeichen(kz: pl.Expr, style: pl.Expr) -> pl.Expr:
    """Print a 12-digit Kassenzeichen string in the style :data:`KZ_STYLES` ``[style]``.

    ``dotted`` 5.1234.5678.901, ``plain`` 512345678901, ``spaced`` 5 1234 5678 901, ``dashed`` 5-1234-5678-901.
    """
    parts = [kz.str.slice(0, 1), kz.str.slice(1, 4), kz.str.slice(5, 4), kz.str.slice(9, 3)]

    def joined(sep: str) -> pl.Expr:
        return pl.concat_str(parts, separator=sep)

    return (
        pl.when(style == 0).then(joined("."))
        .when(style == 1).then(kz)
        .when(style == 2).then(joined(" "))
        .otherwise(joined("-"))
    )


def iban_expr(country: str, bank: pl.Expr, bank_digits: int, account: pl.Expr, account_digits: int) -> pl.Expr:
    """IBANs of ``country`` whose BBAN is the digits of ``bank`` then of ``account`` (both Int64, zero-padded).

    The mod-97 check of ISO 13616 computed piecewise so no intermediate leaves Int64. Only for countries
    whose BBAN is all digits (AT, BE, PL …); a national check digit must already be part of ``account``.
    """
    suffix = int("".join(str(int(ch, 36)) for ch in country) + "00")  # "AT" -> 102900
    r = (bank % 97 * (10**account_digits % 97) + account % 97) % 97
    r = (r * (10**6 % 97) + suffix % 97) % 97
    return pl.concat_str(
        pl.lit(country), (98 - r).cast(pl.String).str.zfill(2),
        bank.cast(pl.String).str.zfill(bank_digits), account.cast(pl.String).str.zfill(account_digits),
    )


def rf_expr(kz: pl.Expr) -> pl.Expr:
    """ISO 11649 ``RF`` creditor references of 12-digit Kassenzeichen strings (compact: ``RF23512345678901``)."""
    r = (kz.cast(pl.Int64) % 97 * (10**6 % 97) + 271500 % 97) % 97  # "RF00" -> 271500, moved behind
    return pl.concat_str(pl.lit("RF"), (98 - r).cast(pl.String).str.zfill(2), kz)
