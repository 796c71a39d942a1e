"""Detection: every sample is recognised, every broken file is rejected with its code and one line."""

from __future__ import annotations

import os
import subprocess
import zipfile
from pathlib import Path

import pytest

from parsers.detect import HEAD_BYTES, detect, detect_bytes

BROKEN = Path(__file__).parent / "broken"

#: every file in tests/broken/ with the code it must be rejected with
BROKEN_CODES = {
    "bank_export.csv": "file.unknown_format",
    "billion_laughs.xml": "xml.entities_forbidden",
    "camt056_cancellation.xml": "file.unknown_format",
    "doctype_without_entities.xml": "xml.doctype_forbidden",
    "empty.sta": "file.empty",
    "external_entity.xml": "xml.entities_forbidden",
    "login_page.html": "file.unknown_format",
    "mail_text.txt": "file.unknown_format",
    "pain002_status_report.xml": "file.pain",
    "truncated_camt053.xml": "xml.malformed",
    "whitespace_only.sta": "file.empty",
    "wrong_root.xml": "file.unknown_format",
}


def _expected_format(name: str) -> str:
    # the two whose names do not say it (SOURCES.md): a Belgian monthly camt.053, adorsys' camt.052
    special = {"BE68793230773034-202411.xml": "camt.053", "camt.xml": "camt.052"}
    if name in special:
        return special[name]
    for tag, fmt in (("052", "camt.052"), ("053", "camt.053"), ("53.", "camt.053"), ("054", "camt.054")):
        if tag in name:
            return fmt
    raise AssertionError(f"cannot tell the camt type of {name}")


def test_every_mt940_sample_is_mt940_or_mt942(samples_dir: Path) -> None:
    seen = {}
    for path in sorted((samples_dir / "mt940").iterdir()):
        seen[path.name] = detect(path).format
    # the one file that is only an :86: fragment (no :20:, no :25:) is not a statement
    assert seen.pop("betterplace__mt940_parser__colon_in_descriptor.txt") is None
    mt942 = {n for n, f in seen.items() if f == "mt942"}
    assert mt942 == {"WoLpH__mt940__self-provided_mt942.sta", "my-flow__mt940__pending.sta"}
    assert set(seen.values()) == {"mt940", "mt942"}


def test_every_camt_sample_has_its_type(samples_dir: Path) -> None:
    for path in sorted((samples_dir / "camt").iterdir()):
        got = detect(path)
        assert got.format == _expected_format(path.name.split("__")[-1]), (path.name, got)
        assert got.detail.startswith(got.format + ".")  # the version from the namespace: camt.053.001.02


def test_pain_samples_are_rejected_as_pain(samples_dir: Path) -> None:
    for path in sorted((samples_dir / "pain").iterdir()):
        got = detect(path)
        assert (got.format, got.code) == (None, "file.pain"), path.name
        assert "pain.00" in got.reason and "\n" not in got.reason


def test_broken_folder_is_fully_described() -> None:
    assert {p.name for p in BROKEN.iterdir()} == set(BROKEN_CODES)


@pytest.mark.parametrize("name", sorted(BROKEN_CODES))
def test_broken_file_is_rejected_with_its_code(name: str) -> None:
    got = detect(BROKEN / name)
    assert not got.ok
    assert got.code == BROKEN_CODES[name]
    assert got.reason and "\n" not in got.reason


