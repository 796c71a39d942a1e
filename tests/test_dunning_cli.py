"""``kasse dunning --receivables``: the stateless run — an export in, the contract's files out."""

from __future__ import annotations

import contextlib
import json
from pathlib import Path

import polars as pl
import pytest
from oracle_matcher import kz

from flows.cli import main
from outputs.atomic import verify

AS_OF = "2026-12-08"
CONFIG = """[tenant]
id = "musterstadt"
name = "Stadt Musterstadt"

[reference]
digits = 12
check_digit = "mod11"

[[accounts]]
iban = "DE02370502990000684712"
bic = "COKSDE33XXX"
name = "Sparkasse KölnBonn"
"""


def _numbers(n: int) -> list[str]:
    """``n`` valid Kassenzeichen (12 digits, mod 11): bodies whose check value would be 10 are skipped."""
    out, body = [], 10000000001
    while len(out) < n:
        with contextlib.suppress(AssertionError):
            out.append(kz(str(body)))
        body += 1
    return out


K = _numbers(8)
HEAD = ("receivable_id;kassenzeichen;debtor_id;debtor_name;claim_type;amount;due_date;law;notice_date;"
        "block_reason;debtor_street;debtor_postcode;debtor_city")
ROWS = [
    # two claims of one debtor: one notice; 2 started months of Säumniszuschlag each
    f"r1;{K[0]};d1;Anna Müller;GRUNDSTEUER;100,00;2026-10-15;;;;Markt 1;50667;Köln",
    f"r2;{K[1]};d1;Anna Müller;ABFALL;75,50;2026-10-15;;;;Markt 1;50667;Köln",
    f"r3;{K[2]};d2;Bernd Schäfer;HUNDESTEUER;5,00;2026-10-15;;;;Weg 2;50667;Köln",
    # due Saturday 5 Dec → Monday 7 Dec: the Schonfrist has not passed
    f"r4;{K[3]};d3;Cem Yilmaz;GRUNDSTEUER;200,00;2026-12-05;;;;Ring 3;50667;Köln",
    f"r5;{K[4]};d4;Dora Klein;ABFALL;80,00;2026-10-15;;;INSOLVENZ;Gasse 4;50667;Köln",
    # the Leistungsbescheid counts as delivered on 3 Dec: the Schonfrist runs to 10 Dec
    f"r6;{K[5]};d5;Emil Groß;GRUNDSTEUER;300,00;2026-10-15;;2026-12-03;;Platz 5;50667;Köln",
    # private law: default interest, no Säumniszuschlag, an uncapped fee
    f"r7;{K[6]};d6;Fritz Weiß;KITA;120,00;2026-10-15;private;;;Allee 6;50667;Köln",
]


def _run(tmp: Path, rows: list[str] = ROWS, *extra: str) -> tuple[int, Path]:
    (tmp / "kasse.toml").write_text(CONFIG, encoding="utf-8")
    export = tmp / "items.csv"
    export.write_text("\n".join([HEAD, *rows]) + "\n", encoding="utf-8")
    out = tmp / "out"
    code = main(["dunning", "--receivables", str(export), "--as-of", AS_OF, "--config", str(tmp / "kasse.toml"),
                 "--out", str(out), *extra])
    return code, out


