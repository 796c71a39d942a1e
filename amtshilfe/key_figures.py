"""Key figures of the foreign creditors' requests per year (issue 18 §5; docs/AMTSHILFE.md "Key figures").

gpaNRW's audits count the Amtshilfe an enforcement office does for others as a share of its work (DOMAIN.md
§6); no comparison values for foreign requests are published, so these are counts and amounts per
calendar year, taken from the ledger's ``amtshilfe_events`` — what happened to the requests, each on the
day it happened — and the payments booked on the cases' claims:

================  ===============================================================  ==========================
figure            counted                                                           amount
================  ===============================================================  ==========================
``received``      messages ``ersuchen`` of a delivery (a file), not ``repeated``    requested (their totals)
``accepted``      events ``accepted`` (at the import or by a person's decision)     requested
``flagged``       messages ``ersuchen`` of a delivery held for a person            requested
``returned``      events ``returned``, one row per reason (``check``)               requested
``withdrawn``     events ``withdrawn``                                              —
``settled``       events ``settled``                                                —
``uncollectible`` events ``uncollectible`` (Fruchtlosigkeit)                        —
``collected``     payments booked on claims of origin ``amtshilfe``                 booked (reversals less)
``forwarded``     events ``payment_forwarded``                                      forwarded
``cost_invoiced`` events ``cost_invoice``                                           invoiced
================  ===============================================================  ==========================

A figure with nothing in a year is a row with 0 (a year with any event or payment has every figure), so
a year's table always has the same rows; ``returned`` has one row per reason met, or one row without a
reason when there was none.
"""

from __future__ import annotations

from datetime import date

import polars as pl

from claims.vocab import AmtshilfeFigure, ErsuchenFeedback, ErsuchenMessage, ErsuchenOutcome

#: One row per year, figure and (for ``returned``) reason.
FIGURE_SCHEMA: dict[str, pl.DataType] = {
    "year": pl.Int32(), "figure": pl.String(), "reason": pl.String(), "count": pl.Int64(),
    "amount_cents": pl.Int64()}
#: The columns read of the ledger's ``amtshilfe_events``.
EVENT_COLUMNS: dict[str, pl.DataType] = {
    "event_date": pl.Date(), "kind": pl.String(), "message": pl.String(), "outcome": pl.String(),
    "check": pl.String(), "amount_cents": pl.Int64(), "file_sha256": pl.String()}
#: The payments booked on the cases' claims: one row per allocation (a reversal negative).
COLLECTED_COLUMNS: dict[str, pl.DataType] = {"booking_date": pl.Date(), "transaction_id": pl.String(),
                                             "amount_cents": pl.Int64()}
#: Figures that carry no amount (a count of cases).
COUNT_ONLY = frozenset({AmtshilfeFigure.WITHDRAWN, AmtshilfeFigure.SETTLED, AmtshilfeFigure.UNCOLLECTIBLE})
_ORDER = {str(f): i for i, f in enumerate(AmtshilfeFigure)}


def _take(frame: pl.DataFrame | None, schema: dict[str, pl.DataType]) -> pl.DataFrame:
    if frame is None:
        return pl.DataFrame(schema=schema)
    return frame.select([pl.col(k).cast(t) if k in frame.columns else pl.lit(None, t).alias(k)
                         for k, t in schema.items()])


