"""Which Amtshilfe file a delivery is, from its first bytes: for the tenant's inbox, which routes a file to
its reader before anything is parsed (issue 18 §1: delivered like bank files, detected, validated,
archived or quarantined). Only a look: the readers still validate everything."""

from __future__ import annotations

import re
from typing import Literal

from amtshilfe.csv_format import COLUMNS
from amtshilfe.xml_format import NAMESPACE

Kind = Literal["requests_xml", "answers_xml", "requests_csv"]
_HEAD = 4096
_ROOT = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?(Requests|Answers)[\s>]")
_REQUIRED = {c.header.casefold() for c in COLUMNS if c.required}


def kind_of(data: bytes) -> Kind | None:
    """``requests_xml`` / ``answers_xml`` for our XML (namespace ``urn:stadtkasse:amtshilfe:…``, any
    version: the reader refuses one it cannot read), ``requests_csv`` for a CSV whose header row has the
    required columns, else None (not an Amtshilfe file)."""
    head = data[:_HEAD]
    if NAMESPACE.rsplit(":", 1)[0].encode() in head:
        found = _ROOT.search(head)
        if found:
            return "requests_xml" if found.group(1) == b"Requests" else "answers_xml"
        return None
    if head.startswith(b"\xef\xbb\xbf"):
        head = head[3:]
    first = head.split(b"\n", 1)[0].rstrip(b"\r")
    try:
        text = first.decode("utf-8")
    except UnicodeDecodeError:
        text = first.decode("cp1252", errors="replace")
    headers = {h.strip().strip('"').casefold() for h in text.split(";")}
    return "requests_csv" if headers >= _REQUIRED else None
