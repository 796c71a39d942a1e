"""The adapter between the Amtshilfe format, the checks and the feedback (amtshilfe/adapt.py), on real files
written and read by the XML format."""

from __future__ import annotations

from datetime import date
from typing import Any

import polars as pl

from amtshilfe import model
from amtshilfe.adapt import answers_from_feedback, ersuchen_rows
from amtshilfe.checks import ErsuchenRow, check
from amtshilfe.feedback import cost_invoice, feedback
from amtshilfe.xml_format import read_answers, read_requests, write_answers, write_requests
from claims.config import AmtshilfeSection
from claims.vocab import ErsuchenCheck, ErsuchenOutcome, ErsuchenState
from outputs.amtshilfe_texts import ERSUCHEN_CHECK_TEXT
from tests.amtshilfe_frames import ANSWER_HEADER, HEADER

SETTINGS = AmtshilfeSection(district_postcodes=("33602",))
IHK = {"creditor_id": "IHK-BI", "creditor_name": "IHK Ostwestfalen zu Bielefeld"}


def request(mid: str, file_number: str, **extra: Any) -> dict[str, Any]:
    return {"message_id": mid, **IHK, "creditor_file_number": file_number, "request_date": date(2026, 3, 2),
            "debtor_name": "Anna Muster", "debtor_street": "Markt 1", "debtor_postcode": "33602",
            "debtor_city": "Bielefeld", "enforceable_statement": "vollstreckbar", "payment_reference": "IHK-4711",
            "enforceable_date": date(2026, 2, 10), **extra}


def notice(mid: str, position: int, principal: int) -> dict[str, Any]:
    return {"message_id": mid, "position": position, "notice_date": date(2026, 1, 5),
            "notice_authority": "IHK Bielefeld", "notice_file_number": f"B-{position}",
            "principal_cents": principal, "surcharge_cents": 0, "costs_cents": 500}


def through_file(data: model.Requests) -> model.Requests:
    got = read_requests(write_requests(HEADER, data))
    assert got.rejected.height == 0
    return got.data


def test_requests_become_one_row_per_notice_in_file_order_with_the_statement_as_a_flag() -> None:
    data = through_file(model.requests(
        pl.DataFrame([request("E-1", "A-1"), request("E-2", "A-2", enforceable_statement=None, enforceable_date=None)]),
        pl.DataFrame([notice("E-1", 1, 10_000), notice("E-1", 2, 20_000), notice("E-2", 1, 5_000)])))
    rows = ersuchen_rows(data, prefix="f1:")
    ErsuchenRow.validate(rows, cast=False)
    assert rows["message_id"].to_list() == ["f1:E-1", "f1:E-1", "f1:E-2"]
    assert rows["principal_cents"].to_list() == [10_000, 20_000, 5_000]
    assert rows["enforceable_statement"].to_list() == [True, True, False]
    assert rows["enforceable_since"][0] == date(2026, 2, 10)
    answers = check(rows, None, SETTINGS).answers
    assert answers["outcome"].to_list() == [ErsuchenOutcome.ACCEPTED, ErsuchenOutcome.RETURNED]
    assert answers["check"][1] == ErsuchenCheck.NOT_ENFORCEABLE
    assert answers["total_cents"][0] == 31_000


def held_of(data: model.Requests) -> tuple[pl.DataFrame, pl.DataFrame]:
    """What the ledger would hold after accepting ``data``'s requests."""
    rows = ersuchen_rows(data)
    held = rows.unique("message_id", keep="first", maintain_order=True).drop(
        "message_id", "message", *[c for c in rows.columns if c.startswith(("notice_", "period_"))])
    return held, rows


def test_an_aenderung_is_completed_from_the_held_request_and_compares_with_it() -> None:
    original = model.requests(pl.DataFrame([request("E-1", "A-1")]), pl.DataFrame([notice("E-1", 1, 10_000)]))
    held, held_notices = held_of(original)
    first = check(ersuchen_rows(original), None, SETTINGS).answers
    open_ = pl.DataFrame({"creditor_id": ["IHK-BI"], "creditor_file_number": ["A-1"], "state": ["accepted"],
                          "content_key": first["content_key"].to_list(), "case_number": ["AH-1"]})
    moved = {"message_id": "C-1", "message": "aenderung", "creditor_id": "IHK-BI", "creditor_file_number": "A-1",
             "message_date": date(2026, 5, 1), "debtor_name": "Anna Muster", "debtor_street": "Neumarkt 9",
             "debtor_postcode": "33602", "debtor_city": "Bielefeld"}
    same = {**moved, "message_id": "C-2", "debtor_street": "Markt 1"}
    data = through_file(model.requests(changes=pl.DataFrame([moved, same])))
    rows = ersuchen_rows(data, held=held, held_notices=held_notices)
    # the held notice and the held request's fields come along
    assert rows["principal_cents"].to_list() == [10_000, 10_000]
    assert rows["creditor_name"].to_list() == [IHK["creditor_name"]] * 2
    assert rows["request_date"].to_list() == [date(2026, 3, 2)] * 2
    got = check(rows, open_, SETTINGS).answers
    assert got["outcome"].to_list() == [ErsuchenOutcome.APPLIED, ErsuchenOutcome.REPEATED]


