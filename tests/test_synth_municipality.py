"""The synthetic municipality: case mix, truth consistent with the files, bank files tie out, determinism."""

from __future__ import annotations

import hashlib
from collections import Counter
from decimal import Decimal
from pathlib import Path

import mt940
import polars as pl
import pytest
from lxml import etree

from claims.kassenzeichen import is_valid
from flows.cli import main
from synth import TRUTH_SCHEMA, GeneratedSet, generate

ALL_CASES = {"full", "partial", "over", "double", "multi", "third_party", "no_ref", "wrong_ref", "typo_digit",
             "typo_swap", "iban_only", "dd_collection", "dd_return", "fee", "refund_out"}
NS = {"c": "urn:iso:std:iso:20022:tech:xsd:camt.053.001.08"}


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> GeneratedSet:
    return generate(tmp_path_factory.mktemp("demo"))


@pytest.fixture(scope="module")
def items(demo: GeneratedSet) -> pl.DataFrame:
    return pl.read_csv(demo.open_items, separator=";", infer_schema=False, encoding="utf8")


def test_every_case_appears_and_truth_has_its_schema(demo: GeneratedSet) -> None:
    truth = demo.truth_frame()
    assert dict(truth.schema) == TRUTH_SCHEMA
    counts = Counter(truth.get_column("case").to_list())
    assert set(counts) == ALL_CASES
    assert min(counts.values()) >= 2
    assert truth.height == demo.n_payments
    assert truth.get_column("bank_ref").is_unique().all()


def test_truth_is_consistent_with_the_open_items(demo: GeneratedSet, items: pl.DataFrame) -> None:
    truth = demo.truth_frame()
    owed = {r: int(a.replace(",", "")) for r, a in zip(items["receivable_id"], items["amount"], strict=True)}
    for row in truth.iter_rows(named=True):
        expected = row["expected"]
        if not row["decidable"]:
            assert expected == [], row
        for e in expected:
            assert e["receivable_id"] in owed
            assert abs(e["amount_cents"]) <= owed[e["receivable_id"]]
        total = sum(e["amount_cents"] for e in expected)
        case, amount = row["case"], row["amount_cents"]
        if case in {"full", "multi", "third_party", "typo_digit", "typo_swap", "iban_only", "dd_collection",
                    "dd_return", "partial"}:
            assert total == amount, row
        elif case == "over":
            assert 0 < total < amount
        else:
            assert expected == []
    # a receivable is paid by at most one decided credit (doubles and returns refer back on purpose)
    credits = truth.filter(pl.col("amount_cents") > 0).explode("expected").drop_nulls("expected")
    assert credits.get_column("expected").struct.field("receivable_id").is_unique().all()


def test_every_kassenzeichen_is_valid_mod11_and_typos_are_not(demo: GeneratedSet, items: pl.DataFrame) -> None:
    assert all(is_valid(k.replace(".", ""), "mod11") for k in items["kassenzeichen"])
    assert all(len(k.replace(".", "")) == 12 for k in items["kassenzeichen"])
    truth = demo.truth_frame()
    for row in truth.filter(pl.col("kz_quoted").is_not_null()).iter_rows(named=True):
        assert is_valid(row["kz_quoted"], "mod11")
        digits = "".join(ch for ch in row["quoted"] if ch.isdigit())
        assert is_valid(digits, "mod11") == (row["case"] not in {"typo_digit", "typo_swap"}), row
    assert truth.get_column("kz_split").sum() > 0  # some references are cut across ?2x subfields


def test_open_items_export_format(demo: GeneratedSet, items: pl.DataFrame) -> None:
    raw = demo.open_items.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    header = raw[3:].split(b"\n", 1)[0].decode()
    assert header.split(";")[:3] == ["tenant", "receivable_id", "kassenzeichen"]
    assert items.get_column("amount").str.contains(r"^\d+,\d\d$").all()
    assert items.get_column("receivable_id").is_unique().all()
    assert set(items.get_column("law").unique()) == {"public", "private"}
    assert {"MAHNGEBUEHR", "SAEUMNISZUSCHLAG", "KOSTEN", "ZINSEN", "KITA", "BUSSGELD"} <= set(items["claim_type"])
    assert items.get_column("mandate_id").drop_nulls().len() > 0
    assert items.get_column("dunning_block_until").drop_nulls().len() > 0
    names = " ".join(items.get_column("debtor_name").to_list())
    assert all(ch in names for ch in "äöüß")
    # one debtor per Kassenzeichen (several instalments share one)
    per_kz = items.group_by("kassenzeichen").agg(pl.col("debtor_id").n_unique())
    assert per_kz.get_column("debtor_id").max() == 1


