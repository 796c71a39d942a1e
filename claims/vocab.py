"""The vocabularies of Stadtkasse: every closed set of codes the ledger, the reports and the review page share.

Each is a :class:`enum.StrEnum` whose values are exactly the strings stored in Parquet and DuckDB, so a
member *is* the stored string (``Rule.CLERK == "clerk"``) and goes into Polars as it is
(``pl.lit(Rule.CLERK)`` is a String literal, no per-row conversion). German terms: docs/GLOSSARY.md.

>>> Rule.REFERENCE_EXACT == "reference.exact", ItemState("parked") is ItemState.PARKED
(True, True)
>>> sorted(str(r) for r in UnresolvedReason.surplus())
['double_payment', 'overpayment']
"""

from __future__ import annotations

from enum import StrEnum


class Severity(StrEnum):
    """How bad a finding about an input file is (``Issue.severity``)."""

    ERROR = "error"
    WARNING = "warning"
    INFO = "info"


class FileStatus(StrEnum):
    """What became of one delivered file (``files.status``)."""

    OK = "ok"
    REJECTED = "rejected"
    DUPLICATE = "duplicate"


class StatementKind(StrEnum):
    """Kind of a bank statement (``statements.kind``): camt ``Stmt``/``Rpt``/``Ntfctn``, MT940/MT942."""

    STATEMENT = "statement"
    REPORT = "report"
    NOTIFICATION = "notification"
    INTERIM = "interim"


class TxKind(StrEnum):
    """What matching makes of a bank row (``matching.classify``): a payment, a return, or why it is skipped."""

    PAYMENT = "payment"
    RETURN = "return"
    PENDING = "pending"
    BANK_FEE = "bank_fee"
    DEBIT = "debit"
    ZERO_AMOUNT = "zero_amount"

    @classmethod
    def skipped(cls) -> tuple[TxKind, ...]:
        """The kinds matching skips (counted in the summary by this reason)."""
        return (cls.PENDING, cls.BANK_FEE, cls.DEBIT, cls.ZERO_AMOUNT)


class Rule(StrEnum):
    """Why an allocation was made (``allocations.rule``): the evidence, the order applied, or who decided."""

    REFERENCE_EXACT = "reference.exact"
    REFERENCE_WINDOW = "reference.window"
    REFERENCE_LETTERS = "reference.letters"  # letters typed for digits (O → 0, l/I → 1), check digit confirms
    REFERENCE_TYPO = "reference.typo"
    IBAN_AMOUNT = "iban_amount"
    ORDER_AO225 = "order.ao225"          # public law, § 225 AO
    ORDER_BGB367 = "order.bgb367"        # private law, § 367 BGB
    ORDER_MIXED = "order.mixed"          # a designated set holding both laws
    PAYER_DESIGNATION = "payer_designation"  # amounts the payer wrote next to each Kassenzeichen
    DD_RETURN = "dd_return"              # reversal by a direct-debit return (negative amount)
    CLERK = "clerk"                      # a clerk's decision on the review page
    LEARNED_RULE = "learned_rule"        # an approved learned rule (payer IBAN → debtor; rule_id on the row)

    @classmethod
    def evidence(cls) -> tuple[Rule, ...]:
        """The evidence levels of :mod:`matching.designate`, strongest first (their order is the level)."""
        return (cls.REFERENCE_EXACT, cls.REFERENCE_WINDOW, cls.REFERENCE_LETTERS, cls.REFERENCE_TYPO, cls.IBAN_AMOUNT)


