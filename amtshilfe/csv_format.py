"""The bulk CSV of enforcement requests (docs/AMTSHILFE.md "Formats", the column list): how creditors without
an XML interface deliver, as German Excel writes it.

One row per underlying notice; the rows of one request share the creditor's id and file number (the
request's key) and repeat the request's columns. German Excel conventions: ``;`` between fields, decimal
comma (``1.234,56`` or ``1234,56``), dates ``dd.mm.yyyy``; UTF-8 with or without BOM, or Windows-1252
(what Excel writes as "CSV (Trennzeichen-getrennt)"); CRLF or LF. The file's encoding is decided, not
guessed: a BOM or valid UTF-8 is UTF-8, anything else is read as Windows-1252 (bytes it does not define
refuse the file). A leading apostrophe that an Excel export put before ``= + - @`` (formula protection, as
``outputs/excel_csv.py`` writes it) is taken off again.

Whole file refused (:class:`~amtshilfe.xml_format.AmtshilfeFileError`): not decodable, no header row,
a required column missing, a header twice. A row is **rejected** (file, line, column, reason) for a
missing required field, an amount or date that does not parse, or a field count that differs from the
header's (its key read from the fields it has); and because a request without one of its notices would
demand too little, every other row of that request is rejected with it (naming the line that failed), as
are the rows of a request whose request columns differ between rows. Columns we do not know are listed in ``ignored_columns``, not read. Empty
lines (``;;;;``, as Excel leaves them) are not rows. ``count_in == notices.height + rejected.height``.

The CSV carries requests only (changes come as XML); :func:`write_requests_csv` writes the same columns
(for synth and tests).
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import polars as pl

from amtshilfe.model import Notice, Request, Requests, columns, requests
from amtshilfe.xml_format import REJECTED_SCHEMA, AmtshilfeFileError
from claims.vocab import ErsuchenMessage

Kind = Literal["text", "date", "cents"]


@dataclass(frozen=True)
class Column:
    header: str
    field: str
    kind: Kind = "text"
    required: bool = False


#: The columns, in the order the writer puts them (the reader takes any order; headers case-insensitive).
COLUMNS: tuple[Column, ...] = (
    Column("Nachrichten-ID", "message_id"),
    Column("Gläubiger-Kennung", "creditor_id"),
    Column("Gläubiger", "creditor_name"),
    Column("Aktenzeichen Gläubiger", "creditor_file_number", required=True),
    Column("Gläubiger Straße", "creditor_street"),
    Column("Gläubiger PLZ", "creditor_postcode"),
    Column("Gläubiger Ort", "creditor_city"),
    Column("Gläubiger IBAN", "creditor_iban"),
    Column("Gläubiger BIC", "creditor_bic"),
    Column("Zahlungsreferenz", "payment_reference"),
    Column("Ersuchensdatum", "request_date", "date", required=True),
    Column("Schuldner Name", "debtor_name"),
    Column("Schuldner Vorname", "debtor_given_name"),
    Column("Geburtsdatum", "debtor_birth_date", "date"),
    Column("Straße", "debtor_street"),
    Column("PLZ", "debtor_postcode"),
    Column("Ort", "debtor_city"),
    Column("Land", "debtor_country"),
    Column("Vollstreckbarkeitserklärung", "enforceable_statement"),
    Column("Vollstreckbar seit", "enforceable_date", "date"),
    Column("Bescheiddatum", "notice_date", "date"),
    Column("Bescheid Behörde", "notice_authority"),
    Column("Bescheid Aktenzeichen", "notice_file_number"),
    Column("Zeitraum von", "period_from", "date"),
    Column("Zeitraum bis", "period_to", "date"),
    Column("Hauptforderung", "principal_cents", "cents", required=True),
    Column("Säumniszuschläge", "surcharge_cents", "cents"),
    Column("Kosten", "costs_cents", "cents"),
)
_BY_HEADER = {c.header.casefold(): c for c in COLUMNS}
#: The request's own columns: every row of a request must agree on them.
REQUEST_FIELDS = tuple(c for c in columns(Request) if c != "message_id")
_KEY = ("creditor_id", "creditor_file_number")
_AMOUNT = r"^(?:[0-9]{1,3}(?:\.[0-9]{3})+|[0-9]+)(?:,[0-9]{1,2})?$"
_DATE = r"^[0-9]{1,2}\.[0-9]{1,2}\.[0-9]{4}$"


@dataclass(frozen=True)
class CsvRead:
    data: Requests
    rejected: pl.DataFrame
    count_in: int
    encoding: str
    ignored_columns: tuple[str, ...]


def _decode(data: bytes, file: str) -> tuple[str, str]:
    if data.startswith(b"\xef\xbb\xbf"):
        return data[3:].decode("utf-8", errors="strict"), "utf-8-sig"
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("cp1252"), "cp1252"
    except UnicodeDecodeError as exc:
        raise AmtshilfeFileError(f"neither UTF-8 nor Windows-1252 (byte {data[exc.start]:#04x} at offset "
                                 f"{exc.start})", file=file) from exc


def _cents(col: str) -> pl.Expr:
    """German amount text (``1.234.567,89``, ``0,01``, ``12``) as cents; null when it is not one."""
    s = pl.col(col)
    whole = s.str.extract(r"^([0-9.]+)", 1).str.replace_all(".", "", literal=True).cast(pl.Int64, strict=False)
    frac = s.str.extract(r",([0-9]{1,2})$", 1).str.pad_end(2, "0").cast(pl.Int64, strict=False).fill_null(0)
    return pl.when(s.str.contains(_AMOUNT)).then(whole * 100 + frac).otherwise(None)


def _date(col: str) -> pl.Expr:
    s = pl.col(col)
    return pl.when(s.str.contains(_DATE)).then(s.str.to_date("%d.%m.%Y", strict=False)).otherwise(None)


def read_requests_csv(source: bytes | Path, *, file: str | None = None) -> CsvRead:
    """Read a bulk CSV into :class:`~amtshilfe.model.Requests` (module docstring)."""
    name = file or (source.name if isinstance(source, Path) else "<bytes>")
    text, encoding = _decode(source if isinstance(source, bytes) else source.read_bytes(), name)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=";", quotechar='"')
    try:
        head = next(reader)
    except StopIteration:
        raise AmtshilfeFileError("no header row", file=name) from None
    keys = [h.strip().casefold() for h in head]
    known = [_BY_HEADER.get(k) for k in keys]
    fields = [c.field for c in known if c is not None]
    if len(fields) != len(set(fields)):
        raise AmtshilfeFileError("a column header appears twice", file=name, line=1)
    missing = [c.header for c in COLUMNS if c.required and c.field not in fields]
    if missing:
        raise AmtshilfeFileError(f"required column(s) missing: {', '.join(missing)}", file=name, line=1)
    ignored = tuple(h.strip() for h, c in zip(head, known, strict=True) if c is None)
    rows: list[list[str | None]] = []
    lines: list[int] = []
    ragged: list[str | None] = []
    start = reader.line_num + 1
    for record in reader:
        if any(v.strip() for v in record):
            # a row of the wrong length is rejected, but kept as a row (cut or padded to the header) so that
            # the key it still shows rejects the other rows of its request too: read without this row, the
            # request would demand too little. A key read from a shifted row can only reject more, never
            # let a wrong row through.
            ragged.append(f"{len(record)} fields, the header has {len(head)}" if len(record) != len(head) else None)
            record = (record + [""] * len(head))[: len(head)]
            rows.append([v.strip() or None for v, c in zip(record, known, strict=True) if c is not None])
            lines.append(start)
        start = reader.line_num + 1
    raw = pl.DataFrame(rows, schema={f: pl.String() for f in fields}, orient="row").with_columns(
        line=pl.Series(lines, dtype=pl.Int64()), ragged=pl.Series(ragged, dtype=pl.String()))
    raw = raw.with_columns([pl.lit(None, pl.String()).alias(c.field) for c in COLUMNS if c.field not in fields])
    raw = raw.with_columns(pl.when(pl.col(c.field).str.contains(r"^'[=+\-@\t\r]")).then(pl.col(c.field).str.slice(1))
                           .otherwise(pl.col(c.field)) for c in COLUMNS if c.kind == "text")
    parsed, reasons = _parse(raw)
    return _assemble(parsed.with_columns(reason=pl.coalesce(pl.col("ragged"), reasons)), name, encoding, ignored)


def _parse(raw: pl.DataFrame) -> tuple[pl.DataFrame, pl.Expr]:
    """Every field parsed (vectorised), and the expression of each row's reasons (null: the row is fine)."""
    values, problems = [], []
    for c in COLUMNS:
        col = pl.col(c.field)
        if c.kind == "cents":
            values.append(_cents(c.field).alias(c.field))
            bad = col.is_not_null() & _cents(c.field).is_null()
            problems.append(pl.when(bad).then(pl.format("{}: not an amount '{}'", pl.lit(c.header), col)))
        elif c.kind == "date":
            values.append(_date(c.field).alias(c.field))
            bad = col.is_not_null() & _date(c.field).is_null()
            problems.append(pl.when(bad).then(pl.format("{}: not a date dd.mm.yyyy '{}'", pl.lit(c.header), col)))
        if c.required:
            problems.append(pl.when(col.is_null()).then(pl.lit(f"{c.header}: missing")))
    period = pl.col("period_from").is_not_null() & (_date("period_from") > _date("period_to"))
    problems.append(pl.when(period).then(pl.lit("Zeitraum bis: the period ends before it starts")))
    reasons = pl.concat_list(problems).list.drop_nulls().list.join("; ")
    parsed = raw.with_columns(reason_raw=reasons).with_columns(values).with_columns(
        pl.col("surcharge_cents", "costs_cents").fill_null(0))
    return parsed, pl.when(pl.col("reason_raw") != "").then(pl.col("reason_raw"))


