"""Key figures of enforcement against the gpaNRW comparison values (issue 17 §5, DOMAIN.md §6.2–6.3).

The same pattern as :mod:`dunning.key_figures` (its :class:`~dunning.key_figures.Benchmark`,
:func:`~dunning.key_figures.placement` and row layout :data:`~dunning.key_figures.FIGURE_SCHEMA`): one row
per figure with its numerator and denominator, the value for the period ``since`` .. ``as_of`` (365 days by
default), the value placed against the comparison group (a year's figure: per-year counts are scaled to
365 days) and the placement in words. A figure with two published comparison values (Realisierte
Nebenforderungen: Oelde and Warendorf) gets one row per source. The official formulas are UNCONFIRMED
(DOMAIN.md §6.2): these are the working definitions, each stated in :func:`enforcement_key_figures`.

**Counting unit**: an enforcement claim (Vollstreckungsforderung) is a **main claim** handed over; its
Nebenforderungen go with it and are counted as amounts (Anteil Nebenforderungen, realisierte
Nebenforderungen), not as claims. A claim is **completed** (abgewickelt) on the first outcome among
``paid``, ``uncollectible``, ``returned``, ``written_off`` (:meth:`~claims.vocab.EnforcementOutcome.completed`);
``partly_paid``, ``instalments`` and ``moved`` keep it open. An outcome without ``receivable_id`` is the
whole case's: it counts for every claim of the case handed over on or before its date.

Inputs: ``case_claims`` (:class:`~enforcement.frames.CaseClaim` of **every** case, open and closed, with
``ancillary`` and ``handed_cents``), ``outcomes`` (:class:`~enforcement.frames.OutcomeRow`), ``claims`` (every
claim the ledger knew in the period: ``receivable_id``, ``claim_type``, ``due_date``,
``parent_receivable_id`` — the Vollstreckungsquote's base) and ``[enforcement]`` (``staff_fte``,
``annual_costs`` / ``cost_per_case``, ``backlog_days``).
"""

from __future__ import annotations

from datetime import date, timedelta

import polars as pl

from claims.config import EnforcementSection
from claims.vocab import ClaimType, EnforcementOutcome
from dunning import ENGINE
from dunning.frames import conform
from dunning.key_figures import FIGURE_SCHEMA, Benchmark, placement
from enforcement.frames import CaseClaim, OutcomeRow, take

_OELDE = "gpaNRW, Prüfbericht Stadt Oelde 2016/17"
_WARENDORF = "gpaNRW, Prüfbericht Stadt Warendorf vom 07.03.2018"

#: The gpaNRW comparison values for enforcement (DOMAIN.md §6.3; values of the year 2016). Newer audit
#: rounds publish new values: replace a row, keep its date and source.
GPA_COMPARISON: tuple[Benchmark, ...] = (
    Benchmark("neue_je_vollzeit_stelle", "Neu entstandene Vollstreckungsforderungen je Vollzeit-Stelle", 2016,
              _WARENDORF, n=69, minimum=566, q1=1069, median=1242, q3=1525, maximum=2790, mean=1330),
    Benchmark("bestehende_je_vollzeit_stelle", "Bestehende Vollstreckungsforderungen je Vollzeit-Stelle (1. Januar)",
              2016, _OELDE, n=81, minimum=238, q1=619, median=922, q3=1369, maximum=2984, mean=1041),
    Benchmark("realisierte_nebenforderungen_je_vollzeit_stelle",
              "Realisierte Nebenforderungen je Vollzeit-Stelle Vollstreckung (EUR)", 2016, _OELDE, n=86,
              minimum=13865, q1=30499, median=36489, q3=43129, maximum=107145, mean=38249),
    Benchmark("realisierte_nebenforderungen_je_vollzeit_stelle",
              "Realisierte Nebenforderungen je Vollzeit-Stelle Vollstreckung (EUR)", 2016, _WARENDORF, n=74,
              minimum=13865, q1=30856, median=37484, q3=43364, maximum=107145, mean=39150),
    Benchmark("anteil_nebenforderungen", "Anteil Nebenforderungen an Hauptforderungen (%)", 2016, _OELDE, n=70,
              minimum=5.5, q1=11.2, median=14.9, q3=20.06, maximum=39.2, mean=16.6),
    Benchmark("aufwendungen_je_abgewickelte", "Aufwendungen je abgewickelte Vollstreckungsforderung (EUR)", 2016,
              _OELDE, n=80, minimum=30.18, q1=47.68, median=59.74, q3=73.71, maximum=128.72, mean=61.61),
)

