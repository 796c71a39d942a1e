"""A Rechenzentrum's night as files: N tenant folders, each with its own config, inbox and ledger file.

``generate_datacentre(root, n_tenants)`` writes::

    root/base.toml                        what every tenant shares (schedule, time zone); each tenant
                                          config ``extends`` it
    root/datacentre.json                  what was made (seed, counts, each tenant's file shapes)
    root/tenants/<id>/kasse.toml          [tenant] id, [paths]: ledger ``<id>.duckdb`` beside it, inbox
                                          folder ``inbox/`` beside it, state and reports under it
    root/tenants/<id>/inbox/              open-items export + one MT940 + one camt.053 file
    root/tenants/<id>/truth.parquet       what each payment should become (outside the inbox)

Each tenant's data is :func:`synth.generate_scale` (open items and payments of one booking day,
:data:`synth.bench.FIRST_DAY`) under its own seed, and its files come in one of the shapes real banks
and finance systems deliver, chosen per tenant so that a handful of tenants covers them all:

* MT940 in ISO-8859-1, UTF-8 or CP850 (DOS), with CRLF or LF line ends;
* camt.053 in every serialisation of :data:`synth.camt_render.SHAPES` (one line, BOM + CRLF, prefixed
  namespace, character references, comments, …);
* remittance habits: a share of the payments (0 %, 5 %, 10 % or 15 %) of the round-two kinds
  (:mod:`synth.scale_round_two`: names in European alphabets, RF references, amounts in the text, …);
* the open-items export as Parquet or as the finance system's CSV (``;``, UTF-8 with BOM, decimal comma).

Generation is fast (about 0.2 s a tenant of 50,000 items) and still cached: a tenant's inbox files are
kept under ``cache`` by their inputs (counts, seed, shape), so a benchmark run that regenerates its
folder copies them instead.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import shutil
import tempfile
from pathlib import Path

import polars as pl

from synth import camt_render
from synth.scale import generate_scale

#: bump when the files for the same inputs change (the cache keys on it)
VERSION = 1
MT940_ENCODINGS = ("iso-8859-1", "utf-8", "cp850")
LINE_ENDS = ("crlf", "lf")
MIXES = (0.0, 0.05, 0.10, 0.15)
OPEN_ITEMS_FORMATS = ("parquet", "csv")
#: the marker that says a folder was made here (only such a folder is replaced)
MANIFEST = "datacentre.json"
DEFAULT_CACHE = Path(tempfile.gettempdir()) / "kasse-datacentre-cache"


@dataclasses.dataclass(frozen=True)
class Shape:
    """How one tenant's files are written."""

    mt940_encoding: str
    mt940_line_end: str
    camt_shape: str
    mix: float
    open_items: str


@dataclasses.dataclass(frozen=True)
class TenantSite:
    """One tenant's folder: its config, inbox, ledger file and the truth of its payments."""

    tenant: str
    seed: int
    config: Path
    inbox: Path
    ledger: Path
    truth: Path
    shape: Shape


@dataclasses.dataclass(frozen=True)
class DataCentre:
    """What :func:`generate_datacentre` wrote."""

    root: Path
    base: Path
    sites: tuple[TenantSite, ...]
    n_items: int
    n_payments: int

    @property
    def configs(self) -> list[Path]:
        return [s.config for s in self.sites]


def tenant_id(i: int) -> str:
    """The id of the ``i``-th tenant (three digits: a data centre has up to 999 here)."""
    return f"t{i:03d}"


def tenant_seed(seed: int, i: int) -> int:
    return seed * 1000 + i


