"""The dunning run's selection (issue 15 §1): every skip reason, the level sequence, blocks, held debtors,
the amounts on the selected claims, the day-close precondition, and the properties over repeated runs."""

from __future__ import annotations

import doctest
import importlib
from datetime import date, timedelta
from pathlib import Path

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from claims.config import DunningSection, load_tenant_config
from claims.vocab import BlockReason, DunningLevel, FeeRule, SkipReason, SurchargeRule
from dunning.select import (
    SELECTED_COLUMNS,
    SKIPPED_COLUMNS,
    Selection,
    missing_booking_days,
    required_booking_day,
    select,
)

D = date
RUN = D(2026, 12, 8)                      # a Tuesday
OLD = D(2026, 11, 16)                     # a Monday: overdue, Schonfrist over on the run day


def claims(rows: list[dict[str, object]]) -> pl.DataFrame:
    base = {"debtor_id": None, "claim_type": "GRUNDSTEUER", "amount_cents": 12000, "due_date": OLD, "law": None,
            "notice_date": None, "dunning_block_until": None, "block_reason": None, "debtor_iban": None,
            "kassenzeichen": None}
    full = [{**base, "debtor_id": f"D-{r['receivable_id']}", **r} for r in rows]
    return pl.DataFrame(full, schema={"receivable_id": pl.String, "debtor_id": pl.String, "claim_type": pl.String,
                                      "amount_cents": pl.Int64, "due_date": pl.Date, "law": pl.String,
                                      "notice_date": pl.Date, "dunning_block_until": pl.Date,
                                      "block_reason": pl.String, "debtor_iban": pl.String,
                                      "kassenzeichen": pl.String})


def outcome(sel: Selection) -> dict[str, str]:
    """receivable_id -> level (selected) or reason (skipped)."""
    out = dict(zip(sel.selected["receivable_id"], sel.selected["level"], strict=True))
    out.update(zip(sel.skipped["receivable_id"], sel.skipped["reason"], strict=True))
    return out


def test_each_reason_literally() -> None:
    df = claims([
        {"receivable_id": "due"},
        {"receivable_id": "blocked", "dunning_block_until": D(2027, 1, 31), "block_reason": "STUNDUNG"},
        {"receivable_id": "block_over", "dunning_block_until": D(2026, 12, 7), "block_reason": "STUNDUNG"},
        {"receivable_id": "ancillary", "claim_type": "MAHNGEBUEHR", "amount_cents": 600},
        {"receivable_id": "small", "amount_cents": 999},
        {"receivable_id": "at_threshold", "amount_cents": 1000},
        {"receivable_id": "not_due", "due_date": RUN},
        {"receivable_id": "schonfrist", "due_date": D(2026, 12, 1)},              # + 7 = 8 Dec: not passed
        {"receivable_id": "schonfrist_over", "due_date": D(2026, 11, 30)},
        {"receivable_id": "bekanntgabe", "notice_date": D(2026, 12, 2)},           # later than the due date
        {"receivable_id": "shifted", "due_date": D(2026, 11, 28)},                # Sat -> Mon 30 Nov: + 7 = 7 Dec
    ])
    got = outcome(select(df, RUN))
    assert got == {"due": "mahnung", "blocked": "blocked", "block_over": "mahnung", "ancillary": "ancillary",
                   "small": "below_threshold", "at_threshold": "mahnung", "not_due": "not_due",
                   "schonfrist": "schonfrist", "schonfrist_over": "mahnung", "bekanntgabe": "schonfrist",
                   "shifted": "mahnung"}


def test_output_frames_have_their_columns_and_every_reason_is_a_member() -> None:
    sel = select(claims([{"receivable_id": "a"}, {"receivable_id": "b", "amount_cents": 5}]), RUN)
    assert tuple(sel.selected.columns) == SELECTED_COLUMNS and tuple(sel.skipped.columns) == SKIPPED_COLUMNS
    assert set(sel.skipped["reason"]) <= set(SkipReason)
    row = sel.selected.row(0, named=True)
    assert (row["open_cents"], row["mahngebuehr_cents"], row["mahngebuehr_rule"], row["surcharge_rule"]) == \
        (12000, 670, FeeRule.VO_VWVG_9, SurchargeRule.AO_240)
    # 16 Nov -> 8 Dec: month 1 started (more than 3 days late), 1 % of 100 €
    assert (row["surcharge_months"], row["saeumniszuschlag_cents"], row["interest_cents"]) == (1, 100, 0)


