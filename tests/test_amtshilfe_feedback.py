"""Feedback to the requesting creditors and the cost invoice (amtshilfe/feedback.py, docs/AMTSHILFE.md
"Feedback"): one row per event, never sent twice, a withdrawal after a partial payment with what was
forwarded, 37 € per accepted request of a paying creditor plus outlays."""

from __future__ import annotations

from datetime import date
from typing import Any

import polars as pl

from amtshilfe.feedback import FEEDBACK_COLUMNS, INVOICE_COLUMNS, cost_invoice, feedback, per_creditor
from claims.config import AmtshilfeSection
from claims.vocab import ErsuchenCostItem, ErsuchenFeedback, ErsuchenMessage


def event(eid: str, kind: str, day: date, file_number: str = "A-1", creditor: str = "IHK-BI",
          **extra: Any) -> dict[str, Any]:
    return {"event_id": eid, "kind": kind, "creditor_id": creditor, "creditor_file_number": file_number,
            "case_number": f"K-{file_number}", "payment_reference": f"REF-{file_number}", "event_date": day,
            **extra}


def frame(rows: list[dict[str, Any]]) -> pl.DataFrame:
    return pl.DataFrame(rows, schema_overrides={"amount_cents": pl.Int64, "check": pl.String})


WITHDRAWN_AFTER_PART = [
    event("e1", "accepted", date(2026, 3, 2)),
    event("e2", "payment_forwarded", date(2026, 3, 20), amount_cents=5_000),
    event("e3", "payment_forwarded", date(2026, 4, 3), amount_cents=2_500),
    event("e4", "withdrawn", date(2026, 4, 3)),
]


def test_a_withdrawal_after_a_partial_payment_tells_what_was_forwarded() -> None:
    rows = feedback(frame(WITHDRAWN_AFTER_PART))
    assert rows.columns == list(FEEDBACK_COLUMNS)
    assert rows.select("feedback_id", "message", "kind", "amount_cents", "forwarded_cents").rows() == [
        ("accepted-e1", ErsuchenMessage.SACHSTAND, ErsuchenFeedback.ACCEPTED, None, 0),
        ("payment_forwarded-e2", ErsuchenMessage.SACHSTAND, ErsuchenFeedback.PAYMENT_FORWARDED, 5_000, 5_000),
        ("payment_forwarded-e3", ErsuchenMessage.SACHSTAND, ErsuchenFeedback.PAYMENT_FORWARDED, 2_500, 7_500),
        ("withdrawn-e4", ErsuchenMessage.SACHSTAND, ErsuchenFeedback.WITHDRAWN, None, 7_500)]
    assert rows["case_number"].unique().to_list() == ["K-A-1"]
    assert rows["payment_reference"].unique().to_list() == ["REF-A-1"]


def test_nothing_is_sent_twice() -> None:
    first = feedback(frame(WITHDRAWN_AFTER_PART[:2]))
    # the next run sees all events again (and a new one); what was sent stays out, the totals stay right
    second = feedback(frame(WITHDRAWN_AFTER_PART), sent=first.select("feedback_id"))
    assert second["feedback_id"].to_list() == ["payment_forwarded-e3", "withdrawn-e4"]
    assert second["forwarded_cents"].to_list() == [7_500, 7_500]
    assert feedback(frame(WITHDRAWN_AFTER_PART), sent=pl.concat([first, second]).select("feedback_id")).height == 0
    # the same event delivered twice by the store: one row
    assert feedback(frame(WITHDRAWN_AFTER_PART[:1] * 2)).height == 1


def test_returned_is_a_rueckgabe_with_its_reason_and_the_competent_authority() -> None:
    rows = feedback(frame([event("r1", "returned", date(2026, 3, 2), check="not_competent",
                                 competent_authority_name="Stadt Dresden", case_number=None)]))
    got = rows.row(0, named=True)
    assert (got["message"], got["kind"], got["check"], got["competent_authority_name"], got["forwarded_cents"]) \
        == (ErsuchenMessage.RUECKGABE, ErsuchenFeedback.RETURNED, "not_competent", "Stadt Dresden", None)


def test_settled_and_uncollectible_carry_the_total_per_request() -> None:
    rows = feedback(frame([
        event("s2", "settled", date(2026, 5, 1)), event("s1", "payment_forwarded", date(2026, 5, 1), amount_cents=9_000),
        event("u1", "payment_forwarded", date(2026, 4, 1), "B-2", amount_cents=1_000),
        event("u2", "uncollectible", date(2026, 6, 1), "B-2")]))
    totals = dict(rows.select("feedback_id", "forwarded_cents").iter_rows())
    # on one day the payment counts before the settlement; requests do not share their totals
    assert totals == {"settled-s2": 9_000, "payment_forwarded-s1": 9_000, "payment_forwarded-u1": 1_000,
                      "uncollectible-u2": 1_000}


