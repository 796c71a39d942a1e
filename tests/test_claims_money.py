"""claims.money: cents ↔ text written once; the review list's amount links keep negative amounts."""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import parse_qs

import polars as pl
import pytest
from hypothesis import given
from hypothesis import strategies as st

from claims.money import AmountError, format_eur, format_eur_expr, parse_eur, plain_comma_expr, plain_eur
from outputs.fmt import eur
from parsers.issues import money
from review.amounts import format_cents, parse_amount
from review.listing import ListQuery, parse_list_query

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.parametrize(("cents", "german", "plain"), [
    (0, "0,00", "0.00"), (5, "0,05", "0.05"), (-5, "-0,05", "-0.05"), (-100, "-1,00", "-1.00"),
    (123456, "1.234,56", "1234.56"), (-123456, "-1.234,56", "-1234.56"), (100_000_000, "1.000.000,00", "1000000.00"),
])
def test_formats(cents: int, german: str, plain: str) -> None:
    assert format_eur(cents) == german and format_cents(cents) == german
    assert plain_eur(cents) == plain and money(cents) == plain
    assert eur(cents) == german + " €"
    assert pl.DataFrame({"c": [cents]}).select(format_eur_expr("c", symbol=False)).item() == german
    assert pl.DataFrame({"c": [cents]}).select(plain_comma_expr("c")).item() == plain.replace(".", ",")


def test_review_list_links_keep_a_negative_amount() -> None:
    """-5 cents in an amount filter went into the sort/page links as '-1.95' (floor division)."""
    q = ListQuery(amount_min=-5, amount_max=-195)
    params = parse_qs(q.params())
    assert params["amount_min"] == ["-0.05"] and params["amount_max"] == ["-1.95"]
    again = parse_list_query({k: v[0] for k, v in params.items()})
    assert (again.amount_min, again.amount_max) == (-5, -195)


@pytest.mark.parametrize(("text", "cents"), [
    ("1.234,56", 123456), ("1234,56", 123456), ("1234.56", 123456), ("1,234.56", 123456), ("0,5", 50),
    ("12", 1200), ("-0,05", -5), ("1.234.567,8 €", 123456780), ("12,00 EUR", 1200), ("\u00a01 234,00", 123400),
])
def test_parse(text: str, cents: int) -> None:
    assert parse_eur(text) == cents == parse_amount(text)


@pytest.mark.parametrize("text", ["", "-", "12,345", "1,2,3", "1.23.4", "12.345,678", "abc", "1e3", "--1"])
def test_parse_refuses(text: str) -> None:
    with pytest.raises(AmountError, match="expected an amount"):
        parse_eur(text)


@given(st.integers(min_value=-(10**15), max_value=10**15))
def test_format_then_parse_is_identity(cents: int) -> None:
    assert parse_eur(format_eur(cents)) == cents
    assert parse_eur(plain_eur(cents)) == cents
    assert parse_eur(format_eur(cents) + " €") == cents


def test_no_other_copy_of_cents_formatting() -> None:
    """Only claims/money.py splits cents into euros and cents for text (the synthetic data writers aside)."""
    pattern = re.compile(r"//\s*100\b.*%\s*100\b|divmod\([^)]*,\s*100\)")
    found = [f"{p.relative_to(ROOT)}:{n}" for pkg in ("claims", "parsers", "matching", "ledger", "outputs", "review", "flows")
             for p in (ROOT / pkg).rglob("*.py")
             for n, line in enumerate(p.read_text(encoding="utf-8").splitlines(), 1) if pattern.search(line)]
    assert all(f.startswith("claims/money.py") for f in found), found
