"""Invariants of the frames handed to the store, checked when a run stages them (``RunDir.book``).

These frames are our own: a row breaking a rule is a bug in the step that made it, never bad input, so
:func:`check` raises :class:`HandOffError` and the run stops before anything is booked. The rules are
dataframely schemas (docs/ARCHITECTURE.md, "Frame schemas"): the claims Stadtkasse creates
(:class:`claims.frames.OwnClaimRow`) and the allocations matching and the clerks' decisions hand on.
Checked once per staged frame, never inside the matcher.
"""

from __future__ import annotations

import dataframely as dy
import polars as pl

from claims.errors import KasseError
from claims.frames import OwnClaimRow
from claims.vocab import Rule


class HandOffError(KasseError):
    """A frame handed to the store breaks its schema's rules (a bug: the run stops)."""


class AllocationRow(dy.Schema):
    """A booking of a payment on a receivable (a reversal is negative, never zero)."""

    tenant = dy.String(nullable=False)
    run_id = dy.String(nullable=False)
    transaction_id = dy.String(nullable=False)
    receivable_id = dy.String(nullable=False)
    amount_cents = dy.Int64(nullable=False)
    rule = dy.String(nullable=False)
    decided_by = dy.String(nullable=False)
    booking_date = dy.Date(nullable=False)
    rule_id = dy.String(nullable=True)

    @dy.rule()
    def not_zero(cls) -> pl.Expr:
        return pl.col("amount_cents") != 0

    @dy.rule()
    def learned_rule_named(cls) -> pl.Expr:
        """An allocation a learned rule made names the rule (auditable: which approved rule booked it)."""
        return (pl.col("rule") != Rule.LEARNED_RULE) | pl.col("rule_id").is_not_null()


#: ledger table -> the schema its staged rows must keep
RULES: dict[str, type[dy.Schema]] = {"claims": OwnClaimRow, "allocations": AllocationRow}


def check(table: str, rows: pl.DataFrame) -> None:
    """Raise :class:`HandOffError` when ``rows`` for ledger ``table`` break their schema's rules."""
    schema = RULES.get(table)
    if schema is None or rows.height == 0:
        return
    try:
        schema.validate(rows)
    except (dy.exc.ValidationError, dy.exc.SchemaError) as exc:
        raise HandOffError(f"rows staged for ledger table {table!r} break {schema.__name__}: {exc}") from exc
