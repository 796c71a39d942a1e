"""The SEPA collection run over a real ledger: prepare (pain.008 files, XSD-valid, read back) → release
(four-eyes) → book → outbox with manifest; the same date again, a claim paid since the preparation, a
text the bank would refuse, a crash at every checkpoint."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path

import polars as pl
import pytest
from faults import InjectedFailure, fail_at
from nightly_files import ACCOUNT, Entry, kz, write_mt940

import jobs.nightly as night
from claims.config import TenantConfig, load_tenant_config
from collection.pain_read import read_pain
from collection.xsd import validate
from jobs.collect import CollectRefused, release, run_collect
from jobs.collect.record import read_record
from jobs.collect.steps import STEPS, reconcile
from ledger.db import connect, fetch, row_counts
from ledger.journal import JournalError
from ledger.release_journal import read_releases

D1 = date(2026, 11, 16)                   # Monday: the night that brings the export
DAY = date(2026, 11, 20)                  # Friday: the collection date (claims due that day)
CREDITOR_ID = "DE98ZZZ09999999999"
IBANS = ["DE89370400440532013000", "DE27100777770209299700", "DE44500105175407324931"]
K = [kz(i) for i in range(4)]


#: The job's clock in these tests: Thursday 19 November 2026, 08:00 in Berlin — before the send deadline of
#: DAY (Thursday 12:00, lead_days 1) and of every later date the tests collect.
NOW = datetime(2026, 11, 19, 7, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def fixed_clock(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The collection job reads its clock (send deadline, next date) from ``jobs.collect.steps.clock``."""
    import jobs.collect.steps as steps

    monkeypatch.setattr(steps, "clock", lambda: NOW)
    yield


def tenant(tmp_path: Path, extra: str = "") -> TenantConfig:
    (tmp_path / "kasse.toml").write_text(
        f'[tenant]\nid = "stadt"\nname = "Stadtkasse Musterstadt"\n[collection]\ncreditor_id = "{CREDITOR_ID}"\n'
        f'{extra}[[accounts]]\niban = "{ACCOUNT}"\nbic = "BYLADEM1001"\n', encoding="utf-8")
    return load_tenant_config(tmp_path / "kasse.toml")


def export(cfg: TenantConfig, rows: list[tuple[str, str, int, str, str]], name: str = "export_1116.csv") -> None:
    """rows = (receivable_id, Kassenzeichen, cents, mandate id ("" none), debtor name); due on DAY."""
    lines = ["receivable_id;kassenzeichen;debtor_id;debtor_name;debtor_iban;claim_type;amount;due_date;"
             "mandate_id;mandate_date"]
    for i, (rid, k, cents, mandate, debtor) in enumerate(rows):
        lines.append(f"{rid};{k};D-{rid};{debtor};{IBANS[i % 3]};GRUNDSTEUER;{cents // 100},{cents % 100:02d};"
                     f"{DAY};{mandate};{'2025-01-10' if mandate else ''}")
    path = cfg.inbox / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def first_night(cfg: TenantConfig, debtor: str = "Schuldner") -> None:
    """R0 150 €, R1 99 € with a mandate each; R2 50 € without; a statement of Monday."""
    export(cfg, [("R0", K[0], 15000, "M-0", f"{debtor} R0"), ("R1", K[1], 9900, "M-1", "Schuldner R1"),
                 ("R2", K[2], 5000, "", "Schuldner R2")])
    write_mt940(cfg.inbox / "sparkasse_1116.sta", day=D1, seq=1, opening=100000, entries=[Entry(-350, "Kontofuehrung")])
    night.run_night(cfg, D1)


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


def outbox(cfg: TenantConfig) -> Path:
    return cfg.tenant_dir / "outbox"


