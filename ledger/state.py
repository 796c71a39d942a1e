"""What a run needs to know from the ledger before it starts: the tenant's current state, derived.

Nothing here writes. The current state is never stored as such (that would need UPDATE); it is
derived from the append-only tables:

- current open items = rows of the newest open-items import, minus the allocations booked against that
  import since (a reversal is a negative allocation, so it re-opens the amount), never below 0, plus
  the claims Stadtkasse created itself (table ``claims``, at the amount of their latest ``claim_changes``
  row; a cancelled one not at all) minus their allocations, while still open;
- current Klärungsliste = the latest ``unresolved`` event per transaction whose state is not ``resolved``;
- the day close of a day = its ``close`` row plus any ``correction`` rows.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import date, timedelta
from pathlib import Path

import duckdb
import polars as pl

from claims.claim import OPEN_ITEM_SCHEMA
from claims.vocab import ItemState
from ledger.amtshilfe_claims import LATEST_CHANGE
from ledger.db import fetch
from ledger.tables import (
    ALLOCATIONS,
    DAY_CLOSES,
    MATCH_RULES,
    OPEN_ITEMS,
    OWN_CLAIMS,
    STATEMENTS,
    TRANSACTIONS,
    UNRESOLVED,
)
from matching.learned import HISTORY_SCHEMA
from matching.schema import ALLOCATION_SCHEMA
from parsers.schema import conform

#: Ledger allocations plus the payment and open-item details the finance system's booking file needs.
NIGHT_ALLOCATIONS = {**ALLOCATIONS, "value_date": TRANSACTIONS["value_date"], "account_iban": TRANSACTIONS["account_iban"],
                     "currency": TRANSACTIONS["currency"], "debtor_id": OPEN_ITEMS["debtor_id"],
                     "claim_type": OPEN_ITEMS["claim_type"]}

#: A statement delivered this many days late still corrects its (closed) day; older ones only book.
LATE_DAYS = 14


@dataclass(slots=True)
class LedgerState:
    """The tenant's state at the start of a run (frames; small enough for one municipality)."""

    known_files: pl.DataFrame          # source_file of every file already ingested
    statements: pl.DataFrame           # every booked statement of the tenant (gap check, duplicates)
    open_items: pl.DataFrame           # OPEN_ITEM_SCHEMA + import_id, amount_cents = still open now
    allocations: pl.DataFrame          # every allocation booked so far (ALLOCATION_SCHEMA + extras)
    unresolved: pl.DataFrame           # current Klärungsliste events (UNRESOLVED table rows)
    unresolved_tx: pl.DataFrame        # the transactions behind the current Klärungsliste
    day_transactions: pl.DataFrame     # transactions booked for the booking date and the LATE_DAYS before
    day_closes: pl.DataFrame           # close/correction rows of the booking date and the day before
    decision_ids: pl.DataFrame         # clerk decisions already recorded
    night_allocations: pl.DataFrame    # allocations earlier runs of this booking date booked, with details
    match_rules: pl.DataFrame          # the latest MATCH_RULES row per learned rule
    decision_history: pl.DataFrame     # HISTORY_SCHEMA: booked clerk assignments, payer IBAN and debtor

    def write(self, folder: Path) -> dict[str, str]:
        """Write every frame as Parquet into ``folder``; return name -> path."""
        folder.mkdir(parents=True, exist_ok=True)
        out = {}
        for f in fields(self):
            path = folder / f"state_{f.name}.parquet"
            getattr(self, f.name).write_parquet(path)
            out[f.name] = str(path)
        return out

    @classmethod
    def read(cls, paths: dict[str, str]) -> LedgerState:
        """Read what :meth:`write` wrote."""
        return cls(**{f.name: pl.read_parquet(paths[f.name]) for f in fields(cls)})


