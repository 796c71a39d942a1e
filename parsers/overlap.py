"""Overlapping deliveries: a statement that is already known is never read (and so never booked) twice.

A statement is compared with every statement read before it — from an earlier file of the batch, or
from the ledger (``known``) — by four identities, each scoped to the tenant, account, currency and kind
(camt.052 reports and camt.053 statements number apart):

==========  =====================================================================  ==========
identity    what it is                                                              kinds
==========  =====================================================================  ==========
key         ``statement_key``: account, number, both balances and their dates       all keyed
number      the statement number (with page), the opening date and balance           statement
period      unnumbered: the opening date and balance and the closing date           statement
entries     a booked entry with the same date, value date, amount and bank          statement
            reference (a real one: ``NONREF`` is none)
==========  =====================================================================  ==========

The same key with the same entries is a re-delivery: dropped, ``statement.duplicate`` (warning). Any
other shared identity — a corrected re-send (other amounts under the same number), a statement that
covers the same period, or one that repeats entries already read — is ``statement.conflict`` (error):
dropped too, for a person to look at. Never a second booking.
"""

from __future__ import annotations

import polars as pl

from claims.vocab import StatementKind
from parsers.dedupe import FINGERPRINT
from parsers.issues import ERROR, WARNING, Issue, label, money
from parsers.validity import compact_iban

#: Bank references that say "no reference" (an entry is then not identified by it).
NO_REFERENCE = ("", "NONREF", "NOTPROVIDED", "NONE")
#: What identifies a booked entry: the bank's own reference for it, its dates and amount (the texts add
#: nothing the reference does not, and hashing them was most of the guard's cost).
_ENTRY = ("booking_date", "value_date", "amount_cents", "bank_ref")
_STATEMENT = StatementKind.STATEMENT


def _scope() -> pl.Expr:
    # the account as delivered (the key's first part): the nightly run rewrites BLZ/Kontonummer into the
    # configured IBAN only after this, and the ledger keeps the key as delivered
    account = pl.col("statement_key").fill_null("").str.split("|").list.first()
    return pl.concat_str([pl.col("tenant").fill_null(""), compact_iban(account),
                          pl.col("currency").fill_null(""), pl.col("kind").fill_null(_STATEMENT)], separator="|")


def _keyed() -> pl.Expr:
    """A key identifies a statement with a statement number, both balances, or a content fingerprint."""
    return pl.col("statement_key").is_not_null() & (
        (pl.col("statement_no").fill_null("") != "")
        | (pl.col("opening_cents").is_not_null() & pl.col("closing_cents").is_not_null())
        | pl.col("statement_key").str.contains(FINGERPRINT, literal=True)
    )


def _identities(st: pl.DataFrame) -> pl.DataFrame:
    """Columns ``_id_key``, ``_id_number``, ``_id_period`` (null where the identity does not apply).

    *number* is for numbered statements (number with page, opening date and balance: the pages of one
    statement open at different balances, a corrected re-send at the same one); *period* for unnumbered
    ones (``:28C:0`` or none), whose opening and closing say which stretch of the account they cover.
    """
    is_statement = pl.col("kind").fill_null(_STATEMENT) == _STATEMENT
    numbered = (pl.col("statement_no").fill_null("") != "") & (pl.col("sequence_no").fill_null(-1) != 0)
    opened = is_statement & pl.col("opening_date").is_not_null() & pl.col("opening_cents").is_not_null()
    start = [pl.col("opening_date").cast(pl.String), pl.col("opening_cents").cast(pl.String)]
    s = pl.col("_scope")
    return st.with_columns(_scope().alias("_scope")).with_columns(
        _id_key=pl.when(_keyed() | ~pl.col("_new")).then(pl.col("statement_key")),  # known keys: as they were read
        _id_number=pl.when(opened & numbered).then(pl.concat_str([s, pl.col("statement_no"), *start], separator="|n|")),
        _id_period=pl.when(opened & ~numbered & pl.col("closing_date").is_not_null())
        .then(pl.concat_str([s, *start, pl.col("closing_date").cast(pl.String)], separator="|p|")),
    )


def _entry_keys(tx: pl.DataFrame, units: pl.DataFrame) -> pl.DataFrame:
    """One row per (statement, booked entry with a real bank reference) of kind ``statement``: ``_unit``, ``_fp``."""
    ref = pl.col("bank_ref").fill_null("").str.strip_chars().str.to_uppercase()
    rows = tx.lazy().select("source_path", "statement_key", "booked", "detail_index", *_ENTRY).filter(
        pl.col("booked").fill_null(False) & (pl.col("detail_index") == 0) & ~ref.is_in(list(NO_REFERENCE))
    ).join(units.lazy().filter(pl.col("kind").fill_null(_STATEMENT) == _STATEMENT)
           .select("source_path", "statement_key", "_unit", "_scope"),
           on=["source_path", "statement_key"], how="inner").collect()
    # a 64-bit hash of the entry, compared within this process only (both sides hashed here); a
    # collision could only hold a statement back for a person, never book one twice
    return rows.select("_unit", pl.struct(pl.col("_scope"), *[pl.col(c) for c in _ENTRY]).hash(7).alias("_fp")).unique()


