"""Day close over real bank files: every day of a real statement chain reconciles to 0,00 €."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest

from matching.schema import UNRESOLVED_SCHEMA
from outputs import check_totals, day_close
from parsers import parse_paths

CHAINS = [
    "mt940/betterplace__mt940_parser__sepa_mt9401.txt",   # 26 statements, negative balances, reversals
    "mt940/my-flow__mt940__transactions.sta",             # two accounts interleaved, pages 1/2 per day
]


@pytest.mark.parametrize("name", CHAINS)
def test_real_statement_chain_closes_without_difference(samples_dir: Path, name: str) -> None:
    res = parse_paths([samples_dir / name], tenant="musterstadt")
    st, tx = res.statements, res.transactions
    assert st.height > 0
    days = sorted(set(st.select(pl.coalesce("closing_date", "last_booking_date")).to_series().to_list()))
    closes: list[pl.DataFrame] = []
    for day in days:  # one close per booking day, each building on the ones before
        previous = pl.concat(closes) if closes else None
        dc = day_close(st, tx, pl.DataFrame(schema=UNRESOLVED_SCHEMA), booking_date=day, previous=previous)
        check_totals(dc)
        closes.append(dc)
    allc = pl.concat(closes)
    assert allc.height == st.select("account_iban", pl.coalesce("closing_date", "last_booking_date")).unique().height
    assert allc["status"].unique().to_list() == ["ok"]
    assert allc["difference_cents"].to_list() == [0] * allc.height
    # the day close's movements are exactly the booked rows of the file
    booked = tx.filter(pl.col("booked"))["amount_cents"]
    assert allc["credits_cents"].sum() == booked.filter(booked > 0).sum()
    assert allc["debits_cents"].sum() == -booked.filter(booked < 0).sum()
