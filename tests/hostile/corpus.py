"""The hostile inbox: files an attacker or a sloppy bank would deliver, made afresh in a folder.

``build(folder)`` writes every case into ``folder`` (which plays a tenant's inbox) and returns the
cases: name as it appears in the outcome (a ZIP member as ``zip!member``), the expected status, and
what must show in the reason. Nothing is read from the real system; links point into the test's own
temporary world (a ``secret`` file beside the inbox stands in for ``/etc/shadow``).

Kinds of case: archive tricks (member names that climb out, absolute members, nested and empty
archives, a bomb by ratio, many members), names (non-UTF-8 bytes, 248 bytes, a line break, a leading
dash, ``!``), links and special files (a link to the secret, to a statement elsewhere, dangling, a
FIFO, a linked folder), broken statements (cut off, CR-only and mixed line ends, the date ``000000``,
one endless line, a huge XML text node, entity bombs, external entities, XInclude), and re-deliveries
(the same bytes again, a corrected re-send, a statement twice in one file).
"""

from __future__ import annotations

import io
import os
import zipfile
from dataclasses import dataclass
from datetime import date
from pathlib import Path

#: The secret's only line; it must never appear in a reason, a note, the ledger or a report.
SECRET = "root:$6$NEVER-SHOWN$secret-hash-line:19000:0:99999:7:::"
ACCOUNT = "12030000/0000202051"


@dataclass(frozen=True, slots=True)
class Case:
    """One input and what must become of it (``status`` of its files row)."""

    name: str            # file name in the inbox (bytes for non-UTF-8), or "zip!member"
    status: str          # ok | rejected | duplicate
    why: str = ""        # text the reason contains (a code or a phrase), "" for ok


def _amt(cents: int) -> str:
    return f"{'C' if cents >= 0 else 'D'}{abs(cents) // 100},{abs(cents) % 100:02d}"


def mt940(no: int, amounts: list[int], *, opening: int = 100000, day: date = date(2026, 11, 16),
          account: str = ACCOUNT, eol: str = "\r\n") -> bytes:
    """One MT940 statement with entries of ``amounts`` (cents), each with its own bank reference."""
    yymmdd, mmdd = day.strftime("%y%m%d"), day.strftime("%m%d")
    closing = opening + sum(amounts)
    lines = [":20:STARTUMS", f":25:{account}", f":28C:{no:05d}/001", f":60F:{_amt(opening)[0]}{yymmdd}EUR{_amt(opening)[1:]}"]
    for i, c in enumerate(amounts):
        lines += [f":61:{yymmdd}{mmdd}{_amt(c)}NTRFNONREF//H{no:03d}{i:04d}",
                  f":86:166?00GUTSCHRIFT?20SVWZ+KZ {no}-{i}?32MAX MUSTERMANN"]
    lines += [f":62F:{_amt(closing)[0]}{yymmdd}EUR{_amt(closing)[1:]}", "-"]
    return (eol.join(lines) + eol).encode("latin-1")


def _zip(path: Path, members: dict[str, bytes], *, level: int = zipfile.ZIP_DEFLATED) -> None:
    with zipfile.ZipFile(path, "w", level) as zf:
        for name, data in members.items():
            info = zipfile.ZipInfo(name, date_time=(2026, 11, 16, 0, 0, 0))
            info.compress_type = level
            zf.writestr(info, data)


def _write(folder: Path, name: str | bytes, data: bytes) -> None:
    target = os.path.join(os.fsencode(folder), name if isinstance(name, bytes) else os.fsencode(name))
    with open(target, "wb") as fh:
        fh.write(data)


