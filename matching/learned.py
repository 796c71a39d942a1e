"""Rules learned from the clerks: proposed from their decisions, applied only once a supervisor approved.

When clerks assign payments from the same payer IBAN to the same debtor again and again (and never to
another debtor), :func:`propose_rules` proposes a rule ``iban_to_debtor``: this IBAN pays for that debtor.
Nothing is learned silently: a proposal is only shown on the review page; a user adopts it, a supervisor
who is neither that user nor one of the clerks whose decisions are its evidence approves it
(``ledger.rule_journal``), and only approved rules that are neither expired nor revoked reach the matcher.

:func:`apply_rules` is the matcher's hook. A rule is evidence of its own kind (``Rule.LEARNED_RULE``),
weaker than any reference and never used against one:

* it books only a payment nothing reference-like was found in (``no_reference``), onto the one open
  item of the rule's debtor whose open amount is exactly the payment (none: held as before; several:
  ``ambiguous``; an item another payment of the run takes too: ``conflict``);
* a payment whose reference designates an item of *another* debtor than its payer IBAN's rule is held
  (``learned_rule_contradicted``), not booked by the reference either: two pieces of evidence name
  two debtors;
* so is a payment whose payer IBAN is on file (``debtor_iban``) for another debtor than the rule's.

Set-based and cheap: with no rules nothing runs; with rules only the payments whose IBAN is a rule's key
are looked at (one string pass over the payers' IBANs, a probe of a few keys).

>>> import polars as pl
>>> h = pl.DataFrame({"decision_id": ["d1", "d2", "d3"], "decided_by": ["anna", "anna", "ben"],
...                   "decided_at": ["2026-01-02", "2026-02-02", "2026-03-02"],
...                   "counterparty_iban": ["DE02 1203 0000 0000 2020 51"] * 3, "debtor_id": ["D7"] * 3})
>>> propose_rules(h, min_decisions=3).select("key", "target", "evidence_count", "evidence_users").row(0)
('DE02120300000000202051', 'D7', 3, 'anna,ben')
"""

from __future__ import annotations

from typing import NamedTuple

import polars as pl

from claims.vocab import Rule, RuleKind, RuleState, UnresolvedReason
from matching.evidence import iban_owner
from parsers.validity import compact_iban

#: The rules the matcher applies (approved, in force on the booking date; chosen by the caller).
RULE_SCHEMA: dict[str, pl.DataType] = {
    "rule_id": pl.String(),
    "kind": pl.String(),                  # RuleKind
    "key": pl.String(),                   # iban_to_debtor: the payer IBAN, compact (no blanks, upper case)
    "target": pl.String(),                # iban_to_debtor: the debtor_id
}

#: One row per (booked clerk decision, debtor it assigned money to): the history proposals are read from.
HISTORY_SCHEMA: dict[str, pl.DataType] = {
    "decision_id": pl.String(),
    "decided_by": pl.String(),
    "decided_at": pl.String(),
    "counterparty_iban": pl.String(),
    "debtor_id": pl.String(),
}

#: What :func:`propose_rules` returns: a rule not yet on file, with its evidence.
PROPOSAL_SCHEMA: dict[str, pl.DataType] = {
    "kind": pl.String(),
    "key": pl.String(),
    "target": pl.String(),
    "evidence_count": pl.Int64(),         # clerk decisions behind it
    "evidence_users": pl.String(),        # their authors, sorted, comma-separated (may not approve it)
    "first_at": pl.String(),
    "last_at": pl.String(),
}

#: Candidates' score of a learned rule (shown to people only; never used to decide money).
CONFIDENCE = 0.85


