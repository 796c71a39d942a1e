"""Matching: incoming payments → allocations to open items, and the rest to the Klärungsliste.

Pure: frames in, frames out, no I/O. Set-based Polars throughout (no Python loop over payments).

>>> # result = match(parse_result.transactions, open_items, load_match_config(None))
>>> # result.allocations, result.unresolved, result.summary["automation_rate"]
"""

from __future__ import annotations

from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import polars as pl

from claims.claim import OPEN_ITEM_SCHEMA
from claims.vocab import Rule, UnresolvedReason
from matching.allocate import allocate
from matching.classify import PAYMENT, RETURN, classify
from matching.config import MatchConfig, load_match_config
from matching.designate import PAYMENT_COLUMNS, designate
from matching.evidence import key_index
from matching.learned import RULE_SCHEMA, apply_rules
from matching.returns import reverse_returns
from matching.rows import fetch
from matching.schema import ALLOCATION_SCHEMA, ITEM_COLUMNS, UNRESOLVED_SCHEMA
from matching.suggest import candidates_json
from matching.summary import summarise
from parsers.schema import assert_schema, conform
from parsers.validity import digits

__all__ = ["MatchConfig", "MatchResult", "load_match_config", "match"]


@dataclass(slots=True)
class MatchResult:
    """Allocations (ALLOCATION_SCHEMA), unresolved (UNRESOLVED_SCHEMA), and counts for the run report.

    ``by_rule``: transaction_id, receivable_id, rule_id of the allocations a learned rule made (their
    ``rule`` is ``learned_rule``; the ledger keeps the rule_id on the allocation)."""

    allocations: pl.DataFrame
    unresolved: pl.DataFrame
    summary: dict[str, Any] = field(default_factory=dict)
    by_rule: pl.DataFrame = field(default_factory=lambda: pl.DataFrame(
        schema={"transaction_id": pl.String(), "receivable_id": pl.String(), "rule_id": pl.String()}))


def _remainder(book: pl.DataFrame, alloc: pl.DataFrame) -> pl.DataFrame:
    """(transaction_id, reason, unallocated_cents) for booked payments not wholly allocated: an
    over-payment, or a double payment when the designated items were already settled."""
    # a set of one item and one payment got min(payment, open), short of the payment only where the item
    # had less open (payments are > 0); the others are summed
    single = book.filter(pl.col("single") & (pl.col("pay_cents") > pl.col("open"))).select(
        "transaction_id", pl.col("pay_cents").alias("amount_cents"), pl.min_horizontal("pay_cents", "open").clip(0).alias("got"))
    # (a designated payment's parts each carry their amount: the payment's is their sum, once per set)
    rest = book.filter(~pl.col("single")).select("transaction_id", "set_key", "pay_cents").unique().group_by("transaction_id").agg(
        pl.col("pay_cents").sum().alias("amount_cents"))
    got = alloc.filter(pl.col("transaction_id").is_in(rest["transaction_id"].implode())).group_by("transaction_id").agg(
        pl.col("amount_cents").sum().alias("got"))
    return (
        pl.concat([single, rest.join(got, on="transaction_id", how="left").with_columns(pl.col("got").fill_null(0))])
        .filter(pl.col("amount_cents") > pl.col("got"))
        .select(
            "transaction_id",
            pl.when(pl.col("got") > 0).then(pl.lit(UnresolvedReason.OVERPAYMENT)).otherwise(pl.lit(UnresolvedReason.DOUBLE_PAYMENT)).alias("reason"),
            (pl.col("amount_cents") - pl.col("got")).alias("unallocated_cents"),
        )
    )


def match(
    transactions: pl.DataFrame,
    receivables: pl.DataFrame,
    config: MatchConfig,
    *,
    prior_allocations: pl.DataFrame | None = None,
    rules: pl.DataFrame | None = None,
) -> MatchResult:
    """Match booked credits to open items and reverse direct-debit returns; never book ambiguity.

    ``receivables``: OPEN_ITEM_SCHEMA, ``amount_cents`` = open now (0 for settled items, so a double
    payment is recognised). ``prior_allocations``: ALLOCATION_SCHEMA rows already booked. ``rules``:
    approved learned rules in force (:data:`matching.learned.RULE_SCHEMA`; see :mod:`matching.learned`).
    """
    # only the columns matching reads, as they come: in tens of chunks from a Parquet file's row groups,
    # all alike (a frame whose columns are chunked differently is realigned, copied, by a filter); the
    # items a payment names are read in row order, which is cheap from any chunking
    rec = conform(receivables, {c: OPEN_ITEM_SCHEMA[c] for c in ITEM_COLUMNS}).select(
        *(c for c in ITEM_COLUMNS if c not in ("amount_cents", "law")),
        pl.col("amount_cents").fill_null(0), pl.col("law").fill_null("public"))
    if rec["kz_norm"].null_count():  # only then: a string pass over millions of items costs seconds
        rec = rec.with_columns(pl.col("kz_norm").fill_null(digits(pl.col("kassenzeichen"))))
    with ThreadPoolExecutor(1) as early:  # the items' key index needs no payment: begun at once
        ix = early.submit(key_index, rec, config.digits)
        return _match(transactions, rec, config, ix, prior_allocations, rules)


