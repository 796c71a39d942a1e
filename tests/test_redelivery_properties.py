"""Property: any sequence of deliveries of the same statements books each entry at most once.

Three statements of one account (numbers 1–3, one a day) are delivered over several nights in any mix
of shapes — whole, cut off before the closing balance, corrected (one amount and the closing balance
changed), twice inside one file, with LF instead of CRLF, zipped, renamed, several in one file — in
any order. The ledger is played as the nightly run plays it: the hashes of the files booked, the
statements and the entries booked so far go into the next night's ``parse_paths``.
"""

from __future__ import annotations

import zipfile
from datetime import date, timedelta
from pathlib import Path

import polars as pl
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from nightly_files import Entry, write_mt940

from parsers import parse_paths

DAY0 = date(2026, 11, 16)
NUMBERS = (1, 2, 3)
SHAPES = ("whole", "cut", "corrected", "twice", "lf", "zip", "renamed", "pair")


def _entries(no: int, corrected: bool) -> list[Entry]:
    base = [Entry(10000 + no, f"KZ {no}-1"), Entry(2500 * no, f"KZ {no}-2"), Entry(-300, "Gebuehr")]
    if corrected:
        base[1] = Entry(base[1].cents + 100, base[1].remittance)
    return base


def _opening(no: int) -> int:
    return 100000 + sum(sum(e.cents for e in _entries(n, False)) for n in NUMBERS if n < no)


def _statement(no: int, *, corrected: bool = False) -> bytes:
    tmp = Path("/dev/shm") if Path("/dev/shm").is_dir() else Path("/tmp")
    path = tmp / f"kasse-prop-{no}-{corrected}-{id(object())}.sta"
    write_mt940(path, day=DAY0 + timedelta(days=no - 1), seq=no, opening=_opening(no), entries=_entries(no, corrected))
    data = path.read_bytes()
    path.unlink()
    return data


WHOLE = {no: _statement(no) for no in NUMBERS}
CORRECTED = {no: _statement(no, corrected=True) for no in NUMBERS}


def _deliver(folder: Path, n: int, shape: str, no: int) -> tuple[Path, bool]:
    """Write one delivery; return its path and whether it carries the corrected version."""
    other = NUMBERS[no % len(NUMBERS)]
    body = {
        "whole": WHOLE[no], "renamed": WHOLE[no], "corrected": CORRECTED[no], "twice": WHOLE[no] * 2,
        "lf": WHOLE[no].replace(b"\r\n", b"\n"), "pair": WHOLE[no] + WHOLE[other],
        "cut": WHOLE[no][: WHOLE[no].index(b":62F:")], "zip": b"",
    }[shape]
    name = folder / (f"{n:02d}_{shape}_{no}.zip" if shape == "zip" else f"{n:02d}_{'copy' if shape == 'renamed' else 'st'}{no}.sta")
    if shape == "zip":
        with zipfile.ZipFile(name, "w", zipfile.ZIP_DEFLATED) as zf:
            zf.writestr(f"a/{no}.sta", WHOLE[no])
            zf.writestr("b.sta", WHOLE[no].replace(b"\r\n", b"\n"))
    else:
        name.write_bytes(body)
    return name, shape == "corrected"


nights = st.lists(st.lists(st.tuples(st.sampled_from(SHAPES), st.sampled_from(NUMBERS)), min_size=1, max_size=3),
                  min_size=1, max_size=4)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(plan=nights)
def test_any_sequence_of_deliveries_books_each_entry_at_most_once(tmp_path_factory: object, plan: list) -> None:
    root = tmp_path_factory.mktemp("deliveries")  # type: ignore[attr-defined]
    known_files: set[str] = set()
    statements = pl.DataFrame()
    entries = pl.DataFrame()
    booked_version: dict[int, bool] = {}                # statement number -> corrected?
    n = 0
    for deliveries in plan:
        night = root / f"night{len(list(root.iterdir()))}"
        night.mkdir()
        paths, corrected_paths, carried = [], set(), []
        for shape, no in deliveries:
            n += 1
            path, corrected = _deliver(night, n, shape, no)
            paths.append(path)
            if corrected:
                corrected_paths.add(str(path))
            if shape not in ("cut", "zip", "pair"):
                carried.append((str(path), no, corrected))
        result = parse_paths(paths, known_files=frozenset(known_files),
                             previous_statements=statements if statements.height else None,
                             known_entries=entries if entries.height else None)
        ok = result.files.filter(pl.col("status") == "ok")
        known_files |= set(ok["source_file"].drop_nulls())
        tx, new_st = result.transactions, result.statements
        # every statement booked tonight: which version, and never a second version of a number
        for row in new_st.iter_rows(named=True):
            no = int(row["sequence_no"])
            version = row["source_path"] in corrected_paths
            assert no not in booked_version, f"statement {no} booked twice ({plan})"
            booked_version[no] = version
            assert row["n_entries"] == 3
        # a corrected statement delivered while the other version is known is reported as a conflict
        conflicts = {i.source_path for i in result.issues if i.code == "statement.conflict"}
        for row in result.files.iter_rows(named=True):
            if row["source_path"] in corrected_paths and row["status"] != "ok" and row["status"] != "duplicate":
                assert row["source_path"] in conflicts or "statement.incomplete" in (row["reason"] or "")
        # every delivery of the other version of a booked statement is reported as a conflict
        seen = {r["source_path"]: r["status"] for r in result.files.iter_rows(named=True)}
        for path_text, no, corrected in carried:
            if booked_version.get(no, corrected) != corrected and seen[path_text] != "duplicate":
                assert path_text in conflicts, (path_text, plan)
        statements = pl.concat([statements, new_st], how="vertical_relaxed") if statements.height else new_st
        entries = pl.concat([entries, tx], how="vertical_relaxed") if entries.height else tx
        # at most once: transaction ids and the bank's entry references
        assert entries["transaction_id"].is_unique().all()
        assert entries.select("account_iban", "bank_ref").is_unique().all()
    # every number delivered complete at some point is booked, with all its entries
    complete = {no for night in plan for shape, no in night if shape != "cut"}
    complete |= {NUMBERS[no % len(NUMBERS)] for night in plan for shape, no in night if shape == "pair"}
    assert set(booked_version) == complete
    for no, corrected in booked_version.items():
        rows = entries.filter(pl.col("bank_ref").str.starts_with(f"B{no:03d}"))
        assert rows.height == 3
        assert int(rows["amount_cents"].sum()) == sum(e.cents for e in _entries(no, corrected))
