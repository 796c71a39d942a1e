"""The one typed tenant config (claims/config.py): every command reads it the same way, refuses what it
does not know, and keeps its defaults and its documentation in one place each."""

from __future__ import annotations

import dataclasses
import re
import tomllib
import typing
from pathlib import Path

import pytest

from claims.config import SECTIONS, ReferenceSection, TenantFile, load_tenant_config, tenant_config
from claims.errors import ConfigError, KasseError
from claims.kassenzeichen import SCHEMES
from flows.cli import main
from jobs.nightly.ingest import match_config
from matching.config import MatchConfig, load_match_config
from review.config import ReviewConfig, load_review_config

ROOT = Path(__file__).resolve().parent.parent


def _write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture
def extended(tmp_path: Path) -> Path:
    """A tenant file whose matching and review settings come from the file it extends."""
    _write(tmp_path / "common.toml", '[reference]\ndigits = 10\ncheck_digit = "mod10"\n'
           '[matching]\nsuggestions = 5\n[allocation]\nprivate = ["zinsen", "MAIN"]\n[review]\npage_size = 20\n')
    return _write(tmp_path / "stadt" / "kasse.toml", 'extends = "../common.toml"\n[tenant]\nid = "stadt"\n'
                  '[matching]\ntypo_repair = false\n')


def test_extends_gives_one_match_config_to_nightly_and_match(extended: Path) -> None:
    nightly = match_config(load_tenant_config(extended))     # what the nightly's ingest and match steps use
    match = load_match_config(extended)                       # what `kasse match --config` uses
    assert nightly == match
    assert (match.digits, match.check_digit, match.suggestions, match.typo_repair) == (10, "mod10", 5, False)
    assert match.private == ("ZINSEN", "MAIN")


def test_extends_reaches_the_review_page(extended: Path) -> None:
    assert load_review_config(extended).page_size == 20


def test_a_path_is_relative_to_the_file_that_sets_it(tmp_path: Path) -> None:
    _write(tmp_path / "common.toml", '[paths]\nledger = "kasse.duckdb"\nstate_dir = "state"\n')
    cfg = load_tenant_config(_write(tmp_path / "t1" / "kasse.toml", 'extends = "../common.toml"\n[tenant]\nid = "t1"\n'))
    assert (cfg.ledger, cfg.state_dir) == (tmp_path / "kasse.duckdb", tmp_path / "state")
    assert (cfg.tenant_dir, cfg.reports) == (tmp_path / "t1" / "t1", tmp_path / "t1" / "reports")


def test_unknown_key_is_refused_naming_file_and_key(tmp_path: Path) -> None:
    p = _write(tmp_path / "kasse.toml", '[tenant]\nid = "stadt"\n[matching]\ntypo_repiar = false\n')
    with pytest.raises(ConfigError, match=r"kasse\.toml: \[matching\] typo_repiar: unknown key \(known: typo_repair"):
        load_tenant_config(p)
    with pytest.raises(ConfigError, match=r"typo_repiar"):
        load_match_config(p)


def test_unknown_key_in_the_extended_file_names_that_file(tmp_path: Path) -> None:
    _write(tmp_path / "base.toml", '[schedule]\nnightly = "0 3 * * *"\ntimezone = "Europe/Berlin"\nretry = 3\n')
    p = _write(tmp_path / "kasse.toml", 'extends = "base.toml"\n')
    with pytest.raises(ConfigError, match=r"base\.toml: \[schedule\] retry: unknown key"):
        load_tenant_config(p)


