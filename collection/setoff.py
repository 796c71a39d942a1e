"""Set-off (Aufrechnung) before paying out: money due to a debtor first settles their own due claims.

Before the treasury sends money back (a refund of an over-payment), it sets that money off against the
same debtor's claims that are due — § 226 AO for public-law claims (with §§ 387 ff. BGB by reference),
§§ 387 ff. BGB for private-law ones — and tells the debtor in a Verrechnungsmitteilung. The gpaNRW audit
checklist asks for it; done by hand it is forgotten or done twice. Here it is one set-based pass.

**Whose money** (:func:`credit_debtors`): a credit (one refund) belongs to a certain debtor only when the
payment it came from (``transaction_id``) was allocated to claims of exactly one debtor. A payment
allocated to nothing (``unknown_payer``) or to claims of two debtors (``several_debtors``) is paid out
without set-off — setting off against a guessed debtor would take one person's money for another's debt.

**Which claims** (:func:`eligible_claims`), all of the same debtor:

* open (``amount_cents`` > 0) and due on or before the set-off day (§ 387 BGB: the claim set off must be
  due; a claim not yet due cannot be set off);
* of a claim type the tenant allows (``[payout] setoff_claim_types``);
* Stadtkasse's own: an Amtshilfe claim (``origin`` ``amtshilfe``) belongs to another creditor, so the
  claims are not mutual (Gegenseitigkeit) and it is never set off;
* not blocked: a block in force — the export's ``block_reason`` / ``dunning_block_until`` or a block of
  the block journal (by claim or debtor), the dunning run's vocabulary — keeps the claim out unless its
  reason is one of ``[payout] setoff_despite_blocks`` (Niederschlagung, unknown address). A Stundung or
  an Aussetzung der Vollziehung defers the claim (not due in the sense of § 226 AO); in insolvency §§ 94 ff.
  InsO decide; an instalment plan is an agreement not to claim the rest now; an unknown reason is a doubt.

**How much**: oldest due first (then receivable id), the credits of a debtor in the order the money came in;
a claim never receives more than it has open, a credit never gives more than it holds. Each piece is a
``setoffs`` row and an allocation of the credit's payment to the claim (rule ``set_off``, positive like
every payment: the open amount is the claim less its allocations). What is left of a credit is paid out.

Vectorised: the credits and the eligible claims of each debtor are laid on one axis as cumulative
intervals; a piece is the overlap of a credit's interval with a claim's (one join on the debtor, which holds
only the few debtors who have money due).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

import polars as pl

from claims.vocab import BlockReason, Rule, SetoffSkip

#: The money due to payees: one row per credit (a refund). ``received_on``: the day the money came in.
CREDIT_SCHEMA: dict[str, pl.DataType] = {
    "source": pl.String(),
    "source_id": pl.String(),
    "transaction_id": pl.String(),
    "bank_ref": pl.String(),
    "debtor_id": pl.String(),
    "amount_cents": pl.Int64(),
    "payee_iban": pl.String(),
    "received_on": pl.Date(),
}
#: Allocations of the credits' payments as booked before: which claims (and so which debtors) they paid.
LINK_SCHEMA: dict[str, pl.DataType] = {
    "transaction_id": pl.String(),
    "receivable_id": pl.String(),
    "debtor_id": pl.String(),
    "amount_cents": pl.Int64(),
}
#: The claims the set-off reads (current open items: ``amount_cents`` is the open amount).
CLAIM_COLUMNS: dict[str, pl.DataType] = {
    "receivable_id": pl.String(),
    "kassenzeichen": pl.String(),
    "debtor_id": pl.String(),
    "claim_type": pl.String(),
    "amount_cents": pl.Int64(),
    "due_date": pl.Date(),
    "origin": pl.String(),
    "block_reason": pl.String(),
    "dunning_block_until": pl.Date(),
    "import_id": pl.String(),
    "debtor_name": pl.String(),
    "debtor_street": pl.String(),
    "debtor_postcode": pl.String(),
    "debtor_city": pl.String(),
    "debtor_country": pl.String(),
}
#: Blocks of the block journal (``dunning.select.BLOCK_SCHEMA``): by claim or by debtor.
BLOCK_COLUMNS: dict[str, pl.DataType] = {
    "receivable_id": pl.String(),
    "debtor_id": pl.String(),
    "block_reason": pl.String(),
    "block_from": pl.Date(),
    "block_until": pl.Date(),
}
#: One row per set-off piece (ledger ``setoffs`` without tenant and run id).
SETOFF_SCHEMA: dict[str, pl.DataType] = {
    "source": pl.String(),
    "source_id": pl.String(),
    "transaction_id": pl.String(),
    "debtor_id": pl.String(),
    "receivable_id": pl.String(),
    "kassenzeichen": pl.String(),
    "claim_type": pl.String(),
    "amount_cents": pl.Int64(),
    "set_off_on": pl.Date(),
    "letter_id": pl.String(),
}
#: The allocations the set-off books (ledger ``allocations`` without tenant, run id, decision and rule id).
ALLOCATION_SCHEMA: dict[str, pl.DataType] = {
    "transaction_id": pl.String(),
    "bank_ref": pl.String(),
    "receivable_id": pl.String(),
    "kassenzeichen": pl.String(),
    "amount_cents": pl.Int64(),
    "rule": pl.String(),
    "confidence": pl.Float64(),
    "decided_by": pl.String(),
    "booking_date": pl.Date(),
    "import_id": pl.String(),
}
#: One Verrechnungsmitteilung per debtor and run (the contract of ``outputs.setoff_letters``).
LETTER_SCHEMA: dict[str, pl.DataType] = {
    "letter_id": pl.String(),
    "debtor_id": pl.String(),
    "debtor_name": pl.String(),
    "debtor_street": pl.String(),
    "debtor_postcode": pl.String(),
    "debtor_city": pl.String(),
    "debtor_country": pl.String(),
    "letter_date": pl.Date(),
    "credit_cents": pl.Int64(),
    "setoff_cents": pl.Int64(),
    "payout_cents": pl.Int64(),
    "payee_iban": pl.String(),
    "source_transaction_date": pl.Date(),
}
#: A letter's lines: one per claim set off.
LINE_SCHEMA: dict[str, pl.DataType] = {
    "letter_id": pl.String(),
    "receivable_id": pl.String(),
    "kassenzeichen": pl.String(),
    "claim_type": pl.String(),
    "due_date": pl.Date(),
    "open_before_cents": pl.Int64(),
    "setoff_cents": pl.Int64(),
    "open_after_cents": pl.Int64(),
}
#: The credits after the set-off: what each gave, what is left to pay out, and why it was not set off.
RESULT_COLUMNS: dict[str, pl.DataType] = {
    **CREDIT_SCHEMA,
    "setoff_skip": pl.String(),
    "setoff_cents": pl.Int64(),
    "payout_cents": pl.Int64(),
}


@dataclass(frozen=True, slots=True)
class SetOff:
    """What :func:`set_off` gives (the frames of the module docstring)."""

    credits: pl.DataFrame       # RESULT_COLUMNS: every credit, with setoff_cents and payout_cents
    setoffs: pl.DataFrame       # SETOFF_SCHEMA
    allocations: pl.DataFrame   # ALLOCATION_SCHEMA, rule set_off
    letters: pl.DataFrame       # LETTER_SCHEMA
    lines: pl.DataFrame         # LINE_SCHEMA

    @property
    def payouts(self) -> pl.DataFrame:
        """The credits with money left to pay out (``payout_cents`` > 0)."""
        return self.credits.filter(pl.col("payout_cents") > 0)


def _conform(frame: pl.DataFrame, schema: dict[str, pl.DataType]) -> pl.DataFrame:
    """``frame`` with the schema's columns in order, cast; a missing optional column is null."""
    return frame.select([pl.col(c).cast(t) if c in frame.columns else pl.lit(None, t).alias(c)
                         for c, t in schema.items()])


