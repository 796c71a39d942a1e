"""Frame schemas of the claim at its boundaries, declared with dataframely (docs/ARCHITECTURE.md).

* :class:`OpenItemRow` — a row of the finance system's export as the loader hands it on: required
  columns non-null, amounts >= 0, ``law`` and ``origin`` from their vocabularies. Outside data is
  *filtered* with it (a failing row is left out and reported with its line and the rule).
* :class:`DebtorAddress` — the optional address columns of an imported row; a failing *value* is
  dropped and reported, the row is kept.
* :class:`OwnClaimRow` — a claim Stadtkasse creates itself (fee, Amtshilfe) on its way into the store;
  *validated*: a violation is a bug and stops the run.
"""

from __future__ import annotations

from datetime import date

import dataframely as dy
import polars as pl

from claims.claim import LAWS, ORIGINS
from claims.countries import ALPHA2

#: German postcodes: five digits.
DE_POSTCODE = r"^[0-9]{5}$"


class _Claim(dy.Schema):
    """The columns every claim has, with their nullability."""

    tenant = dy.String(nullable=False)
    receivable_id = dy.String(nullable=False)
    kassenzeichen = dy.String(nullable=False)
    kz_norm = dy.String(nullable=False)
    debtor_id = dy.String(nullable=False)
    debtor_name = dy.String(nullable=False)
    debtor_iban = dy.String(nullable=True)
    claim_type = dy.String(nullable=False)
    amount_cents = dy.Int64(nullable=False, min=0)
    due_date = dy.Date(nullable=False)
    external_ref = dy.String(nullable=True)
    mandate_id = dy.String(nullable=True)
    mandate_date = dy.Date(nullable=True)
    dunning_block_until = dy.Date(nullable=True)
    law = dy.String(nullable=False, check={"vocabulary": lambda c: c.is_in(list(LAWS))})
    origin = dy.String(nullable=False, check={"vocabulary": lambda c: c.is_in(list(ORIGINS))})
    creditor = dy.String(nullable=False)
    debtor_street = dy.String(nullable=True)
    debtor_postcode = dy.String(nullable=True)
    debtor_city = dy.String(nullable=True)
    debtor_country = dy.String(nullable=True)
    debtor_birth_date = dy.Date(nullable=True)
    notice_date = dy.Date(nullable=True)
    block_reason = dy.String(nullable=True)


class OpenItemRow(_Claim):
    """A row of the open-items export after parsing (``origin`` = export, ``creditor`` = the tenant).

    ``receivable_id`` is the key; its uniqueness is checked by hand before (``open_items.duplicate_id``,
    hash-based, cheaper than a key rule over millions of rows), so it is not declared a key here."""

    source_file = dy.String(nullable=False)
    source_path = dy.String(nullable=False)
    source_line = dy.Int32(nullable=False, min=1)

    @dy.rule()
    def export_is_the_tenants(cls) -> pl.Expr:
        return (pl.col("origin") == "export") & (pl.col("creditor") == pl.col("tenant"))


class OwnClaimRow(_Claim):
    """A row of the store's ``claims`` table: a fee or an Amtshilfe claim, made by a run."""

    receivable_id = dy.String(nullable=False, primary_key=True)
    run_id = dy.String(nullable=False)
    created_at = dy.Datetime(nullable=False, time_zone="UTC")
    parent_receivable_id = dy.String(nullable=True)

    @dy.rule()
    def own_origin(cls) -> pl.Expr:
        return pl.col("origin").is_in(["fee", "amtshilfe"])

    @dy.rule()
    def fee_is_the_tenants(cls) -> pl.Expr:
        # a fee belongs to the tenant; an Amtshilfe claim to the creditor that asked for it
        return (pl.col("origin") != "fee") | (pl.col("creditor") == pl.col("tenant"))

    @dy.rule()
    def open_amount(cls) -> pl.Expr:
        return pl.col("amount_cents") > 0


class DebtorAddress(dy.Schema):
    """The debtor's optional address of one imported row (a failed rule drops one column's value)."""

    source_line = dy.Int32(nullable=False)
    debtor_postcode = dy.String(nullable=True)
    debtor_country = dy.String(nullable=True)
    debtor_birth_date = dy.Date(nullable=True)
    birth_date_text = dy.String(nullable=True)   # as delivered (for the unparsable ones)

    @dy.rule()
    def country_known(cls) -> pl.Expr:
        return pl.col("debtor_country").is_null() | pl.col("debtor_country").is_in(sorted(ALPHA2))

    @dy.rule()
    def postcode_german(cls) -> pl.Expr:
        german = pl.col("debtor_country").is_null() | (pl.col("debtor_country") == "DE")
        return pl.col("debtor_postcode").is_null() | ~german | pl.col("debtor_postcode").str.contains(DE_POSTCODE)

    @dy.rule()
    def birth_date_past(cls) -> pl.Expr:
        parsed = pl.col("birth_date_text").is_null() | pl.col("debtor_birth_date").is_not_null()
        return parsed & (pl.col("debtor_birth_date").is_null() | (pl.col("debtor_birth_date") <= date.today()))
