"""The weekly dunning run over a real ledger: prepare → release (four-eyes) → book; dropped notices, the
same week twice, a crash at every checkpoint, fee Kassenzeichen, surcharge differences over two weeks."""

from __future__ import annotations

import json
import shutil
import subprocess
from datetime import UTC, date, datetime
from pathlib import Path

import polars as pl
import pytest
from faults import InjectedFailure, fail_at
from nightly_files import ACCOUNT, Entry, kz, write_mt940, write_open_items

import jobs.nightly as night
from claims.config import TenantConfig, load_tenant_config
from claims.kassenzeichen import complete, well_formed
from claims.vocab import BlockReason
from jobs.dunning import DunningRefused, release, run_dunning
from jobs.dunning.charges import FeeNumberCollision, charge_rows, fee_numbers, next_counter
from jobs.dunning.record import read_record, week_key
from jobs.dunning.steps import STEPS, reconcile
from ledger.block_journal import set_block
from ledger.booking import book
from ledger.db import connect, fetch, row_counts
from ledger.journal import JournalError
from ledger.publish_dunning import read_dunning_published
from ledger.release_journal import read_releases
from ledger.tables import TABLES
from outputs.dunning_letters import DRAFT_MARK

D1 = date(2026, 11, 16)                   # Monday: the night that brings the export
AS_OF = date(2026, 11, 18)                # Wednesday: needs booking days up to Monday (bank lag 2)
DUE = date(2026, 10, 1)                   # Thursday: two started months by AS_OF
K = [kz(i) for i in range(4)]


def tenant(tmp_path: Path) -> TenantConfig:
    (tmp_path / "kasse.toml").write_text(f'[tenant]\nid = "stadt"\n[[accounts]]\niban = "{ACCOUNT}"\n', encoding="utf-8")
    return load_tenant_config(tmp_path / "kasse.toml")


def first_night(cfg: TenantConfig) -> None:
    """R0 150 €, R1 99 €, R2 50 € (one debtor each, due 1 Oct), a statement of Monday without payments."""
    write_open_items(cfg.inbox / "export_1116.csv", [("R0", K[0], 15000), ("R1", K[1], 9900), ("R2", K[2], 5000)],
                     due=DUE)
    write_mt940(cfg.inbox / "sparkasse_1116.sta", day=D1, seq=1, opening=100000, entries=[Entry(-350, "Kontofuehrung")])
    night.run_night(cfg, D1)


def close_days(cfg: TenantConfig, days: list[date]) -> None:
    """Day closes for ``days`` booked directly (what nights without statements would leave)."""
    run_id = f"closes-{days[0]}"
    runs = pl.DataFrame([{"tenant": "stadt", "run_id": run_id, "booking_date": days[-1], "job": "nightly",
                          "mode": "plain", "started_at": datetime.now(UTC)}])
    closes = pl.DataFrame([{"tenant": "stadt", "run_id": run_id, "kind": "close", "booking_date": d,
                            "account_iban": "DE02120300000000202051", "closed_on": d, "status": "ok"} for d in days])
    con = connect(cfg.ledger)
    try:
        book(con, {"runs": runs, "day_closes": closes}, run_id=run_id)
    finally:
        con.close()


def q(cfg: TenantConfig, sql: str) -> pl.DataFrame:
    con = connect(cfg.ledger)
    try:
        return fetch(con, sql)
    finally:
        con.close()


def counts(cfg: TenantConfig) -> dict[str, int]:
    con = connect(cfg.ledger)
    try:
        return row_counts(con)
    finally:
        con.close()


def prepare_and_release(cfg: TenantConfig, as_of: date = AS_OF) -> str:
    out = run_dunning(cfg, as_of, user="anna")
    assert out.status == "prepared", out
    assert out.run_id is not None
    release(cfg, out.run_id, user="sven", role="supervisor")
    return out.run_id


