"""The revision-safe document store of the case files (digitale Vollstreckungsakte, issue 17 §3).

Every document of a debtor, an enforcement case or a claim — each Mahnung as the very pages sent, later
the hand-off record, updates, outcomes, letters — is kept here, per tenant, outside the DuckDB ledger::

    <state_dir>/documents/<tenant>/objects/ab/cdef…   the bytes, named by their SHA-256, read-only
    <state_dir>/documents/<tenant>/index.jsonl        append-only index: one JSON line per event
    <state_dir>/documents/<tenant>/index.head         the last line's number and hash (the chain's head)
    <state_dir>/documents/<tenant>/index.lock         writers take it (fcntl) for an append

**Why files, not a ledger table.** The review page must list and serve documents while a job holds the
ledger open for writing, and DuckDB allows one writer and no reader meanwhile. The documents are files
anyway; their index lies beside them and is read by the page without touching DuckDB, the way the page
reads the published snapshots. No migration is needed.

**Objects** are content-addressed: the same bytes are stored once (:func:`put` twice = one object). A
new object is written to a temporary file, fsynced, made read-only (0o444) and *linked* into place:
``os.link`` fails when the name exists, so an object is never overwritten, not even by a racing writer.

**The index** holds two kinds of line: ``file`` (a document filed under one subject: subject kind and
id, document kind, the filer's idempotency ``key``, date, title, sha256, media type, size, source run,
``retention_until``) and ``purge`` (an expired object removed, with who and when). Each line carries
``seq`` (0, 1, 2 …) and ``prev``, the SHA-256 of the previous line's bytes (64 zeros for the first),
so the lines form a hash chain: an edited line changes its hash and breaks the next line's ``prev``; a
removed line breaks ``seq`` and ``prev``; a cut-off tail no longer matches ``index.head``. The chain
shows tampering by anyone who does not rewrite every later line *and* the head; for more, copy the head
somewhere else after each run (the dunning run writes it into its run folder, ``documents.json``).
:func:`verify` checks the chain, the head, and every object's hash and size.

**Idempotent filing**: a document is filed under a subject with a ``key`` the filer chooses (the
dunning run: ``mahnung:<run_id>:<notice_id>``). Filing the same key under the same subject again files
nothing and returns the line already there; the same key with other bytes is refused (a document never
changes — a correction is a new document with its own key).

**Retention** (KomHVO § 59: Belege 6 years, books 10, counted from 1 January after the council approved
the year's accounts): ``retention_until`` = 31 December of (document year + ``approval_lag_years`` +
``retention_years``), from ``[documents]``. :func:`purge` removes only objects whose every line has
expired — both by the date stamped at filing and by the config in force at the purge, so raising the
config later extends the retention of documents already filed; it is a dry run unless asked, and each
removal is a ``purge`` line in the index (the deletion is itself on record).

Names are data: the tenant must be a plain name (:func:`check_tenant`) and an object's path is built
only from a checked SHA-256, never from a title, key or id.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import re
import stat
import tempfile
import threading
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from claims.config import DocumentsSection
from claims.errors import KasseError
from claims.vocab import DocumentKind, SubjectKind

#: Folder of the store below the state folder.
DOCUMENTS = "documents"
INDEX = "index.jsonl"
HEAD = "index.head"
LOCK = "index.lock"
#: ``prev`` of the first line.
GENESIS = "0" * 64
_TENANT = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$")
_SHA = re.compile(r"^[0-9a-f]{64}$")
#: Longest subject id, key and title kept (longer ones are refused: they are not ours).
MAX_TEXT = 500


class DocumentError(KasseError):
    """A document cannot be filed or read (bad name, a key filed with other bytes, a damaged object)."""


def check_tenant(tenant: str) -> str:
    """``tenant`` when it is a plain folder name (letters, digits, ``._-``, no ``..``), else DocumentError."""
    if not isinstance(tenant, str) or not _TENANT.match(tenant) or ".." in tenant:
        raise DocumentError(f"tenant {tenant!r} is not a plain name: no document folder is built from it")
    return tenant


def check_sha(sha256: str) -> str:
    """``sha256`` when it is 64 lower-case hex digits (the only text an object path is built from)."""
    if not isinstance(sha256, str) or not _SHA.match(sha256):
        raise DocumentError(f"{sha256!r} is not a SHA-256 in hex")
    return sha256


def store_dir(state_dir: Path, tenant: str) -> Path:
    """The tenant's document folder."""
    return Path(state_dir) / DOCUMENTS / check_tenant(tenant)


