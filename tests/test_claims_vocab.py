"""claims.vocab: the members are the strings stored today, and a real night stores nothing else."""

from __future__ import annotations

import ast
import doctest
import importlib
from datetime import date
from enum import StrEnum
from pathlib import Path

import polars as pl
import pytest
from nightly_files import Entry, kz, write_mt940, write_open_items

import claims.vocab as vocab
import jobs.nightly as night
from claims.vocab import (  # the enforcement hand-off (docs/ENFORCEMENT.md)
    AllowanceMethod,
    BlockReason,
    BlockState,
    ClaimStanding,
    ClaimType,
    CollectionHold,
    CollectSkip,
    DecisionAction,
    DecisionState,
    DunningLevel,
    EnforceabilityBasis,
    EnforcementOutcome,
    EnforcementUpdateKind,
    FeeRule,
    FileStatus,
    HandoffSkip,
    Interruption,
    ItemState,
    Law,
    LimitationState,
    MahnungWaiver,
    MandateProblem,
    MandateState,
    PayoutHold,
    PayoutSkip,
    PayoutSource,
    ReturnAction,
    Rule,
    RuleKind,
    RuleState,
    Section,
    SequenceType,
    SetoffSkip,
    Severity,
    SkipReason,
    StatementKind,
    SurchargeRule,
    TxKind,
    UnresolvedReason,
)
from ledger.config import load_tenant_config
from ledger.db import connect, fetch
from ledger.journal import new_decision, record_decision
from ledger.publish import read_published
from matching.config import load_match_config
from matching.designate import RULES
from outputs.klaerungsliste import REASON_TEXT

ROOT = Path(__file__).resolve().parent.parent

