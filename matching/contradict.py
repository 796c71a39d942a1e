"""Evidence that points at two debtors, and payments from abroad short by the banks' charges.

**Contradicting evidence.** A payment quotes a Kassenzeichen of debtor X with exactly its open amount,
but comes from an account on file for exactly one other debtor Y. If Y has an open item of exactly the
paid amount and of a claim type among X's designated items, the reference and the payer tell two
stories (Y paying their own claim with the neighbour's notice in hand, or a notice handed to the wrong
household): the payment is held as ``evidence_conflict`` with X's and Y's items as candidates. A
Kassenzeichen found only by typo repair counts for less than an account on file: against another
debtor's account it is held whatever Y owes. Y paying for X on purpose is booked by the reference when
Y owes nothing of that amount, or when the ultimate party (``für``/on behalf of) names X and not Y.
(A payment whose amount does not fit is held as ``reference_other_debtor`` already.)

Cheap for the common case: the fast lane's payments whose payer's IBAN is the one their item holds
(or who give none) cannot point elsewhere and are never asked (:func:`doubtful`); the others' IBANs
join the one scan of the items' IBANs the decisions make anyway, and only the payments whose IBAN has
an owner other than the reference's debtor are looked at further — the amount probe runs for those.

**Bank charges.** A payment from a foreign IBAN, or one whose bank reports charges or an original
amount, that quotes a Kassenzeichen (exactly, or as a window) and falls short of the designated open
amount by no more than the tenant's bound (``charges_max_percent`` of it and ``charges_max``) is the
debtor's payment less the banks' fees: booked as received, the rest stays open, even when the name
the foreign bank hands on is not recognised (:func:`short_by_charges`). Never when the IBAN is on file
for another debtor: that is held as ``reference_other_debtor`` before.
"""

from __future__ import annotations

from typing import NamedTuple

import polars as pl

from claims.vocab import Rule, UnresolvedReason
from matching.config import MatchConfig
from matching.evidence import LEVEL
from matching.names import name_words, same_words

#: Evidence levels (see :mod:`matching.evidence`): the first repaired reading (letters for digits, then
#: the typo repair: a reference read so is as uncertain as a typo against another debtor's account), and
#: the IBAN fallback's (the level Y's items are shown with: an account on file and the amount).
REPAIRED, IBAN_AMOUNT = LEVEL[Rule.REFERENCE_LETTERS], LEVEL[Rule.IBAN_AMOUNT]


class Contradicted(NamedTuple):
    """``held``: (_t, reason) of the payments whose evidence contradicts itself; ``shown``: (_t, _r, level)
    their candidates — the items their reference names and the payer's items of the amount, ``_r`` the
    export's row numbers."""

    held: pl.DataFrame
    shown: pl.DataFrame


def doubtful(found: pl.DataFrame, unsure: pl.Series, piban: pl.Series, rec: pl.DataFrame) -> pl.Series:
    """The fast lane's payments (``found``: transaction_id, _r; those not in ``unsure``) whose payer's
    IBAN (``piban``, compact, by payment number) is given and is not the value their item holds: only
    these may come from another debtor's account. (An IBAN equal to the item's is the debtor's own, or
    shared by several debtors and so no one's: it never contradicts.) The items' IBANs are read at
    sorted rows, cheap from a column in many chunks."""
    sure = found.filter(~pl.col("transaction_id").is_in(unsure.implode()))
    sure = sure.with_columns(piban.gather(sure["transaction_id"]).alias("iban")).filter(pl.col("iban").is_not_null())
    sure = sure.sort("_r")
    own = rec["debtor_iban"].gather(sure["_r"])
    return sure.filter(own.is_null() | (own != sure["iban"]))["transaction_id"]


def payers_known(asked: pl.Series, piban: pl.Series, owners: pl.DataFrame) -> pl.DataFrame:
    """(_t, payer_debtor) of the payments ``asked`` whose IBAN is on file for exactly one debtor
    (``owners`` of :func:`matching.evidence.iban_owner`)."""
    return (
        pl.DataFrame({"_t": asked, "iban": piban.gather(asked)})
        .join(owners, on="iban")
        .select("_t", "payer_debtor")
    )


