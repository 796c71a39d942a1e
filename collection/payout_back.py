"""Our payouts come back on the statement: the outgoing transfer booked, or the transfer returned.

The payout record (ledger ``payouts``, one row per credit transfer of a booked pain.001 file) says which
bank rows are ours. Frames only: the nightly run books what comes out (``jobs/nightly/payout_back.py``).

**Outgoing transfer booked** (:func:`book_outgoing`). A booked debit is one of our payouts when it names
one by its end-to-end id (camt ``EndToEndId``, MT940 ``EREF+``); else it is one of our batches when its
``batch_ref`` (camt ``PmtInfId``/``Btch``, MT940 ``KREF+``) is a PmtInfId or MsgId of the record, or,
failing that, exactly one of those ids is quoted in its texts (remittance, bank reference). A single
debit must be the payout's amount, a batch debit the sum of the batch's payouts (German banks book a
pain.001 with ``BtchBookg`` as one entry, GVC 191). A fitting debit gives one ``payout_bookings`` row
per payout (the bank booked it: the money has left). Never a wrong booking — held for a clerk
(:class:`claims.vocab.PayoutHold`): ``payout_amount_mismatch`` (not the payout's amount, not the batch's
sum) and ``payout_duplicate`` (the payout was booked before, or two debits of this run name it).
Debits naming none of our payouts go on unchanged (the matcher counts them as other debits).

**Returned transfer** (:func:`take_returns`). A booked credit with a return reason (camt ``RtrInf``;
MT940 GVC 159/160 with ``?34``, turned into the ISO code by :mod:`collection.return_codes`) names the
payout by its end-to-end id, else by the payee's IBAN (the returning account) and the amount — exactly
one payout not returned before. The amount must be the payout's: as credited, as the original amount, or
credited plus the charges the returning bank reports (a bank may keep a fee). A fitting return gives

* a ``payout_returns`` row: the payout (its source and source id: which refund) is **reopened as a
  refund waiting for a new IBAN** — the row itself is that state, until a later payout of the same
  source id (to another IBAN) is booked (``ledger/payout_back_state.py`` reads it);
* a ``payee_blocks`` row: the IBAN the money came back from is blocked for payouts (since the return's
  booking day, the reason code, the end-to-end id); the payout job skips blocked IBANs
  (:func:`skip_blocked`). Lifting a block is a clerk's act.

Held: ``payout_return_unmatched`` (names one of our end-to-end ids but the amount does not fit) and
``payout_return_duplicate`` (the payout came back before, or twice in this run). A return naming none of
our payouts goes on to the matcher.
"""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

from claims.vocab import PayoutHold

#: A booked payout as the nightly run reads it from ledger ``payouts`` (the columns it needs).
PAID_SCHEMA: dict[str, pl.DataType] = {
    "tenant": pl.String(),
    "message_id": pl.String(),
    "pmtinf_id": pl.String(),
    "end_to_end_id": pl.String(),
    "source": pl.String(),
    "source_id": pl.String(),
    "debtor_id": pl.String(),
    "payee_iban": pl.String(),
    "amount_cents": pl.Int64(),
    "execution_date": pl.Date(),
}

#: The bank booked a payout (the debit of the outgoing transfer; a batch debit gives one row per payout).
BOOKING_SCHEMA: dict[str, pl.DataType] = {
    "tenant": pl.String(),
    "end_to_end_id": pl.String(),
    "pmtinf_id": pl.String(),
    "transaction_id": pl.String(),        # the bank debit
    "booking_date": pl.Date(),
    "amount_cents": pl.Int64(),           # the payout's amount (> 0)
}

#: A payout that came back: reopened as a refund waiting for a new IBAN.
PAYOUT_RETURN_SCHEMA: dict[str, pl.DataType] = {
    "tenant": pl.String(),
    "end_to_end_id": pl.String(),
    "source": pl.String(),
    "source_id": pl.String(),
    "debtor_id": pl.String(),
    "payee_iban": pl.String(),            # the IBAN it was sent to (now blocked)
    "reason_code": pl.String(),           # ISO ExternalReturnReason (AC04, AC01 …)
    "return_date": pl.Date(),             # the booking date of the return credit
    "amount_cents": pl.Int64(),           # the payout's amount (> 0)
    "transaction_id": pl.String(),        # the bank credit of the return
}

#: An IBAN blocked for payouts.
BLOCK_SCHEMA: dict[str, pl.DataType] = {
    "tenant": pl.String(),
    "iban": pl.String(),
    "since": pl.Date(),
    "reason": pl.String(),                # the return's reason code
    "end_to_end_id": pl.String(),         # the payout that came back
}

#: A bank row of ours held for a clerk.
HELD_SCHEMA: dict[str, pl.DataType] = {"transaction_id": pl.String(), "reason": pl.String()}

#: The bank rows these functions read (parsers.schema.TRANSACTION_SCHEMA's names).
TX_COLUMNS = ("tenant", "transaction_id", "bank_ref", "booking_date", "amount_cents", "end_to_end_id",
              "customer_ref", "remittance", "return_reason", "counterparty_iban", "original_amount_cents",
              "charges_cents")


