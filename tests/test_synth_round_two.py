"""The round-two kinds of issue 14 in the synthetic municipality (``generate(..., mix=0.4)``): what each
payment must look like for its truth to hold, checked against the files a parser reads."""

from __future__ import annotations

import hashlib
import random
import re
from collections import Counter
from pathlib import Path

import polars as pl
import pytest
from schwifty import IBAN

from claims.kassenzeichen import is_valid
from flows.cli import main
from parsers import parse_paths
from synth import ROUND_TWO_TRUTH_SCHEMA, TRUTH_SCHEMA, GeneratedSet, generate, generate_scale
from synth.remittance import amount_text, letters_for_digits, rf_printed, rf_reference, with_year
from synth.round_two import HOLDS, KINDS, counts
from synth.scale_round_two import KINDS as SCALE_KINDS
from synth.spelling import latin1, transliterate


@pytest.fixture(scope="module")
def mixed(tmp_path_factory: pytest.TempPathFactory) -> GeneratedSet:
    return generate(tmp_path_factory.mktemp("mixed"), seed=2, n_items=1200, mix=0.4)


@pytest.fixture(scope="module")
def truth(mixed: GeneratedSet) -> pl.DataFrame:
    return mixed.truth_frame()


@pytest.fixture(scope="module")
def items(mixed: GeneratedSet) -> pl.DataFrame:
    frame = pl.read_csv(mixed.open_items, separator=";", infer_schema=False, encoding="utf8")
    return frame.with_columns(
        pl.col("amount").str.replace(",", "").cast(pl.Int64).alias("owed"),
        pl.col("kassenzeichen").str.replace_all(".", "", literal=True).alias("kz"),
    )


@pytest.fixture(scope="module")
def rows(mixed: GeneratedSet, truth: pl.DataFrame) -> pl.DataFrame:
    """Truth rows with what the parser read: payer IBAN, remittance, structured creditor reference."""
    tx = parse_paths(list(mixed.statements), tenant="musterstadt").transactions
    assert tx.height == truth.height
    return truth.join(tx.select("bank_ref", "counterparty_iban", "remittance", "creditor_ref", "counterparty_name"),
                      on="bank_ref", how="inner")


def _squeezed(text: str) -> str:
    return re.sub(r"\s", "", text)


def _kind(truth: pl.DataFrame, kind: str) -> list[dict]:
    return truth.filter(pl.col("case") == kind).to_dicts()


def test_kinds_make_up_the_share_and_truth_has_its_schema(mixed: GeneratedSet, truth: pl.DataFrame) -> None:
    assert dict(truth.schema) == ROUND_TWO_TRUTH_SCHEMA
    made = Counter(truth["case"].to_list())
    assert all(made[k] >= 2 for k in KINDS), made
    share = sum(made[k] for k in KINDS) / truth.height
    assert 0.37 <= share <= 0.43, share
    held = truth.filter(pl.col("expected_hold").is_not_null())
    assert set(held["case"]) == set(HOLDS)
    assert (held["decidable"].not_() & (held["expected"].list.len() == 0)).all()
    assert truth.filter(pl.col("case").is_in(list(HOLDS)).not_())["expected_hold"].is_null().all()
    assert truth["bank_ref"].is_unique().all()
    assert sum(counts(600, 0.4).values()) == pytest.approx(400, abs=10)


def test_expected_allocations_fit_the_open_items(truth: pl.DataFrame, items: pl.DataFrame) -> None:
    owed = dict(zip(items["receivable_id"], items["owed"], strict=True))
    debtor = dict(zip(items["receivable_id"], items["debtor_id"], strict=True))
    for row in truth.filter(pl.col("case").is_in(KINDS)).iter_rows(named=True):
        exp = row["expected"]
        assert all(e["amount_cents"] <= owed[e["receivable_id"]] for e in exp), row
        if row["decidable"]:
            assert sum(e["amount_cents"] for e in exp) == row["amount_cents"], row
        if row["case"] in {"designation_amounts", "designation_overlap"}:
            # every designated amount below the open one: the legal order would fill the first item further
            assert len(exp) >= 2 and all(e["amount_cents"] < owed[e["receivable_id"]] for e in exp), row
            assert len({debtor[e["receivable_id"]] for e in exp}) == 1
        if row["case"] in {"european_names", "cross_border_short"}:
            assert row["amount_cents"] < owed[exp[0]["receivable_id"]]
    # a receivable gets money from one decided credit, except the Kassenzeichen two designations share
    paid = truth.filter(pl.col("amount_cents") > 0).explode("expected").drop_nulls("expected").select(
        "case", pl.col("expected").struct.field("receivable_id"))
    twice = paid.filter(pl.col("receivable_id").is_duplicated())
    assert set(twice["case"]) == {"designation_overlap"}
    assert twice.height == truth.filter(pl.col("case") == "designation_overlap").height  # one shared item a pair


