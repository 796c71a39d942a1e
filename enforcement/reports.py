"""The enforcement reports in one call: key figures, limitation warnings and the Forderungsbewertung
(issue 17 §2, §5; docs/ENFORCEMENT.md, "Reports").

:func:`report` takes the frames the ledger reader gathers (``ledger.enforcement_report.read_report_inputs``)
and hands each pure function what it needs:

* **key figures** — :func:`enforcement.key_figures.enforcement_key_figures` over every case claim, the booked
  outcomes and every claim the ledger knew;
* **limitation** — :func:`enforcement.limitation.limitation` of the claims **open now**, interrupted by the
  Mahnungen and Stundung/AdV blocks (:func:`~enforcement.limitation.interruptions_from`) and by the
  enforcement office's measures (:func:`measures_from`); the warning list joins Kassenzeichen, debtor and
  open amount to each warned claim, the soonest end first;
* **Forderungsbewertung** — :func:`enforcement.valuation.valuation` of the open claims with each claim's
  standing (:func:`~enforcement.valuation.claim_standing`) and the time-barred ones written off.

**An enforcement measure** (:attr:`~claims.vocab.Interruption.ENFORCEMENT`, DOMAIN.md §1.10) is read from the
office's outcomes that report one: ``partly_paid`` (money seized or paid under pressure), ``instalments``
(an agreement under threat of enforcement), ``uncollectible`` (a fruitless attempt: the bailiff was there)
and ``moved`` (the search for the debtor's address). ``paid`` ends the claim, ``returned`` and
``written_off`` report that nothing was done. An outcome for a whole case counts for each claim of the case
handed over on or before its date. The hand-off itself is an internal step between two offices and is not
counted: the safe side for a warning list.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta

import polars as pl

from amtshilfe.key_figures import FIGURE_SCHEMA as AMTSHILFE_FIGURE_SCHEMA
from amtshilfe.key_figures import amtshilfe_key_figures
from claims.config import EnforcementSection
from claims.vocab import EnforcementOutcome, Interruption, LimitationState
from dunning import ENGINE
from dunning.frames import conform
from enforcement.frames import CaseClaim, InterruptionRow, OutcomeRow, polars_schema, take
from enforcement.key_figures import enforcement_key_figures
from enforcement.limitation import interruptions_from, limitation, warning_list
from enforcement.valuation import Valuation, claim_standing, valuation

#: The outcomes that report an enforcement measure (module docstring).
MEASURES: tuple[EnforcementOutcome, ...] = (EnforcementOutcome.PARTLY_PAID, EnforcementOutcome.INSTALMENTS,
                                            EnforcementOutcome.UNCOLLECTIBLE, EnforcementOutcome.MOVED)
#: The open claims read (limitation, valuation, the warning list's details).
OPEN_CLAIM_SCHEMA: dict[str, pl.DataType] = {
    "receivable_id": pl.String(), "kassenzeichen": pl.String(), "debtor_id": pl.String(),
    "debtor_name": pl.String(), "claim_type": pl.String(), "law": pl.String(), "amount_cents": pl.Int64(),
    "due_date": pl.Date()}
#: One row per warned claim, the soonest end first.
WARNING_COLUMNS = ("kassenzeichen", "receivable_id", "debtor_id", "debtor_name", "claim_type", "open_cents",
                   "due_date", "last_interruption", "last_interruption_kind", "expires_on", "days_left")


@dataclass(frozen=True, slots=True)
class EnforcementReport:
    """``figures`` (``dunning.key_figures.FIGURE_SCHEMA``), ``limits`` (one row per open claim,
    ``enforcement.limitation.LIMITATION_COLUMNS``), ``warnings`` (:data:`WARNING_COLUMNS`), ``valuation``;
    ``amtshilfe``: the foreign creditors' requests per year (``amtshilfe.key_figures.FIGURE_SCHEMA``)."""

    as_of: date
    since: date
    figures: pl.DataFrame
    limits: pl.DataFrame
    warnings: pl.DataFrame
    valuation: Valuation
    amtshilfe: pl.DataFrame = field(default_factory=lambda: pl.DataFrame(schema=AMTSHILFE_FIGURE_SCHEMA))

    @property
    def n_expired(self) -> int:
        """Open claims whose limitation period has run out (written off in the valuation)."""
        return self.limits.filter(pl.col("state") == LimitationState.EXPIRED).height


