"""Damaged camt files never raise: truncations and byte flips become issues or still parse."""

from __future__ import annotations

import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from parsers.camt import parse_camt
from parsers.schema import STATEMENT_SCHEMA, TRANSACTION_SCHEMA, assert_schema

SAMPLES = Path(__file__).resolve().parent.parent.parent / "shared" / "samples" / "camt"
SEEDS = [
    (SAMPLES / name).read_bytes()
    for name in (
        "viafintech__camt_parser__053_valid_example.xml",
        "viafintech__camt_parser__054_valid_example.xml",
        "Subite-eu__camt-to-coda__LT625883379695428516_CAMT_053_2024-03-12.xml",
        "genkgo__camt__camt053.v8.xml",
    )
]


def _check(data: bytes) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "fuzz.xml"
        path.write_bytes(data)
        result = parse_camt(path, sha256="f")
    assert_schema(result.transactions, TRANSACTION_SCHEMA, "fuzz")
    assert_schema(result.statements, STATEMENT_SCHEMA, "fuzz")
    if any(i.code == "camt.malformed_xml" for i in result.issues):
        assert result.transactions.height == 0 and result.statements.height == 0


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.sampled_from(range(len(SEEDS))), cut=st.floats(min_value=0.0, max_value=1.0))
def test_truncation_never_raises(seed: int, cut: float) -> None:
    data = SEEDS[seed]
    _check(data[: int(len(data) * cut)])


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    seed=st.sampled_from(range(len(SEEDS))),
    flips=st.lists(st.tuples(st.floats(min_value=0.0, max_value=0.9999), st.integers(0, 255)), min_size=1, max_size=8),
)
def test_byte_flips_never_raise(seed: int, flips: list[tuple[float, int]]) -> None:
    data = bytearray(SEEDS[seed])
    for where, value in flips:
        data[int(where * len(data))] = value
    _check(bytes(data))


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.sampled_from(range(len(SEEDS))), where=st.floats(min_value=0.0, max_value=0.9999),
       text=st.text(min_size=1, max_size=30))
def test_inserted_text_never_raises(seed: int, where: float, text: str) -> None:
    data = SEEDS[seed]
    at = int(where * len(data))
    _check(data[:at] + text.encode("utf-8") + data[at:])
