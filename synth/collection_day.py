"""The bank's side of a collection day: the statement a collection's money makes, from its own pain.008.

The demo (``flows/cmd_demo.py``) books a collection with ``kasse collect`` and then needs the bank file
of the collection date. It is made here from the pain.008 file the job wrote (read back with
:func:`collection.pain_read.read_pain`), never by hand, so ids and amounts are the file's:

* **one batch credit per payment-information block** of the full sum (``PmtInf`` control sum): German
  banks credit a collection file's batch in full on the collection date, subject to collection ("Eingang
  vorbehalten"), and debit each return later as an entry of its own — they do not shorten the credit.
  The nightly run relies on it too: a credit short of the batch's sum is held for a clerk
  (``batch_amount_mismatch``). camt.053: one ``Ntry`` with ``NtryDtls/Btch`` (MsgId, PmtInfId, total)
  and one ``TxDtls`` whose ``Refs/PmtInfId`` names the batch, as banks report a batch without a
  breakdown (DOMAIN.md: batch bookings GVC 191–197); MT940: GVC 192 (SEPA-Lastschrift Sammler) with
  ``KREF+<PmtInfId>`` in the ``:86:``.
* **returns** as separate debits, each of the collected amount plus the bank's return charge: camt
  ``RtrInf/Rsn/Cd`` (the ISO reason) and ``Chrgs``; MT940 GVC 109 with the DK reason key in ``?34``
  (``synth.cases.RETURN_CODES``), ``COAM+`` (charge) and ``OAMT+`` (the amount without it). A real
  bank debits returns one to five TARGET2 days after the collection date; the demo puts them on the
  same statement so that one night shows the credit and its returns.

Pure: bytes in, ``{file name: bytes}`` out (the names the sample set's files have).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import date

import polars as pl
from lxml import etree

from collection.pain_read import read_pain
from synth import camt_render, mt940_render
from synth.bookings import StatementHeader, conform_bookings, decimal_point
from synth.cases import RETURN_CODES

#: the two returns of the demo: an account closed (the mandate is blocked), and no cover (retried once)
DEFAULT_RETURNS = ("AC04", "MS03")
#: the bank's charge for a returned direct debit (what German banks charge the creditor, EUR 3 to 10)
RETURN_FEE_CENTS = 300
FORMATS = ("camt.053", "mt940")


def statement_name(header: StatementHeader, fmt: str) -> str:
    """The file name the sample set gives a statement of this account and day."""
    acct, day = header.account, header.statement_date
    if fmt == "mt940":
        return f"MT940_{acct.iban}_{day:%Y%m%d}.sta"
    return f"{day:%Y-%m-%d}_C53_{acct.iban}_camt.053.001.08.xml"


def pick_returns(rows: pl.DataFrame, returns: Sequence[str] | Mapping[str, str]) -> pl.DataFrame:
    """The collections that come back: ``end_to_end_id`` and ``reason_code``. ``returns`` maps end-to-end
    ids to reason codes, or lists reason codes for collections picked evenly over the file's end-to-end
    ids (the same file gives the same picks)."""
    if isinstance(returns, Mapping):
        chosen = dict(returns)
        unknown = set(chosen) - set(rows["end_to_end_id"])
        if unknown:
            raise ValueError(f"no collection with end-to-end id {sorted(unknown)} in the file")
    else:
        ids = sorted(rows["end_to_end_id"])
        if len(returns) > len(ids):
            raise ValueError(f"{len(returns)} returns asked for, the file has {len(ids)} collections")
        chosen = {ids[(k + 1) * len(ids) // (len(returns) + 1)]: code for k, code in enumerate(returns)}
    return pl.DataFrame({"end_to_end_id": list(chosen), "reason_code": list(chosen.values())},
                        schema={"end_to_end_id": pl.String(), "reason_code": pl.String()})


def _group_header(pain: bytes) -> tuple[str | None, str | None]:
    root = etree.fromstring(pain)
    return (root.findtext(".//{*}GrpHdr/{*}MsgId"),
            root.findtext(".//{*}CdtrSchmeId/{*}Id/{*}PrvtId/{*}Othr/{*}Id"))


def _bookings(rows: pl.DataFrame, back: pl.DataFrame, day: date, fee_cents: int,
              creditor_id: str | None) -> pl.DataFrame:
    batches = rows.group_by("payment_info_id", maintain_order=True).agg(
        pl.col("amount_cents").sum(), pl.col("requested_date").first())
    credit = batches.select(
        pl.col("requested_date").alias("value_date"), "amount_cents", pl.col("payment_info_id").alias("kref"),
        pl.lit("NDDT").alias("swift_code"), pl.lit("192").alias("gvc"),
        pl.lit("SEPA-LASTSCHRIFT SAMMLER").alias("booking_text"), pl.lit("ESDD").alias("subfamily"),
        pl.lit(creditor_id).alias("cred"))
    returned = rows.join(back, on="end_to_end_id").select(
        pl.lit(day).alias("value_date"), (-(pl.col("amount_cents") + fee_cents)).alias("amount_cents"),
        pl.col("end_to_end_id").alias("eref"), pl.col("mandate_id").alias("mref"),
        pl.lit("NRTI").alias("swift_code"), pl.lit("109").alias("gvc"),
        pl.lit("SEPA-RUECKLASTSCHRIFT").alias("booking_text"), pl.lit("UPDD").alias("subfamily"),
        pl.lit(creditor_id).alias("cred"),
        pl.concat_str(pl.lit("RUECKLASTSCHRIFT "), pl.col("remittance").fill_null("")).str.slice(0, 140).alias("svwz"),
        pl.col("party_name").alias("cp_name"), pl.col("party_iban").alias("cp_iban"),
        pl.col("party_bic").alias("cp_bic"), pl.col("reason_code").alias("return_reason"),
        pl.col("reason_code").replace_strict(RETURN_CODES, default=None).alias("return_code"),
        pl.lit(fee_cents if fee_cents else None, pl.Int64()).alias("fee_cents"))
    frame = pl.concat([credit, returned], how="diagonal_relaxed").with_row_index("n", offset=1)
    return conform_bookings(frame.with_columns(
        pl.col("n").cast(pl.Int64).alias("entry_no"), pl.lit(day).alias("booking_date"),
        pl.format("{}C{}", pl.lit(f"{day:%Y%m%d}"), pl.col("n").cast(pl.String).str.zfill(5)).alias("bank_ref"),
        pl.format("{}C{}", pl.lit(f"{day:%Y%m%d}"), pl.col("n").cast(pl.String).str.zfill(5)).alias("entry_ref"),
        pl.lit("PMNT").alias("domain"), pl.lit("IDDT").alias("family"),
        (9300 + pl.col("n")).cast(pl.String).alias("primanota")))


def _camt(header: StatementHeader, bookings: pl.DataFrame, message_ids: Mapping[str, str | None]) -> str:
    entries = camt_render.render_entries(bookings, "08").to_list()
    for k, row in enumerate(bookings.iter_rows(named=True)):
        if row["gvc"] == "192":   # the batch: what the bank reports of it, without a breakdown
            mid = message_ids.get(row["kref"])
            total = pl.select(decimal_point(pl.lit(row["amount_cents"]))).item()
            btch = (f"        <Btch>{f'<MsgId>{mid}</MsgId>' if mid else ''}<PmtInfId>{row['kref']}</PmtInfId>"
                    f"<TtlAmt Ccy=\"EUR\">{total}</TtlAmt><CdtDbtInd>CRDT</CdtDbtInd></Btch>\n")
            entries[k] = entries[k].replace("<NtryDtls>\n", "<NtryDtls>\n" + btch, 1)
    return (camt_render.document_head(header, "08") + camt_render.render_statement(header, bookings, "08", entries)
            + camt_render.document_tail())


def collection_day_files(pain008: bytes | Sequence[bytes], returns: Sequence[str] | Mapping[str, str] = DEFAULT_RETURNS,
                         *, header: StatementHeader, fmt: str = "camt.053",
                         fee_cents: int = RETURN_FEE_CENTS) -> dict[str, bytes]:
    """The collecting account's statement of ``header.statement_date`` (its number and opening balance
    from ``header``): a batch credit per PmtInf of the pain.008 file(s), full sum, and the ``returns``
    (:func:`pick_returns`) as debits of the collected amount plus ``fee_cents``. ``fmt``: ``camt.053``
    (UTF-8) or ``mt940`` (ISO-8859-1, CRLF). ``{file name: bytes}``."""
    if fmt not in FORMATS:
        raise ValueError(f"fmt is one of {', '.join(FORMATS)}: {fmt!r}")
    files = [pain008] if isinstance(pain008, bytes) else list(pain008)
    parts = [read_pain(b) for b in files]
    heads = [_group_header(b) for b in files]
    rows = pl.concat(parts)
    message_ids = {pid: mid for part, (mid, _) in zip(parts, heads, strict=True) for pid in part["payment_info_id"]}
    day = header.statement_date
    late = rows.filter(pl.col("requested_date") > day)
    if late.height:
        raise ValueError(f"the statement of {day} cannot credit a collection due on {late['requested_date'][0]}")
    bookings = _bookings(rows, pick_returns(rows, returns), day, fee_cents, heads[0][1])
    if fmt == "mt940":
        text = mt940_render.render_statement(replace(header, reference="STARTUMSE"), bookings)
        return {statement_name(header, fmt): text.encode("iso-8859-1")}
    return {statement_name(header, fmt): _camt(header, bookings, message_ids).encode("utf-8")}


def quiet_day_file(header: StatementHeader, fmt: str) -> dict[str, bytes]:
    """A statement without entries (another account on the collection day: the day close wants one per
    account); ``{file name: bytes}``."""
    empty = conform_bookings(pl.DataFrame({"entry_no": []}))
    if fmt == "mt940":
        return {statement_name(header, fmt): mt940_render.render_statement(
            replace(header, reference="STARTUMSE"), empty).encode("iso-8859-1")}
    return {statement_name(header, fmt): camt_render.render_camt053(header, empty, "08").encode("utf-8")}