def test_truncated_sample_is_rejected_from_its_tail(samples_dir: Path, tmp_path: Path) -> None:
    data = (samples_dir / "camt" / "newinnovations__camt053__example-camt053-b.xml").read_bytes()
    cut = tmp_path / "cut.xml"
    cut.write_bytes(data[: len(data) * 2 // 3])
    got = detect(cut)
    assert got.code == "xml.malformed" and "truncated" in got.reason
    # the whole file, with trailing whitespace and a comment after the root, is fine
    whole = tmp_path / "whole.xml"
    whole.write_bytes(data + b"\n<!-- delivered by EBICS -->\n\n")
    assert detect(whole).format == "camt.053"


def test_sparse_2gb_file_is_rejected_by_size_without_reading(tmp_path: Path) -> None:
    big = tmp_path / "huge.sta"
    subprocess.run(["truncate", "-s", "2G", str(big)], check=True)
    got = detect(big)
    assert got.code == "file.too_large" and got.size == 2 << 30
    assert "67108864" in got.reason  # the default limit, 64 MiB
    assert detect(big, max_bytes=3 << 30).code == "file.binary"  # under a higher limit it is read: NUL bytes


def test_size_limit_is_configurable(samples_dir: Path) -> None:
    path = samples_dir / "mt940" / "betterplace__mt940_parser__sepa_mt9401.txt"
    assert detect(path).format == "mt940"
    assert detect(path, max_bytes=1000).code == "file.too_large"


def test_directory_fifo_and_missing_path(tmp_path: Path) -> None:
    assert detect(tmp_path).code == "file.is_directory"
    assert detect(tmp_path / "nope.sta").code == "file.not_found"
    fifo = tmp_path / "pipe.sta"
    os.mkfifo(fifo)
    assert detect(fifo).code == "file.not_regular"  # and it did not block on reading the pipe


@pytest.mark.parametrize(
    ("data", "code", "words"),
    [
        (bytes(range(256)) * 8, "file.binary", "control bytes"),
        (b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj", "file.binary", "PDF"),
        (b"\x1f\x8b\x08\x00" + b"\x00" * 20, "file.binary", "gzip"),
        (b"\x89PNG\r\n\x1a\n", "file.binary", "PNG"),
        (b"Konto;Betrag;Datum\n1;2,00;x\n3;4,00;y\n", "file.unknown_format", "CSV"),
        (b"\xef\xbb\xbf<?xml version='1.0'?><Document><BkToCstmrStmt/></Document>", "", ""),
    ],
)
def test_bytes_verdicts(data: bytes, code: str, words: str) -> None:
    got = detect_bytes(data)
    assert got.code == code
    assert words in got.reason


def test_utf16_camt_with_bom_is_recognised() -> None:
    xml = '<?xml version="1.0" encoding="UTF-16"?>\n<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.054.001.02">' \
          "<BkToCstmrDbtCdtNtfctn></BkToCstmrDbtCdtNtfctn></Document>\n"
    assert detect_bytes(b"\xff\xfe" + xml.encode("utf-16-le")).format == "camt.054"


def test_prefixed_namespace_and_comments_before_the_root() -> None:
    xml = (b"<?xml version='1.0'?>\n<!-- export -->\n<?pi x?>\n<ns:Document xmlns:ns='urn:iso:std:iso:20022:tech:xsd:"
           b"camt.052.001.08'><!-- c --><ns:BkToCstmrAcctRpt/></ns:Document>")
    got = detect_bytes(xml)
    assert (got.format, got.detail) == ("camt.052", "camt.052.001.08")


@pytest.mark.parametrize(
    ("text", "fmt"),
    [
        (b"HIKAZ:5:7:3+@1200@:20:STARTUMS\r\n:25:12345678/1234\r\n:28C:1\r\n", "mt940"),
        (b"@@:20:STARTUMS@@:25:72090900/9876543219@@:28C:0@@:34F:EUR 0,@@", "mt942"),
        (b"\x01{1:F01POFICHBEAXXX0000000000}{2:I940XXXXXXXXXXXXN}{4:\r\n:20:X\r\n-}\x03", "mt940"),
        (b"Preamble line\n\n:20:3996-1\n:25:DABADKKK/1\n", "mt940"),
        (b"Note: see :20: below", None),
    ],
)
def test_mt940_sniffing(text: bytes, fmt: str | None) -> None:
    assert detect_bytes(text).format == fmt


def test_entities_found_even_after_a_long_comment() -> None:
    pad = b"<!--" + b"x" * (HEAD_BYTES // 2) + b"-->"
    xml = b"<?xml version='1.0'?>" + pad + b"<!DOCTYPE D [<!ENTITY a 'b'>]><Document/>"
    assert detect_bytes(xml).code == "xml.entities_forbidden"


def test_zip_is_recognised_as_zip(tmp_path: Path) -> None:
    z = tmp_path / "delivery.zip"
    with zipfile.ZipFile(z, "w") as zf:
        zf.writestr("a.xml", "<Document/>")
    assert detect(z).format == "zip"