#: The strings in the ledger files and goldens today: a change here is a migration, not a rename.
STORED: dict[type[StrEnum], set[str]] = {
    Severity: {"error", "warning", "info"},
    FileStatus: {"ok", "rejected", "duplicate"},
    StatementKind: {"statement", "report", "notification", "interim"},
    TxKind: {"payment", "return", "pending", "bank_fee", "debit", "zero_amount"},
    Rule: {"reference.exact", "reference.window", "reference.letters", "reference.typo", "iban_amount", "order.ao225",
           "order.bgb367", "order.mixed", "payer_designation", "dd_return", "direct_debit", "clerk", "learned_rule",
           "set_off"},
    UnresolvedReason: {"no_reference", "unknown_reference", "ambiguous", "several_debtors", "reference_other_debtor",
                       "payer_unconfirmed", "typo_unconfirmed", "conflict", "evidence_conflict", "designation_incomplete",
                       "designation_sum_mismatch", "overpayment", "double_payment",
                       "return_unmatched", "return_duplicate", "learned_rule_contradicted"},
    ItemState: {"open", "parked", "resolved"},
    Section: {"unresolved", "overpayment", "verwahrgeld"},
    DecisionAction: {"assign", "refund", "park", "retry"},
    DecisionState: {"pending", "effective", "withdrawn", "superseded"},
    Law: {"public", "private"},
    RuleKind: {"iban_to_debtor"},
    RuleState: {"proposed", "approved", "expired", "revoked"},
    BlockState: {"in_force", "awaiting_approval", "scheduled", "lifted", "expired"},
    DunningLevel: {"zahlungserinnerung", "mahnung", "vollstreckungsankuendigung", "oeffentliche_erinnerung"},
    SkipReason: {"blocked", "pending_payment", "ancillary", "public_reminder", "below_threshold", "not_due",
                 "schonfrist", "interval", "last_level", "in_enforcement"},
    BlockReason: {"MAHNSPERRE", "STUNDUNG", "ADV", "INSOLVENZ", "NIEDERSCHLAGUNG", "RATENZAHLUNG", "VERSTORBEN",
                  "ADRESSE_UNBEKANNT"},
    FeeRule: {"vo_vwvg_9", "vo_vwvg_9.cap", "charged_before", "no_fee_level", "ancillary"},
    SurchargeRule: {"ao_240", "gebg_18", "bgb_288", "none", "ancillary"},
    SequenceType: {"FRST", "RCUR", "OOFF", "FNAL"},
    MandateState: {"active", "blocked", "expired", "refused"},
    MandateProblem: {"two_debtors", "no_iban", "iban_unclear", "no_mandate_date", "mandate_date_future", "unused",
                     "one_off_used"},
    CollectSkip: {"no_mandate", "foreign_creditor", "mandate_refused", "mandate_blocked", "mandate_expired",
                  "claim_blocked", "nothing_open", "not_due", "overdue", "prenotice_late", "already_collected",
                  "returned", "reference_too_long"},
    ReturnAction: {"block_mandate", "retry_once", "none"},
    CollectionHold: {"batch_amount_mismatch", "batch_duplicate"},
    EnforcementOutcome: {"paid", "partly_paid", "instalments", "uncollectible", "moved", "returned", "written_off"},
    EnforcementUpdateKind: {"partial_payment", "settled", "suspended", "resumed"},
    PayoutHold: {"payout_amount_mismatch", "payout_duplicate", "payout_return_unmatched", "payout_return_duplicate"},
    vocab.DocumentKind: {"notice_export", "mahnung", "handoff", "update", "outcome", "letter"},
    vocab.SubjectKind: {"debtor", "case", "receivable"},
    PayoutSource: {"refund", "forward"},
    SetoffSkip: {"unknown_payer", "several_debtors"},
    PayoutSkip: {"already_paid", "iban_invalid", "no_payee_name", "payee_name_invalid", "remittance_too_long",
                 "set_off_in_full", "payee_blocked", "creditor_unknown", "reversed_after_forward",
                 "creditor_account_conflict"},
    HandoffSkip: {"in_enforcement", "nothing_open", "main_claim_closed", "blocked", "blocked_since_mahnung",
                  "pending_payment", "identity_incomplete", "identity_conflict", "no_mahnung", "schonfrist",
                  "mahnfrist", "below_threshold", "main_claim_skipped", "no_competent_authority"},
    MahnungWaiver: {"disproportionate", "without_means", "address_unknown", "continuing_garnishment",
                    "public_reminder", "refused"},
    LimitationState: {"running", "warning", "expired"},
    ClaimStanding: {"open", "in_enforcement", "instalments", "uncollectible"},
    EnforceabilityBasis: {"vwvg_6_mahnung", "vwvg_6_waiver", "vwvg_6_4"},
    AllowanceMethod: {"individual", "flat", "time_barred"},
    Interruption: {"mahnung", "stundung", "adv", "enforcement"},
    vocab.ErsuchenMessage: {"ersuchen", "aenderung", "aussetzung", "ruecknahme", "rueckgabe", "sachstand",
                            "information"},
    vocab.ErsuchenState: {"flagged", "accepted", "suspended", "returned", "withdrawn", "settled", "uncollectible"},
    vocab.ErsuchenCheck: {"no_authority", "no_notice", "not_enforceable", "no_debtor", "not_competent", "duplicate",
                          "source_closed", "nothing_open", "surcharge_doubt", "unknown_case", "below_paid"},
    vocab.ClaimChange: {"amended", "cancelled"},
    vocab.OfficeCaseState: {"open", "suspended", "settled"},
    vocab.OutcomeState: {"booked", "held"},
    vocab.OutcomeHold: {"changed", "case_unknown", "other_office", "kassenzeichen_not_in_case"},
    vocab.ErsuchenOutcome: {"accepted", "returned", "flagged", "repeated", "applied"},
    vocab.ErsuchenFeedback: {"accepted", "returned", "payment_forwarded", "settled", "uncollectible", "withdrawn",
                             "cost_invoice"},
    vocab.ErsuchenCostItem: {"contribution", "outlay"},
    vocab.ErsuchenDecision: {"accept", "return", "uncollectible"},
    vocab.AmtshilfeFigure: {"received", "accepted", "flagged", "returned", "withdrawn", "settled", "uncollectible",
                            "collected", "forwarded", "cost_invoiced"},
    vocab.OutgoingState: {"sent", "returned", "uncollectible", "settled", "recalled"},
    vocab.OutgoingEvent: {"sent", "accepted", "payment_forwarded", "settled", "uncollectible", "returned", "withdrawn",
                          "cost_invoice", "information", "recalled"},
}


@pytest.mark.parametrize("enum", list(STORED), ids=lambda e: e.__name__)
def test_values_are_the_stored_strings(enum: type[StrEnum]) -> None:
    assert {m.value for m in enum} == STORED[enum]
    assert all(isinstance(m, str) and str(m) == m.value and f"{m}" == m.value for m in enum)


