"""Matching: incoming payments → allocations to open items, and the rest to the Klärungsliste.

Pure: frames in, frames out, no I/O. Set-based Polars throughout (no Python loop over payments).

>>> # result = match(parse_result.transactions, open_items, load_match_config(None))
>>> # result.allocations, result.unresolved, result.summary["automation_rate"]
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import polars as pl

from matching.allocate import allocate
from matching.classify import PAYMENT, RETURN, classify
from matching.config import MatchConfig, load_match_config
from matching.designate import designate
from matching.returns import reverse_returns
from matching.schema import ALLOCATION_SCHEMA, OPEN_ITEM_SCHEMA, UNRESOLVED_SCHEMA
from matching.suggest import candidates_json, name_suggestions
from matching.summary import summarise
from parsers.schema import assert_schema, conform

__all__ = ["MatchConfig", "MatchResult", "load_match_config", "match"]


@dataclass(slots=True)
class MatchResult:
    """Allocations (ALLOCATION_SCHEMA), unresolved (UNRESOLVED_SCHEMA), and counts for the run report."""

    allocations: pl.DataFrame
    unresolved: pl.DataFrame
    summary: dict[str, Any] = field(default_factory=dict)


def match(
    transactions: pl.DataFrame,
    receivables: pl.DataFrame,
    config: MatchConfig,
    *,
    prior_allocations: pl.DataFrame | None = None,
) -> MatchResult:
    """Match booked credits to open items and reverse direct-debit returns; never book ambiguity.

    ``receivables``: OPEN_ITEM_SCHEMA, ``amount_cents`` = open now (0 for settled items, so a double
    payment is recognised). ``prior_allocations``: ALLOCATION_SCHEMA rows already booked.
    """
    rec = conform(receivables, OPEN_ITEM_SCHEMA).with_columns(
        pl.col("amount_cents").fill_null(0), pl.col("law").fill_null("public"))
    if rec["kz_norm"].null_count():  # only then: a string pass over millions of items costs seconds
        rec = rec.with_columns(pl.col("kz_norm").fill_null(pl.col("kassenzeichen").str.replace_all(r"\D", "")))
    tx = classify(transactions, config)
    pay = tx.filter(pl.col("kind") == PAYMENT)
    book, held, cands, kept = designate(pay, rec, config)
    # from here on only items that a payment designates, suggests or an earlier allocation names
    # are looked up: joins against a few thousand instead of millions of open items
    named = [book.select("receivable_id"), cands.select("receivable_id")]
    base = kept  # holds every item named by book and cands
    if prior_allocations is not None and prior_allocations.height:
        named.append(prior_allocations.select(pl.col("receivable_id").cast(pl.String)))
        base = rec
    rec_all, rec = rec, base.join(pl.concat(named).unique(), on="receivable_id", how="semi")
    alloc = allocate(book, pay, rec, config)
    got = alloc.group_by("transaction_id").agg(pl.col("amount_cents").sum().alias("got"))
    remainder = (
        book.select("transaction_id", pl.col("pay_cents").alias("amount_cents")).unique()
        .join(got, on="transaction_id", how="left")
        .with_columns(pl.col("got").fill_null(0))
        .filter(pl.col("amount_cents") > pl.col("got"))
        .select(
            "transaction_id",
            pl.when(pl.col("got") > 0).then(pl.lit("overpayment")).otherwise(pl.lit("double_payment")).alias("reason"),
            (pl.col("amount_cents") - pl.col("got")).alias("unallocated_cents"),
        )
    )
    if "kassenzeichen" not in alloc.columns:  # designate's book carries it: no join with the items
        alloc = alloc.join(rec.select("receivable_id", "kassenzeichen"), on="receivable_id")
    pool = alloc.select("transaction_id", "receivable_id", "kassenzeichen", "amount_cents")
    if prior_allocations is not None and prior_allocations.height:
        pool = pl.concat([conform(prior_allocations, ALLOCATION_SCHEMA).select(pool.columns), pool])
    rets = tx.filter(pl.col("kind") == RETURN)
    reversals, held_r = reverse_returns(rets, pool, rec, config)
    reversals = reversals.with_columns(pl.lit("dd_return").alias("rule"), pl.lit(1.0).alias("confidence"))
    meta = tx.select("transaction_id", "seq", "bank_ref", "booking_date", "amount_cents")
    allocations = (
        pl.concat([alloc.select(reversals.columns), reversals])
        .join(meta.drop("amount_cents"), on="transaction_id")
        .with_columns(pl.lit("auto").alias("decided_by"))
        .sort(["seq", "receivable_id"])
    )
    allocations = conform(allocations, ALLOCATION_SCHEMA)
    held_all = pl.concat([held, held_r])
    names, left_out = name_suggestions(held, pay, rec_all, config)
    all_cands = pl.concat([cands, names])
    rec = pl.concat([rec, rec_all.join(names.select("receivable_id").unique(), on="receivable_id", how="semi")]).unique(
        "receivable_id")
    unresolved = (
        pl.concat([
            held_all.join(meta, on="transaction_id").with_columns(pl.col("amount_cents").alias("unallocated_cents")),
            remainder.join(meta, on="transaction_id"),
        ], how="diagonal")
        .join(candidates_json(all_cands, rec, config), on="transaction_id", how="left")
        .with_columns(pl.col("candidates").fill_null("[]"))
        .sort(["seq", "reason"])
    )
    unresolved = conform(unresolved, UNRESOLVED_SCHEMA)
    assert_schema(allocations, ALLOCATION_SCHEMA, "matching allocations")
    assert_schema(unresolved, UNRESOLVED_SCHEMA, "matching unresolved")
    summary = summarise(tx, allocations, unresolved)
    summary["name_pairs_left_out"] = left_out
    return MatchResult(allocations, unresolved, summary)
