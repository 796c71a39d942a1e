"""The run's counts: what was skipped and why, what was booked by which rule, what is left."""

from __future__ import annotations

from typing import Any

import polars as pl

from matching.classify import PAYMENT, RETURN


def _counts(df: pl.DataFrame, col: str) -> dict[str, int]:
    return {str(k): int(v) for k, v in df.group_by(col).len().sort(col).iter_rows()}


def summarise(tx: pl.DataFrame, allocations: pl.DataFrame, unresolved: pl.DataFrame) -> dict[str, Any]:
    """Counts, cents, automation rate (payments fully booked / payments) and per-rule figures."""
    kind = tx["kind"]
    is_pay = kind == PAYMENT
    pos = allocations.filter(pl.col("amount_cents") > 0)
    booked_ids = pos.select("transaction_id").unique()
    open_ids = unresolved.select("transaction_id").unique()
    full = booked_ids.join(open_ids, on="transaction_id", how="anti").height
    partly = booked_ids.join(open_ids, on="transaction_id", how="semi").height
    per_rule = {
        str(rule): {"allocations": int(n), "cents": int(c)}
        for rule, n, c in allocations.group_by("rule").agg(pl.len(), pl.col("amount_cents").sum()).sort("rule").iter_rows()
    }
    n_pay = int(is_pay.sum())
    return {
        "rows": tx.height,
        "skipped": _counts(kind.filter(~kind.is_in([PAYMENT, RETURN])).to_frame(), "kind"),
        "payments": n_pay,
        "payments_cents": int(tx["amount_cents"].filter(is_pay).sum() or 0),
        "returns": int((kind == RETURN).sum()),
        "allocated_fully": full,
        "allocated_partly": partly,
        "allocated_cents": int(pos["amount_cents"].sum() or 0),
        "reversed_cents": int(-(allocations.filter(pl.col("amount_cents") < 0)["amount_cents"].sum() or 0)),
        "unresolved": _counts(unresolved, "reason"),
        "unresolved_cents": int(unresolved["unallocated_cents"].sum() or 0),
        "per_rule": per_rule,
        "automation_rate": round(full / n_pay, 4) if n_pay else None,
    }