def credit_debtors(credits: pl.DataFrame, links: pl.DataFrame) -> pl.DataFrame:
    """``credits`` with ``debtor_id`` (the one debtor whose claims its payment paid, else null) and
    ``setoff_skip`` (``unknown_payer`` / ``several_debtors``; null when the debtor is certain).

    ``links``: the booked allocations of the payments (LINK_SCHEMA); a receivable whose allocations of
    the payment net to zero or less (reversed) does not count. A claim without a debtor id is a doubt."""
    lk = _conform(links, LINK_SCHEMA)
    # per (payment, claim, debtor): a claim two imports gave two debtors counts as two (a doubt)
    paid = (lk.group_by("transaction_id", "receivable_id", "debtor_id").agg(pl.col("amount_cents").sum())
            .filter(pl.col("amount_cents") > 0)
            .group_by("transaction_id")
            .agg(pl.col("debtor_id").drop_nulls().unique().alias("debtors"),
                 pl.col("debtor_id").null_count().alias("no_debtor")))
    n = pl.col("debtors").list.len().fill_null(0)
    certain = (n == 1) & (pl.col("no_debtor").fill_null(0) == 0)
    return (_conform(credits, CREDIT_SCHEMA).drop("debtor_id")
            .join(paid, on="transaction_id", how="left")
            .with_columns(pl.when(certain).then(pl.col("debtors").list.first()).alias("debtor_id"),
                          pl.when(certain).then(None)
                          .when((n == 0) & (pl.col("no_debtor").fill_null(0) == 0))
                          .then(pl.lit(SetoffSkip.UNKNOWN_PAYER.value))
                          .otherwise(pl.lit(SetoffSkip.SEVERAL_DEBTORS.value)).alias("setoff_skip"))
            .select(*CREDIT_SCHEMA, "setoff_skip"))


