"""Decide per payment whether the items its evidence designates may be booked (set-based).

The evidence (:mod:`matching.evidence`) gives each payment items in tiers; a payment uses only its
strongest tier. A Kassenzeichen designates all items filed under it (main claim and its
Nebenforderungen). When the amount does not fit the designated items exactly (partial or
over-payment), the payer must be recognisably the debtor (known IBAN or
:func:`matching.names.same_person`), else the reference may be someone else's and the payment is held.
Decisions use the open amounts at the start of the run; the allocation step carries amounts from
payment to payment. Payments and items are numbered (``_t``, ``_r``) and only the rows that end up in a
result fetch their strings. Most payments name one item, open with exactly their amount: they take a
fast lane (:func:`_sure`) and only the others are decided row by row of a per-payment frame.
Evidence naming two debtors — the reference one, the payer's account on file another — is held before
anything else is decided; a payment from abroad short by bank charges counts as the debtor's
(:mod:`matching.contradict`).
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import NamedTuple

import polars as pl

from claims.vocab import Rule, UnresolvedReason
from matching.amounts import designation, overcommitted
from matching.config import MatchConfig
from matching.contradict import contradicted, doubtful, payers_known, short_by_charges
from matching.evidence import LEVEL, by_iban_amount, by_reference, by_typo, iban_owner
from matching.names import same_words_either
from matching.refexpr import reference_candidates
from matching.rows import fetch
from matching.suggest import name_suggestions
from parsers.validity import compact_iban

RULES = Rule.evidence()
CONFIDENCE = (1.0, 0.95, 0.9, 0.9, 0.8)  # per level, as RULES
#: the levels of a repaired reference: held as typo_unconfirmed (not payer_unconfirmed) when the payer is unsure
REPAIRED = [LEVEL[Rule.REFERENCE_LETTERS], LEVEL[Rule.REFERENCE_TYPO]]
#: The payment columns :func:`designate` reads.
PAYMENT_COLUMNS = ("transaction_id", "amount_cents", "counterparty_name", "counterparty_iban", "ultimate_party",
                   "remittance", "end_to_end_id", "creditor_ref", "original_amount_cents", "charges_cents")
#: The item columns the decisions and every later step read (``kept``); the few others a step needs
#: (the allocation order's, the returns' digits) it reads from the export for its own items only.
KEPT = ("receivable_id", "kassenzeichen", "debtor_id", "amount_cents")


def _text_evidence(
    pay: pl.DataFrame, rec: pl.DataFrame, ix: Future[pl.DataFrame], cfg: MatchConfig
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """The payments' reference candidates and what they find (tiers 0–1): a task of the side threads, which
    needs the key index ``ix`` (built by another) only once the references are read."""
    refs = reference_candidates(pay, cfg, kinds=("exact",))
    return refs, by_reference(pay, refs, rec, ix.result(), cfg)


def _unsure(found: pl.DataFrame, pay: pl.DataFrame, rec: pl.DataFrame) -> pl.Series:
    """The payments (numbers) whose decision may ask who paid: all but those with one row of evidence in
    ``found`` (transaction_id, _r), an item with exactly the payment's amount open. (Nothing found: the
    IBAN fallback asks; an amount that does not fit: the payer must be the debtor. A payment with the same
    item found twice is asked for too: a few more IBANs, no group-by.) The test of :func:`_sure`, on the
    evidence found so far."""
    t = found["transaction_id"].sort()  # (payments with several rows: neighbours in order; no hash of all)
    one = found.filter(~found["transaction_id"].is_in(t.filter(t == t.shift(1)).implode()))
    sure = one.filter(_exactly_open(one["transaction_id"], one["_r"], pay, rec))
    return pay["transaction_id"].filter(~pay["transaction_id"].is_in(sure["transaction_id"].implode()))


def _exactly_open(t: pl.Series, r: pl.Series, pay: pl.DataFrame, rec: pl.DataFrame) -> pl.Series:
    """Per row (payment ``t``, item ``r``): the item is open with exactly the payment's amount (the second
    half of the fast lane's test: see :func:`_sure` and :func:`_unsure`)."""
    open_now = rec["amount_cents"].gather(r)
    return (open_now == pay["amount_cents"].gather(t)) & (open_now > 0)


