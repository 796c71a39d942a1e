"""Statements read more than once inside one file, and statements without balances told apart.

Runs before :mod:`parsers.overlap` (which compares statements *between* files and with the ledger):

* :func:`number_copies` numbers the copies of a ``(source_path, statement_key)`` — the same statement
  twice in one file, or two interim reports with the same account and ``:28C:`` — on the statement
  rows and on their transaction rows. A copy's transaction rows start again at entry 0, detail 0.
* :func:`fingerprint_unbalanced` completes the key of each copy without balances (MT942, camt.054)
  with a hash of its entries, so two different interim reports keep apart.
* :func:`drop_copies_in_file` keeps one copy of a statement repeated inside a file
  (``statement.duplicate``); copies that differ are held back whole (``statement.conflict``).
"""

from __future__ import annotations

import polars as pl

from parsers.ids import short_hash, with_transaction_ids
from parsers.issues import ERROR, WARNING, Issue, label

#: Marks a key completed by :func:`fingerprint_unbalanced` (it identifies the statement's content).
FINGERPRINT = "|fp:"
#: What an entry is, for comparing two copies of a statement.
CONTENT = ("entry_index", "detail_index", "booking_date", "value_date", "amount_cents", "status", "bank_ref",
           "end_to_end_id", "remittance")
#: The internal column numbering the copies (dropped before the frames leave the parsers).
COPY = "_copy"
_UNIT = ["source_path", "statement_key", COPY]


def number_copies(statements: pl.DataFrame, transactions: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Add :data:`COPY` (0, 1, …) per ``(source_path, statement_key)`` to both frames (rows in file order)."""
    group = ["source_path", "statement_key"]
    st = statements.with_columns(pl.int_range(pl.len(), dtype=pl.Int32).over(group).alias(COPY))
    starts = ((pl.col("entry_index") == 0) & (pl.col("detail_index") == 0)).cast(pl.Int32)
    tx = transactions.with_columns((starts.cum_sum().over(group) - 1).clip(lower_bound=0).alias(COPY))
    return st, tx


def _content_hashes(transactions: pl.DataFrame, units: pl.DataFrame) -> pl.DataFrame:
    """``units`` (``source_path, statement_key, _copy``) with ``_content``: the text of their entries."""
    rows = transactions.join(units, on=_UNIT, how="semi").sort(*_UNIT, "entry_index", "detail_index")
    content = rows.group_by(*_UNIT, maintain_order=True).agg(
        pl.concat_str([pl.col(c).cast(pl.String).fill_null("") for c in CONTENT], separator="\x1f").str.join("\x1e")
        .alias("_content")
    )
    return units.join(content, on=_UNIT, how="left").with_columns(pl.col("_content").fill_null(""))


def fingerprint_unbalanced(statements: pl.DataFrame, transactions: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Complete the key of statements without balances (MT942, camt.054) with a hash of their entries.

    Account and number alone do not tell two interim reports apart (many banks send ``:28C:0`` or the
    same number for every MT942 of a day), so without this two different reports would share a key and
    their transaction ids, and the second would be dropped as a "duplicate". The same report delivered
    twice still gets the same key. Transaction ids of those statements are recomputed from the new key.
    Both frames carry :data:`COPY` (:func:`number_copies`).
    """
    unbalanced = statements.filter(
        pl.col("statement_key").is_not_null() & pl.col("opening_cents").is_null() & pl.col("closing_cents").is_null()
    ).select(_UNIT)
    if unbalanced.is_empty():
        return statements, transactions
    keys = _content_hashes(transactions, unbalanced)
    new_key = [  # one hash per statement (few)
        f"{k}{FINGERPRINT}{short_hash(c)}" for k, c in zip(keys["statement_key"], keys["_content"], strict=True)
    ]
    mapping = keys.select(_UNIT).with_columns(pl.Series("_new_key", new_key, pl.String()))

    def rekey(frame: pl.DataFrame) -> pl.DataFrame:
        return (
            frame.join(mapping, on=_UNIT, how="left", maintain_order="left")
            .with_columns(pl.coalesce("_new_key", "statement_key").alias("statement_key"))
            .drop("_new_key")
        )

    st, tx = number_copies(rekey(statements).drop(COPY), rekey(transactions).drop(COPY))
    return st, with_transaction_ids(tx).select(tx.columns)


def _label(row: dict[str, object]) -> str:
    return (f"statement {label(row['statement_no'] or row['statement_id'])} of account {label(row['account_iban'])} "
            f"({row['opening_date'] or '?'}..{row['closing_date'] or '?'})")


def drop_copies_in_file(statements: pl.DataFrame, transactions: pl.DataFrame
                        ) -> tuple[pl.DataFrame, pl.DataFrame, list[Issue]]:
    """Keep the first copy of a statement repeated inside one file; hold back copies that differ.

    Identical copies: the later ones are dropped (``statement.duplicate``, warning). Copies with the
    same key but other entries: which one the bank meant is for a person to decide, so every copy is
    dropped (``statement.conflict``, error). Returns the frames without :data:`COPY`.
    """
    repeated = statements.filter(pl.col(COPY).max().over("source_path", "statement_key") > 0)
    if repeated.is_empty():
        return statements.drop(COPY), transactions.drop(COPY), []
    hashed = _content_hashes(transactions, repeated.select(_UNIT))
    verdict = repeated.join(hashed, on=_UNIT, how="left").with_columns(
        _same=(pl.col("_content").n_unique().over("source_path", "statement_key") == 1)
        & (pl.struct("n_entries", "entries_sum_cents", "n_details").n_unique().over("source_path", "statement_key")
           == 1)
    )
    issues: list[Issue] = []
    for row in verdict.filter(pl.col(COPY) > 0).iter_rows(named=True):  # one per repeated copy (few)
        where = f"statement {label(row['statement_no'] or row['statement_id'])} (copy {row[COPY] + 1} in this file)"
        if row["_same"]:
            issues.append(Issue(row["source_path"], where, WARNING, "statement.duplicate",
                                f"{_label(row)} stands in this file more than once; the repeated copy is dropped"))
        else:
            issues.append(Issue(row["source_path"], where, ERROR, "statement.conflict",
                                f"{_label(row)} stands in this file more than once with different entries; "
                                "no copy is booked (a person must decide which one the bank meant)"))
    drop = verdict.filter((pl.col(COPY) > 0) | ~pl.col("_same")).select(_UNIT)
    st = statements.join(drop, on=_UNIT, how="anti", nulls_equal=True, maintain_order="left").drop(COPY)
    tx = transactions.join(drop, on=_UNIT, how="anti", nulls_equal=True, maintain_order="left").drop(COPY)
    return st, tx, issues
