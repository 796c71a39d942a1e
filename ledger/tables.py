"""The ledger's tables, each declared once as a Polars schema built from the stage schemas.

A ledger table = the frame a stage hands on (``TRANSACTION_SCHEMA``, ``ALLOCATION_SCHEMA`` …) plus the
columns the ledger adds: ``tenant`` and ``run_id`` on every row, and whatever provenance the stage frame
does not already carry. The migrations create the DuckDB tables from these dicts, the booking code
conforms its frames to them, and a test checks that the database and the stage schemas agree.
"""

from __future__ import annotations

import polars as pl

from claims.claim import CLAIM_BASE, CLAIM_EXTRA, CLAIM_SCHEMA, DUNNING, OPEN_ITEM_SCHEMA
from collection.history import COLLECTED_SCHEMA, RETURNED_SCHEMA
from collection.mandates import AMENDMENT_SCHEMA, REGISTER_SCHEMA
from collection.payout_back import BLOCK_SCHEMA, BOOKING_SCHEMA, PAYOUT_RETURN_SCHEMA
from ledger.rule_journal import RULE_STATE_SCHEMA
from matching.schema import ALLOCATION_SCHEMA, UNRESOLVED_SCHEMA
from outputs.day_close import DAY_CLOSE_SCHEMA
from parsers.result import FILE_SCHEMA
from parsers.schema import ISSUE_SCHEMA, STATEMENT_SCHEMA, TRANSACTION_SCHEMA

Schema = dict[str, pl.DataType]


def _with(base: Schema, extra: Schema, *, first: Schema | None = None) -> Schema:
    """``first`` columns, then ``base``, then ``extra`` (names already in ``base`` keep their place)."""
    out: Schema = {}
    for part in (first or {}, base, extra):
        for name, dtype in part.items():
            out.setdefault(name, dtype)
    return out


KEY: Schema = {"tenant": pl.String(), "run_id": pl.String()}

#: One row per committed run of any job (also the no-op ones: the Verfahrensdokumentation wants them).
#: ``booking_date`` is the date the run is for; the ``n_*`` counts are the nightly run's (null for other
#: jobs, whose counts are in ``summary``).
RUNS: Schema = {
    "tenant": pl.String(),
    "run_id": pl.String(),
    "booking_date": pl.Date(),
    "started_at": pl.Datetime("us", "UTC"),
    "committed_at": pl.Datetime("us", "UTC"),
    "mode": pl.String(),                  # prefect | plain
    "flow_run_id": pl.String(),           # Prefect's id (null in plain mode)
    "n_files": pl.Int32(),
    "n_duplicate_files": pl.Int32(),
    "n_rejected_files": pl.Int32(),
    "n_transactions": pl.Int32(),
    "n_allocations": pl.Int32(),
    "n_unresolved": pl.Int32(),
    "summary": pl.String(),               # JSON: counts and sums of the run report
    "job": pl.String(),                   # which job: nightly, … (migration 2)
}

#: Every file the run saw in the inbox: ingested, duplicate or rejected (and where it went).
FILES: Schema = _with(FILE_SCHEMA, {
    "kind": pl.String(),                  # statement | open_items | enforcement_outcomes | other (not a regular file)
    "booking_date": pl.Date(),
    "archived_as": pl.String(),           # path below the tenant folder after the move
}, first=KEY)

STATEMENTS: Schema = _with(STATEMENT_SCHEMA, {}, first=KEY)
TRANSACTIONS: Schema = _with(TRANSACTION_SCHEMA, {}, first=KEY)

#: One row per open-items export: each export is kept as a version; the newest is the current base.
OPEN_ITEM_IMPORTS: Schema = {
    "tenant": pl.String(),
    "run_id": pl.String(),
    "import_id": pl.String(),             # sha256 of the export file
    "booking_date": pl.Date(),
    "source_path": pl.String(),
    "n_items": pl.Int32(),
    "total_cents": pl.Int64(),
    "imported_at": pl.Datetime("us", "UTC"),
}

#: The export's rows (``origin`` = export); the claim columns of migration 3 come after ``import_id``.
OPEN_ITEMS: Schema = _with(CLAIM_BASE, {"import_id": pl.String(), **CLAIM_EXTRA}, first=KEY)

#: The claims Stadtkasse creates itself (``origin`` fee or amtshilfe; migration 3): appended once,
#: open until allocations settle them. Their allocations carry ``import_id`` = :data:`OWN_CLAIMS`.
#: The dunning columns of migration 5 come last (after ``parent_receivable_id``: ALTER TABLE appends).
CLAIMS: Schema = _with({c: t for c, t in CLAIM_SCHEMA.items() if c not in DUNNING}, {
    "created_at": pl.Datetime("us", "UTC"),
    "parent_receivable_id": pl.String(),  # the claim a fee was charged on (null otherwise)
    **DUNNING,
}, first=KEY)

