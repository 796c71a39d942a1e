"""The dunning data of the synthetic municipality (synth/dunning_data.py): notice dates, the eight block
reasons, instalment plans — and that the dunning law core reads them as meant."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import polars as pl
import pytest

from claims.vocab import BlockReason, ClaimType
from dunning.instalments import instalment_blocks, plan_status, read_plans
from dunning.select import select
from synth import generate

START = date(2026, 11, 16)


@pytest.fixture(scope="module")
def sample(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("dun")
    generate(out, seed=1, n_items=3000, days=2, start=START)
    return out


def _claims(folder: Path) -> pl.DataFrame:
    raw = pl.read_csv(folder / "open_items.csv", separator=";", infer_schema=False)
    return raw.with_columns(
        pl.col("amount").str.replace(",", ".", literal=True).cast(pl.Decimal(12, 2)).mul(100).cast(pl.Int64)
        .alias("amount_cents"),
        *(pl.col(c).str.to_date() for c in ("due_date", "notice_date", "dunning_block_until")))


def test_notice_dates_on_some_main_claims(sample: Path) -> None:
    claims = _claims(sample)
    ancillary = [str(t) for t in ClaimType.ancillary()]
    with_date = claims.filter(pl.col("notice_date").is_not_null())
    assert with_date.filter(pl.col("claim_type").is_in(ancillary)).height == 0
    share = with_date.height / claims.filter(~pl.col("claim_type").is_in(ancillary)).height
    assert 0.15 < share < 0.25
    lag = with_date.select((pl.col("notice_date") - pl.col("due_date")).dt.total_days())["notice_date"]
    assert lag.min() >= -30 + 3 and lag.max() <= 10 + 4            # posted 30 days before to 10 after, + 3-4
    assert (lag > 0).sum() >= 5                                     # late assessments: Schonfrist from Bekanntgabe


def test_every_block_reason_appears_some_without_end(sample: Path) -> None:
    claims = _claims(sample)
    reasons = set(claims["block_reason"].drop_nulls().to_list())
    assert reasons == {str(r) for r in BlockReason}
    blocked = claims.filter(pl.col("block_reason").is_not_null())
    assert blocked.filter(pl.col("dunning_block_until").is_null()).height >= 20
    assert claims.filter(pl.col("block_reason").is_null() & pl.col("dunning_block_until").is_not_null()).height > 0
    # a debtor-wide reason holds every claim of the debtor
    wide = blocked.filter(pl.col("block_reason").is_in(["INSOLVENZ", "VERSTORBEN", "ADRESSE_UNBEKANNT"]))
    debtors = wide["debtor_id"].unique()
    assert claims.filter(pl.col("debtor_id").is_in(debtors.implode()))["block_reason"].null_count() == 0
    assert set(claims["law"].unique().to_list()) == {"public", "private"}


def test_the_selection_skips_every_block_with_its_reason(sample: Path) -> None:
    claims = _claims(sample)
    as_of = START + timedelta(days=8)
    sel = select(claims, as_of)
    skipped = sel.skipped.join(claims.select("receivable_id", pl.col("block_reason").alias("export")),
                               on="receivable_id")
    in_force = claims.filter(pl.col("block_reason").is_not_null()
                             & (pl.col("dunning_block_until").is_null() | (pl.col("dunning_block_until") >= as_of)))
    got = skipped.filter(pl.col("receivable_id").is_in(in_force["receivable_id"].implode()))
    assert got.height == in_force.height
    assert got.filter((pl.col("reason") != "blocked") | (pl.col("block_reason") != pl.col("export"))).height == 0
    assert sel.selected.join(in_force, on="receivable_id", how="semi").height == 0


def test_instalment_plans_file(sample: Path) -> None:
    claims = _claims(sample)
    plans = read_plans(sample / "instalment_plans.csv")
    assert 10 <= plans.height <= 60
    assert plans["receivable_ids"].null_count() > 0 and plans["receivable_ids"].drop_nulls().len() > 0
    listed = plans.select("debtor_id", "receivable_ids").explode("receivable_ids").drop_nulls()
    owner = listed.join(claims.select(pl.col("receivable_id").alias("receivable_ids"), pl.col("debtor_id").alias("o")),
                        on="receivable_ids", how="left")
    assert owner.filter(pl.col("o") != pl.col("debtor_id")).height == 0 and owner["o"].null_count() == 0
    covered = claims.filter(pl.col("debtor_id").is_in(plans["debtor_id"].implode()))
    assert covered.filter(pl.col("block_reason").is_not_null() | pl.col("dunning_block_until").is_not_null()).height == 0
    # whole euros; the instalments pay off the total, the last one the rest
    assert (plans["amount_cents"] % 100 == 0).all()
    assert (plans["n_instalments"] * plans["amount_cents"] >= plans["total_cents"]).all()
    assert ((plans["n_instalments"] - 1) * plans["amount_cents"] < plans["total_cents"]).all()
    status = plan_status(plans, None, START + timedelta(days=4), claims=claims)
    assert set(status["status"].to_list()) == {"on_time", "missed"}


def test_plans_on_time_hold_their_claims_back(sample: Path) -> None:
    claims = _claims(sample)
    plans = read_plans(sample / "instalment_plans.csv")
    as_of = START + timedelta(days=4)
    blocks = instalment_blocks(plans, None, as_of, claims=claims)
    on_time = plan_status(plans, None, as_of, claims=claims).filter(pl.col("status") == "on_time")
    assert blocks["block_reason"].unique().to_list() == [str(BlockReason.RATENZAHLUNG)]
    sel = select(claims, as_of, blocks=blocks)
    debtors = on_time["debtor_id"]
    held = sel.skipped.filter(pl.col("debtor_id").is_in(debtors.implode()) & (pl.col("block_reason") == "RATENZAHLUNG"))
    assert held.height > 0
    listed = plans.filter(pl.col("plan_id").is_in(on_time["plan_id"].implode()))["receivable_ids"].explode().drop_nulls()
    assert sel.selected.filter(pl.col("receivable_id").is_in(listed.implode())).height == 0


def test_same_seed_same_plans_other_seed_other(tmp_path: Path, sample: Path) -> None:
    generate(tmp_path / "a", seed=1, n_items=3000, days=2, start=START)
    generate(tmp_path / "b", seed=2, n_items=3000, days=2, start=START)
    same = (tmp_path / "a" / "instalment_plans.csv").read_bytes()
    assert same == (sample / "instalment_plans.csv").read_bytes()
    assert same != (tmp_path / "b" / "instalment_plans.csv").read_bytes()
