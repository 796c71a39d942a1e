"""The tenant config as the CLI and the flows see it (defined in :mod:`ledger.config`, no Prefect)."""

from __future__ import annotations

from ledger.config import ConfigError, TenantConfig, load_tenant_config, tenant_config

__all__ = ["ConfigError", "TenantConfig", "load_tenant_config", "tenant_config"]
