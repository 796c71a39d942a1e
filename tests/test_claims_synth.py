"""The synthetic municipality's debtors have plausible addresses, deterministic, that load cleanly."""

from __future__ import annotations

from pathlib import Path

import polars as pl

from parsers.open_items import load_open_items
from synth.municipality import generate


def test_generated_addresses_are_deterministic_and_load_without_findings(tmp_path: Path) -> None:
    a = generate(tmp_path / "a", seed=7, n_items=90, days=2)
    b = generate(tmp_path / "b", seed=7, n_items=90, days=2)
    assert a.open_items.read_bytes() == b.open_items.read_bytes()
    df, issues = load_open_items(a.open_items, tenant="musterstadt")
    assert [i for i in issues if i.code.startswith("open_items.bad_")] == []
    assert df["debtor_street"].null_count() == 0 and df["debtor_city"].null_count() == 0
    german = df.filter(pl.col("debtor_country") == "DE")
    assert german.height > 0 and german["debtor_postcode"].str.contains(r"^\d{5}$").all()
    # persons have a birth date, companies none (debtor ids of companies come from the generator's kinds)
    assert 0 < df["debtor_birth_date"].null_count() < df.height
    assert df.group_by("debtor_id").agg(pl.col("debtor_street").n_unique())["debtor_street"].max() == 1
