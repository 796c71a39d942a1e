"""Hostile inputs (issue 12, items 5-7): bounded memory, bounded ZIPs, and line ends that lose nothing.

Each case is made in ``tmp_path``. Where memory is the point, the file is parsed in a child process
and the child's own peak RSS (``os.wait4``) is compared with a bound the old code broke several times
over; no test asserts a time. The figures at full size are in docs/BENCHMARKS.md ("Hostile inputs:
memory", ``benchmarks/bench_hostile_memory.py``).
"""

from __future__ import annotations

import io
import json
import random
import subprocess
import sys
import zipfile
from pathlib import Path
from typing import Any

import pytest

import parsers.archive
import parsers.camt
import parsers.mt940
import parsers.mt940_lines
from parsers.archive import ArchiveError, unpack
from parsers.ingest import parse_file, parse_paths
from parsers.limits import first_long_stretch, scan_xml
from parsers.mt940 import parse_mt940
from parsers.text_decoding import unix_newlines

SAMPLES = Path(__file__).resolve().parent.parent.parent / "shared" / "samples"
HEAD = ":20:STARTUMS\n:25:12030000/0000202051\n:28C:00001/001\n:60F:C261116EUR1000,00\n"
TAIL = ":62F:C261116EUR{closing}\n-\n"


def statement(*entries: tuple[str, str], closing: str = "1000,00") -> str:
    """One MT940 statement with (:61: line, :86: text) entries, LF line ends."""
    body = "".join(f":61:{line}\n:86:{details}\n" for line, details in entries)
    return HEAD + body + TAIL.format(closing=closing)


def peak_mib(script: str, *args: str) -> tuple[float, dict[str, Any]]:
    """Run ``script`` in a fresh interpreter; its peak RSS in MiB and the JSON it prints.

    The peak is the child's own ``VmHWM``: its ``ru_maxrss`` would start from the RSS of the process
    that forked it (a pytest worker of several hundred MiB).
    """
    proc = subprocess.Popen([sys.executable, "-c", script, *args], stdout=subprocess.PIPE)
    assert proc.stdout is not None
    with proc.stdout:
        out = json.loads(proc.stdout.read())
    assert proc.wait() == 0
    return out.pop("vm_hwm_kib") / 1024, out


PARSE_ONE = """
import json, re, sys
from parsers.ingest import parse_file
r = parse_file(sys.argv[1])
hwm = int(re.search(r"VmHWM:\\s*(\\d+)", open("/proc/self/status").read()).group(1))
print(json.dumps({"status": r.files["status"][0], "reason": r.files["reason"][0], "vm_hwm_kib": hwm}))
"""


# -- item 5: memory ----------------------------------------------------------------------------------


def test_one_endless_line_is_rejected_naming_the_line_in_bounded_memory(tmp_path: Path) -> None:
    path = tmp_path / "one_line.sta"
    path.write_bytes(b":20:" + b"A" * (20 << 20))  # 20 MiB without a line end (took ~0.6 GB before)
    rss, got = peak_mib(PARSE_ONE, str(path))
    assert got["status"] == "rejected"
    assert " line 1: error mt940.line_too_long: line 1 has 20,971,524 characters" in got["reason"]
    assert rss < 250, f"peak RSS {rss:.0f} MiB"


def test_a_long_line_in_the_middle_is_named_by_its_line(tmp_path: Path) -> None:
    path = tmp_path / "long.sta"
    path.write_text(statement(("261116C1,00NTRFNONREF", "x" * 20_000)), encoding="latin-1")
    issue = parse_mt940(path, sha256="x").issues[-1]
    assert (issue.code, issue.locator) == ("mt940.line_too_long", "line 6")
    # under the limit (an unwrapped :86: of a few hundred characters, or up to 10,000) it is read
    path.write_text(statement(("261116C1,00NTRFNONREF", "x" * 9_000), closing="1001,00"), encoding="latin-1")
    assert parse_file(path).files["status"].to_list() == ["ok"]