def current_open_items(con: duckdb.DuckDBPyConnection, tenant: str) -> pl.DataFrame:
    """The claims open now: rows of the newest import with the amount still open (0 for settled ones),
    plus Stadtkasse's own claims (table ``claims``, ``import_id`` = ``OWN_CLAIMS``) not yet settled."""
    # a claim's amount as it stands: its latest change (claim_changes, migration 15), a cancelled one nothing
    own = ", ".join(
        f"$own AS {c}" if c == "import_id"
        else "greatest(coalesce(x.amount_cents, c.amount_cents) - coalesce(p.paid, 0), 0) AS amount_cents"
        if c == "amount_cents" else f'c."{c}"' for c in OPEN_ITEMS)
    df = fetch(con, f"""
        WITH latest AS (
            SELECT import_id FROM open_item_imports WHERE tenant = $t
            ORDER BY imported_at DESC, import_id DESC LIMIT 1
        ), paid AS (
            SELECT receivable_id, sum(amount_cents) AS paid FROM allocations
            WHERE tenant = $t AND import_id = (SELECT import_id FROM latest) GROUP BY receivable_id
        ), own_paid AS (
            SELECT receivable_id, sum(amount_cents) AS paid FROM allocations
            WHERE tenant = $t AND import_id = $own GROUP BY receivable_id
        ), x AS ({LATEST_CHANGE}
        )
        SELECT * FROM (
            SELECT o.* REPLACE (greatest(o.amount_cents - coalesce(p.paid, 0), 0) AS amount_cents,
                                coalesce(o.creditor, o.tenant) AS creditor)
            FROM open_items o LEFT JOIN paid p USING (receivable_id)
            WHERE o.tenant = $t AND o.import_id = (SELECT import_id FROM latest)
            UNION ALL BY NAME
            SELECT {own} FROM claims c LEFT JOIN own_paid p USING (receivable_id) LEFT JOIN x USING (receivable_id)
            WHERE c.tenant = $t AND coalesce(x.change, '') <> 'cancelled'
              AND coalesce(x.amount_cents, c.amount_cents) - coalesce(p.paid, 0) > 0
        )
        ORDER BY receivable_id
    """, {"t": tenant, "own": OWN_CLAIMS})
    return conform(df, {**OPEN_ITEM_SCHEMA, "import_id": OPEN_ITEMS["import_id"]})


def current_unresolved(con: duckdb.DuckDBPyConnection, tenant: str) -> pl.DataFrame:
    """The latest Klärungsliste event per transaction, where that event is not ``resolved``."""
    df = fetch(con, """
        SELECT u.* FROM unresolved u JOIN runs r USING (tenant, run_id)
        WHERE u.tenant = $t
        QUALIFY row_number() OVER (PARTITION BY u.transaction_id ORDER BY r.committed_at DESC) = 1
    """, {"t": tenant}, table="unresolved")
    return df.filter(pl.col("state") != ItemState.RESOLVED).sort("booking_date", "transaction_id")


def read_state(con: duckdb.DuckDBPyConnection, tenant: str, booking_date: date) -> LedgerState:
    """Everything a run of ``tenant`` for ``booking_date`` reads from the ledger, in one go."""
    p = {"t": tenant}
    unresolved = current_unresolved(con, tenant)
    con.register("_ids", unresolved.select("transaction_id").to_arrow())
    try:
        unresolved_tx = fetch(con, "SELECT t.* FROM transactions t JOIN _ids USING (transaction_id) "
                                   "WHERE t.tenant = $t", p, table="transactions")
    finally:
        con.unregister("_ids")
    return LedgerState(
        known_files=fetch(con, "SELECT DISTINCT source_file FROM files WHERE tenant = $t AND status = 'ok' "
                               "AND source_file IS NOT NULL", p),
        statements=fetch(con, "SELECT * FROM statements WHERE tenant = $t", p, table="statements"),
        open_items=current_open_items(con, tenant),
        allocations=fetch(con, "SELECT * FROM allocations WHERE tenant = $t", p, table="allocations"),
        unresolved=unresolved,
        unresolved_tx=unresolved_tx,
        day_transactions=fetch(con, "SELECT * FROM transactions WHERE tenant = $t "
                                    "AND booking_date BETWEEN $d0 AND $d",
                               {**p, "d": booking_date, "d0": booking_date - timedelta(days=LATE_DAYS)},
                               table="transactions"),
        day_closes=fetch(con, "SELECT * FROM day_closes WHERE tenant = $t AND booking_date <= $d "
                              "ORDER BY booking_date, closed_on", {**p, "d": booking_date}, table="day_closes"),
        decision_ids=fetch(con, "SELECT DISTINCT decision_id FROM clerk_decisions WHERE tenant = $t", p),
        night_allocations=night_allocations(con, tenant, booking_date),
        match_rules=fetch(con, "SELECT m.* FROM match_rules m JOIN runs r USING (tenant, run_id) WHERE m.tenant = $t "
                               "QUALIFY row_number() OVER (PARTITION BY m.rule_id ORDER BY r.committed_at DESC) = 1",
                          p, table="match_rules"),
        decision_history=decision_history(con, tenant),
    )


