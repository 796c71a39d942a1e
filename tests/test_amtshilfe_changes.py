"""What Änderung, Aussetzung, Rücknahme (and a later Rückgabe) do to a request's claims (issue 18 §3;
amtshilfe/claim_changes.py, jobs/nightly/amtshilfe.py, ledger/amtshilfe_claims.py; docs/AMTSHILFE.md
"Changes to a request"): literal tables for the pure rules, then real night runs on a real ledger."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from faults import InjectedFailure, fail_at
from test_amtshilfe_import import HEADER, deliver, notice, request, table, tenant

import jobs.nightly as night
from amtshilfe import model
from amtshilfe.claim_changes import amend_claims, apply_changes, close_request_claims, suspension_blocks
from amtshilfe.xml_format import write_requests
from claims.config import TenantConfig
from jobs.nightly.amtshilfe import CHANGES_FILE, case_number, with_claim_changes
from jobs.rundir import RunDir
from ledger.amtshilfe_claims import change_rows, request_blocks, request_claims
from ledger.db import connect
from ledger.dunning_state import read_dunning_state
from ledger.state import current_open_items

D1, D2, D3, D4 = date(2026, 12, 2), date(2026, 12, 3), date(2026, 12, 4), date(2026, 12, 5)


# --- the pure rules -----------------------------------------------------------------------------------------

def _claims(*rows: tuple[str, int, int, bool]) -> pl.DataFrame:
    return pl.DataFrame([{"receivable_id": r, "case_number": r.rsplit("-", 1)[0], "amount_cents": a,
                          "allocated_cents": p, "closed": x} for r, a, p, x in rows])


CLAIMS3 = _claims(("AH1-1", 1000, 500, False), ("AH1-2", 2000, 0, False), ("AH1-3", 3000, 100, False))
OLD3 = pl.DataFrame({"request": ["r"] * 3, "receivable_id": ["AH1-1", "AH1-2", "AH1-3"],
                     "notice_file_number": ["B-1", "B-2", "B-3"]})


def _new(*rows: tuple[str, int]) -> pl.DataFrame:
    return pl.DataFrame([{"request": "r", "message_id": "m", "case_number": "AH1", "position": i,
                          "notice_file_number": fn, "amount_cents": a} for i, (fn, a) in enumerate(rows, start=1)])


#: (the new list of notices: file number and amount) → (changes: claim, change, amount, before, open after),
#: new claims (id, amount), refused
AMEND: list[tuple[str, tuple[tuple[str, int], ...], list[tuple[str, str, int, int, int]], list[tuple[str, int]],
                  bool]] = [
    ("nothing changed", (("B-1", 1000), ("B-2", 2000), ("B-3", 3000)), [], [], False),
    ("lowered, still above what is paid", (("B-1", 600), ("B-2", 2000), ("B-3", 3000)),
     [("AH1-1", "amended", 600, 1000, 100)], [], False),
    ("lowered to exactly what is paid", (("B-1", 500), ("B-2", 2000), ("B-3", 3000)),
     [("AH1-1", "amended", 500, 1000, 0)], [], False),
    ("lowered below what is paid: refused", (("B-1", 499), ("B-2", 2000), ("B-3", 3000)), [], [], True),
    ("raised", (("B-1", 1000), ("B-2", 2500), ("B-3", 3000)), [("AH1-2", "amended", 2500, 2000, 2500)], [], False),
    ("a notice removed: only its open part closed", (("B-1", 1000), ("B-2", 2000)),
     [("AH1-3", "cancelled", 100, 3000, 0)], [], False),
    ("a notice added: the next free number", (("B-1", 1000), ("B-2", 2000), ("B-3", 3000), ("B-4", 700)),
     [], [("AH1-4", 700)], False),
    ("added with nothing owed: no claim", (("B-1", 1000), ("B-2", 2000), ("B-3", 3000), ("B-4", 0)), [], [], False),
    ("replaced and reordered (matched by file number)", (("B-9", 400), ("B-3", 3000), ("B-1", 1000)),
     [("AH1-2", "cancelled", 0, 2000, 0)], [("AH1-4", 400)], False),
]


@pytest.mark.parametrize(("name", "new", "changes", "added", "refused"), AMEND, ids=[t[0] for t in AMEND])
def test_an_aenderung_moves_the_claims(name: str, new: tuple[tuple[str, int], ...],
                                       changes: list[tuple[str, str, int, int, int]], added: list[tuple[str, int]],
                                       refused: bool) -> None:
    got = amend_claims(OLD3, _new(*new), CLAIMS3)
    assert got.changes.select("receivable_id", "change", "amount_cents", "before_cents", "open_cents").rows() \
        == changes
    assert got.new_claims.select("receivable_id", "amount_cents").rows() == added
    assert got.refused["message_id"].to_list() == (["m"] if refused else [])
    if not refused:        # every listed notice follows a claim, or has none when nothing is owed
        assert got.notices.filter(pl.col("amount_cents") > 0)["receivable_id"].null_count() == 0


def test_a_claim_closed_before_is_not_followed_and_a_new_number_is_never_reused() -> None:
    claims = _claims(("AH1-1", 1000, 0, False), ("AH1-2", 0, 0, True), ("AH1-5", 10, 10, True))
    old = pl.DataFrame({"request": ["r", "r"], "receivable_id": ["AH1-1", "AH1-2"], "notice_file_number": ["B-1", "B-2"]})
    got = amend_claims(old, _new(("B-1", 1000), ("B-2", 900)), claims)
    assert got.changes.is_empty()
    assert got.new_claims.select("receivable_id", "amount_cents").rows() == [("AH1-6", 900)]


def test_two_notices_with_one_file_number_are_matched_in_order() -> None:
    claims = _claims(("AH1-1", 1000, 0, False), ("AH1-2", 2000, 0, False))
    old = pl.DataFrame({"request": ["r", "r"], "receivable_id": ["AH1-1", "AH1-2"], "notice_file_number": ["B", "B "]})
    got = amend_claims(old, _new(("B", 1000), ("B", 1500)), claims)
    assert got.changes.select("receivable_id", "change", "amount_cents").rows() == [("AH1-2", "amended", 1500)]


def test_closing_a_request_cancels_the_open_part_and_keeps_what_was_paid() -> None:
    claims = _claims(("AH1-1", 1000, 400, False), ("AH1-2", 2000, 0, False), ("AH1-3", 300, 300, True))
    closed = close_request_claims(claims, "rueckgabe-1")
    assert closed.select("message_id", "receivable_id", "change", "amount_cents", "before_cents", "open_cents") \
        .rows() == [("rueckgabe-1", "AH1-1", "cancelled", 400, 1000, 0), ("rueckgabe-1", "AH1-2", "cancelled", 0, 2000, 0)]
    after = apply_changes(claims, closed)
    assert after.select("receivable_id", "amount_cents", "allocated_cents", "closed").rows() == [
        ("AH1-1", 400, 400, True), ("AH1-2", 0, 0, True), ("AH1-3", 300, 300, True)]
    assert close_request_claims(after, "again").is_empty()      # closing twice closes nothing more


#: (state, suspended_until) of a request on 04.12.2026 → is the claim blocked
BLOCKS = [("suspended", None, True), ("suspended", date(2026, 12, 4), True), ("suspended", date(2026, 12, 3), False),
          ("accepted", None, False), ("withdrawn", None, False)]


@pytest.mark.parametrize(("state", "until", "blocked"), BLOCKS)
def test_an_aussetzung_blocks_the_claims_while_it_holds(state: str, until: date | None, blocked: bool) -> None:
    requests = pl.DataFrame([{"case_number": "AH1", "state": state, "received_on": D1, "suspended_until": until}],
                            schema={"case_number": pl.String, "state": pl.String, "received_on": pl.Date,
                                    "suspended_until": pl.Date})
    got = suspension_blocks(requests, _claims(("AH1-1", 1000, 0, False), ("AH1-2", 50, 50, True)), D3)
    assert got.rows() == ([("AH1-1", None, "ADV", D1, until)] if blocked else [])


def test_the_match_step_sees_the_nights_changes(tmp_path: Path) -> None:
    folder = RunDir(tmp_path)
    items = pl.DataFrame({"receivable_id": ["AH1-1", "AH1-2", "AH1-3", "X"], "amount_cents": [1000, 2000, 300, 999],
                          "import_id": ["claims", "claims", "claims", "export-1"]})
    assert with_claim_changes(items, folder).equals(items)          # no change staged: as it was
    folder.write(CHANGES_FILE, pl.DataFrame({"receivable_id": ["AH1-1", "AH1-2", "AH1-3", "X"],
                                             "change": ["amended", "cancelled", "amended", "cancelled"],
                                             "open_cents": [250, 0, 0, 0]}))
    assert with_claim_changes(items, folder).rows() == [("AH1-1", 250, "claims"), ("X", 999, "export-1")]


# --- real nights on a real ledger ---------------------------------------------------------------------------

BS = {"creditor_id": "BEITRAGSSERVICE", "creditor_name": "ARD ZDF Deutschlandradio Beitragsservice",
      "creditor_iban": "DE02120300000000202051"}


def header(n: int) -> model.Header:
    return model.Header(f"IHK-CH-{n:03d}", HEADER.created, HEADER.sender, HEADER.receiver)


def change(mid: str, message: str, file_number: str, creditor: str = "IHK-BI", **extra: Any) -> dict[str, Any]:
    return {"message_id": mid, "message": message, "creditor_id": creditor, "creditor_file_number": file_number,
            "message_date": date(2026, 12, 1), **extra}


def send(cfg: TenantConfig, n: int, changes: list[dict[str, Any]], notices: list[dict[str, Any]] | None = None,
         requests: list[dict[str, Any]] | None = None) -> None:
    data = model.requests(pl.DataFrame(requests) if requests else None,
                          pl.DataFrame(notices) if notices else None,
                          pl.DataFrame(changes, schema_overrides={"suspended_until": pl.Date}) if changes else None)
    deliver(cfg, f"changes_{n:03d}.xml", write_requests(header(n), data))


def lowered(mid: str) -> list[dict[str, Any]]:
    """An Änderung's new list: B-1 lowered to 80 € (+ 5 € costs), B-2 gone, B-3 new (30 € + 5 €)."""
    return [notice(mid, 1, 8_000), {**notice(mid, 2, 3_000), "notice_file_number": "B-3"}]


