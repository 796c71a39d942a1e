"""A case file (Vollstreckungsakte) as one ZIP for a document management system, and its texts.

:func:`case_zip` packs a subject's documents in the case file's order with ``index.csv`` (the repo's
Excel CSV: UTF-8 with BOM, ``;``) and ``index.json``, each listing per document its number, file name in
the ZIP, date, kind, title, SHA-256, size, media type, source run, retention date and filing key — so the
receiving system can check every file against its hash. A document removed after its retention is listed
(``purged``) without a file.

The ZIP is **deterministic**: the same documents give the same bytes. Entries are in a fixed order, each
dated with its document's date (the index files with the newest one), with fixed permissions and
system; nothing says when it was exported. Files are *stored*, not deflated: the PDFs are compressed
already, and a deflate stream could differ between zlib builds. File names in the ZIP are made from the
number, date, kind and hash only — never from a title — so no name can climb out of the folder on unpacking.
"""

from __future__ import annotations

import json
import re
import unicodedata
import zipfile
from collections.abc import Callable, Sequence
from datetime import date
from io import BytesIO
from typing import Any

import polars as pl

from claims.vocab import DocumentKind, SubjectKind
from outputs.excel_csv import Col, excel_csv_bytes

#: The documents' kinds as the case file page names them.
KIND_TEXT: dict[str, str] = {
    DocumentKind.NOTICE_EXPORT: "Bescheid (Export)",
    DocumentKind.MAHNUNG: "Mahnschreiben",
    DocumentKind.HANDOFF: "Übergabe an die Vollstreckung",
    DocumentKind.UPDATE: "Änderungsmitteilung",
    DocumentKind.OUTCOME: "Rückmeldung der Vollstreckung",
    DocumentKind.LETTER: "Schreiben",
}
#: Whose case file it is.
SUBJECT_TEXT: dict[str, str] = {
    SubjectKind.DEBTOR: "Schuldner",
    SubjectKind.CASE: "Vollstreckungsfall",
    SubjectKind.RECEIVABLE: "Forderung",
}
#: File name extension per media type (anything else: ``.bin``).
EXTENSIONS = {"application/pdf": ".pdf", "text/csv": ".csv", "application/json": ".json", "application/xml": ".xml",
              "text/plain": ".txt", "application/zip": ".zip"}
INDEX_COLS = [Col("n", "Nr", "int"), Col("file", "Datei"), Col("date", "Datum", "date"), Col("kind", "Art"),
              Col("title", "Titel"), Col("sha256", "SHA-256"), Col("size", "Bytes", "int"),
              Col("media_type", "Medientyp"), Col("run_id", "Lauf"), Col("retention_until", "Aufbewahren bis", "date"),
              Col("key", "Schlüssel"), Col("purged", "Gelöscht nach Aufbewahrung", "bool")]
_UNSAFE = re.compile(r"[^A-Za-z0-9 ._()-]+")
_ZIP_EPOCH = date(1980, 1, 1)
_UMLAUTS: dict[int, str] = {ord(k): v for k, v in {"ä": "ae", "ö": "oe", "ü": "ue", "Ä": "Ae", "Ö": "Oe", "Ü": "Ue",
                                                     "ß": "ss"}.items()}


def safe_filename(title: str, media_type: str, *, limit: int = 100) -> str:
    """A download name from a title: umlauts spelled out, anything but letters, digits, space and
    ``._()-`` replaced by ``_``, no leading dots, at most ``limit`` characters, the media type's
    extension. ``"Mahnung vom 18.11.2026 (Nr. N/1)"`` → ``"Mahnung vom 18.11.2026 (Nr. N_1).pdf"``."""
    text = title.translate(_UMLAUTS)
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    text = _UNSAFE.sub("_", text).strip(" ._")[:limit].strip(" ._")
    return (text or "dokument") + EXTENSIONS.get(media_type, ".bin")


def zip_name(n: int, entry: dict[str, Any]) -> str:
    """The file's name in the ZIP: ``dokumente/003_2026-11-18_mahnung_<12 hex>.pdf`` (no title in it)."""
    kind = re.sub(r"[^a-z_]", "", str(entry["kind"])) or "dokument"
    day = re.sub(r"[^0-9-]", "", str(entry["date"]))
    return f"dokumente/{n:03d}_{day}_{kind}_{str(entry['sha256'])[:12]}{EXTENSIONS.get(entry['media_type'], '.bin')}"


def _stamp(day: date) -> tuple[int, int, int, int, int, int]:
    d = max(day, _ZIP_EPOCH)
    return (d.year, d.month, d.day, 0, 0, 0)


def _info(name: str, day: date) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(name, date_time=_stamp(day))
    info.compress_type = zipfile.ZIP_STORED
    info.create_system = 3                         # unix: the permissions below mean what they say
    info.external_attr = 0o100444 << 16            # a plain read-only file
    return info


def index_rows(entries: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """The index's rows: one per document, numbered from 1 in the order given."""
    rows = []
    for n, e in enumerate(entries, start=1):
        rows.append({"n": n, "file": None if e.get("purged") else zip_name(n, e), "date": e["date"],
                     "kind": e["kind"], "title": e["title"], "sha256": e["sha256"], "size": e["size"],
                     "media_type": e["media_type"], "run_id": e.get("run_id"),
                     "retention_until": e["retention_until"], "key": e["key"], "purged": bool(e.get("purged"))})
    return rows


def case_zip(tenant: str, subject_kind: str, subject_id: str, entries: Sequence[dict[str, Any]],
             read: Callable[[str], bytes]) -> bytes:
    """The ZIP of one case file (module docstring). ``entries``: the subject's index lines in the case
    file's order (``ledger.documents.documents_of``); ``read(sha256)``: an object's bytes, checked."""
    rows = index_rows(entries)
    newest = max((date.fromisoformat(r["date"]) for r in rows), default=_ZIP_EPOCH)
    doc = {"format": "stadtkasse.casefile", "version": 1, "tenant": tenant, "subject_kind": subject_kind,
           "subject_id": subject_id, "documents": rows}
    frame = pl.DataFrame(rows, schema={"n": pl.Int64, "file": pl.String, "date": pl.String, "kind": pl.String,
                                       "title": pl.String, "sha256": pl.String, "size": pl.Int64,
                                       "media_type": pl.String, "run_id": pl.String, "retention_until": pl.String,
                                       "key": pl.String, "purged": pl.Boolean}).with_columns(
        pl.col("date").str.to_date(), pl.col("retention_until").str.to_date())
    buf = BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr(_info("index.csv", newest), excel_csv_bytes(frame, INDEX_COLS))
        z.writestr(_info("index.json", newest),
                   (json.dumps(doc, ensure_ascii=False, indent=2) + "\n").encode("utf-8"))
        for r, e in zip(rows, entries, strict=True):
            if r["file"] is not None:
                z.writestr(_info(r["file"], date.fromisoformat(e["date"])), read(e["sha256"]))
    return buf.getvalue()


__all__ = ["EXTENSIONS", "INDEX_COLS", "KIND_TEXT", "SUBJECT_TEXT", "case_zip", "index_rows", "safe_filename",
           "zip_name"]
