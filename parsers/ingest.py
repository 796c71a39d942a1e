"""Ingest a batch of bank files: expand, hash, deduplicate, detect, dispatch, check; one row per file.

``parse_paths`` is what ``kasse parse`` and the nightly run call. Every input file ends in exactly one
row of ``files`` with status ``ok``, ``rejected`` (with a one-line reason, also an error issue) or
``duplicate`` (same bytes already seen, or every statement already read: nothing of it kept). A bad
file never stops the others and never raises.
"""

from __future__ import annotations

import os
import stat
import tempfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

import polars as pl

from claims.vocab import FileStatus, StatementKind
from parsers.archive import ArchiveError, unpack
from parsers.checks import balance_expr, check_statements
from parsers.dedupe import drop_copies_in_file, fingerprint_unbalanced, number_copies
from parsers.detect import DEFAULT_MAX_BYTES, Detected, detect
from parsers.ids import sha256_file, with_transaction_ids
from parsers.issues import ERROR, INFO, WARNING, Issue, label
from parsers.names import display_name, printable
from parsers.overlap import drop_overlaps
from parsers.result import FILE_SCHEMA, ParseResult
from parsers.schema import STATEMENT_SCHEMA, TRANSACTION_SCHEMA, conform, empty
from parsers.unreadable import unreadable_entry
from parsers.validity import add_validity

#: detect() verdicts reached without reading the file's bytes (nothing to hash)
_UNHASHED = {"file.not_found", "file.symlink", "file.unreadable", "file.is_directory", "file.not_regular", "file.too_large"}


@dataclass(slots=True)
class _Batch:
    """What the per-file loop gathers."""

    rows: list[dict[str, object]] = field(default_factory=list)
    transactions: list[pl.DataFrame] = field(default_factory=list)
    statements: list[pl.DataFrame] = field(default_factory=list)
    issues: list[Issue] = field(default_factory=list)
    seen: dict[str, str] = field(default_factory=dict)  # sha256 -> first path

    def reject(self, display: str, sha: str | None, size: int | None, code: str, reason: str, locator: str = "",
               fmt: str | None = None) -> None:
        issue = Issue(display, locator, ERROR, code, reason)
        self.issues.append(issue)
        self.rows.append(_row(display, sha, fmt, FileStatus.REJECTED, issue.one_line(), size))


def _row(display: str, sha: str | None, fmt: str | None, status: str, reason: str | None, size: int | None) -> dict[str, object]:
    return {"source_path": display, "source_file": sha, "source_format": fmt, "status": status,
            "reason": reason, "size_bytes": size}


def expand_paths(paths: Sequence[Path | str]) -> Iterator[Path]:
    """Files named, and every entry inside folders named (recursively, sorted by path).

    Inside a folder nothing is followed: a symlink (to a file or a folder, or dangling), a FIFO, socket
    or device, and a sub-folder that cannot be listed are yielded as themselves, so the reader gives
    each a ``rejected`` row. A path named here that is a link is followed (the operator typed it).
    """
    for p in map(Path, paths):
        if p.is_dir():
            yield from sorted(_walk(p), key=str)
        else:
            yield p


def _walk(folder: Path) -> Iterator[Path]:
    try:
        with os.scandir(folder) as it:
            entries = list(it)
    except OSError:
        yield folder                        # cannot be listed: rejected with the reason by the reader
        return
    for e in entries:
        if e.is_dir(follow_symlinks=False):
            yield from _walk(Path(e.path))
        else:
            yield Path(e.path)


def _not_followed(path: Path, follow: bool) -> tuple[str, str] | None:
    """Why ``path`` is not read although it exists (a link not to follow, a folder not to list), or None."""
    try:
        st = os.stat(path) if follow else os.lstat(path)
    except OSError:
        return None                         # detect() names the problem
    if stat.S_ISLNK(st.st_mode):
        return "file.symlink", "a symbolic link: not followed (only regular files are read)"
    if stat.S_ISDIR(st.st_mode):
        try:
            with os.scandir(path):
                pass
        except OSError as exc:
            return "file.unreadable", f"a folder that cannot be read: {exc.strerror or type(exc).__name__}"
    return None


def _dispatch(path: Path, fmt: str, sha: str, tenant: str, max_bytes: int) -> ParseResult:
    """Call the format's parser (imported lazily, so ingest works while a parser is missing). A size limit
    raised above the default raises the MT940 field limit alike (both bound the same memory)."""
    if fmt in ("mt940", "mt942"):
        from parsers.mt940 import parse_mt940
        from parsers.mt940_lines import MAX_TAG_LINES

        scale = max(1.0, max_bytes / DEFAULT_MAX_BYTES)
        return parse_mt940(path, sha256=sha, tenant=tenant, max_tag_lines=int(MAX_TAG_LINES * scale))
    from parsers.camt import parse_camt

    return parse_camt(path, sha256=sha, tenant=tenant)


