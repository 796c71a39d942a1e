"""Zahlungsverjährung per claim (enforcement/limitation.py, DOMAIN.md §1.10): literal tables — year ends, leap
years, several interruptions, void ones, private law — and the warning list."""

from __future__ import annotations

from datetime import date
from typing import Any

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from claims.config import EnforcementSection
from claims.vocab import LimitationState
from enforcement.limitation import LIMITATION_COLUMNS, interruptions_from, limitation, warning_list

RUN, WARN, OUT = LimitationState.RUNNING, LimitationState.WARNING, LimitationState.EXPIRED


def one(due: date, as_of: date, events: list[tuple[str, date, date | None]] = (), law: str | None = None,
        **cfg: Any) -> dict[str, Any]:
    claims = pl.DataFrame({"receivable_id": ["X"], "due_date": [due], "law": [law]},
                          schema_overrides={"law": pl.String})
    ev = pl.DataFrame([{"receivable_id": "X", "kind": k, "event_date": d, "until": u} for k, d, u in events],
                      schema={"receivable_id": pl.String, "kind": pl.String, "event_date": pl.Date, "until": pl.Date})
    got = limitation(claims, as_of, EnforcementSection(**cfg), ev)
    assert got.columns == list(LIMITATION_COLUMNS)
    return got.row(0, named=True)


NO_EVENTS = [
    # due, as_of, expires_on, days_left, state
    ("mid-year", date(2020, 5, 15), date(2025, 1, 1), date(2025, 12, 31), 364, RUN),
    ("due on 31 Dec: the same year", date(2020, 12, 31), date(2025, 1, 1), date(2025, 12, 31), 364, RUN),
    ("due on 1 Jan: a year more", date(2021, 1, 1), date(2025, 1, 1), date(2026, 12, 31), 729, RUN),
    ("due on Saturday 31 Dec 2022: not moved to Monday (the earlier end)", date(2022, 12, 31), date(2027, 12, 31),
     date(2027, 12, 31), 0, WARN),
    ("due on 29 Feb of a leap year", date(2024, 2, 29), date(2029, 1, 1), date(2029, 12, 31), 364, RUN),
    ("180 days left: warning", date(2020, 5, 5), date(2025, 7, 4), date(2025, 12, 31), 180, WARN),
    ("181 days left: running", date(2020, 5, 5), date(2025, 7, 3), date(2025, 12, 31), 181, RUN),
    ("the last day: 0 left, still a warning", date(2020, 5, 5), date(2025, 12, 31), date(2025, 12, 31), 0, WARN),
    ("the day after: expired", date(2020, 5, 5), date(2026, 1, 1), date(2025, 12, 31), -1, OUT),
]


@pytest.mark.parametrize(("what", "due", "as_of", "expires", "left", "state"), NO_EVENTS, ids=[r[0] for r in NO_EVENTS])
def test_without_interruption(what: str, due: date, as_of: date, expires: date, left: int, state: str) -> None:
    r = one(due, as_of)
    assert (r["period_start"], r["expires_on"], r["days_left"], r["state"]) == (date(due.year + 1, 1, 1), expires,
                                                                                 left, state)


def test_the_warning_window_across_a_leap_year() -> None:
    # 320 warning days before 31 Dec: in leap 2028 from 15 Feb (day 46 of 366), in 2027 from 14 Feb (day 45 of 365)
    assert one(date(2023, 6, 1), date(2028, 2, 15), limitation_warning_days=320)["state"] == WARN
    assert one(date(2023, 6, 1), date(2028, 2, 14), limitation_warning_days=320)["state"] == RUN
    assert one(date(2022, 6, 1), date(2027, 2, 14), limitation_warning_days=320)["state"] == WARN
    assert one(date(2022, 6, 1), date(2027, 2, 13), limitation_warning_days=320)["state"] == RUN


INTERRUPTED = [
    ("a Mahnung in the year of the due date changes nothing", date(2020, 3, 10),
     [("mahnung", date(2020, 4, 2), None)], date(2025, 12, 31), 1),
    ("a Mahnung in the next year restarts from that year's end", date(2020, 11, 10),
     [("mahnung", date(2021, 1, 5), None)], date(2026, 12, 31), 1),
    ("Mahnung, Stundung, enforcement: the last that counts decides", date(2018, 5, 1),
     [("mahnung", date(2019, 6, 1), None), ("stundung", date(2022, 3, 1), date(2023, 6, 30)),
      ("enforcement", date(2024, 9, 9), None)], date(2029, 12, 31), 3),
    ("a Stundung restarts from the end of the year it ended", date(2018, 5, 1),
     [("stundung", date(2022, 3, 1), date(2024, 2, 29))], date(2029, 12, 31), 1),
    ("an AdV without end still in force lasts to the day", date(2019, 5, 1),
     [("adv", date(2023, 3, 1), None)], date(2030, 12, 31), 1),
    ("an interruption on the last day still counts", date(2015, 7, 1),
     [("enforcement", date(2020, 12, 31), None)], date(2025, 12, 31), 1),
    ("an interruption after the end is void, and so is every later one", date(2015, 7, 1),
     [("mahnung", date(2021, 1, 4), None), ("enforcement", date(2022, 5, 5), None)], date(2020, 12, 31), 0),
    ("a chain: each one within the period before it", date(2010, 1, 15),
     [("mahnung", date(2014, 2, 1), None), ("enforcement", date(2019, 8, 1), None),
      ("mahnung", date(2024, 11, 30), None)], date(2029, 12, 31), 3),
    ("a chain broken in the middle", date(2010, 1, 15),
     [("mahnung", date(2014, 2, 1), None), ("enforcement", date(2020, 1, 2), None),
      ("mahnung", date(2021, 11, 30), None)], date(2019, 12, 31), 1),
    ("an event after the day is not counted yet", date(2020, 5, 1),
     [("mahnung", date(2026, 3, 1), None)], date(2025, 12, 31), 0),
]


