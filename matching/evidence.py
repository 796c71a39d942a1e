"""Which open items each payment's evidence points at: one probe of the export per kind of evidence.

Evidence tiers, strongest first (a payment later uses only its strongest tier):

0. ``reference.exact``    a Kassenzeichen with a valid check digit (or an ``external_ref`` token), or
                          inside a valid ISO 11649 creditor reference (``RF``, :mod:`matching.creditor_ref`)
1. ``reference.window``   a valid Kassenzeichen glued to a neighbouring number (a year, an invoice number)
2. ``reference.letters``  letters typed for digits (``O`` → 0, ``l``/``I`` → 1: :mod:`matching.letters`),
                          the reading naming exactly one Kassenzeichen
3. ``reference.typo``     one wrong digit / one swap, repaired to exactly one Kassenzeichen (if
                          several are one edit away: to the one whose open amount is the payment)
4. ``iban_amount``        payer IBAN of exactly one debtor, exactly one of its items has the amount

A reading that is ambiguous finds no item to book but shows its items to the clerk: two overlapping
readings of one stretch of digits naming different Kassenzeichen (``1000 0000 0013 2026``, where
``0000 0013 2026`` is a Kassenzeichen too), letters read as digits naming several, a typo one edit
from several.

Items are named by their row number ``_r`` in the export: the references (and the typo repairs) are
joined with a key index of the export (integer keys where a Kassenzeichen fits an Int64, sorted: the
joins walk both sides in order), the IBAN fallback probes the amounts with a small key set, and no
string of the millions of items is copied or joined here. Each tier is read
only for the payments the tiers before it left without an item: windows where no exact reference (or
``external_ref``) found one, the repairs (letters, then typos) where no reference did, the IBAN
fallback where nothing did.
"""

from __future__ import annotations

import polars as pl

from claims.vocab import Rule
from matching.config import MatchConfig
from matching.creditor_ref import rf_references
from matching.letters import letter_texts
from matching.refexpr import reading_places, reference_candidates, text_tokens, valid_ref
from matching.rows import among_sorted
from matching.typos import typo_repairs
from parsers.validity import iban_list

#: the evidence levels (tiers): a rule's place in :meth:`claims.vocab.Rule.evidence`, strongest first
LEVEL = {rule: level for level, rule in enumerate(Rule.evidence())}


def iban_owner(rec: pl.DataFrame, ibans: pl.Series) -> pl.DataFrame:
    """``ibans`` (normalised) → the one debtor each is known for; IBANs known for several debtors or for
    none are left out. Only items holding one of ``ibans`` are read: a plain value by a probe, the few
    values with other characters (lists, spaces, lower case) split and normalised first. (A semi join
    with the wanted IBANs, not ``is_in`` of a list: as fast for a few thousand, several times faster
    for a hundred thousand and more, when every payer's account is asked for.)"""
    wanted = ibans.drop_nulls().to_frame("iban")
    raw = pl.col("debtor_iban")
    held = (
        rec.select("debtor_id", "debtor_iban").filter(raw.is_not_null())  # most items have no IBAN: the tests
        .with_columns(raw.str.contains("[^A-Z0-9]").alias("_odd"))        # below run on the others only
    )
    odd = (
        held.filter(pl.col("_odd"))
        .select("debtor_id", iban_list(raw).alias("iban"))
        .explode("iban")
        .select("debtor_id", pl.col("iban").str.replace_all(r"\s", "").str.to_uppercase())
    )
    return (
        pl.concat([held.filter(~pl.col("_odd")).select("debtor_id", raw.alias("iban")), odd])
        .join(wanted, on="iban", how="semi")
        .group_by("iban")
        .agg(pl.col("debtor_id").first().alias("payer_debtor"), pl.col("debtor_id").n_unique().alias("n"))
        .filter(pl.col("n") == 1)
        .select("iban", "payer_debtor")
    )


def item_key(digits: int) -> pl.Expr:
    """The join key of an item's Kassenzeichen: ``kz_norm`` as an Int64 when it is ``digits`` ASCII digits
    (else null) for ``digits`` ≤ 18 — integer probes of millions of items are several times cheaper than
    string probes — and ``kz_norm`` itself for longer numbers."""
    kz = pl.col("kz_norm")
    if digits > 18:
        return kz.alias("_k")
    plain = (kz.str.len_bytes() == digits) & ~kz.str.starts_with("+")  # "+1234…" would cast like "01234…"
    return pl.when(plain).then(kz.cast(pl.Int64, strict=False)).alias("_k")


