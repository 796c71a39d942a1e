"""Large bank files for benchmarks: :func:`write_mt940_file` and :func:`write_camt053_file`.

Both stream statement by statement to disk (memory stays flat), use Polars for every row-wise step and
are byte-identical for a seed. The entries are a realistic treasury mix (incoming SEPA transfers with a
Kassenzeichen in the text, standing orders, own direct-debit collections and their returns, refunds,
bank fees), spread over consecutive booking days of :data:`ENTRIES_PER_STATEMENT` entries each.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from pathlib import Path

import polars as pl

from synth import camt_render, mt940_render, rand
from synth.accounts import TREASURY_ACCOUNTS
from synth.bookings import StatementHeader, business_days, conform_bookings
from synth.names import DEBTOR_BANKS, FIRST_NAMES, LAST_NAMES
from synth.numbers import format_kassenzeichen, german_iban, kassenzeichen_from_bodies

ENTRIES_PER_STATEMENT = 2000
FIRST_DAY = dt.date(2026, 1, 2)

#: (gvc, swift, booking text, domain, family, subfamily, sign, weight, return code, return reason)
_KINDS = (
    ("166", "NTRF", "SEPA-UEBERWEISUNG", "PMNT", "RCDT", "ESCT", 1, 70, None, None),
    ("152", "NSTO", "DAUERAUFTRAG", "PMNT", "RCDT", "STDO", 1, 6, None, None),
    ("171", "NDDT", "SEPA-LASTSCHRIFT", "PMNT", "IDDT", "ESDD", 1, 15, None, None),
    ("109", "NRTI", "SEPA-RUECKLASTSCHRIFT", "PMNT", "IDDT", "UPDD", -1, 3, "901", "MD06"),
    ("116", "NTRF", "SEPA-UEBERWEISUNG", "PMNT", "ICDT", "ESCT", -1, 5, None, None),
    ("805", "NCHG", "ENTGELTABSCHLUSS", "ACMT", "MDOP", "CHRG", -1, 1, None, None),
)
_PURPOSE_WORDS = ("Grundsteuer", "Abfallgebuehren", "Hundesteuer 2026", "Kita-Beitrag", "Gewerbesteuer",
                  "Bussgeld", "Grundbesitzabgaben", "Rechnung")
_KZ_PREFIX = ("Kassenzeichen ", "KZ ", "Kassenzeichen: ", "Az. ", "", "Kassenz. ")


def random_bookings(n: int, seed: int, offset: int, days: list[dt.date], ref_prefix: str) -> pl.DataFrame:
    """``n`` random bookings: rows ``offset…offset+n-1`` of the seed's endless stream.

    Row ``i`` is booked on ``days[i // ENTRIES_PER_STATEMENT]``.
    """
    r = lambda stream, lo, hi: rand.integers(n, lo, hi, seed, stream, offset)  # noqa: E731
    kind = rand.choice(n, [k[7] for k in _KINDS], seed, 1, offset)
    kinds = pl.DataFrame(
        {"kind": pl.Series(range(len(_KINDS)), dtype=pl.UInt32),
         **{name: [k[i] for k in _KINDS] for i, name in enumerate(
             ["gvc", "swift_code", "booking_text", "domain", "family", "subfamily", "sign", "w",
              "return_code", "return_reason"])}}
    ).drop("w")
    banks = pl.DataFrame({"bank_no": range(len(DEBTOR_BANKS)), "blz": [int(b) for b, _ in DEBTOR_BANKS],
                          "cp_bic": [c for _, c in DEBTOR_BANKS]}).with_columns(pl.col("bank_no").cast(pl.Int64))
    f = pl.DataFrame({
        "i": pl.int_range(offset, offset + n, eager=True, dtype=pl.Int64),
        "kind": kind,
        "euros": r(2, 5, 2500),
        "cents": r(3, 0, 100),
        "body": r(4, 5 * 10**10, 6 * 10**10),
        "style": r(5, 0, 4),
        "prefix": r(6, 0, len(_KZ_PREFIX)),
        "word": r(7, 0, len(_PURPOSE_WORDS)),
        "first": r(8, 0, len(FIRST_NAMES)),
        "last": r(9, 0, len(LAST_NAMES)),
        "bank_no": r(10, 0, len(DEBTOR_BANKS)),
        "acct": r(11, 10**6, 10**10),
    })
    f = f.with_columns(kassenzeichen_from_bodies(pl.col("body")).cast(pl.String).alias("kz"))
    f = f.with_columns(format_kassenzeichen(pl.col("kz"), pl.col("style")).alias("kz_text"))
    kz, kz_text = pl.col("kz"), pl.col("kz_text")
    names_f = pl.DataFrame({"first": range(len(FIRST_NAMES)), "fn": FIRST_NAMES}).with_columns(
        pl.col("first").cast(pl.Int64))
    names_l = pl.DataFrame({"last": range(len(LAST_NAMES)), "ln": LAST_NAMES}).with_columns(
        pl.col("last").cast(pl.Int64))
    prefixes = pl.Series(_KZ_PREFIX)
    words = pl.Series(_PURPOSE_WORDS)
    f = (
        f.join(kinds, on="kind", how="left").join(banks, on="bank_no", how="left")
        .join(names_f, on="first", how="left").join(names_l, on="last", how="left")
        .sort("i")
    )
    is_dd = pl.col("gvc").is_in(["171", "109"])
    is_fee = pl.col("gvc") == "805"
    out = f.select(
        pl.col("i").alias("entry_no"),
        pl.lit(pl.Series(days, dtype=pl.Date)).gather(pl.col("i") // ENTRIES_PER_STATEMENT).alias("booking_date"),
        pl.lit(pl.Series(days, dtype=pl.Date)).gather(pl.col("i") // ENTRIES_PER_STATEMENT).alias("value_date"),
        (pl.when(is_fee).then(pl.col("euros") % 40 + 1).otherwise(pl.col("euros")) * 100 + pl.col("cents"))
        .mul(pl.col("sign")).alias("amount_cents"),
        pl.concat_str(pl.lit(ref_prefix), pl.col("i").cast(pl.String).str.zfill(10)).alias("bank_ref"),
        pl.concat_str(pl.lit(ref_prefix), pl.col("i").cast(pl.String).str.zfill(10)).alias("entry_ref"),
        "swift_code", "gvc", "booking_text",
        (pl.col("i") % 9000 + 1000).cast(pl.String).alias("primanota"),
        "domain", "family", "subfamily",
        pl.when(is_dd).then(pl.concat_str(kz, pl.lit("-20260215"))).alias("eref"),
        pl.when(is_dd).then(pl.concat_str(pl.lit("MUS-"), kz.str.slice(1, 8))).alias("mref"),
        pl.when(is_dd).then(pl.lit("DE98ZZZ09999999999")).alias("cred"),
        pl.when(is_fee).then(pl.lit("Abschluss Entgelte"))
        .otherwise(pl.concat_str(pl.lit(prefixes).gather(pl.col("prefix")), kz_text, pl.lit(" "),
                                 pl.lit(words).gather(pl.col("word")))).alias("svwz"),
        pl.when(is_fee).then(None).otherwise(pl.concat_str(pl.col("ln"), pl.lit(", "), pl.col("fn")))
        .alias("cp_name"),
        pl.when(is_fee).then(None).otherwise(german_iban(pl.col("blz"), pl.col("acct"))).alias("cp_iban"),
        pl.when(is_fee).then(None).otherwise(pl.col("cp_bic")).alias("cp_bic"),
        "return_code", "return_reason",
    )
    return conform_bookings(out)


_STATEMENTS_PER_BLOCK = 10


def _blocks(n_entries: int, seed: int, bank: str, render: Callable[[pl.DataFrame], pl.Series]) -> Iterator[
        tuple[StatementHeader, pl.DataFrame, list[str]]]:
    """Statements with their bookings and rendered entries, made ten statements at a time."""
    account = TREASURY_ACCOUNTS[bank]
    n_statements = max(1, -(-n_entries // ENTRIES_PER_STATEMENT))
    days = business_days(FIRST_DAY, n_statements)
    balance = 1_000_000_00
    for first in range(0, n_statements, _STATEMENTS_PER_BLOCK):
        offset = first * ENTRIES_PER_STATEMENT
        n = min(_STATEMENTS_PER_BLOCK * ENTRIES_PER_STATEMENT, n_entries - offset)
        block = random_bookings(n, seed, offset, days, f"{seed % 100:02d}")
        texts = render(block).to_list()
        for k in range(first, min(first + _STATEMENTS_PER_BLOCK, n_statements)):
            lo = (k - first) * ENTRIES_PER_STATEMENT
            hi = min(lo + ENTRIES_PER_STATEMENT, n)
            bookings = block.slice(lo, hi - lo)
            header = StatementHeader(account, k + 1, days[k], balance, f"STARTUMSE{k + 1:05d}")
            yield header, bookings, texts[lo:hi]
            balance += int(bookings.get_column("amount_cents").sum() or 0)


def write_mt940_file(path: Path, n_entries: int, *, seed: int = 1, shape: str = "sparkasse") -> None:
    """Write a large Sparkasse-style MT940 file (ISO-8859-1, CRLF) with ``n_entries`` ``:61:`` entries.

    One statement per business day from 2026-01-02, :data:`ENTRIES_PER_STATEMENT` entries each,
    numbered ``:28C:00001/001`` on without gaps; balances tie out; every ``//bankref`` is unique.
    ``shape`` one of :data:`synth.mt940_render.SHAPES` (``long86``: every subfield used, a few broken).
    """
    if shape not in mt940_render.SHAPES:
        raise ValueError(f"unknown shape {shape!r}; one of {', '.join(mt940_render.SHAPES)}")
    rendered = 0

    def render(block: pl.DataFrame) -> pl.Series:
        nonlocal rendered
        if shape == "sparkasse":
            return mt940_render.render_entries(block)
        entries = mt940_render.break_markers(mt940_render.render_entries(mt940_render.lengthen(block)), rendered)
        rendered += block.height
        return entries

    with open(path, "wb") as out:
        for header, bookings, texts in _blocks(n_entries, seed, "sparkasse", render):
            out.write(mt940_render.render_statement(header, bookings, texts).encode("iso-8859-1"))


def write_camt053_file(path: Path, n_entries: int, *, seed: int = 1, version: str = "08",
                       shape: str = "lxml") -> None:
    """Write a large Volksbank-style camt.053 file (UTF-8) with ``n_entries`` ``Ntry`` elements.

    One ``BkToCstmrStmt`` document holding one ``Stmt`` per business day (``ElctrncSeqNb`` 1, 2, …),
    OPBD/CLBD balances that tie out, one ``TxDtls`` per ``Ntry``; ``version`` is ``"08"`` or ``"02"``;
    ``shape`` one of :data:`synth.camt_render.SHAPES` (how the bank serialises the XML).
    """
    camt_render.reshape("", shape)  # an unknown shape fails before the file is opened

    def render(block: pl.DataFrame) -> pl.Series:
        return camt_render.render_entries(block, version)

    with open(path, "wb") as out:
        first = True
        for header, bookings, texts in _blocks(n_entries, seed, "volksbank", render):
            if first:
                out.write(camt_render.reshape(camt_render.document_head(header, version), shape).encode("utf-8"))
                first = False
            statement = camt_render.render_statement(header, bookings, version, texts)
            out.write(camt_render.reshape(statement, shape).encode("utf-8"))
        out.write(camt_render.reshape(camt_render.document_tail(), shape).encode("utf-8"))
