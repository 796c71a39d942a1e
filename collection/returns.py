"""The money of a collection comes back: the batch credit broken down per claim, and returns.

**Batch credit** (:func:`break_down_batches`). The bank credits a whole PmtInf of our pain.008 as one
entry (camt ``Btch``/``PmtInfId``, MT940 GVC 192 Sammler), often without any detail. The entry is
recognised by the PmtInfId (or the file's MsgId) in ``batch_ref`` — what the parser read from ``Btch`` or
``EndToEndId``/``PmtInfId`` — or, failing that, quoted in the remittance or bank reference; the collection
record then says which claims it pays, and each gets an allocation of its collected amount (rule
``direct_debit``). Never a wrong allocation: a credit that is not exactly the batch's sum (the bank left
out a rejected item) is held (``batch_amount_mismatch``), and so is a batch whose claims were credited
already (``batch_duplicate``: the same batch seen on a camt.054 and the statement, or twice in a run).

**Returns** (:func:`apply_returns`). A return (camt ``RtrInf/Rsn/Cd``, MT940 GVC 109 with ``?34``) names
the collection by its end-to-end id, else by mandate and amount (unique, or held). The amount must be
the collected one — as debited, as the original amount (OAMT/``AmtDtls``), or debited less the fee the
bank reports; a return named by its end-to-end id that debits more and reports neither is taken as the
collected amount plus the bank's fee. It gives

* the reversal of that claim's allocation (negative, rule ``dd_return``);
* the claim reopened with its **original** due date (Säumniszuschläge run from there, not from the return);
* the bank's return fee as a claim of our own (origin ``fee``, ``[collection] return_fee_claim_type``,
  under the claim's Kassenzeichen, due on the return's booking day), only when the tenant charges it
  (``return_fee_charge``; a legal basis is needed, DOMAIN.md §3.4) — the bank's charge itself is an
  expense of the treasury whether passed on or not;
* the reason's action (``block_mandate`` | ``retry_once`` | ``none``) for the mandate register and the
  next selection (:mod:`collection.mandates`, :mod:`collection.select` read the returned rows);
* held returns: no collection found, or the amount does not fit (``return_unmatched``), or the collection
  was returned already (``return_duplicate``).

Frames only: the nightly run books them (``jobs/nightly/collection_back.py``).
"""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

from claims.claim import CLAIM_SCHEMA
from claims.config import CollectionSection
from claims.vocab import CollectionHold, Rule, UnresolvedReason
from collection.history import RETURNED_SCHEMA
from collection.mandates import return_action_expr

#: The allocation columns (as matching.schema.ALLOCATION_SCHEMA; a test keeps them equal).
ALLOCATION_COLUMNS: dict[str, pl.DataType] = {
    "transaction_id": pl.String(),
    "bank_ref": pl.String(),
    "receivable_id": pl.String(),
    "kassenzeichen": pl.String(),
    "amount_cents": pl.Int64(),
    "rule": pl.String(),
    "confidence": pl.Float64(),
    "decided_by": pl.String(),
    "booking_date": pl.Date(),
}

HELD_SCHEMA: dict[str, pl.DataType] = {"transaction_id": pl.String(), "reason": pl.String()}

#: A batch credit of our own collection: the parser's entry with what it read of the batch.
CREDIT_SCHEMA: dict[str, pl.DataType] = {
    "tenant": pl.String(),
    "transaction_id": pl.String(),
    "bank_ref": pl.String(),
    "booking_date": pl.Date(),
    "amount_cents": pl.Int64(),           # > 0
    "batch_ref": pl.String(),             # camt Btch/PmtInfId or the like; null when the bank sent none
    "remittance": pl.String(),
}

#: A direct-debit return as the parser reads it.
RETURN_SCHEMA: dict[str, pl.DataType] = {
    "tenant": pl.String(),
    "transaction_id": pl.String(),
    "bank_ref": pl.String(),
    "booking_date": pl.Date(),
    "amount_cents": pl.Int64(),           # the debit (sign ignored): the collected amount, plus the fee at some banks
    "reason_code": pl.String(),           # ISO code (camt RtrInf/Rsn/Cd; MT940 ?34 mapped)
    "end_to_end_id": pl.String(),         # EREF, when sent
    "mandate_id": pl.String(),            # MREF, when sent
    "original_amount_cents": pl.Int64(),  # OAMT / AmtDtls, when sent
    "fee_cents": pl.Int64(),              # the bank's return charge, when sent
}


