"""Which claims go to the enforcement office (enforcement/select.py, docs/ENFORCEMENT.md "Selection").

A literal table: one row per skip reason (and the selected cases) with the smallest input that gives it,
then the buffers day by day, the Nebenforderungen, and a property: every claim lands in exactly one of
selected / skipped, with exactly one reason.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from claims.config import DunningSection, EnforcementSection
from claims.vocab import HandoffSkip, MahnungWaiver
from enforcement.select import SELECTED_COLUMNS, SKIPPED_COLUMNS, add_business_days, select

#: Tuesday 24 Mar 2026: the Mahnung; deadline Tuesday 7 Apr (Good Friday and Easter Monday in between).
MAHNUNG_DAY, DEADLINE = date(2026, 3, 24), date(2026, 4, 7)
#: deadline + 3 days = Fri 10 Apr; + 2 business days = Tue 14 Apr; the hand-off from Wed 15 Apr.
FIRST_DAY = date(2026, 4, 15)
IDENT = {"debtor_name": "Anna Muster", "debtor_street": "Markt 1", "debtor_postcode": "33602",
         "debtor_city": "Bielefeld"}


def claim(rid: str = "X", debtor: str = "D1", amount: int = 12_000, due: date = date(2026, 2, 16),
          **extra: Any) -> dict[str, Any]:
    return {"receivable_id": rid, "debtor_id": debtor, "kassenzeichen": f"KZ-{rid}", "claim_type": "GRUNDSTEUER",
            "amount_cents": amount, "due_date": due, **IDENT, **extra}


def mahnung(rid: str = "X", day: date = MAHNUNG_DAY, deadline: date = DEADLINE, level: str = "mahnung",
            nid: str = "M1") -> dict[str, Any]:
    return {"receivable_id": rid, "notice_id": nid, "level": level, "notice_date": day, "deadline": deadline}


def run(claims: list[dict[str, Any]], as_of: date = FIRST_DAY, *, mahnungen: list[dict[str, Any]] | None = None,
        **frames: Any) -> tuple[pl.DataFrame, pl.DataFrame]:
    ms = [mahnung()] if mahnungen is None else mahnungen
    kw = {k: (pl.DataFrame(v) if isinstance(v, list) else v) for k, v in frames.items() if k not in {"s", "d"}}
    got = select(pl.DataFrame(claims), as_of, frames.get("s"), frames.get("d"),
                 mahnungen=pl.DataFrame(ms, schema_overrides={"notice_date": pl.Date, "deadline": pl.Date})
                 if ms else None, **kw)
    assert got.selected.columns == list(SELECTED_COLUMNS) and got.skipped.columns == list(SKIPPED_COLUMNS)
    return got.selected, got.skipped


def reason(claims: list[dict[str, Any]], rid: str = "X", **kw: Any) -> str | None:
    sel, skip = run(claims, **kw)
    hit = skip.filter(pl.col("receivable_id") == rid)
    if hit.height:
        assert rid not in sel["receivable_id"].to_list()
        return hit["reason"][0]
    assert sel.filter(pl.col("receivable_id") == rid).height == 1
    return None


OPEN_CASE = [{"case_number": "K-2026-000001-X", "debtor_id": "D1", "receivable_id": "X",
              "handed_off_on": date(2026, 4, 1)}]

TABLE: list[tuple[str, list[dict[str, Any]], dict[str, Any], str | None]] = [
    ("the plain case: Mahnung, deadline and buffers passed", [claim()], {}, None),
    ("already in an open case", [claim()], {"open_cases": OPEN_CASE}, HandoffSkip.IN_ENFORCEMENT),
    ("nothing open", [claim(amount=0)], {}, HandoffSkip.NOTHING_OPEN),
    ("export block reason", [claim(block_reason="STUNDUNG")], {}, HandoffSkip.BLOCKED),
    ("export block until after the day", [claim(dunning_block_until=date(2026, 5, 1))], {}, HandoffSkip.BLOCKED),
    ("review-page block on the debtor", [claim()],
     {"blocks": [{"debtor_id": "D1", "block_reason": "INSOLVENZ", "block_from": date(2026, 4, 1)}]},
     HandoffSkip.BLOCKED),
    ("a Stundung held after the Mahnung and ended", [claim()],
     {"blocks": [{"receivable_id": "X", "block_reason": "STUNDUNG", "block_from": date(2026, 3, 1),
                  "block_until": date(2026, 3, 31)}]}, HandoffSkip.BLOCKED_SINCE_MAHNUNG),
    ("the export's block ended after the Mahnung", [claim(dunning_block_until=date(2026, 4, 2))], {},
     HandoffSkip.BLOCKED_SINCE_MAHNUNG),
    ("a block that ended before the Mahnung does not count", [claim()],
     {"blocks": [{"receivable_id": "X", "block_reason": "ADV", "block_from": date(2026, 2, 20),
                  "block_until": date(2026, 3, 23)}]}, None),
    ("a Klärungsliste payment names one of the debtor's claims",
     [claim(), claim("Y", amount=5_000)], {"pending": [{"transaction_id": "T1", "receivable_id": "Y"}]},
     HandoffSkip.PENDING_PAYMENT),
    ("a Klärungsliste payment from the debtor's IBAN", [claim(debtor_iban="DE02 1203 0000 0000 2020 51")],
     {"pending": [{"transaction_id": "T1", "counterparty_iban": "DE02120300000000202051"}]},
     HandoffSkip.PENDING_PAYMENT),
    ("no street", [claim(debtor_street=" ")], {}, HandoffSkip.IDENTITY_INCOMPLETE),
    ("no name", [claim(debtor_name=None)], {}, HandoffSkip.IDENTITY_INCOMPLETE),
    ("a German postcode of four digits", [claim(debtor_postcode="3360")], {}, HandoffSkip.IDENTITY_INCOMPLETE),
    ("a foreign postcode of four digits is fine", [claim(debtor_postcode="1010", debtor_country="AT")], {}, None),
    ("two birth dates for one debtor",
     [claim(debtor_birth_date=date(1970, 1, 1)), claim("Y", debtor_birth_date=date(1971, 1, 1))],
     {}, HandoffSkip.IDENTITY_CONFLICT),
    ("no Mahnung", [claim()], {"mahnungen": []}, HandoffSkip.NO_MAHNUNG),
    ("a Zahlungserinnerung is no Mahnung", [claim()],
     {"mahnungen": [mahnung(level="zahlungserinnerung")]}, HandoffSkip.NO_MAHNUNG),
    ("a Mahnung dated before the due date has no effect", [claim(due=date(2026, 3, 30))], {},
     HandoffSkip.NO_MAHNUNG),
    ("waived (debtor without means): no Mahnung needed after the Schonfrist", [claim()],
     {"mahnungen": [], "waivers": [{"debtor_id": "D1", "waiver": MahnungWaiver.WITHOUT_MEANS,
                                    "since": date(2026, 4, 8)}]}, None),
    ("waived, but the Schonfrist (from the later Bekanntgabe) runs",
     [claim(notice_date=date(2026, 4, 10))],
     {"mahnungen": [], "waivers": [{"receivable_id": "X", "waiver": MahnungWaiver.REFUSED,
                                    "since": date(2026, 4, 1)}]}, HandoffSkip.SCHONFRIST),
    ("a public reminder's deadline + bank lag not passed", [claim()],
     {"mahnungen": [], "waivers": [{"receivable_id": "X", "waiver": MahnungWaiver.PUBLIC_REMINDER,
                                    "since": date(2026, 4, 1), "deadline": date(2026, 4, 13)}]},
     HandoffSkip.MAHNFRIST),
    ("the Mahnfrist's last waited-for day", [claim()], {"as_of": date(2026, 4, 14)}, HandoffSkip.MAHNFRIST),
    ("a later Vollstreckungsankündigung sets the deadline that counts", [claim()],
     {"mahnungen": [mahnung(), mahnung(day=date(2026, 4, 8), deadline=date(2026, 4, 20),
                                       level="vollstreckungsankuendigung", nid="M2")]}, HandoffSkip.MAHNFRIST),
    ("under the threshold", [claim(amount=999)], {}, HandoffSkip.BELOW_THRESHOLD),
    ("the Nebenforderungen lift it over the threshold",
     [claim(amount=700), claim("F", amount=600, claim_type="MAHNGEBUEHR", parent_receivable_id="X")], {}, None),
]


@pytest.mark.parametrize(("what", "claims", "kw", "expected"), TABLE, ids=[t[0] for t in TABLE])
def test_every_rule_literally(what: str, claims: list[dict[str, Any]], kw: dict[str, Any], expected: str | None) -> None:
    assert reason(claims, **kw) == expected


def test_every_skip_reason_is_in_the_tables() -> None:
    seen = {e for *_, e in TABLE} | {e for *_, e in ANCILLARY_TABLE}
    # given by the hand-off job after the selection (jobs/handoff/outgoing.py; tests/test_amtshilfe_out_job.py)
    by_the_job = {HandoffSkip.NO_COMPETENT_AUTHORITY.value}
    assert {m.value for m in HandoffSkip} - by_the_job <= seen


def test_the_block_reason_is_reported() -> None:
    _, skip = run([claim(block_reason="adv")])
    assert skip.row(0, named=True)["block_reason"] == "ADV"
    _, skip = run([claim()], blocks=[{"receivable_id": "X", "block_reason": "STUNDUNG",
                                      "block_from": date(2026, 3, 1), "block_until": date(2026, 3, 31)}])
    assert skip.row(0, named=True)["block_reason"] == "STUNDUNG"


@pytest.mark.parametrize(("postal", "lag", "last_skipped"), [
    (3, 2, date(2026, 4, 14)),       # Fri 10 Apr, + Mon 13, Tue 14
    (0, 2, date(2026, 4, 9)),        # Tue 7 Apr, + Wed 8, Thu 9
    (0, 0, date(2026, 4, 7)),        # the deadline itself
    (4, 1, date(2026, 4, 13)),       # Sat 11 Apr, + Mon 13
    (3, 5, date(2026, 4, 17)),       # Fri 10 Apr, + 13, 14, 15, 16, 17
])
def test_the_buffers_day_by_day(postal: int, lag: int, last_skipped: date) -> None:
    s = EnforcementSection(postal_buffer_days=postal, bank_lag_days=lag)
    assert reason([claim()], as_of=last_skipped, s=s) == HandoffSkip.MAHNFRIST
    assert reason([claim()], as_of=last_skipped + timedelta(days=1), s=s) is None


def test_the_bank_lag_skips_the_christmas_holidays() -> None:
    # deadline Mon 21 Dec 2026 + 3 = Thu 24 Dec (a business day); + 2: 25, 26, 27 off, Mon 28, Tue 29
    m = [mahnung(day=date(2026, 12, 7), deadline=date(2026, 12, 21))]
    assert reason([claim(due=date(2026, 11, 2))], as_of=date(2026, 12, 29), mahnungen=m) == HandoffSkip.MAHNFRIST
    assert reason([claim(due=date(2026, 11, 2))], as_of=date(2026, 12, 30), mahnungen=m) is None


def test_add_business_days_matches_a_hand_count() -> None:
    f = pl.DataFrame({"d": [date(2026, 4, 2), date(2026, 4, 3), date(2026, 12, 31), date(2027, 12, 24)]})
    got = add_business_days(f, "d", 1, "n")["n"].to_list()
    # Thu before Easter → Tue after (Good Friday, Easter Monday); Good Friday → Tue; 31 Dec → 4 Jan; 24 Dec → 27 Dec
    assert got == [date(2026, 4, 7), date(2026, 4, 7), date(2027, 1, 4), date(2027, 12, 27)]


def test_the_schonfrist_is_the_dunning_runs() -> None:
    d = DunningSection(schonfrist_days=14)
    waiver = [{"debtor_id": "D1", "waiver": MahnungWaiver.WITHOUT_MEANS, "since": date(2026, 3, 1)}]
    c = [claim(due=date(2026, 4, 1))]
    assert reason(c, as_of=date(2026, 4, 15), mahnungen=[], waivers=waiver, d=d) == HandoffSkip.SCHONFRIST
    assert reason(c, as_of=date(2026, 4, 16), mahnungen=[], waivers=waiver, d=d) is None


ANCILLARY_TABLE: list[tuple[str, list[dict[str, Any]], dict[str, Any], str | None]] = [
    ("goes with its selected main claim",
     [claim(), claim("F", amount=600, claim_type="MAHNGEBUEHR", parent_receivable_id="X")], {}, None),
    ("stays when the main claim is skipped",
     [claim(block_reason="ADV"), claim("F", amount=600, claim_type="MAHNGEBUEHR", parent_receivable_id="X")], {},
     HandoffSkip.MAIN_CLAIM_SKIPPED),
    ("joins the open case of its main claim (a later Säumniszuschlag)",
     [claim(), claim("F", amount=300, claim_type="SAEUMNISZUSCHLAG", parent_receivable_id="X")],
     {"open_cases": OPEN_CASE}, None),
    ("its main claim is neither open nor in a case",
     [claim("F", amount=600, claim_type="MAHNGEBUEHR", parent_receivable_id="GONE")], {},
     HandoffSkip.MAIN_CLAIM_CLOSED),
    ("paid already", [claim(), claim("F", amount=0, claim_type="MAHNGEBUEHR", parent_receivable_id="X")], {},
     HandoffSkip.NOTHING_OPEN),
    ("blocked on its own", [claim(), claim("F", amount=600, claim_type="KOSTEN", parent_receivable_id="X",
                                           block_reason="MAHNSPERRE")], {}, HandoffSkip.BLOCKED),
    ("needs no Mahnung of its own", [claim(), claim("F", amount=600, claim_type="ZINSEN",
                                                    parent_receivable_id="X")],
     {"mahnungen": [mahnung()]}, None),
]


@pytest.mark.parametrize(("what", "claims", "kw", "expected"), ANCILLARY_TABLE, ids=[t[0] for t in ANCILLARY_TABLE])
def test_nebenforderungen_follow_their_main_claim(what: str, claims: list[dict[str, Any]], kw: dict[str, Any],
                                                  expected: str | None) -> None:
    assert reason(claims, "F", **kw) == expected


def test_a_nebenforderung_carries_its_main_claims_mahnung() -> None:
    sel, _ = run([claim(), claim("F", amount=600, claim_type="MAHNGEBUEHR", parent_receivable_id="X")])
    f = sel.filter(pl.col("receivable_id") == "F").row(0, named=True)
    assert (f["ancillary"], f["main_receivable_id"], f["mahnung_notice_id"], f["mahnung_deadline"],
            f["handoff_from"]) == (True, "X", "M1", DEADLINE, FIRST_DAY)


def test_the_selected_row_says_why_the_claim_is_enforceable() -> None:
    sel, _ = run([claim(due=date(2026, 2, 15), notice_date=date(2026, 1, 20), external_ref="GrSt-2026-17")])
    row = sel.row(0, named=True)
    # Sunday 15 Feb → Monday 16 Feb; Schonfrist ends a week later
    assert (row["due_effective"], row["schonfrist_end"], row["mahnung_date"], row["mahnung_waiver"],
            row["external_ref"], row["open_cents"]) == (date(2026, 2, 16), date(2026, 2, 23), MAHNUNG_DAY, None,
                                                         "GrSt-2026-17", 12_000)


def test_a_waiver_does_not_override_a_sent_mahnung() -> None:
    waiver = [{"receivable_id": "X", "waiver": MahnungWaiver.DISPROPORTIONATE, "since": date(2026, 3, 1)}]
    assert reason([claim()], as_of=date(2026, 4, 10), waivers=waiver) == HandoffSkip.MAHNFRIST


def test_bad_input_frames_are_refused() -> None:
    import dataframely as dy

    with pytest.raises(dy.exc.ValidationError):
        run([claim()], waivers=[{"receivable_id": "X", "waiver": "weil", "since": date(2026, 3, 1)}])
    with pytest.raises(dy.exc.ValidationError):      # a public reminder without its deadline
        run([claim()], waivers=[{"receivable_id": "X", "waiver": "public_reminder", "since": date(2026, 3, 1)}])


reasons_st = st.sampled_from(["none", "block", "amount0", "small", "ident", "nomahnung", "case", "late"])


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 5), reasons_st, st.booleans()), min_size=1, max_size=25))
def test_every_claim_is_in_exactly_one_of_selected_and_skipped(rows: list[tuple[int, str, bool]]) -> None:
    claims, ms, cases = [], [], []
    for i, (debtor, how, fee) in enumerate(rows):
        rid = f"R{i}"
        extra: dict[str, Any] = {}
        if how == "block":
            extra["block_reason"] = "STUNDUNG"
        if how == "ident":
            extra["debtor_city"] = ""
        amount = {"amount0": 0, "small": 500}.get(how, 10_000)
        claims.append(claim(rid, f"D{debtor}", amount=amount, **extra))
        if how != "nomahnung":
            ms.append(mahnung(rid, deadline=date(2026, 4, 14) if how == "late" else DEADLINE, nid=f"M{i}"))
        if how == "case":
            cases.append({"case_number": f"K{debtor}", "debtor_id": f"D{debtor}", "receivable_id": rid,
                          "handed_off_on": date(2026, 4, 1)})
        if fee:
            claims.append(claim(f"F{i}", f"D{debtor}", amount=600, claim_type="MAHNGEBUEHR", parent_receivable_id=rid))
    sel, skip = run(claims, mahnungen=ms, open_cases=pl.DataFrame(cases) if cases else None)
    ids = [c["receivable_id"] for c in claims]
    assert sorted(sel["receivable_id"].to_list() + skip["receivable_id"].to_list()) == sorted(ids)
    assert skip["reason"].null_count() == 0
    assert set(skip["reason"]) <= {m.value for m in HandoffSkip}
    # a Nebenforderung is selected only with its main claim (or when the main claim is in an open case)
    chosen = set(sel["receivable_id"])
    in_case = {c["receivable_id"] for c in cases}
    for c in claims:
        if c.get("parent_receivable_id") and c["receivable_id"] in chosen:
            assert c["parent_receivable_id"] in chosen | in_case


def test_the_dunning_runs_own_notices_lead_to_the_handoff() -> None:
    """End to end over the pure stages: the dunning run's Mahnung and Vollstreckungsankündigung (its
    selection and notices, as booked) make a claim enforceable on the right day, and the claim the dunning
    run skips as `last_level` is the one the hand-off takes."""
    from dunning.notices import debtor_addresses, group_notices
    from dunning.select import select as dun

    claims = pl.DataFrame([claim("A", due=date(2026, 2, 2)), claim("B", "D2", due=date(2026, 2, 2))])
    history: list[pl.DataFrame] = []
    for run_day in (date(2026, 2, 17), date(2026, 3, 3)):            # Tuesdays, 14 days apart
        earlier = (pl.concat(history).select("receivable_id", "level", "notice_date",
                                              pl.lit(0, pl.Int64).alias("mahngebuehr_cents"))
                   if history else None)
        sel = dun(claims, run_day, notices=earlier)
        n = group_notices(sel.selected, debtor_addresses(claims), run_day)
        history.append(n.items.join(n.notices.select("notice_id", "level", "notice_date", "deadline"), on="notice_id")
                       .select("receivable_id", "notice_id", "level", "notice_date", "deadline"))
    sent = pl.concat(history)
    assert sent.select("receivable_id", "level").rows() == [("A", "mahnung"), ("B", "mahnung"),
                                                            ("A", "vollstreckungsankuendigung"),
                                                            ("B", "vollstreckungsankuendigung")]
    # the Vollstreckungsankündigung of Tue 3 Mar: deadline Fri 13 Mar; + 3 = Mon 16; + 2 business days = Wed 18
    assert set(sent.filter(pl.col("level") == "vollstreckungsankuendigung")["deadline"]) == {date(2026, 3, 13)}
    earlier = sent.select("receivable_id", "level", "notice_date", pl.lit(0, pl.Int64).alias("mahngebuehr_cents"))
    assert set(dun(claims, date(2026, 3, 19), notices=earlier).skipped["reason"]) == {"last_level"}
    blocked = [{"debtor_id": "D2", "block_reason": "INSOLVENZ", "block_from": date(2026, 3, 10)}]
    sel, skip = run(claims.to_dicts(), date(2026, 3, 18), mahnungen=sent.to_dicts(), blocks=blocked)
    assert sel.height == 0 and set(skip["reason"]) == {"mahnfrist", "blocked"}
    sel, skip = run(claims.to_dicts(), date(2026, 3, 19), mahnungen=sent.to_dicts(), blocks=blocked)
    assert sel["receivable_id"].to_list() == ["A"] and sel["mahnung_deadline"].to_list() == [date(2026, 3, 13)]
    assert skip.select("receivable_id", "reason", "block_reason").rows() == [("B", "blocked", "INSOLVENZ")]
