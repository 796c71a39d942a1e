"""What a generator wrote: :class:`GeneratedSet` (paths and counts) and the truth schema."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import polars as pl

EXPECTED_TYPE = pl.List(pl.Struct({"receivable_id": pl.String(), "amount_cents": pl.Int64()}))

#: ``truth.parquet``: one row per bank booking (docs/SYNTH.md explains every case).
TRUTH_SCHEMA: dict[str, pl.DataType] = {
    "bank": pl.String(),            # sparkasse | volksbank
    "statement_file": pl.String(),  # path relative to the set's folder
    "bank_ref": pl.String(),        # MT940 //ref or camt TxDtls/Refs/AcctSvcrRef: unique in the set
    "entry_ref": pl.String(),       # camt Ntry/AcctSvcrRef (differs from bank_ref inside a Sammler)
    "booking_date": pl.Date(),
    "amount_cents": pl.Int64(),     # signed: credit > 0
    "case": pl.String(),
    "decidable": pl.Boolean(),
    "expected": EXPECTED_TYPE,
    "kz_quoted": pl.String(),       # the Kassenzeichen the payer meant (12 digits) or null
    "quoted": pl.String(),          # the reference as written in the text (typos included) or null
    "kz_split": pl.Boolean(),       # MT940: the quoted reference is cut across two ?2x subfields
    "payer_name": pl.String(),
    "note": pl.String(),
}
#: the truth of a set made with round-two kinds (``generate(..., mix=…)``): one more column
ROUND_TWO_TRUTH_SCHEMA: dict[str, pl.DataType] = TRUTH_SCHEMA | {
    "expected_hold": pl.String(),   # why the payment must be held (synth.round_two.HOLDS) or null
}


@dataclasses.dataclass(frozen=True)
class GeneratedSet:
    """A generated set on disk: its folder, the files in it and how many items and payments it holds."""

    out_dir: Path
    open_items: Path
    statements: tuple[Path, ...]
    truth: Path
    config: Path | None
    readme: Path | None
    n_items: int
    n_payments: int

    def truth_frame(self) -> pl.DataFrame:
        """``truth.parquet`` as a frame (:data:`TRUTH_SCHEMA`)."""
        return pl.read_parquet(self.truth)
