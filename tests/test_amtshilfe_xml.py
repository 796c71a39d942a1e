"""amtshilfe.xml_format: literal round trips of every message kind, every rejection reason, whole files refused."""

from __future__ import annotations

from datetime import date

import dataframely as dy
import polars as pl
import pytest
from amtshilfe_frames import ANSWER_HEADER, HEADER, answers, requests
from lxml import etree

from amtshilfe import model
from amtshilfe.model import SACHSTAND_CODES
from amtshilfe.xml_format import (
    ELEMENT,
    NAMESPACE,
    XAMTSHILFE,
    AmtshilfeFileError,
    read_answers,
    read_requests,
    schema,
    write_answers,
    write_requests,
)
from claims.vocab import ErsuchenCheck, ErsuchenCostItem, ErsuchenFeedback, ErsuchenMessage


def _same(a: pl.DataFrame, b: pl.DataFrame) -> None:
    assert a.schema == b.schema
    assert a.to_dicts() == b.to_dicts()


@pytest.fixture(scope="module")
def req_bytes() -> bytes:
    return write_requests(HEADER, requests(), file="bs.xml")


@pytest.fixture(scope="module")
def ans_bytes() -> bytes:
    return write_answers(ANSWER_HEADER, answers(), file="answers.xml")


# --- round trips ------------------------------------------------------------------------------------------

def test_requests_round_trip_every_inbound_kind(req_bytes: bytes) -> None:
    got = read_requests(req_bytes, file="bs.xml")
    want = requests()
    assert got.header == HEADER
    _same(got.data.requests, want.requests)
    _same(got.data.notices, want.notices.sort("message_id", "position", maintain_order=True)
          .sort(pl.col("message_id").replace_strict({"E-1": 0, "E-2": 1, "A-1": 2}), maintain_order=True))
    _same(got.data.changes, want.changes)
    assert set(got.data.changes["message"]) | {"ersuchen"} == {"ersuchen", "aenderung", "aussetzung", "ruecknahme"}
    assert got.rejected.is_empty() and got.count_in == 6


def test_answers_round_trip_every_outbound_kind(ans_bytes: bytes) -> None:
    got = read_answers(ans_bytes, file="answers.xml")
    want = answers()
    assert got.header == ANSWER_HEADER
    for a, b in ((got.data.rueckgaben, want.rueckgaben), (got.data.sachstand, want.sachstand),
                 (got.data.cost_items, want.cost_items), (got.data.information, want.information)):
        _same(a, b)
    assert set(got.data.sachstand["code"]) == set(SACHSTAND_CODES)
    assert got.rejected.is_empty() and got.count_in == len(ErsuchenCheck) + 6 + 2   # a Rückgabe per check


def test_amounts_at_the_edge_are_exact_euros(req_bytes: bytes) -> None:
    text = req_bytes.decode()
    assert "<Principal>1234567.89</Principal>" in text and "<Surcharges>0.01</Surcharges>" in text
    assert "<Principal>110.16</Principal>" in text
    # the control sum is every notice amount of the file
    assert "<ControlSum>1234754.15</ControlSum>" in text
    assert "<Notices>4</Notices>" in text and "<Messages>6</Messages>" in text
    assert f'xmlns="{NAMESPACE}" schemaVersion="1.0"' in text


def test_answers_header_sums_forwarded_money_and_costs(ans_bytes: bytes) -> None:
    text = ans_bytes.decode()
    assert "<ControlSum>74.01</ControlSum>" in text and "<CostItems>2</CostItems>" in text
    assert "&amp; &lt;folgt&gt;" in text                 # text is escaped


def test_every_message_kind_has_an_element_and_its_xamtshilfe_name() -> None:
    assert set(ELEMENT) == set(ErsuchenMessage) == set(XAMTSHILFE)
    assert XAMTSHILFE[ErsuchenMessage.SACHSTAND] == "vollstreckungshilfe.Aktion.105"
    assert all(name.startswith("vollstreckungshilfe.") for name in XAMTSHILFE.values())
    from importlib import resources

    xsd = etree.parse(str(resources.files("amtshilfe") / "schema" / "amtshilfe-1.xsd"))
    declared = {e.get("name") for e in xsd.iter("{http://www.w3.org/2001/XMLSchema}element")}
    assert set(ELEMENT.values()) <= declared
    assert schema() is schema()                           # compiled once