def open_amounts(cfg: TenantConfig, file_number: str, creditor: str = "IHK-BI") -> dict[str, int]:
    """What is open of each claim of the request: 0 for a cancelled one."""
    con = connect(cfg.ledger)
    try:
        claims = request_claims(con, "stadt")
    finally:
        con.close()
    case = case_number("stadt", creditor, file_number)
    return {r["receivable_id"].rsplit("-", 1)[1]: 0 if r["closed"] else r["amount_cents"] - r["allocated_cents"]
            for r in claims.filter(pl.col("case_number") == case).iter_rows(named=True)}


def allocate(cfg: TenantConfig, receivable_id: str, cents: int, day: date) -> None:
    """A payment booked on an Amtshilfe claim (as the nightly matching books it)."""
    con = connect(cfg.ledger)
    try:
        con.execute("INSERT INTO allocations (tenant, run_id, transaction_id, receivable_id, amount_cents, rule, "
                    "decided_by, booking_date, import_id) VALUES ('stadt', 'test-pay', ?, ?, ?, 'reference.exact', "
                    "'auto', ?, 'claims')", [f"T-{receivable_id}-{cents}", receivable_id, cents, day])
    finally:
        con.close()


def current(cfg: TenantConfig, file_number: str) -> tuple[Any, ...]:
    return table(cfg, "SELECT state, suspended_until, total_cents FROM amtshilfe_requests "
                      f"WHERE creditor_file_number = '{file_number}' ORDER BY seq DESC LIMIT 1").row(0)


