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

import secrets
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from claims.config import ReviewSection, TenantConfig, load_tenant_config, tenant_config
from claims.errors import ConfigError
from review.amounts import AmountError, parse_amount

_D = ReviewSection()     # the defaults: the model's, nowhere else


@dataclass(frozen=True, slots=True)
class ReviewConfig:
    """What the page needs to run; build it with :func:`load_review_config` or directly in tests."""

    state_dir: Path
    #: DOMAIN.md §9.2 default ("0,00"): every manual allocation is approved
    four_eyes_above_cents: int = parse_amount(str(_D.four_eyes_above))
    page_size: int = _D.page_size
    session_seconds: int = _D.session_hours * 3600
    secret_key: str = field(default_factory=lambda: secrets.token_urlsafe(32), repr=False)
    https_only: bool = _D.https_only
    #: peers whose ``X-Forwarded-For`` names the client (a reverse proxy); empty: the header is ignored
    trusted_proxies: tuple[str, ...] = _D.trusted_proxies
    #: ``[paths] reports``: the dunning run's sample letters are served only from ``<reports>/<tenant>/``
    #: or ``<state_dir>/runs/<tenant>/`` (None: only the latter)
    reports_dir: Path | None = None

    def requires_approval(self, amount_cents: int) -> bool:
        """Four-eyes: a decision moving more than the configured amount waits for a second user."""
        return abs(amount_cents) > self.four_eyes_above_cents


def _threshold(value: int | str, where: str) -> int:
    if isinstance(value, int):
        return value * 100
    try:
        return parse_amount(value)
    except AmountError as exc:
        raise ConfigError(f"{where}: [review] four_eyes_above: {exc}") from exc


def review_config_of(cfg: TenantConfig, *, state_dir: Path | None = None) -> ReviewConfig:
    """The page's settings from the tenant config every command reads (``[paths] state_dir`` exactly as
    the nightly run reads it, ``[review]``); ``state_dir`` overrides the file's."""
    section, where = cfg.review, str(cfg.source or "config")
    secret = None
    if section.secret_file:                 # made absolute by claims.config (relative to its file)
        try:
            secret = Path(section.secret_file).read_text(encoding="utf-8").strip()
        except OSError as exc:
            raise ConfigError(f"{where}: [review] secret_file: {exc}") from exc
        if len(secret) < 16:
            raise ConfigError(f"{where}: [review] secret_file holds {len(secret)} characters, expected at least 16")
    return ReviewConfig(
        state_dir=Path(state_dir) if state_dir is not None else cfg.state_dir,
        four_eyes_above_cents=_threshold(section.four_eyes_above, where),
        page_size=section.page_size,
        session_seconds=section.session_hours * 3600,
        secret_key=secret or secrets.token_urlsafe(32),
        https_only=section.https_only,
        trusted_proxies=section.trusted_proxies,
        reports_dir=cfg.reports,
    )


def review_config_from(data: dict[str, Any], base: Path, *, state_dir: Path | None = None,
                       where: str = "config") -> ReviewConfig:
    """Settings from a parsed TOML document; relative paths are taken from ``base`` (the file's folder)."""
    return review_config_of(tenant_config(data, base=base, source=Path(where)), state_dir=state_dir)


def load_review_config(path: Path | None, *, state_dir: Path | None = None) -> ReviewConfig:
    """Read the review settings from a tenant TOML (``None``: defaults, state in ``./state``)."""
    return review_config_of(load_tenant_config(path), state_dir=state_dir)