def _allocations(frame: pl.LazyFrame, rule: Rule) -> pl.LazyFrame:
    return frame.with_columns(pl.lit(str(rule)).alias("rule"), pl.lit(1.0).alias("confidence"),
                              pl.lit("auto").alias("decided_by")).select(
        [pl.col(k).cast(v) for k, v in ALLOCATION_COLUMNS.items()])


def _booked(prior: pl.DataFrame) -> pl.LazyFrame:
    """Receivables a collection of ours still holds as paid: direct_debit allocations net of dd_return."""
    return (prior.lazy().filter(pl.col("rule").is_in([str(Rule.DIRECT_DEBIT), str(Rule.DD_RETURN)]))
            .group_by("receivable_id").agg(pl.col("amount_cents").sum().alias("net"))
            .filter(pl.col("net") > 0).select("receivable_id"))


def break_down_batches(credits: pl.DataFrame, collected: pl.DataFrame, prior: pl.DataFrame
                       ) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame]:
    """``(allocations, held, unknown)``: allocations of each recognised batch credit to its claims, the
    recognised credits held for a clerk (CollectionHold), and the credits that name no batch of ours
    (left to the matcher). ``prior``: earlier allocations (rule, receivable_id, amount_cents)."""
    ids = pl.concat([
        collected.select("tenant", pl.col("pmtinf_id").alias("batch"), pl.col("pmtinf_id")),
        collected.select("tenant", pl.col("message_id").alias("batch"), pl.col("pmtinf_id")),
    ]).unique()
    known = ids["batch"].unique()
    cr = credits.lazy().with_columns(pl.col("batch_ref").str.strip_chars())
    direct = cr.filter(pl.col("batch_ref").is_in(known.implode()))
    # the few without a usable batch_ref: look for one of our ids in the texts (Aho-Corasick, one pass)
    rest = cr.join(direct.select("transaction_id"), on="transaction_id", how="anti").with_columns(
        pl.concat_str(pl.col("remittance").fill_null(""), pl.lit(" "), pl.col("bank_ref").fill_null(""))
        .str.extract_many(known.to_list() or [""], overlapping=False).list.unique().alias("_found"))
    found = rest.filter(pl.col("_found").list.len() == 1).with_columns(
        pl.col("_found").list.first().alias("batch_ref")).drop("_found")
    # none of our ids, or two (cannot tell which batch): the matcher's business
    unknown = rest.filter(pl.col("_found").list.len() != 1).drop("_found")
    hit = pl.concat([direct, found]).join(ids.lazy(), left_on=["tenant", "batch_ref"], right_on=["tenant", "batch"])
    items = hit.select("tenant", "transaction_id", "bank_ref", "booking_date", pl.col("amount_cents").alias("credit"),
                       "pmtinf_id").join(
        collected.lazy().select("tenant", "pmtinf_id", "receivable_id", "kassenzeichen", "amount_cents"),
        on=["tenant", "pmtinf_id"])
    booked = _booked(prior).with_columns(pl.lit(True).alias("_booked"))
    items = items.join(booked, on="receivable_id", how="left").with_columns(
        # the same batch named by two credits of this run: the first (by transaction_id) is the one
        pl.col("transaction_id").rank("dense").over("tenant", "pmtinf_id").alias("_nth"))
    per = items.group_by("transaction_id").agg(
        pl.col("amount_cents").sum().alias("total"), pl.col("credit").first(),
        pl.col("_booked").any().alias("booked"), pl.col("_nth").max().alias("nth"))
    verdict = per.with_columns(
        pl.when(pl.col("booked") | (pl.col("nth") > 1)).then(pl.lit(CollectionHold.BATCH_DUPLICATE))
        .when(pl.col("total") != pl.col("credit")).then(pl.lit(CollectionHold.BATCH_AMOUNT_MISMATCH))
        .alias("reason"))
    ok = verdict.filter(pl.col("reason").is_null()).select("transaction_id")
    allocations = _allocations(items.join(ok, on="transaction_id"), Rule.DIRECT_DEBIT)
    held = verdict.filter(pl.col("reason").is_not_null()).select("transaction_id", "reason")
    return (allocations.sort("transaction_id", "receivable_id").collect(),
            held.select([pl.col(k).cast(v) for k, v in HELD_SCHEMA.items()]).sort("transaction_id").collect(),
            unknown.select(list(CREDIT_SCHEMA)).collect())