def outcome(cfg: TenantConfig, message_id: str) -> tuple[Any, ...]:
    return table(cfg, "SELECT outcome, \"check\" FROM amtshilfe_events "
                      f"WHERE event_id LIKE '%:{message_id}'").row(0)


STATES = ("open", "suspended", "withdrawn", "returned", "flagged")
MESSAGES = ("aenderung", "aussetzung", "ruecknahme")


def _setup_every_state(cfg: TenantConfig) -> None:
    """Night 1: a request per (state, message) — the IHK's accepted (two notices: 105 € and 205 €), one outside
    the district (returned), the Beitragsservice's with a doubtful Säumniszuschlag (flagged). Night 2: the
    ones to be suspended are suspended, the ones to be withdrawn withdrawn."""
    reqs, notices = [], []
    for s in STATES:
        for m in MESSAGES:
            mid, fn = f"E-{s}-{m}", f"{s}-{m}"
            if s == "returned":
                reqs.append(request(mid, fn, debtor_postcode="10115"))
            elif s == "flagged":
                reqs.append(request(mid, fn, **BS, request_date=date(2023, 6, 1), enforceable_date=date(2023, 5, 1)))
            else:
                reqs.append(request(mid, fn))
            notices += [notice(mid, 1, 10_000), notice(mid, 2, 20_000)]
    notices = [{**n, "surcharge_cents": 300} if n["message_id"].startswith("E-flagged") else n for n in notices]
    send(cfg, 1, [], notices, reqs)
    night.run_night(cfg, D1)
    send(cfg, 2, [change(f"S-{m}", "aussetzung", f"suspended-{m}") for m in MESSAGES]
         + [change(f"W-{m}", "ruecknahme", f"withdrawn-{m}") for m in MESSAGES])
    night.run_night(cfg, D2)


