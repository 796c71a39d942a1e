"""Stream a camt file with ``lxml.etree.iterparse``: statement heads, plus the entries as XML text chunks.

Only ``Ntry`` and statement elements surface to Python. A statement's head is read when its first entry
ends (the head precedes the entries), then removed; every ``CHUNK_ENTRIES`` entries the statement
element, which by then holds nothing but entries, is serialised once (C speed) and emptied. So memory
stays flat for any file size and there is no per-entry Python work beyond the event itself; the fields
are cut out of the text later, vectorised (``camt_fields``).

A file that is not well-formed XML is rejected as a whole: a cut-off statement must never be booked
in part, so the caller drops whatever was read before the error.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lxml import etree

from parsers.camt_header import KINDS, StatementHead, local, read_head
from parsers.issues import ERROR, WARNING, Issue

CHUNK_ENTRIES = 2000
MESSAGES = {"BkToCstmrStmt": "camt.053", "BkToCstmrAcctRpt": "camt.052", "BkToCstmrDbtCdtNtfctn": "camt.054"}
_NAMESPACE = re.compile(r"camt\.(05[234])\.001\.(\d+)")
_TAGS = ("{*}Ntry", *(f"{{*}}{name}" for name in KINDS))


@dataclass(slots=True)
class Chunk:
    """Consecutive entries of one statement, serialised, namespace prefixes removed."""

    head: StatementHead
    first_entry: int
    count: int  # the text holds at least this many entries; only these belong to the chunk
    text: str


@dataclass(slots=True)
class Outcome:
    """What streaming found: the format, the statement heads, and any issues (``fatal``: reject)."""

    source_format: str | None = None
    version: int | None = None
    heads: list[StatementHead] = field(default_factory=list)
    issues: list[Issue] = field(default_factory=list)
    fatal: bool = False


class _Streamer:
    def __init__(self, source: str, on_chunk: Callable[[Chunk], None]) -> None:
        self.source = source
        self.on_chunk = on_chunk
        self.out = Outcome()
        self.current: Any = None
        self.head: StatementHead | None = None
        self.pending = 0
        self.counts: dict[str, int] = {}
        self.prefix: str | None = None

    def start(self, root: Any, message: Any) -> bool:
        """Decide the format from the root's namespace and the message element; False if not camt."""
        ns = etree.QName(root).namespace or ""
        m = _NAMESPACE.search(ns)
        by_name = MESSAGES.get(local(message)) if message is not None else None
        if m is None and by_name is None:
            self.fail("", "camt.not_camt", f"expected a camt.052/053/054 Document, got root {root.tag!r}")
            return False
        self.out.source_format = by_name or f"camt.{m.group(1)}"  # type: ignore[union-attr]
        if m is not None:
            self.out.version = int(m.group(2))
            if by_name and by_name != f"camt.{m.group(1)}":
                self.warn("", "camt.namespace_mismatch",
                          f"namespace says camt.{m.group(1)} but the message element is {local(message)}")
            if not 1 <= self.out.version <= 13:
                self.warn("", "camt.unknown_version", f"version .001.{m.group(2)} is not one of .01-.13; read as is")
        return True

    def fail(self, locator: str, code: str, message: str) -> None:
        self.out.issues.append(Issue(self.source, locator, ERROR, code, message))
        self.out.fatal = True

    def warn(self, locator: str, code: str, message: str) -> None:
        self.out.issues.append(Issue(self.source, locator, WARNING, code, message))

    def xpath(self, stmt: Any) -> str:
        parts: list[str] = []
        node = stmt.getparent()
        while node is not None:
            parts.append(local(node))
            node = node.getparent()
        name = local(stmt)
        self.counts[name] = self.counts.get(name, 0) + 1
        return "/" + "/".join(reversed(parts)) + f"/{name}[{self.counts[name]}]"

    def open(self, stmt: Any, upto: Any) -> None:
        message = stmt.getparent()
        head = read_head(stmt, index=len(self.out.heads), xpath=self.xpath(stmt),
                         source_format=self.out.source_format or "", message=message, source=self.source)
        self.out.heads.append(head)
        self.out.issues.extend(head.issues)
        self.current, self.head, self.pending = stmt, head, 0
        # the head is read: drop it, so the element holds only entries. Only nodes before ``upto`` are
        # touched: later ones may still be under construction by the parser.
        end = len(stmt) if upto is None else stmt.index(upto)
        for node in stmt[:end]:
            if local(node) != "Ntry":
                stmt.remove(node)

    def flush(self, upto: Any) -> None:
        """Serialise the statement's first ``pending`` entries as one text and drop them from the tree.

        The statement may already hold entries the parser has read ahead (their events are still
        queued) and one it is building; they are serialised too but cut off later by the count.
        """
        if self.head is None or self.pending == 0:
            return
        stmt = self.current
        xml = etree.tostring(stmt, encoding="unicode", with_tail=False)
        body = xml[xml.index(">") + 1 :]
        if self.prefix:  # camt elements written as <p:Ntry>: our regexes expect plain names
            body = body.replace(f"<{self.prefix}:", "<").replace(f"</{self.prefix}:", "</")
        del stmt[: len(stmt) if upto is None else stmt.index(upto) + 1]
        self.on_chunk(Chunk(self.head, self.head.n_entries - self.pending, self.pending, body))
        self.pending = 0

    def entry(self, el: Any) -> None:
        stmt = el.getparent()
        if stmt is None or local(stmt) not in KINDS:
            self.warn("", "camt.entry_outside_statement", f"Ntry inside {local(stmt) if stmt is not None else 'nothing'}; ignored")
            el.clear()
            return
        if stmt is not self.current:
            self.flush(None)
            self.open(stmt, el)
            self.prefix = el.prefix
        assert self.head is not None
        self.head.n_entries += 1
        self.pending += 1
        if self.pending >= CHUNK_ENTRIES:
            self.flush(el)

    def statement(self, el: Any) -> None:
        if el is not self.current:
            self.flush(None)
            self.open(el, None)
        self.flush(None)
        self.current, self.head = None, None
        el.clear()


def stream(path: Path, on_chunk: Callable[[Chunk], None], *, huge_tree: bool = False) -> Outcome:
    """Walk the file once; call ``on_chunk`` for every chunk of entries; return heads and issues."""
    walker = _Streamer(str(path), on_chunk)
    started = False
    context = etree.iterparse(
        str(path), events=("end",), tag=_TAGS, resolve_entities=False, no_network=True,
        load_dtd=False, remove_comments=True, remove_pis=True, huge_tree=huge_tree,
    )
    try:
        for _event, el in context:
            if not started:
                root = el.getroottree().getroot()
                message = next((c for c in root if local(c) in MESSAGES), None) if local(root) == "Document" else None
                if not walker.start(root, message if message is not None else el.getparent()):
                    return walker.out
                started = True
            if local(el) == "Ntry":
                walker.entry(el)
            else:
                walker.statement(el)
        if not started:
            root = context.root
            message = next((c for c in root if local(c) in MESSAGES), None) if root is not None else None
            if root is None or not walker.start(root, message):
                return walker.out
    except etree.XMLSyntaxError as exc:
        line = exc.lineno if exc.lineno else (exc.position[0] if exc.position else 0)
        walker.out.issues.append(Issue(str(path), f"line {line}", ERROR, "camt.malformed_xml",
                                       f"not well-formed XML, file rejected as a whole: {exc.msg}"))
        walker.out.fatal = True
    return walker.out
