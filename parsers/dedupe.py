"""Overlapping deliveries: a statement read twice (two files, or a file and the ledger) is kept once.

The key is ``statement_key`` (account, number, balances and their dates: :mod:`parsers.ids`), so
two files carrying the same statement match whatever their ``:20:`` or ``MsgId`` say.
"""

from __future__ import annotations

import polars as pl

from parsers.ids import short_hash, with_transaction_ids
from parsers.issues import ERROR, WARNING, Issue, money

#: Marks a key completed by :func:`fingerprint_unbalanced` (it identifies the statement's content).
FINGERPRINT = "|fp:"
_CONTENT = ("entry_index", "detail_index", "booking_date", "value_date", "amount_cents", "status", "bank_ref",
            "end_to_end_id", "remittance")


def fingerprint_unbalanced(statements: pl.DataFrame, transactions: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Complete the key of statements without balances (MT942, camt.054) with a hash of their entries.

    Account and number alone do not tell two interim reports apart (many banks send ``:28C:0`` or the
    same number for every MT942 of a day), so without this two different reports would share a key and
    their transaction ids, and the second would be dropped as a "duplicate". The same report delivered
    twice still gets the same key. Transaction ids of those statements are recomputed from the new key.
    """
    unbalanced = statements.filter(
        pl.col("statement_key").is_not_null() & pl.col("opening_cents").is_null() & pl.col("closing_cents").is_null()
    ).select("source_path", "statement_key")
    if unbalanced.is_empty():
        return statements, transactions
    rows = transactions.join(unbalanced, on=["source_path", "statement_key"], how="semi").sort(
        "source_path", "statement_key", "entry_index", "detail_index"
    )
    content = rows.group_by("source_path", "statement_key", maintain_order=True).agg(
        pl.concat_str([pl.col(c).cast(pl.String).fill_null("") for c in _CONTENT], separator="\x1f").str.join("\x1e")
        .alias("_content")
    )
    keys = unbalanced.join(content, on=["source_path", "statement_key"], how="left")
    new_key = [  # one hash per statement (few)
        f"{k}{FINGERPRINT}{short_hash(c or '')}" for k, c in zip(keys["statement_key"], keys["_content"], strict=True)
    ]
    mapping = keys.select("source_path", "statement_key").with_columns(pl.Series("_new_key", new_key, pl.String()))

    def rekey(frame: pl.DataFrame) -> pl.DataFrame:
        return (
            frame.join(mapping, on=["source_path", "statement_key"], how="left", maintain_order="left")
            .with_columns(pl.coalesce("_new_key", "statement_key").alias("statement_key"))
            .drop("_new_key")
        )

    return rekey(statements), with_transaction_ids(rekey(transactions)).select(transactions.columns)


def _statement_is_keyed() -> pl.Expr:
    """A key identifies a statement with a statement number, both balances, or a content fingerprint."""
    return pl.col("statement_key").is_not_null() & (
        (pl.col("statement_no").fill_null("") != "")
        | (pl.col("opening_cents").is_not_null() & pl.col("closing_cents").is_not_null())
        | pl.col("statement_key").str.contains(FINGERPRINT, literal=True)
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
