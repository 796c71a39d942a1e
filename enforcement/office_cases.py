"""The office's view of the cases other tenants handed to it (issue 17 §4): frames in, frames out.

An enforcement office working for another municipality knows of a case only what the creditor's files said:
the hand-off (one or more: a later claim of the debtor joins the open case under the same case number) and
the updates since. From the booked rows (``office_cases``, ``office_case_claims``, ``office_updates``,
``office_update_claims``; migration 11) :func:`case_view` gives one row per (creditor, case) with its
state (``claims.vocab.OfficeCaseState``) and latest update, and :func:`claim_view` one row per claim with
what is still open:

* the **latest applied update** of a case decides its state (by effective date, then the day it was
  received, then the update id): ``settled`` → settled (stop every measure), ``suspended`` → suspended,
  ``partial_payment`` / ``resumed`` / none → open. An update held for a person (``hold_reason``) is not
  applied;
* a claim's **open amount** is what the latest update naming its Kassenzeichen left open, else what was
  handed over; a settled case is open 0 even for a claim its update did not list.

Set-based Polars, no loop over cases.
"""

from __future__ import annotations

import polars as pl

from claims.vocab import EnforcementUpdateKind, OfficeCaseState

KEY = ["creditor_tenant", "case_number"]

CASE_VIEW: dict[str, pl.DataType] = {
    "creditor_tenant": pl.String(), "creditor_name": pl.String(), "case_number": pl.String(),
    "debtor_id": pl.String(), "debtor_name": pl.String(), "debtor_street": pl.String(),
    "debtor_postcode": pl.String(), "debtor_city": pl.String(), "debtor_birth_date": pl.Date(),
    "received_on": pl.Date(), "last_handoff": pl.Date(), "n_handoffs": pl.Int64(), "n_claims": pl.Int64(),
    "handed_cents": pl.Int64(), "open_cents": pl.Int64(), "state": pl.String(), "latest_kind": pl.String(),
    "latest_date": pl.Date(), "latest_update_id": pl.String(), "suspension_reason": pl.String(),
    "suspended_until": pl.Date(), "latest_note": pl.String(), "n_updates": pl.Int64(), "n_held": pl.Int64(),
}

CLAIM_VIEW: dict[str, pl.DataType] = {
    "creditor_tenant": pl.String(), "case_number": pl.String(), "kassenzeichen": pl.String(),
    "claim_type": pl.String(), "main_kassenzeichen": pl.String(), "due_date": pl.Date(),
    "enforceable_since": pl.Date(), "handed_cents": pl.Int64(), "paid_cents": pl.Int64(), "open_cents": pl.Int64(),
}


def _claims_handed(claims: pl.DataFrame) -> pl.DataFrame:
    """One row per (creditor, case, Kassenzeichen): the newest hand-off's figures of the claim."""
    return (claims.sort("received_on", "message_id")
            .with_columns((pl.col("principal_cents") + pl.col("surcharges_cents") + pl.col("fees_cents"))
                          .alias("handed_cents"))
            .group_by([*KEY, "kassenzeichen"], maintain_order=True).last())


def _latest_updates(updates: pl.DataFrame) -> pl.DataFrame:
    applied = updates.filter(pl.col("hold_reason").is_null())
    return (applied.sort("effective_date", "received_on", "update_id")
            .group_by(KEY, maintain_order=True).agg(pl.all().last(), pl.len().alias("n_updates")))


def claim_view(cases: pl.DataFrame, claims: pl.DataFrame, updates: pl.DataFrame,
               update_claims: pl.DataFrame) -> pl.DataFrame:
    """One row per received claim: handed over, paid since (the creditor's updates), still open."""
    received = claims.join(cases.select(*KEY, "message_id", "received_on"), on=[*KEY, "message_id"], how="left")
    handed = _claims_handed(received)
    applied = updates.filter(pl.col("hold_reason").is_null()).select(
        *KEY, "update_id", "kind", "effective_date", "received_on")
    per_claim = update_claims.join(applied, on=["creditor_tenant", "update_id"], how="inner")
    paid = per_claim.group_by([*KEY, "kassenzeichen"]).agg(pl.col("paid_cents").sum())
    last = (per_claim.sort("effective_date", "received_on", "update_id")
            .group_by([*KEY, "kassenzeichen"], maintain_order=True).last()
            .select(*KEY, "kassenzeichen", (pl.col("open_principal_cents") + pl.col("open_surcharges_cents")
                                            + pl.col("open_fees_cents")).alias("open_after")))
    state = case_states(updates).select(*KEY, "state")
    out = (handed.join(paid, on=[*KEY, "kassenzeichen"], how="left")
           .join(last, on=[*KEY, "kassenzeichen"], how="left")
           .join(state, on=KEY, how="left")
           .with_columns(pl.col("paid_cents").fill_null(0),
                         pl.when(pl.col("state") == OfficeCaseState.SETTLED).then(pl.lit(0, pl.Int64()))
                         .otherwise(pl.coalesce("open_after", "handed_cents")).alias("open_cents")))
    return out.select(list(CLAIM_VIEW)).cast(CLAIM_VIEW).sort(*KEY, "kassenzeichen")  # type: ignore[arg-type]


def case_states(updates: pl.DataFrame) -> pl.DataFrame:
    """Per (creditor, case) with an applied update: the latest one and the state it leaves."""
    latest = _latest_updates(updates)
    return latest.with_columns(
        pl.when(pl.col("kind") == EnforcementUpdateKind.SETTLED).then(pl.lit(OfficeCaseState.SETTLED.value))
        .when(pl.col("kind") == EnforcementUpdateKind.SUSPENDED).then(pl.lit(OfficeCaseState.SUSPENDED.value))
        .otherwise(pl.lit(OfficeCaseState.OPEN.value)).alias("state"))


def case_view(cases: pl.DataFrame, claims: pl.DataFrame, updates: pl.DataFrame,
              update_claims: pl.DataFrame) -> pl.DataFrame:
    """One row per (creditor, case): the debtor as last handed over, the amounts, the state, the latest update."""
    per_claim = claim_view(cases, claims, updates, update_claims)
    sums = per_claim.group_by(KEY).agg(pl.len().alias("n_claims"), pl.col("handed_cents").sum(),
                                       pl.col("open_cents").sum())
    head = (cases.sort("received_on", "message_id").group_by(KEY, maintain_order=True)
            .agg(pl.col("creditor_name", "debtor_id", "debtor_name", "debtor_street", "debtor_postcode",
                        "debtor_city", "debtor_birth_date").last(),
                 pl.col("received_on").min(), pl.col("handoff_date").max().alias("last_handoff"),
                 pl.col("message_id").n_unique().alias("n_handoffs")))
    latest = case_states(updates).select(
        *KEY, "state", pl.col("kind").alias("latest_kind"), pl.col("effective_date").alias("latest_date"),
        pl.col("update_id").alias("latest_update_id"), "suspension_reason", "suspended_until",
        pl.col("note").alias("latest_note"), "n_updates")
    held = updates.filter(pl.col("hold_reason").is_not_null()).group_by(KEY).agg(pl.len().alias("n_held"))
    out = (head.join(sums, on=KEY, how="left").join(latest, on=KEY, how="left").join(held, on=KEY, how="left")
           .with_columns(pl.col("state").fill_null(OfficeCaseState.OPEN.value),
                         pl.col("n_updates", "n_held").fill_null(0),
                         pl.col("n_claims", "handed_cents", "open_cents").fill_null(0)))
    return out.select(list(CASE_VIEW)).cast(CASE_VIEW).sort(*KEY)  # type: ignore[arg-type]