def test_prepare_release_book_outbox_and_the_same_date_again_books_nothing(tmp_path: Path) -> None:
    cfg = tenant(tmp_path)
    first_night(cfg)
    before = counts(cfg)
    out = run_collect(cfg, DAY, user="anna")
    assert out.status == "prepared" and out.run_id
    assert out.counts["n_collections"] == 2 and out.counts["total_cents"] == 15000 + 9900
    assert out.counts["skipped"] == {"no_mandate": 1}
    assert counts(cfg) == before                                       # preparing books nothing
    assert not outbox(cfg).exists()                                    # nor reaches the outbox
    files = out.counts["files"]
    assert [f["sequence_type"] for f in files] == ["RCUR"]             # [collection] first_sequence = RCUR
    prepared = Path(out.paths[files[0]["file_name"]])
    assert validate(prepared) == "pain.008.001.08"
    rows = read_pain(prepared)
    claims = q(cfg, "SELECT receivable_id, amount_cents FROM open_items WHERE mandate_id <> '' ORDER BY 1")
    assert sorted(zip(rows["end_to_end_id"].str.extract(r"^KZ(\d+)-").to_list(), rows["amount_cents"].to_list(),
                      strict=True)) == sorted(zip([k.replace(".", "") for k in K[:2]], claims["amount_cents"].to_list(),
                                                  strict=True))
    assert set(rows["mandate_id"]) == {"M-0", "M-1"} and set(rows["requested_date"]) == {DAY}
    assert rows["payment_info_id"].to_list() == [f"{files[0]['message_id']}-RCUR"] * 2

    assert run_collect(cfg, DAY, user="anna").status == "prepared"   # no release yet: shown again
    with pytest.raises(JournalError, match="four-eyes"):
        release(cfg, out.run_id, user="anna", role="supervisor")      # the preparer
    with pytest.raises(JournalError, match="supervisor"):
        release(cfg, out.run_id, user="ben", role="clerk")
    assert counts(cfg) == before
    rel = release(cfg, out.run_id, user="sven", role="supervisor")
    assert rel.kind == "collection_release" and read_releases(cfg.state_dir, "stadt")[out.run_id].released_by == "sven"

    booked = run_collect(cfg, DAY, user="anna")
    assert (booked.status, booked.run_id) == ("booked", out.run_id)
    got = q(cfg, "SELECT receivable_id, amount_cents, message_id, pmtinf_id, sequence_type, collection_date, "
                 "prepared_by, released_by, file_name, file_sha256 FROM collections ORDER BY 1")
    assert got["receivable_id"].to_list() == ["R0", "R1"] and got["amount_cents"].to_list() == [15000, 9900]
    assert set(got["prepared_by"]) == {"anna"} and set(got["released_by"]) == {"sven"}
    assert set(got["message_id"]) == {files[0]["message_id"]} and set(got["collection_date"]) == {DAY}
    # the outbox holds the released bytes (nothing changed since) and a manifest naming them
    sent = outbox(cfg) / files[0]["file_name"]
    assert sent.read_bytes() == prepared.read_bytes()
    manifest = json.loads(next(outbox(cfg).glob("*.manifest.json")).read_text(encoding="utf-8"))
    assert manifest["count"] == 2 and manifest["control_sum_cents"] == 24900 and manifest["n_files"] == 1
    assert manifest["files"][0]["sha256"] == hashlib.sha256(sent.read_bytes()).hexdigest() == got["file_sha256"][0]
    assert not list(outbox(cfg).glob(".*"))                            # no temp file left
    assert read_record(cfg, DAY) is not None and read_record(cfg, DAY).stage == "done"  # type: ignore[union-attr]
    assert q(cfg, "SELECT job FROM runs WHERE run_id = '" + out.run_id + "'")["job"].to_list() == ["collect"]

    after = counts(cfg)
    again = run_collect(cfg, DAY, user="anna")
    assert again.status == "nothing_to_do" and again.run_id == out.run_id
    assert counts(cfg) == after                                        # the same date twice: nothing twice
    # a later date does not collect them again (the collection record), and message ids never repeat
    later = run_collect(cfg, date(2026, 11, 23), user="anna")
    assert later.status == "nothing_to_do" and later.counts["skipped"].get("already_collected") == 2


def test_a_claim_paid_between_prepare_and_book_is_dropped_and_the_file_rewritten(tmp_path: Path) -> None:
    cfg = tenant(tmp_path)
    first_night(cfg)
    out = run_collect(cfg, DAY, user="anna")
    assert out.run_id and out.counts["n_collections"] == 2
    release(cfg, out.run_id, user="sven", role="supervisor")
    # Tuesday's night: R1 paid in full by transfer
    write_mt940(cfg.inbox / "sparkasse_1117.sta", day=date(2026, 11, 17), seq=2, opening=99650,
                entries=[Entry(9900, f"KZ {K[1]}", name="Schuldner R1")])
    night.run_night(cfg, date(2026, 11, 17))
    booked = run_collect(cfg, DAY, user="anna")
    assert booked.status == "booked" and booked.counts["dropped"] == {"nothing_open": 1}
    assert q(cfg, "SELECT receivable_id FROM collections")["receivable_id"].to_list() == ["R0"]
    f = booked.counts["files"][0]
    sent = read_pain(outbox(cfg) / f["file_name"])
    assert sent["amount_cents"].to_list() == [15000]                   # R1 is not collected
    assert f["message_id"] == out.counts["files"][0]["message_id"]     # the released ids
    ev = q(cfg, "SELECT subject, detail FROM audit_events WHERE event = 'collection.dropped'")
    assert ev["subject"].to_list() == ["R1"] and json.loads(ev["detail"][0])["reason"] == "nothing_open"


