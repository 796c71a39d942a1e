"""What the enforcement reports read from the ledger: the input frames of ``enforcement.key_figures``,
``enforcement.limitation`` and ``enforcement.valuation`` (docs/ENFORCEMENT.md, "Reports").

Nothing here writes, and nothing here computes a figure: :func:`read_report_inputs` gathers the frames in
one go (the ledger is open for as short a time as the reads take) and :func:`enforcement.reports.report`
does the rest. The frames (each in the shape its pure function takes):

* ``case_claims`` — every claim ever handed over (``ledger.enforcement_state.case_claims``: open and closed
  cases; the key figures count both);
* ``outcomes`` — the **booked** outcomes of the enforcement office (a held one is a clerk's question, not a
  fact yet): ``collected_cents`` on a main claim or a whole case is principal, on a Nebenforderung it is
  ``ancillary_collected_cents`` (the file carries one amount per outcome; the claim it names says which);
  ``fee_cents`` the office's fees (the outcome's ``fees_cents``, else the sum of its fee items);
* ``claims`` — every claim the ledger ever knew (the earliest export that held it, and Stadtkasse's own
  claims with their main claim): the Vollstreckungsquote's base;
* ``open_claims`` — the claims open now (``ledger.state.current_open_items``, ``amount_cents`` > 0) with the
  debtor's name: the limitation and the valuation are about what is still owed;
* ``mahnungen`` — every claim on a booked notice with the notice's level, date and deadline;
* ``blocks`` — every block of the review page's journal, **ended ones too** (a Stundung that ended still
  interrupted the limitation period), ``block_until`` the last day it held;
* ``amtshilfe_events`` — the events of the foreign creditors' requests, ``amtshilfe_collected`` — the
  allocations on their claims (origin ``amtshilfe``): the Amtshilfe figures per year
  (``amtshilfe.key_figures``).
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import date, timedelta
from pathlib import Path

import duckdb
import polars as pl

from amtshilfe.key_figures import COLLECTED_COLUMNS, EVENT_COLUMNS
from claims.config import EnforcementSection
from enforcement.reports import OPEN_CLAIM_SCHEMA, EnforcementReport, report
from ledger.block_journal import read_blocks
from ledger.db import fetch
from ledger.enforcement_state import case_claims
from ledger.state import current_open_items
from parsers.schema import conform

OUTCOME_SCHEMA: dict[str, pl.DataType] = {
    "case_number": pl.String(), "receivable_id": pl.String(), "outcome": pl.String(), "outcome_date": pl.Date(),
    "collected_cents": pl.Int64(), "ancillary_collected_cents": pl.Int64(), "fee_cents": pl.Int64()}
CLAIM_SCHEMA: dict[str, pl.DataType] = {
    "receivable_id": pl.String(), "debtor_id": pl.String(), "claim_type": pl.String(), "law": pl.String(),
    "due_date": pl.Date(), "parent_receivable_id": pl.String()}
MAHNUNG_SCHEMA: dict[str, pl.DataType] = {
    "receivable_id": pl.String(), "notice_id": pl.String(), "level": pl.String(), "notice_date": pl.Date(),
    "deadline": pl.Date()}
BLOCK_SCHEMA: dict[str, pl.DataType] = {
    "receivable_id": pl.String(), "debtor_id": pl.String(), "block_reason": pl.String(), "block_from": pl.Date(),
    "block_until": pl.Date()}


@dataclass(slots=True)
class ReportInputs:
    """The frames of the module docstring, by name (the keyword arguments of ``enforcement.reports.report``)."""

    case_claims: pl.DataFrame
    outcomes: pl.DataFrame
    claims: pl.DataFrame
    open_claims: pl.DataFrame
    mahnungen: pl.DataFrame
    blocks: pl.DataFrame
    amtshilfe_events: pl.DataFrame | None = None
    amtshilfe_collected: pl.DataFrame | None = None

    def frames(self) -> dict[str, pl.DataFrame]:
        return {f.name: getattr(self, f.name) for f in fields(self)}

    def report(self, *, as_of: date, since: date | None = None,
               settings: EnforcementSection | None = None) -> EnforcementReport:
        """:func:`enforcement.reports.report` over these frames."""
        return report(case_claims=self.case_claims, outcomes=self.outcomes, claims=self.claims,
                      open_claims=self.open_claims, mahnungen=self.mahnungen, blocks=self.blocks,
                      as_of=as_of, since=since, settings=settings, amtshilfe_events=self.amtshilfe_events,
                      amtshilfe_collected=self.amtshilfe_collected)


def booked_outcomes(con: duckdb.DuckDBPyConnection, tenant: str) -> pl.DataFrame:
    """The booked outcomes (:data:`OUTCOME_SCHEMA`), oldest first; the money split as the module docstring says."""
    df = fetch(con, """
        WITH fees AS (SELECT outcome_id, sum(amount_cents) AS fee_sum FROM enforcement_outcome_fees
                      WHERE tenant = $t GROUP BY outcome_id),
             anc AS (SELECT DISTINCT case_number, receivable_id FROM enforcement_case_claims
                     WHERE tenant = $t AND ancillary)
        SELECT o.case_number, o.receivable_id, o.outcome, o.outcome_date,
               CASE WHEN a.receivable_id IS NULL THEN coalesce(o.collected_cents, 0) ELSE 0 END AS collected_cents,
               CASE WHEN a.receivable_id IS NULL THEN 0 ELSE coalesce(o.collected_cents, 0) END
                   AS ancillary_collected_cents,
               coalesce(o.fees_cents, f.fee_sum, 0) AS fee_cents
        FROM enforcement_outcomes o
        LEFT JOIN fees f USING (outcome_id)
        LEFT JOIN anc a ON a.case_number = o.case_number AND a.receivable_id = o.receivable_id
        WHERE o.tenant = $t AND o.state = 'booked'
        ORDER BY o.outcome_date, o.case_number, o.sequence, o.outcome_id""", {"t": tenant})
    return conform(df, OUTCOME_SCHEMA)


def known_claims(con: duckdb.DuckDBPyConnection, tenant: str) -> pl.DataFrame:
    """Every claim the ledger ever knew (:data:`CLAIM_SCHEMA`) as first seen: the earliest export that held
    it, or Stadtkasse's own claim (a fee claim names its main claim)."""
    df = fetch(con, """
        SELECT receivable_id, arg_min(debtor_id, seen) AS debtor_id, arg_min(claim_type, seen) AS claim_type,
               arg_min(law, seen) AS law, arg_min(due_date, seen) AS due_date,
               max(parent_receivable_id) AS parent_receivable_id
        FROM (SELECT o.receivable_id, o.debtor_id, o.claim_type, o.law, o.due_date,
                     NULL::VARCHAR AS parent_receivable_id,
                     coalesce(i.imported_at, TIMESTAMPTZ '1970-01-01 00:00:00+00') AS seen
              FROM open_items o LEFT JOIN open_item_imports i ON i.tenant = o.tenant AND i.import_id = o.import_id
              WHERE o.tenant = $t
              UNION ALL
              SELECT receivable_id, debtor_id, claim_type, law, due_date, parent_receivable_id, created_at AS seen
              FROM claims WHERE tenant = $t)
        GROUP BY receivable_id ORDER BY receivable_id""", {"t": tenant})
    return conform(df, CLAIM_SCHEMA)