def contradicted(found: pl.DataFrame, known: pl.DataFrame, pay: pl.DataFrame, rec: pl.DataFrame) -> Contradicted:
    """The payments of ``found`` (_t, _r, level; sorted, distinct) whose evidence names debtors other than
    the known owner of their account (``known``: _t, payer_debtor) while the amount fits exactly: see the
    module doc. ``pay``: amount_cents and ultimate_party by payment number; ``rec``: the export."""
    ev = found.join(known, on="_t").filter(pl.col("level") < IBAN_AMOUNT)
    empty = Contradicted(pl.DataFrame(schema={"_t": found.schema["_t"], "reason": pl.String()}), found.clear())
    if ev.is_empty():
        return empty
    # the amount fits the designated items (else ``reference_other_debtor`` holds it): integers first,
    # most payments asked about are partial or over-payments; the strings only for the rest
    ev = ev.sort("_r").with_columns(rec["amount_cents"].gather(ev["_r"].sort()))
    fit = ev.group_by("_t").agg(pl.col("amount_cents").sum().alias("open_sum"))
    fit = fit.filter((pl.col("open_sum") == pay["amount_cents"].gather(fit["_t"])) & (pl.col("open_sum") > 0))
    ev = ev.filter(pl.col("_t").is_in(fit["_t"].implode()))
    if ev.is_empty():
        return empty
    # the payer's debtor is none of the designated items' debtors (most: the payer is the debtor)
    ev = ev.with_columns(rec["debtor_id"].gather(ev["_r"]))
    own = ev.filter(pl.col("debtor_id") == pl.col("payer_debtor"))["_t"]
    ev = ev.filter(~pl.col("_t").is_in(own.implode()))
    if ev.is_empty():
        return empty
    ev = ev.with_columns(rec["claim_type"].gather(ev["_r"]))
    per = ev.group_by("_t").agg(
        pl.col("level").first(), pl.col("payer_debtor").first(),
        pl.col("amount_cents").sum().alias("amount"),
        pl.col("debtor_id").n_unique().alias("n_debtors"),
        pl.col("claim_type").unique().alias("types"),
    )
    # the payer's own items of exactly the amount and of a claim type the reference's items have: one
    # integer probe of the amounts, then the few items left by debtor
    amounts = rec["amount_cents"]
    at = (amounts.is_in(per["amount"].unique().implode()) & (amounts > 0)).arg_true()
    theirs = pl.DataFrame({"_r": at.cast(found.schema["_r"]), "debtor_id": rec["debtor_id"].gather(at),
                           "amount": amounts.gather(at)}).filter(pl.col("debtor_id").is_in(per["payer_debtor"].unique().implode()))
    theirs = theirs.with_columns(rec[c].gather(theirs["_r"]) for c in ("claim_type", "debtor_name"))
    rival = (
        per.select("_t", "payer_debtor", "amount", pl.col("types").alias("claim_type")).explode("claim_type")
        .join(theirs, left_on=["payer_debtor", "amount", "claim_type"], right_on=["debtor_id", "amount", "claim_type"])
        .select("_t", "_r", "debtor_name")
    )
    by_reference = per.filter((pl.col("level") < REPAIRED) & pl.col("_t").is_in(rival["_t"].implode()))
    # the ultimate party names the reference's debtor and not the payer's: paid for X on purpose
    named = by_reference.filter(pl.col("n_debtors") == 1)
    named = named.filter(pay["ultimate_party"].gather(named["_t"]).is_not_null())
    lifted = _for_the_debtor(named, rival, pay, rec, ev)
    held = pl.concat([per.filter(pl.col("level") >= REPAIRED)["_t"], by_reference["_t"].filter(~by_reference["_t"].is_in(lifted.implode()))])
    shown = pl.concat([
        ev.filter(pl.col("_t").is_in(held.implode())).select("_t", "_r", "level"),
        rival.filter(pl.col("_t").is_in(held.implode())).select("_t", "_r", pl.lit(IBAN_AMOUNT, found.schema["level"]).alias("level")),
    ]).unique(["_t", "_r"], keep="first", maintain_order=True)
    return Contradicted(
        held.sort().to_frame("_t").with_columns(pl.lit(UnresolvedReason.EVIDENCE_CONFLICT, pl.String()).alias("reason")),
        shown.sort("_t", "_r"),
    )


def _for_the_debtor(named: pl.DataFrame, rival: pl.DataFrame, pay: pl.DataFrame, rec: pl.DataFrame,
                    ev: pl.DataFrame) -> pl.Series:
    """The payments of ``named`` (one debtor designated, an ultimate party given) whose ultimate party is
    recognisably the designated debtor and recognisably none of the payer's debtor's rival items."""
    if named.is_empty():
        return named["_t"]
    xs = ev.join(named.select("_t"), on="_t", how="semi")
    x = xs.select("_t", rec["debtor_name"].gather(xs["_r"]).alias("x_name")).group_by("_t").agg(pl.col("x_name").min())
    words = x.with_columns(pay["ultimate_party"].gather(x["_t"]).alias("up")).with_columns(
        name_words(pl.col("up")).alias("uw"), name_words(pl.col("x_name")).alias("xw"))
    for_x = words.filter(same_words(pl.col("uw"), pl.col("xw"))).select("_t", "uw")
    y = rival.join(for_x, on="_t").with_columns(name_words(pl.col("debtor_name")).alias("yw"))
    for_y = y.filter(same_words(pl.col("uw"), pl.col("yw")))["_t"]
    return for_x["_t"].filter(~for_x["_t"].is_in(for_y.implode()))


def short_by_charges(doubt: pl.DataFrame, pay: pl.DataFrame, cfg: MatchConfig) -> pl.Series:
    """The payments of ``doubt`` (rows of the per-payment frame: _t, tier, amount_cents, open_sum; amount
    not fitting, payer not the known owner of another debtor's account) that quote a Kassenzeichen
    (tiers 0–1), come from abroad (an IBAN of another country than DE) or carry the banks' charges
    (``charges_cents``, or an original amount above the amount received), and fall short of the open
    sum by at most ``charges_max_percent`` of it and ``charges_max_cents``."""
    short = pl.col("open_sum") - pl.col("amount_cents")
    bound = pl.min_horizontal(pl.lit(cfg.charges_max_cents), pl.col("open_sum") * cfg.charges_max_percent / 100)
    near = doubt.filter((pl.col("tier") < REPAIRED) & (short > 0) & (short <= bound))
    if near.is_empty():
        return near["_t"]
    t = near["_t"]
    iban = pay["counterparty_iban"].gather(t)
    abroad = iban.str.contains(r"^[A-Z]{2}[0-9]{2}").fill_null(False) & ~iban.str.starts_with("DE").fill_null(False)
    original = pay["original_amount_cents"].gather(t)
    charged = (pay["charges_cents"].gather(t).fill_null(0) > 0) | (original > near["amount_cents"]).fill_null(False)
    return t.filter(abroad | charged)
