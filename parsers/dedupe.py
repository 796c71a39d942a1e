"""Overlapping deliveries: a statement read twice (two files, or a file and the ledger) is kept once.

The key is ``statement_key`` (account, number, balances and their dates: :mod:`parsers.ids`), so
two files carrying the same statement match whatever their ``:20:`` or ``MsgId`` say.
"""

from __future__ import annotations

import polars as pl

from parsers.issues import ERROR, WARNING, Issue, money


def _statement_is_keyed() -> pl.Expr:
    """A key identifies a statement only with a statement number or both balances (camt.054 often has neither)."""
    return pl.col("statement_key").is_not_null() & (
        (pl.col("statement_no").fill_null("") != "")
        | (pl.col("opening_cents").is_not_null() & pl.col("closing_cents").is_not_null())
    )


def drop_duplicate_statements(
    statements: pl.DataFrame, transactions: pl.DataFrame, known_statement_keys: frozenset[str]
) -> tuple[pl.DataFrame, pl.DataFrame, list[Issue]]:
    """Drop statements already read from an earlier file of the batch or known to the ledger.

    A copy with the same entries is an overlapping delivery (warning ``statement.duplicate``); a copy
    whose entries differ from the first is an error ``statement.conflict`` (still dropped: the key, and so
    the transaction ids, would collide).
    """
    first = pl.col("source_path").first().over("statement_key")
    marked = statements.with_columns(
        _first=first,
        _first_n=pl.col("n_entries").first().over("statement_key"),
        _first_sum=pl.col("entries_sum_cents").first().over("statement_key"),
        _keyed=_statement_is_keyed(),
    ).with_columns(
        _dup=pl.col("_keyed")
        & (pl.col("statement_key").is_in(list(known_statement_keys)) | (pl.col("source_path") != pl.col("_first")))
    )
    dups = marked.filter("_dup")
    issues = []
    for row in dups.iter_rows(named=True):  # one per dropped statement (few)
        label = row["statement_no"] or row["statement_id"] or "?"
        what = f"statement {label} of account {row['account_iban']} ({row['opening_date']}..{row['closing_date']})"
        if row["_first"] == row["source_path"]:
            issues.append(Issue(row["source_path"], f"statement {label}", WARNING, "statement.duplicate",
                                f"{what} is already in the ledger (imported earlier); this copy is dropped"))
        elif (row["n_entries"], row["entries_sum_cents"]) == (row["_first_n"], row["_first_sum"]):
            issues.append(Issue(row["source_path"], f"statement {label}", WARNING, "statement.duplicate",
                                f"{what} was already read from {row['_first']}; this copy in {row['source_path']} is dropped"))
        else:
            issues.append(Issue(
                row["source_path"], f"statement {label}", ERROR, "statement.conflict",
                f"{what} was already read from {row['_first']} with {row['_first_n']} entries summing "
                f"{money(row['_first_sum'] or 0)}, but this copy has {row['n_entries']} entries summing "
                f"{money(row['entries_sum_cents'] or 0)}; this copy is dropped",
            ))
    if dups.is_empty():
        return statements, transactions, issues
    drop = dups.select("source_path", "statement_key")
    kept_tx = transactions.join(drop, on=["source_path", "statement_key"], how="anti", nulls_equal=True,
                                maintain_order="left")
    return marked.filter(~pl.col("_dup")).select(statements.columns), kept_tx, issues
