"""camt.052 / camt.053 / camt.054 (every version .001.01-.001.13) -> canonical frames plus issues.

Before any XML parser sees the file, one scan of its bytes (``parsers.limits.scan_xml``) rejects a
shape no statement has: a text node (or tag, comment) over :data:`MAX_TEXT_BYTES`, more than
:data:`MAX_STATEMENTS` statements or :data:`MAX_DETAILS` transaction details; memory grows with those,
not with the bytes alone.

First try: ``camt_fast`` cuts the entries straight out of the file's bytes, whatever the layout (same
output, less CPU, both cores). A file it declines (not UTF-8, a DTD the split cannot see through, ...)
is read by the element path and carries an ``info`` issue ``camt.element_path`` with the reason; then: one pass with
``lxml.etree.iterparse`` (``camt_stream``) hands over the statement heads and the entries
as serialised XML chunks; a worker thread cuts the fields out of the chunks with Polars while the parser
reads on (``camt_fields``), and the columns are then typed and named (``camt_rows``) and checked
(``camt_checks``). Memory stays flat apart from the result itself.

A file that is not well-formed (cut off, garbage) is rejected as a whole: one ``error`` issue with the
line lxml reports, and empty frames, because a statement read in part must never be booked.

>>> from pathlib import Path
>>> result = parse_camt(Path("statement.xml"), sha256="ab12…")   # doctest: +SKIP
>>> result.transactions.select("amount_cents", "remittance")         # doctest: +SKIP
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import polars as pl

from parsers.camt_canon import NotCanonical
from parsers.camt_checks import entry_issues
from parsers.camt_fast import Declined, fast_stream
from parsers.camt_fields import detail_fields, entry_fields, split_entries
from parsers.camt_header import StatementHead
from parsers.camt_rows import canonical_rows, cap_raw
from parsers.camt_stream import Chunk, Outcome, stream
from parsers.detect import HEAD_BYTES
from parsers.ids import with_transaction_ids
from parsers.issues import ERROR, INFO, Issue
from parsers.limits import scan_xml
from parsers.result import ParseResult
from parsers.schema import STATEMENT_SCHEMA, TRANSACTION_SCHEMA, conform

#: characters of entry XML handed to the worker at once (big enough for Polars to use both cores)
BATCH_CHARS = 8 << 20
#: try ``camt_fast`` first (entries cut from the bytes); off: always the element path
FAST_PATH = True
#: threads extracting batches in the fast path (Polars releases the GIL: two batches use two cores)
WORKERS = 2
#: batches of entries the fast path lets wait for the workers (or be worked on)
QUEUED_BATCHES = 3
#: The longest text a camt field holds is 500 characters (``AddtlNtryInf``, ``AddtlTxInf``: Max500Text;
#: ``Ustrd`` is Max140Text), at most 3,000 bytes with every character an entity or UTF-8 sequence. A
#: stretch from one tag to the next longer than this is no statement: a 30 MB text node cost 0.8 GB.
MAX_TEXT_BYTES = 10_000
#: Statements and transaction details (rows) one file may hold: memory grows with them more than with
#: the bytes. A year of daily statements for 400 accounts, and a million details (a 64 MiB file holds
#: at most about 200,000 real ones), are far inside; a file of four million empty <Stmt/> took 6.7 GB.
MAX_STATEMENTS = 100_000
MAX_DETAILS = 1_000_000
_STATEMENT_TAGS = ((b"BkToCstmrStmt", b"Stmt>"), (b"BkToCstmrAcctRpt", b"Rpt>"), (b"BkToCstmrDbtCdtNtfctn", b"Ntfctn>"))
_CHUNK_SCHEMA = {"stmt": pl.Int32(), "first_entry": pl.Int32(), "count": pl.Int32(), "text": pl.String()}


def _not_a_statement(path: Path) -> Issue | None:
    """An error for a text node far longer than any camt field, or for more statements or details than
    one file may hold (file rejected), else None. One pass over the bytes, before any XML parser."""
    with open(path, "rb") as fh:
        head = fh.read(HEAD_BYTES)
    # the statement element of this message kind (one needle fewer to count: each costs a pass)
    stmt = next((tag for message, tag in _STATEMENT_TAGS if message in head), _STATEMENT_TAGS[0][1])
    scan = scan_xml(path, MAX_TEXT_BYTES, (stmt, b"TxDtls"))
    if scan.long is not None:
        line, length, tag = scan.long
        return Issue(str(path), f"line {line}", ERROR, "camt.text_too_long",
                     f"{tag} at line {line} runs {length:,} bytes to the next tag; the longest camt field "
                     f"(AddtlNtryInf, Max500Text) has 500 characters: over {MAX_TEXT_BYTES:,} bytes it is not a "
                     "bank statement (file rejected)")
    for what, needle, limit in (("statements", stmt, MAX_STATEMENTS), ("details", b"TxDtls", MAX_DETAILS)):
        n = scan.counts[needle] // 2  # an element has a start and an end tag
        if n > limit:
            return Issue(str(path), "", ERROR, f"camt.too_many_{what}",
                         f"the file has about {n:,} {what} (<{needle.decode().rstrip('>')}> elements), more than the "
                         f"{limit:,} one file may hold (memory grows with them): file rejected; split it, or it is "
                         "not a bank statement")
    return None


def parse_camt(path: Path, *, sha256: str, tenant: str = "default") -> ParseResult:
    """Parse one camt file; bad input becomes issues, never an exception."""
    try:
        rejected = _not_a_statement(Path(path))
        if rejected is not None:
            return ParseResult(issues=[rejected])
        fast = _parse_fast(Path(path), sha256, tenant) if FAST_PATH else None
        if isinstance(fast, ParseResult):
            return fast
        # libxml2's default limits stay on (no huge-tree retry): after the check above, only a hostile
        # file (nesting deeper than 256, ...) trips them
        result = _parse(Path(path), sha256, tenant, huge_tree=False)
        # a rejected file's error says it all; a file without entries is read at no cost either way
        if fast is not None and not result.has_errors and result.transactions.height:
            result.issues.append(Issue(str(path), "", INFO, "camt.element_path",
                                       f"read by the slower element path: {fast.reason}"))
        return result
    except (OSError, ValueError, LookupError) as exc:  # unreadable file, unknown encoding name, …
        return ParseResult(issues=[Issue(str(path), "", ERROR, "camt.unreadable", f"{type(exc).__name__}: {exc}")])
    except pl.exceptions.PolarsError as exc:  # a shape of input no test has met: reject, never crash the batch
        return ParseResult(issues=[Issue(str(path), "", ERROR, "camt.internal_error",
                                         f"file rejected, the parser failed on it ({type(exc).__name__}: {exc})")])


@dataclass(slots=True)
class _Batch:
    """One worker result: finished transaction rows, per-statement partial sums, findings."""

    transactions: pl.DataFrame
    sums: pl.DataFrame
    issues: list[Issue]


def _extract(chunks: list[Chunk], source: str, sha256: str, tenant: str) -> _Batch:
    """Everything per batch of entries, so that only finished rows are kept (memory stays flat)."""
    frame = pl.DataFrame(
        {"stmt": [c.head.index for c in chunks], "first_entry": [c.first_entry for c in chunks],
         "count": [c.count for c in chunks], "text": [c.text for c in chunks]},
        schema=_CHUNK_SCHEMA,
    )
    heads = list({c.head.index: c.head for c in chunks}.values())
    return _extract_entries(split_entries(frame), heads, source, sha256, tenant)


def _extract_entries(entries: pl.DataFrame, heads: list[StatementHead], source: str, sha256: str,
                     tenant: str) -> _Batch:
    """:func:`_extract` from the entries (``stmt``, ``entry_index``, ``raw``, ``junk``) on."""
    # rows without '&' hold no entity references: their text needs no unescaping (most rows, cheaper)
    amp = entries.get_column("raw").str.contains("&", literal=True)
    parts = [detail_fields(entry_fields(part, entities=flag), entities=flag)
             for part, flag in ((entries.filter(~amp), False), (entries.filter(amp), True)) if part.height]
    if len(parts) == 2:
        fields = pl.concat(parts, how="vertical").sort("stmt", "entry_index", "detail_index", maintain_order=True)
    else:
        fields = parts[0] if parts else detail_fields(entry_fields(entries))
    rows = cap_raw(canonical_rows(fields, _heads_frame(heads, source, sha256, tenant)))
    issues = entry_issues(rows, source)
    first = pl.col("detail_index") == 0
    sums = rows.group_by("stmt").agg(
        pl.col("booking_date").min().alias("first_booking_date"),
        pl.col("booking_date").max().alias("last_booking_date"),
        pl.col("entry_amount_cents").filter(first & pl.col("booked")).sum().alias("entries_sum_cents"),
        pl.len().cast(pl.Int32).alias("n_details"),
        pl.col("currency").drop_nulls().first().alias("_row_currency"),
    )
    transactions = conform(rows, TRANSACTION_SCHEMA)
    raw = transactions.get_column("raw")
    transactions = with_transaction_ids(transactions.drop("raw")).with_columns(raw)
    return _Batch(transactions, sums, issues)


def _extract_built(build: Callable[[], pl.DataFrame], heads: list[StatementHead], source: str, sha256: str,
                   tenant: str) -> _Batch | Declined:
    """:func:`_extract_entries` on a block of ``camt_fast``, whose entries frame is built here (worker)."""
    try:
        entries = build()
    except NotCanonical as exc:
        return Declined(str(exc))
    except pl.exceptions.PolarsError as exc:
        return Declined(f"{type(exc).__name__}: {exc}")
    return _extract_entries(entries, heads, source, sha256, tenant)


def _parse_fast(path: Path, sha256: str, tenant: str) -> ParseResult | Declined:
    """The byte-level path (``camt_fast``); :class:`Declined` when the file needs the element path."""
    source = str(path)
    futures: list[Future[_Batch | Declined]] = []
    with ThreadPoolExecutor(max_workers=WORKERS) as pool:

        def on_entries(build: Callable[[], pl.DataFrame], heads: list[StatementHead]) -> None:
            if len(futures) >= QUEUED_BATCHES:  # reading is faster than extracting: keep memory flat
                futures[-QUEUED_BATCHES].result()
            futures.append(pool.submit(_extract_built, build, heads, source, sha256, tenant))

        outcome = fast_stream(path, on_entries)
        if isinstance(outcome, Declined):
            for f in futures:
                f.cancel()
            return outcome
        done = [f.result() for f in futures]
    declined = next((d for d in done if isinstance(d, Declined)), None)
    if declined is not None:
        return declined
    batches = [b for b in done if isinstance(b, _Batch)]
    if not batches:  # statements without entries: one empty batch gives the frames their columns
        return Declined("no entries")
    return _assemble(outcome, batches, source, sha256, tenant)


def _parse(path: Path, sha256: str, tenant: str, *, huge_tree: bool) -> ParseResult:
    source = str(path)
    futures: list[Future[_Batch]] = []
    pending: list[Chunk] = []
    size = 0
    with ThreadPoolExecutor(max_workers=1) as pool:

        def on_chunk(chunk: Chunk) -> None:
            nonlocal size
            pending.append(chunk)
            size += len(chunk.text)
            if size >= BATCH_CHARS:
                futures.append(pool.submit(_extract, pending.copy(), source, sha256, tenant))
                pending.clear()
                size = 0

        outcome = stream(path, on_chunk, huge_tree=huge_tree)
        if outcome.fatal:
            for f in futures:
                f.cancel()
            return ParseResult(issues=outcome.issues)
        futures.append(pool.submit(_extract, pending, source, sha256, tenant))
        batches = [f.result() for f in futures]
    return _assemble(outcome, batches, source, sha256, tenant)


def _assemble(outcome: Outcome, batches: list[_Batch], source: str, sha256: str, tenant: str) -> ParseResult:
    """The batches and the statement heads -> the parse result."""
    transactions = pl.concat([b.transactions for b in batches], how="vertical", rechunk=False)
    issues = outcome.issues + [i for b in batches for i in b.issues]
    sums = pl.concat([b.sums for b in batches], how="vertical").group_by("stmt").agg(
        pl.col("first_booking_date").min(),
        pl.col("last_booking_date").max(),
        pl.col("entries_sum_cents").sum(),
        pl.col("n_details").sum(),
        pl.col("_row_currency").drop_nulls().first(),
    )
    heads = _heads_frame(outcome.heads, source, sha256, tenant)
    return ParseResult(transactions=transactions, statements=_statements(outcome.heads, heads, sums), issues=issues)


def _heads_frame(heads: list[StatementHead], source: str, sha256: str, tenant: str) -> pl.DataFrame:
    """Per-statement columns every transaction row carries."""
    return pl.DataFrame(
        {
            "stmt": [h.index for h in heads],
            "tenant": [tenant] * len(heads),
            "account_iban": [h.account for h in heads],
            "statement_id": [h.statement_id for h in heads],
            "statement_key": [h.key for h in heads],
            "stmt_xpath": [h.xpath for h in heads],
            "source_format": [h.source_format for h in heads],
            "source_file": [sha256] * len(heads),
            "source_path": [source] * len(heads),
        },
        schema={"stmt": pl.Int32(), "tenant": pl.String(), "account_iban": pl.String(),
                "statement_id": pl.String(), "statement_key": pl.String(), "stmt_xpath": pl.String(),
                "source_format": pl.String(), "source_file": pl.String(), "source_path": pl.String()},
    )


def _statements(heads: list[StatementHead], frame: pl.DataFrame, sums: pl.DataFrame) -> pl.DataFrame:
    """One row per statement: the head, plus sums and counts over its rows."""
    own = pl.DataFrame(
        {
            "stmt": [h.index for h in heads],
            "currency": [h.currency for h in heads],
            "statement_no": [h.statement_no for h in heads],
            "sequence_no": [h.sequence_no for h in heads],
            "page_no": [h.page_no for h in heads],
            "kind": [h.kind for h in heads],
            "opening_date": [h.opening_date for h in heads],
            "opening_cents": [h.opening.cents if h.opening else None for h in heads],
            "closing_date": [h.closing_date for h in heads],
            "closing_cents": [h.closing.cents if h.closing else None for h in heads],
            "n_entries": [h.n_entries for h in heads],
        },
        schema={"stmt": pl.Int32(), "currency": pl.String(), "statement_no": pl.String(),
                "sequence_no": pl.Int64(), "page_no": pl.Int64(), "kind": pl.String(), "opening_date": pl.Date(),
                "opening_cents": pl.Int64(), "closing_date": pl.Date(), "closing_cents": pl.Int64(),
                "n_entries": pl.Int32()},
    )
    out = (
        frame.join(own, on="stmt", how="left", maintain_order="left")
        .join(sums, on="stmt", how="left", maintain_order="left")
        .with_columns(
            pl.col("entries_sum_cents").fill_null(0),
            pl.col("n_details").fill_null(0),
            pl.col("stmt").alias("statement_index"),
            pl.coalesce(pl.col("currency"), pl.col("_row_currency")).alias("currency"),
        )
        .with_columns(
            (pl.col("opening_cents") + pl.col("entries_sum_cents") == pl.col("closing_cents")).alias("balance_ok")
        )
    )
    return conform(out, STATEMENT_SCHEMA)
