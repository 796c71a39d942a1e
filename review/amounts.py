"""Amounts as clerks type and read them: German ``1.234,56`` or ``1234.56`` in, integer cents out.

The rules live in :mod:`claims.money`; this module adds what the review page needs around them.

>>> parse_amount("1.234,56"), parse_amount("1234.56"), parse_amount("12"), parse_amount("0,5")
(123456, 123456, 1200, 50)
>>> format_cents(-123456), format_cents(-5)
('-1.234,56', '-0,05')
"""

from __future__ import annotations

from claims.money import AmountError, format_eur
from claims.money import parse_eur as parse_amount

__all__ = ["AmountError", "format_cents", "parse_amount", "try_parse_amount"]


def try_parse_amount(text: str) -> int | None:
    """:func:`parse_amount`, or ``None`` when the text is not an amount (for search boxes)."""
    try:
        return parse_amount(text)
    except AmountError:
        return None


def format_cents(cents: int | None) -> str:
    """Cents -> German display ``1.234,56`` (empty for ``None``)."""
    return "" if cents is None else format_eur(cents)