def test_prepare_release_book_and_the_same_week_again_books_nothing(tmp_path: Path) -> None:
    cfg = tenant(tmp_path)
    first_night(cfg)
    before = counts(cfg)
    out = run_dunning(cfg, AS_OF, user="anna")
    assert (out.status, out.week) == ("prepared", "2026-W47") and out.run_id
    assert out.counts["n_notices"] == 3 and out.counts["level"] == {"mahnung": 3}
    assert out.counts["fees_total_cents"] == 700 + 649 + 600           # 6 € + 1 % above 50 €
    assert out.counts["surcharges_total_cents"] == 300 + 100 + 100      # 2 months × 1 % of 150 €, 50 €, 50 €
    assert counts(cfg) == before                                        # preparing books nothing
    pub = read_dunning_published(cfg.state_dir, "stadt")
    assert pub.runs.select("run_id", "status", "prepared_by").rows() == [(out.run_id, "prepared", "anna")]
    assert sorted(pub.notices["debtor_id"]) == ["D-R0", "D-R1", "D-R2"]
    sample = pub.runs["sample_pdf"][0]                                  # DRAFT letters in the run folder only
    assert sample and Path(sample).read_bytes().startswith(b"%PDF") and out.run_id in sample
    assert not (cfg.reports / "stadt").exists() or not list((cfg.reports / "stadt").rglob("letters.pdf"))

    assert run_dunning(cfg, AS_OF, user="anna").status == "prepared"   # no release yet: shown again
    with pytest.raises(JournalError, match="four-eyes"):
        release(cfg, out.run_id, user="anna", role="supervisor")       # the preparer
    with pytest.raises(JournalError, match="supervisor"):
        release(cfg, out.run_id, user="ben", role="clerk")
    release(cfg, out.run_id, user="sven", role="supervisor")
    assert read_dunning_published(cfg.state_dir, "stadt").runs["status"].to_list() == ["released"]

    booked = run_dunning(cfg, AS_OF, user="anna")
    assert (booked.status, booked.run_id) == ("booked", out.run_id)
    notices = q(cfg, "SELECT debtor_id, level, week, prepared_by, released_by, total_cents FROM dunning_notices "
                     "ORDER BY debtor_id")
    assert notices.rows() == [("D-R0", "mahnung", "2026-W47", "anna", "sven", 15000 + 300 + 700),
                              ("D-R1", "mahnung", "2026-W47", "anna", "sven", 9900 + 100 + 649),
                              ("D-R2", "mahnung", "2026-W47", "anna", "sven", 5000 + 100 + 600)]
    fees = q(cfg, "SELECT parent_receivable_id, claim_type, amount_cents, origin, due_date, debtor_id FROM claims "
                  "ORDER BY 1, 2")
    assert fees.select("parent_receivable_id", "claim_type", "amount_cents").rows() == [
        ("R0", "MAHNGEBUEHR", 700), ("R0", "SAEUMNISZUSCHLAG", 300), ("R1", "MAHNGEBUEHR", 649),
        ("R1", "SAEUMNISZUSCHLAG", 100), ("R2", "MAHNGEBUEHR", 600), ("R2", "SAEUMNISZUSCHLAG", 100)]
    assert set(fees["origin"]) == {"fee"} and fees["debtor_id"].to_list() == ["D-R0"] * 2 + ["D-R1"] * 2 + ["D-R2"] * 2
    assert set(fees["due_date"]) == {date(2026, 11, 30)}                # 18 Nov + 3 + 7 = Sat 28 → Mon 30 Nov
    items = q(cfg, "SELECT receivable_id, mahngebuehr_receivable_id, saeumniszuschlag_booked_cents FROM "
                   "dunning_notice_items ORDER BY 1")
    assert items["receivable_id"].to_list() == ["R0", "R1", "R2"]
    assert items["saeumniszuschlag_booked_cents"].to_list() == [300, 100, 100]
    assert all(x and x.startswith("GEB-9") for x in items["mahngebuehr_receivable_id"])
    runs = q(cfg, "SELECT job, booking_date FROM runs WHERE run_id = '" + out.run_id + "'")
    assert runs.rows() == [("dunning", AS_OF)]
    assert read_record(cfg, "2026-W47").stage == "done"                 # type: ignore[union-attr]
    assert read_dunning_published(cfg.state_dir, "stadt").runs["status"].to_list() == ["booked"]
    letters = Path(booked.paths["letters.pdf"])
    assert letters.read_bytes().startswith(b"%PDF") and letters.parent == cfg.reports / "stadt" / "2026-11-18" / "dunning"
    print_file = (letters.parent / "print_file.csv").read_text(encoding="utf-8-sig")
    assert print_file.count("\n") == 4 and "D-R1" in print_file                # header + one row per letter
    assert read_dunning_published(cfg.state_dir, "stadt").runs["letters_pdf"].to_list() == [str(letters)]
    hkr = [p for k, p in booked.paths.items() if k.startswith("hkr/") and p.endswith(".csv") and "claims" in p]
    assert hkr and "GEB-9" in Path(hkr[0]).read_text(encoding="utf-8-sig")

    after = counts(cfg)
    for day in (AS_OF, date(2026, 11, 20)):                             # the same week again: nothing
        again = run_dunning(cfg, day, user="anna")
        assert (again.status, again.run_id) == ("nothing_to_do", out.run_id) and "booked already" in again.message
    assert counts(cfg) == after


def test_fee_kassenzeichen_are_valid_unique_and_go_on_from_the_ledger(tmp_path: Path) -> None:
    cfg = tenant(tmp_path)
    first_night(cfg)
    prepare_and_release(cfg)
    run_dunning(cfg, AS_OF, user="anna")
    kz_fees = q(cfg, "SELECT kz_norm, receivable_id FROM claims ORDER BY kz_norm, receivable_id")
    # one Kassenzeichen per notice (3 notices), shared by its Mahngebühr and Säumniszuschlag
    assert kz_fees.height == 6 and kz_fees["kz_norm"].n_unique() == 3
    assert kz_fees["receivable_id"].n_unique() == 6
    assert all(well_formed(k, 12, "mod11") and k.startswith("9") for k in kz_fees["kz_norm"])
    assert kz_fees["receivable_id"].to_list() == [f"GEB-{k}-{n}" for k, n in zip(kz_fees["kz_norm"], [1, 2] * 3,
                                                                                 strict=True)]
    # counter 1 first (its body needs check value 10: never issued), then counting up, as the scalar rule says
    scalar = [complete(f"9{c:010d}", "mod11") for c in range(1, 12)]
    assert kz_fees["kz_norm"].unique(maintain_order=True).to_list() == [k for k in scalar if k][:3]
    assert scalar[0] is None
    per_notice = q(cfg, "SELECT i.notice_id, c.kz_norm FROM dunning_notice_items i JOIN claims c "
                        "ON c.parent_receivable_id = i.receivable_id ORDER BY 1")
    assert per_notice.unique().height == 3 and per_notice["notice_id"].n_unique() == 3
    # the next numbers continue after the highest counter in the ledger
    assert next_counter(kz_fees["kz_norm"], "9", 12, "mod11") == 5      # counters 2, 3, 4 were issued


