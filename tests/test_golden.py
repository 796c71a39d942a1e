"""Every sample parses exactly to its golden file (tests/golden/<sample>.jsonl); see tests/regen_goldens.py."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from regen_goldens import GOLDEN, ROOT, SAMPLES, golden_path, golden_records, sample_files

from parsers import parse_paths

SAMPLES_FOUND = sample_files() if SAMPLES.is_dir() else []

#: goldens that are right while the parser is wrong: the bug is reported to the parser's author;
#: strict, so the test fails as soon as the parser is fixed and the entry must go
#: Samples whose golden is known to differ because of a parser bug (xfail, strict). The MT940
#: leading-empty-line line-number bug is fixed (parsers/mt940_lines.py), so none at present.
KNOWN_PARSER_BUGS: dict[str, str] = {}


def _marked(samples: list[Path]) -> list[object]:
    return [
        pytest.param(s, id=s.name, marks=pytest.mark.xfail(reason=KNOWN_PARSER_BUGS[s.name], strict=True))
        if s.name in KNOWN_PARSER_BUGS
        else pytest.param(s, id=s.name)
        for s in samples
    ]


@pytest.mark.parametrize("sample", _marked(SAMPLES_FOUND))
def test_sample_matches_its_golden(sample: Path) -> None:
    golden = golden_path(sample)
    if not golden.exists():
        pytest.fail(f"{sample.name} has no golden: run `.venv/bin/python -m tests.regen_goldens {sample.name}` "
                    "and check the new file by eye")
    expected = [json.loads(line) for line in golden.read_text(encoding="utf-8").splitlines()]
    got = golden_records(sample)
    hint = f"if the parser changed on purpose: `.venv/bin/python -m tests.regen_goldens {sample.name}`, read the diff"
    assert got[0] == expected[0], f"file record (statements, issues) differs; {hint}"
    assert len(got) == len(expected), f"{len(got) - 1} transactions, golden has {len(expected) - 1}; {hint}"
    for n, (g, e) in enumerate(zip(got[1:], expected[1:], strict=True), start=2):
        assert g == e, f"{golden.name} line {n} differs; {hint}"


def test_samples_are_there() -> None:
    assert len(SAMPLES_FOUND) > 60, f"samples missing from {SAMPLES}"


def test_no_golden_without_a_sample() -> None:
    known = {golden_path(s).name for s in SAMPLES_FOUND}
    orphans = sorted(p.name for p in GOLDEN.glob("*.jsonl") if p.name not in known)
    assert orphans == [], f"goldens without a sample: {orphans}"


def test_goldens_are_readable_json_lines() -> None:
    for golden in sorted(GOLDEN.glob("*.jsonl")):
        lines = golden.read_text(encoding="utf-8").splitlines()
        head = json.loads(lines[0])
        assert head["file"] == golden.name.removesuffix(".jsonl")
        for line in lines[1:]:
            row = json.loads(line)
            assert (row["amount"] is None or re.fullmatch(r"-?\d+\.\d\d", row["amount"])) and "raw" not in row


def test_regeneration_is_refused_in_ci() -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "tests.regen_goldens"], cwd=ROOT, capture_output=True, text=True,
        env={**os.environ, "CI": "true"}, timeout=60, check=False,
    )
    assert proc.returncode == 2
    assert "refusing" in proc.stderr


def test_pain_samples_are_rejected_as_pain(samples_dir: Path) -> None:
    result = parse_paths([samples_dir / "pain"])
    assert result.files.height == 7
    assert result.files["status"].to_list() == ["rejected"] * 7
    assert {i.code for i in result.issues} == {"file.pain"}
    assert result.transactions.height == 0
