"""The enforcement generators (synth/enforcement_data.py, synth/enforcement_outcomes.py): seeded, varied as
promised, and their files read back the way each trap intends."""

from __future__ import annotations

from datetime import date, datetime
from functools import cache

import polars as pl
import pytest

from claims.vocab import EnforcementOutcome, EnforcementUpdateKind, HandoffSkip
from enforcement.cases import Cases, build_cases
from enforcement.file_format import EnforcementFileError
from enforcement.handoff_file import read_handoff, read_updates, write_handoff, write_updates
from enforcement.outcomes_file import read_outcomes
from enforcement.select import Handoff, select
from synth.enforcement_data import EnforcementSet, enforcement_set, handoff_file_frames
from synth.enforcement_outcomes import (
    BAD_RECORDS,
    OutcomeFrames,
    outcome_files,
    outcome_frames,
    update_frames,
)
from tests.enforcement_frames import HEADER, UPDATE_HEADER

ON = date(2026, 12, 28)
CREATED = datetime(2026, 12, 28, 10, 0)


@cache
def _set(seed: int = 5, debtors: int = 1500) -> EnforcementSet:
    return enforcement_set(debtors, seed)


@cache
def _handoff(seed: int = 5) -> tuple[EnforcementSet, Handoff, Cases]:
    es = _set(seed)
    h = select(es.claims, es.as_of, **es.select_kwargs())
    cs = build_cases(h.selected, es.as_of, tenant="musterstadt", open_cases=es.open_cases,
                     known_numbers=es.known_numbers, payments=es.payments, booked=es.booked)
    return es, h, cs


@cache
def _file(seed: int = 5) -> bytes:
    es, _, cs = _handoff(seed)
    return write_handoff(HEADER, *handoff_file_frames(cs, es.claims))


@cache
def _outcomes() -> OutcomeFrames:
    return outcome_frames(read_handoff(_file()).claims, ON, seed=3)


def test_same_seed_same_frames_and_bytes_another_seed_others() -> None:
    a, b = enforcement_set(300, 9), enforcement_set(300, 9)
    for name in ("claims", "mahnungen", "waivers", "blocks", "pending", "open_cases", "payments", "booked"):
        assert getattr(a, name).equals(getattr(b, name)), name
    assert not a.claims.equals(enforcement_set(300, 10).claims)
    assert _file(5) == write_handoff(HEADER, *handoff_file_frames(_handoff(5)[2], _set(5).claims))
    one = outcome_files(_outcomes(), CREATED)
    again = outcome_files(outcome_frames(read_handoff(_file()).claims, ON, seed=3), CREATED)
    assert one == again
    assert one["outcomes.xml"] != outcome_files(outcome_frames(read_handoff(_file()).claims, ON, seed=4),
                                                CREATED)["outcomes.xml"]


def test_select_on_generated_data_gives_every_skip_reason() -> None:
    _, h, _ = _handoff()
    # no_competent_authority is the hand-off job's, after the selection (jobs/handoff/outgoing.py)
    assert set(h.skipped["reason"].unique()) == {str(r) for r in HandoffSkip} - {HandoffSkip.NO_COMPETENT_AUTHORITY}
    assert h.selected.height > h.skipped.height                       # most claims do go over
    blocked = h.skipped.filter(pl.col("reason") == HandoffSkip.BLOCKED)["block_reason"].unique().to_list()
    assert {"INSOLVENZ", "STUNDUNG", "ADV"} <= set(blocked)


def test_without_trouble_every_claim_is_handed_over() -> None:
    es = enforcement_set(400, 2, trouble=0.0)
    h = select(es.claims, es.as_of, **es.select_kwargs())
    # only a partly paid claim whose rest is under the threshold stays (with its Nebenforderungen)
    assert set(h.skipped["reason"]) <= {HandoffSkip.BELOW_THRESHOLD, HandoffSkip.MAIN_CLAIM_SKIPPED}
    small = h.skipped.filter(pl.col("reason") == HandoffSkip.BELOW_THRESHOLD)["receivable_id"]
    assert small.is_in(es.payments["receivable_id"].implode()).all()
    assert h.selected.height + h.skipped.height == es.claims.height and h.skipped.height < es.claims.height // 50
    assert es.blocks.is_empty() and es.pending.is_empty() and es.open_cases.is_empty()


def test_the_ledger_variety_is_there() -> None:
    es = _set()
    cl = es.claims
    ancillary = cl.filter(pl.col("parent_receivable_id").is_not_null())
    assert set(ancillary["claim_type"].unique()) == {"MAHNGEBUEHR", "SAEUMNISZUSCHLAG", "ZINSEN", "KOSTEN"}
    assert set(cl.filter(pl.col("claim_type") == "KITA")["law"].unique()) == {"private"}
    assert ancillary.filter(pl.col("claim_type") == "ZINSEN")["law"].unique().to_list() == ["private"]
    # companies (a legal form in the name) have no birth date; some persons do, some rows lack it
    companies = cl.filter(pl.col("debtor_name").str.contains(r"GmbH|KG|AG|e\.K\.|OHG|GbR|UG"))
    assert companies.height and companies["debtor_birth_date"].null_count() == companies.height
    assert 0 < cl["debtor_birth_date"].null_count() < cl.height
    per_debtor = cl.group_by("debtor_id").len()
    assert per_debtor["len"].max() >= 6 and per_debtor.filter(pl.col("len") == 1).height > 0   # type: ignore[operator]
    assert set(es.mahnungen["level"].unique()) == {"zahlungserinnerung", "mahnung", "vollstreckungsankuendigung"}
    assert es.mahnungen.group_by("receivable_id").agg(pl.col("notice_date").n_unique())["notice_date"].max() == 3
    assert es.waivers["waiver"].n_unique() == 6 and es.waivers["debtor_id"].null_count() < es.waivers.height
    assert es.payments.height and es.booked.height and es.pending["counterparty_iban"].null_count() < es.pending.height
    # ended blocks: the export's (dunning_block_until in the past) and the journal's
    assert cl.filter(pl.col("dunning_block_until") < es.as_of).height > 0
    assert es.blocks.filter(pl.col("block_until") < es.as_of).height > 0
    # Kassenzeichen are unique (a Nebenforderung has its main claim's with a suffix)
    assert cl["kassenzeichen"].n_unique() == cl.height