def test_fee_numbers_skip_bodies_without_a_mod11_check_digit_and_refuse_when_used_up() -> None:
    nums = fee_numbers(30, 1, prefix="9", digits=12, scheme="mod11")
    assert nums.len() == 30 and nums.n_unique() == 30
    assert all(well_formed(k, 12, "mod11") for k in nums)
    counters = [int(k[1:11]) for k in nums]
    assert counters == sorted(counters) and len(counters) < counters[-1]   # some bodies give 10: never issued
    assert fee_numbers(3, 7, prefix="77", digits=8, scheme="mod10").to_list() == [
        complete(f"770000{c}", "mod10") for c in (7, 8, 9)] == ["77000073", "77000081", "77000099"]
    assert fee_numbers(2, 1, prefix="9", digits=6, scheme="none").to_list() == ["900001", "900002"]
    with pytest.raises(Exception, match="used up"):
        fee_numbers(5, 9995, prefix="9", digits=6, scheme="mod11")


def test_a_fee_number_the_finance_system_issued_already_stops_the_booking(tmp_path: Path) -> None:
    cfg = tenant(tmp_path)
    first = fee_numbers(1, 1, prefix="9", digits=12, scheme="mod11")[0]
    write_open_items(cfg.inbox / "export_1116.csv", [("R0", K[0], 15000), ("X9", first, 2000)], due=DUE)
    write_mt940(cfg.inbox / "sparkasse_1116.sta", day=D1, seq=1, opening=0, entries=[Entry(-350, "Kontofuehrung")])
    night.run_night(cfg, D1)
    prepare_and_release(cfg)
    before = counts(cfg)
    with pytest.raises(FeeNumberCollision, match=first):
        run_dunning(cfg, AS_OF, user="anna")
    assert counts(cfg) == before


def test_a_missing_booking_day_refuses_the_run_and_names_the_day(tmp_path: Path) -> None:
    cfg = tenant(tmp_path)
    first_night(cfg)
    with pytest.raises(DunningRefused, match=r"missing: Tue 17\.11\.2026"):
        run_dunning(cfg, date(2026, 11, 19), user="anna")           # needs Tuesday 17 Nov closed
    assert read_record(cfg, "2026-W47") is None
    close_days(cfg, [date(2026, 11, 17)])
    assert run_dunning(cfg, date(2026, 11, 19), user="anna").status == "prepared"


def test_a_debtor_who_paid_or_was_blocked_since_the_preparation_is_dropped_and_reported(tmp_path: Path) -> None:
    cfg = tenant(tmp_path)
    first_night(cfg)
    run_id = prepare_and_release(cfg)
    # Tuesday's night: R1 paid in full; then a clerk blocks debtor D-R2 (Stundung, from Wednesday)
    write_mt940(cfg.inbox / "sparkasse_1117.sta", day=date(2026, 11, 17), seq=2, opening=99650,
                entries=[Entry(9900, f"KZ {K[1]}", name="Schuldner R1")])
    night.run_night(cfg, date(2026, 11, 17))
    set_block(cfg.state_dir, "stadt", debtor_id="D-R2", reason=BlockReason.STUNDUNG, until=date(2027, 1, 31),
              note="Antrag vom 17.11.", user="ben", role="clerk", start=AS_OF)
    out = run_dunning(cfg, AS_OF, user="anna")
    assert (out.status, out.run_id) == ("booked", run_id)
    assert out.counts["n_notices"] == 1 and out.counts["dropped"] == {"blocked": 1, "settled": 1}
    assert q(cfg, "SELECT debtor_id FROM dunning_notices")["debtor_id"].to_list() == ["D-R0"]
    assert set(q(cfg, "SELECT parent_receivable_id FROM claims")["parent_receivable_id"]) == {"R0"}
    events = q(cfg, "SELECT subject, detail FROM audit_events WHERE event = 'dunning.notice_dropped' ORDER BY 1")
    reasons = {json.loads(d)["debtor_id"]: json.loads(d)["reason"] for d in events["detail"]}
    assert reasons == {"D-R1": "settled", "D-R2": "blocked"}


def test_nothing_to_dun_is_nothing_to_do_and_prepares_no_run(tmp_path: Path) -> None:
    cfg = tenant(tmp_path)
    write_open_items(cfg.inbox / "export_1116.csv", [("R0", K[0], 15000)], due=date(2026, 11, 14))
    write_mt940(cfg.inbox / "sparkasse_1116.sta", day=D1, seq=1, opening=0, entries=[Entry(-350, "Kontofuehrung")])
    night.run_night(cfg, D1)
    out = run_dunning(cfg, AS_OF, user="anna")                         # due Saturday → Monday: in the Schonfrist
    assert out.status == "nothing_to_do" and out.counts["skipped"] == {"schonfrist": 1}
    assert read_record(cfg, week_key(AS_OF)) is None


PREPARE_POINTS = [name for name, _ in STEPS["prepare"]]
BOOK_POINTS = [name for name, _ in STEPS["book"]] + [f"book.{t}" for t in TABLES] + ["book.commit"]


