"""Candidates shown to the clerk for a payment that is not booked: evidence, then name suggestions.

Name similarity (rapidfuzz WRatio over amount-blocked pairs, at most ``MAX_PAIRS`` per run; the count
of pairs left out is reported) only ever produces suggestions; nothing here books money. The top candidates per payment become a JSON list in ``candidates``.
"""

from __future__ import annotations

import polars as pl
from rapidfuzz import fuzz, utils

from matching.config import MatchConfig

#: An amount shared by more open items than this is too common to suggest anything by name.
MAX_BLOCK = 200
#: Name comparisons per run (a C call each); beyond this, suggestions are left out and counted.
MAX_PAIRS = 200_000


def name_suggestions(
    held: pl.DataFrame, pay: pl.DataFrame, rec: pl.DataFrame, cfg: MatchConfig
) -> tuple[pl.DataFrame, int]:
    """``((transaction_id, receivable_id, score, why), pairs left out)`` for held payments without
    evidence: same open amount, payer name similar to the debtor name (WRatio ≥ ``name_min_score``)."""
    out_schema = {"transaction_id": pl.String, "receivable_id": pl.String, "score": pl.Float64, "why": pl.String}
    want = held.filter(pl.col("reason").is_in(["no_reference", "unknown_reference"])).join(
        pay.select("transaction_id", "amount_cents", "counterparty_name"), on="transaction_id"
    ).filter(pl.col("counterparty_name").is_not_null())
    # only the amounts some wanted payment has: a probe per item instead of grouping all items
    amounts = want["amount_cents"].unique().implode()
    open_items = rec.filter((pl.col("amount_cents") > 0) & pl.col("amount_cents").is_in(amounts)).select(
        "receivable_id", "debtor_name", "amount_cents")
    small = open_items.group_by("amount_cents").len().filter(pl.col("len") <= MAX_BLOCK).select("amount_cents")
    pairs = want.join(small, on="amount_cents").join(open_items, on="amount_cents")
    left_out = max(0, pairs.height - MAX_PAIRS)
    pairs = pairs.sort("transaction_id", "receivable_id").head(MAX_PAIRS)
    if pairs.is_empty():
        return pl.DataFrame(schema=out_schema), left_out
    a = [utils.default_process(x) for x in pairs["counterparty_name"].to_list()]
    b = [utils.default_process(x) for x in pairs["debtor_name"].fill_null("").to_list()]
    scores = [fuzz.WRatio(x, y) for x, y in zip(a, b, strict=True)]  # suggestion pairs, not payments
    out = (
        pairs.with_columns(pl.Series("s", scores, dtype=pl.Float64))
        .filter(pl.col("s") >= cfg.name_min_score)
        .select("transaction_id", "receivable_id", (pl.col("s") / 100 * 0.7).round(3).alias("score"), pl.lit("name_amount").alias("why"))
    )
    return out, left_out


def candidates_json(cands: pl.DataFrame, rec: pl.DataFrame, cfg: MatchConfig) -> pl.DataFrame:
    """(transaction_id, candidates): the top ``cfg.suggestions`` per payment as a JSON list."""
    top = (
        cands.join(rec.select("receivable_id", "kassenzeichen", "amount_cents"), on="receivable_id")
        .sort(["transaction_id", "score", "receivable_id", "why"], descending=[False, True, False, False])
        .unique(["transaction_id", "receivable_id"], keep="first", maintain_order=True)
        .group_by("transaction_id", maintain_order=True)
        .head(cfg.suggestions)
    )
    return top.group_by("transaction_id").agg(
        pl.struct("receivable_id", "kassenzeichen", "amount_cents", "score", "why")
        .sort_by(pl.col("score"), pl.col("receivable_id"), descending=[True, False])
        .struct.json_encode()
        .str.join(",")
        .alias("candidates")
    ).with_columns(pl.format("[{}]", pl.col("candidates")).alias("candidates"))
