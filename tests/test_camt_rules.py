"""The camt parser's decisions, each on a small hand-written file (real XML on disk, no mocks)."""

from __future__ import annotations

import re
from pathlib import Path

import polars as pl
import pytest

import parsers.camt_checks
import parsers.camt_stream
from parsers.camt import parse_camt
from parsers.camt_values import cents_expr, cents_or_none
from parsers.result import ParseResult

ACCOUNT = "DE02120300000000202051"


def entry(amount: str = "10.00", cdi: str = "CRDT", *, extra: str = "", details: str = "", sts: str = "<Sts>BOOK</Sts>") -> str:
    return (f'<Ntry><Amt Ccy="EUR">{amount}</Amt><CdtDbtInd>{cdi}</CdtDbtInd>{extra}{sts}'
            f"<BookgDt><Dt>2024-05-17</Dt></BookgDt><ValDt><Dt>2024-05-17</Dt></ValDt>"
            f"<AcctSvcrRef>R1</AcctSvcrRef>{details}</Ntry>")


def document(entries: str, *, msg: str = "053", version: str = "02", balances: tuple[str, str] | None = None) -> str:
    names = {"052": ("BkToCstmrAcctRpt", "Rpt"), "053": ("BkToCstmrStmt", "Stmt"), "054": ("BkToCstmrDbtCdtNtfctn", "Ntfctn")}
    message, stmt = names[msg]
    bal = ""
    if balances:
        bal = "".join(
            f'<Bal><Tp><CdOrPrtry><Cd>{code}</Cd></CdOrPrtry></Tp><Amt Ccy="EUR">{amt}</Amt>'
            f"<CdtDbtInd>CRDT</CdtDbtInd><Dt><Dt>2024-05-17</Dt></Dt></Bal>"
            for code, amt in zip(("PRCD", "CLBD"), balances, strict=True)
        )
    return (f'<?xml version="1.0" encoding="UTF-8"?>\n<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.{msg}.001.{version}">'
            f"<{message}><GrpHdr><MsgId>M</MsgId></GrpHdr><{stmt}><Id>S1</Id><ElctrncSeqNb>7</ElctrncSeqNb>"
            f"<Acct><Id><IBAN>{ACCOUNT}</IBAN></Id><Ccy>EUR</Ccy></Acct>{bal}\n{entries}\n</{stmt}></{message}></Document>\n")


def parse(tmp_path: Path, xml: str, name: str = "f.xml") -> ParseResult:
    path = tmp_path / name
    path.write_text(xml, encoding="utf-8")
    return parse_camt(path, sha256="0" * 64)


def test_amount_not_whole_cents_is_an_error_and_the_entry_is_kept(tmp_path: Path) -> None:
    r = parse(tmp_path, document(entry("12.34567") + entry("1.50000")))
    assert r.transactions["amount_cents"].to_list() == [None, 150]  # trailing zeros are exact
    [issue] = [i for i in r.issues if i.severity == "error"]
    assert issue.code == "camt.amount_not_cents"
    assert issue.locator == "/Document/BkToCstmrStmt/Stmt[1]/Ntry[1]/Amt"
    assert "'12.34567'" in issue.message and "12.34567" in issue.raw
    assert "12.34567" in r.transactions["raw"][0]


@pytest.mark.parametrize(("text", "cents"), [("0", 0), (".44", 44), ("50000", 5000000), ("8.850", 885),
                                             ("1.005", None), ("-1.00", None), ("1,00", None), ("", None),
                                             (".", None), ("١٢", None), ("1234567890123456", None)])
def test_amount_rule_scalar_and_vectorised_agree(text: str, cents: int | None) -> None:
    assert cents_or_none(text)[0] == cents
    assert pl.select(cents_expr(pl.lit(text))).item() == cents


def test_reversal_keeps_the_booked_sign_and_counterparty_follows_the_original_direction(tmp_path: Path) -> None:
    # ISO 20022: RvslInd=true with DBIT is the reversal of a credit. The booked sign stays (DBIT -> negative);
    # the counterparty is the original payer, i.e. the debtor.
    parties = ("<NtryDtls><TxDtls><RltdPties><Dbtr><Nm>Payer</Nm></Dbtr><DbtrAcct><Id><IBAN>DE44500105175407324931</IBAN>"
               "</Id></DbtrAcct><Cdtr><Nm>Stadtkasse</Nm></Cdtr></RltdPties></TxDtls></NtryDtls>")
    r = parse(tmp_path, document(entry("5.00", "DBIT", extra="<RvslInd>true</RvslInd>", details=parties)
                                 + entry("5.00", "CRDT", details=parties)))
    assert r.transactions.select("amount_cents", "is_reversal", "counterparty_name").rows() == [
        (-500, True, "Payer"), (500, False, "Payer"),
    ]