def test_mt940_statements_read_by_wolph_and_tie_out(demo: GeneratedSet) -> None:
    truth = demo.truth_frame().filter(pl.col("bank") == "sparkasse")
    by_ref = dict(zip(truth["bank_ref"], truth["amount_cents"], strict=True))
    files = sorted(p for p in demo.statements if p.suffix == ".sta")
    numbers, seen, prev_closing = [], 0, None
    for path in files:
        assert b"\r\n" in path.read_bytes()
        statements = mt940.parse_statements(str(path), encoding="iso-8859-1", options=mt940.Options.all())
        assert len(statements) == 1
        st = statements[0]
        opening = st.data["final_opening_balance"].amount.amount
        closing = st.data["final_closing_balance"].amount.amount
        assert prev_closing is None or opening == prev_closing
        prev_closing = closing
        total = Decimal(0)
        for t in st.transactions:
            cents = int(t.data["amount"].amount * 100)
            assert by_ref[t.data["bank_reference"]] == cents
            total += t.data["amount"].amount
            seen += 1
        assert opening + total == closing
        numbers.append(int(st.data["statement_number"]))
    assert seen == truth.height
    assert numbers == list(range(numbers[0], numbers[0] + len(numbers)))


def test_camt_statements_tie_out_and_batch_counts(demo: GeneratedSet) -> None:
    truth = demo.truth_frame().filter(pl.col("bank") == "volksbank")
    files = sorted(p for p in demo.statements if p.suffix == ".xml")
    seq, refs, batches = [], [], 0
    for path in files:
        stmt = etree.parse(str(path)).getroot().find(".//c:Stmt", NS)
        assert stmt is not None
        seq.append(int(stmt.findtext("c:ElctrncSeqNb", namespaces=NS) or 0))
        bal = {b.findtext("c:Tp/c:CdOrPrtry/c:Cd", namespaces=NS): Decimal(b.findtext("c:Amt", namespaces=NS) or "")
               for b in stmt.findall("c:Bal", NS)}
        total = Decimal(0)
        entries = stmt.findall("c:Ntry", NS)
        for e in entries:
            amt = Decimal(e.findtext("c:Amt", namespaces=NS) or "")
            total += amt if e.findtext("c:CdtDbtInd", namespaces=NS) == "CRDT" else -amt
            txs = e.findall("c:NtryDtls/c:TxDtls", NS)
            n = e.findtext("c:NtryDtls/c:Btch/c:NbOfTxs", namespaces=NS)
            if n is not None:
                batches += 1
                assert int(n) == len(txs) > 1
            tx_sum = sum(Decimal(t.findtext("c:Amt", namespaces=NS) or "") for t in txs)
            assert tx_sum == amt
            refs += [t.findtext("c:Refs/c:AcctSvcrRef", namespaces=NS) for t in txs]
            for u in e.iterfind(".//c:Ustrd", NS):
                assert len(u.text or "") <= 140
        assert bal["OPBD"] + total == bal["CLBD"]
        assert int(stmt.findtext("c:TxsSummry/c:TtlNtries/c:NbOfNtries", namespaces=NS) or -1) == len(entries)
    assert seq == list(range(seq[0], seq[0] + len(seq)))
    assert batches >= 1
    assert sorted(refs) == sorted(truth.get_column("bank_ref").to_list())


def _hashes(folder: Path) -> dict[str, str]:
    return {p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file() and not p.name.startswith(".")}


def test_same_seed_same_bytes(tmp_path: Path) -> None:
    a = generate(tmp_path / "a", seed=5, n_items=400, days=3)
    generate(tmp_path / "b", seed=5, n_items=400, days=3)
    generate(tmp_path / "c", seed=6, n_items=400, days=3)
    assert _hashes(tmp_path / "a") == _hashes(tmp_path / "b")
    assert _hashes(tmp_path / "a") != _hashes(tmp_path / "c")
    assert len(a.statements) == 6


def test_committed_data_samples_are_what_the_command_makes(tmp_path: Path) -> None:
    """data_samples/ = `kasse generate --out data_samples --seed 1` (docs/SYNTH.md)."""
    committed = Path(__file__).resolve().parent.parent / "data_samples"
    assert main(["generate", "--out", str(tmp_path), "--seed", "1"]) == 0
    assert _hashes(committed) == _hashes(tmp_path)


def test_cli_rejects_bad_options(tmp_path: Path) -> None:
    assert main(["generate", "--out", str(tmp_path), "--start", "2026-13-01"]) == 2
    assert main(["generate", "--out", str(tmp_path), "--items", "0"]) == 2
    assert not (tmp_path / "open_items.csv").exists()
