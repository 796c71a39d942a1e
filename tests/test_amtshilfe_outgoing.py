"""``amtshilfe.outgoing`` (pure): routing a hand-off's cases in, out or held; the Ersuchen built from the
claims; answers tracked by our file number; settlement and Rücknahme — literal tables."""

from __future__ import annotations

from datetime import date, datetime

import polars as pl
import pytest

from amtshilfe import model
from amtshilfe.outgoing import Us, recalls, requests, route, settled, track
from amtshilfe.xml_format import read_requests, write_requests
from claims.config import AmtshilfeSection
from claims.vocab import HandoffSkip, OutgoingState

S = AmtshilfeSection(district_postcodes=("33602",), district_municipalities=("MUSTERSTADT",))
DIRECTORY = pl.DataFrame(
    {"key_kind": ["postcode", "ags"], "key": ["48143", "05515000"], "authority_id": ["VS-MS", "VS-MS"],
     "authority_name": ["Stadt Münster"] * 2, "authority_street": [None] * 2, "authority_postcode": [None] * 2,
     "authority_city": ["Münster"] * 2, "exchange": ["xta:ms"] * 2, "line": [2, 2]},
    schema_overrides={"authority_street": pl.String, "authority_postcode": pl.String})
DAY = date(2026, 12, 9)


def case(number: str, debtor: str, postcode: str, city: str = "Irgendwo", new: bool = True) -> dict[str, object]:
    return {"case_number": number, "debtor_id": debtor, "new": new, "debtor_name": f"Name {debtor}",
            "debtor_street": "Weg 1", "debtor_postcode": postcode, "debtor_city": city, "debtor_country": None,
            "debtor_birth_date": None}


def routed(cases: list[dict[str, object]], settings: AmtshilfeSection = S, returned: list[str] | None = None
           ) -> tuple[list[str], list[tuple[str, str]], list[tuple[str, str]]]:
    r = route(pl.DataFrame(cases), settings, DIRECTORY,
              pl.Series("debtor_id", returned or [], pl.String))
    return (sorted(r.home.to_list()), r.out.select("case_number", "authority_id").rows(),
            r.held.select("case_number", "reason").rows())


@pytest.mark.parametrize(("c", "where"), [
    (case("K1", "A", "33602"), "home"),                                 # postcode in the district
    (case("K1", "A", "33609", city="Musterstadt"), "home"),             # the municipality by name
    (case("K1", "A", "48143"), "out"),                                  # Münster's postcode: the directory
    (case("K1", "A", "99998"), "held"),                                 # nobody listed
    (case("K1", "A", "48143", new=False), "home"),                      # an open case of our office stays
])
def test_route(c: dict[str, object], where: str) -> None:
    home, out, held = routed([c])
    assert {"home": (["K1"], [], []), "out": ([], [("K1", "VS-MS")], []),
            "held": ([], [], [("K1", HandoffSkip.NO_COMPETENT_AUTHORITY)])}[where] == (home, out, held)


def test_no_district_sends_nothing_out_and_a_returned_debtor_stays_with_us() -> None:
    cases = [case("K1", "A", "48143"), case("K2", "B", "48143")]
    assert routed(cases, AmtshilfeSection()) == (["K1", "K2"], [], [])
    assert routed(cases, returned=["A"]) == (["K1"], [("K2", "VS-MS")], [])


ITEMS = pl.DataFrame({
    "case_number": ["K1", "K1", "K1", "K1"], "receivable_id": ["R1", "F1", "F2", "R3"],
    "main_receivable_id": ["R1", "R1", "R1", "R3"], "ancillary": [False, True, True, False],
    "kassenzeichen": ["5120", "9000", "9000", "5100"],
    "claim_type": ["GRUNDSTEUER", "MAHNGEBUEHR", "SAEUMNISZUSCHLAG", "HUNDESTEUER"],
    "open_cents": [9900, 649, 100, 5000], "due_date": [date(2026, 10, 1)] * 4,
    "notice_date": [None, None, None, date(2026, 9, 1)], "mahnung_deadline": [date(2026, 11, 25)] * 4})
