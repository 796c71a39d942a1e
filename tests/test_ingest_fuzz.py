"""Property tests: truncated, byte-flipped and line-shuffled samples never raise and give one files row."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from parsers import parse_paths

SAMPLES = Path(__file__).resolve().parent.parent.parent / "shared" / "samples"
# small samples with many traps each (SOURCES.md), so every example is quick
PICKS = [
    "mt940/sandermarechal__jejik-mt940__commerzbank.txt",
    "mt940/my-flow__mt940__pending.sta",
    "mt940/WoLpH__mt940__mBank_mt940.sta",
    "mt940/sandermarechal__jejik-mt940__postfinance.txt",
    "mt940/fruitl00p__php-mt940__Spk_sample",
    "camt/viafintech__camt_parser__053_valid_example.xml",
    "camt/genkgo__camt__camt054.v2.xml",
    "camt/Subite-eu__camt-to-coda__LT625883379695428516_CAMT_053_2024-03-12.xml",
]
FUZZ = settings(max_examples=50, deadline=None)


@pytest.fixture(scope="module")
def work(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("fuzz")


def check(work: Path, data: bytes, name: str) -> None:
    """Parse the mangled bytes: no exception, exactly one files row, counts add up, a reason if not ok."""
    mangled = work / f"mangled-{name}"
    mangled.write_bytes(data)
    result = parse_paths([mangled])
    files = result.files
    assert files["source_path"].to_list() == [str(mangled)]
    ok = files.filter(pl.col("status") == "ok")
    assert int(ok["n_rows"].sum() or 0) == result.transactions.height
    assert int(ok["n_statements"].sum() or 0) == result.statements.height
    reason = files["reason"][0]
    assert files["status"][0] == "ok" or (reason is not None and "\n" not in reason)
    assert result.transactions["amount_cents"].dtype == pl.Int64()


@FUZZ
@given(pick=st.sampled_from(PICKS), cut=st.floats(min_value=0.0, max_value=1.0))
def test_truncated_samples(work: Path, pick: str, cut: float) -> None:
    data = (SAMPLES / pick).read_bytes()
    check(work, data[: int(len(data) * cut)], "cut")


@FUZZ
@given(
    pick=st.sampled_from(PICKS),
    flips=st.lists(st.tuples(st.floats(min_value=0.0, max_value=0.999), st.integers(0, 255)), min_size=1, max_size=8),
)
def test_byte_flips(work: Path, pick: str, flips: list[tuple[float, int]]) -> None:
    data = bytearray((SAMPLES / pick).read_bytes())
    for where, byte in flips:
        data[int(len(data) * where)] = byte
    check(work, bytes(data), "flip")


@FUZZ
@given(pick=st.sampled_from(PICKS), seed=st.randoms(use_true_random=False))
def test_line_shuffles(work: Path, pick: str, seed: object) -> None:
    lines = (SAMPLES / pick).read_bytes().splitlines(keepends=True)
    seed.shuffle(lines)  # type: ignore[attr-defined]
    check(work, b"".join(lines), "shuffle")


@settings(max_examples=200, deadline=None)
@given(data=st.binary(max_size=3000) | st.text(max_size=3000).map(lambda t: t.encode("utf-8", "surrogatepass")))
def test_detection_of_arbitrary_bytes_never_raises(data: bytes) -> None:
    from parsers.detect import STATEMENT_FORMATS, detect_bytes

    got = detect_bytes(data)
    if got.ok:
        assert got.format in (*STATEMENT_FORMATS, "zip")
    else:
        assert got.code and got.reason and "\n" not in got.reason


@settings(max_examples=200, deadline=None)
@given(prefix=st.sampled_from([b"", b"<?xml version='1.0'?>", b"\xef\xbb\xbf", b"<!-- x -->"]),
       body=st.text(alphabet="<>!/?[]=:'\" DocumentBkToCstmrStmtENTITY-\n", max_size=300))
def test_detection_of_xmlish_text_never_raises(prefix: bytes, body: str) -> None:
    from parsers.detect import detect_bytes

    got = detect_bytes(prefix + body.encode())
    assert got.ok or (got.code and "\n" not in got.reason)