#: (request state, message) → (the message's outcome and check, the request's state after, its claims' open
#: amounts after: notice number → cents). The IHK's claims before: 1 → 105 €, 2 → 205 €; the Änderung lowers
#: 1 to 85 €, drops 2, adds 3 (35 €).
EVERY: dict[tuple[str, str], tuple[tuple[str, str | None], str, dict[str, int]]] = {
    ("open", "aenderung"): (("applied", None), "accepted", {"1": 8_500, "2": 0, "3": 3_500}),
    ("open", "aussetzung"): (("applied", None), "suspended", {"1": 10_500, "2": 20_500}),
    ("open", "ruecknahme"): (("applied", None), "withdrawn", {"1": 0, "2": 0}),
    ("suspended", "aenderung"): (("applied", None), "accepted", {"1": 8_500, "2": 0, "3": 3_500}),
    ("suspended", "aussetzung"): (("applied", None), "suspended", {"1": 10_500, "2": 20_500}),
    ("suspended", "ruecknahme"): (("applied", None), "withdrawn", {"1": 0, "2": 0}),
    ("withdrawn", "aenderung"): (("returned", "unknown_case"), "withdrawn", {"1": 0, "2": 0}),
    ("withdrawn", "aussetzung"): (("returned", "unknown_case"), "withdrawn", {"1": 0, "2": 0}),
    ("withdrawn", "ruecknahme"): (("repeated", None), "withdrawn", {"1": 0, "2": 0}),
    ("returned", "aenderung"): (("returned", "unknown_case"), "returned", {}),
    ("returned", "aussetzung"): (("returned", "unknown_case"), "returned", {}),
    ("returned", "ruecknahme"): (("returned", "unknown_case"), "returned", {}),
    # the Beitragsservice's Säumniszuschlag is still doubtful in the Änderung: flagged again, nothing applied
    ("flagged", "aenderung"): (("flagged", "surcharge_doubt"), "flagged", {}),
    ("flagged", "aussetzung"): (("applied", None), "suspended", {}),
    ("flagged", "ruecknahme"): (("applied", None), "withdrawn", {}),
}


