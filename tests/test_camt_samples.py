"""Every camt sample in ../shared/samples/camt: counts, balances and schema, as SOURCES.md lists them."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest

from parsers.camt import parse_camt
from parsers.result import ParseResult
from parsers.schema import STATEMENT_SCHEMA, TRANSACTION_SCHEMA, assert_schema

# file -> (statements, entries, rows, source_format, balance_ok per statement)
# rows = TxDtls expanded (an entry without TxDtls gives one row), so rows >= the `tx` column of SOURCES.md.
SAMPLES: dict[str, tuple[int, int, int, str, list[bool | None]]] = {
    "Subite-eu__camt-to-coda__BE68793230773034-202411.xml": (1, 268, 268, "camt.053", [True]),
    "Subite-eu__camt-to-coda__LT625883379695428516_CAMT_053_2024-03-12.xml": (2, 11, 11, "camt.053", [True, True]),
    "Subite-eu__camt-to-coda__LT809872649478701594_CAMT_052_2024-03-14.xml": (1, 0, 0, "camt.052", [None]),
    "Subite-eu__camt-to-coda__LT809872649478701594_CAMT_054_2024-08-12.xml": (1, 1, 93, "camt.054", [None]),
    # camt.052 with only a CLBD balance: nothing to check against
    "adorsys__multibanking__camt.xml": (1, 4, 4, "camt.052", [None]),
    "genkgo__camt__camt052.v1.xml": (1, 1, 1, "camt.052", [None]),
    "genkgo__camt__camt052.v4.xml": (1, 1, 1, "camt.052", [None]),
    # hand-written: OPBD 18.15 + 8.85 = 27.00, but CLBD says 27.05
    "genkgo__camt__camt053.v2.five.decimals.xml": (1, 1, 1, "camt.053", [False]),
    "genkgo__camt__camt053.v2.multi.statement.xml": (2, 2, 2, "camt.053", [True, True]),
    # hand-written: OPBD +18.15, one credit of 8.85, CLBD DBIT 27.00 (sign of the closing balance is off)
    "genkgo__camt__camt053.v3.xml": (1, 1, 1, "camt.053", [False]),
    "genkgo__camt__camt053.v8.xml": (1, 1, 1, "camt.053", [False]),
    "genkgo__camt__camt054.v2.xml": (1, 1, 3, "camt.054", [None]),
    "genkgo__camt__camt054.v4.xml": (1, 1, 3, "camt.054", [None]),
    "genkgo__camt__camt054.v8-with-UETR.xml": (1, 1, 1, "camt.054", [None]),
    # a single OPBD balance (Dt/DtTm), no CLBD and no entries: nothing to check
    "genkgo__camt__camt53.only-Dt-with-DtTm.xml": (1, 0, 0, "camt.053", [None]),
    "newinnovations__camt053__example-camt053-a.xml": (2, 11, 11, "camt.053", [True, True]),
    "newinnovations__camt053__example-camt053-b.xml": (1, 19, 19, "camt.053", [True]),
    "viafintech__camt_parser__052_valid_example.xml": (1, 2, 2, "camt.052", [True]),
    "viafintech__camt_parser__053_valid_example.xml": (1, 4, 5, "camt.053", [True]),
    "viafintech__camt_parser__053_valid_example_v4.xml": (1, 13, 32, "camt.053", [True]),
    # UBS sample: the third entry is booked in EUR on the CHF account (CcyXchg), so CHF sums cannot close
    "viafintech__camt_parser__053_valid_example_v8.xml": (1, 3, 3, "camt.053", [False]),
    # anonymised ING file: opening 7329.80 dated 2019-01-01, closing 23038.20 dated 2019-06-23, only 3
    # entries in between: an excerpt, the months between are missing
    "viafintech__camt_parser__053_valid_example_with_batch.xml": (1, 3, 3, "camt.053", [False]),
    # only a CLBD balance (DtTm): nothing to check
    "viafintech__camt_parser__053_valid_example_with_datetime.xml": (1, 1, 1, "camt.053", [None]),
    "viafintech__camt_parser__054_valid_example.xml": (1, 4, 5, "camt.054", [None]),
}


@pytest.fixture(scope="module")
def parsed(samples_dir: Path) -> dict[str, ParseResult]:
    return {name: parse_camt(samples_dir / "camt" / name, sha256=name[:8]) for name in SAMPLES}


def test_every_sample_is_listed(samples_dir: Path) -> None:
    assert {p.name for p in (samples_dir / "camt").glob("*.xml")} == set(SAMPLES)


@pytest.mark.parametrize("name", sorted(SAMPLES))
def test_counts_balances_and_schema(parsed: dict[str, ParseResult], name: str) -> None:
    n_st, n_en, n_rows, fmt, balance_ok = SAMPLES[name]
    result = parsed[name]
    assert not [i for i in result.issues if i.severity == "error"], result.issues
    assert_schema(result.transactions, TRANSACTION_SCHEMA, name)
    assert_schema(result.statements, STATEMENT_SCHEMA, name)
    st = result.statements
    assert st.height == n_st
    assert st["n_entries"].sum() == n_en
    assert result.transactions.height == n_rows == st["n_details"].sum()
    assert st["balance_ok"].to_list() == balance_ok
    assert set(result.transactions["source_format"].to_list()) <= {fmt}
    assert set(st["source_format"].to_list()) == {fmt}
    tx = result.transactions
    assert tx["transaction_id"].n_unique() == tx.height
    assert tx.filter(pl.col("raw").is_null() | pl.col("source_xpath").is_null()).height == 0
    assert (tx["source_file"] == name[:8]).all()


@pytest.mark.parametrize("name", sorted(SAMPLES))
def test_balance_ok_agrees_with_the_sums(parsed: dict[str, ParseResult], name: str) -> None:
    st = parsed[name].statements
    for row in st.iter_rows(named=True):
        if row["opening_cents"] is None or row["closing_cents"] is None:
            assert row["balance_ok"] is None
        else:
            assert row["balance_ok"] == (row["opening_cents"] + row["entries_sum_cents"] == row["closing_cents"])


def test_output_is_deterministic(samples_dir: Path) -> None:
    path = samples_dir / "camt" / "viafintech__camt_parser__053_valid_example_v4.xml"
    a, b = parse_camt(path, sha256="s"), parse_camt(path, sha256="s")
    assert a.transactions.equals(b.transactions)
    assert a.statements.equals(b.statements)
    assert a.issues == b.issues
