"""The directory of competent enforcement authorities (``[amtshilfe] authorities_file``): who enforces for a
debtor outside our district (issue 18 §4), and whom a request we cannot take is returned to (§2).

XAmtshilfe asks a central register (ZustaendigkeitAnfrage.001 / ZustaendigkeitAntwort.002, DOMAIN.md §5);
there is none here, so the tenant keeps a CSV, one row per postcode or municipality key (AGS, eight
digits): the authority's id, name, postal address and its exchange address (where our requests go). The
file is small (a Land has a few thousand postcodes) and read whole; a row that cannot be used refuses the
file, naming the file and the line, because a wrong directory sends a debtor's claims to the wrong office.

Columns (header row, ``;``, UTF-8 with or without BOM, any order, case-blind): ``postcode`` and/or ``ags``
(at least one per row), ``authority_name`` (required), ``authority_id`` (needed to send a request: the
outbox folder and the file's receiver), ``authority_street``, ``authority_postcode``, ``authority_city``,
``exchange`` (their inbox: an XTA/OSCI address, a mail address or a folder — our outbox names it, the
transport is not ours). A key given twice must name the same authority; an authority id given twice must
come with the same name and address.
"""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path

import polars as pl

from claims.errors import KasseError

#: The columns of :func:`read_directory`'s frame, in this order.
DIRECTORY_COLUMNS = ("key_kind", "key", "authority_id", "authority_name", "authority_street",
                     "authority_postcode", "authority_city", "exchange", "line")
_OPTIONAL = ("postcode", "ags", "authority_id", "authority_street", "authority_postcode", "authority_city",
             "exchange")
_ADDRESS = ("authority_name", "authority_street", "authority_postcode", "authority_city", "exchange")
_POSTCODE = re.compile(r"^[0-9]{5}$")
_AGS = re.compile(r"^[0-9]{8}$")
_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")


class DirectoryError(KasseError, ValueError):
    """The directory cannot be used: ``file``, ``line`` (0: the file as a whole) and ``reason``."""

    def __init__(self, file: str, line: int, reason: str) -> None:
        self.file, self.line, self.reason = file, line, reason
        super().__init__(f"{file}:{line}: {reason}" if line else f"{file}: {reason}")


def _text(raw: bytes, file: str) -> str:
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise DirectoryError(file, 0, f"not UTF-8 ({exc.reason} at byte {exc.start})") from None