def _distinct_sorted(found: pl.DataFrame) -> pl.DataFrame:
    """``found`` (_t, _r, level) sorted by payment and item, each pair once (a payment's rows all have the
    same level: its strongest tier). Sorted by ``_t``, the frames of the decisions are grouped and joined
    on it along the order (Polars keeps the sorted flag), several times faster than by hashing."""
    # one UInt64 sort key (payment and item are UInt32 numbers): cheaper than a sort on two columns
    pair = pl.col("_t").cast(pl.UInt64) * 2**32 + pl.col("_r").cast(pl.UInt64)
    found = found.sort(pair).with_columns(pl.col("_t").set_sorted())
    return found.filter((pair != pair.shift(1)).fill_null(True))


def _per_payment(cand: pl.DataFrame, first_set: int) -> pl.DataFrame:
    """One row per payment: its tier, debtors, open sum and designated set.

    Most payments name one item (its row is the payment's row, no group-by); only those naming several
    are grouped. ``set_key``: the item's number for a set of one; for a set of several, ``first_set``
    (more than any item number) plus the number of the first payment naming exactly these items (exact,
    so tapes and conflicts never merge).
    """
    one = cand.filter(pl.col("n_items") == 1).select(
        "_t", pl.col("level").alias("tier"), pl.lit(1, pl.UInt32).alias("n_debtors"), pl.col("debtor_id").alias("debtor"),
        pl.col("open").fill_null(0).alias("open_sum"), "n_items", pl.col("_r").cast(pl.Int64).alias("set_key"),
    )
    several = cand.filter(pl.col("n_items") > 1).group_by("_t", maintain_order=True).agg(
        pl.col("level").first().alias("tier"),
        pl.col("debtor_id").n_unique().cast(pl.UInt32).alias("n_debtors"),
        pl.col("debtor_id").min().alias("debtor"),
        pl.col("open").sum().alias("open_sum"),
        pl.len().cast(pl.UInt32).alias("n_items"),
        pl.col("_r").min().alias("_r0"),
    )
    # payments whose first items differ name different sets: only those sharing a first item are compared
    # item by item (a group-by on their lists of items; no list is built for the others)
    first = pl.col("_t")
    alike = several.filter(pl.col("_r0").is_duplicated())["_t"]
    if alike.len():
        lists = cand.filter(pl.col("_t").is_in(alike.implode())).group_by("_t").agg(pl.col("_r").sort().alias("items"))
        lists = lists.join(lists.group_by("items").agg(pl.col("_t").min().alias("_first")), on="items")
        several = several.join(lists.select("_t", "_first"), on="_t", how="left", maintain_order="left")
        first = pl.coalesce("_first", "_t")
    several = several.with_columns((first.cast(pl.Int64) + first_set).alias("set_key"))
    return pl.concat([one, several.select(one.columns)]).sort("_t")


class Decisions(NamedTuple):
    """What :func:`designate` decided (see there)."""

    book: pl.DataFrame
    held: pl.DataFrame
    cands: pl.DataFrame
    kept: pl.DataFrame
    names: pl.DataFrame
    names_left_out: int


