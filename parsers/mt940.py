"""MT940 / MT942 bank statements to the canonical frames (vectorised, Polars).

Pipeline: bytes -> text (:mod:`parsers.text_decoding`) -> lines and fields
(:mod:`parsers.mt940_lines`) -> statement heads (:mod:`parsers.mt940_statements`) and entries
(``:61:`` grammar in :mod:`parsers.mt940_entries`, ``:86:`` DK details in
:mod:`parsers.mt940_details`). Every problem becomes an :class:`~parsers.issues.Issue`; the
function never raises on bad input.
"""

from __future__ import annotations

from pathlib import Path

import polars as pl

from claims.vocab import StatementKind
from parsers.ids import statement_key, with_transaction_ids
from parsers.issues import ERROR, INFO, MAX_PER_CHECK, WARNING, Issue
from parsers.mt940_details import parse_details
from parsers.mt940_entries import amount_cents, parse_line61
from parsers.mt940_lines import (
    MAX_FIELD_CHARS,
    MAX_LINE_CHARS,
    MAX_STATEMENTS,
    MAX_TAG_LINES,
    normalise,
    overlong,
    split_fields,
    tag_lines,
)
from parsers.mt940_statements import statement_heads
from parsers.result import ParseResult
from parsers.schema import STATEMENT_SCHEMA, TRANSACTION_SCHEMA, conform
from parsers.text_decoding import decode_bank_text

#: Tags after which a following :86: no longer belongs to the entry before it.
_OWNER_RESET = ["20", "21", "25", "28", "28C", "60F", "60M", "62F", "62M", "64", "65", "13", "13D", "34F", "90D", "90C"]


def _issues(df: pl.DataFrame, path: str, severity: str, code: str, message: pl.Expr, raw: pl.Expr,
            locator: pl.Expr) -> list[Issue]:
    """Issues for the rows of ``df`` (only rows with a problem are passed), at most :data:`MAX_PER_CHECK`
    listed and the rest counted in one more issue (as camt does): a hostile file of a million equal
    findings must not become a million Python objects."""
    if df.height == 0:
        return []
    rows = df.head(MAX_PER_CHECK).select(locator.alias("l"), message.alias("m"), raw.fill_null("").alias("r")).rows()
    # a message formatted from a null value would be null: the code then speaks for itself
    out = [Issue(path, loc, severity, code, msg or f"{code} (no more detail)", r) for loc, msg, r in rows]
    if df.height > MAX_PER_CHECK:
        out.append(Issue(path, "", severity, code,
                         f"{df.height - MAX_PER_CHECK:,} more like the ones above (not listed one by one)"))
    return out


def _at(tag: str, line: str = "line_no") -> pl.Expr:
    return pl.format("line {} :" + tag + ":", pl.col(line))


def _note_issues(notes: pl.DataFrame, path: str) -> list[Issue]:
    """Unknown tags and tags outside a message are warnings; text outside messages one info."""
    line = pl.format("line {}", pl.col("line_no"))
    out = _issues(notes.filter(pl.col("kind") == "unknown"), path, WARNING, "mt940.unknown_tag",
                  pl.format("unknown tag {} (expected an MT940/MT942 tag); line kept as its own field",
                            pl.col("raw").str.extract(r"^(:[^:]*:)", 1).fill_null("?")), pl.col("raw"), line)
    out += _issues(notes.filter(pl.col("kind") == "outside_tag"), path, WARNING, "mt940.outside_statement",
                   pl.lit("tag outside a statement (no :20: before it since the last end marker); ignored"),
                   pl.col("raw"), line)
    text = notes.filter(pl.col("kind") == "outside_text")
    if text.height:
        first = text.row(0, named=True)
        out.append(Issue(path, f"line {first['line_no']}", INFO, "mt940.text_outside_statement",
                         f"{text.height} piece(s) of text outside any statement ignored (header, preamble)",
                         "\n".join(text["raw"].head(3).to_list())[:2000]))
    return out


