"""Issue 19 §3, the command line for people: ``kasse match`` says what happened and why it exits 1,
``kasse generate`` shows its progress on a terminal, help texts carry no reST markup, the demo's users
are served on loopback only, and every output file gets the one documented mode."""

from __future__ import annotations

import argparse
import io
import json
import stat
from pathlib import Path

import pytest
from test_match_cli import _inputs

from flows.cli import build_parser, main
from flows.cmd_generate import Progress
from flows.help_text import plain
from outputs.atomic import OUTPUT_MODE, PlannedFile, write_all, write_file_atomically


def test_match_prints_a_summary_for_people(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    csv, sta = _inputs(tmp_path)
    assert main(["match", "--receivables", str(csv), "--statements", str(sta), "--out", str(tmp_path / "o")]) == 0
    out, err = capsys.readouterr()
    assert out.splitlines()[0].startswith("3 payments (")
    assert "1 fully and 1 partly booked" in out and "unresolved 2 (" in out
    assert "no_reference 1, overpayment 1" in out and "not matched (no incoming payment): bank_fee 1" in out
    assert "read 2 open items (0 lines rejected) and 1 bank files (0 rejected)" in out
    assert err == ""                                              # exit 0: nothing to explain


def test_match_says_why_it_exits_1(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    csv, sta = _inputs(tmp_path)
    with csv.open("a", encoding="utf-8") as fh:
        fh.write("r3;1234.5678.9012;d2;Bernd Schäfer;;ABFALL;zehn;2026-01-15\n")
    out_dir = tmp_path / "o"
    assert main(["match", "--receivables", str(csv), "--statements", str(sta), "--out", str(out_dir),
                 "--max-size-mib", "0"]) == 1
    err = capsys.readouterr().err
    first, *rest = err.splitlines()
    assert first.startswith("exit 1: matched what could be read, but 1 bank file(s) and 1 line(s) of the "
                            "open-items export rejected (2 errors; all in ")
    assert any("file.too_large" in line for line in rest)
    assert any("line 4: open_items.bad_amount" in line for line in rest)
    summary = json.loads((out_dir / "summary.json").read_text(encoding="utf-8"))
    assert summary["issues"]["error"] == 2


def test_generate_reports_progress_and_writes_the_same_bytes(tmp_path: Path) -> None:
    from synth import generate

    calls: list[tuple[str, int, int]] = []
    generate(tmp_path / "a", n_items=60, days=2, progress=lambda *c: calls.append(c))
    generate(tmp_path / "b", n_items=60, days=2)
    assert calls[-1][1] == calls[-1][2] == 3 + 2 * 2                  # every step, the last one complete
    assert [c[1] for c in calls] == sorted(c[1] for c in calls)
    for name in ("open_items.csv", "truth.parquet"):
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes()
    line = io.StringIO()
    shown = Progress(line)
    shown("open_items.csv", 2, 7)
    shown("x.sta", 3, 7)
    shown.done()
    assert "\r[ 28 %] 2/7 open_items.csv" in line.getvalue() and "\r[ 42 %] 3/7 x.sta" in line.getvalue()


def test_generate_prints_no_progress_into_a_pipe(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["generate", "--out", str(tmp_path / "g"), "--items", "60", "--days", "1"]) == 0
    out, err = capsys.readouterr()
    assert err == "" and "60 open items" in out


def _parsers(parser: argparse.ArgumentParser) -> list[argparse.ArgumentParser]:
    subs = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    return [parser, *[p for s in subs for p in s.choices.values()]]


def test_help_texts_carry_no_markup() -> None:
    assert plain("``a`` :mod:`b` :func:`~c.d` **e** `f`") == "a b c.d e f"
    parsers = _parsers(build_parser())
    assert len(parsers) > 8
    for p in parsers:
        text = p.format_help()
        for mark in ("``", ":mod:", ":func:", ":class:", "**"):
            assert mark not in text, (p.prog, mark)
    demo = next(p for p in parsers if p.prog.endswith(" demo"))
    assert "kasse demo: the nightly run" in demo.format_help()


def test_demo_users_are_served_on_loopback_only(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from flows.cmd_demo import MARKER
    from flows.demo_users import loopback_only, write_demo_users

    assert loopback_only("127.0.0.1") and loopback_only("::1") and loopback_only("localhost")
    assert not loopback_only("0.0.0.0") and not loopback_only("192.168.1.5") and not loopback_only("kasse.intern")
    (tmp_path / MARKER).write_text("demo", encoding="utf-8")
    logins = write_demo_users(tmp_path, "musterstadt")
    assert [w.role for w in logins] == ["clerk", "supervisor", "auditor"]
    assert len({w.password for w in logins}) == 3
    args = ["review", "--users", str(tmp_path / "demo_users.toml"), "--host", "0.0.0.0"]
    assert main(args) == 2
    assert "loopback" in capsys.readouterr().err


def test_every_output_file_gets_the_one_mode(tmp_path: Path) -> None:
    assert OUTPUT_MODE == 0o640
    paths = write_all(tmp_path / "r", [PlannedFile("a.csv", b"x;y\n", 1, {})], {"kind": "t"})
    write_file_atomically(tmp_path / "r" / "b.json", lambda p: p.write_text("{}", encoding="utf-8"))
    modes = {p.name: stat.S_IMODE(p.stat().st_mode) for p in [*paths.values(), tmp_path / "r" / "b.json"]}
    assert modes == {"a.csv": 0o640, "manifest.json": 0o640, "b.json": 0o640}


def test_kasse_match_files_get_the_mode(tmp_path: Path) -> None:
    csv, sta = _inputs(tmp_path)
    main(["match", "--receivables", str(csv), "--statements", str(sta), "--out", str(tmp_path / "o")])
    modes = {p.name: stat.S_IMODE(p.stat().st_mode) for p in (tmp_path / "o").iterdir()}
    assert set(modes.values()) == {OUTPUT_MODE}, modes