#: The claims read for the Vollstreckungsquote.
CLAIM_COLUMNS: dict[str, pl.DataType] = {"receivable_id": pl.String(), "claim_type": pl.String(),
                                         "due_date": pl.Date(), "parent_receivable_id": pl.String()}
#: One row per main claim ever handed over: when, how much, when completed and how.
CLAIM_STATE_COLUMNS = ("receivable_id", "case_number", "handed_off_on", "handed_cents", "completed_on", "outcome")


def _pct(num: float, den: float) -> float | None:
    return None if not den else num * 100.0 / den


def _per(num: float | None, den: float | None) -> float | None:
    return None if num is None or not den else num / den


def _rows(figure: str, label: str, unit: str, num: int | None, den: int | None, value: float | None,
          since: date, as_of: date, compared: float | None = None) -> list[dict[str, object]]:
    """One row per comparison value of ``figure`` (or one row without)."""
    benches: list[Benchmark | None] = [b for b in GPA_COMPARISON if b.figure == figure] or [None]
    compared = value if compared is None else compared
    out = []
    for bench in benches:
        quartile, words = placement(compared, bench)
        b = {} if bench is None else {
            "bench_source": bench.source, "bench_year": bench.year, "bench_n": bench.n, "bench_min": bench.minimum,
            "bench_q1": bench.q1, "bench_median": bench.median, "bench_q3": bench.q3, "bench_max": bench.maximum,
            "bench_mean": bench.mean}
        out.append({"figure": figure, "label": label, "unit": unit, "value": value, "numerator": num,
                    "denominator": den, "period_from": since, "period_to": as_of, "compared_value": compared,
                    "quartile": quartile, "position": words} | b)
    return out


def claim_states(case_claims: pl.DataFrame | pl.LazyFrame | None, outcomes: pl.DataFrame | pl.LazyFrame | None,
                 as_of: date) -> pl.DataFrame:
    """Per main claim handed over: :data:`CLAIM_STATE_COLUMNS` (``completed_on`` null: still open on ``as_of``)."""
    cc, out = take(case_claims, CaseClaim), take(outcomes, OutcomeRow).filter(pl.col("outcome_date") <= as_of)
    mains = (cc.filter(~pl.col("ancillary").fill_null(False))
             .group_by("receivable_id").agg(pl.col("case_number").first(), pl.col("handed_off_on").min(),
                                            pl.col("handed_cents").fill_null(0).sum()))
    done = out.filter(pl.col("outcome").is_in([str(o) for o in EnforcementOutcome.completed()]))
    per_claim = pl.concat([
        done.filter(pl.col("receivable_id").is_not_null()).select("receivable_id", "outcome", "outcome_date"),
        done.filter(pl.col("receivable_id").is_null()).select("case_number", "outcome", "outcome_date")
        .join(mains.select("case_number", "receivable_id", "handed_off_on"), on="case_number", how="inner")
        .filter(pl.col("handed_off_on") <= pl.col("outcome_date")).select("receivable_id", "outcome", "outcome_date"),
    ])
    first = (per_claim.sort("receivable_id", "outcome_date").group_by("receivable_id")
             .agg(pl.col("outcome_date").first().alias("completed_on"), pl.col("outcome").first()))
    return (mains.join(first, on="receivable_id", how="left").sort("handed_off_on", "receivable_id")
            .select(CLAIM_STATE_COLUMNS))


