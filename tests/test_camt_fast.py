"""The byte-level camt path gives exactly what the element path gives, whatever the layout; the few files
it hands over to the element path carry the reason."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from test_camt_rules import document, entry

import parsers.camt
import parsers.camt_fast
from parsers.camt import parse_camt
from parsers.result import ParseResult

SAMPLES = sorted((Path(__file__).resolve().parent.parent.parent / "shared" / "samples" / "camt").glob("*.xml"))
BATCH = ("<NtryDtls><Btch><NbOfTxs>2</NbOfTxs></Btch>"
         + "".join(f'<TxDtls><AmtDtls><TxAmt><Amt Ccy="EUR">{a}</Amt></TxAmt></AmtDtls>'
                   f"<RltdPties><Dbtr><Nm>Müller &amp; Co</Nm></Dbtr></RltdPties>"
                   f"<RmtInf><Ustrd>KZ 5.1 &lt;x&gt;</Ustrd></RmtInf></TxDtls>" for a in ("1.00", "2.00"))
         + "</NtryDtls>")


def _both(path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[ParseResult, ParseResult, bool]:
    """(fast result, element-path result, whether the fast path was taken)."""
    taken: list[bool] = []
    real = parsers.camt_fast.fast_stream

    def spy(*args: Any, **kwargs: Any) -> Any:
        out = real(*args, **kwargs)
        taken.append(not isinstance(out, parsers.camt_fast.Declined))
        return out

    monkeypatch.setattr(parsers.camt, "fast_stream", spy)
    fast = parse_camt(path, sha256="0" * 64)
    monkeypatch.setattr(parsers.camt, "FAST_PATH", False)
    slow = parse_camt(path, sha256="0" * 64)
    monkeypatch.setattr(parsers.camt, "FAST_PATH", True)
    return fast, slow, any(taken)


def _same(a: ParseResult, b: ParseResult) -> None:
    assert a.transactions.equals(b.transactions)
    assert a.statements.equals(b.statements)
    assert [i for i in a.issues if i.code != "camt.element_path"] == b.issues


@pytest.mark.parametrize("sample", SAMPLES, ids=[p.name for p in SAMPLES])
def test_samples_give_the_same_frames(sample: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    fast, slow, _ = _both(sample, monkeypatch)
    _same(fast, slow)


def _two_statements(body: str) -> str:
    xml = document(body)
    return xml.replace("</Stmt>", "</Stmt>\n<Stmt><Id>S2</Id><Acct><Id><IBAN>X1</IBAN></Id></Acct>" + body + "</Stmt>")


def test_tiny_blocks_and_prefixes_take_the_fast_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    body = "\n  ".join(entry(f"{i}.00", details=BATCH if i % 7 == 0 else "") for i in range(1, 41))
    plain = _two_statements(body)
    prefixed = plain.replace("<", "<c:").replace("<c:/", "</c:").replace("<c:?xml", "<?xml")
    prefixed = prefixed.replace('<c:Document xmlns="', '<c:Document xmlns:c="')
    for i, xml in enumerate((plain, plain.replace("\n", "\r\n"), prefixed)):
        path = tmp_path / f"f{i}.xml"
        path.write_text(xml, encoding="utf-8")
        for size in (None, 700):
            monkeypatch.setattr(parsers.camt_fast, "BLOCK_BYTES", size or (8 << 20))
            fast, slow, taken = _both(path, monkeypatch)
            assert taken, (i, size)
            _same(fast, slow)
            assert fast.statements["n_entries"].to_list() == [40, 40]
            assert fast.transactions["raw"][0].startswith("<Ntry>")


#: entries not written the way lxml writes them: the byte-level path still reads them (camt_canon)
UNUSUAL = {
    "comment_inside": entry(extra="<!-- note -->"),
    "comment_between": entry() + "<!-- note -->" + entry("2.00"),
    "comment_empties_an_element": entry(details="<AddtlNtryInf><!-- x --></AddtlNtryInf>"),
    "cdata": entry(details="<AddtlNtryInf><![CDATA[a < b & c]]></AddtlNtryInf>"),
    "char_ref": entry(details="<AddtlNtryInf>M&#252;ller &#x26; &#60;S&#xF6;hne&#62; &quot;x&quot; &apos;y&apos;</AddtlNtryInf>"),
    "char_ref_cr": entry(details="<AddtlNtryInf>a&#13;b&#10;c</AddtlNtryInf>"),
    "char_ref_in_attribute": entry().replace('Ccy="EUR"', 'Ccy="&#69;UR"'),
    "empty_element": entry(details="<AddtlNtryInf></AddtlNtryInf>"),
    "empty_element_with_attribute": entry(extra='<Foo a="1"></Foo>'),
    "single_quotes": entry().replace('Ccy="EUR"', "Ccy='EUR'"),
    "space_in_tag": entry().replace('<Amt Ccy="EUR">', '<Amt  Ccy="EUR" >'),
    "newline_in_tag": entry().replace('<Amt Ccy="EUR">', '<Amt\n   Ccy = "EUR"\n>').replace("</Amt>", "</Amt\n>"),
    "blank_in_entry_tag": entry().replace("<Ntry>", "<Ntry >").replace("</Ntry>", "</Ntry\t>"),
    "gt_in_text": entry(details="<AddtlNtryInf>a > b</AddtlNtryInf>"),
    "pi_inside": entry(extra="<?pi x?>"),
    "namespace_inside": entry(extra='<x:Foo xmlns:x="urn:x">1</x:Foo>'),
}
#: files the byte-level path declines, with the reason it reports
DECLINED = {
    "junk_between": (entry() + "<Foo>bar</Foo>" + entry("2.00"), "text or elements between two entries"),
    "attribute_on_entry": (entry().replace("<Ntry>", '<Ntry a="1">'), "Ntry element with attributes"),
}


@pytest.mark.parametrize("name", sorted(UNUSUAL))
def test_unusual_layouts_take_the_fast_path(name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "unusual.xml"
    path.write_text(document(UNUSUAL[name] + entry("3.00")), encoding="utf-8")
    fast, slow, taken = _both(path, monkeypatch)
    assert taken
    _same(fast, slow)
    assert fast.issues == slow.issues


@pytest.mark.parametrize("name", sorted(DECLINED))
def test_declined_files_say_why(name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    text, reason = DECLINED[name]
    path = tmp_path / "odd.xml"
    path.write_text(document(text + entry("3.00")), encoding="utf-8")
    fast, slow, taken = _both(path, monkeypatch)
    assert not taken
    _same(fast, slow)
    notes = [i for i in fast.issues if i.code == "camt.element_path"]
    assert len(notes) == 1 and reason in notes[0].message and notes[0].severity == "info"


def test_not_well_formed_falls_back_and_is_rejected(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "bad.xml"
    path.write_text(document(entry() + entry("2.00").replace("</CdtDbtInd>", "</CdtDbtIn>")), encoding="utf-8")
    fast, slow, taken = _both(path, monkeypatch)
    assert not taken
    _same(fast, slow)
    # the rejection says it all: no note about the element path
    assert [i.code for i in fast.issues] == ["camt.malformed_xml"] and fast.transactions.height == 0


def test_latin1_file_falls_back(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "latin1.xml"
    xml = document(entry(details="<AddtlNtryInf>Müller</AddtlNtryInf>")).replace('encoding="UTF-8"', 'encoding="ISO-8859-1"')
    path.write_bytes(xml.encode("latin-1"))
    fast, slow, taken = _both(path, monkeypatch)
    assert not taken
    _same(fast, slow)
    assert fast.transactions["booking_text"].to_list() == ["Müller"]
    assert [i.message for i in fast.issues if i.code == "camt.element_path"] == [
        "read by the slower element path: not UTF-8 (the byte-level path reads UTF-8 only)"]


def test_a_file_only_a_huge_tree_parse_accepts_goes_to_the_element_path(tmp_path: Path,
                                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    # libxml2 refuses names over 50,000 characters unless in huge-tree mode; the element path decides
    name = "N" * 50_001
    path = tmp_path / "long_name.xml"
    path.write_text(document(entry(details=f"<{name}>x</{name}>")), encoding="utf-8")
    fast, slow, taken = _both(path, monkeypatch)
    assert not taken
    _same(fast, slow)
