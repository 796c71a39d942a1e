"""Fast path for camt: the entries are cut out of the file's bytes instead of being parsed into elements.

``camt_stream`` builds every ``Ntry`` as an lxml element and serialises it again; that alone costs more
than the field extraction. Here the file is read in blocks of :data:`BLOCK_BYTES`, split on the entry's
closing tag with Polars (the pieces are the ``raw`` column anyway), and only a *skeleton* goes through
lxml: the statement heads plus one empty ``<Ntry/>`` placeholder per run of consecutive entries, so
``camt_stream``'s own head reading, format detection and XPaths apply unchanged. Meanwhile a second
thread feeds the same bytes to an lxml parser without a tree (no Python callbacks), so a file that is
not well-formed is still rejected as a whole.

Entries not written the way lxml writes them (comments, character references, ``<X></X>``, blanks in
tags, CDATA, ...) are brought to lxml's form first (``camt_canon``: column-wise rewrites, and lxml itself
for the rare row that needs it), so ``raw`` and every field are identical to the element path whatever
the layout. :func:`fast_stream` declines a file (:class:`Declined`, with the reason, which the caller
reports) only where the skeleton cannot stand for it: not UTF-8, not well-formed, needs libxml2's
huge-tree mode, not camt, no entries, an entry outside a statement or inside an entry, an ``Ntry`` with
attributes or without content, text between the entries of a statement.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

import polars as pl
from lxml import etree

from parsers.camt_canon import NESTED_ENTRY, NotCanonical, canonical_bodies, declarations
from parsers.camt_header import KINDS, StatementHead, local
from parsers.camt_stream import _TAGS, MESSAGES, Outcome, _Streamer

#: bytes read at once; each block's entries become one batch for the field extraction
BLOCK_BYTES = 8 << 20
_FIRST_ENTRY = re.compile(rb"<(?:([A-Za-z_][\w.-]*):)?Ntry[ \t\r\n/>]")
_ENCODING = re.compile(rb"""^(?:\xef\xbb\xbf)?\s*<\?xml[^>]*?encoding\s*=\s*["']([^"']*)["']""")
_NTRY_TAG = re.compile(NESTED_ENTRY)
#: an entry tag with blanks or attributes (``<Ntry >``): rewritten before the split, or declined
_NTRY_TAG_BLANKS = re.compile(rb"<(/?)((?:[A-Za-z_][\w.-]*:)?Ntry)[ \t\r\n]+(/?)>")
_NTRY_TAG_ATTRIBUTES = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?Ntry[ \t\r\n]+[^/>]")
#: comments and processing instructions between entries: dropped by the parser, so not a break
_COMMENT_OR_PI = r"<!--(?s:.*?)-->|<\?(?s:.*?)\?>"
_LAYOUT = r">\s*\n\s*<"

#: receives per block a function that builds the entries frame (call it on a worker thread: the
#: rewriting to lxml's form runs there, on both cores; it raises ``NotCanonical``) and the heads
EntriesSink = Callable[[Callable[[], pl.DataFrame], list[StatementHead]], None]


class _Fallback(Exception):
    """The file needs the element path; the message says why (reported with the element path's result)."""


@dataclass(frozen=True, slots=True)
class Declined:
    """:func:`fast_stream` did not read the file; ``reason`` says why (for an ``info`` issue)."""

    reason: str


class _NoTree:
    """lxml parser target without callbacks: libxml2 checks well-formedness, nothing is built."""

    def close(self) -> None:
        return None


class _Runs(_Streamer):
    """``camt_stream``'s walker over the skeleton: each ``Ntry`` placeholder stands for a run of entries."""

    def __init__(self, source: str) -> None:
        super().__init__(source, lambda _chunk: None)
        self.runs: list[tuple[int, bool]] = []  # (entries, only whitespace before it) per placeholder fed
        self.assigned: list[tuple[int, int]] = []  # (statement index, first entry index) per placeholder seen

    def entry(self, el: Any) -> None:
        stmt = el.getparent()
        if stmt is None or local(stmt) not in KINDS:
            raise _Fallback("an Ntry element outside a statement")
        if len(self.assigned) >= len(self.runs):
            raise _Fallback("more Ntry elements than the byte-level split found")
        size, blank = self.runs[len(self.assigned)]
        if stmt is not self.current:
            self.open(stmt, el)
        elif not blank:  # something between two entries of one statement: the element path reports it
            raise _Fallback("text or elements between two entries of a statement")
        assert self.head is not None
        self.assigned.append((self.head.index, self.head.n_entries))
        self.head.n_entries += size

    def flush(self, upto: Any) -> None:
        return None


def _utf8(first: bytes) -> bool:
    if first.startswith((b"\xff\xfe", b"\xfe\xff")):
        return False
    m = _ENCODING.match(first)
    return m is None or m.group(1).lower() in (b"utf-8", b"utf8")


class _Skeleton:
    """Feeds the skeleton to an ``XMLPullParser`` and hands the events to :class:`_Runs`."""

    def __init__(self, source: str) -> None:
        self.walker = _Runs(source)
        self.parser = etree.XMLPullParser(
            events=("end",), tag=_TAGS, resolve_entities=False, no_network=True, load_dtd=False,
            remove_comments=True, remove_pis=True, huge_tree=False,
        )
        self.started = False
        self.namespaces: dict[str, str] = {}  # declarations seen outside the entries (for camt_canon)

    def feed(self, data: str) -> None:
        if "xmlns" in data:
            self.namespaces.update(declarations(data))
        self.parser.feed(data.encode("utf-8"))
        self._events()

    def close(self) -> None:
        root = self.parser.close()
        self._events()
        if not self.started:  # no statement and no entry: the element path says what the file is
            raise _Fallback("no statement with entries")
        del root

    def _events(self) -> None:
        for _event, el in self.parser.read_events():
            if not self.started:
                root = el.getroottree().getroot()
                message = next((c for c in root if local(c) in MESSAGES), None) if local(root) == "Document" else None
                if not self.walker.start(root, message if message is not None else el.getparent()):
                    raise _Fallback("not a camt document")
                self.started = True
            if local(el) == "Ntry":
                self.walker.entry(el)
            else:
                self.walker.statement(el)


def _split(part: bytes, prefix: str) -> pl.DataFrame:
    """Bytes of whole entries (the last closing tag cut off) -> ``pre`` (text before each entry), ``body``."""
    text = pl.Series("t", [part], dtype=pl.Binary).cast(pl.String)  # invalid UTF-8 raises: element path
    if b"\r" in part:  # XML line-end normalisation, as the parser does it
        text = text.str.replace_all("\r\n", "\n", literal=True).str.replace_all("\r", "\n", literal=True)
    pieces = pl.DataFrame({"t": text}).select(pl.col("t").str.split(f"</{prefix}Ntry>")).explode("t")
    parts = pl.col("t").str.splitn(f"<{prefix}Ntry>", 2)
    df = pieces.select(parts.struct.field("field_0").alias("pre"), parts.struct.field("field_1").alias("body"))
    body = df.get_column("body")
    if body.is_null().any():
        raise _Fallback("an entry the byte-level split could not delimit")
    if (body.str.strip_chars(" \t\n") == "").any():
        raise _Fallback("an Ntry element without content")
    return df


def _entries(df: pl.DataFrame, stmts: pl.Series, index: pl.Series, prefix: str) -> pl.DataFrame:
    """The frame ``camt_fields.split_entries`` would give: ``stmt``, ``entry_index``, ``raw``, ``junk``."""
    raw = pl.col("body")
    if prefix:
        raw = raw.str.replace_all(f"<{prefix}", "<", literal=True).str.replace_all(f"</{prefix}", "</", literal=True)
    return df.select(
        stmts.alias("stmt"),
        index.alias("entry_index"),
        ("<Ntry>" + raw).str.replace_all(_LAYOUT, "><").str.strip_chars_start().add(pl.lit("</Ntry>")).alias("raw"),
        pl.lit("").alias("junk"),
    )


def fast_stream(path: Path, on_entries: EntriesSink, *, block_bytes: int | None = None) -> Outcome | Declined:
    """Stream ``path``, calling ``on_entries`` per block of entries; :class:`Declined`: use the element path."""
    size = block_bytes or BLOCK_BYTES
    with open(path, "rb") as f, ThreadPoolExecutor(max_workers=1) as checker:
        checks: list[Future[Any]] = []
        try:
            outcome = _stream(f, str(path), size, on_entries, checker, checks)
            for c in checks:
                c.result()
        except (_Fallback, NotCanonical, etree.XMLSyntaxError, pl.exceptions.PolarsError, UnicodeError) as exc:
            for c in checks:
                c.cancel()
            return Declined(_reason(exc))
    return outcome


def _reason(exc: Exception) -> str:
    if isinstance(exc, _Fallback | NotCanonical):
        return str(exc)
    if isinstance(exc, etree.XMLSyntaxError):
        return f"not well-formed for libxml2's default limits ({exc.msg})"
    if isinstance(exc, UnicodeError):
        return "not valid UTF-8"
    return f"{type(exc).__name__}: {exc}"


def _stream(f: Any, source: str, size: int, on_entries: EntriesSink, checker: ThreadPoolExecutor,
            checks: list[Future[Any]]) -> Outcome:
    # huge_tree off as in the element path's first try: a file only a huge-tree parse accepts goes there
    wellformed = etree.XMLParser(target=_NoTree(), resolve_entities=False, no_network=True, load_dtd=False,
                                 huge_tree=False)
    skeleton = _Skeleton(source)
    prefix: str | None = None
    carry = b""
    first = True
    while True:
        block = f.read(size)
        if first and not _utf8(block):
            raise _Fallback("not UTF-8 (the byte-level path reads UTF-8 only)")
        first = False
        if block:
            checks.append(checker.submit(wellformed.feed, block))
        buf = carry + block
        if _NTRY_TAG_BLANKS.search(buf):
            buf = _NTRY_TAG_BLANKS.sub(rb"<\1\2\3>", buf)
        if _NTRY_TAG_ATTRIBUTES.search(buf):
            raise _Fallback("an Ntry element with attributes")
        if prefix is None:
            m = _FIRST_ENTRY.search(buf)
            if m is not None:
                prefix = (m.group(1) or b"").decode("ascii") + (":" if m.group(1) else "")
        end = buf.rfind(f"</{prefix}Ntry>".encode("ascii")) if prefix is not None and block else -1
        if end < 0:
            if not block:
                break
            carry = buf
            continue
        assert prefix is not None
        carry = buf[end + len(prefix) + 7 :]
        _block(buf[:end], prefix, skeleton, on_entries)
    if carry:
        if _NTRY_TAG.search(carry.decode("utf-8")):
            raise _Fallback("an Ntry element the byte-level split could not delimit")
        skeleton.feed(carry.decode("utf-8"))
    checks.append(checker.submit(wellformed.close))
    skeleton.close()
    walker = skeleton.walker
    if walker.out.fatal:
        raise _Fallback("the statement heads need the element path's report")
    if len(walker.assigned) != len(walker.runs):
        raise _Fallback("fewer Ntry elements than the byte-level split found")
    return walker.out


def _block(part: bytes, prefix: str, skeleton: _Skeleton, on_entries: EntriesSink) -> None:
    """One block of whole entries: skeleton to lxml, entries to ``on_entries``."""
    df = _split(part, prefix)
    pre = pl.col("pre")
    if df.get_column("pre").str.contains("<!--|<\\?").any():
        pre = pre.str.replace_all(_COMMENT_OR_PI, "")
    brk = pre.str.strip_chars(" \t\n").str.len_bytes() > 0
    starts = df.select(pl.int_range(pl.len()).filter(brk | (pl.int_range(pl.len()) == 0))).to_series().to_list()
    pres = df.get_column("pre").gather(starts).to_list()
    bounds = [*starts, df.height]
    walker = skeleton.walker
    first_run = len(walker.runs)
    feed: list[str] = []
    for k, text in enumerate(pres):
        blank = not re.sub(_COMMENT_OR_PI, "", text).strip(" \t\n")
        if not blank and _NTRY_TAG.search(text):
            raise _Fallback("an Ntry element the byte-level split could not delimit")
        walker.runs.append((bounds[k + 1] - bounds[k], blank))
        feed.append(text + f"<{prefix}Ntry/>")
    skeleton.feed("".join(feed))
    if len(walker.assigned) != len(walker.runs):
        raise _Fallback("the parser held back an entry")  # libxml2 holds back a placeholder: not expected, so take the safe way
    runs = walker.assigned[first_run:]
    run = (df.select((brk | (pl.int_range(pl.len()) == 0)).cum_sum().cast(pl.Int64) - 1).to_series())
    stmts = pl.Series([r[0] for r in runs], dtype=pl.Int32).gather(run)
    offsets = pl.Series([r[1] - s for r, s in zip(runs, starts, strict=True)], dtype=pl.Int64).gather(run)
    index = (offsets + pl.int_range(df.height, dtype=pl.Int64, eager=True)).cast(pl.Int32)
    heads = [walker.out.heads[i] for i in sorted({r[0] for r in runs})]
    # after the skeleton: its text declared the namespaces the entries use
    on_entries(partial(_finish, df.select("body"), stmts, index, prefix, dict(skeleton.namespaces)), heads)


def _finish(df: pl.DataFrame, stmts: pl.Series, index: pl.Series, prefix: str,
            namespaces: dict[str, str]) -> pl.DataFrame:
    """The entries frame of one block, on the caller's worker thread: bodies in lxml's form, ``raw``."""
    return _entries(df.with_columns(canonical_bodies(df.get_column("body"), prefix, namespaces)), stmts, index, prefix)