def designate(pay: pl.DataFrame, rec: pl.DataFrame, cfg: MatchConfig, ix: Future[pl.DataFrame]) -> Decisions:
    """Decide per payment (``pay``: the :data:`PAYMENT_COLUMNS` of the payments; ``rec``: the open items;
    ``ix``: its :func:`matching.evidence.key_index`, being built). Returns ``(book, held, cands, kept,
    names, names_left_out)``.

    ``book``: transaction_id, receivable_id, rule, confidence, set_key — item sets to allocate (and for
    :func:`matching.allocate.allocate`: single — the set is this one item and payment; pay_cents, open,
    kassenzeichen, ``_r`` — the item's row number in ``rec``).
    ``held``: transaction_id, reason — payments not booked. ``cands``: transaction_id, receivable_id,
    score, why — evidence shown to the clerk for held payments. ``kept``: the :data:`KEPT` columns of the items
    that book or cands name, with their row number ``_r`` in ``rec``. ``names``, ``names_left_out``: of
    :func:`matching.suggest.name_suggestions` for the payments nothing names.
    """
    # payments numbered 0..n-1 (``_t``); their number stands in for transaction_id up to the end
    given = pay
    tid, piban = pay["transaction_id"], pay["counterparty_iban"]
    ids = tid.to_frame("transaction_id")
    pay = pay.select(
        pl.int_range(pl.len(), dtype=pl.UInt32).alias("transaction_id"), "amount_cents", "counterparty_name",
        "ultimate_party", "remittance", "end_to_end_id", "creditor_ref", "original_amount_cents", "charges_cents",
    )
    # the references are read beside the key index (begun by the caller) and the payers' IBANs made
    # compact (Polars releases the GIL; much of each is single-threaded)
    with ThreadPoolExecutor(1) as side:
        texts = side.submit(_text_evidence, pay, rec, ix, cfg)
        piban = piban.to_frame("iban").select(compact_iban(pl.col("iban")))["iban"]
        refs, found = texts.result()
        typos = side.submit(by_typo, pay, refs, rec, ix.result(), found, cfg)
        # beside the typo repair: the owners of the payers' IBANs, only for the payments whose decision may
        # ask (a scan of the items' IBANs for a few wanted ones costs a fraction of one for every payer's);
        # a payment the repair finds an item for is asked for as one nothing found
        # (and of the fast lane's payments whose IBAN is not their item's own: the reference and the
        # account may name two debtors, :mod:`matching.contradict`)
        unsure = _unsure(found, pay, rec)
        asked = pl.concat([unsure, doubtful(found, unsure, piban, rec)])
        owners = iban_owner(rec, piban.gather(asked))
        found, typo_fits = typos.result()
    known = payers_known(asked, piban, owners)
    pay = pay.with_columns(piban.alias("counterparty_iban"))  # (compact: the bank-charges rule reads its country)

    def payer(t: pl.Series) -> pl.Series:
        """The debtor whose known IBAN paid each payment numbered in ``t``, else null. Only the payments
        whose decision needs it ask: those nothing found, and those whose amount does not fit."""
        return piban.gather(t).to_frame().join(owners, on="iban", how="left", maintain_order="left")["payer_debtor"]

    if cfg.iban_amount:
        nothing = pay.select("transaction_id", "amount_cents").filter(
            ~pl.col("transaction_id").is_in(found["transaction_id"].implode()))
        want = nothing.with_columns(payer(nothing["transaction_id"])).filter(pl.col("payer_debtor").is_not_null())
        found = pl.concat([found, by_iban_amount(want, rec, found.schema["_r"])])
    # payments nothing names are held already; their name suggestions need nothing of the decisions
    # below and are made beside them
    looked = refs.filter(pl.col("kind") == "exact")["transaction_id"].unique()
    rest = pay.filter(~pl.col("transaction_id").is_in(found["transaction_id"].implode())).select(
        "transaction_id",
        pl.when(pl.col("transaction_id").is_in(typo_fits["transaction_id"].implode())).then(pl.lit(UnresolvedReason.AMBIGUOUS))
        .when(pl.col("transaction_id").is_in(looked.implode())).then(pl.lit(UnresolvedReason.UNKNOWN_REFERENCE))
        .otherwise(pl.lit(UnresolvedReason.NO_REFERENCE)).alias("reason"),
    )
    with ThreadPoolExecutor(1) as side:
        suggested = side.submit(name_suggestions, fetch(rest, ids, "transaction_id", ("transaction_id",)), given, rec, cfg)
        # a payment has evidence of its strongest tier only: each tier is read for the payments the ones
        # before found nothing (a window of an EREF "KZ-date" can hit another, valid Kassenzeichen in a
        # dense numbering: windows count only without an exact reference)
        found = _distinct_sorted(found.rename({"transaction_id": "_t"}))
        book, held, cands, kept = _decide(found, rest, typo_fits, pay, rec, payer, ids, known, cfg)
        names, left_out = suggested.result()
    return Decisions(book, held, cands, kept, names, left_out)


