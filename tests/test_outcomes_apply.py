"""enforcement.outcomes_apply: what of the office's outcomes is booked, held or dropped; fees; blocks (pure)."""

from __future__ import annotations

from datetime import date

import polars as pl

from claims.config import OUTCOME_FEE_KINDS
from claims.vocab import BlockReason, OutcomeHold
from enforcement.outcomes_apply import AMOUNT_DIFFERS, UNKNOWN_KIND, apply_outcomes, outcome_blocks

D = date
N = None
CLAIMS = pl.DataFrame({
    "case_number": ["C1", "C1", "C1", "C2", "C3"],
    "receivable_id": ["a", "a-fee", "b", "c", "d"],
    "main_receivable_id": ["a", "a", "b", "c", "d"],
    "ancillary": [False, True, False, False, False],
    "kassenzeichen": ["1.0000.0000.011", "9.0000.0000.011", "1.0000.0000.022", "2.0000.0000.011", "3.0000.0000.011"],
    "handed_off_on": [D(2026, 3, 1), D(2026, 3, 1), D(2026, 3, 2), D(2026, 3, 1), D(2026, 3, 1)],
    "office_id": ["VS", "VS", "VS", "VS", "OTHER"],
    "closed_on": [N, N, N, N, N]}, schema_overrides={"closed_on": pl.Date})


def outcome(oid: str, case: str, code: str = "paid", *, digest: str = "d1", kz: str | None = None,
            office: str = "VS", file: str = "f1") -> dict[str, object]:
    return {"outcome_id": oid, "digest": digest, "office_id": office, "case_number": case, "outcome": code,
            "kassenzeichen": kz, "outcome_date": D(2026, 4, 1), "collected_cents": 0, "sequence": 1,
            "file_name": f"{file}.xml", "file_sha256": file}


def run(rows: list[dict[str, object]], fees: list[dict[str, object]] | None = None,
        recorded: list[tuple[str, str]] | None = None, amounts: dict[str, int] | None = None):
    fee_frame = pl.DataFrame(fees or [], schema={"outcome_id": pl.String, "file_sha256": pl.String, "kind": pl.String,
                                                 "amount_cents": pl.Int64})
    rec = pl.DataFrame(recorded or [], schema={"outcome_id": pl.String, "digest": pl.String}, orient="row")
    return apply_outcomes(pl.DataFrame(rows), fee_frame, recorded=rec, case_claims=CLAIMS,
                          fee_kinds=OUTCOME_FEE_KINDS, fee_amounts=amounts)


def test_each_outcome_is_booked_held_or_dropped_for_one_reason() -> None:
    a = run([
        outcome("o-new", "C1"),                                        # booked, whole case
        outcome("o-kz", "C1", "written_off", kz="1 0000 0000 022"),      # booked on claim b (separators ignored)
        outcome("o-same", "C2", digest="x"),                           # recorded before, same digest: dropped
        outcome("o-changed", "C2", digest="y"),                        # recorded before, other digest: held
        outcome("o-unknown", "C7"),                                    # not our case
        outcome("o-office", "C3"),                                     # case handed to OTHER, file from VS
        outcome("o-badkz", "C2", kz="1.0000.0000.011"),                # a claim of C1, not of C2
    ], recorded=[("o-same", "x"), ("o-changed", "x")])
    got = {r["outcome_id"]: (r["state"], r["hold_reason"], r["receivable_id"]) for r in a.outcomes.iter_rows(named=True)}
    assert got == {
        "o-new": ("booked", N, N),
        "o-kz": ("booked", N, "b"),
        "o-changed": ("held", OutcomeHold.CHANGED, N),
        "o-unknown": ("held", OutcomeHold.CASE_UNKNOWN, N),
        "o-office": ("held", OutcomeHold.OTHER_OFFICE, N),
        "o-badkz": ("held", OutcomeHold.KASSENZEICHEN_NOT_IN_CASE, N),
    }
    assert a.repeated == 1


def test_the_same_outcome_twice_in_one_night_is_booked_once_and_a_changed_copy_held() -> None:
    a = run([outcome("o1", "C1", file="f1"), outcome("o1", "C1", file="f2"),
             outcome("o1", "C1", digest="other", file="f3")])
    assert a.outcomes.select("file_sha256", "state", "hold_reason").rows() == [
        ("f1", "booked", N), ("f3", "held", OutcomeHold.CHANGED)]
    assert a.repeated == 1


def test_a_held_outcome_sent_again_unchanged_is_dropped_not_held_twice() -> None:
    a = run([outcome("o1", "C1", digest="y")], recorded=[("o1", "x"), ("o1", "y")])
    assert a.outcomes.height == 0 and a.repeated == 1


def test_fees_go_on_the_outcomes_claim_or_the_cases_main_claim_and_are_flagged() -> None:
    a = run([outcome("o-case", "C1"), outcome("o-nf", "C1", "partly_paid", kz="9.0000.0000.011"),
             outcome("o-held", "C7")],
            fees=[{"outcome_id": "o-case", "file_sha256": "f1", "kind": "pfaendung", "amount_cents": 2500},
                  {"outcome_id": "o-case", "file_sha256": "f1", "kind": "Auslagen", "amount_cents": 350},
                  {"outcome_id": "o-nf", "file_sha256": "f1", "kind": "schreibgebuehr", "amount_cents": 700},
                  {"outcome_id": "o-held", "file_sha256": "f1", "kind": "pfaendung", "amount_cents": 2500}],
            amounts={"auslagen": 300})
    rows = a.fees.select("outcome_id", "kind", "amount_cents", "parent_receivable_id", "basis", "flag").rows()
    assert rows == [
        ("o-case", "pfaendung", 2500, "a", OUTCOME_FEE_KINDS["pfaendung"], N),   # the case's first main claim
        ("o-case", "Auslagen", 350, "a", OUTCOME_FEE_KINDS["auslagen"], AMOUNT_DIFFERS),   # 300 configured
        ("o-nf", "schreibgebuehr", 700, "a", N, UNKNOWN_KIND),   # on a Nebenforderung: its main claim
    ]                                                          # a held outcome's fees are not booked


def test_uncollectible_and_written_off_block_their_claims_and_nebenforderungen() -> None:
    booked = pl.DataFrame({
        "case_number": ["C1", "C2", "C3", "C1"], "receivable_id": ["a", N, "d", "b"],
        "outcome": ["written_off", "uncollectible", "returned", "partly_paid"],
        "outcome_date": [D(2026, 4, 1), D(2026, 4, 2), D(2026, 4, 3), D(2026, 4, 4)]})
    blocks = outcome_blocks(booked, CLAIMS)
    assert blocks.select("receivable_id", "block_reason", "block_from", "block_until").rows() == [
        ("a", BlockReason.NIEDERSCHLAGUNG, D(2026, 4, 1), N),
        ("a-fee", BlockReason.NIEDERSCHLAGUNG, D(2026, 4, 1), N),
        ("c", BlockReason.NIEDERSCHLAGUNG, D(2026, 4, 2), N)]


def test_a_whole_case_outcome_blocks_only_claims_handed_by_its_day() -> None:
    booked = pl.DataFrame({"case_number": ["C1"], "receivable_id": [N], "outcome": ["uncollectible"],
                           "outcome_date": [D(2026, 3, 1)]}, schema_overrides={"receivable_id": pl.String})
    assert outcome_blocks(booked, CLAIMS)["receivable_id"].to_list() == ["a", "a-fee"]   # b came on 2 March
