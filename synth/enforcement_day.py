"""The outside world of the demo's enforcement days: a debtor's transfer on a handed claim, and the
enforcement office's outcomes file.

* :func:`credit_day_files` — an account's statement of one day with the given credits (SEPA transfers:
  GVC 166, ``NTRF``; MT940 ``SVWZ+`` / camt ``RmtInf/Ustrd``), like :mod:`synth.payout_day` for our own
  payouts: the nightly run matches them like any payment;
* :func:`office_outcomes` — what an enforcement office reports back on some of the cases it received
  (``enforcement.outcomes_file.write_outcomes``: one outcome per row, its fees as items).

Pure: frames and parameters in, ``{file name: bytes}`` or bytes out.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

import polars as pl

from enforcement.file_format import Party
from enforcement.outcomes_file import OutcomesHeader, write_outcomes
from synth import camt_render, mt940_render
from synth.bookings import StatementHeader, conform_bookings
from synth.collection_day import FORMATS, statement_name

#: A credit: ``amount_cents`` (> 0), ``name``, ``iban`` (may be null), ``remittance`` (≤ 140 characters).
CREDIT_SCHEMA: dict[str, pl.DataType] = {"amount_cents": pl.Int64(), "name": pl.String(), "iban": pl.String(),
                                         "remittance": pl.String()}


def credit_day_files(credits: pl.DataFrame, *, header: StatementHeader, fmt: str = "camt.053") -> dict[str, bytes]:
    """The statement of ``header.statement_date`` with ``credits`` (:data:`CREDIT_SCHEMA`) as SEPA credit
    transfers, in ``fmt`` (``camt.053`` UTF-8 or ``mt940`` ISO-8859-1); ``{file name: bytes}``."""
    if fmt not in FORMATS:
        raise ValueError(f"fmt is one of {', '.join(FORMATS)}: {fmt!r}")
    if credits.filter(pl.col("amount_cents") <= 0).height:
        raise ValueError("a credit is more than 0,00")
    day = header.statement_date
    frame = credits.with_row_index("n", offset=1).select(
        pl.col("n").cast(pl.Int64).alias("entry_no"), pl.lit(day).alias("booking_date"), pl.lit(day).alias("value_date"),
        pl.col("amount_cents"), pl.lit("NTRF").alias("swift_code"), pl.lit("166").alias("gvc"),
        pl.lit("GUTSCHR. UEBERWEISUNG").alias("booking_text"), pl.lit("PMNT").alias("domain"),
        pl.lit("RCDT").alias("family"), pl.lit("ESCT").alias("subfamily"),
        pl.col("remittance").str.slice(0, 140).alias("svwz"), pl.col("name").alias("cp_name"),
        pl.col("iban").alias("cp_iban"), pl.lit("NOTPROVIDED").alias("eref"),
        pl.format("{}E{}", pl.lit(f"{day:%Y%m%d}"), pl.col("n").cast(pl.String).str.zfill(5)).alias("bank_ref"),
        (9700 + pl.col("n")).cast(pl.String).alias("primanota"))
    bookings = conform_bookings(frame.with_columns(pl.col("bank_ref").alias("entry_ref")))
    if fmt == "mt940":
        text = mt940_render.render_statement(replace(header, reference="STARTUMSE"), bookings)
        return {statement_name(header, fmt): text.encode("iso-8859-1")}
    return {statement_name(header, fmt): camt_render.render_camt053(header, bookings, "08").encode("utf-8")}


def office_outcomes(outcomes: pl.DataFrame, fees: pl.DataFrame, *, office_id: str, office: Party, creditor: Party,
                    message_id: str, created: datetime) -> bytes:
    """The office's outcomes file (``enforcement.outcomes_file`` columns; the office's fees as items)."""
    header = OutcomesHeader(message_id=message_id, created=created, office_id=office_id, sender=office,
                            receiver=creditor)
    return write_outcomes(header, outcomes, fees)


__all__ = ["CREDIT_SCHEMA", "credit_day_files", "office_outcomes"]
