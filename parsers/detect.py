"""What is this file? Sniff a bank file's format from its first few KB, or say why it is rejected.

Detection never parses the whole file and never expands XML entities: it reads the first
:data:`HEAD_BYTES` (and, for XML, the last :data:`TAIL_BYTES` to catch truncation) and decides

* ``mt940`` / ``mt942``: a ``:20:``, ``:25:`` or ``{1:`` tag at a line start, after control bytes
  and FinTS framing (``HIKAZ`` segment, ``@@`` line separators, ``@123@`` length markers) are removed;
* ``camt.052`` / ``camt.053`` / ``camt.054``: root element with local name ``Document`` whose first
  child is ``BkToCstmrAcctRpt`` / ``BkToCstmrStmt`` / ``BkToCstmrDbtCdtNtfctn`` (namespace-agnostic,
  a version suffix such as ``V01`` allowed);
* ``zip``: an archive whose members :mod:`parsers.ingest` reads one by one;

or a rejection with a stable dotted code and a one-line reason (see docs/INGEST.md for the table).

>>> Detected(None, "file.empty", "the file is empty (0 bytes)").ok
False
"""

from __future__ import annotations

import re
import stat
from dataclasses import dataclass
from pathlib import Path

HEAD_BYTES = 16 * 1024
TAIL_BYTES = 2 * 1024
#: Files above this size are rejected from ``stat`` alone, without being read. Parsing a file costs
#: memory: a DK-style MT940 file about 9-10 times its size (99 MiB peaked at 0.96-1.02 GB), a camt file
#: about 4 times. At 64 MiB every input, of any shape, stays under 1 GB (docs/BENCHMARKS.md, "Hostile
#: inputs: memory"); a bigger delivery can be read with a higher ``max_bytes`` and the memory it needs.
DEFAULT_MAX_BYTES = 64 * 1024 * 1024

STATEMENT_FORMATS = ("mt940", "mt942", "camt.052", "camt.053", "camt.054")

_CAMT_CHILDREN = {
    "BkToCstmrAcctRpt": "camt.052",
    "BkToCstmrStmt": "camt.053",
    "BkToCstmrDbtCdtNtfctn": "camt.054",
}
_PAIN_CHILDREN = {
    "CstmrCdtTrfInitn": "pain.001 credit transfer order",
    "CstmrDrctDbtInitn": "pain.008 direct debit order",
    "CstmrPmtStsRpt": "pain.002 payment status report",
}
_MAGIC = (
    (b"PK\x03\x04", "zip"),
    (b"PK\x05\x06", "zip"),
    (b"\x1f\x8b", "a gzip archive"),
    (b"BZh", "a bzip2 archive"),
    (b"7z\xbc\xaf\x27\x1c", "a 7-Zip archive"),
    (b"Rar!", "a RAR archive"),
    (b"%PDF", "a PDF document"),
    (b"\x89PNG", "a PNG image"),
    (b"\xff\xd8\xff", "a JPEG image"),
    (b"\xd0\xcf\x11\xe0", "an old Office (OLE) document"),
)
_BOMS = ((b"\xef\xbb\xbf", "utf-8"), (b"\xff\xfe", "utf-16-le"), (b"\xfe\xff", "utf-16-be"))

# control bytes that never occur in text; SOH/ETX (SWIFT framing) and SUB (DOS end of file) do
_BAD_CONTROL = bytes(b for b in range(32) if b not in (1, 3, 9, 10, 13, 26)) + b"\x7f"
_XML_NAME = r"[A-Za-z_][\w.\-]*"
_START_TAG = re.compile(rf"<(?:({_XML_NAME}):)?({_XML_NAME})((?:\s[^<>]*?)?)(/?)>", re.S)
_NS_ATTR = re.compile(r"""xmlns(?::([\w.\-]+))?\s*=\s*["']([^"']*)["']""")
_LAST_END_TAG = re.compile(rf"</(?:{_XML_NAME}:)?({_XML_NAME})\s*>\s*(?:<!--.*?-->\s*|<\?.*?\?>\s*)*\Z", re.S)
_MT_TAG = re.compile(r"(?:^|[\r\n]|\{4:)[ \t]*:(20|25|28C?|60[FM]):")
_MT942_HINT = re.compile(r"\{2:[IO]942|(?:^|[\r\n])[ \t]*:(34F|13D?):")
_FINTS_LEN = re.compile(r"@\d+@")
_FINTS_SEGMENT = re.compile(r"HIKAZ:\d+:\d+(?::\d+)?\+")


