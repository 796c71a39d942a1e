"""Which open items each payment designates, and whether that may be booked (set-based).

Evidence tiers, strongest first; a payment uses only its strongest tier:

0. ``reference.exact``    a Kassenzeichen with a valid check digit (or an ``external_ref`` token)
1. ``reference.window``   a valid Kassenzeichen glued to a neighbouring number
2. ``reference.typo``     one wrong digit / one swap, repaired to exactly one Kassenzeichen (if
                          several are one edit away: to the one whose open amount is the payment)
3. ``iban_amount``        payer IBAN of exactly one debtor, exactly one of its items has the amount

A Kassenzeichen designates all items filed under it (main claim and its Nebenforderungen). When the
amount does not fit the designated items exactly (partial or over-payment), the payer must be
recognisably the debtor (known IBAN or :func:`matching.names.same_person`), else the reference may be
someone else's and the payment is held. Decisions use the open amounts at the start of the run; the
allocation step carries amounts from payment to payment.
"""

from __future__ import annotations

import polars as pl

from matching.config import MatchConfig
from matching.names import same_person
from matching.refexpr import reference_candidates, text_tokens
from matching.typos import typo_repairs

RULES = ("reference.exact", "reference.window", "reference.typo", "iban_amount")
CONFIDENCE = (1.0, 0.95, 0.9, 0.8)


def iban_owner(rec: pl.DataFrame) -> pl.DataFrame:
    """IBAN → the one debtor it is known for (IBANs known for several debtors are left out)."""
    return (
        rec.lazy()
        .filter(pl.col("debtor_iban").is_not_null())
        .select("debtor_id", pl.col("debtor_iban").str.split(",").alias("iban"))
        .explode("iban")
        .with_columns(pl.col("iban").str.replace_all(r"[\s;]", "").str.to_uppercase())
        .filter(pl.col("iban").str.len_chars() > 0)
        .unique()
        .group_by("iban")
        .agg(pl.col("debtor_id").first(), pl.len().alias("n"))
        .filter(pl.col("n") == 1)
        .select("iban", pl.col("debtor_id").alias("payer_debtor"))
        .collect()
    )


def kz_key(digits: int) -> pl.Expr:
    """``kz_norm`` as an integer when it is ``digits`` ASCII digits (else null): integer probes of millions
    of items are several times cheaper than string probes. Only for ``digits`` ≤ 18 (fits an Int64)."""
    kz = pl.col("kz_norm")
    plain = (kz.str.len_bytes() == digits) & ~kz.str.starts_with("+")  # "+1234…" would cast like "01234…"
    return pl.when(plain).then(kz.cast(pl.Int64, strict=False)).alias("_kz")


def kz_norm_in(keys: pl.Series, digits: int) -> pl.Expr:
    """Items whose ``kz_norm`` is one of ``keys`` (``digits``-long digit strings; a probe per item against
    the few keys, on the integer ``_kz`` column of :func:`kz_key` when there is one)."""
    if digits <= 18:
        return pl.col("_kz").is_in(keys.unique().cast(pl.Int64, strict=False).drop_nulls().implode())
    return pl.col("kz_norm").is_in(keys.unique().implode())


