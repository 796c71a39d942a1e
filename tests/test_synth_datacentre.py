"""synth.datacentre: tenant folders of a data centre (shapes, counts, configs, determinism by seed, cache)."""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl
import pytest

from claims.config import load_tenant_config
from parsers.camt import parse_camt
from parsers.mt940 import parse_mt940
from synth import camt_render
from synth.datacentre import MIXES, MT940_ENCODINGS, generate_datacentre, shape_for

ITEMS, PAYMENTS = 300, 60


def _files(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def test_every_tenant_has_its_own_config_inbox_and_ledger(tmp_path: Path) -> None:
    dc = generate_datacentre(tmp_path / "rz", 3, n_items=ITEMS, n_payments=PAYMENTS, seed=5, cache=tmp_path / "c")
    assert [s.tenant for s in dc.sites] == ["t000", "t001", "t002"]
    ledgers = set()
    for site in dc.sites:
        cfg = load_tenant_config(site.config)
        assert cfg.tenant == site.tenant
        assert cfg.ledger == site.ledger and site.ledger.parent == site.config.parent
        assert cfg.inbox == site.inbox
        assert cfg.timezone == "Europe/Berlin" and cfg.schedules()["nightly"] == "0 1 * * *"  # from base.toml
        ledgers.add(cfg.ledger)
        names = sorted(p.name for p in site.inbox.iterdir())
        assert names == sorted([f"open_items.{site.shape.open_items}", "sparkasse.sta", "volksbank_camt053.xml"])
        truth = pl.read_parquet(site.truth)
        assert truth.height == PAYMENTS
    assert len(ledgers) == 3
    manifest = json.loads((dc.root / "datacentre.json").read_text())
    assert manifest["n_tenants"] == 3 and set(manifest["tenants"]) == {"t000", "t001", "t002"}


def test_bank_files_parse_whole_in_every_shape(tmp_path: Path) -> None:
    dc = generate_datacentre(tmp_path / "rz", 8, n_items=ITEMS, n_payments=PAYMENTS, seed=1, cache=None)
    seen = {s.shape.mt940_encoding for s in dc.sites}, {s.shape.camt_shape for s in dc.sites}
    assert seen[0] == set(MT940_ENCODINGS) and seen[1] == set(camt_render.SHAPES)
    assert {s.shape.open_items for s in dc.sites} == {"parquet", "csv"}
    for site in dc.sites:
        mt = parse_mt940(site.inbox / "sparkasse.sta", sha256="x", tenant=site.tenant)
        camt = parse_camt(site.inbox / "volksbank_camt053.xml", sha256="y", tenant=site.tenant)
        assert not mt.has_errors and not camt.has_errors, (site.shape, mt.issues[:2], camt.issues[:2])
        assert mt.transactions.height + camt.transactions.height == PAYMENTS
        raw = (site.inbox / "sparkasse.sta").read_bytes()
        assert (b"\r\n" in raw) == (site.shape.mt940_line_end == "crlf")
        if site.shape.open_items == "csv":
            head = (site.inbox / "open_items.csv").read_bytes()[:400]
            assert head.startswith(b"\xef\xbb\xbf") and b";" in head


def test_same_seed_same_bytes_other_seed_other_bytes(tmp_path: Path) -> None:
    a = _files(generate_datacentre(tmp_path / "a", 2, n_items=ITEMS, n_payments=PAYMENTS, seed=3, cache=None).root)
    b = _files(generate_datacentre(tmp_path / "b", 2, n_items=ITEMS, n_payments=PAYMENTS, seed=3,
                                   cache=tmp_path / "c").root)
    c = _files(generate_datacentre(tmp_path / "c2", 2, n_items=ITEMS, n_payments=PAYMENTS, seed=4, cache=None).root)
    assert a == b
    assert a.keys() != c.keys() or a != c
    assert a["tenants/t000/inbox/sparkasse.sta"] != c["tenants/t000/inbox/sparkasse.sta"]


def test_cache_is_reused_and_root_replaced_only_when_made_here(tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    generate_datacentre(tmp_path / "rz", 2, n_items=ITEMS, n_payments=PAYMENTS, seed=2, cache=cache)
    entries = sorted(p.name for p in cache.iterdir())
    assert len(entries) == 2 and all((cache / e / "done").exists() for e in entries)
    marker = cache / entries[0] / "inbox" / "sparkasse.sta"
    marker.write_bytes(b"from the cache")
    dc = generate_datacentre(tmp_path / "rz", 2, n_items=ITEMS, n_payments=PAYMENTS, seed=2, cache=cache)
    assert b"from the cache" in {(s.inbox / "sparkasse.sta").read_bytes() for s in dc.sites}
    assert sorted(p.name for p in cache.iterdir()) == entries
    other = tmp_path / "other"
    other.mkdir()
    (other / "keep.txt").write_text("mine")
    with pytest.raises(FileExistsError):
        generate_datacentre(other, 1, n_items=ITEMS, n_payments=PAYMENTS, cache=None)
    assert (other / "keep.txt").read_text() == "mine"


def test_shapes_cycle_and_counts_are_checked() -> None:
    assert {shape_for(i, 1).mix for i in range(12)} == set(MIXES)
    assert shape_for(3, 1) == shape_for(3, 1) and shape_for(3, 1) != shape_for(4, 1)
    with pytest.raises(ValueError):
        generate_datacentre(Path("/nonexistent-never-made"), 0)
