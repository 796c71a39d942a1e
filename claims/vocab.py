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
    DIRECT_DEBIT = "direct_debit"        # one claim's share of our own collection's batch credit (collection.returns)
    CLERK = "clerk"                      # a clerk's decision on the review page
    LEARNED_RULE = "learned_rule"        # an approved learned rule (payer IBAN → debtor; rule_id on the row)
    SET_OFF = "set_off"                  # money due to the debtor (a refund) settles their due claim (Aufrechnung)

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
    # further types the dunning run's surcharge table names (DOMAIN.md §1.6)
    VERGNUEGUNGSTEUER = "VERGNUEGUNGSTEUER"
    ZWEITWOHNUNGSTEUER = "ZWEITWOHNUNGSTEUER"
    STRASSENREINIGUNG = "STRASSENREINIGUNG"
    ABWASSER = "ABWASSER"
    KAG_BEITRAG = "KAG_BEITRAG"
    VERWALTUNGSGEBUEHR = "VERWALTUNGSGEBUEHR"
    MAIN = "MAIN"                        # not sent by anyone: the class of every main claim in an order

    @classmethod
    def ancillary(cls) -> tuple[ClaimType, ...]:
        """Nebenforderungen: no Mahngebühr, no Säumniszuschlag, no interest on them (§ 240 Abs. 2 AO)."""
        return (cls.MAHNGEBUEHR, cls.SAEUMNISZUSCHLAG, cls.KOSTEN, cls.ZINSEN, cls.VERSPAETUNGSZUSCHLAG)


__all__ = ["ClaimType", "DecisionAction", "DecisionState", "FileStatus", "ItemState", "Law", "Rule", "RuleKind", "RuleState", "Section",
           "Severity", "StatementKind", "TxKind", "UnresolvedReason"]


# --- the dunning run (docs/DUNNING.md) ------------------------------------------------------------------


class DunningLevel(StrEnum):
    """A notice's level in the dunning sequence (``dunning.select``), in the order they are sent."""

    ZAHLUNGSERINNERUNG = "zahlungserinnerung"              # before the due date: no legal effect, no fee
    MAHNUNG = "mahnung"                                    # § 6 Abs. 3, § 19 VwVG NRW: the fee arises here
    VOLLSTRECKUNGSANKUENDIGUNG = "vollstreckungsankuendigung"   # another Mahnung in law: free (VG Düsseldorf)
    OEFFENTLICHE_ERINNERUNG = "oeffentliche_erinnerung"    # a published reminder: replaces the Mahnung, no fee

    @classmethod
    def sequence(cls) -> tuple[DunningLevel, ...]:
        """The levels a run may send, in order (a tenant picks a subsequence holding ``mahnung``)."""
        return (cls.ZAHLUNGSERINNERUNG, cls.MAHNUNG, cls.VOLLSTRECKUNGSANKUENDIGUNG)


class SkipReason(StrEnum):
    """Why the dunning run leaves an open claim out (``skipped.reason``); the first that applies wins."""

    BLOCKED = "blocked"                  # a block in force: ``skipped.block_reason`` says which
    PENDING_PAYMENT = "pending_payment"  # a Klärungsliste payment could be this debtor's: held back
    ANCILLARY = "ancillary"              # a Nebenforderung: enforced with its main claim (§ 6 Abs. 4 VwVG NRW)
    PUBLIC_REMINDER = "public_reminder"  # the claim type is reminded publicly (no individual Mahnung)
    BELOW_THRESHOLD = "below_threshold"  # open principal under the small-amount limit (§ 23 KomHVO)
    NOT_DUE = "not_due"                  # not yet overdue (and no Zahlungserinnerung due)
    SCHONFRIST = "schonfrist"            # overdue, but the week of § 6 Abs. 1 VwVG NRW has not passed
    INTERVAL = "interval"                # the last notice is more recent than the interval
    LAST_LEVEL = "last_level"            # every level was sent: a matter for the enforcement hand-off
    IN_ENFORCEMENT = "in_enforcement"    # in an open enforcement case: the enforcement office has it


