"""``kasse exchange``: the data centre carries enforcement files between its tenants (issue 17 §4).

A tenant's jobs write only into the tenant's own folders: the hand-off job and the nightly put the hand-off
and updates files into ``<tenant_dir>/outbox/``, the office tenant's enforcement product puts its outcomes
files into its own. Moving a file from one tenant's folders into another's is not a tenant's job; it is
this step, run by the operator over the configured tenants (``kasse exchange --config a.toml --config
b.toml``, before and after the nights). For every ``*.xml`` in a tenant's outbox it reads the header
(:func:`enforcement.route.envelope`) and lets :func:`enforcement.route.route` decide; then the file

* **moved** — copied into ``<receiver tenant_dir>/inbox/exchange/<sender>/<sha256>-<name>`` under a
  dot name, flushed, renamed (the receiving nightly never sees half a file: it skips dot files), checked
  against its SHA-256, and only then moved out of the outbox into ``<sender tenant_dir>/exchanged/<sha256>-
  <name>``, the record that it went;
* **duplicate** — its SHA-256 is already in ``exchanged/`` (a file the hand-off job delivered again after a
  crash, the same bytes): not carried a second time, filed beside the first;
* **refused** — its header disagrees with the route, it cannot be read, a link, or the receiver's inbox is
  missing: it stays where it is and the report says why (every run again, until someone acts);
* **local** — no ``Receiver/Tenant`` (or its own): for the tenant's own enforcement product; left alone.

Crash safety: a crash after the copy and before the source is filed leaves the file in the outbox; the
next run carries it again, under the same name in the receiver's inbox (the same bytes), or — when the
receiving night archived the first copy meanwhile — as a second delivery that the receiving nightly
recognises by its SHA-256 (``files``) and whose message id is booked once (``office_cases``, outcome ids):
a file reaches its receiver at least once and is booked exactly once.

Names are data: a file's name is made safe (:func:`parsers.names.safe_file_name`) before it becomes part of
a path; no link is followed (an outbox entry that is a link is refused, a folder on the way that is a link
refuses the move: :func:`ledger.config.tenant_path_problem`).
"""

from __future__ import annotations

import hashlib
import os
import stat
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from claims.config import TenantConfig
from claims.errors import ConfigError
from enforcement.file_format import EnforcementFileError
from enforcement.route import Envelope, Peer, envelope, route
from jobs.nightly.inbox import Entry, scan_inbox
from ledger.config import tenant_path_problem
from parsers.names import display_name, safe_file_name

OUTBOX, EXCHANGED, INBOX_SUB = "outbox", "exchanged", "exchange"


@dataclass(frozen=True)
class Carried:
    """One file the exchange looked at: ``status`` moved | duplicate | refused | local."""

    sender: str
    file: str
    status: str
    kind: str | None = None
    message_id: str | None = None
    receiver: str | None = None
    sha256: str | None = None
    target: str | None = None
    reason: str | None = None


def peer(cfg: TenantConfig) -> Peer:
    """A tenant's side of the routes, from its ``[enforcement]`` table."""
    e = cfg.enforcement
    return Peer(cfg.tenant, e.office_id, e.office_tenant, tuple(e.clients))


def outbox(cfg: TenantConfig) -> Path:
    """Where the tenant's jobs put the enforcement files: ``<tenant_dir>/outbox`` (sub-folders too)."""
    return cfg.tenant_dir / OUTBOX


def _sent(cfg: TenantConfig) -> set[str]:
    """The SHA-256 of every file already carried from this tenant (the names in ``exchanged/``)."""
    folder = cfg.tenant_dir / EXCHANGED
    if not folder.is_dir() or os.path.islink(folder):
        return set()
    with os.scandir(folder) as it:
        return {e.name[:64] for e in it if len(e.name) > 65 and e.name[64] == "-"}


def _same_file(entry: Entry) -> bool:
    try:
        st = os.lstat(entry.path)
    except FileNotFoundError:
        return False
    return stat.S_ISREG(st.st_mode) and (st.st_dev, st.st_ino) == (entry.dev, entry.ino)


def _copy_in(data: bytes, target: Path, sha: str) -> None:
    """Write ``data`` to ``target`` through a dot-named temp file (the nightly skips it), synced, renamed."""
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{target.name}.part")
    with tmp.open("wb") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, target)
    if hashlib.sha256(target.read_bytes()).hexdigest() != sha:
        raise OSError(f"{target}: the copy differs from the file read")


