"""The hand-off job's pure pieces, literally: the surcharge to book, one file claim per Kassenzeichen, the
file's amounts and dates of a Nebenforderung, what the booking keeps and drops, the blocks as they held,
the per-case record cut from a batch."""

from __future__ import annotations

from datetime import date, datetime

import polars as pl

from enforcement.file_format import Party
from enforcement.handoff_file import Header, read_handoff, write_handoff
from jobs.handoff.batch import file_claims, new_charges, one_per_kassenzeichen
from jobs.handoff.casefile import case_messages
from jobs.handoff.steps import reconcile
from ledger.block_journal import Block, block_history_frame

D = date(2026, 12, 9)


def item(rid: str, **more: object) -> dict[str, object]:
    base: dict[str, object] = {
        "case_number": "C1", "receivable_id": rid, "main_receivable_id": rid, "ancillary": False,
        "kassenzeichen": f"K-{rid}", "claim_type": "GRUNDSTEUER", "open_cents": 10000,
        "saeumniszuschlag_new_cents": 0, "interest_new_cents": 0, "due_date": date(2026, 10, 1),
        "notice_date": None, "external_ref": None, "schonfrist_end": date(2026, 10, 8),
        "mahnung_date": date(2026, 11, 18), "mahnung_deadline": date(2026, 11, 30), "mahnung_waiver": None,
        "mahnung_notice_id": "r:M1"}
    return {**base, **more}


def test_new_charges_are_the_unbooked_accrual_of_main_claims_one_fee_number_per_case() -> None:
    items = pl.DataFrame([item("R0", saeumniszuschlag_new_cents=150, interest_new_cents=0),
                          item("R1", case_number="C2", saeumniszuschlag_new_cents=0, interest_new_cents=37),
                          item("G1", main_receivable_id="R0", ancillary=True, saeumniszuschlag_new_cents=999)])
    assert new_charges(items).rows() == [("C1", "R0", "SAEUMNISZUSCHLAG", 150), ("C2", "R1", "ZINSEN", 37)]


def test_a_nebenforderung_is_a_surcharge_or_fee_with_its_main_claims_title() -> None:
    items = pl.DataFrame([
        item("R0", notice_date=date(2026, 9, 1), external_ref="GB-1"),
        item("G1", main_receivable_id="R0", ancillary=True, claim_type="MAHNGEBUEHR", open_cents=700,
             kassenzeichen="9001", due_date=date(2026, 11, 30)),
        item("G2", main_receivable_id="R0", ancillary=True, claim_type="SAEUMNISZUSCHLAG", open_cents=300,
             kassenzeichen="9001", due_date=date(2026, 11, 30)),
        item("R9", case_number="C2", mahnung_date=None, mahnung_deadline=None, mahnung_waiver="refused")])
    since = pl.DataFrame({"receivable_id": ["R0", "G1", "G2", "R9"], "handoff_from": [date(2026, 12, 8)] * 4})
    out = file_claims(items, since, pl.DataFrame({"receivable_id": ["R0"], "kassenzeichen": ["K-R0"]}))
    assert out.select("case_number", "kassenzeichen", "claim_type", "notice_date", "principal_cents",
                      "surcharges_cents", "fees_cents", "main_kassenzeichen", "mahnung_omitted",
                      "notice_reference").rows() == [
        ("C1", "K-R0", "GRUNDSTEUER", date(2026, 9, 1), 10000, 0, 0, None, None, "GB-1"),
        # Mahngebühr and Säumniszuschlag of one notice share its Kassenzeichen: one claim, the split kept;
        # no notice date of its own: the main claim's
        ("C1", "9001", "MAHNGEBUEHR", date(2026, 9, 1), 0, 300, 700, "K-R0", None, None),
        # no Mahnung: the waiver is why; no notice date: the due date stands for it
        ("C2", "K-R9", "GRUNDSTEUER", date(2026, 10, 1), 10000, 0, 0, None, "refused", None)]
    assert out["receivable_ids"].to_list() == [["R0"], ["G1", "G2"], ["R9"]]


def test_one_per_kassenzeichen_sums_and_takes_the_latest_enforceability() -> None:
    rows = pl.DataFrame({"case_number": ["C", "C"], "kassenzeichen": ["K", "K"], "claim_type": ["A", "B"],
                         "principal_cents": [100, 200], "surcharges_cents": [1, 2], "fees_cents": [0, 5],
                         "enforceable_since": [date(2026, 1, 2), date(2026, 1, 9)], "receivable_id": ["X", "Y"]})
    out = one_per_kassenzeichen(rows)
    assert out.rows() == [("C", "K", "A", 300, 3, 5, date(2026, 1, 9), "X", ["X", "Y"])]


