"""What the SEPA payout job reads from the ledger: the refunds due, what was given for them, whose money.

Nothing here writes. The frames are in the shapes :mod:`collection.payouts` and :mod:`collection.setoff`
take:

* ``due`` (``collection.payouts.DUE_SCHEMA``) — every refund a night booked (table ``refunds``, source
  ``refund``, source id = the decision id), with its payment's counterparty name, booking day and
  bank reference (``transactions``) and the Kassenzeichen the payment was allocated to;
* ``booked`` — what earlier runs gave each refund: its set-offs and payouts (``setoffs``, ``payouts``);
  a refund is due only for the rest, so it is never paid twice;
* ``links`` — the payments' allocations (not the set-offs) with the debtor of each claim (every import
  and Stadtkasse's own claims: a claim two imports gave two debtors shows both, a doubt);
* ``claims`` — the claims open now (:func:`ledger.state.current_open_items`);
* ``ids`` — every end-to-end id and message id a payout of the tenant used (never used again);
* ``forward_items`` (``collection.forward.ITEM_SCHEMA``) — the allocations (reversals included) to claims
  of origin ``amtshilfe`` of a creditor other than the tenant, with the payment's booking day;
* ``forwarded`` — what earlier runs forwarded to each creditor (payouts of source ``forward``, less those
  the creditor's bank returned);
* ``accounts`` (``collection.forward.ACCOUNT_SCHEMA``) — the bank account each foreign creditor's request
  names (the current row of every request that became a case): the creditor register where
  ``[[creditors]]`` has no entry;
* ``cases`` — our case number of each such request with the creditor id and file number as the creditor
  sent them and its payment reference: whom a forward's ``payment_forwarded`` event is about.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import date
from pathlib import Path

import duckdb
import polars as pl

from claims.vocab import ErsuchenState, PayoutSource, Rule
from collection.forward import ACCOUNT_SCHEMA, FORWARDED_SCHEMA, ITEM_SCHEMA, creditor_of
from collection.payouts import BOOKED_SCHEMA, DUE_SCHEMA
from ledger.db import fetch
from ledger.state import current_open_items
from parsers.schema import conform

LINKS: dict[str, pl.DataType] = {"transaction_id": pl.String(), "receivable_id": pl.String(),
                                 "kassenzeichen": pl.String(), "debtor_id": pl.String(), "amount_cents": pl.Int64()}
IDS: dict[str, pl.DataType] = {"end_to_end_id": pl.String(), "message_id": pl.String()}
CASES: dict[str, pl.DataType] = {"case_number": pl.String(), "creditor_id": pl.String(),
                                 "creditor_file_number": pl.String(), "payment_reference": pl.String()}
#: The current row of each foreign creditor's request that became a case (``amtshilfe_requests``).
_CURRENT_CASES = """
    SELECT * FROM amtshilfe_requests WHERE tenant = $t AND case_number IS NOT NULL
    QUALIFY row_number() OVER (PARTITION BY upper(trim(creditor_id)), trim(creditor_file_number)
                               ORDER BY seq DESC) = 1"""


@dataclass(slots=True)
class PayoutState:
    """The frames of the module docstring."""

    due: pl.DataFrame
    booked: pl.DataFrame
    links: pl.DataFrame
    claims: pl.DataFrame
    ids: pl.DataFrame
    forward_items: pl.DataFrame
    forwarded: pl.DataFrame
    accounts: pl.DataFrame
    cases: pl.DataFrame

    def write(self, folder: Path, prefix: str) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        for f in fields(self):
            getattr(self, f.name).write_parquet(folder / f"{prefix}{f.name}.parquet")

    @classmethod
    def read(cls, folder: Path, prefix: str) -> PayoutState:
        # a run folder written before forwards existed has no forward frames: nothing to forward from it
        empty = {"forward_items": pl.DataFrame(schema=ITEM_SCHEMA), "forwarded": pl.DataFrame(schema=FORWARDED_SCHEMA),
                 "accounts": pl.DataFrame(schema=ACCOUNT_SCHEMA), "cases": pl.DataFrame(schema=CASES)}
        return cls(**{f.name: pl.read_parquet(path) if (path := folder / f"{prefix}{f.name}.parquet").exists()
                      or f.name not in empty else empty[f.name] for f in fields(cls)})


def _kassenzeichen(links: pl.DataFrame) -> pl.DataFrame:
    """Per payment: the Kassenzeichen of the claims it paid (net of reversals), sorted, comma-separated."""
    return (links.group_by("transaction_id", "receivable_id")
            .agg(pl.col("amount_cents").sum(), pl.col("kassenzeichen").drop_nulls().first())
            .filter((pl.col("amount_cents") > 0) & pl.col("kassenzeichen").is_not_null())
            .group_by("transaction_id")
            .agg(pl.col("kassenzeichen").unique().sort().str.join(", ")))


def read_payout_state(con: duckdb.DuckDBPyConnection, tenant: str) -> PayoutState:
    """Everything a payout run of ``tenant`` reads from the ledger, in one go."""
    p = {"t": tenant, "src": PayoutSource.REFUND.value, "so": Rule.SET_OFF.value}
    links = conform(fetch(con, """
        WITH owners AS (
            SELECT DISTINCT receivable_id, debtor_id FROM open_items WHERE tenant = $t
            UNION SELECT DISTINCT receivable_id, debtor_id FROM claims WHERE tenant = $t
        )
        SELECT a.transaction_id, a.receivable_id, a.kassenzeichen, o.debtor_id, a.amount_cents
        FROM allocations a LEFT JOIN owners o USING (receivable_id)
        WHERE a.tenant = $t AND a.rule <> $so
          AND a.transaction_id IN (SELECT transaction_id FROM refunds WHERE tenant = $t)
        ORDER BY 1, 2""", {"t": tenant, "so": p["so"]}), LINKS)
    refunds = fetch(con, """
        WITH tx AS (
            SELECT transaction_id, bank_ref, counterparty_name, booking_date FROM transactions WHERE tenant = $t
            QUALIFY row_number() OVER (PARTITION BY transaction_id ORDER BY booking_date) = 1
        )
        SELECT $src AS source, r.decision_id AS source_id, r.transaction_id, tx.bank_ref, r.amount_cents,
               r.refund_iban AS payee_iban, tx.counterparty_name AS payee_name, tx.booking_date AS received_on
        FROM refunds r LEFT JOIN tx USING (transaction_id)
        WHERE r.tenant = $t
        ORDER BY r.booking_date, r.decision_id""", {"t": tenant, "src": p["src"]})
    due = conform(refunds.join(_kassenzeichen(links), on="transaction_id", how="left"), DUE_SCHEMA)
    booked = conform(fetch(con, """
        SELECT source_id, amount_cents FROM setoffs WHERE tenant = $t AND source = $src
        UNION ALL SELECT source_id, amount_cents FROM payouts WHERE tenant = $t AND source = $src""",
        {"t": tenant, "src": p["src"]}),
        BOOKED_SCHEMA)
    claims = current_open_items(con, tenant)
    ids = conform(fetch(con, "SELECT end_to_end_id, message_id FROM payouts WHERE tenant = $t", {"t": tenant}), IDS)
    forward_items, forwarded = read_forwards(con, tenant)
    accounts, cases = read_creditor_accounts(con, tenant)
    return PayoutState(due=due, booked=booked, links=links, claims=claims.filter(pl.col("amount_cents") > 0),
                       ids=ids, forward_items=forward_items, forwarded=forwarded, accounts=accounts, cases=cases)


def read_creditor_accounts(con: duckdb.DuckDBPyConnection, tenant: str) -> tuple[pl.DataFrame, pl.DataFrame]:
    """``(accounts, cases)`` of the module docstring, from the current rows of the requests that became
    cases. A request is open while it is accepted or suspended."""
    rows = fetch(con, _CURRENT_CASES + " ORDER BY seq", {"t": tenant}, table="amtshilfe_requests")
    open_states = [str(ErsuchenState.ACCEPTED), str(ErsuchenState.SUSPENDED)]
    accounts = conform(rows.select(
        pl.col("creditor_id").str.strip_chars().str.to_uppercase().alias("creditor"),
        pl.col("creditor_name").alias("name"), pl.col("creditor_iban").alias("iban"),
        pl.col("creditor_bic").alias("bic"), "seq", pl.col("state").is_in(open_states).alias("open")), ACCOUNT_SCHEMA)
    return accounts, conform(rows, CASES)


def read_forwards(con: duckdb.DuckDBPyConnection, tenant: str) -> tuple[pl.DataFrame, pl.DataFrame]:
    """``(forward_items, forwarded)`` of the module docstring: money allocated to other creditors' claims
    (net of reversals once summed) and what was forwarded to them already."""
    items = conform(fetch(con, """
        WITH tx AS (
            SELECT transaction_id, booking_date FROM transactions WHERE tenant = $t
            QUALIFY row_number() OVER (PARTITION BY transaction_id ORDER BY booking_date) = 1
        ), theirs AS (
            SELECT receivable_id, creditor, kassenzeichen AS case_number, external_ref, debtor_name FROM claims
            WHERE tenant = $t AND origin = 'amtshilfe' AND creditor IS NOT NULL AND creditor <> $t
            QUALIFY row_number() OVER (PARTITION BY receivable_id ORDER BY created_at) = 1   -- one row per claim
        ), cases AS (""" + _CURRENT_CASES + """
        )
        SELECT c.creditor, a.transaction_id, a.receivable_id, a.kassenzeichen, c.external_ref,
               r.creditor_file_number, c.debtor_name, coalesce(tx.booking_date, a.booking_date) AS paid_on,
               a.amount_cents
        FROM allocations a JOIN theirs c USING (receivable_id) LEFT JOIN tx USING (transaction_id)
        LEFT JOIN cases r ON r.case_number = c.case_number
        WHERE a.tenant = $t
        ORDER BY 1, 2, 3""", {"t": tenant}), ITEM_SCHEMA)
    # a forward the creditor's bank returned counts as not forwarded (its IBAN is blocked: payee_blocked)
    payouts = fetch(con, """
        SELECT source_id, amount_cents FROM payouts WHERE tenant = $t AND source = $f
        UNION ALL SELECT source_id, -amount_cents FROM payout_returns WHERE tenant = $t AND source = $f""",
                    {"t": tenant, "f": PayoutSource.FORWARD.value})
    forwarded = conform(payouts.select(creditor_of(pl.col("source_id")).alias("creditor"), "amount_cents"),
                        FORWARDED_SCHEMA)
    return items, forwarded


def booked_payout_runs(con: duckdb.DuckDBPyConnection, tenant: str, day: date) -> pl.DataFrame:
    """The committed payout runs for execution date ``day`` (run_id, committed_at), oldest first."""
    return fetch(con, "SELECT run_id, committed_at FROM runs WHERE tenant = $t AND job = 'payout' "
                      "AND booking_date = $d ORDER BY committed_at", {"t": tenant, "d": day})
