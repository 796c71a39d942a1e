"""Back in the nightly run: a booked collection's batch credit settles every collected claim; a return
reopens its claim with the original due date and blocks the mandate for the next collection, reversed
once (the matcher never sees it); a batch credit of a wrong sum is held."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import polars as pl
from nightly_files import ACCOUNT
from test_collect_job import DAY, first_night, fixed_clock, q, tenant  # noqa: F401 (fixture)

import jobs.nightly as night
from claims.config import TenantConfig
from jobs.collect import release, run_collect

BACK = date(2026, 11, 23)                 # Monday after the collection date: the credit is on the statement
RETURN_DAY = date(2026, 11, 25)


def collect(cfg: TenantConfig) -> pl.DataFrame:
    """R0 and R1 collected on DAY (prepared, released, booked); their collection record."""
    first_night(cfg)
    out = run_collect(cfg, DAY, user="anna")
    release(cfg, out.run_id, user="sven", role="supervisor")
    assert run_collect(cfg, DAY, user="anna").status == "booked"
    return q(cfg, "SELECT receivable_id, amount_cents, end_to_end_id, pmtinf_id, mandate_id FROM collections ORDER BY 1")


def _amount(cents: int) -> str:
    return f"{abs(cents) // 100},{abs(cents) % 100:02d}"


def statement(cfg: TenantConfig, day: date, seq: int, opening: int, entries: list[tuple[int, str, str]]) -> int:
    """An MT940 with entries (cents, GVC, :86: fields after the GVC); return the closing balance."""
    yymmdd, mmdd = day.strftime("%y%m%d"), day.strftime("%m%d")
    closing = opening + sum(c for c, _, _ in entries)
    lines = [":20:STARTUMS", f":25:{ACCOUNT}", f":28C:{seq:05d}/001", f":60F:C{yymmdd}EUR{_amount(opening)}"]
    for i, (cents, gvc, text) in enumerate(entries):
        lines.append(f":61:{yymmdd}{mmdd}{'C' if cents >= 0 else 'D'}{_amount(cents)}NTRFNONREF//B{seq:03d}{i:04d}")
        lines.append(f":86:{gvc}{text}")
    lines += [f":62F:C{yymmdd}EUR{_amount(closing)}", "-"]
    path = cfg.inbox / f"sparkasse_{mmdd}.sta"
    path.write_bytes(("\r\n".join(lines) + "\r\n").encode("latin-1"))
    return closing


def batch_credit(cents: int, pmtinf: str) -> tuple[int, str, str]:
    return (cents, "192", f"?00SAMMLER?20SVWZ+{pmtinf[:22]}?21{pmtinf[22:]}?32STADTKASSE")


def settled(cfg: TenantConfig) -> pl.DataFrame:
    return q(cfg, "SELECT receivable_id, sum(amount_cents) AS paid, count(*) AS n FROM allocations "
                  "GROUP BY 1 ORDER BY 1")


def test_the_batch_credit_settles_every_collected_claim_and_nothing_is_unresolved(tmp_path: Path) -> None:
    cfg = tenant(tmp_path)
    rec = collect(cfg)
    statement(cfg, BACK, 2, 99650, [batch_credit(24900, rec["pmtinf_id"][0])])
    night.run_night(cfg, BACK)
    alloc = q(cfg, "SELECT receivable_id, amount_cents, rule, import_id FROM allocations ORDER BY 1")
    assert alloc["receivable_id"].to_list() == ["R0", "R1"]
    assert alloc["amount_cents"].to_list() == rec["amount_cents"].to_list() == [15000, 9900]
    assert set(alloc["rule"]) == {"direct_debit"} and None not in alloc["import_id"].to_list()
    assert q(cfg, "SELECT count(*) AS n FROM unresolved")["n"][0] == 0
    open_now = q(cfg, "SELECT receivable_id FROM open_items WHERE receivable_id IN ('R0','R1')")
    assert open_now.height == 2                     # the claims stay; what is open is the export less allocations


def test_a_return_reopens_the_claim_with_its_due_date_blocks_the_mandate_and_is_reversed_once(tmp_path: Path) -> None:
    cfg = tenant(tmp_path)
    rec = collect(cfg)
    closing = statement(cfg, BACK, 2, 99650, [batch_credit(24900, rec["pmtinf_id"][0])])
    night.run_night(cfg, BACK)
    r1 = rec.filter(pl.col("receivable_id") == "R1").row(0, named=True)
    # the return quotes the end-to-end id (which carries the Kassenzeichen) and the reason AC04 in ?34
    e2e = r1["end_to_end_id"]
    statement(cfg, RETURN_DAY, 3, closing, [
        (-9900, "109", f"?00RUECKLASTSCHRIFT?20EREF+{e2e}?21SVWZ+RUECKLASTSCHRIFT?32SCHULDNER R1?34AC04"),
    ])
    night.run_night(cfg, RETURN_DAY)
    rows = q(cfg, "SELECT receivable_id, amount_cents, rule FROM allocations ORDER BY rule, receivable_id")
    assert rows.filter(pl.col("rule") == "dd_return").select("receivable_id", "amount_cents").rows() == [("R1", -9900)]
    assert settled(cfg).rows() == [("R0", 15000, 1), ("R1", 0, 2)]   # reversed once, by nobody else
    back = q(cfg, "SELECT receivable_id, reason_code, end_to_end_id, mandate_id FROM collection_returns")
    assert back.rows() == [("R1", "AC04", e2e, "M-1")]
    assert q(cfg, "SELECT count(*) AS n FROM unresolved")["n"][0] == 0
    # open again for its amount, with the original due date
    con_open = q(cfg, "SELECT receivable_id, due_date FROM open_items WHERE receivable_id = 'R1'")
    assert con_open["due_date"].to_list() == [DAY]
    from ledger.db import connect
    from ledger.state import current_open_items
    con = connect(cfg.ledger)
    try:
        now = current_open_items(con, "stadt")
    finally:
        con.close()
    r1_now = now.filter(pl.col("receivable_id") == "R1")
    assert r1_now["amount_cents"].to_list() == [9900] and r1_now["due_date"].to_list() == [DAY]
    assert now.filter(pl.col("receivable_id") == "R0")["amount_cents"].to_list() == [0]
    # the next collection leaves it out: the mandate is blocked by the AC04 return
    nxt = run_collect(cfg, date(2026, 11, 27), user="anna")
    assert nxt.counts["skipped"].get("mandate_blocked") == 1


def test_a_batch_credit_of_a_wrong_sum_is_held(tmp_path: Path) -> None:
    cfg = tenant(tmp_path)
    rec = collect(cfg)
    statement(cfg, BACK, 2, 99650, [batch_credit(15000, rec["pmtinf_id"][0])])   # R1 left out by the bank
    night.run_night(cfg, BACK)
    assert q(cfg, "SELECT count(*) AS n FROM allocations")["n"][0] == 0
    held = q(cfg, "SELECT reason, amount_cents, unallocated_cents FROM unresolved")
    assert held.rows() == [("batch_amount_mismatch", 15000, 15000)]


def test_a_charged_return_fee_is_booked_as_our_own_claim_on_the_returned_one(tmp_path: Path) -> None:
    cfg = tenant(tmp_path, "return_fee_charge = true\nreturn_fee_fixed = \"3,00\"\n")
    rec = collect(cfg)
    closing = statement(cfg, BACK, 2, 99650, [batch_credit(24900, rec["pmtinf_id"][0])])
    night.run_night(cfg, BACK)
    e2e = rec.filter(pl.col("receivable_id") == "R0")["end_to_end_id"][0]
    statement(cfg, RETURN_DAY, 3, closing, [
        (-15000, "109", f"?00RUECKLASTSCHRIFT?20EREF+{e2e}?21SVWZ+RUECKLASTSCHRIFT?32SCHULDNER R0?34MD06"),
    ])
    night.run_night(cfg, RETURN_DAY)
    fee = q(cfg, "SELECT receivable_id, amount_cents, origin, parent_receivable_id, due_date, kassenzeichen "
                 "FROM claims WHERE origin = 'fee'")
    k0 = q(cfg, "SELECT kassenzeichen FROM open_items WHERE receivable_id = 'R0'")["kassenzeichen"][0]
    assert fee.rows() == [("R0-RLS-20261125", 300, "fee", "R0", RETURN_DAY, k0)]
    assert settled(cfg).filter(pl.col("receivable_id") == "R0").rows() == [("R0", 0, 2)]
    assert q(cfg, "SELECT reason_code FROM collection_returns")["reason_code"].to_list() == ["MD06"]
