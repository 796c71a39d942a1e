"""The Mahnverzicht journal (ledger/waiver_journal.py): always four-eyes, withdrawn from a day, forged lines refused,
and the frame the enforcement selection reads."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import polars as pl
import pytest

from claims.vocab import MahnungWaiver
from enforcement.select import select
from ledger.journal import JournalError, journal_dir
from ledger.waiver_journal import (
    approve_waiver,
    load_waivers,
    read_waivers,
    set_waiver,
    waivers_frame,
    withdraw_waiver,
)

T = "musterstadt"
TODAY = datetime.now(UTC).date()


def test_a_waiver_counts_only_once_a_second_person_approved_it(tmp_path: Path) -> None:
    w = set_waiver(tmp_path, T, receivable_id="R1", waiver=MahnungWaiver.WITHOUT_MEANS, since=TODAY,
                   note="Vermögensauskunft 2026 liegt vor", user="anna", role="clerk")
    assert waivers_frame(read_waivers(tmp_path, T), TODAY).height == 0
    with pytest.raises(JournalError, match="four-eyes"):
        approve_waiver(tmp_path, T, w.waiver_id, user="anna", role="supervisor")
    with pytest.raises(JournalError, match="supervisor"):
        approve_waiver(tmp_path, T, w.waiver_id, user="bert", role="clerk")
    approve_waiver(tmp_path, T, w.waiver_id, user="sven", role="supervisor")
    frame = waivers_frame(read_waivers(tmp_path, T), TODAY)
    assert frame.to_dicts() == [{"receivable_id": "R1", "debtor_id": None, "waiver": "without_means",
                                 "since": TODAY, "deadline": None}]
    assert waivers_frame(read_waivers(tmp_path, T), TODAY - timedelta(days=1)).height == 0   # not begun then
    withdraw_waiver(tmp_path, T, w.waiver_id, user="anna", role="clerk", note="Schuldner hat Vermögen geerbt")
    assert waivers_frame(read_waivers(tmp_path, T), TODAY).height == 0
    assert read_waivers(tmp_path, T)[0].state_on(TODAY) == "withdrawn"


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"receivable_id": "R1", "debtor_id": "D1"}, "not both"),
    ({"receivable_id": "R1", "waiver": "forgot"}, "must be one of"),
    ({"receivable_id": "R1", "waiver": MahnungWaiver.PUBLIC_REMINDER}, "deadline"),
    ({"receivable_id": "R1", "since": TODAY + timedelta(days=3)}, "future"),
    ({"receivable_id": "R1", "note": "  "}, "note"),
    ({"receivable_id": "R1", "role": "vollstreckung"}, "may not record"),
])
def test_what_the_writer_refuses(tmp_path: Path, kwargs: dict[str, object], message: str) -> None:
    args: dict[str, object] = {"waiver": MahnungWaiver.ADDRESS_UNKNOWN, "since": TODAY, "note": "EMA ohne Treffer",
                               "user": "anna", "role": "clerk", **kwargs}
    with pytest.raises(JournalError, match=message):
        set_waiver(tmp_path, T, **args)  # type: ignore[arg-type]
    assert read_waivers(tmp_path, T) == []


def test_a_forged_approval_line_is_refused_and_reported(tmp_path: Path) -> None:
    w = set_waiver(tmp_path, T, debtor_id="D1", waiver=MahnungWaiver.REFUSED, since=TODAY,
                   note="Schreiben vom 3.11.", user="anna", role="clerk")
    folder = journal_dir(tmp_path, T) / "waivers"
    path = next(folder.glob("*.jsonl"))
    forged = {"kind": "waiver_approval", "tenant": T, "waiver_id": w.waiver_id, "user": "anna",
              "role": "supervisor", "created_at": datetime.now(UTC).isoformat()}
    with path.open("a", encoding="utf-8") as fh:
        fh.write(json.dumps(forged) + "\n")
    waivers, issues = load_waivers(tmp_path, T)
    assert waivers[0].approved_by is None
    assert [i.code for i in issues] == ["journal.waiver_approval_refused"]


def test_the_selection_hands_over_a_claim_without_mahnung_on_an_approved_waiver(tmp_path: Path) -> None:
    """End to end with the pure selection: without the waiver ``no_mahnung``, with it handed over."""
    since = date(2026, 10, 1)
    w = set_waiver(tmp_path, T, debtor_id="D1", waiver=MahnungWaiver.DISPROPORTIONATE, since=since,
                   note="Kosten außer Verhältnis", user="anna", role="clerk")
    approve_waiver(tmp_path, T, w.waiver_id, user="sven", role="supervisor")
    claims = pl.DataFrame({"receivable_id": ["R1"], "debtor_id": ["D1"], "kassenzeichen": ["K1"],
                           "claim_type": ["GRUNDSTEUER"], "amount_cents": [5000], "due_date": [date(2026, 8, 15)],
                           "debtor_name": ["Erika Muster"], "debtor_street": ["Hauptstr. 1"],
                           "debtor_postcode": ["32756"], "debtor_city": ["Detmold"]})
    as_of = date(2026, 12, 1)
    assert select(claims, as_of).skipped["reason"].to_list() == ["no_mahnung"]
    picked = select(claims, as_of, waivers=waivers_frame(read_waivers(tmp_path, T), as_of))
    assert picked.selected["mahnung_waiver"].to_list() == ["disproportionate"]
