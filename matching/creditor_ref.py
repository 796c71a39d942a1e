"""ISO 11649 creditor references (``RF`` + two check digits + up to 21 letters or digits) in payment texts.

A municipality may print its Kassenzeichen as a structured creditor reference (``RF47 0010 0000 0000
13``, electronic form ``RF47001000000000013``); it arrives in the remittance or in the structured
creditor reference (camt ``CdtrRefInf/Ref``). The check digits (ISO 7064 mod 97-10 over the reference,
``RF`` + check digits moved to its end) are checked with python-stdnum's :mod:`stdnum.iso11649`, applied
to the few RF references of the payments that need it (no exact reading found an item: most RF
references hold a plain Kassenzeichen, which the exact reading finds without this).

A valid RF reference whose content is a Kassenzeichen, possibly padded with leading zeros to fill the
reference, is read as an exact reference (``reference.exact``) — the Kassenzeichen's own check digit
must hold too. An RF reference whose check digits fail is no reference of its own: its digits are read
like any other text (by :mod:`matching.refexpr`, where a Kassenzeichen must prove itself by its check
digit). A bad RF check mostly means the check digits or the padding were mistyped: a slip inside the
Kassenzeichen itself is caught by the Kassenzeichen's check digit.

The print form is cut into groups of four; where the text goes on after the reference (``RF47 0010 0000
0000 13 Grundsteuer``) the reference ends at one of the group boundaries: each is tried, and only an
RF reference for which exactly one of them passes the check is read.
"""

from __future__ import annotations

import polars as pl
from stdnum import iso11649

from matching.config import MatchConfig

FIELDS = ("remittance", "end_to_end_id", "creditor_ref")
#: at most this many characters after RF and the check digits (ISO 11649)
MAX_CONTENT = 21
#: an RF reference: RF, the check digits, then letters, digits and white space (the groups)
_RF = r"(?i)\bRF\s?([0-9]{2})((?:\s?[0-9A-Z])+)"


def _tried(tx: pl.DataFrame) -> pl.DataFrame:
    """transaction_id, field, rf (``RF`` + check digits + content, compact, upper case): every way to end
    each field's first RF reference at a boundary of its groups, up to :data:`MAX_CONTENT` characters."""
    found = pl.concat([
        tx.select("transaction_id", pl.lit(i, pl.UInt8).alias("field"), pl.col(f).str.extract_groups(_RF).alias("m"))
        .unnest("m")
        for i, f in enumerate(FIELDS)
    ]).rename({"1": "check", "2": "content"}).drop_nulls("check")
    groups = found.select(
        "transaction_id", "field", "check", pl.col("content").str.extract_all(r"[0-9A-Za-z]+").alias("g"))
    tries = [
        groups.filter(pl.col("g").list.len() >= k).select(
            "transaction_id", "field", "check",
            pl.col("g").list.slice(0, k).list.join("").str.to_uppercase().alias("content"))
        for k in range(1, MAX_CONTENT + 1)
    ]
    return (
        pl.concat(tries).filter(pl.col("content").str.len_bytes() <= MAX_CONTENT)
        .select("transaction_id", "field", pl.concat_str(pl.lit("RF"), "check", "content").alias("rf"))
    )


def rf_references(tx: pl.DataFrame, cfg: MatchConfig) -> pl.DataFrame:
    """transaction_id, ref: the Kassenzeichen (``digits`` characters) inside the valid RF references of
    ``tx`` (transaction_id and the text fields). Its check digit is not tested here."""
    n = cfg.digits
    schema = {"transaction_id": tx.schema["transaction_id"], "ref": pl.String()}
    some = tx.filter(pl.any_horizontal(pl.col(f).str.contains("(?i)RF").fill_null(False) for f in FIELDS))
    if some.is_empty():
        return pl.DataFrame(schema=schema)
    tried = _tried(some)
    if tried.is_empty():
        return pl.DataFrame(schema=schema)
    # the check digits by python-stdnum, once per distinct candidate (there are few)
    distinct = tried["rf"].unique()
    valid = distinct.filter(pl.Series([iso11649.is_valid(rf) for rf in distinct.to_list()], dtype=pl.Boolean))
    # an RF reference counts where exactly one way of ending it passes (each passes by chance with p = 1/97)
    ok = tried.filter(pl.col("rf").is_in(valid.implode()))
    ok = ok.filter(pl.len().over("transaction_id", "field") == 1)
    content = pl.col("rf").str.slice(4)
    # the content: the Kassenzeichen, or it padded with leading zeros
    width = content.str.len_bytes()
    is_kz = content.str.contains(r"^[0-9]+$") & (width >= n) & (
        content.str.slice(0, (width - n).clip(0)).str.replace_all("0", "", literal=True) == "")
    return ok.filter(is_kz).select("transaction_id", content.str.slice((width - n).clip(0)).alias("ref")).unique()
