"""The finance system's booking and claims files (outputs/hkr_export.py): columns, signs, sums, bytes."""

from __future__ import annotations

import csv
import io
import json
from datetime import date
from pathlib import Path

import polars as pl
import pytest
from outputs_frames import frame

from ledger.tables import ALLOCATIONS, OPEN_ITEMS, TRANSACTIONS
from outputs import verify
from outputs.hkr_export import (
    HKR_BOOKING_SCHEMA,
    HKR_CLAIM_SCHEMA,
    file_stem,
    hkr_bookings,
    hkr_claims,
    plan_hkr,
    write_hkr,
)

T = "musterstadt"
D = date(2026, 11, 17)
ACC = "DE02370501980001802057"
RUN = "20261117-musterstadt-0a1b2c3d"

BOOKING_COLUMNS = [
    "tenant", "posting_id", "posting_date", "kind", "receivable_id", "kassenzeichen", "debtor_id", "claim_type",
    "amount_cents", "currency", "value_date", "booking_date", "account_iban", "transaction_id", "bank_ref", "rule",
    "decided_by", "decision_id", "import_id", "run_id",
]
CLAIM_COLUMNS = [
    "tenant", "receivable_id", "kassenzeichen", "debtor_id", "claim_type", "origin", "parent_receivable_id",
    "amount_cents", "due_date", "law", "created_on", "created_by_run",
]


def _alloc(tx: str, rid: str, cents: int, rule: str = "reference.exact", by: str = "auto",
           run: str = RUN, tenant: str = T) -> dict[str, object]:
    return {"tenant": tenant, "run_id": run, "transaction_id": tx, "bank_ref": f"B{tx}", "receivable_id": rid,
            "kassenzeichen": f"KZ-{rid}", "amount_cents": cents, "rule": rule, "confidence": 1.0,
            "decided_by": by, "booking_date": date(2026, 11, 16), "import_id": "imp1",
            "decision_id": "dec1" if by != "auto" else None}


def frames() -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame]:
    allocations = frame([
        _alloc("t2", "R2", 8900),
        _alloc("t1", "R1", 15000),
        _alloc("t3", "R1", -15000, rule="dd_return"),          # the direct debit of t1 came back
        _alloc("t4", "R3", 1234_56, rule="clerk", by="sb17"),
        _alloc("t9", "R9", 999, tenant="other"),               # another tenant's row: never in this file
    ], ALLOCATIONS)
    transactions = frame([
        {"transaction_id": t, "account_iban": ACC, "currency": "EUR", "value_date": date(2026, 11, 15 + i % 2),
         "booking_date": date(2026, 11, 16), "amount_cents": 1}
        for i, t in enumerate(["t1", "t2", "t3", "t4"])
    ], TRANSACTIONS)
    items = frame([
        {"import_id": "imp1", "receivable_id": r, "debtor_id": f"D{r}", "claim_type": "GRUNDSTEUER",
         "amount_cents": 1} for r in ("R1", "R2")                # R3's item is not at hand: debtor_id stays null
    ], OPEN_ITEMS)
    return allocations, transactions, items


def bookings() -> pl.DataFrame:
    a, t, o = frames()
    return hkr_bookings(a, t, o, tenant=T, posting_date=D)


def test_booking_columns_order_and_types() -> None:
    df = bookings()
    assert df.columns == BOOKING_COLUMNS
    assert dict(df.schema) == HKR_BOOKING_SCHEMA
    assert list(HKR_CLAIM_SCHEMA) == CLAIM_COLUMNS
    assert df["amount_cents"].dtype == pl.Int64
    assert df.height == 4 and set(df["tenant"]) == {T}                 # the other tenant's row is left out
    assert df["posting_date"].to_list() == [D] * 4
    by_tx = {r["transaction_id"]: r for r in df.iter_rows(named=True)}
    assert by_tx["t1"]["debtor_id"] == "DR1" and by_tx["t1"]["claim_type"] == "GRUNDSTEUER"
    assert by_tx["t4"]["debtor_id"] is None                            # not at hand: null, row still there
    assert by_tx["t1"]["account_iban"] == ACC and by_tx["t2"]["value_date"] == date(2026, 11, 16)
    assert by_tx["t4"]["decided_by"] == "sb17" and by_tx["t4"]["decision_id"] == "dec1"
    assert df["posting_id"].to_list() == [f"{RUN}-{n:06d}" for n in range(1, 5)]
    assert df["transaction_id"].to_list() == ["t1", "t2", "t3", "t4"]  # stable order, not input order


def test_a_reversal_is_a_negative_row() -> None:
    df = bookings()
    rev = df.filter(pl.col("kind") == "reversal")
    assert rev.height == 1
    row = rev.row(0, named=True)
    assert row["amount_cents"] == -15000 and row["rule"] == "dd_return" and row["receivable_id"] == "R1"
    assert set(df.filter(pl.col("kind") == "allocation")["amount_cents"].to_list()) == {15000, 8900, 123456}


def test_manifest_sums_equal_the_allocations_booked(tmp_path: Path) -> None:
    mine = frames()[0].filter(pl.col("tenant") == T)
    write_hkr(tmp_path, tenant=T, posting_date=D, bookings=bookings())
    doc = json.loads((tmp_path / "manifest.json").read_text(encoding="utf-8"))
    assert doc["kind"] == "stadtkasse.hkr" and doc["run_ids"] == [RUN] and "generated" not in json.dumps(doc)
    entry = {e["file"]: e for e in doc["files"]}
    stem = file_stem("bookings", T, D)
    for suffix in (".csv", ".parquet"):
        e = entry[stem + suffix]
        assert e["rows"] == mine.height == 4
        assert e["sums"]["amount_cents"] == mine["amount_cents"].sum() == 15000 + 8900 - 15000 + 123456
        assert e["sums"]["positive_cents"] == 15000 + 8900 + 123456
        assert e["sums"]["negative_cents"] == -15000
    back = pl.read_parquet(tmp_path / f"{stem}.parquet")
    assert back.equals(bookings()) and back["amount_cents"].dtype == pl.Int64
    assert verify(tmp_path) == []


