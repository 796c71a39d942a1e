"""Files the finance system (HKR: Infoma newsystem, SAP PSCD, H&H proDoppik …) imports every night.

Two files per tenant and booking night, each as CSV and Parquet, with a manifest (rows, cent sums, SHA-256):

* **booking file** ``hkr_bookings_<tenant>_<date>``: every allocation and reversal the nights of that booking
  day booked (one row per ledger allocation; a reversal is a negative row, as the ledger stores it);
* **claims file** ``hkr_claims_<tenant>_<date>``: every claim Stadtkasse created itself (fees, Amtshilfe);
  header only until dunning exists, but its columns are fixed now.

Pure: frames in, :class:`outputs.atomic.PlannedFile` out (:func:`plan_hkr`), written by
:func:`outputs.atomic.write_all` (:func:`write_hkr`). The same rows give the same bytes (no timestamps, stable
order), so a night repeated with nothing new rewrites identical files. docs/REPORTS.md holds the contract.
"""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

import polars as pl

from outputs.atomic import PlannedFile, write_all
from outputs.excel_csv import Col, excel_csv_bytes
from outputs.report import _parquet as parquet_bytes

#: One row per allocation or reversal booked in the night's runs (order: run, payment, receivable).
HKR_BOOKING_SCHEMA: dict[str, pl.DataType] = {
    "tenant": pl.String(),
    "posting_id": pl.String(),            # <run_id>-<nnnnnn>: import each once (a repeated night lists it again)
    "posting_date": pl.Date(),            # the booking night (Buchungstag der Kasse)
    "kind": pl.String(),                  # allocation | reversal
    "receivable_id": pl.String(),         # the finance system's id of the Sollstellung
    "kassenzeichen": pl.String(),
    "debtor_id": pl.String(),             # from the open-items export (null when not at hand)
    "claim_type": pl.String(),
    "amount_cents": pl.Int64(),           # > 0 allocation, < 0 reversal
    "currency": pl.String(),
    "value_date": pl.Date(),              # Wertstellung of the payment (or of the return)
    "booking_date": pl.Date(),            # bank booking day of the payment; a clerk's: the night it was booked
    "account_iban": pl.String(),          # bank account the money moved on (Finanzmittelkonto)
    "transaction_id": pl.String(),
    "bank_ref": pl.String(),
    "rule": pl.String(),                  # reference.exact, clerk, dd_return …
    "decided_by": pl.String(),            # auto | clerk id
    "decision_id": pl.String(),           # the clerk decision (null for automatic rows)
    "import_id": pl.String(),             # the open-items export (SHA-256) the row was booked against
    "run_id": pl.String(),                # the run that booked the row
}

#: One row per claim Stadtkasse created itself (none yet: dunning will add Mahngebühren and the like).
HKR_CLAIM_SCHEMA: dict[str, pl.DataType] = {
    "tenant": pl.String(),
    "receivable_id": pl.String(),         # Stadtkasse's id of the new claim
    "kassenzeichen": pl.String(),
    "debtor_id": pl.String(),
    "claim_type": pl.String(),            # MAHNGEBUEHR, SAEUMNISZUSCHLAG, KOSTEN, ZINSEN, RUNDFUNK_AMTSHILFE …
    "origin": pl.String(),                # dunning | amtshilfe | …
    "parent_receivable_id": pl.String(),  # the main claim a fee or surcharge belongs to
    "amount_cents": pl.Int64(),           # > 0
    "due_date": pl.Date(),
    "law": pl.String(),                   # public | private
    "created_on": pl.Date(),              # booking night the claim was created
    "created_by_run": pl.String(),
}

#: Columns the joins read from the transactions and open items (the rest of those frames is ignored).
TX_COLUMNS = ("transaction_id", "value_date", "account_iban", "currency")
ITEM_COLUMNS = ("import_id", "receivable_id", "debtor_id", "claim_type")


def _cols(schema: dict[str, pl.DataType]) -> list[Col]:
    """CSV columns: the code names as headers; ``*_cents`` as ``amount`` in euros with decimal comma."""
    out = []
    for name, dtype in schema.items():
        if name.endswith("_cents"):
            out.append(Col(name, name[: -len("_cents")], "cents"))
        elif dtype == pl.Date():
            out.append(Col(name, name, "date"))
        else:
            out.append(Col(name, name))
    return out


BOOKING_COLS = _cols(HKR_BOOKING_SCHEMA)
CLAIM_COLS = _cols(HKR_CLAIM_SCHEMA)


def _select(df: pl.DataFrame, schema: dict[str, pl.DataType]) -> pl.DataFrame:
    return df.select([(pl.col(k) if k in df.columns else pl.lit(None)).cast(v).alias(k) for k, v in schema.items()])


