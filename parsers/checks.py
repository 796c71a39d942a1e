"""Statement checks: balances add up, numbers have no gaps, each statement opens where the last closed.

Per statement (``statement.balance_mismatch``, error): opening + booked entries = closing.

Per account (account + currency + tenant; statements of kind ``statement`` only, sorted by closing
date, sequence number, page; the ledger's ``previous`` statements first):

* ``statement.gap`` (warning): the sequence number jumps by more than one. Not a gap: the same number
  again (the next page of a multi-page statement), a number 0 (``:28C:0`` = "not numbered"), and a
  **restart at 1 in a new year** (the statement's closing date is in a later year than the previous
  statement's closing date: many banks count statements per calendar year).
* ``statement.sequence_order`` (warning): the number goes backwards without a new year.
* ``statement.continuity`` (warning): the opening balance is not the previous closing balance.

Only pairs whose later statement is new are reported (two ledger statements are not re-checked).
"""

from __future__ import annotations

import polars as pl

from claims.vocab import StatementKind
from parsers.issues import ERROR, WARNING, Issue, money
from parsers.schema import STATEMENT_SCHEMA, conform
from parsers.validity import compact_iban


def _label(statement_no: str | None, statement_id: str | None) -> str:
    return statement_no or statement_id or "?"


def balance_expr() -> pl.Expr:
    """``balance_ok`` per statement: null when the statement carries no opening or closing balance."""
    return (
        pl.when(pl.col("opening_cents").is_not_null() & pl.col("closing_cents").is_not_null())
        .then(pl.col("opening_cents") + pl.col("entries_sum_cents").fill_null(0) == pl.col("closing_cents"))
        .otherwise(pl.lit(None, dtype=pl.Boolean()))
    )


def check_balances(statements: pl.DataFrame) -> list[Issue]:
    """An error for every statement whose opening + entries differs from its closing balance."""
    bad = statements.with_columns(_ok=balance_expr()).filter(pl.col("_ok").not_())
    issues = []
    for row in bad.iter_rows(named=True):  # only the failing statements (few)
        opening, entries, closing = row["opening_cents"], row["entries_sum_cents"] or 0, row["closing_cents"]
        computed = opening + entries
        diff = computed - closing
        label = _label(row["statement_no"], row["statement_id"])
        issues.append(
            Issue(
                row["source_path"] or "",
                f"statement {label}",
                ERROR,
                "statement.balance_mismatch",
                f"statement {label}: opening {money(opening)} + entries {money(entries)} = {money(computed)}, "
                f"but closing says {money(closing)} ({money(abs(diff))} too {'much' if diff > 0 else 'little'})",
            )
        )
    return issues


def _width(statement_no: str | None) -> int:
    digits = ""
    for ch in statement_no or "":
        if not ch.isdigit():
            break
        digits += ch
    return max(len(digits), 1)


def _sequence_issues(row: dict[str, object]) -> list[Issue]:
    seq, prev_seq = row["sequence_no"], row["_prev_seq"]
    if not isinstance(seq, int) or not isinstance(prev_seq, int) or seq == 0 or prev_seq == 0:
        return []
    label = _label(row["statement_no"], row["statement_id"])  # type: ignore[arg-type]
    where = (str(row["source_path"] or ""), f"statement {label}")
    width = _width(row["statement_no"])  # type: ignore[arg-type]
    new_year = bool(row["_new_year"])
    if seq in (prev_seq, prev_seq + 1) or (seq == 1 and new_year):
        return []
    if seq > prev_seq + 1:
        first, last = prev_seq + 1, seq - 1
        missing = f"{first:0{width}d}" if first == last else f"{first:0{width}d}–{last:0{width}d}"
        return [
            Issue(
                *where,
                WARNING,
                "statement.gap",
                f"account {row['account_iban']}: after {prev_seq:0{width}d} comes {seq:0{width}d}: "
                f"{missing} missing (previous statement from {row['_prev_path']})",
            )
        ]
    return [
        Issue(
            *where,
            WARNING,
            "statement.sequence_order",
            f"account {row['account_iban']}: statement {seq:0{width}d} follows {prev_seq:0{width}d} "
            f"(from {row['_prev_path']}) without a new year: numbers go backwards",
        )
    ]


