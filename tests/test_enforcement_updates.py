"""enforcement.updates: the night's updates to the enforcement office, rule by rule (pure frames)."""

from __future__ import annotations

from datetime import UTC, date, datetime

import polars as pl

from enforcement.updates import NOTE_REVERSAL, night_updates

HANDED = datetime(2026, 11, 2, 20, tzinfo=UTC)
NIGHT = date(2026, 11, 10)


def cases(*rows: tuple[str, str, str, str, bool, int], office: str = "VS") -> pl.DataFrame:
    """(case, debtor, receivable, claim type, ancillary, handed cents) rows handed on 2 Nov."""
    return pl.DataFrame([{"case_number": c, "debtor_id": d, "receivable_id": r, "kassenzeichen": f"KZ-{r}",
                          "claim_type": t, "ancillary": a, "handed_cents": h, "handed_off_on": date(2026, 11, 2),
                          "office_id": office, "office_tenant": None, "handed_at": HANDED}
                         for c, d, r, t, a, h in rows])


def open_now(**amounts: int) -> pl.DataFrame:
    return pl.DataFrame({"receivable_id": list(amounts), "amount_cents": list(amounts.values())})


def paid(*rows: tuple[str, int], on: date = NIGHT, at: datetime | None = None) -> pl.DataFrame:
    return pl.DataFrame({"receivable_id": [r for r, _ in rows], "amount_cents": [c for _, c in rows],
                         "booking_date": [on] * len(rows), "committed_at": [at] * len(rows)},
                        schema_overrides={"committed_at": pl.Datetime("us", "UTC")})


CASE = cases(("C1", "D1", "a", "GRUNDSTEUER", False, 10000), ("C1", "D1", "a-sz", "SAEUMNISZUSCHLAG", True, 500),
             ("C1", "D1", "a-mg", "MAHNGEBUEHR", True, 300))


def test_payment_in_full_settles_the_case_the_same_night() -> None:
    r = night_updates(CASE, open_now(a=0, **{"a-sz": 0, "a-mg": 0}),
                      paid(("a", 10000), ("a-sz", 500), ("a-mg", 300), on=date(2026, 11, 9)), night=NIGHT)
    assert r.updates.select("update_id", "kind", "effective_date").rows() == [
        ("C1.20261110.settled", "settled", date(2026, 11, 9))]
    assert r.update_claims.select("receivable_id", "paid_cents", "open_principal_cents").sort("receivable_id").rows() \
        == [("a", 10000, 0), ("a-mg", 300, 0), ("a-sz", 500, 0)]


def test_a_partial_payment_gives_the_open_amounts_split_by_claim_type() -> None:
    r = night_updates(CASE, open_now(a=4000, **{"a-sz": 200, "a-mg": 300}), paid(("a", 6000), ("a-sz", 300)),
                      night=NIGHT)
    assert r.updates["kind"].to_list() == ["partial_payment"]
    rows = {x["receivable_id"]: x for x in r.update_claims.iter_rows(named=True)}
    assert set(rows) == {"a", "a-sz"}                                   # the unchanged Mahngebühr is not listed
    assert (rows["a"]["paid_cents"], rows["a"]["open_principal_cents"], rows["a"]["open_surcharges_cents"],
            rows["a"]["open_fees_cents"]) == (6000, 4000, 0, 0)
    assert (rows["a-sz"]["paid_cents"], rows["a-sz"]["open_principal_cents"],
            rows["a-sz"]["open_surcharges_cents"]) == (300, 0, 200)
    fee = night_updates(CASE, open_now(a=10000, **{"a-sz": 500, "a-mg": 100}), paid(("a-mg", 200)), night=NIGHT)
    assert fee.update_claims.select("open_principal_cents", "open_surcharges_cents", "open_fees_cents").row(0) \
        == (0, 0, 100)


def test_a_payment_on_a_claim_in_no_case_and_a_payment_before_the_hand_off_give_nothing() -> None:
    before = datetime(2026, 11, 1, tzinfo=UTC)
    r = night_updates(CASE, open_now(a=10000, x=0, **{"a-sz": 500, "a-mg": 300}),
                      pl.concat([paid(("x", 700)), paid(("a", 2000), at=before)]), night=NIGHT)
    assert r.updates.is_empty() and r.update_claims.is_empty()


def test_the_baseline_is_the_last_reported_update_and_ids_never_repeat_across_nights() -> None:
    first = night_updates(CASE, open_now(a=6000, **{"a-sz": 500, "a-mg": 300}), paid(("a", 4000)), night=NIGHT)
    at = datetime(2026, 11, 10, 21, tzinfo=UTC)
    booked = first.updates.with_columns(pl.lit(at).alias("committed_at"))
    booked_claims = first.update_claims.with_columns(pl.lit(at).alias("committed_at"))
    earlier = paid(("a", 4000), at=at)
    again = night_updates(CASE, open_now(a=6000, **{"a-sz": 500, "a-mg": 300}), earlier, night=NIGHT,
                          booked=booked, booked_claims=booked_claims)
    assert again.updates.is_empty()                                     # a rerun of the night: nothing new
    nxt = night_updates(CASE, open_now(a=5000, **{"a-sz": 500, "a-mg": 300}),
                        pl.concat([earlier, paid(("a", 1000), on=date(2026, 11, 11))]), night=date(2026, 11, 11),
                        booked=booked, booked_claims=booked_claims)
    assert nxt.updates["update_id"].to_list() == ["C1.20261111.partial_payment"]
    assert nxt.update_claims.select("paid_cents", "open_principal_cents").row(0) == (1000, 5000)
    assert set(nxt.updates["update_id"]).isdisjoint(first.updates["update_id"])


