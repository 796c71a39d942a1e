"""Match step: clerk decisions first, then the matcher over new and yesterday's unresolved payments.

The receivables are the current open items: the newest export (a new one in tonight's inbox replaces
the base), minus what is booked against it. Payments still fully unresolved from earlier nights are
matched again with the new payments, so an item leaves the Klärungsliste by itself once the open-items
export that explains it arrives. Parked items stay parked until a clerk decides otherwise.
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from typing import Any

import polars as pl

from claims.claim import OPEN_ITEM_SCHEMA
from claims.vocab import DecisionState, ItemState
from jobs.nightly import amtshilfe
from jobs.nightly.collection_back import fee_claims, take_back
from jobs.nightly.decisions import DecisionOutcome, apply_decisions
from jobs.nightly.ingest import match_config
from jobs.nightly.payout_back import take_payouts
from jobs.nightly.unresolved import apply_events, unresolved_events
from jobs.rundir import RunDir
from ledger.collection_state import CollectionState
from ledger.config import TenantConfig
from ledger.payout_back_state import PayoutBackState
from ledger.tables import ALLOCATIONS, AUDIT_EVENTS, MATCH_RULES, OWN_CLAIMS, UNRESOLVED
from matching.schema import ALLOCATION_SCHEMA, UNRESOLVED_SCHEMA
from parsers.issues import issues_frame
from parsers.schema import TRANSACTION_SCHEMA, assert_schema, conform


def effective_decisions(cfg: TenantConfig) -> tuple[list[Any], pl.DataFrame]:
    """Effective clerk decisions from the journal, and the journal's findings as an issues frame."""
    from ledger.journal import load_journal

    decisions, issues = load_journal(cfg.state_dir, cfg.tenant)
    return [d for d in decisions if d.state == DecisionState.EFFECTIVE], issues_frame(issues)


def learned_rules(cfg: TenantConfig, booking_date: date, booked: pl.DataFrame
                  ) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame]:
    """The learned rules from the journal: ``(rules, changed, issues)`` — every rule with its state on
    ``booking_date`` (``ledger.rule_journal.RULE_STATE_SCHEMA``), the rows whose state differs from the
    ledger's latest row ``booked`` (to append to ``match_rules``), and the journal's findings."""
    from ledger.rule_journal import load_rules, rules_frame

    rules, issues = load_rules(cfg.state_dir, cfg.tenant)
    now = rules_frame(rules, booking_date)
    same = ["rule_id", "state", "approved_by", "valid_until", "revoked_by"]
    changed = now.join(conform(booked, MATCH_RULES).select(same), on=same, how="anti", nulls_equal=True)
    return now, changed, issues_frame(issues)


def receivables_now(base: pl.DataFrame, booked: pl.DataFrame) -> pl.DataFrame:
    """``base`` open items (with ``import_id``) minus the ``booked`` allocations on them, never below 0."""
    paid = booked.group_by("receivable_id").agg(pl.col("amount_cents").sum().alias("_paid"))
    return (
        base.join(paid, on="receivable_id", how="left")
        .with_columns((pl.col("amount_cents") - pl.col("_paid").fill_null(0)).clip(lower_bound=0)
                      .alias("amount_cents"))
        .drop("_paid")
    )


def _base_open_items(state_open: pl.DataFrame, imports: pl.DataFrame, items: pl.DataFrame) -> pl.DataFrame:
    """The open items to match against: tonight's newest export if one came (with Stadtkasse's own
    claims from the ledger's state, which no export replaces), else the ledger's state."""
    if imports.height == 0:
        return state_open
    newest = imports.sort("imported_at")["import_id"][-1]
    schema = {**OPEN_ITEM_SCHEMA, "import_id": pl.String()}
    return pl.concat([conform(items.filter(pl.col("import_id") == newest), schema),
                      conform(state_open.filter(pl.col("import_id") == OWN_CLAIMS), schema)], how="vertical")