class BlockReason(StrEnum):
    """Why dunning is blocked for a claim or debtor (export ``block_reason``; DOMAIN.md §1.8, §1.9)."""

    MAHNSPERRE = "MAHNSPERRE"            # a manual block (Fachamt or treasury)
    STUNDUNG = "STUNDUNG"                # § 222 AO
    ADV = "ADV"                          # Aussetzung der Vollziehung, § 361 AO / § 80 VwGO
    INSOLVENZ = "INSOLVENZ"              # § 89 InsO
    NIEDERSCHLAGUNG = "NIEDERSCHLAGUNG"  # § 261 AO: monitoring only
    RATENZAHLUNG = "RATENZAHLUNG"        # instalment agreement, § 5 Abs. 2 VwVG NRW
    VERSTORBEN = "VERSTORBEN"            # debtor deceased, heirs unclear
    ADRESSE_UNBEKANNT = "ADRESSE_UNBEKANNT"   # no Mahnung needed (VV VwVG NRW)


class BlockState(StrEnum):
    """A dunning block's state on a day (``ledger.block_journal``).

    in_force = it holds the claim (or debtor) back; awaiting_approval = longer than the setter may set
    alone (90 days) and past that part, so it holds nothing until a second user (supervisor) approves it;
    scheduled = its first day is still to come; lifted = taken back; expired = past its end.
    """

    IN_FORCE = "in_force"
    AWAITING_APPROVAL = "awaiting_approval"
    SCHEDULED = "scheduled"
    LIFTED = "lifted"
    EXPIRED = "expired"


class FeeRule(StrEnum):
    """Why a claim's Mahngebühr is what it is (``mahngebuehr_rule``)."""

    VO_VWVG_9 = "vo_vwvg_9"              # § 9 VO VwVG NRW: 6,00 € + 1 % above 50,00 €
    VO_VWVG_9_CAP = "vo_vwvg_9.cap"      # the same, capped at 52,00 € (the claim carries Säumniszuschläge)
    CHARGED_BEFORE = "charged_before"    # once per claim: an earlier Mahnung charged it
    NO_FEE_LEVEL = "no_fee_level"        # Zahlungserinnerung, Vollstreckungsankündigung, public reminder
    ANCILLARY = "ancillary"              # no fee on a Nebenforderung


class SurchargeRule(StrEnum):
    """Which law sets a claim's late-payment charge (``surcharge_rule``; DOMAIN.md §1.6)."""

    AO_240 = "ao_240"                    # Säumniszuschlag, § 240 AO (KAG claims via § 12 KAG NRW)
    GEBG_18 = "gebg_18"                  # § 18 GebG NRW: § 240 AO mechanics after one month of arrears
    BGB_288 = "bgb_288"                  # private law: default interest, § 288 BGB
    NONE = "none"                        # the claim type carries none (e.g. Bußgeld)
    ANCILLARY = "ancillary"              # never on a Nebenforderung (§ 240 Abs. 2 AO)


__all__ += ["BlockReason", "BlockState", "DunningLevel", "FeeRule", "SkipReason", "SurchargeRule"]


# --- SEPA direct-debit collections (docs/SEPA_COLLECTION.md) ----------------------------------------------


class SequenceType(StrEnum):
    """The SEPA sequence type of a collection (pain.008 ``SeqTp``; the stored value is the ISO code)."""

    FRST = "FRST"                        # first collection of a recurrent mandate
    RCUR = "RCUR"                        # a further collection (German banks accept it for the first, too)
    OOFF = "OOFF"                        # the only collection of a one-off mandate
    FNAL = "FNAL"                        # the last collection of a recurrent mandate


class MandateState(StrEnum):
    """A mandate's state on a day (``collection.mandates``); ``state_reason`` says why when not active."""

    ACTIVE = "active"
    BLOCKED = "blocked"                  # a return whose action blocks the mandate (reason: the return code)
    EXPIRED = "expired"                  # 36 months without a collection (SEPA rulebook), or a one-off used
    REFUSED = "refused"                  # the export's data cannot be a mandate (reason: MandateProblem)