def test_block_reasons_from_the_export() -> None:
    df = claims([
        {"receivable_id": "no_end", "block_reason": " insolvenz "},
        {"receivable_id": "no_reason", "dunning_block_until": D(2027, 3, 1)},
        {"receivable_id": "ends_today", "dunning_block_until": RUN, "block_reason": "ADV"},
        {"receivable_id": "unknown_reason", "block_reason": "KLAGE"},
    ])
    sk = select(df, RUN).skipped
    assert dict(zip(sk["receivable_id"], sk["block_reason"], strict=True)) == {
        "no_end": BlockReason.INSOLVENZ, "no_reason": BlockReason.MAHNSPERRE, "ends_today": BlockReason.ADV,
        "unknown_reason": "KLAGE"}
    assert set(sk["reason"]) == {SkipReason.BLOCKED}


def test_blocks_set_elsewhere_by_claim_or_by_debtor() -> None:
    df = claims([{"receivable_id": "a", "debtor_id": "D1"}, {"receivable_id": "b", "debtor_id": "D1"},
                 {"receivable_id": "c", "debtor_id": "D2"}, {"receivable_id": "d", "debtor_id": "D3"},
                 {"receivable_id": "e", "debtor_id": "D4"}])
    blocks = pl.DataFrame({
        "receivable_id": [None, "c", None, None], "debtor_id": ["D1", None, "D3", "D4"],
        "block_reason": ["VERSTORBEN", "RATENZAHLUNG", "ADRESSE_UNBEKANNT", "NIEDERSCHLAGUNG"],
        "block_from": [None, None, D(2026, 12, 9), None], "block_until": [None, D(2027, 6, 30), None, D(2026, 12, 1)],
    })
    sel = select(df, RUN, blocks=blocks)
    assert outcome(sel) == {"a": "blocked", "b": "blocked", "c": "blocked", "d": "mahnung", "e": "mahnung"}
    assert sel.skipped.filter(pl.col("receivable_id") == "c")["block_reason"][0] == BlockReason.RATENZAHLUNG


def test_a_pending_payment_holds_the_whole_debtor_back() -> None:
    df = claims([
        {"receivable_id": "a1", "debtor_id": "A", "debtor_iban": "DE02 1203 0000 0000 2020 51; de12500105170648489890"},
        {"receivable_id": "a2", "debtor_id": "A"},
        {"receivable_id": "b1", "debtor_id": "B"}, {"receivable_id": "b2", "debtor_id": "B"},
        {"receivable_id": "c1", "debtor_id": "C", "debtor_iban": "DE89370400440532013000"},
    ])
    pending = pl.DataFrame({"transaction_id": ["t1", "t2"], "counterparty_iban": ["DE12500105170648489890", None],
                            "receivable_id": [None, "b2"]})
    got = outcome(select(df, RUN, pending=pending))
    assert got == {"a1": "pending_payment", "a2": "pending_payment", "b1": "pending_payment",
                   "b2": "pending_payment", "c1": "mahnung"}


def test_level_sequence_interval_and_last_level() -> None:
    df = claims([{"receivable_id": r} for r in ("new", "m_recent", "m_old", "va_old", "ze_only")])
    notices = pl.DataFrame({
        "receivable_id": ["m_recent", "m_old", "va_old", "va_old", "ze_only"],
        "level": ["mahnung", "mahnung", "mahnung", "vollstreckungsankuendigung", "zahlungserinnerung"],
        "notice_date": [D(2026, 12, 1), D(2026, 11, 24), D(2026, 10, 1), D(2026, 10, 20), D(2026, 12, 7)],
        "mahngebuehr_cents": [670, 670, 670, 0, 0],
    })
    sel = select(df, RUN, notices=notices)
    assert outcome(sel) == {"new": "mahnung", "m_recent": "interval", "m_old": "vollstreckungsankuendigung",
                            "va_old": "last_level", "ze_only": "mahnung"}
    fees = dict(zip(sel.selected["receivable_id"], sel.selected["mahngebuehr_cents"], strict=True))
    assert fees == {"new": 670, "m_old": 0, "ze_only": 670}
    only_mahnung = select(df, RUN, DunningSection(levels=("mahnung",)), notices=notices)
    assert outcome(only_mahnung)["m_old"] == "last_level"


