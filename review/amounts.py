"""Amounts as clerks type and read them: German ``1.234,56`` or ``1234.56`` in, integer cents out.

>>> parse_amount("1.234,56"), parse_amount("1234.56"), parse_amount("12"), parse_amount("0,5")
(123456, 123456, 1200, 50)
>>> format_cents(-123456)
'-1.234,56'
"""

from __future__ import annotations

import re

_GERMAN = re.compile(r"^\d{1,3}(\.\d{3})+(,\d{1,2})?$|^\d+(,\d{1,2})?$")
# a comma as thousands separator only together with a decimal point: "12,345" is refused (German eyes
# read it as three decimals), "12,345.00" is not
_POINT = re.compile(r"^\d{1,3}(,\d{3})+\.\d{1,2}$|^\d+(\.\d{1,2})?$")


class AmountError(ValueError):
    """Text that is not an amount in euros with at most two decimals."""


def parse_amount(text: str) -> int:
    """Euro text -> cents. Accepts ``1.234,56``, ``1234,56``, ``1234.56``, ``1,234.56``, ``€``/``EUR``.

    A dot followed by exactly three digits (``1.234``) is a thousands separator, as a German clerk means
    it; ``12,345`` is refused. Raises :class:`AmountError` for anything else (never guesses).
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


def try_parse_amount(text: str) -> int | None:
    """:func:`parse_amount`, or ``None`` when the text is not an amount (for search boxes)."""
    try:
        return parse_amount(text)
    except AmountError:
        return None


def format_cents(cents: int | None) -> str:
    """Cents -> German display ``1.234,56`` (empty for ``None``)."""
    if cents is None:
        return ""
    sign = "-" if cents < 0 else ""
    whole, frac = divmod(abs(int(cents)), 100)
    return f"{sign}{whole:,}".replace(",", ".") + f",{frac:02d}"
