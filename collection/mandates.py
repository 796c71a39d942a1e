"""The mandate register: which SEPA mandates exist, whether they may be used on a day, and the sequence
type of their next collection.

**From the export.** The open-items export names a mandate on each claim it covers (``mandate_id``,
``mandate_date``, ``debtor_iban``; ``debtor_bic`` and ``mandate_recurring`` when the export has them).
:func:`mandates_from_claims` folds the claims into one row per mandate and *refuses* (``problem``, a
:class:`~claims.vocab.MandateProblem`) what cannot be a mandate: one mandate id on claims of two debtors,
no IBAN, several IBANs, no or a future date of signature. A refused mandate is kept in the register with
its reason (a clerk has to clear it); nothing is collected on it.

**Changes.** :func:`amend_register` lays today's mandates over yesterday's register. A new IBAN on a known
mandate is a Mandatsänderung: it is recorded (a row of ``amendments``; the register keeps the IBAN the
last collection used in ``original_iban`` until a collection with the new one is presented — pain.008
reports it as ``AmdmntInd``/``OrgnlDbtrAcct``), never overwritten silently. A mandate the export no longer
names stays in the register (its history matters for expiry and returns). A mandate id that turns up
with another debtor than before is refused (``two_debtors``).

**State on a day** (:func:`mandate_states`): refused (above) before blocked (a return whose reason's
action is ``block_mandate``, ``state_reason`` = the return code) before expired (SEPA rulebook: no
collection presented for ``mandate_expiry_months`` = 36 months, counted from the last collection, or from
the signature when never used; a one-off mandate once used) before active. The next collection's
sequence type: OOFF for a one-off mandate, ``[collection] first_sequence`` (RCUR by default — German banks
accept it since November 2016 — or FRST) when no collection on it has gone through un-returned, else
RCUR. FNAL is never derived (the rulebook allows RCUR for the last collection; ending a mandate is a
clerk's act).
"""

from __future__ import annotations

from datetime import date

import polars as pl

from claims.config import CollectionSection
from claims.vocab import MandateProblem, MandateState, ReturnAction, SequenceType

#: One row per (tenant, mandate_id).
REGISTER_SCHEMA: dict[str, pl.DataType] = {
    "tenant": pl.String(),
    "mandate_id": pl.String(),
    "mandate_date": pl.Date(),
    "debtor_id": pl.String(),
    "debtor_name": pl.String(),
    "debtor_iban": pl.String(),           # compact, upper case; several joined by ", " when refused
    "debtor_bic": pl.String(),
    "recurring": pl.Boolean(),            # false: a one-off mandate (OOFF)
    "problem": pl.String(),               # claims.vocab.MandateProblem, null when the data is sound
    "original_iban": pl.String(),         # the IBAN before a Mandatsänderung, until a collection uses the new one
    "amended_on": pl.Date(),              # the day the last change was seen
}

#: One row per recorded Mandatsänderung.
AMENDMENT_SCHEMA: dict[str, pl.DataType] = {
    "tenant": pl.String(),
    "mandate_id": pl.String(),
    "field": pl.String(),                 # debtor_iban | debtor_id
    "old_value": pl.String(),
    "new_value": pl.String(),
    "seen_on": pl.Date(),
}

#: What :func:`mandate_states` adds to the register.
STATE_SCHEMA: dict[str, pl.DataType] = {
    "state": pl.String(),                 # claims.vocab.MandateState
    "state_reason": pl.String(),          # MandateProblem, or the return code that blocked it
    "last_collection": pl.Date(),
    "expires_on": pl.Date(),              # the first day it is expired, unless used before
    "next_sequence": pl.String(),         # claims.vocab.SequenceType (null unless active)
    "amendment_pending": pl.Boolean(),    # the next collection reports the change (original_iban)
}


def _opt(frame: pl.LazyFrame, name: str, default: pl.Expr) -> pl.Expr:
    return pl.col(name) if name in frame.collect_schema() else default.alias(name)


