"""The open-items export loader: good rows go on, bad rows become issues with file, line and reason."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import polars as pl
from oracle_matcher import kz

from matching.config import MatchConfig
from matching.schema import OPEN_ITEM_SCHEMA
from parsers.open_items import load_open_items
from parsers.schema import assert_schema

K1, K2, K3 = kz("10000000001"), kz("10000000002"), kz("10000000005")
HEADER = "receivable_id;kassenzeichen;debtor_id;debtor_name;debtor_iban;claim_type;amount;due_date;law\n"


def _codes(issues) -> list[tuple[str, str]]:
    return sorted((i.locator, i.code) for i in issues)


def test_semicolon_csv_with_bom_and_decimal_comma(tmp_path: Path) -> None:
    p = tmp_path / "op.csv"
    p.write_text("\ufeff" + HEADER
                 + f"r1;{K1[:4]}.{K1[4:8]}.{K1[8:]};d1;Anna Müller;DE89 3704 0044 0532 0130 00;Grundsteuer;1.234,56;2026-01-15;\n"
                 + f"r2;{K2};d2;Bernd Schäfer;;MAHNGEBUEHR;6,00;15.01.2026;private\n", encoding="utf-8")
    df, issues = load_open_items(p, tenant="musterstadt")
    assert_schema(df, OPEN_ITEM_SCHEMA, "open items")
    assert issues == []
    row = df.row(0, named=True)
    assert row["amount_cents"] == 123456 and row["kz_norm"] == K1 and row["claim_type"] == "GRUNDSTEUER"
    assert row["debtor_iban"] == "DE89370400440532013000" and row["law"] == "public" and row["tenant"] == "musterstadt"
    assert row["source_line"] == 2 and len(row["source_file"]) == 64
    assert df["due_date"].to_list() == [date(2026, 1, 15)] * 2 and df["law"][1] == "private"


def test_comma_csv_with_decimal_point(tmp_path: Path) -> None:
    p = tmp_path / "op.csv"
    p.write_text(HEADER.replace(";", ",") + f"r1,{K1},d1,\"Müller, Anna\",,KITA,12.5,2026-02-01,public\n", encoding="utf-8")
    df, issues = load_open_items(p)
    assert issues == [] and df["amount_cents"].to_list() == [1250] and df["debtor_name"][0] == "Müller, Anna"


def test_bad_rows_are_rejected_with_line_and_reason(tmp_path: Path) -> None:
    p = tmp_path / "op.csv"
    p.write_text(HEADER
                 + f"r1;{K1};d1;A;;GRUNDSTEUER;10,00;2026-01-15;\n"       # line 2: good
                 + f"r2;{K2};d2;B;;GRUNDSTEUER;-5,00;2026-01-15;\n"       # line 3: negative amount
                 + f"r3;{K3};d3;C;;GRUNDSTEUER;zehn;2026-01-15;\n"        # line 4: unparsable amount
                 + f"r4;{K3};d3;C;;GRUNDSTEUER;1,00;2026-13-45;\n"        # line 5: bad date
                 + f"r5;{K3};d3;C;DE00123;GRUNDSTEUER;1,00;2026-01-15;\n"  # line 6: invalid IBAN
                 + f"r1;{K1};d1;A;;GRUNDSTEUER;10,00;2026-01-15;\n"       # line 7: duplicate id (line 2 too)
                 + f"r6;{K2};d9;Z;;GRUNDSTEUER;1,00;2026-01-15;\n"        # line 8: K2 also belongs to d2 (line 3)
                 + f"r7;{K3};d3;C;;GRUNDSTEUER;2,00;2026-01-15;lokal\n"   # line 9: unknown law
                 + f"r8;{K3};d3;C;;GRUNDSTEUER;3,00;2026-01-15;\n",       # line 10: good
                 encoding="utf-8")
    df, issues = load_open_items(p)
    assert df["receivable_id"].to_list() == ["r8"]
    assert _codes(issues) == sorted([
        ("line 3", "open_items.negative_amount"), ("line 4", "open_items.bad_amount"), ("line 5", "open_items.bad_date"),
        ("line 6", "open_items.invalid_iban"), ("line 2", "open_items.duplicate_id"), ("line 7", "open_items.duplicate_id"),
        ("line 3", "open_items.kassenzeichen_two_debtors"), ("line 8", "open_items.kassenzeichen_two_debtors"),
        ("line 9", "open_items.bad_law"),
    ])
    assert all(i.source_path == str(p) and i.severity == "error" for i in issues)
    neg = next(i for i in issues if i.code == "open_items.negative_amount")
    assert "expected >= 0" in neg.message and "-5,00" in neg.message


def test_missing_columns_and_unreadable_files_are_issues(tmp_path: Path) -> None:
    p = tmp_path / "op.csv"
    p.write_text("receivable_id;amount\nr1;1,00\n", encoding="utf-8")
    df, issues = load_open_items(p)
    assert df.is_empty() and [i.code for i in issues] == ["open_items.missing_columns"]
    assert "kassenzeichen" in issues[0].message
    q = tmp_path / "latin1.csv"
    q.write_bytes((HEADER + f"r1;{K1};d1;M\xfcller;;X;1,00;2026-01-15;\n").encode("latin-1"))
    df, issues = load_open_items(q)
    assert df.is_empty() and [i.code for i in issues] == ["open_items.encoding"]
    df, issues = load_open_items(tmp_path / "missing.csv")
    assert df.is_empty() and [i.code for i in issues] == ["open_items.unreadable"]


def test_parquet_export_and_unchecked_kassenzeichen_warning(tmp_path: Path) -> None:
    p = tmp_path / "op.parquet"
    pl.DataFrame({
        "receivable_id": ["a", "b"], "kassenzeichen": [K1, "4711"], "debtor_id": ["d1", "d2"],
        "debtor_name": ["A", "B"], "claim_type": ["ABFALL", "ABFALL"], "amount": [19.99, 0.0],
        "due_date": [date(2026, 1, 1), date(2026, 1, 2)], "external_ref": [None, "BN-1"],
    }).write_parquet(p)
    df, issues = load_open_items(p, config=MatchConfig.from_toml({}))
    assert df["amount_cents"].to_list() == [1999, 0] and df["due_date"].to_list() == [date(2026, 1, 1), date(2026, 1, 2)]
    assert [(i.severity, i.code) for i in issues] == [("warning", "open_items.kassenzeichen_unchecked")]
