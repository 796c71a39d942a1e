"""What the import of the enforcement office's outcomes reads from the ledger, and the blocks its booked
outcomes set (docs/ENFORCEMENT.md, "Importing outcomes"). Nothing here writes.

* :func:`read_outcomes_state` — for the nightly import: the outcomes recorded so far (id and digest, booked
  or held), the handed claims with their cases (``ledger.enforcement_state.case_claims``), per case its
  debtor as last handed over (the fee claims' debtor and address), the Kassenzeichen already in use (the
  fee numbering continues after the tenant's own claims and skips every number an export used);
* :func:`outcome_blocks` — the ``NIEDERSCHLAGUNG`` blocks of booked ``uncollectible`` / ``written_off``
  outcomes (``enforcement.outcomes_apply.outcome_blocks``) plus the fee claims charged on a blocked claim,
  in ``dunning.select.BLOCK_SCHEMA``: the dunning run and the hand-off add them to the block journal's;
  and those of foreign creditors' cases a person declared uncollectible
  (:func:`ledger.amtshilfe_state.uncollectible_blocks`).

**Why the blocks are derived, not written to the block journal.** The journal is a clerk's record with
four-eyes rules (a block without end set by one user holds 90 days until a second approves it) and lives
in files outside DuckDB: an import writing there would need its own idempotency and crash recovery beside
the ledger's one transaction, and a machine-set line would either break the four-eyes rule or lapse after
90 days. Derived from the booked outcomes, a block exists exactly when the outcome is committed — in the
same transaction — and a rerun can neither lose nor double it.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from pathlib import Path

import duckdb
import polars as pl

from claims.vocab import BlockReason, OutcomeState
from enforcement import outcomes_apply
from ledger.amtshilfe_state import uncollectible_blocks
from ledger.db import fetch
from ledger.enforcement_state import case_claims
from parsers.schema import conform

#: Per case: its debtor as the latest hand-off recorded it (the fee claims' debtor).
CASE_DEBTORS: dict[str, pl.DataType] = {
    "case_number": pl.String(), "debtor_id": pl.String(), "debtor_name": pl.String(),
    "debtor_street": pl.String(), "debtor_postcode": pl.String(), "debtor_city": pl.String(),
    "debtor_country": pl.String(), "debtor_birth_date": pl.Date()}
#: Per handed claim: its law (a fee claim takes its parent's).
CLAIM_LAW: dict[str, pl.DataType] = {"receivable_id": pl.String(), "law": pl.String()}
#: The booked outcomes (what is filed in the case files, what blocks).
BOOKED: dict[str, pl.DataType] = {
    "outcome_id": pl.String(), "digest": pl.String(), "case_number": pl.String(), "receivable_id": pl.String(),
    "outcome": pl.String(), "outcome_date": pl.Date()}


@dataclass(slots=True)
class OutcomesState:
    """The ledger as the outcomes import needs it (frames; written to and read from a run folder)."""

    recorded: pl.DataFrame        # outcomes_apply.RECORDED_COLUMNS: every outcome id and digest recorded
    case_claims: pl.DataFrame     # ledger.enforcement_state.CASE_CLAIMS
    case_debtors: pl.DataFrame    # CASE_DEBTORS
    claim_law: pl.DataFrame       # CLAIM_LAW
    kz_in_use: pl.DataFrame       # kz_norm of every claim of the tenant's own, and export numbers
    own_kz: pl.DataFrame          # kz_norm of the tenant's own claims (the fee counter continues after them)
    booked: pl.DataFrame          # BOOKED

    def write(self, folder: Path, prefix: str) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        for f in fields(self):
            getattr(self, f.name).write_parquet(folder / f"{prefix}{f.name}.parquet")

    @classmethod
    def read(cls, folder: Path, prefix: str) -> OutcomesState:
        return cls(**{f.name: pl.read_parquet(folder / f"{prefix}{f.name}.parquet") for f in fields(cls)})


def read_outcomes_state(con: duckdb.DuckDBPyConnection, tenant: str, fee_prefix: str) -> OutcomesState:
    """The frames of :class:`OutcomesState`; ``fee_prefix``: ``[dunning] fee_kassenzeichen_prefix`` (only
    export numbers starting with it can collide with a fee number)."""
    p = {"t": tenant}
    recorded = conform(fetch(con, "SELECT DISTINCT outcome_id, digest FROM enforcement_outcomes WHERE tenant = $t",
                             p), outcomes_apply.RECORDED_COLUMNS)
    debtors = conform(fetch(con, """
        SELECT case_number, arg_max(debtor_id, handed_off_on) AS debtor_id,
               arg_max(debtor_name, handed_off_on) AS debtor_name, arg_max(debtor_street, handed_off_on) AS debtor_street,
               arg_max(debtor_postcode, handed_off_on) AS debtor_postcode, arg_max(debtor_city, handed_off_on) AS debtor_city,
               arg_max(debtor_country, handed_off_on) AS debtor_country,
               arg_max(debtor_birth_date, handed_off_on) AS debtor_birth_date
        FROM enforcement_cases WHERE tenant = $t GROUP BY case_number ORDER BY case_number""", p), CASE_DEBTORS)
    law = conform(fetch(con, "SELECT receivable_id, arg_max(law, handed_off_on) AS law FROM enforcement_case_claims "
                             "WHERE tenant = $t GROUP BY receivable_id", p), CLAIM_LAW)
    own = conform(fetch(con, "SELECT kz_norm FROM claims WHERE tenant = $t ORDER BY 1", p), {"kz_norm": pl.String()})
    in_use = conform(fetch(con, "SELECT DISTINCT kz_norm FROM open_items WHERE tenant = $t AND starts_with(kz_norm, $p) "
                                "UNION SELECT kz_norm FROM claims WHERE tenant = $t", {**p, "p": fee_prefix}),
                     {"kz_norm": pl.String()})
    return OutcomesState(recorded, case_claims(con, tenant), debtors, law, in_use, own, booked_outcomes(con, tenant))


def booked_outcomes(con: duckdb.DuckDBPyConnection, tenant: str) -> pl.DataFrame:
    """Every booked outcome of ``tenant`` (:data:`BOOKED`), in the order booked."""
    return conform(fetch(con, "SELECT outcome_id, digest, case_number, receivable_id, outcome, outcome_date "
                              "FROM enforcement_outcomes WHERE tenant = $t AND state = $s "
                              "ORDER BY outcome_date, outcome_id",
                         {"t": tenant, "s": OutcomeState.BOOKED.value}), BOOKED)


def outcome_blocks(con: duckdb.DuckDBPyConnection, tenant: str) -> pl.DataFrame:
    """The blocks of the booked outcomes (module docstring), ``dunning.select.BLOCK_SCHEMA``: the claims an
    ``uncollectible`` or ``written_off`` outcome reached, and the claims of the tenant's own charged on them
    (fees, Säumniszuschläge: ``claims.parent_receivable_id``)."""
    blocks = outcomes_apply.outcome_blocks(booked_outcomes(con, tenant), case_claims(con, tenant))
    # foreign creditors' cases a person declared uncollectible (Amtshilfe): their claims are blocked alike
    fruitless = uncollectible_blocks(con, tenant).select(blocks.columns)
    if blocks.is_empty():
        return fruitless
    con.register("_blocked", blocks.select("receivable_id", "block_from").to_arrow())
    try:
        fees = fetch(con, "SELECT c.receivable_id, min(b.block_from) AS block_from FROM claims c "
                          "JOIN _blocked b ON c.parent_receivable_id = b.receivable_id WHERE c.tenant = $t "
                          "GROUP BY c.receivable_id", {"t": tenant})
    finally:
        con.unregister("_blocked")
    extra = fees.join(blocks.select("receivable_id"), on="receivable_id", how="anti").select(
        pl.col("receivable_id").cast(pl.String), pl.lit(None, pl.String).alias("debtor_id"),
        pl.lit(BlockReason.NIEDERSCHLAGUNG.value).alias("block_reason"), pl.col("block_from").cast(pl.Date),
        pl.lit(None, pl.Date).alias("block_until"))
    return pl.concat([blocks, extra.select(blocks.columns), fruitless]).sort("receivable_id")
