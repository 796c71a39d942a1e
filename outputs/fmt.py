"""Formatting at the very edge: cents to German money text, dates to ``dd.mm.yyyy``.

Money stays integer cents everywhere else; these helpers are the last step before a person reads it.
Scalar helpers serve templates and the PDF; the ``*_expr`` helpers do the same vectorised in Polars.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import polars as pl


def eur(cents: int | None, *, sign: bool = False, symbol: bool = True) -> str:
    """Cents as German money text: ``123456`` -> ``'1.234,56 €'`` (``''`` for ``None``).

    >>> eur(-123456), eur(5, symbol=False), eur(100, sign=True), eur(None)
    ('-1.234,56 €', '0,05', '+1,00 €', '')
    """
    if cents is None:
        return ""
    neg = cents < 0
    whole, frac = divmod(abs(int(cents)), 100)
    text = f"{whole:,}".replace(",", ".") + f",{frac:02d}"
    prefix = "-" if neg else ("+" if sign and cents > 0 else "")
    return prefix + text + (" €" if symbol else "")


def de_date(d: date | None) -> str:
    """A date for people: ``date(2024, 5, 17)`` -> ``'17.05.2024'`` (``''`` for ``None``)."""
    return "" if d is None else d.strftime("%d.%m.%Y")


def to_decimal(cents: int | None) -> Decimal | None:
    """Cents as an exact ``Decimal`` in euros (only for writers that need a number)."""
    return None if cents is None else Decimal(int(cents)).scaleb(-2)


def cents_plain_expr(col: str) -> pl.Expr:
    """Cents as ``-1234,56`` (decimal comma, no thousands separator): what German Excel reads as a number."""
    c = pl.col(col)
    whole = (c.abs() // 100).cast(pl.String())
    frac = (c.abs() % 100).cast(pl.String()).str.zfill(2)
    sign = pl.when(c < 0).then(pl.lit("-")).otherwise(pl.lit(""))
    return pl.when(c.is_null()).then(pl.lit(None, pl.String())).otherwise(
        pl.concat_str([sign, whole, pl.lit(","), frac])
    )


def eur_expr(col: str | pl.Expr) -> pl.Expr:
    """Cents as ``-1.234,56 €`` vectorised (thousands grouped by reversing the digits)."""
    c = pl.col(col) if isinstance(col, str) else col
    whole = (c.abs() // 100).cast(pl.String())
    grouped = whole.str.reverse().str.extract_all(r"\d{1,3}").list.join(".").str.reverse()
    frac = (c.abs() % 100).cast(pl.String()).str.zfill(2)
    sign = pl.when(c < 0).then(pl.lit("-")).otherwise(pl.lit(""))
    return pl.when(c.is_null()).then(pl.lit(None, pl.String())).otherwise(
        pl.concat_str([sign, grouped, pl.lit(","), frac, pl.lit(" €")])
    )