def _hits(
    pay: pl.DataFrame, refs: pl.DataFrame, rec: pl.DataFrame, cfg: MatchConfig
) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame]:
    """(transaction_id, receivable_id, level) for every level, ambiguous typo fits for suggestions, and
    the items any of them or a payer's IBAN can designate (all other items play no part)."""
    valid = refs.filter(pl.col("valid"))
    # one pass over all items keeps those a payment can name: by reference, external_ref or payer IBAN
    payers = pay["payer_debtor"].drop_nulls().unique().implode()
    n = cfg.digits
    if n <= 18:
        rec = rec.with_columns(kz_key(n))
    rec_all, rec = rec, rec.filter(kz_norm_in(valid["ref"], n) | pl.col("external_ref").is_not_null()
                                   | (pl.lit(cfg.iban_amount) & pl.col("debtor_id").is_in(payers)))
    kept = rec
    items = rec.select("receivable_id", "kz_norm")
    by_ref = valid.join(items, left_on="ref", right_on="kz_norm").select(
        "transaction_id", "receivable_id", pl.when(pl.col("kind") == "exact").then(0).otherwise(1).alias("level")
    )
    frames = [by_ref]
    ext = rec.filter(pl.col("external_ref").is_not_null()).select(
        "receivable_id", pl.col("external_ref").str.to_uppercase().str.replace_all(r"[^A-Z0-9]", "").alias("token")
    )
    if ext.height:
        frames.append(text_tokens(pay, cfg).join(ext, on="token").select("transaction_id", "receivable_id", pl.lit(0).alias("level")))
    found = pl.concat([f.with_columns(pl.col("level").cast(pl.Int32)) for f in frames]).unique()
    typo_fits = pl.DataFrame(schema={"transaction_id": pay.schema["transaction_id"], "receivable_id": pl.String})
    if cfg.typo_repair:
        todo = refs.filter(pl.col("kind") == "exact").join(found, on="transaction_id", how="anti")
        rep = typo_repairs(todo, rec_all.select(pl.col("^(kz_norm|_kz)$")), cfg)
        # the items of repaired Kassenzeichen: one pass over all items with a small key set
        rec = rec_all.filter(kz_norm_in(rep["kz_norm"], n))
        items = rec.select("receivable_id", "kz_norm")
        kept = pl.concat([kept, rec.join(kept.select("receivable_id"), on="receivable_id", how="anti")])
        # several Kassenzeichen one edit away: the one whose open amount is exactly the payment decides
        several = rep.filter(pl.col("n_fits") > 1)
        kz_open = rec.join(several.select("kz_norm").unique(), on="kz_norm", how="semi").group_by("kz_norm").agg(
            pl.col("amount_cents").sum().alias("open_sum"))
        by_amount = (
            several
            .join(kz_open, on="kz_norm")
            .join(pay.select("transaction_id", "amount_cents"), on="transaction_id")
            .filter(pl.col("open_sum") == pl.col("amount_cents"))
            .filter(pl.len().over("transaction_id", "ref") == 1)
        )
        ok = pl.concat([rep.filter(pl.col("n_fits") == 1).select("transaction_id", "ref", "kz_norm"),
                        by_amount.select("transaction_id", "ref", "kz_norm")])
        found = pl.concat([found, ok.join(items, on="kz_norm").select("transaction_id", "receivable_id", pl.lit(2, pl.Int32).alias("level"))])
        typo_fits = (
            rep.filter(pl.col("n_fits") > 1)
            .join(by_amount.select("transaction_id", "ref"), on=["transaction_id", "ref"], how="anti")
            .join(items, on="kz_norm").select("transaction_id", "receivable_id")
        )
    return found, typo_fits, kept.select(pl.exclude("_kz"))


def _rows(df: pl.DataFrame, idx: pl.Series) -> pl.DataFrame:
    """The rows of ``df`` at the positions ``idx`` (a gather: cheaper than a join on a string id)."""
    return df.select(pl.all().gather(idx))


def _ids(df: pl.DataFrame, tid: pl.Series) -> pl.DataFrame:
    """``df`` with its payment numbers (``transaction_id``) replaced by the payments' ids ``tid``."""
    return df.with_columns(tid.gather(df["transaction_id"]).alias("transaction_id"))


