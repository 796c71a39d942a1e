"""Allocation of booked payments to their designated items, carrying open amounts across payments.

Each designated item set (``set_key``) is a tape: its items laid end to end in allocation order
(payer's designation = the set; inside it § 225 AO for public law, § 367 BGB for private law, each
class by due date). The set's payments, in processing order, fill the tape one after another: payment
``p`` covers ``[C(p-1), C(p))`` of the cumulative payment sums, item ``k`` occupies
``[D(k-1), D(k))`` of the cumulative open amounts, and ``p`` pays ``k`` their overlap. That is exactly
the sequential "pay the next open item in order" — as two cumulative sums and one join, with no loop.
"""

from __future__ import annotations

import polars as pl

from claims.vocab import Law, Rule
from matching.config import MAIN, MatchConfig
from matching.rows import fetch, running_sum


def class_rank(cfg: MatchConfig) -> pl.Expr:
    """The position of an item's claim class in its law's order (unlisted claim types are ``MAIN``)."""
    def rank(order: tuple[str, ...]) -> pl.Expr:
        main = order.index(MAIN) if MAIN in order else len(order)
        return pl.col("claim_type").replace_strict(list(order), list(range(len(order))), default=main, return_dtype=pl.Int32)

    return pl.when(pl.col("law") == Law.PRIVATE).then(rank(cfg.private)).otherwise(rank(cfg.public))


def allocate(book: pl.DataFrame, rec: pl.DataFrame, cfg: MatchConfig) -> pl.DataFrame:
    """Allocation rows (transaction_id, receivable_id, amount_cents, rule, confidence, kassenzeichen) with
    amount > 0, from the ``book`` of :func:`matching.designate.designate` (``transaction_id`` the payment's
    processing position; ``single`` marks a set of one item named by one payment; ``pay_cents``, ``open``,
    receivable_id, kassenzeichen; ``_r`` the item's row in the export ``rec``, whose claim_type, law and
    due_date give the order inside a set). A payment's rows are in receivable_id order and next to each
    other."""
    kz = ["kassenzeichen"]
    # most sets are one payment for one item: the overlap is min(payment, open); no tape needed
    simple = book.filter(pl.col("single")).select(
        "transaction_id", "receivable_id", pl.min_horizontal("pay_cents", "open").alias("amount_cents"), "rule",
        "confidence", *kz,
    ).filter(pl.col("amount_cents") > 0)
    tape = _tape(book.filter(~pl.col("single")), rec, cfg, kz).sort(["transaction_id", "receivable_id"])
    return pl.concat([simple, tape])


def _tape(book: pl.DataFrame, rec: pl.DataFrame, cfg: MatchConfig, kz: list[str]) -> pl.DataFrame:
    """The general case: several payments and/or several items per designated set."""
    # the frames are ordered by their join keys first: Polars joins sorted keys along the order; the tapes
    # lie one after another, so a sum along a tape is a running sum within a run of its set key, and a
    # set's totals are one group-by along the order (no hashing per row, as in a window ``over`` the set)
    # (a set's items are the same in each of its payments' rows; the order's columns are read from the
    # export in row order, for these items only)
    items = book.select("set_key", "_r", "receivable_id", *kz, "open").unique(["set_key", "_r"]).sort("_r")
    items = (
        fetch(items, rec, "_r", ("claim_type", "law", "due_date"))
        .with_columns(class_rank(cfg).alias("rank"))
        .sort(["set_key", "rank", "due_date", "receivable_id"], nulls_last=True)
        .with_columns(running_sum("open", "set_key").alias("d_end"))
    )
    sets = items.group_by("set_key", maintain_order=True).agg(
        pl.col("open").sum().alias("d_total"),
        (pl.col("open") > 0).sum().alias("n_open"),
        pl.when(pl.col("law").n_unique() > 1).then(pl.lit(Rule.ORDER_MIXED))
        .when(pl.col("law").first() == Law.PRIVATE).then(pl.lit(cfg.order_rule(Law.PRIVATE)))
        .otherwise(pl.lit(cfg.order_rule(Law.PUBLIC))).alias("order_rule"),
    )
    items = items.join(sets, on="set_key", maintain_order="left").with_columns((pl.col("d_end") - pl.col("open")).alias("d_start"))
    # a payment's number is its processing position (``seq``); ``book`` carries its amount, rule and confidence
    pays = (
        book.select("set_key", "transaction_id", pl.col("pay_cents").alias("amount_cents"), "rule", "confidence").unique()
        .sort(["set_key", "transaction_id"])
        .with_columns(running_sum("amount_cents", "set_key").alias("c_end"))
        .with_columns((pl.col("c_end") - pl.col("amount_cents")).alias("c_start"))
    )
    overlap = pl.min_horizontal("c_end", "d_end") - pl.max_horizontal("c_start", "d_start")
    uses_order = (pl.col("n_open") > 1) & (pl.col("c_end") < pl.col("d_total"))
    # a set key stands for exactly its items, so each payment of the set meets each of them
    return (
        pays.join(items, on="set_key")
        .with_columns(overlap.alias("alloc"))
        .filter(pl.col("alloc") > 0)
        .select(
            "transaction_id", "receivable_id", pl.col("alloc").alias("amount_cents"),
            # (a designated part keeps its rule: the payer said what it pays; the order applies inside)
            pl.when(uses_order & (pl.col("rule") != Rule.PAYER_DESIGNATION)).then(pl.col("order_rule"))
            .otherwise(pl.col("rule")).alias("rule"),
            "confidence", *kz,
        )
    )