def _first_column(reason: pl.Expr) -> pl.Expr:
    """The column a row reason starts with (``Hauptforderung: …``); null for reasons about the request."""
    head = reason.str.extract(r"^([^:]+):", 1)
    return pl.when(head.is_in([c.header for c in COLUMNS])).then(head)


def _assemble(df: pl.DataFrame, file: str, encoding: str, ignored: tuple[str, ...]) -> CsvRead:
    count_in = df.height
    c = pl.col
    df = df.with_columns(c("message_id").fill_null(pl.format("Z{}", c("line").min().over(_KEY))))
    # the request columns must agree within a request, and a message id must name one request
    # (among the rows without an error of their own: a field that did not parse is null, not different)
    fine = c("reason").is_null()
    differ = [pl.when(c(f).filter(fine).n_unique().over(_KEY) > 1).then(pl.lit(f)) for f in REQUEST_FIELDS]
    split_id = c("creditor_file_number").n_unique().over("message_id") + c("creditor_id").n_unique().over("message_id")
    df = df.with_columns(disagree=pl.concat_list(differ).list.drop_nulls())
    df = df.with_columns(
        reason=pl.when(c("reason").is_not_null()).then(c("reason"))
        .when(split_id > 2).then(pl.format("message id {} names more than one request", c("message_id")))
        .when((c("disagree").list.len() > 0) & c("creditor_file_number").is_not_null())
        .then(pl.format("rows of request {} differ in {}", c("creditor_file_number"), c("disagree").list.join(", "))))
    first_bad = c("line").filter(c("reason").is_not_null()).min().over(_KEY)
    df = df.with_columns(
        reason=pl.when(c("reason").is_null() & first_bad.is_not_null())
        .then(pl.format("another row of request {} was rejected (line {})", c("creditor_file_number"), first_bad))
        .otherwise(c("reason")))
    bad = df.filter(c("reason").is_not_null())
    good = df.filter(c("reason").is_null()).with_columns(position=pl.int_range(1, pl.len() + 1).over("message_id"))
    rejected = bad.select(file=pl.lit(file), line="line", element=_first_column(c("reason")),
                          message=pl.lit(str(ErsuchenMessage.ERSUCHEN)), message_id="message_id",
                          creditor_file_number="creditor_file_number", reason="reason",
                          ).cast(REJECTED_SCHEMA).sort("line")   # type: ignore[arg-type]
    reqs = good.group_by("message_id", maintain_order=True).first().select(list(columns(Request)))
    data = requests(reqs, good.select(list(columns(Notice))), None)
    return CsvRead(data, rejected, count_in, encoding, ignored)


