"""Tagesabschluss: bank balance (Ist) against book balance (Soll) per account and booking day.

§ 31 KomHVO NRW: the Finanzmittelkonten are reconciled with the bank accounts every booking day.
One row per (tenant, bank account) for the day:

* **Ist** — what the bank says: opening balance of the day's first statement, closing balance of its last.
* **Soll** — what the book says: the previous day's book close (plus later correction rows), plus the
  movements booked for the day (``credits_cents`` − ``debits_cents``).
* ``difference_cents`` = Ist closing − Soll closing; ``missing_statements`` lists statement-number gaps.

A closed day is locked. Recomputing a locked day (a late statement, a reversal) never produces a new
close row: given ``locked`` and ``today``, :func:`day_close` returns ``kind = "correction"`` rows dated
``today`` that carry only the change (new − locked) in every money and count column. The next day's
book opening adds those deltas, so the chain of book balances stays right without touching locked rows.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import date

import polars as pl

from claims.vocab import StatementKind
from outputs.fmt import eur

#: One row per account and booking day (``kind = close``), or per corrected account (``kind = correction``).
DAY_CLOSE_SCHEMA: dict[str, pl.DataType] = {
    "kind": pl.String(),                  # close | correction
    "tenant": pl.String(),
    "account_iban": pl.String(),
    "currency": pl.String(),
    "booking_date": pl.Date(),            # the day closed; for a correction: the day it was made (today)
    "corrected_date": pl.Date(),          # correction only: the locked day it corrects (null for close)
    "statement_nos": pl.String(),         # the day's statement numbers as delivered, ", "-joined
    "n_statements": pl.Int32(),
    "last_sequence_no": pl.Int64(),       # highest statement number seen so far (carried for the gap check)
    "opening_cents": pl.Int64(),          # Ist: opening balance of the day's first statement
    "credits_cents": pl.Int64(),          # booked credits of the day (positive)
    "debits_cents": pl.Int64(),           # booked debits of the day, as a positive number
    "closing_cents": pl.Int64(),          # Ist: closing balance of the day's last statement
    "book_opening_cents": pl.Int64(),     # Soll: previous book close (+ corrections), or the first opening
    "booked_cents": pl.Int64(),           # credits − debits
    "book_closing_cents": pl.Int64(),     # Soll: book_opening + booked
    "difference_cents": pl.Int64(),       # Ist closing − Soll closing (null without a statement)
    "n_transactions": pl.Int64(),         # booked rows counted for the day
    "missing_statements": pl.String(),    # number gaps, e.g. "4, 7–9" ("" when none)
    "n_unresolved": pl.Int64(),           # unresolved payments on the account booked up to this day
    "unresolved_cents": pl.Int64(),       # their unallocated amount
    "status": pl.String(),                # ok | difference | missing_statement | no_statement
    "note": pl.String(),                  # German explanation for people ("" when ok)
}

#: Columns that are amounts or counts: a correction row carries new − locked in each of them.
DELTA_COLUMNS = (
    "n_statements", "opening_cents", "credits_cents", "debits_cents", "closing_cents", "book_opening_cents",
    "booked_cents", "book_closing_cents", "difference_cents", "n_transactions", "n_unresolved",
    "unresolved_cents",
)

#: Formats that never carry the booked day's final balance (intraday reports, notifications).
NON_FINAL_FORMATS = ("camt.052", "camt.054", "mt942")

_KEY = ["tenant", "account_iban"]


def _day_statements(statements: pl.DataFrame, day: date) -> pl.DataFrame:
    st = statements.unique(subset=["statement_key"], keep="first", maintain_order=True)
    st = st.filter(pl.col("kind").fill_null(StatementKind.STATEMENT) == StatementKind.STATEMENT)
    day_of = pl.coalesce("closing_date", "last_booking_date", "opening_date")
    return st.filter(day_of == day).sort(
        [*_KEY, "sequence_no", "page_no", "opening_date", "statement_index"], nulls_last=True
    )


def _day_transactions(transactions: pl.DataFrame, statements: pl.DataFrame, day_keys: pl.Series,
                      day: date) -> pl.DataFrame:
    """Booked rows of the day: those of the day's statements, plus orphans booked that day."""
    tx = transactions.unique(subset=["transaction_id"], keep="first", maintain_order=True)
    tx = tx.filter(pl.col("booked").fill_null(False))
    known = statements.get_column("statement_key").unique()
    orphan = (
        ~pl.col("statement_key").is_in(known.implode())
        & (pl.col("booking_date") == day)
        & ~pl.col("source_format").fill_null("").is_in(NON_FINAL_FORMATS)
    )
    return tx.filter(pl.col("statement_key").is_in(day_keys.implode()) | orphan)