def test_a_field_of_endless_continuation_lines_is_rejected(tmp_path: Path) -> None:
    lines = "\n".join(["x" * 60] * 2_000)  # 122,000 characters in one :86:, each line short
    path = tmp_path / "field.sta"
    path.write_text(statement(("261116C1,00NTRFNONREF", lines)), encoding="latin-1")
    issue = parse_mt940(path, sha256="x").issues[-1]
    assert (issue.code, issue.locator) == ("mt940.field_too_long", "line 6")
    # the same made of tag-like lines (":ZZ:" inside an :86: is text, glued to the field)
    glued = "\n".join([":ZZ:" + "x" * 56] * 2_000)
    path.write_text(statement(("261116C1,00NTRFNONREF", glued)), encoding="latin-1")
    issue = parse_mt940(path, sha256="x").issues[-1]
    assert (issue.code, issue.locator) == ("mt940.field_too_long", "line 6 :86:")


def test_too_many_statements_or_fields(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(parsers.mt940, "MAX_STATEMENTS", 3)
    path = tmp_path / "many.sta"
    path.write_text(statement() * 4, encoding="latin-1")
    assert parse_mt940(path, sha256="x").issues[-1].code == "mt940.too_many_statements"
    path.write_text(statement(*[("261116C0,00NTRFNONREF", "x")] * 20), encoding="latin-1")  # 45 tag lines
    issue = parse_mt940(path, sha256="x", max_tag_lines=40).issues[-1]
    assert issue.code == "mt940.too_many_fields" and "45 fields" in issue.message


def test_a_higher_size_limit_raises_the_field_limit_alike(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # both limits bound the same memory: a user who reads a bigger file (--max-size-mib) may read as many
    # more fields (a 1 M-entry DK file has 2 M tag lines)
    from parsers import parse_paths
    from parsers.detect import DEFAULT_MAX_BYTES

    monkeypatch.setattr(parsers.mt940_lines, "MAX_TAG_LINES", 40)
    path = tmp_path / "many.sta"
    path.write_text(statement(*[("261116C0,00NTRFNONREF", "x")] * 20), encoding="latin-1")  # 45 tag lines
    assert [i.code for i in parse_paths([path]).issues] == ["mt940.too_many_fields"]
    assert parse_paths([path], max_bytes=2 * DEFAULT_MAX_BYTES).files["status"].to_list() == ["ok"]


def test_the_date_000000_is_an_error_on_its_line_not_memory(tmp_path: Path) -> None:
    # The slow path for dates that do not exist built one Polars expression of ~500,000 nodes: planning
    # it took ~550 MB, for any file with one 30 February, year-end entry date or "000000".
    one = tmp_path / "zero.sta"
    one.write_text(statement(("0000000000C10,00NTRFNONREF", "x"), closing="1010,00"), encoding="latin-1")
    rss, got = peak_mib(PARSE_ONE, str(one))
    assert rss < 250, f"peak RSS {rss:.0f} MiB"
    assert got["status"] == "rejected" and " line 5 :61:: error mt940.entries_lost: " in got["reason"]
    r = parse_mt940(one, sha256="x")
    assert ("line 5 :61:", "mt940.bad_entry") in {(i.locator, i.code) for i in r.issues}
    # beside a good entry: the bad one is an error on its line, and the file is rejected as a whole
    # (a statement is never booked in part: parsers/unreadable.py)
    two = tmp_path / "two.sta"
    two.write_text(statement(("2611161116C5,00NTRFNONREF//B1", "good"), ("000000C10,00NTRFNONREF", "bad"),
                             closing="1015,00"), encoding="latin-1")
    result = parse_file(two)
    assert result.files["status"].to_list() == ["rejected"]
    assert ("line 7 :61:", "mt940.bad_entry") in {(i.locator, i.code) for i in result.issues}


def test_dates_through_the_slow_path_are_unchanged(tmp_path: Path) -> None:
    path = tmp_path / "dates.sta"
    path.write_text(statement(("2402300230C1,00NTRFNONREF//A", "30 February"),
                              ("2601011229C1,00NTRFNONREF//B", "entry date in the year before"),
                              ("2612311399C1,00NTRFNONREF//C", "entry date that is no date"), closing="1003,00"),
                    encoding="latin-1")
    tx = parse_mt940(path, sha256="x").transactions
    assert [(str(v), str(b)) for v, b in tx.select("value_date", "booking_date").rows()] == [
        ("2024-02-29", "2024-02-29"), ("2026-01-01", "2025-12-29"), ("2026-12-31", "2026-12-31")]


def camt(entry_details: str = "", statements: int = 1) -> bytes:
    """A camt.053 with one entry per statement; ``entry_details`` goes into the entry."""
    stmt = ("<Stmt><Id>S</Id><ElctrncSeqNb>1</ElctrncSeqNb><Acct><Id><IBAN>DE14740618130000033626</IBAN></Id></Acct>"
            "<Bal><Tp><CdOrPrtry><Cd>OPBD</Cd></CdOrPrtry></Tp><Amt Ccy=\"EUR\">0.00</Amt><CdtDbtInd>CRDT</CdtDbtInd>"
            "<Dt><Dt>2026-11-16</Dt></Dt></Bal><Bal><Tp><CdOrPrtry><Cd>CLBD</Cd></CdOrPrtry></Tp>"
            "<Amt Ccy=\"EUR\">1.00</Amt><CdtDbtInd>CRDT</CdtDbtInd><Dt><Dt>2026-11-16</Dt></Dt></Bal>\n"
            "<Ntry><Amt Ccy=\"EUR\">1.00</Amt><CdtDbtInd>CRDT</CdtDbtInd><Sts>BOOK</Sts>"
            f"<BookgDt><Dt>2026-11-16</Dt></BookgDt><ValDt><Dt>2026-11-16</Dt></ValDt>{entry_details}</Ntry></Stmt>\n")
    return ('<?xml version="1.0" encoding="UTF-8"?>\n<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.02">'
            "<BkToCstmrStmt><GrpHdr><MsgId>M</MsgId><CreDtTm>2026-11-16T00:00:00</CreDtTm></GrpHdr>\n"
            + stmt * statements + "</BkToCstmrStmt></Document>\n").encode()


def test_a_huge_camt_text_node_is_rejected_naming_the_element_in_bounded_memory(tmp_path: Path) -> None:
    path = tmp_path / "node.xml"
    path.write_bytes(camt("<AddtlNtryInf>" + "A" * (20 << 20) + "</AddtlNtryInf>"))  # took ~0.4 GB before
    rss, got = peak_mib(PARSE_ONE, str(path))
    assert got["status"] == "rejected"
    assert " line 4: error camt.text_too_long: <AddtlNtryInf> at line 4 runs 20,971,533 bytes" in got["reason"]
    assert rss < 250, f"peak RSS {rss:.0f} MiB"
    # 500 characters is the longest camt field: that, and more, is read
    path.write_bytes(camt("<AddtlNtryInf>" + "A" * 5000 + "</AddtlNtryInf>"))
    assert parse_file(path).files["status"].to_list() == ["ok"]


def test_too_many_camt_statements_or_details(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(parsers.camt, "MAX_STATEMENTS", 3)
    monkeypatch.setattr(parsers.camt, "MAX_DETAILS", 5)
    path = tmp_path / "many.xml"
    path.write_bytes(camt(statements=4))
    assert [i.code for i in parsers.camt.parse_camt(path, sha256="x").issues] == ["camt.too_many_statements"]
    path.write_bytes(camt("<NtryDtls>" + "<TxDtls><AddtlTxInf>x</AddtlTxInf></TxDtls>" * 6 + "</NtryDtls>"))
    issues = parsers.camt.parse_camt(path, sha256="x").issues
    assert [i.code for i in issues] == ["camt.too_many_details"] and "about 6 details" in issues[0].message


def _stretches(text: bytes, sep: bytes) -> list[tuple[int, int]]:
    """Every stretch between two ``sep`` (or an end): the obviously right answer."""
    starts = [0] + [i + len(sep) for i in range(len(text)) if text.startswith(sep, i)]
    ends = [i for i in range(len(text)) if text.startswith(sep, i)] + [len(text)]
    return [(s, e - s) for s, e in zip(starts, ends, strict=True)]


def test_the_stretch_search_agrees_with_the_obvious_one() -> None:
    rng = random.Random(12)
    for _ in range(3000):
        text = bytes(rng.choice(b"ab\n:<") if rng.random() < 0.3 else 97 for _ in range(rng.randint(0, 120)))
        for sep in (b"\n", b"\n:", b"<"):
            limit = rng.randint(1, 20)
            expected = next((s for s in _stretches(text, sep) if s[1] > limit), None)
            assert first_long_stretch(text, sep, limit) == expected, (text, sep, limit)


def test_the_xml_scan_sees_stretches_across_its_blocks(tmp_path: Path) -> None:
    rng = random.Random(13)
    path = tmp_path / "x.xml"
    for _ in range(1000):
        data = bytes(rng.choice(b"<b\n") if rng.random() < 0.3 else 97 for _ in range(rng.randint(0, 150)))
        path.write_bytes(data)
        limit = rng.randint(1, 25)
        expected = next((s for s in _stretches(data, b"<") if s[1] > limit), None)
        long = scan_xml(path, limit, block=rng.randint(1, 40)).long
        if expected is None:
            assert long is None
        else:
            assert long is not None and long[:2] == (data[: expected[0]].count(b"\n") + 1, expected[1])


# -- item 6: ZIP bombs --------------------------------------------------------------------------------


@pytest.fixture
def written(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Every byte the archive module writes, counted (its ``open`` wrapped)."""
    counts: list[int] = []

    class Counting(io.FileIO):
        def write(self, data: Any) -> int:
            counts.append(len(data))
            return super().write(data)

    monkeypatch.setattr(parsers.archive, "open", Counting, raising=False)
    return counts


def test_a_member_compressed_a_thousand_fold_is_not_unpacked(tmp_path: Path, written: list[int]) -> None:
    z = tmp_path / "bomb.zip"
    with zipfile.ZipFile(z, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("zeros.sta", b"\0" * (16 << 20))  # 16 MiB in 16 KiB
        zf.writestr("good.sta", statement())
    result = parse_paths([z])
    status = dict(zip(result.files["source_path"], result.files["status"], strict=True))
    assert status == {str(z): "ok", f"{z}!zeros.sta": "rejected", f"{z}!good.sta": "ok"}
    assert " error zip.compression_ratio: " in result.files["reason"][1]
    assert sum(written) == len(statement())  # nothing of the bomb was written


def test_the_archive_total_is_limited_before_anything_is_written(tmp_path: Path, written: list[int]) -> None:
    z = tmp_path / "many.zip"
    with zipfile.ZipFile(z, "w", zipfile.ZIP_DEFLATED) as zf:
        for n in range(10):  # each under the member limit, together over 4 x the limit
            zf.writestr(f"m{n}.sta", b"x" * 60_000)
    result = parse_paths([z], max_bytes=100_000)
    assert result.files["status"].to_list() == ["rejected"]
    assert "error zip.too_large: the members unpack to 600,000 bytes (declared), more than the limit of 400,000" in (
        result.files["reason"][0])
    assert written == []


def test_the_total_and_each_member_are_checked_again_while_copying(tmp_path: Path, written: list[int],
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    # Headers that lie: here the checks of the declared sizes are switched off, the copy still stops.
    monkeypatch.setattr(parsers.archive, "_declared", lambda info, max_bytes: None)
    z = tmp_path / "liar.zip"
    rng = random.Random(7)
    with zipfile.ZipFile(z, "w", zipfile.ZIP_STORED) as zf:
        zf.writestr("big.sta", rng.randbytes(300_000))  # over the member limit
        for n in range(3):
            zf.writestr(f"m{n}.sta", rng.randbytes(90_000))
    out = tmp_path / "out"
    out.mkdir()
    monkeypatch.setattr(parsers.archive, "_BLOCK", 10_000)
    with pytest.raises(ArchiveError) as caught:
        unpack(z, "liar.zip", out, max_bytes=100_000, max_total=250_000)
    assert caught.value.code == "zip.too_large"
    assert sum(written) <= 250_000  # the partial big member (removed) counts too: never more than the limit
    assert list(out.iterdir()) == []  # what was unpacked is removed again
    members = unpack(z, "liar.zip", out, max_bytes=100_000, max_total=1_000_000)
    assert [(m.name, m.code) for m in members] == [("liar.zip!big.sta", "file.too_large"), ("liar.zip!m0.sta", ""),
                                                    ("liar.zip!m1.sta", ""), ("liar.zip!m2.sta", "")]
    assert sorted(p.stat().st_size for p in out.iterdir()) == [90_000] * 3


def test_the_ratio_is_checked_again_while_copying(tmp_path: Path, written: list[int],
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(parsers.archive, "_declared", lambda info, max_bytes: None)
    z = tmp_path / "bomb.zip"
    with zipfile.ZipFile(z, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("zeros.sta", b"\0" * (8 << 20))
    out = tmp_path / "out"
    out.mkdir()
    [member] = unpack(z, "bomb.zip", out, max_bytes=64 << 20)
    assert member.code == "zip.compression_ratio" and member.path is None
    assert sum(written) <= parsers.archive.MAX_RATIO * z.stat().st_size and list(out.iterdir()) == []


# -- item 7: line ends ---------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["cr", "mixed", "crlf", "cr_doubled"])
def test_other_line_ends_give_the_same_entries_as_lf(tmp_path: Path, kind: str) -> None:
    lf = (SAMPLES / "mt940" / "betterplace__mt940_parser__sepa_mt9401.txt").read_bytes().replace(b"\r\n", b"\n")
    lines = lf.split(b"\n")
    data = {
        "cr": lf.replace(b"\n", b"\r"),  # old Mac
        "mixed": b"".join(line + (b"\r\n", b"\r", b"\n")[i % 3] for i, line in enumerate(lines)),
        "crlf": lf.replace(b"\n", b"\r\n"),
        "cr_doubled": lf.replace(b"\n", b"\r\r\n"),  # CRLF sent through a text-mode transfer once more
    }[kind]
    (tmp_path / "lf.sta").write_bytes(lf)
    (tmp_path / f"{kind}.sta").write_bytes(data)
    want, got = parse_file(tmp_path / "lf.sta"), parse_file(tmp_path / f"{kind}.sta")
    assert got.files.select("status", "n_entries").row(0) == ("ok", 97)
    columns = [c for c in want.transactions.columns if c not in ("source_file", "source_path", "raw")]
    assert got.transactions.select(columns).equals(want.transactions.select(columns))
    assert got.transactions["source_line"].to_list() == want.transactions["source_line"].to_list()
    notes = [i.code for i in got.issues]
    assert notes == (["mt940.line_endings"] if kind in ("cr", "mixed") else [])


def test_unix_newlines() -> None:
    assert unix_newlines(b"a\r\nb\rc\nd\r\r\ne\r") == (b"a\nb\nc\nd\ne\n", 2)
    assert unix_newlines(b"no carriage return\n") == (b"no carriage return\n", 0)


def test_entries_in_the_text_but_none_read_is_never_ok(tmp_path: Path) -> None:
    # line ends the parser does not know (Unicode LINE SEPARATOR here): every tag but the first is glued
    # to the :20: line, so the text holds ":61:" and no entry is read. That was a statement with 0 entries, ok.
    path = tmp_path / "ls.sta"
    path.write_bytes(statement(("2611161116C5,00NTRFNONREF", "x"), closing="1005,00").replace("\n", "\u2028").encode())
    result = parse_file(path)
    assert result.files["status"].to_list() == ["rejected"]
    assert " error mt940.entries_lost: the text holds ':61:' but no :61: field starts a line" in result.files["reason"][0]
    # a statement without entries (and no ":61:" anywhere) is fine
    path.write_text(statement(), encoding="latin-1")
    assert parse_file(path).files.select("status", "n_entries").row(0) == ("ok", 0)
