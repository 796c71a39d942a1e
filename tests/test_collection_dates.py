"""TARGET2 days, the collection date of a due date, the send deadline, the pre-notification deadline."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

import polars as pl
import pytest

from collection.dates import (
    collection_date_expr,
    earliest_collection_date,
    is_target_day,
    next_target_day,
    prenotice_deadline,
    send_deadline,
    target_days_back,
)

BERLIN = ZoneInfo("Europe/Berlin")


@pytest.mark.parametrize(("day", "target"), [
    (date(2027, 1, 1), False),     # New Year
    (date(2027, 3, 26), False),    # Good Friday
    (date(2027, 3, 29), False),    # Easter Monday
    (date(2027, 5, 1), False),     # Labour Day (a Saturday anyway)
    (date(2026, 12, 25), False), (date(2026, 12, 26), False),
    (date(2026, 12, 24), True),    # Christmas Eve: TARGET2 is open
    (date(2027, 5, 27), True),     # Fronleichnam, an NRW holiday: TARGET2 settles
    (date(2026, 10, 3), False),    # Tag der Deutschen Einheit is a Saturday in 2026 …
    (date(2027, 10, 4), True),     # … and a Land holiday is no TARGET2 closing day
    (date(2027, 2, 13), False),    # Saturday
])
def test_target_days(day: date, target: bool) -> None:
    assert is_target_day(day) is target


def test_a_due_date_on_a_closed_day_is_collected_on_the_next_target_day() -> None:
    due = pl.DataFrame({"due": [date(2027, 3, 26), date(2027, 2, 15), date(2027, 2, 13), None, date(2027, 12, 31)]})
    got = collection_date_expr(due, "due", "on").collect()["on"].to_list()
    assert got == [date(2027, 3, 30), date(2027, 2, 15), date(2027, 2, 15), None, date(2027, 12, 31)]
    assert next_target_day(date(2027, 12, 25)) == date(2027, 12, 27)
    assert next_target_day(date(2026, 12, 31)) == date(2026, 12, 31)


def test_the_file_must_be_at_the_bank_lead_days_before_by_the_cutoff() -> None:
    # collection on Tuesday after Easter 2027: D-1 is Thursday before Good Friday
    assert send_deadline(date(2027, 3, 30), 1, time(12, 0)) == datetime(2027, 3, 25, 12, 0, tzinfo=BERLIN)
    assert send_deadline(date(2027, 3, 30), 2, time(15, 30)) == datetime(2027, 3, 24, 15, 30, tzinfo=BERLIN)
    assert target_days_back(date(2026, 12, 28), 1) == date(2026, 12, 24)
    with pytest.raises(ValueError, match="no TARGET2 business day"):
        send_deadline(date(2027, 3, 26), 1, time(12, 0))


def test_the_earliest_collection_date_from_now() -> None:
    # Wednesday 10:00 Berlin (UTC+1), before the cut-off: sent today, collected Thursday
    assert earliest_collection_date(datetime(2027, 3, 24, 9, 0, tzinfo=UTC), 1, time(12, 0)) == date(2027, 3, 25)
    # Thursday before Easter, 13:00 Berlin (CET, UTC+1): after the cut-off; Good Friday and Easter Monday
    # are closed, so the file goes on Tuesday and the collection is Wednesday
    assert earliest_collection_date(datetime(2027, 3, 25, 12, 0, tzinfo=UTC), 1, time(12, 0)) == date(2027, 3, 31)
    assert earliest_collection_date(datetime(2027, 3, 25, 10, 59, tzinfo=UTC), 1, time(12, 0)) == date(2027, 3, 30)
    # Saturday: sent Monday, collected Tuesday
    assert earliest_collection_date(datetime(2027, 2, 13, 8, 0, tzinfo=UTC), 1, time(12, 0)) == date(2027, 2, 16)


def test_the_prenotification_deadline_counts_calendar_days() -> None:
    assert prenotice_deadline(date(2027, 2, 15), 14) == date(2027, 2, 1)
    assert prenotice_deadline(date(2027, 3, 1), 2) == date(2027, 2, 27)
