"""The ``:61:`` statement line, vectorised: dates, debit/credit mark, amount, booking key, references.

``YYMMDD[MMDD](C|D|RC|RD)[funds code]amount[ ]booking-key customer-ref[//bank-ref][\\nsupplementary]``.
Also the MT940 amount and date grammar shared with the balance tags.
"""

from __future__ import annotations

import polars as pl

# value date, entry date, mark, funds code (3rd currency letter), amount, rest of the first line
# booking key (N/F/S + 3 characters; ING pads with a space: "NOV "; Penta omits it: "D20,00NONREF"),
# customer reference, "//" bank reference, and the supplementary details line.
_LINE61 = (
    r"(?s)^(?P<_vd>\d{6})(?P<_ed>\d{4})?(?P<mark>R?[CD])(?P<_funds>[A-Z])?\s?(?P<_amount>\d*,\d*)\s?"
    r"(?P<_key>NONREF|[A-Z][A-Z0-9]{3}|[A-Z][A-Z0-9]{2} )?(?P<_cust>[^\n]*?)(?://(?P<bank_ref>[^\n]*))?"
    r"(?:\n(?P<supplementary>.*))?$"
)


def amount_cents(text: pl.Expr) -> pl.Expr:
    """MT940 amount (decimal comma, up to 2 decimals, ``0,`` and ``000473,17`` allowed) as Int64 cents.

    Null when the text is not such an amount (the caller reports it). No capturing regex: a
    match test plus slicing at the comma, which is several times faster over a million rows.
    """
    ok = text.str.contains(r"^[0-9]{0,15},[0-9]{0,2}$") & (text != ",")
    pos = text.str.find(",", literal=True)
    whole = text.str.slice(0, pos)
    frac = text.str.slice(pos + 1).str.pad_end(2, "0")
    whole_cents = pl.when(whole.str.len_bytes() > 0).then(whole).otherwise(pl.lit("0")).cast(pl.Int64, strict=False)
    return pl.when(ok).then(whole_cents * 100 + frac.cast(pl.Int64, strict=False))


def century(yy: pl.Expr) -> pl.Expr:
    """Two-digit year to four digits: 80–99 -> 19xx (DEM-era files), else 20xx."""
    return pl.when(yy >= 80).then(yy + 1900).otherwise(yy + 2000)


def make_date(year: pl.Expr, month: pl.Expr, day: pl.Expr) -> tuple[pl.Expr, pl.Expr]:
    """A ``Date`` from parts, with days past the month's end clamped to it (30 February exists
    at German banks for interest closings). Returns ``(date, clamped)``; date is null when month
    or day is out of range (month not 1–12, day not 1–31)."""
    valid = month.is_between(1, 12) & day.is_between(1, 31) & year.is_not_null()
    first = pl.date(pl.when(valid).then(year).otherwise(2000), pl.when(valid).then(month).otherwise(1), 1)
    last = first.dt.month_end()
    clamped = valid & (day > last.dt.day())
    date = pl.when(~valid).then(None).when(clamped).then(last).otherwise(first + pl.duration(days=day - 1))
    return date, clamped


def yymmdd(text: pl.Expr) -> tuple[pl.Expr, pl.Expr]:
    """``YYMMDD`` text to ``(date, clamped)``; see :func:`make_date`."""
    yy = text.str.slice(0, 2).cast(pl.Int32, strict=False)
    mm = text.str.slice(2, 2).cast(pl.Int32, strict=False)
    dd = text.str.slice(4, 2).cast(pl.Int32, strict=False)
    return make_date(century(yy), mm, dd)


def fast_dates(text: pl.Expr) -> pl.Expr:
    """``YYMMDD`` via strptime (00–68 -> 20xx, 69–99 -> 19xx); null where the date does not exist."""
    return text.str.strptime(pl.Date, "%y%m%d", strict=False)


