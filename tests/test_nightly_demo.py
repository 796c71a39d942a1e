"""`kasse demo` over a small generated municipality (plain steps; the Prefect flow has its own test)."""

from __future__ import annotations

from datetime import date, timedelta
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
    demo_users_log_in_on_the_review_page(out, printed)
    for day in ("2026-11-16", "2026-11-17"):
        assert (out / "musterstadt" / day / "day_close.pdf").read_bytes().startswith(b"%PDF")
        assert (out / "musterstadt" / day / "klaerungsliste.xlsx").exists()
    con = connect(out / "kasse.duckdb", read_only=True)
    closes = fetch(con, "SELECT booking_date, status, difference_cents FROM day_closes WHERE kind = 'close'")
    con.close()
    # two accounts: two days, the collection day, the refund night, the payout day, the recall and outcomes
    # nights, the Amtshilfe delivery and payment nights
    assert closes.height == 18
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
    collection_day_was_booked_and_came_back(out, printed)
    payout_day_was_booked_and_came_back(out, printed)
    enforcement_days_were_booked(out, printed)
    amtshilfe_nights_were_booked(out, printed)
    # a second demo recreates its own folder, but never a folder it did not make
    prepare(samples, out)
    assert sorted(p.name for p in out.iterdir()) == [".kasse-demo", "kasse.toml"]
    other = tmp_path / "mine"
    other.mkdir()
    (other / "keep.txt").write_text("x", encoding="utf-8")
    assert main(["demo", "--samples", str(samples), "--out", str(other), "--no-prefect"]) == 2
    assert (other / "keep.txt").exists()


def enforcement_days_were_booked(out: Path, printed: str) -> None:
    """The hand-off released by a second person, the recall the same night, the office's outcomes imported."""
    con = connect(out / "kasse.duckdb", read_only=True)
    try:
        cases = fetch(con, "SELECT prepared_by, released_by, count(*) AS n FROM enforcement_cases GROUP BY ALL")
        updates = fetch(con, "SELECT kind, count(*) AS n FROM enforcement_updates GROUP BY ALL ORDER BY 1")
        outcomes = fetch(con, "SELECT outcome, state FROM enforcement_outcomes ORDER BY 1")
        fees = fetch(con, "SELECT count(*) AS n FROM enforcement_outcome_fees WHERE fee_receivable_id IS NOT NULL")
    finally:
        con.close()
    assert cases.select("prepared_by", "released_by").rows() == [("kasse-demo", "aufsicht")] and cases["n"][0] >= 4
    assert updates.rows() == [("partial_payment", 1), ("suspended", 1)]
    assert outcomes.rows() == [("instalments", "booked"), ("uncollectible", "booked")] and fees["n"][0] == 2
    assert "hand-off batch:" in printed and "updates (recall):" in printed
    (handoff,) = (out / "files" / "musterstadt" / "outbox" / "enforcement").glob("handoff_*/handoff.xml")
    assert handoff.read_bytes().startswith(b"<?xml")


def amtshilfe_nights_were_booked(out: Path, printed: str) -> None:
    """The synth delivery through the inbox (bad records reported, answers written), then a payment quoting
    a case number booked on the case's claims."""
    from amtshilfe.xml_format import read_answers
    from flows.demo_amtshilfe import BAD_EVERY, N_MESSAGES, SEED
    from synth.amtshilfe_data import delivery, requests_xml, with_bad_records

    _, broken = with_bad_records(requests_xml(delivery(N_MESSAGES, SEED)), "xml", every=BAD_EVERY)
    con = connect(out / "kasse.duckdb", read_only=True)
    try:
        events = dict(fetch(con, "SELECT outcome, count(*) FROM amtshilfe_events WHERE file_sha256 IS NOT NULL "
                                 "GROUP BY ALL").rows())                     # the messages received
        settled = fetch(con, "SELECT count(*) AS n FROM amtshilfe_events WHERE kind = 'settled'")["n"][0]
        closed = fetch(con, "SELECT count(*) AS n FROM amtshilfe_events WHERE \"check\" = 'source_closed'")["n"][0]
        rejected = fetch(con, "SELECT count(*) AS n FROM issues WHERE code = 'amtshilfe.record_rejected'")["n"][0]
        case = fetch(con, "SELECT case_number, total_cents FROM amtshilfe_requests WHERE state = 'accepted' "
                          "ORDER BY seq LIMIT 1")
        booked = fetch(con, "SELECT sum(amount_cents) AS c, any_value(\"rule\") AS r FROM allocations "
                            "WHERE kassenzeichen = $1", [case["case_number"][0]])
    finally:
        con.close()
    # every message read is answered; the broken records are issues, not messages
    assert sum(events.values()) == N_MESSAGES - broken.height and rejected == broken.height > 0
    assert events["accepted"] > 0 and events["returned"] > 0 and closed > 0   # Beitragsservice after the cut-off
    assert settled == 1                                 # the case paid in full the next night is settled
    answers = sorted((out / "files" / "musterstadt" / "outbox" / "amtshilfe").glob("*.xml"))
    assert answers and all(read_answers(p.read_bytes()).rejected.height == 0 for p in answers)
    assert booked.row(0) == (case["total_cents"][0], "reference.exact")
    assert "Amtshilfe night" in printed and "records rejected by the reader: 3" in printed
    assert f"booked on case {case['case_number'][0]}" in printed and "Amtshilfe answers:" in printed


