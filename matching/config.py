"""The matcher's own frozen view of the tenant config (``[reference]``, ``[matching]``, ``[allocation]``).

The tenant TOML is read, checked and defaulted in one place, :mod:`claims.config`; :class:`MatchConfig`
copies the three sections into plain attributes the matcher's hot code reads. Its defaults are the
models' defaults, so ``MatchConfig()`` is the config of a tenant file without those sections.

>>> load_match_config(None).digits
12
>>> MatchConfig() == load_match_config(None)
True
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from claims.config import (
    MAIN,
    AllocationSection,
    MatchingSection,
    ReferenceSection,
    TenantConfig,
    load_tenant_config,
    tenant_config,
)
from claims.vocab import Law, Rule

__all__ = ["MAIN", "MatchConfig", "load_match_config"]

_R, _M, _A = ReferenceSection(), MatchingSection(), AllocationSection()


@dataclass(frozen=True)
class MatchConfig:
    """Everything the matcher needs to know about one tenant."""

    digits: int = _R.digits
    check_digit: str = _R.check_digit
    prefixes: tuple[str, ...] = _R.prefixes
    max_run: int = _R.max_run
    typo_repair: bool = _M.typo_repair
    iban_amount: bool = _M.iban_amount
    suggestions: int = _M.suggestions
    name_min_score: float = _M.name_min_score
    skip_tx_codes: tuple[str, ...] = _M.skip_tx_codes
    return_tx_codes: tuple[str, ...] = _M.return_tx_codes
    learned_rule_min_decisions: int = _M.learned_rule_min_decisions
    learned_rule_valid_days: int = _M.learned_rule_valid_days
    charges_max_percent: float = _M.charges_max_percent
    charges_max_cents: int = _M.charges_max_cents
    public: tuple[str, ...] = _A.public
    private: tuple[str, ...] = _A.private
    honour_designation: bool = _A.honour_designation

    @classmethod
    def from_tenant(cls, cfg: TenantConfig) -> MatchConfig:
        """The matching sections of a loaded tenant config."""
        r, m, a = cfg.reference, cfg.matching, cfg.allocation
        return cls(digits=r.digits, check_digit=r.check_digit, prefixes=r.prefixes, max_run=r.max_run,
                   typo_repair=m.typo_repair, iban_amount=m.iban_amount, suggestions=m.suggestions,
                   name_min_score=m.name_min_score, skip_tx_codes=m.skip_tx_codes,
                   return_tx_codes=m.return_tx_codes, learned_rule_min_decisions=m.learned_rule_min_decisions,
                   learned_rule_valid_days=m.learned_rule_valid_days, charges_max_percent=m.charges_max_percent,
                   charges_max_cents=m.charges_max_cents, public=a.public, private=a.private,
                   honour_designation=a.honour_designation)

    @classmethod
    def from_toml(cls, data: dict[str, Any]) -> MatchConfig:
        """From a parsed tenant document (checked whole by :func:`claims.config.tenant_config`)."""
        return cls.from_tenant(tenant_config(data, base=Path.cwd()))

    def order(self, law: str) -> tuple[str, ...]:
        """The class order for ``law`` (``public`` → § 225 AO, ``private`` → § 367 BGB)."""
        return self.private if law == Law.PRIVATE else self.public

    def order_rule(self, law: str) -> str:
        """The rule name recorded on an allocation that followed this law's order."""
        return Rule.ORDER_BGB367 if law == Law.PRIVATE else Rule.ORDER_AO225


def load_match_config(path: Path | None) -> MatchConfig:
    """The matching view of a tenant TOML, read as every command reads it (``extends`` included);
    ``None`` gives the defaults."""
    return MatchConfig.from_tenant(load_tenant_config(path))
