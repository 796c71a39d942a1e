"""ZIP deliveries (EBICS sends camt in ZIPs): unpack each member, bounded, into a temporary folder.

Every member becomes its own input named ``zipname!member``. Limits guard against zip bombs: a
member larger than the size limit is not unpacked (its declared size is checked first, and the
copy stops at the limit whatever the header claims), and an archive with more than
:data:`MAX_MEMBERS` members is rejected whole.
"""

from __future__ import annotations

import zipfile
from dataclasses import dataclass
from pathlib import Path

MAX_MEMBERS = 10_000
_BLOCK = 1 << 20


@dataclass(frozen=True, slots=True)
class Member:
    """One archive member: its display name, and either the unpacked path or why it was not unpacked."""

    name: str
    path: Path | None
    code: str = ""
    reason: str = ""


class ArchiveError(ValueError):
    """The archive as a whole cannot be read; ``code`` is the stable issue code."""

    def __init__(self, code: str, reason: str) -> None:
        super().__init__(reason)
        self.code = code
        self.reason = reason


def _copy_bounded(zf: zipfile.ZipFile, info: zipfile.ZipInfo, target: Path, max_bytes: int) -> bool:
    """Copy one member; False when it turns out larger than ``max_bytes`` (the partial copy is removed)."""
    written = 0
    with zf.open(info) as src, open(target, "wb") as dst:
        for block in iter(lambda: src.read(_BLOCK), b""):
            written += len(block)
            if written > max_bytes:
                break
            dst.write(block)
    if written > max_bytes:
        target.unlink()
        return False
    return True


def unpack(path: Path, display: str, workdir: Path, *, max_bytes: int) -> list[Member]:
    """Unpack the members of ``path`` into ``workdir``; raises :class:`ArchiveError` for a bad archive."""
    try:
        zf = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError, EOFError) as exc:
        raise ArchiveError("zip.malformed", f"not a readable ZIP archive: {exc}") from exc
    with zf:
        infos = [i for i in zf.infolist() if not i.is_dir()]
        names = {i.filename for i in infos}
        if "[Content_Types].xml" in names:
            raise ArchiveError("file.office_document", "an Office document (XLSX/DOCX), not a bank statement")
        if not infos:
            raise ArchiveError("zip.empty", "the ZIP archive has no members")
        if len(infos) > MAX_MEMBERS:
            raise ArchiveError("zip.too_many_members", f"{len(infos)} members, more than {MAX_MEMBERS}")
        members = []
        for n, info in enumerate(infos):
            name = f"{display}!{info.filename}"
            if info.flag_bits & 0x1:
                members.append(Member(name, None, "zip.encrypted", "the member is encrypted"))
                continue
            if info.file_size > max_bytes:
                members.append(
                    Member(name, None, "file.too_large", f"the member has {info.file_size} bytes, more than {max_bytes}")
                )
                continue
            target = workdir / f"{n:05d}_{Path(info.filename).name or 'member'}"
            try:
                complete = _copy_bounded(zf, info, target, max_bytes)
            except (zipfile.BadZipFile, OSError, EOFError, RuntimeError, NotImplementedError) as exc:
                members.append(Member(name, None, "zip.member_unreadable", f"cannot unpack the member: {exc}"))
                continue
            if not complete:
                members.append(Member(name, None, "file.too_large", f"the member unpacks to more than {max_bytes} bytes"))
                continue
            members.append(Member(name, target))
        return members
