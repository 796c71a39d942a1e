"""The published state the page reads: the nightly run's last Klärungsliste and open items, per tenant.

The run replaces ``<state_dir>/published/<tenant>/`` atomically at its end; the page never opens the
DuckDB ledger. A snapshot is reloaded when ``meta.json`` changes; while reading, a change of
``meta.json`` (a run publishing right then) makes the reader start over, so a page never mixes two runs.
The journal is folded into "what is decided per payment" and cached until a journal file changes.
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import polars as pl

from claims.claim import OPEN_ITEM_SCHEMA
from claims.vocab import DecisionState
from ledger.journal import Decision, journal_dir, journal_signature, load_journal
from ledger.publish import PUBLISHED_KLAERUNG_SCHEMA

#: Columns of klaerungsliste.parquet: the contract with the nightly run (docs/REVIEW.md), defined
#: once where the run writes it.
KLAERUNG_SCHEMA: dict[str, pl.DataType] = PUBLISHED_KLAERUNG_SCHEMA
#: columns a published file may lack without a warning (older runs)
OPTIONAL = frozenset({"state"})


class StateError(RuntimeError):
    """The published state cannot be read (it is being replaced too often, or is damaged)."""


@dataclass(frozen=True)
class Snapshot:
    """One tenant's published state as of one nightly run."""

    tenant: str
    meta: dict[str, Any]
    items: pl.DataFrame                    # KLAERUNG_SCHEMA + search helper columns (_name, _iban, _text)
    open_items: pl.DataFrame               # OPEN_ITEM_SCHEMA
    warnings: tuple[str, ...] = ()
    accounts: tuple[str, ...] = ()
    reasons: tuple[str, ...] = ()
    #: decision_id -> (status booked|rejected, reason) when the run publishes clerk_decisions.parquet
    outcomes: dict[str, tuple[str, str]] = field(default_factory=dict)
    #: learned rules as the run saw them (with what each booked so far) and the run's proposals, when the
    #: run publishes rules.parquet and rule_proposals.parquet (empty otherwise)
    rules: pl.DataFrame = field(default_factory=pl.DataFrame)
    rule_proposals: pl.DataFrame = field(default_factory=pl.DataFrame)

    @property
    def run_id(self) -> str:
        """The run that published this snapshot."""
        return str(self.meta.get("run_id") or "")

    @property
    def published_at(self) -> datetime | None:
        """When the run published (``None`` if meta.json does not say)."""
        try:
            return datetime.fromisoformat(str(self.meta["published_at"]))
        except (KeyError, ValueError):
            return None

    def seen_by_run(self, decision: Decision) -> bool:
        """Whether the run that published this snapshot had the decision in force when it read the journal.

        Known for certain when the run publishes its outcomes; otherwise taken from the times: a decision
        in force before the publication was read by that run (the run reads the journal first, so only a
        decision made while the run was working can be misjudged, and it is then shown as processed).
        """
        if decision.decision_id in self.outcomes:
            return True
        published = self.published_at
        if published is None or decision.state != DecisionState.EFFECTIVE:
            return False
        in_force = decision.approved_at or decision.created_at
        try:
            return datetime.fromisoformat(in_force) <= published
        except ValueError:
            return False


def _conform(df: pl.DataFrame, schema: dict[str, pl.DataType], name: str) -> tuple[pl.DataFrame, list[str]]:
    """Exactly ``schema``'s columns: a missing one becomes null (with a warning), a wrong dtype is cast."""
    warnings = []
    cols = []
    for col, dtype in schema.items():
        if col not in df.columns:
            if col not in OPTIONAL:
                warnings.append(f"{name}: column {col} missing in the published file (shown empty)")
            cols.append(pl.lit(None, dtype=dtype).alias(col))
        elif df.schema[col] != dtype:
            cols.append(pl.col(col).cast(dtype, strict=False))
        else:
            cols.append(pl.col(col))
    return df.select(cols), warnings


def _with_search_columns(items: pl.DataFrame) -> pl.DataFrame:
    """Lower-cased helper columns computed once per snapshot so searches are plain vectorised scans."""
    return items.with_columns(
        pl.col("counterparty_name").fill_null("").str.to_lowercase().alias("_name"),
        pl.col("counterparty_iban").fill_null("").str.replace_all(r"\s", "").str.to_uppercase().alias("_iban"),
        pl.concat_str(
            [pl.col(c).fill_null("") for c in ("remittance", "end_to_end_id", "bank_ref", "transaction_id")],
            separator="\n",
        ).str.to_lowercase().alias("_text"),
    )


