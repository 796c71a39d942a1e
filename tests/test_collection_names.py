"""Debtor names outside the SEPA character set: written in their Latin base form and reported (letters
only), never for ids or remittance texts; the collection job collects such a debtor and says so."""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl
import pytest
from test_collect_job import DAY, first_night, fixed_clock, q, tenant  # noqa: F401  (fixed_clock: autouse)

from collection.pain_read import read_pain
from collection.sepa_text import Charset, FieldKind, check_text, convert_names
from jobs.collect import release, run_collect
from jobs.collect.steps import CollectRefused


@pytest.mark.parametrize(("name", "sent"), [
    ("Çelik, Ayşe", "Celik, Ayse"),          # Turkish letters
    ("Ørsted & Søn", "Orsted & Son"),        # & is in the DK set
    ("Łukasz Wałęsa", "Lukasz Walesa"),
    ("Brontë", "Bronte"),
    ("Zoe\u0308", "Zoe"),                    # a combining diaeresis is dropped
    ("Müller-Lüdenscheidt, Jürgen Groß", "Müller-Lüdenscheidt, Jürgen Groß"),   # the DK set keeps umlauts and ß
    ("Schuldner ☃", "Schuldner ☃"),          # a symbol is no spelling: left for check_text to refuse
    ("A\u202eB", "A\u202eB"),                # a direction override too
])
def test_letters_outside_the_set_are_converted_and_nothing_else(name: str, sent: str) -> None:
    out, report = convert_names(pl.DataFrame({"n": [name]}), "n", charset=Charset.DK)
    assert out["n"].to_list() == [sent]
    assert report.to_dicts() == ([] if sent == name else [{"row": 0, "original": name, "converted": sent}])


def test_in_the_epc_set_the_umlauts_are_converted_too() -> None:
    out, report = convert_names(pl.DataFrame({"n": ["Jürgen Groß", None]}), "n", charset=Charset.EPC)
    assert out["n"].to_list() == ["Jurgen Gross", None] and report["row"].to_list() == [0]
    assert check_text(out, {"n": FieldKind.NAME}, charset=Charset.EPC).is_empty()


def test_the_job_collects_a_converted_name_and_reports_it_at_booking(tmp_path: Path) -> None:
    cfg = tenant(tmp_path)
    first_night(cfg, debtor="Brontë")
    out = run_collect(cfg, DAY, user="anna")
    assert out.status == "prepared" and out.counts["names_converted"] == 1
    rows = read_pain(Path(out.paths[out.counts["files"][0]["file_name"]]))
    assert "Bronte R0" in rows["party_name"].to_list() and "Brontë R0" not in rows["party_name"].to_list()
    release(cfg, out.run_id, user="sven", role="supervisor")
    booked = run_collect(cfg, DAY, user="anna")
    assert booked.status == "booked" and booked.counts["n_collections"] == 2
    ev = q(cfg, "SELECT subject, detail FROM audit_events WHERE event = 'collection.name_converted'")
    assert ev["subject"].to_list() == ["R0"]
    assert json.loads(ev["detail"][0]) == {"original": "Brontë R0", "sent": "Bronte R0"}


def test_with_the_conversion_off_such_a_name_refuses_the_run(tmp_path: Path) -> None:
    cfg = tenant(tmp_path, extra="convert_names = false\n")
    first_night(cfg, debtor="Brontë")
    with pytest.raises(CollectRefused, match=r"claim R0 .*field debtor_name: bad_character 'ë'"):
        run_collect(cfg, DAY, user="anna")