def parse_line61(f61: pl.DataFrame) -> pl.DataFrame:
    """Add the ``:61:`` columns to a frame with the field ``content``.

    Adds ``value_date``, ``booking_date``, ``date_clamped``, ``mark``, ``is_reversal``,
    ``amount_cents`` (signed), ``entry_amount_cents``, ``swift_code``, ``line_customer_ref``,
    ``bank_ref``, ``supplementary``, ``original_amount_cents``, ``original_currency``,
    ``charges_cents``, ``entry_date_bad`` and ``line_ok`` (false when the grammar, the amount or
    the value date failed).
    """
    # One regex pass; unnest the struct (each struct.field() on the expression would re-run it).
    df = f61.with_columns(pl.col("content").str.extract_groups(_LINE61).alias("_g")).unnest("_g")
    df = df.with_columns(
        amount_cents(pl.col("_amount")).alias("_abs"),
        pl.col("_cust").str.strip_chars(),
        pl.col("bank_ref").str.strip_chars(),
    )
    # Entry date MMDD: the year that puts it nearest the value date (Knab: value 2014-01-01, entry 12-29).
    # Fast path: the value date's year; the rows where that is more than half a year off (a year
    # boundary) or not a date (30 February) are redone in _clamp_dates.
    vd = fast_dates(pl.col("_vd"))
    same_year = fast_dates(pl.concat_str([pl.col("_vd").str.slice(0, 2), pl.col("_ed")]))
    df = df.with_columns(
        vd.alias("value_date"),
        pl.when(pl.col("_ed").is_null()).then(vd).otherwise(same_year).alias("booking_date"),
        pl.lit(False).alias("date_clamped"),
    )
    df = _clamp_dates(df)
    penta = pl.col("_key") == "NONREF"  # Penta: no booking key, the reference follows the amount
    cust = pl.when(penta).then(pl.lit("NONREF") + pl.col("_cust")).otherwise(pl.col("_cust"))
    sign = pl.when(pl.col("mark").is_in(["C", "RD"])).then(1).otherwise(-1)
    sup = pl.col("supplementary").fill_null("")
    has_sup = sup.str.contains("/OCMT/|/CHGS/")
    ocmt_ccy = sup.str.extract(r"/OCMT/([A-Z]{3})", 1)
    ocmt = sup.str.extract(r"/OCMT/[A-Z]{3}(\d*,\d*)", 1)
    chgs = sup.str.extract(r"/CHGS/[A-Z]{3}(\d*,\d*)", 1)
    df = df.with_columns(
        pl.col("mark").str.starts_with("R").alias("is_reversal"),
        (pl.col("_abs") * sign).alias("amount_cents"),
        pl.when(~penta).then(pl.col("_key").str.strip_chars()).alias("swift_code"),
        pl.when((cust.str.len_bytes() > 0) & (cust != "NONREF")).then(cust).alias("line_customer_ref"),
        pl.when(pl.col("bank_ref").str.len_bytes() > 0).then(pl.col("bank_ref")).alias("bank_ref"),
        pl.when(has_sup).then(amount_cents(ocmt)).alias("original_amount_cents"),
        pl.when(has_sup).then(ocmt_ccy).alias("original_currency"),
        pl.when(has_sup).then(amount_cents(chgs)).alias("charges_cents"),
        (pl.col("_abs").is_not_null() & pl.col("value_date").is_not_null()).alias("line_ok"),
    )
    return df.with_columns(pl.col("amount_cents").alias("entry_amount_cents")).drop(
        "_vd", "_ed", "_abs", "_key", "_cust", "_funds", "_amount"
    )


def _clamp_dates(df: pl.DataFrame) -> pl.DataFrame:
    """Slow path for the few rows whose value or entry date does not exist (30 February)."""
    far = (pl.col("booking_date") - pl.col("value_date")).dt.total_days().abs() > 183
    bad = df.filter(
        pl.col("_vd").is_not_null()
        & (pl.col("value_date").is_null() | (pl.col("_ed").is_not_null() & (pl.col("booking_date").is_null() | far)))
    )
    if bad.height == 0:
        return df.with_columns(pl.lit(False).alias("entry_date_bad"))
    # Each step is materialised as columns before the next one uses it: nesting the expressions
    # instead (the candidates built from the value date, the distances from the candidates, the
    # choice from the distances) gives a tree of ~500,000 nodes, and planning it alone took
    # ~550 MB and a second, once per file with a single such date (any 30 February, any entry date
    # across a year end, any date like "000000").
    value_date, v_clamped = yymmdd(pl.col("_vd"))
    bad = bad.select(
        "field_no", "_ed", value_date.alias("_v"), v_clamped.fill_null(False).alias("_v_clamped"),
        pl.col("_ed").str.slice(0, 2).cast(pl.Int32, strict=False).alias("_em"),
        pl.col("_ed").str.slice(2, 2).cast(pl.Int32, strict=False).alias("_eday"),
    )
    vy = pl.col("_v").dt.year()
    cands = []
    for k in (-1, 0, 1):
        date, clamped = make_date(vy + k, pl.col("_em"), pl.col("_eday"))
        cands += [date.alias(f"_c{k}"), clamped.fill_null(False).alias(f"_k{k}")]
    bad = bad.with_columns(cands)
    bad = bad.with_columns((pl.col(f"_c{k}") - pl.col("_v")).dt.total_days().abs().alias(f"_d{k}") for k in (-1, 0, 1))
    d_prev, d_same, d_next = pl.col("_d-1"), pl.col("_d0"), pl.col("_d1")
    nearest = (
        pl.when(d_same <= pl.min_horizontal(d_prev, d_next)).then(pl.col("_c0"))
        .when(d_prev <= d_next).then(pl.col("_c-1"))
        .otherwise(pl.col("_c1"))
    )
    fixed = bad.with_columns(nearest.alias("_nearest")).select(
        "field_no",
        pl.col("_v").alias("value_date"),
        # An entry date that is no date at all ("1399") falls back to the value date, with a warning.
        pl.when(pl.col("_ed").is_null()).then(pl.col("_v")).otherwise(pl.coalesce("_nearest", "_v"))
        .alias("booking_date"),
        (pl.col("_v_clamped") | pl.col("_k0")).alias("date_clamped"),
        (pl.col("_ed").is_not_null() & pl.col("_nearest").is_null()).alias("entry_date_bad"),
    )
    return df.with_columns(pl.lit(False).alias("entry_date_bad")).update(fixed, on="field_no")