def _owners(both: pl.DataFrame, entries: pl.DataFrame) -> pl.DataFrame:
    """Per statement of the batch: the earliest other statement that shares each identity with it."""
    out = both.select("_unit", "_new")
    for ident in ("_id_key", "_id_number", "_id_period"):
        first = both.filter(pl.col(ident).is_not_null()).group_by(ident).agg(pl.col("_unit").min().alias("_o"))
        owner = both.join(first, on=ident, how="left").select(
            "_unit", pl.when(pl.col("_o") != pl.col("_unit")).then(pl.col("_o")).alias(f"_by{ident[3:]}"))
        out = out.join(owner, on="_unit", how="left")
    first_fp = entries.group_by("_fp").agg(pl.col("_unit").min().alias("_o"))
    shared = entries.join(first_fp, on="_fp").filter(pl.col("_o") != pl.col("_unit")).group_by("_unit").agg(
        pl.col("_o").min().alias("_by_entries"), pl.len().alias("_n_shared"))
    return out.join(shared, on="_unit", how="left").filter("_new")


def _issue(row: dict[str, object], first: dict[str, object], why: str) -> Issue:
    name = label(row["statement_no"] or row["statement_id"])
    what = (f"statement {name} of account {label(row['account_iban'])} "
            f"({row['opening_date'] or '?'}..{row['closing_date'] or '?'})")
    origin = "the ledger (booked earlier" + (f" from {first['source_path']})" if first["source_path"] else ")") \
        if not first["_new"] else str(first["source_path"])
    where, path = f"statement {name}", str(row["source_path"])
    if why == "key" and (first["n_entries"] is None  # a known key without its rows: nothing to compare
                         or (row["n_entries"], row["entries_sum_cents"]) == (first["n_entries"], first["entries_sum_cents"])):
        where_from = ("is already in the ledger (imported earlier)" if not first["_new"]
                      else f"was already read from {origin}; this copy in {path}")
        return Issue(path, where, WARNING, "statement.duplicate", f"{what} {where_from} is dropped")
    theirs = (f"{first['n_entries']} entries summing {money(int(first['entries_sum_cents'] or 0))}")  # type: ignore[call-overload]
    mine = f"{row['n_entries']} entries summing {money(int(row['entries_sum_cents'] or 0))}"  # type: ignore[call-overload]
    reason = {
        "key": f"was already read from {origin} with {theirs}, but this copy has {mine}",
        "number": f"has the same number and opening balance as the one read from {origin} ({theirs}), "
                  f"but another closing balance or other entries ({mine}): a corrected re-send?",
        "period": f"covers the same period from the same opening balance as the one read from {origin} "
                  f"({theirs}; this one: {mine})",
        "entries": f"repeats {row['_n_shared']} booked entr{'y' if row['_n_shared'] == 1 else 'ies'} of the statement "
                   f"read from {origin}",
    }[why]
    return Issue(path, where, ERROR, "statement.conflict",
                 f"{what} {reason}; it is not booked (a person must decide: a statement is never booked twice)")


def drop_overlaps(statements: pl.DataFrame, transactions: pl.DataFrame, *,
                  known: pl.DataFrame | None = None, known_keys: frozenset[str] = frozenset(),
                  known_entries: pl.DataFrame | None = None) -> tuple[pl.DataFrame, pl.DataFrame, list[Issue]]:
    """Drop every statement of the batch that shares an identity with an earlier one; say why.

    ``known`` holds the ledger's statements (STATEMENT_SCHEMA), ``known_keys`` further known keys (a
    caller without the ledger's rows), ``known_entries`` the ledger's transactions of the days the batch
    may touch (for the *entries* identity). Rows of the batch come in file order; the first one wins.
    """
    if statements.is_empty():
        return statements, transactions, []
    cols = statements.columns
    new = statements.with_columns(_new=pl.lit(True), _unit=pl.int_range(pl.len(), dtype=pl.Int64) + 1)
    frames = [new]
    if known is not None and known.height:
        frames.insert(0, known.select(cols).with_columns(_new=pl.lit(False), _unit=-pl.int_range(pl.len(), dtype=pl.Int64) - 1))
    extra = sorted(known_keys - set(known["statement_key"].drop_nulls().to_list() if known is not None else []))
    if extra:
        frames.insert(0, pl.DataFrame({"statement_key": extra}).with_columns(
            *[pl.lit(None, dtype=statements.schema[c]).alias(c) for c in cols if c != "statement_key"],
            _new=pl.lit(False), _unit=-pl.int_range(pl.len(), dtype=pl.Int64) - 1_000_000_000).select(*cols, "_new", "_unit"))
    both = _identities(pl.concat(frames, how="vertical_relaxed"))
    units = both.select("source_path", "statement_key", "kind", "_unit", "_scope", "_new")
    entry_keys = [_entry_keys(transactions, units.filter("_new"))]
    if known_entries is not None and known_entries.height and known is not None:
        entry_keys.append(_entry_keys(known_entries.select(transactions.columns), units.filter(~pl.col("_new"))))
    owners = _owners(both, pl.concat(entry_keys))
    held = owners.filter(pl.any_horizontal(pl.col("_by_key", "_by_number", "_by_period", "_by_entries").is_not_null()))
    if held.is_empty():
        return statements, transactions, []
    by_unit = {r["_unit"]: r for r in both.iter_rows(named=True)} if held.height else {}
    issues = []
    for h in held.sort("_unit").iter_rows(named=True):  # one per held statement (few)
        row = {**by_unit[h["_unit"]], "_n_shared": h["_n_shared"]}
        why = next(w for w in ("key", "number", "period", "entries") if h[f"_by_{w}"] is not None)
        issues.append(_issue(row, by_unit[h[f"_by_{why}"]], why))
    drop = new.join(held.select("_unit"), on="_unit", how="semi").select("source_path", "statement_key")
    kept_tx = transactions.join(drop, on=["source_path", "statement_key"], how="anti", nulls_equal=True,
                                maintain_order="left")
    kept_st = new.join(held.select("_unit"), on="_unit", how="anti", maintain_order="left").select(cols)
    return kept_st, kept_tx, issues