#: ``import_id`` of Stadtkasse's own claims in the current open items and in their allocations.
OWN_CLAIMS = "claims"

#: Bookings of payments on receivables; a reversal is a row with a negative amount (rule ``reversal``).
ALLOCATIONS: Schema = _with(ALLOCATION_SCHEMA, {
    "import_id": pl.String(),             # the open-items version the allocation was booked against
    "decision_id": pl.String(),           # the clerk decision that made it (null for automatic ones)
    "rule_id": pl.String(),               # the learned rule that made it (rule learned_rule; migration 4)
}, first=KEY)

#: Klärungsliste as events: a row whenever an item's state changes (open, changed, resolved, parked).
UNRESOLVED: Schema = _with(UNRESOLVED_SCHEMA, {
    "state": pl.String(),                 # open | parked | resolved
    "as_of": pl.Date(),
}, first=KEY)

#: Every clerk decision the run picked up from the journal, accepted or rejected (once per decision_id).
CLERK_DECISIONS: Schema = {
    "tenant": pl.String(),
    "run_id": pl.String(),
    "decision_id": pl.String(),
    "transaction_id": pl.String(),
    "action": pl.String(),                # assign | refund | park | retry
    "allocations": pl.String(),           # JSON list of {receivable_id, kassenzeichen, amount_cents}
    "amount_cents": pl.Int64(),
    "refund_iban": pl.String(),
    "note": pl.String(),
    "decided_by": pl.String(),
    "decided_at": pl.String(),
    "approved_by": pl.String(),
    "status": pl.String(),                # booked | rejected
    "reason": pl.String(),                # why rejected (null when booked)
}

#: Money a clerk decided to send back (the pain.001 job pays it out later).
REFUNDS: Schema = {
    "tenant": pl.String(),
    "run_id": pl.String(),
    "decision_id": pl.String(),
    "transaction_id": pl.String(),
    "amount_cents": pl.Int64(),
    "refund_iban": pl.String(),
    "decided_by": pl.String(),
    "booking_date": pl.Date(),
}

#: The day close per account and booking day (DAY_CLOSE_SCHEMA of the report); once written the day
#: is locked, later runs add ``kind = correction`` rows dated by the run that found the difference.
DAY_CLOSES: Schema = _with(DAY_CLOSE_SCHEMA, {"closed_on": pl.Date()}, first=KEY)

ISSUES: Schema = _with(ISSUE_SCHEMA, {"booking_date": pl.Date()}, first=KEY)

#: Learned matching rules (migration 4) as events: a row whenever a rule's state as the journal gives it
#: changes (proposed, approved, expired, revoked; ``ledger.rule_journal``); the latest row per rule_id is
#: its state. The run applies the approved ones and records the rule_id on their allocations.
MATCH_RULES: Schema = _with(RULE_STATE_SCHEMA, {"as_of": pl.Date()}, first=KEY)

#: Dunning notices (Mahnungen) the weekly dunning run booked after its release (migration 6): one row per
#: letter sent, with who prepared and who released the run (four-eyes, KomHVO § 31). ``week`` is the ISO
#: week of the notice date (``2026-W49``): a week is booked once.
DUNNING_NOTICES: Schema = {
    "tenant": pl.String(),
    "run_id": pl.String(),
    "week": pl.String(),
    "notice_id": pl.String(),             # unique within the run (dunning.notices: M<date>-<n>)
    "debtor_id": pl.String(),
    "debtor_name": pl.String(),
    "debtor_street": pl.String(),
    "debtor_postcode": pl.String(),
    "debtor_city": pl.String(),
    "debtor_country": pl.String(),
    "level": pl.String(),                 # DunningLevel
    "notice_date": pl.Date(),
    "deadline": pl.Date(),
    "n_claims": pl.Int64(),
    "open_cents": pl.Int64(),
    "saeumniszuschlag_cents": pl.Int64(),  # open on the letter, earlier notices' fee claims included
    "mahngebuehr_cents": pl.Int64(),
    "interest_cents": pl.Int64(),
    "total_cents": pl.Int64(),
    "remittance": pl.String(),
    "prepared_by": pl.String(),
    "prepared_at": pl.Datetime("us", "UTC"),
    "released_by": pl.String(),
    "released_at": pl.Datetime("us", "UTC"),
}