def test_every_message_against_every_request_state(tmp_path: Path) -> None:
    cfg = tenant(tmp_path)
    _setup_every_state(cfg)
    assert {s: current(cfg, f"{s}-aenderung")[0] for s in STATES} == {
        "open": "accepted", "suspended": "suspended", "withdrawn": "withdrawn", "returned": "returned",
        "flagged": "flagged"}
    changes, notices = [], []
    for s in STATES:
        creditor = "BEITRAGSSERVICE" if s == "flagged" else "IHK-BI"
        changes += [change(f"C-{s}-aenderung", "aenderung", f"{s}-aenderung", creditor),
                    change(f"C-{s}-aussetzung", "aussetzung", f"{s}-aussetzung", creditor),
                    change(f"C-{s}-ruecknahme", "ruecknahme", f"{s}-ruecknahme", creditor)]
        notices += lowered(f"C-{s}-aenderung")
    notices = [{**n, "surcharge_cents": 300} if n["message_id"] == "C-flagged-aenderung" else n for n in notices]
    send(cfg, 3, changes, notices)
    night.run_night(cfg, D3)
    got = {(s, m): (outcome(cfg, f"C-{s}-{m}"), current(cfg, f"{s}-{m}")[0],
                    open_amounts(cfg, f"{s}-{m}", "BEITRAGSSERVICE" if s == "flagged" else "IHK-BI"))
           for s in STATES for m in MESSAGES}
    assert got == EVERY
    # the suspended ones are blocked (ADV) — the one suspended before and resumed by its Änderung no longer
    con = connect(cfg.ledger)
    try:
        blocked = request_blocks(con, "stadt", D3)
        open_items = current_open_items(con, "stadt")
        dunned = read_dunning_state(con, "stadt").claims
    finally:
        con.close()
    cases = {case_number("stadt", "IHK-BI", f"{s}-aussetzung"): s for s in ("open", "suspended")}
    assert sorted((cases.get(r.rsplit("-", 1)[0]), r.rsplit("-", 1)[1]) for r in blocked["receivable_id"]) == [
        ("open", "1"), ("open", "2"), ("suspended", "1"), ("suspended", "2")]
    assert set(blocked["block_reason"]) == {"ADV"}
    # matching reads the claims as they stand: cancelled ones are not open any more, amended at the new amount
    lowered_case = case_number("stadt", "IHK-BI", "open-aenderung")
    assert open_items.filter(pl.col("kassenzeichen") == lowered_case).select("receivable_id", "amount_cents") \
        .sort("receivable_id").rows() == [(f"{lowered_case}-1", 8_500), (f"{lowered_case}-3", 3_500)]
    # the claim an Änderung added is a claim of the creditor's like the others
    assert table(cfg, f"SELECT origin, creditor, amount_cents, kassenzeichen FROM claims WHERE receivable_id = "
                      f"'{lowered_case}-3'").rows() == [("amtshilfe", "IHK-BI", 3_500, lowered_case)]
    # and its notices say which claim each is booked as
    assert table(cfg, "SELECT notice_file_number, receivable_id FROM amtshilfe_notices WHERE creditor_file_number = "
                      "'open-aenderung' AND seq = (SELECT max(seq) FROM amtshilfe_notices WHERE creditor_file_number "
                      "= 'open-aenderung') ORDER BY position").rows() == [
        ("B-1", f"{lowered_case}-1"), ("B-3", f"{lowered_case}-3")]
    # never dunned by us: no claim of a foreign creditor in the dunning run's (or the hand-off's) claims
    assert open_items.filter(pl.col("origin") == "amtshilfe").height > 0
    assert dunned.filter(pl.col("origin") == "amtshilfe").is_empty()


