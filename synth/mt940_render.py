"""Render a booking frame as MT940 statements the way a German Sparkasse writes them (DK rules).

``:20:STARTUMSE``, ``:25:BLZ/Konto``, ``:28C:nnnnn/001``, ``:60F:``, one ``:61:`` (value date, entry date,
C/D, amount with decimal comma, ``N`` + SWIFT code, ``NONREF//bankref``) and one DK-structured ``:86:``
per booking (``GVC?00…?10…?20–?29,?60–?63 (27 characters each, a SEPA keyword starts a new subfield,
trailing blanks removed) ?30 ?31 ?32 ?33 ?34``), wrapped at 65 characters, ``:62F:``, ``-``; CRLF.
"""

from __future__ import annotations

import polars as pl

from synth.bookings import StatementHeader, cents_text, decimal_comma

#: MT940 variants for the benchmark files (issue 20): ``sparkasse`` as rendered below; ``long86`` with
#: remittance long enough to fill every ``?20``-``?29`` and ``?60``-``?63`` subfield (umlauts in it, so
#: ISO-8859-1 bytes), and every 250th ``:86:`` with a broken subfield marker, as real files have them.
SHAPES = ("sparkasse", "long86")
#: text appended to the remittance in ``long86`` (about 300 characters with umlauts and digits)
LONG_TEXT = (" Veranlagung Grundbesitzabgaben 2026 Flurstück 112/4 Gemarkung Düsseldorf-Süd, Bescheid vom "
             "14.01.2026, Zahlung für Müllabfuhr, Straßenreinigung und Grundsteuer B, 1. Rate, Zahlungspflichtiger "
             "Jürgen Weiß und Söhne GbR, Rückfragen bitte an das Steueramt Zimmer 204 Telefon 0211 89 93, Öffnungszeiten Mo-Fr")
BROKEN_EVERY = 250


def lengthen(bookings: pl.DataFrame) -> pl.DataFrame:
    """``long86``: the remittance of every structured booking made long (all subfields in use)."""
    return bookings.with_columns(
        pl.when(pl.col("svwz").is_not_null() & ~pl.col("gvc").is_in(["805", "809", "814"]))
        .then(pl.concat_str(pl.col("svwz"), pl.lit(LONG_TEXT))).otherwise(pl.col("svwz")).alias("svwz"))


