"""The case file (digitale Vollstreckungsakte): a subject's documents in order, each to download, and the
whole file as a ZIP for a document management system (docs/DOCUMENTS.md).

The subject is a debtor (all their Mahnungen, filed by the dunning run), an enforcement case (``case``,
filed by the enforcement job once it exists) or a single claim (``receivable``). The page reads the
document store's index and objects (``ledger.documents``) — files beside the ledger, never the DuckDB
file, so it works while a job writes. Every object is checked against its hash before it is served; a
damaged one is refused, not handed out.

Who: the roles of ``review.users.CASEFILE_ROLES`` (the enforcement office ``vollstreckung``, auditors,
and the treasury's clerks and supervisors), each only for their own tenants. Nobody files or changes
anything here: documents come only from the jobs.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response

from claims.vocab import SubjectKind
from ledger.documents import DocumentError, documents_of, read_object
from outputs.casefile_export import KIND_TEXT, SUBJECT_TEXT, case_zip, safe_filename
from review.auth import require_tenant, require_user
from review.dunning_state import debtor_notices
from review.users import User
from review.web import context_of, render


def _reader(request: Request) -> tuple[User, str]:
    user = require_user(request)
    tenant = request.path_params["tenant"]
    require_tenant(user, tenant, casefile=True)
    if not user.may_read_casefiles:
        raise HTTPException(403, f"Die Rolle {user.role} darf keine Akten lesen.")
    return user, tenant


def _subject(request: Request) -> tuple[str, str] | None:
    """``(subject kind, id)`` from the query (``subject``, ``id``); ``None`` when no id is given."""
    kind = (request.query_params.get("subject") or SubjectKind.DEBTOR).strip()
    ident = (request.query_params.get("id") or "").strip()[:200]
    if kind not in set(SubjectKind):
        raise HTTPException(400, f"Unbekannte Aktenart {kind!r} (debtor, case oder receivable).")
    return (kind, ident) if ident else None


def _lines(request: Request, tenant: str) -> list[dict[str, Any]]:
    try:
        return context_of(request).documents.lines(tenant)
    except DocumentError as exc:
        raise HTTPException(404, str(exc)) from exc


def _name(request: Request, tenant: str, kind: str, ident: str) -> str:
    if kind != SubjectKind.DEBTOR:
        return ""
    notices = debtor_notices(context_of(request).dunning.get(tenant), ident)
    return next((str(n["debtor_name"]) for n in notices if n.get("debtor_name")), "")


async def casefile_page(request: Request) -> Response:
    """GET /t/{tenant}/akte?subject=debtor&id=…: the subject's documents in order (date, kind, title,
    size, hash), each with its download; without an id, the form to open a case file."""
    _user, tenant = _reader(request)
    subject = _subject(request)
    docs: list[dict[str, Any]] = []
    name = ""
    if subject is not None:
        docs = documents_of(_lines(request, tenant), *subject)
        for n, d in enumerate(docs, start=1):
            d["n"] = n
            d["kind_text"] = KIND_TEXT.get(d["kind"], d["kind"])
        name = _name(request, tenant, *subject)
    kind, ident = subject if subject is not None else (str(SubjectKind.DEBTOR), "")
    return render(request, "casefile.html", {
        "tenant": tenant, "subject_kind": kind, "subject_id": ident, "subject_name": name,
        "subject_text": SUBJECT_TEXT.get(kind, kind), "subjects": SUBJECT_TEXT, "docs": docs,
        "opened": subject is not None, "total_bytes": sum(int(d["size"]) for d in docs if not d["purged"]),
        "export_query": f"subject={quote(kind)}&id={quote(ident)}"})


def _entry(request: Request, tenant: str, seq: int) -> dict[str, Any]:
    lines = _lines(request, tenant)
    if not 0 <= seq < len(lines) or lines[seq].get("op") != "file" or lines[seq].get("seq") != seq:
        raise HTTPException(404, f"Dokument {seq} gibt es für {tenant} nicht.")
    return lines[seq]


def _object(request: Request, tenant: str, sha256: str) -> bytes:
    try:
        return read_object(context_of(request).config.state_dir, tenant, sha256)
    except DocumentError as exc:
        raise HTTPException(404 if "not in" in str(exc) else 500,
                            f"Das Dokument wird nicht ausgeliefert: {exc}") from exc


def _attachment(name: str) -> str:
    """Content-Disposition for a sanitised name (ASCII only after :func:`safe_filename`)."""
    return f'attachment; filename="{name}"; filename*=UTF-8\'\'{quote(name)}'


async def document_download(request: Request) -> Response:
    """GET /t/{tenant}/akte/dok/{seq}: one document (its bytes checked against its hash), named after its
    title (sanitised)."""
    _user, tenant = _reader(request)
    entry = _entry(request, tenant, int(request.path_params["seq"]))
    data = _object(request, tenant, entry["sha256"])
    return Response(data, media_type=entry["media_type"],
                    headers={"content-disposition": _attachment(safe_filename(entry["title"], entry["media_type"]))})


async def casefile_zip(request: Request) -> Response:
    """GET /t/{tenant}/akte/export.zip?subject=…&id=…: the case file as a deterministic ZIP with index."""
    _user, tenant = _reader(request)
    subject = _subject(request)
    if subject is None:
        raise HTTPException(400, "Welche Akte? (Parameter id fehlt)")
    docs = documents_of(_lines(request, tenant), *subject)
    if not docs:
        raise HTTPException(404, f"Keine Dokumente für {SUBJECT_TEXT.get(subject[0])} {subject[1]}.")
    data = case_zip(tenant, subject[0], subject[1], docs, lambda sha: _object(request, tenant, sha))
    name = safe_filename(f"akte-{tenant}-{subject[0]}-{subject[1]}", "application/zip")
    return Response(data, media_type="application/zip", headers={"content-disposition": _attachment(name)})


__all__ = ["casefile_page", "casefile_zip", "document_download"]