def test_reconcile_keeps_only_unchanged_rows_and_adds_nothing() -> None:
    base = {"end_to_end_id": "E", "mandate_id": "M", "debtor_iban": "DE1", "sequence_type": "RCUR", "kassenzeichen": "k"}
    prepared = pl.DataFrame([{**base, "receivable_id": r, "amount_cents": a, "end_to_end_id": f"E{r}"}
                             for r, a in (("A", 100), ("B", 200), ("C", 300))])
    now = pl.DataFrame([{**base, "receivable_id": r, "amount_cents": a, "end_to_end_id": f"E{r}"}
                        for r, a in (("A", 100), ("B", 150), ("D", 400))])
    skipped = pl.DataFrame({"receivable_id": ["C"], "reason": ["mandate_blocked"]})
    prepared = pl.concat([prepared, prepared.head(1).with_columns(receivable_id=pl.lit("E"), end_to_end_id=pl.lit("EE"))])
    kept, dropped = reconcile(prepared, now, skipped, pl.Series(["A", "B", "C", "D"]))
    assert kept["receivable_id"].to_list() == ["A"]
    assert dict(zip(dropped["receivable_id"], dropped["reason"], strict=True)) == {
        "B": "changed", "C": "mandate_blocked", "E": "nothing_open"}


def test_a_bad_text_refuses_the_run_naming_the_claim_and_the_field(tmp_path: Path) -> None:
    cfg = tenant(tmp_path)
    first_night(cfg, debtor="Schuldner ☃")
    with pytest.raises(CollectRefused, match=r"claim R0 .*field debtor_name"):
        run_collect(cfg, DAY, user="anna")
    assert read_record(cfg, DAY) is None                               # nothing prepared


def test_no_creditor_id_refuses(tmp_path: Path) -> None:
    cfg = tenant(tmp_path)
    first_night(cfg)
    (tmp_path / "kasse.toml").write_text(f'[tenant]\nid = "stadt"\n[[accounts]]\niban = "{ACCOUNT}"\n', encoding="utf-8")
    with pytest.raises(CollectRefused, match="creditor_id"):
        run_collect(load_tenant_config(tmp_path / "kasse.toml"), DAY, user="anna")


def test_message_ids_are_sepa_ids_unique_per_run_and_stable(tmp_path: Path) -> None:
    cfg = tenant(tmp_path)
    first_night(cfg)
    a = run_collect(cfg, DAY, user="anna")
    assert a.run_id
    mid = a.counts["files"][0]["message_id"]
    assert len(mid) + len("-RCUR") <= 35 and mid.isalnum() and mid.startswith("STADT261120")
    assert a.run_id.endswith(mid[-10:-2])
    assert run_collect(cfg, DAY, user="anna").counts["files"][0]["message_id"] == mid   # the same prepared run


@pytest.mark.parametrize("point", [name for name, _ in STEPS["prepare"]] + [name for name, _ in STEPS["book"]])
def test_a_crash_at_any_checkpoint_leaves_the_ledger_as_it_was_and_a_rerun_completes(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, point: str) -> None:
    cfg = tenant(tmp_path)
    first_night(cfg)
    in_prepare = point in {name for name, _ in STEPS["prepare"]}
    if not in_prepare:
        out = run_collect(cfg, DAY, user="anna")
        assert out.run_id
        release(cfg, out.run_id, user="sven", role="supervisor")
    before = counts(cfg)
    fail_at(monkeypatch, point)
    with pytest.raises(InjectedFailure):
        run_collect(cfg, DAY, user="anna")
    if point not in ("outbox", "done"):                                # before the commit: the ledger as it was
        assert counts(cfg) == before
        assert not outbox(cfg).exists() or not list(outbox(cfg).iterdir())
    fail_at(monkeypatch, None)
    res = run_collect(cfg, DAY, user="anna")
    if in_prepare:
        assert res.status == "prepared" and res.run_id
        release(cfg, res.run_id, user="sven", role="supervisor")
        res = run_collect(cfg, DAY, user="anna")
    assert res.status in ("booked", "nothing_to_do")
    assert q(cfg, "SELECT receivable_id FROM collections ORDER BY 1")["receivable_id"].to_list() == ["R0", "R1"]
    assert q(cfg, "SELECT count(*) AS n FROM runs WHERE job = 'collect'")["n"].to_list() == [1]
    assert len(list(outbox(cfg).glob("*.manifest.json"))) == 1 and len(list(outbox(cfg).glob("*.xml"))) == 1
    assert read_record(cfg, DAY).stage == "done"                       # type: ignore[union-attr]