def object_path(state_dir: Path, tenant: str, sha256: str) -> Path:
    """Where the object with this hash lies: ``objects/<first two hex digits>/<the other 62>``."""
    check_sha(sha256)
    return store_dir(state_dir, tenant) / "objects" / sha256[:2] / sha256[2:]


def retention_until(day: date, settings: DocumentsSection) -> date:
    """31 December of ``day``'s year + ``approval_lag_years`` + ``retention_years`` (module docstring)."""
    return date(day.year + settings.approval_lag_years + settings.retention_years, 12, 31)


# --- objects ------------------------------------------------------------------------------------------

def _fsync_dir(folder: Path) -> None:
    with contextlib.suppress(OSError):
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def put(state_dir: Path, tenant: str, data: bytes, *, sync: bool = True) -> str:
    """Store ``data`` (once: the same bytes give the same name) and return its SHA-256.

    An object already there is left alone (its size is checked: a different size means a damaged store).
    A new one is written beside its place, made read-only and linked in, so a crash leaves either no
    object or a whole one, and an existing name is never replaced. ``sync``: fsync the file and its
    folder before returning; :func:`file_documents` stores a batch unsynced and then syncs once."""
    sha = hashlib.sha256(data).hexdigest()
    target = object_path(state_dir, tenant, sha)
    if target.exists():
        if target.stat().st_size != len(data):
            raise DocumentError(f"object {sha} in {tenant}'s store has {target.stat().st_size} bytes, not "
                                f"{len(data)}: the store is damaged (kasse documents verify)")
        return sha
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".obj-", suffix=".tmp", dir=target.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            if sync:
                fh.flush()
                os.fsync(fh.fileno())
        os.chmod(tmp, stat.S_IRUSR | stat.S_IRGRP | stat.S_IROTH)
        with contextlib.suppress(FileExistsError):  # never replaces: a racing writer stored the same bytes
            os.link(tmp, target)
        if sync:
            _fsync_dir(target.parent)
    finally:
        Path(tmp).unlink(missing_ok=True)
    return sha


def read_object(state_dir: Path, tenant: str, sha256: str) -> bytes:
    """The object's bytes, checked against its name (a damaged or altered object is refused)."""
    path = object_path(state_dir, tenant, sha256)
    try:
        data = path.read_bytes()
    except FileNotFoundError as exc:
        raise DocumentError(f"document {sha256} is not in {tenant}'s store") from exc
    if hashlib.sha256(data).hexdigest() != sha256:
        raise DocumentError(f"document {sha256} in {tenant}'s store does not match its hash: it was altered")
    return data


# --- the index ------------------------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class NewDocument:
    """What a filer hands :func:`file_documents`: the bytes and what the index says about them."""

    data: bytes
    subject_kind: SubjectKind
    subject_id: str
    kind: DocumentKind
    key: str                              # the filer's idempotency key, unique per subject
    day: date                             # the document's date (a letter: its notice date)
    title: str
    media_type: str = "application/pdf"
    run_id: str | None = None             # the run that made it