def match(cfg: TenantConfig, booking_date: date, run_id: str, folder: RunDir) -> dict[str, int]:
    """Run decisions and matching; stage allocations, Klärungsliste events, decisions, refunds."""
    from matching import match as run_matcher

    state = folder.state()
    decisions, journal_issues = effective_decisions(cfg)
    outcome = apply_decisions(decisions, tenant=cfg.tenant, run_id=run_id, booking_date=booking_date,
                              unresolved=state.unresolved, open_items=state.open_items,
                              known_ids=state.decision_ids["decision_id"].to_list())
    base = _base_open_items(state.open_items, folder.read("book_open_item_imports"), folder.read("book_open_items"))
    base = amtshilfe.with_claim_changes(base, folder)   # tonight's Änderung/Rücknahme of Amtshilfe claims
    receivables = receivables_now(base, outcome.allocations)

    again = state.unresolved.filter(
        (pl.col("state") == ItemState.OPEN) & (pl.col("unallocated_cents") == pl.col("amount_cents"))
        & ~pl.col("transaction_id").is_in(list(outcome.handled))
    )["transaction_id"]
    payments = pl.concat([
        conform(folder.read("book_transactions"), TRANSACTION_SCHEMA),
        conform(state.unresolved_tx.filter(pl.col("transaction_id").is_in(again.implode())), TRANSACTION_SCHEMA),
    ], how="vertical")
    prior = conform(pl.concat([state.allocations, outcome.allocations], how="diagonal_relaxed"), ALLOCATION_SCHEMA)
    # our own collections' batch credits and returns are settled here and never reach the matcher
    back = take_back(payments, CollectionState.read(folder.path, "collect_"), prior, settings=cfg.collection)
    # our payouts: the outgoing transfers the bank booked and the ones that came back, likewise
    paid = take_payouts(back.rest, PayoutBackState.read(folder.path, "payout_"))
    payments = paid.rest
    receivables = receivables_now(receivables, back.allocations)
    prior = conform(pl.concat([prior, back.allocations], how="diagonal_relaxed"), ALLOCATION_SCHEMA)
    from ledger.rule_journal import in_force
    from matching.learned import propose_rules

    rules, rules_changed, rule_issues = learned_rules(cfg, booking_date, state.match_rules)
    result = run_matcher(payments, conform(receivables, OPEN_ITEM_SCHEMA), match_config(cfg), prior_allocations=prior,
                         rules=in_force(rules))
    assert_schema(result.allocations, ALLOCATION_SCHEMA, "matching.match allocations")
    assert_schema(result.unresolved, UNRESOLVED_SCHEMA, "matching.match unresolved")

    imports = receivables.select("receivable_id", "import_id")
    auto = (result.allocations.join(imports, on="receivable_id", how="left")
            .join(result.by_rule, on=["transaction_id", "receivable_id"], how="left")
            .with_columns(pl.lit(cfg.tenant).alias("tenant"), pl.lit(run_id).alias("run_id")))
    own = (back.allocations.join(imports, on="receivable_id", how="left")
           .with_columns(pl.lit(cfg.tenant).alias("tenant"), pl.lit(run_id).alias("run_id")))
    allocations = pl.concat([conform(outcome.allocations, ALLOCATIONS), conform(own, ALLOCATIONS),
                             conform(auto, ALLOCATIONS)], how="vertical")
    events = pl.concat([
        conform(outcome.events, UNRESOLVED),
        unresolved_events(state.unresolved, pl.concat([result.unresolved, back.held, paid.held]), rematched=again,
                          tenant=cfg.tenant,
                          run_id=run_id, as_of=booking_date),
    ], how="vertical")
    current = apply_events(state.unresolved, events)

    folder.book("allocations", allocations)
    folder.book("unresolved", events)
    folder.book("clerk_decisions", outcome.decisions)
    folder.book("collection_returns", back.returned.with_columns(pl.lit(run_id).alias("run_id")))
    folder.book("claims", fee_claims(back.fees, tenant=cfg.tenant, run_id=run_id))   # return fees we charge
    for table, rows in (("payout_bookings", paid.bookings), ("payout_returns", paid.returned),
                        ("payee_blocks", paid.blocks)):
        folder.book(table, rows.with_columns(pl.lit(run_id).alias("run_id")))
    folder.book("refunds", outcome.refunds)
    folder.book("match_rules", rules_changed.with_columns(
        pl.lit(cfg.tenant).alias("tenant"), pl.lit(run_id).alias("run_id"), pl.lit(booking_date).alias("as_of")))
    folder.book("issues", pl.concat([
        folder.read("book_issues"),
        *(found.with_columns(pl.lit(cfg.tenant).alias("tenant"), pl.lit(run_id).alias("run_id"),
                             pl.lit(booking_date).alias("booking_date")) for found in (journal_issues, rule_issues)),
    ], how="diagonal_relaxed"))
    folder.book("audit_events", pl.concat([folder.read("book_audit_events"),
                                           _decision_events(outcome.decisions, cfg.tenant, run_id)],
                                          how="diagonal_relaxed"))
    folder.write("open_now", receivables_now(receivables, auto))
    folder.write("current_unresolved", current)
    folder.write("run_allocations", allocations)
    # the review page's "Regeln": every rule with its state, and what the clerks' decisions propose
    folder.write("published_rules", rules.join(_rule_bookings(pl.concat(
        [state.allocations, allocations], how="diagonal_relaxed")), on="rule_id", how="left"))
    history = pl.concat([state.decision_history, _history_of(outcome, state.unresolved_tx, receivables)])
    folder.write("published_rule_proposals", propose_rules(
        history, rules, min_decisions=cfg.matching.learned_rule_min_decisions).with_columns(
        pl.lit(booking_date + timedelta(days=cfg.matching.learned_rule_valid_days)).alias("valid_until")))
    summary = {
        "n_payments_matched": payments.height, "n_rematched": again.len(),
        "n_allocations": allocations.height, "allocated_cents": int(allocations["amount_cents"].sum()),
        "n_unresolved": current.height, "unresolved_cents": int(current["unallocated_cents"].sum()),
        "n_decisions": outcome.decisions.height,
        "n_payouts_booked": paid.bookings.height, "n_payouts_returned": paid.returned.height,
        "n_payout_rows_held": paid.held.height,
        "n_decisions_rejected": outcome.decisions.filter(pl.col("status") == "rejected").height,
        "matcher": result.summary,
        "n_rules_in_force": int((rules["state"] == "approved").sum()),
        "learned_rules": result.summary.get("per_learned_rule", {}),
    }
    folder.write_json("summary", summary)
    return {k: v for k, v in summary.items() if isinstance(v, int)}


