"""The input frames of the enforcement functions, declared with dataframely (docs/ENFORCEMENT.md, "Frames").

Every function of this package takes its inputs through :func:`take`: the frame is narrowed to the
schema's columns (a column it lacks is null, ``None`` is an empty frame — the store has no open cases yet),
cast, and **validated**: a required column that is null, or a value outside its vocabulary, is a bug of the
caller (the ledger job builds these frames) and raises ``dataframely`` ``ValidationError`` before anything
is computed. Outside data (the enforcement office's files) is read and checked elsewhere
(h17-format's modules); these frames are what the ledger already holds.

* :class:`HandoffClaim` — an open claim (main claim or Nebenforderung) with the debtor's identity;
* :class:`MahnungSent` — a Mahnung-level notice a claim was on (``dunning_notice_items`` ⋈ ``dunning_notices``);
* :class:`MahnungWaived` — a recorded decision that no Mahnung was needed (DOMAIN.md §1.3);
* :class:`BlockRow`, :class:`PendingPayment` — the blocks and the Klärungsliste, as the dunning run reads them;
* :class:`CaseClaim` — a claim in an enforcement case (open cases: the claims already handed over);
* :class:`SurchargeBooked` — what the dunning runs booked as Säumniszuschlag / interest per main claim;
* :class:`OutcomeRow` — an outcome the enforcement office reported (per case or per claim);
* :class:`InterruptionRow` — an event that interrupts the limitation period.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from enum import StrEnum

import dataframely as dy
import polars as pl

from claims.vocab import DunningLevel, EnforcementOutcome, Interruption, MahnungWaiver
from dunning import ENGINE
from dunning.frames import conform


def _among(values: Iterable[StrEnum]) -> dict[str, Callable[[pl.Expr], pl.Expr]]:
    """A dataframely check: the value is null or one of ``values``' codes."""
    codes = sorted(str(v) for v in values)
    return {"vocabulary": lambda c: c.is_null() | c.is_in(codes)}


class HandoffClaim(dy.Schema):
    """An open claim of the tenant (``claims`` of the ledger: the newest export + own claims − allocations).

    ``amount_cents`` is what is open now; ``parent_receivable_id`` names the main claim of a Nebenforderung
    (origin ``fee``: Mahngebühr, Säumniszuschlag, Zinsen, Kosten) — such a claim goes with its main claim.
    ``notice_date`` is the Bekanntgabe of the Leistungsbescheid, ``external_ref`` its reference (the
    finance system's file number); both null when unknown."""

    receivable_id = dy.String(nullable=False)
    debtor_id = dy.String(nullable=False)
    kassenzeichen = dy.String(nullable=True)
    claim_type = dy.String(nullable=False)
    amount_cents = dy.Int64(nullable=False)
    due_date = dy.Date(nullable=False)
    law = dy.String(nullable=True)
    notice_date = dy.Date(nullable=True)
    external_ref = dy.String(nullable=True)
    dunning_block_until = dy.Date(nullable=True)
    block_reason = dy.String(nullable=True)
    debtor_iban = dy.String(nullable=True)
    debtor_name = dy.String(nullable=True)
    debtor_street = dy.String(nullable=True)
    debtor_postcode = dy.String(nullable=True)
    debtor_city = dy.String(nullable=True)
    debtor_country = dy.String(nullable=True)
    debtor_birth_date = dy.Date(nullable=True)
    parent_receivable_id = dy.String(nullable=True)


class MahnungSent(dy.Schema):
    """One claim on one sent notice: ``level`` (only ``mahnung`` and ``vollstreckungsankuendigung`` count),
    the notice's date (posting) and the payment deadline it set."""

    receivable_id = dy.String(nullable=False)
    notice_id = dy.String(nullable=False)
    level = dy.String(nullable=False, check={"vocabulary": lambda c: c.is_in([str(v) for v in DunningLevel])})
    notice_date = dy.Date(nullable=False)
    deadline = dy.Date(nullable=False)


class MahnungWaived(dy.Schema):
    """A recorded decision that a claim (``receivable_id``) or every claim of a debtor (``debtor_id``) is
    enforced without a Mahnung (DOMAIN.md §1.3), from ``since`` on; ``deadline`` is the payment deadline of
    a published reminder (``public_reminder``), null for the other reasons."""

    receivable_id = dy.String(nullable=True)
    debtor_id = dy.String(nullable=True)
    waiver = dy.String(nullable=False, check=_among(MahnungWaiver))
    since = dy.Date(nullable=False)
    deadline = dy.Date(nullable=True)

    @dy.rule()
    def names_a_claim_or_a_debtor(cls) -> pl.Expr:
        return pl.col("receivable_id").is_not_null() | pl.col("debtor_id").is_not_null()

    @dy.rule()
    def public_reminder_has_a_deadline(cls) -> pl.Expr:
        return (pl.col("waiver") != MahnungWaiver.PUBLIC_REMINDER) | pl.col("deadline").is_not_null()