def test_a_block_after_the_last_mahnung_renews_it() -> None:
    """Rule 13: a Stundung that held after the last Mahnung and has ended takes away that Mahnung's deadline:
    the claim gets the last level again instead of ``last_level`` (else it could never be handed over)."""
    df = claims([{"receivable_id": r} for r in ("stundung_after", "stundung_before", "still_blocked", "own_after",
                                                 "debtor_after")])
    df = df.with_columns(pl.when(pl.col("receivable_id") == "own_after").then(D(2026, 11, 20))
                         .otherwise(pl.col("dunning_block_until")).alias("dunning_block_until"))
    notices = pl.DataFrame({
        "receivable_id": ["stundung_after", "stundung_before", "still_blocked", "own_after", "debtor_after"],
        "level": ["vollstreckungsankuendigung"] * 5, "notice_date": [D(2026, 10, 1)] * 5,
        "mahngebuehr_cents": [0] * 5})
    blocks = pl.DataFrame({
        "receivable_id": ["stundung_after", "stundung_before", "still_blocked", None],
        "debtor_id": [None, None, None, "D-debtor_after"],
        "block_reason": ["STUNDUNG", "STUNDUNG", "ADV", "STUNDUNG"],
        "block_from": [D(2026, 10, 5), D(2026, 8, 1), D(2026, 10, 5), D(2026, 10, 5)],
        "block_until": [D(2026, 11, 30), D(2026, 9, 30), D(2027, 1, 31), D(2026, 11, 30)]})
    got = outcome(select(df, RUN, notices=notices, blocks=blocks))
    assert got == {"stundung_after": "vollstreckungsankuendigung", "stundung_before": "last_level",
                   "still_blocked": "blocked", "own_after": "vollstreckungsankuendigung",
                   "debtor_after": "vollstreckungsankuendigung"}
    # a block ending on the run day still holds then: blocked, not renewed yet
    on_day = blocks.with_columns(pl.lit(RUN).alias("block_until"))
    assert outcome(select(df, RUN, notices=notices, blocks=on_day))["stundung_after"] == "blocked"


def test_a_claim_in_an_open_enforcement_case_gets_no_mahnung() -> None:
    """The enforcement office has it: checked before everything else, even a block."""
    df = claims([{"receivable_id": "handed"}, {"receivable_id": "handed_blocked", "block_reason": "STUNDUNG"},
                 {"receivable_id": "free"}])
    enforced = pl.DataFrame({"receivable_id": ["handed", "handed_blocked", "not_ours"]})
    assert outcome(select(df, RUN, enforced=enforced)) == {"handed": "in_enforcement",
                                                           "handed_blocked": "in_enforcement", "free": "mahnung"}
    assert outcome(select(df, RUN))["handed"] == "mahnung"


def test_zahlungserinnerung_before_the_due_date() -> None:
    s = DunningSection(levels=("zahlungserinnerung", "mahnung"), reminder_days_before_due=7)
    df = claims([
        {"receivable_id": "in_window", "due_date": D(2026, 12, 12)},     # Sat -> Mon 14 Dec; 7 days before: 7 Dec
        {"receivable_id": "too_early", "due_date": D(2026, 12, 16)},
        {"receivable_id": "reminded", "due_date": D(2026, 12, 10)},
        {"receivable_id": "overdue", "due_date": OLD},
    ])
    notices = pl.DataFrame({"receivable_id": ["reminded"], "level": ["zahlungserinnerung"],
                            "notice_date": [D(2026, 12, 1)], "mahngebuehr_cents": [0]})
    sel = select(df, RUN, s, notices=notices)
    assert outcome(sel) == {"in_window": "zahlungserinnerung", "too_early": "not_due", "reminded": "not_due",
                            "overdue": "mahnung"}
    ze = sel.selected.filter(pl.col("level") == DunningLevel.ZAHLUNGSERINNERUNG).row(0, named=True)
    assert (ze["mahngebuehr_cents"], ze["mahngebuehr_rule"], ze["saeumniszuschlag_cents"]) == (0, FeeRule.NO_FEE_LEVEL, 0)
    assert outcome(select(df, RUN))["in_window"] == "not_due"          # default: no Zahlungserinnerung


