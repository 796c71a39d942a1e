"""The Klärungsliste as events: only changes are written, so a repeated night adds nothing.

The ``unresolved`` table is append-only. A run writes a row for a payment when it first becomes
unresolved, when its reason/remainder/candidates change, when it is parked, and a ``resolved`` row when
it leaves the list (matched later against a new open-items export, or decided by a clerk).
"""

from __future__ import annotations

from datetime import date

import polars as pl

from claims.vocab import ItemState
from ledger.tables import UNRESOLVED
from parsers.schema import conform

_SAME = ("reason", "unallocated_cents", "candidates")


def unresolved_events(previous: pl.DataFrame, matched: pl.DataFrame, *, rematched: pl.Series,
                      tenant: str, run_id: str, as_of: date) -> pl.DataFrame:
    """Events for this run's matcher output.

    ``previous``: the current Klärungsliste (UNRESOLVED rows); ``matched``: the matcher's unresolved
    frame (UNRESOLVED_SCHEMA) for every payment matched in this run; ``rematched``: transaction ids of
    earlier unresolved payments that were matched again.
    """
    extra = [pl.lit(tenant).alias("tenant"), pl.lit(run_id).alias("run_id"), pl.lit(as_of).alias("as_of")]
    prev = previous.select("transaction_id", *[pl.col(c).alias(f"_prev_{c}") for c in _SAME],
                           pl.col("state").alias("_prev_state"))
    now = matched.join(prev, on="transaction_id", how="left")
    changed = now.filter(
        pl.col("_prev_state").is_null()
        | (pl.col("_prev_state") != ItemState.OPEN)
        | pl.any_horizontal([pl.col(c).ne_missing(pl.col(f"_prev_{c}")) for c in _SAME])
    ).with_columns(pl.lit(ItemState.OPEN).alias("state"), *extra)
    gone = (
        previous.filter(pl.col("transaction_id").is_in(rematched.implode())
                        & ~pl.col("transaction_id").is_in(matched["transaction_id"].implode()))
        .with_columns(pl.lit(0, dtype=pl.Int64).alias("unallocated_cents"),
                      pl.lit(ItemState.RESOLVED).alias("state"), *extra)
    )
    return pl.concat([conform(changed, UNRESOLVED), conform(gone, UNRESOLVED)], how="vertical")


def apply_events(previous: pl.DataFrame, events: pl.DataFrame) -> pl.DataFrame:
    """The Klärungsliste after this run: ``previous`` with ``events`` laid over it, resolved ones gone."""
    merged = pl.concat([conform(previous, UNRESOLVED), conform(events, UNRESOLVED)], how="vertical")
    return (
        merged.unique(subset="transaction_id", keep="last", maintain_order=True)
        .filter(pl.col("state") != ItemState.RESOLVED)
        .sort("booking_date", "transaction_id")
    )
