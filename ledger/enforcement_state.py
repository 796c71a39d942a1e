"""What the enforcement jobs read from the ledger: the cases, their claims and whether they are still open.

Nothing here writes. Migration 10 holds the record (``ledger/tables.py``): ``enforcement_cases`` (a case per
hand-off run that touched it), ``enforcement_case_claims`` (a claim per hand-off), ``enforcement_updates``
(what the nightly run told the office) and ``enforcement_outcomes`` (what the office returned).

**When a claim leaves its case.** A handed claim stays in its case until one of these, the earliest counts:

* an update ``settled`` for its case was booked (paid in full: the office stops every measure);
* a booked outcome for the whole case (``receivable_id`` null) or for this claim whose code completes it
  (``claims.vocab.EnforcementOutcome.completed()``: paid, uncollectible, returned, written off).

A case is **open** while one of its claims is. A claim in an open case is never handed over again
(``enforcement.select``: ``in_enforcement``); a claim whose case closed may be handed over again when the
selection's rules hold once more (e.g. a case ``returned`` by the office).
"""

from __future__ import annotations

import duckdb
import polars as pl

from claims.vocab import EnforcementOutcome, EnforcementUpdateKind
from ledger.db import fetch
from parsers.schema import conform

#: One row per handed claim (every hand-off), with where it stands: ``closed_on`` / ``closed_by`` null while open.
CASE_CLAIMS: dict[str, pl.DataType] = {
    "case_number": pl.String(), "debtor_id": pl.String(), "receivable_id": pl.String(),
    "main_receivable_id": pl.String(), "ancillary": pl.Boolean(), "kassenzeichen": pl.String(),
    "claim_type": pl.String(), "handed_off_on": pl.Date(), "opened_on": pl.Date(), "handed_cents": pl.Int64(),
    "office_id": pl.String(), "office_tenant": pl.String(), "run_id": pl.String(),
    "closed_on": pl.Date(), "closed_by": pl.String(),
}
#: One row per case: when it opened, to which office, when it closed (null: open) and why.
CASES: dict[str, pl.DataType] = {
    "case_number": pl.String(), "debtor_id": pl.String(), "office_id": pl.String(), "office_tenant": pl.String(),
    "opened_on": pl.Date(), "last_handed_off_on": pl.Date(), "n_claims": pl.Int64(), "n_open_claims": pl.Int64(),
    "handed_cents": pl.Int64(), "closed_on": pl.Date(), "closed_by": pl.String(),
}


def case_claims(con: duckdb.DuckDBPyConnection, tenant: str) -> pl.DataFrame:
    """Every claim ever handed over by ``tenant`` (:data:`CASE_CLAIMS`), oldest hand-off first; a claim
    handed over twice (its first case closed) has a row per hand-off."""
    params = {"t": tenant, "settled": EnforcementUpdateKind.SETTLED.value,
              "done": [o.value for o in EnforcementOutcome.completed()]}
    return conform(fetch(con, """
        WITH cases AS (
            SELECT case_number, any_value(debtor_id) AS debtor_id, min(opened_on) AS opened_on,
                   arg_min(office_id, handed_off_on) AS office_id, arg_min(office_tenant, handed_off_on) AS office_tenant
            FROM enforcement_cases WHERE tenant = $t GROUP BY case_number
        ), ends AS (
            SELECT case_number, NULL::VARCHAR AS receivable_id, effective_date AS end_on, kind AS end_by
            FROM enforcement_updates WHERE tenant = $t AND kind = $settled
            UNION ALL
            SELECT case_number, receivable_id, outcome_date, outcome
            FROM enforcement_outcomes WHERE tenant = $t AND state = 'booked' AND list_contains($done, outcome)
        ), claim_ends AS (
            SELECT c.run_id, c.case_number, c.receivable_id, arg_min(e.end_by, e.end_on) AS closed_by,
                   min(e.end_on) AS closed_on
            FROM enforcement_case_claims c JOIN ends e
              ON e.case_number = c.case_number AND (e.receivable_id IS NULL OR e.receivable_id = c.receivable_id)
             AND e.end_on >= c.handed_off_on
            WHERE c.tenant = $t GROUP BY ALL
        )
        SELECT c.case_number, k.debtor_id, c.receivable_id, c.main_receivable_id, c.ancillary, c.kassenzeichen,
               c.claim_type, c.handed_off_on, k.opened_on, c.handed_cents, k.office_id, k.office_tenant, c.run_id,
               e.closed_on, e.closed_by
        FROM enforcement_case_claims c JOIN cases k USING (case_number)
        LEFT JOIN claim_ends e USING (run_id, case_number, receivable_id)
        WHERE c.tenant = $t
        ORDER BY c.handed_off_on, c.case_number, c.receivable_id""", params), CASE_CLAIMS)


def open_case_claims(con: duckdb.DuckDBPyConnection, tenant: str) -> pl.DataFrame:
    """The claims in open cases now (the ``open_cases`` frame ``enforcement.select`` and
    ``enforcement.cases.build_cases`` take: ``CaseClaim``)."""
    return case_claims(con, tenant).filter(pl.col("closed_on").is_null())


def cases(con: duckdb.DuckDBPyConnection, tenant: str) -> pl.DataFrame:
    """One row per case of ``tenant`` (:data:`CASES`): open while one of its claims is."""
    claims = case_claims(con, tenant)
    out = (claims.group_by("case_number", maintain_order=True).agg(
        pl.col("debtor_id").first(), pl.col("office_id").first(), pl.col("office_tenant").first(),
        pl.col("opened_on").min(), pl.col("handed_off_on").max().alias("last_handed_off_on"),
        pl.len().cast(pl.Int64).alias("n_claims"),
        pl.col("closed_on").is_null().sum().cast(pl.Int64).alias("n_open_claims"),
        pl.col("handed_cents").sum(),
        pl.col("closed_on").max(), pl.col("closed_by").sort_by("closed_on").last())
        .with_columns(pl.when(pl.col("n_open_claims") == 0).then(pl.col("closed_on")).alias("closed_on"),
                      pl.when(pl.col("n_open_claims") == 0).then(pl.col("closed_by")).alias("closed_by")))
    return conform(out, CASES)


def known_case_numbers(con: duckdb.DuckDBPyConnection, tenant: str) -> pl.Series:
    """Every case number the tenant ever issued (closed cases too): the counter continues after them."""
    return fetch(con, "SELECT DISTINCT case_number FROM enforcement_cases WHERE tenant = $t",
                 {"t": tenant})["case_number"].cast(pl.String)


def export_history(con: duckdb.DuckDBPyConnection, tenant: str, receivable_ids: list[str]) -> pl.DataFrame:
    """Every open-items export row of the given claims (one per import that carried the claim), with the
    import's time: what ``outputs.notice_export`` files as the claim's notice "as exported". Stadtkasse's
    own claims (fees) have no export row."""
    if not receivable_ids:
        return fetch(con, "SELECT o.*, i.imported_at FROM open_items o JOIN open_item_imports i USING (tenant, import_id) "
                          "WHERE false", {})
    con.register("_wanted", pl.DataFrame({"receivable_id": receivable_ids}).to_arrow())
    try:
        return fetch(con, """
            SELECT o.*, i.imported_at FROM open_items o
            JOIN open_item_imports i ON i.tenant = o.tenant AND i.import_id = o.import_id
            WHERE o.tenant = $t AND o.receivable_id IN (SELECT receivable_id FROM _wanted)
            ORDER BY o.receivable_id, i.imported_at, o.import_id""", {"t": tenant})
    finally:
        con.unregister("_wanted")