@dataclass(frozen=True, slots=True)
class Detected:
    """The verdict on one file: a statement format, or a rejection code with its one-line reason.

    ``format`` is one of :data:`STATEMENT_FORMATS` or ``"zip"``, and ``None`` when rejected.
    ``detail`` holds what else was seen (the XML namespace, ...), ``size`` the file size in bytes.
    """

    format: str | None
    code: str = ""
    reason: str = ""
    locator: str = ""
    detail: str = ""
    size: int | None = None

    @property
    def ok(self) -> bool:
        return self.format is not None


def _reject(code: str, reason: str, size: int | None, locator: str = "") -> Detected:
    return Detected(None, code, reason, locator, "", size)


def detect(path: Path | str, *, max_bytes: int = DEFAULT_MAX_BYTES) -> Detected:
    """Sniff ``path``'s format from its first few KB (and last KB for XML); never raises for bad input.

    >>> detect("/nonexistent/x.sta").code
    'file.not_found'
    """
    path = Path(path)
    try:
        st = path.stat()
    except FileNotFoundError:
        return _reject("file.not_found", "no such file", None)
    except OSError as exc:
        return _reject("file.unreadable", f"cannot stat the file: {exc.strerror or exc}", None)
    if stat.S_ISDIR(st.st_mode):
        return _reject("file.is_directory", "is a directory, not a file", None)
    if not stat.S_ISREG(st.st_mode):
        return _reject("file.not_regular", "not a regular file (device, pipe or socket)", None)
    size = st.st_size
    if size == 0:
        return _reject("file.empty", "the file is empty (0 bytes)", size)
    if size > max_bytes:
        return _reject(
            "file.too_large",
            f"the file has {size} bytes, more than the limit of {max_bytes} bytes ({max_bytes // (1 << 20)} MiB)",
            size,
        )
    try:
        with open(path, "rb") as fh:
            head = fh.read(HEAD_BYTES)
            tail = b""
            if size > HEAD_BYTES:
                fh.seek(max(size - TAIL_BYTES, HEAD_BYTES))
                tail = fh.read(TAIL_BYTES)
    except OSError as exc:
        return _reject("file.unreadable", f"cannot read the file: {exc.strerror or exc}", size)
    return _verdict(head, head + tail if size <= HEAD_BYTES else tail, size)


def detect_bytes(data: bytes) -> Detected:
    """Like :func:`detect`, for bytes already in memory (tests, zip members)."""
    if not data:
        return _reject("file.empty", "the file is empty (0 bytes)", 0)
    return _verdict(data[:HEAD_BYTES], data[-TAIL_BYTES:], len(data))


