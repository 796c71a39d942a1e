"""Candidates shown to the clerk for a payment that is not booked: evidence, then name suggestions.

Name similarity (rapidfuzz WRatio over amount-blocked pairs, at most ``MAX_PAIRS`` per run; the count
of pairs left out is reported) only ever produces suggestions; nothing here books money. The top
candidates per payment become a JSON list in ``candidates``.

The pairs under the cap are the first ``MAX_PAIRS`` in (transaction_id, receivable_id) order. They are
chosen from pair counts per payment (amount block sizes), so only the payment cut by the cap has its
pairs sorted, and only the items of the chosen payments' amounts are read beyond their amount.
"""

from __future__ import annotations

import polars as pl
from rapidfuzz import fuzz, utils

from claims.vocab import UnresolvedReason
from matching.config import MatchConfig
from matching.names import fold_names

#: An amount shared by more open items than this is too common to suggest anything by name.
MAX_BLOCK = 200
#: Name comparisons per run (a C call each); beyond this, suggestions are left out and counted.
MAX_PAIRS = 200_000

_ITEM = ("receivable_id", "kassenzeichen", "amount_cents")


#: Comparisons per call from Python: a C loop over a whole list would hold the GIL for all of it, and
#: this runs beside the decisions, whose Polars calls each need the GIL for a moment.
_SLICE = 4096


def _processed(names: pl.Series) -> pl.Series:
    """rapidfuzz's ``default_process`` of each name (null as the empty name), as WRatio compares them, after
    :func:`matching.names.fold_name`: ``Jürgen Weiß`` is compared as ``juergen weiss`` and ``Michał Wójcik``
    as ``michal wojcik``, the way banks' SEPA character set spells them."""
    values = fold_names(names.fill_null("")).to_list()
    out: list[str] = []
    for i in range(0, len(values), _SLICE):
        out.extend(map(utils.default_process, values[i:i + _SLICE]))
    return pl.Series(out, dtype=pl.String)


def _scores(a: list[str], b: list[str]) -> list[float]:
    """WRatio of each pair (``a[i]``, ``b[i]``): suggestion pairs, not payments."""
    out: list[float] = []
    for i in range(0, len(a), _SLICE):
        out.extend(map(fuzz.WRatio, a[i:i + _SLICE], b[i:i + _SLICE]))
    return out


def _within_cap(want: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame, int, int]:
    """Split ``want`` (one row per payment and amount, ``n`` = pairs it makes) at ``MAX_PAIRS``.

    Returns ``(whole, cut, room, left_out)``: payments whose pairs all fit, the one payment cut by
    the cap (empty if none), how many of its pairs (in receivable_id order) still fit, pairs left out.
    """
    total = int(want["n"].sum())
    if total <= MAX_PAIRS:
        return want, want.clear(), 0, 0
    # in transaction_id order, a payment's rows are adjacent: the first row over the cap names the cut one
    want = want.sort("transaction_id").with_columns(pl.col("n").cum_sum().alias("upto"))
    over = int(want["upto"].search_sorted(MAX_PAIRS, side="right"))
    cut_id = want["transaction_id"][over]
    start = int(want["transaction_id"].search_sorted(cut_id, side="left"))
    room = MAX_PAIRS - (int(want["upto"][start - 1]) if start else 0)
    cut = want.slice(start).filter(pl.col("transaction_id") == cut_id)
    return want.head(start).drop("upto"), cut.drop("upto"), room, total - MAX_PAIRS