class MandateProblem(StrEnum):
    """Why a mandate of the export is refused or expired (``state_reason`` beside a return code)."""

    TWO_DEBTORS = "two_debtors"          # one mandate id on claims of two debtors
    NO_IBAN = "no_iban"                  # no debtor IBAN on the mandate's claims
    IBAN_UNCLEAR = "iban_unclear"        # several IBANs on one mandate (or a list in one field)
    NO_MANDATE_DATE = "no_mandate_date"  # the date of signature is missing
    MANDATE_DATE_FUTURE = "mandate_date_future"   # signed after the day of the register
    UNUSED = "unused"                    # expired: no collection within the expiry months
    ONE_OFF_USED = "one_off_used"        # expired: the one collection of a one-off mandate was presented


class CollectSkip(StrEnum):
    """Why the collection run leaves a claim out (``skipped.reason``); the first that applies wins."""

    NO_MANDATE = "no_mandate"            # the claim names no mandate: the debtor pays by transfer
    FOREIGN_CREDITOR = "foreign_creditor"   # an Amtshilfe claim: not collected under our creditor id
    MANDATE_REFUSED = "mandate_refused"  # the mandate's data is refused (``mandate_reason`` says why)
    MANDATE_BLOCKED = "mandate_blocked"  # blocked by a return (``mandate_reason``: the return code)
    MANDATE_EXPIRED = "mandate_expired"  # 36 months unused, or a one-off mandate already used
    CLAIM_BLOCKED = "claim_blocked"      # the claim carries a block reason (Stundung, Insolvenz, …)
    NOTHING_OPEN = "nothing_open"        # open amount is zero or less
    NOT_DUE = "not_due"                  # its collection date (due date on a TARGET2 day) is later
    OVERDUE = "overdue"                  # due longer ago than the window: left to dunning
    PRENOTICE_LATE = "prenotice_late"    # the notice (pre-notification) came later than the deadline
    ALREADY_COLLECTED = "already_collected"   # collected before and not returned
    RETURNED = "returned"                # returned and no (further) retry: left to dunning
    REFERENCE_TOO_LONG = "reference_too_long"  # the Kassenzeichen does not fit the 35-character end-to-end id


class ReturnAction(StrEnum):
    """What a direct-debit return reason does beyond reopening the claim (``[collection] return_actions``)."""

    BLOCK_MANDATE = "block_mandate"      # no further collection on this mandate until a clerk clears it
    RETRY_ONCE = "retry_once"            # the claim is collected once more at the next collection date
    NONE = "none"                        # reopen only: the debtor enters the next dunning run


class CollectionHold(StrEnum):
    """Why a batch credit of our own collection is not broken down (held for a clerk)."""

    BATCH_AMOUNT_MISMATCH = "batch_amount_mismatch"   # the credit is not the sum of the batch's collections
    BATCH_DUPLICATE = "batch_duplicate"  # the batch's claims were already credited by another entry


__all__ += ["CollectSkip", "CollectionHold", "MandateProblem", "MandateState", "ReturnAction", "SequenceType"]


class PayoutHold(StrEnum):
    """Why a bank row of our own payouts is held for a clerk (the nightly run, collection/payout_back.py)."""

    PAYOUT_AMOUNT_MISMATCH = "payout_amount_mismatch"    # the debit is not the payout's amount / the batch's sum
    PAYOUT_DUPLICATE = "payout_duplicate"                # the payout was booked by another debit already
    PAYOUT_RETURN_UNMATCHED = "payout_return_unmatched"  # a return naming our payout, of another amount
    PAYOUT_RETURN_DUPLICATE = "payout_return_duplicate"  # the payout came back before


__all__ += ["PayoutHold"]


# --- SEPA payouts and set-off (docs/SEPA_PAYOUT.md) -----------------------------------------------------


class PayoutSource(StrEnum):
    """What money due to a payee comes from (``payouts.source``, ``setoffs.source``)."""

    REFUND = "refund"                    # a clerk's refund decision (ledger ``refunds``; source_id: decision_id)
    FORWARD = "forward"                  # money collected for another creditor (source_id: <creditor>@<yyyymmdd>)