def test_a_ruecknahme_after_a_partial_payment_keeps_the_paid_part(tmp_path: Path) -> None:
    cfg = tenant(tmp_path)
    send(cfg, 1, [], [notice("E-1", 1, 10_000), notice("E-1", 2, 20_000)], [request("E-1", "A-1")])
    night.run_night(cfg, D1)
    case = case_number("stadt", "IHK-BI", "A-1")
    allocate(cfg, f"{case}-1", 4_000, D1)
    assert open_amounts(cfg, "A-1") == {"1": 6_500, "2": 20_500}
    send(cfg, 2, [change("R-1", "ruecknahme", "A-1")])
    night.run_night(cfg, D2)
    assert open_amounts(cfg, "A-1") == {"1": 0, "2": 0}
    assert table(cfg, "SELECT receivable_id, change, amount_cents, before_cents, allocated_cents, reason "
                      "FROM claim_changes ORDER BY receivable_id").rows() == [
        (f"{case}-1", "cancelled", 4_000, 10_500, 4_000, "ruecknahme"),
        (f"{case}-2", "cancelled", 0, 20_500, 0, "ruecknahme")]
    # the paid part stays allocated to the creditor's claim: it is forwarded (collection/forward.py)
    assert table(cfg, f"SELECT sum(amount_cents) FROM allocations WHERE receivable_id LIKE '{case}-%'").item() == 4_000
    assert table(cfg, "SELECT kind FROM amtshilfe_events WHERE event_id LIKE '%:R-1'").item() == "withdrawn"
    # a later payment finds nothing open to take it: it waits for a person, it is never allocated
    con = connect(cfg.ledger)
    try:
        assert current_open_items(con, "stadt").filter(pl.col("kassenzeichen") == case).is_empty()
    finally:
        con.close()


def test_an_aenderung_below_what_was_paid_is_flagged_not_applied(tmp_path: Path) -> None:
    cfg = tenant(tmp_path)
    send(cfg, 1, [], [notice("E-1", 1, 10_000), notice("E-1", 2, 20_000)], [request("E-1", "A-1")])
    night.run_night(cfg, D1)
    case = case_number("stadt", "IHK-BI", "A-1")
    allocate(cfg, f"{case}-1", 9_000, D1)
    send(cfg, 2, [change("C-1", "aenderung", "A-1")], lowered("C-1"))       # B-1 to 85 €, 90 € are paid
    night.run_night(cfg, D2)
    assert outcome(cfg, "C-1") == ("flagged", "below_paid")
    assert table(cfg, "SELECT kind, text FROM amtshilfe_events WHERE event_id LIKE '%:C-1'").row(0) == (
        None, "Änderung senkt eine Forderung unter den bereits gezahlten Betrag: bitte prüfen")
    assert current(cfg, "A-1") == ("accepted", None, 31_000)            # the request as it was
    assert open_amounts(cfg, "A-1") == {"1": 1_500, "2": 20_500}
    assert table(cfg, "SELECT count(*) FROM claim_changes").item() == 0