class BlockRow(dy.Schema):
    """A block set on the review page (``ledger.block_journal``), in force from ``block_from`` to
    ``block_until`` (inclusive; null: open). Unlike the dunning run, the hand-off also reads blocks that
    have **ended**: one held since the Mahnung means a new Mahnung (``blocked_since_mahnung``)."""

    receivable_id = dy.String(nullable=True)
    debtor_id = dy.String(nullable=True)
    block_reason = dy.String(nullable=True)
    block_from = dy.Date(nullable=True)
    block_until = dy.Date(nullable=True)


class PendingPayment(dy.Schema):
    """The Klärungsliste, one row per (payment, candidate claim); the IBAN may be null."""

    transaction_id = dy.String(nullable=False)
    counterparty_iban = dy.String(nullable=True)
    receivable_id = dy.String(nullable=True)


class CaseClaim(dy.Schema):
    """A claim in an enforcement case: the case, its debtor, the day the claim was handed over."""

    case_number = dy.String(nullable=False)
    debtor_id = dy.String(nullable=False)
    receivable_id = dy.String(nullable=False)
    handed_off_on = dy.Date(nullable=False)
    opened_on = dy.Date(nullable=True)
    ancillary = dy.Bool(nullable=True)          # a Nebenforderung (null: a main claim)
    handed_cents = dy.Int64(nullable=True)      # the open amount handed over (key figures)


class SurchargeBooked(dy.Schema):
    """Per main claim: Säumniszuschlag and interest the dunning runs booked as fee claims so far (the sum of
    ``dunning_notice_items.saeumniszuschlag_booked_cents`` / ``interest_booked_cents``)."""

    receivable_id = dy.String(nullable=False)
    saeumniszuschlag_booked_cents = dy.Int64(nullable=True)
    interest_booked_cents = dy.Int64(nullable=True)


class OutcomeRow(dy.Schema):
    """An outcome the enforcement office reported: for one claim (``receivable_id``) or a whole case (null).

    ``collected_cents`` is what it collected on principal, ``ancillary_collected_cents`` on Nebenforderungen
    (Säumniszuschläge, Mahngebühren, Zinsen, Kosten), ``fee_cents`` the enforcement fees and outlays it
    charged (§§ 10 ff. VO VwVG NRW: income of the enforcement unit)."""

    case_number = dy.String(nullable=False)
    receivable_id = dy.String(nullable=True)
    outcome = dy.String(nullable=False, check=_among(EnforcementOutcome))
    outcome_date = dy.Date(nullable=False)
    collected_cents = dy.Int64(nullable=True)
    ancillary_collected_cents = dy.Int64(nullable=True)
    fee_cents = dy.Int64(nullable=True)


class InterruptionRow(dy.Schema):
    """An event interrupting a claim's limitation period (DOMAIN.md §1.10) on ``event_date``; a measure that
    lasts (Stundung, AdV) gives its last day in ``until`` — the period restarts from the end of the year in
    which the interruption **ended** (§ 231 Abs. 3 AO [GK])."""

    receivable_id = dy.String(nullable=False)
    kind = dy.String(nullable=False, check=_among(Interruption))
    event_date = dy.Date(nullable=False)
    until = dy.Date(nullable=True)


def polars_schema(schema: type[dy.Schema]) -> dict[str, pl.DataType]:
    """The Polars dtypes of ``schema``'s columns, in order."""
    return {name: col.dtype for name, col in schema.columns().items()}


def take(frame: pl.DataFrame | pl.LazyFrame | None, schema: type[dy.Schema]) -> pl.DataFrame:
    """``frame`` as exactly ``schema``'s columns (missing ones null, ``None`` empty), validated."""
    df = conform(frame, polars_schema(schema)).collect(engine=ENGINE)
    schema.validate(df, cast=False)
    return df


__all__ = ["BlockRow", "CaseClaim", "HandoffClaim", "InterruptionRow", "MahnungSent", "MahnungWaived",
           "OutcomeRow", "PendingPayment", "SurchargeBooked", "polars_schema", "take"]