def mandates_from_claims(claims: pl.DataFrame | pl.LazyFrame, *, on: date) -> pl.DataFrame:
    """One row per mandate the claims name (REGISTER_SCHEMA), ``problem`` set where it cannot be used."""
    lf = claims.lazy()
    c = lf.filter(pl.col("mandate_id").str.strip_chars().str.len_chars() > 0).select(
        "tenant", pl.col("mandate_id").str.strip_chars(), "mandate_date", "debtor_id", "debtor_name",
        pl.col("debtor_iban").str.replace_all(r"\s", "").str.to_uppercase().replace("", None).alias("iban"),
        _opt(lf, "debtor_bic", pl.lit(None, pl.String())),
        _opt(lf, "mandate_recurring", pl.lit(True)).fill_null(True).alias("recurring"),
    )
    g = c.group_by("tenant", "mandate_id").agg(
        pl.col("debtor_id").drop_nulls().n_unique().alias("n_debtors"),
        pl.col("debtor_id").drop_nulls().min(),
        pl.col("debtor_name").drop_nulls().first(),
        pl.col("iban").drop_nulls().unique().sort().alias("ibans"),
        pl.col("mandate_date").max(),
        pl.col("debtor_bic").drop_nulls().first(),
        pl.col("recurring").all(),
    )
    one = pl.col("ibans").list.len() == 1
    problem = (
        pl.when(pl.col("n_debtors") > 1).then(pl.lit(MandateProblem.TWO_DEBTORS))
        .when(pl.col("ibans").list.len() == 0).then(pl.lit(MandateProblem.NO_IBAN))
        .when(~one | pl.col("ibans").list.first().str.contains(r"[,;]")).then(pl.lit(MandateProblem.IBAN_UNCLEAR))
        .when(pl.col("mandate_date").is_null()).then(pl.lit(MandateProblem.NO_MANDATE_DATE))
        .when(pl.col("mandate_date") > pl.lit(on)).then(pl.lit(MandateProblem.MANDATE_DATE_FUTURE))
    )
    out = g.with_columns(
        problem.alias("problem"),
        pl.col("ibans").list.join(", ").replace("", None).alias("debtor_iban"),
        pl.lit(None, pl.String()).alias("original_iban"),
        pl.lit(None, pl.Date()).alias("amended_on"),
    )
    return out.select([pl.col(k).cast(v) for k, v in REGISTER_SCHEMA.items()]).sort("tenant", "mandate_id").collect()


def amend_register(previous: pl.DataFrame, current: pl.DataFrame, *, on: date) -> tuple[pl.DataFrame, pl.DataFrame]:
    """``(register, amendments)``: ``current`` (from :func:`mandates_from_claims`) laid over ``previous``
    (yesterday's register). A changed IBAN is recorded and remembered in ``original_iban``; a changed
    debtor refuses the mandate, on later days too; a mandate missing today is kept as it was."""
    key = ["tenant", "mandate_id"]
    prev = previous.select(*key, *[pl.col(k).alias(f"{k}_prev") for k in
                                   ("debtor_iban", "debtor_id", "original_iban", "amended_on", "problem")])
    j = current.join(prev, on=key, how="left")
    sound = pl.col("problem").is_null() & pl.col("problem_prev").is_null()
    iban_changed = sound & pl.col("debtor_iban_prev").is_not_null() & (pl.col("debtor_iban") != pl.col("debtor_iban_prev"))
    debtor_changed = pl.col("debtor_id_prev").is_not_null() & (pl.col("debtor_id") != pl.col("debtor_id_prev"))
    j = j.with_columns(iban_changed.fill_null(False).alias("_iban"), debtor_changed.fill_null(False).alias("_debtor"))
    amendments = pl.concat([
        j.filter("_iban").select(*key, pl.lit("debtor_iban").alias("field"), pl.col("debtor_iban_prev").alias("old_value"),
                                 pl.col("debtor_iban").alias("new_value")),
        j.filter("_debtor").select(*key, pl.lit("debtor_id").alias("field"), pl.col("debtor_id_prev").alias("old_value"),
                                   pl.col("debtor_id").alias("new_value")),
    ]).with_columns(pl.lit(on).alias("seen_on")).select(list(AMENDMENT_SCHEMA)).sort(*key, "field")
    merged = j.with_columns(
        # a debtor change stays refused on later days too (the register is kept): a clerk has to clear it
        pl.when(pl.col("_debtor") | (pl.col("problem_prev") == MandateProblem.TWO_DEBTORS))
        .then(pl.lit(MandateProblem.TWO_DEBTORS)).otherwise(pl.col("problem")).alias("problem"),
        # the IBAN the last collection used: the first one of a chain of changes not yet collected
        pl.when(pl.col("_iban")).then(pl.coalesce("original_iban_prev", "debtor_iban_prev"))
        .otherwise(pl.col("original_iban_prev")).alias("original_iban"),
        pl.when(pl.col("_iban")).then(pl.lit(on)).otherwise(pl.col("amended_on_prev")).alias("amended_on"),
    ).select(list(REGISTER_SCHEMA))
    kept = previous.join(current.select(key), on=key, how="anti").select(list(REGISTER_SCHEMA))
    return pl.concat([merged, kept]).sort(key), amendments


