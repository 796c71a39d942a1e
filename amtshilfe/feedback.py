"""What we report back to the requesting creditors, and what we invoice them (issue 18 §3, DOMAIN.md §4.4,
§9.1 r. 20).

:func:`feedback` turns the ledger's events of the foreign creditors' requests (:class:`FeedbackEvent`:
accepted, returned with its reason, a payment forwarded with amount and date, settled, uncollectible,
withdrawn) and the cost invoices of a period (:func:`cost_invoice`) into **feedback rows**
(:data:`FEEDBACK_COLUMNS`), one per event, grouped by creditor: the shape the Rückgabe/Sachstand writer
takes (``message`` ``rueckgabe`` for a returned request, ``sachstand`` for everything else).

Each row has a ``feedback_id`` made from the event alone (``<kind>-<event_id>``; for a cost invoice
``cost_invoice-<creditor>-<from>-<to>``), never from the run: a row whose id is in ``sent`` (what earlier
runs sent) is left out, so a feedback is **never sent twice**, however often a run is repeated.

``forwarded_cents`` is what was forwarded on the request up to and including the event (the
:class:`FeedbackEvent` rows of kind ``payment_forwarded`` must therefore include the earlier ones, sent or
not): a withdrawal after a partial payment tells the creditor what it has received. On one day, a payment
counts before the settlement, withdrawal or Fruchtlosigkeit of that day.

:func:`cost_invoice`: per creditor and period, one **contribution** (``[amtshilfe] cost_contribution``,
default 37 €, § 5 Abs. 1 VO VwVG NRW) per request accepted in the period — not for a creditor in
``cost_free_creditor_ids`` — plus the case **outlays** (Auslagen) of the period as the ledger gives them.
The item ids (``contribution-<creditor>-<file number>``, ``outlay-<outlay_id>``) let the store invoice an
item once only.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import date
from enum import StrEnum

import dataframely as dy
import polars as pl

from claims.config import AmtshilfeSection
from claims.vocab import ErsuchenCostItem, ErsuchenFeedback, ErsuchenMessage
from enforcement.frames import take

#: The feedback rows, in this column order (sorted by creditor, then date, then id).
FEEDBACK_COLUMNS = (
    "feedback_id", "creditor_id", "message", "kind", "creditor_file_number", "case_number", "payment_reference",
    "event_date", "check", "amount_cents", "forwarded_cents", "competent_authority_id",
    "competent_authority_name", "period_from", "period_to",
)
#: The cost invoice items.
INVOICE_COLUMNS = (
    "item_id", "creditor_id", "period_from", "period_to", "item", "creditor_file_number", "case_number",
    "item_date", "amount_cents", "description",
)


def _among(values: Iterable[StrEnum]) -> dict[str, Callable[[pl.Expr], pl.Expr]]:
    codes = sorted(str(v) for v in values)
    return {"vocabulary": lambda c: c.is_null() | c.is_in(codes)}


_EVENT_KINDS = [k for k in ErsuchenFeedback if k != ErsuchenFeedback.COST_INVOICE]


class FeedbackEvent(dy.Schema):
    """An event of a foreign creditor's request, from the ledger. ``event_id`` is unique per event (the
    ledger's id); ``amount_cents`` is the amount forwarded (kind ``payment_forwarded``), ``check`` the
    reason of a return; ``case_number`` ours, once it is a case."""

    event_id = dy.String(nullable=False)
    kind = dy.String(nullable=False, check=_among(_EVENT_KINDS))
    creditor_id = dy.String(nullable=False)
    creditor_file_number = dy.String(nullable=False)
    case_number = dy.String(nullable=True)
    payment_reference = dy.String(nullable=True)
    event_date = dy.Date(nullable=False)
    check = dy.String(nullable=True)
    amount_cents = dy.Int64(nullable=True)
    competent_authority_id = dy.String(nullable=True)
    competent_authority_name = dy.String(nullable=True)


class FeedbackSent(dy.Schema):
    """A feedback row an earlier run sent."""

    feedback_id = dy.String(nullable=False)


class AcceptedRequest(dy.Schema):
    """A request of a foreign creditor accepted on ``accepted_on`` (the ledger's requests)."""

    creditor_id = dy.String(nullable=False)
    creditor_file_number = dy.String(nullable=False)
    case_number = dy.String(nullable=True)
    accepted_on = dy.Date(nullable=False)


class Outlay(dy.Schema):
    """An outlay (Auslage) of a case the creditor reimburses: postage, a bailiff's fee, a register's fee."""

    outlay_id = dy.String(nullable=False)
    creditor_id = dy.String(nullable=False)
    creditor_file_number = dy.String(nullable=False)
    case_number = dy.String(nullable=True)
    outlay_date = dy.Date(nullable=False)
    amount_cents = dy.Int64(nullable=False, min=0)
    description = dy.String(nullable=True)


def cost_invoice(accepted: pl.DataFrame | pl.LazyFrame | None, period_from: date, period_to: date,
                 settings: AmtshilfeSection | None = None, *,
                 outlays: pl.DataFrame | pl.LazyFrame | None = None) -> pl.DataFrame:
    """The items invoiced per creditor for ``period_from``–``period_to`` (both included;
    :data:`INVOICE_COLUMNS`): a contribution per request accepted in the period (not for the cost-free
    creditors), and the outlays dated in the period. ``accepted``: :class:`AcceptedRequest`; ``outlays``:
    :class:`Outlay`. A creditor id is compared trimmed and upper-cased with ``cost_free_creditor_ids``."""
    s = settings or AmtshilfeSection()
    acc, out = take(accepted, AcceptedRequest), take(outlays, Outlay)
    free = pl.col("creditor_id").str.strip_chars().str.to_uppercase().is_in(list(s.cost_free_creditor_ids))
    contributions = acc.filter(pl.col("accepted_on").is_between(period_from, period_to) & ~free).select(
        pl.concat_str([pl.lit("contribution"), "creditor_id", "creditor_file_number"], separator="-")
        .alias("item_id"),
        "creditor_id", pl.lit(ErsuchenCostItem.CONTRIBUTION).alias("item"), "creditor_file_number", "case_number",
        pl.col("accepted_on").alias("item_date"), pl.lit(s.cost_contribution, pl.Int64).alias("amount_cents"),
        pl.lit(None, pl.String).alias("description"))   # the writer names the item from its code
    items = out.filter(pl.col("outlay_date").is_between(period_from, period_to)).select(
        pl.concat_str([pl.lit("outlay"), "outlay_id"], separator="-").alias("item_id"),
        "creditor_id", pl.lit(ErsuchenCostItem.OUTLAY).alias("item"), "creditor_file_number", "case_number",
        pl.col("outlay_date").alias("item_date"), "amount_cents", "description")
    return (pl.concat([contributions, items], how="vertical_relaxed")
            .unique("item_id", keep="first", maintain_order=True)
            .with_columns(pl.lit(period_from).alias("period_from"), pl.lit(period_to).alias("period_to"))
            .sort("creditor_id", "item_date", "item_id").select(INVOICE_COLUMNS))


def _invoice_rows(invoice: pl.DataFrame) -> pl.DataFrame:
    """One feedback row per creditor and period of a cost invoice (its total)."""
    return invoice.group_by("creditor_id", "period_from", "period_to").agg(pl.col("amount_cents").sum()).select(
        pl.concat_str([pl.lit("cost_invoice"), "creditor_id", pl.col("period_from").cast(pl.String),
                       pl.col("period_to").cast(pl.String)], separator="-").alias("feedback_id"),
        "creditor_id", pl.lit(ErsuchenMessage.SACHSTAND).alias("message"),
        pl.lit(ErsuchenFeedback.COST_INVOICE).alias("kind"),
        pl.lit(None, pl.String).alias("creditor_file_number"), pl.lit(None, pl.String).alias("case_number"),
        pl.lit(None, pl.String).alias("payment_reference"), pl.col("period_to").alias("event_date"),
        pl.lit(None, pl.String).alias("check"), "amount_cents", pl.lit(None, pl.Int64).alias("forwarded_cents"),
        pl.lit(None, pl.String).alias("competent_authority_id"),
        pl.lit(None, pl.String).alias("competent_authority_name"), "period_from", "period_to")


def feedback(events: pl.DataFrame | pl.LazyFrame | None, *, sent: pl.DataFrame | pl.LazyFrame | None = None,
             invoice: pl.DataFrame | None = None) -> pl.DataFrame:
    """The feedback rows not sent yet (module docstring; :data:`FEEDBACK_COLUMNS`). ``events``:
    :class:`FeedbackEvent`; ``sent``: :class:`FeedbackSent`; ``invoice``: :func:`cost_invoice`'s items."""
    ev = take(events, FeedbackEvent).unique("event_id", keep="first", maintain_order=True)
    done = take(sent, FeedbackSent)["feedback_id"]
    forwarded = pl.col("kind") == ErsuchenFeedback.PAYMENT_FORWARDED
    case = ["creditor_id", "creditor_file_number"]
    rows = (ev.with_columns(pl.when(forwarded).then(0).otherwise(1).alias("_after"))
            .sort(*case, "event_date", "_after", "event_id")
            .with_columns(pl.when(forwarded).then(pl.col("amount_cents").fill_null(0)).otherwise(0)
                          .cum_sum().over(case).alias("forwarded_cents"))
            .select(
                pl.concat_str(["kind", "event_id"], separator="-").alias("feedback_id"), "creditor_id",
                pl.when(pl.col("kind") == ErsuchenFeedback.RETURNED).then(pl.lit(ErsuchenMessage.RUECKGABE))
                .otherwise(pl.lit(ErsuchenMessage.SACHSTAND)).alias("message"),
                "kind", "creditor_file_number", "case_number", "payment_reference", "event_date", "check",
                pl.when(forwarded).then(pl.col("amount_cents")).alias("amount_cents"),
                pl.when(pl.col("kind") == ErsuchenFeedback.RETURNED).then(None)
                .otherwise(pl.col("forwarded_cents")).alias("forwarded_cents"),
                "competent_authority_id", "competent_authority_name",
                pl.lit(None, pl.Date).alias("period_from"), pl.lit(None, pl.Date).alias("period_to")))
    if invoice is not None and invoice.height:
        rows = pl.concat([rows, _invoice_rows(invoice)], how="vertical_relaxed")
    return (rows.filter(~pl.col("feedback_id").is_in(done.implode()))
            .sort("creditor_id", "event_date", "feedback_id").select(FEEDBACK_COLUMNS))


def per_creditor(rows: pl.DataFrame) -> dict[str, pl.DataFrame]:
    """The feedback rows split by creditor: one answer file per creditor per run."""
    return {str(k[0]): part for k, part in rows.partition_by("creditor_id", as_dict=True,
                                                              maintain_order=True).items()}


__all__ = ["FEEDBACK_COLUMNS", "INVOICE_COLUMNS", "AcceptedRequest", "FeedbackEvent", "FeedbackSent", "Outlay",
           "cost_invoice", "feedback", "per_creditor"]
