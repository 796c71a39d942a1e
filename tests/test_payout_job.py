"""The payout run over a real ledger: a refund decided on the review page and booked by a night, set off
partly against a due claim of the same debtor, the rest paid by pain.001 (XSD-valid, read back and checked
against the ledger); an unknown payer's refund paid in full; four-eyes release; the same date again and a
later date book nothing twice; a claim paid between prepare and book; a crash at every checkpoint."""

from __future__ import annotations

import hashlib
import json
from datetime import date
from pathlib import Path

import polars as pl
import pytest
from faults import InjectedFailure, fail_at
from nightly_files import ACCOUNT, Entry, kz, write_mt940

import jobs.nightly as night
from claims.config import TenantConfig, load_tenant_config
from collection.pain_read import read_pain
from collection.xsd import validate
from jobs.payout import PayoutRefused, release, run_payout
from jobs.payout.record import read_record
from jobs.payout.steps import STEPS
from ledger.db import connect, fetch, row_counts
from ledger.journal import JournalError, new_decision, record_decision
from ledger.publish import read_published

D1 = date(2026, 11, 16)                   # Monday: the export and the payments
D2 = date(2026, 11, 17)                   # Tuesday: the night that books the refund decisions
TODAY = date(2026, 11, 18)                # the set-off day (the preparation)
EXEC = date(2026, 11, 19)                 # Thursday: the execution date
K = [kz(i) for i in range(5)]
PAYEE = "DE89370400440532013000"
REFUND_IBAN = "DE44500105175407324931"


def tenant(tmp_path: Path, extra: str = "") -> TenantConfig:
    (tmp_path / "kasse.toml").write_text(
        f'[tenant]\nid = "stadt"\nname = "Stadtkasse Musterstadt"\n{extra}'
        f'[[accounts]]\niban = "{ACCOUNT}"\nbic = "BYLADEM1001"\n', encoding="utf-8")
    return load_tenant_config(tmp_path / "kasse.toml")


def export(cfg: TenantConfig, name: str = "export_1116.csv", more: tuple[str, ...] = ()) -> None:
    """Debtor A: R0 150 € (K0) and R3 20 € (K3, Abfall), both due 1 Nov; debtor B: R1 99 € (K1); ``more``
    rows as written."""
    rows = ["receivable_id;kassenzeichen;debtor_id;debtor_name;debtor_iban;claim_type;amount;due_date;debtor_street;"
            "debtor_postcode;debtor_city",
            f"R0;{K[0]};A;Anna Alt;;GRUNDSTEUER;150,00;2026-11-01;Markt 1;33602;Musterstadt",
            f"R3;{K[3]};A;Anna Alt;;ABFALL;20,00;2026-11-01;Markt 1;33602;Musterstadt",
            f"R1;{K[1]};B;Bernd Bau;;GRUNDSTEUER;99,00;2026-11-01;Weg 2;33602;Musterstadt", *more]
    path = cfg.inbox / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")


def nights(cfg: TenantConfig, other_iban: str = PAYEE, more: tuple[str, ...] = (), stranger: str = "Otto Unbekannt"
           ) -> None:
    """Night 1: A pays 200 € naming K0 (50 € over), somebody pays 30 € naming nothing we know. A clerk
    decides both refunds (the second to ``other_iban``); night 2 books them."""
    export(cfg, more=more)
    write_mt940(cfg.inbox / "s1.sta", day=D1, seq=1, opening=0,
                entries=[Entry(20000, f"Grundsteuer KZ {K[0]}", name="Anna Alt", iban=PAYEE),
                         Entry(3000, "Spende Fest", name=stranger, iban="DE27100777770209299700")])
    night.run_night(cfg, D1)
    kl, _, _ = read_published(cfg.state_dir / "published", "stadt")
    assert sorted(kl["unallocated_cents"].to_list()) == [3000, 5000], kl
    for tx, cents in zip(kl["transaction_id"], kl["unallocated_cents"], strict=True):
        record_decision(cfg.state_dir, new_decision("stadt", tx, "refund", user="clara", role="clerk",
                                                    amount_cents=cents, requires_approval=False,
                                                    refund_iban=REFUND_IBAN if cents == 5000 else other_iban))
    write_mt940(cfg.inbox / "s2.sta", day=D2, seq=2, opening=23000, entries=[Entry(-100, "Gebuehr")])
    night.run_night(cfg, D2)
    assert q(cfg, "SELECT count(*) AS n FROM refunds")["n"][0] == 2


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


