"""What the ledger says about our payouts after they left: booked by the bank, returned, IBANs blocked.

Read-only. Two users:

* the nightly run (:func:`read_payout_back_state`, into the run folder as ``payout_*`` frames): the payout
  record (``payouts``, migration 8) and what earlier nights matched to it (``payout_bookings``,
  ``payout_returns``, ``payee_blocks``, migration 9), for ``collection.payout_back``;
* the payout job: :func:`blocked_payee_ibans` — the IBANs a payout must not go to (with
  ``collection.payout_back.skip_blocked``) — and :func:`refunds_waiting_for_iban` — the payouts that came
  back and are not paid again yet: the refund is reopened, waiting for a clerk's new IBAN.

**How a returned payout is reopened** (the simplest representation): nothing is reversed or rewritten.
The ``payout_returns`` row *is* the reopened refund: its ``source``/``source_id`` (the clerk's refund
decision) and ``amount_cents`` say what is owed to whom again, and it stays waiting as long as no payout
of the same ``source``/``source_id`` was booked after it (a payout run committed later than the night
that booked the return). The clerk's new IBAN starts that next payout; the IBAN the money came back from
is in ``payee_blocks`` and is never paid to again until a clerk lifts the block (a later slice).
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from pathlib import Path

import duckdb
import polars as pl

from claims.vocab import PayoutSource
from collection.payout_back import BLOCK_SCHEMA, BOOKING_SCHEMA, PAID_SCHEMA, PAYOUT_RETURN_SCHEMA
from ledger.db import fetch
from parsers.schema import conform


@dataclass(slots=True)
class PayoutBackState:
    """The frames of the module docstring (the nightly's reading)."""

    paid: pl.DataFrame                    # PAID_SCHEMA: every booked payout
    bookings: pl.DataFrame                # BOOKING_SCHEMA: the payouts the bank booked so far
    returned: pl.DataFrame                # PAYOUT_RETURN_SCHEMA: the payouts that came back so far
    blocks: pl.DataFrame                  # BLOCK_SCHEMA: the IBANs blocked for payouts

    def write(self, folder: Path, prefix: str) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        for f in fields(self):
            getattr(self, f.name).write_parquet(folder / f"{prefix}{f.name}.parquet")

    @classmethod
    def read(cls, folder: Path, prefix: str) -> PayoutBackState:
        """The frames a read_ledger step wrote; empty ones where it wrote none (a run folder of an older
        release)."""
        schemas = {"paid": PAID_SCHEMA, "bookings": BOOKING_SCHEMA, "returned": PAYOUT_RETURN_SCHEMA,
                   "blocks": BLOCK_SCHEMA}
        out = {}
        for f in fields(cls):
            p = folder / f"{prefix}{f.name}.parquet"
            out[f.name] = pl.read_parquet(p) if p.exists() else pl.DataFrame(schema=schemas[f.name])
        return cls(**out)


def _select(con: duckdb.DuckDBPyConnection, table: str, schema: dict[str, pl.DataType], tenant: str,
            order: str) -> pl.DataFrame:
    cols = ", ".join(f'"{c}"' for c in schema)
    return conform(fetch(con, f"SELECT {cols} FROM {table} WHERE tenant = $t ORDER BY {order}", {"t": tenant}),
                   schema)


def read_payout_back_state(con: duckdb.DuckDBPyConnection, tenant: str) -> PayoutBackState:
    """Everything the nightly run reads about ``tenant``'s payouts, in one go."""
    return PayoutBackState(
        paid=_select(con, "payouts", PAID_SCHEMA, tenant, "execution_date, end_to_end_id"),
        bookings=_select(con, "payout_bookings", BOOKING_SCHEMA, tenant, "booking_date, end_to_end_id"),
        returned=_select(con, "payout_returns", PAYOUT_RETURN_SCHEMA, tenant, "return_date, end_to_end_id"),
        blocks=blocked_payee_ibans(con, tenant),
    )


def blocked_payee_ibans(con: duckdb.DuckDBPyConnection, tenant: str) -> pl.DataFrame:
    """The IBANs ``tenant`` must not pay out to (BLOCK_SCHEMA, one row per IBAN: the first block), IBANs
    compact and upper-case. For the payout job: ``collection.payout_back.skip_blocked(payouts, this)``."""
    cols = ", ".join(f'"{c}"' for c in BLOCK_SCHEMA)
    return conform(fetch(con, f"""
        SELECT {cols} FROM payee_blocks WHERE tenant = $t
        QUALIFY row_number() OVER (PARTITION BY iban ORDER BY since, end_to_end_id) = 1
        ORDER BY iban""", {"t": tenant}), BLOCK_SCHEMA)


def refunds_waiting_for_iban(con: duckdb.DuckDBPyConnection, tenant: str) -> pl.DataFrame:
    """The payouts that came back and were not paid out again since (PAYOUT_RETURN_SCHEMA): reopened
    refunds, waiting for a clerk's new IBAN (module docstring). A payout of the same source and source id
    booked by a run committed after the night that booked the return ends the wait. Only refunds: a
    returned forward (money for another creditor) is due again by itself (``collection.forward``), under a
    new source id, and never waits for a clerk's IBAN."""
    cols = ", ".join(f'pr."{c}"' for c in PAYOUT_RETURN_SCHEMA)
    return conform(fetch(con, f"""
        SELECT {cols} FROM payout_returns pr
        JOIN runs rr ON rr.tenant = pr.tenant AND rr.run_id = pr.run_id
        WHERE pr.tenant = $t AND pr.source = $refund AND NOT EXISTS (
            SELECT 1 FROM payouts p JOIN runs rp ON rp.tenant = p.tenant AND rp.run_id = p.run_id
            WHERE p.tenant = pr.tenant AND p.source = pr.source AND p.source_id = pr.source_id
              AND rp.committed_at > rr.committed_at)
        ORDER BY pr.return_date, pr.end_to_end_id""", {"t": tenant, "refund": PayoutSource.REFUND.value}),
        PAYOUT_RETURN_SCHEMA)


__all__ = ["PayoutBackState", "blocked_payee_ibans", "read_payout_back_state", "refunds_waiting_for_iban"]