# --- one message rejected, the rest read ------------------------------------------------------------------

def _edit(data: bytes, old: str, new: str, count: int = 1) -> bytes:
    text = data.decode()
    assert text.count(old) >= count, old
    return text.replace(old, new, count).encode()


def _one_rejected(data: bytes) -> dict[str, object]:
    got = read_requests(data, file="bs.xml")
    assert got.rejected.height == 1
    read = got.data.requests.height + got.data.changes.height
    assert got.count_in == read + got.rejected.height == 6
    row: dict[str, object] = got.rejected.row(0, named=True)
    return row


def test_a_schema_error_rejects_only_its_message(req_bytes: bytes) -> None:
    row = _one_rejected(_edit(req_bytes, "<Principal>1234567.89</Principal>", "<Principal>1234567.891</Principal>"))
    assert row["file"] == "bs.xml" and row["message"] == "ersuchen" and row["message_id"] == "E-1"
    assert row["creditor_file_number"] == "BS/2026/000123"
    assert row["element"] == "Ersuchen[1]/Notice[2]/Principal"
    assert "Principal" in str(row["reason"]) and "1234567.891" in str(row["reason"])
    assert isinstance(row["line"], int) and row["line"] > 20


def test_a_bad_iban_and_a_missing_file_number_are_rejected(req_bytes: bytes) -> None:
    row = _one_rejected(_edit(req_bytes, "<Iban>DE02120300000000202051</Iban>", "<Iban>de02 1203</Iban>"))
    assert row["element"] == "Ersuchen[1]/Creditor/Iban" and row["message_id"] == "E-1"
    row = _one_rejected(_edit(req_bytes, "<FileNumber>BS/2026/000103</FileNumber>", ""))
    assert row["message"] == "ruecknahme" and row["creditor_file_number"] is None
    assert "FileNumber" in str(row["reason"])


def test_a_repeated_message_id_rejects_the_second(req_bytes: bytes) -> None:
    row = _one_rejected(_edit(req_bytes, "<MessageId>S-2</MessageId>", "<MessageId>S-1</MessageId>"))
    assert row["reason"] == "ErsuchenAussetzung[2]: message id S-1 repeated in this file"
    assert row["element"] == "ErsuchenAussetzung[2]" and row["message"] == "aussetzung"


def test_a_period_that_ends_before_it_starts_is_rejected(req_bytes: bytes) -> None:
    row = _one_rejected(_edit(req_bytes, "<PeriodTo>2025-03-31</PeriodTo>", "<PeriodTo>2024-12-31</PeriodTo>"))
    assert row["message"] == "aenderung" and row["element"] == "ErsuchenAenderung/Notice"
    assert row["reason"] == "ErsuchenAenderung/Notice: the period ends before it starts"


def test_a_suspension_ending_before_its_message_is_rejected(req_bytes: bytes) -> None:
    row = _one_rejected(_edit(req_bytes, "<Until>2027-03-31</Until>", "<Until>2026-11-30</Until>"))
    assert row["message_id"] == "S-1"
    assert str(row["reason"]).endswith("suspended until a day before the message")


def test_an_unknown_element_among_the_messages_is_rejected(req_bytes: bytes) -> None:
    data = _edit(req_bytes, "<Messages>6</Messages>", "<Messages>7</Messages>")
    data = _edit(data, "</Requests>", "  <Mahnung><MessageId>X</MessageId></Mahnung>\n</Requests>")
    got = read_requests(data)
    assert got.count_in == 7 and got.rejected.height == 1
    row = got.rejected.row(0, named=True)
    assert row["message"] is None and row["element"] == "Mahnung" and "not expected" in row["reason"]
    assert got.data.requests.height == 2 and got.data.changes.height == 4