US = Us("VS-MU", "Vollstreckungsstelle Musterstadt", iban="DE02120300000000202051", notice_authority="Stadt X")


def test_the_ersuchen_carries_one_notice_per_main_claim_and_is_valid() -> None:
    out = pl.DataFrame([case("K1", "B", "48143")]).with_columns(pl.lit("VS-MS").alias("authority_id"))
    r = requests(out, ITEMS, US, DAY)
    e = r.requests.row(0, named=True)
    assert (e["creditor_id"], e["creditor_file_number"], e["payment_reference"], e["enforceable_date"]) == (
        "VS-MU", "K1", "5100", date(2026, 11, 25))
    assert r.notices.select("position", "notice_file_number", "notice_date", "principal_cents", "surcharge_cents",
                            "costs_cents").rows() == [(1, "5100", date(2026, 9, 1), 5000, 0, 0),
                                                      (2, "5120", date(2026, 10, 1), 9900, 100, 649)]
    header = model.Header("M1", datetime(2026, 12, 9, 8), model.Body("Us", "VS-MU"),
                          model.Body("Münster", "VS-MS"))
    back = read_requests(write_requests(header, model.requests(r.requests, r.notices, recalls(
        pl.DataFrame({"file_number": ["K9"]}), US, DAY))))
    assert back.rejected.height == 0 and back.data.changes["message"].to_list() == ["ruecknahme"]


def test_settled_when_every_claim_is_closed_recalled_unless_they_forwarded() -> None:
    sent = pl.DataFrame({"file_number": ["K1", "K2", "K3"], "authority_id": ["VS-MS"] * 3})
    claims = pl.DataFrame({"file_number": ["K1", "K1", "K2", "K3"], "receivable_id": ["a", "b", "c", "d"]})
    open_ = pl.DataFrame({"receivable_id": ["a", "b", "d"], "open_cents": [0, 5, 0]})
    got = settled(sent, claims, open_, pl.Series(["K3"]))
    assert got.select("file_number", "recall").rows() == [("K2", True), ("K3", False)]   # K1: b still open


SENT = pl.DataFrame({"file_number": ["K1", "K2", "K3"], "authority_id": ["VS-MS", "VS-MS", "VS-K"],
                     "state": ["sent", "settled", "sent"]})


def test_answers_are_matched_by_file_number_and_sender() -> None:
    d = date(2026, 12, 10)
    a = model.answers(
        pl.DataFrame([{"message_id": "M1", "creditor_file_number": "K1", "message_date": d, "reason": "not_competent",
                       "text": "verzogen"}]),
        pl.DataFrame([{"message_id": "M2", "creditor_file_number": "K2", "message_date": d, "code": "uncollectible"},
                      {"message_id": "M3", "creditor_file_number": "K3", "message_date": d, "code": "accepted"},
                      {"message_id": "M4", "creditor_file_number": "K7", "message_date": d, "code": "accepted"},
                      {"message_id": "M5", "creditor_file_number": "K1", "message_date": d,
                       "code": "payment_forwarded", "amount_cents": 500, "paid_on": d}]))
    events, unknown = track(a, "VS-MS", SENT, "abc123abc123")
    assert events.select("event_id", "file_number", "kind", "state", "amount_cents").rows() == [
        ("abc123abc123:M1", "K1", "returned", OutgoingState.RETURNED, None),
        ("abc123abc123:M2", "K2", "uncollectible", None, None),          # K2 is settled already: no new state
        ("abc123abc123:M5", "K1", "payment_forwarded", None, 500)]
    assert unknown.select("message_id", "file_number").rows() == [("M3", "K3"), ("M4", "K7")]   # K3 went to Köln