#: The claims on each booked notice (migration 6), with the figures as the letter shows them and what the
#: run booked as Stadtkasse's own claims for each (the surcharge and interest booked are the difference
#: to what earlier runs booked for the claim; the receivable ids name the fee claims in ``claims``).
DUNNING_NOTICE_ITEMS: Schema = {
    "tenant": pl.String(),
    "run_id": pl.String(),
    "notice_id": pl.String(),
    "receivable_id": pl.String(),
    "kassenzeichen": pl.String(),
    "claim_type": pl.String(),
    "due_date": pl.Date(),
    "level": pl.String(),
    "notice_date": pl.Date(),
    "open_cents": pl.Int64(),
    "saeumniszuschlag_cents": pl.Int64(),
    "surcharge_rule": pl.String(),
    "mahngebuehr_cents": pl.Int64(),
    "mahngebuehr_rule": pl.String(),
    "interest_cents": pl.Int64(),
    "saeumniszuschlag_booked_cents": pl.Int64(),
    "interest_booked_cents": pl.Int64(),
    "mahngebuehr_receivable_id": pl.String(),
    "saeumniszuschlag_receivable_id": pl.String(),
    "interest_receivable_id": pl.String(),
}

#: The collection record (migration 7): one row per claim presented in a pain.008 file the collection job
#: (``jobs.collect``) booked after its release, with the file it went out in and who prepared and released
#: the run (four-eyes). A claim is never collected twice unless its collection came back (collection/select.py).
COLLECTIONS: Schema = _with(COLLECTED_SCHEMA, {
    "file_name": pl.String(),             # the pain.008 file in the outbox
    "file_sha256": pl.String(),
    "prepared_by": pl.String(),
    "released_by": pl.String(),
}, first=KEY)

#: Returns (Rücklastschriften) matched to a collection (migration 7; the nightly books them, issue 16 §3).
COLLECTION_RETURNS: Schema = _with(RETURNED_SCHEMA, {}, first=KEY)

#: The mandate register (migration 7), as events: a booked collection run appends a row for every mandate
#: that is new or differs from its latest row; the latest row per mandate (by the run's commit) is the
#: register the next run lays the export over (``collection.mandates.amend_register``).
MANDATES: Schema = _with(REGISTER_SCHEMA, {}, first=KEY)

#: Every Mandatsänderung (a new IBAN, another debtor) a booked collection run saw (migration 7).
MANDATE_AMENDMENTS: Schema = _with(AMENDMENT_SCHEMA, {}, first=KEY)

#: The payout record (migration 8, issue 16 §4): one row per credit transfer of a booked pain.001 file.
#: ``source`` says where the money comes from (``refund``: a clerk's refund decision, ``source_id`` its
#: decision id, ``transaction_id`` the credit the money came in with; later ``forward``: money collected
#: for another creditor); ``amount_cents`` is what is paid out, after set-off.
PAYOUTS: Schema = {
    "tenant": pl.String(),
    "run_id": pl.String(),
    "message_id": pl.String(),
    "pmtinf_id": pl.String(),
    "end_to_end_id": pl.String(),
    "source": pl.String(),
    "source_id": pl.String(),
    "transaction_id": pl.String(),
    "debtor_id": pl.String(),
    "payee_name": pl.String(),
    "payee_iban": pl.String(),
    "payee_bic": pl.String(),
    "amount_cents": pl.Int64(),
    "execution_date": pl.Date(),
    "remittance": pl.String(),
    "file_name": pl.String(),
    "file_sha256": pl.String(),
    "prepared_by": pl.String(),
    "released_by": pl.String(),
}

#: Set-offs (Aufrechnung, § 226 AO / §§ 387 ff. BGB; migration 8): money due to a debtor settling their own
#: due claims before the rest is paid out. Each row has its allocation (rule ``set_off``) booked with it;
#: ``letter_id`` is the Verrechnungsmitteilung that lists it.
SETOFFS: Schema = {
    "tenant": pl.String(),
    "run_id": pl.String(),
    "source": pl.String(),
    "source_id": pl.String(),
    "transaction_id": pl.String(),
    "debtor_id": pl.String(),
    "receivable_id": pl.String(),
    "kassenzeichen": pl.String(),
    "claim_type": pl.String(),
    "amount_cents": pl.Int64(),
    "set_off_on": pl.Date(),
    "letter_id": pl.String(),
}

#: The bank booked one of our payouts (migration 9; the nightly, collection/payout_back.py): one row per payout
#: whose outgoing transfer a debit of the statement carries (a batch debit: one row per payout of the batch).
PAYOUT_BOOKINGS: Schema = _with(BOOKING_SCHEMA, {}, first=KEY)

#: A payout that came back (migration 9): its refund is reopened, waiting for a clerk's new IBAN, until a
#: later payout of the same ``source_id`` is booked (ledger/payout_back_state.py reads that state).
PAYOUT_RETURNS: Schema = _with(PAYOUT_RETURN_SCHEMA, {}, first=KEY)

#: IBANs blocked for payouts (migration 9): the account a payout came back from; the payout job skips them.
PAYEE_BLOCKS: Schema = _with(BLOCK_SCHEMA, {}, first=KEY)

