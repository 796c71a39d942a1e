"""What the ledger says about foreign creditors' requests beyond the nightly import: the blocks of fruitless
cases (docs/AMTSHILFE.md "Decisions of a person"). Nothing here writes.

**Why a block, not a closed claim.** Nothing in this ledger closes a claim but a payment (allocations; open
amount = amount − allocations): the enforcement office's fruitless and written-off outcomes of the tenant's own
claims block them (``NIEDERSCHLAGUNG``, :func:`ledger.outcomes_state.outcome_blocks`) and the claim still
exists (§ 261 AO). A foreign creditor's case declared uncollectible is the same: its claims stay in the books
(a later payment is still matched and forwarded) and are blocked from the day the decision was booked. Like
the outcomes' blocks these are derived from the booked state, so they exist exactly when it is committed.
"""

from __future__ import annotations

import duckdb
import polars as pl

from claims.vocab import BlockReason, ErsuchenFeedback, ErsuchenState
from ledger.db import fetch
from parsers.schema import conform

#: ``dunning.select.BLOCK_SCHEMA`` (the store may not import a pure stage's module for a dict: repeated here,
#: a test checks they agree).
BLOCKS: dict[str, pl.DataType] = {"receivable_id": pl.String(), "debtor_id": pl.String(),
                                  "block_reason": pl.String(), "block_from": pl.Date(), "block_until": pl.Date()}


def uncollectible_blocks(con: duckdb.DuckDBPyConnection, tenant: str) -> pl.DataFrame:
    """``NIEDERSCHLAGUNG`` blocks (no end) of the claims of every request whose current state is
    ``uncollectible``, from the day its ``uncollectible`` event was booked."""
    df = fetch(con, """
        WITH cur AS (SELECT case_number, state FROM amtshilfe_requests WHERE tenant = $t
                     QUALIFY row_number() OVER (PARTITION BY upper(trim(creditor_id)), trim(creditor_file_number)
                                                ORDER BY seq DESC) = 1),
             ev AS (SELECT case_number, max(event_date) AS day FROM amtshilfe_events
                    WHERE tenant = $t AND kind = $kind GROUP BY case_number)
        SELECT c.receivable_id, NULL::VARCHAR AS debtor_id, $reason AS block_reason, ev.day AS block_from,
               NULL::DATE AS block_until
        FROM cur JOIN ev USING (case_number)
        JOIN claims c ON c.tenant = $t AND c.origin = 'amtshilfe' AND c.kassenzeichen = cur.case_number
        WHERE cur.state = $state ORDER BY c.receivable_id""",
               {"t": tenant, "kind": ErsuchenFeedback.UNCOLLECTIBLE.value, "state": ErsuchenState.UNCOLLECTIBLE.value,
                "reason": BlockReason.NIEDERSCHLAGUNG.value})
    return conform(df, BLOCKS)


__all__ = ["BLOCKS", "uncollectible_blocks"]