def _iban(expr: pl.Expr) -> pl.Expr:
    return expr.str.replace_all(" ", "", literal=True).str.to_uppercase()


def _cast(frame: pl.LazyFrame, schema: dict[str, pl.DataType]) -> pl.LazyFrame:
    return frame.select([pl.col(k).cast(v) for k, v in schema.items()])


@dataclass(frozen=True, slots=True)
class Outgoing:
    """What :func:`book_outgoing` gives."""

    bookings: pl.DataFrame                # BOOKING_SCHEMA
    held: pl.DataFrame                    # HELD_SCHEMA (PayoutHold)
    taken: pl.DataFrame                   # transaction_id of every debit that is ours (booked or held)


def book_outgoing(debits: pl.DataFrame, paid: pl.DataFrame, prior: pl.DataFrame) -> Outgoing:
    """Which of the booked ``debits`` (TX_COLUMNS, amount < 0) are our payouts (module docstring).
    ``paid``: the payout record (PAID_SCHEMA); ``prior``: the bookings so far (BOOKING_SCHEMA)."""
    d = debits.lazy().with_columns(pl.col("amount_cents").abs().alias("out"),
                                   pl.col("customer_ref").str.strip_chars().alias("batch_ref"))
    pay = paid.lazy()
    done = prior.lazy().select("tenant", "end_to_end_id").unique().with_columns(pl.lit(True).alias("_before"))
    # 1. by end-to-end id: one payout
    single = d.join(pay.select("tenant", "end_to_end_id", "pmtinf_id", pl.col("amount_cents").alias("_amt")),
                    on=["tenant", "end_to_end_id"])
    # 2. the rest by batch: PmtInfId / MsgId in batch_ref, else exactly one of them in the texts
    ids = pl.concat([pay.select("tenant", pl.col("pmtinf_id").alias("batch"), "pmtinf_id"),
                     pay.select("tenant", pl.col("message_id").alias("batch"), "pmtinf_id")]).unique().collect()
    known = ids["batch"].drop_nulls().unique()
    rest = d.join(single.select("transaction_id"), on="transaction_id", how="anti")
    direct = rest.filter(pl.col("batch_ref").is_in(known.implode()))
    texts = rest.join(direct.select("transaction_id"), on="transaction_id", how="anti").with_columns(
        pl.concat_str(pl.col("remittance").fill_null(""), pl.lit(" "), pl.col("bank_ref").fill_null(""))
        .str.extract_many(known.to_list() or [""], overlapping=False).list.unique().alias("_found"))
    found = texts.filter(pl.col("_found").list.len() == 1).with_columns(
        pl.col("_found").list.first().alias("batch_ref")).drop("_found")
    # a batch debit's own end-to-end id (if any) is none of ours: its payouts' ids take its place
    batch = (pl.concat([direct, found]).drop("end_to_end_id")
             .join(ids.lazy(), left_on=["tenant", "batch_ref"], right_on=["tenant", "batch"])
             .join(pay.select("tenant", "pmtinf_id", "end_to_end_id", pl.col("amount_cents").alias("_amt")),
                   on=["tenant", "pmtinf_id"]))
    cols = ["tenant", "transaction_id", "booking_date", "out", "end_to_end_id", "pmtinf_id", "_amt"]
    items = pl.concat([single.select(cols), batch.select(cols)]).join(
        done, on=["tenant", "end_to_end_id"], how="left").with_columns(
        # the same payout named by two debits of this run: the first (by transaction_id) is the one
        pl.col("transaction_id").rank("dense").over("tenant", "end_to_end_id").alias("_nth"))
    per = items.group_by("transaction_id").agg(
        pl.col("_amt").sum().alias("total"), pl.col("out").first(),
        pl.col("_before").fill_null(False).any().alias("before"), pl.col("_nth").max().alias("nth"))
    verdict = per.with_columns(
        pl.when(pl.col("before") | (pl.col("nth") > 1)).then(pl.lit(str(PayoutHold.PAYOUT_DUPLICATE)))
        .when(pl.col("total") != pl.col("out")).then(pl.lit(str(PayoutHold.PAYOUT_AMOUNT_MISMATCH)))
        .alias("reason")).collect()
    ok = verdict.filter(pl.col("reason").is_null()).select("transaction_id")
    bookings = _cast(items.join(ok.lazy(), on="transaction_id").with_columns(pl.col("_amt").alias("amount_cents")),
                     BOOKING_SCHEMA).sort("transaction_id", "end_to_end_id").collect()
    held = verdict.filter(pl.col("reason").is_not_null()).select(
        [pl.col(k).cast(v) for k, v in HELD_SCHEMA.items()]).sort("transaction_id")
    return Outgoing(bookings, held, verdict.select("transaction_id"))


@dataclass(frozen=True, slots=True)
class Returned:
    """What :func:`take_returns` gives."""

    returned: pl.DataFrame                # PAYOUT_RETURN_SCHEMA
    blocks: pl.DataFrame                  # BLOCK_SCHEMA
    held: pl.DataFrame                    # HELD_SCHEMA (PayoutHold)


