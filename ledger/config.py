"""The tenant config's run sections: ``[tenant]``, ``[paths]``, ``[schedule]`` (plain, no Prefect).

One TOML file per tenant (Mandant). Other sections (``[reference]``, ``[matching]``, ``[allocation]``,
``[dunning]`` …) belong to other parts and are passed on untouched. Relative paths are relative to
the config file's folder::

    [tenant]
    id = "musterstadt"

    [paths]
    ledger = "kasse.duckdb"        # one DuckDB file; many tenants may share it
    tenant_dir = "musterstadt"     # holds inbox/, archive/, quarantine/
    state_dir = "state"            # published state + journal (default: beside the ledger file)
    reports = "reports"            # reports/<tenant>/<booking date>/

    [schedule]
    nightly = "0 2 * * *"          # cron, for `kasse serve`
    timezone = "Europe/Berlin"

A top-level ``extends = "other.toml"`` reads that file first and lays this one over it, table by
table (the demo uses it to put its own ``[paths]`` over the sample municipality's config).
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

DEFAULT_CRON = "0 2 * * *"
DEFAULT_TIMEZONE = "Europe/Berlin"


class ConfigError(ValueError):
    """The tenant config cannot be used (missing file, bad TOML, wrong value type)."""


@dataclass(frozen=True, slots=True)
class TenantConfig:
    """Where one tenant's files live and when its nightly run is scheduled."""

    tenant: str
    ledger: Path
    tenant_dir: Path
    state_dir: Path
    reports: Path
    cron: str = DEFAULT_CRON
    timezone: str = DEFAULT_TIMEZONE
    source: Path | None = None            # the TOML file (None for defaults)
    raw: dict[str, Any] = field(default_factory=dict)

    @property
    def inbox(self) -> Path:
        return self.tenant_dir / "inbox"

    @property
    def archive(self) -> Path:
        return self.tenant_dir / "archive"

    @property
    def quarantine(self) -> Path:
        return self.tenant_dir / "quarantine"

    @property
    def published(self) -> Path:
        return self.state_dir / "published" / self.tenant

    @property
    def journal(self) -> Path:
        return self.state_dir / "journal" / self.tenant

    @property
    def runs_dir(self) -> Path:
        return self.state_dir / "runs" / self.tenant


def _path(base: Path, value: Any, default: Path, what: str) -> Path:
    if value is None:
        return default
    if not isinstance(value, str):
        raise ConfigError(f"[paths] {what}: expected a string path, got {value!r}")
    p = Path(value).expanduser()
    return p if p.is_absolute() else base / p


def tenant_config(data: dict[str, Any], *, base: Path, tenant: str | None = None,
                  source: Path | None = None) -> TenantConfig:
    """Build a :class:`TenantConfig` from parsed TOML; ``tenant`` overrides ``[tenant] id``."""
    section = data.get("tenant", {})
    name = tenant or (section.get("id") if isinstance(section, dict) else None) or data.get("tenant_id")
    if not isinstance(name, str) or not name:
        name = "default"
    paths = data.get("paths", {})
    sched = data.get("schedule", {})
    if not isinstance(paths, dict) or not isinstance(sched, dict):
        raise ConfigError("[paths] and [schedule] must be tables")
    ledger = _path(base, paths.get("ledger"), base / "kasse.duckdb", "ledger")
    return TenantConfig(
        tenant=name,
        ledger=ledger,
        tenant_dir=_path(base, paths.get("tenant_dir"), base / name, "tenant_dir"),
        state_dir=_path(base, paths.get("state_dir"), ledger.parent / "state", "state_dir"),
        reports=_path(base, paths.get("reports"), base / "reports", "reports"),
        cron=str(sched.get("nightly", DEFAULT_CRON)),
        timezone=str(sched.get("timezone", DEFAULT_TIMEZONE)),
        source=source,
        raw=data,
    )


def _read(path: Path, depth: int = 0) -> dict[str, Any]:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"config file not found: {path}") from None
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from exc
    parent = data.pop("extends", None)
    if parent is None:
        return data
    if not isinstance(parent, str) or depth > 4:
        raise ConfigError(f"{path}: extends must name one TOML file (and not loop)")
    base = _read((path.parent / parent).resolve(), depth + 1)
    for key, value in data.items():
        if isinstance(value, dict) and isinstance(base.get(key), dict):
            base[key] = {**base[key], **value}
        else:
            base[key] = value
    return base


def check_inbox(cfg: TenantConfig) -> None:
    """Refuse a tenant whose inbox folder does not exist: a typo in ``tenant_dir`` would otherwise give
    empty nights forever (and a new ledger, archive and reports in the wrong place)."""
    if cfg.inbox.is_dir():
        return
    what = "is not a folder" if cfg.inbox.exists() else "does not exist"
    where = f"[paths] tenant_dir in {cfg.source}" if cfg.source else "the tenant folder (no config file)"
    raise ConfigError(f"tenant {cfg.tenant}: inbox folder {cfg.inbox} {what}; nothing was run: check "
                      f"{where}, or create the folder if this is a new tenant")


def load_tenant_config(path: Path | None, *, tenant: str | None = None) -> TenantConfig:
    """Read a tenant TOML (``None``: defaults in the current folder)."""
    if path is None:
        return tenant_config({}, base=Path.cwd(), tenant=tenant)
    path = Path(path)
    return tenant_config(_read(path), base=path.resolve().parent, tenant=tenant, source=path)