def ref_key(col: str, digits: int) -> pl.Expr:
    """The join key of a reference string (``digits`` digits) matching :func:`item_key`."""
    return (pl.col(col) if digits > 18 else pl.col(col).cast(pl.Int64, strict=False)).alias("_k")


def key_index(rec: pl.DataFrame, digits: int) -> pl.DataFrame:
    """``_r`` (row number in ``rec``) and ``_k`` (:func:`item_key`) of the items that have a key; integer
    keys sorted: the references, sorted too, are joined with it along the order (a merge, several times
    cheaper than hashing millions of keys)."""
    ix = rec.select(item_key(digits)).with_row_index("_r").filter(pl.col("_k").is_not_null())
    return ix.sort("_k") if digits <= 18 else ix  # (longer numbers: string keys, hashed)


def _look_up(refs: pl.DataFrame, ix: pl.DataFrame, level: int, n: int) -> pl.DataFrame:
    """(transaction_id, _r, _k, level): the items of the valid references ``refs`` (transaction_id, ref, valid)."""
    valid = refs.filter(pl.col("valid")).select("transaction_id", ref_key("ref", n)).sort("_k")
    return valid.join(ix, on="_k").select("transaction_id", "_r", "_k", pl.lit(level, pl.Int32).alias("level"))


def _overlapping(pay: pl.DataFrame, hits: pl.DataFrame, cfg: MatchConfig, kind: str) -> pl.Series:
    """The payments whose ``hits`` (transaction_id, _k: the Kassenzeichen the readings of ``kind`` found)
    include two readings of one stretch that overlap (:func:`matching.refexpr.reading_places`): the
    payer meant at most one of them (a year glued to a Kassenzeichen can read as another one)."""
    n = cfg.digits
    # only payments naming several Kassenzeichen can (few). Payments are numbered 0..n-1 (designate): each
    # hit's key is written at its payment's number, and a hit whose key differs from the one written
    # there (some hit's of the same payment) is one of several — no sort or hash of all hits
    tid, key = pl.col("transaction_id"), pl.col("_k")
    t, k = hits["transaction_id"], hits["_k"]
    if t.is_empty():
        return t
    size = hits.select(tid.max()).item() + 1
    one = pl.Series("_k", [None], dtype=k.dtype).extend_constant(None, size).scatter(t, k)
    several = t.filter(one.gather(t) != k).unique()
    if several.is_empty():
        return several
    places = reading_places(pay.filter(pl.col("transaction_id").is_in(several.implode())), cfg, kind)
    hit = (
        places.select("transaction_id", "sid", "pos", ref_key("ref", n))
        .join(hits.select(tid, key).filter(tid.is_in(several.implode())).unique(), on=["transaction_id", "_k"])
        .sort("transaction_id", "sid", "pos")
    )
    same_stretch = (pl.col("transaction_id") == pl.col("transaction_id").shift(1)) & (pl.col("sid") == pl.col("sid").shift(1))
    clash = same_stretch & (pl.col("pos") - pl.col("pos").shift(1) < n) & (pl.col("_k") != pl.col("_k").shift(1))
    return hit.filter(clash.fill_null(False))["transaction_id"].unique()