def test_members_go_into_polars_as_plain_strings() -> None:
    df = pl.DataFrame({"r": ["clerk", "reference.exact"]}).with_columns(pl.lit(Rule.CLERK).alias("lit"))
    assert df.schema["lit"] == pl.String and df["lit"].to_list() == ["clerk", "clerk"]
    assert df.filter(pl.col("r") == Rule.CLERK).height == 1
    assert df.filter(pl.col("r").is_in(Rule.evidence())).height == 1


def test_matching_and_outputs_use_the_vocabularies() -> None:
    assert tuple(RULES) == Rule.evidence()
    assert set(REASON_TEXT) == set(UnresolvedReason)          # every reason produced has a German text


def test_claim_types_cover_the_default_allocation_order() -> None:
    cfg = load_match_config(None)
    assert set(cfg.public) | set(cfg.private) <= set(ClaimType)


def test_kernel_imports_nothing_of_ours() -> None:
    ours = {"claims", "parsers", "matching", "outputs", "ledger", "flows", "synth", "review"}
    for name in ("vocab", "money"):
        tree = ast.parse((ROOT / "claims" / f"{name}.py").read_text(encoding="utf-8"))
        mods = {a.name.split(".")[0] for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
        mods |= {n.module.split(".")[0] for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) and n.module}
        assert not mods & ours, (name, mods & ours)


def test_docstring_examples_hold() -> None:
    for name in ("claims.vocab", "claims.money", "review.amounts", "ledger.journal"):
        result = doctest.testmod(importlib.import_module(name))
        assert result.failed == 0 and result.attempted > 0, name


def test_a_real_night_stores_only_members(tmp_path: Path) -> None:
    """Two nights (a parked payment, a rejected and a duplicate file): every coded column holds members."""
    (tmp_path / "kasse.toml").write_text('[tenant]\nid = "stadt"\n', encoding="utf-8")
    cfg = load_tenant_config(tmp_path / "kasse.toml")
    k = [kz(i) for i in range(4)]
    d1, d2 = date(2026, 11, 16), date(2026, 11, 17)
    write_open_items(cfg.inbox / "export_1116.csv", [("R0", k[0], 15000), ("R1", k[1], 9900), ("R2", k[2], 5000)])
    write_mt940(cfg.inbox / "bank_1116.sta", day=d1, seq=1, opening=100000, entries=[
        Entry(15000, f"KZ {k[0]}", name="Schuldner R0"), Entry(12000, f"KZ {k[1]}", name="Schuldner R1"),
        Entry(4200, "Miete November", name="Unbekannt GmbH"), Entry(-350, "Kontofuehrung"),
    ])
    (cfg.inbox / "junk.sta").write_text(":20:X\n:61:broken\n", encoding="utf-8")
    night.run_night(cfg, d1)
    kl, _, _ = read_published(cfg.state_dir / "published", "stadt")
    tx = kl.filter(pl.col("amount_cents") == 4200)["transaction_id"][0]
    record_decision(cfg.state_dir, new_decision("stadt", tx, "park", user="anna", role="clerk", amount_cents=0,
                                                requires_approval=False, note="Mieter unbekannt"))
    write_open_items(cfg.inbox / "export_1116_again.csv", [("R0", k[0], 15000), ("R1", k[1], 9900), ("R2", k[2], 5000)])
    night.run_night(cfg, d2)
    con = connect(cfg.ledger)
    try:
        def distinct(sql: str) -> set[str]:
            return {v for v in fetch(con, sql).to_series().to_list() if v is not None}

        rules, reasons = distinct("SELECT DISTINCT rule FROM allocations"), distinct("SELECT DISTINCT reason FROM unresolved")
        states, statuses = distinct("SELECT DISTINCT state FROM unresolved"), distinct("SELECT DISTINCT status FROM files")
        kinds = distinct("SELECT DISTINCT kind FROM statements")
    finally:
        con.close()
    assert rules and rules <= set(Rule)
    assert reasons and reasons <= set(UnresolvedReason)
    assert states <= set(ItemState) and ItemState.PARKED in states
    assert statuses <= set(FileStatus) and FileStatus.OK in statuses and len(statuses) >= 2, statuses
    assert kinds and kinds <= set(StatementKind)


def test_vocab_lists_every_enum() -> None:
    enums = {n for n, v in vars(vocab).items() if isinstance(v, type) and issubclass(v, StrEnum) and v is not StrEnum}
    assert enums == set(vocab.__all__) == {e.__name__ for e in STORED} | {"ClaimType"}
