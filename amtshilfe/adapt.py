"""The joints between the format, the checks and the feedback (docs/AMTSHILFE.md "Adapter"; issue 18 §1–§3).

:func:`ersuchen_rows` flattens what a creditor sent (:class:`~amtshilfe.model.Requests`: requests with their
notices, and changes) into the checks' input (:class:`~amtshilfe.checks.ErsuchenRow`, one row per notice).
An Änderung (.101) carries only what changes — a new debtor, a new list of notices — but the checks compare
the **whole** changed request with the one held (its content key), so it is completed from the request the
ledger holds (``held``/``held_notices``), or from a request of the same delivery it names (the last one
sent of that creditor and file number): what the change does not bring is that request's. A change for a
request neither holds stays as sent; the checks return it (``unknown_case``).

:func:`answers_from_feedback` turns the feedback rows (:func:`amtshilfe.feedback.feedback`) into the
:class:`~amtshilfe.model.Answers` frames the XML writer takes: a ``returned`` row is a Rückgabe (.104) with
its reason and text, every other row a Sachstand (.105); a cost invoice carries its items. The message id
of each answer is the feedback id, so the creditor sees the same id however often a run is repeated.

Pure: frames in, frames out (the texts come from the caller, ``outputs.amtshilfe_texts``).
"""

from __future__ import annotations

from collections.abc import Mapping

import polars as pl

from amtshilfe import model
from amtshilfe.checks import ErsuchenRow
from claims.vocab import ErsuchenFeedback, ErsuchenMessage
from enforcement.frames import take

#: The columns of a held request (``amtshilfe_requests``) an Änderung is completed from.
HELD_COLUMNS = ("creditor_id", "creditor_name", "creditor_file_number", "payment_reference", "request_date",
                "enforceable_statement", "enforceable_since", "debtor_name", "debtor_street", "debtor_postcode",
                "debtor_city", "debtor_country", "debtor_municipality", "debtor_birth_date")
#: The debtor fields an Änderung may bring (all together: a new debtor replaces the old one whole).
_DEBTOR = ("debtor_name", "debtor_street", "debtor_postcode", "debtor_city", "debtor_country", "debtor_birth_date")
_NOTICE = ("notice_date", "notice_authority", "notice_file_number", "period_from", "period_to", "principal_cents",
           "surcharge_cents", "costs_cents")


def _key(prefix: str = "") -> list[pl.Expr]:
    return [pl.col(f"{prefix}creditor_id").str.strip_chars().str.to_uppercase().alias("_cid"),
            pl.col(f"{prefix}creditor_file_number").str.strip_chars().alias("_fn")]


def _ids(frame: pl.DataFrame, prefix: str) -> pl.DataFrame:
    return frame.with_columns((pl.lit(prefix) + pl.col("message_id")).alias("message_id")) if prefix else frame


def ersuchen_rows(data: model.Requests, *, held: pl.DataFrame | None = None,
                  held_notices: pl.DataFrame | None = None, prefix: str = "") -> pl.DataFrame:
    """The checks' input for one delivery (module docstring). ``held``: the current row per held request
    (:data:`HELD_COLUMNS`); ``held_notices``: its notices (``creditor_id``, ``creditor_file_number`` and the
    notice columns). ``prefix`` is put before each message id (the importer's id: file + message), so
    messages of two files of one night never share an id."""
    requests = _ids(data.requests, prefix)
    notices = _ids(data.notices, prefix).sort("message_id", "position")
    changes = _ids(data.changes, prefix)

    new = requests.join(notices.drop("position"), on="message_id", how="left", maintain_order="left").select(
        pl.lit(str(ErsuchenMessage.ERSUCHEN)).alias("message"),
        pl.exclude("enforceable_statement", "enforceable_date"),
        (pl.col("enforceable_statement").str.strip_chars().str.len_chars() > 0).fill_null(False)
        .alias("enforceable_statement"),
        pl.col("enforceable_date").alias("enforceable_since"))

    hold = (held.select([c for c in HELD_COLUMNS if c in held.columns]) if held is not None
            else pl.DataFrame(schema={c: ErsuchenRow.columns()[c].dtype for c in HELD_COLUMNS}))
    # a change may name a request of this same delivery (sent before it): completed from that one
    sent = take(new, ErsuchenRow)
    hold = pl.concat([hold, sent.select(HELD_COLUMNS)], how="diagonal_relaxed")
    hold = hold.with_columns(_key()).unique(["_cid", "_fn"], keep="last", maintain_order=True).drop(
        "creditor_id", "creditor_file_number")
    hn = held_notices if held_notices is not None else pl.DataFrame(
        schema={"creditor_id": pl.String, "creditor_file_number": pl.String,
                **{c: ErsuchenRow.columns()[c].dtype for c in _NOTICE}})
    sent_notices = sent.filter(pl.col("principal_cents").is_not_null()).with_columns(_key()).select(
        "_cid", "_fn", *_NOTICE)
    hn = pl.concat([hn.with_columns(_key()).select("_cid", "_fn", *_NOTICE)
                    .join(sent_notices.select("_cid", "_fn").unique(), on=["_cid", "_fn"], how="anti"),
                    sent_notices], how="vertical_relaxed")

    ch = changes.with_columns(_key()).join(hold, on=["_cid", "_fn"], how="left", suffix="_held",
                                           maintain_order="left")
    aenderung = pl.col("message") == ErsuchenMessage.AENDERUNG
    new_debtor = pl.any_horizontal([pl.col(c).is_not_null() for c in _DEBTOR])
    ch = ch.with_columns(
        [pl.when(aenderung & ~new_debtor).then(pl.col(f"{c}_held")).otherwise(pl.col(c)).alias(c) for c in _DEBTOR]
    ).with_columns(
        pl.when(aenderung).then(pl.col(c)).alias(c)
        for c in ("creditor_name", "payment_reference", "enforceable_statement", "enforceable_since",
                  "debtor_municipality")
    ).with_columns(
        pl.when(aenderung).then(pl.col("request_date")).otherwise(pl.col("message_date")).alias("request_date"),
        pl.when(aenderung).then(None).otherwise(pl.col("suspended_until")).alias("suspended_until"))
    own = ch.join(notices.drop("position"), on="message_id", how="inner", maintain_order="left")
    brings = own["message_id"].unique().implode()
    kept = ch.filter(aenderung & ~pl.col("message_id").is_in(brings)).join(hn, on=["_cid", "_fn"], how="inner",
                                                                           maintain_order="left")
    bare = ch.filter(~pl.col("message_id").is_in(brings) & ~pl.col("message_id").is_in(kept["message_id"].implode()))
    changed = pl.concat([own, kept, bare], how="diagonal_relaxed")
    order = pl.concat([requests.select("message_id"), changes.select("message_id")]).with_row_index("_order")
    out = pl.concat([take(new, ErsuchenRow), take(changed, ErsuchenRow)], how="vertical")
    return (out.join(order, on="message_id", how="left", maintain_order="left")
            .sort("_order", maintain_order=True).drop("_order"))