def decision_history(con: duckdb.DuckDBPyConnection, tenant: str) -> pl.DataFrame:
    """The clerks' booked assignments (``rule = clerk``): one row per (decision, debtor it paid), with the
    payment's payer IBAN — what :func:`matching.learned.propose_rules` learns from."""
    df = fetch(con, """
        WITH a AS (
            SELECT DISTINCT decision_id, transaction_id, import_id, receivable_id FROM allocations
            WHERE tenant = $t AND rule = 'clerk' AND decision_id IS NOT NULL AND amount_cents > 0
        ), items AS (
            SELECT DISTINCT import_id, receivable_id, debtor_id FROM open_items
            WHERE tenant = $t AND import_id IN (SELECT import_id FROM a)
            UNION ALL
            SELECT DISTINCT $own, receivable_id, debtor_id FROM claims WHERE tenant = $t
        ), tx AS (
            SELECT transaction_id, min(counterparty_iban) AS counterparty_iban FROM transactions
            WHERE tenant = $t AND transaction_id IN (SELECT transaction_id FROM a) GROUP BY transaction_id
        ), d AS (
            SELECT decision_id, min(decided_by) AS decided_by, min(decided_at) AS decided_at FROM clerk_decisions
            WHERE tenant = $t AND status = 'booked' GROUP BY decision_id
        )
        SELECT DISTINCT a.decision_id, d.decided_by, d.decided_at, tx.counterparty_iban, items.debtor_id
        FROM a JOIN d USING (decision_id)
        LEFT JOIN tx USING (transaction_id)
        LEFT JOIN items ON items.import_id = a.import_id AND items.receivable_id = a.receivable_id
        ORDER BY a.decision_id, items.debtor_id
    """, {"t": tenant, "own": OWN_CLAIMS})
    return conform(df, HISTORY_SCHEMA)


def night_allocations(con: duckdb.DuckDBPyConnection, tenant: str, booking_date: date) -> pl.DataFrame:
    """Allocations booked by earlier runs for ``booking_date``, with their payment's value date, account
    and currency and their open item's debtor and claim type (for the finance system's booking file)."""
    df = fetch(con, """
        WITH night AS (
            SELECT a.* FROM allocations a JOIN runs r ON r.tenant = a.tenant AND r.run_id = a.run_id
            WHERE a.tenant = $t AND r.booking_date = $d
        ), items AS (
            SELECT import_id, receivable_id, min(debtor_id) AS debtor_id, min(claim_type) AS claim_type
            FROM open_items WHERE tenant = $t AND import_id IN (SELECT import_id FROM night)
            GROUP BY import_id, receivable_id
            UNION ALL
            SELECT $own, receivable_id, min(debtor_id), min(claim_type) FROM claims WHERE tenant = $t
            GROUP BY receivable_id
        ), tx AS (
            SELECT transaction_id, min(value_date) AS value_date, min(account_iban) AS account_iban,
                   min(currency) AS currency
            FROM transactions WHERE tenant = $t AND transaction_id IN (SELECT transaction_id FROM night)
            GROUP BY transaction_id
        )
        SELECT night.*, tx.value_date, tx.account_iban, tx.currency, items.debtor_id, items.claim_type
        FROM night
        LEFT JOIN tx ON tx.transaction_id = night.transaction_id
        LEFT JOIN items ON items.import_id = night.import_id AND items.receivable_id = night.receivable_id
    """, {"t": tenant, "d": booking_date, "own": OWN_CLAIMS})
    return conform(df, NIGHT_ALLOCATIONS)


def empty_state() -> LedgerState:
    """The state of a fresh ledger (used by tests of the plain steps)."""
    return LedgerState(
        known_files=pl.DataFrame(schema={"source_file": pl.String()}),
        statements=pl.DataFrame(schema=STATEMENTS),
        open_items=pl.DataFrame(schema={**OPEN_ITEM_SCHEMA, "import_id": pl.String()}),
        allocations=pl.DataFrame(schema=ALLOCATIONS),
        unresolved=pl.DataFrame(schema=UNRESOLVED),
        unresolved_tx=pl.DataFrame(schema=TRANSACTIONS),
        day_transactions=pl.DataFrame(schema=TRANSACTIONS),
        day_closes=pl.DataFrame(schema=DAY_CLOSES),
        decision_ids=pl.DataFrame(schema={"decision_id": pl.String()}),
        night_allocations=pl.DataFrame(schema=NIGHT_ALLOCATIONS),
        match_rules=pl.DataFrame(schema=MATCH_RULES),
        decision_history=pl.DataFrame(schema=HISTORY_SCHEMA),
    )


def prior_allocations(state: LedgerState) -> pl.DataFrame:
    """The booked allocations in the matcher's ALLOCATION_SCHEMA."""
    return conform(state.allocations, ALLOCATION_SCHEMA)
