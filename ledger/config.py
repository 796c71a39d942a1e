"""The tenant config as the ledger's steps see it: :mod:`claims.config` (one typed config for every
command), plus the nightly run's own check of the tenant's inbox folder.

``TenantConfig`` and ``load_tenant_config`` are re-exported here because every nightly step imports them
from this module; new code imports them from :mod:`claims.config`.
"""

from __future__ import annotations

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
