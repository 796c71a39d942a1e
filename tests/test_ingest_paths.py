"""parse_paths: one files row per input, duplicates, overlapping deliveries, strict mode, ZIPs, crashes."""

from __future__ import annotations

import re
import shutil
import subprocess
import zipfile
from pathlib import Path

import polars as pl
import pytest

from parsers import ParseResult, parse_file, parse_paths
from parsers.result import FILE_SCHEMA
from parsers.schema import STATEMENT_SCHEMA, TRANSACTION_SCHEMA, assert_schema

BROKEN = Path(__file__).parent / "broken"
CODE = re.compile(r"^[a-z0-9_]+(\.[a-z0-9_]+)+$")


def mt940(no: int, opening: int, amounts: list[int], closing: int | None = None, day: int = 17,
          account: str = "12030000/0000202051") -> str:
    """A small German MT940 statement; balances and amounts in cents."""
    def amt(c: int) -> str:
        return f"{'C' if c >= 0 else 'D'}{abs(c) // 100},{abs(c) % 100:02d}"

    closing = opening + sum(amounts) if closing is None else closing
    lines = [":20:STARTUMS", f":25:{account}", f":28C:{no:05d}/001", f":60F:{amt(opening)[0]}2405{day - 1:02d}EUR{amt(opening)[1:]}"]
    for i, c in enumerate(amounts):
        lines += [f":61:2405{day:02d}05{day:02d}{amt(c)}NTRFNONREF//B{no}-{i}",
                  f":86:166?00GUTSCHRIFT?20KZ 12345{i}?31DE89370400440532013000?32MAX MUSTERMANN"]
    lines += [f":62F:{amt(closing)[0]}2405{day:02d}EUR{amt(closing)[1:]}", "-"]
    return "\r\n".join(lines) + "\r\n"


def write(path: Path, text: str) -> Path:
    path.write_bytes(text.encode("latin-1"))
    return path


def assert_counts(result: ParseResult, n_inputs: int) -> None:
    """Counts in = counts out + rejected, and every kept row belongs to an ok file."""
    files = result.files
    assert_schema(files, FILE_SCHEMA, "files")
    assert_schema(result.transactions, TRANSACTION_SCHEMA, "transactions")
    assert_schema(result.statements, STATEMENT_SCHEMA, "statements")
    assert files.height == n_inputs
    assert files["source_path"].n_unique() == n_inputs
    assert set(files["status"]) <= {"ok", "rejected", "duplicate"}
    ok = files.filter(pl.col("status") == "ok")
    assert int(ok["n_rows"].sum() or 0) == result.transactions.height
    assert int(ok["n_statements"].sum() or 0) == result.statements.height
    assert set(result.transactions["source_path"]) <= set(ok["source_path"])
    assert set(result.statements["source_path"]) <= set(ok["source_path"])
    not_ok = files.filter(pl.col("status") != "ok")
    assert not_ok["reason"].null_count() == 0
    assert all("\n" not in r for r in not_ok["reason"])
    errors = {i.source_path for i in result.issues if i.severity == "error"}
    assert set(files.filter(pl.col("status") == "rejected")["source_path"]) <= errors
    assert all(CODE.match(i.code) for i in result.issues), {i.code for i in result.issues}


def test_all_samples_and_broken_files(samples_dir: Path, tmp_path: Path) -> None:
    extra = tmp_path / "extra"
    extra.mkdir()
    (extra / "random.bin").write_bytes(bytes(range(256)) * 64)
    subprocess.run(["truncate", "-s", "2G", str(extra / "sparse.sta")], check=True)
    (extra / "copy_of_sample.sta").write_bytes((samples_dir / "mt940" / "my-flow__mt940__sample.sta").read_bytes())
    inputs = [samples_dir, BROKEN, extra, tmp_path / "missing.sta"]
    n = sum(1 for p in samples_dir.rglob("*") if p.is_file()) + len(list(BROKEN.iterdir())) + 3 + 1
    result = parse_paths(inputs)
    assert_counts(result, n)
    status = dict(zip(result.files["source_path"], result.files["status"], strict=True))
    assert status[str(extra / "copy_of_sample.sta")] == "duplicate"
    assert status[str(extra / "sparse.sta")] == "rejected"
    assert status[str(tmp_path / "missing.sta")] == "rejected"
    pain = result.files.filter(pl.col("source_path").str.contains("/pain/"))
    assert pain.height == 7 and set(pain["status"]) == {"rejected"}
    assert all(" file.pain: " in r for r in pain["reason"])
    assert result.transactions.height > 500


def test_same_bytes_twice_is_a_duplicate_and_nothing_of_it_is_kept(tmp_path: Path) -> None:
    a = write(tmp_path / "a.sta", mt940(4, 10000, [5000]))
    b = tmp_path / "b.sta"
    shutil.copy(a, b)
    result = parse_paths([a, b])
    assert result.files["status"].to_list() == ["ok", "duplicate"]
    assert result.files["reason"][1] == f"{b}: duplicate: same bytes as {a}"
    assert result.transactions.height == 1
    again = parse_paths([b], known_files=frozenset(result.files["source_file"]))
    assert again.files["status"].to_list() == ["duplicate"]
    assert again.transactions.height == 0 and again.statements.height == 0


