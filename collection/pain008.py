"""The pain.008 writer: SEPA Core direct-debit collections as the file a German bank accepts.

pain.008.001.08 is the default (the version the German banks take since November 2023); pain.008.001.02
stays available for older bank connections (``version=``). One file per creditor id and collection date;
inside it one PmtInf per sequence type (FRST, RCUR, OOFF, FNAL; ``split_files`` cuts a run into one file
per creditor id, collection date and sequence type, the rule of issue 16). Control sums and counts are
added up in integer cents.

The writer streams (pain_xml.write_rows): rows are rendered to XML text by Polars expressions and written
in chunks. sepaxml is kept as the reference: tests/test_collection_pain.py builds the same file with
``sepaxml.SepaDD`` and compares the two documents. Nothing is cut or transliterated: a text that does
not fit the SEPA character set or length refuses the file (collection/sepa_text.py). Every file we write
is then validated against its XSD (collection/xsd.py); the caller does that on the bytes or the file.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import BinaryIO

import polars as pl

from collection.pain_xml import (
    HashingSink,
    PainFile,
    PainInputError,
    PaymentInfoSummary,
    amount_expr,
    amount_text,
    check_frame,
    check_header_text,
    created_text,
    date_text,
    esc,
    payment_info_id,
    write_rows,
    x,
)
from collection.sepa_text import Charset, FieldKind

VERSIONS = ("pain.008.001.08", "pain.008.001.02")
DEFAULT_VERSION = "pain.008.001.08"
#: The order of the PmtInf blocks in a file, and the sequence types the writer accepts.
SEQUENCE_TYPES = ("FRST", "RCUR", "OOFF", "FNAL")

#: Columns of the collections frame; debtor_bic may be missing or null (IBAN-only, "NOTPROVIDED");
#: ``amendment_pending`` / ``original_iban`` (collection/mandates.py) report a Mandatsänderung.
REQUIRED: dict[str, pl.DataType] = {
    "end_to_end_id": pl.String(),
    "amount_cents": pl.Int64(),
    "mandate_id": pl.String(),
    "mandate_date": pl.Date(),
    "sequence_type": pl.String(),
    "debtor_name": pl.String(),
    "debtor_iban": pl.String(),
    "remittance": pl.String(),
}
OPTIONAL: dict[str, pl.DataType] = {"debtor_bic": pl.String(), "amendment_pending": pl.Boolean(),
                                     "original_iban": pl.String()}
TEXT_FIELDS: dict[str, FieldKind] = {
    "end_to_end_id": FieldKind.ID,
    "mandate_id": FieldKind.ID,
    "debtor_name": FieldKind.NAME,
    "remittance": FieldKind.REMITTANCE,
}


@dataclass(frozen=True)
class Creditor:
    """The collecting side: the treasury's account and its creditor identifier (Gläubiger-ID)."""

    name: str
    iban: str
    creditor_id: str
    bic: str | None = None


def split_files(
    collections: pl.DataFrame, by: Sequence[str] = ("creditor_id", "collection_date", "sequence_type")
) -> list[tuple[tuple[object, ...], pl.DataFrame]]:
    """One frame per file: grouped by those of ``by`` the frame has, in a stable order (keys sorted,
    rows in their input order)."""
    keys = [c for c in by if c in collections.columns]
    if not keys:
        return [((), collections)]
    parts = collections.partition_by(keys, maintain_order=True, as_dict=True)
    return sorted(parts.items(), key=lambda kv: tuple(str(k) for k in kv[0]))


def _bic_tag(version: str) -> str:
    return "BIC" if version == "pain.008.001.02" else "BICFI"


def _agent(bic: str | None, version: str) -> str:
    if bic:
        tag = _bic_tag(version)
        return f"<FinInstnId><{tag}>{x(bic)}</{tag}></FinInstnId>"
    return "<FinInstnId><Othr><Id>NOTPROVIDED</Id></Othr></FinInstnId>"