#: The enforcement cases (migration 10, issue 17 §2; jobs/handoff): one row per case a booked hand-off run
#: opened or added claims to (``new``: opened by this run). ``office_id`` is the enforcement office the
#: case went to (``office_tenant``: its Stadtkasse tenant when it is another municipality's, §4); the
#: debtor's identity and the sums are as handed over in this run's file.
ENFORCEMENT_CASES: Schema = {
    "tenant": pl.String(),
    "run_id": pl.String(),
    "case_number": pl.String(),
    "debtor_id": pl.String(),
    "new": pl.Boolean(),
    "opened_on": pl.Date(),
    "handed_off_on": pl.Date(),
    "office_id": pl.String(),
    "office_tenant": pl.String(),
    "message_id": pl.String(),
    "debtor_name": pl.String(),
    "debtor_street": pl.String(),
    "debtor_postcode": pl.String(),
    "debtor_city": pl.String(),
    "debtor_country": pl.String(),
    "debtor_birth_date": pl.Date(),
    "n_claims": pl.Int64(),
    "principal_cents": pl.Int64(),
    "saeumniszuschlag_cents": pl.Int64(),
    "mahngebuehr_cents": pl.Int64(),
    "interest_cents": pl.Int64(),
    "kosten_cents": pl.Int64(),
    "total_cents": pl.Int64(),
    "file_name": pl.String(),
    "file_sha256": pl.String(),
    "prepared_by": pl.String(),
    "released_by": pl.String(),
}

#: The claims of the enforcement cases (migration 10): one row per claim a booked hand-off run handed over
#: (``enforcement.cases`` items: main claims, their Nebenforderungen, and the surcharge accrued to the
#: hand-off day that the run booked as a fee claim). ``handed_cents``: its open amount when handed over.
#: A claim is in at most one open case (``ledger.enforcement_state``).
ENFORCEMENT_CASE_CLAIMS: Schema = {
    "tenant": pl.String(),
    "run_id": pl.String(),
    "case_number": pl.String(),
    "receivable_id": pl.String(),
    "main_receivable_id": pl.String(),
    "ancillary": pl.Boolean(),
    "debtor_id": pl.String(),
    "kassenzeichen": pl.String(),
    "claim_type": pl.String(),
    "law": pl.String(),
    "handed_off_on": pl.Date(),
    "handed_cents": pl.Int64(),
    "saeumniszuschlag_accrued_cents": pl.Int64(),
    "saeumniszuschlag_new_cents": pl.Int64(),
    "interest_accrued_cents": pl.Int64(),
    "interest_new_cents": pl.Int64(),
    "basis": pl.String(),
    "due_date": pl.Date(),
    "due_effective": pl.Date(),
    "notice_date": pl.Date(),
    "external_ref": pl.String(),
    "schonfrist_end": pl.Date(),
    "mahnung_notice_id": pl.String(),
    "mahnung_date": pl.Date(),
    "mahnung_deadline": pl.Date(),
    "mahnung_waiver": pl.String(),
    "handoff_from": pl.Date(),
}

#: The updates to the enforcement office (migration 10, issue 17 §2; the nightly run): one row per update
#: (``kind``: ``claims.vocab.EnforcementUpdateKind``) with the updates file it went out in.
ENFORCEMENT_UPDATES: Schema = {
    "tenant": pl.String(),
    "run_id": pl.String(),
    "update_id": pl.String(),
    "case_number": pl.String(),
    "kind": pl.String(),
    "effective_date": pl.Date(),
    "suspension_reason": pl.String(),
    "suspended_until": pl.Date(),
    "note": pl.String(),
    "office_id": pl.String(),
    "message_id": pl.String(),
    "file_name": pl.String(),
    "file_sha256": pl.String(),
}

#: The claims of an update (migration 10): what was paid and what stays open, per claim.
ENFORCEMENT_UPDATE_CLAIMS: Schema = {
    "tenant": pl.String(),
    "run_id": pl.String(),
    "update_id": pl.String(),
    "case_number": pl.String(),
    "receivable_id": pl.String(),
    "kassenzeichen": pl.String(),
    "paid_cents": pl.Int64(),
    "open_principal_cents": pl.Int64(),
    "open_surcharges_cents": pl.Int64(),
    "open_fees_cents": pl.Int64(),
}

#: The outcomes the enforcement office returned (migration 10, issue 17 §2): one row per outcome id
#: (``enforcement.outcomes_file.outcome_id``), booked once. ``state``: ``booked``, or ``held`` for a clerk
#: (``hold_reason``: the same id came again with other content, a case not ours …).
ENFORCEMENT_OUTCOMES: Schema = {
    "tenant": pl.String(),
    "run_id": pl.String(),
    "outcome_id": pl.String(),
    "digest": pl.String(),
    "office_id": pl.String(),
    "office_reference": pl.String(),
    "message_id": pl.String(),
    "case_number": pl.String(),
    "sequence": pl.Int64(),
    "receivable_id": pl.String(),
    "kassenzeichen": pl.String(),
    "outcome": pl.String(),
    "outcome_date": pl.Date(),
    "collected_cents": pl.Int64(),
    "fees_cents": pl.Int64(),
    "instalment_cents": pl.Int64(),
    "instalment_first_due": pl.Date(),
    "instalment_count": pl.Int64(),
    "new_street": pl.String(),
    "new_postcode": pl.String(),
    "new_city": pl.String(),
    "new_country": pl.String(),
    "note": pl.String(),
    "file_name": pl.String(),
    "file_sha256": pl.String(),
    "state": pl.String(),
    "hold_reason": pl.String(),
}