def open_of(cfg: TenantConfig, rid: str) -> int:
    from ledger.state import current_open_items

    con = connect(cfg.ledger)
    try:
        items = current_open_items(con, "stadt")
    finally:
        con.close()
    return int(items.filter(pl.col("receivable_id") == rid)["amount_cents"][0])


def test_set_off_then_pay_the_rest_released_by_a_second_person_and_never_twice(tmp_path: Path) -> None:
    cfg = tenant(tmp_path)
    nights(cfg)
    before = counts(cfg)
    out = run_payout(cfg, EXEC, user="anna", today=TODAY)
    assert out.status == "prepared" and out.run_id
    c = out.counts
    assert (c["n_payouts"], c["total_cents"], c["n_setoffs"], c["setoff_cents"], c["n_letters"]) == (2, 3000 + 3000, 1,
                                                                                                     2000, 1)
    assert c["no_setoff"] == {"unknown_payer": 1}
    assert counts(cfg) == before and not (cfg.tenant_dir / "outbox").exists()      # nothing booked, nothing sent
    prepared = Path(out.paths[c["files"][0]["file_name"]])
    assert validate(prepared) == "pain.001.001.09"
    letters = pl.read_parquet(Path(out.paths["run_folder"]) / "letters_prepare.parquet")
    assert letters.select("debtor_id", "debtor_name", "debtor_city", "credit_cents", "setoff_cents", "payout_cents",
                          "payee_iban", "source_transaction_date").rows() == [
        ("A", "Anna Alt", "Musterstadt", 5000, 2000, 3000, REFUND_IBAN, D1)]
    lines = pl.read_parquet(Path(out.paths["run_folder"]) / "lines_prepare.parquet")
    assert lines.select("receivable_id", "kassenzeichen", "open_before_cents", "setoff_cents", "open_after_cents"
                        ).rows() == [("R3", K[3], 2000, 2000, 0)]

    assert run_payout(cfg, EXEC, user="anna", today=TODAY).status == "prepared"     # no release yet: shown again
    with pytest.raises(JournalError, match="four-eyes"):
        release(cfg, out.run_id, user="anna", role="supervisor")
    with pytest.raises(JournalError, match="supervisor"):
        release(cfg, out.run_id, user="ben", role="clerk")
    assert release(cfg, out.run_id, user="sven", role="supervisor").kind == "payout_release"

    booked = run_payout(cfg, EXEC, user="anna", today=TODAY)
    assert (booked.status, booked.run_id) == ("booked", out.run_id)
    pay = q(cfg, "SELECT p.*, r.amount_cents AS refund_cents, r.refund_iban FROM payouts p "
                 "JOIN refunds r ON r.decision_id = p.source_id ORDER BY p.amount_cents, p.debtor_id")
    assert pay.select("source", "debtor_id", "amount_cents", "payee_iban", "payee_name", "prepared_by", "released_by",
                      "execution_date").rows() == [
        ("refund", "A", 3000, REFUND_IBAN, "Anna Alt", "anna", "sven", EXEC),
        ("refund", None, 3000, PAYEE, "Otto Unbekannt", "anna", "sven", EXEC)]
    assert (pay["payee_iban"] == pay["refund_iban"]).all()
    so = q(cfg, "SELECT * FROM setoffs")
    assert so.select("debtor_id", "receivable_id", "kassenzeichen", "claim_type", "amount_cents", "set_off_on").rows() == [
        ("A", "R3", K[3], "ABFALL", 2000, TODAY)]
    assert so["source_id"][0] == pay.filter(pl.col("debtor_id") == "A")["source_id"][0]
    al = q(cfg, "SELECT transaction_id, receivable_id, amount_cents, rule, run_id FROM allocations WHERE rule = 'set_off'")
    assert al.select("receivable_id", "amount_cents", "run_id").rows() == [("R3", 2000, out.run_id)]
    assert al["transaction_id"][0] == so["transaction_id"][0]
    assert open_of(cfg, "R3") == 0 and open_of(cfg, "R0") == 0                 # the set-off settled R3

    # our own pain.001, read back: every amount and id is the ledger's
    sent = cfg.tenant_dir / "outbox" / c["files"][0]["file_name"]
    assert sent.read_bytes() == prepared.read_bytes()                          # nothing changed since: the same bytes
    rows = read_pain(sent)
    assert sorted(zip(rows["end_to_end_id"], rows["amount_cents"], rows["party_iban"], rows["party_name"],
                      rows["remittance"], strict=True)) == sorted(
        zip(pay["end_to_end_id"], pay["amount_cents"], pay["payee_iban"], pay["payee_name"], pay["remittance"],
            strict=True))
    assert set(rows["payment_info_id"]) == set(pay["pmtinf_id"]) and set(rows["requested_date"]) == {EXEC}
    assert pay.filter(pl.col("debtor_id") == "A")["remittance"][0] == f"Erstattung Kassenzeichen {K[0]} abzgl. Verrechnung"
    assert pay.filter(pl.col("debtor_id").is_null())["remittance"][0] == "Erstattung Zahlung vom 16.11.2026"
    manifest = json.loads(next((cfg.tenant_dir / "outbox").glob("*.manifest.json")).read_text(encoding="utf-8"))
    assert manifest["count"] == 2 and manifest["control_sum_cents"] == 6000
    assert manifest["files"][0]["sha256"] == hashlib.sha256(sent.read_bytes()).hexdigest() == pay["file_sha256"][0]
    assert read_record(cfg, EXEC).stage == "done"  # type: ignore[union-attr]

    after = counts(cfg)
    assert run_payout(cfg, EXEC, user="anna", today=TODAY).status == "nothing_to_do"
    later = run_payout(cfg, date(2026, 11, 20), user="anna", today=date(2026, 11, 19))
    assert later.status == "nothing_to_do" and later.counts["skipped"] == {"already_paid": 2}
    assert counts(cfg) == after                                                # a refund is never paid twice
    # the night of the execution date: the set-off stands, nothing comes back on the Klärungsliste
    write_mt940(cfg.inbox / "s3.sta", day=EXEC, seq=3, opening=22900, entries=[Entry(-6000, "Erstattungen")])
    night.run_night(cfg, EXEC)
    kl, _, _ = read_published(cfg.state_dir / "published", "stadt")
    assert kl.filter(pl.col("amount_cents") > 0).is_empty() and open_of(cfg, "R3") == 0