def propose_rules(history: pl.DataFrame, rules: pl.DataFrame | None = None, *, min_decisions: int) -> pl.DataFrame:
    """Rules ``iban_to_debtor`` the clerks' decisions ``history`` (:data:`HISTORY_SCHEMA`) suggest.

    An IBAN is proposed for a debtor when at least ``min_decisions`` booked decisions assigned its payments
    to that debtor and none assigned one to another debtor (a decision splitting money over two debtors
    counts against). Left out: keys with a rule that is proposed or approved (any target), and the same
    key and target once revoked (a supervisor said no to exactly that); an expired rule may come again.
    ``rules``: the rules on file with ``kind``, ``key``, ``target`` and ``state`` (:class:`RuleState`).
    """
    h = history.select(
        "decision_id", "decided_by", "decided_at", "debtor_id",
        compact_iban(pl.col("counterparty_iban")).alias("key"),
    ).filter(pl.col("key").is_not_null() & (pl.col("key") != "") & pl.col("debtor_id").is_not_null())
    found = (
        h.group_by("key")
        .agg(
            pl.col("debtor_id").n_unique().alias("n_debtors"),
            pl.col("debtor_id").first().alias("target"),
            pl.col("decision_id").n_unique().alias("evidence_count"),
            pl.col("decided_by").unique().sort().str.join(",").alias("evidence_users"),
            pl.col("decided_at").min().alias("first_at"),
            pl.col("decided_at").max().alias("last_at"),
        )
        .filter((pl.col("n_debtors") == 1) & (pl.col("evidence_count") >= min_decisions))
        .with_columns(pl.lit(RuleKind.IBAN_TO_DEBTOR).alias("kind"), pl.col("evidence_count").cast(pl.Int64))
    )
    if rules is not None and rules.height:
        live = rules.filter(pl.col("state").is_in([RuleState.PROPOSED, RuleState.APPROVED]))
        said_no = rules.filter(pl.col("state") == RuleState.REVOKED).select("kind", "key", "target")
        found = (found.join(live.select("kind", "key").unique(), on=["kind", "key"], how="anti")
                 .join(said_no.unique(), on=["kind", "key", "target"], how="anti"))
    return found.select(list(PROPOSAL_SCHEMA)).sort("key")


class Applied(NamedTuple):
    """:func:`apply_rules`' result: the matcher's frames with the rules' bookings and holds in them."""

    book: pl.DataFrame
    held: pl.DataFrame
    cands: pl.DataFrame
    kept: pl.DataFrame
    by_rule: pl.DataFrame                  # transaction_id, receivable_id, rule_id of each booking by a rule