#: The office's fees of an outcome (migration 10; §§ 10 ff. VO VwVG NRW): each booked as a claim of origin
#: ``fee`` (``fee_receivable_id``) on the case's main claim.
ENFORCEMENT_OUTCOME_FEES: Schema = {
    "tenant": pl.String(),
    "run_id": pl.String(),
    "outcome_id": pl.String(),
    "case_number": pl.String(),
    "kind": pl.String(),
    "basis": pl.String(),
    "description": pl.String(),
    "amount_cents": pl.Int64(),
    "fee_receivable_id": pl.String(),
}

#: Cases another tenant handed to this tenant's enforcement office (migration 11, issue 17 §4): one row per
#: case of a received hand-off file (``tenant``: the office's tenant, whose ledger this is; ``creditor_tenant``:
#: the client the case belongs to). A later hand-off of the same case (a claim joining it) is another row
#: with its own ``message_id``. Booked once per (creditor, message id) by the office's nightly
#: (jobs/nightly/office.py); the office never sees the creditor's ledger, only what the file says.
OFFICE_CASES: Schema = {
    "tenant": pl.String(),
    "run_id": pl.String(),
    "creditor_tenant": pl.String(),
    "creditor_name": pl.String(),
    "message_id": pl.String(),
    "case_number": pl.String(),
    "handoff_date": pl.Date(),
    "received_on": pl.Date(),
    "debtor_id": pl.String(),
    "debtor_name": pl.String(),
    "debtor_street": pl.String(),
    "debtor_postcode": pl.String(),
    "debtor_city": pl.String(),
    "debtor_country": pl.String(),
    "debtor_birth_date": pl.Date(),
    "n_claims": pl.Int64(),
    "principal_cents": pl.Int64(),
    "surcharges_cents": pl.Int64(),
    "fees_cents": pl.Int64(),
    "total_cents": pl.Int64(),
    "file_name": pl.String(),
    "file_sha256": pl.String(),
}

#: The claims of the received cases (migration 11): one row per ``Claim`` of a received hand-off file.
OFFICE_CASE_CLAIMS: Schema = {
    "tenant": pl.String(),
    "run_id": pl.String(),
    "creditor_tenant": pl.String(),
    "message_id": pl.String(),
    "case_number": pl.String(),
    "kassenzeichen": pl.String(),
    "claim_type": pl.String(),
    "main_kassenzeichen": pl.String(),
    "notice_reference": pl.String(),
    "notice_date": pl.Date(),
    "due_date": pl.Date(),
    "mahnung_date": pl.Date(),
    "mahnung_deadline": pl.Date(),
    "mahnung_omitted": pl.String(),
    "schonfrist_end": pl.Date(),
    "enforceable_since": pl.Date(),
    "principal_cents": pl.Int64(),
    "surcharges_cents": pl.Int64(),
    "fees_cents": pl.Int64(),
    "statement": pl.String(),
}

#: Updates the creditors sent about their cases (migration 11): one row per (creditor, update id), booked
#: once. ``hold_reason`` null: applied to the case's state (``ledger.office_state``); otherwise kept for a
#: person and not applied (an update for a case this office never received).
OFFICE_UPDATES: Schema = {
    "tenant": pl.String(),
    "run_id": pl.String(),
    "creditor_tenant": pl.String(),
    "message_id": pl.String(),
    "update_id": pl.String(),
    "case_number": pl.String(),
    "kind": pl.String(),
    "effective_date": pl.Date(),
    "suspension_reason": pl.String(),
    "suspended_until": pl.Date(),
    "note": pl.String(),
    "received_on": pl.Date(),
    "hold_reason": pl.String(),
    "file_name": pl.String(),
    "file_sha256": pl.String(),
}

#: The claims of a received update (migration 11): paid and still open per Kassenzeichen.
OFFICE_UPDATE_CLAIMS: Schema = {
    "tenant": pl.String(),
    "run_id": pl.String(),
    "creditor_tenant": pl.String(),
    "update_id": pl.String(),
    "kassenzeichen": pl.String(),
    "paid_cents": pl.Int64(),
    "open_principal_cents": pl.Int64(),
    "open_surcharges_cents": pl.Int64(),
    "open_fees_cents": pl.Int64(),
}

