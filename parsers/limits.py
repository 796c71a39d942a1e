"""Bounds on the shape of a bank file, checked before a parser builds anything from it.

A parser's memory grows with its longest row, not only with the file: a 300 MB MT940 line took 7 GB,
a 30 MB camt text node 0.8 GB. Real statements have short lines and short text nodes (SWIFT: 65
characters a line; camt: at most 500 characters a field), so a stretch far longer than that marks a
file that is no statement, and it is rejected before it is parsed. The search is linear and runs at
C speed (``str.find``/``bytes.find``) whatever the file looks like.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import AnyStr

#: bytes read at once when a file is scanned without being loaded whole
SCAN_BLOCK = 8 << 20


def first_long_stretch(text: AnyStr, sep: AnyStr, limit: int) -> tuple[int, int] | None:
    """Start and length of the first stretch of ``text`` between two ``sep`` (or an end) longer than ``limit``.

    A stretch longer than ``limit`` holds a whole aligned block of ``limit // 2`` characters without
    ``sep``, so one ``find`` per block finds every candidate, and only candidates are measured.

    >>> first_long_stretch("ab\\ncdefgh\\nij", "\\n", 5)
    (3, 6)
    >>> first_long_stretch(b"<a>xy</a>", b"<", 5) is None
    True
    """
    block = max(limit // 2, 1)
    n, pos = len(text), 0
    while pos < n:
        if text.find(sep, pos, pos + block) >= 0:
            pos += block
            continue
        before = text.rfind(sep, 0, pos + len(sep) - 1)
        start = 0 if before < 0 else before + len(sep)
        after = text.find(sep, pos)
        end = n if after < 0 else after
        if end - start > limit:
            return start, end - start
        pos = max(pos + block, end // block * block)
    return None


def long_xml_stretch(path: Path, limit: int, *, block: int = SCAN_BLOCK) -> tuple[int, int, str] | None:
    """The first stretch of an XML file from one ``<`` to the next longer than ``limit`` bytes.

    That is a tag plus the text after it, so a long text node (or attribute, comment) shows as one.
    Returns (line, bytes, the tag it starts with) or None; reads the file in blocks, so memory stays
    at one block whatever the file holds.
    """
    carry = b""  # the open stretch: from the last '<' seen (at most ``limit`` bytes)
    lines = 0  # line ends before ``carry``
    with open(path, "rb") as fh:
        while True:
            data = fh.read(block)
            buf = carry + data
            found = first_long_stretch(buf, b"<", limit)
            if found is not None:
                start, length = found
                line, tag = lines + buf.count(b"\n", 0, start) + 1, _tag(buf[start : start + 80])
                if start + length == len(buf):  # it goes on in the next blocks: measure it to its end
                    while more := fh.read(block):
                        end = more.find(b"<")
                        length += len(more) if end < 0 else end
                        if end >= 0:
                            break
                return line, length, tag
            if not data:
                return None
            cut = buf.rfind(b"<")
            cut = 0 if cut < 0 else cut
            lines += buf.count(b"\n", 0, cut)
            carry = buf[cut:]


def _tag(head: bytes) -> str:
    """``Ustrd>AAA…`` -> ``<Ustrd>``; ``/Ntry>…`` -> ``</Ntry>``; a comment, or the first characters."""
    if head.startswith(b"!--"):
        return "<!-- (a comment)"
    m = re.match(rb"(/?[A-Za-z_][\w.:-]*)", head)
    if m:
        return f"<{m.group(1).decode('ascii', 'replace')}>"
    return repr(head[:20].decode("utf-8", "replace"))