def _cents_text(col: str) -> pl.Expr:
    """Cents as ``1234,56`` (no thousands separator, as Excel writes a plain number)."""
    v = pl.col(col)
    return pl.format("{},{}", (v // 100).cast(pl.String), (v % 100).cast(pl.String).str.pad_start(2, "0"))


def write_requests_csv(data: Requests, *, encoding: Literal["utf-8-sig", "utf-8", "cp1252"] = "utf-8-sig",
                       line_terminator: Literal["\r\n", "\n"] = "\r\n") -> bytes:
    """The bulk CSV of ``data`` (requests with at least one notice each; no changes), one row per notice in
    request order. Text that Excel would run as a formula gets the leading apostrophe."""
    data = requests(data.requests, data.notices, data.changes)
    if data.changes.height:
        raise AmtshilfeFileError("the CSV carries requests only; changes go as XML")
    rows = data.requests.with_row_index("_request").join(data.notices, on="message_id", how="inner")
    if rows.select(pl.col("message_id").n_unique()).item() != data.requests.height:
        raise AmtshilfeFileError("every request in the CSV needs at least one notice")
    if data.notices.join(data.requests, on="message_id", how="anti").height:
        raise AmtshilfeFileError("notices of no request")
    if data.requests.select(pl.struct(_KEY).is_duplicated().any()).item():
        raise AmtshilfeFileError("two requests with the same creditor and file number")
    out = []
    for col in COLUMNS:
        v = pl.col(col.field)
        if col.kind == "cents":
            e = _cents_text(col.field)
        elif col.kind == "date":
            e = v.dt.to_string("%d.%m.%Y")
        else:
            e = pl.when(v.str.contains(r"^[=+\-@\t\r]")).then(pl.concat_str([pl.lit("'"), v])).otherwise(v)
        out.append(e.alias(col.header))
    buf = io.StringIO()
    rows.sort("_request", "position").select(out).write_csv(buf, separator=";", line_terminator=line_terminator, quote_style="necessary")
    try:
        return buf.getvalue().encode(encoding)
    except UnicodeEncodeError as exc:
        raise AmtshilfeFileError(f"a character Windows-1252 cannot hold: {exc.object[exc.start:exc.end]!r}") from exc