def test_designation_writes_each_amount_after_its_kassenzeichen(rows: pl.DataFrame, items: pl.DataFrame) -> None:
    kz_of = dict(zip(items["receivable_id"], items["kz"], strict=True))
    for row in rows.filter(pl.col("case").is_in(["designation_amounts", "designation_bad"])).iter_rows(named=True):
        text = row["remittance"]
        assert text.count(",") + text.count(".") >= 2
        digits = re.sub(r"\D", "", text)
        if row["case"] == "designation_amounts":
            for e in row["expected"]:
                assert kz_of[e["receivable_id"]] in digits, (text, e)
                euros = str(e["amount_cents"] // 100)
                assert euros in text, (text, e)
    bad = rows.filter(pl.col("case") == "designation_bad")
    assert (bad["expected_hold"] == "designation").all()


def test_contradicting_comes_from_the_iban_of_another_debtor_owing_the_same(rows: pl.DataFrame,
                                                                              items: pl.DataFrame) -> None:
    by_iban = items.filter(pl.col("debtor_iban").is_not_null()).select("debtor_iban", "debtor_id").unique()
    owner = dict(zip(items["kz"], items["debtor_id"], strict=False))
    kinds = dict(zip(items["kz"], items["claim_type"], strict=False))
    for row in _kind(rows, "contradicting"):
        payer = by_iban.filter(pl.col("debtor_iban") == row["counterparty_iban"])["debtor_id"].to_list()
        assert len(payer) == 1 and payer[0] != owner[row["kz_quoted"]], row
        twin = items.filter((pl.col("debtor_id") == payer[0]) & (pl.col("owed") == row["amount_cents"])
                            & (pl.col("claim_type") == kinds[row["kz_quoted"]]))
        assert twin.height == 1, row
        assert is_valid(re.sub(r"\D", "", row["quoted"]), "mod11") and row["expected_hold"] == "evidence_conflict"


def test_neighbour_is_a_stranger_naming_the_debtor(rows: pl.DataFrame, items: pl.DataFrame) -> None:
    known = set(items["debtor_iban"].drop_nulls())
    names = dict(zip(items["kz"], items["debtor_name"], strict=False))
    for row in _kind(rows, "neighbour"):
        assert row["counterparty_iban"] not in known
        last = names[row["kz_quoted"]].split(",")[0]
        text = row["remittance"]  # an MT940 subfield cut may have taken a blank: compare without blanks
        assert re.search(r"(für|i\.A\.)", text) and _squeezed(last) in _squeezed(text), row
        assert row["decidable"] and row["expected"][0]["amount_cents"] == row["amount_cents"]


def test_european_names_need_the_name(rows: pl.DataFrame, items: pl.DataFrame) -> None:
    known = set(items["debtor_iban"].drop_nulls())
    euro = rows.filter(pl.col("case") == "european_names")
    assert not set(euro["counterparty_iban"]) & known  # no IBAN to recognise the payer by
    debtors = items.filter(pl.col("kz").is_in(euro["kz_quoted"].implode()))
    assert debtors["debtor_iban"].is_null().all()
    letters = "".join(debtors["debtor_name"]) + "".join(euro["counterparty_name"])
    assert sum(ch in letters for ch in "łøıİđœßæŁśřğş") >= 8
    assert any("," in n for n in euro["counterparty_name"])  # "Surname, Given" from the bank
    mt940 = euro.filter(pl.col("bank") == "sparkasse")
    assert all(n == latin1(n) for n in mt940["counterparty_name"])
    camt = euro.filter(pl.col("bank") == "volksbank")
    assert any(n != latin1(n) for n in camt["counterparty_name"])  # camt carries ł, ı … as they are


def test_letters_for_digits_map_back_to_the_kassenzeichen(truth: pl.DataFrame) -> None:
    for row in _kind(truth, "letters_for_digits"):
        quoted = row["quoted"]
        assert re.search("[OolI]", quoted), quoted
        back = quoted.translate(str.maketrans("OolI", "0011"))
        assert re.sub(r"\D", "", back) == row["kz_quoted"] and is_valid(row["kz_quoted"], "mod11")


def _rf_ok(rf: str) -> bool:
    compact = rf.replace(" ", "")
    moved = compact[4:] + compact[:4]
    return int("".join(str(int(ch, 36)) for ch in moved)) % 97 == 1


def test_rf_references_carry_valid_check_digits_in_text_or_structured(rows: pl.DataFrame) -> None:
    rf = rows.filter(pl.col("case") == "rf_reference")
    for row in rf.iter_rows(named=True):
        assert _rf_ok(row["quoted"]) and row["quoted"].replace(" ", "")[4:] == row["kz_quoted"], row
        assert _squeezed(row["quoted"]) in _squeezed(row["remittance"] or "") or row["creditor_ref"] == row["quoted"], row
    structured = rf.filter(pl.col("creditor_ref").is_not_null())
    assert structured.height >= 1 and (structured["bank"] == "volksbank").all()
    assert rf.filter(pl.col("bank") == "sparkasse")["remittance"].str.contains("RF").all()


def test_year_attached(truth: pl.DataFrame) -> None:
    forms = set()
    for row in _kind(truth, "year_attached"):
        assert re.sub(r"\D", "", row["quoted"]) == row["kz_quoted"] + "2026"
        forms.add(row["quoted"][-5] if not row["quoted"][-5].isdigit() else "glued")
    assert forms == {"/", "-", " ", "glued"}


def test_cross_border_from_valid_foreign_accounts_short_by_charges(rows: pl.DataFrame, items: pl.DataFrame) -> None:
    owed = dict(zip(items["receivable_id"], items["owed"], strict=True))
    countries = set()
    for row in _kind(rows, "cross_border_short"):
        iban = IBAN(row["counterparty_iban"])  # raises when invalid
        assert iban.country_code != "DE"
        countries.add(iban.country_code)
        short = owed[row["expected"][0]["receivable_id"]] - row["amount_cents"]
        assert 50 <= short <= 1_500, row
    assert len(countries) >= 3


def test_helpers_write_what_people_write() -> None:
    rng = random.Random(4)
    assert rf_reference("512345678901") == "RF23512345678901"
    assert _rf_ok(rf_printed(rf_reference("100000000017")))
    assert {amount_text(5_500, rng) for _ in range(200)} >= {"55,00 Euro", "55,- €", "EUR 55", "55.00"}
    assert all("55,50" in t or "55.50" in t for t in (amount_text(5_550, rng) for _ in range(50)))
    typed = letters_for_digits("5.1000.2000.301", rng)
    assert typed != "5.1000.2000.301" and typed.translate(str.maketrans("OolI", "0011")) == "5.1000.2000.301"
    with pytest.raises(ValueError):
        letters_for_digits("2345", rng)
    ends = {with_year("512345678901", rng)[-5] for _ in range(80)}
    assert ends == {"/", "-", " ", "1"}  # "1": glued to the check digit
    assert transliterate("Michał Wójcik") == "Michal Wojcik"
    assert transliterate("Bjørn Đurić", expanded=True) == "Bjoern Djuric"
    assert transliterate("İbrahim Işık Strauß Cœur Lærke") == "Ibrahim Isik Strauss Coeur Laerke"
    assert latin1("Michał Wójcik 55 €") == "Michal Wójcik 55 EUR" and latin1("Müller") == "Müller"


def _hashes(folder: Path) -> dict[str, str]:
    return {p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def test_mix_is_deterministic_and_leaves_the_base_payments_alone(tmp_path: Path) -> None:
    a = generate(tmp_path / "a", seed=7, n_items=300, days=2, mix=0.4)
    generate(tmp_path / "b", seed=7, n_items=300, days=2, mix=0.4)
    base = generate(tmp_path / "c", seed=7, n_items=300, days=2)
    assert _hashes(tmp_path / "a") == _hashes(tmp_path / "b")
    assert dict(base.truth_frame().schema) == TRUTH_SCHEMA
    cols = ["case", "amount_cents", "quoted", "payer_name", "note"]
    mixed_base = a.truth_frame().filter(~pl.col("case").is_in(KINDS)).select(cols).sort(cols)
    assert mixed_base.equals(base.truth_frame().select(cols).sort(cols))
    assert base.open_items.read_bytes() in a.open_items.read_bytes()  # round-two items are appended
    assert "--mix 0.4" in (tmp_path / "a" / "README.md").read_text(encoding="utf-8")


def test_cli_mix_option(tmp_path: Path) -> None:
    assert main(["generate", "--out", str(tmp_path / "m"), "--items", "200", "--days", "2", "--mix", "0.4"]) == 0
    assert "expected_hold" in pl.read_parquet(tmp_path / "m" / "truth.parquet").columns
    assert main(["generate", "--out", str(tmp_path / "x"), "--mix", "1.5"]) == 2
    assert main(["generate", "--out", str(tmp_path / "y"), "--mix", "-0.1", "--payments", "10"]) == 2
    assert main(["generate", "--out", str(tmp_path / "s"), "--items", "900", "--mix", "0.4", "--payments", "300"]) == 0
    assert "expected_hold" in pl.read_parquet(tmp_path / "s" / "truth.parquet").columns
    with pytest.raises(ValueError):
        generate(tmp_path / "z", n_items=100, mix=-0.2)


def test_scale_mode_mixes_in_the_kinds_it_can_make(tmp_path: Path) -> None:
    s = generate_scale(tmp_path, n_items=9000, n_payments=3000, seed=4, mix=0.4)
    truth = s.truth_frame()
    assert dict(truth.schema) == ROUND_TWO_TRUTH_SCHEMA
    made = Counter(truth["case"].to_list())
    assert set(SCALE_KINDS) | {"european_names"} <= set(made), made
    assert 0.34 <= sum(made[k] for k in KINDS) / truth.height <= 0.46
    items = pl.read_parquet(s.open_items).with_columns(
        pl.col("amount").str.replace(".", "", literal=True).cast(pl.Int64).alias("owed"))
    owed = dict(zip(items["receivable_id"], items["owed"], strict=True))
    paid = truth.filter(pl.col("amount_cents") > 0).explode("expected").drop_nulls("expected")
    assert paid["expected"].struct.field("receivable_id").is_unique().all()
    tx = parse_paths(list(s.statements), tenant="scale").transactions
    rows = truth.join(tx.select("bank_ref", "counterparty_iban", "remittance", "creditor_ref"), on="bank_ref")
    assert rows.height == truth.height
    for row in rows.filter(pl.col("case").is_in(KINDS)).iter_rows(named=True):
        exp, case = row["expected"], row["case"]
        assert all(e["amount_cents"] <= owed[e["receivable_id"]] for e in exp), row
        if case == "designation_amounts":
            assert len(exp) == 2 and all(e["amount_cents"] < owed[e["receivable_id"]] for e in exp)
        if row["decidable"]:
            assert sum(e["amount_cents"] for e in exp) == row["amount_cents"], row
        else:
            assert exp == [] and row["expected_hold"] == "designation"
        if case == "rf_reference":
            assert _rf_ok(row["quoted"]) and (_squeezed(row["quoted"]) in _squeezed(row["remittance"] or "")
                                              or row["creditor_ref"] == row["quoted"])
        if case == "cross_border_short":
            assert IBAN(row["counterparty_iban"]).country_code in {"AT", "BE", "PL"}
            assert 50 <= owed[exp[0]["receivable_id"]] - row["amount_cents"] <= 1_500
        if case == "letters_for_digits":
            assert re.sub(r"\D", "", row["quoted"].translate(str.maketrans("OolI", "0011"))) == row["kz_quoted"]
        if case == "year_attached":
            assert re.sub(r"\D", "", row["quoted"]) == row["kz_quoted"] + "2026"
    assert rows.filter(pl.col("creditor_ref").is_not_null()).height > 0
    assert all(n == latin1(n) for n in truth.filter(pl.col("bank") == "sparkasse")["payer_name"].drop_nulls())
