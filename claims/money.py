"""Money as text, written once: integer cents to German text and back.

Money is integer cents everywhere; these are the only places that turn cents into text or text a person
typed into cents. Three forms:

* :func:`format_eur` — German display ``1.234,56`` (thousands dot, decimal comma, ``-`` for negatives);
* :func:`plain_eur` — ``1234.56``, the neutral form of issue and ledger messages (and URL parameters);
* :func:`parse_eur` — German or point-decimal text to cents, strictly (never guesses).

>>> format_eur(-123456), format_eur(-5), plain_eur(-5), plain_eur(123456)
('-1.234,56', '-0,05', '-0.05', '1234.56')
>>> parse_eur("1.234,56"), parse_eur("1234.56"), parse_eur("-0,05"), parse_eur("12")
(123456, 123456, -5, 1200)

The vectorised twins (:func:`format_eur_expr`, :func:`plain_comma_expr`) do the same inside Polars. The
open-items loader reads export amounts with its own vectorised reader (``parsers.open_items_values``):
it must stay a Polars expression for millions of rows and is more lenient about thousands dots.
"""

from __future__ import annotations

import re

import polars as pl

_GERMAN = re.compile(r"^\d{1,3}(\.\d{3})+(,\d{1,2})?$|^\d+(,\d{1,2})?$")
# a comma as thousands separator only together with a decimal point: "12,345" is refused (German eyes
# read it as three decimals), "12,345.00" is not
_POINT = re.compile(r"^\d{1,3}(,\d{3})+\.\d{1,2}$|^\d+(\.\d{1,2})?$")


class AmountError(ValueError):
    """Text that is not an amount in euros with at most two decimals."""


def _split(cents: int) -> tuple[str, int, int]:
    whole, frac = divmod(abs(int(cents)), 100)
    return ("-" if cents < 0 else ""), whole, frac


def format_eur(cents: int) -> str:
    """Cents as German money text: ``123456`` -> ``'1.234,56'``, ``-5`` -> ``'-0,05'`` (no symbol)."""
    sign, whole, frac = _split(cents)
    return sign + f"{whole:,}".replace(",", ".") + f",{frac:02d}"


def plain_eur(cents: int) -> str:
    """Cents as a plain decimal with a point and no grouping: ``-123456`` -> ``'-1234.56'``."""
    sign, whole, frac = _split(cents)
    return f"{sign}{whole}.{frac:02d}"


def parse_eur(text: str) -> int:
    """Euro text -> cents. Accepts ``1.234,56``, ``1234,56``, ``1234.56``, ``1,234.56``, ``-``, ``€``/``EUR``.

    A dot followed by exactly three digits (``1.234``) is a thousands separator, as a German clerk means
    it; ``12,345`` is refused. Raises :class:`AmountError` for anything else.
    """
    s = text.strip().replace("\u00a0", "").replace(" ", "").replace("€", "").removesuffix("EUR").strip()
    sign = 1
    if s.startswith("-"):
        sign, s = -1, s[1:]
    if not s:
        raise AmountError(f"expected an amount like 1.234,56, got {text!r}")
    if _GERMAN.match(s):
        whole, _, frac = s.replace(".", "").partition(",")
    elif _POINT.match(s):
        whole, _, frac = s.replace(",", "").partition(".")
    else:
        raise AmountError(f"expected an amount like 1.234,56 or 1234.56, got {text!r}")
    return sign * (int(whole) * 100 + int((frac + "00")[:2]))


def _parts(c: pl.Expr) -> tuple[pl.Expr, pl.Expr, pl.Expr]:
    whole = (c.abs() // 100).cast(pl.String())
    frac = (c.abs() % 100).cast(pl.String()).str.zfill(2)
    sign = pl.when(c < 0).then(pl.lit("-")).otherwise(pl.lit(""))
    return sign, whole, frac


def format_eur_expr(col: str | pl.Expr, *, symbol: bool = True) -> pl.Expr:
    """:func:`format_eur` vectorised (thousands grouped by reversing the digits), `` €`` appended by default."""
    c = pl.col(col) if isinstance(col, str) else col
    sign, whole, frac = _parts(c)
    grouped = whole.str.reverse().str.extract_all(r"\d{1,3}").list.join(".").str.reverse()
    tail = [pl.lit(" €")] if symbol else []
    return pl.when(c.is_null()).then(pl.lit(None, pl.String())).otherwise(
        pl.concat_str([sign, grouped, pl.lit(","), frac, *tail])
    )


def plain_comma_expr(col: str) -> pl.Expr:
    """Cents as ``-1234,56`` (decimal comma, no grouping) vectorised: what German Excel reads as a number."""
    c = pl.col(col)
    sign, whole, frac = _parts(c)
    return pl.when(c.is_null()).then(pl.lit(None, pl.String())).otherwise(
        pl.concat_str([sign, whole, pl.lit(","), frac])
    )


__all__ = ["AmountError", "format_eur", "format_eur_expr", "parse_eur", "plain_comma_expr", "plain_eur"]