def designate(
    pay: pl.DataFrame, rec: pl.DataFrame, cfg: MatchConfig
) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame, pl.DataFrame]:
    """Decide per payment. Returns ``(book, held, cands, kept)``.

    ``book``: transaction_id, receivable_id, rule, confidence, set_key — item sets to allocate (and for
    :func:`matching.allocate.allocate`: single — the set is this one item and payment; pay_cents, open,
    kassenzeichen).
    ``held``: transaction_id, reason — payments not booked. ``cands``: transaction_id, receivable_id,
    score, why — evidence shown to the clerk for held payments. ``kept``: the items (rows of ``rec``)
    that any payment could designate; every receivable_id of ``book`` and ``cands`` is among them.
    """
    # integer row keys: every payment is numbered once and its number stands in for transaction_id up to
    # the end (joins, windows and group-bys on integers are several times cheaper than on the string ids)
    tid = pay["transaction_id"]
    pay = pay.with_columns(pl.int_range(pl.len(), dtype=pl.UInt32).alias("transaction_id"))
    owners = iban_owner(rec)
    pay = pay.join(owners, left_on=pl.col("counterparty_iban").str.replace_all(" ", "").str.to_uppercase(),
                   right_on="iban", how="left").select(pl.exclude("iban"))
    refs = reference_candidates(pay, cfg)
    # from here on only the items a payment can designate (found ones, the payers' debtors' items)
    found, typo_fits, rec = _hits(pay, refs, rec, cfg)
    if cfg.iban_amount:
        iban_fit = (
            pay.join(found, on="transaction_id", how="anti")
            .filter(pl.col("payer_debtor").is_not_null())
            .join(rec.filter(pl.col("amount_cents") > 0).select("receivable_id", "debtor_id", pl.col("amount_cents").alias("open")),
                  left_on=["payer_debtor", "amount_cents"], right_on=["debtor_id", "open"])
            .select("transaction_id", "receivable_id", pl.lit(3, pl.Int32).alias("level"))
        )
        found = pl.concat([found, iban_fit])
    # the kept items are numbered too: the decisions below group and join on the numbers
    # row k of pay_i is payment number k (the join with the owners need not keep the row order)
    pay_i = pay.select("transaction_id", "amount_cents", "payer_debtor", "counterparty_name", "ultimate_party").sort(
        "transaction_id")
    rec_i = rec.select("receivable_id", "debtor_id", "debtor_name", pl.col("amount_cents").alias("open"), "kassenzeichen")
    found = (
        found.join(rec_i.select("receivable_id").with_row_index("_r"), on="receivable_id")
        .select(pl.col("transaction_id").alias("_t"), "_r", "level")
    )
    # a payment uses its strongest tier only: windows count when no exact reference found an item
    # (a window of an EREF "KZ-date" can hit another, valid Kassenzeichen in a dense numbering)
    found = found.filter(pl.col("level") == pl.col("level").min().over("_t")).unique(["_t", "_r"])
    cand = pl.concat([found, _rows(rec_i, found["_r"])], how="horizontal")
    # one row per payment: most payments name one item (its row is the payment's row, no group-by);
    # only those naming several are grouped, and their set is named by its sorted ids (exact, so tapes
    # and conflicts are never merged)
    n_items = pl.len().over("_t").cast(pl.UInt32).alias("n_items")
    cand = cand.with_columns(n_items)
    one = cand.filter(pl.col("n_items") == 1).select(
        "_t", pl.col("level").alias("tier"), pl.lit(1, pl.UInt32).alias("n_debtors"), pl.col("debtor_id").alias("debtor"),
        "debtor_name", pl.col("open").fill_null(0).alias("open_sum"), "n_items", pl.col("receivable_id").alias("set_key"),
    )
    several = cand.filter(pl.col("n_items") > 1).group_by("_t").agg(
        pl.col("level").first().alias("tier"),
        pl.col("debtor_id").n_unique().cast(pl.UInt32).alias("n_debtors"),
        pl.col("debtor_id").min().alias("debtor"),
        pl.col("debtor_name").min(),
        pl.col("open").sum().alias("open_sum"),
        pl.len().cast(pl.UInt32).alias("n_items"),
        pl.col("receivable_id").sort().str.join("|").alias("set_key"),
    )
    per = pl.concat([one, several.select(one.columns)])
    per = pl.concat([per, _rows(pay_i, per["_t"])], how="horizontal")
    fits = pl.col("amount_cents") == pl.col("open_sum")
    other_payer = pl.col("payer_debtor").is_not_null() & (pl.col("payer_debtor") != pl.col("debtor"))
    reason = (
        pl.when((pl.col("tier") == 3) & (pl.col("n_items") > 1)).then(pl.lit("ambiguous"))
        .when((pl.col("n_debtors") > 1) & ~fits).then(pl.lit("several_debtors"))
        .when(pl.col("open_sum") == 0).then(pl.lit("double_payment"))
        .when(~fits & other_payer).then(pl.lit("reference_other_debtor"))
        .otherwise(None)
    )
    per = per.with_columns(reason.alias("reason"))
    # the name test runs only where it can decide: amounts that do not fit and no reason found above
    doubt = per.filter(pl.col("reason").is_null() & ~fits)
    # (an absent ultimate party is never the debtor: only payments that name one are tested by it)
    sure = pl.concat([
        doubt.filter((pl.col("payer_debtor") == pl.col("debtor")).fill_null(False)
                     | same_person(pl.col("counterparty_name"), pl.col("debtor_name")))["_t"],
        doubt.filter(pl.col("ultimate_party").is_not_null()).filter(
            same_person(pl.col("ultimate_party"), pl.col("debtor_name")))["_t"],
    ])
    confirmed = pl.col("_t").is_in(sure.implode())
    reason = (
        pl.when(pl.col("reason").is_not_null()).then(pl.col("reason"))
        .when(~fits & ~confirmed).then(
            pl.when(pl.col("tier") == 2).then(pl.lit("typo_unconfirmed")).otherwise(pl.lit("payer_unconfirmed")))
        .otherwise(None)
    )
    per = per.with_columns(reason.alias("reason"))
    # two payments of the run designating overlapping but different item sets: not decided here
    booked = cand.join(per.filter(pl.col("reason").is_null()).select("_t", "set_key"), on="_t")
    clash = booked.filter(pl.col("set_key").n_unique().over("_r") > 1)["_t"].unique()
    per = per.with_columns(
        pl.when(pl.col("reason").is_null() & pl.col("_t").is_in(clash.implode()))
        .then(pl.lit("conflict")).otherwise(pl.col("reason")).alias("reason")
    )
    cand = cand.with_columns(pl.col("_t").alias("transaction_id"))
    rules = pl.col("level").replace_strict(list(range(4)), list(RULES), return_dtype=pl.String)
    conf = pl.col("level").replace_strict(list(range(4)), list(CONFIDENCE), return_dtype=pl.Float64)
    # a set of one item named by one payment only needs min(payment, open) in allocate: marked here
    book = (
        cand.join(per.filter(pl.col("reason").is_null()).select("_t", "set_key", "amount_cents"), on="_t")
        .with_columns(((pl.col("n_items") == 1) & (pl.len().over("_r") == 1)).alias("single"))
        .select("transaction_id", "receivable_id", rules.alias("rule"), conf.alias("confidence"), "set_key",
                "single", pl.col("amount_cents").alias("pay_cents"), "open", "kassenzeichen")
    )
    held_known = per.filter(pl.col("reason").is_not_null()).select("transaction_id", "reason")
    looked = refs.filter(pl.col("kind") == "exact")["transaction_id"].unique()
    rest = pay_i.filter(~pl.col("transaction_id").is_in(per["_t"].implode())).select(
        "transaction_id",
        pl.when(pl.col("transaction_id").is_in(typo_fits["transaction_id"].implode())).then(pl.lit("ambiguous"))
        .when(pl.col("transaction_id").is_in(looked.implode())).then(pl.lit("unknown_reference"))
        .otherwise(pl.lit("no_reference")).alias("reason"),
    )
    held = pl.concat([held_known, rest])
    cands = pl.concat([
        cand.join(per.filter(pl.col("reason").is_not_null()).select("_t"), on="_t", how="semi").select(
            "transaction_id", "receivable_id", conf.alias("score"), rules.alias("why")),
        typo_fits.select("transaction_id", "receivable_id", pl.lit(0.5).alias("score"), pl.lit("reference.typo").alias("why")),
    ])
    return _ids(book, tid), _ids(held, tid), _ids(cands, tid), rec