def apply_rules(
    pay: pl.DataFrame, rec: pl.DataFrame, book: pl.DataFrame, held: pl.DataFrame, cands: pl.DataFrame,
    kept: pl.DataFrame, rules: pl.DataFrame,
) -> Applied:
    """Apply the ``rules`` (:data:`RULE_SCHEMA`, approved and in force) to what designation decided.

    ``pay``: the payments (``transaction_id`` their number, ``amount_cents``, ``counterparty_iban``);
    ``rec``: every open item (row ``_r`` = its number); ``book``, ``held``, ``cands``, ``kept``: the frames
    of :func:`matching.designate.designate`, returned with the rules' bookings added and the
    contradicted payments moved from ``book`` to ``held``.
    """
    tkey = book.schema.get("transaction_id", pay.schema["transaction_id"])
    none = pl.DataFrame(schema={"transaction_id": tkey, "receivable_id": pl.String(), "rule_id": pl.String()})
    rules = rules.filter(pl.col("kind") == RuleKind.IBAN_TO_DEBTOR).unique("key", keep="first")
    if rules.height == 0 or pay.height == 0:
        return Applied(book, held, cands, kept, none)
    keys = rules["key"].implode()
    # most IBANs come compact from the bank: probed as they are; only the few with blanks or lower case
    # are made compact first (a string pass over a million payers costs more than the probe)
    raw = pl.col("key")
    hit = (
        pay.select("transaction_id", "amount_cents", pl.col("counterparty_iban").alias("key"))
        .filter(raw.is_in(keys) | raw.str.contains("[^A-Z0-9]"))
        .with_columns(compact_iban(pl.col("key")))
        .filter(pl.col("key").is_in(keys))
        .join(rules.select("key", "rule_id", "target"), on="key")
    )
    if hit.height == 0:
        return Applied(book, held, cands, kept, none)
    debtors = rec["debtor_id"]
    # 1. a reference (any evidence tier) booked to another debtor than the payer's rule: held, both shown
    on_hit = book.join(hit.select("transaction_id", "target"), on="transaction_id")
    against = on_hit.filter(pl.lit(debtors).gather(pl.col("_r")) != pl.col("target"))["transaction_id"].unique()
    shown = book.filter(pl.col("transaction_id").is_in(against.implode()))
    book = book.filter(~pl.col("transaction_id").is_in(against.implode()))
    # 2. payments nothing reference-like named, from a rule's IBAN: the rule's debtor's items of the amount
    want = hit.join(held.filter(pl.col("reason") == UnresolvedReason.NO_REFERENCE).select("transaction_id"),
                    on="transaction_id")
    if want.height:  # (the owners of a few IBANs: only the items holding one are read)
        want = want.join(iban_owner(rec, want["key"]), left_on="key", right_on="iban", how="left")
    else:
        want = want.with_columns(pl.lit(None, pl.String()).alias("payer_debtor"))
    other_owner = want.filter(pl.col("payer_debtor").is_not_null() & (pl.col("payer_debtor") != pl.col("target")))
    want = want.join(other_owner.select("transaction_id"), on="transaction_id", how="anti")
    # the items of the amounts first (an integer probe), then of the rules' debtors among those few
    amount = rec["amount_cents"]
    at = (amount.is_in(want["amount_cents"].unique().implode()) & (amount > 0)).arg_true()
    items = pl.DataFrame({"_r": at, "target": debtors.gather(at), "amount_cents": amount.gather(at)}).filter(
        pl.col("target").is_in(want["target"].unique().implode()))
    fits = want.join(items, on=["target", "amount_cents"]).with_columns(
        pl.len().over("transaction_id").alias("n_fit"))
    one = fits.filter(pl.col("n_fit") == 1)
    # an item another booked payment names, or two payments' rules pick: not decided here
    taken = pl.concat([book["_r"].cast(pl.UInt32), one["_r"].filter(one["_r"].is_duplicated()).cast(pl.UInt32)])
    clash = one.filter(pl.col("_r").cast(pl.UInt32).is_in(taken.implode()))
    one = one.join(clash.select("transaction_id"), on="transaction_id", how="anti")
    several = fits.filter(pl.col("n_fit") > 1)
    # the new bookings in ``book``'s shape: a set of one item named by one payment (``single``)
    new = one.select(
        pl.col("transaction_id").cast(tkey), pl.col("_r"), pl.lit(Rule.LEARNED_RULE).alias("rule"),
        pl.lit(1.0).alias("confidence"), pl.col("_r").cast(pl.Int64).alias("set_key"), pl.lit(True).alias("single"),
        pl.col("amount_cents").alias("pay_cents"), pl.col("amount_cents").alias("open"),
        pl.lit(rec["receivable_id"]).gather(pl.col("_r")).alias("receivable_id"),
        pl.lit(rec["kassenzeichen"]).gather(pl.col("_r")).alias("kassenzeichen"),
        pl.col("rule_id"),
    )
    by_rule = new.select("transaction_id", "receivable_id", "rule_id")
    if book.height:
        new = new.select(book.columns).cast(book.schema)
        book = pl.concat([book, new])
    else:
        book = new.drop("rule_id")
    # 3. held: the reasons the rules give
    reason = pl.concat([
        against.to_frame().with_columns(pl.lit(UnresolvedReason.LEARNED_RULE_CONTRADICTED).alias("reason")),
        other_owner.select("transaction_id", pl.lit(UnresolvedReason.LEARNED_RULE_CONTRADICTED).alias("reason")),
        several.select("transaction_id", pl.lit(UnresolvedReason.AMBIGUOUS).alias("reason")).unique(),
        clash.select("transaction_id", pl.lit(UnresolvedReason.CONFLICT).alias("reason")),
    ]).with_columns(pl.col("transaction_id").cast(tkey))
    gone = pl.concat([reason["transaction_id"], by_rule["transaction_id"]]).implode()
    held = pl.concat([held.filter(~pl.col("transaction_id").is_in(gone)),
                      reason.select(held.columns).cast(held.schema)])
    # 4. what the clerk sees: the reference's items beside the rule's (with their amount and number)
    shown_items = pl.concat([shown["_r"].cast(pl.UInt32), several["_r"].cast(pl.UInt32), clash["_r"].cast(pl.UInt32)])
    extra = pl.concat([
        shown.select("transaction_id", "_r", pl.col("confidence").alias("score"), pl.col("rule").alias("why")),
        several.select(pl.col("transaction_id").cast(tkey), "_r", pl.lit(CONFIDENCE).alias("score"),
                       pl.lit(Rule.LEARNED_RULE).alias("why")),
        clash.select(pl.col("transaction_id").cast(tkey), "_r", pl.lit(CONFIDENCE).alias("score"),
                     pl.lit(Rule.LEARNED_RULE).alias("why")),
    ], how="vertical_relaxed").with_columns(
        pl.lit(rec["receivable_id"]).gather(pl.col("_r")).alias("receivable_id"),
        pl.lit(rec["kassenzeichen"]).gather(pl.col("_r")).alias("kassenzeichen"),
        pl.lit(rec["amount_cents"]).gather(pl.col("_r")).alias("amount_cents"),
    ).drop("_r")
    if extra.height:
        cands = pl.concat([cands, extra], how="diagonal_relaxed")
    # every item the result names is in ``kept`` (the returns and the candidates read it)
    add = pl.concat([one["_r"].cast(pl.UInt32), shown_items]).unique()
    add = add.filter(~add.is_in(kept["_r"].cast(pl.UInt32).implode()))
    if add.len():
        rows = rec.select(pl.col([c for c in kept.columns if c != "_r"]).gather(add)).with_columns(add.alias("_r"))
        kept = pl.concat([kept, rows.select(kept.columns).cast(kept.schema)])
    return Applied(book, held, cands, kept, by_rule.with_columns(pl.col("transaction_id").cast(tkey)))
