"""The large benchmark bank files: readable by a third-party MT940 parser, camt consistent, deterministic."""

from __future__ import annotations

import hashlib
from decimal import Decimal
from pathlib import Path

import mt940
import pytest
from lxml import etree

from claims.kassenzeichen import is_valid
from synth import write_camt053_file, write_mt940_file
from synth.bench import ENTRIES_PER_STATEMENT


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_mt940_is_read_by_wolph_parser_with_same_entries_and_balances(tmp_path: Path) -> None:
    path = tmp_path / "big.sta"
    n = ENTRIES_PER_STATEMENT + 700  # two statements, the second one short
    write_mt940_file(path, n, seed=3)
    raw = path.read_bytes()
    assert b"\r\n" in raw and b"\n" not in raw.replace(b"\r\n", b"")  # CRLF only
    statements = mt940.parse_statements(str(path), encoding="iso-8859-1", options=mt940.Options.all())
    assert len(statements) == 2
    assert sum(len(s.transactions) for s in statements) == n
    refs = [t.data["bank_reference"] for s in statements for t in s.transactions]
    assert len(set(refs)) == n
    for s in statements:
        opening = s.data["final_opening_balance"].amount.amount
        closing = s.data["final_closing_balance"].amount.amount
        total = sum((t.data["amount"].amount for t in s.transactions), Decimal(0))
        assert opening + total == closing
    # the second statement opens with the first one's closing balance
    assert statements[1].data["final_opening_balance"].amount.amount == \
        statements[0].data["final_closing_balance"].amount.amount
    numbers = [s.data["statement_number"] for s in statements]
    assert numbers == ["00001", "00002"]



@pytest.mark.parametrize("version", ["08", "02"])
def test_camt053_is_well_formed_and_ties_out(tmp_path: Path, version: str) -> None:
    path = tmp_path / "big.xml"
    n = ENTRIES_PER_STATEMENT + 300
    write_camt053_file(path, n, seed=2, version=version)
    root = etree.parse(str(path)).getroot()
    ns = {"c": f"urn:iso:std:iso:20022:tech:xsd:camt.053.001.{version}"}
    stmts = root.findall(".//c:Stmt", ns)
    assert [s.findtext("c:ElctrncSeqNb", namespaces=ns) for s in stmts] == ["1", "2"]
    assert len(root.findall(".//c:Ntry", ns)) == n
    for s in stmts:
        bal = {b.findtext("c:Tp/c:CdOrPrtry/c:Cd", namespaces=ns): Decimal(b.findtext("c:Amt", namespaces=ns))
               for b in s.findall("c:Bal", ns)}
        total = Decimal(0)
        for e in s.findall("c:Ntry", ns):
            amt = Decimal(e.findtext("c:Amt", namespaces=ns))
            total += amt if e.findtext("c:CdtDbtInd", namespaces=ns) == "CRDT" else -amt
        assert bal["OPBD"] + total == bal["CLBD"]
        assert int(s.findtext("c:TxsSummry/c:TtlNtries/c:NbOfNtries", namespaces=ns)) == len(s.findall("c:Ntry", ns))
    refs = [r.text for r in root.findall(".//c:Ntry/c:AcctSvcrRef", ns)]
    assert len(set(refs)) == n
    # every direct-debit EndToEndId starts with a valid Kassenzeichen
    erefs = [e.text for e in root.findall(".//c:EndToEndId", ns) if e.text != "NOTPROVIDED"]
    assert erefs and all(is_valid(e.split("-")[0], "mod11") for e in erefs)


def test_same_seed_same_bytes_other_seed_other_bytes(tmp_path: Path) -> None:
    a, b, c = tmp_path / "a.sta", tmp_path / "b.sta", tmp_path / "c.sta"
    write_mt940_file(a, 500, seed=7)
    write_mt940_file(b, 500, seed=7)
    write_mt940_file(c, 500, seed=8)
    assert _sha(a) == _sha(b) != _sha(c)
    x, y = tmp_path / "x.xml", tmp_path / "y.xml"
    write_camt053_file(x, 500, seed=7)
    write_camt053_file(y, 500, seed=7)
    assert _sha(x) == _sha(y)