@pytest.mark.parametrize(("old", "new", "reason"), [
    ("<Amount>0.01</Amount>\n      <Date>2026-12-07</Date>", "<Amount>0.00</Amount>\n      <Date>2026-12-07</Date>",
     "Sachstand[2]/Payment/Amount"),
    ("<Code>settled</Code>", "<Code>settled</Code>\n    <Payment><Amount>1.00</Amount><Date>2026-12-07</Date></Payment>",
     "Payment belongs to payment_forwarded and only there"),
    ("<Code>cost_invoice</Code>", "<Code>settled</Code>", "Invoice belongs to cost_invoice and only there"),
    ("<PeriodTo>2026-11-30</PeriodTo>", "<PeriodTo>2026-10-31</PeriodTo>", "the period ends before it starts"),
])
def test_status_report_rules(ans_bytes: bytes, old: str, new: str, reason: str | None) -> None:
    got = read_answers(_edit(ans_bytes, old, new))
    assert got.rejected.height == 1 and got.count_in == len(ErsuchenCheck) + 6 + 2
    assert got.data.sachstand.height == 5
    if reason:
        assert reason in got.rejected["reason"][0]


def test_a_status_report_without_its_request_is_rejected(ans_bytes: bytes) -> None:
    text = ans_bytes.decode()
    start = text.index("<MessageId>SS-accepted</MessageId>")
    block = text[start:text.index("<CaseNumber>", start)]
    got = read_answers(text.replace(block, "<MessageId>SS-accepted</MessageId>\n    ").encode())
    assert got.rejected["reason"].to_list() == ["Sachstand[1]: status report accepted names no request (Creditor)"]
    assert got.data.cost_items.height == 2                # the invoice is read


def test_payment_forwarded_without_the_payment_is_rejected(ans_bytes: bytes) -> None:
    text = ans_bytes.decode()
    start = text.index("<Payment>")
    got = read_answers((text[:start] + text[text.index("</Payment>") + len("</Payment>"):]).encode())
    assert got.rejected.height == 1
    assert "Payment belongs to payment_forwarded and only there" in got.rejected["reason"][0]
    assert got.rejected["message_id"][0] == "SS-payment_forwarded"


# --- whole files refused ----------------------------------------------------------------------------------

def _refused(data: bytes, *, answers_file: bool = False) -> AmtshilfeFileError:
    with pytest.raises(AmtshilfeFileError) as info:
        (read_answers if answers_file else read_requests)(data, file="f.xml")
    assert info.value.file == "f.xml"
    return info.value