def test_public_reminder_types_and_ancillary_claims_on_request() -> None:
    df = claims([{"receivable_id": "g", "claim_type": "GRUNDSTEUER"}, {"receivable_id": "h", "claim_type": "HUNDESTEUER"},
                 {"receivable_id": "k", "claim_type": "KOSTEN", "amount_cents": 2500}])
    s = DunningSection(public_reminder_types=("grundsteuer",), dun_ancillary=True)
    sel = select(df, RUN, s)
    assert outcome(sel) == {"g": "public_reminder", "h": "mahnung", "k": "mahnung"}
    k = sel.selected.filter(pl.col("receivable_id") == "k").row(0, named=True)
    assert (k["mahngebuehr_cents"], k["mahngebuehr_rule"], k["saeumniszuschlag_cents"]) == (0, FeeRule.ANCILLARY, 0)


def test_private_law_claim_gets_interest_and_an_uncapped_fee() -> None:
    df = claims([{"receivable_id": "p", "claim_type": "MIETE", "law": "private", "amount_cents": 1000000,
                  "due_date": D(2026, 9, 30)}])
    row = select(df, RUN).selected.row(0, named=True)
    assert row["surcharge_rule"] == SurchargeRule.BGB_288 and row["saeumniszuschlag_cents"] == 0
    assert row["interest_cents"] == round(1000000 * 627 * 69 / 3650000)     # 1 Oct – 8 Dec: 69 days at 6,27 %
    assert (row["mahngebuehr_cents"], row["mahngebuehr_rule"]) == (10550, FeeRule.VO_VWVG_9)


def test_a_tenant_config_without_a_dunning_table_works(tmp_path: Path) -> None:
    p = tmp_path / "kasse.toml"
    p.write_text('[tenant]\nid = "stadt"\n[reference]\ndigits = 10\n[[accounts]]\niban = "DE02120300000000202051"\n',
                 encoding="utf-8")
    cfg = load_tenant_config(p)
    assert cfg.dunning == DunningSection()
    assert outcome(select(claims([{"receivable_id": "a"}]), RUN, cfg.dunning)) == {"a": "mahnung"}
    p.write_text('[dunning]\nthreshold = "200,00"\nlevels = ["zahlungserinnerung", "mahnung"]\n'
                 'base_rates = [{ since = 2026-07-01, percent = 1.5 }]\n', encoding="utf-8")
    cfg = load_tenant_config(p)
    assert cfg.dunning.threshold == 20000 and cfg.dunning.base_rates[0].since == D(2026, 7, 1)
    assert outcome(select(claims([{"receivable_id": "a"}]), RUN, cfg.dunning)) == {"a": "below_threshold"}


@pytest.mark.parametrize(("closed", "since", "missing"), [
    ([D(2026, 3, 30), D(2026, 3, 31), D(2026, 4, 1)], None, []),
    ([D(2026, 3, 30), D(2026, 4, 1)], None, [D(2026, 3, 31)]),
    ([D(2026, 3, 30)], None, [D(2026, 3, 31), D(2026, 4, 1)]),
    ([D(2026, 4, 1)], D(2026, 3, 27), [D(2026, 3, 27), D(2026, 3, 30), D(2026, 3, 31)]),    # 28/29 Mar: weekend
    ([], None, [D(2026, 4, 1)]),
])
def test_missing_booking_days(closed: list[date], since: date | None, missing: list[date]) -> None:
    # a run on Tuesday 7 Apr 2026 (after Good Friday and Easter Monday), bank lag 2 business days: 1 Apr
    assert required_booking_day(D(2026, 4, 7), 2) == D(2026, 4, 1)
    assert missing_booking_days(closed, D(2026, 4, 7), 2, since=since) == missing


def test_bank_lag_counts_business_days() -> None:
    assert required_booking_day(D(2026, 12, 8), 2) == D(2026, 12, 4)       # Tue -> Fri (weekend skipped)
    assert required_booking_day(D(2026, 12, 29), 2) == D(2026, 12, 24)     # 25/26 Dec and the weekend
    assert required_booking_day(D(2026, 12, 8), 0) == D(2026, 12, 8)