def _match(
    transactions: pl.DataFrame, rec: pl.DataFrame, config: MatchConfig, ix: Future[pl.DataFrame],
    prior_allocations: pl.DataFrame | None, rules: pl.DataFrame | None = None,
) -> MatchResult:
    """:func:`match` of the items ``rec`` (the columns read, nulls filled) with their key index ``ix``."""
    tx = classify(transactions, config)
    # integer row keys: from here on a bank row's ``transaction_id`` is its ``seq`` (row k of ``meta`` is
    # number k); joins, group-bys and sorts on it are several times cheaper than on the string ids, which
    # come back by a gather at the end
    meta = tx.select("seq", "transaction_id", "bank_ref", "booking_date", "amount_cents").sort("seq")
    tx = tx.with_columns(pl.col("seq").alias("transaction_id"))
    key = tx.schema["seq"]
    # (only the columns read are copied, by a gather in row order: one chunk from any chunking)
    pay = tx.select(pl.col(PAYMENT_COLUMNS).gather((tx["kind"] == PAYMENT).arg_true()))
    rec_all = rec
    book, held, cands, rec, names, left_out = designate(pay, rec, config, ix)
    by_rule = None
    if rules is not None and rules.height:  # (learned rules: only the payments from a rule's IBAN)
        book, held, cands, rec, by_rule = apply_rules(pay, rec_all, book, held, cands, rec, conform(rules, RULE_SCHEMA))
    # from here on only items that a payment designates, suggests or an earlier allocation names
    # (``rec`` holds every item named by book and cands; earlier allocations may name any item)
    prior = None
    if prior_allocations is not None and prior_allocations.height:
        prior = conform(prior_allocations, ALLOCATION_SCHEMA).select("transaction_id", "receivable_id", "kassenzeichen",
                                                                     "amount_cents")
        # earlier runs' payments are numbered after this run's rows
        prior = prior.with_columns((pl.col("transaction_id").rank("dense").cast(key) - 1 + tx.height).alias("transaction_id"))
        named = pl.concat([rec.select("receivable_id"), prior.select("receivable_id")]).unique()
        rec = rec_all.with_row_index("_r").join(named, on="receivable_id", how="semi")
    with ThreadPoolExecutor(1) as side:  # the clerk's candidate lists beside the allocation
        listed = side.submit(candidates_json, pl.concat([cands, names], how="diagonal"), rec, config)
        alloc = allocate(book, rec_all, config)
        pool = alloc.select("transaction_id", "receivable_id", "kassenzeichen", "amount_cents")
        if prior is not None:
            pool = pl.concat([prior, pool])
        rets = tx.filter(pl.col("kind") == RETURN)
        if rets.height:  # (returns look the named items up by their Kassenzeichen's digits)
            rec = fetch(rec, rec_all, "_r", ("kz_norm",))
        reversals, held_r = reverse_returns(rets, pool, rec, config)
        reversals = reversals.with_columns(pl.lit(Rule.DD_RETURN).alias("rule"), pl.lit(1.0).alias("confidence"))
        # a payment's rows are next to each other in receivable_id order already: a stable sort by the
        # payment number gives the order by (payment, item) without comparing strings
        allocations = (
            pl.concat([alloc.select(reversals.columns), reversals.sort(["transaction_id", "receivable_id"])])
            .with_columns(pl.lit("auto").alias("decided_by"))
            .sort("transaction_id", maintain_order=True)
        )
        remainder = _remainder(book, alloc)
        amounts = pl.lit(meta["amount_cents"])
        unresolved = (
            pl.concat([
                pl.concat([held, held_r]).with_columns(amounts.gather(pl.col("transaction_id")).alias("unallocated_cents")),
                remainder,
            ], how="diagonal")
            .join(listed.result(), on="transaction_id", how="left")
            .with_columns(pl.col("candidates").fill_null("[]"))
            .sort(["transaction_id", "reason"])
        )
        # the counts beside putting the bank's ids back
        counted = side.submit(summarise, tx, allocations, unresolved)
        ids = ("transaction_id", "bank_ref", "booking_date")
        allocations = conform(fetch(allocations, meta, "transaction_id", ids), ALLOCATION_SCHEMA)
        unresolved = conform(fetch(unresolved, meta, "transaction_id", (*ids, "amount_cents")), UNRESOLVED_SCHEMA)
        summary = counted.result()
    summary["name_pairs_left_out"] = left_out
    result = MatchResult(allocations, unresolved, summary)
    if by_rule is not None:
        result.by_rule = fetch(by_rule, meta, "transaction_id", ("transaction_id",))
        summary["per_learned_rule"] = _per_learned_rule(result.by_rule, allocations)
    assert_schema(allocations, ALLOCATION_SCHEMA, "matching allocations")
    assert_schema(unresolved, UNRESOLVED_SCHEMA, "matching unresolved")
    return result


def _per_learned_rule(by_rule: pl.DataFrame, allocations: pl.DataFrame) -> dict[str, dict[str, int]]:
    """rule_id → allocations and cents the learned rule booked in this run (for the key figures)."""
    booked = allocations.filter(pl.col("rule") == Rule.LEARNED_RULE).join(
        by_rule, on=["transaction_id", "receivable_id"])
    return {str(r): {"allocations": int(n), "cents": int(c)} for r, n, c in
            booked.group_by("rule_id").agg(pl.len(), pl.col("amount_cents").sum()).sort("rule_id").iter_rows()}