@pytest.mark.parametrize("point", PREPARE_POINTS + BOOK_POINTS)
def test_a_crash_at_any_checkpoint_leaves_the_ledger_as_it_was_and_the_rerun_books_once(
        tmp_path: Path, point: str, monkeypatch: pytest.MonkeyPatch) -> None:
    cfg = tenant(tmp_path)
    first_night(cfg)
    before = counts(cfg)
    fail_at(monkeypatch, point)
    runs = 0
    for _ in range(6):                                                 # prepare, release, book: with one crash
        try:
            out = run_dunning(cfg, AS_OF, user="anna")
        except InjectedFailure:
            fail_at(monkeypatch, None)
            if point in PREPARE_POINTS[:PREPARE_POINTS.index("publish")] or point.startswith("book") \
                    or point in ("read_ledger", "select", "reconcile", "stage"):
                assert counts(cfg)["dunning_notices"] == 0              # nothing booked before the commit
            continue
        runs += 1
        if out.status == "prepared":
            rec = read_record(cfg, week_key(AS_OF))
            assert rec is not None
            if rec.run_id not in read_releases(cfg.state_dir, "stadt"):
                release(cfg, rec.run_id, user="sven", role="supervisor")
        elif out.status in ("booked", "nothing_to_do"):   # nothing to do: the crash came after the last step
            break
    else:
        pytest.fail("the week was not booked")
    assert counts(cfg)["dunning_notices"] == 3 and counts(cfg)["claims"] == 6
    assert counts(cfg)["runs"] == before["runs"] + 1
    assert read_record(cfg, week_key(AS_OF)).stage == "done"          # type: ignore[union-attr]
    assert run_dunning(cfg, AS_OF, user="anna").status == "nothing_to_do"
    assert counts(cfg)["dunning_notices"] == 3 and counts(cfg)["claims"] == 6


def test_surcharges_book_only_the_difference_to_earlier_weeks(tmp_path: Path) -> None:
    cfg = tenant(tmp_path)
    first_night(cfg)
    prepare_and_release(cfg)
    run_dunning(cfg, AS_OF, user="anna")
    # two weeks on (the interval), every booking day closed: the second notice, Vollstreckungsankündigung
    close_days(cfg, [date(2026, 11, d) for d in (17, 18, 19, 20, 23, 24, 25, 26, 27, 30)])
    week2 = date(2026, 12, 2)
    out = run_dunning(cfg, week2, user="anna")
    assert out.counts["level"] == {"vollstreckungsankuendigung": 3}
    assert out.counts["surcharges_total_cents"] == 450 + 150 + 150     # 3 started months by 2 Dec (in total)
    assert out.counts["fees_total_cents"] == 0                        # free, and charged once per claim anyway
    release(cfg, out.run_id or "", user="sven", role="supervisor")
    assert run_dunning(cfg, week2, user="anna").status == "booked"
    fees = q(cfg, "SELECT claim_type, amount_cents, run_id FROM claims WHERE parent_receivable_id = 'R0' "
                  "ORDER BY created_at")
    assert fees.select("claim_type", "amount_cents").rows() == [("MAHNGEBUEHR", 700), ("SAEUMNISZUSCHLAG", 300),
                                                               ("SAEUMNISZUSCHLAG", 150)]
    items = q(cfg, "SELECT n.week, i.saeumniszuschlag_cents, i.saeumniszuschlag_booked_cents FROM dunning_notice_items i "
                   "JOIN dunning_notices n USING (run_id, notice_id) WHERE i.receivable_id = 'R0' ORDER BY 1")
    assert items.rows() == [("2026-W47", 300, 300), ("2026-W49", 450, 150)]


def test_charge_rows_book_what_accrued_since_and_a_fee_once() -> None:
    items = pl.DataFrame({"notice_id": ["N1", "N1", "N2"], "receivable_id": ["R0", "R1", "R2"],
                          "mahngebuehr_cents": [0, 600, 0], "saeumniszuschlag_cents": [450, 0, 100],
                          "interest_cents": [0, 0, 37]})
    charged = pl.DataFrame({"parent_receivable_id": ["R0", "R0", "R2", "R2"],
                            "claim_type": ["MAHNGEBUEHR", "SAEUMNISZUSCHLAG", "SAEUMNISZUSCHLAG", "ZINSEN"],
                            "booked_cents": [700, 300, 100, 12]})
    assert charge_rows(items, charged).rows() == [("N1", "R0", "SAEUMNISZUSCHLAG", 150),
                                                  ("N1", "R1", "MAHNGEBUEHR", 600),
                                                  ("N2", "R2", "ZINSEN", 25)]


def test_reconcile_names_why_a_prepared_claim_may_not_be_booked() -> None:
    base = {"level": "mahnung", "saeumniszuschlag_cents": 0, "interest_cents": 0, "mahngebuehr_cents": 600}
    prepared = pl.DataFrame([{"notice_id": f"N{i}", "receivable_id": f"R{i}", "open_cents": 5000, **base}
                             for i in range(6)])
    selected = pl.DataFrame([{"receivable_id": "R0", "open_cents": 5000, **base},
                             {"receivable_id": "R4", "open_cents": 5000, **{**base, "level": "vollstreckungsankuendigung"}}])
    skipped = pl.DataFrame({"receivable_id": ["R2", "R3"], "reason": ["blocked", "pending_payment"]})
    claims = pl.DataFrame({"receivable_id": ["R0", "R2", "R3", "R4", "R5"], "amount_cents": [5000, 5000, 5000, 5000, 4000]})
    got = reconcile(prepared, selected, skipped, claims).sort("receivable_id")
    assert got["reason"].to_list() == [None, "settled", "blocked", "pending_payment", "changed", "partly_paid"]


