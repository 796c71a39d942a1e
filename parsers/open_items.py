"""The finance system's open-items export (DESIGN.md §3) → :data:`OPEN_ITEM_SCHEMA` plus issues.

CSV (``;`` or ``,``, UTF-8 with or without BOM, decimal comma or point, header row) or Parquet. Bad
rows (duplicate receivable_id, one Kassenzeichen for two debtors, negative or unparsable amount, bad
date, invalid IBAN) are rejected with file, line and reason; the good rows go on.

>>> # frame, issues = load_open_items(Path("open_items.csv"), tenant="musterstadt")
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import polars as pl

from matching.refexpr import check_ok
from matching.schema import OPEN_ITEM_SCHEMA
from parsers.ids import sha256_file
from parsers.issues import ERROR, WARNING, Issue
from parsers.schema import conform, empty
from parsers.validity import with_iban_valid

if TYPE_CHECKING:
    from matching.config import MatchConfig

REQUIRED = ("receivable_id", "kassenzeichen", "debtor_id", "debtor_name", "claim_type", "amount", "due_date")
OPTIONAL = ("tenant", "debtor_iban", "external_ref", "mandate_id", "mandate_date", "dunning_block_until", "law")
_AMOUNT = r"^-?\d+(\.\d{1,2})?$"


def _read(path: Path) -> tuple[pl.DataFrame | None, list[Issue]]:
    """Raw frame with string columns plus ``source_line``, or ``None`` and a file-level issue."""
    p = str(path)
    try:
        if path.suffix.lower() == ".parquet":
            df = pl.read_parquet(path)
            if "amount" in df.columns and df.schema["amount"].is_float():
                # a float export is rounded to cents once, here, and never used as float again
                df = df.with_columns((pl.col("amount") * 100).round().cast(pl.Int64).alias("amount_cents"))
            df = df.with_columns(pl.all().exclude("amount_cents").cast(pl.String))
            return df.with_columns((pl.int_range(pl.len(), dtype=pl.Int32) + 1).alias("source_line")), []
        data = path.read_bytes()
        if data.startswith(b"\xef\xbb\xbf"):
            data = data[3:]
        data.decode("utf-8")
        header = data.split(b"\n", 1)[0]
        sep = ";" if header.count(b";") >= header.count(b",") else ","
        df = pl.read_csv(data, separator=sep, infer_schema=False, truncate_ragged_lines=False)
        return df.with_columns((pl.int_range(pl.len(), dtype=pl.Int32) + 2).alias("source_line")), []
    except UnicodeDecodeError as exc:
        return None, [Issue(p, "", ERROR, "open_items.encoding", f"expected UTF-8, got a bad byte at {exc.start}")]
    except (OSError, pl.exceptions.PolarsError) as exc:
        return None, [Issue(p, "", ERROR, "open_items.unreadable", f"cannot read the export: {exc}")]


def _cents(col: str) -> pl.Expr:
    """Decimal comma or point (``1.234,56`` / ``1234.56``) → Int64 cents; null when unparsable."""
    s = pl.col(col).str.strip_chars().str.replace_all(" ", "")
    s = pl.when(s.str.contains(",")).then(s.str.replace_all(r"\.", "").str.replace(",", ".")).otherwise(s)
    ok = s.str.contains(_AMOUNT)
    whole = s.str.extract(r"^(-?\d+)", 1).cast(pl.Int64, strict=False)
    frac = s.str.extract(r"\.(\d{1,2})$", 1).str.pad_end(2, "0").cast(pl.Int64, strict=False).fill_null(0)
    sign = pl.when(s.str.starts_with("-")).then(-1).otherwise(1)
    return pl.when(ok).then(whole * 100 + sign * frac).otherwise(None)


def _by_value(df: pl.DataFrame, col: str, parse: pl.Expr) -> pl.Series:
    """``parse`` (an expression over ``col``) computed once per distinct value and spread back to the
    rows: amounts and dates repeat a lot, so millions of rows cost a few hundred thousand parses."""
    values = df[col].unique()
    parsed = pl.DataFrame({col: values}).select(parse).to_series()
    return df[col].replace_strict(values, parsed, default=None, return_dtype=parsed.dtype)


def _date(col: str) -> pl.Expr:
    s = pl.col(col).str.strip_chars()
    return pl.coalesce(s.str.to_date("%Y-%m-%d", strict=False), s.str.to_date("%d.%m.%Y", strict=False))


def _bad_ibans(values: pl.Series) -> list[str]:
    """Distinct debtor_iban values holding an invalid IBAN (several per value, ``,`` or ``;``).

    Vectorised check of :func:`parsers.validity.with_iban_valid` (schwifty's country lengths + mod 97,
    tested against schwifty there): a value that is not IBAN-shaped at all is invalid too.
    """
    one = (
        pl.DataFrame({"raw": values.drop_nulls().unique()})
        .with_columns(pl.col("raw").str.replace_all(";", ",").str.split(",").alias("iban"))
        .explode("iban")
        .with_columns(pl.col("iban").str.strip_chars())
        .filter(pl.col("iban") != "")
    )
    checked = with_iban_valid(one, "iban", "ok")
    return checked.filter(~pl.col("ok").fill_null(False))["raw"].unique().sort().to_list()


def load_open_items(
    path: Path, *, tenant: str = "default", config: MatchConfig | None = None
) -> tuple[pl.DataFrame, list[Issue]]:
    """Read and validate an open-items export; return good rows (OPEN_ITEM_SCHEMA) and issues."""
    path = Path(path)
    raw, issues = _read(path)
    if raw is None:
        return empty(OPEN_ITEM_SCHEMA), issues
    p = str(path)
    raw = raw.rename({c: c.strip().lower() for c in raw.columns})
    missing = [c for c in REQUIRED if c not in raw.columns and not (c == "amount" and "amount_cents" in raw.columns)]
    if missing:
        msg = f"expected columns {', '.join(REQUIRED)}; missing {', '.join(missing)} (got {', '.join(raw.columns)})"
        return empty(OPEN_ITEM_SCHEMA), [*issues, Issue(p, "line 1", ERROR, "open_items.missing_columns", msg)]
    for c in OPTIONAL:
        if c not in raw.columns:
            raw = raw.with_columns(pl.lit(None, dtype=pl.String).alias(c))
    digits = config.digits if config else 12
    scheme = config.check_digit if config else "mod11"
    amount = pl.col("amount_cents").cast(pl.Int64) if "amount_cents" in raw.columns else _by_value(raw, "amount", _cents("amount"))
    df = raw.with_columns(
        amount.alias("amount_cents"),
        _by_value(raw, "due_date", _date("due_date")).alias("due_date_d"),
        _by_value(raw, "mandate_date", _date("mandate_date")).alias("mandate_date_d"),
        _by_value(raw, "dunning_block_until", _date("dunning_block_until")).alias("block_d"),
        pl.col("kassenzeichen").str.replace_all(r"\D", "").alias("kz_norm"),
        pl.col("law").str.strip_chars().str.to_lowercase().fill_null("public").alias("law_n"),
        pl.col("tenant").fill_null(tenant),
        pl.col("debtor_iban").str.replace_all(" ", "").str.to_uppercase(),
    )
    bad_iban = _bad_ibans(df["debtor_iban"])
    req_null = pl.any_horizontal([pl.col(c).is_null() | (pl.col(c).str.strip_chars() == "") for c in REQUIRED if c != "amount"])
    checks: list[tuple[str, pl.Expr, pl.Expr]] = [
        ("open_items.missing_value", req_null, pl.lit("a required column is empty")),
        ("open_items.bad_amount", pl.col("amount_cents").is_null(),
         pl.format("amount: expected a decimal like 1234,56 or 1234.56, got '{}'", pl.col("amount"))),
        ("open_items.negative_amount", pl.col("amount_cents") < 0,
         pl.format("amount: expected >= 0, got {}", pl.col("amount"))),
        ("open_items.bad_date", pl.col("due_date_d").is_null(),
         pl.format("due_date: expected an ISO date, got '{}'", pl.col("due_date"))),
        ("open_items.bad_date", pl.col("mandate_date").is_not_null() & pl.col("mandate_date_d").is_null(),
         pl.format("mandate_date: expected an ISO date, got '{}'", pl.col("mandate_date"))),
        ("open_items.bad_date", pl.col("dunning_block_until").is_not_null() & pl.col("block_d").is_null(),
         pl.format("dunning_block_until: expected an ISO date, got '{}'", pl.col("dunning_block_until"))),
        ("open_items.bad_law", ~pl.col("law_n").is_in(["public", "private"]),
         pl.format("law: expected public or private, got '{}'", pl.col("law"))),
        ("open_items.invalid_iban", pl.col("debtor_iban").is_in(bad_iban),
         pl.format("debtor_iban: '{}' is not a valid IBAN", pl.col("debtor_iban"))),
        ("open_items.duplicate_id", pl.col("_n_id") > 1,
         pl.format("receivable_id '{}' occurs {} times; all its rows are rejected", pl.col("receivable_id"), pl.col("_n_id"))),
        ("open_items.kassenzeichen_two_debtors", pl.col("_n_debtors") > 1,
         pl.format("Kassenzeichen '{}' belongs to {} debtors; all its rows are rejected", pl.col("kassenzeichen"),
                   pl.col("_n_debtors"))),
    ]
    df = df.with_columns(pl.len().over("receivable_id").alias("_n_id"), pl.col("debtor_id").n_unique().over("kz_norm").alias("_n_debtors"))
    df = df.with_columns([cond.fill_null(False).alias(f"_f{i}") for i, (_, cond, _) in enumerate(checks)])
    flags = [pl.col(f"_f{i}") for i in range(len(checks))]
    bad = df.filter(pl.any_horizontal(flags))  # messages are formatted for the bad rows only
    for i, (code, _, fmt) in enumerate(checks):
        hits = bad.filter(flags[i]).select("source_line", "receivable_id", fmt.alias("_msg"))
        issues.extend(
            Issue(p, f"line {line}", ERROR, code, str(text), raw=rid or "")
            for line, rid, text in hits.iter_rows()
        )
    good = df.filter(~pl.any_horizontal(flags))
    # lazy: only a lazy plan evaluates the shared integer cast of check_ok once (eager repeats it per digit)
    wrong = good.lazy().select("kassenzeichen", check_ok(pl.col("kz_norm"), digits, scheme).alias("_ok")).filter(
        ~pl.col("_ok")).collect()["kassenzeichen"]
    if wrong.len():
        issues.append(Issue(p, "", WARNING, "open_items.kassenzeichen_unchecked",
                            f"{wrong.len()} Kassenzeichen are not {digits} digits with a valid {scheme} check "
                            f"digit (e.g. '{wrong[0]}'); they match only by external_ref or IBAN", raw=wrong[0]))
    good = good.with_columns(
        pl.lit(sha256_file(p)).alias("source_file"), pl.lit(p).alias("source_path"),
        pl.col("due_date_d").alias("due_date"), pl.col("mandate_date_d").alias("mandate_date"),
        pl.col("block_d").alias("dunning_block_until"), pl.col("law_n").alias("law"),
        pl.col("claim_type").str.strip_chars().str.to_uppercase(),
    )
    return conform(good, OPEN_ITEM_SCHEMA), issues
