"""Value parsing for the open-items loader: the common shape fast, everything else the careful way.

Each parser here has a *reference* expression (the careful rule, applied to a few rows) and a fast
path for the shape a finance system nearly always writes. The fast path only takes rows it is sure
to read exactly as the reference would; the rest go through the reference (:func:`patched`). So
millions of ``1234.56`` amounts and ISO dates cost one vectorised pass, and the output is the same as
if every row had been read the careful way (tests hold the two to each other).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date as _date

import polars as pl

from claims.kassenzeichen_expr import check_ok
from parsers.validity import digits

_AMOUNT = r"^-?\d+(\.\d{1,2})?$"
# ASCII digits only (``\d`` would take any script's digits, which the reference rejects), at most
# 13 before the separator: read as a Decimal(16, 2), whose integer form is the cents, exactly
_POINT = r"^-?[0-9]{1,13}(\.[0-9]{1,2})?$"
_COMMA = r"^-?[0-9]{1,13}(,[0-9]{1,2})?$"
_LIMIT = 10**15  # integer and decimal amounts below this (EUR) are read as numbers, the rest as text


def cents(col: str) -> pl.Expr:
    """Reference: decimal comma or point (``1.234,56`` / ``1234.56``) → Int64 cents; null when unparsable."""
    s = pl.col(col).str.strip_chars().str.replace_all(" ", "")
    s = pl.when(s.str.contains(",")).then(s.str.replace_all(r"\.", "").str.replace(",", ".")).otherwise(s)
    ok = s.str.contains(_AMOUNT)
    whole = s.str.extract(r"^(-?\d+)", 1).cast(pl.Int64, strict=False)
    frac = s.str.extract(r"\.(\d{1,2})$", 1).str.pad_end(2, "0").cast(pl.Int64, strict=False).fill_null(0)
    sign = pl.when(s.str.starts_with("-")).then(-1).otherwise(1)
    return pl.when(ok).then(whole * 100 + sign * frac).otherwise(None)


def date(col: str) -> pl.Expr:
    """Reference: ISO date or ``dd.mm.yyyy``, blanks around allowed; null when unparsable."""
    s = pl.col(col).str.strip_chars()
    return pl.coalesce(s.str.to_date("%Y-%m-%d", strict=False), s.str.to_date("%d.%m.%Y", strict=False))


def by_value(values: pl.Series, parse: Callable[[str], pl.Expr]) -> pl.Series:
    """``parse`` (an expression over a column) applied to ``values``, computed once per distinct value."""
    name = values.name
    distinct = values.unique()
    parsed = pl.DataFrame({name: distinct}).select(parse(name)).to_series()
    return values.replace_strict(distinct, parsed, default=None, return_dtype=parsed.dtype)


def patched(fast: pl.Series, redo: pl.Series, values: pl.Series, reference: Callable[[pl.Series], pl.Series]) -> pl.Series:
    """``fast`` with the rows flagged in ``redo`` replaced by ``reference`` over those rows of ``values``."""
    rows = redo.fill_null(False).arg_true()
    if rows.len() == 0:
        return fast
    return fast.clone().scatter(rows, reference(values.gather(rows)).cast(fast.dtype))


def _as_text(values: pl.Series) -> pl.Series:
    return values if values.dtype == pl.String else values.cast(pl.String)


def _plain_cents(values: pl.Series, shape: str, reference: Callable[[pl.Series], pl.Series]) -> pl.Series:
    """Cents of the text amounts of ``shape`` (decimal point or comma, no thousands separator, no
    blanks) read as a decimal (exact: its integer form is the cents); other non-null values through
    ``reference``."""
    a = pl.col("a")
    text = a if shape == _POINT else a.str.replace(",", ".", literal=True)
    got = values.to_frame("a").select(
        ok=a.str.contains(shape), c=text.cast(pl.Decimal(16, 2), strict=False).to_physical().cast(pl.Int64, strict=False)
    )
    return patched(got["c"], ~got["ok"], values, reference)


def amount_cents(values: pl.Series) -> pl.Series:
    """Cents of an amount column: text as :func:`cents` reads it; integers and decimals (scale ≤ 2) exactly
    as their text would be read."""
    def slow(v: pl.Series) -> pl.Series:
        return by_value(_as_text(v), cents)

    dtype = values.dtype
    if dtype == pl.String:  # decimal point or comma (the one the first rows use first); else the careful way
        first, then = (_COMMA, _POINT) if values.head(1000).str.contains(",", literal=True).any() else (_POINT, _COMMA)
        return _plain_cents(values, first, lambda v: _plain_cents(v, then, slow)).rename(values.name)
    a = pl.col("a")
    if isinstance(dtype, pl.Decimal):
        ok = a.abs() < _LIMIT
        fast = a.to_physical().cast(pl.Int64) * 10 ** (2 - (dtype.scale or 0))
    else:  # an integer type: whole euros
        ok = (a < _LIMIT) & (a > -_LIMIT) if dtype.is_signed_integer() else a < _LIMIT
        fast = a.cast(pl.Int64) * 100
    got = values.to_frame("a").select(pl.when(ok).then(fast).alias("c"), ok.fill_null(True).alias("ok"))
    return patched(got["c"], ~got["ok"], values, slow).rename(values.name)


def parsed_date(values: pl.Series) -> pl.Series:
    """Dates of a date column: text as :func:`date` reads it; a ``Date`` column as its ISO text would be read."""
    def slow(v: pl.Series) -> pl.Series:
        return by_value(_as_text(v), date)

    if values.dtype == pl.Date:
        fast = values
        redo = (values < _date(1, 1, 1)) | (values > _date(9999, 12, 31))  # text of 5+ digit years differs
    else:
        # an ISO date is the common case; anything the plain ISO reading misses goes the careful way
        fast = values.str.to_date("%Y-%m-%d", strict=False)
        redo = fast.is_null() & values.is_not_null()
    return patched(fast, redo, values, slow).rename(values.name)


def normalised(values: pl.Series, norm: Callable[[pl.Expr], pl.Expr]) -> tuple[pl.Series, pl.Series]:
    """``norm`` applied to a text column, and its distinct non-null results. Judged on the distinct
    values first, so a column that is already normal (the usual export) is kept without a pass over
    every row. For columns with few distinct values (claim type, law, IBANs)."""
    distinct = values.unique().drop_nulls()
    after = pl.DataFrame({"v": distinct}).select(norm(pl.col("v"))).to_series()
    if (after == distinct).all():
        return values, distinct
    return pl.DataFrame({"v": values}).select(norm(pl.col("v"))).to_series().rename(values.name), after.unique()


def blank(values: pl.Series, maybe: pl.Series | None = None) -> pl.Series:
    """Null or only blanks? Rows not flagged in ``maybe`` are known to hold a non-blank value when not
    null (e.g. a parsed date), so only the flagged ones are looked at."""
    def test(v: pl.Series) -> pl.Series:
        if v.dtype != pl.String:
            return v.is_null()  # a typed value is never blank text
        return v.to_frame("v").select(pl.col("v").is_null() | (pl.col("v").str.strip_chars() == "")).to_series()

    if maybe is None:
        return test(values)
    return patched(values.is_null(), maybe, values, test)


def digits_only(values: pl.Series) -> pl.Series:
    """``values`` with every non-digit removed (``\\D``); only rows holding one are rewritten."""
    redo = values.str.contains(r"\D")
    return patched(values, redo, values, lambda v: v.to_frame("v").select(digits(pl.col("v"))).to_series())


def per_group(key: pl.Series, value: pl.Series | None) -> pl.Series:
    """Per row, how many rows share its ``key`` (``value`` None), or how many distinct ``value`` they
    hold (nulls count as a value, as in ``n_unique``) — exact, but reported only where more than 1;
    other rows get 1.

    Cheap when keys are mostly unique: only rows whose 64-bit hash of the key repeats are looked at
    (equal keys have equal hashes, so each repeated key's rows are among them, all of them), and for
    ``value`` only groups where some rows differ are counted exactly.
    """
    n = key.len()
    ones = pl.repeat(1, n, dtype=pl.UInt32, eager=True)
    h = key.hash()
    if value is None and h.n_unique() == n:  # ids: usually all distinct, and this says so quickest
        return ones
    ordered = h.sort()
    twice = ordered.filter(ordered == ordered.shift(1))
    if twice.is_empty():
        return ones
    rows = h.is_in(twice.unique().implode()).arg_true()
    sub = pl.DataFrame({"k": key.gather(rows), "h": h.gather(rows), "v": rows if value is None else value.gather(rows)})
    if value is not None:  # keep only the groups (of equal hash) whose values are not all the same
        # sorted by hash, a group holds two values exactly where two neighbours in it differ
        same_group = pl.col("h") == pl.col("h").shift(1)
        odd = sub.sort("h").filter(same_group & pl.col("v").ne_missing(pl.col("v").shift(1)))["h"].unique()
        differs = sub["h"].is_in(odd.implode())
        rows, sub = rows.filter(differs), sub.filter(differs)
    count = pl.len() if value is None else pl.col("v").n_unique()
    return ones.scatter(rows, sub.select(count.over("k").cast(pl.UInt32)).to_series())


def check_digit_ok(kz_norm: pl.Series, digits: int, scheme: str) -> pl.Series:
    """:func:`claims.kassenzeichen_expr.check_ok` over a column of digit strings (``kz_norm``)."""
    return kz_norm.to_frame("k").lazy().select(check_ok(pl.col("k"), digits, scheme)).collect().to_series()
