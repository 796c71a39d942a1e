"""IBAN and BIC validity of the counterparties, as columns beside the values (schwifty's verdict).

The value is always kept; ``iban_valid`` / ``bic_valid`` say whether it is valid, and are null when
there is nothing to judge: no value, or a German pre-SEPA account number from ``?31`` or bank code
(BLZ) from ``?30`` (digits only: not an IBAN or BIC at all). The IBAN check is vectorised over all rows: country length from schwifty's
registry, then ISO 7064 mod-97 computed over the digit string in 7-digit chunks. BICs are few, so
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
_CHUNK = 7  # 97 * 10**7 stays far inside Int64
_MAX_DIGITS = 2 * 34  # an IBAN has at most 34 characters, each becomes at most 2 digits


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


def iban_valid_expr(column: str) -> pl.Expr:
    """Polars expression: is ``column`` a valid IBAN? Null when empty or not IBAN-shaped at all."""
    s = pl.col(column).str.replace_all(r"[\s\-]", "").str.to_uppercase()
    judged = s.str.contains(r"^[A-Z]{2}")
    shaped = s.str.contains(r"^[A-Z]{2}[0-9]{2}[A-Z0-9]{1,30}$")
    lengths = iban_lengths()
    if lengths:
        length_ok = s.str.len_chars() == s.str.slice(0, 2).replace_strict(
            lengths, default=None, return_dtype=pl.UInt32()
        )
    else:
        length_ok = pl.lit(True)
    digits = (s.str.slice(4) + s.str.slice(0, 4)).str.replace_many(_LETTER_VALUES)
    remainder = pl.lit(0, dtype=pl.Int64())
    ten = pl.lit(10, dtype=pl.Int64())
    for start in range(0, _MAX_DIGITS, _CHUNK):
        # past the end a chunk is "" (width 0, value 0), which leaves the remainder as it is
        chunk = digits.str.slice(start, _CHUNK)
        value = chunk.cast(pl.Int64(), strict=False).fill_null(0)
        remainder = (remainder * ten.pow(chunk.str.len_chars().cast(pl.Int64())) + value) % 97
    verdict = shaped & length_ok.fill_null(False) & (remainder == 1).fill_null(False)
    return pl.when(judged).then(verdict).otherwise(pl.lit(None, dtype=pl.Boolean()))


def _bic_ok(value: str) -> bool:
    from schwifty import BIC

    try:
        return bool(BIC(value, allow_invalid=True).is_valid)
    except Exception:  # schwifty raises its ValueError family for shapes it cannot even hold
        return False


def add_validity(transactions: pl.DataFrame) -> pl.DataFrame:
    """Fill ``iban_valid`` and ``bic_valid`` from the counterparty IBAN/BIC (null where absent)."""
    bic = pl.col("counterparty_bic").str.replace_all(r"\s", "").str.to_uppercase()
    # a German Bankleitzahl from ?30 (digits only) is not a BIC at all: nothing to judge, like ?31
    judged = bic.str.contains(r"^[A-Z]")
    uniques = transactions.filter(judged.fill_null(False)).select(bic.alias("b")).unique()["b"].to_list()
    verdicts = {b: _bic_ok(b) for b in uniques}
    bic_valid = (
        pl.when(judged).then(bic.replace_strict(verdicts, default=None, return_dtype=pl.Boolean()))
        if verdicts
        else None
    )
    return transactions.with_columns(
        iban_valid_expr("counterparty_iban").alias("iban_valid"),
        (bic_valid if bic_valid is not None else pl.lit(None, dtype=pl.Boolean())).alias("bic_valid"),
    )