def sent_mahnungen(con: duckdb.DuckDBPyConnection, tenant: str) -> pl.DataFrame:
    """Every claim on a booked notice, with the notice's level, date and deadline (:data:`MAHNUNG_SCHEMA`)."""
    df = fetch(con, """
        SELECT i.receivable_id, i.notice_id, coalesce(n.level, i.level) AS level,
               coalesce(n.notice_date, i.notice_date) AS notice_date, n.deadline
        FROM dunning_notice_items i
        JOIN dunning_notices n ON n.tenant = i.tenant AND n.run_id = i.run_id AND n.notice_id = i.notice_id
        WHERE i.tenant = $t AND n.deadline IS NOT NULL
        ORDER BY i.receivable_id, notice_date""", {"t": tenant})
    return conform(df, MAHNUNG_SCHEMA)


def all_blocks(state_dir: Path, tenant: str) -> pl.DataFrame:
    """Every block of the journal that ever held (:data:`BLOCK_SCHEMA`): ``block_until`` is the day before
    its lift when it was lifted early, else its last approved day (one still awaiting its approval held
    its first 90 days; null: open)."""
    rows = []
    for b in read_blocks(state_dir, tenant):
        lifted = b.lifted_on
        if lifted is not None and lifted <= b.block_from:
            continue                       # lifted before it began: it never held
        until = b.effective_until()
        if lifted is not None:
            until = min(until, lifted - timedelta(days=1)) if until is not None else lifted - timedelta(days=1)
        rows.append({"receivable_id": b.receivable_id, "debtor_id": b.debtor_id, "block_reason": b.reason,
                     "block_from": b.block_from, "block_until": until})
    return pl.DataFrame(rows, schema=BLOCK_SCHEMA)


def amtshilfe_inputs(con: duckdb.DuckDBPyConnection, tenant: str) -> tuple[pl.DataFrame, pl.DataFrame]:
    """``(events, collected)`` of the foreign creditors' requests (``amtshilfe.key_figures``' inputs)."""
    events = fetch(con, "SELECT event_date, kind, message, outcome, \"check\", amount_cents, file_sha256 "
                        "FROM amtshilfe_events WHERE tenant = $t ORDER BY event_date, event_id", {"t": tenant})
    collected = fetch(con, """
        SELECT a.booking_date, a.transaction_id, a.amount_cents FROM allocations a
        WHERE a.tenant = $t AND a.receivable_id IN (SELECT receivable_id FROM claims
                                                    WHERE tenant = $t AND origin = 'amtshilfe')
        ORDER BY a.booking_date, a.transaction_id""", {"t": tenant})
    return conform(events, EVENT_COLUMNS), conform(collected, COLLECTED_COLUMNS)


def read_report_inputs(con: duckdb.DuckDBPyConnection, tenant: str, state_dir: Path, *,
                       figures: bool = True) -> ReportInputs:
    """Everything the enforcement reports of ``tenant`` read (module docstring), in one go. Without
    ``figures`` the claims ever known (every export's rows: the one large read) stay empty — the nightly
    snapshot needs only the limitation warnings."""
    open_now = current_open_items(con, tenant).filter(pl.col("amount_cents") > 0)
    events, collected = amtshilfe_inputs(con, tenant) if figures else (None, None)
    return ReportInputs(
        case_claims=case_claims(con, tenant), outcomes=booked_outcomes(con, tenant),
        claims=known_claims(con, tenant) if figures else pl.DataFrame(schema=CLAIM_SCHEMA),
        open_claims=conform(open_now, OPEN_CLAIM_SCHEMA),
        mahnungen=sent_mahnungen(con, tenant), blocks=all_blocks(state_dir, tenant),
        amtshilfe_events=events, amtshilfe_collected=collected)


__all__ = ["BLOCK_SCHEMA", "CLAIM_SCHEMA", "MAHNUNG_SCHEMA", "OUTCOME_SCHEMA", "ReportInputs",
           "all_blocks", "amtshilfe_inputs", "booked_outcomes", "known_claims", "read_report_inputs", "sent_mahnungen"]