def _previous_state(previous: pl.DataFrame | None, day: date) -> pl.DataFrame:
    """Per account: last close before ``day`` plus the correction deltas made since then."""
    schema = {"tenant": pl.String(), "account_iban": pl.String(), "prev_book_closing": pl.Int64(),
              "prev_seq": pl.Int64(), "prev_date": pl.Date(), "prev_currency": pl.String()}
    if previous is None or previous.is_empty():
        return pl.DataFrame(schema=schema)
    closes = (
        previous.filter((pl.col("kind") == "close") & (pl.col("booking_date") < day))
        .sort("booking_date")
        .group_by(_KEY, maintain_order=True)
        .agg(
            pl.col("book_closing_cents").last().alias("prev_book_closing"),
            pl.col("last_sequence_no").last().alias("prev_seq"),
            pl.col("booking_date").last().alias("prev_date"),
            pl.col("currency").last().alias("prev_currency"),
        )
    )
    corr = (
        previous.filter((pl.col("kind") == "correction") & (pl.col("booking_date") <= day))
        .join(closes.select([*_KEY, "prev_date"]), on=_KEY, how="inner")
        # made after that close: dated later, or correcting that very day (a night run again)
        .filter((pl.col("booking_date") > pl.col("prev_date")) | (pl.col("corrected_date") >= pl.col("prev_date")))
        .group_by(_KEY)
        .agg(pl.col("book_closing_cents").fill_null(0).sum().alias("_corr"),
             pl.col("last_sequence_no").max().alias("_corr_seq"))  # a late statement's number counts too
    )
    return (
        closes.join(corr, on=_KEY, how="left")
        .with_columns((pl.col("prev_book_closing") + pl.col("_corr").fill_null(0)).alias("prev_book_closing"),
                      pl.max_horizontal("prev_seq", "_corr_seq").alias("prev_seq"))
        .select(list(schema))
    )


def _gaps(day_st: pl.DataFrame, prev: pl.DataFrame, day: date) -> pl.DataFrame:
    """Statement-number gaps per account as text ("4, 7–9"), checked against the previous day too."""
    seq = (
        day_st.filter(pl.col("sequence_no").fill_null(0) > 0)
        .select([*_KEY, pl.col("sequence_no").alias("seq")])
        .unique()
    )
    first = seq.group_by(_KEY).agg(pl.col("seq").min().alias("_min"))
    base = (
        prev.join(first, on=_KEY, how="inner")
        .with_columns(
            pl.when(pl.col("prev_seq") < pl.col("_min"))
            .then(pl.col("prev_seq"))
            .when(pl.col("prev_date").dt.year() < day.year)  # numbering restarts with the year
            .then(pl.lit(0, pl.Int64()))
            .otherwise(pl.lit(None, pl.Int64()))
            .alias("seq")
        )
        .filter(pl.col("seq").is_not_null())
        .select([*_KEY, "seq"])
    )
    allseq = pl.concat([seq, base]).unique().sort([*_KEY, "seq"])
    lo = pl.col("_prev") + 1
    hi = pl.col("seq") - 1
    return (
        allseq.with_columns(pl.col("seq").shift(1).over(_KEY).alias("_prev"))
        .filter(pl.col("seq") - pl.col("_prev") > 1)
        .with_columns(
            pl.when(lo == hi)
            .then(lo.cast(pl.String()))
            .otherwise(pl.concat_str([lo.cast(pl.String()), pl.lit("–"), hi.cast(pl.String())]))
            .alias("_gap")
        )
        .group_by(_KEY, maintain_order=True)
        .agg(pl.col("_gap").str.join(", ").alias("missing_statements"))
    )