def measures_from(case_claims: pl.DataFrame | pl.LazyFrame | None, outcomes: pl.DataFrame | pl.LazyFrame | None,
                  as_of: date) -> pl.DataFrame:
    """The enforcement measures the office reported, as :class:`~enforcement.frames.InterruptionRow` (one per
    claim and outcome; module docstring)."""
    cc = take(case_claims, CaseClaim)
    out = take(outcomes, OutcomeRow).filter(pl.col("outcome").is_in([str(m) for m in MEASURES])
                                            & (pl.col("outcome_date") <= as_of))
    rows = pl.concat([
        out.filter(pl.col("receivable_id").is_not_null()).select("receivable_id", "outcome_date"),
        out.filter(pl.col("receivable_id").is_null()).select("case_number", "outcome_date")
        .join(cc.select("case_number", "receivable_id", "handed_off_on"), on="case_number", how="inner")
        .filter(pl.col("handed_off_on") <= pl.col("outcome_date")).select("receivable_id", "outcome_date"),
    ]).unique(maintain_order=True)
    return rows.select("receivable_id", pl.lit(str(Interruption.ENFORCEMENT)).alias("kind"),
                       pl.col("outcome_date").alias("event_date"),
                       pl.lit(None, pl.Date).alias("until")).cast(polars_schema(InterruptionRow))  # type: ignore[arg-type]


def limitation_warnings(*, case_claims: pl.DataFrame | None, outcomes: pl.DataFrame | None,
                        open_claims: pl.DataFrame | None, mahnungen: pl.DataFrame | None,
                        blocks: pl.DataFrame | None, as_of: date,
                        settings: EnforcementSection | None = None) -> tuple[pl.DataFrame, pl.DataFrame]:
    """``(limits, warnings)`` of the open claims on ``as_of`` (module docstring): what the nightly snapshot
    needs, without the key figures and the valuation."""
    s = settings or EnforcementSection()
    open_ = conform(open_claims, OPEN_CLAIM_SCHEMA).collect(engine=ENGINE)
    stops = pl.concat([interruptions_from(mahnungen, blocks, open_.select("receivable_id", "debtor_id")),
                       measures_from(case_claims, outcomes, as_of)])
    limits = limitation(open_, as_of, s, stops)
    warned = warning_list(limits).join(
        open_.select("receivable_id", "kassenzeichen", "debtor_name", pl.col("amount_cents").alias("open_cents")),
        on="receivable_id", how="left", maintain_order="left")
    return limits, warned.select(WARNING_COLUMNS)


def report(*, case_claims: pl.DataFrame | None, outcomes: pl.DataFrame | None, claims: pl.DataFrame | None,
           open_claims: pl.DataFrame | None, mahnungen: pl.DataFrame | None, blocks: pl.DataFrame | None,
           as_of: date, since: date | None = None, settings: EnforcementSection | None = None,
           amtshilfe_events: pl.DataFrame | None = None,
           amtshilfe_collected: pl.DataFrame | None = None) -> EnforcementReport:
    """Key figures of ``since`` .. ``as_of`` (365 days by default), the limitation of the open claims on
    ``as_of`` with the warning list, and the valuation on ``as_of`` (module docstring); the Amtshilfe
    figures per year up to ``as_of`` from its events and the payments on its cases."""
    s = settings or EnforcementSection()
    since = since or as_of - timedelta(days=364)
    open_ = conform(open_claims, OPEN_CLAIM_SCHEMA).collect(engine=ENGINE)
    figures = enforcement_key_figures(case_claims, outcomes, claims, as_of=as_of, since=since, settings=s)
    limits, warnings = limitation_warnings(case_claims=case_claims, outcomes=outcomes, open_claims=open_,
                                           mahnungen=mahnungen, blocks=blocks, as_of=as_of, settings=s)
    standing = claim_standing(case_claims, outcomes, as_of=as_of)
    val = valuation(open_, as_of, s, standing=standing, limits=limits)
    return EnforcementReport(as_of=as_of, since=since, figures=figures, limits=limits, warnings=warnings,
                             valuation=val,
                             amtshilfe=amtshilfe_key_figures(amtshilfe_events, amtshilfe_collected, as_of=as_of))


__all__ = ["MEASURES", "OPEN_CLAIM_SCHEMA", "WARNING_COLUMNS", "EnforcementReport", "limitation_warnings",
           "measures_from", "report"]
