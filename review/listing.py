"""Filtering, searching, sorting and paging the Klärungsliste — vectorised Polars over the snapshot.

>>> q = parse_list_query({"q": "1.234,56", "sort": "amount", "dir": "asc", "page": "2"})
>>> (q.amount_cents, q.sort, q.descending, q.page)
(123456, 'amount', False, 2)
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from urllib.parse import urlencode

import polars as pl

from claims.money import plain_eur
from claims.vocab import DecisionState, ItemState
from review.amounts import try_parse_amount

#: sort key shown to the user -> column
SORTS = {"age": "age_days", "amount": "unallocated_cents", "account": "account_iban", "reason": "reason",
         "name": "counterparty_name"}
STATUS_FILTERS = ("", "open", DecisionState.PENDING, DecisionState.EFFECTIVE, ItemState.PARKED)
#: page sizes a clerk may choose (``size``); none chosen: ``[review] page_size``
PAGE_SIZES = (25, 50, 100, 200)


@dataclass(frozen=True, slots=True)
class ListQuery:
    """What the list page was asked for (all optional); built from the query string."""

    q: str = ""
    amount_cents: int | None = None        # set when q reads as an amount
    account: str = ""
    reason: str = ""
    status: str = ""                       # "" all | open (no decision) | pending | effective | parked
    age_min: int | None = None
    age_max: int | None = None
    amount_min: int | None = None          # cents
    amount_max: int | None = None
    sort: str = "age"
    descending: bool = True
    page: int = 1
    size: int | None = None                # rows per page, one of PAGE_SIZES (None: the configured size)

    def params(self, **changes: object) -> str:
        """The query string for this query with some fields changed (for sort and page links)."""
        values: dict[str, object] = {
            "q": self.q, "account": self.account, "reason": self.reason, "status": self.status,
            "age_min": self.age_min, "age_max": self.age_max,
            "amount_min": _euros(self.amount_min), "amount_max": _euros(self.amount_max),
            "sort": self.sort, "dir": "desc" if self.descending else "asc", "page": self.page,
            "size": self.size,
        }
        values.update(changes)
        return urlencode({k: v for k, v in values.items() if v not in (None, "")})


def _euros(cents: int | None) -> str | None:
    return None if cents is None else plain_eur(cents)


def _int(value: str | None) -> int | None:
    try:
        return int(str(value).strip()) if value not in (None, "") else None
    except ValueError:
        return None


def parse_list_query(params: Mapping[str, str]) -> ListQuery:
    """A :class:`ListQuery` from request parameters; unreadable values are ignored, never an error."""
    q = (params.get("q") or "").strip()[:200]
    sort = params.get("sort") or "age"
    status = params.get("status") or ""
    return ListQuery(
        q=q,
        amount_cents=try_parse_amount(q) if q else None,
        account=(params.get("account") or "").strip(),
        reason=(params.get("reason") or "").strip(),
        status=status if status in STATUS_FILTERS else "",
        age_min=_int(params.get("age_min")),
        age_max=_int(params.get("age_max")),
        amount_min=try_parse_amount(params.get("amount_min") or ""),
        amount_max=try_parse_amount(params.get("amount_max") or ""),
        sort=sort if sort in SORTS else "age",
        descending=(params.get("dir") or "desc") != "asc",
        page=max(1, _int(params.get("page")) or 1),
        size=size if (size := _int(params.get("size"))) in PAGE_SIZES else None,
    )


def _search(q: str, amount_cents: int | None) -> pl.Expr:
    text = q.lower()
    iban = "".join(q.split()).upper()
    expr = pl.col("_name").str.contains(text, literal=True) | pl.col("_text").str.contains(text, literal=True)
    if len(iban) >= 4:
        expr = expr | pl.col("_iban").str.contains(iban, literal=True)
    if amount_cents is not None:
        expr = expr | (pl.col("amount_cents") == amount_cents) | (pl.col("unallocated_cents") == amount_cents)
    return expr


#: the columns filters and sorts read: filtering and sorting these alone and gathering the full rows of
#: one page afterwards keeps a 50,000-row list fast (a sort of all columns moves every text, raw MT940 included)
_KEYS = ("transaction_id", "_name", "_text", "_iban", "amount_cents", "unallocated_cents", "account_iban",
         "reason", "age_days", "state", "counterparty_name")


def filter_items(items: pl.DataFrame, query: ListQuery, decided: Mapping[str, str] | None = None) -> pl.DataFrame:
    """The rows matching the query, sorted (``decided``: transaction_id -> pending|effective)."""
    return items[ordered_rows(items, query, decided)["_i"]]


def ordered_rows(items: pl.DataFrame, query: ListQuery, decided: Mapping[str, str] | None = None) -> pl.DataFrame:
    """The matching rows' key columns, sorted, with ``_i`` (their row number in ``items``) to gather by."""
    conds: list[pl.Expr] = []
    if query.q:
        conds.append(_search(query.q, query.amount_cents))
    if query.account:
        conds.append(pl.col("account_iban") == query.account)
    if query.reason:
        conds.append(pl.col("reason") == query.reason)
    if query.age_min is not None:
        conds.append(pl.col("age_days") >= query.age_min)
    if query.age_max is not None:
        conds.append(pl.col("age_days") <= query.age_max)
    if query.amount_min is not None:
        conds.append(pl.col("unallocated_cents") >= query.amount_min)
    if query.amount_max is not None:
        conds.append(pl.col("unallocated_cents") <= query.amount_max)
    if query.status:
        decided = decided or {}
        if query.status == "open":
            conds.append(~pl.col("transaction_id").is_in(list(decided)))
        elif query.status == ItemState.PARKED:               # Verwahrgeld, as the last run published it
            conds.append(pl.col("state") == ItemState.PARKED)
        else:
            ids = [t for t, s in decided.items() if s == query.status]
            conds.append(pl.col("transaction_id").is_in(ids))
    keys = items.select(_KEYS).with_row_index("_i")
    out = keys.filter(pl.all_horizontal(conds)) if conds else keys
    column = SORTS[query.sort]
    return out.sort([column, "transaction_id"], descending=[query.descending, False], nulls_last=True)


def page_of(rows: pl.DataFrame, page: int, page_size: int) -> tuple[pl.DataFrame, int, int]:
    """(rows of the page, the page actually shown, number of pages) — a page past the end shows the last."""
    pages = max(1, -(-rows.height // page_size))
    page = min(max(1, page), pages)
    return rows.slice((page - 1) * page_size, page_size), page, pages


def next_payment(items: pl.DataFrame, query: ListQuery, current: str, decided: Mapping[str, str]) -> str | None:
    """The payment after ``current`` in the filtered, sorted list that has no decision yet ("save and next").

    ``current`` keeps its place even when the filter no longer shows it (e.g. status "open" after its
    decision): the place is taken from the same sort without the status filter (one sort of the key
    columns serves both). ``None``: nothing follows.
    """
    if query.status in (DecisionState.PENDING, DecisionState.EFFECTIVE):
        return None                         # such a list holds decided payments only
    ordered = ordered_rows(items, replace(query, status=""), decided).with_row_index("_pos")
    undecided = ordered.filter(~pl.col("transaction_id").is_in(list(decided)) & (pl.col("transaction_id") != current))
    if query.status == ItemState.PARKED:
        undecided = undecided.filter(pl.col("state") == ItemState.PARKED)
    here = ordered.filter(pl.col("transaction_id") == current)["_pos"]
    after = undecided.filter(pl.col("_pos") > here[0]) if here.len() else undecided
    return str(after["transaction_id"][0]) if after.height else None
