"""The claims of foreign creditors' requests as they stand, and the rows that change them (issue 18 §3;
docs/AMTSHILFE.md "Changes to a request"). Reads only; the rows are booked by the run that made them.

A claim of our own books (table ``claims``) is never updated: a change is a ``claim_changes`` row
(migration 15). :data:`LATEST_CHANGE` is the one definition of "the claim as it stands" — its latest change
(``created_at``, then ``seq``) — which :func:`ledger.state.current_open_items` (matching, dunning, the
enforcement hand-off, collection) reads too: an ``amended`` claim is open for its new amount less what is
allocated, a ``cancelled`` one for nothing.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

import duckdb
import polars as pl

from amtshilfe.claim_changes import CLAIM_STATE, suspension_blocks
from ledger.db import fetch
from ledger.tables import CLAIM_CHANGES, OWN_CLAIMS
from parsers.schema import conform

#: SQL: the latest change of each claim of tenant ``$t`` (``receivable_id``, ``change``, ``amount_cents``).
LATEST_CHANGE = """SELECT receivable_id, change, amount_cents FROM claim_changes WHERE tenant = $t
    QUALIFY row_number() OVER (PARTITION BY receivable_id ORDER BY created_at DESC, seq DESC) = 1"""


def request_claims(con: duckdb.DuckDBPyConnection, tenant: str) -> pl.DataFrame:
    """Every claim of origin ``amtshilfe`` as it stands (``amtshilfe.claim_changes.CLAIM_STATE``: its case
    number, amount after its latest change, what is allocated to it, whether it was cancelled)."""
    df = fetch(con, f"""
        WITH x AS ({LATEST_CHANGE}), p AS (
            SELECT receivable_id, sum(amount_cents) AS paid FROM allocations
            WHERE tenant = $t AND import_id = $own GROUP BY receivable_id)
        SELECT c.receivable_id, c.kassenzeichen AS case_number,
               coalesce(x.amount_cents, c.amount_cents) AS amount_cents, coalesce(p.paid, 0) AS allocated_cents,
               coalesce(x.change = 'cancelled', false) AS closed
        FROM claims c LEFT JOIN x USING (receivable_id) LEFT JOIN p USING (receivable_id)
        WHERE c.tenant = $t AND c.origin = 'amtshilfe' ORDER BY c.receivable_id""", {"t": tenant, "own": OWN_CLAIMS})
    return conform(df, CLAIM_STATE)


def change_rows(changes: pl.DataFrame, *, tenant: str, run_id: str, reason: str | pl.Expr, effective_on: date,
                created_at: datetime | None = None) -> pl.DataFrame:
    """``claim_changes`` rows (:data:`ledger.tables.CLAIM_CHANGES`) from the rows of
    ``amtshilfe.claim_changes`` (``message_id`` = what made the change: the event or decision id):
    ``change_id`` = that id + ``:`` + the claim, ``seq`` their order, so a rerun makes the same rows."""
    c = pl.col
    return conform(changes.with_row_index("_i").select(
        pl.lit(tenant).alias("tenant"), pl.lit(run_id).alias("run_id"),
        (c("message_id") + ":" + c("receivable_id")).alias("change_id"), (c("_i").cast(pl.Int64) + 1).alias("seq"),
        "receivable_id", "change", "amount_cents", "before_cents", "allocated_cents",
        pl.lit(effective_on).alias("effective_on"),
        (pl.lit(reason) if isinstance(reason, str) else reason).alias("reason"),
        c("message_id").alias("source_id"), pl.lit(created_at or datetime.now(UTC)).alias("created_at")),
        CLAIM_CHANGES)


def request_blocks(con: duckdb.DuckDBPyConnection, tenant: str, as_of: date) -> pl.DataFrame:
    """The ``ADV`` blocks of the requests suspended on ``as_of`` (``amtshilfe.claim_changes.suspension_blocks``,
    ``dunning.select.BLOCK_SCHEMA``): derived from the requests' current rows, never written anywhere, so a
    block exists exactly while the booked Aussetzung holds."""
    requests = fetch(con, "SELECT case_number, state, received_on, suspended_until FROM amtshilfe_requests "
                          "WHERE tenant = $t AND case_number IS NOT NULL QUALIFY row_number() OVER (PARTITION BY "
                          "upper(trim(creditor_id)), trim(creditor_file_number) ORDER BY seq DESC) = 1", {"t": tenant})
    return suspension_blocks(requests, request_claims(con, tenant), as_of)


__all__ = ["LATEST_CHANGE", "change_rows", "request_blocks", "request_claims"]
