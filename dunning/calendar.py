"""Business days in NRW: the due-date shift (§ 108 Abs. 3 AO, § 193 BGB) and the bank lag.

A day is a business day unless it is a Saturday, a Sunday, a public holiday of the Land (the
``holidays`` package, subdivision ``NW`` by default) or a TARGET2 closing day (``holidays``' ECB
calendar: 1 Jan, Good Friday, Easter Monday, 1 May, 25 and 26 Dec — all NRW holidays as well, kept for
a tenant in another Land). Nothing here is a per-row Python call: :func:`calendar_frame` builds one
small frame per run (a row per day of the years the data spans, a few thousand rows), and the
vectorised helpers join it.

>>> from datetime import date
>>> next_business_day(date(2026, 5, 30)), next_business_day(date(2026, 12, 24))    # Saturday; Thursday
(datetime.date(2026, 6, 1), datetime.date(2026, 12, 24))
>>> business_days_back(date(2026, 4, 7), 2)      # Tuesday after Easter: the Wednesday before it
datetime.date(2026, 4, 1)
"""

from __future__ import annotations

from datetime import date, timedelta
from functools import lru_cache

import holidays
import polars as pl

from dunning import ENGINE

#: Days added after the last year of the data: a due date on 31 Dec still finds its next business day.
_SPARE_YEARS = 1


@lru_cache(maxsize=64)
def holiday_dates(first_year: int, last_year: int, region: str = "NW") -> frozenset[date]:
    """Public holidays of ``region`` (a German Land code) and TARGET2 closing days, both years included."""
    years = list(range(first_year, last_year + 1))
    days = set(holidays.country_holidays("DE", subdiv=region, years=years))
    days |= set(holidays.financial_holidays("XECB", years=years))
    return frozenset(days)


@lru_cache(maxsize=64)
def _calendar(first_year: int, last_year: int, region: str) -> pl.DataFrame:
    off = holiday_dates(first_year, last_year + _SPARE_YEARS, region)
    days = pl.date_range(date(first_year, 1, 1), date(last_year + _SPARE_YEARS, 12, 31), eager=True).alias("day")
    cal = pl.DataFrame({"day": days}).with_columns(
        ((pl.col("day").dt.weekday() <= 5) & ~pl.col("day").is_in(sorted(off))).alias("business")
    )
    return cal.with_columns(
        pl.when(pl.col("business")).then(pl.col("day")).backward_fill().alias("next_business"),
        pl.col("business").cast(pl.Int32).cum_sum().alias("business_index"),
    )


def calendar_frame(first: date, last: date, region: str = "NW") -> pl.DataFrame:
    """One row per day from 1 Jan of ``first``'s year to 31 Dec a year after ``last``: ``day``,
    ``business`` (bool), ``next_business`` (the day itself or the next business day) and
    ``business_index`` (business days up to and including the day: subtracting two gives a count)."""
    return _calendar(first.year, last.year, region)


def next_business_day_expr(frame: pl.LazyFrame | pl.DataFrame, column: str, alias: str, *,
                           region: str = "NW") -> pl.LazyFrame:
    """``frame`` with ``alias`` = ``column`` moved to the next business day (unchanged when it is one).

    The frame's date span is read once (min/max) and the calendar built for those years; each date is
    then looked up by its distance from the calendar's first day (a gather from a few thousand values):
    no join, so the frame's other columns are not touched (a join copied every string column)."""
    lf = frame.lazy()
    span = lf.select(pl.col(column).min().alias("lo"), pl.col(column).max().alias("hi")).collect(engine=ENGINE)
    lo, hi = span["lo"][0], span["hi"][0]
    if lo is None:
        return lf.with_columns(pl.col(column).alias(alias))
    cal = calendar_frame(lo, hi, region)
    first = cal["day"][0]
    nxt = cal["next_business"]
    offset = (pl.col(column) - pl.lit(first)).dt.total_days()
    return lf.with_columns(pl.lit(nxt).gather(offset).alias(alias))


def next_business_day(day: date, region: str = "NW") -> date:
    """``day`` itself if a business day, else the next one."""
    cal = calendar_frame(day, day, region)
    return cal.filter(pl.col("day") == day)["next_business"][0]


def business_days_back(day: date, n: int, region: str = "NW") -> date:
    """The business day ``n`` business days before ``day`` (``n`` = 0: the last business day up to ``day``)."""
    cal = calendar_frame(day - timedelta(days=30 + 2 * n), day, region)
    idx = cal.filter(pl.col("day") == day)["business_index"][0]
    hit = cal.filter(pl.col("business") & (pl.col("business_index") == idx - n))
    return hit["day"][0]


def business_days_between(first: date, last: date, region: str = "NW") -> list[date]:
    """The business days from ``first`` to ``last``, both included."""
    if last < first:
        return []
    cal = calendar_frame(first, last, region)
    return cal.filter(pl.col("business") & pl.col("day").is_between(first, last))["day"].to_list()


__all__ = ["business_days_back", "business_days_between", "calendar_frame", "holiday_dates", "next_business_day",
           "next_business_day_expr"]