def test_several_changes_in_one_night_each_to_the_result_of_the_one_before(tmp_path: Path) -> None:
    cfg = tenant(tmp_path)
    send(cfg, 1, [], [notice(e, p, a) for e in ("E-1", "E-2", "E-3") for p, a in ((1, 10_000), (2, 20_000))],
         [request("E-1", "A-1"), request("E-2", "A-2"), request("E-3", "A-3")])
    night.run_night(cfg, D1)
    # Änderung, then Aussetzung; A-2: Änderung, Aussetzung, Rücknahme; A-3: Aussetzung, then an Änderung
    send(cfg, 2, [change("C-1", "aenderung", "A-1"), change("S-1", "aussetzung", "A-1",
                                                             suspended_until=date(2027, 1, 31)),
                  change("C-2", "aenderung", "A-2"), change("S-2", "aussetzung", "A-2"),
                  change("R-2", "ruecknahme", "A-2"),
                  change("S-3", "aussetzung", "A-3"), change("C-3", "aenderung", "A-3")],
         lowered("C-1") + lowered("C-2") + lowered("C-3"))
    night.run_night(cfg, D2)
    # the Aussetzung keeps the changed content (12,000 cents: 85 € + 35 €), not the content before the night
    assert current(cfg, "A-1") == ("suspended", date(2027, 1, 31), 12_000)
    assert open_amounts(cfg, "A-1") == {"1": 8_500, "2": 0, "3": 3_500}
    assert current(cfg, "A-2") == ("withdrawn", None, 12_000)
    assert open_amounts(cfg, "A-2") == {"1": 0, "2": 0, "3": 0}
    # the claim the Änderung added and its amended claim are both closed by the Rücknahme after them
    c2 = case_number("stadt", "IHK-BI", "A-2")
    assert table(cfg, f"SELECT receivable_id, change, amount_cents, reason FROM claim_changes WHERE receivable_id "
                      f"LIKE '{c2}-%' ORDER BY seq").rows() == [
        (f"{c2}-1", "amended", 8_500, "aenderung"), (f"{c2}-2", "cancelled", 0, "aenderung"),
        (f"{c2}-1", "cancelled", 0, "ruecknahme"), (f"{c2}-3", "cancelled", 0, "ruecknahme")]
    assert current(cfg, "A-3") == ("accepted", None, 12_000)               # the Änderung resumed it
    assert table(cfg, "SELECT state FROM amtshilfe_requests WHERE creditor_file_number = 'A-3' ORDER BY seq") \
        .to_series().to_list() == ["accepted", "suspended", "accepted"]