def test_kasse_nightly_refuses_an_unknown_key_before_anything_runs(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    p = _write(tmp_path / "kasse.toml", '[tenant]\nid = "stadt"\n[paths]\nledgr = "other.duckdb"\n')
    (tmp_path / "stadt" / "inbox").mkdir(parents=True)
    assert main(["nightly", "--no-prefect", "--config", str(p), "--date", "2026-01-05"]) == 2
    assert "[paths] ledgr: unknown key" in capsys.readouterr().err
    assert sorted(x.name for x in tmp_path.iterdir()) == ["kasse.toml", "stadt"]       # no ledger made


@pytest.mark.parametrize(("toml", "needle"), [
    ('[schedule]\nnightly = 2\n', "[schedule] nightly: expected a string, got 2"),
    ('[reference]\ndigits = "zwölf"\n', "[reference] digits: expected an integer, got 'zwölf'"),
    ('[reference]\ncheck_digit = "mod97"\n', "[reference] check_digit: expected 'mod11', 'mod10' or 'none', got 'mod97'"),
    ('[matching]\niban_amount = "yes"\n', "[matching] iban_amount: expected true or false, got 'yes'"),
    ('[paths]\nledger = ["a"]\n', "[paths] ledger: expected a string, got ['a']"),
    ('[review]\npage_size = 0\n', "[review] page_size: expected more than 0, got 0"),
    ('[[accounts]]\nbic = "COLSDE33"\n', "[[accounts]] #1 iban: missing (required)"),
    ('paths = "here"\n', "[paths]: expected a table, got 'here'"),
])
def test_wrong_type_names_file_key_expected_and_got(tmp_path: Path, toml: str, needle: str) -> None:
    p = _write(tmp_path / "kasse.toml", toml)
    with pytest.raises(ConfigError) as info:
        load_tenant_config(p)
    assert str(info.value) == f"{p}: {needle}"


def test_every_problem_of_a_file_is_listed(tmp_path: Path) -> None:
    p = _write(tmp_path / "kasse.toml", '[reference]\ndigits = 2\n[review]\nhttps_only = 1\n')
    with pytest.raises(ConfigError) as info:
        load_tenant_config(p)
    assert str(info.value).splitlines() == [f"{p}: [reference] digits: expected at least 4, got 2",
                                            f"{p}: [review] https_only: expected true or false, got 1"]


def test_extends_cycle_and_depth_are_refused(tmp_path: Path) -> None:
    _write(tmp_path / "a.toml", 'extends = "b.toml"\n')
    _write(tmp_path / "b.toml", 'extends = "a.toml"\n')
    with pytest.raises(ConfigError, match=r"a\.toml is already in the chain .*a cycle"):
        load_tenant_config(tmp_path / "a.toml")
    for i in range(12):
        _write(tmp_path / f"c{i}.toml", f'extends = "c{i + 1}.toml"\n' if i < 11 else "")
    with pytest.raises(ConfigError, match=r"more than 8 files"):
        load_tenant_config(tmp_path / "c0.toml")
    assert load_tenant_config(tmp_path / "c4.toml").tenant == "default"           # 8 files: allowed
    with pytest.raises(ConfigError, match=r"missing\.toml"):
        load_tenant_config(_write(tmp_path / "d.toml", 'extends = "missing.toml"\n'))


def test_one_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as info:
        load_tenant_config(_write(tmp_path / "kasse.toml", "[tenant\n"))
    assert isinstance(info.value, KasseError) and isinstance(info.value, ValueError)
    for module in ("ledger/config.py", "matching/config.py", "review/config.py", "claims/config.py"):
        assert "class ConfigError" not in (ROOT / module).read_text(encoding="utf-8"), module


def test_defaults_live_in_the_models_only() -> None:
    assert not (ROOT / "matching" / "default_config.toml").exists()
    assert MatchConfig() == load_match_config(None) == MatchConfig.from_toml({})
    model = ReviewConfig(state_dir=Path("s"))
    loaded = load_review_config(None, state_dir=Path("s"))
    assert loaded.reports_dir == load_tenant_config(None).reports           # a path of the file, not a default
    loaded = dataclasses.replace(loaded, secret_key=model.secret_key, reports_dir=None)
    assert model == loaded
    cfg = load_tenant_config(None)
    assert (cfg.tenant, cfg.cron, cfg.timezone) == ("default", "0 2 * * *", "Europe/Berlin")


def test_check_digit_names_are_the_matchers_schemes() -> None:
    allowed = typing.get_args(ReferenceSection.model_fields["check_digit"].annotation)
    assert set(allowed) == set(SCHEMES)


def test_honour_designation_is_read_and_typed(tmp_path: Path) -> None:
    assert load_tenant_config(None).allocation.honour_designation is True
    p = _write(tmp_path / "kasse.toml", "[allocation]\nhonour_designation = false\n")
    assert load_tenant_config(p).allocation.honour_designation is False
    bad = _write(tmp_path / "bad.toml", '[allocation]\nhonour_designation = "no"\n')
    with pytest.raises(ConfigError, match=r"honour_designation"):
        load_tenant_config(bad)


def _documented() -> set[str]:
    text = (ROOT / "docs" / "CONFIG.md").read_text(encoding="utf-8")
    table = text.split("## Every key", 1)[1]
    return {m[1] for m in re.finditer(r"^\| `([^`]+)` \|", table, re.MULTILINE)}


def _modelled() -> set[str]:
    out = {"extends"}
    for name in TenantFile.model_fields:
        brackets = "[[{}]]" if name in ("accounts", "creditors") else "[{}]"
        out |= {f"{brackets.format(name)} {key}" for key in SECTIONS[name].model_fields}
    return out


def test_docs_and_models_name_the_same_keys() -> None:
    documented, modelled = _documented(), _modelled()
    assert len(documented) > 30
    assert modelled - documented == set(), "keys missing from docs/CONFIG.md"
    assert documented - modelled == set(), "docs/CONFIG.md documents keys the models do not have"


def test_the_sample_configs_are_valid() -> None:
    for path in (ROOT / "data_samples" / "kasse.toml",):
        assert load_tenant_config(path).accounts
    example = (ROOT / "docs" / "CONFIG.md").read_text(encoding="utf-8").split("```toml\n", 1)[1].split("```", 1)[0]
    assert "extends" in example      # the documented example names only keys the models know
    body = example.replace('extends = "../common.toml"       # optional\n', "")
    assert tenant_config(tomllib.loads(body), base=ROOT).reference.digits == 12


def test_the_inbox_file_limit_defaults_to_the_parsers_limit() -> None:
    # the kernel cannot import the parsers: the two defaults are kept equal by this test
    from claims.config import IngestSection
    from parsers.detect import DEFAULT_MAX_BYTES

    assert IngestSection().max_file_mib << 20 == DEFAULT_MAX_BYTES
