"""A claim's notice as the finance system exported it, for the case file (docs/DOCUMENTS.md, issue 17 §3).

Stadtkasse never sees the Bescheid itself: it sees the Sollstellung, the claim's row in each open-items
export that carried it. The case file keeps that record: per case one CSV (the repo's Excel CSV:
UTF-8 with BOM, ``;``, decimal comma) with a row per export that carried the claim — when and from which
file and line it came (every row knows where it came from), and what the row said then (Kassenzeichen,
type, amount, due date, the notice's date and reference, the debtor and address, the block columns). The
first row is the Sollstellung as it arrived; later rows show how the finance system changed it.

Pure: frames in, bytes out. The rows come from ``ledger.enforcement_state.export_history``; the hand-off job files one
document per case (``DocumentKind.NOTICE_EXPORT``, subject ``case``).
"""

from __future__ import annotations

import polars as pl

from outputs.excel_csv import Col, excel_csv_bytes

#: The columns of one export row (source column, German header, kind), oldest export first.
NOTICE_EXPORT_COLUMNS: tuple[Col, ...] = (
    Col("imported_at", "eingelesen am (UTC)"), Col("import_id", "Import"), Col("source_file", "Datei"),
    Col("source_line", "Zeile"), Col("kassenzeichen", "Kassenzeichen"), Col("claim_type", "Forderungsart"),
    Col("amount_cents", "Betrag laut Export", "cents"), Col("due_date", "fällig am", "date"),
    Col("notice_date", "Bescheid vom", "date"), Col("external_ref", "Bescheid / Aktenzeichen"),
    Col("law", "Recht"), Col("debtor_id", "Schuldner-Nr."), Col("debtor_name", "Name"),
    Col("debtor_street", "Straße"), Col("debtor_postcode", "PLZ"), Col("debtor_city", "Ort"),
    Col("debtor_country", "Land"), Col("debtor_birth_date", "Geburtsdatum", "date"),
    Col("dunning_block_until", "Mahnsperre bis", "date"), Col("block_reason", "Sperrgrund"),
)


def notice_export_documents(history: pl.DataFrame, key: str = "case_number") -> list[tuple[str, bytes, int]]:
    """Per value of ``key`` (a case, by default): (key, CSV bytes, number of rows) — its claims' export
    rows, claim by claim, each claim's rows oldest export first; in the order of the keys' first rows.

    The CSV is written once for all rows and cut into one file per key (each with the header), so a
    hand-off of 100,000 cases costs one CSV write, not 100,000; line breaks inside a text become a space
    first, so one row is one line."""
    if history.is_empty():
        return []
    kinds = {c.source: c.kind for c in NOTICE_EXPORT_COLUMNS}
    missing = [pl.lit(None, pl.Date if kinds[c] == "date" else pl.Int64 if kinds[c] == "cents" else pl.String).alias(c)
               for c in kinds if c not in history.columns]
    texts = [c for c, kind in kinds.items() if kind == "text"]
    ordered = (history.with_columns(missing)
               .with_columns(pl.col("imported_at").dt.to_string("%Y-%m-%d %H:%M:%S")
                             if history.schema.get("imported_at", pl.String).is_temporal() else pl.col("imported_at"))
               .with_columns(pl.col(c).cast(pl.String).str.replace_all(r"[\r\n]+", " ") for c in texts)
               .with_row_index("_in")
               .with_columns(pl.col("_in").min().over(key).alias("_first"))
               .sort("_first", "receivable_id", "imported_at", "import_id"))
    lines = excel_csv_bytes(ordered, NOTICE_EXPORT_COLUMNS).split(b"\r\n")
    head, body = lines[0], lines[1:]
    if body and body[-1] == b"":
        body = body[:-1]
    out: list[tuple[str, bytes, int]] = []
    start = 0
    for value, n in ordered.select(pl.col(key).rle()).unnest(key).select("value", "len").iter_rows():
        out.append((str(value), b"\r\n".join([head, *body[start:start + n], b""]), n))
        start += n
    return out
