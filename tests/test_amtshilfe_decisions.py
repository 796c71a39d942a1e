"""A person's decisions on Amtshilfe requests booked by the nightly run (jobs/nightly/amtshilfe_decisions.py):
real delivery files, the journal the review page writes, a real ledger, the plain nightly steps."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path
from typing import Any

import polars as pl
from nightly_files import write_open_items

import jobs.nightly as night
from amtshilfe import model
from amtshilfe.xml_format import read_answers, write_requests
from claims.config import TenantConfig, load_tenant_config
from claims.vocab import ErsuchenCheck, ErsuchenDecision
from dunning.select import BLOCK_SCHEMA
from jobs.nightly.amtshilfe import case_number
from ledger.amtshilfe_journal import approve, decide, withdraw
from ledger.amtshilfe_state import BLOCKS
from ledger.db import connect, fetch
from ledger.outcomes_state import outcome_blocks
from ledger.publish_amtshilfe import read_amtshilfe_published

D0, D1, D2, D3, D4 = (date(2026, 12, d) for d in (1, 2, 3, 4, 5))
WDR = {"creditor_id": "WDR", "creditor_name": "Westdeutscher Rundfunk Köln"}
HEADER = model.Header(message_id="WDR-2026-001", created=datetime(2026, 12, 1, 9, 0),
                      sender=model.Body("Westdeutscher Rundfunk Köln", "WDR"),
                      receiver=model.Body("Stadt Bielefeld, Vollstreckungsstelle", "VS-BI"))


def tenant(tmp_path: Path) -> TenantConfig:
    (tmp_path / "kasse.toml").write_text(
        '[tenant]\nid = "stadt"\n[enforcement]\noffice_id = "VS-BI"\noffice_name = "Stadt Bielefeld"\n'
        '[amtshilfe]\ndistrict_postcodes = ["33602"]\n', encoding="utf-8")
    cfg = load_tenant_config(tmp_path / "kasse.toml")
    write_open_items(cfg.inbox / "export.csv", [("R0", "100000000001", 1000)])
    night.run_night(cfg, D0)
    return cfg


def request(mid: str, file_number: str) -> dict[str, Any]:
    return {"message_id": mid, **WDR, "creditor_file_number": file_number, "request_date": date(2023, 11, 2),
            "debtor_name": "Anna Muster", "debtor_street": "Markt 1", "debtor_postcode": "33602",
            "debtor_city": "Bielefeld", "enforceable_statement": "vollstreckbar", "payment_reference": f"BN-{mid}",
            "enforceable_date": date(2023, 10, 10)}


def notice(mid: str, position: int, principal: int, surcharge: int) -> dict[str, Any]:
    return {"message_id": mid, "position": position, "notice_date": date(2023, 9, 1),
            "notice_authority": "WDR", "notice_file_number": f"F-{mid}-{position}", "period_from": date(2023, 1, 1),
            "period_to": date(2023, 3, 31), "principal_cents": principal, "surcharge_cents": surcharge,
            "costs_cents": 0}


def flagged_delivery(cfg: TenantConfig, *file_numbers: str, name: str = "wdr_1.xml") -> None:
    """One WDR request per file number, each with a Säumniszuschlag of 15 € on 55,08 € (the rule: 8 €): flagged."""
    mids = [f"M-{fn}" for fn in file_numbers]
    data = model.requests(pl.DataFrame([request(m, fn) for m, fn in zip(mids, file_numbers, strict=True)]),
                          pl.DataFrame([x for m in mids for x in (notice(m, 1, 5508, 1500), notice(m, 2, 5508, 800))]))
    (cfg.inbox / name).write_bytes(write_requests(HEADER, data))


def table(cfg: TenantConfig, sql: str) -> pl.DataFrame:
    con = connect(cfg.ledger)
    try:
        return fetch(con, sql)
    finally:
        con.close()


def current(cfg: TenantConfig, file_number: str) -> tuple[int, str, str | None]:
    seq, state, case = table(cfg, f"SELECT seq, state, case_number FROM amtshilfe_requests WHERE "
                                  f"creditor_file_number = '{file_number}' ORDER BY seq DESC LIMIT 1").row(0)
    return seq, state, case


def by(cfg: TenantConfig, file_number: str, action: ErsuchenDecision, user: str = "vera", **more: Any) -> str:
    seq, state, case = current(cfg, file_number)
    d = decide(cfg.state_dir, cfg.tenant, creditor_id="WDR", creditor_file_number=file_number, seq=seq, state=state,
               case_number=case, action=action, note=more.pop("note", "geprüft"), user=user, role="vollstreckung",
               **more)
    return d.decision_id


def amtshilfe_claims(cfg: TenantConfig) -> list[tuple[Any, ...]]:
    return table(cfg, "SELECT receivable_id, kassenzeichen, amount_cents, claim_type, external_ref, creditor "
                      "FROM claims WHERE origin = 'amtshilfe' ORDER BY 1").rows()


def answers(cfg: TenantConfig) -> list[model.Answers]:
    return [read_answers(p.read_bytes()).data for p in sorted((cfg.tenant_dir / "outbox" / "amtshilfe").glob("*.xml"))]


def test_accept_and_return_of_flagged_requests_are_booked_once(tmp_path: Path) -> None:
    cfg = tenant(tmp_path)
    flagged_delivery(cfg, "A-1", "A-2")
    night.run_night(cfg, D1)
    assert [current(cfg, fn)[1] for fn in ("A-1", "A-2")] == ["flagged", "flagged"]
    assert amtshilfe_claims(cfg) == []
    # published for the page: the flagged requests with their notices, the surcharge asked and expected
    frames, meta = read_amtshilfe_published(cfg.state_dir, cfg.tenant)
    assert meta["on"] == "2026-12-02"
    assert frames["requests"].select("creditor_file_number", "state", "check", "rundfunk").sort("creditor_file_number"
                                                                                              ).rows() == [
        ("A-1", "flagged", "surcharge_doubt", True), ("A-2", "flagged", "surcharge_doubt", True)]
    assert frames["notices"].filter(pl.col("creditor_file_number") == "A-1").select(
        "position", "surcharge_cents", "expected_surcharge_cents").sort("position").rows() == [(1, 1500, 800),
                                                                                              (2, 800, 800)]
    accepted = by(cfg, "A-1", ErsuchenDecision.ACCEPT, note="Zuschlag laut WDR richtig (Satzung alt)")
    returned = by(cfg, "A-2", ErsuchenDecision.RETURN, reason=ErsuchenCheck.SURCHARGE_DOUBT,
                  note="bitte Säumniszuschlag prüfen")
    night.run_night(cfg, D2)

    c1 = case_number("stadt", "WDR", "A-1")
    assert current(cfg, "A-1")[1:] == ("accepted", c1)
    assert current(cfg, "A-2")[1:] == ("returned", None)
    # the claims as for a request the checks accept: one per notice, the Beitragsnummer as external_ref
    assert amtshilfe_claims(cfg) == [(f"{c1}-1", c1, 7008, "RUNDFUNK_AMTSHILFE", "BN-M-A-1", "WDR"),
                                     (f"{c1}-2", c1, 6308, "RUNDFUNK_AMTSHILFE", "BN-M-A-1", "WDR")]
    assert table(cfg, f"SELECT count(*) FROM amtshilfe_notices WHERE seq = {current(cfg, 'A-1')[0]}").item() == 2
    events = table(cfg, "SELECT event_id, kind, outcome, \"check\", state, text FROM amtshilfe_events "
                        "WHERE starts_with(event_id, 'decision:') ORDER BY kind").rows()
    assert [e[:5] for e in events] == [
        (f"decision:{accepted}", "accepted", "accepted", None, "accepted"),
        (f"decision:{returned}", "returned", "returned", "surcharge_doubt", "returned")]
    assert "vera" in events[0][5] and "Satzung alt" in events[0][5]
    # the feedback: Sachstand accepted with our case number, Rückgabe with the reason
    last = answers(cfg)[-1]
    assert last.sachstand[["code", "creditor_file_number", "case_number"]].rows() == [("accepted", "A-1", c1)]
    assert last.rueckgaben[["reason", "creditor_file_number"]].rows() == [("surcharge_doubt", "A-2")]
    frames, _ = read_amtshilfe_published(cfg.state_dir, cfg.tenant)
    case = frames["requests"].filter(pl.col("creditor_file_number") == "A-1").row(0, named=True)
    assert (case["state"], case["claims_cents"], case["paid_cents"], case["open_cents"]) == ("accepted", 13316, 0,
                                                                                             13316)
    assert frames["notices"].height == 0
    assert sorted(frames["decisions"]["decision_id"].to_list()) == sorted([accepted, returned])

    # the next night books nothing again, and a withdrawal after the booking is refused by the page's check
    before = {t: table(cfg, f"SELECT count(*) FROM {t}").item()
              for t in ("amtshilfe_requests", "amtshilfe_events", "claims", "amtshilfe_feedback")}
    night.run_night(cfg, D3)
    assert {t: table(cfg, f"SELECT count(*) FROM {t}").item() for t in before} == before


def test_uncollectible_waits_for_the_second_person_then_blocks_the_claims(tmp_path: Path) -> None:
    cfg = tenant(tmp_path)
    flagged_delivery(cfg, "A-1")
    night.run_night(cfg, D1)
    by(cfg, "A-1", ErsuchenDecision.ACCEPT)
    night.run_night(cfg, D2)
    c1 = case_number("stadt", "WDR", "A-1")
    fruitless = by(cfg, "A-1", ErsuchenDecision.UNCOLLECTIBLE, certificate_date=date(2026, 12, 3),
                   note="Vollziehungsbeamter: nichts pfändbar")
    night.run_night(cfg, D3)
    assert current(cfg, "A-1")[1] == "accepted"            # not approved: not booked
    approve(cfg.state_dir, cfg.tenant, fruitless, user="olaf", role="vollstreckung")
    night.run_night(cfg, D4)
    assert current(cfg, "A-1")[1:] == ("uncollectible", c1)
    [text] = table(cfg, f"SELECT text FROM amtshilfe_events WHERE event_id = 'decision:{fruitless}'").row(0)
    assert "03.12.2026" in text and "olaf" in text
    assert answers(cfg)[-1].sachstand[["code", "case_number"]].rows() == [("uncollectible", c1)]
    # the claims stay in the books (a later payment is forwarded) and are blocked from the booking day
    assert len(amtshilfe_claims(cfg)) == 2
    con = connect(cfg.ledger)
    try:
        blocks = outcome_blocks(con, cfg.tenant)
    finally:
        con.close()
    assert blocks.select("receivable_id", "block_reason", "block_from").rows() == [
        (f"{c1}-1", "NIEDERSCHLAGUNG", D4), (f"{c1}-2", "NIEDERSCHLAGUNG", D4)]
    assert BLOCKS == BLOCK_SCHEMA


def test_a_decision_on_a_request_withdrawn_since_is_refused_once(tmp_path: Path) -> None:
    cfg = tenant(tmp_path)
    flagged_delivery(cfg, "A-1", "A-2")
    night.run_night(cfg, D1)
    decision = by(cfg, "A-1", ErsuchenDecision.ACCEPT)
    dropped = by(cfg, "A-2", ErsuchenDecision.ACCEPT)
    withdraw(cfg.state_dir, cfg.tenant, dropped, user="olaf", role="vollstreckung", note="falscher Fall")
    # the same night the WDR withdraws A-1 (Rücknahme): the decision saw the flagged row, not this one
    back = model.requests(changes=pl.DataFrame([
        {"message_id": "R-1", "message": "ruecknahme", "creditor_id": "WDR", "creditor_file_number": "A-1",
         "message_date": date(2026, 12, 2)}]))
    (cfg.inbox / "wdr_2.xml").write_bytes(write_requests(model.Header("WDR-2026-002", HEADER.created, HEADER.sender,
                                                                      HEADER.receiver), back))
    night.run_night(cfg, D2)
    assert current(cfg, "A-1")[1] == "withdrawn"
    assert current(cfg, "A-2")[1] == "flagged"                 # the withdrawn decision is not booked
    assert amtshilfe_claims(cfg) == []
    [(kind, state, text)] = table(cfg, "SELECT kind, state, text FROM amtshilfe_events "
                                       "WHERE starts_with(event_id, 'decision:')").rows()
    assert (kind, state) == (None, None)
    assert "nicht gebucht: Ersuchen hat sich seit der Entscheidung geändert (jetzt: zurückgenommen)" in text
    assert table(cfg, "SELECT count(*) FROM issues WHERE code = 'amtshilfe.decision_refused'").item() == 1
    night.run_night(cfg, D3)                                   # recorded once: not refused again every night
    assert table(cfg, f"SELECT count(*) FROM amtshilfe_events WHERE message_id = '{decision}'").item() == 1
    assert table(cfg, "SELECT count(*) FROM issues WHERE code = 'amtshilfe.decision_refused'").item() == 1


def test_a_differing_duplicate_of_an_open_case_is_returned_and_the_case_stays(tmp_path: Path) -> None:
    cfg = tenant(tmp_path)
    fits = model.requests(pl.DataFrame([request("M-1", "A-1")]),
                          pl.DataFrame([notice("M-1", 1, 5508, 800)]))
    (cfg.inbox / "wdr_1.xml").write_bytes(write_requests(HEADER, fits))
    night.run_night(cfg, D1)
    c1 = case_number("stadt", "WDR", "A-1")
    open_seq, state, _ = current(cfg, "A-1")
    assert state == "accepted" and len(amtshilfe_claims(cfg)) == 1
    other = model.requests(pl.DataFrame([request("M-2", "A-1")]), pl.DataFrame([notice("M-2", 1, 9900, 800)]))
    (cfg.inbox / "wdr_2.xml").write_bytes(write_requests(model.Header("WDR-2026-002", HEADER.created, HEADER.sender,
                                                                      HEADER.receiver), other))
    night.run_night(cfg, D2)
    assert current(cfg, "A-1")[1] == "flagged"
    # accepting the second version is refused: the case is open with the first one's claims
    refused = by(cfg, "A-1", ErsuchenDecision.ACCEPT)
    night.run_night(cfg, D3)
    [text] = table(cfg, f"SELECT text FROM amtshilfe_events WHERE event_id = 'decision:{refused}'").row(0)
    assert "bereits angenommen" in text and current(cfg, "A-1")[1] == "flagged"
    seq, state, case = current(cfg, "A-1")
    decide(cfg.state_dir, cfg.tenant, creditor_id="WDR", creditor_file_number="A-1", seq=seq, state=state,
           case_number=case, action=ErsuchenDecision.RETURN, reason=ErsuchenCheck.DUPLICATE,
           note="abweichende Fassung: bitte als Änderung senden", user="vera", role="vollstreckung",
           booked={refused})
    night.run_night(cfg, D4)
    rows = table(cfg, "SELECT seq, state, content_key, total_cents FROM amtshilfe_requests ORDER BY seq").rows()
    first = next(r for r in rows if r[0] == open_seq)
    assert rows[-1][1:] == first[1:] == ("accepted", first[2], 6308)   # the first version is the case again
    assert current(cfg, "A-1")[2] == c1 and len(amtshilfe_claims(cfg)) == 1
    assert table(cfg, f"SELECT count(*) FROM amtshilfe_notices WHERE seq = {rows[-1][0]}").item() == 1
    assert answers(cfg)[-1].rueckgaben[["reason", "creditor_file_number", "case_number"]].rows() == [
        ("duplicate", "A-1", c1)]
