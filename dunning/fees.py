"""The Mahngebühr of § 9 VO VwVG NRW (DOMAIN.md §1.4), per claim, in integer cents.

* Basis (the Mahnbetrag) up to and including 50,00 €: 6,00 €; above: 6,00 € + 1 % of the part above
  50,00 €. The 1 % part is rounded half-up to the cent by default (``[dunning] fee_rounding = "down"``
  truncates); the rounding is not in the ordinance [UNCONFIRMED], hence the setting.
* Capped at 52,00 € **only** where the claim carries Säumniszuschläge (§ 240 AO, § 12 KAG NRW with
  § 240 AO, § 18 GebG NRW): here, where its surcharge rule is ``ao_240`` or ``gebg_18``. Other claims
  (private law, Bußgeld) have no maximum.
* Charged once per claim, however many Mahnungen: the caller says whether an earlier notice charged it.
* None on a Zahlungserinnerung, a Vollstreckungsankündigung (another Mahnung in law: VG Düsseldorf
  27 K 643/19, VG Gelsenkirchen 14 L 997/20), a public reminder, or an ancillary claim.
* Basis: the claim's open principal (``fee_basis = "principal"``), or principal plus the Säumniszuschlag
  and interest of this notice (``"principal_and_surcharge"``): whether ancillary claims count is open.

Worked examples of DOMAIN.md §1.4 (cents; the second column for a claim carrying Säumniszuschläge):

>>> import polars as pl
>>> from claims.config import DunningSection
>>> df = pl.DataFrame({"basis": [3000, 5000, 12000, 100000, 465000, 1000000]})
>>> df.select(mahngebuehr_expr("basis", pl.lit(False), DunningSection()).alias("plain"),
...           mahngebuehr_expr("basis", pl.lit(True), DunningSection()).alias("capped")).rows()
[(600, 600), (600, 600), (670, 670), (1550, 1550), (5200, 5200), (10550, 5200)]
"""

from __future__ import annotations

from fractions import Fraction

import polars as pl

from claims.config import DunningSection
from claims.vocab import DunningLevel, FeeRule, SurchargeRule

#: The levels whose notice charges the fee (the others are free).
FEE_LEVELS = (DunningLevel.MAHNUNG,)
#: Surcharge rules under which the 52,00 € cap applies.
CAPPED_RULES = (SurchargeRule.AO_240, SurchargeRule.GEBG_18)


def _rate(settings: DunningSection) -> tuple[int, int]:
    """The excess rate as an exact fraction (numerator, denominator): 1.0 % -> (1, 100)."""
    f = Fraction(str(settings.fee_rate_percent)) / 100
    return f.numerator, f.denominator


def mahngebuehr_expr(basis: str | pl.Expr, capped: pl.Expr, settings: DunningSection) -> pl.Expr:
    """The fee in cents for a basis in cents (Int64), capped where ``capped`` is true. Exact integer
    arithmetic: the excess times the rate is rounded once (half-up or down, by the setting)."""
    b = pl.col(basis) if isinstance(basis, str) else basis
    num, den = _rate(settings)
    excess = (b - settings.fee_threshold).clip(lower_bound=0) * num
    part = (excess + den // 2) // den if settings.fee_rounding == "half_up" else excess // den
    fee = part + pl.lit(settings.fee_base, pl.Int64)     # named like the basis
    return pl.when(capped).then(fee.clip(upper_bound=settings.fee_cap)).otherwise(fee).cast(pl.Int64)


def mahngebuehr(frame: pl.DataFrame | pl.LazyFrame, settings: DunningSection) -> pl.LazyFrame:
    """Add ``mahngebuehr_cents``, ``fee_basis_cents`` and ``mahngebuehr_rule`` (:class:`FeeRule`).

    Reads per claim: ``level`` (:class:`DunningLevel`), ``ancillary`` (bool), ``fee_charged`` (bool: an
    earlier Mahnung charged the fee), ``surcharge_rule``, ``amount_cents`` (open principal) and, for the
    basis ``principal_and_surcharge``, ``saeumniszuschlag_cents`` and ``interest_cents``."""
    lf = frame.lazy()
    basis = pl.col("amount_cents")
    if settings.fee_basis == "principal_and_surcharge":
        basis = basis + pl.col("saeumniszuschlag_cents").fill_null(0) + pl.col("interest_cents").fill_null(0)
    capped = pl.col("surcharge_rule").is_in(list(CAPPED_RULES))
    rule = (
        pl.when(pl.col("ancillary")).then(pl.lit(FeeRule.ANCILLARY))
        .when(~pl.col("level").is_in(list(FEE_LEVELS))).then(pl.lit(FeeRule.NO_FEE_LEVEL))
        .when(pl.col("fee_charged")).then(pl.lit(FeeRule.CHARGED_BEFORE))
        .when(capped & (mahngebuehr_expr(basis, pl.lit(False), settings) > settings.fee_cap))
        .then(pl.lit(FeeRule.VO_VWVG_9_CAP))
        .otherwise(pl.lit(FeeRule.VO_VWVG_9))
    )
    return lf.with_columns(basis.cast(pl.Int64).alias("fee_basis_cents"), rule.alias("mahngebuehr_rule")).with_columns(
        pl.when(pl.col("mahngebuehr_rule").is_in([FeeRule.VO_VWVG_9, FeeRule.VO_VWVG_9_CAP]))
        .then(mahngebuehr_expr("fee_basis_cents", capped, settings))
        .otherwise(pl.lit(0, pl.Int64)).alias("mahngebuehr_cents")
    )


__all__ = ["CAPPED_RULES", "FEE_LEVELS", "mahngebuehr", "mahngebuehr_expr"]