def _unresolved_stock(unresolved: pl.DataFrame, transactions: pl.DataFrame, day: date) -> pl.DataFrame:
    acct = transactions.select("transaction_id", *_KEY).unique(subset=["transaction_id"], keep="first")
    un = unresolved.join(acct, on="transaction_id", how="left")
    lost = un.filter(pl.col("account_iban").is_null())
    if lost.height:
        ids = ", ".join(lost.get_column("transaction_id").head(5).to_list())
        raise ValueError(
            f"day_close: {lost.height} unresolved payment(s) have no row in transactions (e.g. {ids}); "
            "pass every transaction the unresolved list refers to"
        )
    return (
        un.filter(pl.col("booking_date") <= day)
        .group_by(_KEY)
        .agg(pl.len().cast(pl.Int64()).alias("n_unresolved"),
             pl.col("unallocated_cents").sum().alias("unresolved_cents"))
    )


def account_key(account: str) -> str:
    """One spelling per German account: ``DE..`` IBAN and ``BLZ/Kontonummer`` give the same key.

    MT940 ``:25:`` often carries ``37050198/1900001234`` where the config names the IBAN
    ``DE63370501981900001234``; both become ``37050198/1900001234``. Other accounts stay as they are.

    >>> account_key("DE63 3705 0198 1900 0012 34"), account_key("37050198/0001900001234")
    ('37050198/1900001234', '37050198/1900001234')
    """
    a = account.replace(" ", "").upper()
    if m := re.fullmatch(r"DE\d{2}(\d{8})(\d{10})", a):
        return f"{m[1]}/{m[2].lstrip('0')}"
    if m := re.fullmatch(r"(\d{8})/(\d{1,13})(?:EUR)?", a):
        return f"{m[1]}/{m[2].lstrip('0')}"
    return a


def _accounts(frames: Sequence[pl.DataFrame], expected: Sequence[str], tenant: str | None) -> pl.DataFrame:
    known = pl.concat([f.select(_KEY) for f in frames]).unique()
    tenants = known.get_column("tenant").unique().to_list()
    default_tenant = tenant if tenant is not None else (tenants[0] if len(tenants) == 1 else "")
    seen = {account_key(a) for a in known["account_iban"].drop_nulls().to_list()}  # a few accounts
    extra = sorted({a.replace(" ", "") for a in expected if account_key(a) not in seen})
    exp = pl.DataFrame({"tenant": [default_tenant] * len(extra), "account_iban": extra},
                       schema={"tenant": pl.String(), "account_iban": pl.String()})
    return pl.concat([known, exp]).unique().sort(_KEY)


def _status_and_note() -> list[pl.Expr]:
    status = (
        pl.when(pl.col("n_statements") == 0).then(pl.lit("no_statement"))
        .when(pl.col("missing_statements") != "").then(pl.lit("missing_statement"))
        .when(pl.col("difference_cents") != 0).then(pl.lit("difference"))
        .otherwise(pl.lit("ok"))
    )
    note = (
        pl.when(status == "no_statement").then(pl.lit("Kein Kontoauszug für diesen Buchungstag"))
        .when(status == "missing_statement")
        .then(pl.concat_str([pl.lit("Auszug fehlt: Nr. "), pl.col("missing_statements")]))
        .when(status == "difference").then(pl.lit("Bankbestand und Buchbestand weichen ab"))
        .otherwise(pl.lit(""))
    )
    return [status.alias("status"), note.alias("note")]


