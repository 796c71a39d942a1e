"""Which money due goes out by credit transfer, to whom, with which ids and text (pure; docs/SEPA_PAYOUT.md).

Two steps around the set-off (:mod:`collection.setoff`):

1. :func:`payable` — the refunds with money still due (the refund less what earlier runs set off or paid
   for it: a refund is never paid twice) whose payee the bank file can carry: the IBAN passes schwifty's
   check (never paid to an invalid one), the payee name — the counterparty of the payment as the bank
   delivered it — is there and fits the SEPA character set and 70 characters (refused and reported, never
   transliterated: the name is what the clerk saw), and the remittance fits 140 characters. The others
   are skipped with a :class:`~claims.vocab.PayoutSkip` reason, every refund in exactly one of the two.
2. :func:`transfers` — after the set-off, the credit transfers of what is left: end-to-end id, remittance,
   amount; a refund set off in full is skipped ``set_off_in_full``.

**End-to-end id**: ``ERS<execution date yymmdd>-<the refund's id>`` (letters, digits and hyphens, at most 35
characters): the refund can be found from the bank's statement line, and a refund paid on another day gets
another id. **Remittance**: ``Erstattung Kassenzeichen <as printed, comma-separated>`` (the Kassenzeichen
the payment was allocated to), ``Erstattung Zahlung vom <dd.mm.yyyy>`` when it paid none, followed by
`` abzgl. Verrechnung`` when a part was set off (the debtor's letter says against what).
"""

from __future__ import annotations

from datetime import date

import polars as pl

from claims.vocab import PayoutSkip
from collection.sepa_text import MAX_LENGTH, Charset, FieldKind, check_text

#: The refunds as the ledger holds them, with their payment's counterparty and Kassenzeichen.
DUE_SCHEMA: dict[str, pl.DataType] = {
    "source": pl.String(),
    "source_id": pl.String(),
    "transaction_id": pl.String(),
    "bank_ref": pl.String(),
    "amount_cents": pl.Int64(),          # the refund as decided
    "payee_iban": pl.String(),
    "payee_name": pl.String(),
    "received_on": pl.Date(),
    "kassenzeichen": pl.String(),        # the payment's Kassenzeichen, comma-separated (null: none)
}
#: What earlier runs gave a refund: set-offs and payouts booked (one row per piece).
BOOKED_SCHEMA: dict[str, pl.DataType] = {"source_id": pl.String(), "amount_cents": pl.Int64()}
#: The skipped refunds.
SKIPPED_SCHEMA: dict[str, pl.DataType] = {
    "source": pl.String(),
    "source_id": pl.String(),
    "transaction_id": pl.String(),
    "amount_cents": pl.Int64(),
    "reason": pl.String(),
    "detail": pl.String(),
}
#: A credit transfer of the file (the pain.001 writer's columns and what the ledger's ``payouts`` keeps).
TRANSFER_SCHEMA: dict[str, pl.DataType] = {
    "source": pl.String(),
    "source_id": pl.String(),
    "transaction_id": pl.String(),
    "debtor_id": pl.String(),
    "end_to_end_id": pl.String(),
    "payee_name": pl.String(),
    "payee_iban": pl.String(),
    "payee_bic": pl.String(),
    "amount_cents": pl.Int64(),
    "credit_cents": pl.Int64(),
    "setoff_cents": pl.Int64(),
    "remittance": pl.String(),
}
#: What the remittance gets when a part was set off.
SETOFF_SUFFIX = " abzgl. Verrechnung"
E2E_PREFIX = "ERS"


def _conform(frame: pl.DataFrame, schema: dict[str, pl.DataType]) -> pl.DataFrame:
    return frame.select([pl.col(c).cast(t) if c in frame.columns else pl.lit(None, t).alias(c)
                         for c, t in schema.items()])


def iban_ok(ibans: pl.Series) -> pl.Series:
    """schwifty's verdict per IBAN (checked once per distinct value; null → False)."""
    from schwifty import IBAN

    def ok(text: str | None) -> bool:
        if not text:
            return False
        try:
            IBAN(text)
        except ValueError:                      # schwifty's exceptions subclass ValueError
            return False
        return True

    verdict = {v: ok(v) for v in ibans.unique().to_list()}
    return ibans.replace_strict(verdict, default=False, return_dtype=pl.Boolean)


def remittance_expr(setoff: pl.Expr) -> pl.Expr:
    """The remittance text (module docstring) from ``kassenzeichen`` and ``received_on``."""
    base = (pl.when(pl.col("kassenzeichen").is_not_null() & (pl.col("kassenzeichen") != ""))
            .then(pl.format("Erstattung Kassenzeichen {}", pl.col("kassenzeichen")))
            .otherwise(pl.format("Erstattung Zahlung vom {}", pl.col("received_on").dt.strftime("%d.%m.%Y"))))
    return pl.when(setoff).then(pl.concat_str(base, pl.lit(SETOFF_SUFFIX))).otherwise(base)