def test_a_rerun_books_the_changes_once_and_a_crash_before_the_commit_books_nothing(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    cfg = tenant(tmp_path)
    send(cfg, 1, [], [notice("E-1", 1, 10_000), notice("E-1", 2, 20_000)], [request("E-1", "A-1")])
    night.run_night(cfg, D1)
    send(cfg, 2, [change("C-1", "aenderung", "A-1")], lowered("C-1"))
    fail_at(monkeypatch, "book.commit")
    with pytest.raises(InjectedFailure):
        night.run_night(cfg, D2)
    fail_at(monkeypatch, None)
    assert table(cfg, "SELECT count(*) FROM claim_changes").item() == 0
    assert open_amounts(cfg, "A-1") == {"1": 10_500, "2": 20_500}
    night.run_night(cfg, D2)
    facts = table(cfg, "SELECT change_id, receivable_id, change, amount_cents FROM claim_changes ORDER BY ALL").rows()
    claims = table(cfg, "SELECT receivable_id, amount_cents FROM claims ORDER BY ALL").rows()
    assert len(facts) == 2 and open_amounts(cfg, "A-1") == {"1": 8_500, "2": 0, "3": 3_500}
    # the same Änderung again: in the same file (duplicate) and in another (repeated): nothing more
    send(cfg, 2, [change("C-1", "aenderung", "A-1")], lowered("C-1"))
    send(cfg, 3, [change("C-1", "aenderung", "A-1")], lowered("C-1"))
    night.run_night(cfg, D3)
    assert outcome(cfg, "C-1") == ("applied", None)
    assert table(cfg, "SELECT count(*) FROM amtshilfe_events WHERE event_id LIKE '%:C-1' AND outcome = 'repeated'") \
        .item() == 1
    assert table(cfg, "SELECT change_id, receivable_id, change, amount_cents FROM claim_changes ORDER BY ALL").rows() \
        == facts
    assert table(cfg, "SELECT receivable_id, amount_cents FROM claims ORDER BY ALL").rows() == claims


def test_a_rueckgabe_a_person_decides_closes_the_claims_through_the_same_rows(tmp_path: Path) -> None:
    """The [ahdecide] booking of a Rückgabe: close_request_claims + change_rows into claim_changes."""
    cfg = tenant(tmp_path)
    send(cfg, 1, [], [notice("E-1", 1, 10_000), notice("E-1", 2, 20_000)], [request("E-1", "A-1")])
    night.run_night(cfg, D1)
    case = case_number("stadt", "IHK-BI", "A-1")
    allocate(cfg, f"{case}-2", 500, D1)
    con = connect(cfg.ledger)
    try:
        mine = request_claims(con, "stadt").filter(pl.col("case_number") == case)
        rows = change_rows(close_request_claims(mine, "decision-7"), tenant="stadt", run_id="decide-1",
                           reason="rueckgabe", effective_on=D2)
        con.register("_rows", rows.to_arrow())
        con.execute("INSERT INTO claim_changes SELECT * FROM _rows")
        con.unregister("_rows")
    finally:
        con.close()
    assert rows.select("change_id", "amount_cents", "reason").rows() == [
        (f"decision-7:{case}-1", 0, "rueckgabe"), (f"decision-7:{case}-2", 500, "rueckgabe")]
    assert open_amounts(cfg, "A-1") == {"1": 0, "2": 0}
    night.run_night(cfg, D2)                                   # the next night reads them as closed
    con = connect(cfg.ledger)
    try:
        assert current_open_items(con, "stadt").filter(pl.col("kassenzeichen") == case).is_empty()
    finally:
        con.close()


def test_a_synth_delivery_through_a_night_keeps_every_request_and_its_claims_in_step(tmp_path: Path) -> None:
    """Every kind of message, changes of requests accepted in the same delivery: each answered as planned,
    and the claims of every request as they stand add up to its current total (withdrawn: nothing open)."""
    from synth import amtshilfe_data as ad

    (tmp_path / "kasse.toml").write_text(
        '[tenant]\nid = "stadt"\n[enforcement]\noffice_id = "VS-LP"\noffice_name = "Stadt Lippstadt"\n'
        '[amtshilfe]\ndistrict_postcodes = ["59555", "59557", "59558"]\n', encoding="utf-8")
    from claims.config import load_tenant_config
    cfg = load_tenant_config(tmp_path / "kasse.toml")
    d = ad.delivery(300, seed=11)
    cfg.inbox.mkdir(parents=True, exist_ok=True)
    deliver(cfg, "synth.xml", ad.requests_xml(d))
    night.run_night(cfg, D1)
    events = table(cfg, "SELECT event_id, outcome, \"check\" FROM amtshilfe_events").with_columns(
        pl.col("event_id").str.split(":").list.last().alias("message_id"))
    both = d.planned.join(events, on="message_id", how="left", suffix="_got")
    assert both.filter((pl.col("outcome") != pl.col("outcome_got")) | pl.col("outcome_got").is_null()).is_empty()
    assert set(d.planned["plan"]) >= {"aenderung", "aussetzung", "ruecknahme"}
    con = connect(cfg.ledger)
    try:
        claims = request_claims(con, "stadt")
    finally:
        con.close()
    standing = claims.group_by("case_number").agg(
        pl.when(pl.col("closed")).then(0).otherwise(pl.col("amount_cents")).sum().alias("standing"),
        pl.when(pl.col("closed")).then(0).otherwise(pl.col("amount_cents") - pl.col("allocated_cents")).sum()
        .alias("open"))
    rows = table(cfg, "SELECT case_number, state, total_cents FROM amtshilfe_requests WHERE case_number IS NOT NULL "
                      "QUALIFY row_number() OVER (PARTITION BY creditor_id, creditor_file_number ORDER BY seq DESC) = 1")
    got = rows.join(standing, on="case_number", how="left")
    live = got.filter(pl.col("state").is_in(["accepted", "suspended"]))
    assert live.height > 0 and live.filter(pl.col("standing") != pl.col("total_cents")).is_empty()
    assert got.filter(pl.col("state") == "withdrawn")["open"].fill_null(0).to_list() == [0] * got.filter(
        pl.col("state") == "withdrawn").height
    assert got.filter(pl.col("state") == "withdrawn").height > 0