def _compute(statements: pl.DataFrame, transactions: pl.DataFrame, unresolved: pl.DataFrame, day: date,
             previous: pl.DataFrame | None, expected: Sequence[str], tenant: str | None) -> pl.DataFrame:
    day_st = _day_statements(statements, day)
    day_tx = _day_transactions(transactions, statements, day_st.get_column("statement_key"), day)
    prev = _previous_state(previous, day)
    ist = day_st.group_by(_KEY, maintain_order=True).agg(
        pl.col("currency").first(),
        pl.col("statement_no").fill_null("?").str.join(", ").alias("statement_nos"),
        pl.len().cast(pl.Int32()).alias("n_statements"),
        pl.col("sequence_no").max().alias("_seq"),
        pl.col("opening_cents").first(),
        pl.col("closing_cents").last(),
    )
    amt = pl.col("amount_cents")
    booked = day_tx.group_by(_KEY).agg(
        amt.filter(amt > 0).sum().alias("credits_cents"),
        (-amt.filter(amt < 0).sum()).alias("debits_cents"),
        pl.len().cast(pl.Int64()).alias("n_transactions"),
        pl.col("currency").first().alias("_tx_currency"),
    )
    stock = _unresolved_stock(unresolved, transactions, day)
    accounts = _accounts([ist, booked, prev], expected, tenant)
    zero = pl.lit(0, pl.Int64())
    df = (
        accounts.join(ist, on=_KEY, how="left")
        .join(booked, on=_KEY, how="left")
        .join(prev, on=_KEY, how="left")
        .join(stock, on=_KEY, how="left")
        .join(_gaps(day_st, prev, day), on=_KEY, how="left")
        .with_columns(
            pl.lit("close").alias("kind"),
            pl.coalesce("currency", "_tx_currency", "prev_currency").alias("currency"),
            pl.lit(day).alias("booking_date"),
            pl.lit(None, pl.Date()).alias("corrected_date"),
            pl.col("statement_nos").fill_null(""),
            pl.col("n_statements").fill_null(0),
            pl.max_horizontal("_seq", "prev_seq").alias("last_sequence_no"),
            pl.col("credits_cents").fill_null(zero),
            pl.col("debits_cents").fill_null(zero),
            pl.col("n_transactions").fill_null(zero),
            pl.coalesce("prev_book_closing", "opening_cents").alias("book_opening_cents"),
            pl.col("missing_statements").fill_null(""),
            pl.col("n_unresolved").fill_null(zero),
            pl.col("unresolved_cents").fill_null(zero),
        )
        .with_columns((pl.col("credits_cents") - pl.col("debits_cents")).alias("booked_cents"))
        .with_columns((pl.col("book_opening_cents") + pl.col("booked_cents")).alias("book_closing_cents"))
        .with_columns((pl.col("closing_cents") - pl.col("book_closing_cents")).alias("difference_cents"))
        .with_columns(_status_and_note())
    )
    return df.select([pl.col(k).cast(v) for k, v in DAY_CLOSE_SCHEMA.items()])


def _corrections(fresh: pl.DataFrame, locked: pl.DataFrame, day: date, today: date) -> pl.DataFrame:
    """Rows carrying new − locked for every account whose recomputed close differs from the locked one."""
    mine = locked.filter(
        ((pl.col("kind") == "close") & (pl.col("booking_date") == day))
        | ((pl.col("kind") == "correction") & (pl.col("corrected_date") == day))
    )
    eff = mine.group_by(_KEY).agg(
        *[pl.col(c).fill_null(0).sum().alias(f"_l_{c}") for c in DELTA_COLUMNS],
        pl.col("statement_nos").sort_by("booking_date").last().alias("_l_nos"),
    )
    both = fresh.join(eff, on=_KEY, how="full", coalesce=True)
    deltas = [(pl.col(c).fill_null(0) - pl.col(f"_l_{c}").fill_null(0)).alias(c) for c in DELTA_COLUMNS]
    changed = pl.any_horizontal(*[pl.col(c) != 0 for c in DELTA_COLUMNS]) | (
        pl.col("statement_nos").fill_null("") != pl.col("_l_nos").fill_null("")
    )
    out = both.with_columns(deltas).filter(changed)
    if out.is_empty():
        return pl.DataFrame(schema=DAY_CLOSE_SCHEMA)
    note = [
        f"Korrektur zum gesperrten Tagesabschluss vom {day.strftime('%d.%m.%Y')}: "
        f"Buchbestand {eur(b, sign=True)}, Bankbestand {eur(c, sign=True)}"
        for b, c in zip(out["book_closing_cents"].to_list(), out["closing_cents"].to_list(), strict=True)
    ]  # one line per corrected account (a handful), not per payment
    out = out.with_columns(
        pl.lit("correction").alias("kind"),
        pl.lit(today).alias("booking_date"),
        pl.lit(day).alias("corrected_date"),
        pl.Series("note", note, dtype=pl.String()),
        pl.col("statement_nos").fill_null(""),
        pl.col("missing_statements").fill_null(""),
        pl.col("status").fill_null("ok"),
    )
    return out.select([pl.col(k).cast(v) for k, v in DAY_CLOSE_SCHEMA.items()])