def test_paying_the_letters_total_with_its_remittance_settles_every_claim_of_the_notice(tmp_path: Path) -> None:
    """End to end: book a dunning week, then a nightly with (a) exactly the letter's total quoting exactly
    the GiroCode's remittance (main + fee Kassenzeichen) and (b) only the principal quoting only the main
    Kassenzeichen: (a) settles the main claim and its fee claims, nothing unresolved; (b) books to the
    main claim, its fees stay open."""
    from ledger.state import current_open_items, current_unresolved

    cfg = tenant(tmp_path)
    first_night(cfg)
    run_id = prepare_and_release(cfg)
    booked = run_dunning(cfg, AS_OF, user="anna")
    assert booked.status == "booked"
    notices = q(cfg, "SELECT debtor_id, total_cents, remittance FROM dunning_notices ORDER BY debtor_id")
    if shutil.which("pdftotext"):
        draft = _pdf_text(Path(read_dunning_published(cfg.state_dir, "stadt").runs["sample_pdf"][0]))
        final = _pdf_text(Path(booked.paths["letters.pdf"]))
        assert run_id in str(read_dunning_published(cfg.state_dir, "stadt").runs["sample_pdf"][0])
        assert draft.count(DRAFT_MARK) >= 3 and DRAFT_MARK not in final      # every draft page, no final one
        assert "Kassenzeichen 9" not in draft                                   # no fee numbers before booking
        fee_lines = [ln for ln in final.splitlines() if "Mahngebühr, Säumniszuschläge, Zinsen: Kassenzeichen" in ln]
        assert len(fee_lines) == 3
    fee_kz = q(cfg, "SELECT DISTINCT parent_receivable_id, kz_norm FROM claims ORDER BY 1")
    fee_of = dict(zip(fee_kz["parent_receivable_id"], fee_kz["kz_norm"], strict=True))
    total0, remit0 = notices.row(0)[1:]
    assert total0 == 15000 + 300 + 700
    assert remit0 == f"{K[0]} {fee_of['R0']}"                          # the main claim's first, then the fees'
    # the final letters carry it: in the print run's GiroCode payloads and the letter text
    from outputs.dunning_letters import epc_payload

    payload = epc_payload(name="Stadtkasse", iban=ACCOUNT, amount_cents=total0, remittance=remit0)
    assert payload.endswith(remit0)

    write_mt940(cfg.inbox / "sparkasse_1117.sta", day=date(2026, 11, 17), seq=2, opening=99650,
                entries=[Entry(total0, remit0, name="Schuldner R0", iban="DE44500105175407324931"),
                         Entry(9900, f"{K[1]}", name="Schuldner R1", iban="DE27100777770209299700")])
    night.run_night(cfg, date(2026, 11, 17))
    con = connect(cfg.ledger)
    try:
        open_now = current_open_items(con, "stadt").filter(pl.col("amount_cents") > 0)
        unresolved = current_unresolved(con, "stadt")
        alloc = fetch(con, "SELECT receivable_id, amount_cents FROM allocations ORDER BY 1")
    finally:
        con.close()
    still = set(open_now["receivable_id"])
    r0_fees = q(cfg, "SELECT receivable_id FROM claims WHERE parent_receivable_id = 'R0'")["receivable_id"].to_list()
    r1_fees = q(cfg, "SELECT receivable_id FROM claims WHERE parent_receivable_id = 'R1'")["receivable_id"].to_list()
    assert len(r0_fees) == 2 and not still & {"R0", *r0_fees}           # (a) every claim of the notice settled
    assert unresolved.height == 0                                       # nothing in the Klärungsliste
    paid = dict(zip(alloc["receivable_id"], alloc["amount_cents"], strict=True))
    assert paid["R0"] == 15000 and sum(paid[r] for r in r0_fees) == 1000
    assert paid["R1"] == 9900 and "R1" not in still                     # (b) the principal to the main claim
    assert set(r1_fees) <= still and not set(r1_fees) & set(paid)       # its fees stay open


def _pdf_text(path: Path) -> str:
    return subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True, check=True,
                          text=True).stdout


def night_with_an_instalment(cfg: TenantConfig) -> None:
    """As :func:`first_night`, and debtor D-R0 pays 50 € on R0 on Monday 16 Nov (its first instalment)."""
    write_open_items(cfg.inbox / "export_1116.csv", [("R0", K[0], 15000), ("R1", K[1], 9900), ("R2", K[2], 5000)],
                     due=DUE)
    write_mt940(cfg.inbox / "sparkasse_1116.sta", day=D1, seq=1, opening=100000,
                entries=[Entry(-350, "Kontofuehrung"), Entry(5000, f"KZ {K[0]} Rate 1", name="Schuldner R0")])
    night.run_night(cfg, D1)


def plans_csv(cfg: TenantConfig, first_due: str, *, name: str = "instalment_plans.csv") -> Path:
    path = cfg.tenant_dir / name
    path.write_text("plan_id;debtor_id;receivable_ids;agreed_on;first_due;n_instalments;amount_cents\n"
                    f"P1;D-R0;;2026-11-01;{first_due};3;5000\n", encoding="utf-8")
    return path


