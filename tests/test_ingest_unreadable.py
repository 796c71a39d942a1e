"""A bank file with an entry whose amount or booking date cannot be read is rejected as a whole.

Before, such an entry reached the ledger with a NULL amount or booking date (camt), or was left out
while the rest of its statement was booked (MT940), and the file counted as ``ok``.
"""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest
from test_camt_rules import document, entry

from parsers import parse_paths
from parsers.issues import Issue

MT940 = "\r\n".join([
    ":20:STARTUMSE", ":25:37040044/0532013000", ":28C:00001/001", ":60F:C260202EUR1000,00",
    ":61:2602020202C100,00NTRFNONREF//B0001", ":86:166?00SEPA-UEBERWEISUNG?20SVWZ+KZ 1",
    ":61:2602020202C{second}NTRFNONREF//B0002", ":86:166?00SEPA-UEBERWEISUNG?20SVWZ+KZ 2",
    ":62F:C260202EUR1200,00", "-", ""])
GOOD_CAMT = document(entry("10.00") + entry("12.50"), balances=("0", "22.50"))


def _ingest(tmp_path: Path, name: str, text: str, *, beside: bool = True) -> tuple[pl.DataFrame, pl.DataFrame, list[Issue]]:
    """The file (``beside`` a good camt file): (files, transactions, issues) of the batch."""
    (tmp_path / name).write_text(text, encoding="latin-1" if name.endswith(".sta") else "utf-8")
    if beside:
        (tmp_path / "good.xml").write_text(GOOD_CAMT, encoding="utf-8")
    r = parse_paths([tmp_path])
    return r.files, r.transactions, r.issues


def _refused(files: pl.DataFrame, name: str) -> str:
    row = files.filter(pl.col("source_path").str.ends_with(name)).row(0, named=True)
    assert row["status"] == "rejected" and row["n_rows"] is None
    return str(row["reason"])


@pytest.mark.parametrize(("second", "words"), [
    ("1O0,00", "does not match"),                        # a letter in the amount: the :61: grammar fails
    ("1234567890123456,00", "the amount is not a decimal"),  # 16 digits: no Int64 cents
])
def test_mt940_entry_with_unreadable_amount_rejects_the_file(tmp_path: Path, second: str, words: str) -> None:
    files, tx, issues = _ingest(tmp_path, "a.sta", MT940.format(second=second))
    reason = _refused(files, "a.sta")
    assert "line 7 :61:" in reason and f"2602020202C{second}NTRF" in reason and words in reason
    assert "never booked in part" in reason
    assert set(tx["source_path"].str.extract(r"([^/]+)$")) == {"good.xml"}  # the other file goes on
    entry_issue = next(i for i in issues if i.code == "mt940.bad_entry")
    assert entry_issue.locator == "line 7 :61:" and entry_issue.raw.startswith(f":61:2602020202C{second}")


def test_mt940_entry_with_unreadable_value_date_rejects_the_file(tmp_path: Path) -> None:
    files, tx, _ = _ingest(tmp_path, "a.sta", MT940.format(second="100,00").replace(":61:2602020202C100,00NTRFNONREF//B0002",
                                                                                    ":61:2613450202C100,00NTRFNONREF//B0002"))
    reason = _refused(files, "a.sta")
    assert "line 7 :61:" in reason and "value date '261345' is not a date" in reason
    assert tx["amount_cents"].null_count() == 0 and tx["booking_date"].null_count() == 0


@pytest.mark.parametrize(("second", "code", "what"), [
    (entry("12,50"), "camt.bad_amount", "amount"),
    (entry("12.505"), "camt.amount_not_cents", "amount"),
    (entry(""), "camt.missing", "amount"),
    (entry("12.50", "XXX"), "camt.bad_cdtdbtind", "amount"),
    (entry("12.50").replace("<BookgDt><Dt>2024-05-17", "<BookgDt><Dt>2024-13-17"), "camt.bad_date", "booking date"),
    (entry("12.50").replace("<BookgDt><Dt>2024-05-17</Dt></BookgDt>", ""), "camt.missing_booking_date", "booking date"),
    (entry("12.50").replace("<BookgDt><Dt>2024-05-17</Dt></BookgDt>", "<BookgDt><Dt></Dt></BookgDt>"), None,
     "booking date"),
    (entry("12.50", details="<NtryDtls><TxDtls><Amt Ccy='EUR'>2.50</Amt></TxDtls>"
                            "<TxDtls><Amt Ccy='EUR'>10,00</Amt></TxDtls></NtryDtls>"),
     "camt.detail_bad_amount", "amount for its batch detail no. 2"),
])
def test_camt_entry_with_unreadable_amount_or_booking_date_rejects_the_file(
        tmp_path: Path, second: str, code: str | None, what: str) -> None:
    files, tx, _ = _ingest(tmp_path, "a.xml", document(entry("10.00") + second, balances=("0", "22.50")))
    reason = _refused(files, "a.xml")
    ntry = "/Document/BkToCstmrStmt/Stmt[1]/Ntry[2]"
    assert f"statement S1: entry {ntry} has no usable {what}" in reason and "never booked in part" in reason
    assert f"({code}: " in reason if code else f"has no usable {what}; a statement" in reason
    assert tx["source_path"].str.ends_with("good.xml").all() and tx.height == 2


def test_pending_entries_without_a_booking_date_are_no_reason_to_refuse(tmp_path: Path) -> None:
    pending = entry("12.50", sts="<Sts>PDNG</Sts>").replace("<BookgDt><Dt>2024-05-17</Dt></BookgDt>", "")
    files, tx, _ = _ingest(tmp_path, "a.xml", document(entry("10.00") + pending, msg="052"), beside=False)
    assert files.filter(pl.col("source_path").str.ends_with("a.xml"))["status"].item() == "ok"
    row = tx.filter(pl.col("source_path").str.ends_with("a.xml") & ~pl.col("booked")).row(0, named=True)
    assert row["amount_cents"] == 1250 and row["booking_date"] is None


def test_no_ok_file_brings_a_null_amount_or_booked_null_booking_date(samples_dir: Path, tmp_path: Path) -> None:
    # every sample and every made-up broken file: what is read has amounts and, where booked, dates
    made = tmp_path / "made"
    made.mkdir()
    for n, text in enumerate([MT940.format(second="1O0,00"), MT940.format(second="100,00")]):
        (made / f"{n}.sta").write_text(text, encoding="latin-1")
    for n, second in enumerate([entry("x"), entry("1", "?"), entry("1").replace("05-17</Dt></BookgDt>", "05-32</Dt></BookgDt>")]):
        (made / f"{n}.xml").write_text(document(entry("10.00") + second, balances=("0", "11.00")), encoding="utf-8")
    r = parse_paths([samples_dir / "mt940", samples_dir / "camt", made])
    assert r.files.filter(pl.col("status") == "ok").height > 40
    ok = set(r.files.filter(pl.col("status") == "ok")["source_path"])
    assert set(r.transactions["source_path"]) <= ok
    assert r.transactions["amount_cents"].null_count() == 0
    assert r.transactions.filter(pl.col("booked") & pl.col("booking_date").is_null()).is_empty()
    made_status = {Path(p).name: s for p, s in r.files.select("source_path", "status").iter_rows() if "/made/" in p}
    assert made_status == {"0.sta": "rejected", "1.sta": "ok", "0.xml": "rejected", "1.xml": "rejected",
                           "2.xml": "rejected"}
