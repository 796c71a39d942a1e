"""The tenant TOML's matching sections: defaults, overrides, the other sections left to others, errors named."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from claims.errors import ConfigError
from matching.config import MatchConfig, load_match_config


def test_defaults_are_the_models() -> None:
    cfg = load_match_config(None)
    assert (cfg.digits, cfg.check_digit) == (12, "mod11")
    assert cfg.public.index("MAIN") < cfg.public.index("MAHNGEBUEHR") < cfg.public.index("SAEUMNISZUSCHLAG")
    assert cfg.private.index("KOSTEN") < cfg.private.index("ZINSEN") < cfg.private.index("MAIN")
    assert cfg.order_rule("public") == "order.ao225" and cfg.order_rule("private") == "order.bgb367"


def test_tenant_file_overrides_and_other_sections_are_left_alone(tmp_path: Path) -> None:
    p = tmp_path / "kasse.toml"
    p.write_text('[tenant]\nname = "Musterstadt"\n[paths]\nledger = "x.duckdb"\n'
                 '[reference]\ndigits = 10\ncheck_digit = "mod10"\n'
                 '[allocation]\npublic = ["zinsen", "MAIN"]\n', encoding="utf-8")
    cfg = load_match_config(p)
    assert (cfg.digits, cfg.check_digit, cfg.public) == (10, "mod10", ("ZINSEN", "MAIN"))
    assert cfg.typo_repair is True  # untouched keys keep their defaults
    assert cfg.honour_designation is True
    assert MatchConfig.from_toml({"allocation": {"honour_designation": False}}).honour_designation is False


@pytest.mark.parametrize(("data", "needle"), [
    ({"reference": {"check_digit": "mod97"}}, "check_digit"),
    ({"reference": {"digits": "zwölf"}}, "digits"),
    ({"matching": {"typo_repair": "yes"}}, "typo_repair"),
    ({"allocation": {"public": "MAIN"}}, "public"),
    ({"matching": []}, "[matching]"),
    ({"ledger": {"path": "x"}}, "[ledger]: unknown table"),
    ({"allocation": {"honour_designation": "ja"}}, "honour_designation"),
])
def test_malformed_keys_are_named(data: dict, needle: str) -> None:
    with pytest.raises(ConfigError, match=re.escape(needle)):
        MatchConfig.from_toml(data)


def test_unreadable_file_is_a_config_error(tmp_path: Path) -> None:
    p = tmp_path / "bad.toml"
    p.write_text("[reference\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"bad\.toml"):
        load_match_config(p)