class UnresolvedReason(StrEnum):
    """Why a payment (or its remainder) is on the Klärungsliste (``unresolved.reason``, docs/MATCHING.md)."""

    NO_REFERENCE = "no_reference"
    UNKNOWN_REFERENCE = "unknown_reference"
    AMBIGUOUS = "ambiguous"
    SEVERAL_DEBTORS = "several_debtors"
    REFERENCE_OTHER_DEBTOR = "reference_other_debtor"
    PAYER_UNCONFIRMED = "payer_unconfirmed"
    TYPO_UNCONFIRMED = "typo_unconfirmed"
    CONFLICT = "conflict"
    DESIGNATION_INCOMPLETE = "designation_incomplete"
    DESIGNATION_SUM_MISMATCH = "designation_sum_mismatch"
    EVIDENCE_CONFLICT = "evidence_conflict"  # the reference names one debtor, the payer's IBAN another
    OVERPAYMENT = "overpayment"
    DOUBLE_PAYMENT = "double_payment"
    RETURN_UNMATCHED = "return_unmatched"
    RETURN_DUPLICATE = "return_duplicate"
    LEARNED_RULE_CONTRADICTED = "learned_rule_contradicted"  # a learned rule names another debtor than the evidence

    @classmethod
    def surplus(cls) -> tuple[UnresolvedReason, ...]:
        """Reasons whose rows are money beyond what is owed (refund or keep), not an unknown payment."""
        return (cls.OVERPAYMENT, cls.DOUBLE_PAYMENT)


class ItemState(StrEnum):
    """State of a Klärungsliste item (``unresolved.state``): ``parked`` is Verwahrgeld by a clerk's decision."""

    OPEN = "open"
    PARKED = "parked"
    RESOLVED = "resolved"


class Section(StrEnum):
    """The three parts of the Klärungsliste report, in the order they are listed."""

    UNRESOLVED = "unresolved"
    OVERPAYMENT = "overpayment"
    VERWAHRGELD = "verwahrgeld"


class DecisionAction(StrEnum):
    """What a clerk decides about a Klärungsliste payment (journal ``action``)."""

    ASSIGN = "assign"
    REFUND = "refund"
    PARK = "park"                        # the item's state becomes ItemState.PARKED
    RETRY = "retry"


class DecisionState(StrEnum):
    """A journal decision's effective state (``ledger.journal``).

    pending = waits for a second user's approval; effective = the next nightly run books it;
    withdrawn = taken back; superseded = a later decision on the same payment replaced it.
    """

    PENDING = "pending"
    EFFECTIVE = "effective"
    WITHDRAWN = "withdrawn"
    SUPERSEDED = "superseded"


class RuleKind(StrEnum):
    """What a learned rule maps (``match_rules.kind``): only payer IBAN → debtor is applied by the matcher."""

    IBAN_TO_DEBTOR = "iban_to_debtor"


class RuleState(StrEnum):
    """A learned rule's state (``match_rules.state``, ``ledger.rule_journal``).

    proposed = adopted by a user, waits for a supervisor's approval; approved = in force until
    ``valid_until``; expired = past ``valid_until``; revoked = taken back (never in force again).
    """

    PROPOSED = "proposed"
    APPROVED = "approved"
    EXPIRED = "expired"
    REVOKED = "revoked"


class Law(StrEnum):
    """The law a claim stands under; it picks the allocation order (``open_items.law``)."""

    PUBLIC = "public"                    # § 225 AO
    PRIVATE = "private"                  # § 367 BGB


class ClaimType(StrEnum):
    """The claim types (Forderungsarten) Stadtkasse knows by name (DESIGN.md §3, the default allocation order).

    Not a validator: a finance system may send any other claim type, which matching treats as a main
    claim (class ``MAIN``). These are the names the allocation order and the synthetic data use.
    """

    GRUNDSTEUER = "GRUNDSTEUER"
    GEWERBESTEUER = "GEWERBESTEUER"
    ABFALL = "ABFALL"
    HUNDESTEUER = "HUNDESTEUER"
    KITA = "KITA"
    BUSSGELD = "BUSSGELD"
    ZWANGSGELD = "ZWANGSGELD"
    RUNDFUNK_AMTSHILFE = "RUNDFUNK_AMTSHILFE"
    MAHNGEBUEHR = "MAHNGEBUEHR"
    SAEUMNISZUSCHLAG = "SAEUMNISZUSCHLAG"
    VERSPAETUNGSZUSCHLAG = "VERSPAETUNGSZUSCHLAG"
    KOSTEN = "KOSTEN"
    ZINSEN = "ZINSEN"
    MAIN = "MAIN"                        # not sent by anyone: the class of every main claim in an order


__all__ = ["ClaimType", "DecisionAction", "DecisionState", "FileStatus", "ItemState", "Law", "Rule", "RuleKind", "RuleState", "Section",
           "Severity", "StatementKind", "TxKind", "UnresolvedReason"]