def answers_from_feedback(rows: pl.DataFrame, texts: Mapping[str, str], *,
                          invoice: pl.DataFrame | None = None) -> model.Answers:
    """The Answers frames for the feedback rows of one creditor (or several: the frames keep the creditor).
    ``texts``: the creditor's text per :class:`~claims.vocab.ErsuchenCheck` (a code without one is sent as
    it is); ``invoice``: :func:`amtshilfe.feedback.cost_invoice`'s items, for the ``cost_invoice`` rows."""
    returned = rows.filter(pl.col("kind") == ErsuchenFeedback.RETURNED)
    rueckgaben = returned.select(
        pl.col("feedback_id").alias("message_id"), "creditor_id", "creditor_file_number", "case_number",
        pl.col("event_date").alias("message_date"), pl.col("check").alias("reason"),
        pl.col("check").replace_strict(dict(texts), default=pl.col("check"), return_dtype=pl.String).alias("text"),
        pl.col("competent_authority_name").alias("competent_authority"))
    status = rows.filter(pl.col("kind") != ErsuchenFeedback.RETURNED)
    forwarded = pl.col("kind") == ErsuchenFeedback.PAYMENT_FORWARDED
    is_invoice = pl.col("kind") == ErsuchenFeedback.COST_INVOICE
    sachstand = status.select(
        pl.col("feedback_id").alias("message_id"),
        pl.when(~is_invoice).then(pl.col("creditor_id")).alias("creditor_id"),
        "creditor_file_number", "case_number", pl.col("event_date").alias("message_date"),
        pl.col("kind").alias("code"),
        pl.when(forwarded).then(pl.col("amount_cents")).alias("amount_cents"),
        pl.when(forwarded).then(pl.col("event_date")).alias("paid_on"),
        pl.when(is_invoice).then(pl.col("period_from")).alias("period_from"),
        pl.when(is_invoice).then(pl.col("period_to")).alias("period_to"),
        pl.when(pl.col("forwarded_cents").fill_null(0) > 0)
        .then(pl.format("forwarded so far: {} cents", pl.col("forwarded_cents"))).alias("note"))
    items = None
    if invoice is not None and invoice.height:
        bills = status.filter(is_invoice).select(
            pl.col("feedback_id").alias("message_id"), "creditor_id", "period_from", "period_to")
        items = (invoice.join(bills, on=["creditor_id", "period_from", "period_to"], how="inner",
                              maintain_order="left")
                 .with_columns(pl.int_range(1, pl.len() + 1).over("message_id").cast(pl.Int64).alias("position"))
                 .select("message_id", "position", "creditor_file_number",
                         pl.col("item").alias("kind"),
                         "description", "amount_cents"))
    return model.answers(rueckgaben=rueckgaben, sachstand=sachstand, cost_items=items)


__all__ = ["HELD_COLUMNS", "answers_from_feedback", "ersuchen_rows"]
