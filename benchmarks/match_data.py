"""A synthetic municipality at benchmark scale for matching: open items, payments, and the truth.

Everything is generated with Polars expressions (the counter-based generator of :mod:`synth.rand`),
so 5 M open items and 1 M payments take seconds. Each payment has a *case* (how the payer behaved)
and its intended Kassenzeichen; the MT940 writer of :mod:`synth` turns the payments into a file with
realistic ``?20``-``?29`` line cuts.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import polars as pl

from synth import rand
from synth.accounts import TREASURY_ACCOUNTS
from synth.bookings import StatementHeader, conform_bookings
from synth.mt940_render import render_entries, render_statement
from synth.numbers import format_kassenzeichen, german_iban, kassenzeichen_from_bodies

#: (case, weight, decidable): how payers behave. ``decidable`` = a careful clerk could book it from
#: the payment alone (an allocation is expected); the others must end on the Klärungsliste.
CASES = (
    ("exact", 58, True), ("partial", 6, True), ("over", 3, True), ("typo_digit", 3, True),
    ("typo_swap", 2, True), ("glued", 2, True), ("iban_amount", 4, True), ("third_party", 2, True),
    ("direct_debit", 8, True), ("no_reference", 5, False), ("invalid_reference", 3, False),
    ("double", 2, False), ("fee", 2, False),
)
CLAIMS = ("GRUNDSTEUER", "ABFALL", "HUNDESTEUER", "KITA", "GEWERBESTEUER", "BUSSGELD")
PREFIX = ("KZ ", "Kassenzeichen ", "Kassenzeichen: ", "Az. ", "", "Kassenz. ")
WORDS = ("Grundsteuer", "Abfallgebuehren", "Hundesteuer 2026", "Kita-Beitrag", "Rechnung", "Gebuehr")
FIRST_DAY = dt.date(2026, 2, 2)
PER_STATEMENT = 2000


def _int(n: int, lo: int, hi: int, seed: int, stream: int) -> pl.Series:
    return rand.integers(n, lo, hi, seed, stream)


def open_items(n_items: int, seed: int = 7) -> pl.DataFrame:
    """``n_items`` open items (OPEN_ITEM_SCHEMA columns, ``amount_cents`` open): one Kassenzeichen per
    main claim, every 10th with a Mahngebühr under the same Kassenzeichen; two Kassenzeichen per debtor;
    40 % of the debtors with a known IBAN; 10 % private law."""
    n_kz = n_items * 10 // 11
    k = pl.DataFrame({"k": pl.int_range(0, n_kz, eager=True, dtype=pl.Int64)})
    k = k.with_columns(
        kassenzeichen_from_bodies(pl.lit(10**10) + pl.col("k") * 17).cast(pl.String).alias("kassenzeichen"),
        (pl.col("k") // 2).alias("debtor"),
        _int(n_kz, 500, 250_000, seed, 1).alias("amount_cents"),
        pl.lit(pl.Series(CLAIMS)).gather(_int(n_kz, 0, len(CLAIMS), seed, 2)).alias("claim_type"),
        (pl.lit(dt.date(2026, 1, 1)) + pl.duration(days=pl.lit(_int(n_kz, 0, 60, seed, 3)))).alias("due_date"),
        pl.when(_int(n_kz, 0, 10, seed, 4) == 0).then(pl.lit("private")).otherwise(pl.lit("public")).alias("law"),
    )
    debt = pl.col("debtor")
    k = k.with_columns(
        pl.format("D{}", debt).alias("debtor_id"),
        pl.format("Person {}", debt).alias("debtor_name"),
        pl.when(debt % 5 < 2).then(german_iban(pl.lit(37050198) + debt % 7, debt * 3 + 10**8)).alias("debtor_iban"),
    )
    main = k.with_columns(pl.format("R{}", pl.col("k")).alias("receivable_id"))
    fees = k.filter(pl.col("k") % 10 == 0).with_columns(
        pl.format("R{}M", pl.col("k")).alias("receivable_id"), pl.lit(600, pl.Int64).alias("amount_cents"),
        pl.lit("MAHNGEBUEHR").alias("claim_type"), (pl.col("due_date") + pl.duration(days=30)).alias("due_date"),
    )
    out = pl.concat([main, fees]).head(n_items)
    return out.with_columns(pl.col("kassenzeichen").alias("kz_norm"), pl.lit("default").alias("tenant"))


def payments(items: pl.DataFrame, n_pay: int, seed: int = 11) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame]:
    """``(items, bookings, truth)``: items with the double-payment targets set to 0 open, bookings in
    :data:`synth.bookings.BOOKING_SCHEMA`, truth (bank_ref, case, decidable, kz)."""
    per_kz = items.group_by("kassenzeichen").agg(
        pl.col("amount_cents").sum().alias("open_sum"), pl.col("amount_cents").filter(~pl.col("receivable_id").str.ends_with("M")).first().alias("main"),
        pl.col("debtor_iban").first(), pl.col("debtor_name").first(), pl.len().alias("n"),
    ).sort("kassenzeichen")
    n_pay = min(n_pay, per_kz.height)
    picked = per_kz.sample(n_pay, seed=seed, shuffle=True)
    case_ix = rand.choice(n_pay, [c[1] for c in CASES], seed, 20)
    cases = pl.DataFrame({"ci": pl.Series(range(len(CASES)), dtype=pl.UInt32), "case": [c[0] for c in CASES],
                          "decidable": [c[2] for c in CASES]})
    p = picked.with_columns(
        case_ix.alias("ci"), pl.int_range(0, n_pay, dtype=pl.Int64).alias("i"),
        _int(n_pay, 0, 4, seed, 21).alias("style"), _int(n_pay, 0, len(PREFIX), seed, 22).alias("pfx"),
        _int(n_pay, 0, len(WORDS), seed, 23).alias("word"), _int(n_pay, 0, 11, seed, 24).alias("pos"),
        _int(n_pay, 1, 10, seed, 25).alias("bump"), _int(n_pay, 100, 5000, seed, 26).alias("extra"),
    ).join(cases, on="ci").sort("i")
    # iban_amount needs a known IBAN and a Kassenzeichen with one item; otherwise the payer quotes it
    p = p.with_columns(
        pl.when((pl.col("case") == "iban_amount") & (pl.col("debtor_iban").is_null() | (pl.col("n") > 1)))
        .then(pl.lit("exact")).otherwise(pl.col("case")).alias("case")
    ).with_columns(pl.col("case").replace_strict([c[0] for c in CASES], [c[2] for c in CASES]).alias("decidable"))
    kz, pos, case = pl.col("kassenzeichen"), pl.col("pos"), pl.col("case")
    bumped = ((kz.str.slice(pos, 1).cast(pl.Int64) + pl.col("bump")) % 10).cast(pl.String)
    typo_d = pl.concat_str(kz.str.slice(0, pos), bumped, kz.str.slice(pos + 1))
    typo_s = pl.concat_str(kz.str.slice(0, pos), kz.str.slice(pos + 1, 1), kz.str.slice(pos, 1), kz.str.slice(pos + 2))
    typo_s = pl.when(typo_s == kz).then(typo_d).otherwise(typo_s)
    quoted = (
        pl.when(case == "typo_digit").then(typo_d).when(case == "typo_swap").then(typo_s)
        .when(case == "invalid_reference").then(pl.format("9{}", kz.str.slice(1).str.reverse()))
        .otherwise(format_kassenzeichen(kz, pl.col("style")))
    )
    text = pl.concat_str(pl.lit(pl.Series(PREFIX)).gather(pl.col("pfx")), quoted, pl.lit(" "),
                         pl.lit(pl.Series(WORDS)).gather(pl.col("word")))
    text = (
        pl.when(case == "glued").then(pl.concat_str(pl.lit("RG4711"), kz, pl.lit(" Rechnung")))
        .when(case.is_in(["no_reference", "iban_amount"])).then(pl.lit("Vielen Dank"))
        .when(case == "direct_debit").then(pl.lit("Lastschrift Stadtkasse"))
        .when(case == "fee").then(pl.lit("Abschluss Entgelte"))
        .otherwise(text)
    )
    amount = (
        pl.when(case == "partial").then(pl.col("open_sum") - pl.col("open_sum") // 3)
        .when(case == "over").then(pl.col("open_sum") + pl.col("extra"))
        .when(case == "iban_amount").then(pl.col("main"))
        .when(case == "fee").then(-pl.col("extra"))
        .otherwise(pl.col("open_sum"))
    )
    gvc = pl.when(case == "direct_debit").then(pl.lit("171")).when(case == "fee").then(pl.lit("805")).otherwise(pl.lit("166"))
    day = pl.col("i") // PER_STATEMENT
    b = p.select(
        pl.col("i").alias("entry_no"),
        (pl.lit(FIRST_DAY) + pl.duration(days=day)).alias("booking_date"),
        (pl.lit(FIRST_DAY) + pl.duration(days=day)).alias("value_date"),
        amount.alias("amount_cents"),
        pl.format("BR{}", pl.col("i").cast(pl.String).str.zfill(9)).alias("bank_ref"),
        pl.when(case == "fee").then(pl.lit("NCHG")).when(case == "direct_debit").then(pl.lit("NDDT")).otherwise(pl.lit("NTRF")).alias("swift_code"),
        gvc.alias("gvc"),
        pl.when(case == "direct_debit").then(pl.lit("SEPA-LASTSCHRIFT")).otherwise(pl.lit("SEPA-UEBERWEISUNG")).alias("booking_text"),
        pl.when(case == "direct_debit").then(pl.concat_str(kz, pl.lit("-20260215"))).alias("eref"),
        text.alias("svwz"),
        pl.when(case == "third_party").then(pl.lit("Hausverwaltung Rhein GmbH")).when(case == "fee").then(None)
        .otherwise(pl.col("debtor_name")).alias("cp_name"),
        pl.when(case.is_in(["iban_amount", "exact", "partial", "over"])).then(pl.col("debtor_iban")).alias("cp_iban"),
    )
    truth = p.select(pl.format("BR{}", pl.col("i").cast(pl.String).str.zfill(9)).alias("bank_ref"), "case", "decidable", "kassenzeichen")
    doubles = p.filter(case == "double").select("kassenzeichen")
    items = items.with_columns(
        pl.when(pl.col("kassenzeichen").is_in(doubles["kassenzeichen"].implode())).then(0).otherwise(pl.col("amount_cents")).alias("amount_cents")
    )
    return items, conform_bookings(b), truth


def write_mt940(bookings: pl.DataFrame, path: Path) -> None:
    """The bookings as one Sparkasse-style MT940 file, one statement per 2000 entries (balances tie out)."""
    account = TREASURY_ACCOUNTS["sparkasse"]
    balance = 1_000_000_00
    with open(path, "wb") as out:
        for n, start in enumerate(range(0, bookings.height, PER_STATEMENT)):
            chunk = bookings.slice(start, PER_STATEMENT)
            day = chunk["booking_date"][0]
            header = StatementHeader(account, n + 1, day, balance, f"BENCH{n + 1:05d}")
            out.write(render_statement(header, chunk, render_entries(chunk).to_list()).encode("iso-8859-1"))
            balance += int(chunk["amount_cents"].sum() or 0)


def score(allocations: pl.DataFrame, unresolved: pl.DataFrame, truth: pl.DataFrame, items: pl.DataFrame) -> dict[str, object]:
    """Per case: payments, booked (any allocation), wrong (an allocation to another Kassenzeichen), held."""
    alloc = allocations.filter(pl.col("amount_cents") > 0).join(
        items.select("receivable_id", pl.col("kassenzeichen").alias("kz_alloc")), on="receivable_id")
    judged = alloc.join(truth.select("bank_ref", "kassenzeichen"), on="bank_ref")
    wrong_refs = judged.filter(pl.col("kz_alloc") != pl.col("kassenzeichen")).select("bank_ref").unique()
    t = truth.with_columns(
        pl.col("bank_ref").is_in(alloc["bank_ref"].implode()).alias("booked"),
        pl.col("bank_ref").is_in(wrong_refs["bank_ref"].implode()).alias("wrong"),
    )
    over = alloc.group_by("receivable_id").agg(pl.col("amount_cents").sum()).join(
        items.select("receivable_id", pl.col("amount_cents").alias("open")), on="receivable_id").filter(pl.col("amount_cents") > pl.col("open")).height
    by_case = t.group_by("case").agg(pl.len().alias("payments"), pl.col("booked").sum(), pl.col("wrong").sum()).sort("case")
    dec = t.filter(pl.col("decidable") & (pl.col("case") != "fee"))
    return {
        "by_case": {c: {"payments": n, "booked": b, "wrong": w} for c, n, b, w in by_case.iter_rows()},
        "decidable": dec.height, "decidable_booked": int(dec["booked"].sum()),
        "wrong": int(t["wrong"].sum()), "over_allocated_items": over,
    }
