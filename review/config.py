"""Settings of the review page, read from the tenant TOML (``[paths] state_dir`` and ``[review]``).

```toml
[paths]
state_dir = "state"            # published state + journal; read exactly as the nightly run reads it

[review]
four_eyes_above = "0,00"       # decisions moving more than this need a supervisor's approval
page_size = 50
session_hours = 8
secret_file = "review.secret"  # signing key of the session cookie; a fresh random one when absent
https_only = false             # true behind TLS: the cookie is then sent over HTTPS only
trusted_proxies = []           # addresses of reverse proxies whose X-Forwarded-For is believed
```
"""

from __future__ import annotations

import ipaddress
import secrets
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ledger.config import ConfigError as LedgerConfigError
from ledger.config import tenant_config
from review.amounts import AmountError, parse_amount


class ConfigError(ValueError):
    """The review settings cannot be used."""


@dataclass(frozen=True, slots=True)
class ReviewConfig:
    """What the page needs to run; build it with :func:`load_review_config` or directly in tests."""

    state_dir: Path
    four_eyes_above_cents: int = 0         # DOMAIN.md §9.2 default: every manual allocation is approved
    page_size: int = 50
    session_seconds: int = 8 * 3600
    secret_key: str = field(default_factory=lambda: secrets.token_urlsafe(32), repr=False)
    https_only: bool = False
    #: peers whose ``X-Forwarded-For`` names the client (a reverse proxy); empty: the header is ignored
    trusted_proxies: tuple[str, ...] = ()

    def requires_approval(self, amount_cents: int) -> bool:
        """Four-eyes: a decision moving more than the configured amount waits for a second user."""
        return abs(amount_cents) > self.four_eyes_above_cents


def _threshold(value: Any, where: str) -> int:
    if isinstance(value, int) and not isinstance(value, bool):
        return value * 100
    if isinstance(value, str):
        try:
            return parse_amount(value)
        except AmountError as exc:
            raise ConfigError(f"{where}: review.four_eyes_above: {exc}") from exc
    raise ConfigError(f"{where}: review.four_eyes_above must be a string like \"1.000,00\" or whole euros")


def _proxies(value: Any, where: str) -> tuple[str, ...]:
    """Addresses or networks of trusted reverse proxies; never ``*`` (anyone could name any client)."""
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ConfigError(f"{where}: review.trusted_proxies must be a list of addresses like [\"127.0.0.1\"]")
    for v in value:
        try:
            ipaddress.ip_network(v.strip(), strict=False)
        except ValueError as exc:
            raise ConfigError(f"{where}: review.trusted_proxies: {v!r} is not an IP address or network") from exc
    return tuple(v.strip() for v in value)


def review_config_from(data: dict[str, Any], base: Path, *, state_dir: Path | None = None,
                       where: str = "config") -> ReviewConfig:
    """Settings from a parsed TOML document; relative paths are taken from ``base`` (the file's folder)."""
    section = data.get("review") or {}
    if state_dir is None:
        try:                               # the nightly run's own reading of [paths], so both agree
            state_dir = tenant_config(data, base=base).state_dir
        except LedgerConfigError as exc:
            raise ConfigError(f"{where}: {exc}") from exc
    secret = None
    if section.get("secret_file"):
        secret_path = base / str(section["secret_file"])
        try:
            secret = secret_path.read_text(encoding="utf-8").strip()
        except OSError as exc:
            raise ConfigError(f"{where}: review.secret_file: {exc}") from exc
        if len(secret) < 16:
            raise ConfigError(f"{where}: review.secret_file holds {len(secret)} characters, expected at least 16")
    proxies = _proxies(section.get("trusted_proxies", []), where)
    return ReviewConfig(
        state_dir=Path(state_dir),
        four_eyes_above_cents=_threshold(section.get("four_eyes_above", 0), where),
        page_size=int(section.get("page_size", 50)),
        session_seconds=int(section.get("session_hours", 8)) * 3600,
        secret_key=secret or secrets.token_urlsafe(32),
        https_only=bool(section.get("https_only", False)),
        trusted_proxies=proxies,
    )


def load_review_config(path: Path | None, *, state_dir: Path | None = None) -> ReviewConfig:
    """Read the review settings from a tenant TOML (``None``: defaults, state in ``./state``)."""
    if path is None:
        return review_config_from({}, Path.cwd(), state_dir=state_dir)
    try:
        data = tomllib.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"{path}: {exc}") from exc
    return review_config_from(data, Path(path).resolve().parent, state_dir=state_dir, where=str(path))
