"""Tenant matching configuration: reference grammar, matching switches, allocation order.

Read from the ``[reference]``, ``[matching]`` and ``[allocation]`` sections of the tenant TOML; every
other section belongs to someone else and is ignored. Defaults ship as ``matching/default_config.toml``.

>>> load_match_config(None).digits
12
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field, fields
from importlib import resources
from pathlib import Path
from typing import Any

from claims.kassenzeichen import SCHEMES

#: Order classes: claim types not listed in an order are main claims (class ``MAIN``).
MAIN = "MAIN"


class ConfigError(ValueError):
    """A matching section of the tenant TOML is malformed (key, expected, actual)."""


def _defaults() -> dict[str, Any]:
    text = resources.files("matching").joinpath("default_config.toml").read_text(encoding="utf-8")
    return tomllib.loads(text)


@dataclass(frozen=True)
class MatchConfig:
    """Everything the matcher needs to know about one tenant."""

    digits: int = 12
    check_digit: str = "mod11"
    prefixes: tuple[str, ...] = ("KASSENZEICHEN", "KZ", "AZ")
    max_run: int = 36
    typo_repair: bool = True
    iban_amount: bool = True
    suggestions: int = 3
    name_min_score: float = 80.0
    skip_tx_codes: tuple[str, ...] = ("8",)
    return_tx_codes: tuple[str, ...] = ("108", "109", "193")
    honour_designation: bool = True
    public: tuple[str, ...] = (MAIN,)
    private: tuple[str, ...] = (MAIN,)
    extra: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)

    @classmethod
    def from_toml(cls, data: dict[str, Any]) -> MatchConfig:
        """Build from a parsed tenant TOML (only our sections are read; missing keys take defaults)."""
        merged: dict[str, Any] = {}
        base = _defaults()
        for section in ("reference", "matching", "allocation"):
            got = data.get(section, {})
            if not isinstance(got, dict):
                raise ConfigError(f"[{section}]: expected a table, got {type(got).__name__}")
            merged.update(base.get(section, {}))
            merged.update(got)
        known = {f.name: f for f in fields(cls) if f.name != "extra"}
        kwargs: dict[str, Any] = {}
        extra: dict[str, Any] = {}
        for key, value in merged.items():
            if key not in known:
                extra[key] = value
                continue
            default = getattr(cls, key)
            if isinstance(default, tuple):
                if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                    raise ConfigError(f"{key}: expected a list of strings, got {value!r}")
                value = tuple(v.upper() for v in value) if key in ("prefixes", "public", "private") else tuple(value)
            elif isinstance(default, bool):
                if not isinstance(value, bool):
                    raise ConfigError(f"{key}: expected true or false, got {value!r}")
            elif isinstance(default, int):
                if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
                    raise ConfigError(f"{key}: expected a positive integer, got {value!r}")
            elif isinstance(default, float):
                if isinstance(value, bool) or not isinstance(value, int | float):
                    raise ConfigError(f"{key}: expected a number, got {value!r}")
                value = float(value)
            elif isinstance(default, str) and not isinstance(value, str):
                raise ConfigError(f"{key}: expected a string, got {value!r}")
            kwargs[key] = value
        if kwargs.get("check_digit", "mod11") not in SCHEMES:
            raise ConfigError(f"check_digit: expected one of {', '.join(SCHEMES)}, got {kwargs['check_digit']!r}")
        if kwargs.get("digits", 12) < 4:
            raise ConfigError(f"digits: expected at least 4, got {kwargs['digits']}")
        return cls(**kwargs, extra=extra)

    def order(self, law: str) -> tuple[str, ...]:
        """The class order for ``law`` (``public`` → § 225 AO, ``private`` → § 367 BGB)."""
        return self.private if law == "private" else self.public

    def order_rule(self, law: str) -> str:
        """The rule name recorded on an allocation that followed this law's order."""
        return "order.bgb367" if law == "private" else "order.ao225"


def load_match_config(path: Path | None) -> MatchConfig:
    """Read ``[reference]``, ``[matching]``, ``[allocation]`` of a tenant TOML; ``None`` gives the defaults."""
    if path is None:
        return MatchConfig.from_toml({})
    try:
        data = tomllib.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read the tenant config: {exc}") from exc
    return MatchConfig.from_toml(data)