def by_reference(
    pay: pl.DataFrame, refs: pl.DataFrame, rec: pl.DataFrame, ix: pl.DataFrame, cfg: MatchConfig
) -> pl.DataFrame:
    """(transaction_id, _r, level, shown) for tiers 0–1, possibly repeated. Tiers 2–3 are :func:`by_typo`,
    tier 4 :func:`by_iban_amount`, which needs the payers' debtors.

    ``shown``: the payment's readings are ambiguous — two overlapping readings of one stretch name
    different Kassenzeichen (:func:`_overlapping`): its items are shown to the clerk, never booked
    (:func:`by_typo` moves them to the fits). ``pay``: transaction_id (the payments' numbers 0..n−1, as
    :func:`matching.designate.designate` gives them), amount_cents and the text columns;
    ``refs``: the exact references of :func:`matching.refexpr.reference_candidates` (RF references and
    windows are read here, for the payments that need them); ``rec``: the export; ``ix``: its key index
    of :func:`key_index`.
    """
    n = cfg.digits
    exact = _look_up(refs.filter(pl.col("kind") == "exact"), ix, LEVEL[Rule.REFERENCE_EXACT], n)
    frames = [exact.drop("_k")]
    shared_ref: list[pl.Series] = []
    if rec["external_ref"].null_count() < rec.height:
        at = rec["external_ref"].is_not_null().arg_true()
        ext = pl.DataFrame({"_r": at.cast(ix.schema["_r"]), "token": rec["external_ref"].gather(at)}).with_columns(
            pl.col("token").str.to_uppercase().str.replace_all(r"[^A-Z0-9]", ""))
        tokens = text_tokens(pay, cfg, ext["token"].unique())
        hits = tokens.join(ext, on="token")
        frames.append(hits.select("transaction_id", "_r", pl.lit(0, pl.Int32).alias("level")))
        # an external_ref on items of several debtors (a Beitragsnummer quoted in two debtors' Amtshilfe
        # cases) names no one: shown, never booked (looked at for the payments with such a hit only)
        shared = (hits.with_columns(rec["debtor_id"].gather(hits["_r"]).alias("_d"))
                  .group_by("transaction_id", "token").agg(pl.col("_d").n_unique().alias("_n"))
                  .filter(pl.col("_n") > 1)["transaction_id"])
        shared_ref.append(shared.cast(pay.schema["transaction_id"]))
    # valid ISO 11649 references (and windows: tier 1) count only where no exact reference found an item:
    # read only for those payments
    rest = pay.filter(~pl.col("transaction_id").is_in(pl.concat(frames)["transaction_id"].implode()))
    rf = rf_references(rest, cfg)
    rf = _look_up(rf.with_columns(valid_ref(cfg).alias("valid")), ix, LEVEL[Rule.REFERENCE_EXACT], n)
    rest = rest.filter(~pl.col("transaction_id").is_in(rf["transaction_id"].implode()))
    windows = _look_up(reference_candidates(rest, cfg, kinds=("window",)), ix, LEVEL[Rule.REFERENCE_WINDOW], n)
    shown = pl.concat([_overlapping(pay, exact, cfg, "exact"), _overlapping(rest, windows, cfg, "window"),
                       *shared_ref])
    found = pl.concat([*frames, rf.drop("_k"), windows.drop("_k")])  # (duplicates dropped later, per payment and item)
    return found.with_columns(pl.col("transaction_id").is_in(shown.implode()).alias("shown"))


