"""The bank's side of a payout day: the statement our pain.001 makes, from the file itself.

The payout job (``jobs/payout``) writes a released pain.001 into the outbox. What the bank then books on
the paying account is made here from that file (read back with :func:`collection.pain_read.read_pain`),
never by hand, so ids and amounts are the file's — as :mod:`synth.collection_day` does for a pain.008:

* **one batch debit per payment-information block** of the block's sum: German banks book a pain.001
  sent with ``BtchBookg`` as one entry (DK GVC 191, SEPA-Sammelüberweisung). MT940: ``KREF+<PmtInfId>``
  in the ``:86:``; camt.053: ``TxDtls/Refs/PmtInfId`` (and no end-to-end id: the batch has none). The
  nightly run books it per payout (``collection.payout_back.book_outgoing``);
* **returned transfers** (``returned``) as credits of the payout's amount: the payee's bank sent the
  money back (GVC 159, SEPA-Überweisung Retoure). MT940: ``EREF+<end-to-end id>``, the returning account
  in ``?31``, the DK reason key in ``?34`` (``synth.cases.RETURN_CODES``); camt: ``EndToEndId`` and
  ``RtrInf/Rsn/Cd`` (the ISO code). The nightly run reopens the refund and blocks the IBAN
  (``collection.payout_back.take_returns``). A real bank credits a return a few TARGET2 days after the
  execution date: ``debit=False`` gives a later day's statement with the returns only.

Pure: bytes in, ``{file name: bytes}`` out (the sample set's file names, :func:`synth.collection_day.statement_name`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace

import polars as pl

from collection.pain_read import read_pain
from synth import camt_render, mt940_render
from synth.bookings import StatementHeader, conform_bookings
from synth.cases import RETURN_CODES
from synth.collection_day import FORMATS, pick_returns, statement_name

#: the demo's returned transfer: the payee's account is closed (Konto aufgelöst)
DEFAULT_RETURNED = ("AC04",)


def _bookings(rows: pl.DataFrame, back: pl.DataFrame, header: StatementHeader, *, debit: bool) -> pl.DataFrame:
    day = header.statement_date
    batches = rows.group_by("payment_info_id", maintain_order=True).agg(
        pl.col("amount_cents").sum(), pl.col("requested_date").first(), pl.len().alias("n"))
    debits = batches.select(
        pl.col("requested_date").alias("value_date"), (-pl.col("amount_cents")).alias("amount_cents"),
        pl.col("payment_info_id").alias("kref"), pl.lit("NTRF").alias("swift_code"), pl.lit("191").alias("gvc"),
        pl.lit("SAMMEL-UEBERWEISUNG").alias("booking_text"), pl.lit("ICDT").alias("family"),
        pl.lit("ESCT").alias("subfamily"),
        pl.format("SEPA-SAMMLER {} POSTEN", pl.col("n")).alias("svwz"))
    returned = rows.join(back, on="end_to_end_id").select(
        pl.lit(day).alias("value_date"), pl.col("amount_cents"), pl.col("end_to_end_id").alias("eref"),
        pl.lit("NRTI").alias("swift_code"), pl.lit("159").alias("gvc"),
        pl.lit("SEPA-UEBERW. RETOURE").alias("booking_text"), pl.lit("ICDT").alias("family"),
        pl.lit("RRTN").alias("subfamily"),
        pl.concat_str(pl.lit("RETOURE "), pl.col("remittance").fill_null("")).str.slice(0, 140).alias("svwz"),
        pl.col("party_name").alias("cp_name"), pl.col("party_iban").alias("cp_iban"),
        pl.col("party_bic").alias("cp_bic"), pl.col("reason_code").alias("return_reason"),
        pl.col("reason_code").replace_strict(RETURN_CODES, default=None).alias("return_code"))
    frame = pl.concat([debits, returned] if debit else [returned.head(0), returned], how="diagonal_relaxed")
    frame = frame.with_row_index("n", offset=1)
    ref = pl.format("{}P{}", pl.lit(f"{day:%Y%m%d}"), pl.col("n").cast(pl.String).str.zfill(5))
    return conform_bookings(frame.with_columns(
        pl.col("n").cast(pl.Int64).alias("entry_no"), pl.lit(day).alias("booking_date"), ref.alias("bank_ref"),
        ref.alias("entry_ref"), pl.lit("PMNT").alias("domain"), (9500 + pl.col("n")).cast(pl.String).alias("primanota")))


def payout_day_files(pain001: bytes | Sequence[bytes], returned: Sequence[str] | Mapping[str, str] = (), *,
                     header: StatementHeader, fmt: str = "camt.053", debit: bool = True) -> dict[str, bytes]:
    """The paying account's statement of ``header.statement_date`` (number and opening balance from
    ``header``): a batch debit per PmtInf of the pain.001 file(s) (unless ``debit=False``), and the
    ``returned`` transfers (end-to-end id → ISO reason code, or reason codes for transfers picked evenly
    over the file, :func:`synth.collection_day.pick_returns`) as credits. ``fmt``: ``camt.053`` (UTF-8) or
    ``mt940`` (ISO-8859-1, CRLF). ``{file name: bytes}``."""
    if fmt not in FORMATS:
        raise ValueError(f"fmt is one of {', '.join(FORMATS)}: {fmt!r}")
    files = [pain001] if isinstance(pain001, bytes) else list(pain001)
    rows = pl.concat([read_pain(b) for b in files])
    day = header.statement_date
    late = rows.filter(pl.col("requested_date") > day)
    if late.height:
        raise ValueError(f"the statement of {day} cannot book a transfer executed on {late['requested_date'][0]}")
    bookings = _bookings(rows, pick_returns(rows, returned), header, debit=debit)
    if fmt == "mt940":
        text = mt940_render.render_statement(replace(header, reference="STARTUMSE"), bookings)
        return {statement_name(header, fmt): text.encode("iso-8859-1")}
    return {statement_name(header, fmt): camt_render.render_camt053(header, bookings, "08").encode("utf-8")}


__all__ = ["DEFAULT_RETURNED", "payout_day_files"]