def test_a_claim_paid_between_prepare_and_book_drops_that_debtor_and_keeps_the_rest(tmp_path: Path) -> None:
    cfg = tenant(tmp_path)
    nights(cfg)
    out = run_payout(cfg, EXEC, user="anna", today=TODAY)
    # R3 is paid by a transfer before the booking: the set-off prepared against it is stale
    write_mt940(cfg.inbox / "s3.sta", day=TODAY, seq=3, opening=22900,
                entries=[Entry(2000, f"Abfall KZ {K[3]}", name="Anna Alt", iban=PAYEE)])
    night.run_night(cfg, TODAY)
    release(cfg, out.run_id, user="sven", role="supervisor")
    booked = run_payout(cfg, EXEC, user="anna", today=TODAY)
    assert booked.status == "booked" and booked.counts["dropped"] == {"changed": 1}
    assert q(cfg, "SELECT debtor_id, amount_cents FROM payouts").rows() == [(None, 3000)]
    assert q(cfg, "SELECT count(*) AS n FROM setoffs")["n"][0] == 0
    rows = read_pain(cfg.tenant_dir / "outbox" / booked.counts["files"][0]["file_name"])
    assert rows["amount_cents"].to_list() == [3000]
    # the next run pays A's refund in full: nothing of theirs is due any more
    nxt = run_payout(cfg, date(2026, 11, 20), user="anna", today=date(2026, 11, 19))
    assert nxt.counts["n_payouts"] == 1 and nxt.counts["total_cents"] == 5000 and nxt.counts["n_setoffs"] == 0


def test_an_invalid_refund_iban_is_never_paid_and_no_account_refuses(tmp_path: Path) -> None:
    cfg = tenant(tmp_path, '[payout]\nsetoff = false\n')
    nights(cfg, other_iban="DE00370400440532013000")                      # a check digit wrong
    out = run_payout(cfg, EXEC, user="anna", today=TODAY)
    assert out.counts["skipped"] == {"iban_invalid": 1}
    assert (out.counts["n_payouts"], out.counts["total_cents"], out.counts["n_setoffs"]) == (1, 5000, 0)
    bare = tmp_path / "bare"
    (bare / "x" / "inbox").mkdir(parents=True)
    (bare / "kasse.toml").write_text('[tenant]\nid = "x"\n', encoding="utf-8")
    cfg2 = load_tenant_config(bare / "kasse.toml")
    night.run_night(cfg2, D1)
    with pytest.raises(PayoutRefused, match="no account"):
        run_payout(cfg2, EXEC, user="anna", today=TODAY)
    with pytest.raises(PayoutRefused, match="TARGET2"):
        run_payout(cfg, date(2026, 12, 25), user="anna", today=TODAY)         # Christmas: the ECB is closed