def test_overlapping_delivery_drops_the_statement_naming_both_files(tmp_path: Path) -> None:
    first = write(tmp_path / "1.sta", mt940(4, 10000, [5000]) + mt940(5, 15000, [-2000], day=18))
    # the bank sends statement 5 again (other bytes: LF line ends), with statement 6
    second = write(tmp_path / "2.sta", (mt940(5, 15000, [-2000], day=18) + mt940(6, 13000, [100], day=19)).replace("\r\n", "\n"))
    result = parse_paths([first, second])
    assert result.statements["statement_no"].to_list() == ["00004/001", "00005/001", "00006/001"]
    assert result.transactions.height == 3
    (dup,) = [i for i in result.issues if i.code == "statement.duplicate"]
    assert dup.severity == "warning" and dup.source_path == str(second)
    assert str(first) in dup.message and str(second) in dup.message
    assert result.files["n_statements"].to_list() == [2, 1]
    # the ledger already holds everything of the first file: the second brings only statement 6
    keys = frozenset(result.statements.filter(pl.col("source_path") == str(first))["statement_key"])
    later = parse_paths([second], known_statement_keys=keys)
    assert later.statements["statement_no"].to_list() == ["00006/001"]
    assert [i.code for i in later.issues] == ["statement.duplicate"]


def test_file_with_only_known_statements_is_a_duplicate(tmp_path: Path) -> None:
    a = write(tmp_path / "a.sta", mt940(4, 10000, [5000]))
    b = write(tmp_path / "b.sta", mt940(4, 10000, [5000]).replace("\r\n", "\n"))
    result = parse_paths([a, b])
    assert result.files["status"].to_list() == ["ok", "duplicate"]
    assert "every statement was already read" in result.files["reason"][1]


def test_same_key_other_entries_is_a_conflict(tmp_path: Path) -> None:
    a = write(tmp_path / "a.sta", mt940(4, 10000, [5000]))
    b = write(tmp_path / "b.sta", mt940(4, 10000, [4000, 1000]))
    result = parse_paths([a, b])
    (conflict,) = [i for i in result.issues if i.code == "statement.conflict"]
    assert conflict.severity == "error"
    assert "1 entries summing 50.00, but this copy has 2 entries summing 50.00" in conflict.message
    assert result.transactions.height == 1


def test_checks_run_across_files_and_against_the_ledger(tmp_path: Path) -> None:
    a = write(tmp_path / "a.sta", mt940(4, 10000, [5000]))
    c = write(tmp_path / "c.sta", mt940(6, 14000, [100], day=19))
    result = parse_paths([a, c])
    assert sorted(i.code for i in result.issues) == ["statement.continuity", "statement.gap"]
    assert parse_paths([c], previous_statements=result.statements.filter(pl.col("source_path") == str(a))).issues
    # the ledger holding c itself: c is no predecessor of itself, only a re-delivery
    again = parse_paths([c], previous_statements=result.statements.filter(pl.col("source_path") == str(c)))
    assert [i.code for i in again.issues] == ["statement.duplicate"]


def test_balance_mismatch_is_an_error_and_strict_rejects(tmp_path: Path) -> None:
    bad = write(tmp_path / "bad.sta", mt940(4, 10000, [5000], closing=15010))
    good = write(tmp_path / "good.sta", mt940(9, 0, [100], account="99999999/1"))
    tolerant = parse_paths([bad, good])
    assert tolerant.files["status"].to_list() == ["ok", "ok"]
    (issue,) = tolerant.issues
    assert issue.message == ("statement 00004/001: opening 100.00 + entries 50.00 = 150.00, "
                             "but closing says 150.10 (0.10 too little)")
    assert tolerant.statements["balance_ok"].to_list() == [False, True]
    strict = parse_paths([bad, good], strict=True)
    assert strict.files["status"].to_list() == ["rejected", "ok"]
    assert strict.files["reason"][0].startswith("strict: ") and "statement.balance_mismatch" in strict.files["reason"][0]
    assert strict.transactions["source_path"].to_list() == [str(good)]
    assert_counts(strict, 2)


def test_strict_turns_warnings_into_errors(tmp_path: Path) -> None:
    a = write(tmp_path / "a.sta", mt940(4, 10000, [5000]))
    c = write(tmp_path / "c.sta", mt940(6, 15000, [100], day=19))  # a gap: warning
    assert {i.severity for i in parse_paths([a, c]).issues} == {"warning"}
    strict = parse_paths([a, c], strict=True)
    assert {i.severity for i in strict.issues} == {"error"}
    assert strict.files["status"].to_list() == ["ok", "rejected"]