def _rule_bookings(allocations: pl.DataFrame) -> pl.DataFrame:
    """rule_id → allocations and cents every learned rule has booked so far (the rows carrying its id)."""
    return (allocations.filter(pl.col("rule_id").is_not_null()).group_by("rule_id")
            .agg(pl.len().alias("n_allocations"), pl.col("amount_cents").sum().alias("allocated_cents")))


def _history_of(outcome: DecisionOutcome, payments: pl.DataFrame, items: pl.DataFrame) -> pl.DataFrame:
    """The learning history (``matching.learned.HISTORY_SCHEMA``) of the decisions this run books, beside
    the ledger's (``LedgerState.decision_history``), so a proposal shows the night the decisions are booked."""
    from matching.learned import HISTORY_SCHEMA

    booked = outcome.decisions.filter(pl.col("status") == "booked").select("decision_id", "decided_by", "decided_at")
    return conform(
        outcome.allocations.select("decision_id", "transaction_id", "receivable_id")
        .join(booked, on="decision_id")
        .join(payments.select("transaction_id", "counterparty_iban").unique("transaction_id"), on="transaction_id",
              how="left")
        .join(items.select("receivable_id", "debtor_id").unique("receivable_id"), on="receivable_id", how="left")
        .unique(["decision_id", "debtor_id"]), HISTORY_SCHEMA)


def _decision_events(decisions: pl.DataFrame, tenant: str, run_id: str) -> pl.DataFrame:
    now = datetime.now(UTC)
    rows = [{"tenant": tenant, "run_id": run_id, "at": now, "event": f"decision.{d['status']}",
             "subject": d["decision_id"],
             "detail": json.dumps({"transaction_id": d["transaction_id"], "action": d["action"],
                                   "by": d["decided_by"], "reason": d["reason"]})}
            for d in decisions.iter_rows(named=True)]
    return pl.DataFrame(rows, schema=AUDIT_EVENTS)