def test_the_old_pain001_version_for_old_bank_connections(tmp_path: Path) -> None:
    cfg = tenant(tmp_path, '[payout]\npain001_version = "001.001.03"\n')
    nights(cfg)
    out = run_payout(cfg, EXEC, user="anna", today=TODAY)
    path = Path(out.paths[out.counts["files"][0]["file_name"]])
    assert validate(path) == "pain.001.001.03"
    assert sorted(read_pain(path)["amount_cents"].to_list()) == [3000, 3000]


@pytest.mark.parametrize("point", ["read_ledger", "compute", "reconcile", "stage", "book", "outbox", "done"])
def test_a_crash_at_any_step_of_the_booking_leaves_the_ledger_as_it_was_and_a_rerun_completes(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, point: str) -> None:
    cfg = tenant(tmp_path)
    nights(cfg)
    out = run_payout(cfg, EXEC, user="anna", today=TODAY)
    release(cfg, out.run_id, user="sven", role="supervisor")
    before = counts(cfg)
    fail_at(monkeypatch, point)
    with pytest.raises(InjectedFailure):
        run_payout(cfg, EXEC, user="anna", today=TODAY)
    committed = point in ("outbox", "done")
    if not committed:
        assert counts(cfg) == before                                           # nothing half-booked
    fail_at(monkeypatch, None)
    again = run_payout(cfg, EXEC, user="anna", today=TODAY)
    # a crash after the record says done leaves nothing to do; before, the rerun books (or finishes) the run
    assert (again.status, again.run_id) == ("nothing_to_do" if point == "done" else "booked", out.run_id)
    assert q(cfg, "SELECT count(*) AS n, sum(amount_cents) AS s FROM payouts").rows() == [(2, 6000)]
    assert q(cfg, "SELECT count(*) AS n FROM allocations WHERE rule = 'set_off'")["n"][0] == 1
    assert (cfg.tenant_dir / "outbox" / out.counts["files"][0]["file_name"]).exists()


@pytest.mark.parametrize("point", [name for name, _ in STEPS["prepare"]])
def test_a_crash_while_preparing_books_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, point: str) -> None:
    cfg = tenant(tmp_path)
    nights(cfg)
    before = counts(cfg)
    fail_at(monkeypatch, point)
    with pytest.raises(InjectedFailure):
        run_payout(cfg, EXEC, user="anna", today=TODAY)
    assert counts(cfg) == before
    fail_at(monkeypatch, None)
    assert run_payout(cfg, EXEC, user="anna", today=TODAY).status == "prepared"


def test_the_letters_writer_is_called_with_the_contract_draft_then_final(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """``outputs.setoff_letters`` (another slice) gets the letters and lines frames of the contract: a draft
    when prepared, the final letters when booked. Until it is merged a recording writer stands in."""
    import sys
    import types

    from collection.setoff import LETTER_SCHEMA, LINE_SCHEMA
    from outputs.dunning_letters import Sender, sender_from_config

    calls: list[tuple[list[str], list[str], str, bool]] = []

    def write_setoff_letters(letters: pl.DataFrame, lines: pl.DataFrame, sender: Sender, path: Path, *,
                             draft: bool = False) -> pl.DataFrame:
        calls.append((letters.columns, lines.columns, sender.name, draft))
        path.write_bytes(b"%PDF-1.7\n")
        return pl.DataFrame({"letter_id": letters["letter_id"], "first_page": [1] * letters.height,
                             "pages": [1] * letters.height})

    module = types.ModuleType("outputs.setoff_letters")
    module.write_setoff_letters = write_setoff_letters  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "outputs.setoff_letters", module)
    cfg = tenant(tmp_path)
    nights(cfg)
    out = run_payout(cfg, EXEC, user="anna", today=TODAY)
    assert Path(out.paths["letters_draft"]).exists()
    release(cfg, out.run_id, user="sven", role="supervisor")
    booked = run_payout(cfg, EXEC, user="anna", today=TODAY)
    assert Path(booked.paths["letters"]).exists() and "final" in booked.paths["letters"]
    name = sender_from_config(cfg).name
    assert calls == [(list(LETTER_SCHEMA), list(LINE_SCHEMA), name, True),
                     (list(LETTER_SCHEMA), list(LINE_SCHEMA), name, False)]
    assert q(cfg, "SELECT DISTINCT letter_id FROM setoffs")["letter_id"].to_list() == [f"VM{out.run_id[-8:]}-0001"]