def _amendment_xml() -> pl.Expr:
    """``AmdmntInd`` and ``AmdmntInfDtls/OrgnlDbtrAcct`` for a row whose mandate changed its IBAN since its
    last collection (a Mandatsänderung, EPC AT-24/AT-19: the debtor bank checks the change against the
    mandate); nothing for the others — a missing ``AmdmntInd`` means false, and leaving it out keeps an
    unchanged mandate's block byte for byte what sepaxml writes (it has no amendments)."""
    return (pl.when(pl.col("amendment_pending").fill_null(False))
            .then(pl.concat_str(pl.lit("<AmdmntInd>true</AmdmntInd><AmdmntInfDtls><OrgnlDbtrAcct><Id><IBAN>"),
                                esc(pl.col("original_iban")),
                                pl.lit("</IBAN></Id></OrgnlDbtrAcct></AmdmntInfDtls>")))
            .otherwise(pl.lit("")))


def _row_xml(version: str) -> pl.Expr:
    """One DrctDbtTxInf per row, as text."""
    tag = _bic_tag(version)
    agent = (
        pl.when(pl.col("debtor_bic").is_null())
        .then(pl.lit("<FinInstnId><Othr><Id>NOTPROVIDED</Id></Othr></FinInstnId>"))
        .otherwise(
            pl.concat_str(
                pl.lit(f"<FinInstnId><{tag}>"), esc(pl.col("debtor_bic")), pl.lit(f"</{tag}></FinInstnId>")
            )
        )
    )
    return pl.concat_str(
        pl.lit("<DrctDbtTxInf><PmtId><EndToEndId>"),
        esc(pl.col("end_to_end_id")),
        pl.lit('</EndToEndId></PmtId><InstdAmt Ccy="EUR">'),
        amount_expr(pl.col("amount_cents")),
        pl.lit("</InstdAmt><DrctDbtTx><MndtRltdInf><MndtId>"),
        esc(pl.col("mandate_id")),
        pl.lit("</MndtId><DtOfSgntr>"),
        pl.col("mandate_date").cast(pl.String),
        pl.lit("</DtOfSgntr>"),
        _amendment_xml(),
        pl.lit("</MndtRltdInf></DrctDbtTx><DbtrAgt>"),
        agent,
        pl.lit("</DbtrAgt><Dbtr><Nm>"),
        esc(pl.col("debtor_name")),
        pl.lit("</Nm></Dbtr><DbtrAcct><Id><IBAN>"),
        esc(pl.col("debtor_iban")),
        pl.lit("</IBAN></Id></DbtrAcct><RmtInf><Ustrd>"),
        esc(pl.col("remittance")),
        pl.lit("</Ustrd></RmtInf></DrctDbtTxInf>"),
    )


def _check_amendments(frame: pl.DataFrame) -> None:
    """A Mandatsänderung needs the IBAN before the change, a valid one and not the new one."""
    pending = frame.filter(pl.col("amendment_pending").fill_null(False))
    if pending.is_empty():
        return
    bad = pending.filter(pl.col("original_iban").is_null()
                         | (pl.col("original_iban").str.replace_all(" ", "") == pl.col("debtor_iban").str.replace_all(" ", ""))
                         | ~pl.col("original_iban").str.contains(r"^[A-Z]{2}[0-9]{2}[A-Z0-9]{1,30}$"))
    if not bad.is_empty():
        raise PainInputError(f"amendment_pending without a usable original_iban (missing, malformed or the new IBAN) "
                             f"for end_to_end_id {bad['end_to_end_id'].head(5).to_list()}")