def collection_day_was_booked_and_came_back(out: Path, printed: str) -> None:
    """The collection day: one XSD-valid pain.008 file and its manifest in the outbox, prepared by kasse-demo
    and released by aufsicht; the next day's night books N-2 claims paid by direct debit, reopens two with
    their original due dates, charges two return fees; the AC04 mandate is blocked, the MS03 claim retried."""
    import json

    import polars as pl

    from claims.config import load_tenant_config
    from collection.xsd import validate
    from jobs.collect import run_collect
    from ledger.state import current_open_items

    outbox = out / "files" / "musterstadt" / "outbox"
    (pain,) = outbox.glob("pain008_*.xml")
    validate(pain, "pain.008.001.08")
    (manifest,) = outbox.glob("pain008_*.manifest.json")
    assert json.loads(manifest.read_text(encoding="utf-8"))["files"][0]["file_name"] == pain.name
    assert "batch credit" in printed and "→ block_mandate" in printed and "→ retry_once" in printed
    con = connect(out / "kasse.duckdb", read_only=True)
    try:
        col = fetch(con, "SELECT receivable_id, amount_cents, due_date, collection_date, mandate_id, prepared_by, "
                         "released_by FROM collections")
        day = col["collection_date"][0]
        paid = fetch(con, "SELECT rule, receivable_id, amount_cents FROM allocations WHERE booking_date = ? "
                          "AND rule IN ('direct_debit', 'dd_return')", [day])
        back = fetch(con, "SELECT receivable_id, reason_code FROM collection_returns ORDER BY reason_code")
        fees = fetch(con, "SELECT parent_receivable_id, amount_cents FROM claims WHERE receivable_id LIKE '%-RLS-%'")
        now = current_open_items(con, "musterstadt")
    finally:
        con.close()
    n = col.height
    assert n >= 3 and set(col["prepared_by"]) == {"kasse-demo"} and set(col["released_by"]) == {"aufsicht"}
    assert set(col["collection_date"]) == {day} and (out / "musterstadt" / str(day) / "day_close.pdf").exists()
    net = paid.group_by("receivable_id").agg(pl.col("amount_cents").sum())
    assert paid.filter(pl.col("rule") == "direct_debit").height == n
    assert back["reason_code"].to_list() == ["AC04", "MS03"]
    returned = set(back["receivable_id"])
    assert net.filter(pl.col("amount_cents") == 0)["receivable_id"].sort().to_list() == sorted(returned)
    assert net.filter(pl.col("amount_cents") > 0).height == n - 2
    # the two are open again for their collected amount, with their original due dates
    reopened = now.filter(pl.col("receivable_id").is_in(list(returned))).join(
        col.select("receivable_id", pl.col("amount_cents").alias("collected"), pl.col("due_date").alias("orig")),
        on="receivable_id")
    assert reopened.height == 2
    assert (reopened["amount_cents"] == reopened["collected"]).all() and (reopened["due_date"] == reopened["orig"]).all()
    assert sorted(fees["parent_receivable_id"]) == sorted(returned) and set(fees["amount_cents"]) == {300}
    (claims_file,) = (out / "musterstadt" / str(day) / "hkr").glob("hkr_claims_*.csv")
    assert claims_file.read_text(encoding="utf-8-sig").count("-RLS-") == 2
    # the next collection: the AC04 mandate is blocked, the MS03 claim is presented once more
    ac04, ms03 = back["receivable_id"].to_list()
    cfg = load_tenant_config(out / "kasse.toml")
    nxt = run_collect(cfg, day + timedelta(days=1), user="kasse-demo")
    folder = Path(nxt.paths["run_folder"])
    selected = pl.read_parquet(folder / "selected_prepare.parquet")
    skipped = pl.read_parquet(folder / "skipped_prepare.parquet")
    assert ms03 in selected["receivable_id"].to_list() and ac04 not in selected["receivable_id"].to_list()
    assert skipped.filter(pl.col("receivable_id") == ac04)["reason"].to_list() == ["mandate_blocked"]


