"""Layering rules of DESIGN.md that code review alone would let slip."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PLAIN_PACKAGES = ("dunning", "parsers", "matching", "outputs", "ledger", "review", "synth")


def _imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


@pytest.mark.parametrize("package", PLAIN_PACKAGES)
def test_only_flows_import_prefect(package: str) -> None:
    offenders = [
        str(path.relative_to(ROOT))
        for path in sorted((ROOT / package).rglob("*.py"))
        if any(m == "prefect" or m.startswith("prefect.") for m in _imported_modules(path))
    ]
    assert not offenders, f"plain functions must not import prefect (DESIGN.md §1): {offenders}"


@pytest.mark.parametrize("package", ("dunning", "parsers", "matching", "outputs"))
def test_pure_stages_do_not_touch_the_ledger(package: str) -> None:
    offenders = [
        str(path.relative_to(ROOT))
        for path in sorted((ROOT / package).rglob("*.py"))
        if any(m == "duckdb" or m == "ledger" or m.startswith("ledger.") for m in _imported_modules(path))
    ]
    assert not offenders, f"{package}/ works on frames, never on the ledger: {offenders}"


OURS = ("claims", "flows", *PLAIN_PACKAGES)


def test_claims_stands_on_nothing_of_ours() -> None:
    offenders = [
        f"{path.relative_to(ROOT)}: {m}"
        for path in sorted((ROOT / "claims").rglob("*.py"))
        for m in sorted(_imported_modules(path))
        if m.split(".")[0] in OURS and m.split(".")[0] != "claims"
    ]
    assert not offenders, f"claims/ is the bottom layer: {offenders}"


def test_the_scan_sees_imports() -> None:
    assert "prefect" in _imported_modules(ROOT / "flows" / "nightly.py")


def test_the_command_line_starts_without_the_heavy_libraries() -> None:
    """``kasse`` builds its parser, and ``kasse match`` / ``kasse parse`` start, without Prefect, the PDF
    writer, the frame-schema library or schwifty (each costs 0.2 s or more at every start; they are imported
    by the steps that use them)."""
    code = ("import sys, flows.cli as c; c.build_parser(); import flows.cmd_match, flows.cmd_parse; "
            "print(sorted(m for m in ('prefect', 'fpdf', 'dataframely', 'sqlalchemy', 'schwifty') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