def _line(obj: dict[str, Any]) -> bytes:
    return json.dumps(obj, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode("utf-8")


def _hash(line: bytes) -> str:
    return hashlib.sha256(line).hexdigest()


def _text(value: str, what: str) -> str:
    if not isinstance(value, str) or not value.strip() or len(value) > MAX_TEXT or "\x00" in value:
        raise DocumentError(f"a document's {what} must be a text of 1 to {MAX_TEXT} characters, got {value!r}")
    return value


def _complete_lines(raw: bytes) -> list[bytes]:
    """The index's committed lines: a last line without its newline is a torn write, not a line."""
    end = raw.rfind(b"\n")
    return raw[:end].split(b"\n") if end >= 0 else []


def read_index(state_dir: Path, tenant: str) -> list[dict[str, Any]]:
    """Every committed line of the tenant's index, in order (none when nothing was filed)."""
    path = store_dir(state_dir, tenant) / INDEX
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return []
    return [json.loads(line) for line in _complete_lines(raw)]


@contextlib.contextmanager
def _locked(folder: Path) -> Iterator[None]:
    folder.mkdir(parents=True, exist_ok=True)
    with open(folder / LOCK, "a+b") as fh:
        fcntl.flock(fh.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh.fileno(), fcntl.LOCK_UN)


def _append(folder: Path, events: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """Append ``events`` as chained lines (under the lock); return them with ``seq`` and ``prev``.

    A torn last line (a crash inside an earlier append: no newline) was never committed and is cut off
    first; every committed line stays as it is."""
    path = folder / INDEX
    raw = path.read_bytes() if path.exists() else b""
    lines = _complete_lines(raw)
    committed = sum(len(x) + 1 for x in lines)
    seq = len(lines)
    prev = _hash(lines[-1]) if lines else GENESIS
    out, buf = [], bytearray()
    for event in events:
        entry = {**event, "seq": seq, "prev": prev}
        line = _line(entry)
        buf += line + b"\n"
        out.append(entry)
        prev, seq = _hash(line), seq + 1
    with open(path, "r+b" if path.exists() else "wb") as fh:
        if committed < len(raw):              # only the torn, never committed tail is cut off
            os.ftruncate(fh.fileno(), committed)
        fh.seek(committed)
        fh.write(bytes(buf))
        fh.flush()
        os.fsync(fh.fileno())
    head = _line({"seq": seq - 1, "hash": prev})
    fd, tmp = tempfile.mkstemp(prefix=".head-", dir=folder)
    with os.fdopen(fd, "wb") as fh:
        fh.write(head + b"\n")
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, folder / HEAD)
    _fsync_dir(folder)
    return out


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def file_documents(state_dir: Path, tenant: str, docs: Iterable[NewDocument], *,
                   settings: DocumentsSection) -> list[dict[str, Any]]:
    """File ``docs``: append one ``file`` line per document whose (subject, key) is not in the index yet,
    after storing its object (:func:`put`); return the lines of every document (new or already there).

    This is the one function a job calls to put something in a case file (the dunning run for each
    Mahnung, later the enforcement job for hand-off records, updates and outcomes). ``docs`` is consumed
    one by one (a generator keeps a large run's bytes out of memory). The objects are written first and
    flushed to disk together (one ``os.sync`` for a batch: an fsync per object costs ten times as much
    here), then the lines are appended, so a line never names a missing object; a crash in between
    leaves unnamed objects that the rerun finds and names (``verify`` lists them meanwhile)."""
    folder = store_dir(state_dir, tenant)
    with _locked(folder):
        known: dict[tuple[str, str, str], dict[str, Any]] = {}
        for e in read_index(state_dir, tenant):
            if e.get("op") == "file":
                known[(e["subject_kind"], e["subject_id"], e["key"])] = e
        result: list[dict[str, Any] | None] = []
        new: list[dict[str, Any]] = []
        written: list[Path] = []
        at = _now()
        for d in docs:
            SubjectKind(d.subject_kind)
            DocumentKind(d.kind)
            _text(d.subject_id, "subject id"), _text(d.key, "key"), _text(d.title, "title")
            _text(d.media_type, "media type")
            sha = hashlib.sha256(d.data).hexdigest()
            ident = (str(d.subject_kind), d.subject_id, d.key)
            old = known.get(ident)
            if old is not None:
                if old["sha256"] != sha:
                    raise DocumentError(f"{d.key} is filed under {d.subject_kind} {d.subject_id} already with other "
                                        f"bytes ({old['sha256'][:12]}…, now {sha[:12]}…): a filed document never "
                                        "changes; file a correction under a new key")
                result.append(old)
                continue
            path = object_path(state_dir, tenant, sha)
            if not path.exists():
                put(state_dir, tenant, d.data, sync=False)
                written.append(path)
            entry = {"op": "file", "tenant": tenant, "subject_kind": str(d.subject_kind), "subject_id": d.subject_id,
                     "kind": str(d.kind), "key": d.key, "date": d.day.isoformat(), "title": d.title, "sha256": sha,
                     "media_type": d.media_type, "size": len(d.data), "run_id": d.run_id,
                     "retention_until": retention_until(d.day, settings).isoformat(), "at": at}
            known[ident] = entry
            new.append(entry)
            result.append(None)
        _flush(written)
        lines = iter(_append(folder, new)) if new else iter(())
        return [r if r is not None else next(lines) for r in result]


def _flush(paths: Sequence[Path]) -> None:
    """Make newly written objects durable: a few one by one, a batch with one ``os.sync``."""
    if len(paths) > 4:
        os.sync()
        return
    for p in paths:
        with open(p, "rb") as fh:
            os.fsync(fh.fileno())
        _fsync_dir(p.parent)


def file_document(state_dir: Path, tenant: str, doc: NewDocument, *, settings: DocumentsSection) -> dict[str, Any]:
    """:func:`file_documents` for one document."""
    return file_documents(state_dir, tenant, [doc], settings=settings)[0]


def head(state_dir: Path, tenant: str) -> dict[str, Any] | None:
    """The chain's head as ``index.head`` says (``seq``, ``hash``), or ``None`` before the first line."""
    path = store_dir(state_dir, tenant) / HEAD
    try:
        top = json.loads(path.read_bytes())
    except (FileNotFoundError, json.JSONDecodeError):
        return None
    return top if isinstance(top, dict) else None


# --- reading for the review page ------------------------------------------------------------------

def documents_of(lines: Iterable[dict[str, Any]], subject_kind: str, subject_id: str) -> list[dict[str, Any]]:
    """The ``file`` lines of one subject, in the case file's order (date, then as filed), with
    ``purged`` set on those whose object was removed after its retention."""
    lines = list(lines)
    gone: set[str] = set()
    for e in lines:                            # purged, and not filed again since
        (gone.add if e.get("op") == "purge" else gone.discard)(e["sha256"])
    mine = [{**e, "purged": e["sha256"] in gone} for e in lines
            if e.get("op") == "file" and e["subject_kind"] == subject_kind and e["subject_id"] == subject_id]
    return sorted(mine, key=lambda e: (e["date"], e["seq"]))


class IndexReader:
    """The tenant's index for a long-lived reader (the review page): parsed once, then only the lines
    appended since (the index only grows); safe to share between threads."""

    def __init__(self, state_dir: Path) -> None:
        self.state_dir = Path(state_dir)
        self._lock = threading.Lock()
        self._cache: dict[str, tuple[int, list[dict[str, Any]]]] = {}

    def lines(self, tenant: str) -> list[dict[str, Any]]:
        """Every committed line of ``tenant``'s index (a copy of the list)."""
        path = store_dir(self.state_dir, tenant) / INDEX
        with self._lock:
            offset, lines = self._cache.get(tenant, (0, []))
            try:
                size = path.stat().st_size
            except FileNotFoundError:
                self._cache.pop(tenant, None)
                return []
            if size < offset:                  # cannot happen to an append-only file: start over
                offset, lines = 0, []
            if size > offset:
                with open(path, "rb") as fh:
                    fh.seek(offset)
                    chunk = fh.read(size - offset)
                new = _complete_lines(chunk)
                lines = lines + [json.loads(x) for x in new]
                offset += sum(len(x) + 1 for x in new)
            self._cache[tenant] = (offset, lines)
            return list(lines)


# --- verification and purge -------------------------------------------------------------------------

def verify(state_dir: Path, tenant: str) -> list[str]:
    """Every problem of the tenant's store (empty: all is well): the chain (``seq``, ``prev``), the head,
    each filed object present (unless purged), its size as indexed and its bytes matching its hash, and
    objects no line names (left by a crash before their line: harmless, listed for information)."""
    folder = store_dir(state_dir, tenant)
    problems: list[str] = []
    path = folder / INDEX
    raw = path.read_bytes() if path.exists() else b""
    lines = _complete_lines(raw)
    if raw and not raw.endswith(b"\n"):
        problems.append("index: the last line is unfinished (a write was interrupted; the next filing removes it)")
    prev = GENESIS
    sizes: dict[Any, set[Any]] = {}
    purged: set[Any] = set()
    for n, line in enumerate(lines):
        try:
            entry = json.loads(line)
        except json.JSONDecodeError:
            problems.append(f"index line {n + 1}: not JSON")
            prev = _hash(line)
            continue
        if entry.get("seq") != n:
            problems.append(f"index line {n + 1}: seq {entry.get('seq')} where {n} was expected (a line was "
                            "removed or inserted)")
        if entry.get("prev") != prev:
            problems.append(f"index line {n + 1}: prev does not match the hash of the line before (that line "
                            "was edited, removed or inserted)")
        if entry.get("tenant") != tenant:
            problems.append(f"index line {n + 1}: belongs to tenant {entry.get('tenant')!r}")
        if entry.get("op") == "file":
            sizes.setdefault(entry.get("sha256"), set()).add(entry.get("size"))
        elif entry.get("op") == "purge":
            purged.add(entry.get("sha256"))
        prev = _hash(line)
    top = head(state_dir, tenant)
    if lines and (top is None or top.get("seq") != len(lines) - 1 or top.get("hash") != prev):
        problems.append(f"index head: {HEAD} names line {None if top is None else top.get('seq')} but the index "
                        f"ends at line {len(lines) - 1} with another hash (lines were cut off or the head changed)")
    for sha, sz in sorted(sizes.items(), key=lambda x: str(x[0])):
        try:
            p = object_path(state_dir, tenant, str(sha))
        except DocumentError:
            problems.append(f"index: {sha!r} is not a SHA-256")
            continue
        if not p.exists():
            if sha not in purged:
                problems.append(f"object {sha}: missing")
            continue
        data = p.read_bytes()
        if hashlib.sha256(data).hexdigest() != sha:
            problems.append(f"object {sha}: its bytes do not match its hash (altered)")
        if sz != {len(data)}:
            problems.append(f"object {sha}: {len(data)} bytes, the index says {sorted(map(str, sz))}")
    objects = folder / "objects"
    if objects.is_dir():
        for p in sorted(objects.glob("??/*")):
            sha = p.parent.name + p.name
            if sha not in sizes and not p.name.startswith("."):
                problems.append(f"object {sha}: named by no index line (a filing interrupted before its line)")
    return problems


@dataclass(frozen=True, slots=True)
class Purge:
    """What :func:`purge` found (and removed unless it was a dry run): expired objects and those kept."""

    expired: tuple[str, ...]
    kept: int
    dry_run: bool


def purge(state_dir: Path, tenant: str, *, today: date, settings: DocumentsSection, user: str,
          dry_run: bool = True) -> Purge:
    """The objects whose every ``file`` line has expired before ``today`` — by its stamped
    ``retention_until`` **and** by ``settings`` now (the later date counts) — removed only when
    ``dry_run`` is false, each removal recorded as a ``purge`` line. Nothing within retention is touched."""
    folder = store_dir(state_dir, tenant)
    with _locked(folder):
        lines = read_index(state_dir, tenant)
        until: dict[str, date] = {}
        done: set[str] = set()                 # purged and not filed again since
        for e in lines:
            if e.get("op") == "purge":
                done.add(e["sha256"])
            if e.get("op") != "file":
                continue
            done.discard(e["sha256"])
            keep = max(date.fromisoformat(e["retention_until"]),
                       retention_until(date.fromisoformat(e["date"]), settings))
            until[e["sha256"]] = max(keep, until.get(e["sha256"], keep))
        expired = tuple(sorted(s for s, d in until.items() if d < today and s not in done))
        kept = sum(1 for s, d in until.items() if d >= today)
        if not dry_run:
            # the purge lines first: a crash before the removals leaves objects the rerun removes, never
            # a missing object without a line saying why
            if expired:
                _append(folder, [{"op": "purge", "tenant": tenant, "sha256": s, "by": user, "at": _now(),
                                  "retention_until": until[s].isoformat()} for s in expired])
            for sha in (*expired, *sorted(done)):
                path = object_path(state_dir, tenant, sha)
                if path.exists():
                    os.chmod(path, stat.S_IRUSR | stat.S_IWUSR)
                    path.unlink()
        return Purge(expired, kept, dry_run)


__all__ = ["DocumentError", "IndexReader", "NewDocument", "Purge", "check_sha", "check_tenant", "documents_of",
           "file_document", "file_documents", "head", "object_path", "purge", "put", "read_index",
           "read_object", "retention_until", "store_dir", "verify"]
