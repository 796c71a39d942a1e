"""The run's counts: what was skipped and why, what was booked by which rule, what is left."""

from __future__ import annotations

from typing import Any

import polars as pl

from matching.classify import PAYMENT, RETURN


def _counts(df: pl.DataFrame, col: str) -> dict[str, int]:
    return {str(k): int(v) for k, v in df.group_by(col).len().sort(col).iter_rows()}


def summarise(tx: pl.DataFrame, allocations: pl.DataFrame, unresolved: pl.DataFrame) -> dict[str, Any]:
    """Counts, cents, automation rate (payments fully booked / payments) and per-rule figures.

    (The last step of a run, waited for: one group-by of the bank rows by kind, and the allocations read
    as two columns, not filtered as frames.)"""
    kinds = {str(k): (int(n), int(c or 0)) for k, n, c in
             tx.group_by("kind").agg(pl.len(), pl.col("amount_cents").sum()).sort("kind").iter_rows()}
    n_pay, payments_cents = kinds.pop(PAYMENT, (0, 0))
    n_ret = kinds.pop(RETURN, (0, 0))[0]
    amount = allocations["amount_cents"]
    booked_ids = allocations["transaction_id"].filter(amount > 0).unique()
    partly = int(booked_ids.is_in(unresolved["transaction_id"].unique().implode()).sum())
    full = booked_ids.len() - partly
    per_rule = {
        str(rule): {"allocations": int(n), "cents": int(c)}
        for rule, n, c in allocations.group_by("rule").agg(pl.len(), pl.col("amount_cents").sum()).sort("rule").iter_rows()
    }
    return {
        "rows": tx.height,
        "skipped": {k: n for k, (n, _) in kinds.items()},
        "payments": n_pay,
        "payments_cents": payments_cents,
        "returns": n_ret,
        "allocated_fully": full,
        "allocated_partly": partly,
        "allocated_cents": int(amount.filter(amount > 0).sum() or 0),
        "reversed_cents": int(-(amount.filter(amount < 0).sum() or 0)),
        "unresolved": _counts(unresolved, "reason"),
        "unresolved_cents": int(unresolved["unallocated_cents"].sum() or 0),
        "per_rule": per_rule,
        "automation_rate": round(full / n_pay, 4) if n_pay else None,
    }