def test_two_dates_prepared_with_the_same_refunds_pay_them_once(tmp_path: Path) -> None:
    """Two runs may be prepared and released for two dates before either is booked; the second booking
    recomputes against the ledger the first left, finds the refunds given and drops them."""
    cfg = tenant(tmp_path)
    nights(cfg)
    first = run_payout(cfg, EXEC, user="anna", today=TODAY)
    second = run_payout(cfg, date(2026, 11, 20), user="anna", today=TODAY)
    assert first.counts["n_payouts"] == second.counts["n_payouts"] == 2
    for out in (first, second):
        release(cfg, out.run_id, user="sven", role="supervisor")
    assert run_payout(cfg, EXEC, user="anna", today=TODAY).status == "booked"
    late = run_payout(cfg, date(2026, 11, 20), user="anna", today=TODAY)
    assert late.status == "booked" and late.counts["n_payouts"] == 0 and late.counts["n_setoffs"] == 0
    assert late.counts["dropped"] == {"already_paid": 2} and late.counts["files"] == []
    assert q(cfg, "SELECT count(*) AS n, sum(amount_cents) AS s FROM payouts").rows() == [(2, 6000)]
    assert q(cfg, "SELECT count(*) AS n FROM setoffs")["n"][0] == 1
    assert len(list((cfg.tenant_dir / "outbox").glob("*.xml"))) == 1


def test_a_refund_set_off_in_full_books_the_set_offs_and_no_transfer(tmp_path: Path) -> None:
    cfg = tenant(tmp_path)
    nights(cfg, more=(f"R4;{K[4]};A;Anna Alt;;KITA;40,00;2026-10-01;Markt 1;33602;Musterstadt",))
    out = run_payout(cfg, EXEC, user="anna", today=TODAY)
    c = out.counts
    assert (c["n_payouts"], c["total_cents"], c["n_setoffs"], c["setoff_cents"]) == (1, 3000, 2, 5000)
    assert c["skipped"] == {"set_off_in_full": 1}
    letters = pl.read_parquet(Path(out.paths["run_folder"]) / "letters_prepare.parquet")
    assert letters.select("credit_cents", "setoff_cents", "payout_cents", "payee_iban").rows() == [(5000, 5000, 0, None)]
    release(cfg, out.run_id, user="sven", role="supervisor")
    assert run_payout(cfg, EXEC, user="anna", today=TODAY).status == "booked"
    # R4 (due in October) first, then R3 with what is left: 40 € + 10 €
    assert q(cfg, "SELECT receivable_id, amount_cents FROM setoffs ORDER BY 1").rows() == [("R3", 1000), ("R4", 4000)]
    assert open_of(cfg, "R4") == 0 and open_of(cfg, "R3") == 1000
    assert q(cfg, "SELECT debtor_id, amount_cents FROM payouts").rows() == [(None, 3000)]


def test_a_payee_name_outside_the_sepa_set_is_converted_and_reported_not_left_unpaid(tmp_path: Path) -> None:
    cfg = tenant(tmp_path, '[payout]\nsetoff = false\n')
    nights(cfg, stranger="Zoë Brontë")
    out = run_payout(cfg, EXEC, user="anna", today=TODAY)
    assert out.counts["skipped"] == {} and out.counts["n_payouts"] == 2 and out.counts["names_converted"] == 1
    rows = read_pain(Path(out.paths[out.counts["files"][0]["file_name"]]))
    assert "Zoe Bronte" in rows["party_name"].to_list()
    release(cfg, out.run_id, user="sven", role="supervisor")
    assert run_payout(cfg, EXEC, user="anna", today=TODAY).status == "booked"
    ev = q(cfg, "SELECT detail FROM audit_events WHERE event = 'payout.name_converted'")
    assert [json.loads(d) for d in ev["detail"]] == [{"original": "Zoë Brontë", "sent": "Zoe Bronte"}]
    assert q(cfg, "SELECT payee_name FROM payouts ORDER BY 1")["payee_name"].to_list() == ["Anna Alt", "Zoe Bronte"]