@dataclass(frozen=True, slots=True)
class ReturnOutcome:
    """What :func:`apply_returns` gives (see the module docstring)."""

    returned: pl.DataFrame                # RETURNED_SCHEMA: the matched returns, for the collection record
    reversals: pl.DataFrame               # ALLOCATION_COLUMNS, negative, rule dd_return
    reopened: pl.DataFrame                # tenant, receivable_id, due_date (original), amount_cents
    fees: pl.DataFrame                    # CLAIM_SCHEMA + parent_receivable_id: return fees charged to debtors
    actions: pl.DataFrame                 # tenant, mandate_id, receivable_id, end_to_end_id, reason_code, action
    held: pl.DataFrame                    # HELD_SCHEMA (UnresolvedReason return_unmatched / return_duplicate)


def apply_returns(returns: pl.DataFrame, collected: pl.DataFrame, prior_returned: pl.DataFrame,
                  claims: pl.DataFrame, *, settings: CollectionSection) -> ReturnOutcome:
    """Match each return (RETURN_SCHEMA) to the collection it undoes and derive what follows from it.
    ``prior_returned``: returns matched before (RETURNED_SCHEMA); ``claims``: the claims (CLAIM_SCHEMA)
    the fee claims take debtor and Kassenzeichen from."""
    r = returns.lazy().with_columns(pl.col("amount_cents").abs().alias("back"),
                                    pl.col("reason_code").str.strip_chars().str.to_uppercase())
    col = collected.lazy().select("tenant", "end_to_end_id", "receivable_id", "kassenzeichen", "mandate_id",
                                  "collection_date", "due_date", pl.col("amount_cents").alias("collected"))
    by_id = r.filter(pl.col("end_to_end_id").is_not_null()).join(col.drop("mandate_id"), on=["tenant", "end_to_end_id"]) \
        .with_columns(pl.lit(True).alias("_by_id"))
    # without a known end-to-end id: mandate and amount (returned amount, original amount, or amount less fee)
    loose = r.join(by_id.select("transaction_id", "end_to_end_id"), on=["transaction_id", "end_to_end_id"], how="anti")
    loose = loose.drop("end_to_end_id").join(col, on=["tenant", "mandate_id"]).filter(
        (pl.col("collected") == pl.col("back")) | (pl.col("collected") == pl.col("original_amount_cents"))
        | (pl.col("collected") == pl.col("back") - pl.col("fee_cents").fill_null(0)))
    loose = loose.join(prior_returned.lazy().select("tenant", "end_to_end_id"), on=["tenant", "end_to_end_id"], how="anti")
    loose = loose.filter(pl.len().over("transaction_id") == 1).with_columns(pl.lit(False).alias("_by_id")) \
        .select(by_id.collect_schema().names())
    m = pl.concat([by_id, loose]).filter(pl.col("collection_date") <= pl.col("booking_date"))
    fits = ((pl.col("collected") == pl.col("back")) | (pl.col("collected") == pl.col("original_amount_cents"))
            | (pl.col("collected") == pl.col("back") - pl.col("fee_cents").fill_null(0))
            # named by its end-to-end id, more came back and the bank said nothing of amounts: the rest is its fee
            | (pl.col("_by_id") & pl.col("fee_cents").is_null() & pl.col("original_amount_cents").is_null()
               & (pl.col("back") > pl.col("collected")))).fill_null(False)
    m = m.with_columns(
        fits.alias("fits"),
        pl.col("transaction_id").rank("ordinal").over("tenant", "end_to_end_id").alias("_nth"),
    ).join(prior_returned.lazy().select("tenant", "end_to_end_id", pl.lit(True).alias("_before")),
           on=["tenant", "end_to_end_id"], how="left")
    dup = pl.col("_before").fill_null(False) | (pl.col("_nth") > 1)
    good = m.filter(pl.col("fits") & ~dup)
    held = pl.concat([
        m.filter(pl.col("fits") & dup).select("transaction_id", pl.lit(str(UnresolvedReason.RETURN_DUPLICATE)).alias("reason")),
        r.join(good.select("transaction_id"), on="transaction_id", how="anti")
         .join(m.filter(pl.col("fits") & dup).select("transaction_id"), on="transaction_id", how="anti")
         .select("transaction_id", pl.lit(str(UnresolvedReason.RETURN_UNMATCHED)).alias("reason")),
    ]).unique().sort("transaction_id")
    good = good.with_columns(return_action_expr(settings).alias("action"),
                             pl.coalesce("fee_cents", (pl.col("back") - pl.col("collected")).clip(lower_bound=0))
                             .alias("bank_fee"))
    mandates = col.select("tenant", "end_to_end_id", pl.col("mandate_id").alias("_mandate"))
    good = good.join(mandates, on=["tenant", "end_to_end_id"], how="left").with_columns(
        pl.col("_mandate").alias("mandate_id"))
    returned = good.select("tenant", "end_to_end_id", "receivable_id", "mandate_id", "reason_code",
                           pl.col("booking_date").alias("return_date"), pl.col("collected").alias("amount_cents"),
                           "transaction_id").select([pl.col(k).cast(v) for k, v in RETURNED_SCHEMA.items()])
    reversals = _allocations(good.with_columns((-pl.col("collected")).alias("amount_cents")), Rule.DD_RETURN)
    reopened = good.select("tenant", "receivable_id", "due_date", pl.col("collected").alias("amount_cents"))
    actions = good.select("tenant", "mandate_id", "receivable_id", "end_to_end_id", "reason_code", "action")
    fee_amount = pl.lit(settings.return_fee_fixed, pl.Int64()) if settings.return_fee_fixed is not None \
        else pl.col("bank_fee")
    charged = good.filter(pl.lit(settings.return_fee_charge)).with_columns(fee_amount.alias("fee")).filter(pl.col("fee") > 0)
    parent = claims.lazy().select([c for c in CLAIM_SCHEMA if c not in {"amount_cents", "due_date", "claim_type",
                                                                      "mandate_id", "mandate_date", "origin"}])
    fees = (
        charged.select("tenant", pl.col("receivable_id").alias("parent_receivable_id"), "fee", "booking_date")
        .join(parent.drop("tenant"), left_on="parent_receivable_id", right_on="receivable_id", how="left")
        .with_columns(
            pl.concat_str("parent_receivable_id", pl.lit("-RLS-"), pl.col("booking_date").dt.strftime("%Y%m%d"))
            .alias("receivable_id"),
            pl.col("fee").alias("amount_cents"), pl.col("booking_date").alias("due_date"),
            pl.lit(settings.return_fee_claim_type).alias("claim_type"), pl.lit("fee").alias("origin"),
            pl.lit(None, pl.String()).alias("mandate_id"), pl.lit(None, pl.Date()).alias("mandate_date"),
            pl.coalesce("creditor", "tenant").alias("creditor"),
        )
        .select([*[pl.col(k).cast(v) for k, v in CLAIM_SCHEMA.items()], "parent_receivable_id"])
    )
    return ReturnOutcome(
        returned=returned.sort("transaction_id").collect(),
        reversals=reversals.sort("transaction_id").collect(),
        reopened=reopened.sort("tenant", "receivable_id").collect(),
        fees=fees.sort("receivable_id").collect(),
        actions=actions.sort("tenant", "receivable_id").collect(),
        held=held.select([pl.col(k).cast(v) for k, v in HELD_SCHEMA.items()]).collect(),
    )


__all__ = ["ALLOCATION_COLUMNS", "CREDIT_SCHEMA", "HELD_SCHEMA", "RETURN_SCHEMA", "ReturnOutcome", "apply_returns",
           "break_down_batches"]
