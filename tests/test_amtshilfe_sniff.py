"""amtshilfe.sniff: an inbox tells Amtshilfe deliveries from other files by their first bytes."""

from __future__ import annotations

import polars as pl
from amtshilfe_frames import ANSWER_HEADER, HEADER, answers, requests

from amtshilfe import model
from amtshilfe.csv_format import write_requests_csv
from amtshilfe.sniff import kind_of
from amtshilfe.xml_format import write_answers, write_requests


def test_our_files_are_recognised() -> None:
    assert kind_of(write_requests(HEADER, requests())) == "requests_xml"
    assert kind_of(write_answers(ANSWER_HEADER, answers())) == "answers_xml"
    r = requests()
    csv_requests = model.requests(r.requests, r.notices.filter(pl.col("message_id").is_in(["E-1", "E-2"])))
    for encoding in ("utf-8-sig", "utf-8", "cp1252"):
        assert kind_of(write_requests_csv(csv_requests, encoding=encoding)) == "requests_csv"  # type: ignore[arg-type]


def test_other_files_are_not() -> None:
    assert kind_of(b'<?xml version="1.0"?>\n<Handoff xmlns="urn:stadtkasse:enforcement:1"/>') is None
    assert kind_of(b'<?xml version="1.0"?>\n<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.02"/>') is None
    assert kind_of(b':20:STARTUMS\r\n:25:12030000/1234567\r\n') is None
    assert kind_of("Kassenzeichen;Betrag;Fälligkeit\r\n1;2;3\r\n".encode("cp1252")) is None
    assert kind_of(b"") is None
    assert kind_of(b'<a:Foo xmlns:a="urn:stadtkasse:amtshilfe:1"/>') is None


def test_a_prefixed_root_and_another_version_are_still_routed_to_the_reader() -> None:
    assert kind_of(b'<x:Answers xmlns:x="urn:stadtkasse:amtshilfe:2" schemaVersion="2.0">') == "answers_xml"
    assert kind_of('"Aktenzeichen Gläubiger";Ersuchensdatum;HAUPTFORDERUNG\n'.encode()) == "requests_csv"
