"""Mahngebühr (§ 9 VO VwVG NRW, DOMAIN.md §1.4): the worked examples, the rounding edges, when none is charged."""

from __future__ import annotations

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from claims.config import DunningSection
from claims.vocab import DunningLevel, FeeRule, SurchargeRule
from dunning.fees import mahngebuehr, mahngebuehr_expr

DEFAULT = DunningSection()


def fee(basis: int, capped: bool, s: DunningSection = DEFAULT) -> int:
    return pl.DataFrame({"b": [basis]}).select(mahngebuehr_expr("b", pl.lit(capped), s))["b"][0]


# DOMAIN.md §1.4, literally: Mahnbetrag -> (fee without cap, fee for a claim carrying Säumniszuschläge)
WORKED = [(3000, 600, 600), (5000, 600, 600), (12000, 670, 670), (100000, 1550, 1550), (465000, 5200, 5200),
          (1000000, 10550, 5200)]


@pytest.mark.parametrize(("basis", "plain", "capped"), WORKED)
def test_domain_worked_examples(basis: int, plain: int, capped: int) -> None:
    assert (fee(basis, False), fee(basis, True)) == (plain, capped)


@pytest.mark.parametrize(("basis", "half_up", "down"), [
    (0, 600, 600), (1, 600, 600), (5001, 600, 600), (5049, 600, 600), (5050, 601, 600), (5099, 601, 600),
    (5100, 601, 601), (12345, 673, 673), (12350, 674, 673), (465049, 5200, 5200), (465050, 5201, 5200),
    (465100, 5201, 5201),
])
def test_cent_rounding_of_the_percentage_part(basis: int, half_up: int, down: int) -> None:
    assert fee(basis, False) == half_up
    assert fee(basis, False, DunningSection(fee_rounding="down")) == down


def test_cap_is_reached_at_4650_euros_and_never_passed() -> None:
    assert fee(465049, True) == 5200 and fee(465050, True) == 5200 and fee(10**10, True) == 5200
    assert fee(465050, False) == 5201       # no maximum for claims without Säumniszuschläge


def test_other_fee_scale_from_the_config() -> None:
    s = DunningSection(fee_base="5,00", fee_threshold="100,00", fee_rate_percent=0.5, fee_cap="20,00")
    assert fee(10000, False, s) == 500 and fee(30000, False, s) == 600 and fee(10**9, True, s) == 2000


def _claims(**cols: list[object]) -> pl.DataFrame:
    n = len(next(iter(cols.values())))
    base: dict[str, list[object]] = {"level": [DunningLevel.MAHNUNG] * n, "ancillary": [False] * n,
                                     "fee_charged": [False] * n, "surcharge_rule": [SurchargeRule.AO_240] * n,
                                     "amount_cents": [12000] * n, "saeumniszuschlag_cents": [0] * n,
                                     "interest_cents": [0] * n}
    base.update(cols)
    return pl.DataFrame(base)


def test_no_fee_on_a_reminder_an_announcement_a_public_reminder_an_ancillary_claim_or_twice() -> None:
    df = _claims(level=["zahlungserinnerung", "vollstreckungsankuendigung", "oeffentliche_erinnerung", "mahnung",
                        "mahnung", "mahnung"],
                 ancillary=[False, False, False, True, False, False],
                 fee_charged=[False, False, False, False, True, False])
    out = mahngebuehr(df, DEFAULT).collect()
    assert out["mahngebuehr_cents"].to_list() == [0, 0, 0, 0, 0, 670]
    assert out["mahngebuehr_rule"].to_list() == [FeeRule.NO_FEE_LEVEL] * 3 + [FeeRule.ANCILLARY, FeeRule.CHARGED_BEFORE,
                                                                             FeeRule.VO_VWVG_9]


def test_the_cap_rule_is_recorded_only_where_it_bit() -> None:
    df = _claims(amount_cents=[1000000, 1000000, 1000000, 100000],
                 surcharge_rule=[SurchargeRule.AO_240, SurchargeRule.GEBG_18, SurchargeRule.BGB_288, SurchargeRule.AO_240])
    out = mahngebuehr(df, DEFAULT).collect()
    assert out["mahngebuehr_cents"].to_list() == [5200, 5200, 10550, 1550]
    assert out["mahngebuehr_rule"].to_list() == [FeeRule.VO_VWVG_9_CAP, FeeRule.VO_VWVG_9_CAP, FeeRule.VO_VWVG_9,
                                                 FeeRule.VO_VWVG_9]


def test_basis_with_surcharges_when_configured() -> None:
    df = _claims(amount_cents=[12000], saeumniszuschlag_cents=[1200], interest_cents=[800])
    assert mahngebuehr(df, DEFAULT).collect()["mahngebuehr_cents"][0] == 670
    out = mahngebuehr(df, DunningSection(fee_basis="principal_and_surcharge")).collect()
    assert (out["fee_basis_cents"][0], out["mahngebuehr_cents"][0]) == (14000, 690)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.integers(0, 10**11), min_size=1, max_size=50), st.sampled_from(["half_up", "down"]))
def test_fee_never_above_the_cap_when_surcharges_apply(bases: list[int], rounding: str) -> None:
    s = DunningSection(fee_rounding=rounding)
    df = pl.DataFrame({"b": bases}, schema={"b": pl.Int64})
    out = df.select(mahngebuehr_expr("b", pl.lit(True), s).alias("capped"),
                    mahngebuehr_expr("b", pl.lit(False), s).alias("plain"))
    assert out["capped"].max() <= 5200
    assert (out["capped"] >= 600).all() and (out["plain"] >= out["capped"]).all()
    ordered = df.with_columns(out["plain"]).sort("b")["plain"]
    assert ordered.is_sorted()              # more owed never means a smaller fee
