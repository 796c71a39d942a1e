"""ZIP deliveries (EBICS sends camt in ZIPs): unpack each member, bounded, into a temporary folder.

Every member becomes its own input named ``zipname!member``. Limits guard against zip bombs, each
checked first from the sizes the archive declares and again while copying (headers can lie):

* a member larger than the size limit is not unpacked (``file.too_large``);
* a member that unpacks to more than :data:`MAX_RATIO` times its compressed size is not unpacked
  (``zip.compression_ratio``): bank files compress 4-50 fold, a deflate bomb about 1,000 fold;
* an archive whose members together unpack to more than ``max_total`` (by default
  :data:`TOTAL_FACTOR` times the size limit) is rejected whole (``zip.too_large``), so the temporary
  folder never holds more than that;
* an archive with more than :data:`MAX_MEMBERS` members is rejected whole.
"""

from __future__ import annotations

import zipfile
from dataclasses import dataclass
from pathlib import Path

MAX_MEMBERS = 10_000
#: an archive unpacks to at most this many times the size limit of one file, all members together
TOTAL_FACTOR = 4
#: the most a member may unpack to per compressed byte (checked on members over :data:`RATIO_FROM` bytes)
MAX_RATIO = 200
RATIO_FROM = 1 << 20
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


class _TooMuch(Exception):
    """The copy of a member stopped at a limit: ``code`` and ``reason`` as in :class:`Member`."""

    def __init__(self, code: str, reason: str) -> None:
        super().__init__(reason)
        self.code = code
        self.reason = reason


@dataclass(slots=True)
class _Tally:
    """Bytes written to the folder for one archive (also those of members removed again), and the most allowed."""

    written: int
    limit: int


def _copy_bounded(zf: zipfile.ZipFile, info: zipfile.ZipInfo, target: Path, *, max_bytes: int, tally: _Tally) -> None:
    """Copy one member, stopping before ``max_bytes``, :data:`MAX_RATIO` or the archive's ``tally`` limit
    is passed: then the partial copy is removed and :class:`_TooMuch` raised. No block is written past
    a limit, so ``tally.written`` never passes ``tally.limit``.
    """
    member = 0
    packed = max(info.compress_size, 1)  # zipfile reads at most this many compressed bytes
    try:
        with zf.open(info) as src, open(target, "wb") as dst:
            for block in iter(lambda: src.read(_BLOCK), b""):
                size = member + len(block)
                if size > max_bytes:
                    raise _TooMuch("file.too_large", f"the member unpacks to more than {max_bytes:,} bytes")
                if size > RATIO_FROM and size > MAX_RATIO * packed:
                    raise _TooMuch("zip.compression_ratio", f"the member unpacks to more than {MAX_RATIO} times its "
                                   f"{packed:,} compressed bytes (a zip bomb?)")
                if tally.written + len(block) > tally.limit:
                    raise _TooMuch("zip.too_large", "")
                dst.write(block)
                member = size
                tally.written += len(block)
    except BaseException:
        target.unlink(missing_ok=True)
        raise


def _declared(info: zipfile.ZipInfo, max_bytes: int) -> tuple[str, str] | None:
    """Why a member is not unpacked, judged from the sizes the archive declares; None: unpack it."""
    if info.flag_bits & 0x1:
        return "zip.encrypted", "the member is encrypted"
    if info.file_size > max_bytes:
        return "file.too_large", f"the member has {info.file_size:,} bytes, more than {max_bytes:,}"
    if info.file_size > RATIO_FROM and info.file_size > MAX_RATIO * max(info.compress_size, 1):
        return ("zip.compression_ratio", f"the member unpacks from {info.compress_size:,} to {info.file_size:,} "
                f"bytes, more than {MAX_RATIO} times (a zip bomb?)")
    return None


def unpack(path: Path, display: str, workdir: Path, *, max_bytes: int, max_total: int | None = None) -> list[Member]:
    """Unpack the members of ``path`` into ``workdir``; raises :class:`ArchiveError` for a bad archive.

    ``max_total`` bounds what all members together unpack to (default :data:`TOTAL_FACTOR` x
    ``max_bytes``); over it the archive is rejected whole and what was unpacked is removed.
    """
    total_limit = TOTAL_FACTOR * max_bytes if max_total is None else max_total
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
        verdicts = [_declared(info, max_bytes) for info in infos]
        declared = sum(info.file_size for info, v in zip(infos, verdicts, strict=True) if v is None)
        if declared > total_limit:
            raise ArchiveError("zip.too_large", f"the members unpack to {declared:,} bytes (declared), more than the "
                                                f"limit of {total_limit:,} for one archive")
        members: list[Member] = []
        tally = _Tally(0, total_limit)
        for n, (info, verdict) in enumerate(zip(infos, verdicts, strict=True)):
            name = f"{display}!{info.filename}"
            if verdict is not None:
                members.append(Member(name, None, *verdict))
                continue
            target = workdir / f"{n:05d}_{Path(info.filename).name or 'member'}"
            try:
                _copy_bounded(zf, info, target, max_bytes=max_bytes, tally=tally)
            except _TooMuch as exc:
                if exc.code == "zip.too_large":  # the headers lied about the sizes: nothing of it is read
                    for m in members:
                        if m.path is not None:
                            m.path.unlink(missing_ok=True)
                    raise ArchiveError("zip.too_large", f"the members unpack to more than the limit of "
                                                        f"{total_limit:,} bytes for one archive (their headers said "
                                                        f"{declared:,})") from exc
                members.append(Member(name, None, exc.code, exc.reason))
                continue
            except (zipfile.BadZipFile, OSError, EOFError, RuntimeError, NotImplementedError) as exc:
                members.append(Member(name, None, "zip.member_unreadable", f"cannot unpack the member: {exc}"))
                continue
            members.append(Member(name, target))
        return members