def _verdict(head: bytes, tail: bytes, size: int) -> Detected:
    for magic, what in _MAGIC:
        if head.startswith(magic):
            if what == "zip":
                return Detected("zip", size=size)
            return _reject("file.binary", f"binary file: looks like {what}, not a bank statement", size)
    encoding = "latin-1"
    for bom, enc in _BOMS:
        if head.startswith(bom):
            encoding = enc
            head, tail = head[len(bom):], tail[len(bom):] if tail.startswith(bom) else tail
            break
    if encoding.startswith("utf-16"):
        text = head[: len(head) // 2 * 2].decode(encoding, errors="replace")
        tail_text = tail[len(tail) % 2 :].decode(encoding, errors="replace")
    else:
        if b"\x00" in head or _control_share(head) > 0.05:
            return _reject("file.binary", "binary file: contains control bytes that no text format has", size)
        text = head.decode("latin-1")
        tail_text = tail.decode("latin-1")
    stripped = text.strip(" \t\r\n\x00\x01\x03\x1a")
    if not stripped:
        return _reject("file.empty", f"the file holds only whitespace ({size} bytes)", size)
    if re.match(r"<(!doctype\s+html|html[\s>])", stripped[:40], re.I):
        return _reject("file.unknown_format", "an HTML page (a web login or error page?), not a bank statement", size)
    if stripped.startswith("<"):
        return _xml_verdict(stripped, tail_text, size, truncated_head=size > HEAD_BYTES)
    mt = _mt_verdict(text)
    if mt is not None:
        return Detected(mt, size=size)
    return _reject("file.unknown_format", _describe_text(stripped), size)


def _control_share(data: bytes) -> float:
    if not data:
        return 0.0
    bad = len(data) - len(data.translate(None, _BAD_CONTROL))
    return bad / len(data)


def _mt_verdict(text: str) -> str | None:
    """``mt940``/``mt942`` when SWIFT MT tags stand at a line start, else ``None``."""
    text = _FINTS_SEGMENT.sub("\n", text)
    text = _FINTS_LEN.sub("\n", text.replace("@@", "\n"))
    text = text.translate({c: None for c in range(32) if c not in (10, 13)})
    if not (_MT_TAG.search(text) or text.lstrip().startswith("{1:")):
        return None
    return "mt942" if _MT942_HINT.search(text) else "mt940"


def _describe_text(text: str) -> str:
    """What the text looks like, in our words: a reason never quotes a file's content."""
    lines = [ln for ln in text.splitlines() if ln.strip()][:5]
    for sep, name in ((";", "semicolon"), (",", "comma"), ("\t", "tab")):
        counts = {ln.count(sep) for ln in lines}
        if len(lines) >= 2 and len(counts) == 1 and (n := counts.pop()) >= 2:
            return f"looks like CSV ({name}-separated text, {n + 1} columns), not a bank statement"
    return "not a bank statement: text without MT940 tags (:20:/:25:) at a line start and not XML"


def _skip_prolog(text: str, *, cut: bool) -> tuple[int, Detected | None]:
    """Index of the root start tag after the XML declaration, comments and PIs, or a rejection."""
    pos = 0
    while True:
        while pos < len(text) and text[pos] in " \t\r\n":
            pos += 1
        if text.startswith("<?", pos):
            end, close = text.find("?>", pos), "?>"
        elif text.startswith("<!--", pos):
            end, close = text.find("-->", pos), "-->"
        elif text.startswith("<!DOCTYPE", pos) or text.startswith("<!ENTITY", pos):
            if "<!ENTITY" in text[pos:]:
                return pos, _reject(
                    "xml.entities_forbidden",
                    "the XML declares entities (<!ENTITY ...>); bank statements never do, so it is not expanded",
                    None,
                    "/",
                )
            return pos, _reject(
                "xml.doctype_forbidden", "the XML has a <!DOCTYPE>; bank statements never do", None, "/"
            )
        else:
            return pos, None
        if end < 0:
            why = (
                f"no root element in the first {HEAD_BYTES // 1024} KB (a comment or <? ... ?> that long)"
                if cut
                else "the XML prolog never ends (an unclosed <? or <!--)"
            )
            return pos, _reject("xml.malformed", why, None, "/")
        pos = end + len(close)


def _xml_verdict(text: str, tail: str, size: int, *, truncated_head: bool) -> Detected:
    pos, bad = _skip_prolog(text, cut=truncated_head)
    if bad is not None:
        return Detected(None, bad.code, bad.reason, bad.locator, "", size)
    root = _START_TAG.match(text, pos)
    if root is None:
        where = f"in the first {HEAD_BYTES // 1024} KB" if truncated_head else "at all"
        return _reject("xml.malformed", f"no XML root element found {where}", size, "/")
    prefix, local, attrs, empty = root.groups()
    namespaces = {p or "": uri for p, uri in _NS_ATTR.findall(attrs or "")}
    ns = namespaces.get(prefix or "", "")
    if local != "Document":
        return _reject(
            "file.unknown_format",
            f"XML with root element <{local}>{f' ({ns})' if ns else ''}, not an ISO 20022 <Document>",
            size,
            f"/{local}",
        )
    child = None
    cpos = root.end()
    while not empty:
        cpos = text.find("<", cpos)
        if cpos < 0:
            break
        if text.startswith("<!--", cpos):
            cpos = text.find("-->", cpos)
            if cpos < 0:
                break
            cpos += 3
            continue
        child = _START_TAG.match(text, cpos)
        break
    if child is None:
        return _reject("xml.malformed", "the <Document> has no child element", size, "/Document")
    name = child.group(2)
    kind = re.split(r"[:/]", ns)[-1].removesuffix(".xsd") if ns else ""
    for prefix_name, fmt in _CAMT_CHILDREN.items():
        if re.fullmatch(rf"{prefix_name}(V\d+)?", name):
            truncated = _truncation(tail, local)
            if truncated:
                return Detected(None, "xml.malformed", truncated, "/Document", kind, size)
            return Detected(fmt, detail=kind, size=size)
    for prefix_name, what in _PAIN_CHILDREN.items():
        if name.startswith(prefix_name):
            return _reject("file.pain", f"{what} ({kind or name}), not a bank statement", size, f"/Document/{name}")
    if kind.startswith("pain."):
        return _reject("file.pain", f"payment order {kind} ({name}), not a bank statement", size, f"/Document/{name}")
    return _reject(
        "file.unknown_format",
        f"ISO 20022 message <{name}>{f' ({kind})' if kind else ''} is not a bank statement (camt.052/053/054)",
        size,
        f"/Document/{name}",
    )


def _truncation(tail: str, root: str) -> str:
    """A reason when the file does not end with the root's end tag (cut off in transfer), else ''."""
    end = tail.rstrip(" \t\r\n\x00\x1a")
    match = _LAST_END_TAG.search(end)
    if match is not None and match.group(1) == root:
        return ""
    return f"the XML is truncated: it does not end with </{root}>"