def test_a_block_after_the_hand_off_suspends_and_its_end_resumes() -> None:
    stundung = pl.DataFrame({"receivable_id": [None], "debtor_id": ["D1"], "block_reason": ["STUNDUNG"],
                             "block_from": [date(2026, 11, 8)], "block_until": [date(2027, 2, 28)]})
    on = open_now(a=10000, **{"a-sz": 500, "a-mg": 300})
    r = night_updates(CASE, on, paid(), night=NIGHT, blocks=stundung)
    assert r.updates.select("kind", "effective_date", "suspension_reason", "suspended_until").rows() == [
        ("suspended", date(2026, 11, 8), "STUNDUNG", date(2027, 2, 28))]
    assert r.update_claims.is_empty()
    booked = r.updates.with_columns(pl.lit(datetime(2026, 11, 10, 21, tzinfo=UTC)).alias("committed_at"))
    still = night_updates(CASE, on, paid(), night=date(2026, 11, 11), blocks=stundung, booked=booked)
    assert still.updates.is_empty()                                     # suspended once, not every night
    ended = night_updates(CASE, on, paid(), night=date(2027, 3, 1), booked=booked)
    assert ended.updates.select("update_id", "kind", "effective_date").rows() == [
        ("C1.20270301.resumed", "resumed", date(2027, 3, 1))]


def test_the_exports_block_suspends_and_a_monitoring_block_does_not() -> None:
    on = pl.DataFrame({"receivable_id": ["a", "a-sz", "a-mg"], "amount_cents": [10000, 500, 300],
                       "block_reason": ["ADV", None, None], "dunning_block_until": [None, None, None]})
    r = night_updates(CASE, on, paid(), night=NIGHT)
    assert r.updates.select("kind", "suspension_reason", "suspended_until").rows() == [("suspended", "ADV", None)]
    watch = on.with_columns(pl.lit("NIEDERSCHLAGUNG").alias("block_reason"))
    assert night_updates(CASE, watch, paid(), night=NIGHT).updates.is_empty()


def test_a_reversal_on_an_open_case_tells_the_office_the_higher_open_amount() -> None:
    first = night_updates(CASE, open_now(a=4000, **{"a-sz": 500, "a-mg": 300}), paid(("a", 6000)), night=NIGHT)
    at = datetime(2026, 11, 10, 21, tzinfo=UTC)
    r = night_updates(CASE, open_now(a=10000, **{"a-sz": 500, "a-mg": 300}),
                      pl.concat([paid(("a", 6000), at=at), paid(("a", -6000), on=date(2026, 11, 12))]),
                      night=date(2026, 11, 12), booked=first.updates.with_columns(pl.lit(at).alias("committed_at")),
                      booked_claims=first.update_claims.with_columns(pl.lit(at).alias("committed_at")))
    assert r.updates.select("kind", "note").rows() == [("partial_payment", NOTE_REVERSAL)]
    assert r.update_claims.select("paid_cents", "open_principal_cents").row(0) == (0, 10000)


def test_a_reversal_on_a_settled_case_is_listed_for_a_clerk_not_sent() -> None:
    settled = pl.DataFrame({"case_number": ["C9"], "receivable_id": ["s"], "kassenzeichen": ["KZ-s"],
                            "closed_on": [date(2026, 11, 5)]})
    r = night_updates(CASE, open_now(a=10000, s=2500, **{"a-sz": 500, "a-mg": 300}), paid(("s", -2500)),
                      night=NIGHT, settled_claims=settled)
    assert r.updates.is_empty()
    assert r.reopened.rows() == [("C9", "s", "KZ-s", 2500, 2500, date(2026, 11, 5))]


def test_a_claim_the_open_items_no_longer_list_keeps_its_reported_amount() -> None:
    r = night_updates(CASE, open_now(a=10000), paid(), night=NIGHT)        # a-sz, a-mg missing: unknown, not 0
    assert r.updates.is_empty()


def test_without_a_known_hand_off_time_only_tonights_payments_count() -> None:
    unknown = CASE.with_columns(pl.lit(None, pl.Datetime("us", "UTC")).alias("handed_at"))
    old = paid(("a", 3000), at=datetime(2026, 10, 1, tzinfo=UTC))
    r = night_updates(unknown, open_now(a=10000, **{"a-sz": 500, "a-mg": 300}), old, night=NIGHT)
    assert r.updates.is_empty()
    r = night_updates(unknown, open_now(a=9000, **{"a-sz": 500, "a-mg": 300}), pl.concat([old, paid(("a", 1000))]),
                      night=NIGHT)
    assert r.update_claims.select("paid_cents", "open_principal_cents").row(0) == (1000, 9000)