def take_returns(credits: pl.DataFrame, paid: pl.DataFrame, prior_returned: pl.DataFrame) -> Returned:
    """Match the booked return ``credits`` (TX_COLUMNS, amount > 0, ``return_reason`` set, ISO code) to
    the payouts they bring back (module docstring). ``prior_returned``: PAYOUT_RETURN_SCHEMA so far."""
    r = credits.lazy().with_columns(pl.col("amount_cents").abs().alias("back"),
                                    pl.col("return_reason").str.strip_chars().str.to_uppercase().alias("reason_code"),
                                    _iban(pl.col("counterparty_iban")).alias("_iban"))
    pay = paid.lazy().select("tenant", "end_to_end_id", "source", "source_id", "debtor_id", "payee_iban",
                             "execution_date", pl.col("amount_cents").alias("paid"))
    before = prior_returned.lazy().select("tenant", "end_to_end_id").unique()
    by_id = r.filter(pl.col("end_to_end_id").is_not_null()).join(pay, on=["tenant", "end_to_end_id"]) \
        .with_columns(pl.lit(True).alias("_by_id"))
    fits = ((pl.col("paid") == pl.col("back")) | (pl.col("paid") == pl.col("original_amount_cents"))
            | (pl.col("paid") == pl.col("back") + pl.col("charges_cents").fill_null(0))).fill_null(False)
    # without one of our end-to-end ids: the account it came back from and the amount, one payout only
    loose = (r.join(by_id.select("transaction_id"), on="transaction_id", how="anti").drop("end_to_end_id")
             .join(pay.with_columns(_iban(pl.col("payee_iban")).alias("_iban")), on=["tenant", "_iban"])
             .filter(fits).join(before, on=["tenant", "end_to_end_id"], how="anti")
             .filter(pl.len().over("transaction_id") == 1).with_columns(pl.lit(False).alias("_by_id"))
             .select(by_id.collect_schema().names()))
    m = pl.concat([by_id, loose]).filter(pl.col("execution_date") <= pl.col("booking_date")).with_columns(
        fits.alias("fits"),
        pl.col("transaction_id").rank("ordinal").over("tenant", "end_to_end_id").alias("_nth"),
    ).join(before.with_columns(pl.lit(True).alias("_before")), on=["tenant", "end_to_end_id"], how="left")
    dup = pl.col("_before").fill_null(False) | (pl.col("_nth") > 1)
    good = m.filter(pl.col("fits") & ~dup)
    held = pl.concat([
        m.filter(pl.col("fits") & dup).select("transaction_id", pl.lit(str(PayoutHold.PAYOUT_RETURN_DUPLICATE))
                                              .alias("reason")),
        m.filter(~pl.col("fits")).select("transaction_id", pl.lit(str(PayoutHold.PAYOUT_RETURN_UNMATCHED))
                                         .alias("reason")),
    ]).unique("transaction_id", keep="first").sort("transaction_id")
    returned = _cast(good.with_columns(pl.col("booking_date").alias("return_date"), pl.col("paid").alias("amount_cents")),
                     PAYOUT_RETURN_SCHEMA)
    blocks = _cast(good.with_columns(_iban(pl.col("payee_iban")).alias("iban"), pl.col("booking_date").alias("since"),
                                     pl.col("reason_code").alias("reason")), BLOCK_SCHEMA)
    return Returned(returned.sort("transaction_id").collect(),
                    blocks.unique(["tenant", "iban"], keep="first", maintain_order=True).sort("iban").collect(),
                    held.select([pl.col(k).cast(v) for k, v in HELD_SCHEMA.items()]).collect())


def skip_blocked(payouts: pl.DataFrame, blocks: pl.DataFrame, *, iban_column: str = "payee_iban"
                 ) -> tuple[pl.DataFrame, pl.DataFrame]:
    """``(kept, skipped)``: ``payouts`` whose IBAN (``iban_column``, spaces and case ignored) is not /
    is in ``blocks`` (BLOCK_SCHEMA, or any frame with ``iban``); ``skipped`` carries the block's
    ``since``, ``reason`` and ``end_to_end_id`` as ``blocked_since``, ``blocked_reason``,
    ``blocked_by_end_to_end_id``. For the payout job: a returned transfer's IBAN is never paid to again
    until a clerk lifts the block."""
    key = _iban(pl.col(iban_column)).alias("_iban")
    b = blocks.select(pl.col("iban").alias("_iban"), pl.col("since").alias("blocked_since"),
                      pl.col("reason").alias("blocked_reason"),
                      pl.col("end_to_end_id").alias("blocked_by_end_to_end_id")).unique("_iban", keep="first")
    marked = payouts.with_columns(key)
    kept = marked.join(b.select("_iban"), on="_iban", how="anti").drop("_iban")
    skipped = marked.join(b, on="_iban", how="inner").drop("_iban")
    return kept, skipped


__all__ = ["BLOCK_SCHEMA", "BOOKING_SCHEMA", "HELD_SCHEMA", "PAID_SCHEMA", "PAYOUT_RETURN_SCHEMA", "TX_COLUMNS",
           "Outgoing", "Returned", "book_outgoing", "skip_blocked", "take_returns"]
