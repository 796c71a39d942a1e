"""Booking: everything a run decided goes into the ledger in ONE transaction — all of it or nothing.

This is the only writer of the ledger file. The rows are computed before (the run folder holds them
as Parquet); here they are only appended, table by table, between ``BEGIN`` and ``COMMIT``. Any
exception rolls back, so a crash leaves the ledger exactly as it was. Nothing is ever updated or
deleted: corrections are new rows.
"""

from __future__ import annotations

import contextlib
from collections.abc import Mapping
from datetime import UTC, datetime

import duckdb
import polars as pl

from claims.vocab import FileStatus
from ledger import checkpoints
from ledger.db import fetch, insert, scalar
from ledger.tables import TABLES


class BookingConflict(RuntimeError):
    """Another run booked some of this run's files since it read the ledger: run again."""


class LedgerWriteError(RuntimeError):
    """The ledger file could not be written (a full disk, an I/O error): nothing of the run was booked."""


def already_booked(con: duckdb.DuckDBPyConnection, run_id: str) -> bool:
    """Whether ``run_id`` has been committed (a retried book task must not book twice)."""
    return bool(scalar(con, "SELECT count(*) FROM runs WHERE run_id = $r", {"r": run_id}))


def book(con: duckdb.DuckDBPyConnection, frames: Mapping[str, pl.DataFrame], *, run_id: str) -> dict[str, int]:
    """Append ``frames`` (table name -> rows) in one transaction; return rows written per table.

    ``frames["runs"]`` must hold the run's row; its ``committed_at`` is set here. Idempotent per
    ``run_id``: a second call for a committed run writes nothing and returns ``{}``.
    """
    unknown = set(frames) - set(TABLES)
    if unknown:
        raise ValueError(f"not ledger tables: {sorted(unknown)}")
    if already_booked(con, run_id):
        return {}
    written: dict[str, int] = {}
    con.execute("BEGIN TRANSACTION")
    try:
        files = frames.get("files")
        if files is not None and files.height:
            _check_files_new(con, files)
        transactions = frames.get("transactions")
        if transactions is not None and transactions.height:
            _check_transactions_new(con, transactions)
        for table in TABLES:
            frame = frames.get(table)
            if frame is not None:
                if table == "runs":
                    frame = frame.with_columns(pl.lit(datetime.now(UTC)).cast(TABLES["runs"]["committed_at"])
                                               .alias("committed_at"))
                written[table] = insert(con, table, frame)
            checkpoints.reached(f"book.{table}")
        checkpoints.reached("book.commit")
        con.execute("COMMIT")
    except BaseException as exc:
        with contextlib.suppress(duckdb.Error):  # a failed COMMIT has ended the transaction already:
            con.execute("ROLLBACK")               # the first error is what counts
        if isinstance(exc, duckdb.IOException | duckdb.OutOfMemoryException):
            raise LedgerWriteError(f"the ledger could not be written ({' '.join(str(exc).split())[:300]}); "
                                   "nothing of this run was booked") from exc
        raise
    return written


def _check_transactions_new(con: duckdb.DuckDBPyConnection, transactions: pl.DataFrame) -> None:
    """The ledger refuses a transaction id twice: within the run, or one it already holds.

    The ingest step never stages such a row (overlapping statements are dropped there); this is the
    last guard, so that no bug upstream can book a bank entry twice.
    """
    ids = transactions.select("tenant", "transaction_id")
    twice = ids.filter(ids.is_duplicated())
    if twice.height:
        raise BookingConflict(f"{twice['transaction_id'].n_unique()} transaction id(s) stand more than once in this "
                              f"run, e.g. {twice['transaction_id'][0]}: nothing is booked")
    con.register("_new_tx", ids.to_arrow())
    try:
        clash = fetch(con, "SELECT n.transaction_id FROM transactions t JOIN _new_tx n USING (tenant, transaction_id)")
    finally:
        con.unregister("_new_tx")
    if clash.height:
        raise BookingConflict(f"{clash.height} transaction id(s) of this run are already in the ledger, e.g. "
                              f"{clash['transaction_id'].sort()[0]}: nothing is booked")


def _check_files_new(con: duckdb.DuckDBPyConnection, files: pl.DataFrame) -> None:
    hashes = files.filter(pl.col("status") == FileStatus.OK).select("tenant", "source_file")
    if hashes.height == 0:
        return
    con.register("_new_files", hashes.to_arrow())
    try:
        clash = scalar(con, "SELECT count(*) FROM files f JOIN _new_files n USING (tenant, source_file) "
                            "WHERE f.status = 'ok'")
    finally:
        con.unregister("_new_files")
    if clash:
        raise BookingConflict(f"{clash} file(s) of this run were booked by another run meanwhile")