def test_a_debtor_paying_instalments_on_time_is_blocked_and_counted(tmp_path: Path) -> None:
    cfg = tenant(tmp_path)
    night_with_an_instalment(cfg)
    plans_csv(cfg, "2026-11-16")                                      # instalment 1 due 16 Nov, paid that day
    out = run_dunning(cfg, AS_OF, user="anna")
    assert out.counts["plans"] == {"on_time": 1}
    assert out.counts["blocked"] == {"RATENZAHLUNG": 1} and out.counts["n_notices"] == 2
    skipped = pl.read_parquet(Path(out.paths["run_folder"]) / "skipped_prepare.parquet")
    assert skipped.select("receivable_id", "reason", "block_reason").rows() == [("R0", "blocked", "RATENZAHLUNG")]
    release(cfg, out.run_id or "", user="sven", role="supervisor")
    booked = run_dunning(cfg, AS_OF, user="anna")
    assert booked.status == "booked" and booked.counts["plans"] == {"on_time": 1}
    assert sorted(q(cfg, "SELECT debtor_id FROM dunning_notices")["debtor_id"]) == ["D-R1", "D-R2"]


def test_after_a_missed_instalment_the_claims_are_dunned_with_surcharges_from_their_due_date(tmp_path: Path) -> None:
    cfg = tenant(tmp_path)
    night_with_an_instalment(cfg)
    plans_csv(cfg, "2026-11-02")            # due 2 Nov, grace to 9 Nov: the payment of 16 Nov came too late
    out = run_dunning(cfg, AS_OF, user="anna")
    assert out.counts["plans"] == {"missed": 1} and out.counts["blocked"] == {} and out.counts["n_notices"] == 3
    sel = pl.read_parquet(Path(out.paths["run_folder"]) / "selected_prepare.parquet").filter(pl.col("receivable_id") == "R0")
    # due 1 Oct: month 1 (2 Oct–1 Nov) on 150 €, month 2 (from 2 Nov) on 100 € open + 50 € paid in it = 150 €
    assert sel.select("open_cents", "surcharge_months", "saeumniszuschlag_cents", "mahngebuehr_cents").rows() == [
        (10000, 2, 150 + 150, 650)]


def test_a_bad_plans_file_refuses_the_run_naming_file_and_line(tmp_path: Path) -> None:
    cfg = tenant(tmp_path)
    first_night(cfg)
    path = plans_csv(cfg, "2026-13-01")
    with pytest.raises(DunningRefused, match=rf"{path.name}, line 2: first_due is not a date"):
        run_dunning(cfg, AS_OF, user="anna")
    assert read_record(cfg, week_key(AS_OF)) is None
    # the configured path, relative to the tenant folder (the bad default file is then not read)
    (tmp_path / "kasse.toml").write_text(f'[tenant]\nid = "stadt"\n[[accounts]]\niban = "{ACCOUNT}"\n'
                                         '[dunning]\ninstalment_plans = "raten/plaene.csv"\n', encoding="utf-8")
    cfg2 = load_tenant_config(tmp_path / "kasse.toml")
    (cfg2.tenant_dir / "raten").mkdir()
    plans_csv(cfg2, "2026-12-01", name="raten/plaene.csv")            # nothing due yet: on time
    out = run_dunning(cfg2, AS_OF, user="anna")
    assert out.counts["plans"] == {"on_time": 1} and out.counts["blocked"] == {"RATENZAHLUNG": 1}


def test_the_booking_writes_the_key_figures_into_the_report_folder(tmp_path: Path) -> None:
    (tmp_path / "kasse.toml").write_text(f'[tenant]\nid = "stadt"\ninhabitants = 60000\n[[accounts]]\n'
                                         f'iban = "{ACCOUNT}"\n', encoding="utf-8")
    cfg = load_tenant_config(tmp_path / "kasse.toml")
    first_night(cfg)
    prepare_and_release(cfg)
    booked = run_dunning(cfg, AS_OF, user="anna")
    folder = cfg.reports / "stadt" / "2026-11-18" / "dunning" / "kennzahlen"
    names = {"mahnkennzahlen.csv", "mahnkennzahlen_kohorten.csv", "mahnkennzahlen_altersstruktur.csv",
             "mahnkennzahlen_forderungsarten.csv", "mahnkennzahlen_vergleich.csv", "mahnkennzahlen.html",
             "manifest.json"}
    assert names <= {p.name for p in folder.iterdir()}
    assert booked.paths["kennzahlen/mahnkennzahlen.csv"] == str(folder / "mahnkennzahlen.csv")
    lines = (folder / "mahnkennzahlen.csv").read_text(encoding="utf-8-sig").splitlines()
    row = {ln.split(";")[0]: ln.split(";") for ln in lines[1:]}
    # 3 Mahnungen ÷ 60,000 inhabitants × 10,000 = 0.5 (numerator 3, denominator the inhabitants)
    assert row["Mahnungen je 10.000 Einwohner"][1:5] == ["0,5", "je 10.000 Einwohner", "3", "60000"]
    # the main claims due in the period were all dunned (the fee claims are no main claims): 3 of 3, 299 €
    assert row["Mahnquote (Anzahl)"][1:5] == ["100,0", "%", "3", "3"]
    assert row["Mahnquote (Summe)"][3:5] == ["29900", "29900"]
    from dunning.key_figures import dunning_key_figures

    assert json.loads((folder / "manifest.json").read_text(encoding="utf-8"))["as_of"] == "2026-11-18"
    con = connect(cfg.ledger)
    try:
        from ledger.dunning_state import booked_notices, figure_inputs

        notices, items = booked_notices(con, "stadt")
        claims, allocations = figure_inputs(con, "stadt")
    finally:
        con.close()
    # the six fee claims count as claims, not as main claims: the Mahnquote is 3 of 3
    assert claims.height == 9 and set(claims.filter(pl.col("claim_type") == "GRUNDSTEUER")["receivable_id"]) == {
        "R0", "R1", "R2"}
    got = dunning_key_figures(notices, items, claims, allocations, as_of=AS_OF, inhabitants=60000)["figures"]
    values = dict(zip(got["figure"], got["value"], strict=True))
    assert values["mahnungen_je_10000_einwohner"] == 0.5 and values["mahnquote_anzahl"] == 100.0