def test_ustrd_chunks_are_joined_as_dk_meant_them(tmp_path: Path) -> None:
    # A 140-character chunk was cut mid-text: the next follows directly. A shorter one ended: a space.
    full = "A" * 139 + "B"
    tx = f"<NtryDtls><TxDtls><RmtInf><Ustrd>{full}</Ustrd><Ustrd>CD</Ustrd><Ustrd>Kassenzeichen 5.1 &amp; Co</Ustrd></RmtInf></TxDtls></NtryDtls>"
    r = parse(tmp_path, document(entry(details=tx)))
    assert r.transactions["remittance"].item() == full + "CD Kassenzeichen 5.1 & Co"


def test_namespace_prefixes_give_the_same_result(tmp_path: Path) -> None:
    tx = "<NtryDtls><TxDtls><Refs><EndToEndId>E1</EndToEndId></Refs><RmtInf><Ustrd>x</Ustrd></RmtInf></TxDtls></NtryDtls>"
    plain = document(entry(details=tx) + entry("3.00", "DBIT"))
    prefixed = re.sub(r"<(/?)(\w+)", r"<\1c:\2", plain.replace("<?xml", "<?XMLDECL")).replace("<?XMLDECL", "<?xml")
    prefixed = prefixed.replace('xmlns="', 'xmlns:c="')
    a, b = parse(tmp_path, plain, "a.xml"), parse(tmp_path, prefixed, "b.xml")
    assert "<c:Ntry>" in prefixed
    cols = ["amount_cents", "end_to_end_id", "remittance", "account_iban", "statement_key", "raw"]
    assert a.transactions.select(cols).equals(b.transactions.select(cols))
    assert b.transactions["raw"][0].startswith("<Ntry>")


@pytest.mark.parametrize("version", [f"{v:02d}" for v in range(1, 14)])
def test_every_version_is_read_by_local_names(tmp_path: Path, version: str) -> None:
    r = parse(tmp_path, document(entry(), version=version))
    assert r.issues == [] and r.transactions["amount_cents"].to_list() == [1000]
    assert r.transactions["source_format"].to_list() == ["camt.053"]


def test_unknown_version_warns_but_reads(tmp_path: Path) -> None:
    r = parse(tmp_path, document(entry(), version="14"))
    assert [i.code for i in r.issues] == ["camt.unknown_version"]
    assert r.transactions.height == 1


@pytest.mark.parametrize(("msg", "severity"), [("053", "info"), ("052", "warning"), ("054", "warning")])
def test_missing_status_is_book_with_an_issue(tmp_path: Path, msg: str, severity: str) -> None:
    r = parse(tmp_path, document(entry(sts=""), msg=msg))
    assert r.transactions.select("status", "booked").row(0) == ("BOOK", True)
    assert [(i.code, i.severity) for i in r.issues] == [("camt.missing_status", severity)]


def test_status_code_element_and_pending(tmp_path: Path) -> None:
    r = parse(tmp_path, document(entry(sts="<Sts><Cd>PDNG</Cd></Sts>") + entry(sts="<Sts><Cd>BOOK</Cd></Sts>"),
                                 balances=("0.00", "10.00")))
    assert r.transactions.select("status", "booked").rows() == [("PDNG", False), ("BOOK", True)]
    assert r.statements.select("entries_sum_cents", "balance_ok").row(0) == (1000, True)  # PDNG not counted


def test_bad_values_become_issues_with_xpaths(tmp_path: Path) -> None:
    bad = entry("abc") + entry("1.00", "XXX") + entry("1.00").replace("2024-05-17</Dt></BookgDt>", "2024-02-30</Dt></BookgDt>")
    r = parse(tmp_path, document(bad))
    found = {(i.code, i.locator.rsplit("/", 2)[-2] + "/" + i.locator.rsplit("/", 1)[-1]) for i in r.issues}
    assert found == {("camt.bad_amount", "Ntry[1]/Amt"), ("camt.bad_cdtdbtind", "Ntry[2]/CdtDbtInd"),
                     ("camt.bad_date", "Ntry[3]/BookgDt")}
    assert r.transactions.height == 3


def test_entities_cdata_and_comments(tmp_path: Path) -> None:
    tx = ("<NtryDtls><TxDtls><RltdPties><Dbtr><Nm>M&#252;ller &amp; S&lt;hn</Nm></Dbtr></RltdPties>"
          "<RmtInf><!-- a comment --><Ustrd><![CDATA[KZ <5.1>]]></Ustrd></RmtInf></TxDtls></NtryDtls>")
    r = parse(tmp_path, document(entry(details=tx)))
    assert r.transactions.select("counterparty_name", "remittance").row(0) == ("Müller & S<hn", "KZ <5.1>")


