"""A file with a few broken ``:86:`` markers is read the careful way only where it matters, with the same
result as reading every entry of it the careful way (the reading before issue 20)."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import parsers.mt940_details as details
from parsers.mt940 import parse_mt940
from synth.bench import write_mt940_file

SAMPLES = sorted((Path(__file__).resolve().parent.parent.parent / "shared" / "samples" / "mt940").glob("*"))


def _whole_file(df: pl.DataFrame) -> pl.DataFrame:
    """The reading before: one broken marker anywhere and every entry is read the careful way."""
    pieces = df.select("_eid", pl.col("_flat0").str.split("?").list.slice(1).alias("p")).explode("p")
    pieces = pieces.filter(pl.col("p").is_not_null())
    if not df.select(pl.col("_flat0").str.contains(details._BAD_MARKER).any()).item():
        return details._subfields_valid(df, pieces)
    return details._subfields_marked(pieces)


def _both(path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[pl.DataFrame, pl.DataFrame]:
    now = parse_mt940(path, sha256="0" * 64)
    monkeypatch.setattr(details, "_subfields", _whole_file)
    before = parse_mt940(path, sha256="0" * 64)
    monkeypatch.undo()
    assert [i.code for i in now.issues] == [i.code for i in before.issues]
    return now.transactions, before.transactions


def test_long_remittance_with_a_few_broken_markers(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "long.sta"
    write_mt940_file(path, 1200, seed=5, shape="long86")
    now, before = _both(path, monkeypatch)
    assert now.equals(before)
    broken = now.get_column("remittance").str.contains("?2 2", literal=True).sum()
    assert 1 <= broken <= 1200 // 250 + 1  # a marker cut by a line end is not rewritten by the generator


@pytest.mark.parametrize("sample", SAMPLES, ids=[p.name for p in SAMPLES])
def test_samples_read_the_same(sample: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    now, before = _both(sample, monkeypatch)
    assert now.equals(before)


_CODES = ["00", "10", "20", "21", "22", "29", "30", "31", "32", "33", "34", "60", "63", "2A", "2 ", "9", "", "96"]
_VALUE = st.text(alphabet="AbcÄ 1+/-", max_size=12)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(entries=st.lists(st.lists(st.tuples(st.sampled_from(_CODES), _VALUE), min_size=1, max_size=9),
                        min_size=4, max_size=12))
def test_random_markers_read_the_same(entries: list[list[tuple[str, str]]], tmp_path: Path,
                                      monkeypatch: pytest.MonkeyPatch) -> None:
    lines = [":20:STARTUMS", ":25:37050198/1900001234", ":28C:1/1", ":60F:C260102EUR0,00"]
    for k, subfields in enumerate(entries):
        lines.append(f":61:2601020102C1,00NTRFNONREF//R{k}")
        text = "166" + "".join(f"?{code}{value}" for code, value in subfields)
        lines += [":86:" + text[i: i + 65] for i in range(0, len(text), 65)][:1] + [
            text[i: i + 65] for i in range(65, len(text), 65)]
    lines += [f":62F:C260102EUR{len(entries)},00", "-"]
    path = tmp_path / "random.sta"
    path.write_bytes("\r\n".join(lines).encode("latin-1") + b"\r\n")
    now, before = _both(path, monkeypatch)
    assert now.equals(before)