class SetoffSkip(StrEnum):
    """Why money due to a payee is paid out without set-off: its debtor is not certain."""

    UNKNOWN_PAYER = "unknown_payer"      # the credit was allocated to no claim: whose money it is is not known
    SEVERAL_DEBTORS = "several_debtors"  # the credit was allocated to claims of two or more debtors


class PayoutSkip(StrEnum):
    """Why the payout run does not pay money due out (``skipped.reason``); the first that applies wins."""

    ALREADY_PAID = "already_paid"        # paid out (or set off) in full by an earlier run
    IBAN_INVALID = "iban_invalid"        # the refund IBAN fails schwifty's check: never paid
    NO_PAYEE_NAME = "no_payee_name"      # the credit's counterparty has no name
    PAYEE_NAME_INVALID = "payee_name_invalid"   # the name holds characters outside the SEPA set or is too long
    REMITTANCE_TOO_LONG = "remittance_too_long"  # the Kassenzeichen do not fit the 140-character remittance
    SET_OFF_IN_FULL = "set_off_in_full"  # nothing left after the set-off: no transfer
    PAYEE_BLOCKED = "payee_blocked"      # a returned transfer blocked the IBAN for payouts (payee_blocks)
    CREDITOR_UNKNOWN = "creditor_unknown"  # a forward's creditor is not in [[creditors]]: no account to pay to
    REVERSED_AFTER_FORWARD = "reversed_after_forward"  # reversals since the last forward exceed what came in
    CREDITOR_ACCOUNT_CONFLICT = "creditor_account_conflict"  # the creditor's open requests name different IBANs


__all__ += ["PayoutSkip", "PayoutSource", "SetoffSkip"]


# --- the case files (docs/DOCUMENTS.md) ------------------------------------------------------------------


class DocumentKind(StrEnum):
    """What a document in a case file is (``ledger.documents``; docs/DOCUMENTS.md)."""

    NOTICE_EXPORT = "notice_export"      # the claim's notice (Bescheid) as the finance system exported it
    MAHNUNG = "mahnung"                  # a booked dunning letter, its pages exactly as printed and sent
    HANDOFF = "handoff"                  # the hand-off record to the enforcement office
    UPDATE = "update"                    # an update to the enforcement office (paid, partly paid, suspended)
    OUTCOME = "outcome"                  # an outcome the enforcement office returned
    LETTER = "letter"                    # any other letter to or from the debtor


class SubjectKind(StrEnum):
    """Whose case file a document is filed in: a debtor, an enforcement case or one claim."""

    DEBTOR = "debtor"
    CASE = "case"
    RECEIVABLE = "receivable"


__all__ += ["DocumentKind", "SubjectKind"]


# --- the enforcement hand-off (issue 17; docs/ENFORCEMENT.md) -------------------------------------------


class EnforcementUpdateKind(StrEnum):
    """What an update to the enforcement office says about a handed case (the updates file)."""

    PARTIAL_PAYMENT = "partial_payment"  # a payment reached us: the new open amounts per claim
    SETTLED = "settled"                  # paid in full: case settled, stop all measures
    SUSPENDED = "suspended"              # a block since the hand-off (Stundung, AdV, insolvency): pause
    RESUMED = "resumed"                  # the block ended: go on


__all__ += ["EnforcementUpdateKind"]