def _outcomes(version: Path) -> dict[str, tuple[str, str]]:
    """Optional ``clerk_decisions.parquet`` (decision_id, status, reason): what the run did with decisions."""
    path = version / "clerk_decisions.parquet"
    if not path.exists():
        return {}
    try:
        df = pl.read_parquet(path, columns=["decision_id", "status", "reason"])
    except (OSError, pl.exceptions.PolarsError):
        return {}
    return {r[0]: (str(r[1] or ""), str(r[2] or "")) for r in df.iter_rows()}


def _optional(version: Path, name: str) -> pl.DataFrame:
    """An optional published frame (an empty frame when the run did not write it or it cannot be read)."""
    path = version / f"{name}.parquet"
    try:
        return pl.read_parquet(path) if path.exists() else pl.DataFrame()
    except (OSError, pl.exceptions.PolarsError):
        return pl.DataFrame()


def read_snapshot(folder: Path, tenant: str) -> Snapshot | None:
    """Read one published folder (``None`` when nothing is published yet).

    ``folder`` may be a symbolic link the run swaps to a new version: it is resolved once, and all three
    files are read from that one version.
    """
    for _attempt in range(5):
        version = folder.resolve()
        meta_path = version / "meta.json"
        try:
            meta_bytes = meta_path.read_bytes()
        except FileNotFoundError:
            if not (folder / "meta.json").exists():
                return None
            continue
        try:
            items = pl.read_parquet(version / "klaerungsliste.parquet")
            open_items = pl.read_parquet(version / "open_items.parquet")
            again = meta_path.read_bytes()
        except (FileNotFoundError, OSError):
            continue                       # the run is replacing the folder right now: read again
        if again != meta_bytes:
            continue
        meta = json.loads(meta_bytes.decode("utf-8"))
        items, w1 = _conform(items, KLAERUNG_SCHEMA, "klaerungsliste.parquet")
        open_items, w2 = _conform(open_items, OPEN_ITEM_SCHEMA, "open_items.parquet")
        items = _with_search_columns(items.filter(pl.col("tenant").is_null() | (pl.col("tenant") == tenant)))
        accounts = tuple(sorted(x for x in items["account_iban"].unique().to_list() if x))
        reasons = tuple(sorted(x for x in items["reason"].unique().to_list() if x))
        return Snapshot(tenant, meta, items, open_items, tuple(w1 + w2), accounts, reasons, _outcomes(version),
                        _optional(version, "rules"), _optional(version, "rule_proposals"))
    raise StateError(f"{folder}: the published state kept changing while being read; try again")


@dataclass
class _Cached:
    key: Any
    value: Any


@dataclass
class PublishedState:
    """Per-tenant caches over ``state_dir``: the published snapshot and the journal's decisions."""

    state_dir: Path
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _snapshots: dict[str, _Cached] = field(default_factory=dict)
    _journals: dict[str, _Cached] = field(default_factory=dict)

    def snapshot(self, tenant: str) -> Snapshot | None:
        """The tenant's current snapshot; re-read only when its ``meta.json`` changed."""
        folder = journal_dir(self.state_dir, tenant).parent.parent / "published" / tenant
        try:
            key = (folder / "meta.json").read_bytes()
        except FileNotFoundError:
            return None
        with self._lock:
            cached = self._snapshots.get(tenant)
            if cached is not None and cached.key == key:
                return cached.value
        snap = read_snapshot(folder, tenant)
        with self._lock:
            self._snapshots[tenant] = _Cached(key, snap)
        return snap

    def decisions(self, tenant: str) -> list[Decision]:
        """All journal decisions of the tenant (cached until a journal file grows)."""
        key = journal_signature(self.state_dir, tenant)
        with self._lock:
            cached = self._journals.get(tenant)
            if cached is not None and cached.key == key:
                return cached.value
        decisions, _issues = load_journal(self.state_dir, tenant)
        with self._lock:
            self._journals[tenant] = _Cached(key, decisions)
        return decisions

    def live_decisions(self, tenant: str, snap: Snapshot | None = None) -> dict[str, Decision]:
        """transaction_id -> its decision still to come: pending, or effective and not yet seen by a run."""
        return {d.transaction_id: d for d in self.decisions(tenant)
                if d.state == DecisionState.PENDING or (d.state == DecisionState.EFFECTIVE and not (snap and snap.seen_by_run(d)))}
