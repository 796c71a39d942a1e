"""The claim (Forderung, receivable): one row per amount a debtor owes, whoever made it.

A claim comes from one of three places (``origin``):

* ``export`` — the finance system's open-items export (the Sollstellung of the specialist procedure);
* ``fee`` — a claim Stadtkasse charges itself: Mahngebühr, Säumniszuschlag, return fee, costs
  (``parent_receivable_id`` in the store names the claim it was charged on);
* ``amtshilfe`` — a claim Stadtkasse enforces for another creditor.

``creditor`` is whom the money belongs to: the tenant itself for ``export`` and ``fee``, the requesting
creditor for ``amtshilfe``. The debtor's postal address and birth date are optional (the export may
carry them; dunning and enforcement need them).

:data:`CLAIM_SCHEMA` is the frame every package hands on; ``OPEN_ITEM_SCHEMA`` is the same frame under
the name the matcher and the store have always used. New columns are appended at the end (the ledger's
``open_items`` table gets them by migration, in this order).

>>> list(CLAIM_SCHEMA)[-9:] == list(CLAIM_EXTRA)
True
"""

from __future__ import annotations

import polars as pl

#: Where a claim comes from (see the module docstring).
ORIGINS = ("export", "fee", "amtshilfe")
#: Public-law (Abgabenordnung) or private-law claim.
LAWS = ("public", "private")

#: The columns the open-items export has carried since the first release, in ledger order.
CLAIM_BASE: dict[str, pl.DataType] = {
    "tenant": pl.String(),
    "receivable_id": pl.String(),
    "kassenzeichen": pl.String(),         # as printed on the notice
    "kz_norm": pl.String(),               # digits only (separators removed)
    "debtor_id": pl.String(),
    "debtor_name": pl.String(),
    "debtor_iban": pl.String(),           # may hold several, separated by ',' or ';' in the export
    "claim_type": pl.String(),
    "amount_cents": pl.Int64(),           # open amount, > 0
    "due_date": pl.Date(),
    "external_ref": pl.String(),
    "mandate_id": pl.String(),
    "mandate_date": pl.Date(),
    "dunning_block_until": pl.Date(),
    "law": pl.String(),                   # public | private
    "source_file": pl.String(),
    "source_path": pl.String(),
    "source_line": pl.Int32(),
}

#: The debtor's postal address and birth date: optional in the export, null when not known.
ADDRESS: dict[str, pl.DataType] = {
    "debtor_street": pl.String(),         # street and house number
    "debtor_postcode": pl.String(),       # DE: 5 digits
    "debtor_city": pl.String(),
    "debtor_country": pl.String(),        # ISO 3166-1 alpha-2 (null: DE)
    "debtor_birth_date": pl.Date(),       # natural persons only; never in the future
}

#: What dunning reads of a claim beyond the base (ledger migration 5): the Bekanntgabe of the
#: Leistungsbescheid (the Schonfrist runs from it when later than the due date) and the export's
#: reason for a block (``claims.vocab.BlockReason``, upper-cased; an unknown text is kept and blocks).
DUNNING: dict[str, pl.DataType] = {
    "notice_date": pl.Date(),
    "block_reason": pl.String(),
}

#: Columns added by the claims kernel (ledger migration 3) and for dunning (migration 5), in this order.
CLAIM_EXTRA: dict[str, pl.DataType] = {
    "origin": pl.String(),                # export | fee | amtshilfe
    "creditor": pl.String(),              # whom the money belongs to (tenant, or the requesting creditor)
    **ADDRESS,
    **DUNNING,
}

#: The claim frame: one row per receivable.
CLAIM_SCHEMA: dict[str, pl.DataType] = {**CLAIM_BASE, **CLAIM_EXTRA}

#: The finance system's open-items export after validation (``origin`` = export).
OPEN_ITEM_SCHEMA = CLAIM_SCHEMA
