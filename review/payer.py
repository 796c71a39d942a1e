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
from collections.abc import Iterable
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
    return _Index(iban, list(name_debtors), name_debtors,
                  dict(zip(ids["receivable_id"].to_list(), ids["debtor_id"].to_list(), strict=True)))


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


def earlier_debtors(decisions: Iterable[Decision], payer_iban: str, item_debtor: dict[str, str]) -> set[str]:
    """Debtors that earlier assignments (pending or in force) of a payment from ``payer_iban`` went to."""
    out: set[str] = set()
    if not payer_iban:
        return out
    for d in decisions:
        if d.action != DecisionAction.ASSIGN or d.state not in (DecisionState.EFFECTIVE, DecisionState.PENDING):
            continue
        if normalise_iban(str(d.before.get("counterparty_iban") or "")) != payer_iban:
            continue
        out.update(item_debtor[a.receivable_id] for a in d.allocations if a.receivable_id in item_debtor)
    return out


def payer_debtors(key: tuple[str, str], open_items: pl.DataFrame, row: dict[str, Any],
                  decisions: Iterable[Decision] = ()) -> tuple[list[PayerDebtor], pl.DataFrame]:
    """(the debtors behind the payer of ``row``, strongest evidence first; their open items, at most
    :data:`ITEM_LIMIT`, oldest due date first)."""
    index = index_of(key, open_items)
    payer_iban = normalise_iban(row.get("counterparty_iban"))
    found: dict[str, tuple[str, int]] = {}
    if payer_iban:
        for debtor in index.iban_debtor.filter(pl.col("iban") == payer_iban)["debtor_id"].to_list():
            found.setdefault(debtor, ("iban", 0))
        for debtor in sorted(earlier_debtors(decisions, payer_iban, index.item_debtor)):
            found.setdefault(debtor, ("earlier", 0))
    payer = (row.get("counterparty_name") or "").strip().lower()
    if payer and index.names:
        by_name: list[tuple[str, int]] = []
        for name, score, _i in process.extract(payer, index.names, scorer=fuzz.token_sort_ratio,
                                               limit=NAME_LIMIT, score_cutoff=NAME_MIN):
            by_name += [(debtor, round(score)) for debtor in sorted(index.name_debtors[name])]
        for debtor, score in by_name[:NAME_LIMIT]:
            found.setdefault(debtor, ("name", score))
    if not found:
        return [], open_items.head(0)
    items = open_items.filter(pl.col("debtor_id").is_in(list(found)) & (pl.col("amount_cents") > 0))
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