def payout_day_was_booked_and_came_back(out: Path, printed: str) -> None:
    """The payout day: two refunds decided by sachbearbeitung (approved by aufsicht) and booked by a night;
    one set off against the debtor's due claims (a Verrechnungsmitteilung), one paid by an XSD-valid pain.001
    in the outbox (prepared by kasse-demo, released by aufsicht); the bank's debit of that file booked by the
    night of the execution date, nothing of it on the Klärungsliste."""
    import json

    from collection.pain_read import read_pain
    from collection.xsd import validate

    outbox = out / "files" / "musterstadt" / "outbox"
    (pain,) = outbox.glob("pain001_*.xml")
    assert validate(pain) == "pain.001.001.09"
    (manifest,) = outbox.glob("pain001_*.manifest.json")
    assert json.loads(manifest.read_text(encoding="utf-8"))["files"][0]["file_name"] == pain.name
    assert "sachbearbeitung refunds" in printed and "payouts booked by the bank: 1" in printed
    con = connect(out / "kasse.duckdb", read_only=True)
    try:
        refunds = fetch(con, "SELECT decided_by, amount_cents FROM refunds")
        decided = fetch(con, "SELECT decided_by, approved_by FROM clerk_decisions WHERE action = 'refund'")
        pay = fetch(con, "SELECT end_to_end_id, amount_cents, payee_iban, prepared_by, released_by, execution_date "
                         "FROM payouts")
        setoffs = fetch(con, "SELECT amount_cents FROM setoffs")
        bank = fetch(con, "SELECT end_to_end_id, amount_cents, booking_date FROM payout_bookings")
        held = fetch(con, "SELECT count(*) AS n FROM unresolved WHERE booking_date = ?", [pay["execution_date"][0]])
    finally:
        con.close()
    assert refunds.height == 2 and set(refunds["decided_by"]) == {"sachbearbeitung"}
    assert set(decided.rows()) == {("sachbearbeitung", "aufsicht")}
    assert pay.height == 1 and pay.select("prepared_by", "released_by").row(0) == ("kasse-demo", "aufsicht")
    assert setoffs.height >= 1
    (letters,) = [p for p in (out / "state").rglob("final/verrechnung_*.pdf")]
    assert letters.read_bytes().startswith(b"%PDF")
    rows = read_pain(pain)
    assert rows.select("end_to_end_id", "amount_cents", "party_iban").rows() == pay.select(
        "end_to_end_id", "amount_cents", "payee_iban").rows()
    assert bank.rows() == [(pay["end_to_end_id"][0], pay["amount_cents"][0], pay["execution_date"][0])]
    assert held["n"][0] == 0


def demo_users_log_in_on_the_review_page(out: Path, printed: str) -> None:
    """The demo ends with the review page: the command to start it and a login per role that works."""
    import re
    import stat

    from review.users import authenticate, load_users

    assert f"kasse review --config {out / 'kasse.toml'} --users {out / 'demo_users.toml'}" in printed
    assert "http://127.0.0.1:8080/" in printed and "key_figures.xlsx" in printed
    logins = dict(re.findall(r"^ {4}(sachbearbeitung|aufsicht|pruefung) +(\S+)", printed, re.M))
    assert set(logins) == {"sachbearbeitung", "aufsicht", "pruefung"}
    users = load_users(out / "demo_users.toml")
    roles = {login: getattr(authenticate(users, login, pw), "role", None) for login, pw in logins.items()}
    assert roles == {"sachbearbeitung": "clerk", "aufsicht": "supervisor", "pruefung": "auditor"}
    assert authenticate(users, "aufsicht", logins["sachbearbeitung"]) is None
    for name in ("demo_users.toml", "demo_logins.txt"):
        assert stat.S_IMODE((out / name).stat().st_mode) == 0o600, name