class HandoffSkip(StrEnum):
    """Why the enforcement hand-off leaves an open claim out (``enforcement.select``); the first that applies
    wins, in this order."""

    IN_ENFORCEMENT = "in_enforcement"        # already in an open enforcement case: never handed over twice
    NOTHING_OPEN = "nothing_open"            # open amount zero or less
    MAIN_CLAIM_CLOSED = "main_claim_closed"  # a Nebenforderung whose main claim is no longer open
    BLOCKED = "blocked"                      # a block in force (``block_reason`` says which, BlockReason)
    BLOCKED_SINCE_MAHNUNG = "blocked_since_mahnung"   # a block held since the Mahnung: a new Mahnung is due
    PENDING_PAYMENT = "pending_payment"      # a Klärungsliste payment could be the debtor's: the debtor waits
    IDENTITY_INCOMPLETE = "identity_incomplete"   # name or postal address missing or unusable
    IDENTITY_CONFLICT = "identity_conflict"  # the debtor's claims disagree on the birth date
    NO_MAHNUNG = "no_mahnung"                # no Mahnung after the due date and none legitimately left out
    SCHONFRIST = "schonfrist"                # the week of § 6 Abs. 1 VwVG NRW has not passed
    MAHNFRIST = "mahnfrist"                  # the Mahnung's deadline + postal + bank-lag buffer has not passed
    BELOW_THRESHOLD = "below_threshold"      # main claim + its Nebenforderungen under the hand-off threshold
    MAIN_CLAIM_SKIPPED = "main_claim_skipped"   # a Nebenforderung goes only with its main claim (§ 6 Abs. 4)
    NO_COMPETENT_AUTHORITY = "no_competent_authority"   # debtor outside the district, no authority in the directory


class MahnungWaiver(StrEnum):
    """Why no Mahnung was needed before enforcement (DOMAIN.md §1.3, VV VwVG NRW; OVG Münster)."""

    DISPROPORTIONATE = "disproportionate"    # the Mahnung's cost is out of proportion to the debt
    WITHOUT_MEANS = "without_means"          # the debtor is obviously without means
    ADDRESS_UNKNOWN = "address_unknown"      # the address is unknown
    CONTINUING_GARNISHMENT = "continuing_garnishment"   # a Dauerpfändung is already running
    PUBLIC_REMINDER = "public_reminder"      # a public reminder was published (its deadline is given)
    REFUSED = "refused"                      # the debtor has seriously and finally refused to pay


class EnforcementOutcome(StrEnum):
    """What the enforcement office reports back per case or claim (issue 17 §2; shared with the file format)."""

    PAID = "paid"                            # settled by payment
    PARTLY_PAID = "partly_paid"              # part collected, the rest still enforced
    INSTALMENTS = "instalments"              # instalment agreement (§ 5 Abs. 2 VwVG NRW): enforcement paused
    UNCOLLECTIBLE = "uncollectible"          # fruitless (fruchtlos): nothing to seize
    MOVED = "moved"                          # the debtor moved (new address, or out of the office's area)
    RETURNED = "returned"                    # the office hands the case back without result
    WRITTEN_OFF = "written_off"              # Niederschlagung (§ 261 AO): the claim exists, collection stops

    @classmethod
    def completed(cls) -> tuple[EnforcementOutcome, ...]:
        """The outcomes that complete (erledigen) an enforcement claim for the key figures (DOMAIN.md §6.2:
        settled, uncollectible, returned; a Niederschlagung ends the active enforcement too)."""
        return (cls.PAID, cls.UNCOLLECTIBLE, cls.RETURNED, cls.WRITTEN_OFF)


class LimitationState(StrEnum):
    """Where a claim stands in its payment limitation period (Zahlungsverjährung, ``enforcement.limitation``)."""

    RUNNING = "running"                      # more than the warning days left
    WARNING = "warning"                      # expires within ``[enforcement] limitation_warning_days``
    EXPIRED = "expired"                      # time-barred: under the AO the claim is extinguished (§ 47 AO)


class ClaimStanding(StrEnum):
    """A claim's state for the valuation of receivables (Forderungsbewertung, ``enforcement.valuation``)."""

    OPEN = "open"                            # open, not in enforcement
    IN_ENFORCEMENT = "in_enforcement"        # handed to the enforcement office, no completing outcome
    INSTALMENTS = "instalments"              # an instalment agreement in force
    UNCOLLECTIBLE = "uncollectible"          # found uncollectible or written off (Niederschlagung): individual allowance


