"""camt value rules shared by the header (scalar) and the entry columns (vectorised): amounts, dates, text.

Amounts: ISO 20022 ``ActiveOrHistoricCurrencyAndAmount`` is a decimal with up to 5 fraction digits and
no sign (the sign is in ``CdtDbtInd``). We turn it into integer cents only when that is exact: ``8.850``
and ``50000`` and ``.44`` are fine, ``12.34567`` is not representable in cents and becomes ``None``
(the caller reports ``camt.amount_not_cents`` and keeps the raw XML). Nothing is ever rounded.
"""

from __future__ import annotations

import re
from datetime import date

import polars as pl

#: integer part (at most 15 digits, so cents fit Int64 with room), optional fraction
AMOUNT_PATTERN = r"^([0-9]{0,15})(?:\.([0-9]*))?$"
_AMOUNT_RE = re.compile(AMOUNT_PATTERN)

#: Entity references lxml's serialiser writes into text and attribute values.
_ENTITIES = ["&lt;", "&gt;", "&quot;", "&apos;", "&#13;", "&#10;", "&#9;", "&amp;"]
_CHARS = ["<", ">", '"', "'", "\r", "\n", "\t", "&"]


def cents_or_none(text: str | None) -> tuple[int | None, str | None]:
    """``(cents, problem)`` for one amount text; ``problem`` is ``None`` when the text is exact cents.

    >>> cents_or_none("1234.5"), cents_or_none(".44"), cents_or_none("1.005")
    ((123450, None), (44, None), (None, 'not_cents'))
    """
    if text is None or not text.strip():
        return None, "missing"
    m = _AMOUNT_RE.match(text.strip())
    if m is None or (not m.group(1) and not m.group(2)):
        return None, "bad_amount"
    whole, frac = m.group(1) or "0", m.group(2) or ""
    if frac[2:].strip("0"):
        return None, "not_cents"
    return int(whole) * 100 + int((frac[:2] + "00")[:2]), None


def cents_expr(col: pl.Expr) -> pl.Expr:
    """Vectorised :func:`cents_or_none`: Int64 cents, null when missing, malformed or not whole cents."""
    s = col.str.strip_chars()
    whole = s.str.extract(AMOUNT_PATTERN, 1)
    frac = s.str.extract(AMOUNT_PATTERN, 2).fill_null("")
    exact = frac.str.slice(2).str.replace_all("0", "", literal=True).str.len_bytes() == 0
    has_digit = (whole.str.len_bytes() > 0) | (frac.str.len_bytes() > 0)
    value = whole.replace("", "0").cast(pl.Int64) * 100 + (frac + "00").str.slice(0, 2).cast(pl.Int64)
    return pl.when(whole.is_not_null() & has_digit & exact).then(value).otherwise(None)


def amount_problem_expr(col: pl.Expr) -> pl.Expr:
    """``'missing'``, ``'bad_amount'``, ``'not_cents'`` or null, matching :func:`cents_or_none`."""
    s = col.str.strip_chars()
    whole = s.str.extract(AMOUNT_PATTERN, 1)
    frac = s.str.extract(AMOUNT_PATTERN, 2).fill_null("")
    return (
        pl.when(s.is_null() | (s == ""))
        .then(pl.lit("missing"))
        .when(whole.is_null() | ((whole == "") & (frac == "")))
        .then(pl.lit("bad_amount"))
        .when(frac.str.slice(2).str.replace_all("0", "", literal=True).str.len_bytes() > 0)
        .then(pl.lit("not_cents"))
        .otherwise(None)
    )


def date_or_none(text: str | None) -> date | None:
    """The date part of an ISO ``Dt`` or ``DtTm`` value (``2024-05-17T10:00:00+02:00`` -> 2024-05-17).

    The date is taken as written (the bank's local date), not converted to UTC.
    """
    if not text:
        return None
    try:
        return date.fromisoformat(text.strip()[:10])
    except ValueError:
        return None


def date_expr(col: pl.Expr) -> pl.Expr:
    """Vectorised :func:`date_or_none` (null for missing or invalid values)."""
    return col.str.strip_chars().str.slice(0, 10).str.to_date("%Y-%m-%d", strict=False)


def unescape_expr(col: pl.Expr) -> pl.Expr:
    """Serialised XML text back to the characters (``&amp;`` -> ``&``), in one pass."""
    return col.str.replace_many(_ENTITIES, _CHARS)


def nonempty_expr(col: pl.Expr) -> pl.Expr:
    """Empty strings as null."""
    return pl.when(col.str.len_bytes() > 0).then(col).otherwise(None)


def code_expr(col: pl.Expr) -> pl.Expr:
    """A code (CdtDbtInd, Sts, BkTxCd, IBAN, BIC): its character set has no '&', so no unescaping."""
    return nonempty_expr(col.str.strip_chars())


def text_expr(col: pl.Expr) -> pl.Expr:
    """Serialised XML text back to the value: entities resolved, outer whitespace cut, empty -> null."""
    return nonempty_expr(unescape_expr(col).str.strip_chars())
