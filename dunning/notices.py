"""The run's notices: the selected claims grouped into letters, with deadline, totals and remittance.

:func:`group_notices` takes :func:`dunning.select.select`'s ``selected`` frame and the debtors' names and
addresses and returns two frames, the contract the letters, the print file and the stateless CLI
(``notices.csv`` / ``notice_items.csv``) share:

* ``notices`` (:data:`NOTICE_COLUMNS`): one row per letter;
* ``items`` (:data:`ITEM_COLUMNS`): one row per claim on a letter.

**Grouping** (``[dunning] letter_grouping``): ``"debtor"`` (default) puts a debtor's claims of one level
on one notice — a debtor with claims at two levels gets two letters, because the level decides the
letter's legal text (a Zahlungserinnerung is no Mahnung, a Vollstreckungsankündigung announces
enforcement); ``"claim"`` gives every claim its own notice. A claim without a debtor id is a notice of
its own: claims of unknown debtors are never put on one letter.

**Deadline**: the notice date is the run's posting date (``as_of``); the letter counts as delivered
``postal_buffer_days`` (3) later and the Mahnfrist (``mahnfrist_days``, one week) runs from there. A
deadline on a Saturday, Sunday or public holiday of ``holiday_region`` moves to the next business day
(§ 108 Abs. 3 AO).

**Notice ids**: ``M{as_of:%Y%m%d}-{n:06d}``, ``n`` counting from 1 in the order (debtor id, level in
the order of :meth:`DunningLevel.sequence`, and for ``"claim"`` grouping the items' order below). The
same selection on the same day gives the same ids; letters, digits and ``-`` only (safe in file names,
CSV and URLs). The id names the notice inside one run; the ledger keeps it with the run.

**Items** on a notice are ordered by due date, Kassenzeichen, receivable id.

**Remittance** (the GiroCode's and the transfer's Verwendungszweck, at most 140 characters, EPC069-12):
the Kassenzeichen of the notice's claims as printed, separated by one space (the matcher reads several
Kassenzeichen in one text, with their own separators). When they do not fit in 140 characters, or a
claim has no Kassenzeichen, the remittance is :data:`REMITTANCE_MANY` — a text **without a digit**:
quoting only some Kassenzeichen would let a payment of the whole total look like one for those claims,
and a notice id's digits could be read as a Kassenzeichen by the matcher's digit windows. Such a
payment finds no reference and is held in the Klärungsliste for a clerk (never allocated wrongly); the
letter asks the payer to quote every Kassenzeichen or to transfer per Kassenzeichen.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import polars as pl

from claims.claim import ADDRESS
from claims.config import DunningSection
from claims.vocab import DunningLevel
from dunning import ENGINE
from dunning.calendar import next_business_day

#: The notices frame (``notices.csv``): these columns first, in this order; the CSV is the first seven.
NOTICE_CSV_COLUMNS = ("notice_id", "debtor_id", "level", "notice_date", "deadline", "n_claims", "total_cents")
#: The debtor's name and postal address on the notice (``claims.claim.ADDRESS`` without the birth date).
DEBTOR_COLUMNS = ("debtor_name", "debtor_street", "debtor_postcode", "debtor_city", "debtor_country")
#: Every column of the notices frame, in order.
NOTICE_COLUMNS = (*NOTICE_CSV_COLUMNS, *DEBTOR_COLUMNS, "open_cents", "saeumniszuschlag_cents",
                  "mahngebuehr_cents", "interest_cents", "remittance")
#: The items frame (``notice_items.csv``), exactly these columns.
ITEM_COLUMNS = ("notice_id", "receivable_id", "kassenzeichen", "claim_type", "due_date", "open_cents",
                "saeumniszuschlag_cents", "mahngebuehr_cents", "interest_cents")
#: The amounts summed per notice; ``total_cents`` is their sum.
AMOUNTS = ("open_cents", "saeumniszuschlag_cents", "mahngebuehr_cents", "interest_cents")
#: Longest remittance a SEPA credit transfer (and the GiroCode) carries.
REMITTANCE_MAX = 140
#: The remittance when the Kassenzeichen do not fit (or one is missing): no digit on purpose (module doc).
REMITTANCE_MANY = "Sammelzahlung laut Mahnschreiben, Kassenzeichen siehe Schreiben"

_DEBTOR_SCHEMA: dict[str, pl.DataType] = {"debtor_id": pl.String(),
                                          **{c: ADDRESS.get(c, pl.String()) for c in DEBTOR_COLUMNS}}


@dataclass(frozen=True, slots=True)
class Notices:
    """``notices`` (:data:`NOTICE_COLUMNS`, one row per letter) and ``items`` (:data:`ITEM_COLUMNS`)."""

    notices: pl.DataFrame
    items: pl.DataFrame


def deadline(notice_date: date, settings: DunningSection | None = None) -> date:
    """Notice date + postal buffer + Mahnfrist, moved to the next business day (§ 108 Abs. 3 AO)."""
    s = settings or DunningSection()
    day = notice_date + timedelta(days=s.postal_buffer_days + s.mahnfrist_days)
    return next_business_day(day, s.holiday_region)


def debtor_addresses(claims: pl.DataFrame | pl.LazyFrame) -> pl.DataFrame:
    """One row per ``debtor_id`` with :data:`DEBTOR_COLUMNS`, from a claims frame (missing columns: null).

    The name is the debtor's first non-null name; the address is taken **whole** from the debtor's first
    claim that has a street, so that street, postcode and city of two different addresses are never mixed
    on an envelope."""
    lf = claims.lazy()
    have = lf.collect_schema().names()
    lf = lf.with_columns([pl.lit(None, t).alias(c) for c, t in _DEBTOR_SCHEMA.items() if c not in have]).select(
        [pl.col(c).cast(t) for c, t in _DEBTOR_SCHEMA.items()]).filter(pl.col("debtor_id").is_not_null())
    names = lf.group_by("debtor_id", maintain_order=True).agg(pl.col("debtor_name").drop_nulls().first())
    place = DEBTOR_COLUMNS[1:]
    where = lf.filter(pl.col("debtor_street").is_not_null()).group_by("debtor_id", maintain_order=True).agg(
        [pl.col(c).first() for c in place])
    return names.join(where, on="debtor_id", how="left", maintain_order="left").select(
        "debtor_id", *DEBTOR_COLUMNS).collect(engine=ENGINE)


def _level_rank() -> pl.Expr:
    order = [str(lv) for lv in DunningLevel.sequence()]
    order += [str(lv) for lv in DunningLevel if str(lv) not in order]
    return pl.col("level").replace_strict(order, list(range(len(order))), default=len(order),
                                          return_dtype=pl.Int32)


def _remittance() -> pl.Expr:
    kz = pl.col("kassenzeichen").str.strip_chars()
    joined = kz.str.join(" ")
    fits = (kz.is_null() | (kz == "")).any().not_() & (joined.str.len_chars() <= REMITTANCE_MAX)
    return pl.when(fits).then(joined).otherwise(pl.lit(REMITTANCE_MANY)).alias("remittance")


def group_notices(selected: pl.DataFrame | pl.LazyFrame, debtors: pl.DataFrame | pl.LazyFrame | None,
                  as_of: date, settings: DunningSection | None = None) -> Notices:
    """The run's notices at posting date ``as_of`` (module docstring).

    ``selected``: :func:`dunning.select.select`'s ``selected`` (``SELECTED_COLUMNS``); ``debtors``: one row
    per ``debtor_id`` with :data:`DEBTOR_COLUMNS` (e.g. :func:`debtor_addresses` of the claims; ``None``:
    no addresses). Set-based: one sort, a run id for the notice number, one ``group_by``."""
    s = settings or DunningSection()
    items = selected.lazy().with_columns(
        _level_rank().alias("_rank"),
        # no debtor id: a notice of its own (the receivable id in the key)
        pl.when(pl.col("debtor_id").is_null()).then(pl.col("receivable_id")).alias("_solo"),
    ).sort(["debtor_id", "_rank", "_solo", "due_date", "kassenzeichen", "receivable_id"], nulls_last=True)
    # a notice is a run of equal keys in that order; per claim, every item starts one (receivable ids are unique)
    number = pl.struct("debtor_id", "_rank", "receivable_id" if s.letter_grouping == "claim" else "_solo").rle_id() + 1
    items = items.with_columns(
        (pl.lit(f"M{as_of:%Y%m%d}-") + number.cast(pl.String).str.zfill(6)).alias("notice_id"))
    items_df = items.collect(engine=ENGINE)

    per = items_df.lazy().group_by("notice_id", maintain_order=True).agg(
        pl.col("debtor_id").first(), pl.col("level").first(), pl.len().cast(pl.Int64).alias("n_claims"),
        *[pl.col(c).sum().cast(pl.Int64) for c in AMOUNTS], _remittance())
    per = per.with_columns(pl.lit(as_of, pl.Date).alias("notice_date"),
                           pl.lit(deadline(as_of, s), pl.Date).alias("deadline"),
                           pl.sum_horizontal(*AMOUNTS).cast(pl.Int64).alias("total_cents"))
    who = pl.LazyFrame(schema=_DEBTOR_SCHEMA) if debtors is None else debtors.lazy()
    have = who.collect_schema().names()                 # a debtors frame without some columns: null
    who = who.with_columns([pl.lit(None, t).alias(c) for c, t in _DEBTOR_SCHEMA.items() if c not in have]).select(
        [pl.col(c).cast(t) for c, t in _DEBTOR_SCHEMA.items()]).unique("debtor_id", keep="first", maintain_order=True)
    notices = per.join(who, on="debtor_id", how="left", maintain_order="left").select(NOTICE_COLUMNS)
    return Notices(notices=notices.collect(engine=ENGINE),
                   items=items_df.select([pl.col(c) for c in ITEM_COLUMNS]))


def with_fee_kassenzeichen(notices: pl.DataFrame, items: pl.DataFrame, fee_numbers: pl.DataFrame) -> pl.DataFrame:
    """``notices`` with ``fee_kassenzeichen`` (from ``fee_numbers``: ``notice_id``, ``fee_kassenzeichen``,
    one row per fee Kassenzeichen, in the order to quote them; no row: null) and the remittance naming
    them **after** the main claims' Kassenzeichen, each once. The booking gives the fees and surcharges of
    one notice one Kassenzeichen of their own (jobs/dunning/charges.py), and a later letter also asks for
    the fees still open under earlier notices' numbers: a payment of the letter's total must quote every
    one of them, or the fee claims stay open and the total is an overpayment on the main claims. A notice
    with several has them joined by ", " in ``fee_kassenzeichen`` (the letter's line). The same
    140-character rule: what does not fit becomes :data:`REMITTANCE_MANY`."""
    fees = fee_numbers.select(pl.col("notice_id").cast(pl.String), pl.col("fee_kassenzeichen").cast(pl.String))
    fees = fees.filter(pl.col("fee_kassenzeichen").is_not_null()).unique(maintain_order=True)
    quoted = pl.concat([items.select("notice_id", pl.col("kassenzeichen").cast(pl.String)),
                        fees.select("notice_id", pl.col("fee_kassenzeichen").alias("kassenzeichen"))])
    # each number once (several claims may share one; the matcher reads the numbers as a set)
    quoted = quoted.filter(pl.col("kassenzeichen").is_null()
                           | pl.col("kassenzeichen").is_first_distinct().over("notice_id"))
    remit = quoted.group_by("notice_id", maintain_order=True).agg(_remittance())
    shown = fees.group_by("notice_id", maintain_order=True).agg(pl.col("fee_kassenzeichen").str.join(", "))
    cols = [c for c in notices.columns if c != "fee_kassenzeichen"]
    return (notices.select(cols).drop("remittance")
            .join(remit, on="notice_id", how="left", maintain_order="left")
            .join(shown, on="notice_id", how="left", maintain_order="left")
            .select(*cols, "fee_kassenzeichen"))


__all__ = ["AMOUNTS", "DEBTOR_COLUMNS", "ITEM_COLUMNS", "NOTICE_COLUMNS", "NOTICE_CSV_COLUMNS", "REMITTANCE_MANY",
           "REMITTANCE_MAX", "Notices", "deadline", "debtor_addresses", "group_notices",
           "with_fee_kassenzeichen"]