def _one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    return f"{type(exc).__name__}: {text[:200]}" if text else type(exc).__name__


def _read_file(batch: _Batch, path: Path, display: str, *, tenant: str, max_bytes: int,
               known_files: frozenset[str], allow_zip: bool = True, follow: bool = False) -> None:
    """Everything about one input file, appended to ``batch`` (a link only read when ``follow``)."""
    skip = _not_followed(path, follow)
    if skip is not None:
        batch.reject(display, None, None, *skip)
        return
    det = detect(path, max_bytes=max_bytes)
    if det.code in _UNHASHED:
        batch.reject(display, None, det.size, det.code, det.reason, det.locator)
        return
    try:
        sha = sha256_file(str(path))
    except OSError as exc:
        batch.reject(display, None, det.size, "file.unreadable", f"cannot read the file: {exc.strerror or exc}")
        return
    first = batch.seen.get(sha)
    if first is not None or sha in known_files:
        why = f"same bytes as {first}" if first is not None else "already imported earlier (same SHA-256)"
        batch.issues.append(Issue(display, "", INFO, "file.duplicate", why))
        batch.rows.append(_row(display, sha, det.format, FileStatus.DUPLICATE, f"{display}: duplicate: {why}", det.size))
        return
    batch.seen[sha] = display
    if det.format == "zip":
        _read_zip(batch, path, display, det, sha, tenant=tenant, max_bytes=max_bytes, known_files=known_files,
                  allow_zip=allow_zip)
        return
    if not det.ok or det.format is None:
        batch.reject(display, sha, det.size, det.code, det.reason, det.locator)
        return
    try:
        result = _dispatch(path, det.format, sha, tenant, max_bytes)
        tx = conform(result.transactions, TRANSACTION_SCHEMA).with_columns(source_path=pl.lit(display))
        st = conform(result.statements, STATEMENT_SCHEMA).with_columns(source_path=pl.lit(display))
    except ImportError as exc:
        batch.reject(display, sha, det.size, "parser.missing", f"no parser for {det.format} installed ({exc})",
                     fmt=det.format)
        return
    except Exception as exc:  # a parser bug must not stop the batch: the file is rejected, named, one line
        batch.reject(display, sha, det.size, "parser.crashed", f"the {det.format} parser failed: {_one_line(exc)}",
                     fmt=det.format)
        return
    issues = [replace(i, source_path=display) for i in result.issues]
    incomplete = _incomplete(st)
    if incomplete is not None:
        batch.issues += issues
        batch.reject(display, sha, det.size, "statement.incomplete", incomplete[1], incomplete[0], det.format)
        return
    if st.is_empty():
        errors = [i for i in issues if i.severity == ERROR]
        batch.issues += [i for i in issues if i.severity != ERROR] + errors[1:]
        if errors:
            batch.reject(display, sha, det.size, errors[0].code, errors[0].message, errors[0].locator, det.format)
        else:
            batch.reject(display, sha, det.size, "file.no_statements", f"no statement found in this {det.format} file",
                         fmt=det.format)
        return
    refused = unreadable_entry(tx, issues)  # a statement is never booked in part (parsers/unreadable.py)
    if refused is not None:
        batch.issues += issues
        batch.reject(display, sha, det.size, refused.code, refused.message, refused.locator, det.format)
        return
    batch.issues += issues
    batch.transactions.append(tx)
    batch.statements.append(st)
    batch.rows.append(_row(display, sha, det.format, FileStatus.OK, None, det.size))


def _incomplete(statements: pl.DataFrame) -> tuple[str, str] | None:
    """Locator and reason for the first statement (MT940, camt.053) without a closing balance, else None.

    A statement without its closing balance is not complete: a file cut off in transfer looks exactly
    like that, and booking its entries now would book them again when the whole file comes. Only the
    formats that carry no balances by design (MT942, camt.052/054) are read without them.
    """
    missing = statements.filter((pl.col("kind") == StatementKind.STATEMENT) & pl.col("closing_cents").is_null())
    if missing.is_empty():
        return None
    row = missing.row(0, named=True)
    name = label(row["statement_no"] or row["statement_id"])
    return (f"statement {name}",
            f"statement {name} has no closing balance: the file is incomplete (cut off?) and nothing of it is "
            f"booked; the bank's complete file is booked when it comes")


