"""Turning a bank file's bytes into text: encoding choice, control bytes, mojibake repair.

Bank files arrive as UTF-8, Windows-1252/ISO-8859-1, DOS code pages (CP850/CP852) or UTF-8 that
was once CP850 read with the wrong code page. :func:`decode_bank_text` picks an encoding
explicitly and reports every choice that is not plain UTF-8 as a finding, so nothing is guessed
silently.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

#: Bytes that carry no text: SWIFT envelope SOH/ETX, NUL, the DOS end-of-file mark 0x1A.
CONTROL_BYTES = b"\x00\x01\x03\x1a"

# CP850 bytes for German letters, read as Windows-1252 and saved again: "š" is CP850's "Ü" (0x9A),
# "„" its "ä" (0x84), "”" its "ö" (0x94), "Ž" its "Ä" (0x8E), "™" its "Ö" (0x99), "á" its "ß" (0xE1).
# Seen in the fruitl00p Spk sample ("MšLLER", "šberweisung").
_CP850_MOJIBAKE: dict[str, str | int | None] = {"š": "Ü", "„": "ä", "”": "ö", "Ž": "Ä", "™": "Ö", "\x81": "ü"}
_MOJIBAKE_PATTERN = re.compile(r"[A-Za-z][š„”Ž™][A-Za-z]|(?:^|[\s?:/])š[a-zA-Z]")
_C1_BYTES = bytes(range(0x80, 0xA0))
_DOS_LETTERS = bytes(range(0x80, 0xA6))
_ANSI_LETTERS = bytes(range(0xC0, 0x100))
_REAL_UMLAUTS = re.compile(r"[äöüÄÖÜß]")


@dataclass(slots=True)
class Decoded:
    """Text of a file plus what was done to obtain it (as ``(severity, code, message)``)."""

    text: str
    encoding: str
    notes: list[tuple[str, str, str]] = field(default_factory=list)


def _looks_like_dos(data: bytes) -> bool:
    """True if 8-bit bytes sit mostly where DOS code pages put letters (0x80–0xA5)."""
    dos = len(data) - len(data.translate(None, _DOS_LETTERS))
    ansi = len(data) - len(data.translate(None, _ANSI_LETTERS))
    return dos > ansi


def repair_cp850_mojibake(text: str) -> tuple[str, int]:
    """Undo CP850 letters that were read as Windows-1252 (``MšLLER`` -> ``MÜLLER``).

    Only applied when the typical pattern is present and the text has no correct umlauts, so a
    genuine "š" in a Czech name in an otherwise clean file stays. Returns the text and the number
    of characters changed.
    """
    if not any(ch in text for ch in "š„”Ž™"):  # cheap exit for the usual clean file
        return text, 0
    if _REAL_UMLAUTS.search(text) or not _MOJIBAKE_PATTERN.search(text):
        return text, 0
    changed = sum(text.count(ch) for ch in _CP850_MOJIBAKE)
    return text.translate(str.maketrans(_CP850_MOJIBAKE)), changed


def unix_newlines(data: bytes) -> tuple[bytes, int]:
    """CRLF, CR-only (old Mac) and mixed line ends as LF; also the number of bare CRs made line ends.

    A CR doubled before the LF (``\\r\\r\\n``, a file sent twice through a text-mode transfer) is
    one line end. A bare CR elsewhere ends a line: dropping it would glue two lines together, and an
    MT940 tag glued to the end of the line before it is no tag at all (entries lost silently).

    >>> unix_newlines(b":20:A\\r:25:B\\r\\n:28C:1\\n")
    (b':20:A\\n:25:B\\n:28C:1\\n', 1)
    """
    if b"\r" not in data:
        return data, 0
    data = data.replace(b"\r\n", b"\n")       # the usual CRLF file: one pass, then one scan
    if b"\r" not in data:
        return data, 0
    data = data.replace(b"\r\n", b"\n")       # what was \r\r\n
    bare = data.count(b"\r")
    return data.replace(b"\r", b"\n"), bare


def decode_bank_text(data: bytes, encoding: str | None = None, *, newlines: bool = False) -> Decoded:
    """Decode a bank file: UTF-8 if it decodes, else the given encoding, else CP850 or Windows-1252.

    Removes control bytes (:data:`CONTROL_BYTES`) and a byte-order mark, turns every line end into LF
    if ``newlines`` (:func:`unix_newlines`), and repairs CP850 mojibake; each of these is noted.
    Never raises: Latin-1 decodes any byte string.

    >>> decode_bank_text("Überweisung €".encode("cp1252")).encoding
    'cp1252'
    """
    notes: list[tuple[str, str, str]] = []
    n_ctrl = 0
    if any(bytes([b]) in data for b in CONTROL_BYTES):
        n_ctrl = len(data) - len(data.translate(None, CONTROL_BYTES))
    if n_ctrl:
        data = data.translate(None, CONTROL_BYTES)
        notes.append(("info", "mt940.control_bytes", f"removed {n_ctrl} control byte(s) (SOH/ETX/NUL/0x1A)"))
    if newlines:
        data, bare = unix_newlines(data)
        if bare:
            notes.append(("info", "mt940.line_endings",
                          f"{bare} line(s) end with a bare CR (old Mac or mixed line ends): read as line ends"))
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    chosen: str
    text: str | None = None
    if encoding:
        try:
            text, chosen = data.decode(encoding), encoding
        except (UnicodeDecodeError, LookupError) as exc:
            notes.append(("warning", "mt940.encoding_fallback", f"file does not decode as {encoding!r}: {exc}"))
    if text is None:
        try:
            text, chosen = data.decode("utf-8"), "utf-8"
        except UnicodeDecodeError:
            chosen = "cp850" if _looks_like_dos(data[: 4 << 20]) else "cp1252"  # the first 4 MiB tell
            if chosen == "cp1252" and len(data.translate(None, _C1_BYTES)) == len(data):
                chosen = "latin-1"  # same characters as cp1252 without 0x80-0x9F, and decodes 3x faster
            try:
                text = data.decode(chosen)
            except UnicodeDecodeError:
                chosen = "latin-1"
                text = data.decode(chosen)
            notes.append(("info", "mt940.encoding_fallback", f"file is not UTF-8; decoded as {chosen}"))
    text, n_fixed = repair_cp850_mojibake(text)
    if n_fixed:
        notes.append(
            ("warning", "mt940.mojibake_repaired", f"repaired {n_fixed} CP850 character(s) read as Windows-1252")
        )
    return Decoded(text=text, encoding=chosen, notes=notes)