def _norm_reason(col: pl.Expr) -> pl.Expr:
    return col.str.strip_chars().str.to_uppercase()


def eligible_claims(claims: pl.DataFrame, on: date, *, claim_types: Iterable[str],
                    despite_blocks: Iterable[str] = (), blocks: pl.DataFrame | None = None) -> pl.DataFrame:
    """The claims that may be set off on ``on`` (module docstring), CLAIM_COLUMNS."""
    c = _conform(claims, CLAIM_COLUMNS)
    despite = [s.upper() for s in despite_blocks]
    why, until = _norm_reason(pl.col("block_reason")), pl.col("dunning_block_until")
    # the export's own block, as the dunning run reads it: a reason, or an end date alone (a Mahnsperre)
    own_reason = pl.when(why.is_null() | (why == "")).then(pl.lit(BlockReason.MAHNSPERRE.value)).otherwise(why)
    own_block = (((why.is_not_null() & (why != "")) | until.is_not_null())
                 & (until.is_null() | (until >= on)) & ~own_reason.is_in(despite))
    out = c.filter((pl.col("amount_cents") > 0) & (pl.col("due_date") <= on)
                   & pl.col("claim_type").str.to_uppercase().is_in([t.upper() for t in claim_types])
                   & (pl.col("origin").fill_null("export") != "amtshilfe")
                   & ~own_block)
    if blocks is not None and blocks.height:
        b = _conform(blocks, BLOCK_COLUMNS)
        live = b.filter((pl.col("block_from").is_null() | (pl.col("block_from") <= on))
                        & (pl.col("block_until").is_null() | (pl.col("block_until") >= on))
                        & ~_norm_reason(pl.col("block_reason")).fill_null(BlockReason.MAHNSPERRE.value)
                        .is_in(despite))
        out = (out.join(live.filter(pl.col("receivable_id").is_not_null()).select("receivable_id"),
                        on="receivable_id", how="anti")
               .join(live.filter(pl.col("debtor_id").is_not_null()).select("debtor_id"), on="debtor_id", how="anti"))
    return out


