"""What the jobs read about the requests we sent to other enforcement authorities (migration 13, issue 18 §4;
docs/AMTSHILFE.md "Requests going out"). Nothing here writes.

A request's **state** is that of its last event that sets one (``recorded_at``, then ``position``); only
``sent`` is open: its claims are neither dunned nor handed over (:func:`open_out_claims`).
"""

from __future__ import annotations

import duckdb
import polars as pl

from claims.vocab import OutgoingEvent, OutgoingState
from ledger.db import fetch
from parsers.schema import conform

#: One row per request we sent, with where it stands and its last reason (a Rückgabe's).
REQUESTS: dict[str, pl.DataType] = {
    "file_number": pl.String(), "authority_id": pl.String(), "authority_name": pl.String(),
    "debtor_id": pl.String(), "request_date": pl.Date(), "total_cents": pl.Int64(), "state": pl.String(),
    "state_on": pl.Date(), "reason": pl.String(), "text": pl.String(), "forwarded": pl.Boolean(),
}


def out_requests(con: duckdb.DuckDBPyConnection, tenant: str) -> pl.DataFrame:
    """Every request ``tenant`` sent (:data:`REQUESTS`), ordered by file number: ``forwarded`` is true once
    the authority reported money forwarded."""
    return conform(fetch(con, """
        WITH s AS (
            SELECT file_number, arg_max(state, (recorded_at, position)) AS state,
                   arg_max(event_date, (recorded_at, position)) AS state_on,
                   arg_max(reason, (recorded_at, position)) AS reason, arg_max(text, (recorded_at, position)) AS text
            FROM amtshilfe_out_events WHERE tenant = $t AND state IS NOT NULL GROUP BY file_number
        ), f AS (
            SELECT DISTINCT file_number, true AS forwarded FROM amtshilfe_out_events
            WHERE tenant = $t AND list_contains($fw, kind)
        )
        SELECT r.file_number, r.authority_id, r.authority_name, r.debtor_id, r.request_date, r.total_cents,
               s.state, s.state_on, s.reason, s.text, coalesce(f.forwarded, false) AS forwarded
        FROM amtshilfe_out_requests r LEFT JOIN s USING (file_number) LEFT JOIN f USING (file_number)
        WHERE r.tenant = $t ORDER BY r.file_number""",
        {"t": tenant, "fw": [str(OutgoingEvent.PAYMENT_FORWARDED)]}), REQUESTS)


def out_claims(con: duckdb.DuckDBPyConnection, tenant: str) -> pl.DataFrame:
    """Every claim of every request sent (``file_number``, ``receivable_id``, ``debtor_id``, ``kassenzeichen``)."""
    return fetch(con, """
        SELECT c.file_number, c.receivable_id, r.debtor_id, c.kassenzeichen
        FROM amtshilfe_out_claims c JOIN amtshilfe_out_requests r USING (tenant, file_number)
        WHERE c.tenant = $t ORDER BY 1, 2""", {"t": tenant})


def open_out_claims(con: duckdb.DuckDBPyConnection, tenant: str) -> pl.DataFrame:
    """The claims of the requests still open (``sent``): ``file_number``, ``receivable_id``, ``debtor_id``."""
    sent = out_requests(con, tenant).filter(pl.col("state") == str(OutgoingState.SENT)).select("file_number")
    return out_claims(con, tenant).join(sent, on="file_number", how="semi")


__all__ = ["REQUESTS", "open_out_claims", "out_claims", "out_requests"]