def name_suggestions(
    held: pl.DataFrame, pay: pl.DataFrame, rec: pl.DataFrame, cfg: MatchConfig
) -> tuple[pl.DataFrame, int]:
    """``((transaction_id, receivable_id, score, why, kassenzeichen, amount_cents), pairs left out)``
    for held payments without evidence: same open amount, payer name similar to the debtor name
    (WRatio ≥ ``name_min_score``). ``amount_cents`` is the candidate's open amount; ``transaction_id``
    keeps the dtype it arrives with (String id or payment number)."""
    tid = held.schema["transaction_id"]
    out_schema: dict[str, pl.DataType] = {"transaction_id": tid, "receivable_id": pl.String(), "score": pl.Float64(),
                                          "why": pl.String(), "kassenzeichen": pl.String(), "amount_cents": pl.Int64()}
    want = (
        held.filter(pl.col("reason").is_in([UnresolvedReason.NO_REFERENCE, UnresolvedReason.UNKNOWN_REFERENCE])).select("transaction_id")
        .join(pay.select("transaction_id", "amount_cents", "counterparty_name"), on="transaction_id")
        .filter(pl.col("counterparty_name").is_not_null() & (pl.col("amount_cents") > 0))
    )
    # one pass over the items, on the amount only: row numbers of the items with a wanted amount
    hits = rec.select("amount_cents").with_row_index("_row").filter(
        pl.col("amount_cents").is_in(want["amount_cents"].unique().implode()))
    blocks = hits["amount_cents"].value_counts(name="n").filter(pl.col("n") <= MAX_BLOCK)
    whole, cut, room, left_out = _within_cap(want.join(blocks, on="amount_cents"))
    chosen = pl.concat([whole, cut])
    if chosen.is_empty():
        return pl.DataFrame(schema=out_schema), left_out
    rows = hits.filter(pl.col("amount_cents").is_in(chosen["amount_cents"].unique().implode()))["_row"]
    # a row mask, not a gather: filtering the chunked item columns in order is several times cheaper
    mask = pl.repeat(False, rec.height, dtype=pl.Boolean, eager=True).scatter(rows, True)
    items = rec.select("receivable_id", "kassenzeichen", "amount_cents", "debtor_name").filter(mask)
    items = items.with_columns(_processed(items["debtor_name"]).alias("b")).drop("debtor_name")

    def with_names(w: pl.DataFrame) -> pl.DataFrame:
        """Pairs of payments ``w`` with the items of their amount, the payer's name processed once."""
        w = w.select("transaction_id", "amount_cents", _processed(w["counterparty_name"]).alias("a"))
        return w.join(items, on="amount_cents")

    pairs = with_names(whole)
    if room:  # the payment cut by the cap: its first pairs in receivable_id order
        pairs = pl.concat([pairs, with_names(cut).sort("transaction_id", "receivable_id").head(room)])
    scores = _scores(pairs["a"].to_list(), pairs["b"].to_list())
    out = (
        pairs.with_columns(pl.Series("s", scores, dtype=pl.Float64))
        .filter(pl.col("s") >= cfg.name_min_score)
        .sort("transaction_id", "receivable_id")
        .select("transaction_id", "receivable_id", (pl.col("s") / 100 * 0.7).round(3).alias("score"),
                pl.lit("name_amount").alias("why"), *_ITEM[1:])
    )
    return out, left_out


def candidates_json(cands: pl.DataFrame, rec: pl.DataFrame, cfg: MatchConfig) -> pl.DataFrame:
    """(transaction_id, candidates): the top ``cfg.suggestions`` per payment as a JSON list.

    A candidate's ``kassenzeichen`` and open ``amount_cents`` come from ``cands`` where it has them;
    only rows lacking them are looked up in ``rec`` (candidates not among the items are dropped)."""
    cols = ["transaction_id", "receivable_id", "score", "why"]
    if set(_ITEM) <= set(cands.columns):
        has = pl.col("kassenzeichen").is_not_null() & pl.col("amount_cents").is_not_null()
        known = cands.filter(has).select(*cols, *_ITEM[1:])
        lack = cands.filter(~has).select(cols)
    else:
        known, lack = None, cands.select(cols)
    if lack.height or known is None:
        items = rec.select(_ITEM).filter(pl.col("receivable_id").is_in(lack["receivable_id"].implode()))
        looked = lack.join(items, on="receivable_id")
        known = looked if known is None else pl.concat([known, looked.select(known.columns)])
    # in (score descending, receivable_id) order per payment: ids are unique per payment after unique(),
    # so each list is in that order as it stands and is written in one pass, no sort per group
    top = (
        known
        .sort(["transaction_id", "score", "receivable_id", "why"], descending=[False, True, False, False])
        .unique(["transaction_id", "receivable_id"], keep="first", maintain_order=True)
        .group_by("transaction_id", maintain_order=True)
        .head(cfg.suggestions)
    )
    return (
        top.select("transaction_id", pl.struct(*_ITEM, "score", "why").struct.json_encode().alias("candidates"))
        .group_by("transaction_id", maintain_order=True)
        .agg(pl.col("candidates").str.join(","))
        .with_columns(pl.format("[{}]", pl.col("candidates")).alias("candidates"))
    )