class EnforceabilityBasis(StrEnum):
    """Why a handed-over claim is enforceable: the enforceability statement's basis (§ 6 VwVG NRW)."""

    MAHNUNG = "vwvg_6_mahnung"               # Leistungsbescheid, due, Schonfrist passed, Mahnung with deadline passed
    WAIVER = "vwvg_6_waiver"                 # the same, the Mahnung legitimately left out (DOMAIN.md §1.3)
    ANCILLARY = "vwvg_6_4"                   # a Nebenforderung the main claim's Mahnung warned of (§ 6 Abs. 4)


class AllowanceMethod(StrEnum):
    """How a claim's valuation allowance is set (``enforcement.valuation``; audit checklist item 27)."""

    INDIVIDUAL = "individual"                # Einzelwertberichtigung: found uncollectible or written off
    FLAT = "flat"                            # Pauschalwertberichtigung: the rate of its age class
    TIME_BARRED = "time_barred"              # the limitation period has run out: extinguished (§ 47 AO), write off


class Interruption(StrEnum):
    """What interrupts the payment limitation period so that it starts again (DOMAIN.md §1.10)."""

    MAHNUNG = "mahnung"                      # a written demand for payment (every Mahnung-level notice)
    STUNDUNG = "stundung"                    # deferral (§ 222 AO)
    ADV = "adv"                              # Aussetzung der Vollziehung
    ENFORCEMENT = "enforcement"              # an enforcement measure (hand-off, garnishment, Vermögensauskunft …)


__all__ += ["AllowanceMethod", "ClaimStanding", "EnforceabilityBasis", "EnforcementOutcome", "HandoffSkip", "Interruption", "LimitationState", "MahnungWaiver"]


class OfficeCaseState(StrEnum):
    """The state of a case another tenant handed to this tenant's enforcement office (issue 17 §4), from the
    latest update received for it (``ledger.office_state``)."""

    OPEN = "open"                            # received; enforce (a partial payment or a resumption keeps it open)
    SUSPENDED = "suspended"                  # the creditor suspended it (Stundung, AdV, insolvency …): pause
    SETTLED = "settled"                      # paid in full at the creditor: STOP all measures


__all__ += ["OfficeCaseState"]
# --- enforcement requests from other creditors (issue 18; docs/AMTSHILFE.md) -----------------------------


class ErsuchenMessage(StrEnum):
    """The messages of an enforcement request's life cycle, named as in XAmtshilfe (DOMAIN.md §5; the
    number is XAmtshilfe's). Inbound: from the requesting creditor; outbound: our answers."""

    ERSUCHEN = "ersuchen"                    # .100 a request (inbound; outbound for §4, requests going out)
    AENDERUNG = "aenderung"                  # .101 the creditor changes an open request (amounts, address)
    AUSSETZUNG = "aussetzung"                # .102 the creditor suspends enforcement (until a day or further notice)
    RUECKNAHME = "ruecknahme"                # .103 the creditor withdraws the request
    RUECKGABE = "rueckgabe"                  # .104 we return the request (not accepted, or given back), with a reason
    SACHSTAND = "sachstand"                  # .105 Aktion: a status report (accepted, paid, forwarded, fruitless …)
    INFORMATION = "information"              # .999 free text, only where no other message fits


class ErsuchenState(StrEnum):
    """Where a request stands (DOMAIN.md §5, the life cycle): received → accepted | returned | flagged;
    accepted → in enforcement → (changed | suspended)* → settled | uncollectible | returned | withdrawn."""

    FLAGGED = "flagged"                      # a check wants a person before it is accepted or returned
    ACCEPTED = "accepted"                    # a case of the foreign creditor, in enforcement
    SUSPENDED = "suspended"                  # the creditor suspended it
    RETURNED = "returned"                    # returned to the creditor (Rückgabe) with a reason
    WITHDRAWN = "withdrawn"                  # the creditor withdrew it (Rücknahme)
    SETTLED = "settled"                      # paid in full and forwarded
    UNCOLLECTIBLE = "uncollectible"          # enforcement was fruitless (Fruchtlosigkeit)


