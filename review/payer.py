"""The payer's own open items, shown on the detail page before any search.

A clerk's first question about an unmatched payment is "what does this payer owe us?". Three kinds of
evidence name the debtor(s) behind a payer, strongest first:

* ``iban``: the payer's IBAN is a debtor IBAN of the open-items export;
* ``earlier``: an earlier clerk decision for a payment from the same IBAN assigned money to the debtor;
* ``name``: the debtor name is close to the payer name (rapidfuzz token-sort ratio ≥ :data:`NAME_MIN`).

Everything here only *shows* open items; it never decides money. The per-snapshot index (IBAN → debtor,
the distinct debtor names) is built once per published run, so a detail page costs one hash lookup, one
rapidfuzz scan over the distinct names (a few ms at 50,000 debtors) and one filter of the open items.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import polars as pl
from rapidfuzz import fuzz, process

from claims.vocab import DecisionAction, DecisionState
from ledger.journal import Decision
from review.explain import normalise_iban

#: name similarity (0-100) from which a debtor counts as a name match
NAME_MIN = 85
#: debtors found by name, at most (the best names first; a common name may belong to many debtors)
NAME_LIMIT = 5
#: open items shown per payer, at most (oldest due date first)
ITEM_LIMIT = 25

WHY_TEXT = {"iban": "IBAN des Zahlers ist beim Schuldner hinterlegt",
            "earlier": "früher einer Zahlung von dieser IBAN zugeordnet",
            "name": "ähnlicher Name"}


@dataclass(frozen=True, slots=True)
class PayerDebtor:
    """One debtor behind a payer, with why it is shown and what it owes."""

    debtor_id: str
    debtor_name: str
    why: str                               # iban | earlier | name
    name_score: int
    n_items: int
    open_cents: int


@dataclass(frozen=True)
class _Index:
    iban_debtor: pl.DataFrame              # (iban, debtor_id), IBANs normalised, one row per pair
    names: list[str]                       # distinct debtor names, lower case
    name_debtors: dict[str, list[str]]     # lower-case name -> debtor ids
    item_debtor: dict[str, str]            # receivable_id -> debtor_id
    debtor_rows: dict[str, list[int]]      # debtor_id -> row numbers of its open items (gathered, not filtered)


_lock = threading.Lock()
_cache: dict[tuple[str, str], _Index] = {}


def _build(open_items: pl.DataFrame) -> _Index:
    iban = (
        open_items.select("debtor_id", pl.col("debtor_iban").fill_null("").str.replace_all(";", ",").str.split(","))
        .explode("debtor_iban")
        .select(pl.col("debtor_iban").str.replace_all(r"\s", "").str.to_uppercase().alias("iban"), "debtor_id")
        .filter((pl.col("iban") != "") & pl.col("debtor_id").is_not_null())
        .unique()
    )
    names = (
        open_items.filter(pl.col("debtor_id").is_not_null())
        .select(pl.col("debtor_name").fill_null("").str.to_lowercase().alias("n"), "debtor_id")
        .filter(pl.col("n") != "")
        .group_by("n").agg(pl.col("debtor_id").unique())
    )
    name_debtors = dict(zip(names["n"].to_list(), names["debtor_id"].to_list(), strict=True))
    ids = open_items.select("receivable_id", "debtor_id").filter(pl.col("debtor_id").is_not_null())
    rows = (open_items.select("debtor_id").with_row_index("_i").filter(pl.col("debtor_id").is_not_null())
            .group_by("debtor_id").agg("_i"))
    return _Index(iban, list(name_debtors), name_debtors,
                  dict(zip(ids["receivable_id"].to_list(), ids["debtor_id"].to_list(), strict=True)),
                  dict(zip(rows["debtor_id"].to_list(), rows["_i"].to_list(), strict=True)))


def index_of(key: tuple[str, str], open_items: pl.DataFrame) -> _Index:
    """The index of one published run (``key``: tenant, run id); the two newest runs are kept."""
    with _lock:
        hit = _cache.get(key)
    if hit is not None:
        return hit
    built = _build(open_items)
    with _lock:
        for old in [k for k in _cache if k[0] == key[0]]:
            del _cache[old]
        _cache[key] = built
    return built


def earlier_debtors(decisions: Iterable[Decision], item_debtor: dict[str, str]) -> dict[str, set[str]]:
    """payer IBAN -> the debtors earlier assignments (pending or in force) of its payments went to."""
    out: dict[str, set[str]] = {}
    for d in decisions:                    # the journal, folded once per change of it (see _earlier_of)
        if d.action != DecisionAction.ASSIGN or d.state not in (DecisionState.EFFECTIVE, DecisionState.PENDING):
            continue
        iban = normalise_iban(str(d.before.get("counterparty_iban") or ""))
        debtors = {item_debtor[a.receivable_id] for a in d.allocations if a.receivable_id in item_debtor}
        if iban and debtors:
            out.setdefault(iban, set()).update(debtors)
    return out


_earlier: dict[str, tuple[tuple[str, str], Sequence[Decision], dict[str, set[str]]]] = {}


def _earlier_of(key: tuple[str, str], decisions: Sequence[Decision], index: _Index) -> dict[str, set[str]]:
    """:func:`earlier_debtors`, kept while the run and the journal's decision list (cached by the page's
    :class:`~review.state.PublishedState` until a journal file changes) stay the same objects."""
    with _lock:
        hit = _earlier.get(key[0])
    if hit is not None and hit[0] == key and hit[1] is decisions:
        return hit[2]
    built = earlier_debtors(decisions, index.item_debtor)
    with _lock:
        _earlier[key[0]] = (key, decisions, built)
    return built


def payer_debtors(key: tuple[str, str], open_items: pl.DataFrame, row: dict[str, Any],
                  decisions: Sequence[Decision] = ()) -> tuple[list[PayerDebtor], pl.DataFrame]:
    """(the debtors behind the payer of ``row``, strongest evidence first; their open items, at most
    :data:`ITEM_LIMIT`, oldest due date first)."""
    index = index_of(key, open_items)
    payer_iban = normalise_iban(row.get("counterparty_iban"))
    found: dict[str, tuple[str, int]] = {}
    if payer_iban:
        for debtor in index.iban_debtor.filter(pl.col("iban") == payer_iban)["debtor_id"].to_list():
            found.setdefault(debtor, ("iban", 0))
        for debtor in sorted(_earlier_of(key, decisions, index).get(payer_iban, ())):
            found.setdefault(debtor, ("earlier", 0))
    payer = (row.get("counterparty_name") or "").strip().lower()
    if payer and index.names:
        by_name: list[tuple[str, int]] = []
        for name, score, _i in process.extract(payer, index.names, scorer=fuzz.token_sort_ratio,
                                               limit=NAME_LIMIT, score_cutoff=NAME_MIN):
            by_name += [(debtor, round(score)) for debtor in sorted(index.name_debtors[name])[:NAME_LIMIT]]
        for debtor, score in by_name[:NAME_LIMIT]:
            found.setdefault(debtor, ("name", score))
    if not found:
        return [], open_items.head(0)
    picked = sorted(i for debtor in found for i in index.debtor_rows.get(debtor, ()))
    items = open_items[pl.Series("_i", picked, dtype=pl.UInt32)].filter(pl.col("amount_cents") > 0)
    sums = items.group_by("debtor_id").agg(pl.len().alias("n"), pl.col("amount_cents").sum().alias("s"),
                                           pl.col("debtor_name").first().alias("name"))
    by_debtor = {r[0]: r[1:] for r in sums.iter_rows()}
    order = {"iban": 0, "earlier": 1, "name": 2}
    debtors = [PayerDebtor(d, str(by_debtor.get(d, (0, 0, ""))[2] or ""), why, score,
                           int(by_debtor.get(d, (0, 0, ""))[0]), int(by_debtor.get(d, (0, 0, ""))[1] or 0))
               for d, (why, score) in found.items()]
    debtors.sort(key=lambda p: (order[p.why], -p.name_score, p.debtor_id))
    rank = {p.debtor_id: i for i, p in enumerate(debtors)}
    items = (items.with_columns(pl.col("debtor_id").replace_strict(rank, default=len(rank)).alias("_rank"))
             .sort(["_rank", "due_date", "receivable_id"], nulls_last=True).drop("_rank").head(ITEM_LIMIT))
    return [p for p in debtors if p.n_items], items
