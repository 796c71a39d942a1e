"""The open-items export loader: good rows go on, bad rows become issues with file, line and reason."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import polars as pl
from hypothesis import given, settings
from hypothesis import strategies as st
from oracle_matcher import kz

from claims.claim import OPEN_ITEM_SCHEMA
from matching.config import MatchConfig
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
    assert df["receivable_id"].to_list() == ["r5", "r8"]          # r5 kept without its invalid IBAN
    assert df["debtor_iban"].to_list() == [None, None]
    assert _codes(issues) == sorted([
        ("line 3", "open_items.negative_amount"), ("line 4", "open_items.bad_amount"), ("line 5", "open_items.bad_date"),
        ("line 6", "open_items.invalid_iban"), ("line 2", "open_items.duplicate_id"), ("line 7", "open_items.duplicate_id"),
        ("line 3", "open_items.kassenzeichen_two_debtors"), ("line 8", "open_items.kassenzeichen_two_debtors"),
        ("line 9", "open_items.bad_law"),
    ])
    assert all(i.source_path == str(p) and i.severity == ("warning" if i.code == "open_items.invalid_iban" else "error")
               for i in issues)
    iban = next(i for i in issues if i.code == "open_items.invalid_iban")
    assert "'DE00123'" in iban.message and "item kept" in iban.message
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


# --- the fast paths (parsers.open_items_values / _iban) against the careful rules they stand in for ---

ODD_AMOUNTS = ["12.34", "-0.50", "7", "007.5", "-0", "12.345", "1e5", "", " 12,5 ", "1.234,56", "1,5", "12,", ".5",
               "+3.00", "١٢", "99999999999999999999", "9999999999999.99", "99999999999999.99", "0,01", "1 000,00", None]
ODD_DATES = ["2026-01-15", " 2026-01-15", "2026-01-15 ", "2026-1-5", "+2026-01-15", "15.01.2026", "2026-13-45", "",
             "20260115", "2026-01-15T00:00", "0001-01-01", "9999-12-31", "١٢٠٢٦-٠١-١٥", None]


def test_fast_amounts_and_dates_equal_the_careful_rules() -> None:
    from parsers.open_items_values import amount_cents, by_value, cents, date, parsed_date

    values = pl.Series("amount", ODD_AMOUNTS * 3)
    assert amount_cents(values).to_list() == by_value(values, cents).to_list()
    assert amount_cents(values).to_list()[:4] == [1234, -50, 700, 750]
    days = pl.Series("due_date", ODD_DATES * 3)
    assert parsed_date(days).to_list() == by_value(days, date).to_list()
    assert parsed_date(days)[0] == date_(2026, 1, 15)


def date_(y: int, m: int, d: int) -> date:
    return date(y, m, d)


@given(st.lists(st.one_of(st.none(), st.text(alphabet="0123456789.,- +e١", max_size=20),
                          st.decimals(min_value=-10**16, max_value=10**16, places=2, allow_nan=False).map(str)),
                max_size=40))
@settings(max_examples=150, deadline=None)
def test_fast_amounts_equal_the_careful_rule_on_any_text(texts: list[str | None]) -> None:
    from parsers.open_items_values import amount_cents, by_value, cents

    values = pl.Series("amount", texts, dtype=pl.String)
    assert amount_cents(values).to_list() == by_value(values, cents).to_list()


@given(st.lists(st.one_of(st.none(), st.text(alphabet="0123456789", min_size=0, max_size=22),
                          st.text(alphabet="0123456789٣ x", max_size=14)), max_size=40),
       st.sampled_from([6, 8, 11, 12, 18, 20]), st.sampled_from(["mod11", "mod10", "none"]))
@settings(max_examples=150, deadline=None)
def test_check_digit_tables_equal_check_ok(kz: list[str | None], digits: int, scheme: str) -> None:
    from claims.kassenzeichen_expr import check_ok
    from parsers.open_items_values import check_digit_ok, digits_only

    norm = digits_only(pl.Series("kz", kz, dtype=pl.String))
    assert norm.to_list() == [None if k is None else "".join(c for c in k if c.isdecimal()) for k in kz]
    expected = norm.to_frame().lazy().select(check_ok(pl.col("kz"), digits, scheme)).collect().to_series()
    assert check_digit_ok(norm, digits, scheme).to_list() == expected.to_list()


def test_check_digit_tables_know_a_valid_and_a_wrong_kassenzeichen() -> None:
    from parsers.open_items_values import check_digit_ok

    wrong = K1[:-1] + str((int(K1[-1]) + 1) % 10)
    arabic = "\u0663" + K1[:10]  # 12 bytes, but 11 characters: not well formed
    assert check_digit_ok(pl.Series([K1, wrong, "4711", None, arabic]), 12, "mod11").to_list() == [True] + [False] * 4


IBANS = ["DE89370400440532013000", "DE89370400440532013001", "de89 3704 0044 0532 0130 00", "DE00123", "",
         "NL91ABNA0417164300", "GB82WEST12345698765432", "BE68539007547034", "DE8937040044053201300", ";",
         "DE89370400440532013000,DE89370400440532013001", "DE89370400440532013000; BE68539007547034",
         "XX89370400440532013000", "AT611904300234573201", "DE89370400440532013000 ", "DE89-3704", None]


@given(st.lists(st.one_of(st.sampled_from(IBANS), st.text(alphabet="DEBN0123456789 ,;", max_size=24)), max_size=30))
@settings(max_examples=100, deadline=None)
def test_iban_rows_equal_the_careful_rule(values: list[str | None]) -> None:
    from parsers.open_items_iban import iban_column, reference_bad
    from parsers.validity import compact_iban

    column = pl.Series("debtor_iban", values, dtype=pl.String)
    normal = column.to_frame().select(compact_iban(pl.col("debtor_iban"))).to_series()
    iban, bad = iban_column(column)
    assert iban.to_list() == normal.to_list()
    assert bad.to_list() == normal.is_in(pl.Series(reference_bad(normal), dtype=pl.String).implode()).fill_null(False).to_list()


def test_iban_rows_flag_the_invalid_ones() -> None:
    from parsers.open_items_iban import iban_column

    _, bad = iban_column(pl.Series(IBANS, dtype=pl.String))
    assert [v for v, b in zip(IBANS, bad.to_list(), strict=True) if b] == [
        "DE89370400440532013001", "DE00123", "DE8937040044053201300",
        "DE89370400440532013000,DE89370400440532013001", "XX89370400440532013000", "DE89-3704"]


@given(st.lists(st.tuples(st.sampled_from(["a", "b", "c", "", None]), st.sampled_from(["x", "y", None])), max_size=40))
@settings(max_examples=100, deadline=None)
def test_per_group_equals_a_window(pairs: list[tuple[str | None, str | None]]) -> None:
    from parsers.open_items_values import per_group

    df = pl.DataFrame({"k": [k for k, _ in pairs], "v": [v for _, v in pairs]}, schema={"k": pl.String, "v": pl.String})
    assert per_group(df["k"], None).to_list() == df.select(pl.len().over("k")).to_series().to_list()
    assert per_group(df["k"], df["v"]).to_list() == df.select(pl.col("v").n_unique().over("k")).to_series().to_list()


def _text_export(path: Path, frame: pl.DataFrame) -> None:
    frame.with_columns(pl.all().cast(pl.String)).write_parquet(path)


def test_typed_parquet_columns_read_as_their_text(tmp_path: Path) -> None:
    from decimal import Decimal

    base = {"receivable_id": ["a", "b", "c", "d"], "kassenzeichen": [K1, K2, K3, "4711"], "debtor_id": ["d1", "d2", "d3", "d4"],
            "debtor_name": ["A", "B", "C", "D"], "claim_type": ["abfall", "ABFALL", "KITA", "KITA"],
            "due_date": [date(2026, 1, 1), None, date(2026, 3, 1), date(1, 1, 1)],
            "mandate_date": [None, None, date(2025, 12, 1), None]}
    amounts = {
        "int": pl.Series([19, -5, 0, 10**16], dtype=pl.Int64),
        "decimal2": pl.Series([Decimal("19.99"), Decimal("-0.50"), Decimal("0"), None], dtype=pl.Decimal(12, 2)),
        "decimal0": pl.Series([Decimal("19"), Decimal("5"), Decimal("0"), Decimal("7")], dtype=pl.Decimal(12, 0)),
        "decimal3": pl.Series([Decimal("19.990"), Decimal("1.5"), Decimal("0"), None], dtype=pl.Decimal(12, 3)),
    }
    for name, amount in amounts.items():
        typed, text = tmp_path / f"{name}.parquet", tmp_path / f"{name}_text.parquet"
        frame = pl.DataFrame(base).with_columns(amount.alias("amount"))
        frame.write_parquet(typed)
        _text_export(text, frame)
        df, issues = load_open_items(typed)
        ref, ref_issues = load_open_items(text)
        assert df.drop("source_file", "source_path").equals(ref.drop("source_file", "source_path")), name
        assert [(i.locator, i.code, i.message) for i in issues] == [(i.locator, i.code, i.message) for i in ref_issues], name
    df, issues = load_open_items(tmp_path / "int.parquet")
    assert df["amount_cents"].to_list() == [1900, 0, 10**18]  # row 2: negative; row 3: no due date
    assert df["due_date"].to_list() == [date(2026, 1, 1), date(2026, 3, 1), date(1, 1, 1)]
    assert df["claim_type"].to_list() == ["ABFALL", "KITA", "KITA"] and df["mandate_date"][1] == date(2025, 12, 1)
    assert {i.code: i.message for i in issues if i.locator == "line 2"}["open_items.negative_amount"] == "amount: expected >= 0, got -5"
    df, _ = load_open_items(tmp_path / "decimal2.parquet")
    assert df["amount_cents"].to_list() == [1999, 0]


def test_blank_required_values_are_rejected(tmp_path: Path) -> None:
    p = tmp_path / "op.csv"
    p.write_text(HEADER
                 + f"r1;{K1};d1;A;;GRUNDSTEUER;10,00;2026-01-15;\n"       # line 2: good
                 + f" \t;{K2};d2;B;;GRUNDSTEUER;1,00;2026-01-15;\n"       # line 3: blank receivable_id
                 + f"r3;{K3};d3;\u00a0;;GRUNDSTEUER;1,00;2026-01-15;\n"   # line 4: blank debtor_name (no-break space)
                 + "r4; - ;d4;D;;GRUNDSTEUER;1,00;2026-01-15;\n"         # line 5: Kassenzeichen without digits, not blank
                 + "r5;  ;d4;E;;GRUNDSTEUER;1,00;2026-01-15;\n"          # line 6: blank Kassenzeichen (same debtor)
                 + f"r6;{K1}9;d6;F;; ;1,00;2026-01-15;\n"                # line 7: blank claim type
                 + f"r7;{K1}8;d7;G;;ABFALL;1,00; ;\n",                   # line 8: blank due date (and no date)
                 encoding="utf-8")
    df, issues = load_open_items(p)
    assert df["receivable_id"].to_list() == ["r1", "r4"]
    assert _codes(issues) == sorted([(f"line {n}", "open_items.missing_value") for n in (3, 4, 6, 7, 8)]
                                    + [("line 8", "open_items.bad_date"), ("", "open_items.kassenzeichen_unchecked")])


# --- rows of another width, broken quoting, another tenant: one bad row each, never a bad file ---

TENANT_HEADER = "receivable_id;kassenzeichen;debtor_id;debtor_name;debtor_iban;claim_type;amount;due_date;law;tenant\n"


def _row(n: int, *, name: str = "Anna Müller", tenant: str = "musterstadt") -> str:
    return f"r{n};{K1};d1;{name};;GRUNDSTEUER;10,00;2026-01-15;;{tenant}\n"


def _errors(issues) -> list[tuple[str, str]]:
    return [(i.locator, i.code) for i in issues if i.severity == "error"]


def test_one_unquoted_separator_costs_one_row_not_the_file(tmp_path: Path) -> None:
    # one receivable_id per row, one Kassenzeichen (and debtor) for all: 1,029 rows, the 700th (line
    # 701) with "Müller; Anna" unquoted; Polars alone refused all of them ("more fields than defined")
    rows = [_row(n) for n in range(1, 1030)]
    rows[699] = _row(700, name="Müller; Anna")
    p = tmp_path / "op.csv"
    p.write_text(TENANT_HEADER + "".join(rows), encoding="utf-8")
    df, issues = load_open_items(p, tenant="musterstadt")
    assert df.height == 1028 and "r700" not in df["receivable_id"].to_list()
    assert _errors(issues) == [("line 701", "open_items.field_count")]
    issue = issues[0]
    assert issue.source_path == str(p) and "expected 10 fields like the header, got 11" in issue.message
    assert "';' inside a value that is not quoted" in issue.message and issue.raw == rows[699].rstrip("\n")
    assert df.filter(pl.col("receivable_id") == "r701")["source_line"].item() == 702


def test_short_row_and_broken_quote_are_bad_rows_and_lines_stay_right(tmp_path: Path) -> None:
    p = tmp_path / "op.csv"
    p.write_text(TENANT_HEADER + _row(1) + "r2;4711;d2\n"                    # line 3: fields missing
                 + _row(3, name='"Müller; Anna"') + _row(4, name='"Lee\nBo"')  # lines 4 and 5-6: quoted, fine
                 + "\n" + _row(7, name='5" Rohr') + _row(8, name='"open')   # line 7 empty; lines 8, 9: broken quotes
                 + _row(9), encoding="utf-8")
    df, issues = load_open_items(p, tenant="musterstadt")
    assert df.select("receivable_id", "source_line").rows() == [("r1", 2), ("r3", 4), ("r4", 5), ("r9", 10)]
    assert df["debtor_name"].to_list()[1:3] == ["Müller; Anna", "Lee\nBo"]
    assert _errors(issues) == [("line 3", "open_items.field_count"), ("line 8", "open_items.bad_row"),
                               ("line 9", "open_items.bad_row")]
    assert "got 3" in issues[0].message and "values missing" in issues[0].message


def test_an_export_of_bad_rows_only_is_rejected_as_a_whole(tmp_path: Path) -> None:
    p = tmp_path / "op.csv"
    p.write_text(TENANT_HEADER + "r1;x\n" + _row(2, name="A;B"), encoding="utf-8")
    df, issues = load_open_items(p, tenant="musterstadt")
    assert df.is_empty()
    assert _errors(issues) == [("", "open_items.no_usable_rows"), ("line 2", "open_items.field_count"),
                               ("line 3", "open_items.field_count")]
    assert "none of its 2 rows" in issues[0].message and "line 2" in issues[0].message


def test_a_row_of_another_tenant_is_refused(tmp_path: Path) -> None:
    p = tmp_path / "op.csv"
    p.write_text(TENANT_HEADER + _row(1) + _row(2, tenant="otherstadt") + _row(3, tenant="")
                 + _row(4, tenant=" musterstadt "), encoding="utf-8")
    df, issues = load_open_items(p, tenant="musterstadt")
    assert df["receivable_id"].to_list() == ["r1", "r3", "r4"] and set(df["tenant"]) == {"musterstadt"}
    assert _errors(issues) == [("line 3", "open_items.wrong_tenant")]
    assert issues[0].message == "tenant 'otherstadt' in row, this run is for tenant 'musterstadt'; the row is not imported"
    # the same export for the other tenant: only its own row
    df, issues = load_open_items(p, tenant="otherstadt")
    assert df["receivable_id"].to_list() == ["r2", "r3"]
    assert _errors(issues) == [("line 2", "open_items.wrong_tenant"), ("line 5", "open_items.wrong_tenant")]
    q = tmp_path / "op.parquet"  # a Parquet export is judged the same way
    pl.read_csv(p, separator=";", infer_schema=False).write_parquet(q)
    df, _ = load_open_items(q, tenant="musterstadt")
    assert df["receivable_id"].to_list() == ["r1", "r3", "r4"]


def test_fast_and_careful_reading_agree(tmp_path: Path) -> None:
    # the same rows with no quote (Polars' reading trusted by counting separators), with quotes (trusted
    # because no row stops early), and with an empty line (read line by line): one and the same frame
    rows = [_row(n) for n in range(1, 40)]
    plain, quoted, gap = tmp_path / "a.csv", tmp_path / "b.csv", tmp_path / "c.csv"
    plain.write_text(TENANT_HEADER + "".join(rows), encoding="utf-8")
    quoted.write_text(TENANT_HEADER + "".join(r.replace("Anna Müller", '"Anna Müller"') for r in rows), encoding="utf-8")
    gap.write_text(TENANT_HEADER + "".join(rows) + "\n", encoding="utf-8")
    frames = [load_open_items(f, tenant="musterstadt") for f in (plain, quoted, gap)]
    assert all(issues == [] for _, issues in frames)
    first = frames[0][0].drop("source_file", "source_path")
    assert all(df.drop("source_file", "source_path").equals(first) for df, _ in frames[1:])


@given(st.lists(st.lists(st.text(alphabet='xü;"\n ', max_size=5), min_size=1, max_size=5), max_size=12),
       st.sampled_from([";", ","]))
@settings(max_examples=200, deadline=None)
def test_rows_of_the_header_width_equal_pythons_csv(tmp_path_factory, rows: list[list[str]], sep: str) -> None:
    # any RFC 4180 file (Python's csv module writes it): exactly the rows of the header's width are
    # read, with their values and the line each starts on, and every other row is one issue
    import csv
    import io

    from parsers.open_items_read import read_export

    header = ["h0", "h1", "h2"]
    out = io.StringIO()
    csv.writer(out, delimiter=sep, lineterminator="\n").writerows([header, *rows])
    p = tmp_path_factory.mktemp("csv") / "op.csv"
    p.write_text(out.getvalue(), encoding="utf-8")
    export, issues = read_export(p)
    assert export is not None
    line = 2
    starts = []
    for r in rows:  # a row takes one line plus one per line break inside its values
        starts.append(line)
        line += 1 + sum(v.count("\n") for v in r)
    good = [(n, r) for n, r in zip(starts, rows, strict=True) if len(r) == 3]
    assert export.frame.select("source_line").to_series().to_list() == [n for n, _ in good]
    assert export.frame.select(header).rows() == [tuple(v or None for v in r) for _, r in good]
    assert [i.locator for i in issues] == [f"line {n}" for n, r in zip(starts, rows, strict=True) if len(r) != 3]


ADDRESS_HEADER = HEADER.rstrip("\n") + ";debtor_street;debtor_postcode;debtor_city;debtor_country;debtor_birth_date\n"


def test_export_rows_are_the_tenants_claims_and_carry_the_debtors_address(tmp_path: Path) -> None:
    p = tmp_path / "op.csv"
    p.write_text(ADDRESS_HEADER
                 + f"r1;{K1};d1;Anna;;GRUNDSTEUER;10,00;2026-01-15;;Lindenstraße 4; 12345 ;Musterstadt;de;1980-02-29\n"
                 + f"r2;{K2};d2;Bernd;;GRUNDSTEUER;10,00;2026-01-15;;Hauptstr. 1;1234;Musterstadt;;\n"    # line 3: DE postcode
                 + f"r3;{K3};d3;Carla;;GRUNDSTEUER;10,00;2026-01-15;;Dorfweg 2;1010;Wien;AT;2999-01-01\n"  # line 4: future
                 + f"r4;{kz('10000000007')};d4;Dora;;GRUNDSTEUER;1,00;2026-01-15;;;;;XY;31.02.1980\n",     # line 5
                 encoding="utf-8")
    df, issues = load_open_items(p, tenant="musterstadt")
    assert_schema(df, OPEN_ITEM_SCHEMA, "open items")
    assert df["receivable_id"].to_list() == ["r1", "r2", "r3", "r4"]                # every item kept
    assert df["origin"].unique().to_list() == ["export"] and df["creditor"].unique().to_list() == ["musterstadt"]
    assert df["debtor_street"][0] == "Lindenstraße 4" and df["debtor_city"][2] == "Wien"
    assert df["debtor_postcode"].to_list() == ["12345", None, "1010", None]          # 1010 is fine for AT
    assert df["debtor_country"].to_list() == ["DE", None, "AT", None]
    assert df["debtor_birth_date"].to_list() == [date(1980, 2, 29), None, None, None]
    assert _codes(issues) == [("line 3", "open_items.bad_postcode"), ("line 4", "open_items.bad_birth_date"),
                              ("line 5", "open_items.bad_birth_date"), ("line 5", "open_items.bad_country")]
    assert all(i.severity == "warning" and "item kept" in i.message for i in issues)
    assert "'1234'" in next(i.message for i in issues if i.code == "open_items.bad_postcode")


def test_the_row_filter_leaves_out_what_the_hand_checks_missed(tmp_path: Path) -> None:
    from parsers.open_items_claim import filtered

    p = tmp_path / "op.csv"
    p.write_text(HEADER + f"r1;{K1};d1;A;;GRUNDSTEUER;10,00;2026-01-15;\nr2;{K2};d2;B;;GRUNDSTEUER;1,00;2026-01-15;\n",
                 encoding="utf-8")
    df, _ = load_open_items(p)
    broken = df.with_columns(pl.when(pl.col("receivable_id") == "r2").then(pl.lit("fee")).otherwise("origin")
                             .alias("origin"))
    kept, issues = filtered(broken, str(p))
    assert kept["receivable_id"].to_list() == ["r1"] and kept.columns == df.columns
    assert [(i.locator, i.code) for i in issues] == [("line 3", "open_items.invalid_row")]
    assert "export_is_the_tenants" in issues[0].message


def test_notice_date_and_block_reason_are_read_bad_date_rejected_unknown_reason_kept(tmp_path: Path) -> None:
    p = tmp_path / "op.csv"
    p.write_text(HEADER.rstrip("\n") + ";notice_date;block_reason\n"
                 + f"r1;{K1};d1;A;;GRUNDSTEUER;10,00;2026-01-15;;2026-01-20; stundung \n"   # line 2
                 + f"r2;{K2};d2;B;;GRUNDSTEUER;10,00;2026-01-15;;;\n"                       # line 3: neither
                 + f"r3;{K3};d3;C;;GRUNDSTEUER;10,00;2026-01-15;;20.01.2026;Klage\n"        # line 4: unknown reason
                 + f"r4;{K3};d3;C;;GRUNDSTEUER;10,00;2026-01-15;;2026-02-30;\n",            # line 5: bad notice date
                 encoding="utf-8")
    df, issues = load_open_items(p, tenant="musterstadt")
    assert_schema(df, OPEN_ITEM_SCHEMA, "open items")
    assert df["receivable_id"].to_list() == ["r1", "r2", "r3"]
    assert df["notice_date"].to_list() == [date(2026, 1, 20), None, date(2026, 1, 20)]
    assert df["block_reason"].to_list() == ["STUNDUNG", None, "KLAGE"]
    assert _codes(issues) == [("", "open_items.unknown_block_reason"), ("line 5", "open_items.bad_date")]
    bad = next(i for i in issues if i.code == "open_items.bad_date")
    assert "notice_date" in bad.message and "2026-02-30" in bad.message
    warn = next(i for i in issues if i.code == "open_items.unknown_block_reason")
    assert warn.severity == "warning" and warn.raw == "KLAGE"


def test_parquet_notice_date_typed_and_every_block_reason_known(tmp_path: Path) -> None:
    from claims.vocab import BlockReason
    reasons = [str(r) for r in BlockReason]
    n = len(reasons)
    p = tmp_path / "op.parquet"
    pl.DataFrame({"receivable_id": [f"r{i}" for i in range(n)], "kassenzeichen": [K1] * n,
                  "debtor_id": ["d1"] * n, "debtor_name": ["A"] * n, "claim_type": ["KITA"] * n,
                  "amount": [1000] * n, "due_date": [date(2026, 1, 15)] * n,
                  "notice_date": [date(2026, 1, 10)] * n, "block_reason": [r.lower() for r in reasons]}
                 ).write_parquet(p)
    df, issues = load_open_items(p)
    assert issues == []
    assert df["block_reason"].to_list() == reasons and set(df["notice_date"].to_list()) == {date(2026, 1, 10)}