#: The requests of foreign creditors (Amtshilfe, migration 12, issue 18; docs/AMTSHILFE.md "In the ledger"):
#: append-only, one row each time a request's state changes (accepted, flagged, returned, changed, suspended,
#: withdrawn, …). The **current** state of a request (``creditor_id`` + ``creditor_file_number``) is its row
#: with the greatest ``seq``; ``content_key`` is what the next delivery is compared with (amtshilfe.checks).
#: The creditor's account (``creditor_iban``/``creditor_bic``) and ``payment_reference`` are kept for the
#: forwarding register. Amounts are the request's totals over its notices.
AMTSHILFE_REQUESTS: Schema = {
    "tenant": pl.String(),
    "run_id": pl.String(),
    "seq": pl.Int64(),
    "creditor_id": pl.String(),
    "creditor_name": pl.String(),
    "creditor_file_number": pl.String(),
    "message_id": pl.String(),
    "content_key": pl.String(),
    "state": pl.String(),
    "check": pl.String(),
    "case_number": pl.String(),
    "request_date": pl.Date(),
    "received_on": pl.Date(),
    "suspended_until": pl.Date(),
    "payment_reference": pl.String(),
    "creditor_iban": pl.String(),
    "creditor_bic": pl.String(),
    "debtor_name": pl.String(),
    "debtor_given_name": pl.String(),
    "debtor_birth_date": pl.Date(),
    "debtor_street": pl.String(),
    "debtor_postcode": pl.String(),
    "debtor_city": pl.String(),
    "debtor_country": pl.String(),
    "debtor_municipality": pl.String(),
    "enforceable_statement": pl.Boolean(),
    "enforceable_since": pl.Date(),
    "notices": pl.Int64(),
    "principal_cents": pl.Int64(),
    "surcharge_cents": pl.Int64(),
    "costs_cents": pl.Int64(),
    "total_cents": pl.Int64(),
    "file_name": pl.String(),
    "file_sha256": pl.String(),
}

#: The notices of a request as held (migration 12): the rows of the request row with the same ``seq`` (an
#: Änderung that brings no notices keeps the old ones: they are written again under its ``seq``).
AMTSHILFE_NOTICES: Schema = {
    "tenant": pl.String(),
    "run_id": pl.String(),
    "seq": pl.Int64(),
    "creditor_id": pl.String(),
    "creditor_file_number": pl.String(),
    "position": pl.Int64(),
    "notice_date": pl.Date(),
    "notice_authority": pl.String(),
    "notice_file_number": pl.String(),
    "period_from": pl.Date(),
    "period_to": pl.Date(),
    "principal_cents": pl.Int64(),
    "surcharge_cents": pl.Int64(),
    "costs_cents": pl.Int64(),
    "receivable_id": pl.String(),  # the claim the notice is booked as (migration 15; null: none)
}

#: What became of each received Amtshilfe message (migration 12): one row per message of a delivery (its
#: ``outcome``: accepted, returned, flagged, repeated, applied; ``check`` the reason of a return or flag;
#: ``text`` for the creditor or a clerk), and later one row per event reported back (``payment_forwarded``,
#: ``settled``, …: ``kind``). ``event_id`` is unique and never reused: the feedback id is made from it.
AMTSHILFE_EVENTS: Schema = {
    "tenant": pl.String(),
    "run_id": pl.String(),
    "event_id": pl.String(),
    "kind": pl.String(),
    "creditor_id": pl.String(),
    "creditor_file_number": pl.String(),
    "message_id": pl.String(),
    "message": pl.String(),
    "outcome": pl.String(),
    "check": pl.String(),
    "state": pl.String(),
    "case_number": pl.String(),
    "payment_reference": pl.String(),
    "event_date": pl.Date(),
    "amount_cents": pl.Int64(),
    "text": pl.String(),
    "competent_authority_id": pl.String(),
    "competent_authority_name": pl.String(),
    "file_name": pl.String(),
    "file_sha256": pl.String(),
}

#: The feedback rows sent back (migration 12): one row per ``feedback_id`` (``<kind>-<event_id>``) written
#: into an Answers file, booked after the file is written — what is here is never sent again.
AMTSHILFE_FEEDBACK: Schema = {
    "tenant": pl.String(),
    "run_id": pl.String(),
    "feedback_id": pl.String(),
    "creditor_id": pl.String(),
    "file_name": pl.String(),
    "file_message_id": pl.String(),
    "sent_on": pl.Date(),
}