def day_close(statements: pl.DataFrame, transactions: pl.DataFrame, unresolved: pl.DataFrame, *,
              booking_date: date, previous: pl.DataFrame | None = None,
              expected_accounts: Sequence[str] = (), locked: pl.DataFrame | None = None,
              today: date | None = None, tenant: str | None = None) -> pl.DataFrame:
    """Compute the day close (Tagesabschluss) of ``booking_date``: one row per tenant and bank account.

    ``statements``/``transactions`` follow STATEMENT_SCHEMA/TRANSACTION_SCHEMA (more days than the one
    closed are fine); ``unresolved`` follows UNRESOLVED_SCHEMA and every ``transaction_id`` in it must be
    in ``transactions``. ``previous`` holds earlier DAY_CLOSE_SCHEMA rows (closes and corrections): the
    last close before the day gives the book opening and the last statement number. Accounts in
    ``expected_accounts`` without a statement get a ``no_statement`` row (``tenant`` names their tenant
    when the frames don't).

    With ``locked`` (the locked rows of ``booking_date``, and any earlier corrections of it) the day is
    not closed again: the result is the correction rows dated ``today`` (empty when nothing changed).

    >>> import polars as pl; from parsers.schema import STATEMENT_SCHEMA, TRANSACTION_SCHEMA
    >>> from matching.schema import UNRESOLVED_SCHEMA
    >>> e = lambda s: pl.DataFrame(schema=s)
    >>> day_close(e(STATEMENT_SCHEMA), e(TRANSACTION_SCHEMA), e(UNRESOLVED_SCHEMA), booking_date=date(2024, 5, 17),
    ...           expected_accounts=["DE02120300000000202051"], tenant="musterstadt")["status"].to_list()
    ['no_statement']
    """
    fresh = _compute(statements, transactions, unresolved, booking_date, previous, expected_accounts, tenant)
    if locked is None or locked.is_empty():
        return fresh
    if today is None:
        raise ValueError("day_close: a locked day needs `today`, the date its correction rows carry")
    return _corrections(fresh, locked, booking_date, today)


def late_days(new_statements: pl.DataFrame, *, booking_date: date) -> list[date]:
    """Earlier booking days that tonight's new statements belong to (each needs a correction, if locked).

    The flow recomputes each such day with ``day_close(..., locked=…, today=booking_date)`` before
    closing ``booking_date`` and passes the correction rows in ``previous``.
    """
    st = new_statements.filter(pl.col("kind").fill_null(StatementKind.STATEMENT) == StatementKind.STATEMENT)
    days = st.select(pl.coalesce("closing_date", "last_booking_date", "opening_date").alias("d"))
    return sorted(d for d in days.get_column("d").unique().to_list() if d is not None and d < booking_date)


def check_totals(close: pl.DataFrame) -> None:
    """Assert the day close's own arithmetic (our hand-off): Soll = opening + credits − debits, etc."""
    bad = close.filter(
        (pl.col("kind") == "close")
        & (
            (pl.col("booked_cents") != pl.col("credits_cents") - pl.col("debits_cents"))
            | (pl.col("book_closing_cents") != pl.col("book_opening_cents") + pl.col("booked_cents"))
            | (pl.col("difference_cents").fill_null(0)
               != (pl.col("closing_cents") - pl.col("book_closing_cents")).fill_null(0))
        )
    )
    if bad.height:
        raise AssertionError(f"day close arithmetic broken for {bad.select(_KEY).rows()}")