def test_zip_members_are_files_of_their_own(samples_dir: Path, tmp_path: Path) -> None:
    z = tmp_path / "ebics.zip"
    camt = samples_dir / "camt" / "viafintech__camt_parser__053_valid_example.xml"
    inner = tmp_path / "inner.zip"
    with zipfile.ZipFile(inner, "w") as zf:
        zf.writestr("x.sta", mt940(1, 0, [1]))
    with zipfile.ZipFile(z, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("day1/a.sta", mt940(4, 10000, [5000]))
        zf.write(camt, "day1/camt.xml")
        zf.write(BROKEN / "bank_export.csv", "notes.csv")
        zf.write(inner, "nested.zip")
        zf.writestr("big.sta", mt940(4, 10000, [5000] * 300))  # over the limit once unpacked
    result = parse_paths([z], max_bytes=20_000)
    got = dict(zip(result.files["source_path"], result.files["status"], strict=True))
    assert got == {
        str(z): "ok",  # the archive itself: no statements of its own
        f"{z}!day1/a.sta": "ok",
        f"{z}!day1/camt.xml": "ok",
        f"{z}!notes.csv": "rejected",
        f"{z}!nested.zip": "rejected",
        f"{z}!big.sta": "rejected",
    }
    assert set(result.transactions["source_path"]) == {f"{z}!day1/a.sta", f"{z}!day1/camt.xml"}
    assert_counts(result, 6)
    assert result.files.row(0, named=True)["source_format"] == "zip"
    assert result.files.row(0, named=True)["n_statements"] == 0
    # the same archive again: one duplicate row, nothing opened
    again = parse_paths([z], known_files=frozenset(result.files["source_file"].drop_nulls()))
    assert again.files.select("source_path", "status").rows() == [(str(z), "duplicate")]


@pytest.mark.parametrize(
    ("content", "code"),
    [(b"PK\x03\x04 not really a zip", "zip.malformed"), (b"PK\x05\x06" + b"\x00" * 18, "zip.empty")],
)
def test_bad_zip_is_one_rejected_row(tmp_path: Path, content: bytes, code: str) -> None:
    z = tmp_path / "bad.zip"
    z.write_bytes(content)
    result = parse_paths([z])
    assert result.files["status"].to_list() == ["rejected"]
    assert f" {code}: " in result.files["reason"][0]


def test_a_crashing_parser_rejects_only_its_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import parsers.ingest

    def explode(path: Path, fmt: str, sha: str, tenant: str, max_bytes: int) -> ParseResult:
        if path.name == "boom.sta":
            raise KeyError("unexpected\nmulti-line")
        return real(path, fmt, sha, tenant, max_bytes)

    real = parsers.ingest._dispatch
    monkeypatch.setattr(parsers.ingest, "_dispatch", explode)
    boom = write(tmp_path / "boom.sta", mt940(4, 10000, [5000]))
    fine = write(tmp_path / "fine.sta", mt940(9, 0, [100], account="99999999/1"))
    result = parse_paths([boom, fine])
    assert result.files["status"].to_list() == ["rejected", "ok"]
    assert result.files["reason"][0] == f"{boom}: error parser.crashed: the mt940 parser failed: KeyError: 'unexpected\\nmulti-line'"


def test_folders_are_read_recursively_and_sorted(tmp_path: Path) -> None:
    (tmp_path / "b").mkdir()
    (tmp_path / "a").mkdir()
    write(tmp_path / "b" / "1.sta", mt940(5, 15000, [1], day=18))
    write(tmp_path / "a" / "2.sta", mt940(4, 10000, [5000]))
    write(tmp_path / "0.sta", mt940(9, 0, [100], account="99999999/1"))
    result = parse_paths([tmp_path])
    assert [Path(p).relative_to(tmp_path).as_posix() for p in result.files["source_path"]] == ["0.sta", "a/2.sta", "b/1.sta"]


def test_parse_file_and_tenant(tmp_path: Path) -> None:
    result = parse_file(write(tmp_path / "a.sta", mt940(4, 10000, [5000])), tenant="stadt-a")
    assert result.transactions["tenant"].to_list() == ["stadt-a"]
    assert result.transactions["iban_valid"].to_list() == [True]
    assert parse_file(tmp_path).files["reason"][0] == f"{tmp_path}: error file.is_directory: is a directory, not a file"


def test_broken_xml_in_the_middle_is_rejected_with_the_parsers_line(samples_dir: Path, tmp_path: Path) -> None:
    data = (samples_dir / "camt" / "viafintech__camt_parser__053_valid_example.xml").read_bytes()
    mid = len(data) // 2
    broken = tmp_path / "mid.xml"
    broken.write_bytes(data[:mid] + b"<<<>>>" + data[mid:])
    result = parse_paths([broken])
    assert result.files["status"].to_list() == ["rejected"]
    reason = result.files["reason"][0]
    assert re.match(rf"{re.escape(str(broken))}: line \d+: error [a-z]+\.malformed_xml: ", reason), reason
    assert result.transactions.height == 0 and result.statements.height == 0
