"""What the SEPA collection job reads from the ledger: the claims open now and the collection record.

Nothing here writes. The frames are in the shapes :mod:`collection.select` and :mod:`collection.mandates`
take: ``claims`` — the current claims, still open (:func:`ledger.state.current_open_items`, the same
reading as the dunning run's: the newest export + Stadtkasse's own claims − allocations, so
``amount_cents`` is the open amount); ``collected`` — every booked collection (``collection.history.
COLLECTED_SCHEMA``); ``returned`` — every return matched to one (``RETURNED_SCHEMA``); ``register`` —
the mandate register as the last booked runs left it (the latest row per mandate of table ``mandates``,
``collection.mandates.REGISTER_SCHEMA``).
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import date
from pathlib import Path

import duckdb
import polars as pl

from collection.history import COLLECTED_SCHEMA, RETURNED_SCHEMA
from collection.mandates import REGISTER_SCHEMA
from ledger.db import fetch
from ledger.state import current_open_items
from parsers.schema import conform


@dataclass(slots=True)
class CollectionState:
    """The frames of the module docstring."""

    claims: pl.DataFrame
    collected: pl.DataFrame
    returned: pl.DataFrame
    register: pl.DataFrame

    def write(self, folder: Path, prefix: str) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        for f in fields(self):
            getattr(self, f.name).write_parquet(folder / f"{prefix}{f.name}.parquet")

    @classmethod
    def read(cls, folder: Path, prefix: str) -> CollectionState:
        return cls(**{f.name: pl.read_parquet(folder / f"{prefix}{f.name}.parquet") for f in fields(cls)})


def read_collection_state(con: duckdb.DuckDBPyConnection, tenant: str, *, paid_too: bool = False
                          ) -> CollectionState:
    """Everything a collection run of ``tenant`` reads from the ledger, in one go. ``paid_too``: the claims
    with nothing open as well (the nightly run charges a return fee on a claim its collection paid)."""
    p = {"t": tenant}
    claims = current_open_items(con, tenant)
    cols = ", ".join(f'"{c}"' for c in COLLECTED_SCHEMA)
    back = ", ".join(f'"{c}"' for c in RETURNED_SCHEMA)
    reg = ", ".join(f'm."{c}"' for c in REGISTER_SCHEMA)
    return CollectionState(
        claims=claims if paid_too else claims.filter(pl.col("amount_cents") > 0),
        collected=conform(fetch(con, f"SELECT {cols} FROM collections WHERE tenant = $t "
                                     "ORDER BY collection_date, end_to_end_id", p), COLLECTED_SCHEMA),
        returned=conform(fetch(con, f"SELECT {back} FROM collection_returns WHERE tenant = $t "
                                    "ORDER BY return_date, end_to_end_id", p), RETURNED_SCHEMA),
        register=conform(fetch(con, f"""
            SELECT {reg} FROM mandates m JOIN runs r ON r.tenant = m.tenant AND r.run_id = m.run_id
            WHERE m.tenant = $t
            QUALIFY row_number() OVER (PARTITION BY m.mandate_id ORDER BY r.committed_at DESC, m.rowid DESC) = 1
            ORDER BY m.mandate_id""", p), REGISTER_SCHEMA),
    )


def booked_collection_runs(con: duckdb.DuckDBPyConnection, tenant: str, day: date) -> pl.DataFrame:
    """The committed collection runs for ``day`` (run_id, committed_at), oldest first."""
    return fetch(con, "SELECT run_id, committed_at FROM runs WHERE tenant = $t AND job = 'collect' "
                      "AND booking_date = $d ORDER BY committed_at", {"t": tenant, "d": day})
