"""Judging a matcher's output against a generated set's truth, case by case (docs/MATCHING.md "Measured quality").

Only frames go in and out: the caller parses the statements and runs the matcher (the test
``tests/test_match_generated.py`` and ``benchmarks/match_quality.py`` do), this module joins the
result to ``truth.parquet`` and counts, per case label, how many payments were booked, how many
exactly as the truth says, how many got an allocation the truth does not have ("wrong"), and why the
others were held.
"""

from __future__ import annotations

import polars as pl

#: the per-case table: columns in the order docs/MATCHING.md shows them
TABLE_COLUMNS = ("case", "rows", "decidable", "expected", "booked", "exact", "wrong", "held_as")
_HEADER = ("case", "rows", "decidable", "allocation expected", "booked", "exactly as truth", "wrong", "held as")


def truth_by_transaction(truth: pl.DataFrame, tx: pl.DataFrame) -> pl.DataFrame:
    """Truth rows with the parser's ``transaction_id``: by bank_ref, or inside a camt batch (whose details
    may carry the entry's reference) by entry reference, amount and the Kassenzeichen in the EREF."""
    keys = tx.select("transaction_id", "bank_ref", "amount_cents",
                     pl.col("end_to_end_id").str.slice(0, 12).alias("kz_quoted"))
    unique_refs = keys.filter(pl.len().over("bank_ref") == 1)
    direct = truth.join(unique_refs.select("transaction_id", "bank_ref"), on="bank_ref", how="inner")
    rest = truth.join(direct.select("bank_ref"), on="bank_ref", how="anti")
    batch = rest.join(
        keys.drop("bank_ref").join(keys.select("transaction_id", pl.col("bank_ref").alias("entry_ref")),
                                   on="transaction_id"),
        on=["entry_ref", "amount_cents", "kz_quoted"], how="inner")
    return pl.concat([direct, batch.select(direct.columns)])


def _expected(truth: pl.DataFrame) -> pl.DataFrame:
    return (
        truth.select("transaction_id", "expected").explode("expected").drop_nulls("expected")
        .select("transaction_id", pl.col("expected").struct.field("receivable_id"),
                pl.col("expected").struct.field("amount_cents"))
        .group_by("transaction_id", "receivable_id").agg(pl.col("amount_cents").sum())
    )


def _got(allocations: pl.DataFrame) -> pl.DataFrame:
    return (
        allocations.group_by("transaction_id", "receivable_id").agg(pl.col("amount_cents").sum())
        .filter(pl.col("amount_cents") != 0)
    )


def over_paid_items(allocations: pl.DataFrame, items: pl.DataFrame) -> pl.DataFrame:
    """Items whose positive allocations exceed their open amount: (receivable_id, allocated, open)."""
    return (
        allocations.filter(pl.col("amount_cents") > 0).group_by("receivable_id")
        .agg(pl.col("amount_cents").sum().alias("allocated"))
        .join(items.select("receivable_id", pl.col("amount_cents").alias("open")), on="receivable_id")
        .filter(pl.col("allocated") > pl.col("open"))
    )


def judge(truth: pl.DataFrame, allocations: pl.DataFrame, unresolved: pl.DataFrame) -> pl.DataFrame:
    """One row per truth row (``truth`` carries ``transaction_id``): booked, exact, wrong, reasons held.

    *booked*: some allocation (a reversal counts); *exact*: the allocations are the expected ones, no
    more, no less (an empty truth and no allocation is exact); *wrong*: an allocation the truth does not
    have (another item, or another amount); *held_as*: the unresolved reasons of the payment.
    """
    got, want = _got(allocations), _expected(truth)
    keys = ["transaction_id", "receivable_id", "amount_cents"]
    extra = got.join(want, on=keys, how="anti").group_by("transaction_id").agg(pl.len().alias("n_wrong"))
    missing = want.join(got, on=keys, how="anti").group_by("transaction_id").agg(pl.len().alias("n_missing"))
    booked = got.group_by("transaction_id").agg(pl.len().alias("n_booked"))
    held = unresolved.group_by("transaction_id").agg(pl.col("reason").cast(pl.String).unique().sort().alias("held_as"))
    return (
        truth.join(booked, on="transaction_id", how="left").join(extra, on="transaction_id", how="left")
        .join(missing, on="transaction_id", how="left").join(held, on="transaction_id", how="left")
        .with_columns(pl.col("n_booked", "n_wrong", "n_missing").fill_null(0))
        .with_columns(
            (pl.col("n_booked") > 0).alias("booked"),
            (pl.col("n_wrong") > 0).alias("wrong"),
            ((pl.col("n_wrong") == 0) & (pl.col("n_missing") == 0)).alias("exact"),
            pl.col("held_as").fill_null(pl.lit([], dtype=pl.List(pl.String))),
        )
    )


def per_case(judged: pl.DataFrame) -> pl.DataFrame:
    """The table of docs/MATCHING.md: one row per case (:data:`TABLE_COLUMNS`), sorted by case."""
    return (
        judged.group_by("case").agg(
            pl.len().alias("rows"),
            pl.when(pl.col("decidable").all()).then(pl.lit("yes")).when(~pl.col("decidable").any())
            .then(pl.lit("no")).otherwise(pl.lit("mixed")).alias("decidable"),
            (pl.col("expected").list.len() > 0).sum().alias("expected"),
            pl.col("booked").sum(), pl.col("exact").sum(), pl.col("wrong").sum(),
            pl.col("held_as").explode().drop_nulls().unique().sort().str.join(", ").alias("held_as"),
        )
        .with_columns(pl.col("rows", "expected", "booked", "exact", "wrong").cast(pl.Int64))
        .sort("case").select(TABLE_COLUMNS)
    )


def markdown(table: pl.DataFrame) -> str:
    """The per-case table as a Markdown table in the format of docs/MATCHING.md."""
    lines = ["| " + " | ".join(_HEADER) + " |", "|---|---:|---|---:|---:|---:|---:|---|"]
    for row in table.iter_rows(named=True):
        lines.append("| " + " | ".join(str(row[c]) if c != "held_as" else (row[c] or "–") for c in TABLE_COLUMNS) + " |")
    return "\n".join(lines)


def totals(judged: pl.DataFrame) -> dict[str, int]:
    """The figures under the table: decidable payments to allocate, of them booked and exact; wrong ones."""
    to_book = judged.filter(pl.col("decidable") & (pl.col("expected").list.len() > 0))
    return {
        "rows": judged.height,
        "decidable_to_book": to_book.height,
        "decidable_booked": int(to_book["booked"].sum()),
        "decidable_exact": int(to_book["exact"].sum()),
        "wrong": int(judged["wrong"].sum()),
        "held_but_booked": int(judged.filter(pl.col("expected").list.len() == 0)["booked"].sum()),
    }
