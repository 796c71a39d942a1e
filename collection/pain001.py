"""The pain.001 writer: SEPA credit transfers (payouts: refunds, over-payments) from the treasury's account.

pain.001.001.09 is the default (German banks since November 2023), pain.001.001.03 for older bank
connections. One file per debtor account and execution date, one PmtInf; the same rules as pain.008
(collection/pain008.py): streamed, integer cents, no silent change of any text, XSD-validated by the
caller (collection/xsd.py). sepaxml's ``SepaTransfer`` is the reference in the tests.
"""

from __future__ import annotations

import io
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

VERSIONS = ("pain.001.001.09", "pain.001.001.03")
DEFAULT_VERSION = "pain.001.001.09"

#: Columns of the payouts frame; payee_bic may be missing or null (IBAN-only).
REQUIRED: dict[str, pl.DataType] = {
    "end_to_end_id": pl.String(),
    "amount_cents": pl.Int64(),
    "payee_name": pl.String(),
    "payee_iban": pl.String(),
    "remittance": pl.String(),
}
OPTIONAL: dict[str, pl.DataType] = {"payee_bic": pl.String()}
TEXT_FIELDS: dict[str, FieldKind] = {
    "end_to_end_id": FieldKind.ID,
    "payee_name": FieldKind.NAME,
    "remittance": FieldKind.REMITTANCE,
}


@dataclass(frozen=True)
class DebtorAccount:
    """The paying side: the treasury's account the money leaves."""

    name: str
    iban: str
    bic: str | None = None


def _bic_tag(version: str) -> str:
    return "BIC" if version == "pain.001.001.03" else "BICFI"


def _row_xml(version: str) -> pl.Expr:
    """One CdtTrfTxInf per row; CdtrAgt only when the payee's BIC is known (optional in both versions)."""
    tag = _bic_tag(version)
    agent = (
        pl.when(pl.col("payee_bic").is_null())
        .then(pl.lit(""))
        .otherwise(
            pl.concat_str(
                pl.lit(f"<CdtrAgt><FinInstnId><{tag}>"),
                esc(pl.col("payee_bic")),
                pl.lit(f"</{tag}></FinInstnId></CdtrAgt>"),
            )
        )
    )
    return pl.concat_str(
        pl.lit("<CdtTrfTxInf><PmtId><EndToEndId>"),
        esc(pl.col("end_to_end_id")),
        pl.lit('</EndToEndId></PmtId><Amt><InstdAmt Ccy="EUR">'),
        amount_expr(pl.col("amount_cents")),
        pl.lit("</InstdAmt></Amt>"),
        agent,
        pl.lit("<Cdtr><Nm>"),
        esc(pl.col("payee_name")),
        pl.lit("</Nm></Cdtr><CdtrAcct><Id><IBAN>"),
        esc(pl.col("payee_iban")),
        pl.lit("</IBAN></Id></CdtrAcct><RmtInf><Ustrd>"),
        esc(pl.col("remittance")),
        pl.lit("</Ustrd></RmtInf></CdtTrfTxInf>"),
    )


def write_pain001(
    payouts: pl.DataFrame,
    debtor: DebtorAccount,
    *,
    execution_date: date,
    message_id: str,
    created_at: datetime,
    sink: BinaryIO,
    version: str = DEFAULT_VERSION,
    charset: Charset = Charset.DK,
) -> PainFile:
    """Write one pain.001 file (one PmtInf, id ``<message_id>-TRF``) to ``sink``. Deterministic for the
    same input; raises PainInputError / SepaTextError before writing anything."""
    if version not in VERSIONS:
        raise PainInputError(f"pain.001 version {version!r} not supported (one of {VERSIONS})")
    frame = check_frame(payouts, REQUIRED, OPTIONAL, TEXT_FIELDS, charset)
    pid = payment_info_id(message_id, "TRF")
    check_header_text(
        {
            "debtor_name": (debtor.name, FieldKind.NAME),
            "message_id": (message_id, FieldKind.ID),
            "payment_info_id": (pid, FieldKind.ID),
        },
        charset,
    )
    count = frame.height
    total = int(frame["amount_cents"].sum())
    tag = _bic_tag(version)
    dbtr_agt = (
        f"<FinInstnId><{tag}>{x(debtor.bic)}</{tag}></FinInstnId>"
        if debtor.bic
        else "<FinInstnId><Othr><Id>NOTPROVIDED</Id></Othr></FinInstnId>"
    )
    day = date_text(execution_date)
    exec_date = (
        f"<ReqdExctnDt>{day}</ReqdExctnDt>"
        if version == "pain.001.001.03"
        else f"<ReqdExctnDt><Dt>{day}</Dt></ReqdExctnDt>"
    )
    out = HashingSink(sink)
    out.write(
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f'<Document xmlns="urn:iso:std:iso:20022:tech:xsd:{version}" '
        'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">\n'
        f"<CstmrCdtTrfInitn><GrpHdr><MsgId>{x(message_id)}</MsgId><CreDtTm>{created_text(created_at)}</CreDtTm>"
        f"<NbOfTxs>{count}</NbOfTxs><CtrlSum>{amount_text(total)}</CtrlSum>"
        f"<InitgPty><Nm>{x(debtor.name)}</Nm></InitgPty></GrpHdr>\n"
        f"<PmtInf><PmtInfId>{x(pid)}</PmtInfId><PmtMtd>TRF</PmtMtd><BtchBookg>true</BtchBookg>"
        f"<NbOfTxs>{count}</NbOfTxs><CtrlSum>{amount_text(total)}</CtrlSum>"
        f"<PmtTpInf><SvcLvl><Cd>SEPA</Cd></SvcLvl></PmtTpInf>{exec_date}"
        f"<Dbtr><Nm>{x(debtor.name)}</Nm></Dbtr><DbtrAcct><Id><IBAN>{x(debtor.iban)}</IBAN></Id></DbtrAcct>"
        f"<DbtrAgt>{dbtr_agt}</DbtrAgt><ChrgBr>SLEV</ChrgBr>\n"
    )
    write_rows(out, frame, _row_xml(version))
    out.write("</PmtInf>\n</CstmrCdtTrfInitn>\n</Document>\n")
    info = PaymentInfoSummary(pid, None, count, total)
    return PainFile(version, message_id, count, total, (info,), out.hexdigest())


def pain001_bytes(payouts: pl.DataFrame, debtor: DebtorAccount, **kwargs: object) -> tuple[bytes, PainFile]:
    """write_pain001 into memory (small files, tests)."""
    buf = io.BytesIO()
    info = write_pain001(payouts, debtor, sink=buf, **kwargs)  # type: ignore[arg-type]
    return buf.getvalue(), info
