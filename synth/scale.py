"""``generate_scale``: millions of open items and payments with truth, fast (Polars only, no row loops).

A simpler municipality than :func:`synth.generate`: one open item per Kassenzeichen, three items per
debtor, and the payment cases ``full``, ``partial``, ``over``, ``typo_digit``, ``typo_swap``,
``iban_only``, ``third_party``, ``no_ref``, ``wrong_ref`` (and ``double`` for payments beyond
``n_items``, which pay an item a second time). Files::

    open_items.parquet                 DESIGN.md §3 columns (amount as text with decimal point, due_date Date)
    statements/sparkasse/scale.sta     all Sparkasse payments, MT940 (ISO-8859-1), one statement per day
    statements/volksbank/scale.xml     all Volksbank payments, camt.053.001.08, one Stmt per day
    truth.parquet                      as for generate (TRUTH_SCHEMA)
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import polars as pl

from synth import camt_render, mt940_render, rand, scale_round_two
from synth.accounts import TREASURY_ACCOUNTS
from synth.bench import ENTRIES_PER_STATEMENT, FIRST_DAY
from synth.bookings import StatementHeader, business_days, conform_bookings
from synth.generated import ROUND_TWO_TRUTH_SCHEMA, TRUTH_SCHEMA, GeneratedSet
from synth.names import DEBTOR_BANKS, FIRST_NAMES, HAUSVERWALTUNGEN, LAST_NAMES
from synth.numbers import format_kassenzeichen, german_iban, kassenzeichen_from_bodies

_TYPES = ("GRUNDSTEUER", "GEWERBESTEUER", "ABFALL", "HUNDESTEUER", "KITA", "BUSSGELD")
_TYPE_WEIGHTS = (35, 8, 30, 10, 8, 9)
CASES = ("full", "partial", "over", "typo_digit", "typo_swap", "iban_only", "third_party", "no_ref", "wrong_ref")
_CASE_WEIGHTS = (62, 6, 3, 4, 3, 10, 5, 4, 3)
_PERM = 2_654_435_761           # prime: i → i·P mod N is a bijection, so Kassenzeichen never repeat
_SPACE = 10**10 // 3            # bodies are multiples of 3, so the +1/+2 skip of a '10' body never collides


def _pick(pool: tuple[str, ...] | list[str], idx: pl.Expr) -> pl.Expr:
    return pl.lit(pl.Series(pool)).gather(idx)


def _open_items(n: int, seed: int, tenant: str = "scale", european: bool = False) -> pl.DataFrame:
    r = lambda s, lo, hi: rand.integers(n, lo, hi, seed, 100 + s)  # noqa: E731
    f = pl.DataFrame({
        "i": pl.int_range(n, eager=True, dtype=pl.Int64),
        "type": rand.choice(n, _TYPE_WEIGHTS, seed, 99).cast(pl.Int64),
        "euros": r(1, 20, 900), "cents": r(2, 0, 20) * 5, "known": r(3, 0, 10),
        "first": r(4, 0, len(FIRST_NAMES)), "last": r(5, 0, len(LAST_NAMES)), "bank": r(6, 0, len(DEBTOR_BANKS)),
    })
    f = f.with_columns(
        (pl.col("i") // 3).alias("d"),
        ((pl.col("type") + 1) * 10**10 + 3 * ((pl.col("i") * _PERM + seed * 7919) % _SPACE)).alias("body"),
    ).with_columns(
        kassenzeichen_from_bodies(pl.col("body")).cast(pl.String).alias("kz"),
        german_iban(_pick(tuple(b for b, _ in DEBTOR_BANKS), pl.col("bank")).cast(pl.Int64),
                    (pl.col("d") * _PERM) % 10**10).alias("iban"),
        _pick(tuple(c for _, c in DEBTOR_BANKS), pl.col("bank")).alias("bic"),
    )
    # a debtor's three items share its name and account: take them from the debtor's first row
    f = f.with_columns(pl.col("first", "last", "iban", "bic", "known").first().over("d"))
    if european:  # round two: some debtors named in a European alphabet (synth.scale_round_two)
        f = f.with_columns(*scale_round_two.euro_debtors(n, seed)).with_columns(
            pl.col("euro", "eidx").first().over("d"))
    items = _items_frame(f, tenant)
    if not european:
        return items
    euro, eidx = pl.col("euro"), pl.col("eidx")
    return items.hstack(f.select("euro", "eidx")).with_columns(
        pl.when(euro).then(_pick(scale_round_two.EURO_EXPORT, eidx)).otherwise(pl.col("debtor_name")).alias("debtor_name"),
        pl.when(euro).then(_pick(scale_round_two.EURO_PLAIN, eidx)).otherwise(pl.col("payer_name")).alias("payer_name"))


def _items_frame(f: pl.DataFrame, tenant: str) -> pl.DataFrame:
    return f.select(
        pl.lit(tenant).alias("tenant"),
        pl.concat_str(pl.lit("SC-"), pl.col("i").cast(pl.String).str.zfill(9)).alias("receivable_id"),
        pl.col("kz").alias("kassenzeichen"),
        pl.concat_str(pl.lit("P"), pl.col("d").cast(pl.String).str.zfill(8)).alias("debtor_id"),
        pl.concat_str(_pick(LAST_NAMES, pl.col("last")), pl.lit(", "), _pick(FIRST_NAMES, pl.col("first")))
        .alias("debtor_name"),
        pl.when(pl.col("known") < 8).then(pl.col("iban")).alias("debtor_iban"),
        _pick(_TYPES, pl.col("type")).alias("claim_type"),
        (pl.col("euros") * 100 + pl.col("cents")).alias("amount_cents"),
        pl.lit(FIRST_DAY).alias("due_date"),
        pl.when(_pick(_TYPES, pl.col("type")) == "KITA").then(pl.lit("private")).otherwise(pl.lit("public"))
        .alias("law"),
        pl.col("iban").alias("payer_iban"), pl.col("bic").alias("payer_bic"),
        pl.concat_str(_pick(FIRST_NAMES, pl.col("first")), pl.lit(" "), _pick(LAST_NAMES, pl.col("last")))
        .alias("payer_name"),
    )


def _typo(kz: pl.Expr, pos: pl.Expr, new_digit: pl.Expr) -> pl.Expr:
    return pl.concat_str(kz.str.slice(0, pos), new_digit.cast(pl.String), kz.str.slice(pos + 1))


def _payments(items: pl.DataFrame, n: int, seed: int, mix: float = 0.0) -> pl.DataFrame:
    r = lambda s, lo, hi: rand.integers(n, lo, hi, seed, 200 + s)  # noqa: E731
    m = items.height
    shuffled = pl.DataFrame({"k": pl.int_range(m, eager=True, dtype=pl.Int64), "u": rand.u64(m, seed, 201)})
    order = shuffled.sort("u").get_column("k")
    picks = pl.DataFrame({
        "p": pl.int_range(n, eager=True, dtype=pl.Int64),
        "k": pl.concat([order] * (n // m + 1)).head(n) if m else pl.Series([], dtype=pl.Int64),
        "case": pl.Series(CASES).gather(rand.choice(n, _CASE_WEIGHTS, seed, 202)),
        "pos": r(3, 0, 12), "plus": r(4, 1, 10), "style": r(5, 0, 4), "pct": r(6, 20, 90), "extra": r(7, 1, 20000),
        "other": r(8, 1, max(2, m)), "first": r(9, 0, len(FIRST_NAMES)), "last": r(10, 0, len(LAST_NAMES)),
        "acct": r(11, 10**6, 10**10), "hv": r(12, 0, len(HAUSVERWALTUNGEN)),
    })
    it = items.with_row_index("k").with_columns(pl.col("k").cast(pl.Int64))
    # amounts unique within the debtor make an IBAN-only payment decidable
    it = it.with_columns((pl.len().over("debtor_id", "amount_cents") == 1).alias("unique_amount"))
    f = picks.join(it, on="k", how="left").sort("p")
    # more payments than items: the extra ones pay an item a second time
    f = f.with_columns(pl.when(pl.col("p") >= m).then(pl.lit("double")).otherwise(pl.col("case")).alias("case"))
    f = f.with_columns(  # an item paid before in the set makes a later 'full' payment a double: keep it simple
        pl.when((pl.col("case") == "iban_only") & ~(pl.col("debtor_iban").is_not_null() & pl.col("unique_amount")))
        .then(pl.lit("full")).otherwise(pl.col("case")).alias("case"),
        pl.col("kassenzeichen").str.slice(pl.col("pos"), 1).cast(pl.Int64).alias("digit"),
    )
    swapped = pl.concat_str(pl.col("kassenzeichen").str.slice(0, pl.col("pos") % 11),
                            pl.col("kassenzeichen").str.slice(pl.col("pos") % 11 + 1, 1),
                            pl.col("kassenzeichen").str.slice(pl.col("pos") % 11, 1),
                            pl.col("kassenzeichen").str.slice(pl.col("pos") % 11 + 2))
    f = f.with_columns(swapped.alias("swapped"))
    f = f.with_columns(
        pl.when((pl.col("case") == "typo_swap") & (pl.col("swapped") == pl.col("kassenzeichen")))
        .then(pl.lit("typo_digit")).otherwise(pl.col("case")).alias("case"))
    all_kz = items.get_column("kassenzeichen")
    wrong_kz = pl.lit(all_kz).gather((pl.col("k") + pl.col("other")) % m) if m else pl.lit(None)
    f = f.with_columns(
        pl.when(pl.col("case") == "typo_digit").then(_typo(pl.col("kassenzeichen"), pl.col("pos"),
                                                           (pl.col("digit") + pl.col("plus")) % 10))
        .when(pl.col("case") == "typo_swap").then(pl.col("swapped"))
        .when(pl.col("case").is_in(["no_ref", "iban_only"])).then(pl.lit(None))
        .otherwise(pl.col("kassenzeichen")).alias("quoted_kz"),
        pl.when(pl.col("case") == "partial").then(pl.col("amount_cents") * pl.col("pct") // 100)
        .when(pl.col("case") == "over").then(pl.col("amount_cents") + pl.col("extra"))
        .when(pl.col("case").is_in(["no_ref", "wrong_ref"])).then(pl.col("extra") * 10 + 3)  # never a tariff
        .otherwise(pl.col("amount_cents")).alias("paid"),
    ).with_columns(
        pl.when(pl.col("case") == "wrong_ref").then(wrong_kz).otherwise(pl.col("quoted_kz")).alias("quoted_kz"))
    f = f.with_columns(format_kassenzeichen(pl.col("quoted_kz"), pl.col("style")).alias("quoted"))
    stranger = pl.col("case").is_in(["no_ref", "wrong_ref", "third_party"])
    decidable = ~pl.col("case").is_in(["no_ref", "wrong_ref"])
    out = f.select(
        "p", "case", pl.col("paid").alias("amount_cents"), decidable.alias("decidable"),
        pl.when(decidable & (pl.col("case") != "double")).then(pl.concat_list(pl.struct(
            pl.col("receivable_id"),
            pl.when(pl.col("case") == "over").then(pl.col("amount_cents")).otherwise(pl.col("paid"))
            .alias("amount_cents"))))
        .otherwise(pl.lit([], dtype=TRUTH_SCHEMA["expected"])).alias("expected"),
        pl.when(pl.col("case").is_in(["no_ref", "iban_only"])).then(pl.lit(None))
        .when(pl.col("case") == "wrong_ref").then(pl.col("quoted_kz"))
        .otherwise(pl.col("kassenzeichen")).alias("kz_quoted"),
        "quoted",
        pl.when(pl.col("quoted").is_null()).then(pl.lit("Zahlung")).otherwise(
            pl.concat_str(pl.lit("Kassenzeichen "), pl.col("quoted"), pl.lit(" "), pl.col("claim_type").str.to_lowercase())
        ).alias("svwz"),
        pl.when(pl.col("case") == "third_party").then(_pick(HAUSVERWALTUNGEN, pl.col("hv")))
        .when(stranger).then(pl.concat_str(_pick(FIRST_NAMES, pl.col("first")), pl.lit(" "),
                                           _pick(LAST_NAMES, pl.col("last"))))
        .otherwise(pl.col("payer_name")).alias("cp_name"),
        pl.when(stranger).then(german_iban(pl.lit(37050198, dtype=pl.Int64), pl.col("acct")))
        .otherwise(pl.col("payer_iban")).alias("cp_iban"),
        pl.when(stranger).then(pl.lit("COLSDE33XXX")).otherwise(pl.col("payer_bic")).alias("cp_bic"),
    )
    return scale_round_two.apply(out, f, items, n, seed, mix) if mix else out


def generate_scale(out_dir: Path, *, n_items: int, n_payments: int, seed: int = 1,
                   tenant: str = "scale", mix: float = 0.0,
                   progress: Callable[[str, int, int], None] | None = None) -> GeneratedSet:
    """Write ``n_items`` open items and ``n_payments`` payments with truth, e.g. 5 M / 1 M, fast.

    Payments alternate between the Sparkasse (MT940) and the Volksbank (camt.053) account; each bank
    file holds one statement per business day of :data:`synth.bench.ENTRIES_PER_STATEMENT` entries.
    ``mix`` > 0: about that share of the payments become round-two kinds of issue 14
    (:mod:`synth.scale_round_two`), and the truth gets the column ``expected_hold``.
    ``progress(what, done, total)`` is called every ten statements (for a terminal; it changes no value).
    """
    if not 0 <= mix < 1:
        raise ValueError(f"mix is a share of the payments, 0 <= mix < 1: {mix}")
    tell = progress or (lambda what, done, total: None)
    total = 2 + 2 * max(1, -(-n_payments // ENTRIES_PER_STATEMENT))   # about: the split by bank rounds
    done = 0
    out_dir.mkdir(parents=True, exist_ok=True)
    items = _open_items(n_items, seed, tenant, european=bool(mix))
    open_items = out_dir / "open_items.parquet"
    items.select(
        "tenant", "receivable_id", "kassenzeichen", "debtor_id", "debtor_name", "debtor_iban", "claim_type",
        pl.concat_str((pl.col("amount_cents") // 100).cast(pl.String), pl.lit("."),
                      (pl.col("amount_cents") % 100).cast(pl.String).str.zfill(2)).alias("amount"),
        "due_date", "law",
    ).write_parquet(open_items, statistics=False)
    done += 1
    tell(open_items.name, done, total)
    pays = _payments(items, n_payments, seed, mix).with_columns(
        pl.when(pl.col("p") % 5 < 3).then(pl.lit("sparkasse")).otherwise(pl.lit("volksbank")).alias("bank"))
    if mix:  # the Sparkasse file is ISO-8859-1: names and text as that bank spells them
        sparkasse = pl.col("bank") == "sparkasse"
        pays = pays.with_columns(pl.when(sparkasse).then(scale_round_two.to_latin1(pl.col(c))).otherwise(pl.col(c))
                                 for c in ("cp_name", "svwz", "quoted"))
    files: list[Path] = []
    truth_parts: list[pl.DataFrame] = []
    for bank in ("sparkasse", "volksbank"):
        rows = pays.filter(pl.col("bank") == bank).with_row_index("j").with_columns(pl.col("j").cast(pl.Int64))
        n_st = max(1, -(-rows.height // ENTRIES_PER_STATEMENT))
        days = business_days(FIRST_DAY, n_st)
        prefix = "1" if bank == "sparkasse" else "2"
        rows = rows.with_columns(
            pl.lit(pl.Series(days, dtype=pl.Date)).gather(pl.col("j") // ENTRIES_PER_STATEMENT).alias("booking_date"),
            pl.concat_str(pl.lit(prefix), pl.col("j").cast(pl.String).str.zfill(11)).alias("bank_ref"),
        )
        bookings = conform_bookings(rows.with_columns(
            pl.col("j").alias("entry_no"), pl.col("booking_date").alias("value_date"),
            pl.col("bank_ref").alias("entry_ref"), pl.lit("NTRF").alias("swift_code"), pl.lit("166").alias("gvc"),
            pl.lit("SEPA-UEBERWEISUNG").alias("booking_text"), (pl.col("j") % 900 + 9100).cast(pl.String)
            .alias("primanota"), pl.lit("PMNT").alias("domain"), pl.lit("RCDT").alias("family"),
            pl.lit("ESCT").alias("subfamily")))
        folder = out_dir / "statements" / bank
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / ("scale.sta" if bank == "sparkasse" else "scale.xml")
        account = TREASURY_ACCOUNTS[bank]
        balance = 1_000_000_00
        block = 10 * ENTRIES_PER_STATEMENT  # render ten statements at a time: memory stays flat
        with open(path, "wb") as out:
            for k, day in enumerate(days):
                if k % 10 == 0:
                    tell(f"{path.name}: statement {k + 1} of {len(days)}", min(done + k, total - 1), total)
                    chunk = bookings.slice(k * ENTRIES_PER_STATEMENT, block)
                    texts = (mt940_render.render_entries(chunk) if bank == "sparkasse"
                             else camt_render.render_entries(chunk, "08")).to_list()
                lo = (k % 10) * ENTRIES_PER_STATEMENT
                part = chunk.slice(lo, ENTRIES_PER_STATEMENT)
                lines = texts[lo:lo + ENTRIES_PER_STATEMENT]
                header = StatementHeader(account, k + 1, day, balance, f"STARTUMSE{k + 1:05d}")
                if bank == "sparkasse":
                    out.write(mt940_render.render_statement(header, part, lines).encode("iso-8859-1"))
                else:
                    if k == 0:
                        out.write(camt_render.document_head(header, "08").encode("utf-8"))
                    out.write(camt_render.render_statement(header, part, "08", lines).encode("utf-8"))
                balance += int(part.get_column("amount_cents").sum() or 0)
            if bank == "volksbank":
                out.write(camt_render.document_tail().encode("utf-8"))
        files.append(path)
        done += len(days)
        truth_parts.append(rows.select(
            pl.lit(bank).alias("bank"), pl.lit(path.relative_to(out_dir).as_posix()).alias("statement_file"),
            "bank_ref", pl.col("bank_ref").alias("entry_ref"), "booking_date", "amount_cents", "case", "decidable",
            "expected", "kz_quoted", "quoted", pl.lit(False).alias("kz_split"), pl.col("cp_name").alias("payer_name"),
            pl.lit("").alias("note"), *(["expected_hold"] if mix else [])))
    truth = out_dir / "truth.parquet"
    schema = ROUND_TWO_TRUTH_SCHEMA if mix else TRUTH_SCHEMA
    pl.concat(truth_parts).cast(schema).write_parquet(truth, statistics=False)  # type: ignore[arg-type]
    tell(truth.name, total, total)
    return GeneratedSet(out_dir, open_items, tuple(files), truth, None, None, n_items, n_payments)