def _owned_details(fields: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Attach each :86: to the :61: before it in its statement. Returns (details per entry, orphans)."""
    owner = (
        pl.when(pl.col("tag") == "61").then(pl.col("field_no"))
        .when(pl.col("tag").is_in(_OWNER_RESET)).then(-1)
        .forward_fill().fill_null(-1)
    )
    d86 = fields.with_columns(owner.alias("owner")).filter(pl.col("tag") == "86")
    owned = d86.filter(pl.col("owner") >= 0)
    if not (owned["owner"] == owned["owner"].shift(1)).any():  # one :86: per entry (owners ascend)
        return owned.select(pl.col("owner").alias("field_no"), pl.col("content").alias("details")), d86.filter(
            pl.col("owner") < 0
        )
    counts = owned.group_by("owner").len()
    single = owned.join(counts.filter(pl.col("len") == 1), on="owner", how="semi").select("owner", "content")
    multi = (
        owned.join(counts.filter(pl.col("len") > 1), on="owner", how="semi")
        .group_by("owner", maintain_order=True)
        .agg(pl.col("content").str.join("\n"))
    )
    details = pl.concat([single, multi]).rename({"owner": "field_no", "content": "details"})
    return details, d86.filter(pl.col("owner") < 0)


def _statement_rows(heads: pl.DataFrame, entries: pl.DataFrame, meta: dict[str, str]) -> pl.DataFrame:
    """The statements frame, with entry counts, sums and the balance check."""
    agg = entries.group_by("stmt").agg(
        pl.len().cast(pl.Int32).alias("n_entries"),
        pl.col("amount_cents").filter(pl.col("booked")).sum().alias("entries_sum_cents"),
        pl.col("booking_date").min().alias("first_booking_date"),
        pl.col("booking_date").max().alias("last_booking_date"),
    )
    st = heads.join(agg, on="stmt", how="left").with_columns(
        pl.col("n_entries").fill_null(0),
        pl.col("entries_sum_cents").fill_null(0),
    )
    return st.with_columns(
        pl.col("n_entries").alias("n_details"),
        (pl.col("opening_cents") + pl.col("entries_sum_cents") == pl.col("closing_cents")).alias("balance_ok"),
        pl.col("stmt").alias("statement_index"),
        pl.when(pl.col("is_mt942")).then(pl.lit(StatementKind.INTERIM)).otherwise(pl.lit(StatementKind.STATEMENT)).alias("kind"),
        pl.lit(meta["tenant"]).alias("tenant"),
        pl.lit(meta["source_file"]).alias("source_file"),
        pl.lit(meta["source_path"]).alias("source_path"),
    )


def _keys(heads: pl.DataFrame) -> pl.DataFrame:
    """``statement_key`` and ``statement_id`` per statement (a Python call per statement: few)."""
    rows = heads.select("stmt", "account", "statement_no", "ref", "opening_date", "opening_cents",
                        "closing_date", "closing_cents", "is_mt942").rows(named=True)
    keys, ids = [], []
    for r in rows:
        o_d, o_c = (None, None) if r["is_mt942"] else (r["opening_date"], r["opening_cents"])
        keys.append(statement_key(r["account"], r["statement_no"], o_d, o_c, r["closing_date"], r["closing_cents"]))
        ids.append(f"{r['ref'] or ''}/{r['statement_no'] or ''}")
    return heads.with_columns(
        pl.Series("statement_key", keys, dtype=pl.String), pl.Series("statement_id", ids, dtype=pl.String),
        pl.col("account").str.replace_all(" ", "", literal=True).alias("account_iban"),
        pl.when(pl.col("is_mt942")).then(pl.lit("mt942")).otherwise(pl.lit("mt940")).alias("source_format"),
    )


def _head_issues(heads: pl.DataFrame, path: str) -> list[Issue]:
    def given(c: str) -> pl.Expr:
        return pl.when(pl.col(c).str.len_bytes() > 0).then(pl.col(c).str.slice(0, 60))

    st = pl.format("statement {}", pl.coalesce(given("statement_no"), given("ref"), pl.lit("(no :20:/:28C:)")))
    stmt = heads.filter(~pl.col("is_mt942"))
    out = _issues(stmt.filter(pl.col("closing_raw").is_null()), path, WARNING, "mt940.missing_closing",
                  pl.format("{}: no closing balance :62F:/:62M: (expected one per statement)", st),
                  pl.lit(""), pl.format("line {} :20:", pl.col("line_20")))
    out += _issues(stmt.filter(pl.col("opening_raw").is_null()), path, WARNING, "mt940.missing_opening",
                   pl.format("{}: no opening balance :60F:/:60M:", st), pl.lit(""),
                   pl.format("line {} :20:", pl.col("line_20")))
    for which in ("opening", "closing"):
        bad = heads.filter(pl.col(f"{which}_raw").is_not_null() & ~pl.col(f"{which}_ok"))
        out += _issues(bad, path, ERROR, "mt940.bad_balance",
                       pl.format("{}: {} balance '{}' is not C/D + YYMMDD + currency + amount", st, pl.lit(which),
                                 pl.col(f"{which}_raw")),
                       pl.col(f"{which}_raw"), pl.format("line {} :{}:", pl.col(f"{which}_raw_line"),
                                                         pl.col(f"{which}_raw_tag")))
    out += _issues(heads.filter(pl.col("account").is_null()), path, WARNING, "mt940.missing_account",
                   pl.format("{}: no account :25:", st), pl.lit(""), pl.format("line {} :20:", pl.col("line_20")))
    return out


def _entry_issues(e: pl.DataFrame, path: str) -> list[Issue]:
    raw = pl.col("raw")
    content = pl.col("content").fill_null("")
    why = (pl.when(pl.col("mark").is_null()).then(pl.lit("does not match YYMMDD[MMDD]C|D|RC|RD[funds]amount"))
           .when(pl.col("value_date").is_null()).then(pl.format("value date '{}' is not a date", content.str.slice(0, 6)))
           .otherwise(pl.lit("the amount is not a decimal with a comma (at most 15 digits, 2 after the comma)")))
    out = _issues(e.filter(~pl.col("line_ok")), path, ERROR, "mt940.bad_entry",
                  pl.format(":61: '{}': {}; the entry cannot be read", content.str.extract(r"^([^\n]*)", 1), why),
                  raw, _at("61"))
    out += _issues(e.filter(pl.col("date_clamped")), path, WARNING, "mt940.date_clamped",
                   pl.format("date beyond the month's end in '{}' (e.g. 30 February) read as the month's last day",
                             content.str.slice(0, 10)), raw, _at("61"))
    out += _issues(e.filter(pl.col("entry_date_bad") & pl.col("line_ok")), path, WARNING, "mt940.bad_entry_date",
                   pl.format("entry date '{}' is not a date; booking date set to the value date",
                             content.str.slice(6, 4)), raw, _at("61"))
    out += _issues(e.filter(pl.col("details_bad_subfield").is_not_null()), path, WARNING, "mt940.invalid_subfield",
                   pl.format("invalid :86: subfield marker(s) {} (expected ?00 ?10 ?20-?34 ?60-?63): ?2 + letter read as a purpose line, others kept as text",
                             pl.col("details_bad_subfield")), raw, _at("61"))
    return out


def _too_long(text: str, path: str, max_tag_lines: int = MAX_TAG_LINES) -> Issue | None:
    """An error for a line or field far longer than any bank statement has, or for more fields than
    one file may hold (file rejected), else None. Checked on the text, before anything is built."""
    n = tag_lines(text)
    if n > max_tag_lines:
        return _too_many(path, "fields", n, max_tag_lines, "lines starting with a tag")
    found = overlong(text)
    if found is None:
        return None
    what, line, length = found
    if what == "line":
        return Issue(path, f"line {line}", ERROR, "mt940.line_too_long",
                     f"line {line} has {length:,} characters; MT940 lines have at most 65 (SWIFT), real files a few "
                     f"hundred: over {MAX_LINE_CHARS:,} it is not a bank statement (file rejected)")
    return Issue(path, f"line {line}", ERROR, "mt940.field_too_long",
                 f"the field from line {line} runs {length:,} characters to the next tag; the longest MT940 field "
                 f"(:86:) has about 1,000: over {MAX_FIELD_CHARS:,} it is not a bank statement (file rejected)")


def _too_many(path: str, what: str, n: int, limit: int, lines: str) -> Issue:
    return Issue(path, "", ERROR, f"mt940.too_many_{what}",
                 f"the file has {n:,} {what} ({lines}), more than the {limit:,} one file may hold (memory grows "
                 "with them): file rejected; split it, or it is not a bank statement")


def _crowded(fields: pl.DataFrame, path: str) -> Issue | None:
    """Too many statements, or a field glued from tag-like lines too long: checked on the fields (their
    number is bounded already), before the statement heads and entries are built."""
    statements = fields.select(pl.col("stmt").max()).item() + 1
    if statements > MAX_STATEMENTS:
        return _too_many(path, "statements", statements, MAX_STATEMENTS, "lines starting with :20:")
    return _glued_too_long(fields, path)


def _glued_too_long(fields: pl.DataFrame, path: str) -> Issue | None:
    """Like :func:`_too_long` for a field glued from tag-like lines (``:86:`` followed by ``:XY:`` lines)."""
    length = fields.get_column("content").str.len_chars()
    if not (length > MAX_FIELD_CHARS).any():
        return None
    row = fields.filter(length > MAX_FIELD_CHARS).row(0, named=True)
    return Issue(path, f"line {row['line_no']} :{row['tag']}:", ERROR, "mt940.field_too_long",
                 f"the field :{row['tag']}: from line {row['line_no']} runs {len(row['content']):,} characters (its "
                 f"continuation lines look like tags); the longest MT940 field (:86:) has about 1,000: over "
                 f"{MAX_FIELD_CHARS:,} it is not a bank statement (file rejected)")


def _no_entries(e: pl.DataFrame, path: str) -> Issue:
    """The error that rejects a file whose text holds ``:61:`` but from which no entry was read."""
    if e.height == 0:
        return Issue(path, "", ERROR, "mt940.entries_lost",
                     "the text holds ':61:' but no :61: field starts a line (unknown line ends or layout?): no entry "
                     "read, file rejected rather than read as statements without entries")
    first = e.select(pl.col("line_no").min()).item()
    return Issue(path, f"line {first} :61:", ERROR, "mt940.entries_lost",
                 f"none of the {e.height} :61: entries could be read (see the mt940.bad_entry errors): file rejected "
                 "rather than read as statements without entries")


def parse_mt940(path: Path, *, sha256: str, tenant: str = "default", encoding: str | None = None,
                max_tag_lines: int = MAX_TAG_LINES) -> ParseResult:
    """Parse an MT940/MT942 file into canonical transactions, statements and issues.

    >>> r = parse_mt940(Path("../shared/samples/mt940/WoLpH__mt940__february_30.sta"), sha256="x")  # doctest: +SKIP
    """
    spath = str(path)
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        return ParseResult(issues=[Issue(spath, "", ERROR, "mt940.unreadable", f"cannot read file: {exc}")])
    dec = decode_bank_text(data, encoding, newlines=True)
    del data
    issues = [Issue(spath, "", sev, code, msg) for sev, code, msg in dec.notes]
    text = normalise(dec.text)
    del dec
    too_long = _too_long(text, spath, max_tag_lines)
    if too_long is not None:
        return ParseResult(issues=[*issues, too_long])
    has_61 = ":61:" in text
    fields, notes = split_fields(text)
    del text  # the text is no longer needed: free it before the heavy part
    issues += _note_issues(notes, spath)
    if fields.filter(pl.col("stmt") >= 0).height == 0:
        issues.append(Issue(spath, "", ERROR, "mt940.no_statement", "no MT940/MT942 statement (no :20: tag) found"))
        return ParseResult(issues=issues)
    crowded = _crowded(fields, spath)
    if crowded is not None:
        return ParseResult(issues=[*issues, crowded])
    meta = {"tenant": tenant, "source_file": sha256, "source_path": spath}
    heads = _keys(statement_heads(fields))
    issues += _head_issues(heads, spath)
    details, orphans = _owned_details(fields)
    if orphans.height:
        issues += _issues(orphans, spath, INFO, "mt940.statement_info",
                          pl.lit(":86: not after a :61: (statement-level information, e.g. Danske); not an entry"),
                          pl.col("content"), _at("86"))
    f61 = fields.filter(pl.col("tag") == "61").with_columns(
        pl.int_range(pl.len(), dtype=pl.Int32).over("stmt").alias("entry_index")
    )
    e = parse_details(parse_line61(f61).join(details, on="field_no", how="left"))
    e = e.with_columns(
        pl.concat_str([pl.lit(":61:"), pl.col("content"),
                       pl.when(pl.col("details").is_not_null()).then(pl.lit("\n:86:") + pl.col("details"))
                       .otherwise(pl.lit(""))]).alias("raw")
    )
    issues += _entry_issues(e, spath)
    if has_61 and not e.get_column("line_ok").any():
        # entries in the text and none read: never a statement with 0 entries that looks fine
        return ParseResult(issues=[_no_entries(e, spath), *issues])
    head_cols = heads.select("stmt", "account_iban", "statement_id", "statement_key", "currency", "source_format",
                             "is_mt942")
    e = e.filter(pl.col("line_ok")).join(head_cols, on="stmt", how="left").with_columns(
        pl.when(pl.col("is_mt942")).then(pl.lit("PDNG")).otherwise(pl.lit("BOOK")).alias("status"),
        (~pl.col("is_mt942")).alias("booked"),
        pl.lit(0, dtype=pl.Int32).alias("detail_index"),
        pl.coalesce("details_customer_ref", "line_customer_ref").alias("customer_ref"),
        pl.coalesce("original_amount_cents", _amount_text("details_oamt")).alias("original_amount_cents"),
        pl.coalesce("charges_cents", _amount_text("details_coam")).alias("charges_cents"),
        pl.lit(tenant).alias("tenant"), pl.lit(sha256).alias("source_file"), pl.lit(spath).alias("source_path"),
        pl.col("line_no").cast(pl.Int32).alias("source_line"),
    )
    e = _in_entry_order(e)
    statements = _statement_rows(heads, e, meta)
    tx = with_transaction_ids(conform(e, TRANSACTION_SCHEMA)).select(list(TRANSACTION_SCHEMA))
    return ParseResult(transactions=tx, statements=conform(statements, STATEMENT_SCHEMA), issues=issues)


def _in_entry_order(e: pl.DataFrame) -> pl.DataFrame:
    """``e`` sorted by statement and entry; usually it already is, and a check is cheaper than a sort."""
    key = pl.col("stmt").cast(pl.Int64) * (1 << 32) + pl.col("entry_index").cast(pl.Int64)
    if e.height < 2 or e.select((key.diff().drop_nulls() > 0).all()).item():
        return e
    return e.sort("stmt", "entry_index")


def _amount_text(col: str) -> pl.Expr:
    """``OAMT+11,85`` style amounts (decimal comma, maybe a dot as thousands mark) as cents."""
    return amount_cents(pl.col(col).str.replace_all(".", "", literal=True).str.strip_chars())
