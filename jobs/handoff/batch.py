"""From the law core's cases and items to what the hand-off books and what its files say (set-based).

``enforcement.cases.build_cases`` gives per claim handed over its open amount and, for a main claim, the
Säumniszuschlag / interest **accrued to the hand-off day and not booked yet** (``saeumniszuschlag_new_cents``,
``interest_new_cents``). The job books that part as fee claims before the files go out (issue 17 §2), as the
dunning run books its surcharges (:mod:`jobs.dunning.charges`: origin ``fee``, the main claim as parent,
one fee Kassenzeichen per case — the case plays the notice's part): :func:`new_charges`. They are handed
over in the same case, so the file lists every claim the ledger holds once, each under its own
Kassenzeichen, and what the office collects on them is allocated to claims that exist.

:func:`file_claims` turns the items (and the new fee claims) into the hand-off file's claim rows
(``enforcement.handoff_file``): a main claim's open amount is principal; a Nebenforderung's is a
surcharge (Säumniszuschlag, Zinsen) or a fee (Mahngebühr, Kosten). A Nebenforderung is enforced on its
main claim's title (§ 6 Abs. 4 VwVG NRW): it carries the main claim's Mahnung, Schonfrist and
enforceability, and its notice date is its own, else its main claim's. Where the export carries no
notice date the claim's due date stands for it (the Sollstellung: a claim is assessed at the latest when
it falls due).
"""

from __future__ import annotations

import polars as pl

from claims.vocab import ClaimType, EnforceabilityBasis
from enforcement.cases import ITEM_COLUMNS

#: The claim types whose open amount the file counts as a surcharge (the rest of the Nebenforderungen: fees).
SURCHARGE_TYPES = (str(ClaimType.SAEUMNISZUSCHLAG), str(ClaimType.ZINSEN))
#: Per new-accrual column of an item, the fee claim type it is booked as.
NEW_CHARGES = {"saeumniszuschlag_new_cents": str(ClaimType.SAEUMNISZUSCHLAG),
               "interest_new_cents": str(ClaimType.ZINSEN)}
#: The columns of the staged fee claims the items need (``ledger.tables.CLAIMS`` has more).
FEE_ITEM_COLUMNS = ("receivable_id", "parent_receivable_id", "kassenzeichen", "claim_type", "amount_cents")


def new_charges(items: pl.DataFrame) -> pl.DataFrame:
    """One row per surcharge to book: ``notice_id`` (the case: one fee Kassenzeichen per case),
    ``receivable_id`` (the main claim), ``claim_type``, ``amount_cents`` (> 0) — the shape
    :func:`jobs.dunning.charges.fee_claims` takes."""
    mains = items.filter(~pl.col("ancillary"))
    long = mains.select(pl.col("case_number").alias("notice_id"), "receivable_id", *NEW_CHARGES).unpivot(
        index=["notice_id", "receivable_id"], variable_name="col", value_name="amount_cents")
    return (long.with_columns(pl.col("col").replace_strict(NEW_CHARGES, return_dtype=pl.String).alias("claim_type"))
            .filter(pl.col("amount_cents") > 0)
            .select("notice_id", "receivable_id", "claim_type", pl.col("amount_cents").cast(pl.Int64))
            .sort("notice_id", "receivable_id", "claim_type"))


def fee_items(items: pl.DataFrame, fees: pl.DataFrame) -> pl.DataFrame:
    """The new fee claims (``fees``: staged ``claims`` rows) as items of their main claim's case: a
    Nebenforderung (basis ``vwvg_6_4``) with the main claim's dates, open amount = the amount booked."""
    if fees.height == 0:
        return items.clear()
    main = items.filter(~pl.col("ancillary")).select(
        "case_number", pl.col("receivable_id").alias("parent_receivable_id"), "law", "due_effective", "external_ref",
        "notice_date", "schonfrist_end", "mahnung_notice_id", "mahnung_date", "mahnung_deadline", "mahnung_waiver")
    rows = fees.select(*FEE_ITEM_COLUMNS, "due_date").join(main, on="parent_receivable_id", how="inner")
    return rows.select(
        "case_number", "receivable_id", pl.col("parent_receivable_id").alias("main_receivable_id"),
        pl.lit(True).alias("ancillary"), "kassenzeichen", "claim_type", "law",
        pl.col("amount_cents").alias("open_cents"),
        *[pl.lit(0, pl.Int64).alias(c) for c in ("saeumniszuschlag_accrued_cents", "saeumniszuschlag_booked_cents",
                                                 "saeumniszuschlag_new_cents", "interest_accrued_cents",
                                                 "interest_new_cents")],
        pl.lit("ancillary").alias("surcharge_rule"), pl.lit(0, pl.Int64).alias("surcharge_months"),
        "due_date", pl.col("due_date").alias("due_effective_own"), "external_ref", "notice_date", "schonfrist_end",
        "mahnung_notice_id", "mahnung_date", "mahnung_deadline", "mahnung_waiver",
        pl.lit(str(EnforceabilityBasis.ANCILLARY)).alias("basis"),
    ).rename({"due_effective_own": "due_effective"}).select(
        [pl.col(c).cast(items.schema[c]) for c in ITEM_COLUMNS])