def test_a_configured_outbox_is_used(tmp_path: Path) -> None:
    cfg = tenant(tmp_path, extra='outbox = "to_bank"\n')
    first_night(cfg)
    out = run_collect(cfg, DAY, user="anna")
    assert out.run_id
    release(cfg, out.run_id, user="sven", role="supervisor")
    run_collect(cfg, DAY, user="anna")
    assert len(list((cfg.tenant_dir / "to_bank").glob("*.xml"))) == 1 and not outbox(cfg).exists()


def test_an_outbox_that_is_a_link_out_of_the_tenant_folder_is_refused_and_nothing_written_there(
        tmp_path: Path) -> None:
    cfg = tenant(tmp_path)
    first_night(cfg)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    outbox(cfg).symlink_to(elsewhere, target_is_directory=True)
    out = run_collect(cfg, DAY, user="anna")
    assert out.run_id
    release(cfg, out.run_id, user="sven", role="supervisor")
    with pytest.raises(CollectRefused, match="symbolic link"):
        run_collect(cfg, DAY, user="anna")
    assert not list(elsewhere.iterdir())


def test_a_dunning_release_line_does_not_release_a_collection_run(tmp_path: Path) -> None:
    from ledger.release_journal import record_release

    cfg = tenant(tmp_path)
    first_night(cfg)
    out = run_collect(cfg, DAY, user="anna")
    assert out.run_id
    before = counts(cfg)
    record_release(cfg.state_dir, "stadt", out.run_id, user="sven", role="supervisor", prepared_by="anna")
    with pytest.raises(CollectRefused, match="not a collection release"):
        run_collect(cfg, DAY, user="anna")
    assert counts(cfg) == before