def test_a_cut_file_is_refused(req_bytes: bytes) -> None:
    err = _refused(req_bytes[: len(req_bytes) // 2])
    assert err.reason.startswith("not well-formed XML") and err.line > 0


def test_a_padded_file_is_refused(req_bytes: bytes) -> None:
    text = req_bytes.decode()
    extra = text[text.index("  <ErsuchenRuecknahme>"):text.index("</Requests>")].replace("R-1", "R-2")
    err = _refused(text.replace("</Requests>", extra + "</Requests>").encode())
    assert err.reason == "the header counts 6 messages, the file holds 7"
    assert err.element == "Header/Counts/Messages"


def test_a_notice_count_or_control_sum_that_differs_is_refused(req_bytes: bytes) -> None:
    err = _refused(_edit(req_bytes, "<Notices>4</Notices>", "<Notices>5</Notices>"))
    assert err.reason == "the header counts 5 Notices, the file holds 4"
    err = _refused(_edit(req_bytes, "<ControlSum>1234754.15</ControlSum>", "<ControlSum>1234754.14</ControlSum>"))
    assert err.reason == "control sum 1234754.14 differs from the messages' sum 1234754.15"
    assert err.element == "Header/ControlSum"


def test_answers_cost_item_count_differs(ans_bytes: bytes) -> None:
    err = _refused(_edit(ans_bytes, "<CostItems>2</CostItems>", "<CostItems>3</CostItems>"), answers_file=True)
    assert err.reason == "the header counts 3 CostItems, the file holds 2"


def test_wrong_namespace_or_root_is_refused(req_bytes: bytes) -> None:
    err = _refused(_edit(req_bytes, NAMESPACE, "urn:stadtkasse:amtshilfe:2"))
    assert "expected Requests in namespace urn:stadtkasse:amtshilfe:1" in err.reason and err.element == "Requests"
    err = _refused(req_bytes, answers_file=True)
    assert err.reason.startswith("expected Answers")


def test_a_broken_header_is_refused(req_bytes: bytes) -> None:
    err = _refused(_edit(req_bytes, "<Created>2026-12-07T09:30:00</Created>", "<Created>07.12.2026</Created>"))
    assert err.element == "Header/Created" and "Created" in err.reason
    err = _refused(_edit(req_bytes, 'schemaVersion="1.0"', 'schemaVersion="2.0"'))
    assert "schemaVersion" in err.reason


def test_not_xml_is_refused() -> None:
    assert _refused(b"Aktenzeichen;Name\r\n1;2\r\n").reason.startswith("not well-formed XML")
    assert _refused(b"").reason.startswith("not well-formed XML")


def _after_declaration(data: bytes, insert: str) -> str:
    declaration, body = data.decode().split("\n", 1)
    assert declaration.startswith("<?xml")
    return f"{declaration}\n{insert}{body}"


def test_an_external_entity_is_refused_unread(req_bytes: bytes, tmp_path: pytest.TempPathFactory) -> None:
    secret = tmp_path / "secret.txt"                      # type: ignore[operator]
    secret.write_text("GEHEIM", encoding="utf-8")
    text = _after_declaration(req_bytes, f'<!DOCTYPE Requests [\n<!ENTITY x SYSTEM "file://{secret}">]>\n')
    text = text.replace("<Note>Forderung beglichen</Note>", "<Note>&x;</Note>")
    err = _refused(text.encode())
    assert err.reason == "a DOCTYPE (DTD, entities) is not allowed" and "GEHEIM" not in str(err)


def test_an_entity_expansion_bomb_is_refused(req_bytes: bytes) -> None:
    bomb = ['<!ENTITY l0 "lol">'] + [f'<!ENTITY l{i} "{("&l" + str(i - 1) + ";") * 10}">' for i in range(1, 10)]
    text = _after_declaration(req_bytes, "<!DOCTYPE Requests [\n" + "\n".join(bomb) + "]>\n")
    err = _refused(text.replace("<Note>Forderung beglichen</Note>", "<Note>&l9;</Note>").encode())
    assert err.reason == "a DOCTYPE (DTD, entities) is not allowed"


def test_a_doctype_without_declaration_or_after_a_comment_is_refused(req_bytes: bytes) -> None:
    body = req_bytes.decode().split("\n", 1)[1]
    assert _refused(("<!DOCTYPE Requests>\n" + body).encode()).reason == "a DOCTYPE (DTD, entities) is not allowed"
    assert _refused(_after_declaration(req_bytes, "<!-- x --><!DOCTYPE Requests>\n").encode()).line == 1


def test_a_path_is_read_like_bytes(req_bytes: bytes, tmp_path: pytest.TempPathFactory) -> None:
    path = tmp_path / "lieferung.xml"                     # type: ignore[operator]
    path.write_bytes(req_bytes)
    got = read_requests(path)
    assert got.count_in == 6 and got.data.requests.height == 2
    bad = read_requests(_edit(req_bytes, "<MessageId>S-2</MessageId>", "<MessageId>S-1</MessageId>"), file=None)
    assert bad.rejected["file"].to_list() == ["<bytes>"]


# --- writers refuse -----------------------------------------------------------------------------------------

def test_writer_refuses_what_the_schema_or_the_rules_refuse() -> None:
    data = requests()
    long_name = data.requests.with_columns(pl.lit("x" * 141).alias("debtor_name"))
    with pytest.raises(AmtshilfeFileError) as info:
        write_requests(HEADER, model.Requests(long_name, data.notices, data.changes))
    assert info.value.element == "Ersuchen[1]/Debtor/Name"
    twice = data.changes.with_columns(pl.lit("S-9").alias("message_id"))
    with pytest.raises(AmtshilfeFileError, match="used more than once"):
        write_requests(HEADER, model.Requests(data.requests, data.notices.filter(pl.col("message_id") != "A-1"),
                                              twice))
    orphan = pl.concat([data.notices, data.notices.head(1).with_columns(pl.lit("S-1").alias("message_id"))])
    with pytest.raises(AmtshilfeFileError, match="notices of no request or change"):
        write_requests(HEADER, model.Requests(data.requests, orphan, data.changes))
    moved = data.changes.with_columns(pl.lit("Neu").alias("debtor_name"))      # only an Aenderung moves a debtor
    with pytest.raises(AmtshilfeFileError, match="a new debtor on a message that is no Aenderung: message S-1"):
        write_requests(HEADER, model.Requests(data.requests, data.notices, moved))
    negative = data.notices.with_columns(pl.lit(-1).alias("costs_cents"))
    with pytest.raises(dy.exc.ValidationError):
        write_requests(HEADER, model.Requests(data.requests, negative, data.changes))


def test_answer_writer_refuses_a_payment_without_amount() -> None:
    a = answers()
    s = a.sachstand.with_columns(pl.when(pl.col("code") == "payment_forwarded").then(None)
                                 .otherwise(pl.col("amount_cents")).alias("amount_cents"))
    with pytest.raises(AmtshilfeFileError, match="payment_forwarded without its amount and day"):
        write_answers(ANSWER_HEADER, model.Answers(a.rueckgaben, s, a.cost_items, a.information))
    with pytest.raises(AmtshilfeFileError, match="cost_invoice without items"):
        write_answers(ANSWER_HEADER, model.Answers(a.rueckgaben, a.sachstand, a.cost_items.head(0), a.information))
    bad_code = a.rueckgaben.with_columns(pl.lit("maybe").alias("reason"))
    with pytest.raises(dy.exc.ValidationError):
        write_answers(ANSWER_HEADER, model.Answers(bad_code, a.sachstand, a.cost_items, a.information))


def test_an_empty_delivery_round_trips() -> None:
    data = write_requests(HEADER, model.requests())
    got = read_requests(data)
    assert got.count_in == 0 and got.data.requests.is_empty() and "<ControlSum>0.00</ControlSum>" in data.decode()
    assert got.data.requests.schema == model.requests().requests.schema
    assert date(2026, 12, 7) == got.header.created.date()


def test_the_schema_code_lists_are_the_vocabularies() -> None:
    from importlib import resources

    from claims.vocab import ErsuchenCheck

    xs = "{http://www.w3.org/2001/XMLSchema}"
    doc = etree.parse(str(resources.files("amtshilfe") / "schema" / "amtshilfe-1.xsd"))
    lists = {t.get("name"): {e.get("value") for e in t.iter(f"{xs}enumeration")}
             for t in doc.getroot().iterfind(f"{xs}simpleType")}
    assert lists["CheckCode"] == {str(c) for c in ErsuchenCheck}
    assert lists["FeedbackCode"] == {str(c) for c in ErsuchenFeedback} - {ErsuchenFeedback.RETURNED}
    assert lists["CostItemKind"] == {str(c) for c in ErsuchenCostItem}


@pytest.mark.parametrize(("frame", "column", "value"), [
    ("sachstand", "code", "returned"), ("cost_items", "kind", "kostenbeitrag")])
def test_a_sachstand_speaks_only_the_feedback_vocabulary(frame: str, column: str, value: str) -> None:
    a = answers()
    bad = getattr(a, frame).with_columns(pl.lit(value).alias(column))
    with pytest.raises(dy.exc.ValidationError):
        model.answers(**{**{k: getattr(a, k) for k in ("rueckgaben", "sachstand", "cost_items", "information")},
                         frame: bad})