def enforcement_key_figures(case_claims: pl.DataFrame | pl.LazyFrame | None,
                            outcomes: pl.DataFrame | pl.LazyFrame | None = None,
                            claims: pl.DataFrame | pl.LazyFrame | None = None, *, as_of: date,
                            since: date | None = None,
                            settings: EnforcementSection | None = None) -> pl.DataFrame:
    """The enforcement key figures of ``since`` .. ``as_of`` (:data:`~dunning.key_figures.FIGURE_SCHEMA`).

    Working definitions (period = ``since`` .. ``as_of``; "per year" = scaled to 365 days for the comparison):

    * ``neue_vollstreckungsforderungen`` — main claims handed over in the period; ``neue_je_vollzeit_stelle``
      — the same per year ÷ ``staff_fte``;
    * ``bestehende_vollstreckungsforderungen`` — main claims handed over before ``since`` and not completed
      before it (on 1 January when the period is a calendar year); ``bestehende_je_vollzeit_stelle`` ÷ FTE;
    * ``vollstreckungsquote`` — of the main claims due in the period, the share handed over by ``as_of``;
    * ``erfolgsquote_anzahl`` / ``erfolgsquote_summe`` — of the claims completed in the period, the share
      completed by payment (``paid``), by count and by amount handed over;
    * ``erledigungsquote`` — claims completed in the period ÷ (existing at the start + new in the period);
    * ``durchschnittliche_dauer`` — mean days from hand-off to completion of the claims completed in the period;
    * ``rueckstand`` — open claims handed over at least ``backlog_days`` ago with no outcome at all, as a
      share of the open claims (numerator: their count);
    * ``realisierte_nebenforderungen`` — Nebenforderungen collected (``ancillary_collected_cents`` of the
      period's outcomes, EUR); ``realisierte_nebenforderungen_je_vollzeit_stelle`` per year ÷ FTE;
    * ``anteil_nebenforderungen`` — Nebenforderungen ÷ main claims, amounts handed over in the period (%);
    * ``deckungsgrad`` — the enforcement unit's fee income (``fee_cents`` of the period's outcomes) ÷ its
      expenses (%); ``aufwendungen_je_abgewickelte`` — expenses ÷ claims completed in the period (EUR).
      Expenses: ``annual_costs`` × days/365, else ``cost_per_case`` × claims worked (existing + new);
      neither set: these stay empty."""
    s = settings or EnforcementSection()
    since = since or as_of - timedelta(days=364)
    days = (as_of - since).days + 1
    year = 365 / days
    fte = s.staff_fte
    cc, out = take(case_claims, CaseClaim), take(outcomes, OutcomeRow)
    out_period = out.filter(pl.col("outcome_date").is_between(since, as_of))
    states = claim_states(cc, out, as_of)

    new = states.filter(pl.col("handed_off_on").is_between(since, as_of))
    existing = states.filter((pl.col("handed_off_on") < since)
                             & (pl.col("completed_on").is_null() | (pl.col("completed_on") >= since)))
    completed = states.filter(pl.col("completed_on").is_between(since, as_of))
    paid = completed.filter(pl.col("outcome") == EnforcementOutcome.PAID)
    open_now = states.filter(pl.col("completed_on").is_null())
    seen = out.filter(pl.col("outcome_date") <= as_of)         # an outcome dated later is not known yet
    touched = pl.concat([seen.filter(pl.col("receivable_id").is_not_null()).select("receivable_id"),
                         seen.filter(pl.col("receivable_id").is_null()).select("case_number")
                         .join(cc.select("case_number", "receivable_id"), on="case_number").select("receivable_id")])
    backlog = open_now.filter((pl.col("handed_off_on") <= as_of - timedelta(days=s.backlog_days))
                              & ~pl.col("receivable_id").is_in(touched["receivable_id"].implode()))

    ancillary = [str(t) for t in ClaimType.ancillary()]
    cl = conform(claims, CLAIM_COLUMNS).collect(engine=ENGINE)
    due = cl.filter(pl.col("due_date").is_between(since, as_of) & pl.col("parent_receivable_id").is_null()
                    & ~pl.col("claim_type").str.to_uppercase().is_in(ancillary))
    n_due = due.height
    n_due_handed = due.filter(pl.col("receivable_id").is_in(states["receivable_id"].implode())).height

    handed_period = cc.filter(pl.col("handed_off_on").is_between(since, as_of))
    anc = int(handed_period.filter(pl.col("ancillary").fill_null(False))["handed_cents"].fill_null(0).sum())
    main = int(handed_period.filter(~pl.col("ancillary").fill_null(False))["handed_cents"].fill_null(0).sum())
    realised = int(out_period["ancillary_collected_cents"].fill_null(0).sum())
    fees = int(out_period["fee_cents"].fill_null(0).sum())
    worked = existing.height + new.height
    expenses = (round(s.annual_costs * days / 365) if s.annual_costs is not None
                else s.cost_per_case * worked if s.cost_per_case is not None else None)
    duration = completed.select((pl.col("completed_on") - pl.col("handed_off_on")).dt.total_days().mean()).item()

    c_done, c_paid = int(completed["handed_cents"].sum()), int(paid["handed_cents"].sum())
    rows: list[dict[str, object]] = []
    add = rows.extend
    add(_rows("neue_vollstreckungsforderungen", "Neue Vollstreckungsforderungen", "Anzahl", new.height, None,
              float(new.height), since, as_of, new.height * year))
    add(_rows("neue_je_vollzeit_stelle", "Neu entstandene Vollstreckungsforderungen je Vollzeit-Stelle",
              "je Vollzeit-Stelle", new.height, None, _per(new.height, fte), since, as_of,
              _per(new.height * year, fte)))
    add(_rows("bestehende_vollstreckungsforderungen", "Bestehende Vollstreckungsforderungen (Periodenbeginn)",
              "Anzahl", existing.height, None, float(existing.height), since, as_of))
    add(_rows("bestehende_je_vollzeit_stelle", "Bestehende Vollstreckungsforderungen je Vollzeit-Stelle (Periodenbeginn)",
              "je Vollzeit-Stelle", existing.height, None, _per(existing.height, fte), since, as_of))
    add(_rows("vollstreckungsquote", "Vollstreckungsquote (Anteil der fälligen Forderungen in der Vollstreckung)",
              "%", n_due_handed, n_due, _pct(n_due_handed, n_due), since, as_of))
    add(_rows("erfolgsquote_anzahl", "Erfolgsquote Vollstreckung (Anzahl)", "%", paid.height, completed.height,
              _pct(paid.height, completed.height), since, as_of))
    add(_rows("erfolgsquote_summe", "Erfolgsquote Vollstreckung (Betrag)", "%", c_paid, c_done,
              _pct(c_paid, c_done), since, as_of))
    add(_rows("erledigungsquote", "Erledigungsquote", "%", completed.height, worked,
              _pct(completed.height, worked), since, as_of))
    add(_rows("durchschnittliche_dauer", "Durchschnittliche Dauer eines Vollstreckungsvorgangs", "Tage",
              None, completed.height, None if duration is None else float(duration), since, as_of))
    add(_rows("rueckstand", f"Bearbeitungsrückstand (offen, seit {s.backlog_days} Tagen ohne Rückmeldung)", "%",
              backlog.height, open_now.height, _pct(backlog.height, open_now.height), since, as_of))
    add(_rows("realisierte_nebenforderungen", "Realisierte Nebenforderungen", "EUR", realised, None,
              realised / 100, since, as_of, realised / 100 * year))
    add(_rows("realisierte_nebenforderungen_je_vollzeit_stelle",
              "Realisierte Nebenforderungen je Vollzeit-Stelle Vollstreckung", "EUR je Vollzeit-Stelle", realised,
              None, _per(realised / 100, fte), since, as_of, _per(realised / 100 * year, fte)))
    add(_rows("anteil_nebenforderungen", "Anteil Nebenforderungen an Hauptforderungen", "%", anc, main,
              _pct(anc, main), since, as_of))
    add(_rows("deckungsgrad", "Deckungsgrad Vollstreckung", "%", fees, expenses,
              None if expenses is None else _pct(fees, expenses), since, as_of))
    add(_rows("aufwendungen_je_abgewickelte", "Aufwendungen je abgewickelte Vollstreckungsforderung", "EUR",
              expenses, completed.height, _per(None if expenses is None else expenses / 100, completed.height),
              since, as_of))
    return pl.DataFrame(rows, schema=FIGURE_SCHEMA)


__all__ = ["CLAIM_COLUMNS", "CLAIM_STATE_COLUMNS", "GPA_COMPARISON", "claim_states", "enforcement_key_figures"]
