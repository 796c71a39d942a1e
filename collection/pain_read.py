"""Read a pain.008 or pain.001 file back into a frame: one row per transaction with its group's fields.

For the checks that close the loop (issue 16: "a test parses our own pain.008 and checks every amount
and id against the ledger") and for looking at files from elsewhere. Streamed (``iterparse``,
transactions freed as they pass); amounts become integer cents without a float in between; a file that
is not a pain.008/pain.001 is refused.
"""

from __future__ import annotations

import io
from decimal import Decimal
from pathlib import Path

import polars as pl
from lxml import etree

#: Columns of read_pain's frame (pain.001 rows leave the mandate and sequence fields null).
PAIN_ROWS_SCHEMA: dict[str, pl.DataType] = {
    "payment_info_id": pl.String(),
    "sequence_type": pl.String(),
    "requested_date": pl.Date(),
    "end_to_end_id": pl.String(),
    "amount_cents": pl.Int64(),
    "mandate_id": pl.String(),
    "mandate_date": pl.Date(),
    "party_name": pl.String(),
    "party_iban": pl.String(),
    "party_bic": pl.String(),
    "remittance": pl.String(),
}
_TX = {"DrctDbtTxInf": ("Dbtr", "DbtrAcct", "DbtrAgt"), "CdtTrfTxInf": ("Cdtr", "CdtrAcct", "CdtrAgt")}


def cents(text: str) -> int:
    """``"12.34"`` -> 1234; refuses more than two decimals rather than rounding."""
    value = Decimal(text.strip()) * 100
    if value != value.to_integral_value():
        raise ValueError(f"amount {text!r} has more than two decimals")
    return int(value)


def read_pain(source: bytes | Path) -> pl.DataFrame:
    """All transactions of a pain.008/pain.001 file (PAIN_ROWS_SCHEMA), in file order."""
    rows: dict[str, list[object]] = {c: [] for c in PAIN_ROWS_SCHEMA}
    group: dict[str, str | None] = {}
    stream = io.BytesIO(source) if isinstance(source, bytes) else open(source, "rb")  # noqa: SIM115
    with stream:
        for event, el in etree.iterparse(stream, events=("start", "end"), huge_tree=True, resolve_entities=False,
                                         no_network=True, load_dtd=False):
            name = etree.QName(el).localname
            if event == "start":
                if name == "Document" and not (etree.QName(el).namespace or "").split(":")[-1].startswith(
                    "pain."
                ):
                    raise ValueError("not a pain document")
                continue
            if name in ("ReqdColltnDt", "ReqdExctnDt"):
                group["date"] = (el.findtext("{*}Dt") or el.text or "").strip()[:10]
            elif name == "SeqTp":
                group["seq"] = el.text
            elif name == "PmtInfId":
                group = {"id": el.text}
            elif name in _TX:
                party, acct, agent = _TX[name]
                rows["payment_info_id"].append(group.get("id"))
                rows["sequence_type"].append(group.get("seq"))
                rows["requested_date"].append(group.get("date"))
                rows["end_to_end_id"].append(el.findtext("{*}PmtId/{*}EndToEndId"))
                amount = el.findtext("{*}InstdAmt")
                if amount is None:
                    amount = el.findtext("{*}Amt/{*}InstdAmt")
                rows["amount_cents"].append(cents(amount or ""))
                rows["mandate_id"].append(el.findtext("{*}DrctDbtTx/{*}MndtRltdInf/{*}MndtId"))
                rows["mandate_date"].append(el.findtext("{*}DrctDbtTx/{*}MndtRltdInf/{*}DtOfSgntr"))
                rows["party_name"].append(el.findtext(f"{{*}}{party}/{{*}}Nm"))
                rows["party_iban"].append(el.findtext(f"{{*}}{acct}/{{*}}Id/{{*}}IBAN"))
                fin = el.find(f"{{*}}{agent}/{{*}}FinInstnId")
                bic = None if fin is None else (fin.findtext("{*}BICFI") or fin.findtext("{*}BIC"))
                rows["party_bic"].append(bic)
                rows["remittance"].append(el.findtext("{*}RmtInf/{*}Ustrd"))
                el.clear(keep_tail=True)
    frame = pl.DataFrame(
        {c: v for c, v in rows.items()},
        schema={c: (pl.String() if t == pl.Date() else t) for c, t in PAIN_ROWS_SCHEMA.items()},
    )
    return frame.with_columns(pl.col("requested_date", "mandate_date").str.to_date("%Y-%m-%d", strict=True))
