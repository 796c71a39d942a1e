"""The debtor_iban column of the open-items export: normalised, and which rows hold an invalid IBAN.

The rule is :func:`reference_bad` (several IBANs per value, ``,`` or ``;``; each checked by
:func:`parsers.validity.with_iban_valid`: schwifty's country lengths + ISO 7064 mod 97). Nearly every
value in an export is one IBAN written the plain way: two letters, two check digits, a BBAN of digits
(Germany, Austria, Belgium ...). Those are checked here row by row with integer arithmetic, without
finding the distinct values first (which costs more than the check); any other value is normalised
and judged by the reference rule.
"""

from __future__ import annotations

import polars as pl

from parsers.validity import compact_iban, iban_lengths, iban_list, with_iban_valid

_PLAIN = r"^[A-Z]{2}[0-9]{2}[0-9]{1,30}$"  # upper case, no blanks, all-digit BBAN


def reference_bad(values: pl.Series) -> list[str]:
    """Distinct (normalised) values holding an invalid IBAN: a value that is not IBAN-shaped is invalid too."""
    one = (
        pl.DataFrame({"raw": values.drop_nulls().unique()})
        .with_columns(iban_list(pl.col("raw")).alias("iban"))
        .explode("iban")
        .with_columns(pl.col("iban").str.strip_chars())
        .filter(pl.col("iban") != "")
    )
    checked = with_iban_valid(one, "iban", "ok")
    return checked.filter(~pl.col("ok").fill_null(False))["raw"].unique().sort().to_list()


def _plain_valid(values: pl.Series) -> pl.DataFrame:
    """``plain`` (the value has the plain shape) and ``valid`` (for a plain value: the length of its
    country, and mod 97 of BBAN + country letters as numbers (A = 10 ... Z = 35) + check digits is 1;
    a BBAN of up to 30 digits fits Int128)."""
    v = pl.col("v")
    # per country: its letters as a number (DE → 1314) and the IBAN length, in one look-up
    code = {c: int(str(ord(c[0]) - 55) + str(ord(c[1]) - 55)) * 100 + n for c, n in iban_lengths().items()}
    step = values.to_frame("v").with_columns(
        plain=v.str.contains(_PLAIN), code=v.str.slice(0, 2).replace_strict(code, default=None, return_dtype=pl.Int64)
    )
    bban = (v.str.slice(4).cast(pl.Int128, strict=False) % pl.lit(97, pl.Int128)).cast(pl.Int64)
    tail = (pl.col("code") // 100) * 100 + v.str.slice(2, 2).cast(pl.Int64, strict=False)
    total = (bban * (10**6 % 97) + tail) % 97
    return step.select("plain", valid=((v.str.len_bytes() == pl.col("code") % 100) & (total == 1)).fill_null(False))


def iban_column(values: pl.Series) -> tuple[pl.Series, pl.Series]:
    """(normalised debtor_iban, invalid flag per row) — the same as normalising every row and looking
    the value up in :func:`reference_bad` of all values."""
    given = values.is_not_null().arg_true()  # many items carry no IBAN: work on the others only
    got = _plain_valid(values.drop_nulls())
    bad = pl.repeat(False, values.len(), eager=True).scatter(given, ~got["valid"])
    rows = given.filter(~got["plain"])  # IBANs written another way: normalised, then the reference rule
    if rows.len() == 0:
        return values, bad.rename("_bad_iban")
    theirs = values.gather(rows).to_frame("v").select(compact_iban(pl.col("v"))).to_series()
    iban = values.clone().scatter(rows, theirs)
    bad = bad.scatter(rows, theirs.is_in(pl.Series(reference_bad(theirs), dtype=pl.String).implode()))
    return iban.rename(values.name), bad.rename("_bad_iban")