def _file_away(cfg: TenantConfig, entry: Entry, sha: str) -> None:
    """Move the carried (or duplicate) source into ``exchanged/``; the same name there: the same bytes."""
    target = cfg.tenant_dir / EXCHANGED / f"{sha}-{safe_file_name(entry.path.name)}"
    problem = tenant_path_problem(target, cfg.tenant_dir, (EXCHANGED,))
    if problem is not None:
        raise OSError(f"{target}: {problem}")
    target.parent.mkdir(parents=True, exist_ok=True)
    if os.path.lexists(target):
        entry.path.unlink()
    else:
        os.replace(entry.path, target)


def _one(cfg: TenantConfig, entry: Entry, cfgs: dict[str, TenantConfig], peers: dict[str, Peer],
         sent: set[str]) -> Carried:
    sender, name = cfg.tenant, display_name(entry.path.relative_to(outbox(cfg)))
    if entry.kind == "other":
        return Carried(sender, name, "refused", reason=entry.reason)
    problem = tenant_path_problem(entry.path, cfg.tenant_dir, (OUTBOX,), link_ok=False)
    if problem is not None:
        return Carried(sender, name, "refused", reason=problem)
    limit = cfg.settings.ingest.max_file_mib << 20
    if entry.path.stat().st_size > limit:
        return Carried(sender, name, "refused", reason=f"larger than [ingest] max_file_mib ({limit >> 20} MiB)")
    data = entry.path.read_bytes()
    sha = hashlib.sha256(data).hexdigest()
    try:
        env: Envelope | None = envelope(data, file=name)
    except EnforcementFileError as exc:
        return Carried(sender, name, "refused", sha256=sha, reason=str(exc))
    if env is None:
        return Carried(sender, name, "not_ours", sha256=sha)
    base = Carried(sender, name, "refused", env.kind, env.message_id, env.receiver_tenant, sha)
    receiver, why = route(env, sender, peers)
    if receiver is None:
        return Carried(**{**asdict(base), "status": "local" if why is None else "refused", "reason": why})
    if sha in sent:
        if _same_file(entry):
            _file_away(cfg, entry, sha)
        return Carried(**{**asdict(base), "status": "duplicate",
                          "reason": "already carried (its SHA-256 is in exchanged/): not carried again"})
    to = cfgs[receiver]
    if not to.inbox.is_dir():
        return Carried(**{**asdict(base), "reason": f"the inbox of tenant {receiver!r} ({to.inbox}) does not exist"})
    target = to.inbox / INBOX_SUB / safe_file_name(sender) / f"{sha}-{safe_file_name(entry.path.name)}"
    problem = tenant_path_problem(target, to.tenant_dir, ("inbox",))
    if problem is not None:
        return Carried(**{**asdict(base), "reason": f"{target}: {problem}"})
    if not _same_file(entry):
        return Carried(**{**asdict(base), "reason": "the file changed while it was read: the next run takes it"})
    _copy_in(data, target, sha)
    _file_away(cfg, entry, sha)
    sent.add(sha)
    return Carried(**{**asdict(base), "status": "moved", "target": str(target), "reason": None})


def exchange(configs: list[TenantConfig]) -> list[Carried]:
    """Carry the enforcement files between ``configs`` (each tenant once, in the order of their ids); one
    row per file looked at (files that are no enforcement message are not listed)."""
    cfgs: dict[str, TenantConfig] = {}
    for cfg in configs:
        if cfg.tenant in cfgs and cfgs[cfg.tenant].source != cfg.source:
            raise ConfigError(f"tenant {cfg.tenant!r} is configured twice ({cfgs[cfg.tenant].source}, {cfg.source})")
        cfgs[cfg.tenant] = cfg
    peers = {t: peer(c) for t, c in cfgs.items()}
    out: list[Carried] = []
    for tenant in sorted(cfgs):
        cfg = cfgs[tenant]
        folder = outbox(cfg)
        if not folder.is_dir() or tenant_path_problem(folder, cfg.tenant_dir, link_ok=False) is not None:
            continue
        sent = _sent(cfg)
        for entry in scan_inbox(folder):
            if entry.kind != "other" and entry.path.suffix.lower() != ".xml":
                continue                # manifests, PDFs, CSVs: for people and the bank, not carried
            row = _one(cfg, entry, cfgs, peers, sent)
            if row.status != "not_ours":
                out.append(row)
    return out


def summary(rows: list[Carried]) -> dict[str, Any]:
    """Counts per status and the rows, as the command prints them with ``--json``."""
    counts: dict[str, int] = {}
    for r in rows:
        counts[r.status] = counts.get(r.status, 0) + 1
    return {"counts": counts, "files": [asdict(r) for r in rows]}
