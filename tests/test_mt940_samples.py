"""Every MT940/MT942 sample: statement and entry counts, and which statements really do not balance."""

from __future__ import annotations

import re
from pathlib import Path

import polars as pl
import pytest

from parsers.mt940 import parse_mt940

#: file -> (statements, entries), as catalogued in ../shared/samples/SOURCES.md (st / en).
COUNTS: dict[str, tuple[int, int]] = {
    "WoLpH__mt940__0708271685_09022020_164516.940.txt": (31, 8),
    "WoLpH__mt940__171011_01234945.sta": (1, 3),
    "WoLpH__mt940__cmxl_mt940.sta": (3, 16),
    "WoLpH__mt940__details_60-63.sta": (1, 1),
    "WoLpH__mt940__february_30.sta": (1, 1),
    "WoLpH__mt940__gv_codes.sta": (1, 2),
    "WoLpH__mt940__mBank_mt940.sta": (1, 3),
    "WoLpH__mt940__malformed_details.sta": (1, 1),
    "WoLpH__mt940__raiffeisen-cmi.sta": (1, 7),
    "WoLpH__mt940__raphaelm.sta": (3, 9),
    "WoLpH__mt940__self-provided_mt942.sta": (1, 1),
    "WoLpH__mt940__transaction_details_wrapped.sta": (1, 1),
    "WoLpH__mt940__whitespace.sta": (1, 1),
    "WoLpH__mt940__wrapped_timestamp.sta": (1, 1),
    "adorsys__multibanking__mt940.txt": (1, 5),
    "betterplace__mt940_parser__colon_in_descriptor.txt": (0, 0),
    "betterplace__mt940_parser__sepa_mt9401.txt": (26, 97),
    "betterplace__mt940_parser__with_binary_character.txt": (2, 4),
    "fruitl00p__php-mt940__Hsbc_sample": (1, 1),
    "fruitl00p__php-mt940__Kontist_sample": (1, 6),
    "fruitl00p__php-mt940__Penta_sample": (1, 30),
    "fruitl00p__php-mt940__Spk_sample": (4, 10),
    "mjebrahimi__SharpMt940Lib.Core__StandardBank_transactions.txt": (1, 13),
    "my-flow__mt940__date.sta": (1, 1),
    "my-flow__mt940__message_separator_in_text.sta": (1, 1),
    "my-flow__mt940__pending.sta": (1, 1),
    "my-flow__mt940__sample.sta": (1, 4),
    "my-flow__mt940__transactions.sta": (6, 10),
    "sandermarechal__jejik-mt940__abnamro.txt": (2, 10),
    "sandermarechal__jejik-mt940__bug-core-5401.txt": (1, 1),
    "sandermarechal__jejik-mt940__commerzbank.txt": (1, 1),
    "sandermarechal__jejik-mt940__ing-dos.txt": (1, 7),
    "sandermarechal__jejik-mt940__lbbw.txt": (1, 2),
    "sandermarechal__jejik-mt940__oldenburgischelandesbank.txt": (1, 1),
    "sandermarechal__jejik-mt940__oldenburgischelandesbank2.txt": (1, 1),
    "sandermarechal__jejik-mt940__oldenburgischelandesbankmitbindestrich.txt": (1, 1),
    "sandermarechal__jejik-mt940__postfinance.txt": (2, 4),
    "sandermarechal__jejik-mt940__rabobank.txt": (4, 5),
    "sandermarechal__jejik-mt940__sparkasse2.txt": (1, 1),
    "sandermarechal__jejik-mt940__sparkasse_interim_balance.txt": (3, 2),
    "sandermarechal__jejik-mt940__triodos.txt": (1, 2),
    "sandermarechal__jejik-mt940__volksbankenraiffeisenbanken.txt": (8, 12),
    "svenstaro__mt940-rs__MT940_DK_Example.sta": (15, 89),
    "svenstaro__mt940-rs__MT940_FI_Example.sta": (1, 6),
    "svenstaro__mt940-rs__buxtehude.sta": (1, 3),
    "zilverline__mt940__deutsche_bank.txt": (1, 2),
    "zilverline__mt940__knab_date_and_accounting_date_different_year.txt": (1, 1),
    "zilverline__mt940__rabobank_with_debet_previous_balance.txt": (1, 0),
    "zilverline__mt940__two_accounts.txt": (4, 3),
}

ANON = "anonymised sample: amounts or balances were altered by hand, so opening + entries != closing"
TEMPLATE = "WoLpH self-provided snippet: one entry cut from a statement, balances copied from a template"