def _by_letters(
    pay: pl.DataFrame, ix: pl.DataFrame, cfg: MatchConfig
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """``(found, fits)`` of the letters read as digits (:mod:`matching.letters`) in the texts of ``pay``:
    found (transaction_id, _r, level) where the readings name exactly one Kassenzeichen, fits
    (transaction_id, _r, why) where they name several (shown, never booked)."""
    read = letter_texts(pay, cfg)
    if read.is_empty():  # (most runs: then no reading at all, which costs some milliseconds even for no rows)
        return (pl.DataFrame(schema={"transaction_id": pay.schema["transaction_id"], "_r": ix.schema["_r"], "level": pl.Int32}),
                pl.DataFrame(schema={"transaction_id": pay.schema["transaction_id"], "_r": ix.schema["_r"], "why": pl.String}))
    hits = _look_up(reference_candidates(read, cfg, kinds=("exact",)), ix, LEVEL[Rule.REFERENCE_LETTERS], cfg.digits)
    one = pl.col("_k").n_unique().over("transaction_id") == 1
    return (hits.filter(one).select("transaction_id", "_r", "level"),
            hits.filter(~one).select("transaction_id", "_r", pl.lit(Rule.REFERENCE_LETTERS).alias("why")))


def by_typo(
    pay: pl.DataFrame, refs: pl.DataFrame, rec: pl.DataFrame, ix: pl.DataFrame, found: pl.DataFrame, cfg: MatchConfig
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """``(found, typo_fits)``: ``found`` (of :func:`by_reference`) without its ``shown`` payments, plus the
    repairs of the payments nothing found yet: letters read as digits (level 2), then typos (level 3);
    typo_fits = (transaction_id, _r, why) for the items of ambiguous readings: the ``shown`` ones, letters
    naming several Kassenzeichen, references one edit away from several (suggestions only)."""
    n = cfg.digits
    rules = pl.col("level").replace_strict(list(LEVEL.values()), list(LEVEL), return_dtype=pl.String)
    fits = [found.filter(pl.col("shown")).select("transaction_id", "_r", rules.alias("why"))]
    seen = found["transaction_id"]  # (the shown payments too: their strongest tier is an ambiguous reading)
    found = found.filter(~pl.col("shown")).drop("shown")
    if not cfg.typo_repair or cfg.check_digit == "none":
        return found, pl.concat(fits)
    letters, letter_fits = _by_letters(pay.filter(~pl.col("transaction_id").is_in(seen.implode())), ix, cfg)
    fits.append(letter_fits)
    seen = pl.concat([seen, letters["transaction_id"], letter_fits["transaction_id"]])
    found = pl.concat([found, letters])
    # (a reference with a valid check digit is never one edit away from another valid one: only the
    # invalid ones are repaired)
    todo = refs.filter((pl.col("kind") == "exact") & ~pl.col("valid") & ~pl.col("transaction_id").is_in(seen.implode()))
    index = ix.select(pl.col("_k").alias("_kz" if n <= 18 else "kz_norm"))
    rep = typo_repairs(todo, index, cfg).with_columns(ref_key("kz_norm", n))
    # the items of repaired Kassenzeichen: a small key set joined with the index along the order
    items = among_sorted(rep["_k"], ix)
    items = items.with_columns(rec["amount_cents"].gather(items["_r"]))
    # several Kassenzeichen one edit away: the one whose open amount is exactly the payment decides
    several = rep.filter(pl.col("n_fits") > 1)
    kz_open = items.group_by("_k").agg(pl.col("amount_cents").sum().alias("open_sum"))
    by_amount = (
        several
        .join(kz_open, on="_k")
        .join(pay.select("transaction_id", "amount_cents"), on="transaction_id")
        .filter(pl.col("open_sum") == pl.col("amount_cents"))
        .filter(pl.len().over("transaction_id", "ref") == 1)
    )
    ok = pl.concat([rep.filter(pl.col("n_fits") == 1).select("transaction_id", "ref", "_k"),
                    by_amount.select("transaction_id", "ref", "_k")])
    typo = LEVEL[Rule.REFERENCE_TYPO]
    found = pl.concat([found, ok.join(items, on="_k").select("transaction_id", "_r", pl.lit(typo, pl.Int32).alias("level"))])
    fits.append(
        several.join(by_amount.select("transaction_id", "ref"), on=["transaction_id", "ref"], how="anti")
        .join(items, on="_k").select("transaction_id", "_r", pl.lit(Rule.REFERENCE_TYPO).alias("why"))
    )
    return found, pl.concat(fits)


def by_iban_amount(want: pl.DataFrame, rec: pl.DataFrame, r_dtype: pl.DataType) -> pl.DataFrame:
    """(transaction_id, _r, level 4) for the payments ``want`` (transaction_id, amount_cents,
    payer_debtor: payments nothing else found, paid from a debtor's known IBAN): that debtor has open
    items of exactly the amount."""
    # amounts first (an integer probe), then the few items left by debtor
    amount = rec["amount_cents"]
    at = (amount.is_in(want["amount_cents"].unique().implode()) & (amount > 0)).arg_true()
    items = pl.DataFrame({"_r": at, "debtor_id": rec["debtor_id"].gather(at), "amount_cents": amount.gather(at)}).filter(
        pl.col("debtor_id").is_in(want["payer_debtor"].unique().implode()))
    return want.join(items, left_on=["payer_debtor", "amount_cents"], right_on=["debtor_id", "amount_cents"]).select(
        "transaction_id", pl.col("_r").cast(r_dtype), pl.lit(LEVEL[Rule.IBAN_AMOUNT], pl.Int32).alias("level"))
