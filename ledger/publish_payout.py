"""The SEPA payout runs as the review page sees them: a read-only snapshot per tenant.

The page never opens the ledger, so the payout job (``jobs.payout``) publishes what the page
"Auszahlungen" shows after each call (prepare, show, book, finish)::

    <state_dir>/published_payout/<tenant>/runs.parquet       PAYOUT_RUNS_SCHEMA: every run, newest date first
    <state_dir>/published_payout/<tenant>/files.parquet      FILES_SCHEMA: the pain.001 file of each run
    <state_dir>/published_payout/<tenant>/transfers.parquet  TRANSFERS_SCHEMA: the credit transfers
    <state_dir>/published_payout/<tenant>/setoffs.parquet    SETOFFS_SCHEMA: what was set off against which claim
    <state_dir>/published_payout/<tenant>/skipped.parquet    SKIPPED_SCHEMA: refunds not paid, or paid without set-off
    <state_dir>/published_payout/<tenant>/dropped.parquet    DROPPED_SCHEMA: taken out at booking, with why
    <state_dir>/published_payout/<tenant>/meta.json          tenant, published_at, on

Written and read as the collection snapshot is (:func:`ledger.publish_collection.write_snapshot`: a
complete version, then the link swapped), and the runs are :data:`~ledger.publish_collection.RUNS_SCHEMA`
with the payout's own sums added, so :func:`~ledger.publish_collection.lay_releases` lays the
``payout_release`` lines over them: a run the page released shows as ``released`` at once.

The payee's IBAN is published masked (country, check digits and the last four characters): the page
needs to recognise the account, not to copy it; the file and the ledger hold it in full.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import polars as pl

from ledger.publish_collection import FILES_SCHEMA, RUNS_SCHEMA, lay_releases, read_snapshot, write_snapshot

ROOT = "published_payout"
#: The release lines the payout runs read (``ledger.release_journal``).
RELEASE_KIND = "payout_release"

#: One row per run: the collection's run columns (``n_items``: transfers, ``total_cents``: paid out;
#: ``counts_json``: ``{"skipped": {reason: n}, "no_setoff": {reason: n}, "dropped": {reason: n}}``) and the sums
#: of the payout: what was due to the payees, what was set off, in how many set-offs and letters.
PAYOUT_RUNS_SCHEMA: dict[str, pl.DataType] = {
    **RUNS_SCHEMA,
    "set_off_on": pl.Date(),
    "credit_cents": pl.Int64(),           # set off + paid out
    "n_setoffs": pl.Int64(),
    "setoff_cents": pl.Int64(),
    "n_letters": pl.Int64(),
    "letters_pdf": pl.String(),           # the Verrechnungsmitteilungen: the draft until booked, then the final
}

#: A credit transfer of a run (``status`` prepared | booked).
TRANSFERS_SCHEMA: dict[str, pl.DataType] = {
    "run_id": pl.String(),
    "status": pl.String(),
    "source_id": pl.String(),             # the refund decision
    "transaction_id": pl.String(),        # the payment the money came with
    "debtor_id": pl.String(),             # null: the payer is not a certain debtor
    "payee_name": pl.String(),
    "payee_iban_masked": pl.String(),
    "credit_cents": pl.Int64(),
    "setoff_cents": pl.Int64(),
    "amount_cents": pl.Int64(),           # paid out
    "remittance": pl.String(),
    "end_to_end_id": pl.String(),
}

#: A set-off: a part of a refund settled a due claim of the same debtor (one letter per debtor).
SETOFFS_SCHEMA: dict[str, pl.DataType] = {
    "run_id": pl.String(),
    "status": pl.String(),
    "source_id": pl.String(),
    "debtor_id": pl.String(),
    "debtor_name": pl.String(),
    "receivable_id": pl.String(),
    "kassenzeichen": pl.String(),
    "claim_type": pl.String(),
    "amount_cents": pl.Int64(),
    "letter_id": pl.String(),
}

#: A refund the run did not pay out (``kind`` ``payout``, ``reason``: ``claims.vocab.PayoutSkip``) or paid
#: without set-off (``kind`` ``setoff``, ``reason``: ``claims.vocab.SetoffSkip``).
SKIPPED_SCHEMA: dict[str, pl.DataType] = {
    "run_id": pl.String(),
    "kind": pl.String(),
    "source_id": pl.String(),
    "transaction_id": pl.String(),
    "payee_name": pl.String(),
    "kassenzeichen": pl.String(),
    "amount_cents": pl.Int64(),
    "reason": pl.String(),
    "detail": pl.String(),
}

#: Refunds the booking took out (changed or paid since the preparation; prepared again by a later run).
DROPPED_SCHEMA: dict[str, pl.DataType] = {"run_id": pl.String(), "source_id": pl.String(), "reason": pl.String()}

FRAMES: dict[str, tuple[dict[str, pl.DataType], tuple[str, ...]]] = {
    "runs": (PAYOUT_RUNS_SCHEMA, ("run_date", "run_id")),
    "files": (FILES_SCHEMA, ("run_id", "file_name")),
    "transfers": (TRANSFERS_SCHEMA, ("run_id", "payee_name", "source_id")),
    "setoffs": (SETOFFS_SCHEMA, ("run_id", "debtor_id", "kassenzeichen", "receivable_id")),
    "skipped": (SKIPPED_SCHEMA, ("run_id", "kind", "reason", "source_id")),
    "dropped": (DROPPED_SCHEMA, ("run_id", "source_id")),
}


@dataclass(frozen=True, slots=True)
class PayoutPublished:
    """A tenant's published payout snapshot (frames by :data:`FRAMES`)."""

    runs: pl.DataFrame
    files: pl.DataFrame
    transfers: pl.DataFrame
    setoffs: pl.DataFrame
    skipped: pl.DataFrame
    dropped: pl.DataFrame
    meta: dict[str, Any]


def published_dir(state_dir: Path, tenant: str) -> Path:
    """The link the page reads (``<state_dir>/published_payout/<tenant>``)."""
    return Path(state_dir) / ROOT / tenant


def masked_iban(col: str) -> pl.Expr:
    """``DE89 ···· 3000``: country and check digits, the last four characters (module docstring)."""
    plain = pl.col(col).str.replace_all(" ", "").str.to_uppercase()
    return pl.when(plain.str.len_chars() > 8).then(
        pl.concat_str(plain.str.slice(0, 4), pl.lit(" ···· "), plain.str.slice(-4))).otherwise(pl.lit("····"))


def publish_payout(state_dir: Path, tenant: str, frames: dict[str, pl.DataFrame], *, on: date) -> Path:
    """Write a new version of the tenant's payout snapshot (``frames`` by the names of :data:`FRAMES`; a
    missing one is published empty) and switch the link to it; return the link."""
    return write_snapshot(state_dir, ROOT, tenant, FRAMES, frames, on=on, descending=("runs",))


def read_payout_published(state_dir: Path, tenant: str) -> PayoutPublished:
    """The tenant's payout snapshot with the ``payout_release`` lines laid over its runs; empty frames when
    nothing was published yet."""
    frames, meta = read_snapshot(state_dir, ROOT, tenant, FRAMES)
    frames["runs"] = lay_releases(frames["runs"], state_dir, tenant, RELEASE_KIND)
    return PayoutPublished(**frames, meta=meta)
