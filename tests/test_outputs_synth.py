"""The reports over a generated municipality: real MT940 + camt.053 files, the real matcher, every day."""

from __future__ import annotations

import tomllib
from pathlib import Path

import polars as pl

from matching import match
from matching.config import load_match_config
from outputs import day_close, key_figures, klaerungsliste, verify, write_reports
from parsers import parse_paths
from parsers.open_items import load_open_items
from synth.municipality import generate


def test_every_day_of_a_generated_municipality_reconciles(tmp_path: Path) -> None:
    generate(tmp_path / "data", seed=3, n_items=240, days=2)
    cfg = load_match_config(tmp_path / "data" / "kasse.toml")
    items, _ = load_open_items(tmp_path / "data" / "open_items.csv", tenant="musterstadt", config=cfg)
    parsed = parse_paths([tmp_path / "data" / "statements"], tenant="musterstadt")
    st, tx = parsed.statements, parsed.transactions
    result = match(tx, items, cfg)
    days = sorted(set(st["closing_date"].to_list()))
    ibans = [a["iban"] for a in tomllib.loads((tmp_path / "data" / "kasse.toml").read_text("utf-8"))["accounts"]]
    assert len(days) == 2
    previous = None
    for day in days:
        un = result.unresolved.filter(pl.col("booking_date") <= day)
        dc = day_close(st, tx, un, booking_date=day, previous=previous, tenant="musterstadt",
                       expected_accounts=ibans)                   # IBANs, while MT940 says BLZ/account
        previous = dc if previous is None else pl.concat([previous, dc])
        assert dc.height == 2 and dc["status"].to_list() == ["ok", "ok"]      # Sparkasse MT940, Volksbank camt
        booked = tx.filter(pl.col("booked") & pl.col("statement_key").is_in(
            st.filter(pl.col("closing_date") == day)["statement_key"].implode()))
        assert dc["booked_cents"].sum() == booked["amount_cents"].sum()
        assert dc["n_unresolved"].sum() == un.height
        kl = klaerungsliste(un, tx, as_of=day)
        kf = key_figures(tx.filter(pl.col("booking_date") <= day), result.allocations, un, as_of=day)
        out = tmp_path / "out" / day.isoformat()
        write_reports(out, tenant="musterstadt", booking_date=day, day_close=dc, klaerungsliste=kl,
                      key_figures=kf, run_id=f"test-{day}")
        assert verify(out) == []
        assert pl.read_parquet(out / "klaerungsliste.parquet").height == un.height