def test_truncated_file_is_rejected_as_a_whole(tmp_path: Path) -> None:
    xml = document("\n".join(entry() for _ in range(50)))
    r = parse(tmp_path, xml[: len(xml) * 2 // 3])
    assert r.transactions.height == 0 and r.statements.height == 0
    [issue] = r.issues
    assert (issue.severity, issue.code) == ("error", "camt.malformed_xml")
    assert re.fullmatch(r"line \d+", issue.locator)


def test_not_a_camt_file(tmp_path: Path, samples_dir: Path) -> None:
    r = parse_camt(samples_dir / "pain" / "salesking__sepa_king__pain.001.001.03.xml", sha256="x")
    assert [i.code for i in r.issues] == ["camt.not_camt"] and r.transactions.height == 0
    missing = parse_camt(tmp_path / "nope.xml", sha256="x")
    assert [i.code for i in missing.issues] == ["camt.unreadable"]


def test_unexpected_element_between_entries(tmp_path: Path) -> None:
    r = parse(tmp_path, document(entry() + "<Foo>bar</Foo>" + entry("2.00")))
    assert r.transactions["amount_cents"].to_list() == [1000, 200]
    # the element between the entries is what sends the file to the element path, and both are said
    assert [i.code for i in r.issues] == ["camt.unexpected_element", "camt.element_path"]


def test_chunk_boundaries_do_not_change_the_result(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    batch = ("<NtryDtls><Btch><NbOfTxs>2</NbOfTxs></Btch>"
             + "".join(f'<TxDtls><AmtDtls><TxAmt><Amt Ccy="EUR">{a}</Amt></TxAmt></AmtDtls></TxDtls>' for a in ("1.00", "2.00"))
             + "</NtryDtls>")
    body = "\n".join(entry(f"{i}.00", details=batch if i % 7 == 0 else "") for i in range(1, 300))
    xml = document(body) + ""
    xml = xml.replace("</Stmt>", "</Stmt><Stmt><Id>S2</Id><Acct><Id><IBAN>X1</IBAN></Id></Acct>" + body + "</Stmt>")
    whole = parse(tmp_path, xml, "a.xml")
    monkeypatch.setattr(parsers.camt_stream, "CHUNK_ENTRIES", 3)
    chunked = parse(tmp_path, xml, "a.xml")
    assert whole.transactions.height == chunked.transactions.height == 2 * (299 + 42)  # 42 batches of two details
    assert whole.transactions.equals(chunked.transactions)
    assert whole.statements.equals(chunked.statements)
    assert chunked.statements["n_entries"].to_list() == [299, 299]


def test_dk_code_with_extension_and_instructed_amount(tmp_path: Path) -> None:
    code = "<BkTxCd><Prtry><Cd>NRTI+109+7402+992</Cd><Issr>DK</Issr></Prtry></BkTxCd>"
    amounts = '<AmtDtls><InstdAmt><Amt Ccy="USD">12.00</Amt></InstdAmt></AmtDtls>'
    tx = f"<NtryDtls><TxDtls>{amounts}<RtrInf><Rsn><Cd>AC04</Cd></Rsn></RtrInf></TxDtls></NtryDtls>"
    r = parse(tmp_path, document(entry("11.85", "DBIT", details=code + tx).replace("<AcctSvcrRef>R1</AcctSvcrRef>", "")))
    row = r.transactions.row(0, named=True)
    assert (row["swift_code"], row["tx_code"], row["primanota"], row["text_key_ext"]) == ("NRTI", "109", "7402", "992")
    assert (row["original_amount_cents"], row["original_currency"], row["return_reason"]) == (1200, "USD", "AC04")
    assert row["amount_cents"] == -1185 and row["bank_tx_code"] == "NRTI+109+7402+992"


def test_many_equal_findings_are_counted_not_listed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(parsers.camt_checks, "MAX_PER_CHECK", 5)
    r = parse(tmp_path, document("".join(entry(sts="") for _ in range(12))))
    assert [i.code for i in r.issues] == ["camt.missing_status"] * 6
    assert r.issues[-1].message.startswith("7 more entries")
    assert r.issues[0].raw == ""  # info: the row keeps the raw XML


def test_a_huge_text_node_rejects_the_file(tmp_path: Path) -> None:
    # no camt field holds more than 500 characters; a 10.5 MB node (libxml2 refuses it without
    # huge_tree anyway) is no statement, and reading it cost memory many times its size
    text = "x" * 10_500_000
    r = parse(tmp_path, document(entry(details=f"<NtryDtls><TxDtls><RmtInf><Ustrd>{text}</Ustrd></RmtInf></TxDtls></NtryDtls>")))
    assert [i.code for i in r.issues] == ["camt.text_too_long"] and r.transactions.height == 0
    assert r.issues[0].message.startswith("<Ustrd> at line ")


def test_a_long_entry_is_read_and_raw_is_capped_with_a_note(tmp_path: Path) -> None:
    ustrd = "".join(f"<Ustrd>{'x' * 139}{n % 10}</Ustrd>" for n in range(150))  # 150 lines of 140: 21,000 characters
    r = parse(tmp_path, document(entry(details=f"<NtryDtls><TxDtls><RmtInf>{ustrd}</RmtInf></TxDtls></NtryDtls>")))
    assert [i.code for i in r.issues] == ["camt.raw_capped"]
    assert r.transactions["remittance"].str.len_chars().item() >= 21_000
    assert r.transactions["raw"].str.len_chars().item() < 20_100