def write_pain008(
    collections: pl.DataFrame,
    creditor: Creditor,
    *,
    collection_date: date,
    message_id: str,
    created_at: datetime,
    sink: BinaryIO,
    version: str = DEFAULT_VERSION,
    charset: Charset = Charset.DK,
    instrument: str = "CORE",
) -> PainFile:
    """Write one pain.008 file for one creditor and collection date to ``sink``; one PmtInf per sequence
    type (id ``<message_id>-<SEQ>``). The same input writes the same bytes (ids and creation time are
    the caller's), so a rerun of a collection date rebuilds the identical file.

    Raises PainInputError / SepaTextError before anything is written when the input cannot go in
    unchanged."""
    if version not in VERSIONS:
        raise PainInputError(f"pain.008 version {version!r} not supported (one of {VERSIONS})")
    if instrument not in ("CORE", "B2B"):
        raise PainInputError(f"local instrument {instrument!r}: CORE or B2B")
    frame = check_frame(collections, REQUIRED, OPTIONAL, TEXT_FIELDS, charset)
    bad_seq = sorted(set(frame["sequence_type"].unique().to_list()) - set(SEQUENCE_TYPES))
    if bad_seq:
        raise PainInputError(f"sequence_type not one of {SEQUENCE_TYPES}: {bad_seq}")
    _check_amendments(frame)
    groups = [s for s in SEQUENCE_TYPES if s in set(frame["sequence_type"].to_list())]
    check_header_text(
        {
            "creditor_name": (creditor.name, FieldKind.NAME),
            "creditor_id": (creditor.creditor_id, FieldKind.ID),
            "message_id": (message_id, FieldKind.ID),
            **{f"payment_info_id_{s}": (payment_info_id(message_id, s), FieldKind.ID) for s in groups},
        },
        charset,
    )
    sums = frame.group_by("sequence_type").agg(pl.len().alias("n"), pl.col("amount_cents").sum().alias("s"))
    per_seq = {r[0]: (int(r[1]), int(r[2])) for r in sums.iter_rows()}
    count = frame.height
    total = int(frame["amount_cents"].sum())

    out = HashingSink(sink)
    out.write(
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f'<Document xmlns="urn:iso:std:iso:20022:tech:xsd:{version}" '
        'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">\n'
        f"<CstmrDrctDbtInitn><GrpHdr><MsgId>{x(message_id)}</MsgId><CreDtTm>{created_text(created_at)}</CreDtTm>"
        f"<NbOfTxs>{count}</NbOfTxs><CtrlSum>{amount_text(total)}</CtrlSum>"
        f"<InitgPty><Nm>{x(creditor.name)}</Nm></InitgPty></GrpHdr>\n"
    )
    row_xml = _row_xml(version)
    infos: list[PaymentInfoSummary] = []
    for seq in groups:
        n, s = per_seq[seq]
        pid = payment_info_id(message_id, seq)
        out.write(
            f"<PmtInf><PmtInfId>{x(pid)}</PmtInfId><PmtMtd>DD</PmtMtd><BtchBookg>true</BtchBookg>"
            f"<NbOfTxs>{n}</NbOfTxs><CtrlSum>{amount_text(s)}</CtrlSum>"
            f"<PmtTpInf><SvcLvl><Cd>SEPA</Cd></SvcLvl><LclInstrm><Cd>{instrument}</Cd></LclInstrm>"
            f"<SeqTp>{seq}</SeqTp></PmtTpInf><ReqdColltnDt>{date_text(collection_date)}</ReqdColltnDt>"
            f"<Cdtr><Nm>{x(creditor.name)}</Nm></Cdtr><CdtrAcct><Id><IBAN>{x(creditor.iban)}</IBAN></Id></CdtrAcct>"
            f"<CdtrAgt>{_agent(creditor.bic, version)}</CdtrAgt><ChrgBr>SLEV</ChrgBr>"
            f"<CdtrSchmeId><Id><PrvtId><Othr><Id>{x(creditor.creditor_id)}</Id>"
            "<SchmeNm><Prtry>SEPA</Prtry></SchmeNm></Othr></PrvtId></Id></CdtrSchmeId>\n"
        )
        write_rows(out, frame.filter(pl.col("sequence_type") == seq), row_xml)
        out.write("</PmtInf>\n")
        infos.append(PaymentInfoSummary(pid, seq, n, s))
    out.write("</CstmrDrctDbtInitn>\n</Document>\n")
    return PainFile(version, message_id, count, total, tuple(infos), out.hexdigest())


def pain008_bytes(collections: pl.DataFrame, creditor: Creditor, **kwargs: object) -> tuple[bytes, PainFile]:
    """write_pain008 into memory (small files, tests)."""
    buf = io.BytesIO()
    info = write_pain008(collections, creditor, sink=buf, **kwargs)  # type: ignore[arg-type]
    return buf.getvalue(), info