def test_a_change_for_a_request_not_held_is_returned_unknown_and_a_ruecknahme_is_applied() -> None:
    data = through_file(model.requests(changes=pl.DataFrame([
        {"message_id": "R-1", "message": "ruecknahme", "creditor_id": "IHK-BI", "creditor_file_number": "A-1",
         "message_date": date(2026, 5, 1)},
        {"message_id": "R-2", "message": "ruecknahme", "creditor_id": "IHK-BI", "creditor_file_number": "A-9",
         "message_date": date(2026, 5, 1)}])))
    open_ = pl.DataFrame({"creditor_id": ["IHK-BI"], "creditor_file_number": ["A-1"], "state": ["accepted"],
                          "content_key": ["k"], "case_number": ["AH-1"]})
    got = check(ersuchen_rows(data), open_, SETTINGS).answers
    assert got["outcome"].to_list() == [ErsuchenOutcome.APPLIED, ErsuchenOutcome.RETURNED]
    assert got["state"][0] == ErsuchenState.WITHDRAWN
    assert got["check"][1] == ErsuchenCheck.UNKNOWN_CASE


def test_feedback_rows_become_an_answers_file_the_reader_takes() -> None:
    events = pl.DataFrame([
        {"event_id": "1", "kind": "accepted", "creditor_id": "IHK-BI", "creditor_file_number": "A-1",
         "case_number": "AH-1", "event_date": date(2026, 11, 3)},
        {"event_id": "2", "kind": "returned", "creditor_id": "IHK-BI", "creditor_file_number": "A-2",
         "event_date": date(2026, 11, 3), "check": "not_competent", "competent_authority_name": "Stadt Lemgo"},
        {"event_id": "3", "kind": "payment_forwarded", "creditor_id": "IHK-BI", "creditor_file_number": "A-1",
         "case_number": "AH-1", "event_date": date(2026, 11, 20), "amount_cents": 4_000},
    ])
    accepted = pl.DataFrame({"creditor_id": ["IHK-BI"], "creditor_file_number": ["A-1"], "case_number": ["AH-1"],
                             "accepted_on": [date(2026, 11, 3)]})
    invoice = cost_invoice(accepted, date(2026, 11, 1), date(2026, 11, 30), SETTINGS)
    rows = feedback(events, invoice=invoice)
    answers = answers_from_feedback(rows, ERSUCHEN_CHECK_TEXT, invoice=invoice)
    back = read_answers(write_answers(ANSWER_HEADER, answers))
    assert back.rejected.height == 0
    r = back.data.rueckgaben
    assert r["message_id"].to_list() == ["returned-2"]
    assert r["reason"][0] == "not_competent" and r["text"][0] == ERSUCHEN_CHECK_TEXT["not_competent"]
    assert r["competent_authority"][0] == "Stadt Lemgo"
    s = back.data.sachstand.sort("message_id")
    assert s["code"].to_list() == ["accepted", "cost_invoice", "payment_forwarded"]
    assert s.filter(pl.col("code") == "payment_forwarded")["amount_cents"].to_list() == [4_000]
    assert s.filter(pl.col("code") == "cost_invoice")["creditor_id"].to_list() == [None]
    items = back.data.cost_items
    assert items[["creditor_file_number", "kind", "amount_cents"]].rows() == [("A-1", "contribution", 3_700)]


def test_a_change_of_a_request_sent_earlier_in_the_same_delivery_is_completed_from_it() -> None:
    """An Ersuchen and its Änderung (no notices, no debtor) and Aussetzung in one file, nothing held."""
    data = through_file(model.requests(
        pl.DataFrame([request("E-1", "A-1")]),
        pl.DataFrame([notice("E-1", 1, 10_000), notice("E-1", 2, 20_000)]),
        pl.DataFrame([{"message_id": "C-1", "message": "aenderung", "creditor_id": "IHK-BI",
                       "creditor_file_number": "A-1", "message_date": date(2026, 3, 9), "note": "Hinweis"},
                      {"message_id": "S-1", "message": "aussetzung", "creditor_id": "IHK-BI",
                       "creditor_file_number": "A-1", "message_date": date(2026, 3, 9)}])))
    rows = ersuchen_rows(data)
    changed = rows.filter(pl.col("message_id") == "C-1")
    assert changed["principal_cents"].to_list() == [10_000, 20_000]          # the request's notices
    assert set(changed["creditor_name"]) == {IHK["creditor_name"]} and set(changed["debtor_name"]) == {"Anna Muster"}
    answers = check(rows, None, SETTINGS).answers
    assert answers.select("message_id", "outcome").rows() == [
        ("E-1", ErsuchenOutcome.ACCEPTED), ("C-1", ErsuchenOutcome.REPEATED), ("S-1", ErsuchenOutcome.APPLIED)]
