"""Direct-debit returns (GVC 109 / ``RtrInf``): reverse the earlier allocation and reopen the item.

A return is a debit that quotes the collection's Kassenzeichen (EREF). It reverses the one earlier
payment (from ``prior_allocations`` or this run) that allocated to that Kassenzeichen exactly the
returned amount (or the bank's original amount, when a return fee was added). Reversal rows are
negative allocations with rule ``dd_return``; an item is never reversed below zero. No unique original,
or an original already reversed → unresolved (``return_unmatched`` / ``return_duplicate``).
"""

from __future__ import annotations

import polars as pl

from claims.vocab import UnresolvedReason
from matching.config import MatchConfig
from matching.refexpr import reference_candidates
from parsers.validity import digits


def reverse_returns(
    rets: pl.DataFrame, pool: pl.DataFrame, rec: pl.DataFrame, cfg: MatchConfig
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """``(reversals, held)``: reversal rows (transaction_id, receivable_id, kassenzeichen, amount_cents)
    and held returns (transaction_id, reason). ``pool``: earlier allocations (ALLOCATION_SCHEMA columns)."""
    key = rets.schema["transaction_id"]
    held_schema: dict[str, pl.DataType] = {"transaction_id": key, "reason": pl.String()}
    rev_schema: dict[str, pl.DataType] = {"transaction_id": key, "receivable_id": pl.String(), "kassenzeichen": pl.String(),
                                          "amount_cents": pl.Int64()}
    if rets.is_empty():
        return pl.DataFrame(schema=rev_schema), pl.DataFrame(schema=held_schema)
    refs = reference_candidates(rets, cfg).filter(pl.col("valid")).select("transaction_id", pl.col("ref").alias("kz_norm")).unique()
    # only the earlier payments that allocated to a quoted Kassenzeichen matter (with all their rows: their
    # total), and the items they paid (with all their rows: the net). A row's Kassenzeichen is the item's
    # as it is now, else the one the row was written with; rows are found by either before the few left
    # are joined with the items (a pool is every allocation of the run and before: a million rows)
    wanted = refs["kz_norm"].unique().implode()
    quoted = rec.filter(pl.col("kz_norm").is_in(wanted))["receivable_id"].implode()
    pool = pool.with_columns(digits(pl.col("kassenzeichen")).alias("kz_written"))
    hit = pool.filter(pl.col("receivable_id").is_in(quoted) | pl.col("kz_written").is_in(wanted))
    theirs = pool.filter(pl.col("transaction_id").is_in(hit["transaction_id"].unique().implode()))
    net = (
        pool.filter(pl.col("receivable_id").is_in(theirs["receivable_id"].unique().implode()))
        .group_by("receivable_id").agg(pl.col("amount_cents").sum().alias("net"))
    )
    theirs = (
        theirs.select(pl.col("transaction_id").alias("orig"), "receivable_id", "kassenzeichen", "amount_cents", "kz_written")
        .join(rec.select("receivable_id", pl.col("kz_norm").alias("kz_rec")), on="receivable_id", how="left")
        .with_columns(pl.coalesce("kz_rec", "kz_written").alias("kz_norm"))
    )
    positive = theirs.filter(pl.col("amount_cents") > 0)
    totals = positive.group_by("orig").agg(pl.col("amount_cents").sum().alias("total"))
    r = rets.select("transaction_id", "seq", pl.col("amount_cents").abs().alias("back"), "original_amount_cents")
    pairs = (
        refs.join(positive.select("orig", "kz_norm").unique(), on="kz_norm")
        .select("transaction_id", "orig").unique()
        .join(totals, on="orig")
        .join(r, on="transaction_id")
        .filter((pl.col("total") == pl.col("back")) | (pl.col("total") == pl.col("original_amount_cents")))
        .filter(pl.len().over("transaction_id") == 1)
        .with_columns(pl.col("seq").rank("ordinal").over("orig").alias("nth"))
    )
    rows = (
        pairs.filter(pl.col("nth") == 1)
        .join(positive.select("orig", "receivable_id", "kassenzeichen", "amount_cents"), on="orig")
        .join(net, on="receivable_id")
        .with_columns((-pl.min_horizontal("amount_cents", "net").clip(lower_bound=0)).alias("amount_cents"))
    )
    spent = rows.group_by("transaction_id").agg((pl.col("amount_cents") == 0).all().alias("spent"))
    reversals = rows.filter(pl.col("amount_cents") < 0).select(list(rev_schema))
    dup = pl.concat([
        pairs.filter(pl.col("nth") > 1).select("transaction_id"),
        spent.filter(pl.col("spent")).select("transaction_id"),
    ])
    held = pl.concat([
        dup.with_columns(pl.lit(UnresolvedReason.RETURN_DUPLICATE).alias("reason")),
        rets.join(pairs, on="transaction_id", how="anti").select("transaction_id", pl.lit(UnresolvedReason.RETURN_UNMATCHED).alias("reason")),
    ])
    return reversals, held