def test_rows_per_creditor() -> None:
    rows = feedback(frame([event("x1", "accepted", date(2026, 3, 2), creditor="IHK-BI"),
                           event("x2", "accepted", date(2026, 3, 1), creditor="HWK-OWL"),
                           event("x3", "returned", date(2026, 3, 3), "A-2", creditor="HWK-OWL", check="no_notice")]))
    parts = per_creditor(rows)
    assert sorted(parts) == ["HWK-OWL", "IHK-BI"]
    assert parts["HWK-OWL"]["feedback_id"].to_list() == ["accepted-x2", "returned-x3"]


ACCEPTED = [
    {"creditor_id": "IHK-BI", "creditor_file_number": "A-1", "case_number": "K-1", "accepted_on": date(2026, 3, 2)},
    {"creditor_id": "IHK-BI", "creditor_file_number": "A-2", "case_number": "K-2", "accepted_on": date(2026, 3, 31)},
    {"creditor_id": "IHK-BI", "creditor_file_number": "A-0", "case_number": "K-0", "accepted_on": date(2026, 2, 28)},
    {"creditor_id": "STADT-GT", "creditor_file_number": "G-1", "case_number": "K-3", "accepted_on": date(2026, 3, 5)},
    {"creditor_id": "HWK-OWL", "creditor_file_number": "H-1", "case_number": "K-4", "accepted_on": date(2026, 3, 9)},
]
OUTLAYS = [
    {"outlay_id": "o1", "creditor_id": "HWK-OWL", "creditor_file_number": "H-1", "case_number": "K-4",
     "outlay_date": date(2026, 3, 12), "amount_cents": 1_230, "description": "Auskunft Einwohnermeldeamt"},
    {"outlay_id": "o2", "creditor_id": "HWK-OWL", "creditor_file_number": "H-1", "case_number": "K-4",
     "outlay_date": date(2026, 4, 1), "amount_cents": 500, "description": "Porto"},
]


def test_cost_invoice_per_creditor_and_period() -> None:
    settings = AmtshilfeSection(district_postcodes=("33602",), cost_free_creditor_ids=("stadt-gt",))
    items = cost_invoice(pl.DataFrame(ACCEPTED), date(2026, 3, 1), date(2026, 3, 31), settings,
                         outlays=pl.DataFrame(OUTLAYS))
    assert items.columns == list(INVOICE_COLUMNS)
    assert items.select("item_id", "creditor_id", "item", "amount_cents").rows() == [
        ("contribution-HWK-OWL-H-1", "HWK-OWL", ErsuchenCostItem.CONTRIBUTION, 3_700),
        ("outlay-o1", "HWK-OWL", ErsuchenCostItem.OUTLAY, 1_230),
        ("contribution-IHK-BI-A-1", "IHK-BI", ErsuchenCostItem.CONTRIBUTION, 3_700),
        ("contribution-IHK-BI-A-2", "IHK-BI", ErsuchenCostItem.CONTRIBUTION, 3_700)]
    assert items["period_from"].unique().to_list() == [date(2026, 3, 1)]
    # the invoice goes out as one Sachstand row per creditor with its total, once
    rows = feedback(None, invoice=items)
    assert rows.select("feedback_id", "creditor_id", "kind", "amount_cents", "period_to").rows() == [
        ("cost_invoice-HWK-OWL-2026-03-01-2026-03-31", "HWK-OWL", ErsuchenFeedback.COST_INVOICE, 4_930,
         date(2026, 3, 31)),
        ("cost_invoice-IHK-BI-2026-03-01-2026-03-31", "IHK-BI", ErsuchenFeedback.COST_INVOICE, 7_400,
         date(2026, 3, 31))]
    assert feedback(None, invoice=items, sent=rows.select("feedback_id")).height == 0


def test_the_contribution_is_configurable() -> None:
    settings = AmtshilfeSection(district_postcodes=("33602",), cost_contribution="23,00")
    items = cost_invoice(pl.DataFrame(ACCEPTED[:1]), date(2026, 3, 1), date(2026, 3, 31), settings)
    assert items["amount_cents"].to_list() == [2_300]
    assert AmtshilfeSection().cost_contribution == 3_700