def test_the_contract_files_with_their_columns_and_figures(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out = _run(tmp_path)
    assert code == 0
    assert (out / "notices.csv").read_text(encoding="utf-8").splitlines()[0] == \
        "notice_id;debtor_id;level;notice_date;deadline;n_claims;total_cents"
    assert (out / "notice_items.csv").read_text(encoding="utf-8").splitlines()[0] == (
        "notice_id;receivable_id;kassenzeichen;claim_type;due_date;open_cents;saeumniszuschlag_cents;"
        "mahngebuehr_cents;interest_cents")
    assert (out / "skipped.csv").read_text(encoding="utf-8").splitlines()[0] == "receivable_id;reason"

    notices = pl.read_csv(out / "notices.csv", separator=";", try_parse_dates=True)
    items = pl.read_csv(out / "notice_items.csv", separator=";", try_parse_dates=True)
    skipped = pl.read_csv(out / "skipped.csv", separator=";")
    # every claim in exactly one of the two
    assert sorted([*items["receivable_id"], *skipped["receivable_id"]]) == [f"r{i}" for i in range(1, 8)]
    assert dict(skipped.iter_rows()) == {"r3": "below_threshold", "r4": "schonfrist", "r5": "blocked",
                                         "r6": "schonfrist"}
    figures = {r[0]: r[1:] for r in items.select("receivable_id", "saeumniszuschlag_cents", "mahngebuehr_cents",
                                                 "interest_cents").iter_rows()}
    # fee: 6,00 € + 1 % of what exceeds 50,00 €
    assert figures == {"r1": (200, 650, 0), "r2": (100, 626, 0),
                       # 120,00 € × (1,27 % + 5 points) × 54 days / 365 = 1,11 €; fee 6,00 + 1 % of 70,00
                       "r7": (0, 670, 111)}
    by_debtor = {r[0]: r[1:] for r in notices.select("debtor_id", "n_claims", "total_cents", "level",
                                                     "deadline").iter_rows()}
    assert by_debtor["d1"][:3] == (2, 10000 + 7550 + 300 + 650 + 626, "mahnung")
    assert by_debtor["d6"][:2] == (1, 12000 + 670 + 111)
    assert str(by_debtor["d1"][3]) == "2026-12-18"            # 8 Dec + 3 days post + 7 days Mahnfrist
    assert verify(out) == []
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert summary["claims_dunned"] == 3 and summary["claims_skipped"] == 4 and summary["notices"] == 2
    printed = pl.read_csv(out / "print_file.csv", separator=";", encoding="utf-8-sig")
    assert printed.height == 2 and printed["pages"].sum() == summary["pages"] >= 2
    assert (out / "letters.pdf").read_bytes().startswith(b"%PDF")
    captured = capsys.readouterr()
    assert "3 claims dunned on 2 notices" in captured.out
    # the private-law claim's interest ran past the last Basiszinssatz row (1 Jan 2026): said, not hidden
    assert summary["warnings"] and "Basiszinssatz" in captured.err


def test_no_base_rate_warning_when_the_table_knows_the_day(tmp_path: Path) -> None:
    (tmp_path / "extra.toml").write_text(CONFIG + '\n[dunning]\nbase_rates = [{since = 2026-07-01, percent = 1.27}]\n',
                                         encoding="utf-8")
    export = tmp_path / "items.csv"
    export.write_text("\n".join([HEAD, *ROWS]) + "\n", encoding="utf-8")
    assert main(["dunning", "--receivables", str(export), "--as-of", AS_OF, "--config", str(tmp_path / "extra.toml"),
                 "--out", str(tmp_path / "o")]) == 0
    assert json.loads((tmp_path / "o" / "summary.json").read_text(encoding="utf-8"))["warnings"] == []


def test_a_bad_row_is_reported_and_the_rest_goes_on(tmp_path: Path) -> None:
    bad = f"r8;{K[7]};d7;Gina Hof;GRUNDSTEUER;50,00;2026-10-15;;2026-13-01;;Hof 8;50667;Köln"
    code, out = _run(tmp_path, [*ROWS, bad])
    assert code == 1
    issues = pl.read_csv(out / "issues.csv", separator=";")
    assert issues.filter(pl.col("code") == "open_items.bad_date")["locator"].to_list() == ["line 9"]
    assert pl.read_csv(out / "notices.csv", separator=";").height == 2


def test_usage_errors_exit_2(tmp_path: Path) -> None:
    assert main(["dunning", "--receivables", str(tmp_path / "missing.csv"), "--out", str(tmp_path)]) == 2
    assert main(["dunning"]) == 2
    assert main(["dunning", "--receivables", str(tmp_path / "x.csv")]) == 2          # no --out


def test_the_ledger_mode_prepares_refuses_the_preparer_and_books_after_a_release(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    from datetime import date

    from nightly_files import ACCOUNT, Entry, write_mt940, write_open_items
    from nightly_files import kz as nkz

    import jobs.nightly as night
    from claims.config import load_tenant_config
    from review.users import hash_password

    config = tmp_path / "kasse.toml"
    config.write_text(f'[tenant]\nid = "stadt"\n[[accounts]]\niban = "{ACCOUNT}"\n', encoding="utf-8")
    cfg = load_tenant_config(config)
    write_open_items(cfg.inbox / "export.csv", [("R0", nkz(0), 15000), ("R1", nkz(1), 9900)], due=date(2026, 10, 1))
    write_mt940(cfg.inbox / "bank.sta", day=date(2026, 11, 16), seq=1, opening=100000,
                entries=[Entry(-350, "Kontofuehrung")])
    night.run_night(cfg, date(2026, 11, 16))
    users = tmp_path / "users.toml"
    secret = hash_password("geheim-123")
    users.write_text("".join(f'[users.{login}]\nname = "{login}"\nrole = "{role}"\ntenants = ["stadt"]\n'
                             f'password_hash = "{secret}"\n' for login, role in
                             (("anna", "supervisor"), ("ben", "clerk"), ("sven", "supervisor"))), encoding="utf-8")
    monkeypatch.setenv("KASSE_PASSWORD", "geheim-123")
    base = ["dunning", "--config", str(config), "--as-of", "2026-11-18"]

    # nights incomplete: the week after has no day close for its booking days
    assert main([*base[:3], "--as-of", "2026-11-25", "--user", "anna"]) == 2
    assert "Tue 17.11.2026" in capsys.readouterr().err

    assert main([*base, "--user", "anna", "--json"]) == 0
    prepared = json.loads(capsys.readouterr().out)
    assert prepared["status"] == "prepared" and prepared["counts"]["n_notices"] == 2
    run_id = prepared["run_id"]
    assert main([*base, "--release", run_id, "--users", str(users), "--user", "anna"]) == 2   # the preparer
    assert "four-eyes" in capsys.readouterr().err
    assert main([*base, "--release", run_id, "--users", str(users), "--user", "ben"]) == 2    # a clerk
    monkeypatch.setenv("KASSE_PASSWORD", "falsch")
    assert main([*base, "--release", run_id, "--users", str(users), "--user", "sven"]) == 2   # wrong password
    monkeypatch.setenv("KASSE_PASSWORD", "geheim-123")
    assert main([*base, "--release", run_id, "--users", str(users), "--user", "sven"]) == 0
    capsys.readouterr()
    assert main([*base, "--user", "anna", "--json"]) == 0
    booked = json.loads(capsys.readouterr().out)
    assert (booked["status"], booked["run_id"]) == ("booked", run_id)
    assert Path(booked["paths"]["letters.pdf"]).read_bytes().startswith(b"%PDF")
    assert main([*base, "--user", "anna", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["status"] == "nothing_to_do"


@pytest.mark.parametrize("accounts", ["", '[[accounts]]\niban = "DE00123"\n'])
def test_no_valid_account_to_be_paid_to_is_a_clear_usage_error(tmp_path: Path, accounts: str,
                                                                capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "k.toml").write_text(f'[tenant]\nid = "x"\n{accounts}', encoding="utf-8")
    (tmp_path / "e.csv").write_text("\n".join([HEAD, ROWS[0]]) + "\n", encoding="utf-8")
    assert main(["dunning", "--receivables", str(tmp_path / "e.csv"), "--as-of", AS_OF, "--config",
                 str(tmp_path / "k.toml"), "--out", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err
    assert ("account to be paid to" if not accounts else "'DE00123' is not a valid IBAN") in err
    assert not (tmp_path / "o").exists()