def test_the_hand_off_file_of_generated_cases_reads_back_whole_with_the_case_totals() -> None:
    _, _, cs = _handoff()
    back = read_handoff(_file())
    assert back.rejected.is_empty()
    assert back.cases.height == cs.cases.height and back.claims.height == cs.items.height
    total = back.claims.select(pl.sum_horizontal("principal_cents", "surcharges_cents", "fees_cents").sum()).item()
    assert total == cs.cases["total_cents"].sum()
    joined = cs.cases.filter(~pl.col("new"))
    assert joined.height > 0                                          # claims joined an open case
    assert set(back.claims["mahnung_omitted"].drop_nulls().unique()) >= {"ancillary", "address_unknown"}


def test_every_outcome_code_per_case_and_per_claim_with_fees_instalments_and_moves() -> None:
    o, fees = _outcomes().outcomes, _outcomes().fees
    assert set(o["outcome"].unique()) == {str(x) for x in EnforcementOutcome}
    assert o["kassenzeichen"].null_count() < o.height and o["kassenzeichen"].null_count() > 0
    assert o.filter(pl.col("sequence") == 2)["outcome"].unique().to_list() == ["paid"]
    inst = o.filter(pl.col("outcome") == "instalments")
    assert inst["instalment_cents"].null_count() == 0 and inst["instalment_first_due"].min() > ON  # type: ignore[operator]
    moved = o.filter(pl.col("outcome") == "moved")
    assert 0 < moved["new_street"].null_count() < moved.height
    assert fees["kind"].n_unique() >= 5 and (fees["amount_cents"] > 0).all()
    assert o.filter(pl.col("outcome").is_in(["paid", "partly_paid"]))["collected_cents"].min() > 0  # type: ignore[operator]


def test_the_good_file_the_resent_one_and_the_changed_one() -> None:
    files = outcome_files(_outcomes(), CREATED)
    good = read_outcomes(files["outcomes.xml"], tenant="musterstadt")
    assert good.rejected.is_empty() and good.outcomes.height == _outcomes().outcomes.height
    assert good.fees.height == _outcomes().fees.height
    resent = read_outcomes(files["resent.xml"], tenant="musterstadt")
    assert resent.header.message_id != good.header.message_id
    assert resent.outcomes.select("outcome_id", "digest").equals(good.outcomes.select("outcome_id", "digest"))
    changed = read_outcomes(files["changed.xml"], tenant="musterstadt").outcomes
    first = good.outcomes.row(0, named=True)
    assert changed["outcome_id"].to_list() == [first["outcome_id"]]
    assert changed["digest"][0] != first["digest"] and changed["outcome"][0] != first["outcome"]


def test_bad_records_are_rejected_one_by_one_for_the_reason_intended() -> None:
    files = outcome_files(_outcomes(), CREATED)
    bad = read_outcomes(files["bad.xml"], tenant="musterstadt")
    assert bad.rejected.height == len(BAD_RECORDS)
    assert bad.count_in == bad.outcomes.height + bad.rejected.height == _outcomes().outcomes.height
    reasons = bad.rejected.sort("line")["reason"].to_list()
    for reason, expected in zip(reasons, BAD_RECORDS.values(), strict=True):
        assert expected in reason
    assert "gepfaendet" in reasons[2]


def test_the_cut_file_is_refused_as_a_whole() -> None:
    files = outcome_files(_outcomes(), CREATED)
    with pytest.raises(EnforcementFileError, match="not well-formed"):
        read_outcomes(files["cut.xml"])


def test_a_nights_updates_frames_write_and_read_back() -> None:
    claims = read_handoff(_file()).claims
    ups, uc = update_frames(claims, date(2026, 12, 8), paid_share=0.1, suspended_share=0.05)
    assert {str(k) for k in EnforcementUpdateKind} == set(ups["kind"].unique())
    back = read_updates(write_updates(UPDATE_HEADER, ups, uc))
    assert back.rejected.is_empty() and back.updates.height == ups.height and back.update_claims.height == uc.height
    settled = uc.join(ups.filter(pl.col("kind") == "settled"), on="update_id", how="semi")
    assert settled.select(pl.sum_horizontal("open_principal_cents", "open_surcharges_cents", "open_fees_cents")
                          .sum()).item() == 0
    assert (uc["paid_cents"] > 0).all()
