"""Findings about camt entries, as :class:`Issue` records: each check is a vectorised filter.

Only the (few) rows a check selects are turned into Python objects, so a clean million-entry file costs
one filter per check. Locators are XPaths with positions, e.g. ``/Document/BkToCstmrStmt/Stmt[1]/Ntry[17]/Amt``.
The balance check is not here: the ingest layer does it from ``statements.balance_ok``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import polars as pl

from parsers.camt_values import amount_problem_expr
from parsers.issues import ERROR, INFO, MAX_PER_CHECK, WARNING, Issue, money, shown

Row = dict[str, Any]

_AMOUNT_WORDS = {
    "missing": ("missing", "expected an amount, found none"),
    "bad_amount": ("bad_amount", "expected a decimal like 1234.56, got {v!r}"),
    "not_cents": ("amount_not_cents", "{v!r} is not a whole number of cents; not rounded, so the entry has no amount"),
}


def _emit(out: list[Issue], frame: pl.DataFrame, condition: pl.Expr, columns: list[str],
          make: Callable[[Row], tuple[str, str, str, str]], source: str) -> None:
    """One issue per selected row, at most :data:`MAX_PER_CHECK`, then one issue counting the rest.

    Info issues carry no raw text (the row has it), so a big file of harmless findings stays small.
    """
    hits = frame.filter(condition)
    if hits.height == 0:
        return
    for row in hits.head(MAX_PER_CHECK).select(["source_xpath", "raw", *columns]).iter_rows(named=True):
        suffix, severity, code, message = make(row)
        raw = "" if severity == INFO else row["raw"] or ""
        out.append(Issue(source, row["source_xpath"] + suffix, severity, code, message, raw))
    if hits.height > MAX_PER_CHECK:
        last = out[-1]
        out.append(Issue(source, "", last.severity, last.code,
                         f"{hits.height - MAX_PER_CHECK:,} more entries like the ones above (not listed one by one)"))


def entry_issues(rows: pl.DataFrame, source: str) -> list[Issue]:
    """Every finding about the entries and details in ``rows`` (output of ``camt_rows.canonical_rows``)."""
    out: list[Issue] = []
    first = pl.col("detail_index") == 0
    e_problem = amount_problem_expr(pl.col("e_amount"))
    df = rows.with_columns(e_problem.alias("_e_problem"), amount_problem_expr(pl.col("amount_text")).alias("_d_problem"))

    def amount(row: Row) -> tuple[str, str, str, str]:
        code, text = _AMOUNT_WORDS[row["_e_problem"]]
        return "/Amt", ERROR, f"camt.{code}", "entry amount: " + text.format(v=row["e_amount"])

    _emit(out, df, first & pl.col("_e_problem").is_not_null(), ["_e_problem", "e_amount"], amount, source)
    _emit(out, df, first & ~pl.col("e_cdi").is_in(["CRDT", "DBIT"]).fill_null(False), ["e_cdi"],
          lambda r: ("/CdtDbtInd", ERROR, "camt.bad_cdtdbtind",
                     f"expected CdtDbtInd CRDT or DBIT, got {shown(r['e_cdi'])}; the entry has no signed amount"),
          source)
    _emit(out, df, first & pl.col("e_status").is_null(), ["source_format"],
          lambda r: ("/Sts", INFO if r["source_format"] == "camt.053" else WARNING, "camt.missing_status",
                     "entry has no Sts; taken as BOOK"), source)
    _emit(out, df, first & ~pl.col("status").is_in(["BOOK", "PDNG", "INFO", "FUTR"]), ["status"],
          lambda r: ("/Sts", WARNING, "camt.unknown_status",
                     f"expected Sts BOOK, PDNG, INFO or FUTR, got {shown(r['status'])}; not booked"), source)
    _emit(out, df, first & ~pl.col("e_has_booking"), [],
          lambda r: ("/BookgDt", WARNING, "camt.missing_booking_date", "entry has no BookgDt; booking_date left empty"),
          source)
    for name, column, date_col in (("BookgDt", "e_booking", "booking_date"), ("ValDt", "e_value", "value_date")):
        _emit(out, df, first & pl.col(column).is_not_null() & pl.col(date_col).is_null(), [column],
              _bad_date(name, column), source)
    _emit(out, df, pl.col("e_reversal").is_not_null() & ~pl.col("e_reversal").str.to_lowercase().is_in(
        ["true", "false", "1", "0"]) & first, ["e_reversal"],
          lambda r: ("/RvslInd", WARNING, "camt.bad_reversal", f"expected RvslInd true/false, got {shown(r['e_reversal'])}"),
          source)
    _emit(out, df, first & (pl.col("junk").str.len_bytes() > 0), ["junk"],
          lambda r: ("", WARNING, "camt.unexpected_element",
                     f"expected only Ntry between entries, found {r['junk'][:200]!r}; ignored"), source)
    detail = pl.concat_str([pl.lit("/NtryDtls/TxDtls["), (pl.col("detail_index") + 1).cast(pl.String), pl.lit("]")])
    df = df.with_columns(detail.alias("_detail"))
    _emit(out, df, (pl.col("n_tx") > 0) & pl.col("_d_problem").is_in(["bad_amount", "not_cents"]),
          ["_detail", "_d_problem", "amount_text"],
          lambda r: (r["_detail"] + "/Amt", ERROR, f"camt.detail_{_AMOUNT_WORDS[r['_d_problem']][0]}",
                     "detail amount: " + _AMOUNT_WORDS[r["_d_problem"]][1].format(v=r["amount_text"])), source)
    _emit(out, df, (pl.col("n_tx") > 1) & pl.col("amount_text").is_null(), ["_detail"],
          lambda r: (r["_detail"], WARNING, "camt.detail_without_amount",
                     "batch detail without AmtDtls/TxAmt or Amt; amount left empty"), source)
    _emit(out, df, first & pl.col("e_has_batch") & (pl.col("n_tx") > 0) & (pl.col("e_nb_of_txs") != pl.col("n_tx")),
          ["e_nb_of_txs", "n_tx"],
          lambda r: ("/NtryDtls", WARNING, "camt.batch_count_mismatch",
                     f"Btch/NbOfTxs says {r['e_nb_of_txs']} transactions, but {r['n_tx']} TxDtls are delivered"),
          source)
    _emit(out, df, first & pl.col("e_has_batch") & (pl.col("n_tx") == 0), ["e_nb_of_txs"],
          lambda r: ("/NtryDtls", INFO, "camt.batch_without_details",
                     f"batch of {r['e_nb_of_txs']} transactions delivered without TxDtls; one row for the entry"),
          source)
    _emit(out, df, (pl.col("d_charges_bad") > 0) | ((pl.col("e_charges_bad") > 0) & first), [],
          lambda r: ("/Chrgs", WARNING, "camt.bad_charges", "a Chrgs amount is not a decimal in whole cents; left out"),
          source)
    _emit(out, df, first & pl.col("raw_capped"), ["raw_chars"],
          lambda r: ("", INFO, "camt.raw_capped",
                     f"entry XML has {r['raw_chars']} characters; raw keeps the first 20000"), source)
    out.extend(_batch_sums(df, source))
    return out


def _bad_date(name: str, column: str) -> Callable[[Row], tuple[str, str, str, str]]:
    return lambda r: (f"/{name}", ERROR, "camt.bad_date", f"{name}: expected an ISO date (Dt or DtTm), got {shown(r[column])}")


def _batch_sums(df: pl.DataFrame, source: str) -> list[Issue]:
    """Batch entries whose details (all with amounts, one currency) do not add up to the entry amount."""
    sums = (
        df.filter(pl.col("n_tx") > 1)
        .group_by("stmt", "entry_index", maintain_order=True)
        .agg(
            pl.col("amount_cents").sum().alias("details"),
            pl.col("amount_cents").null_count().alias("missing"),
            pl.col("currency").n_unique().alias("currencies"),
            (pl.col("currency").first() == pl.col("e_currency").first()).alias("same"),
            pl.col("entry_amount_cents").first().alias("entry"),
            pl.col("source_xpath").first(),
        )
        .filter((pl.col("missing") == 0) & (pl.col("currencies") == 1) & pl.col("same") & (pl.col("details") != pl.col("entry")))
    )
    return [
        Issue(source, r["source_xpath"] + "/NtryDtls", WARNING, "camt.batch_sum_mismatch",
              f"entry amount {money(r['entry'])} but its details add up to {money(r['details'])}")
        for r in sums.iter_rows(named=True)
    ]