@pytest.mark.parametrize(("what", "due", "events", "expires", "counted"), INTERRUPTED, ids=[r[0] for r in INTERRUPTED])
def test_interruptions(what: str, due: date, events: list[tuple[str, date, date | None]], expires: date,
                       counted: int) -> None:
    r = one(due, date(2025, 6, 30), events)
    assert (r["expires_on"], r["n_interruptions"]) == (expires, counted)
    assert r["n_void"] == sum(1 for _, d, _ in events if d <= date(2025, 6, 30)) - counted


def test_the_last_counting_interruption_is_named() -> None:
    r = one(date(2018, 5, 1), date(2025, 6, 30), [("mahnung", date(2019, 6, 1), None),
                                                  ("enforcement", date(2024, 9, 9), None)])
    assert (r["last_interruption"], r["last_interruption_kind"]) == (date(2024, 9, 9), "enforcement")


def test_private_law_three_years_and_no_interruption() -> None:
    r = one(date(2020, 6, 1), date(2023, 12, 31), [("mahnung", date(2022, 1, 1), None)], law="private")
    assert (r["limitation_years"], r["expires_on"], r["n_interruptions"], r["state"]) == (3, date(2023, 12, 31), 0, WARN)
    assert one(date(2020, 6, 1), date(2024, 1, 1), law="private")["state"] == OUT


def test_the_configured_years() -> None:
    assert one(date(2020, 6, 1), date(2024, 1, 1), limitation_years=4)["expires_on"] == date(2024, 12, 31)


def test_interruptions_from_the_ledger_and_the_warning_list() -> None:
    claims = pl.DataFrame({"receivable_id": ["A", "B", "C"], "debtor_id": ["D1", "D2", "D2"],
                           "due_date": [date(2020, 3, 1), date(2020, 3, 1), date(2020, 9, 1)]})
    mahnungen = pl.DataFrame([
        {"receivable_id": "A", "notice_id": "M1", "level": "mahnung", "notice_date": date(2021, 2, 2),
         "deadline": date(2021, 2, 16)},
        {"receivable_id": "B", "notice_id": "M2", "level": "zahlungserinnerung", "notice_date": date(2021, 2, 2),
         "deadline": date(2021, 2, 16)}])
    blocks = pl.DataFrame([{"debtor_id": "D2", "block_reason": "stundung", "block_from": date(2020, 10, 1),
                            "block_until": date(2021, 3, 31)},
                           {"debtor_id": "D2", "block_reason": "MAHNSPERRE", "block_from": date(2022, 1, 1)}])
    ev = interruptions_from(mahnungen, blocks, claims)
    assert sorted(ev.select("receivable_id", "kind").rows()) == [("A", "mahnung"), ("B", "stundung"), ("C", "stundung")]
    got = limitation(claims, date(2026, 7, 10), None, ev)
    assert got["expires_on"].to_list() == [date(2026, 12, 31)] * 3
    assert warning_list(got)["receivable_id"].to_list() == ["A", "B", "C"]
    assert warning_list(limitation(claims, date(2026, 7, 3), None, ev)).height == 0


def _oracle(due: date, events: list[tuple[str, date, date | None]], as_of: date, years: int) -> tuple[date, int]:
    """The rule read aloud, one event at a time (the test's own loop, not the module's)."""
    end = due.year + years
    counted = 0
    for kind, day, until in sorted(events, key=lambda e: (e[1], e[2] or e[1])):
        if day > as_of:
            continue
        if day.year > end:          # after the end: extinguished, nothing revives it
            break
        ended = min(until, as_of) if until else (as_of if kind in ("stundung", "adv") else day)
        end = max(end, ended.year + years)
        counted += 1
    return date(end, 12, 31), counted


_days = st.dates(date(2010, 1, 1), date(2030, 12, 31))
_event = st.tuples(st.sampled_from(["mahnung", "stundung", "adv", "enforcement"]), _days,
                   st.one_of(st.none(), _days))


@settings(max_examples=150, deadline=None)
@given(st.lists(st.tuples(_days, st.lists(_event, max_size=6)), min_size=1, max_size=8), _days)
def test_the_vectorised_chain_equals_the_rule_read_aloud(rows: list[tuple[date, list[Any]]], as_of: date) -> None:
    claims, events = [], []
    for i, (due, evs) in enumerate(rows):
        claims.append({"receivable_id": f"R{i}", "due_date": due})
        for kind, day, until in evs:
            until = until if until is None or until >= day else day     # a measure ends on or after its start
            if kind in ("mahnung", "enforcement"):
                until = None
            events.append({"receivable_id": f"R{i}", "kind": kind, "event_date": day, "until": until})
    ev = pl.DataFrame(events, schema={"receivable_id": pl.String, "kind": pl.String, "event_date": pl.Date,
                                      "until": pl.Date})
    got = limitation(pl.DataFrame(claims), as_of, None, ev)
    for i, (due, _) in enumerate(rows):
        mine = [(e["kind"], e["event_date"], e["until"]) for e in events if e["receivable_id"] == f"R{i}"]
        row = got.row(i, named=True)
        assert (row["expires_on"], row["n_interruptions"]) == _oracle(due, mine, as_of, 5)
