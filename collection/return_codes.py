"""The MT940 return reason (``?34`` Textschlüsselergänzung, 9xx) as its ISO ExternalReturnReason code.

A camt return names its reason by the ISO code (``RtrInf/Rsn/Cd``: AC04, MS03 …); an MT940 return
(GVC 108/109 for direct debits, 159/160 for credit transfers) gives a three-digit number in ``?34``
instead. Everything downstream — the return actions of ``[collection] return_actions``, the collection
record's ``reason_code``, the payout returns — speaks ISO, so the nightly run turns the number into the
code first (:func:`iso_reason_expr`).

The DK's own table (DFÜ-Abkommen Anlage 3, and the banks' brochures "SEPA-Rückgabegründe und
entsprechende numerische Textschlüsselergänzungen") could not be read for this release (DOMAIN.md §3.4
says so), so it is **configuration**, not code: ``collection/return_codes.csv`` (package data; column
``confirmed`` says which rows a source confirms) is laid under ``[collection] mt940_return_codes`` of the
tenant (``{"912" = "MD06"}``; a tenant row wins). A number in neither stays as it is: the return is still
matched and reverses its collection or payout, and its reason's action is ``none`` (reopen only) — never a
mandate blocked on a guess.
"""

from __future__ import annotations

import csv
from collections.abc import Mapping
from importlib.resources import files

import polars as pl

#: The columns of ``return_codes.csv``.
TABLE_COLUMNS = ("text_key_ext", "iso_code", "meaning", "confirmed")


def default_table() -> dict[str, str]:
    """``?34`` number → ISO code, from the package's ``return_codes.csv``."""
    text = files("collection").joinpath("return_codes.csv").read_text(encoding="utf-8")
    rows = list(csv.DictReader(text.splitlines()))
    if rows and tuple(rows[0]) != TABLE_COLUMNS:
        raise ValueError(f"collection/return_codes.csv: columns must be {TABLE_COLUMNS}, got {tuple(rows[0])}")
    return {r["text_key_ext"].strip(): r["iso_code"].strip().upper() for r in rows}


def return_code_table(overrides: Mapping[str, str] | None = None) -> dict[str, str]:
    """The package table with the tenant's ``[collection] mt940_return_codes`` laid over it."""
    return {**default_table(), **{str(k).strip(): str(v).strip().upper() for k, v in (overrides or {}).items()}}


def iso_reason_expr(column: str, table: Mapping[str, str]) -> pl.Expr:
    """``column`` (a return reason as the parser read it) with a ``?34`` number of ``table`` replaced by
    its ISO code; anything else stripped and upper-cased, unchanged otherwise (null stays null)."""
    code = pl.col(column).str.strip_chars().str.to_uppercase()
    if not table:
        return code.alias(column)
    return code.replace(dict(table)).alias(column)


__all__ = ["TABLE_COLUMNS", "default_table", "iso_reason_expr", "return_code_table"]