#: The requests we sent to another enforcement authority (migration 13, issue 18 §4; docs/AMTSHILFE.md
#: "Requests going out"): one row per request, booked by the hand-off run that released it. ``file_number``
#: (our case number) is the key the authority's answers quote; ``message_id`` the Ersuchen's id and
#: ``file_message_id`` the id of the Requests file it went out in. Where it stands is in the events.
AMTSHILFE_OUT_REQUESTS: Schema = {
    "tenant": pl.String(),
    "run_id": pl.String(),
    "file_number": pl.String(),
    "message_id": pl.String(),
    "file_message_id": pl.String(),
    "authority_id": pl.String(),
    "authority_name": pl.String(),
    "authority_street": pl.String(),
    "authority_postcode": pl.String(),
    "authority_city": pl.String(),
    "exchange": pl.String(),
    "debtor_id": pl.String(),
    "debtor_name": pl.String(),
    "debtor_street": pl.String(),
    "debtor_postcode": pl.String(),
    "debtor_city": pl.String(),
    "debtor_country": pl.String(),
    "request_date": pl.Date(),
    "n_claims": pl.Int64(),
    "principal_cents": pl.Int64(),
    "surcharge_cents": pl.Int64(),
    "costs_cents": pl.Int64(),
    "total_cents": pl.Int64(),
    "payment_reference": pl.String(),
    "file_name": pl.String(),
    "file_sha256": pl.String(),
    "prepared_by": pl.String(),
    "released_by": pl.String(),
}

#: The claims of a request we sent (migration 13): they stay in our books, open, neither dunned nor handed
#: over while the request is open; ``open_cents`` is what was open when it went out.
AMTSHILFE_OUT_CLAIMS: Schema = {
    "tenant": pl.String(),
    "run_id": pl.String(),
    "file_number": pl.String(),
    "receivable_id": pl.String(),
    "main_receivable_id": pl.String(),
    "kassenzeichen": pl.String(),
    "claim_type": pl.String(),
    "open_cents": pl.Int64(),
}

#: What happened to a request we sent (migration 13): ours (``sent``, ``recalled``, ``settled``) and the
#: authority's answers (``claims.vocab.OutgoingEvent``). ``state`` (``OutgoingState``) is set by the events
#: that move it; the current state is that of the last such event (``recorded_at``, then ``position``).
#: ``event_id`` is unique: ``sent:``/``recalled:``/``settled:`` + file number, or 12 hex of the answer
#: file's SHA-256 + ``:`` + its message id — an answer file read twice books nothing twice.
AMTSHILFE_OUT_EVENTS: Schema = {
    "tenant": pl.String(),
    "run_id": pl.String(),
    "event_id": pl.String(),
    "file_number": pl.String(),
    "authority_id": pl.String(),
    "kind": pl.String(),
    "state": pl.String(),
    "event_date": pl.Date(),
    "amount_cents": pl.Int64(),
    "reason": pl.String(),
    "text": pl.String(),
    "message_id": pl.String(),
    "file_name": pl.String(),
    "file_sha256": pl.String(),
    "recorded_at": pl.Datetime("us", "UTC"),
    "position": pl.Int64(),
}

#: A claim of our own books (table ``claims``) amended or cancelled after it was booked (migration 15;
#: ``claims.vocab.ClaimChange``; docs/AMTSHILFE.md "Changes to a request"). Append-only; a claim's latest
#: change (``created_at``, then ``seq``) wins: ``amount_cents`` is its amount from then on — for
#: ``cancelled`` what was allocated to it then, and nothing of it is open any more. ``change_id`` (the
#: source and the claim) is unique: a rerun books a change once.
CLAIM_CHANGES: Schema = {
    "tenant": pl.String(),
    "run_id": pl.String(),
    "change_id": pl.String(),
    "seq": pl.Int64(),
    "receivable_id": pl.String(),
    "change": pl.String(),
    "amount_cents": pl.Int64(),
    "before_cents": pl.Int64(),
    "allocated_cents": pl.Int64(),
    "effective_on": pl.Date(),
    "reason": pl.String(),                # what made it: aenderung, ruecknahme, rueckgabe (ErsuchenMessage)
    "source_id": pl.String(),             # the event or decision that made it
    "created_at": pl.Datetime("us", "UTC"),
}

#: The items of the cost invoices to the requesting creditors (migration 14; docs/AMTSHILFE.md "Cost invoice
#: per period"): one row per item (``item_id`` ``contribution-<creditor>-<file number>``: a request is
#: invoiced once, ever), ``invoice_id`` ``<creditor>:<from>:<to>`` (one per creditor and period), the
#: invoice's ``kassenzeichen`` (its claim against the creditor, origin ``fee``).
AMTSHILFE_INVOICE_ITEMS: Schema = {
    "tenant": pl.String(),
    "run_id": pl.String(),
    "invoice_id": pl.String(),
    "kassenzeichen": pl.String(),
    "item_id": pl.String(),
    "creditor_id": pl.String(),
    "period_from": pl.Date(),
    "period_to": pl.Date(),
    "item": pl.String(),
    "creditor_file_number": pl.String(),
    "case_number": pl.String(),
    "item_date": pl.Date(),
    "amount_cents": pl.Int64(),
    "description": pl.String(),
    "invoiced_on": pl.Date(),
}

