"""Formatting at the very edge: cents to German money text, dates to ``dd.mm.yyyy``.

Money stays integer cents everywhere else; these helpers are the last step before a person reads it.
Scalar helpers serve templates and the PDF; the ``*_expr`` helpers do the same vectorised in Polars.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import polars as pl

from claims.money import format_eur, format_eur_expr, plain_comma_expr


def eur(cents: int | None, *, sign: bool = False, symbol: bool = True) -> str:
    """Cents as German money text: ``123456`` -> ``'1.234,56 €'`` (``''`` for ``None``).

    >>> eur(-123456), eur(5, symbol=False), eur(100, sign=True), eur(None)
    ('-1.234,56 €', '0,05', '+1,00 €', '')
    """
    if cents is None:
        return ""
    prefix = "+" if sign and cents > 0 else ""
    return prefix + format_eur(cents) + (" €" if symbol else "")


def de_int(n: int | None) -> str:
    """A count for people, with German thousands dots: ``12345`` -> ``'12.345'`` (``''`` for ``None``).

    >>> de_int(1234567), de_int(-1000), de_int(7), de_int(None)
    ('1.234.567', '-1.000', '7', '')
    """
    return "" if n is None else f"{int(n):,}".replace(",", ".")


def de_date(d: date | None) -> str:
    """A date for people: ``date(2024, 5, 17)`` -> ``'17.05.2024'`` (``''`` for ``None``)."""
    return "" if d is None else d.strftime("%d.%m.%Y")


def to_decimal(cents: int | None) -> Decimal | None:
    """Cents as an exact ``Decimal`` in euros (only for writers that need a number)."""
    return None if cents is None else Decimal(int(cents)).scaleb(-2)


def cents_plain_expr(col: str) -> pl.Expr:
    """Cents as ``-1234,56`` (decimal comma, no thousands separator): what German Excel reads as a number."""
    return plain_comma_expr(col)


def eur_expr(col: str | pl.Expr) -> pl.Expr:
    """Cents as ``-1.234,56 €`` vectorised."""
    return format_eur_expr(col)
