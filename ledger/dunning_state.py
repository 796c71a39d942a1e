"""What the weekly dunning run reads from the ledger: claims, their history, payments, the Klärungsliste.

Nothing here writes. Every frame is in the shape :func:`dunning.select.select` takes it:

* ``claims`` — the current claims (:func:`ledger.state.current_open_items`: the newest export + the
  claims Stadtkasse created − allocations), still open (``amount_cents`` > 0), less those of foreign
  creditors (origin ``amtshilfe``: never dunned or handed over by us) and our cost invoices to them (debtor
  ``AH-GL-<creditor>``: an authority is not dunned like a citizen; jobs/nightly/amtshilfe_money.py);
* ``notices`` — every claim on a booked notice (``dunning.select.NOTICE_SCHEMA``);
* ``payments`` — what was credited to each current claim, signed (a reversal is negative), dated by the
  payment's value date (else its booking day) (``dunning.surcharge.PAYMENT_SCHEMA``);
* ``pending`` — the Klärungsliste (open and parked payments), one row per (payment, candidate claim), with
  the payer's IBAN (``dunning.select.PENDING_SCHEMA``);
* ``closed_days`` — the booking days with a day close;
* ``charged`` — per main claim and type (SAEUMNISZUSCHLAG, ZINSEN) what earlier runs booked as claims,
  so a run books only the difference to what accrued in total;
* ``fee_numbers`` — the Kassenzeichen (normal form) of every claim Stadtkasse created, to continue the
  fee numbering without a collision;
* ``open_fees`` — the fee claims of earlier runs still open after their allocations (receivable id, main
  claim, type, Kassenzeichen, ``open_cents``): a later letter asks for them too and quotes their
  Kassenzeichen (``jobs.dunning.charges.owed``).
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import date
from pathlib import Path

import duckdb
import polars as pl

from dunning.select import NOTICE_SCHEMA, PENDING_SCHEMA
from dunning.surcharge import PAYMENT_SCHEMA
from ledger.db import fetch
from ledger.state import current_open_items, current_unresolved
from ledger.tables import OWN_CLAIMS
from parsers.schema import conform

#: What earlier runs booked per main claim and charge type.
CHARGED_SCHEMA: dict[str, pl.DataType] = {"parent_receivable_id": pl.String(), "claim_type": pl.String(),
                                          "booked_cents": pl.Int64()}
#: The fee claims open now, per fee claim (``open_cents`` > 0).
OPEN_FEE_SCHEMA: dict[str, pl.DataType] = {"receivable_id": pl.String(), "parent_receivable_id": pl.String(),
                                           "claim_type": pl.String(), "kassenzeichen": pl.String(),
                                           "open_cents": pl.Int64()}


@dataclass(slots=True)
class DunningState:
    """The frames of the module docstring."""

    claims: pl.DataFrame
    notices: pl.DataFrame
    payments: pl.DataFrame
    pending: pl.DataFrame
    closed_days: pl.DataFrame
    charged: pl.DataFrame
    fee_numbers: pl.DataFrame
    open_fees: pl.DataFrame

    def write(self, folder: Path, prefix: str = "in_") -> None:
        folder.mkdir(parents=True, exist_ok=True)
        for f in fields(self):
            getattr(self, f.name).write_parquet(folder / f"{prefix}{f.name}.parquet")

    @classmethod
    def read(cls, folder: Path, prefix: str = "in_") -> DunningState:
        return cls(**{f.name: pl.read_parquet(folder / f"{prefix}{f.name}.parquet") for f in fields(cls)})


def _pending(con: duckdb.DuckDBPyConnection, tenant: str) -> pl.DataFrame:
    """The Klärungsliste long: one row per (payment, candidate claim); a payment without candidates once."""
    unresolved = current_unresolved(con, tenant).select("transaction_id", "candidates")
    if unresolved.height == 0:
        return pl.DataFrame(schema=PENDING_SCHEMA)
    con.register("_pending_ids", unresolved.select("transaction_id").to_arrow())
    try:
        iban = fetch(con, "SELECT transaction_id, min(counterparty_iban) AS counterparty_iban FROM transactions "
                          "WHERE tenant = $t AND transaction_id IN (SELECT transaction_id FROM _pending_ids) "
                          "GROUP BY transaction_id", {"t": tenant})
    finally:
        con.unregister("_pending_ids")
    candidates = unresolved.with_columns(
        pl.col("candidates").fill_null("[]").str.json_decode(
            pl.List(pl.Struct({"receivable_id": pl.String()}))).alias("c")
    ).explode("c").select("transaction_id", pl.col("c").struct.field("receivable_id").alias("receivable_id"))
    df = candidates.join(conform(iban, {"transaction_id": pl.String(), "counterparty_iban": pl.String()}),
                         on="transaction_id", how="left")
    return conform(df, PENDING_SCHEMA).unique(maintain_order=True)


#: The debtor id of our cost invoices to requesting authorities (``jobs/nightly/amtshilfe_money.py``).
INVOICE_DEBTOR = "AH-GL-"


def read_dunning_state(con: duckdb.DuckDBPyConnection, tenant: str) -> DunningState:
    """Everything a dunning run of ``tenant`` reads from the ledger (module docstring), in one go."""
    p = {"t": tenant}
    # a foreign creditor's claim (Amtshilfe) is never dunned by us, nor handed to an enforcement office: the
    # creditor dunned it before the request, and our own office enforces it (docs/AMTSHILFE.md)
    # and our cost invoice to a requesting authority (debtor AH-GL-…) is settled between authorities, not dunned
    claims = current_open_items(con, tenant).filter(
        (pl.col("amount_cents") > 0) & (pl.col("origin").fill_null("export") != "amtshilfe")
        & ~pl.col("debtor_id").fill_null("").str.starts_with(INVOICE_DEBTOR))
    con.register("_claim_ids", claims.select("receivable_id").to_arrow())
    try:
        payments = fetch(con, """
            SELECT a.receivable_id, coalesce(t.value_date, a.booking_date) AS paid_on, sum(a.amount_cents) AS amount_cents
            FROM allocations a
            LEFT JOIN (SELECT transaction_id, min(value_date) AS value_date FROM transactions WHERE tenant = $t
                       GROUP BY transaction_id) t USING (transaction_id)
            WHERE a.tenant = $t AND a.receivable_id IN (SELECT receivable_id FROM _claim_ids)
            GROUP BY ALL HAVING sum(a.amount_cents) <> 0 ORDER BY 1, 2
        """, p)
    finally:
        con.unregister("_claim_ids")
    return DunningState(
        claims=claims,
        notices=conform(fetch(con, "SELECT receivable_id, level, notice_date, mahngebuehr_cents "
                                   "FROM dunning_notice_items WHERE tenant = $t", p), NOTICE_SCHEMA),
        payments=conform(payments, PAYMENT_SCHEMA),
        pending=_pending(con, tenant),
        closed_days=conform(fetch(con, "SELECT DISTINCT booking_date FROM day_closes WHERE tenant = $t "
                                       "ORDER BY 1", p), {"booking_date": pl.Date()}),
        charged=conform(fetch(con, "SELECT parent_receivable_id, claim_type, sum(amount_cents) AS booked_cents "
                                   "FROM claims WHERE tenant = $t AND origin = 'fee' AND parent_receivable_id "
                                   "IS NOT NULL GROUP BY ALL ORDER BY 1, 2", p), CHARGED_SCHEMA),
        fee_numbers=conform(fetch(con, "SELECT kz_norm FROM claims WHERE tenant = $t ORDER BY 1", p),
                            {"kz_norm": pl.String()}),
        open_fees=open_fee_claims(con, tenant),
    )


def open_fee_claims(con: duckdb.DuckDBPyConnection, tenant: str) -> pl.DataFrame:
    """The fee claims (origin ``fee``, with a main claim) still open after their allocations, as
    :data:`OPEN_FEE_SCHEMA` — what the debtor owes besides the principal, under the Kassenzeichen the
    earlier notices gave them."""
    df = fetch(con, """
        SELECT c.receivable_id, c.parent_receivable_id, c.claim_type, coalesce(c.kassenzeichen, c.kz_norm) AS kassenzeichen,
               c.amount_cents - coalesce(p.paid, 0) AS open_cents
        FROM claims c
        LEFT JOIN (SELECT receivable_id, sum(amount_cents) AS paid FROM allocations
                   WHERE tenant = $t AND import_id = $own GROUP BY receivable_id) p USING (receivable_id)
        WHERE c.tenant = $t AND c.origin = 'fee' AND c.parent_receivable_id IS NOT NULL
          AND c.amount_cents - coalesce(p.paid, 0) > 0
        ORDER BY c.parent_receivable_id, c.receivable_id
    """, {"t": tenant, "own": OWN_CLAIMS})
    return conform(df, OPEN_FEE_SCHEMA)


#: Payments for the instalment plans (``dunning.instalments.PAYMENT_SCHEMA``).
PLAN_PAYMENT_SCHEMA: dict[str, pl.DataType] = {"debtor_id": pl.String(), "receivable_id": pl.String(),
                                               "paid_on": pl.Date(), "amount_cents": pl.Int64()}


def plan_payments(con: duckdb.DuckDBPyConnection, tenant: str, debtor_ids: list[str]) -> pl.DataFrame:
    """What was credited to any claim of ``debtor_ids`` (the debtors with an instalment plan), signed,
    dated by the value date (else the booking day), with the claim's debtor — **also claims settled
    since**: the instalments paid on a claim that is paid off now still count for the plan (the state's
    ``payments`` hold only the claims open now)."""
    if not debtor_ids:
        return pl.DataFrame(schema=PLAN_PAYMENT_SCHEMA)
    con.register("_plan_debtors", pl.DataFrame({"debtor_id": debtor_ids}, schema={"debtor_id": pl.String()}).to_arrow())
    try:
        df = fetch(con, """
            WITH whose AS (
                SELECT receivable_id, min(debtor_id) AS debtor_id FROM (
                    SELECT receivable_id, debtor_id FROM open_items WHERE tenant = $t
                    UNION ALL SELECT receivable_id, debtor_id FROM claims WHERE tenant = $t)
                GROUP BY receivable_id)
            SELECT w.debtor_id, a.receivable_id, coalesce(t.value_date, a.booking_date) AS paid_on,
                   sum(a.amount_cents) AS amount_cents
            FROM allocations a
            JOIN whose w USING (receivable_id)
            LEFT JOIN (SELECT transaction_id, min(value_date) AS value_date FROM transactions WHERE tenant = $t
                       GROUP BY transaction_id) t USING (transaction_id)
            WHERE a.tenant = $t AND w.debtor_id IN (SELECT debtor_id FROM _plan_debtors)
            GROUP BY ALL HAVING sum(a.amount_cents) <> 0 ORDER BY 1, 2, 3
        """, {"t": tenant})
    finally:
        con.unregister("_plan_debtors")
    return conform(df, PLAN_PAYMENT_SCHEMA)


#: Inputs of ``dunning.key_figures`` that come from the ledger besides the booked notices.
FIGURE_CLAIM_SCHEMA: dict[str, pl.DataType] = {"receivable_id": pl.String(), "claim_type": pl.String(),
                                               "amount_cents": pl.Int64(), "due_date": pl.Date()}
FIGURE_ALLOCATION_SCHEMA: dict[str, pl.DataType] = {"receivable_id": pl.String(), "amount_cents": pl.Int64(),
                                                    "booking_date": pl.Date()}


def figure_inputs(con: duckdb.DuckDBPyConnection, tenant: str) -> tuple[pl.DataFrame, pl.DataFrame]:
    """``claims`` — every claim the ledger ever knew, paid or not, as first seen (the earliest export
    that held it: its type, amount and due date; an export lists only what is open, so a claim paid off
    since is still counted for the period it fell due in) plus Stadtkasse's own claims; ``allocations``
    — every allocation with its booking day (for the Erfolgsquote)."""
    p = {"t": tenant}
    claims = fetch(con, """
        SELECT receivable_id, arg_min(claim_type, seen) AS claim_type, arg_min(amount_cents, seen) AS amount_cents,
               arg_min(due_date, seen) AS due_date
        FROM (SELECT o.receivable_id, o.claim_type, o.amount_cents, o.due_date,
                     coalesce(i.imported_at, TIMESTAMPTZ '1970-01-01 00:00:00+00') AS seen
              FROM open_items o LEFT JOIN open_item_imports i ON i.tenant = o.tenant AND i.import_id = o.import_id
              WHERE o.tenant = $t
              UNION ALL
              SELECT receivable_id, claim_type, amount_cents, due_date, created_at AS seen FROM claims WHERE tenant = $t)
        GROUP BY receivable_id ORDER BY receivable_id
    """, p)
    allocations = fetch(con, "SELECT receivable_id, amount_cents, booking_date FROM allocations WHERE tenant = $t "
                             "ORDER BY booking_date, receivable_id", p)
    return conform(claims, FIGURE_CLAIM_SCHEMA), conform(allocations, FIGURE_ALLOCATION_SCHEMA)


def kassenzeichen_taken(con: duckdb.DuckDBPyConnection, tenant: str, numbers: pl.Series) -> list[str]:
    """Which of ``numbers`` (normal form) the tenant's ledger already knows, as any export's claim or as
    a claim of its own (the fee numbering must never hand out a number the finance system uses)."""
    if numbers.len() == 0:
        return []
    con.register("_new_kz", pl.DataFrame({"kz_norm": numbers}).to_arrow())
    try:
        taken = fetch(con, "SELECT DISTINCT kz_norm FROM (SELECT kz_norm FROM open_items WHERE tenant = $t "
                           "UNION ALL SELECT kz_norm FROM claims WHERE tenant = $t) "
                           "WHERE kz_norm IN (SELECT kz_norm FROM _new_kz) ORDER BY 1", {"t": tenant})
    finally:
        con.unregister("_new_kz")
    return [str(k) for k in taken["kz_norm"].to_list()]


def booked_dunning_runs(con: duckdb.DuckDBPyConnection, tenant: str, first: date, last: date) -> pl.DataFrame:
    """The committed dunning runs of ``tenant`` whose date lies in ``first`` … ``last`` (a week)."""
    return fetch(con, "SELECT run_id, booking_date, committed_at FROM runs WHERE tenant = $t AND job = 'dunning' "
                      "AND booking_date BETWEEN $a AND $b ORDER BY committed_at",
                 {"t": tenant, "a": first, "b": last})


def booked_notices(con: duckdb.DuckDBPyConnection, tenant: str) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Every booked notice and its claims (for the review page's notice history)."""
    notices = fetch(con, "SELECT * FROM dunning_notices WHERE tenant = $t ORDER BY notice_date, run_id, notice_id",
                    {"t": tenant}, table="dunning_notices")
    items = fetch(con, "SELECT * FROM dunning_notice_items WHERE tenant = $t ORDER BY run_id, notice_id, receivable_id",
                  {"t": tenant}, table="dunning_notice_items")
    return notices, items


__all__ = ["CHARGED_SCHEMA", "FIGURE_ALLOCATION_SCHEMA", "FIGURE_CLAIM_SCHEMA", "OPEN_FEE_SCHEMA",
           "PLAN_PAYMENT_SCHEMA", "DunningState", "booked_dunning_runs", "booked_notices", "figure_inputs",
           "kassenzeichen_taken", "open_fee_claims", "plan_payments", "read_dunning_state"]