def payable(due: pl.DataFrame, booked: pl.DataFrame, *, charset: Charset = Charset.DK
            ) -> tuple[pl.DataFrame, pl.DataFrame]:
    """``(candidates, skipped)``: the refunds with money left (``amount_cents`` = what is left) and a payee
    the file can carry, and the others with their reason (first that applies: ``already_paid``,
    ``iban_invalid``, ``no_payee_name``, ``payee_name_invalid``, ``remittance_too_long``)."""
    d = _conform(due, DUE_SCHEMA).with_columns(
        pl.col("payee_iban").str.replace_all(r"\s", "").str.to_uppercase(),
        pl.col("payee_name").str.strip_chars())
    given = _conform(booked, BOOKED_SCHEMA).group_by("source_id").agg(pl.col("amount_cents").sum().alias("given"))
    d = d.with_columns(iban_ok(d["payee_iban"]).alias("_iban"))
    d = (d.join(given, on="source_id", how="left", maintain_order="left")
         .with_columns((pl.col("amount_cents") - pl.col("given").fill_null(0)).alias("amount_cents"))
         .drop("given").with_row_index("_row"))
    # the longest text the transfer may get (with the set-off suffix) must fit; names as delivered
    texts = d.select(pl.col("payee_name"), remittance_expr(pl.lit(True)).alias("remittance"))
    issues = check_text(texts, {"payee_name": FieldKind.NAME, "remittance": FieldKind.REMITTANCE}, charset=charset)
    first = issues.group_by("row", "field").agg(pl.col("problem").first(), pl.col("character").first())
    bad_name = first.filter(pl.col("field") == "payee_name").select(
        pl.col("row").cast(pl.UInt32).alias("_row"),
        pl.format("{} {}", pl.col("problem"), pl.col("character").fill_null("")).str.strip_chars().alias("_name"))
    bad_text = first.filter(pl.col("field") == "remittance").select(pl.col("row").cast(pl.UInt32).alias("_row"),
                                                                    pl.lit(True).alias("_long"))
    d = d.join(bad_name, on="_row", how="left").join(bad_text, on="_row", how="left")
    reason = (pl.when(pl.col("amount_cents") <= 0).then(pl.lit(PayoutSkip.ALREADY_PAID.value))
              .when(~pl.col("_iban")).then(pl.lit(PayoutSkip.IBAN_INVALID.value))
              .when(pl.col("payee_name").is_null() | (pl.col("payee_name") == ""))
              .then(pl.lit(PayoutSkip.NO_PAYEE_NAME.value))
              .when(pl.col("_name").is_not_null()).then(pl.lit(PayoutSkip.PAYEE_NAME_INVALID.value))
              .when(pl.col("_long").fill_null(False)).then(pl.lit(PayoutSkip.REMITTANCE_TOO_LONG.value)))
    detail = (pl.when(reason == PayoutSkip.IBAN_INVALID.value).then(pl.col("payee_iban"))
              .when(reason == PayoutSkip.PAYEE_NAME_INVALID.value)
              .then(pl.format("{}: {}", pl.col("_name"), pl.col("payee_name"))))
    d = d.with_columns(reason.alias("reason"), detail.alias("detail")).sort("_row")
    skipped = _conform(d.filter(pl.col("reason").is_not_null()), SKIPPED_SCHEMA)
    return d.filter(pl.col("reason").is_null()).select(list(DUE_SCHEMA)), skipped


def end_to_end_id(execution_date: date) -> pl.Expr:
    """``ERS<yymmdd>-<source_id>`` with the source id reduced to letters, digits and hyphens and cut to fit
    35 characters (a uuid keeps 25 of its 36 characters: still unique in practice; the ledger refuses a
    repeated id anyway)."""
    head = f"{E2E_PREFIX}{execution_date:%y%m%d}-"
    room = MAX_LENGTH[FieldKind.ID] - len(head)
    tail = pl.col("source_id").str.replace_all(r"[^A-Za-z0-9-]", "").str.slice(0, room).str.strip_chars("-")
    return pl.concat_str(pl.lit(head), tail)


def transfers(credits: pl.DataFrame, candidates: pl.DataFrame, execution_date: date
              ) -> tuple[pl.DataFrame, pl.DataFrame]:
    """``(transfers, set_off_in_full)``: the credit transfers of what the set-off left (``credits``: the
    result of :func:`collection.setoff.set_off` over ``candidates``), and the refunds nothing is left of."""
    c = credits.select("source_id", "debtor_id", pl.col("amount_cents").alias("credit_cents"), "setoff_cents",
                       "payout_cents").join(candidates.select("source", "source_id", "transaction_id", "payee_name",
                                                               "payee_iban", "kassenzeichen", "received_on"),
                                            on="source_id", how="inner")
    full = c.filter(pl.col("payout_cents") <= 0).select(
        "source", "source_id", "transaction_id", pl.col("credit_cents").alias("amount_cents"),
        pl.lit(PayoutSkip.SET_OFF_IN_FULL.value).alias("reason"),
        pl.format("{} set off", pl.col("setoff_cents")).alias("detail"))
    out = (c.filter(pl.col("payout_cents") > 0)
           .with_columns(end_to_end_id(execution_date).alias("end_to_end_id"),
                         remittance_expr(pl.col("setoff_cents") > 0).alias("remittance"),
                         pl.col("payout_cents").alias("amount_cents"))
           .sort("end_to_end_id"))
    return _conform(out, TRANSFER_SCHEMA), _conform(full, SKIPPED_SCHEMA)


__all__ = ["BOOKED_SCHEMA", "DUE_SCHEMA", "SKIPPED_SCHEMA", "TRANSFER_SCHEMA", "end_to_end_id", "iban_ok", "payable",
           "remittance_expr", "transfers"]
