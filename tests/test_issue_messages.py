"""Every issue says something: no message is empty or the text ``None`` (a value that was not there,
formatted into a message, used to make the whole message null: ``str(None)``)."""

from __future__ import annotations

import re
from pathlib import Path

import polars as pl
from test_camt_rules import document, entry

from parsers import parse_file
from parsers.issues import Issue
from parsers.open_items import load_open_items

BROKEN = Path(__file__).resolve().parent / "broken"
HEADER = "receivable_id;kassenzeichen;debtor_id;debtor_name;debtor_iban;claim_type;amount;due_date;law;tenant\n"


def _speechless(issues: list[Issue]) -> list[str]:
    return [i.one_line() for i in issues
            if not isinstance(i.message, str) or not i.message.strip() or re.search(r"\bNone\b", i.message)]


def _bank_files(folder: Path) -> None:
    """Bank files with empty and broken values where a message quotes the value."""
    (folder / "empty_tags.sta").write_text("\n".join([":20:", ":25:", ":28C:", ":60F:", ":61:", ":86:", ":99:x",
                                                      ":61:2602020202C1O0,00NTRF", ":62F:X", "-", ""]))
    (folder / "no_balances.sta").write_text(":20:A\n:61:2602020202C10,00NTRF\n:86:?99x\n-\n")
    (folder / "bad_date.sta").write_text(":20:A\n:25:X\n:60F:C260202EUR0,\n:61:2613450231C10,00NTRF\n:62F:C260202EUR10,\n-\n")
    empty = (entry("") + entry("1", "") + entry("1", extra="<RvslInd></RvslInd>", sts="<Sts></Sts>")
             + entry("1").replace("<BookgDt><Dt>2024-05-17</Dt></BookgDt>", "<BookgDt><Dt></Dt></BookgDt>")
             + entry("1", details="<NtryDtls><TxDtls><Amt Ccy='EUR'></Amt></TxDtls><TxDtls/></NtryDtls>"))
    (folder / "empty_values.xml").write_text(document(empty, balances=("", "x")), encoding="utf-8")
    (folder / "no_balance_values.xml").write_text(document(entry("1.00"), balances=("1.005", "")), encoding="utf-8")


def test_no_bank_issue_is_empty_or_none(tmp_path: Path, samples_dir: Path) -> None:
    _bank_files(tmp_path)
    cut = tmp_path / "cut"
    cut.mkdir()
    for sample in sorted((samples_dir / "camt").iterdir())[:6] + sorted((samples_dir / "mt940").iterdir())[:6]:
        data = sample.read_bytes()
        (cut / sample.name).write_bytes(data[: len(data) * 2 // 3])  # cut off: every parser's errors at once
    # each file on its own (two cut samples may hold the same statement; that is another matter)
    results = [parse_file(p) for p in [*sorted(BROKEN.iterdir()), *sorted(tmp_path.rglob("*.*"))]]
    issues = [i for r in results for i in r.issues]
    files = pl.concat([r.files for r in results])
    assert len(issues) > 40 and files.filter(pl.col("status") == "rejected").height > 15
    assert _speechless(issues) == []
    reasons = files.filter(pl.col("status") != "ok")["reason"].to_list()
    assert all(reason and not re.search(r"\bNone\b", reason) for reason in reasons)


def test_no_open_items_issue_is_empty_or_none(tmp_path: Path) -> None:
    exports = {
        "empty.csv": "",
        "header_only.csv": HEADER,
        "columns.csv": "receivable_id;amount\nr1;1,00\n",
        "blank_values.csv": HEADER + ";;;;;;;;;\n" + "r1;;;;;;;;;\n" + " ; ; ; ; ; ; ; ; ; \n",
        "bad_values.csv": HEADER + "r1;4711;d1;A;DE00;X;zehn;morgen;lokal;\nr1;4711;d2;B;;X;-1;2026-01-15;;other\n",
        "ragged.csv": HEADER + "r1;x\n" + "r2;1;d;A;;X;1,00;2026-01-15;;;;\n" + 'r3;"open\n' + "\n",
        "broken_quote.csv": HEADER + 'r1;4711;d1;5" Rohr;;X;1,00;2026-01-15;;\n',
    }
    issues: list[Issue] = []
    for name, text in exports.items():
        p = tmp_path / name
        p.write_text(text, encoding="utf-8")
        issues += load_open_items(p, tenant="musterstadt")[1]
    latin = tmp_path / "latin1.csv"
    latin.write_bytes((HEADER + "r1;4711;d1;M\xfcller;;X;1,00;2026-01-15;;\n").encode("latin-1"))
    issues += load_open_items(latin)[1]
    nulls = tmp_path / "nulls.parquet"
    pl.DataFrame({c: [None, None] for c in HEADER.strip().split(";")}, schema={c: pl.String for c in HEADER.strip().split(";")}
                 ).write_parquet(nulls)
    issues += load_open_items(nulls)[1]
    assert len(issues) > 25
    assert _speechless(issues) == []
