"""Foreign creditors' requests as the review page sees them (``/t/<tenant>/amtshilfe``): a read-only snapshot.

The page never opens the ledger. The nightly publish step writes, like the enforcement snapshot
(:func:`ledger.publish_collection.write_snapshot`: a complete version folder, then the link swapped)::

    <state_dir>/published_amtshilfe/<tenant>/requests.parquet    REQUESTS_SCHEMA: every request, its current row
    <state_dir>/published_amtshilfe/<tenant>/notices.parquet     NOTICES_SCHEMA: the notices of flagged requests
    <state_dir>/published_amtshilfe/<tenant>/decisions.parquet   DECISIONS_SCHEMA: the decisions the ledger recorded
    <state_dir>/published_amtshilfe/<tenant>/forwarded.parquet   FORWARDED_SCHEMA: forwards of the payout runs
    <state_dir>/published_amtshilfe/<tenant>/meta.json

Per case the amounts: ``claims_cents`` (its claims), ``paid_cents`` (allocated to them), ``open_cents`` (what
they still owe, as the open items count it), ``forwarded_cents`` (the ``payment_forwarded`` events of the
request). The notices carry the Säumniszuschlag the Rundfunkbeitrag rule expects beside the one asked
(``amtshilfe.checks.expected_surcharge``; Beitragsservice/WDR only).
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import duckdb
import polars as pl

from amtshilfe.checks import expected_surcharge, rundfunk_creditor
from claims.config import AmtshilfeSection
from claims.vocab import ErsuchenFeedback, ErsuchenState
from ledger.db import fetch
from ledger.publish_collection import read_snapshot, write_snapshot
from parsers.schema import conform

ROOT = "published_amtshilfe"

REQUESTS_SCHEMA: dict[str, pl.DataType] = {
    "creditor_id": pl.String(), "creditor_name": pl.String(), "creditor_file_number": pl.String(),
    "case_number": pl.String(), "state": pl.String(), "check": pl.String(), "seq": pl.Int64(),
    "request_date": pl.Date(), "received_on": pl.Date(), "payment_reference": pl.String(),
    "debtor_name": pl.String(), "debtor_given_name": pl.String(), "debtor_street": pl.String(),
    "debtor_postcode": pl.String(), "debtor_city": pl.String(), "rundfunk": pl.Boolean(),
    "notices": pl.Int64(), "principal_cents": pl.Int64(), "surcharge_cents": pl.Int64(), "costs_cents": pl.Int64(),
    "total_cents": pl.Int64(), "claims_cents": pl.Int64(), "paid_cents": pl.Int64(), "open_cents": pl.Int64(),
    "forwarded_cents": pl.Int64(), "last_event_on": pl.Date(),
}
NOTICES_SCHEMA: dict[str, pl.DataType] = {
    "creditor_id": pl.String(), "creditor_file_number": pl.String(), "seq": pl.Int64(), "position": pl.Int64(),
    "notice_date": pl.Date(), "notice_authority": pl.String(), "notice_file_number": pl.String(),
    "period_from": pl.Date(), "period_to": pl.Date(), "principal_cents": pl.Int64(),
    "surcharge_cents": pl.Int64(), "expected_surcharge_cents": pl.Int64(), "costs_cents": pl.Int64(),
}
DECISIONS_SCHEMA: dict[str, pl.DataType] = {
    "decision_id": pl.String(), "creditor_id": pl.String(), "creditor_file_number": pl.String(),
    "kind": pl.String(), "state": pl.String(), "event_date": pl.Date(), "text": pl.String(),
}
FORWARDED_SCHEMA: dict[str, pl.DataType] = {
    "source_id": pl.String(), "payee_name": pl.String(), "payee_iban": pl.String(), "amount_cents": pl.Int64(),
    "execution_date": pl.Date(), "remittance": pl.String(), "file_name": pl.String(), "released_by": pl.String(),
}
FRAMES: dict[str, tuple[dict[str, pl.DataType], tuple[str, ...]]] = {
    "requests": (REQUESTS_SCHEMA, ("received_on", "creditor_id", "creditor_file_number")),
    "notices": (NOTICES_SCHEMA, ("creditor_id", "creditor_file_number", "position")),
    "decisions": (DECISIONS_SCHEMA, ("event_date", "decision_id")),
    "forwarded": (FORWARDED_SCHEMA, ("execution_date", "source_id")),
}


def published_dir(state_dir: Path, tenant: str) -> Path:
    """The link the page reads (``<state_dir>/published_amtshilfe/<tenant>``)."""
    return Path(state_dir) / ROOT / tenant


def snapshot_frames(con: duckdb.DuckDBPyConnection, tenant: str, settings: AmtshilfeSection) -> dict[str, pl.DataFrame]:
    """The frames of :data:`FRAMES` from the ledger (module docstring)."""
    p = {"t": tenant}
    current = fetch(con, "SELECT * FROM amtshilfe_requests WHERE tenant = $t QUALIFY row_number() OVER (PARTITION BY "
                         "upper(trim(creditor_id)), trim(creditor_file_number) ORDER BY seq DESC) = 1",
                    p, table="amtshilfe_requests")
    money = fetch(con, """
        WITH paid AS (SELECT receivable_id, sum(amount_cents) AS paid FROM allocations
                      WHERE tenant = $t AND import_id = 'claims' GROUP BY receivable_id)
        SELECT c.kassenzeichen AS case_number, sum(c.amount_cents)::BIGINT AS claims_cents,
               sum(coalesce(p.paid, 0))::BIGINT AS paid_cents,
               sum(greatest(c.amount_cents - coalesce(p.paid, 0), 0))::BIGINT AS open_cents
        FROM claims c LEFT JOIN paid p USING (receivable_id)
        WHERE c.tenant = $t AND c.origin = 'amtshilfe' GROUP BY c.kassenzeichen""", p)
    events = fetch(con, """
        SELECT upper(trim(creditor_id)) AS _cid, trim(creditor_file_number) AS _fn,
               sum(CASE WHEN kind = $fw THEN amount_cents ELSE 0 END)::BIGINT AS forwarded_cents,
               max(event_date) AS last_event_on
        FROM amtshilfe_events WHERE tenant = $t AND creditor_id IS NOT NULL GROUP BY ALL""",
                   {**p, "fw": ErsuchenFeedback.PAYMENT_FORWARDED.value})
    c = pl.col
    key = [c("creditor_id").str.strip_chars().str.to_uppercase().alias("_cid"),
           c("creditor_file_number").str.strip_chars().alias("_fn")]
    requests = (current.with_columns(key).with_columns(rundfunk_creditor(settings).alias("rundfunk"))
                .join(conform(money, {"case_number": pl.String(), "claims_cents": pl.Int64(), "paid_cents": pl.Int64(),
                                      "open_cents": pl.Int64()}), on="case_number", how="left")
                .join(conform(events, {"_cid": pl.String(), "_fn": pl.String(), "forwarded_cents": pl.Int64(),
                                       "last_event_on": pl.Date()}), on=["_cid", "_fn"], how="left")
                .with_columns([c(x).fill_null(0) for x in ("claims_cents", "paid_cents", "open_cents",
                                                             "forwarded_cents")]))
    flagged = requests.filter(c("state") == ErsuchenState.FLAGGED)
    notices = fetch(con, "SELECT * FROM amtshilfe_notices WHERE tenant = $t AND seq IN (SELECT unnest($s::BIGINT[]))",
                    {**p, "s": flagged["seq"].to_list()}, table="amtshilfe_notices")
    notices = notices.join(flagged.select("seq", "rundfunk"), on="seq", how="left").with_columns(
        pl.when(c("rundfunk")).then(expected_surcharge(settings)).alias("expected_surcharge_cents"))
    decisions = fetch(con, "SELECT message_id AS decision_id, creditor_id, creditor_file_number, kind, state, "
                           "event_date, text FROM amtshilfe_events WHERE tenant = $t "
                           "AND starts_with(event_id, 'decision:')", p)
    forwarded = fetch(con, "SELECT source_id, payee_name, payee_iban, amount_cents, execution_date, remittance, "
                           "file_name, released_by FROM payouts WHERE tenant = $t AND source = 'forward'", p)
    return {"requests": requests, "notices": notices, "decisions": decisions, "forwarded": forwarded}


def publish_amtshilfe(state_dir: Path, tenant: str, frames: dict[str, pl.DataFrame], *, on: date) -> Path:
    """Write a new version of the tenant's snapshot (``frames`` by the names of :data:`FRAMES`; a missing one is
    published empty) and switch the link to it; return the link."""
    return write_snapshot(state_dir, ROOT, tenant, FRAMES, frames, on=on,
                          descending=("requests", "decisions", "forwarded"))


def publish_from_ledger(con: duckdb.DuckDBPyConnection, state_dir: Path, tenant: str, settings: AmtshilfeSection, *,
                        on: date) -> Path:
    """:func:`snapshot_frames` published as a new version; return the link."""
    return publish_amtshilfe(state_dir, tenant, snapshot_frames(con, tenant, settings), on=on)


def read_amtshilfe_published(state_dir: Path, tenant: str) -> tuple[dict[str, pl.DataFrame], dict[str, Any]]:
    """The tenant's snapshot (frames by :data:`FRAMES`, meta); empty frames and ``{}`` before the first one."""
    return read_snapshot(state_dir, ROOT, tenant, FRAMES)


__all__ = ["DECISIONS_SCHEMA", "FORWARDED_SCHEMA", "FRAMES", "NOTICES_SCHEMA", "REQUESTS_SCHEMA", "ROOT",
           "publish_amtshilfe", "publish_from_ledger", "published_dir", "read_amtshilfe_published", "snapshot_frames"]