def return_action_expr(settings: CollectionSection) -> pl.Expr:
    """The action of ``reason_code`` (upper-cased) by ``[collection] return_actions``; unknown: none."""
    table = {code: str(action) for code, action in settings.return_actions.items()}
    return pl.col("reason_code").str.to_uppercase().replace_strict(table, default=str(ReturnAction.NONE),
                                                                    return_dtype=pl.String())


def mandate_states(register: pl.DataFrame, collected: pl.DataFrame, returned: pl.DataFrame, *, on: date,
                   settings: CollectionSection) -> pl.DataFrame:
    """The register with STATE_SCHEMA columns as of ``on``. ``collected`` (COLLECTED_SCHEMA) and
    ``returned`` (RETURNED_SCHEMA) are the history up to ``on``; later rows are ignored."""
    key = ["tenant", "mandate_id"]
    done = collected.filter(pl.col("collection_date") <= on)
    back = returned.filter(pl.col("return_date") <= on)
    used = done.join(back.select("tenant", "end_to_end_id", pl.lit(True).alias("_back")),
                     on=["tenant", "end_to_end_id"], how="left").group_by(key).agg(
        pl.col("collection_date").max().alias("last_collection"),
        pl.len().alias("n_presented"),
        pl.col("_back").is_null().sum().alias("n_through"),
    )
    # the mandate of a return is the one its collection was made on (the record, not the bank's MREF)
    blocks = (
        back.drop("mandate_id").join(done.select("tenant", "end_to_end_id", "mandate_id"), on=["tenant", "end_to_end_id"])
        .with_columns(return_action_expr(settings).alias("action"), pl.col("reason_code").str.to_uppercase())
        .filter(pl.col("action") == ReturnAction.BLOCK_MANDATE)
        .sort("return_date", "end_to_end_id")
        .group_by(key).agg(pl.col("reason_code").last().alias("block_code"))
    )
    r = register.join(used, on=key, how="left").join(blocks, on=key, how="left").with_columns(
        pl.coalesce("last_collection", "mandate_date")
        .dt.offset_by(f"{settings.mandate_expiry_months}mo").alias("expires_on"),
        pl.col("n_presented").fill_null(0), pl.col("n_through").fill_null(0),
    )
    state = (
        pl.when(pl.col("problem").is_not_null()).then(pl.lit(MandateState.REFUSED))
        .when(pl.col("block_code").is_not_null()).then(pl.lit(MandateState.BLOCKED))
        .when(~pl.col("recurring") & (pl.col("n_presented") > 0)).then(pl.lit(MandateState.EXPIRED))
        .when(pl.col("expires_on") <= pl.lit(on)).then(pl.lit(MandateState.EXPIRED))
        .otherwise(pl.lit(MandateState.ACTIVE))
    )
    reason = (
        pl.when(pl.col("problem").is_not_null()).then(pl.col("problem"))
        .when(pl.col("block_code").is_not_null()).then(pl.col("block_code"))
        .when(~pl.col("recurring") & (pl.col("n_presented") > 0)).then(pl.lit(MandateProblem.ONE_OFF_USED))
        .when(pl.col("expires_on") <= pl.lit(on)).then(pl.lit(MandateProblem.UNUSED))
    )
    sequence = (
        pl.when(pl.col("state") != MandateState.ACTIVE).then(pl.lit(None, pl.String()))
        .when(~pl.col("recurring")).then(pl.lit(SequenceType.OOFF))
        .when(pl.col("n_through") == 0).then(pl.lit(str(settings.first_sequence)))
        .otherwise(pl.lit(SequenceType.RCUR))
    )
    pending = pl.col("original_iban").is_not_null() & (
        pl.col("last_collection").is_null() | (pl.col("last_collection") < pl.col("amended_on")))
    return (
        r.with_columns(state.alias("state"), reason.alias("state_reason"))
        .with_columns(sequence.alias("next_sequence"), pending.alias("amendment_pending"))
        .with_columns(pl.when(pl.col("amendment_pending")).then(pl.col("original_iban")).alias("original_iban"))
        .select([pl.col(k).cast(v) for k, v in {**REGISTER_SCHEMA, **STATE_SCHEMA}.items()])
        .sort(key)
    )


__all__ = ["AMENDMENT_SCHEMA", "REGISTER_SCHEMA", "STATE_SCHEMA", "amend_register", "mandate_states",
           "mandates_from_claims", "return_action_expr"]