def _decide(
    found: pl.DataFrame, rest: pl.DataFrame, typo_fits: pl.DataFrame, pay: pl.DataFrame, rec: pl.DataFrame,
    payer: Callable[[pl.Series], pl.Series], ids: pl.DataFrame, known: pl.DataFrame, cfg: MatchConfig,
) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame, pl.DataFrame]:
    """``(book, held, cands, kept)`` of :func:`designate` from the evidence ``found`` (sorted, distinct)
    of the payments ``pay`` (numbered ``_t``); ``rest``: the payments nothing names, with their reason;
    ``payer``: the payer's debtor of payments by number; ``ids``: the payments' own numbers by ``_t``;
    ``known``: (_t, payer_debtor) of the payments whose account may contradict their reference."""
    # evidence naming two debtors (reference and account) is held with both sides' items, before anything
    # else is decided (:mod:`matching.contradict`)
    contra = contradicted(found, known, pay, rec)
    if contra.held.height:
        found = found.filter(~pl.col("_t").is_in(contra.held["_t"].implode()))
    # the items named, read once in row order (cheap from a column in many chunks, as a file's row groups
    # give it) into one small frame; from here on ``_r`` is the row in it, which holds the export's row
    # number as ``_r``: the many reads at random below go to it, not to the millions of items
    rows = found["_r"].sort()
    again = (rows == rows.shift(1)).fill_null(False)
    named = rows.filter(~again)
    if typo_fits.height or contra.shown.height:
        named = pl.concat([named, typo_fits["_r"], contra.shown["_r"]]).unique().sort()
    place = pl.zeros(rec.height, pl.UInt32, eager=True).scatter(named, pl.int_range(named.len(), dtype=pl.UInt32, eager=True))
    debtor_names = rec["debtor_name"]  # (read for a few payments only: from the export, by its row numbers)
    kz_norm = rec["kz_norm"]  # (likewise: the Kassenzeichen of the few payments whose amounts are read)
    rec = rec.select(pl.col(KEPT).gather(named)).with_columns(named.alias("_r"))
    found, typo_fits, shown_c = (df.with_columns(place.gather(df["_r"]).alias("_r")) for df in (found, typo_fits, contra.shown))
    # items that several payments name (``found`` holds each payment and item once): never ``single``
    shared = place.gather(rows.filter(again)).implode()
    sure, found = _sure(found, pay, rec)
    cand = fetch(found, rec, "_r", ("debtor_id", "amount_cents")).rename({"amount_cents": "open"}).with_columns(pl.len().over("_t").cast(pl.UInt32).alias("n_items"))
    per = _per_payment(cand, rec.height)
    per = fetch(per, pay, "_t", ("amount_cents",))
    # the payer's designation of amounts (matching/amounts.py): ``fits`` and ``des_reason`` per payment,
    # the parts' set and amount per evidence row (only payments naming several items or not fitting read)
    export_row = rec["_r"]
    per, cand = designation(per, cand, pay, lambda r: kz_norm.gather(export_row.gather(r)), cfg.digits,
                            cfg.honour_designation, rec.height)
    fits = pl.col("fits")
    unfit = per.select(~fits).to_series().arg_true()  # (rows of ``per``)
    asked = payer(per["_t"].gather(unfit))
    per = per.with_columns(pl.repeat(None, per.height, dtype=asked.dtype, eager=True).scatter(unfit, asked).alias("payer_debtor"))
    other_payer = pl.col("payer_debtor").is_not_null() & (pl.col("payer_debtor") != pl.col("debtor"))
    reason = (
        pl.when(pl.col("des_reason").is_not_null()).then(pl.col("des_reason"))
        .when((pl.col("tier") == LEVEL[Rule.IBAN_AMOUNT]) & (pl.col("n_items") > 1)).then(pl.lit(UnresolvedReason.AMBIGUOUS))
        .when((pl.col("n_debtors") > 1) & ~fits).then(pl.lit(UnresolvedReason.SEVERAL_DEBTORS))
        .when(pl.col("open_sum") == 0).then(pl.lit(UnresolvedReason.DOUBLE_PAYMENT))
        .when(~fits & other_payer).then(pl.lit(UnresolvedReason.REFERENCE_OTHER_DEBTOR))
        .otherwise(None)
    )
    per = per.with_columns(reason.alias("reason"))
    doubt = per.filter(pl.col("reason").is_null() & ~fits)
    sure_payer = pl.concat([_payer_is_debtor(doubt, cand, pay, debtor_names, rec["_r"]), short_by_charges(doubt, pay, cfg)])
    confirmed = pl.col("_t").is_in(sure_payer.implode())
    reason = (
        pl.when(pl.col("reason").is_not_null()).then(pl.col("reason"))
        .when(~fits & ~confirmed).then(
            pl.when(pl.col("tier").is_in(REPAIRED)).then(pl.lit(UnresolvedReason.TYPO_UNCONFIRMED)).otherwise(pl.lit(UnresolvedReason.PAYER_UNCONFIRMED)))
        .otherwise(None)
    )
    per = overcommitted(per.with_columns(reason.alias("reason")), cand)
    # two payments of the run designating overlapping but different item sets: not decided here (a
    # designation followed: each Kassenzeichen's items are a set of their own, ``part_key``)
    on_set = pl.coalesce("part_key", "set_key").alias("set_key")
    clash = _clash(cand.select("_t", "_r", "part_key").join(per.filter(pl.col("reason").is_null()).select("_t", "set_key"),
                                                             on="_t").select("_t", "_r", on_set), sure, rec.height)
    per = per.with_columns(
        pl.when(pl.col("reason").is_null() & pl.col("_t").is_in(clash.implode()))
        .then(pl.lit(UnresolvedReason.CONFLICT)).otherwise(pl.col("reason")).alias("reason")
    )
    in_clash = sure["_t"].is_in(clash.implode())
    sure, sure_held = sure.filter(~in_clash), sure.filter(in_clash)
    rules = pl.col("level").replace_strict(list(range(len(RULES))), list(RULES), return_dtype=pl.String)
    conf = pl.col("level").replace_strict(list(range(len(RULES))), list(CONFIDENCE), return_dtype=pl.Float64)
    # a set of one item named by one payment only needs min(payment, open) in allocate: marked here
    book = (
        pl.concat([
            cand.join(per.filter(pl.col("reason").is_null()).select("_t", "set_key", "amount_cents"), on="_t").select(
                "_t", "_r", "level", on_set, "n_items", pl.coalesce("part_cents", "amount_cents").alias("pay_cents"), "open",
                pl.col("part_key").is_not_null().alias("designated")),
            sure.select("_t", "_r", "level", pl.col("_r").cast(pl.Int64).alias("set_key"), pl.lit(1, pl.UInt32).alias("n_items"),
                        pl.col("open").alias("pay_cents"), "open", pl.lit(False).alias("designated")),
        ])
        .select(pl.col("_t").alias("transaction_id"), "_r",
                pl.when("designated").then(pl.lit(Rule.PAYER_DESIGNATION)).otherwise(rules).alias("rule"),
                conf.alias("confidence"), "set_key",
                ((pl.col("n_items") == 1) & ~pl.col("_r").is_in(shared)).alias("single"), "pay_cents", "open")
    )
    held_known = per.filter(pl.col("reason").is_not_null()).select(pl.col("_t").alias("transaction_id"), "reason")
    held = pl.concat([held_known, sure_held.select(pl.col("_t").alias("transaction_id"), pl.lit(UnresolvedReason.CONFLICT).alias("reason")),
                      contra.held.rename({"_t": "transaction_id"}), rest])
    shown = pl.concat([cand.join(per.filter(pl.col("reason").is_not_null()).select("_t"), on="_t", how="semi").select(sure.columns),
                       sure_held, shown_c.with_columns(rec["amount_cents"].gather(shown_c["_r"]).alias("open")).select(sure.columns)])
    cands = pl.concat([
        shown.select(pl.col("_t").alias("transaction_id"), "_r", conf.alias("score"), rules.alias("why")),
        typo_fits.select("transaction_id", "_r", pl.lit(0.5).alias("score"), "why"),
    ])
    # every item named is booked or shown (a payment with evidence is booked or held with its evidence as
    # candidates): ``rec`` holds exactly the items of the result; their export row numbers back, and the
    # payments' own ids
    kept = rec
    book = fetch(book, rec, "_r", ("_r", "receivable_id", "kassenzeichen"))
    cands = fetch(cands, rec, "_r", ("receivable_id",)).drop("_r")
    # the payments' own numbers (their seq) back in place of 0..n-1
    book, held, cands = (fetch(df, ids, "transaction_id", ("transaction_id",)) for df in (book, held, cands))
    return book, held, cands, kept