class ErsuchenCheck(StrEnum):
    """Why a request is returned or held for a person (issue 18 §2; texts in ``outputs``)."""

    NO_AUTHORITY = "no_authority"            # the requesting authority is missing (name or id, or its file number)
    NO_NOTICE = "no_notice"                  # no underlying act, or one without its authority, date or file number
    NOT_ENFORCEABLE = "not_enforceable"      # no statement that the claims are enforceable (VGH BW 2 S 535/25)
    NO_DEBTOR = "no_debtor"                  # the debtor cannot be identified (name, address)
    NOT_COMPETENT = "not_competent"          # the debtor's address lies outside our district
    DUPLICATE = "duplicate"                  # the same creditor and file number is an open case already
    SOURCE_CLOSED = "source_closed"          # a Beitragsservice/WDR request for NRW after the cut-off (not run-off)
    NOTHING_OPEN = "nothing_open"            # the amounts demanded add up to nothing
    SURCHARGE_DOUBT = "surcharge_doubt"      # a Säumniszuschlag not fitting the Rundfunkbeitrag rule: a person looks (flag)
    UNKNOWN_CASE = "unknown_case"            # a change, suspension or withdrawal names no open request of this creditor
    BELOW_PAID = "below_paid"                # an Änderung would lower a claim below what was already paid: a person looks (flag)


__all__ += ["ErsuchenCheck", "ErsuchenMessage", "ErsuchenState"]


# --- the import of the enforcement office's outcomes (docs/ENFORCEMENT.md, "Importing outcomes") -----------


class OutcomeState(StrEnum):
    """What the nightly import made of an outcome (``enforcement_outcomes.state``)."""

    BOOKED = "booked"                        # booked: it changes the claims' state, its fees are claims
    HELD = "held"                            # recorded, not booked: a clerk looks at it (``hold_reason``)


class OutcomeHold(StrEnum):
    """Why an outcome of the enforcement office was held instead of booked (``enforcement.outcomes_apply``)."""

    CHANGED = "changed"                      # the same outcome id came before with other content (digest)
    CASE_UNKNOWN = "case_unknown"            # the case number is not one the tenant handed over
    OTHER_OFFICE = "other_office"            # the case was handed to another enforcement office (OfficeId)
    KASSENZEICHEN_NOT_IN_CASE = "kassenzeichen_not_in_case"   # the outcome names a claim that is not in the case


__all__ += ["OutcomeHold", "OutcomeState"]


class ErsuchenOutcome(StrEnum):
    """What the checks made of one received message (``amtshilfe.checks``; texts in ``outputs``)."""

    ACCEPTED = "accepted"                    # a new request passed every check: a case of the foreign creditor
    RETURNED = "returned"                    # not accepted: a Rückgabe with the first check that held
    FLAGGED = "flagged"                      # a person looks first (surcharge doubt, a differing duplicate …)
    REPEATED = "repeated"                    # the same content again (a repeated delivery): adds nothing
    APPLIED = "applied"                      # a change, suspension or withdrawal of an open request, applied


class ErsuchenFeedback(StrEnum):
    """What we report back to a requesting creditor (DOMAIN.md §4.4, §9.1 r. 20; ``amtshilfe.feedback``)."""

    ACCEPTED = "accepted"                    # the request is a case of ours now (with our case number)
    RETURNED = "returned"                    # the request is returned, with the reason (Rückgabe)
    PAYMENT_FORWARDED = "payment_forwarded"  # money collected and forwarded (a partial payment, or the last)
    SETTLED = "settled"                      # paid in full and forwarded: the case is closed
    UNCOLLECTIBLE = "uncollectible"          # enforcement was fruitless (Fruchtlosigkeit)
    WITHDRAWN = "withdrawn"                  # the creditor's withdrawal is carried out (with what was forwarded)
    COST_INVOICE = "cost_invoice"            # the cost contributions and outlays of a period


class ErsuchenCostItem(StrEnum):
    """An item of a cost invoice to a requesting creditor (``amtshilfe.feedback.cost_invoice``)."""

    CONTRIBUTION = "contribution"            # the flat contribution per accepted request (§ 5 Abs. 1 VO VwVG NRW)
    OUTLAY = "outlay"                        # an outlay (Auslage) of the case the creditor reimburses