def test_the_booking_keeps_a_debtor_only_when_nothing_changed_and_says_why_it_dropped() -> None:
    def frames(items: list[dict[str, object]], skipped: list[tuple[str, str]], open_ids: list[str]
               ) -> dict[str, pl.DataFrame]:
        core = pl.DataFrame(items)
        return {"core_items": core, "cases": pl.DataFrame({"case_number": ["C1", "C2", "C3"],
                                                           "debtor_id": ["A", "B", "C"]}),
                "skipped": pl.DataFrame(skipped, schema={"receivable_id": pl.String, "reason": pl.String}, orient="row"),
                "claims": pl.DataFrame({"receivable_id": open_ids})}

    prepared = frames([item("R0"), item("R1", case_number="C2"), item("R2", case_number="C3")], [],
                      ["R0", "R1", "R2"])
    now = frames([item("R0"), item("R2", case_number="C3", open_cents=9000)], [], ["R0", "R2"])
    kept, dropped = reconcile(prepared, now)
    assert kept.to_list() == ["A"]
    assert dropped.select("debtor_id", "receivable_id", "reason").rows() == [("B", "R1", "nothing_open"),
                                                                            ("C", "R2", "changed")]
    blocked = frames([item("R0")], [("R1", "blocked")], ["R0", "R1", "R2"])
    _, dropped = reconcile(prepared, blocked)
    assert dict(dropped.select("receivable_id", "reason").rows()) == {"R1": "blocked", "R2": "changed"}


def block(**more: object) -> Block:
    base: dict[str, object] = {"block_id": "b", "tenant": "t", "receivable_id": None, "debtor_id": "A",
                               "reason": "STUNDUNG", "block_from": date(2026, 11, 1), "until": date(2026, 11, 30),
                               "note": "", "set_by": "ben", "set_at": "2026-11-01T08:00:00+00:00"}
    return Block(**{**base, **more})  # type: ignore[arg-type]


def test_blocks_as_they_held_ended_and_lifted_ones_too() -> None:
    rows = block_history_frame([block(), block(lifted_by="ben", lifted_at="2026-11-10T09:00:00+00:00"),
                                block(lifted_by="ben", lifted_at="2026-11-01T09:00:00+00:00"),
                                block(until=None, approved_by="sven")], date(2026, 12, 1))
    assert rows.select("block_from", "block_until").rows() == [
        (date(2026, 11, 1), date(2026, 11, 30)),       # ended: the selection asks whether it held since the Mahnung
        (date(2026, 11, 1), date(2026, 11, 9)),        # lifted on the 10th: held to the 9th
        (date(2026, 11, 1), None)]                     # (the one lifted on its first day never held)


def test_each_case_is_cut_into_its_own_valid_message() -> None:
    cases = pl.DataFrame({"case_number": ["C-1", "C-2"], "debtor_id": ["A", "B"], "debtor_name": ["Anna", "Bernd"],
                          "debtor_street": "Markt 1", "debtor_postcode": "33602", "debtor_city": "Musterstadt"})
    claims = pl.DataFrame({"case_number": ["C-1", "C-2", "C-2"], "kassenzeichen": ["K1", "K2", "K3"],
                           "claim_type": "GRUNDSTEUER", "notice_date": date(2026, 1, 1), "due_date": date(2026, 2, 1),
                           "principal_cents": [10000, 5000, 0], "surcharges_cents": [50, 0, 150],
                           "fees_cents": [0, 700, 0], "schonfrist_end": date(2026, 2, 8),
                           "enforceable_since": date(2026, 3, 1), "mahnung_date": date(2026, 2, 20),
                           "mahnung_deadline": date(2026, 2, 27)})
    head = Header("M-1", datetime(2026, 12, 9, 10), "t", Party("Stadt"), Party("Kasse"), Party("VS"), handoff_date=D)
    batch = write_handoff(head, cases, claims)
    out = list(case_messages(batch, claims))
    assert [n for n, _ in out] == ["C-1", "C-2"]
    for number, data in out:
        one = read_handoff(data)                     # XSD, counts and control sums checked
        assert one.rejected.height == 0 and one.cases["case_number"].to_list() == [number]
        assert one.header.message_id == "M-1"
    two = read_handoff(out[1][1])
    assert two.claims["kassenzeichen"].to_list() == ["K2", "K3"]
    assert b"<Total>58.50</Total>" in out[1][1] and b"<Claims>2</Claims>" in out[1][1]
