"""`kasse demo` over a small generated municipality (plain steps; the Prefect flow has its own test)."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from flows.cli import main
from flows.cmd_demo import file_day, prepare
from ledger.db import connect, fetch


def test_booking_day_comes_from_the_file_name() -> None:
    assert file_day(Path("MT940_DE63370501981900001234_20261117.sta")) == date(2026, 11, 17)
    assert file_day(Path("2026-11-18_C53_DE87_camt.053.001.08.xml")) == date(2026, 11, 18)


def test_demo_runs_every_day_and_says_where_the_reports_are(tmp_path: Path,
                                                           capsys: pytest.CaptureFixture[str]) -> None:
    from synth import generate

    samples = tmp_path / "samples"
    generate(samples, n_items=300, days=2)
    out = tmp_path / "out"
    assert main(["demo", "--samples", str(samples), "--out", str(out), "--no-prefect"]) == 0
    printed = capsys.readouterr().out
    assert "2 booking days" in printed and "day_close.pdf" in printed and "klaerungsliste.xlsx" in printed
    for day in ("2026-11-16", "2026-11-17"):
        assert (out / "musterstadt" / day / "day_close.pdf").read_bytes().startswith(b"%PDF")
        assert (out / "musterstadt" / day / "klaerungsliste.xlsx").exists()
    con = connect(out / "kasse.duckdb", read_only=True)
    closes = fetch(con, "SELECT booking_date, status, difference_cents FROM day_closes WHERE kind = 'close'")
    con.close()
    assert closes.height == 4                                  # two accounts, two days
    assert set(closes["difference_cents"].to_list()) == {0}
    assert not list((out / "files" / "musterstadt" / "inbox").rglob("*.*"))
    # then one dunning week: prepared, released by a second person, booked, its letters written
    assert "released by aufsicht" in printed and ": booked, run" in printed
    (letters,) = (out / "musterstadt").glob("*/dunning/letters.pdf")
    assert letters.read_bytes().startswith(b"%PDF")
    con = connect(out / "kasse.duckdb", read_only=True)
    notices = fetch(con, "SELECT prepared_by, released_by, count(*) AS n FROM dunning_notices GROUP BY ALL")
    con.close()
    assert notices.rows() == [("kasse-demo", "aufsicht", notices["n"][0])] and notices["n"][0] > 0
    # a second demo recreates its own folder, but never a folder it did not make
    prepare(samples, out)
    assert sorted(p.name for p in out.iterdir()) == [".kasse-demo", "kasse.toml"]
    other = tmp_path / "mine"
    other.mkdir()
    (other / "keep.txt").write_text("x", encoding="utf-8")
    assert main(["demo", "--samples", str(samples), "--out", str(other), "--no-prefect"]) == 2
    assert (other / "keep.txt").exists()