def break_markers(entries: pl.Series, first_row: int) -> pl.Series:
    """Every :data:`BROKEN_EVERY`-th entry with its ``?22`` marker written ``?2 2`` (a broken subfield)."""
    row = pl.int_range(first_row, first_row + entries.len(), eager=True)
    broken = entries.to_frame("e").select(
        pl.when(row % BROKEN_EVERY == BROKEN_EVERY // 2).then(pl.col("e").str.replace("?22", "?2 2", literal=True))
        .otherwise(pl.col("e"))).to_series()
    return broken.alias(entries.name)

CRLF = "\r\n"
_SUBFIELD_CODES = [f"{20 + i}" for i in range(10)] + [f"{60 + i}" for i in range(4)]
_KEYWORDS = (("eref", "EREF+"), ("kref", "KREF+"), ("mref", "MREF+"), ("cred", "CRED+"), ("coam", "COAM+"),
             ("oamt", "OAMT+"), ("svwz", "SVWZ+"), ("abwa", "ABWA+"))


def _purpose_subfields(bookings: pl.DataFrame) -> pl.Series:
    """The ``?20…?63`` part of each ``:86:``: keyword segments cut into 27-character subfields."""
    structured = pl.col("gvc").is_in(["805", "809", "814"]).not_()  # bank fees carry plain text
    segs = [
        pl.when(pl.col(c).is_not_null() & (pl.col(c) != ""))
        .then(pl.when(structured).then(pl.concat_str(pl.lit(k), pl.col(c))).otherwise(pl.col(c)))
        for c, k in _KEYWORDS
    ]
    rows = (
        bookings.select(
            pl.int_range(pl.len(), dtype=pl.Int64).alias("row"),
            pl.concat_list(segs).list.drop_nulls().alias("seg"),
        )
        .explode("seg")
        .with_columns(pl.concat_list([pl.col("seg").str.slice(27 * k, 27) for k in range(len(_SUBFIELD_CODES))]).alias("chunk"))
        .explode("chunk")
        .with_columns(pl.col("chunk").str.strip_chars_end(" "))
        .filter(pl.col("chunk").is_not_null() & (pl.col("chunk") != ""))
        .with_columns(pl.int_range(pl.len(), dtype=pl.Int64).over("row").alias("k"))
        .filter(pl.col("k") < len(_SUBFIELD_CODES))
        .with_columns(
            pl.concat_str(pl.lit("?"), pl.col("k").replace_strict(list(range(14)), _SUBFIELD_CODES,
                                                                  return_dtype=pl.String), pl.col("chunk"))
            .alias("sub")
        )
        .group_by("row", maintain_order=True)
        .agg(pl.col("sub").str.join(""))
    )
    full = pl.DataFrame({"row": pl.int_range(bookings.height, eager=True, dtype=pl.Int64)})
    return full.join(rows, on="row", how="left").sort("row").get_column("sub").fill_null("")


def _wrap(text: pl.Expr, width: int = 65, pieces: int = 12) -> pl.Expr:
    """Cut text into lines of ``width`` characters joined by CRLF."""
    parts = pl.concat_list([text.str.slice(width * k, width) for k in range(pieces)])
    return parts.list.eval(pl.element().filter(pl.element() != "")).list.join(CRLF)


def render_entries(bookings: pl.DataFrame) -> pl.Series:
    """The ``:61:`` + ``:86:`` lines of every booking (one string per row, CRLF inside)."""
    fee = pl.col("fee_cents") if "fee_cents" in bookings.columns else pl.lit(None, pl.Int64())
    b = bookings.with_columns(  # a return with the bank's charge: DK's COAM+ (charge) and OAMT+ (without it)
        pl.when(fee.is_not_null()).then(decimal_comma(fee)).alias("coam"),
        pl.when(fee.is_not_null()).then(decimal_comma(pl.col("amount_cents").abs() - fee)).alias("oamt"))
    b = b.with_columns(_purpose_subfields(b).alias("purpose"))

    def opt(code: str, col: str, start: int = 0, length: int | None = None) -> pl.Expr:
        value = pl.col(col).str.slice(start, length).str.strip_chars_end(" ")  # DK: no trailing blanks
        return pl.when(value.is_not_null() & (value != "")).then(pl.concat_str(pl.lit(code), value)).otherwise(
            pl.lit(""))

    line61 = pl.concat_str(
        pl.lit(":61:"),
        pl.col("value_date").dt.strftime("%y%m%d"),
        pl.col("booking_date").dt.strftime("%m%d"),
        pl.when(pl.col("amount_cents") < 0).then(pl.lit("D")).otherwise(pl.lit("C")),
        decimal_comma(pl.col("amount_cents")),
        pl.lit("N"),
        pl.col("swift_code").str.slice(1, 3),
        pl.lit("NONREF//"),
        pl.col("bank_ref"),
    )
    body86 = pl.concat_str(
        pl.col("gvc"),
        pl.lit("?00"), pl.col("booking_text").fill_null(""),
        opt("?10", "primanota"),
        pl.col("purpose"),
        opt("?30", "cp_bic"), opt("?31", "cp_iban"),
        opt("?32", "cp_name", 0, 27), opt("?33", "cp_name", 27, 27),
        opt("?34", "return_code"),
    )
    return b.select(
        pl.concat_str(line61, pl.lit(CRLF), _wrap(pl.concat_str(pl.lit(":86:"), body86)), pl.lit(CRLF))
    ).to_series()


def _balance(tag: str, day: str, cents: int) -> str:
    mark = "D" if cents < 0 else "C"
    return f"{tag}{mark}{day}EUR{cents_text(cents)}{CRLF}"


def render_statement(header: StatementHeader, bookings: pl.DataFrame, entries: list[str] | None = None) -> str:
    """One complete MT940 statement (``:20:`` … ``-``) for the bookings of one account and day.

    ``entries`` may hold the already rendered ``:61:``/``:86:`` texts of ``bookings`` (batch rendering).
    """
    day = header.statement_date.strftime("%y%m%d")
    acct = header.account
    closing = header.opening_cents + int(bookings.get_column("amount_cents").sum() or 0)
    head = (
        f":20:{header.reference}{CRLF}"
        f":25:{acct.blz}/{acct.iban[-10:].lstrip('0')}{CRLF}"
        f":28C:{header.number:05d}/001{CRLF}"
        + _balance(":60F:", day, header.opening_cents)
    )
    if entries is None:
        entries = render_entries(bookings).to_list() if bookings.height else []
    return head + "".join(entries) + _balance(":62F:", day, closing) + "-" + CRLF