def test_the_register_is_kept_in_the_ledger_and_an_export_changing_a_mandate_is_an_amendment(tmp_path: Path) -> None:
    cfg = tenant(tmp_path)
    first_night(cfg)
    out = run_collect(cfg, DAY, user="anna")
    assert out.run_id
    release(cfg, out.run_id, user="sven", role="supervisor")
    run_collect(cfg, DAY, user="anna")
    reg = q(cfg, "SELECT mandate_id, debtor_id, debtor_iban FROM mandates ORDER BY 1")
    assert reg.rows() == [("M-0", "D-R0", IBANS[0]), ("M-1", "D-R1", IBANS[1])]
    # the next export: M-0 now on another IBAN (a Mandatsänderung), M-1 named on a claim of another debtor
    day2 = date(2026, 12, 1)
    lines = ["receivable_id;kassenzeichen;debtor_id;debtor_name;debtor_iban;claim_type;amount;due_date;mandate_id;"
             "mandate_date",
             f"R5;{K[3]};D-R0;Schuldner R0;{IBANS[2]};GRUNDSTEUER;20,00;{day2};M-0;2025-01-10",
             f"R6;{kz(5)};D-X;Schuldner X;{IBANS[1]};GRUNDSTEUER;30,00;{day2};M-1;2025-01-10"]
    (cfg.inbox / "export_1117.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    write_mt940(cfg.inbox / "sparkasse_1117.sta", day=date(2026, 11, 17), seq=2, opening=99650, entries=[])
    night.run_night(cfg, date(2026, 11, 17))
    nxt = run_collect(cfg, day2, user="anna")
    assert nxt.counts["n_collections"] == 1 and nxt.counts["skipped"] == {"mandate_refused": 1}
    assert nxt.run_id
    release(cfg, nxt.run_id, user="sven", role="supervisor")
    booked = run_collect(cfg, day2, user="anna")
    # the file reports the Mandatsänderung: AmdmntInd and the IBAN the last collection used
    (sent,) = [Path(p) for n, p in booked.paths.items() if n.endswith(".xml")]
    assert validate(sent) == "pain.008.001.08"
    from lxml import etree
    mndt = etree.parse(str(sent)).getroot().find(".//{*}DrctDbtTxInf/{*}DrctDbtTx/{*}MndtRltdInf")
    assert mndt is not None and mndt.findtext("{*}MndtId") == "M-0" and mndt.findtext("{*}AmdmntInd") == "true"
    assert mndt.findtext("{*}AmdmntInfDtls/{*}OrgnlDbtrAcct/{*}Id/{*}IBAN") == IBANS[0]
    assert q(cfg, "SELECT mandate_id, field, old_value, new_value FROM mandate_amendments ORDER BY 1").rows() == [
        ("M-0", "debtor_iban", IBANS[0], IBANS[2]), ("M-1", "debtor_id", "D-R1", "D-X")]
    assert q(cfg, "SELECT receivable_id, debtor_iban FROM collections WHERE collection_date = '2026-12-01'").rows() == [
        ("R5", IBANS[2])]
    latest = q(cfg, "SELECT mandate_id, count(*) AS n FROM mandates GROUP BY 1 ORDER BY 1")
    assert latest.rows() == [("M-0", 2), ("M-1", 2)]                  # one change each, appended
    # a later run: the other debtor's claim on M-1 stays refused (a clerk must clear it); nothing new appended
    later = run_collect(cfg, date(2026, 12, 3), user="anna")
    assert later.status == "nothing_to_do" and later.counts["skipped"].get("mandate_refused") == 1


# --- the send deadline ------------------------------------------------------------------------------------

def test_a_released_run_whose_send_deadline_passed_is_not_booked_and_says_so(tmp_path: Path) -> None:
    cfg = tenant(tmp_path)
    first_night(cfg)
    out = run_collect(cfg, DAY, user="anna")
    release(cfg, out.run_id, user="sven", role="supervisor")
    before = counts(cfg)
    # DAY is Friday 20 Nov; lead_days 1 → the file must reach the bank by Thursday 19 Nov, 12:00 Berlin
    late = run_collect(cfg, DAY, user="anna", now=datetime(2026, 11, 19, 11, 0, 1, tzinfo=UTC))   # 12:00:01 CET
    assert late.status == "too_late" and late.run_id == out.run_id
    assert "19.11.2026 12:00" in late.message and "20.11.2026" in late.message
    assert "next possible collection date, 23.11.2026" in late.message   # sent Fri: Mon
    assert counts(cfg) == before and not outbox(cfg).exists()
    record = read_record(cfg, DAY)
    assert record is not None and record.stage == "late"
    # and it stays so: a later call (the clock of the tests is before the deadline) books nothing either
    again = run_collect(cfg, DAY, user="anna")
    assert again.status == "too_late" and counts(cfg) == before
    with pytest.raises(CollectRefused, match="late"):
        release(cfg, out.run_id, user="sven", role="supervisor")
    # the claims are collected again at the next date
    nxt = run_collect(cfg, date(2026, 11, 23), user="anna", now=datetime(2026, 11, 19, 12, 0, tzinfo=UTC))
    assert nxt.status == "prepared" and nxt.counts["n_collections"] == 2


def test_one_second_before_the_deadline_books(tmp_path: Path) -> None:
    cfg = tenant(tmp_path)
    first_night(cfg)
    out = run_collect(cfg, DAY, user="anna")
    release(cfg, out.run_id, user="sven", role="supervisor")
    booked = run_collect(cfg, DAY, user="anna", now=datetime(2026, 11, 19, 10, 59, 59, tzinfo=UTC))
    assert booked.status == "booked"


def test_a_date_whose_deadline_passed_is_not_prepared_and_a_non_target_day_is_refused(tmp_path: Path) -> None:
    cfg = tenant(tmp_path)
    first_night(cfg)
    late = run_collect(cfg, DAY, user="anna", now=datetime(2026, 11, 20, 6, 0, tzinfo=UTC))
    assert late.status == "too_late" and late.run_id is None and "nothing was prepared" in late.message
    assert read_record(cfg, DAY) is None
    with pytest.raises(CollectRefused, match="TARGET2"):
        run_collect(cfg, date(2026, 12, 25), user="anna")        # Christmas: no TARGET2 day
