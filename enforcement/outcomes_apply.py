"""What to book of the enforcement office's outcomes: the outcomes read from its files × the ledger (pure).

The nightly import (``jobs/nightly/outcomes.py``) reads each outcomes file with
:func:`enforcement.outcomes_file.read_outcomes` and hands every outcome of the night to :func:`apply_outcomes`
with what the ledger knows: the outcomes recorded before (id and digest, booked or held) and the handed
claims with their cases (``ledger.enforcement_state.case_claims``). Each outcome is, in this order:

* **dropped** when its ``outcome_id`` was recorded before with the same ``digest`` — in the ledger or
  earlier in the same night (a file sent again, under the same or another name): an import changes
  nothing the second time;
* **held** (:class:`~claims.vocab.OutcomeHold`) for a clerk, recorded with ``state`` = ``held`` and a
  ``hold_reason``, never booked: ``changed`` (the id was recorded with another digest: the office changed
  an outcome it had sent; neither version is booked again), ``case_unknown`` (the case number is not one we
  handed over), ``other_office`` (the file's ``OfficeId`` is not the office the case went to),
  ``kassenzeichen_not_in_case`` (the outcome names a claim that is not in the case);
* else **booked**: ``receivable_id`` is the claim its Kassenzeichen names (null: the whole case).

A booked outcome changes the claims' state where the ledger reads it: a completing outcome
(``EnforcementOutcome.completed()``) takes the claim — or every claim of the case — out of its case
(``ledger.enforcement_state``); ``returned`` thereby closes the case and its claims may be handed over again;
``uncollectible`` and ``written_off`` also block the claims (:func:`outcome_blocks`); ``instalments`` and
``moved`` are recorded as the office wrote them (the agreement, the new address beside the export's).

**Fees.** Each ``Fee`` item of a booked outcome becomes a row of ``fees``: the amount as the office wrote it,
its ``parent_receivable_id`` (the outcome's claim — a Nebenforderung's main claim — or else the case's main
claim: an open one first, the earliest handed over, the smallest id) and a ``flag`` when the kind is not in
the configured table of known kinds (``unknown_kind``) or its amount differs from a configured amount
(``amount_differs``): booked anyway — the office set it — and listed for a clerk. The job turns each fee
above 0 into a claim of origin ``fee``.

**Money collected** is information for the key figures, never an allocation: the office's money reaches the
treasury's account and is matched by the nightly like any payment; booking ``collected_cents`` too would
book it twice.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import polars as pl

from claims.vocab import BlockReason, EnforcementOutcome, OutcomeHold, OutcomeState
from dunning.select import BLOCK_SCHEMA

S, D, I64 = pl.String(), pl.Date(), pl.Int64()

#: The columns of a recorded outcome (``ledger.tables.ENFORCEMENT_OUTCOMES`` without tenant and run id).
OUTCOME_COLUMNS: dict[str, pl.DataType] = {
    "outcome_id": S, "digest": S, "office_id": S, "office_reference": S, "message_id": S, "case_number": S,
    "sequence": I64, "receivable_id": S, "kassenzeichen": S, "outcome": S, "outcome_date": D,
    "collected_cents": I64, "fees_cents": I64, "instalment_cents": I64, "instalment_first_due": D,
    "instalment_count": I64, "new_street": S, "new_postcode": S, "new_city": S, "new_country": S, "note": S,
    "file_name": S, "file_sha256": S, "state": S, "hold_reason": S}
#: One row per fee item of a booked outcome.
FEE_COLUMNS: dict[str, pl.DataType] = {
    "outcome_id": S, "case_number": S, "kind": S, "basis": S, "description": S, "amount_cents": I64,
    "parent_receivable_id": S, "flag": S}
#: The ledger's outcomes recorded so far (booked or held).
RECORDED_COLUMNS: dict[str, pl.DataType] = {"outcome_id": S, "digest": S}
#: The handed claims (``ledger.enforcement_state.CASE_CLAIMS``; only these columns are read).
CASE_CLAIM_COLUMNS: dict[str, pl.DataType] = {
    "case_number": S, "receivable_id": S, "main_receivable_id": S, "ancillary": pl.Boolean(),
    "kassenzeichen": S, "handed_off_on": D, "office_id": S, "closed_on": D}

#: Flags of a fee item (``fees.flag``).
UNKNOWN_KIND = "unknown_kind"
AMOUNT_DIFFERS = "amount_differs"
#: The outcomes that block their claims from dunning and a new hand-off.
BLOCKING = (EnforcementOutcome.UNCOLLECTIBLE, EnforcementOutcome.WRITTEN_OFF)


@dataclass(frozen=True)
class Applied:
    """``outcomes``: the outcomes to record (:data:`OUTCOME_COLUMNS`, booked and held); ``fees``: the fee
    items of the booked ones (:data:`FEE_COLUMNS`); ``repeated``: how many were dropped as recorded before."""

    outcomes: pl.DataFrame
    fees: pl.DataFrame
    repeated: int


def _take(frame: pl.DataFrame | None, schema: Mapping[str, pl.DataType]) -> pl.DataFrame:
    if frame is None:
        return pl.DataFrame(schema=dict(schema))
    return frame.select([pl.col(c).cast(t) if c in frame.columns else pl.lit(None, t).alias(c)
                         for c, t in schema.items()])


def _kz(expr: pl.Expr) -> pl.Expr:
    """A Kassenzeichen compared without separators and case (``1.2345.6789.012`` = ``123456789012``)."""
    return expr.str.replace_all(r"[^0-9A-Za-z]", "").str.to_uppercase()


def apply_outcomes(outcomes: pl.DataFrame, fees: pl.DataFrame, *, recorded: pl.DataFrame | None,
                   case_claims: pl.DataFrame | None, fee_kinds: Mapping[str, str],
                   fee_amounts: Mapping[str, int] | None = None) -> Applied:
    """The outcomes of one night (module docstring). ``outcomes``: rows of ``read_outcomes`` of every file,
    each with ``file_name`` and ``file_sha256``, in the order the files were read; ``fees``: their fee
    items with ``outcome_id`` and ``file_sha256``; ``recorded``: :data:`RECORDED_COLUMNS`;
    ``case_claims``: :data:`CASE_CLAIM_COLUMNS`; ``fee_kinds``: kind → legal basis; ``fee_amounts``: kind →
    the amount a fee of that kind must have (cents)."""
    c = pl.col
    rows = _take(outcomes.drop("state", "hold_reason", "receivable_id", strict=False), OUTCOME_COLUMNS)
    rows = rows.with_row_index("_order")
    before = _take(recorded, RECORDED_COLUMNS).unique()
    claims = _take(case_claims, CASE_CLAIM_COLUMNS)

    # the night's own repeats: the first of an id stands for the later copies, compared like the ledger's
    first = (rows.filter(c("_order") == c("_order").min().over("outcome_id"))
             .select("outcome_id", c("digest").alias("_first_digest")))
    rows = (rows.join(before.group_by("outcome_id").agg(c("digest").alias("_ledger")), on="outcome_id", how="left",
                      maintain_order="left")
            .join(first, on="outcome_id", how="left", maintain_order="left")
            .with_columns(c("_ledger").is_not_null().alias("_recorded"),
                          (c("_order") == c("_order").min().over("outcome_id")).alias("_first")))
    # dropped: recorded before with this digest (the ledger, or an earlier copy tonight)
    in_ledger = c("_ledger").list.contains(c("digest")).fill_null(False)
    repeat = in_ledger | (~c("_first") & (c("digest") == c("_first_digest")))
    changed = ~repeat & (c("_recorded") | ~c("_first"))
    repeated = rows.filter(repeat).height
    rows = rows.filter(~repeat)

    # the case: ours, handed to this office, the Kassenzeichen in it
    per_case = claims.group_by("case_number").agg(
        c("office_id").sort_by("handed_off_on").first().alias("_office"), pl.lit(True).alias("_known"))
    named = (rows.filter(c("kassenzeichen").is_not_null())
             .select("_order", "case_number", _kz(c("kassenzeichen")).alias("_kz"))
             .join(claims.select("case_number", _kz(c("kassenzeichen")).alias("_kz"),
                                 c("receivable_id").alias("_rid"), c("handed_off_on")),
                   on=["case_number", "_kz"], how="inner")
             .sort("handed_off_on", descending=True)
             .group_by("_order").agg(c("_rid").first()))
    rows = (rows.join(per_case, on="case_number", how="left", maintain_order="left")
            .join(named, on="_order", how="left", maintain_order="left"))
    hold = (pl.when(changed).then(pl.lit(OutcomeHold.CHANGED.value))
            .when(c("_known").is_null()).then(pl.lit(OutcomeHold.CASE_UNKNOWN.value))
            .when(c("_office").is_null() | (c("_office") != c("office_id")))
            .then(pl.lit(OutcomeHold.OTHER_OFFICE.value))
            .when(c("kassenzeichen").is_not_null() & c("_rid").is_null())
            .then(pl.lit(OutcomeHold.KASSENZEICHEN_NOT_IN_CASE.value)))
    rows = rows.with_columns(hold.alias("hold_reason")).with_columns(
        pl.when(c("hold_reason").is_null()).then(pl.lit(OutcomeState.BOOKED.value))
        .otherwise(pl.lit(OutcomeState.HELD.value)).alias("state"),
        pl.when(c("hold_reason").is_null()).then(c("_rid")).alias("receivable_id"))
    out = rows.sort("_order").select(list(OUTCOME_COLUMNS))
    return Applied(out, _fees(out, fees, claims, fee_kinds, fee_amounts or {}), repeated)


def _fees(outcomes: pl.DataFrame, fees: pl.DataFrame, claims: pl.DataFrame, kinds: Mapping[str, str],
          amounts: Mapping[str, int]) -> pl.DataFrame:
    """The fee items of the booked outcomes, each with the claim it is charged on and its flag."""
    c = pl.col
    booked = outcomes.filter(c("state") == OutcomeState.BOOKED).select("outcome_id", "file_sha256", "case_number",
                                                                      c("receivable_id").alias("_rid"))
    if booked.is_empty() or fees.is_empty():
        return pl.DataFrame(schema=FEE_COLUMNS)
    items = _take(fees, {"outcome_id": S, "file_sha256": S, "kind": S, "basis": S, "description": S,
                         "amount_cents": I64})
    # the claim of the outcome (a Nebenforderung: its main claim), else the case's main claim
    mains = (claims.filter(~c("ancillary").fill_null(False))
             .sort([c("closed_on").is_not_null(), "handed_off_on", "receivable_id"])
             .group_by("case_number", maintain_order=True).agg(c("receivable_id").first().alias("_case_main")))
    own_main = claims.select(c("receivable_id").alias("_rid"),
                             pl.when(c("ancillary").fill_null(False)).then(c("main_receivable_id"))
                             .otherwise(c("receivable_id")).alias("_claim_main")).unique("_rid", keep="first")
    known = pl.DataFrame({"kind": list(kinds), "_basis": list(kinds.values())}, schema={"kind": S, "_basis": S})
    expected = pl.DataFrame({"kind": list(amounts), "_expected": list(amounts.values())},
                            schema={"kind": S, "_expected": I64})
    out = (items.join(booked, on=["outcome_id", "file_sha256"], how="inner", maintain_order="left")
           .join(mains, on="case_number", how="left", maintain_order="left")
           .join(own_main, on="_rid", how="left", maintain_order="left")
           .with_columns(c("kind").str.to_lowercase().alias("_key"))
           .join(known.rename({"kind": "_key"}), on="_key", how="left", maintain_order="left")
           .join(expected.with_columns(c("kind").str.to_lowercase()).rename({"kind": "_key"}), on="_key",
                 how="left", maintain_order="left")
           .with_columns(
               c("basis").fill_null(c("_basis")),
               pl.coalesce(c("_claim_main"), c("_rid"), c("_case_main")).alias("parent_receivable_id"),
               pl.when(c("_basis").is_null()).then(pl.lit(UNKNOWN_KIND))
               .when(c("_expected").is_not_null() & (c("_expected") != c("amount_cents")))
               .then(pl.lit(AMOUNT_DIFFERS)).alias("flag")))
    return out.select(list(FEE_COLUMNS))


def outcome_blocks(booked: pl.DataFrame, case_claims: pl.DataFrame) -> pl.DataFrame:
    """The blocks the booked outcomes set (:data:`dunning.select.BLOCK_SCHEMA`): an ``uncollectible`` or
    ``written_off`` outcome blocks its claim — for the whole case, every claim handed in it by the outcome's
    day — and the Nebenforderungen handed with it, with reason ``NIEDERSCHLAGUNG`` from the outcome's day,
    without end. ``booked``: ``case_number``, ``receivable_id``, ``outcome``, ``outcome_date`` (booked
    outcomes only); ``case_claims``: :data:`CASE_CLAIM_COLUMNS`."""
    c = pl.col
    hits = _take(booked, {"case_number": S, "receivable_id": S, "outcome": S, "outcome_date": D}).filter(
        c("outcome").is_in([str(o) for o in BLOCKING]))
    claims = _take(case_claims, CASE_CLAIM_COLUMNS)
    whole = (hits.filter(c("receivable_id").is_null()).drop("receivable_id")
             .join(claims.select("case_number", "receivable_id", "handed_off_on"), on="case_number", how="inner")
             .filter(c("handed_off_on") <= c("outcome_date")).select("receivable_id", "outcome_date"))
    one = hits.filter(c("receivable_id").is_not_null()).select("case_number", "receivable_id", "outcome_date")
    ancillary = (one.join(claims.filter(c("ancillary").fill_null(False))
                          .select("case_number", c("main_receivable_id").alias("receivable_id"),
                                  c("receivable_id").alias("_nf")), on=["case_number", "receivable_id"], how="inner")
                 .select(c("_nf").alias("receivable_id"), "outcome_date"))
    every = pl.concat([whole, one.select("receivable_id", "outcome_date"), ancillary])
    per_claim = every.group_by("receivable_id").agg(c("outcome_date").min()).sort("receivable_id")
    return per_claim.select(
        "receivable_id", pl.lit(None, S).alias("debtor_id"),
        pl.lit(BlockReason.NIEDERSCHLAGUNG.value).alias("block_reason"), c("outcome_date").alias("block_from"),
        pl.lit(None, D).alias("block_until")).select([c(k).cast(t) for k, t in BLOCK_SCHEMA.items()])


__all__ = ["Applied", "apply_outcomes", "outcome_blocks"]