def file_claims(items: pl.DataFrame, handoff_from: pl.DataFrame, main_kz: pl.DataFrame) -> pl.DataFrame:
    """The hand-off file's claim rows (``enforcement.handoff_file.CLAIM_COLUMNS`` and the optional ones)
    of ``items`` (the law core's items plus :func:`fee_items`), in their order. ``handoff_from``:
    ``receivable_id`` → ``handoff_from`` of the selection (the day the claim became enforceable; a
    Nebenforderung carries its main claim's); ``main_kz``: ``receivable_id`` → ``kassenzeichen`` of every
    main claim a Nebenforderung may name (this hand-off's and those of the open cases)."""
    since = handoff_from.select("receivable_id", pl.col("handoff_from").alias("_since"))
    kz = main_kz.select(pl.col("receivable_id").alias("main_receivable_id"),
                        pl.col("kassenzeichen").alias("main_kassenzeichen")).unique("main_receivable_id")
    main_dates = items.filter(~pl.col("ancillary")).select(
        pl.col("receivable_id").alias("main_receivable_id"), pl.col("notice_date").alias("_main_notice"),
        pl.col("due_date").alias("_main_due"))
    df = (items.join(since, on="receivable_id", how="left", maintain_order="left")
          .join(since.rename({"receivable_id": "main_receivable_id", "_since": "_main_since"}),
                on="main_receivable_id", how="left", maintain_order="left")
          .join(kz, on="main_receivable_id", how="left", maintain_order="left")
          .join(main_dates, on="main_receivable_id", how="left", maintain_order="left"))
    anc = pl.col("ancillary")
    surcharge = anc & pl.col("claim_type").str.to_uppercase().is_in(SURCHARGE_TYPES)
    rows = df.select(
        "case_number", pl.coalesce("kassenzeichen", "receivable_id").alias("kassenzeichen"), "claim_type",
        pl.when(anc).then(pl.coalesce("notice_date", "_main_notice", "_main_due", "due_date"))
        .otherwise(pl.coalesce("notice_date", "due_date")).alias("notice_date"),
        "due_date",
        pl.when(anc).then(0).otherwise(pl.col("open_cents")).cast(pl.Int64).alias("principal_cents"),
        pl.when(surcharge).then(pl.col("open_cents")).otherwise(0).cast(pl.Int64).alias("surcharges_cents"),
        pl.when(anc & ~surcharge).then(pl.col("open_cents")).otherwise(0).cast(pl.Int64).alias("fees_cents"),
        "schonfrist_end",
        pl.coalesce("_since", "_main_since").alias("enforceable_since"),
        pl.col("external_ref").alias("notice_reference"),
        pl.when(anc).then(pl.coalesce("main_kassenzeichen", "main_receivable_id")).alias("main_kassenzeichen"),
        pl.when(pl.col("mahnung_date").is_not_null()).then(pl.col("mahnung_date")).alias("mahnung_date"),
        pl.when(pl.col("mahnung_date").is_not_null()).then(pl.col("mahnung_deadline")).alias("mahnung_deadline"),
        pl.when(pl.col("mahnung_date").is_null()).then(pl.coalesce("mahnung_waiver", pl.lit("ancillary")))
        .alias("mahnung_omitted"),
        pl.lit(None, pl.String).alias("statement"),
        # kept for the ledger and the case file, not part of the file format
        "receivable_id", "main_receivable_id", "ancillary")
    return one_per_kassenzeichen(rows)


#: The amounts of a file claim, summed over the claims it stands for.
AMOUNTS = ("principal_cents", "surcharges_cents", "fees_cents")


def one_per_kassenzeichen(rows: pl.DataFrame) -> pl.DataFrame:
    """One file claim per case and Kassenzeichen. Several ledger claims share a Kassenzeichen — the dunning
    run's fee claims of one notice (Mahngebühr and Säumniszuschlag), a Grundbesitzabgaben notice of the
    finance system — but the file names a claim by its Kassenzeichen, once per case. The shared one is one
    ``Claim``: its amounts summed (Principal, Surcharges and Fees keep the split by kind), the rest from
    the first claim in the items' order (main claim first, then its Nebenforderungen), enforceable since
    the latest of them; ``receivable_ids`` lists the ledger's claims behind it."""
    rest = [c for c in rows.columns if c not in (*AMOUNTS, "case_number", "kassenzeichen", "enforceable_since",
                                                 "receivable_id")]
    return rows.group_by("case_number", "kassenzeichen", maintain_order=True).agg(
        *[pl.col(c).first() for c in rest], *[pl.col(c).sum() for c in AMOUNTS],
        pl.col("enforceable_since").max(), pl.col("receivable_id").first(),
        pl.col("receivable_id").alias("receivable_ids"),
    ).select([*rows.columns, "receivable_ids"])


def file_cases(cases: pl.DataFrame) -> pl.DataFrame:
    """The hand-off file's case rows of the law core's cases."""
    return cases.select("case_number", "debtor_id", "debtor_name", "debtor_street", "debtor_postcode", "debtor_city",
                        "debtor_birth_date", pl.col("debtor_country").fill_null("DE"))


__all__ = ["FEE_ITEM_COLUMNS", "NEW_CHARGES", "SURCHARGE_TYPES", "fee_items", "file_cases", "file_claims",
           "new_charges"]
