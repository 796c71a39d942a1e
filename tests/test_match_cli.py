"""``kasse match``: a real MT940 file and a real CSV export in, the files of the contract out."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import polars as pl
from oracle_matcher import kz

from flows.cli import main
from matching.schema import ALLOCATION_SCHEMA, UNRESOLVED_SCHEMA

ROOT = Path(__file__).resolve().parent.parent
K1, K2 = kz("10000000001"), kz("10000000002")


def _inputs(tmp: Path) -> tuple[Path, Path]:
    mt = "\r\n".join([
        ":20:STARTUMSE", ":25:37040044/0532013000", ":28C:00001/001", ":60F:C260202EUR1000,00",
        ":61:2602020202C100,00NTRFNONREF//B0001",
        # the Kassenzeichen is cut by the bank's ?20/?21 line break
        f":86:166?00SEPA-UEBERWEISUNG?20SVWZ+KZ {K1[:4]}.{K1[4:8]}.?21{K1[8:]} Grundsteuer?32Mueller, Anna",
        ":61:2602020202C80,00NTRFNONREF//B0002",
        f":86:166?00SEPA-UEBERWEISUNG?20SVWZ+Abfall {K2}?32Schaefer, Bernd",
        ":61:2602020202C50,00NTRFNONREF//B0003",
        ":86:166?00SEPA-UEBERWEISUNG?20SVWZ+Danke?32Unbekannt, Hans",
        ":61:2602020202D9,90NCHGNONREF//B0004",
        ":86:805?00ENTGELTABSCHLUSS?20Abschluss",
        ":62F:C260202EUR1220,10", "-", ""])
    sta = tmp / "a.sta"
    sta.write_bytes(mt.encode("latin-1"))
    csv = tmp / "items.csv"
    csv.write_text(
        "\ufeffreceivable_id;kassenzeichen;debtor_id;debtor_name;debtor_iban;claim_type;amount;due_date\n"
        f"r1;{K1};d1;Anna Müller;DE89370400440532013000;GRUNDSTEUER;100,00;2026-01-15\n"
        f"r2;{K2};d2;Bernd Schäfer;;ABFALL;75,50;2026-01-15\n", encoding="utf-8")
    return csv, sta


def test_kasse_match_in_process(tmp_path: Path, capsys) -> None:
    csv, sta = _inputs(tmp_path)
    out = tmp_path / "out"
    assert main(["match", "--receivables", str(csv), "--statements", str(sta), "--out", str(out)]) == 0
    alloc = pl.read_parquet(out / "allocations.parquet")
    unres = pl.read_parquet(out / "unresolved.parquet")
    assert dict(alloc.schema) == ALLOCATION_SCHEMA and dict(unres.schema) == UNRESOLVED_SCHEMA
    assert sorted(alloc.select("bank_ref", "receivable_id", "amount_cents", "rule").iter_rows()) == [
        ("B0001", "r1", 10000, "reference.exact"), ("B0002", "r2", 7550, "reference.exact")]
    assert sorted(unres.select("bank_ref", "reason", "unallocated_cents").iter_rows()) == [
        ("B0002", "overpayment", 450), ("B0003", "no_reference", 5000)]
    assert pl.read_csv(out / "allocations.csv", separator=";").height == 2
    summary = json.loads((out / "summary.json").read_text())
    assert summary["payments"] == 3 and summary["skipped"] == {"bank_fee": 1} and summary["open_items"] == 2
    assert summary["allocated_fully"] == 1 and summary["allocated_partly"] == 1
    assert "3 payments" in capsys.readouterr().out


def test_kasse_match_size_limit_is_an_option(tmp_path: Path) -> None:
    # a bank file above the limit is rejected with its reason (exit 1, nothing matched); the option raises it
    csv, sta = _inputs(tmp_path)
    args = ["match", "--receivables", str(csv), "--statements", str(sta)]
    assert main([*args, "--out", str(tmp_path / "small"), "--max-size-mib", "0"]) == 1
    summary = json.loads((tmp_path / "small" / "summary.json").read_text())
    assert summary["files_rejected"] == 1 and summary["payments"] == 0
    assert "file.too_large" in (tmp_path / "small" / "issues.csv").read_text(encoding="utf-8")
    assert main([*args, "--out", str(tmp_path / "big"), "--max-size-mib", "1"]) == 0


def test_kasse_match_bad_config_is_a_usage_error(tmp_path: Path) -> None:
    csv, sta = _inputs(tmp_path)
    cfg = tmp_path / "tenant.toml"
    cfg.write_text('[reference]\ncheck_digit = "mod97"\n[ledger]\npath = "x"\n', encoding="utf-8")
    assert main(["match", "--receivables", str(csv), "--statements", str(sta), "--out", str(tmp_path / "o"),
                 "--config", str(cfg)]) == 2


def test_kasse_match_as_a_subprocess(tmp_path: Path) -> None:
    csv, sta = _inputs(tmp_path)
    # one bad export row: the rest is still matched, exit code 1
    with csv.open("a", encoding="utf-8") as fh:
        fh.write(f"r3;{K2};d2;Bernd Schäfer;;ABFALL;zehn;2026-01-15\n")
    out = tmp_path / "out"
    proc = subprocess.run(
        [sys.executable, "-m", "flows.cli", "match", "--receivables", str(csv), "--statements", str(sta),
         "--out", str(out), "--json"], cwd=ROOT, capture_output=True, text=True, timeout=120, check=False)
    assert proc.returncode == 1, proc.stderr
    summary = json.loads(proc.stdout)
    assert summary["per_rule"]["reference.exact"]["allocations"] == 2
    issues = pl.read_csv(out / "issues.csv", separator=";")
    assert issues.select("locator", "code").rows() == [("line 4", "open_items.bad_amount")]