def amtshilfe_key_figures(events: pl.DataFrame | None, collected: pl.DataFrame | None = None, *,
                          as_of: date | None = None) -> pl.DataFrame:
    """The figures of the module docstring per year (:data:`FIGURE_SCHEMA`), up to ``as_of`` (all when None),
    sorted by year, figure (the order of :class:`~claims.vocab.AmtshilfeFigure`) and reason."""
    ev = _take(events, EVENT_COLUMNS)
    pay = _take(collected, COLLECTED_COLUMNS)
    if as_of is not None:
        ev = ev.filter(pl.col("event_date") <= as_of)
        pay = pay.filter(pl.col("booking_date") <= as_of)
    c = pl.col
    delivered = ((c("message") == ErsuchenMessage.ERSUCHEN) & c("file_sha256").is_not_null()).fill_null(False)
    of_kind = {AmtshilfeFigure.ACCEPTED: ErsuchenFeedback.ACCEPTED, AmtshilfeFigure.RETURNED: ErsuchenFeedback.RETURNED,
               AmtshilfeFigure.WITHDRAWN: ErsuchenFeedback.WITHDRAWN, AmtshilfeFigure.SETTLED: ErsuchenFeedback.SETTLED,
               AmtshilfeFigure.UNCOLLECTIBLE: ErsuchenFeedback.UNCOLLECTIBLE,
               AmtshilfeFigure.FORWARDED: ErsuchenFeedback.PAYMENT_FORWARDED,
               AmtshilfeFigure.COST_INVOICED: ErsuchenFeedback.COST_INVOICE}
    figure: pl.Expr = pl.when(delivered & (c("outcome") == ErsuchenOutcome.FLAGGED)).then(
        pl.lit(str(AmtshilfeFigure.FLAGGED)))
    for fig, kind in of_kind.items():
        figure = pl.when(c("kind") == kind).then(pl.lit(str(fig))).otherwise(figure)
    tagged = ev.with_columns(c("event_date").dt.year().cast(pl.Int32).alias("year"))
    received = tagged.filter(delivered & (c("outcome") != ErsuchenOutcome.REPEATED).fill_null(True)).with_columns(
        pl.lit(str(AmtshilfeFigure.RECEIVED)).alias("figure"), pl.lit(None, pl.String).alias("reason"))
    kinds = tagged.with_columns(figure.alias("figure")).filter(c("figure").is_not_null()).with_columns(
        pl.when(c("figure") == AmtshilfeFigure.RETURNED).then(c("check")).alias("reason"))
    money = pay.select(c("booking_date").dt.year().cast(pl.Int32).alias("year"),
                       pl.lit(str(AmtshilfeFigure.COLLECTED)).alias("figure"), pl.lit(None, pl.String).alias("reason"),
                       "transaction_id", "amount_cents")
    counted = pl.concat([
        pl.concat([received, kinds], how="diagonal_relaxed").group_by("year", "figure", "reason").agg(
            pl.len().cast(pl.Int64).alias("count"), c("amount_cents").sum().cast(pl.Int64).alias("amount_cents")),
        money.group_by("year", "figure", "reason").agg(
            c("transaction_id").n_unique().cast(pl.Int64).alias("count"),
            c("amount_cents").sum().cast(pl.Int64).alias("amount_cents")),
    ], how="diagonal_relaxed")
    # every figure in every year that has any (0 where nothing happened)
    years = counted.select("year").unique()
    grid = years.join(pl.DataFrame({"figure": [str(f) for f in AmtshilfeFigure]}), how="cross")
    with_reason = counted.filter(c("reason").is_not_null()).select("year", "figure", "reason")
    grid = pl.concat([grid.join(with_reason.select("year", "figure").unique(), on=["year", "figure"], how="anti")
                      .with_columns(pl.lit(None, pl.String).alias("reason")), with_reason])
    out = grid.join(counted, on=["year", "figure", "reason"], how="left", nulls_equal=True).with_columns(
        c("count").fill_null(0),
        pl.when(c("figure").is_in([str(f) for f in COUNT_ONLY])).then(None).otherwise(c("amount_cents").fill_null(0))
        .alias("amount_cents"))
    return (out.with_columns(c("figure").replace_strict(_ORDER, return_dtype=pl.Int32).alias("_o"))
            .sort("year", "_o", "reason", nulls_last=False).drop("_o").select(list(FIGURE_SCHEMA))
            .cast(FIGURE_SCHEMA))  # type: ignore[arg-type]


__all__ = ["COLLECTED_COLUMNS", "EVENT_COLUMNS", "FIGURE_SCHEMA", "amtshilfe_key_figures"]
