"""synth.amtshilfe_data: seeded deliveries whose every message the checks answer as planned, in XML and CSV,
and bad records each rejected by the reader for the reason they were broken for."""

from __future__ import annotations

import polars as pl
import pytest

from amtshilfe.checks import check
from amtshilfe.csv_format import read_requests_csv
from amtshilfe.xml_format import read_requests
from claims.vocab import ErsuchenCheck, ErsuchenOutcome, ErsuchenState
from synth import amtshilfe_data as ad

N = 1_500


@pytest.fixture(scope="module")
def delivery() -> ad.Delivery:
    return ad.delivery(N, seed=11)


def _answered(rows: pl.DataFrame, held: pl.DataFrame | None = None) -> pl.DataFrame:
    return check(rows, held, ad.SETTINGS).answers.select("message_id", "outcome", "check", "creditor_id",
                                                         "creditor_file_number", "content_key")


def test_same_seed_same_delivery_other_seed_other() -> None:
    a, b, c = ad.delivery(300, seed=3), ad.delivery(300, seed=3), ad.delivery(300, seed=4)
    assert ad.requests_xml(a) == ad.requests_xml(b)
    assert ad.requests_csv(a) == ad.requests_csv(b)
    assert ad.requests_xml(a) != ad.requests_xml(c)
    # a bigger delivery starts with the smaller one's messages
    assert ad.delivery(400, seed=3).planned.head(300).equals(a.planned)


def test_every_message_is_answered_as_planned(delivery: ad.Delivery) -> None:
    got = _answered(ad.check_rows(delivery.data))
    both = delivery.planned.join(got, on="message_id", how="full", suffix="_got")
    assert both.height == N
    wrong = both.filter((pl.col("outcome") != pl.col("outcome_got"))
                        | pl.col("check").ne_missing(pl.col("check_got")))
    assert wrong.is_empty(), wrong


def test_every_check_and_outcome_is_produced(delivery: ad.Delivery) -> None:
    got = _answered(ad.check_rows(delivery.data))
    # below_paid is the ledger's (an Änderung against what was paid): the pure checks never give it
    assert set(got["check"].drop_nulls()) == set(ErsuchenCheck) - {ErsuchenCheck.BELOW_PAID}
    assert set(got["outcome"]) == set(ErsuchenOutcome)
    assert set(delivery.planned["plan"]) == {p for p, _ in ad.PLANS}


def test_the_variety_of_a_real_delivery(delivery: ad.Delivery) -> None:
    r, n = delivery.data.requests, delivery.data.notices
    assert set(r["creditor_id"].drop_nulls()) == {c.id for c in ad.CREDITORS}
    rundfunk = r.filter(pl.col("creditor_id").is_in(["BEITRAGSSERVICE", "WDR"]))
    assert (rundfunk["request_date"] <= ad.SETTINGS.rundfunk_cutoff).any()
    assert (rundfunk["request_date"] > ad.SETTINGS.rundfunk_cutoff).any()
    per = n.group_by("message_id").len()["len"]
    assert per.min() == 1 and per.max() >= 3
    district = [p for p, _ in ad.DISTRICT]
    assert r["debtor_postcode"].is_in(district).any() and (~r["debtor_postcode"].is_in(district)).any()
    assert set(delivery.data.changes["message"]) == {"aenderung", "aussetzung", "ruecknahme"}
    # Rundfunk surcharges: most fit the 1 %/8 € rule, the planned doubts do not
    rf = n.join(rundfunk.select("message_id"), on="message_id")
    fits = rf["surcharge_cents"] == (rf["principal_cents"] / 100).round(0).cast(pl.Int64).clip(lower_bound=800)
    assert fits.any() and (~fits).any()