def _read_zip(batch: _Batch, path: Path, display: str, det: Detected, sha: str, *, tenant: str, max_bytes: int,
              known_files: frozenset[str], allow_zip: bool) -> None:
    if not allow_zip:
        batch.reject(display, sha, det.size, "zip.nested", "a ZIP inside a ZIP is not opened")
        return
    with tempfile.TemporaryDirectory(prefix="kasse-zip-") as tmp:
        try:
            members = unpack(path, display, Path(tmp), max_bytes=max_bytes)
        except ArchiveError as exc:
            batch.reject(display, sha, det.size, exc.code, exc.reason)
            return
        # the archive itself has a row too (so the inbox can archive it; its hash marks a re-delivery),
        # with no statements of its own: its members follow as rows named zip!member
        batch.rows.append(_row(display, sha, "zip", FileStatus.OK, None, det.size))
        for m in members:
            # a member's name is data (it may hold ../, / or control bytes): printable, never a path
            name = display + "!" + printable(m.name.removeprefix(display + "!"))
            if m.path is None:
                batch.reject(name, None, None, m.code, m.reason)
            else:
                _read_file(batch, m.path, name, tenant=tenant, max_bytes=max_bytes, known_files=known_files,
                           allow_zip=False)


def _files_frame(batch: _Batch, statements: pl.DataFrame, transactions: pl.DataFrame) -> pl.DataFrame:
    rows = pl.DataFrame(batch.rows, schema={k: FILE_SCHEMA[k] for k in
                                            ("source_path", "source_file", "source_format", "status", "reason",
                                             "size_bytes")})
    per_st = statements.group_by("source_path").agg(
        n_statements=pl.len().cast(pl.Int32()), n_entries=pl.col("n_entries").sum().cast(pl.Int32()))
    per_tx = transactions.group_by("source_path").agg(n_rows=pl.len().cast(pl.Int32()))
    ok = pl.col("status") == FileStatus.OK
    out = rows.join(per_st, on="source_path", how="left", maintain_order="left").join(
        per_tx, on="source_path", how="left", maintain_order="left"
    ).with_columns(
        n_statements=pl.when(ok).then(pl.col("n_statements").fill_null(0)),
        n_entries=pl.when(ok).then(pl.col("n_entries").fill_null(0)),
        n_rows=pl.when(ok).then(pl.col("n_rows").fill_null(0)),
    )
    return conform(out, FILE_SCHEMA)


def _all_statements_dropped(files: pl.DataFrame, dropped: list[Issue]) -> pl.DataFrame:
    """A file whose every statement was dropped: a duplicate delivery, or rejected when any was a conflict.

    A rejected file goes to quarantine, so a person sees the conflicting statement; a file of which some
    statements were kept stays ``ok`` (its conflicts are error issues of the run).
    """
    if not dropped:
        return files
    conflict: dict[str, str] = {}
    for i in dropped:
        if i.severity == ERROR:
            conflict.setdefault(i.source_path, i.one_line())
    reasons = pl.DataFrame({"source_path": sorted({i.source_path for i in dropped})}).with_columns(
        _r=pl.col("source_path").replace_strict(conflict, default=None, return_dtype=pl.String()))
    gone = (pl.col("status") == FileStatus.OK) & (pl.col("n_statements") == 0) & pl.col("_in")
    return files.join(reasons.with_columns(_in=pl.lit(True)), on="source_path", how="left",
                      maintain_order="left").with_columns(pl.col("_in").fill_null(False)).with_columns(
        status=pl.when(gone).then(pl.when(pl.col("_r").is_not_null()).then(pl.lit(FileStatus.REJECTED))
                                  .otherwise(pl.lit(FileStatus.DUPLICATE))).otherwise(pl.col("status")),
        reason=pl.when(gone).then(pl.coalesce(
            "_r", pl.col("source_path") + ": duplicate: every statement was already read (overlapping delivery)"))
        .otherwise(pl.col("reason")),
    ).drop("_r", "_in")


def _strict(result: ParseResult) -> ParseResult:
    """Warnings become errors, and a file with an error is rejected: nothing of it is kept."""
    issues = [replace(i, severity=ERROR) if i.severity == WARNING else i for i in result.issues]
    first_error: dict[str, Issue] = {}
    for i in issues:
        if i.severity == ERROR:
            first_error.setdefault(i.source_path, i)
    files = result.files
    bad = [p for p, s in zip(files["source_path"], files["status"], strict=True) if s == FileStatus.OK and p in first_error]
    if not bad:
        return ParseResult(result.transactions, result.statements, issues, files)
    reasons = pl.DataFrame({"source_path": bad, "_r": [f"strict: {first_error[p].one_line()}" for p in bad]})
    files = files.join(reasons, on="source_path", how="left", maintain_order="left").with_columns(
        status=pl.when(pl.col("_r").is_not_null()).then(pl.lit(FileStatus.REJECTED)).otherwise(pl.col("status")),
        reason=pl.coalesce("_r", "reason"),
        n_statements=pl.when(pl.col("_r").is_null()).then(pl.col("n_statements")),
        n_entries=pl.when(pl.col("_r").is_null()).then(pl.col("n_entries")),
        n_rows=pl.when(pl.col("_r").is_null()).then(pl.col("n_rows")),
    ).drop("_r")
    keep = ~pl.col("source_path").is_in(bad)
    return ParseResult(result.transactions.filter(keep), result.statements.filter(keep), issues, files)