def shape_for(i: int, seed: int) -> Shape:
    """Tenant ``i``'s file shapes: each list cycles at its own pace, so eight tenants see every shape."""
    k = i + seed
    return Shape(
        mt940_encoding=MT940_ENCODINGS[k % len(MT940_ENCODINGS)],
        mt940_line_end=LINE_ENDS[(k // 2) % len(LINE_ENDS)],
        camt_shape=camt_render.SHAPES[k % len(camt_render.SHAPES)],
        mix=MIXES[(k // 3) % len(MIXES)],
        open_items=OPEN_ITEMS_FORMATS[(k // 4) % len(OPEN_ITEMS_FORMATS)] if k % 2 else "parquet",
    )


BASE_TOML = """\
# Shared by every tenant of this data centre (each tenant's kasse.toml extends it).
[schedule]
nightly = "0 1 * * *"
timezone = "Europe/Berlin"
"""


def tenant_toml(tenant: str) -> str:
    """The tenant's own config: who it is and where its files live (all beside the file)."""
    return (f'extends = "../../base.toml"\n\n[tenant]\nid = "{tenant}"\n\n'
            f'[paths]\nledger = "{tenant}.duckdb"\ntenant_dir = "."\nstate_dir = "state"\nreports = "reports"\n')


def _mt940(data: bytes, shape: Shape) -> bytes:
    """The Sparkasse file (ISO-8859-1, CRLF as rendered) in the tenant's encoding and line ends.

    A character the target code page lacks keeps the file in ISO-8859-1 (a bank never writes ``?``).
    """
    text = data.decode("iso-8859-1")
    if shape.mt940_line_end == "lf":
        text = text.replace("\r\n", "\n")
    try:
        return text.encode(shape.mt940_encoding)
    except UnicodeEncodeError:
        return text.encode("iso-8859-1")


def _open_items_csv(path: Path) -> bytes:
    """The Parquet export as the finance system's CSV: ``;``, UTF-8 with BOM, decimal comma."""
    frame = pl.read_parquet(path).with_columns(
        pl.col("amount").str.replace(".", ",", literal=True), pl.col("due_date").cast(pl.String))
    return b"\xef\xbb\xbf" + frame.write_csv(separator=";").encode("utf-8")


def _cache_key(n_items: int, n_payments: int, seed: int, tenant: str, shape: Shape) -> str:
    inputs = json.dumps([VERSION, n_items, n_payments, seed, tenant, dataclasses.asdict(shape)], sort_keys=True)
    return hashlib.sha256(inputs.encode()).hexdigest()[:20]


def _tenant_files(folder: Path, *, n_items: int, n_payments: int, seed: int, tenant: str, shape: Shape) -> None:
    """Write the tenant's inbox files and truth into ``folder`` (which must not exist yet)."""
    raw = folder.with_name(folder.name + ".raw")
    shutil.rmtree(raw, ignore_errors=True)
    g = generate_scale(raw, n_items=n_items, n_payments=n_payments, seed=seed, tenant=tenant, mix=shape.mix)
    inbox = folder / "inbox"
    inbox.mkdir(parents=True)
    if shape.open_items == "csv":
        (inbox / "open_items.csv").write_bytes(_open_items_csv(g.open_items))
    else:
        shutil.copyfile(g.open_items, inbox / "open_items.parquet")
    for path in g.statements:
        data = path.read_bytes()
        if path.suffix == ".sta":
            (inbox / "sparkasse.sta").write_bytes(_mt940(data, shape))
        else:
            text = camt_render.reshape(data.decode("utf-8"), shape.camt_shape)
            (inbox / "volksbank_camt053.xml").write_bytes(text.encode("utf-8"))
    shutil.copyfile(g.truth, folder / "truth.parquet")
    shutil.rmtree(raw)


def _cached_files(cache: Path | None, *, n_items: int, n_payments: int, seed: int, tenant: str,
                  shape: Shape) -> Path:
    """The folder holding the tenant's ``inbox/`` and ``truth.parquet``, made once per inputs."""
    base = cache if cache is not None else Path(tempfile.mkdtemp(prefix="kasse-dc-"))
    folder = base / _cache_key(n_items, n_payments, seed, tenant, shape)
    if (folder / "done").exists():
        return folder
    shutil.rmtree(folder, ignore_errors=True)
    work = base / f"{folder.name}.{os.getpid()}.tmp"
    shutil.rmtree(work, ignore_errors=True)
    work.parent.mkdir(parents=True, exist_ok=True)
    _tenant_files(work, n_items=n_items, n_payments=n_payments, seed=seed, tenant=tenant, shape=shape)
    (work / "done").write_text("", encoding="ascii")
    try:
        work.rename(folder)              # atomic: a parallel generator's folder wins, ours goes
    except OSError:
        shutil.rmtree(work, ignore_errors=True)
    return folder


def generate_datacentre(root: Path, n_tenants: int, *, n_items: int = 50_000, n_payments: int = 2_500,
                        seed: int = 1, cache: Path | None = DEFAULT_CACHE) -> DataCentre:
    """Write ``n_tenants`` tenant folders under ``root`` (see the module's docstring); ``cache=None``: no cache.

    ``root`` must be empty, missing, or a folder made here before (it is then replaced whole).
    """
    if n_tenants < 1 or n_items < 1 or n_payments < 1:
        raise ValueError(f"need at least one tenant, item and payment: {n_tenants}, {n_items}, {n_payments}")
    if root.exists() and any(root.iterdir()):
        if not (root / MANIFEST).is_file():
            raise FileExistsError(f"{root} is not empty and was not made by generate_datacentre: refusing to replace it")
        shutil.rmtree(root)
    (root / "tenants").mkdir(parents=True)
    base = root / "base.toml"
    base.write_text(BASE_TOML, encoding="utf-8")
    sites = []
    for i in range(n_tenants):
        tenant, t_seed, shape = tenant_id(i), tenant_seed(seed, i), shape_for(i, seed)
        made = _cached_files(cache, n_items=n_items, n_payments=n_payments, seed=t_seed, tenant=tenant, shape=shape)
        site = root / "tenants" / tenant
        shutil.copytree(made / "inbox", site / "inbox")
        shutil.copyfile(made / "truth.parquet", site / "truth.parquet")
        config = site / "kasse.toml"
        config.write_text(tenant_toml(tenant), encoding="utf-8")
        sites.append(TenantSite(tenant, t_seed, config, site / "inbox", site / f"{tenant}.duckdb",
                                site / "truth.parquet", shape))
        if cache is None:
            shutil.rmtree(made.parent)
    (root / MANIFEST).write_text(json.dumps({
        "seed": seed, "n_tenants": n_tenants, "n_items": n_items, "n_payments": n_payments, "version": VERSION,
        "tenants": {s.tenant: {"seed": s.seed, **dataclasses.asdict(s.shape)} for s in sites},
    }, indent=1), encoding="utf-8")
    return DataCentre(root, base, tuple(sites), n_items, n_payments)
