"""The tenant config as the ledger's steps see it: :mod:`claims.config` (one typed config for every
command), plus the nightly run's own check of the tenant's inbox folder.

``TenantConfig`` and ``load_tenant_config`` are re-exported here because every nightly step imports them
from this module; new code imports them from :mod:`claims.config`.
"""

from __future__ import annotations

import os
from pathlib import Path

from claims.config import TenantConfig, load_tenant_config, tenant_config
from claims.errors import ConfigError

__all__ = ["TenantConfig", "check_inbox", "load_tenant_config", "tenant_config"]


def check_inbox(cfg: TenantConfig) -> None:
    """Refuse a tenant whose inbox folder does not exist: a typo in ``tenant_dir`` would otherwise give
    empty nights forever (and a new ledger, archive and reports in the wrong place)."""
    if cfg.inbox.is_dir():
        return
    what = "is not a folder" if cfg.inbox.exists() else "does not exist"
    where = f"[paths] tenant_dir in {cfg.source}" if cfg.source else "the tenant folder (no config file)"
    raise ConfigError(f"tenant {cfg.tenant}: inbox folder {cfg.inbox} {what}; nothing was run: check "
                      f"{where}, or create the folder if this is a new tenant")


def tenant_path_problem(path: Path, tenant_dir: Path, tops: tuple[str, ...] = (), *, link_ok: bool = True) -> str | None:
    """Why ``path`` is not a plain path below ``tenant_dir`` (below one of ``tops`` when given): no ``..``,
    no symbolic link on the way — and, with ``link_ok=False``, not a link itself. ``None`` when it is.

    Every file a job reads or writes in the tenant's folders outside the inbox listing (moves to the
    archive, the instalment plans, the outbox) is checked with this: nothing outside the tenant's folders
    is read, moved or written, whatever a link or a config value points at."""
    root = Path(os.path.abspath(tenant_dir))
    full = Path(os.path.abspath(path))
    if ".." in path.parts or not full.is_relative_to(root):
        return "outside the tenant folder"
    rel = full.relative_to(root).parts
    if tops and (len(rel) < 2 or rel[0] not in tops):
        return f"not inside {' or '.join(t + '/' for t in tops)}"
    here = root
    for part in rel[:-1]:
        here = here / part
        if os.path.islink(here):
            return f"{here} is a symbolic link"
    if not link_ok and os.path.islink(full):
        return f"{full} is a symbolic link"
    return None
