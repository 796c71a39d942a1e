"""The night's updates to the enforcement office (issue 17 §2, "Recall and updates"): frames in, frames out.

Every nightly run compares the claims of the open enforcement cases with what happened since the office
was last told about them, and says so the same night (docs/ENFORCEMENT.md "Recall and updates in the
nightly run"):

* ``partial_payment`` — money reached a handed claim (or its open amount changed otherwise): per changed
  claim what was paid since the last report and what stays open, split into principal (a main claim),
  surcharges (Säumniszuschlag, Zinsen, Verspätungszuschlag) and fees (Mahngebühr, Kosten …);
* ``settled`` — every claim of the case is open 0: stop all measures (the changed claims as above);
* ``suspended`` — a block is in force now (export ``block_reason`` / ``dunning_block_until``, or a block of
  the review page's journal on a claim of the case or on its debtor) and the case is not suspended yet:
  the block's ``BlockReason`` and its end;
* ``resumed`` — the case is suspended (its last suspension or resumption was ``suspended``) and no block
  is in force any more.

**Since when.** A claim's baseline is the last update that listed it (its open amounts and the commit
time of the run that booked it), else its hand-off (``handed_cents`` and the hand-off run's commit
time). Allocations committed after the baseline, and tonight's (``committed_at`` null), are what was
paid since. A claim that the current open items do not list any more keeps its last reported amount: the
office is told nothing it cannot be sure of.

**Ids.** ``update_id`` = ``<case number>.<night YYYYMMDD>.<kind>``: deterministic, so a rerun of the night
gives the same ids, and an id already booked is never produced again (a second run of the same night
reports what is new the next night). At most one update of each kind per case and night.

**Reversals.** A negative allocation (a direct-debit return) on a claim of an open case raises its open
amount: a ``partial_payment`` with the new amounts, ``Paid`` 0 and a note saying a payment was reversed.
On a claim whose case we closed with ``settled``, the office has stopped: no update is sent (the case is
closed on both sides); the claim is listed in :attr:`NightUpdates.reopened` for a clerk the night the
reversal is booked, and a later hand-off may hand it over again (``enforcement.select``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import polars as pl

from claims.vocab import BlockReason, ClaimType, EnforcementUpdateKind

K = EnforcementUpdateKind
S, D, I64, B = pl.String(), pl.Date(), pl.Int64(), pl.Boolean()
TS = pl.Datetime("us", "UTC")

#: The open case claims (``ledger.enforcement_state.open_case_claims``) with the hand-off run's commit time.
CASE_CLAIM_SCHEMA: dict[str, pl.DataType] = {
    "case_number": S, "debtor_id": S, "receivable_id": S, "kassenzeichen": S, "claim_type": S, "ancillary": B,
    "handed_cents": I64, "handed_off_on": D, "office_id": S, "office_tenant": S, "handed_at": TS}
#: The claims open now (after tonight's allocations): amount and the export's own block.
OPEN_SCHEMA: dict[str, pl.DataType] = {
    "receivable_id": S, "amount_cents": I64, "block_reason": S, "dunning_block_until": D}
#: Allocations on handed claims; ``committed_at`` null: tonight's, not yet booked.
ALLOCATION_SCHEMA: dict[str, pl.DataType] = {
    "receivable_id": S, "amount_cents": I64, "booking_date": D, "committed_at": TS}
#: Journal blocks in force now (``ledger.block_journal.blocks_frame``: ``dunning.select.BLOCK_SCHEMA``).
BLOCK_SCHEMA: dict[str, pl.DataType] = {
    "receivable_id": S, "debtor_id": S, "block_reason": S, "block_from": D, "block_until": D}
#: The updates booked so far (``enforcement_updates`` with the commit time of their run).
BOOKED_SCHEMA: dict[str, pl.DataType] = {
    "update_id": S, "case_number": S, "kind": S, "effective_date": D, "committed_at": TS}
#: Their claims (``enforcement_update_claims`` with the commit time of their run).
BOOKED_CLAIM_SCHEMA: dict[str, pl.DataType] = {
    "update_id": S, "case_number": S, "receivable_id": S, "open_principal_cents": I64,
    "open_surcharges_cents": I64, "open_fees_cents": I64, "committed_at": TS}
#: Claims whose case we closed with ``settled`` and that are in no open case now.
SETTLED_CLAIM_SCHEMA: dict[str, pl.DataType] = {
    "case_number": S, "receivable_id": S, "kassenzeichen": S, "closed_on": D}

#: Output: one row per update (``enforcement_updates`` without tenant, run and file; with the office).
UPDATE_SCHEMA: dict[str, pl.DataType] = {
    "update_id": S, "case_number": S, "kind": S, "effective_date": D, "suspension_reason": S,
    "suspended_until": D, "note": S, "office_id": S, "office_tenant": S}
#: Output: one row per claim of a payment update (``enforcement_update_claims`` without tenant and run).
UPDATE_CLAIM_SCHEMA: dict[str, pl.DataType] = {
    "update_id": S, "case_number": S, "receivable_id": S, "kassenzeichen": S, "paid_cents": I64,
    "open_principal_cents": I64, "open_surcharges_cents": I64, "open_fees_cents": I64}
#: Output: claims of a settled case open again through a reversal (for a clerk; see the module docstring).
REOPENED_SCHEMA: dict[str, pl.DataType] = {
    "case_number": S, "receivable_id": S, "kassenzeichen": S, "reversed_cents": I64, "open_cents": I64,
    "settled_on": D}

#: Ancillary claim types the file counts as surcharges; every other ancillary claim is a fee.
SURCHARGE_TYPES = (ClaimType.SAEUMNISZUSCHLAG, ClaimType.ZINSEN, ClaimType.VERSPAETUNGSZUSCHLAG)
#: Blocks that pause enforcement. Not: ``NIEDERSCHLAGUNG`` (monitoring only, § 261 AO: the office decides
#: what it still does) and ``ADRESSE_UNBEKANNT`` (only spares the Mahnung; finding the debtor is the
#: office's work).
SUSPENDING = tuple(r for r in BlockReason if r not in (BlockReason.NIEDERSCHLAGUNG, BlockReason.ADRESSE_UNBEKANNT))
#: The note of a payment update that carries a reversal (the office reads German).
NOTE_REVERSAL = "Eine Zahlung wurde zurückgebucht; der offene Betrag hat sich erhöht."


@dataclass(frozen=True, slots=True)
class NightUpdates:
    """The night's updates (:data:`UPDATE_SCHEMA`), their claims (:data:`UPDATE_CLAIM_SCHEMA`) and the
    claims of settled cases open again (:data:`REOPENED_SCHEMA`)."""

    updates: pl.DataFrame
    update_claims: pl.DataFrame
    reopened: pl.DataFrame


def _frame(df: pl.DataFrame | None, schema: dict[str, pl.DataType]) -> pl.DataFrame:
    """``df`` narrowed to ``schema`` (a missing column null, a missing frame empty)."""
    if df is None:
        return pl.DataFrame(schema=schema)
    return df.select([pl.col(c).cast(t) if c in df.columns else pl.lit(None, t).alias(c) for c, t in schema.items()])


def update_id(case_number: pl.Expr, night: date, kind: pl.Expr) -> pl.Expr:
    """``<case number>.<YYYYMMDD>.<kind>`` (at most 22 + 1 + 8 + 1 + 15 = 47 characters: an ``Id``)."""
    return pl.concat_str([case_number, pl.lit(f".{night:%Y%m%d}."), kind])


def _after(at: pl.Expr, since: pl.Expr) -> pl.Expr:
    """Committed after ``since`` (tonight's rows, ``at`` null, always are; with ``since`` unknown only they)."""
    return at.is_null() | (since.is_not_null() & (at > since)).fill_null(False)


def _claims_now(cc: pl.DataFrame, open_now: pl.DataFrame, alloc: pl.DataFrame,
                booked_claims: pl.DataFrame) -> pl.DataFrame:
    """Per open case claim: baseline (last reported open, when), paid since, open now split by kind."""
    last = (booked_claims.sort("committed_at", "update_id")
            .group_by("case_number", "receivable_id").agg(pl.all().last())
            .select("case_number", "receivable_id", pl.col("committed_at").alias("reported_at"),
                    pl.sum_horizontal("open_principal_cents", "open_surcharges_cents", "open_fees_cents")
                    .alias("reported_cents")))
    base = (cc.join(last, on=["case_number", "receivable_id"], how="left")
            .with_columns(pl.coalesce("reported_at", "handed_at").alias("since"),
                          pl.coalesce("reported_cents", "handed_cents").alias("last_open")))
    paid = (base.select("case_number", "receivable_id", "since")
            .join(alloc, on="receivable_id", how="inner")
            .filter(_after(pl.col("committed_at"), pl.col("since")))
            .group_by("case_number", "receivable_id")
            .agg(pl.col("amount_cents").sum().alias("paid_since"),
                 pl.col("amount_cents").filter(pl.col("amount_cents") < 0).sum().alias("reversed"),
                 pl.col("booking_date").max().alias("paid_on")))
    now = open_now.group_by("receivable_id").agg(pl.col("amount_cents").sum().alias("open_now"))
    kind = (pl.when(~pl.col("ancillary").fill_null(False)).then(pl.lit("p"))
            .when(pl.col("claim_type").is_in([str(t) for t in SURCHARGE_TYPES])).then(pl.lit("s"))
            .otherwise(pl.lit("f")))
    # a claim the open items no longer list keeps its last reported amount (nothing we cannot be sure of)
    opened = pl.coalesce(pl.col("open_now").clip(lower_bound=0), pl.col("last_open"))
    return (base.join(paid, on=["case_number", "receivable_id"], how="left")
            .join(now, on="receivable_id", how="left")
            .with_columns(opened.alias("open_cents"), kind.alias("_k"),
                          pl.col("paid_since").fill_null(0), pl.col("reversed").fill_null(0))
            .with_columns(((pl.col("paid_since") != 0) | (pl.col("open_cents") != pl.col("last_open")))
                          .alias("changed")))


def _payment_updates(claims: pl.DataFrame, night: date) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Per case with a changed claim: ``settled`` when every claim is open 0, else ``partial_payment``."""
    per_case = (claims.group_by("case_number")
                .agg(pl.col("changed").any().alias("any_changed"), (pl.col("open_cents") == 0).all().alias("all_zero"),
                     (pl.col("reversed") < 0).filter(pl.col("changed")).any().alias("reversal"),
                     pl.col("paid_on").max().alias("paid_on"), pl.col("handed_off_on").max().alias("handed"),
                     pl.col("office_id").first(), pl.col("office_tenant").first())
                .filter(pl.col("any_changed"))
                .with_columns(pl.when(pl.col("all_zero")).then(pl.lit(str(K.SETTLED)))
                              .otherwise(pl.lit(str(K.PARTIAL_PAYMENT))).alias("kind")))
    updates = per_case.select(
        update_id(pl.col("case_number"), night, pl.col("kind")).alias("update_id"), "case_number", "kind",
        # the payment's day, never before the hand-off (a settled update closes the claims handed by then)
        pl.max_horizontal(pl.col("paid_on").fill_null(night).clip(upper_bound=night), "handed")
        .alias("effective_date"),
        pl.lit(None, S).alias("suspension_reason"), pl.lit(None, D).alias("suspended_until"),
        pl.when(pl.col("reversal")).then(pl.lit(NOTE_REVERSAL)).otherwise(pl.lit(None, S)).alias("note"),
        "office_id", "office_tenant")
    rows = (claims.filter(pl.col("changed"))
            .join(updates.select("case_number", "update_id"), on="case_number")
            .select("update_id", "case_number", "receivable_id", "kassenzeichen",
                    pl.col("paid_since").clip(lower_bound=0).alias("paid_cents"),
                    *[pl.when(pl.col("_k") == k).then(pl.col("open_cents")).otherwise(0).alias(c)
                      for k, c in (("p", "open_principal_cents"), ("s", "open_surcharges_cents"),
                                   ("f", "open_fees_cents"))]))
    return updates, rows


def _blocks_now(claims: pl.DataFrame, open_now: pl.DataFrame, blocks: pl.DataFrame, night: date) -> pl.DataFrame:
    """Per case with a suspending block in force on ``night``: reason (export first, then a block on a
    claim, then on the debtor; by reason within), since, until (null: open-ended)."""
    live = claims.filter(pl.col("open_cents") > 0).select("case_number", "receivable_id", "debtor_id")
    why = pl.col("block_reason").str.strip_chars().str.to_uppercase()
    own = (live.join(open_now.select("receivable_id", "block_reason", "dunning_block_until"), on="receivable_id")
           .filter(((why.is_not_null() & (why != "")) | pl.col("dunning_block_until").is_not_null())
                   & (pl.col("dunning_block_until").is_null() | (pl.col("dunning_block_until") >= night)))
           .select("case_number", pl.when(why.is_null() | (why == "")).then(pl.lit(str(BlockReason.MAHNSPERRE)))
                   .otherwise(why).alias("reason"), pl.lit(None, D).alias("since"),
                   pl.col("dunning_block_until").alias("until"), pl.lit(0).alias("prio")))
    in_force = blocks.filter((pl.col("block_from").is_null() | (pl.col("block_from") <= night))
                             & (pl.col("block_until").is_null() | (pl.col("block_until") >= night)))
    cols = ("case_number", pl.col("block_reason").str.strip_chars().str.to_uppercase().alias("reason"),
            pl.col("block_from").alias("since"), pl.col("block_until").alias("until"))
    by_claim = live.join(in_force.filter(pl.col("receivable_id").is_not_null()), on="receivable_id").select(
        *cols, pl.lit(1).alias("prio"))
    by_debtor = (live.select("case_number", "debtor_id").unique()
                 .join(in_force.filter(pl.col("debtor_id").is_not_null()).drop("receivable_id"), on="debtor_id")
                 .select(*cols, pl.lit(2).alias("prio")))
    known = [str(r) for r in BlockReason]
    every = (pl.concat([own, by_claim, by_debtor])
             .with_columns(pl.when(pl.col("reason").is_in(known)).then(pl.col("reason"))
                           .otherwise(pl.lit(str(BlockReason.MAHNSPERRE))).alias("reason"))
             .filter(pl.col("reason").is_in([str(r) for r in SUSPENDING])))
    first = every.sort("prio", "reason").group_by("case_number").agg(pl.col("reason").first())
    return (every.join(first, on=["case_number", "reason"])
            .group_by("case_number", "reason")
            .agg(pl.col("since").max(),
                 pl.when(pl.col("until").is_null().any()).then(pl.lit(None, D)).otherwise(pl.col("until").max())
                 .first().alias("until")))


def _suspension_updates(claims: pl.DataFrame, open_now: pl.DataFrame, blocks: pl.DataFrame,
                        booked: pl.DataFrame, settled: pl.DataFrame, night: date) -> pl.DataFrame:
    """``suspended`` for a case blocked now and not suspended; ``resumed`` for a suspended case no longer
    blocked. A case settled tonight gets neither."""
    cases = (claims.group_by("case_number").agg(pl.col("office_id").first(), pl.col("office_tenant").first())
             .join(settled, on="case_number", how="anti"))
    state = (booked.filter(pl.col("kind").is_in([str(K.SUSPENDED), str(K.RESUMED)]))
             .sort("committed_at", "effective_date", "update_id")
             .group_by("case_number").agg(pl.col("kind").last().alias("last")))
    blocked = _blocks_now(claims, open_now, blocks, night)
    both = (cases.join(state, on="case_number", how="left").join(blocked, on="case_number", how="left")
            .with_columns((pl.col("last") == str(K.SUSPENDED)).fill_null(False).alias("suspended"),
                          pl.col("reason").is_not_null().alias("blocked")))
    kind = (pl.when(pl.col("blocked") & ~pl.col("suspended")).then(pl.lit(str(K.SUSPENDED)))
            .when(~pl.col("blocked") & pl.col("suspended")).then(pl.lit(str(K.RESUMED))))
    out = both.with_columns(kind.alias("kind")).filter(pl.col("kind").is_not_null())
    return out.select(
        update_id(pl.col("case_number"), night, pl.col("kind")).alias("update_id"), "case_number", "kind",
        pl.when(pl.col("kind") == str(K.SUSPENDED)).then(pl.col("since").fill_null(night).clip(upper_bound=night))
        .otherwise(pl.lit(night)).alias("effective_date"),
        pl.when(pl.col("kind") == str(K.SUSPENDED)).then(pl.col("reason")).alias("suspension_reason"),
        pl.when(pl.col("kind") == str(K.SUSPENDED)).then(pl.col("until")).alias("suspended_until"),
        pl.lit(None, S).alias("note"), "office_id", "office_tenant")


def _reopened(settled_claims: pl.DataFrame, alloc: pl.DataFrame, open_now: pl.DataFrame) -> pl.DataFrame:
    """Claims of settled cases with a reversal tonight (committed_at null) that leaves them open."""
    tonight = (alloc.filter(pl.col("committed_at").is_null() & (pl.col("amount_cents") < 0))
               .group_by("receivable_id").agg(pl.col("amount_cents").sum().alias("reversed")))
    now = open_now.group_by("receivable_id").agg(pl.col("amount_cents").sum().alias("open_cents"))
    return (settled_claims.join(tonight, on="receivable_id").join(now, on="receivable_id", how="left")
            .filter(pl.col("open_cents").fill_null(0) > 0)
            .select("case_number", "receivable_id", "kassenzeichen", (-pl.col("reversed")).alias("reversed_cents"),
                    "open_cents", pl.col("closed_on").alias("settled_on"))
            .sort("case_number", "receivable_id"))


def night_updates(case_claims: pl.DataFrame, open_now: pl.DataFrame, allocations: pl.DataFrame, *,
                  night: date, blocks: pl.DataFrame | None = None, booked: pl.DataFrame | None = None,
                  booked_claims: pl.DataFrame | None = None,
                  settled_claims: pl.DataFrame | None = None) -> NightUpdates:
    """The updates of the night ``night`` (module docstring); frames as the ``*_SCHEMA`` constants say
    (missing columns null, missing frames empty). Sorted by update id, claims by update and claim."""
    cc = _frame(case_claims, CASE_CLAIM_SCHEMA)
    on = _frame(open_now, OPEN_SCHEMA)
    al = _frame(allocations, ALLOCATION_SCHEMA)
    bk = _frame(booked, BOOKED_SCHEMA)
    claims = _claims_now(cc, on, al, _frame(booked_claims, BOOKED_CLAIM_SCHEMA))
    pay, pay_claims = _payment_updates(claims, night)
    settled = pay.filter(pl.col("kind") == str(K.SETTLED)).select("case_number")
    pause = _suspension_updates(claims, on, _frame(blocks, BLOCK_SCHEMA), bk, settled, night)
    done = bk.select("update_id")
    updates = (pl.concat([_frame(pay, UPDATE_SCHEMA), _frame(pause, UPDATE_SCHEMA)])
               .join(done, on="update_id", how="anti").sort("update_id"))
    rows = (_frame(pay_claims, UPDATE_CLAIM_SCHEMA).join(updates.select("update_id"), on="update_id", how="semi")
            .sort("update_id", "receivable_id"))
    reopened = _frame(_reopened(_frame(settled_claims, SETTLED_CLAIM_SCHEMA), al, on), REOPENED_SCHEMA)
    return NightUpdates(updates, rows, reopened)


__all__ = ["CASE_CLAIM_SCHEMA", "NOTE_REVERSAL", "REOPENED_SCHEMA", "SURCHARGE_TYPES", "SUSPENDING",
           "UPDATE_CLAIM_SCHEMA", "UPDATE_SCHEMA", "NightUpdates", "night_updates", "update_id"]