class ClaimChange(StrEnum):
    """How a claim of our own books changes after it was booked (table ``claim_changes``, migration 15;
    ``ledger.amtshilfe_claims``). The claims table stays append-only: the latest change of a claim wins."""

    AMENDED = "amended"                      # the claim's amount from now on (never below what is allocated to it)
    CANCELLED = "cancelled"                  # the open part is closed; what is allocated to it stays (and is forwarded)


__all__ += ["ClaimChange", "ErsuchenCheck", "ErsuchenCostItem", "ErsuchenFeedback", "ErsuchenMessage",
            "ErsuchenOutcome", "ErsuchenState"]


# --- a person's decisions on foreign creditors' requests (docs/AMTSHILFE.md "Decisions of a person") ------


class ErsuchenDecision(StrEnum):
    """What a person of the enforcement office decides on a request (``ledger.amtshilfe_journal``)."""

    ACCEPT = "accept"                        # a flagged request is accepted: a case with claims
    RETURN = "return"                        # a flagged request is returned (Rückgabe) with a reason
    UNCOLLECTIBLE = "uncollectible"          # an accepted case is fruitless (Fruchtlosigkeit): four-eyes


__all__ += ["ErsuchenDecision"]


class AmtshilfeFigure(StrEnum):
    """A key figure of the foreign creditors' requests per year (``amtshilfe.key_figures``; texts in
    ``outputs``)."""

    RECEIVED = "received"                    # new requests received in deliveries (repeats left out)
    ACCEPTED = "accepted"                    # requests accepted: cases of ours (the amount requested)
    FLAGGED = "flagged"                      # requests held for a person by a check
    RETURNED = "returned"                    # requests returned, one row per reason (ErsuchenCheck)
    WITHDRAWN = "withdrawn"                  # withdrawals of the creditors carried out
    SETTLED = "settled"                      # cases settled
    UNCOLLECTIBLE = "uncollectible"          # cases reported uncollectible (Fruchtlosigkeit)
    COLLECTED = "collected"                  # money booked on the cases' claims (payments)
    FORWARDED = "forwarded"                  # money forwarded to the creditors
    COST_INVOICED = "cost_invoiced"          # cost invoices (contributions and outlays)


__all__ += ["AmtshilfeFigure"]


# --- requests going out to the competent authority elsewhere (docs/AMTSHILFE.md "Requests going out") ------


class OutgoingState(StrEnum):
    """Where a request we sent to another enforcement authority stands (issue 18 §4); only ``sent`` is open:
    its claims stay in our books but are neither dunned nor handed over."""

    SENT = "sent"                            # released and written to the authority's outbox: theirs to enforce
    RETURNED = "returned"                    # they gave it back (Rückgabe, with their reason): the claims are ours again
    UNCOLLECTIBLE = "uncollectible"          # they found it fruitless: closed, the claims are ours to decide on
    SETTLED = "settled"                      # every claim of the request is paid (through them or to us)
    RECALLED = "recalled"                    # we withdrew it (Rücknahme), the debtor having paid us directly


class OutgoingEvent(StrEnum):
    """What happened to a request we sent (``amtshilfe_out_events.kind``): ours (sent, recalled, settled) or
    an answer of the authority (their Rückgabe, Sachstand code or Information)."""

    SENT = "sent"                            # our Ersuchen went out
    ACCEPTED = "accepted"                    # they took it (Sachstand)
    PAYMENT_FORWARDED = "payment_forwarded"  # they report money forwarded to us (it arrives as a bank credit)
    SETTLED = "settled"                      # settled: reported by them, or every claim closed in our books
    UNCOLLECTIBLE = "uncollectible"          # they report enforcement fruitless
    RETURNED = "returned"                    # their Rückgabe
    WITHDRAWN = "withdrawn"                  # they confirm our Rücknahme
    COST_INVOICE = "cost_invoice"            # their cost invoice (recorded; paid by the treasury as any invoice)
    INFORMATION = "information"              # free text from them
    RECALLED = "recalled"                    # our Rücknahme went out


__all__ += ["OutgoingEvent", "OutgoingState"]
