"""Property tests: damaged samples (truncated, bytes flipped, lines shuffled) never raise.

Whatever the damage, ``parse_mt940`` returns frames with the contract schemas, and every entry
it could not read is an issue rather than an exception.
"""

from __future__ import annotations

import random
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from parsers.mt940 import parse_mt940
from parsers.result import ParseResult
from parsers.schema import STATEMENT_SCHEMA, TRANSACTION_SCHEMA, assert_schema

SAMPLES = Path(__file__).resolve().parent.parent.parent / "shared" / "samples" / "mt940"
NAMES = sorted(p.name for p in SAMPLES.iterdir()) if SAMPLES.is_dir() else []
SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


def _parse(tmp_path: Path, data: bytes) -> ParseResult:
    path = tmp_path / "fuzz.sta"
    path.write_bytes(data)
    return parse_mt940(path, sha256="z" * 64)


def _check(r: ParseResult, data: bytes) -> None:
    assert_schema(r.transactions, TRANSACTION_SCHEMA, "transactions")
    assert_schema(r.statements, STATEMENT_SCHEMA, "statements")
    n61 = data.count(b":61:")
    bad = sum(1 for i in r.issues if i.code == "mt940.bad_entry")
    # Each row and each unreadable entry comes from its own ":61:" in the bytes.
    assert r.transactions.height + bad <= n61
    if r.transactions.height:
        assert r.transactions["amount_cents"].null_count() == 0
        assert r.transactions["value_date"].null_count() == 0
    if r.statements.height == 0:  # no statement, or ":61:" in the text and no entry read: the file is rejected
        assert any(i.code in ("mt940.no_statement", "mt940.entries_lost") for i in r.issues)


@SETTINGS
@given(name=st.sampled_from(NAMES), cut=st.floats(0, 1))
def test_truncated_samples_never_raise(tmp_path: Path, name: str, cut: float) -> None:
    data = (SAMPLES / name).read_bytes()
    data = data[: int(len(data) * cut)]
    _check(_parse(tmp_path, data), data)


@SETTINGS
@given(name=st.sampled_from(NAMES), flips=st.lists(st.tuples(st.floats(0, 1), st.integers(0, 255)), max_size=8))
def test_flipped_bytes_never_raise(tmp_path: Path, name: str, flips: list[tuple[float, int]]) -> None:
    data = bytearray((SAMPLES / name).read_bytes())
    for where, byte in flips:
        if data:
            data[min(int(where * len(data)), len(data) - 1)] = byte
    _check(_parse(tmp_path, bytes(data)), bytes(data))


@SETTINGS
@given(name=st.sampled_from(NAMES), seed=st.integers(0, 2**32 - 1))
def test_shuffled_lines_never_raise(tmp_path: Path, name: str, seed: int) -> None:
    lines = (SAMPLES / name).read_bytes().split(b"\n")
    random.Random(seed).shuffle(lines)
    data = b"\n".join(lines)
    r = _parse(tmp_path, data)
    _check(r, data)
    # Shuffling keeps the lines, so the :61: lines that land inside a statement are all read or reported.
    assert r.transactions.height <= data.count(b":61:")
