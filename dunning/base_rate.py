"""The Basiszinssatz of § 247 BGB as a dated table, for default interest on private-law claims (§ 288 BGB).

The rate changes on 1 January and 1 July by the change of the ECB's main refinancing rate; the Deutsche
Bundesbank computes it and announces it in the Bundesanzeiger (§ 247 Abs. 2 BGB). Source of the values
below: Deutsche Bundesbank, "Basiszinssatz nach § 247 BGB" (bundesbank.de, statistics → interest rates),
as announced in the Bundesanzeiger; the 1 Jan 2026 value (1,27 %, unchanged since 1 Jul 2025) from the
Bundesbank's announcement of 22 Dec 2025. The table starts in 2009: a private-law claim becomes
time-barred after three years (§§ 195, 199 BGB), so older rates are not needed.

**Keep it current**: a new row every half-year. A tenant adds rows without a release in the config
(``[dunning] base_rates = [{ since = 2026-07-01, percent = 1.27 }]``, laid over this table). Beyond the
last row the last rate carries on, and :func:`stale` says from which day that is a guess.

>>> from datetime import date
>>> rate_on(date(2024, 3, 1)), rate_on(date(2016, 7, 1)), rate_on(date(2025, 12, 31))
(362, -88, 127)
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date

import polars as pl

#: (valid from, rate in basis points = hundredths of a per cent).
BASISZINSSATZ: tuple[tuple[date, int], ...] = (
    (date(2009, 1, 1), 162),
    (date(2009, 7, 1), 12),
    (date(2011, 7, 1), 37),
    (date(2012, 1, 1), 12),
    (date(2013, 1, 1), -13),
    (date(2013, 7, 1), -38),
    (date(2014, 1, 1), -63),
    (date(2014, 7, 1), -73),
    (date(2015, 1, 1), -83),
    (date(2016, 7, 1), -88),
    (date(2023, 1, 1), 162),
    (date(2023, 7, 1), 312),
    (date(2024, 1, 1), 362),
    (date(2024, 7, 1), 337),
    (date(2025, 1, 1), 227),
    (date(2025, 7, 1), 127),
    (date(2026, 1, 1), 127),
)


def table(extra: Iterable[tuple[date, int]] = ()) -> pl.DataFrame:
    """The table with ``extra`` rows laid over it (a row for the same day replaces the built-in one):
    ``since`` (Date), ``base_bp`` (Int64), sorted."""
    rows = dict(BASISZINSSATZ)
    rows.update(dict(extra))
    return pl.DataFrame({"since": list(rows), "base_bp": list(rows.values())},
                        schema={"since": pl.Date(), "base_bp": pl.Int64()}).sort("since")


def rate_on(day: date, extra: Iterable[tuple[date, int]] = ()) -> int:
    """The Basiszinssatz in basis points on ``day`` (the first row's rate before the table starts)."""
    t = table(extra)
    hit = t.filter(pl.col("since") <= day)
    return int((hit if hit.height else t.head(1))["base_bp"][-1])


def stale(extra: Iterable[tuple[date, int]] = ()) -> date:
    """The first day the table does not know: the half-year after its last row."""
    last = table(extra)["since"][-1]
    return date(last.year, 7, 1) if last.month < 7 else date(last.year + 1, 1, 1)


__all__ = ["BASISZINSSATZ", "rate_on", "stale", "table"]