#: file -> (statement indexes whose balance_ok is False, why). All other statements balance (or
#: have no balances: MT942, or no :62F:, see NO_BALANCE).
UNBALANCED: dict[str, tuple[list[int], str]] = {
    "WoLpH__mt940__details_60-63.sta": ([0], TEMPLATE),
    "WoLpH__mt940__malformed_details.sta": ([0], TEMPLATE),
    "WoLpH__mt940__whitespace.sta": ([0], TEMPLATE),
    "WoLpH__mt940__raiffeisen-cmi.sta": ([0], ANON + " (HUF; 1,123,264.00 missing)"),
    "fruitl00p__php-mt940__Hsbc_sample": ([0], "balances zeroed, one 20,000.00 HKD debit"),
    "my-flow__mt940__message_separator_in_text.sta": ([0], ANON),
    "sandermarechal__jejik-mt940__abnamro.txt": ([0, 1], ANON),
    "sandermarechal__jejik-mt940__bug-core-5401.txt": ([0], "balances zeroed (0,00 / 0,00) around a 50.00 credit"),
    "sandermarechal__jejik-mt940__commerzbank.txt": ([0], "balances zeroed around the 12.35 return debit"),
    "sandermarechal__jejik-mt940__ing-dos.txt": ([0], ANON),
    "sandermarechal__jejik-mt940__oldenburgischelandesbank.txt": ([0], "balances '0,' around a 104.50 credit"),
    "sandermarechal__jejik-mt940__oldenburgischelandesbankmitbindestrich.txt": ([0], ANON + " (closing 0,00)"),
    "sandermarechal__jejik-mt940__postfinance.txt": ([1], "PostFinance page 2: 229.20 - 79.90 + 10.10 = 159.40, "
                                                          "the file says 159.60"),
    "sandermarechal__jejik-mt940__rabobank.txt": ([0, 2], ANON),
    "sandermarechal__jejik-mt940__sparkasse2.txt": ([0], ANON + " (neither sign of the RDR storno fits)"),
    "sandermarechal__jejik-mt940__triodos.txt": ([0], ANON),
    "svenstaro__mt940-rs__buxtehude.sta": ([0], "text replaced by lorem ipsum; 100.00 missing"),
    "zilverline__mt940__deutsche_bank.txt": ([0], ANON),
}

#: file -> statements with balance_ok null: no closing balance, or MT942 (no balances at all).
NO_BALANCE: dict[str, list[int]] = {
    "WoLpH__mt940__gv_codes.sta": [0],
    "sandermarechal__jejik-mt940__oldenburgischelandesbank2.txt": [0],
    "WoLpH__mt940__self-provided_mt942.sta": [0],
    "my-flow__mt940__pending.sta": [0],
}


def _names(samples_dir: Path) -> list[str]:
    return sorted(p.name for p in (samples_dir / "mt940").iterdir())


def test_the_table_covers_every_sample(samples_dir: Path) -> None:
    assert _names(samples_dir) == sorted(COUNTS)


@pytest.mark.parametrize("name", sorted(COUNTS))
def test_counts_and_balances(samples_dir: Path, name: str) -> None:
    path = samples_dir / "mt940" / name
    r = parse_mt940(path, sha256="s")
    assert (r.statements.height, r.transactions.height) == COUNTS[name]
    # Independent count: ":61:" at the start of a line (or after "@@") in the raw bytes.
    raw_61 = len(re.findall(rb"(?:^|\n|@@):61:", path.read_bytes()))
    assert r.transactions.height == raw_61
    assert r.statements["n_entries"].sum() == raw_61 if r.statements.height else raw_61 == 0
    ok = r.statements["balance_ok"]
    assert r.statements.filter(ok.not_() & ok.is_not_null())["statement_index"].to_list() == UNBALANCED.get(
        name, ([], ""))[0]
    assert r.statements.filter(ok.is_null())["statement_index"].to_list() == NO_BALANCE.get(name, [])
    assert not any(i.severity == "error" for i in r.issues) or name == "betterplace__mt940_parser__colon_in_descriptor.txt"


def test_sums_match_the_rows(samples_dir: Path) -> None:
    r = parse_mt940(samples_dir / "mt940" / "betterplace__mt940_parser__sepa_mt9401.txt", sha256="s")
    by_stmt = r.transactions.group_by("statement_key").agg(pl.col("amount_cents").sum().alias("s"), pl.len().alias("n"))
    joined = r.statements.join(by_stmt, on="statement_key", how="left").with_columns(pl.col("s", "n").fill_null(0))
    assert (joined["entries_sum_cents"] == joined["s"]).all() and (joined["n_entries"] == joined["n"]).all()