def read_directory(path: Path | str) -> pl.DataFrame:
    """The directory (:data:`DIRECTORY_COLUMNS`: one row per key, ``key_kind`` ``postcode`` or ``ags``,
    ``line`` the file's line); raises :class:`DirectoryError` naming the file and line of the first
    problem."""
    p = Path(path)
    file = str(p)
    try:
        text = _text(p.read_bytes(), file)
    except OSError as exc:
        raise DirectoryError(file, 0, f"cannot be read ({exc.strerror or exc})") from None
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=";")
    header = next(reader, None)
    if header is None:
        raise DirectoryError(file, 0, "empty: no header row")
    names = [h.strip().lower() for h in header]
    for n in {n for n in names if names.count(n) > 1}:
        raise DirectoryError(file, 1, f"column {n} twice")
    if "authority_name" not in names:
        raise DirectoryError(file, 1, "column authority_name missing")
    if "postcode" not in names and "ags" not in names:
        raise DirectoryError(file, 1, "neither a postcode nor an ags column")
    rows: list[dict[str, object]] = []
    seen_key: dict[tuple[str, str], tuple[int, tuple[str | None, ...]]] = {}
    seen_id: dict[str, tuple[int, tuple[str | None, ...]]] = {}
    for fields in reader:
        line = reader.line_num
        if not any(f.strip() for f in fields):
            continue
        if len(fields) != len(names):
            raise DirectoryError(file, line, f"{len(fields)} fields, the header has {len(names)}")
        rec: dict[str, str | None] = {n: (f.strip() or None) for n, f in zip(names, fields, strict=True)}
        for c in _OPTIONAL:
            rec.setdefault(c, None)
        if not rec["authority_name"]:
            raise DirectoryError(file, line, "authority_name: missing")
        aid = rec["authority_id"]
        if aid is not None and not _ID.match(aid):
            raise DirectoryError(file, line, f"authority_id: not an id (1–64 letters, digits, . _ -: it names a folder) {aid!r}")
        keys = [(kind, rec[kind]) for kind in ("postcode", "ags") if rec[kind]]
        if not keys:
            raise DirectoryError(file, line, "neither postcode nor ags given")
        for kind, key in keys:
            assert key is not None
            if not (_POSTCODE if kind == "postcode" else _AGS).match(key):
                raise DirectoryError(file, line, f"{kind}: not {'five' if kind == 'postcode' else 'eight'} "
                                                 f"digits {key!r}")
        who = (aid, *(rec[c] for c in _ADDRESS))
        if aid is not None:
            first = seen_id.setdefault(aid, (line, who))
            if first[1] != who:
                raise DirectoryError(file, line, f"authority {aid} has another name or address in line {first[0]}")
        for kind, key in keys:
            assert key is not None
            first = seen_key.setdefault((kind, key), (line, who))
            if first[1] != who:
                raise DirectoryError(file, line, f"{kind} {key} names another authority in line {first[0]}")
            if first[0] == line:
                rows.append({"key_kind": kind, "key": key, **{c: rec[c] for c in DIRECTORY_COLUMNS[2:-1]},
                             "line": line})
    schema = {c: pl.String() for c in DIRECTORY_COLUMNS[:-1]} | {"line": pl.Int64()}
    return pl.DataFrame(rows, schema=schema, orient="row") if rows else pl.DataFrame(schema=schema)


def by_postcode(directory: pl.DataFrame) -> pl.DataFrame:
    """The directory's postcode rows as ``amtshilfe.checks.Authority`` (``postcode`` and the authority)."""
    return (directory.filter(pl.col("key_kind") == "postcode")
            .select(pl.col("key").alias("postcode"), "authority_id", "authority_name", "authority_street",
                    "authority_postcode", "authority_city"))


def competent(debtors: pl.DataFrame, directory: pl.DataFrame) -> pl.DataFrame:
    """``debtors`` (with ``debtor_postcode`` and optionally ``debtor_municipality``, an AGS) with the
    competent authority's columns: the municipality key first (it is exact), else the postcode (a
    postcode may cross a municipal border: the directory then lists the AGS). No match: nulls."""
    cols = [c for c in DIRECTORY_COLUMNS[2:-1]]
    out = debtors.with_row_index("_pos")
    by_ags = directory.filter(pl.col("key_kind") == "ags").select(pl.col("key").alias("_k"), *cols)
    by_pc = directory.filter(pl.col("key_kind") == "postcode").select(pl.col("key").alias("_k"), *cols)
    pc = out.with_columns(pl.col("debtor_postcode").str.strip_chars().alias("_k")).join(
        by_pc, on="_k", how="left").select("_pos", *cols)
    if "debtor_municipality" in debtors.columns and by_ags.height:
        ags = out.with_columns(pl.col("debtor_municipality").str.strip_chars().alias("_k")).join(
            by_ags, on="_k", how="left").select("_pos", *cols)
        pick = pl.col("authority_name_ags").is_not_null()
        pc = pc.join(ags, on="_pos", how="left", suffix="_ags").select(
            "_pos", *[pl.when(pick).then(pl.col(f"{c}_ags")).otherwise(pl.col(c)).alias(c) for c in cols])
    return out.join(pc, on="_pos", how="left").sort("_pos").drop("_pos")


__all__ = ["DIRECTORY_COLUMNS", "DirectoryError", "by_postcode", "competent", "read_directory"]