def _sure(found: pl.DataFrame, pay: pl.DataFrame, rec: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
    """``(sure, others)``: the rows of ``found`` (sorted by ``_t``) split into the fast lane and the rest.
    Sure: the payment's one row of evidence, its item open with exactly the payment's amount (most
    payments): its set is that item, it fits, no payer is asked; only a conflict can hold it (see
    :func:`_clash`). ``sure`` carries the item's ``open``."""
    t = found["_t"]
    lone = ((t != t.shift(1)) & (t != t.shift(-1))).fill_null(True)
    mask = lone & _exactly_open(t, found["_r"], pay, rec)
    sure = found.filter(mask)
    return sure.with_columns(rec["amount_cents"].gather(sure["_r"]).alias("open")), found.filter(~mask)


def _clash(booked: pl.DataFrame, sure: pl.DataFrame, first_set: int) -> pl.Series:
    """The payments (``_t``) booked on an item that another booked payment designates in a different set.
    ``booked``: (_t, _r, set_key) of the payments decided in full; ``sure``: the fast lane's (_t, _r), whose
    set is their item (``set_key`` = ``_r``). Sets of one item on the same item are the same set: only an
    item in a set of several (``set_key`` ≥ ``first_set``) can be in two."""
    spread = booked.filter(pl.col("set_key") >= first_set)["_r"].unique().implode()
    on_spread = pl.col("_r").is_in(spread)
    at = pl.concat([booked.filter(on_spread),
                    sure.filter(on_spread).select("_t", "_r", pl.col("_r").cast(pl.Int64).alias("set_key"))])
    return at.filter(pl.col("set_key").n_unique().over("_r") > 1)["_t"].unique()


def _payer_is_debtor(
    doubt: pl.DataFrame, cand: pl.DataFrame, pay: pl.DataFrame, debtor_names: pl.Series, rows: pl.Series
) -> pl.Series:
    """The payments of ``doubt`` (amount does not fit) whose payer is recognisably the set's debtor: a
    known IBAN of the debtor, or the payer's / ultimate party's name (names fetched and folded only for
    the payments the IBAN does not settle; a set's debtor name is the smallest of its items', as its
    debtor is the smallest id). ``debtor_names``: the export's; ``rows``: the export row of
    each item ``_r`` of ``cand``."""
    by_iban = (pl.col("payer_debtor") == pl.col("debtor")).fill_null(False)
    rest = doubt.filter(~by_iban).select("_t")
    names = (
        cand.join(rest, on="_t", how="semi")
        .select("_t", pl.lit(debtor_names).gather(pl.lit(rows).gather(pl.col("_r"))).alias("debtor_name"))
        .group_by("_t", maintain_order=True).agg(pl.col("debtor_name").min())
        .with_columns(
            pl.lit(pay["counterparty_name"]).gather(pl.col("_t")).alias("counterparty_name"),
            pl.lit(pay["ultimate_party"]).gather(pl.col("_t")).alias("ultimate_party"),
        )
    )
    payer = names.filter(same_words_either(names, "counterparty_name", "debtor_name"))["_t"]
    # (an absent ultimate party is never the debtor: only payments that name one are tested by it)
    up = names.filter(pl.col("ultimate_party").is_not_null() & ~pl.col("_t").is_in(payer.implode()))
    ultimate = up.filter(same_words_either(up, "ultimate_party", "debtor_name"))["_t"]
    return pl.concat([doubt.filter(by_iban)["_t"], payer, ultimate])