def parse_paths(
    paths: Sequence[Path | str],
    *,
    tenant: str = "default",
    strict: bool = False,
    progress: bool = False,
    known_files: frozenset[str] = frozenset(),
    known_statement_keys: frozenset[str] = frozenset(),
    previous_statements: pl.DataFrame | None = None,
    known_entries: pl.DataFrame | None = None,
    max_bytes: int = DEFAULT_MAX_BYTES,
    follow_named_links: bool = True,
) -> ParseResult:
    """Read files and folders into one :class:`ParseResult`, one ``files`` row per input file.

    ``previous_statements`` (the ledger's statements), ``known_statement_keys`` and ``known_entries``
    (the ledger's transactions of the days a delivery may touch) say what was read before: a statement
    overlapping one of them is dropped, never read twice (:mod:`parsers.overlap`).

    ``files.source_path`` is the printable name (:func:`parsers.names.display_name`); a link named in
    ``paths`` is followed unless ``follow_named_links`` is false, a link inside a folder never.
    ``input_rows`` of the result is the row of each input path (members of a ZIP follow its row).

    >>> parse_paths(["/nonexistent.sta"]).files.select("status", "reason").row(0)
    ('rejected', '/nonexistent.sta: error file.not_found: no such file')
    """
    named = frozenset(map(Path, paths)) if follow_named_links else frozenset()
    return _parse(list(expand_paths(paths)), tenant=tenant, strict=strict, progress=progress, known_files=known_files,
                  known_statement_keys=known_statement_keys, previous_statements=previous_statements,
                  known_entries=known_entries, max_bytes=max_bytes, follow=named)


def _parse(files: list[Path], *, tenant: str, strict: bool, progress: bool, known_files: frozenset[str],
           known_statement_keys: frozenset[str], previous_statements: pl.DataFrame | None,
           max_bytes: int, follow: frozenset[Path], known_entries: pl.DataFrame | None = None) -> ParseResult:
    batch = _Batch()
    input_rows = []
    for path in _progress(files, progress):
        input_rows.append(len(batch.rows))
        _read_file(batch, path, display_name(path), tenant=tenant, max_bytes=max_bytes, known_files=known_files,
                   follow=path in follow)
    tx = pl.concat(batch.transactions, how="vertical") if batch.transactions else empty(TRANSACTION_SCHEMA)
    st = pl.concat(batch.statements, how="vertical") if batch.statements else empty(STATEMENT_SCHEMA)
    st, tx = fingerprint_unbalanced(*number_copies(st, tx))
    st, tx, repeated = drop_copies_in_file(st, tx)
    st, tx, overlaps = drop_overlaps(st, tx, known=previous_statements, known_keys=known_statement_keys,
                                     known_entries=known_entries)
    dropped = repeated + overlaps
    if tx.height and tx["transaction_id"].null_count():
        tx = conform(with_transaction_ids(tx), TRANSACTION_SCHEMA)
    tx = add_validity(tx)
    st = st.with_columns(balance_ok=balance_expr())
    issues = batch.issues + dropped + check_statements(st, previous=previous_statements)
    files_df = _all_statements_dropped(_files_frame(batch, st, tx), dropped)
    result = ParseResult(tx, st, issues, files_df)
    result = _strict(result) if strict else result
    result.input_rows = input_rows
    return result


def parse_file(path: Path | str, *, tenant: str = "default", max_bytes: int = DEFAULT_MAX_BYTES) -> ParseResult:
    """One file (or ZIP) on its own, like :func:`parse_paths` but a folder is rejected, not expanded."""
    return _parse([Path(path)], tenant=tenant, strict=False, progress=False, known_files=frozenset(),
                  known_statement_keys=frozenset(), previous_statements=None, max_bytes=max_bytes,
                  follow=frozenset([Path(path)]))


def _progress(files: list[Path], show: bool) -> Iterator[Path]:
    if not show:
        yield from files
        return
    from rich.progress import track

    yield from track(files, description="reading bank files", transient=True)