AUDIT_EVENTS: Schema = {
    "tenant": pl.String(),
    "run_id": pl.String(),
    "at": pl.Datetime("us", "UTC"),
    "event": pl.String(),                 # e.g. run.committed, file.duplicate, decision.rejected
    "subject": pl.String(),
    "detail": pl.String(),                # JSON
}

#: Every table of the ledger, in creation order.
TABLES: dict[str, Schema] = {
    "runs": RUNS,
    "files": FILES,
    "statements": STATEMENTS,
    "transactions": TRANSACTIONS,
    "open_item_imports": OPEN_ITEM_IMPORTS,
    "open_items": OPEN_ITEMS,
    "allocations": ALLOCATIONS,
    "unresolved": UNRESOLVED,
    "clerk_decisions": CLERK_DECISIONS,
    "refunds": REFUNDS,
    "day_closes": DAY_CLOSES,
    "issues": ISSUES,
    "audit_events": AUDIT_EVENTS,
    "claims": CLAIMS,
    "match_rules": MATCH_RULES,
    "dunning_notices": DUNNING_NOTICES,
    "dunning_notice_items": DUNNING_NOTICE_ITEMS,
    "collections": COLLECTIONS,
    "collection_returns": COLLECTION_RETURNS,
    "mandates": MANDATES,
    "mandate_amendments": MANDATE_AMENDMENTS,
    "payouts": PAYOUTS,
    "setoffs": SETOFFS,
    "payout_bookings": PAYOUT_BOOKINGS,
    "payout_returns": PAYOUT_RETURNS,
    "payee_blocks": PAYEE_BLOCKS,
    "enforcement_cases": ENFORCEMENT_CASES,
    "enforcement_case_claims": ENFORCEMENT_CASE_CLAIMS,
    "enforcement_updates": ENFORCEMENT_UPDATES,
    "enforcement_update_claims": ENFORCEMENT_UPDATE_CLAIMS,
    "enforcement_outcomes": ENFORCEMENT_OUTCOMES,
    "enforcement_outcome_fees": ENFORCEMENT_OUTCOME_FEES,
    "office_cases": OFFICE_CASES,
    "office_case_claims": OFFICE_CASE_CLAIMS,
    "office_updates": OFFICE_UPDATES,
    "office_update_claims": OFFICE_UPDATE_CLAIMS,
    "amtshilfe_requests": AMTSHILFE_REQUESTS,
    "amtshilfe_notices": AMTSHILFE_NOTICES,
    "amtshilfe_events": AMTSHILFE_EVENTS,
    "amtshilfe_feedback": AMTSHILFE_FEEDBACK,
    "amtshilfe_out_requests": AMTSHILFE_OUT_REQUESTS,
    "amtshilfe_out_claims": AMTSHILFE_OUT_CLAIMS,
    "amtshilfe_out_events": AMTSHILFE_OUT_EVENTS,
    "amtshilfe_invoice_items": AMTSHILFE_INVOICE_ITEMS,
    "claim_changes": CLAIM_CHANGES,
}

#: Where each stage frame lives in the ledger (the test checks columns and types agree).
STAGE_TABLES: dict[str, Schema] = {
    "files": FILE_SCHEMA,
    "statements": STATEMENT_SCHEMA,
    "transactions": TRANSACTION_SCHEMA,
    "open_items": OPEN_ITEM_SCHEMA,
    "claims": CLAIM_SCHEMA,
    "allocations": ALLOCATION_SCHEMA,
    "unresolved": UNRESOLVED_SCHEMA,
    "issues": ISSUE_SCHEMA,
    "day_closes": DAY_CLOSE_SCHEMA,
    "collections": COLLECTED_SCHEMA,
    "collection_returns": RETURNED_SCHEMA,
    "payout_bookings": BOOKING_SCHEMA,
    "payout_returns": PAYOUT_RETURN_SCHEMA,
    "payee_blocks": BLOCK_SCHEMA,
}

_DUCK: dict[type[pl.DataType], str] = {
    pl.String: "VARCHAR",
    pl.Int32: "INTEGER",
    pl.Int64: "BIGINT",
    pl.Float64: "DOUBLE",
    pl.Boolean: "BOOLEAN",
    pl.Date: "DATE",
}


def duckdb_type(dtype: pl.DataType) -> str:
    """DuckDB column type for a Polars dtype (only the few our schemas use)."""
    if isinstance(dtype, pl.Datetime):
        return "TIMESTAMPTZ" if dtype.time_zone else "TIMESTAMP"
    try:
        return _DUCK[type(dtype)]
    except KeyError:
        raise TypeError(f"no DuckDB type for {dtype!r}") from None


def create_table_sql(name: str, schema: Schema) -> str:
    """``CREATE TABLE`` statement for one ledger table."""
    cols = ",\n  ".join(f'"{c}" {duckdb_type(t)}' for c, t in schema.items())
    return f"CREATE TABLE {name} (\n  {cols}\n)"