def test_a_repeated_delivery_adds_nothing(delivery: ad.Delivery) -> None:
    first = _answered(ad.check_rows(delivery.data))
    held = (first.filter(pl.col("outcome") == ErsuchenOutcome.ACCEPTED)
            .select("creditor_id", "creditor_file_number", pl.lit(str(ErsuchenState.ACCEPTED)).alias("state"),
                    "content_key"))
    again = ad.repeat_of(delivery, 0.3)
    assert again.data.requests.height > 50
    got = _answered(ad.check_rows(again.data), held).join(again.planned, on="message_id")
    was_accepted = got["plan"].is_in(["accepted", "runoff"])
    assert (got.filter(was_accepted)["outcome"] == ErsuchenOutcome.REPEATED).all()
    # a returned request sent again is checked again, and returned for the same reason
    back = got.filter(pl.col("outcome_right") == ErsuchenOutcome.RETURNED)
    assert back.height and (back["check"] == back["check_right"]).all()


@pytest.mark.parametrize(("encoding", "eol"), [
    ("utf-8-sig", "\r\n"), ("utf-8", "\n"), ("cp1252", "\r\n"), ("cp1252", "\n")])
def test_the_csv_in_both_encodings_and_line_endings_reads_back(delivery: ad.Delivery, encoding: str,
                                                                eol: str) -> None:
    data = ad.requests_csv(delivery, encoding=encoding, line_terminator=eol)  # type: ignore[arg-type]
    assert (b"\r\n" in data) == (eol == "\r\n") and data.startswith(b"\xef\xbb\xbf") == (encoding == "utf-8-sig")
    if encoding == "cp1252":
        assert "ä".encode("cp1252") in data
    got = read_requests_csv(data, file="d.csv")
    want = ad.for_csv(delivery)
    assert got.rejected.is_empty()
    assert got.data.requests.height == want.data.requests.height and got.data.notices.height == want.data.notices.height
    answered = _answered(ad.check_rows(got.data)).with_columns(
        pl.col("creditor_file_number"))
    # the CSV's messages are answered as the XML's: by creditor and file number
    planned = want.planned.join(want.data.requests.select("message_id", "creditor_id", "creditor_file_number"),
                                on="message_id")
    both = planned.join(answered, on=["creditor_id", "creditor_file_number"], how="left", suffix="_got")
    assert both.filter(pl.col("creditor_id").is_not_null()).select(
        (pl.col("outcome") == pl.col("outcome_got")).all()).item()


def test_xml_bad_records_are_rejected_for_their_reason(delivery: ad.Delivery) -> None:
    data, broken = ad.with_bad_records(ad.requests_xml(delivery), "xml", every=40)
    assert set(broken["breakage"]) == set(ad.BREAKAGES)
    got = read_requests(data, file="bad.xml")
    assert got.count_in == N
    rej = got.rejected.join(broken, on="message_id", how="full", suffix="_b")
    assert rej.height == broken.height, rej
    where = {"bad_date": "RequestDate", "negative_amount": "Principal", "broken_row": "Creditor"}
    for row in rej.iter_rows(named=True):
        assert where[row["breakage"]] in row["reason"], row
    # the good ones are read
    assert got.data.requests.height + got.data.changes.height == N - broken.height


def test_csv_bad_records_are_rejected_for_their_reason(delivery: ad.Delivery) -> None:
    data, broken = ad.with_bad_records(ad.requests_csv(delivery, encoding="cp1252"), "csv", every=40)
    assert set(broken["breakage"]) == set(ad.BREAKAGES)
    got = read_requests_csv(data, file="bad.csv")
    first = got.rejected.filter(~pl.col("reason").str.starts_with("another row")).sort("line")
    assert first.height == broken.height
    expect = {"bad_date": "Ersuchensdatum: not a date", "negative_amount": "Hauptforderung: not an amount",
              "broken_row": "fields, the header has"}
    for row, how in zip(first.iter_rows(named=True), broken["breakage"], strict=True):
        assert expect[how] in row["reason"], (row, how)
    # a broken request is rejected whole; the others are read
    bad = set(broken["message_id"])
    assert not bad & set(got.data.requests["message_id"])
    assert got.data.requests.height == ad.for_csv(delivery).data.requests.height - len(bad)