def _two_letters(cfg: TenantConfig, *, pay_first_fee: int = 0) -> tuple[pl.DataFrame, int]:
    """Week 47: the Mahnung booked (R0: Mahngebühr 7 €, Säumniszuschlag 3 € under the notice's fee
    Kassenzeichen); optionally a night on Tue 17 Nov with ``pay_first_fee`` cents quoting only that fee
    Kassenzeichen; every booking day up to 30 Nov closed; week 49 (Wed 2 Dec, after the interval): the
    Vollstreckungsankündigung booked. Returns the second week's booked notice rows and the statement's
    closing balance."""
    first_night(cfg)
    prepare_and_release(cfg)
    assert run_dunning(cfg, AS_OF, user="anna").status == "booked"
    balance, closed = 99650, [date(2026, 11, d) for d in (17, 18, 19, 20, 23, 24, 25, 26, 27, 30)]
    if pay_first_fee:
        fee_kz = q(cfg, "SELECT DISTINCT kz_norm FROM claims WHERE parent_receivable_id = 'R0'")["kz_norm"][0]
        balance = write_mt940(cfg.inbox / "sparkasse_1117.sta", day=date(2026, 11, 17), seq=2, opening=balance,
                              entries=[Entry(pay_first_fee, f"Mahngebuehr {fee_kz}", name="Schuldner R0",
                                             iban="DE44500105175407324931")])
        night.run_night(cfg, date(2026, 11, 17))
        closed = closed[1:]
    close_days(cfg, closed)
    week2 = date(2026, 12, 2)
    run_id = prepare_and_release(cfg, week2)
    assert run_dunning(cfg, week2, user="anna").status == "booked"
    second = q(cfg, f"SELECT * FROM dunning_notices WHERE run_id = '{run_id}' ORDER BY debtor_id")
    assert second["level"].to_list() == ["vollstreckungsankuendigung"] * 3
    return second, balance


def test_a_later_letter_asks_for_every_open_fee_and_its_total_settles_all_claims(tmp_path: Path) -> None:
    """The second letter (Vollstreckungsankündigung) shows what is owed: the principal, the Mahngebühr of
    the first letter (still open), the Säumniszuschlag of both weeks; its remittance quotes the main
    Kassenzeichen and BOTH fee Kassenzeichen. One payment of exactly its total with its remittance settles
    the main claim and every fee claim of both weeks, nothing in the Klärungsliste."""
    from ledger.state import current_open_items, current_unresolved

    cfg = tenant(tmp_path)
    second, balance = _two_letters(cfg)
    fees = q(cfg, "SELECT receivable_id, kz_norm, claim_type, amount_cents FROM claims WHERE parent_receivable_id = "
                  "'R0' ORDER BY created_at, receivable_id")
    kz_w47, kz_w49 = fees["kz_norm"][0], fees["kz_norm"][-1]
    assert kz_w47 != kz_w49 and fees["amount_cents"].to_list() == [700, 300, 150]
    r0 = second.row(0, named=True)
    assert (r0["open_cents"], r0["mahngebuehr_cents"], r0["saeumniszuschlag_cents"]) == (15000, 700, 450)
    assert r0["total_cents"] == 15000 + 700 + 300 + 150
    assert r0["remittance"] == f"{K[0]} {kz_w47} {kz_w49}"           # main, then the fee numbers in order
    items = q(cfg, "SELECT n.week, i.mahngebuehr_cents, i.saeumniszuschlag_cents, i.saeumniszuschlag_booked_cents "
                   "FROM dunning_notice_items i JOIN dunning_notices n USING (run_id, notice_id) "
                   "WHERE i.receivable_id = 'R0' ORDER BY 1")
    assert items.rows() == [("2026-W47", 700, 300, 300), ("2026-W49", 700, 450, 150)]
    if shutil.which("pdftotext"):
        letters = sorted((cfg.reports / "stadt" / "2026-12-02" / "dunning").glob("letters.pdf"))
        text = _pdf_text(letters[0])
        assert f"Mahngebühr, Säumniszuschläge, Zinsen: Kassenzeichen {kz_w47}, {kz_w49}" in text
        assert "aus früheren Schreiben noch offen: 10,00 €" in text    # R0: 7 € + 3 € of the Mahnung
        assert "161,50 €" in text
        # the releaser's DRAFT of that week asks for the same (the new fee number exists only once booked)
        draft = _pdf_text(next((cfg.runs_dir / second["run_id"][0] / "draft").glob("*.pdf")))
        assert DRAFT_MARK in draft and "161,50 €" in draft and f"Kassenzeichen {kz_w47}" in draft
        assert "aus früheren Schreiben noch offen: 10,00 €" in draft and kz_w49 not in draft

    write_mt940(cfg.inbox / "sparkasse_1203.sta", day=date(2026, 12, 3), seq=3, opening=balance,
                entries=[Entry(r0["total_cents"], r0["remittance"], name="Schuldner R0", iban="DE44500105175407324931")])
    night.run_night(cfg, date(2026, 12, 3))
    con = connect(cfg.ledger)
    try:
        still = set(current_open_items(con, "stadt").filter(pl.col("amount_cents") > 0)["receivable_id"])
        unresolved = current_unresolved(con, "stadt")
        alloc = fetch(con, "SELECT receivable_id, sum(amount_cents) AS cents FROM allocations GROUP BY 1 ORDER BY 1")
    finally:
        con.close()
    assert unresolved.height == 0                                       # nothing in the Klärungsliste
    assert not still & {"R0", *fees["receivable_id"]}                  # the main claim and all its fees
    paid = dict(zip(alloc["receivable_id"], alloc["cents"], strict=True))
    assert paid == {"R0": 15000, **dict(zip(fees["receivable_id"], fees["amount_cents"], strict=True))}