def _continuity_issues(row: dict[str, object]) -> list[Issue]:
    opening, prev_closing = row["opening_cents"], row["_prev_closing"]
    if not isinstance(opening, int) or not isinstance(prev_closing, int) or opening == prev_closing:
        return []
    label = _label(row["statement_no"], row["statement_id"])  # type: ignore[arg-type]
    prev_label = _label(row["_prev_no"], row["_prev_id"])  # type: ignore[arg-type]
    return [
        Issue(
            str(row["source_path"] or ""),
            f"statement {label}",
            WARNING,
            "statement.continuity",
            f"account {row['account_iban']}: statement {label} opens with {money(opening)}, but the previous "
            f"statement {prev_label} ({row['_prev_path']}) closed with {money(prev_closing)} "
            f"({money(abs(opening - prev_closing))} difference)",
        )
    ]


def check_sequence(statements: pl.DataFrame, *, previous: pl.DataFrame | None = None) -> list[Issue]:
    """Gap, order and continuity warnings per account, also against the ledger's ``previous`` statements."""
    frames = [statements.with_columns(_new=pl.lit(True), _ord=pl.int_range(pl.len()))]
    if previous is not None and previous.height:
        # a ledger statement that is in this batch too is not its own predecessor
        older = conform(previous, STATEMENT_SCHEMA).select(statements.columns).filter(
            ~pl.col("statement_key").is_in(statements["statement_key"].drop_nulls().implode()).fill_null(False)
        )
        frames.insert(0, older.with_columns(_new=pl.lit(False), _ord=pl.lit(-1, dtype=pl.Int64())))
    both = pl.concat(frames, how="vertical_relaxed").filter(pl.col("kind").fill_null(StatementKind.STATEMENT) == StatementKind.STATEMENT)
    if both.is_empty():
        return []
    account = [
        pl.col("tenant").fill_null(""),
        compact_iban(pl.col("account_iban").fill_null("")),
        pl.col("currency").fill_null(""),
    ]
    when = pl.coalesce("closing_date", "last_booking_date", "opening_date", "first_booking_date")
    ordered = both.with_columns(_acct=pl.concat_str(account, separator="|"), _when=when).sort(
        ["_acct", "_new", "_when", "sequence_no", "page_no", "_ord"], nulls_last=False
    )
    year = pl.col("_when").dt.year()
    flagged = ordered.with_columns(
        _prev_seq=pl.col("sequence_no").shift(1).over("_acct"),
        _prev_closing=pl.col("closing_cents").shift(1).over("_acct"),
        _prev_no=pl.col("statement_no").shift(1).over("_acct"),
        _prev_id=pl.col("statement_id").shift(1).over("_acct"),
        _prev_path=pl.col("source_path").shift(1).over("_acct"),
        _new_year=(year > year.shift(1).over("_acct")).fill_null(False),
        _has_prev=pl.col("_acct").cum_count().over("_acct") > 1,
    ).filter(pl.col("_new") & pl.col("_has_prev"))
    seq, prev = pl.col("sequence_no"), pl.col("_prev_seq")
    seq_suspect = (seq != 0) & (prev != 0) & (seq != prev) & (seq != prev + 1) & ~((seq == 1) & pl.col("_new_year"))
    balance_suspect = pl.col("opening_cents") != pl.col("_prev_closing")
    # only the suspicious pairs reach Python (the rules below then say what is wrong)
    flagged = flagged.filter(seq_suspect.fill_null(False) | balance_suspect.fill_null(False))
    issues: list[Issue] = []
    for row in flagged.iter_rows(named=True):  # one per statement (few), not per payment
        issues += _sequence_issues(row)
        issues += _continuity_issues(row)
    return issues


def check_statements(statements: pl.DataFrame, *, previous: pl.DataFrame | None = None) -> list[Issue]:
    """All statement checks: balances per statement, then gaps/order/continuity per account."""
    return check_balances(statements) + check_sequence(statements, previous=previous)