def build(folder: Path, *, outside: Path) -> list[Case]:
    """Write the corpus into ``folder`` (an inbox); ``outside`` is a folder beside it for link targets."""
    folder.mkdir(parents=True, exist_ok=True)
    outside.mkdir(parents=True, exist_ok=True)
    (outside / "shadow").write_text(SECRET + "\n", encoding="utf-8")
    (outside / "elsewhere.sta").write_bytes(mt940(90, [777]))
    cases: list[Case] = []

    # -- good files the rest must not disturb
    _write(folder, "01_good.sta", mt940(1, [15000, 8900]))
    cases.append(Case("01_good.sta", "ok"))

    # -- archives
    (folder / "evil.zip!").mkdir()                         # a folder named like a member's prefix
    (folder / "evil.zip!" / "placeholder.txt").write_bytes(b"not a statement\n")
    cases.append(Case("evil.zip!/placeholder.txt", "rejected", "file."))
    _zip(folder / "evil.zip", {"/../../../kasse.duckdb": mt940(2, [100]), "../../escape.sta": mt940(3, [200]),
                                "C:\\..\\win.sta": mt940(4, [300])})
    cases += [Case("evil.zip", "ok"), Case("evil.zip!/../../../kasse.duckdb", "ok"),
              Case("evil.zip!../../escape.sta", "ok"), Case("evil.zip!C:\\..\\win.sta", "ok")]
    inner = io.BytesIO()
    with zipfile.ZipFile(inner, "w") as zf:
        zf.writestr("deep.sta", mt940(9, [900]))
    _zip(folder / "nested.zip", {"inner.zip": inner.getvalue()})
    cases += [Case("nested.zip", "ok"), Case("nested.zip!inner.zip", "rejected", "zip.nested")]
    _zip(folder / "empty.zip", {})
    cases.append(Case("empty.zip", "rejected", "zip.empty"))
    _zip(folder / "bomb.zip", {"zeros.sta": b"\0" * (64 << 20)})           # 64 MiB of zeros in 64 KiB
    cases.append(Case("bomb.zip", "*"))                                    # the archive or its member refused
    _zip(folder / "many.zip", {f"m{i}.sta": b":20:X\r\n" for i in range(10_001)}, level=zipfile.ZIP_STORED)
    cases.append(Case("many.zip", "rejected", "zip.too_many_members"))

    # -- names
    _write(folder, b"02_caf\xe9_latin1.sta", mt940(5, [500]))
    cases.append(Case("02_caf\\xe9_latin1.sta", "ok"))
    long_name = "03_" + "x" * 241 + ".sta"                                  # 248 bytes
    _write(folder, long_name, mt940(6, [600]))
    cases.append(Case(long_name, "ok"))
    _write(folder, "04_line\nbreak.sta", mt940(7, [700]))
    cases.append(Case("04_line\\nbreak.sta", "ok"))
    _write(folder, "-rf.sta", mt940(8, [800]))
    cases.append(Case("-rf.sta", "ok"))

    # -- links and special files
    os.symlink(outside / "shadow", folder / "05_shadow.sta")
    os.symlink(outside / "elsewhere.sta", folder / "06_elsewhere.sta")
    os.symlink(outside / "gone.sta", folder / "07_dangling.sta")
    os.symlink(outside, folder / "08_linked_folder")
    os.mkfifo(folder / "09_fifo.sta")
    cases += [Case("05_shadow.sta", "rejected", "file.symlink"), Case("06_elsewhere.sta", "rejected", "file.symlink"),
              Case("07_dangling.sta", "rejected", "file.symlink"), Case("08_linked_folder", "rejected", "file.symlink"),
              Case("09_fifo.sta", "rejected", "file.not_regular")]

    # -- broken statements
    full = mt940(10, [1000, 2000])
    _write(folder, "10_cut.sta", full[: full.index(b":62F:")])
    cases.append(Case("10_cut.sta", "rejected", "statement.incomplete"))
    _write(folder, "11_cr_only.sta", mt940(11, [1100, 1200], eol="\r"))
    cases.append(Case("11_cr_only.sta", "ok"))
    mixed = mt940(12, [1300, 1400]).replace(b"\r\n", b"\n", 3).replace(b"\r\n", b"\r", 2)
    _write(folder, "12_mixed_eol.sta", mixed)
    cases.append(Case("12_mixed_eol.sta", "ok"))
    _write(folder, "13_date_000000.sta", mt940(13, [100]).replace(b":61:261116", b":61:000000"))
    cases.append(Case("13_date_000000.sta", "*"))                          # rejected, or the entry refused
    _write(folder, "14_one_line.sta", b":20:" + b"A" * (20 << 20))
    cases.append(Case("14_one_line.sta", "rejected"))
    node = (b'<?xml version="1.0"?><Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.02">'
            b"<BkToCstmrStmt><GrpHdr><MsgId>" + b"A" * (8 << 20) + b"</MsgId></GrpHdr></BkToCstmrStmt></Document>")
    _write(folder, "15_text_node.xml", node)
    cases.append(Case("15_text_node.xml", "rejected"))
    laughs = (b'<?xml version="1.0"?><!DOCTYPE d [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;">]>'
              b'<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.02"><BkToCstmrStmt/></Document>')
    _write(folder, "16_laughs.xml", laughs)
    xxe = laughs.replace(b'<!ENTITY a "aaaaaaaaaa">', f'<!ENTITY a SYSTEM "file://{outside / "shadow"}">'.encode())
    _write(folder, "17_xxe.xml", xxe)
    xinclude = (b'<?xml version="1.0"?><Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.02" '
                b'xmlns:xi="http://www.w3.org/2001/XInclude"><BkToCstmrStmt><xi:include href="'
                + str(outside / "shadow").encode() + b'" parse="text"/></BkToCstmrStmt></Document>')
    _write(folder, "18_xinclude.xml", xinclude)
    cases += [Case("16_laughs.xml", "rejected"), Case("17_xxe.xml", "rejected"), Case("18_xinclude.xml", "rejected")]
    _write(folder, "19_empty.sta", b"")
    _write(folder, "20_garbage.sta", bytes(range(256)) * 64)
    _write(folder, "21_pdf.sta", b"%PDF-1.7\n" + b"0" * 100)
    cases += [Case("19_empty.sta", "rejected", "file.empty"), Case("20_garbage.sta", "rejected"),
              Case("21_pdf.sta", "rejected")]

    # -- re-deliveries
    _write(folder, "22_good_again.sta", mt940(1, [15000, 8900]))
    cases.append(Case("22_good_again.sta", "duplicate"))
    _write(folder, "23_corrected.sta", mt940(1, [15100, 8900]))
    cases.append(Case("23_corrected.sta", "rejected", "statement.conflict"))
    _write(folder, "24_twice.sta", mt940(24, [2400]) * 2)
    cases.append(Case("24_twice.sta", "ok"))
    return cases