def hkr_bookings(allocations: pl.DataFrame, transactions: pl.DataFrame, open_items: pl.DataFrame, *,
                 tenant: str, posting_date: date) -> pl.DataFrame:
    """The booking file's rows: ``allocations`` (ledger ALLOCATIONS rows) with payment and debtor details.

    ``transactions`` supplies value date, account and currency (by ``transaction_id``); ``open_items``
    debtor and claim type (by ``import_id`` + ``receivable_id``); a row without them keeps nulls there.
    Rows of other tenants are left out. Returns HKR_BOOKING_SCHEMA rows in a stable order.
    """
    if "tenant" in allocations.columns:
        allocations = allocations.filter(pl.col("tenant") == tenant)
    tx = _select(transactions, {k: HKR_BOOKING_SCHEMA[k] for k in TX_COLUMNS}).filter(
        pl.col("transaction_id").is_not_null()).unique(subset="transaction_id", keep="first", maintain_order=True)
    items = _select(open_items, {k: HKR_BOOKING_SCHEMA[k] for k in ITEM_COLUMNS}).filter(
        pl.col("import_id").is_not_null()).unique(subset=["import_id", "receivable_id"], keep="first",
                                                  maintain_order=True)
    base = _select(allocations, {k: v for k, v in HKR_BOOKING_SCHEMA.items()
                                 if k not in (*TX_COLUMNS[1:], *ITEM_COLUMNS[2:], "posting_id", "posting_date", "kind")})
    order = ["run_id", "transaction_id", "receivable_id", "amount_cents", "rule", "decided_by", "decision_id",
             "import_id", "bank_ref", "kassenzeichen", "booking_date"]
    df = (
        base.join(tx, on="transaction_id", how="left")
        .join(items, on=["import_id", "receivable_id"], how="left")
        .sort(order, nulls_last=True, maintain_order=True)
        .with_columns(
            pl.lit(tenant).alias("tenant"),
            pl.lit(posting_date).alias("posting_date"),
            pl.when(pl.col("amount_cents") < 0).then(pl.lit("reversal")).otherwise(pl.lit("allocation")).alias("kind"),
            pl.concat_str([pl.col("run_id").fill_null("?"), pl.lit("-"),
                           (pl.int_range(pl.len()).over("run_id") + 1).cast(pl.String()).str.zfill(6)])
            .alias("posting_id"),
        )
    )
    return _select(df, HKR_BOOKING_SCHEMA)


def hkr_claims(claims: pl.DataFrame | None, *, tenant: str) -> pl.DataFrame:
    """The claims file's rows (HKR_CLAIM_SCHEMA, sorted by ``receivable_id``); ``None`` gives none."""
    if claims is None:
        return pl.DataFrame(schema=HKR_CLAIM_SCHEMA)
    if "tenant" in claims.columns:
        claims = claims.filter(pl.col("tenant") == tenant)
    return _select(claims.with_columns(pl.lit(tenant).alias("tenant")), HKR_CLAIM_SCHEMA).sort(
        ["receivable_id", "created_by_run"], nulls_last=True, maintain_order=True)


def file_stem(kind: str, tenant: str, posting_date: date) -> str:
    """``hkr_<kind>_<tenant>_<YYYY-MM-DD>``; characters other than letters, digits, ``_`` and ``-`` become ``_``."""
    return f"hkr_{kind}_{re.sub(r'[^A-Za-z0-9_-]', '_', tenant)}_{posting_date.isoformat()}"


def _sums(df: pl.DataFrame) -> dict[str, int]:
    amount = df.get_column("amount_cents")
    return {"amount_cents": int(amount.sum() or 0),
            "positive_cents": int(amount.filter(amount > 0).sum() or 0),
            "negative_cents": int(amount.filter(amount < 0).sum() or 0)}


def _check(df: pl.DataFrame, schema: dict[str, pl.DataType], what: str) -> None:
    if list(df.schema.items()) != list(schema.items()):
        raise AssertionError(f"plan_hkr: {what} does not have its schema ({dict(df.schema)})")


def plan_hkr(*, tenant: str, posting_date: date, bookings: pl.DataFrame,
             claims: pl.DataFrame | None = None) -> list[PlannedFile]:
    """Render the four files in memory (``bookings`` from :func:`hkr_bookings`, ``claims`` from :func:`hkr_claims`)."""
    cl = hkr_claims(None, tenant=tenant) if claims is None else claims
    _check(bookings, HKR_BOOKING_SCHEMA, "bookings")
    _check(cl, HKR_CLAIM_SCHEMA, "claims")
    files = []
    for kind, df, cols in (("bookings", bookings, BOOKING_COLS), ("claims", cl, CLAIM_COLS)):
        stem = file_stem(kind, tenant, posting_date)
        files += [PlannedFile(f"{stem}.csv", excel_csv_bytes(df, cols), df.height, _sums(df)),
                  PlannedFile(f"{stem}.parquet", parquet_bytes(df), df.height, _sums(df))]
    return files


def hkr_meta(*, tenant: str, posting_date: date, bookings: pl.DataFrame, claims: pl.DataFrame | None) -> dict[str, object]:
    """The manifest's header: what the files are, and the runs whose rows they hold (no time stamp)."""
    runs = set(bookings.get_column("run_id").drop_nulls().to_list())
    if claims is not None:
        runs |= set(claims.get_column("created_by_run").drop_nulls().to_list())
    return {"kind": "stadtkasse.hkr", "version": 1, "tenant": tenant, "booking_date": posting_date.isoformat(),
            "run_ids": sorted(runs),
            "csv": {"encoding": "UTF-8 with BOM", "separator": ";", "line_end": "CRLF",
                    "decimal": "comma, euros, no thousands separator", "dates": "ISO 8601 (YYYY-MM-DD)"}}


def write_hkr(out_dir: Path, *, tenant: str, posting_date: date, bookings: pl.DataFrame,
              claims: pl.DataFrame | None = None) -> dict[str, Path]:
    """Write the booking and claims files and ``manifest.json`` into ``out_dir`` atomically; name -> path."""
    files = plan_hkr(tenant=tenant, posting_date=posting_date, bookings=bookings, claims=claims)
    meta = hkr_meta(tenant=tenant, posting_date=posting_date, bookings=bookings, claims=claims)
    return write_all(Path(out_dir), files, meta)
