"""The dates of a SEPA collection: TARGET2 business days, the collection date of a due date, the moment
the file must be at the bank, the pre-notification deadline.

Interbank settlement of a SEPA direct debit happens on TARGET2 days only: Monday to Friday except the
ECB's closing days (1 Jan, Good Friday, Easter Monday, 1 May, 25 and 26 Dec; ``holidays``'
``financial_holidays("XECB")``). A Land's public holiday (Fronleichnam in NRW) is a TARGET2 day: the
collection may settle then. Unlike ``dunning.calendar`` (NRW holidays *and* TARGET2, for the § 108 AO
shift of a deadline) this calendar is the ECB's alone.

A claim due on a day that is no TARGET2 day is collected on the next one. The file must reach the bank
``lead_days`` TARGET2 days before the collection date (SEPA Core: D-1 since November 2016) by the bank's
cut-off; the debtor must have the pre-notification ``prenotice_days`` calendar days before it (SEPA
rulebook: 14 unless agreed otherwise — the notice that printed the due date is it).

Vectorised like ``dunning.calendar``: one small frame per run (a row per day of the years the data spans)
and a gather by day offset; no Python call per row.

>>> from datetime import date
>>> next_target_day(date(2027, 3, 26)), next_target_day(date(2027, 3, 27))   # Good Friday; Saturday: Easter Monday is closed too
(datetime.date(2027, 3, 30), datetime.date(2027, 3, 30))
>>> target_days_back(date(2026, 12, 28), 1)      # Monday after Christmas: the Thursday before
datetime.date(2026, 12, 24)
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

import holidays
import polars as pl

#: Years added after the last year of the data, so a due date on 31 Dec finds its next TARGET2 day.
_SPARE_YEARS = 1


@lru_cache(maxsize=32)
def target_closing_days(first_year: int, last_year: int) -> frozenset[date]:
    """The ECB's TARGET2 closing days on weekdays and weekends alike, both years included."""
    return frozenset(holidays.financial_holidays("XECB", years=range(first_year, last_year + 1)))


@lru_cache(maxsize=32)
def _calendar(first_year: int, last_year: int) -> pl.DataFrame:
    closed = sorted(target_closing_days(first_year, last_year + _SPARE_YEARS))
    days = pl.date_range(date(first_year, 1, 1), date(last_year + _SPARE_YEARS, 12, 31), eager=True).alias("day")
    cal = pl.DataFrame({"day": days}).with_columns(
        ((pl.col("day").dt.weekday() <= 5) & ~pl.col("day").is_in(closed)).alias("target")
    )
    return cal.with_columns(
        pl.when(pl.col("target")).then(pl.col("day")).backward_fill().alias("next_target"),
        pl.col("target").cast(pl.Int32).cum_sum().alias("target_index"),
    )


def target_calendar(first: date, last: date) -> pl.DataFrame:
    """A row per day from 1 Jan of ``first``'s year to 31 Dec a year after ``last``'s: ``day``, ``target``
    (bool), ``next_target`` (the day or the next TARGET2 day), ``target_index`` (TARGET2 days so far)."""
    return _calendar(first.year, last.year)


def is_target_day(day: date) -> bool:
    """Whether SEPA settles on ``day``."""
    cal = target_calendar(day, day)
    return bool(cal.filter(pl.col("day") == day)["target"][0])


def next_target_day(day: date) -> date:
    """``day`` itself when a TARGET2 day, else the next one."""
    cal = target_calendar(day, day)
    return cal.filter(pl.col("day") == day)["next_target"][0]


def target_days_back(day: date, n: int) -> date:
    """The TARGET2 day ``n`` TARGET2 days before ``day`` (``n`` = 0: the last TARGET2 day up to ``day``)."""
    cal = target_calendar(day - timedelta(days=30 + 2 * n), day)
    idx = cal.filter(pl.col("day") == day)["target_index"][0]
    return cal.filter(pl.col("target") & (pl.col("target_index") == idx - n))["day"][0]


def collection_date_expr(frame: pl.LazyFrame | pl.DataFrame, column: str, alias: str) -> pl.LazyFrame:
    """``frame`` with ``alias`` = the collection date of the due date in ``column`` (the next TARGET2 day,
    the day itself when it is one; null stays null). One gather from the calendar, no join."""
    lf = frame.lazy()
    span = lf.select(pl.col(column).min().alias("lo"), pl.col(column).max().alias("hi")).collect()
    lo, hi = span["lo"][0], span["hi"][0]
    if lo is None:
        return lf.with_columns(pl.col(column).alias(alias))
    cal = target_calendar(lo, hi)
    offset = (pl.col(column) - pl.lit(cal["day"][0])).dt.total_days()
    return lf.with_columns(pl.lit(cal["next_target"]).gather(offset).alias(alias))


def send_deadline(collection_date: date, lead_days: int, cutoff: time, tz: str = "Europe/Berlin") -> datetime:
    """The last moment the file for ``collection_date`` may reach the bank: ``lead_days`` TARGET2 days
    before it, at the bank's cut-off (local time of ``tz``). A collection date that is no TARGET2 day is
    refused: the file would carry a date the banks do not settle on."""
    if not is_target_day(collection_date):
        raise ValueError(f"{collection_date} is no TARGET2 business day: no collection settles on it")
    day = target_days_back(collection_date, lead_days)
    return datetime.combine(day, cutoff, tzinfo=ZoneInfo(tz))


def earliest_collection_date(now: datetime, lead_days: int, cutoff: time, tz: str = "Europe/Berlin") -> date:
    """The first collection date a file sent at ``now`` (aware) still reaches: today counts as a sending
    day when it is a TARGET2 day before the cut-off, else the next TARGET2 day; then ``lead_days`` TARGET2
    days on."""
    local = now.astimezone(ZoneInfo(tz))
    today = local.date()
    send = today if is_target_day(today) and local.time() < cutoff else next_target_day(today + timedelta(days=1))
    cal = target_calendar(send, send + timedelta(days=30 + 2 * lead_days))
    idx = cal.filter(pl.col("day") == send)["target_index"][0]
    return cal.filter(pl.col("target") & (pl.col("target_index") == idx + lead_days))["day"][0]


def prenotice_deadline(collection_date: date, prenotice_days: int) -> date:
    """The last day the debtor may have received the pre-notification of a collection on
    ``collection_date`` (calendar days, SEPA rulebook default 14)."""
    return collection_date - timedelta(days=prenotice_days)


__all__ = ["collection_date_expr", "earliest_collection_date", "is_target_day", "next_target_day", "prenotice_deadline",
           "send_deadline", "target_calendar", "target_closing_days", "target_days_back"]