def test_a_partly_paid_earlier_fee_lowers_the_later_letters_total(tmp_path: Path) -> None:
    """5 € paid on the Mahnung's fee Kassenzeichen before the second letter: that letter asks for 5 € less
    (the Mahngebühr's open rest), quotes both fee Kassenzeichen, and its total with its remittance settles
    everything."""
    from ledger.state import current_open_items, current_unresolved

    cfg = tenant(tmp_path)
    second, balance = _two_letters(cfg, pay_first_fee=500)
    first_paid = q(cfg, "SELECT a.receivable_id, c.claim_type, a.amount_cents FROM allocations a JOIN claims c "
                        "USING (receivable_id) ORDER BY 1")
    assert first_paid.select("claim_type", "amount_cents").rows() == [("MAHNGEBUEHR", 500)]   # § 225 AO order
    r0 = second.row(0, named=True)
    assert (r0["mahngebuehr_cents"], r0["saeumniszuschlag_cents"]) == (200, 450)
    assert r0["total_cents"] == 15000 + 700 + 300 + 150 - 500
    kz = q(cfg, "SELECT DISTINCT kz_norm FROM claims WHERE parent_receivable_id = 'R0' ORDER BY 1")["kz_norm"]
    assert r0["remittance"] == " ".join([K[0], *kz])
    write_mt940(cfg.inbox / "sparkasse_1203.sta", day=date(2026, 12, 3), seq=3, opening=balance,
                entries=[Entry(r0["total_cents"], r0["remittance"], name="Schuldner R0", iban="DE44500105175407324931")])
    night.run_night(cfg, date(2026, 12, 3))
    con = connect(cfg.ledger)
    try:
        still = set(current_open_items(con, "stadt").filter(pl.col("amount_cents") > 0)["receivable_id"])
        unresolved = current_unresolved(con, "stadt")
    finally:
        con.close()
    fee_ids = q(cfg, "SELECT receivable_id FROM claims WHERE parent_receivable_id = 'R0'")["receivable_id"]
    assert unresolved.height == 0 and not still & {"R0", *fee_ids}


def test_owed_is_the_open_principal_and_every_open_fee_claim_by_type() -> None:
    """Literal: R0 (second letter) has the Mahnung's Mahngebühr 7 € partly paid (2 € open) and its
    Säumniszuschlag 3 € open under 900000000028, and 1,50 € Säumniszuschlag booked now under
    900000000036; R1 (first letter) only what is booked now; R2 nothing at all; fees of a claim that is
    not on a notice (R9) are left out."""
    from jobs.dunning.charges import owed

    items = pl.DataFrame({"notice_id": ["N1", "N1", "N2"], "receivable_id": ["R0", "R1", "R2"],
                          "open_cents": [15000, 9900, 5000], "saeumniszuschlag_cents": [450, 100, 0],
                          "mahngebuehr_cents": [0, 649, 0], "interest_cents": [0, 0, 0]})
    open_fees = pl.DataFrame({"receivable_id": ["GEB-900000000028-1", "GEB-900000000028-2", "GEB-900000000010-1"],
                              "parent_receivable_id": ["R0", "R0", "R9"],
                              "claim_type": ["MAHNGEBUEHR", "SAEUMNISZUSCHLAG", "MAHNGEBUEHR"],
                              "kassenzeichen": ["900000000028", "900000000028", "900000000010"],
                              "open_cents": [200, 300, 600]})
    booked = pl.DataFrame({"parent_receivable_id": ["R0", "R1", "R1"],
                           "claim_type": ["SAEUMNISZUSCHLAG", "MAHNGEBUEHR", "SAEUMNISZUSCHLAG"],
                           "kassenzeichen": ["900000000036", "900000000036", "900000000036"],
                           "amount_cents": [150, 649, 100]})
    got, fee_kz = owed(items, open_fees, booked)
    assert got.columns == [*items.columns, "earlier_cents"]
    assert got.select("receivable_id", "open_cents", "saeumniszuschlag_cents", "mahngebuehr_cents", "interest_cents",
                      "earlier_cents").rows() == [("R0", 15000, 450, 200, 0, 500), ("R1", 9900, 100, 649, 0, 0),
                                                  ("R2", 5000, 0, 0, 0, 0)]
    assert fee_kz.rows() == [("N1", "900000000028"), ("N1", "900000000036")]    # once each, in number order


def test_an_instalment_plans_file_that_is_a_link_out_of_the_tenant_folder_is_refused(tmp_path: Path) -> None:
    cfg = tenant(tmp_path)
    first_night(cfg)
    secret = tmp_path / "elsewhere.csv"
    secret.write_text("plan_id;debtor_id\n", encoding="utf-8")
    (cfg.tenant_dir / "instalment_plans.csv").symlink_to(secret)
    before = counts(cfg)
    with pytest.raises(DunningRefused, match="symbolic link"):
        run_dunning(cfg, AS_OF, user="anna")
    assert counts(cfg) == before
