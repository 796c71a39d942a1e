"""File names are data: a printable form for reports and the ledger, a safe form for names we make.

A name on disk is bytes (any byte but ``/`` and NUL); Python hands it over as a ``str`` with the
undecodable bytes as surrogates (``surrogateescape``). DuckDB, Parquet, CSV and JSON need valid UTF-8,
and a report line must not be broken by a newline or an escape sequence in a name, so

* :func:`printable` escapes bad bytes as ``\\xff`` and control characters as ``\\n``, ``\\x1b`` …;
* :func:`display_name` is the printable form of a whole path (what ``files.source_path`` holds);
* :func:`safe_file_name` is a name we create (archive, quarantine): letters, digits, ``._-`` only,
  at most :data:`MAX_NAME_BYTES` bytes, keeping the suffix.

>>> printable("ok\\nname")
'ok\\\\nname'
>>> safe_file_name("Umsätze 11/2026.sta")
'Umsätze_11_2026.sta'
"""

from __future__ import annotations

from pathlib import Path

#: Longest name part we make from a delivered name (archive names add 65 bytes of hash in front).
MAX_NAME_BYTES = 120
_SUFFIX_CHARS = 12


def printable(text: str) -> str:
    """``text`` as valid, printable UTF-8: undecodable bytes and control characters escaped."""
    try:
        text = text.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
    except UnicodeEncodeError:          # a lone surrogate that no byte became
        text = text.encode("utf-8", "backslashreplace").decode("utf-8")
    if text.isprintable():
        return text
    return "".join(c if c.isprintable() else c.encode("unicode_escape", "backslashreplace").decode("ascii")
                   for c in text)


def display_name(path: Path | str) -> str:
    """The printable form of a path (``str`` for an ordinary name)."""
    return printable(str(path))


def _cut(text: str, limit: int) -> str:
    data = text.encode("utf-8")[:limit]
    return data.decode("utf-8", errors="ignore")


def safe_file_name(name: str, *, max_bytes: int = MAX_NAME_BYTES) -> str:
    """A file name we can create anywhere: safe characters, bounded length, the suffix kept."""
    text = printable(name)
    safe = "".join(c if (c.isalnum() or c in "._-") else "_" for c in text).lstrip(".-") or "file"
    if len(safe.encode("utf-8")) <= max_bytes:
        return safe
    stem, dot, suffix = safe.rpartition(".")
    if dot and stem and len(suffix) <= _SUFFIX_CHARS:
        return _cut(stem, max_bytes - len(suffix) - 1) + "." + suffix
    return _cut(safe, max_bytes)