def test_the_same_rows_write_byte_identical_files(tmp_path: Path) -> None:
    a, t, o = frames()
    write_hkr(tmp_path / "one", tenant=T, posting_date=D, bookings=bookings())
    shuffled = hkr_bookings(a.reverse(), t.reverse(), o.reverse(), tenant=T, posting_date=D)
    write_hkr(tmp_path / "two", tenant=T, posting_date=D, bookings=shuffled)
    one = {p.name: p.read_bytes() for p in (tmp_path / "one").iterdir()}
    two = {p.name: p.read_bytes() for p in (tmp_path / "two").iterdir()}
    assert sorted(one) == sorted([*(f"{file_stem(k, T, D)}{s}" for k in ("bookings", "claims")
                                    for s in (".csv", ".parquet")), "manifest.json"])
    assert one == two                                                   # manifest included: no time stamp


def test_csv_opens_with_german_excel_conventions() -> None:
    files = {f.name: f.data for f in plan_hkr(tenant=T, posting_date=D, bookings=bookings())}
    data = files[file_stem("bookings", T, D) + ".csv"]
    assert data.startswith(b"\xef\xbb\xbf")                            # UTF-8 BOM: Excel reads umlauts right
    text = data.decode("utf-8-sig")
    assert "\r\n" in text
    rows = list(csv.reader(io.StringIO(text), delimiter=";"))
    header, body = rows[0], rows[1:]
    assert header == [c if c != "amount_cents" else "amount" for c in BOOKING_COLUMNS]
    by_tx = {r[header.index("transaction_id")]: dict(zip(header, r, strict=True)) for r in body}
    assert by_tx["t4"]["amount"] == "1234,56"                          # decimal comma, no thousands separator
    assert by_tx["t3"]["amount"] == "-150,00"                          # a reversal stays negative
    assert by_tx["t3"]["kind"] == "reversal"
    assert by_tx["t1"]["value_date"] == "2026-11-15"                   # ISO dates
    assert by_tx["t1"]["posting_date"] == "2026-11-17"
    assert by_tx["t4"]["debtor_id"] == ""                              # null: empty cell


def test_csv_neutralises_a_formula_in_text() -> None:
    a, t, o = frames()
    a = a.with_columns(pl.when(pl.col("transaction_id") == "t1").then(pl.lit("=HYPERLINK(1)"))
                       .otherwise(pl.col("bank_ref")).alias("bank_ref"))
    df = hkr_bookings(a, t, o, tenant=T, posting_date=D)
    files = {f.name: f.data for f in plan_hkr(tenant=T, posting_date=D, bookings=df)}
    assert b";'=HYPERLINK(1);" in files[file_stem("bookings", T, D) + ".csv"]
    assert "=HYPERLINK(1)" in pl.read_parquet(io.BytesIO(files[file_stem("bookings", T, D) + ".parquet"]))[
        "bank_ref"].to_list()                                           # Parquet keeps the exact value


def test_an_empty_night_writes_header_only_files(tmp_path: Path) -> None:
    empty = hkr_bookings(pl.DataFrame(schema=ALLOCATIONS), pl.DataFrame(schema=TRANSACTIONS),
                         pl.DataFrame(schema=OPEN_ITEMS), tenant=T, posting_date=D)
    paths = write_hkr(tmp_path, tenant=T, posting_date=D, bookings=empty)
    for kind, cols in (("bookings", BOOKING_COLUMNS), ("claims", CLAIM_COLUMNS)):
        stem = file_stem(kind, T, D)
        text = paths[f"{stem}.csv"].read_bytes().decode("utf-8-sig")
        assert text == ";".join(c if c != "amount_cents" else "amount" for c in cols) + "\r\n"
        back = pl.read_parquet(paths[f"{stem}.parquet"])
        assert back.height == 0 and back.columns == cols
    doc = json.loads(paths["manifest.json"].read_text(encoding="utf-8"))
    assert all(e["rows"] == 0 and e["sums"]["amount_cents"] == 0 for e in doc["files"])
    assert doc["run_ids"] == []


def test_claims_file_rows_are_conformed_and_sorted() -> None:
    claims = pl.DataFrame({"receivable_id": ["S2", "S1"], "amount_cents": [600, 1200], "origin": ["dunning"] * 2,
                           "claim_type": ["MAHNGEBUEHR"] * 2, "due_date": [D, D], "created_by_run": [RUN] * 2})
    df = hkr_claims(claims, tenant=T)
    assert df.columns == CLAIM_COLUMNS and df["receivable_id"].to_list() == ["S1", "S2"]
    files = {f.name: f for f in plan_hkr(tenant=T, posting_date=D, bookings=bookings(), claims=df)}
    assert files[file_stem("claims", T, D) + ".csv"].sums["amount_cents"] == 1800
    assert b"S1;;;MAHNGEBUEHR;dunning;;12,00;2026-11-17" in files[file_stem("claims", T, D) + ".csv"].data


def test_a_frame_without_the_schema_is_refused() -> None:
    with pytest.raises(AssertionError, match="bookings"):
        plan_hkr(tenant=T, posting_date=D, bookings=bookings().drop("posting_id"))


def test_file_names_are_safe_for_any_tenant_name() -> None:
    assert file_stem("bookings", "Bad Münster/Eifel", D) == "hkr_bookings_Bad_M_nster_Eifel_2026-11-17"