@pytest.mark.parametrize("module", ["dunning.calendar", "dunning.fees", "dunning.base_rate"])
def test_docstring_examples_hold(module: str) -> None:
    result = doctest.testmod(importlib.import_module(module))
    assert result.failed == 0 and result.attempted > 0


# --- properties ---------------------------------------------------------------------------------------

claim_rows = st.lists(st.fixed_dictionaries({
    "debtor": st.integers(0, 5), "amount_cents": st.integers(0, 10**7),
    "due_offset": st.integers(-200, 30), "claim_type": st.sampled_from(["GRUNDSTEUER", "BUSSGELD", "ABFALL",
                                                                          "VERWALTUNGSGEBUEHR", "ZINSEN"]),
    "block_days": st.one_of(st.none(), st.integers(-30, 200)),
    "block_reason": st.sampled_from([None, "STUNDUNG", "INSOLVENZ"]),
}), min_size=1, max_size=25)


def _frame(rows: list[dict[str, object]], start: date) -> pl.DataFrame:
    return claims([{"receivable_id": f"R{i}", "debtor_id": f"D{r['debtor']}", "amount_cents": r["amount_cents"],
                    "due_date": start + timedelta(days=r["due_offset"]), "claim_type": r["claim_type"],
                    "dunning_block_until": None if r["block_days"] is None else start + timedelta(days=r["block_days"]),
                    "block_reason": r["block_reason"]} for i, r in enumerate(rows)])


@settings(max_examples=40, deadline=None)
@given(claim_rows, st.lists(st.integers(0, 6), max_size=3))
def test_a_blocked_claim_is_never_selected(rows: list[dict[str, object]], debtor_blocks: list[int]) -> None:
    df = _frame(rows, RUN)
    blocks = pl.DataFrame({"debtor_id": [f"D{d}" for d in debtor_blocks], "block_reason": ["INSOLVENZ"] * len(debtor_blocks)},
                          schema={"debtor_id": pl.String, "block_reason": pl.String})
    sel = select(df, RUN, blocks=blocks)
    in_force = df.filter((pl.col("block_reason").is_not_null() | pl.col("dunning_block_until").is_not_null())
                         & (pl.col("dunning_block_until").is_null() | (pl.col("dunning_block_until") >= RUN))
                         | pl.col("debtor_id").is_in(blocks["debtor_id"].to_list()))
    assert not set(sel.selected["receivable_id"]) & set(in_force["receivable_id"])
    assert set(in_force["receivable_id"]) <= set(sel.skipped.filter(pl.col("reason") == "blocked")["receivable_id"])
    assert sel.selected.height + sel.skipped.height == df.height           # every claim is accounted for


@settings(max_examples=15, deadline=None)
@given(claim_rows, st.sampled_from([7, 14, 30]))
def test_the_fee_is_charged_once_per_claim_over_repeated_runs(rows: list[dict[str, object]], interval: int) -> None:
    s = DunningSection(levels=("zahlungserinnerung", "mahnung", "vollstreckungsankuendigung"), interval_days=interval)
    start = D(2026, 1, 6)
    df = _frame(rows, start)
    notices = pl.DataFrame(schema={"receivable_id": pl.String, "level": pl.String, "notice_date": pl.Date,
                                   "mahngebuehr_cents": pl.Int64})
    for week in range(0, 26):
        day = start + timedelta(weeks=week)
        sel = select(df, day, s, notices=notices)
        if sel.selected.height:
            assert (sel.selected.filter(pl.col("mahngebuehr_cents") > 0)["level"] == DunningLevel.MAHNUNG).all()
            notices = pl.concat([notices, sel.selected.select(
                "receivable_id", "level", pl.lit(day).alias("notice_date"), "mahngebuehr_cents")])
    charged = notices.filter(pl.col("mahngebuehr_cents") > 0)
    assert charged["receivable_id"].is_unique().all()
    per_claim = notices.group_by("receivable_id", "level").len()
    assert (per_claim["len"] == 1).all()                                   # no level twice for one claim


def test_a_claim_without_a_due_date_is_never_dunned() -> None:
    df = claims([{"receivable_id": "x", "due_date": None}]).with_columns(pl.col("due_date").cast(pl.Date))
    for s in (DunningSection(), DunningSection(levels=("zahlungserinnerung", "mahnung"))):
        assert outcome(select(df, RUN, s)) == {"x": "not_due"}