def set_off(credits: pl.DataFrame, claims: pl.DataFrame, on: date, *, letter_prefix: str, decided_by: str,
            enabled: bool = True) -> SetOff:
    """Set the ``credits`` (RESULT of :func:`credit_debtors`: debtor_id and setoff_skip) off against the
    ``claims`` (:func:`eligible_claims`) on ``on``. ``letter_prefix`` + a 4-digit number (debtors in id
    order) names each letter; ``decided_by`` goes on the allocations. ``enabled=False``: nothing is set off.
    """
    cr = credits.with_columns(pl.col("amount_cents").cast(pl.Int64)).with_row_index("_row")
    certain = cr.filter(pl.col("debtor_id").is_not_null() & pl.col("setoff_skip").is_null()
                        & (pl.col("amount_cents") > 0))
    cl = _conform(claims, CLAIM_COLUMNS).join(certain.select("debtor_id").unique(), on="debtor_id", how="semi")
    if not enabled:
        cl = cl.clear()
    # each debtor's credits (the oldest money first) and claims (oldest due first) as cumulative intervals
    c_iv = (certain.sort("debtor_id", "received_on", "source_id", "_row", nulls_last=True)
            .with_columns(pl.col("amount_cents").cum_sum().over("debtor_id").alias("c_hi"))
            .with_columns((pl.col("c_hi") - pl.col("amount_cents")).alias("c_lo")))
    k_iv = (cl.sort("debtor_id", "due_date", "receivable_id")
            .with_columns(pl.col("amount_cents").cum_sum().over("debtor_id").alias("k_hi"))
            .with_columns((pl.col("k_hi") - pl.col("amount_cents")).alias("k_lo"))
            .rename({"amount_cents": "open_cents"}))
    pieces = (c_iv.select("_row", "source", "source_id", "transaction_id", "bank_ref", "debtor_id", "c_lo", "c_hi")
              .join(k_iv, on="debtor_id", how="inner")
              .with_columns((pl.min_horizontal("c_hi", "k_hi") - pl.max_horizontal("c_lo", "k_lo")).alias("piece"))
              .filter(pl.col("piece") > 0)
              .sort("debtor_id", "c_lo", "k_lo"))
    debtors = pieces.select("debtor_id").unique().sort("debtor_id").with_row_index("_n", offset=1)
    pieces = pieces.join(debtors, on="debtor_id", how="left").with_columns(
        pl.format("{}{}", pl.lit(letter_prefix), pl.col("_n").cast(pl.String).str.zfill(4)).alias("letter_id"))
    setoffs = _conform(pieces.with_columns(pl.col("piece").alias("amount_cents"), pl.lit(on).alias("set_off_on")),
                       SETOFF_SCHEMA)
    allocations = _conform(pieces.with_columns(
        pl.col("piece").alias("amount_cents"), pl.lit(Rule.SET_OFF.value).alias("rule"),
        pl.lit(1.0).alias("confidence"), pl.lit(decided_by).alias("decided_by"), pl.lit(on).alias("booking_date")),
        ALLOCATION_SCHEMA)
    given = pieces.group_by("_row").agg(pl.col("piece").sum().alias("setoff_cents"))
    result = (cr.join(given, on="_row", how="left")
              .with_columns(pl.col("setoff_cents").fill_null(0).cast(pl.Int64))
              .with_columns((pl.col("amount_cents") - pl.col("setoff_cents")).alias("payout_cents"))
              .sort("_row").select(list(RESULT_COLUMNS)))
    lines = _conform(pieces.group_by("letter_id", "receivable_id").agg(
        pl.col("kassenzeichen", "claim_type", "due_date", "open_cents", "k_lo").first(),
        pl.col("piece").sum().alias("setoff_cents"))
        .with_columns(pl.col("open_cents").alias("open_before_cents"),
                      (pl.col("open_cents") - pl.col("setoff_cents")).alias("open_after_cents"))
        .sort("letter_id", "k_lo"), LINE_SCHEMA)
    letters = _letters(result, pieces, k_iv, on)
    return SetOff(result, setoffs, allocations, letters, lines)


def _letters(result: pl.DataFrame, pieces: pl.DataFrame, claims: pl.DataFrame, on: date) -> pl.DataFrame:
    """One letter per debtor with a set-off: the debtor's address (from their claims), what their credits
    held, what was set off, what is paid out and to which account, the day the money came in."""
    ids = pieces.select("debtor_id", "letter_id").unique()
    if ids.is_empty():
        return pl.DataFrame(schema=LETTER_SCHEMA)
    addr_cols = ["debtor_name", "debtor_street", "debtor_postcode", "debtor_city", "debtor_country"]
    address = (claims.join(ids, on="debtor_id", how="semi").sort("debtor_id", "receivable_id")
               .group_by("debtor_id").agg([pl.col(c).drop_nulls().first() for c in addr_cols]))
    money = (result.join(ids, on="debtor_id", how="semi").group_by("debtor_id").agg(
        pl.col("amount_cents").sum().alias("credit_cents"), pl.col("setoff_cents").sum(),
        pl.col("payout_cents").sum(),
        pl.col("payee_iban").filter(pl.col("payout_cents") > 0).drop_nulls().unique().sort().str.join("; ")
        .alias("payee_iban"),
        pl.col("received_on").min().alias("source_transaction_date")))
    return _conform(ids.join(address, on="debtor_id", how="left").join(money, on="debtor_id", how="left")
                    .with_columns(pl.lit(on).alias("letter_date"),
                                  pl.when(pl.col("payee_iban") == "").then(None).otherwise(pl.col("payee_iban"))
                                  .alias("payee_iban"))
                    .sort("letter_id"), LETTER_SCHEMA)


__all__ = ["ALLOCATION_SCHEMA", "CLAIM_COLUMNS", "CREDIT_SCHEMA", "LETTER_SCHEMA", "LINE_SCHEMA", "LINK_SCHEMA",
           "SETOFF_SCHEMA", "SetOff", "credit_debtors", "eligible_claims", "set_off"]
