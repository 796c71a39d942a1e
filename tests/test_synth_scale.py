"""Scale mode and the vectorised numbers behind it."""

from __future__ import annotations

from pathlib import Path

import mt940
import polars as pl
from lxml import etree
from schwifty import IBAN

from claims.kassenzeichen import is_valid, mod11
from synth import generate_scale, rand
from synth.numbers import german_iban, kassenzeichen_from_bodies, mod11_check


def test_vectorised_mod11_equals_the_scalar_one() -> None:
    bodies = rand.integers(3000, 10**10, 10**11, seed=4, stream=1)
    frame = pl.DataFrame({"b": bodies}).with_columns(
        mod11_check(pl.col("b")).alias("c"), kassenzeichen_from_bodies(pl.col("b")).alias("kz"))
    for b, c, kz in frame.iter_rows():
        assert (mod11(str(b)) if c != 10 else None) == (c if c != 10 else None)
        assert is_valid(str(kz), "mod11")
    assert (frame["c"] == 10).any()  # the skip path is exercised


def test_vectorised_iban_check_digits_agree_with_schwifty() -> None:
    frame = pl.DataFrame({"blz": [37050198, 10010010, 12030000] * 20,
                          "acct": rand.integers(60, 0, 10**10, seed=2, stream=3),
                          "bad": [False] * 59 + [True]})
    ibans = frame.select(german_iban(pl.col("blz"), pl.col("acct"), invalid=pl.col("bad"))).to_series().to_list()
    assert all(IBAN(i, allow_invalid=True).is_valid for i in ibans[:59])
    assert not IBAN(ibans[59], allow_invalid=True).is_valid


def test_random_streams_are_deterministic_and_distinct() -> None:
    assert rand.u64(5, 1, 1).to_list() == rand.u64(5, 1, 1).to_list()
    assert rand.u64(5, 1, 1).to_list() != rand.u64(5, 1, 2).to_list()
    assert rand.u64(3, 1, 1, offset=2).to_list() == rand.u64(5, 1, 1).to_list()[2:]
    picks = rand.choice(4000, [1, 3], seed=1, stream=9)
    assert 2700 < int((picks == 1).sum()) < 3300


def test_generate_scale_truth_and_files(tmp_path: Path) -> None:
    s = generate_scale(tmp_path, n_items=3000, n_payments=3500, seed=3)
    items = pl.read_parquet(s.open_items)
    truth = s.truth_frame()
    assert items.height == 3000 and truth.height == 3500
    assert items.get_column("kassenzeichen").is_unique().all()
    assert all(is_valid(k, "mod11") for k in items["kassenzeichen"].to_list())
    assert truth.get_column("bank_ref").is_unique().all()
    assert set(truth["case"]) >= {"full", "partial", "over", "typo_digit", "typo_swap", "iban_only",
                                   "third_party", "no_ref", "wrong_ref", "double"}
    owed = dict(zip(items["receivable_id"], items["amount"], strict=True))
    for row in truth.iter_rows(named=True):
        for e in row["expected"]:
            assert e["receivable_id"] in owed
        if row["case"] in {"typo_digit", "typo_swap"}:
            assert not is_valid("".join(ch for ch in row["quoted"] if ch.isdigit()), "mod11")
        if not row["decidable"] or row["case"] == "double":
            assert row["expected"] == []
    sta = next(p for p in s.statements if p.suffix == ".sta")
    n_sta = sum(len(st.transactions) for st in mt940.parse_statements(str(sta), encoding="iso-8859-1",
                                                                      options=mt940.Options.all()))
    assert n_sta == truth.filter(pl.col("bank") == "sparkasse").height
    xml = next(p for p in s.statements if p.suffix == ".xml")
    ns = {"c": "urn:iso:std:iso:20022:tech:xsd:camt.053.001.08"}
    assert len(etree.parse(str(xml)).getroot().findall(".//c:Ntry", ns)) == \
        truth.filter(pl.col("bank") == "volksbank").height
