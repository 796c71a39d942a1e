"""IBAN and BIC validity of the counterparties, as columns beside the values (schwifty's verdict).

The value is always kept; ``iban_valid`` / ``bic_valid`` say whether it is valid, and are null when
there is nothing to judge: no value, or a value that is no IBAN at all (a German pre-SEPA account
number from ``?31``, a proprietary account id from camt ``Othr/Id``: anything not starting with two
letters and two digits), and for BICs a German bank code (BLZ) from ``?30`` (digits only). The IBAN check is vectorised over all rows: country length from schwifty's
registry, then ISO 7064 mod-97 computed over the digit string in 16-digit chunks. BICs are few, so
schwifty checks only the unique values.

>>> import polars as pl
>>> df = pl.DataFrame({"counterparty_iban": ["DE89 3704 0044 0532 0130 00", "DE89370400440532013001", "0532013000", None],
...                    "counterparty_bic": ["COBADEFFXXX", "NOTABIC", None, None]})
>>> add_validity(df).select("iban_valid", "bic_valid").rows()
[(True, True), (False, False), (None, None), (None, None)]
"""

from __future__ import annotations

from functools import cache

import polars as pl

_LETTER_VALUES = {chr(ord("A") + i): str(10 + i) for i in range(26)}
_CHUNK = 16  # remainder (< 97) * 10**16 + a 16-digit chunk stays inside Int64 (< 9.2 * 10**18)
_MAX_DIGITS = 2 * 34  # an IBAN has at most 34 characters, each becomes at most 2 digits


def compact_iban(e: pl.Expr) -> pl.Expr:
    """An IBAN as it is stored and compared: blanks removed, upper case (``de89 3704 …`` → ``DE893704…``)."""
    return e.str.replace_all(" ", "", literal=True).str.to_uppercase()


def digits(e: pl.Expr) -> pl.Expr:
    """A Kassenzeichen as it is compared: every non-digit removed (``1.0066.4377.513`` → ``100664377513``)."""
    return e.str.replace_all(r"\D", "")


def iban_list(e: pl.Expr) -> pl.Expr:
    """A field holding several IBANs (``,`` or ``;`` between them) as the list of its parts, as written."""
    return e.str.replace_all(";", ",", literal=True).str.split(",")


@cache
def iban_lengths() -> dict[str, int]:
    """IBAN length per country code, from schwifty's registry (asked once for every two-letter code)."""
    from schwifty import registry

    lengths = {}
    for a in _LETTER_VALUES:
        for b in _LETTER_VALUES:
            try:
                lengths[a + b] = registry.get_iban_spec(a + b).iban_length
            except Exception:  # no IBAN in that country (schwifty raises its own ValueError family)
                continue
    return lengths


def with_iban_valid(frame: pl.DataFrame, column: str, target: str) -> pl.DataFrame:
    """``frame`` with ``target`` = is ``column`` a valid IBAN? Null unless it starts like one (``DE89``...).

    Computed in steps (normalise, then digits, then mod 97) so that each string operation runs once.
    """
    s = pl.col("_iban")
    lengths = iban_lengths()
    expected = s.str.slice(0, 2).replace_strict(lengths, default=None, return_dtype=pl.UInt32())
    step1 = frame.with_columns(_iban=pl.col(column).str.replace_all(r"[\s\-]", "").str.to_uppercase())
    step2 = step1.with_columns(
        _judged=s.str.contains(r"^[A-Z]{2}[0-9]{2}"),
        _shaped=s.str.contains(r"^[A-Z]{2}[0-9]{2}[A-Z0-9]{1,30}$") & (s.str.len_chars() == expected).fill_null(False),
        _digits=(s.str.slice(4) + s.str.slice(0, 4)).str.replace_many(_LETTER_VALUES),
    )
    longest = int(step2.select(pl.col("_digits").str.len_chars().max()).item() or 0)
    n = pl.col("_digits").str.len_chars().cast(pl.Int64())
    remainder = pl.lit(0, dtype=pl.Int64())
    for start in range(0, min(longest, _MAX_DIGITS), _CHUNK):
        # past the end a chunk is "" (width 0, value 0), which leaves the remainder as it is
        value = pl.col("_digits").str.slice(start, _CHUNK).cast(pl.Int64(), strict=False).fill_null(0)
        width = (n - start).clip(0, _CHUNK)
        remainder = (remainder * pl.lit(10, dtype=pl.Int64()).pow(width) + value) % 97
    verdict = pl.col("_shaped") & (remainder == 1).fill_null(False)
    return step2.with_columns(
        pl.when(pl.col("_judged")).then(verdict).otherwise(pl.lit(None, dtype=pl.Boolean())).alias(target)
    ).drop("_iban", "_judged", "_shaped", "_digits")


def _bic_ok(raw: str) -> bool | None:
    """schwifty's verdict on one BIC as delivered; None for a German bank code (BLZ, digits only)."""
    from schwifty import BIC

    value = "".join(raw.split()).upper()
    if not value or not ("A" <= value[0] <= "Z"):  # a Bankleitzahl from ?30 is no BIC at all, like ?31
        return None
    try:
        return bool(BIC(value, allow_invalid=True).is_valid)
    except Exception:  # schwifty raises its ValueError family for shapes it cannot even hold
        return False


def _iban_verdicts(transactions: pl.DataFrame) -> pl.Series:
    """``iban_valid`` per row; computed once per distinct IBAN when payers repeat (they mostly do)."""
    column = transactions.select(pl.col("counterparty_iban"))
    distinct = column.unique()
    if distinct.height * 2 > column.height:
        return with_iban_valid(column, "counterparty_iban", "iban_valid")["iban_valid"]
    judged = with_iban_valid(distinct, "counterparty_iban", "iban_valid")
    joined = column.join(judged, on="counterparty_iban", how="left", nulls_equal=True, maintain_order="left")
    return joined["iban_valid"]


def add_validity(transactions: pl.DataFrame) -> pl.DataFrame:
    """Fill ``iban_valid`` and ``bic_valid`` from the counterparty IBAN/BIC (null where absent)."""
    bics = transactions["counterparty_bic"].drop_nulls().unique().to_list()  # few: schwifty on each
    verdicts = {b: _bic_ok(b) for b in bics}
    bic_valid = pl.col("counterparty_bic").replace_strict(verdicts, default=None, return_dtype=pl.Boolean())
    return transactions.with_columns(
        (bic_valid if verdicts else pl.lit(None, dtype=pl.Boolean())).alias("bic_valid"),
        _iban_verdicts(transactions).alias("iban_valid"),
    )
