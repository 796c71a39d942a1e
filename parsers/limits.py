"""Bounds on the shape of a bank file, checked before a parser builds anything from it.

A parser's memory grows with its longest row, not only with the file: a 300 MB MT940 line took 7 GB,
a 30 MB camt text node 0.8 GB. Real statements have short lines and short text nodes (SWIFT: 65
characters a line; camt: at most 500 characters a field), so a stretch far longer than that marks a
file that is no statement, and it is rejected before it is parsed. The search is linear and runs at
C speed (``str.find``/``bytes.find``) whatever the file looks like.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import AnyStr, BinaryIO

#: bytes read at once when a file is scanned without being loaded whole
SCAN_BLOCK = 8 << 20


def first_long_stretch(text: AnyStr, sep: AnyStr, limit: int, start: int = 0) -> tuple[int, int] | None:
    """Start and length of the first stretch of ``text[start:]`` between two ``sep`` (or an end) longer
    than ``limit``.

    A stretch longer than ``limit`` holds a whole aligned block of ``limit // 2`` characters without
    ``sep``, so one ``find`` per block finds every candidate, and only candidates are measured.

    >>> first_long_stretch("ab\\ncdefgh\\nij", "\\n", 5)
    (3, 6)
    >>> first_long_stretch(b"<a>xy</a>", b"<", 5) is None
    True
    """
    block = max(limit // 2, 1)
    n, pos = len(text), start
    while pos < n:
        if text.find(sep, pos, pos + block) >= 0:
            pos += block
            continue
        before = text.rfind(sep, start, pos + len(sep) - 1)
        begin = start if before < 0 else before + len(sep)
        after = text.find(sep, pos)
        end = n if after < 0 else after
        if end - begin > limit:
            return begin, end - begin
        pos = max(pos + block, end // block * block)
    return None


@dataclass(frozen=True, slots=True)
class XmlScan:
    """What :func:`scan_xml` found: the first long stretch (line, bytes, tag) or None, and the counts."""

    long: tuple[int, int, str] | None
    counts: dict[bytes, int]


def scan_xml(path: Path, limit: int, count: tuple[bytes, ...] = (), *, block: int = SCAN_BLOCK) -> XmlScan:
    """Read an XML file in blocks: the first stretch from one ``<`` to the next longer than ``limit``
    bytes, and how often each byte string of ``count`` occurs (one cut by a block end is missed).

    A stretch is a tag plus the text after it, so a long text node (or attribute, comment) shows as
    one. Memory stays at one block whatever the file holds; the scan stops at a long stretch.
    """
    counts = dict.fromkeys(count, 0)
    opened = 0  # offset just after the last '<' seen (the start of the stretch still open)
    offset = 0  # offset of ``data`` in the file
    with open(path, "rb") as fh:
        while data := fh.read(block):
            for needle in count:
                counts[needle] += data.count(needle)
            first = data.find(b"<")
            span = offset + (len(data) if first < 0 else first) - opened  # the stretch open before this block
            found = (opened, span) if span > limit else None
            if found is None and first >= 0:
                inside = first_long_stretch(data, b"<", limit, first + 1)
                found = None if inside is None else (offset + inside[0], inside[1])
                opened = offset + data.rfind(b"<") + 1
            if found is not None:
                return XmlScan(_where(fh, *found), counts)
            offset += len(data)
    return XmlScan(None, counts)


def _where(fh: BinaryIO, start: int, length: int) -> tuple[int, int, str]:
    """(line, whole length, tag) of the stretch at byte ``start`` of which ``length`` bytes were seen."""
    fh.seek(start)
    tag = _tag(fh.read(80), start)
    fh.seek(start + length)
    while more := fh.read(SCAN_BLOCK):  # the stretch may go on after what was seen: measure it to its end
        end = more.find(b"<")
        length += len(more) if end < 0 else end
        if end >= 0:
            break
    fh.seek(0)
    line, done = 1, 0
    while done < start and (data := fh.read(min(SCAN_BLOCK, start - done))):
        line += data.count(b"\n")
        done += len(data)
    return line, length, tag


def _tag(head: bytes, start: int) -> str:
    """What a stretch starting at byte ``start`` begins with, in our words: ``Ustrd>AAA…`` -> ``<Ustrd>``,
    ``/Ntry>…`` -> ``</Ntry>``. An element is named only when its name has the shape of an ISO 20022
    one (UpperCamelCase letters and digits, at most 35): a reason never quotes a file's content.

    >>> _tag(b"p:Ustrd>AAAA", 9), _tag(b"/Ntry>", 9), _tag(b"!-- x", 9), _tag(b"secret stuff>", 9), _tag(b"  ", 0)
    ('<Ustrd>', '</Ntry>', 'a comment', 'an element', 'the text before the first tag')
    """
    if start == 0:
        return "the text before the first tag"
    if head.startswith(b"!--"):
        return "a comment"
    m = re.match(rb"(/?)(?:[A-Za-z_][\w.-]*:)?([A-Z][A-Za-z0-9]{0,34})[\s/>]", head)
    if m:
        return f"<{m.group(1).decode()}{m.group(2).decode()}>"
    return "an element"
