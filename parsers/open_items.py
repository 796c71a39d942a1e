"""The finance system's open-items export (DESIGN.md §3) → :data:`OPEN_ITEM_SCHEMA` plus issues.

CSV (``;`` or ``,``, UTF-8 with or without BOM, decimal comma or point, header row) or Parquet (text
or typed columns: ``Date`` dates, integer/decimal/float amounts). Bad rows (duplicate receivable_id,
one Kassenzeichen for two debtors, negative or unparsable amount, bad date, invalid IBAN) are rejected
with file, line and reason; the good rows go on.

Millions of rows are cheap because most work is done once per distinct value or only for the rows
that need it (:mod:`parsers.open_items_values`); reading is in :mod:`parsers.open_items_read`.

>>> # frame, issues = load_open_items(Path("open_items.csv"), tenant="musterstadt")
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING

import polars as pl

from matching.schema import OPEN_ITEM_SCHEMA
from parsers.ids import sha256_file
from parsers.issues import ERROR, WARNING, Issue
from parsers.open_items_iban import iban_column
from parsers.open_items_read import OPTIONAL, REQUIRED, RawExport, read_export
from parsers.open_items_values import (
    amount_cents,
    check_digit_ok,
    digits_only,
    normalised,
    parsed_date,
    per_group,
)
from parsers.schema import conform, empty

if TYPE_CHECKING:
    from matching.config import MatchConfig

__all__ = ["OPTIONAL", "REQUIRED", "load_open_items"]

_LAWS = ("public", "private")


def _blank(col: str, typed: frozenset[str]) -> pl.Expr:
    if col in typed:
        return pl.col(col).is_null()  # a typed value is never blank text
    return pl.col(col).is_null() | (pl.col(col).str.strip_chars() == "")


def _columns(raw: pl.DataFrame, typed: frozenset[str], tenant: str, check: tuple[int, str],
             pool: ThreadPoolExecutor) -> dict[str, pl.Series]:
    """The parsed and normalised columns the checks and the output use, computed side by side."""
    Cols = dict[str, pl.Series]

    def kz() -> Cols:
        kz_norm = digits_only(raw["kassenzeichen"].alias("kz_norm"))
        ok = pool.submit(check_digit_ok, kz_norm, *check)
        return {"kz_norm": kz_norm, "_n_debtors": per_group(kz_norm, raw["debtor_id"]), "_ok": ok.result()}

    def amount() -> Cols:
        if "amount_cents" in raw.columns:
            return {"amount_cents": raw.select(pl.col("amount_cents").cast(pl.Int64)).to_series()}
        return {"amount_cents": amount_cents(raw["amount"])}

    def small() -> Cols:
        law = normalised(raw["law"], lambda e: e.str.strip_chars().str.to_lowercase())[0]
        return {
            "due_date_d": parsed_date(raw["due_date"]), "mandate_date_d": parsed_date(raw["mandate_date"]),
            "block_d": parsed_date(raw["dunning_block_until"]), "law_n": law.fill_null("public"),
            "claim_n": normalised(raw["claim_type"], lambda e: e.str.strip_chars().str.to_uppercase())[0],
            "tenant": raw["tenant"].fill_null(tenant), "_n_id": per_group(raw["receivable_id"], None),
        }

    def ibans() -> Cols:
        iban, bad = iban_column(raw["debtor_iban"])
        return {"debtor_iban": iban, "_bad_iban": bad}

    def blank() -> Cols:
        return {"_blank": raw.select(pl.any_horizontal([_blank(c, typed) for c in REQUIRED if c != "amount"])).to_series()}

    jobs = [pool.submit(job) for job in (kz, amount, ibans, small, blank)]
    return {name: col for job in jobs for name, col in job.result().items()}


def _checks(df: pl.DataFrame) -> list[tuple[str, pl.Expr | None, pl.Expr]]:
    """(code, condition, message) per check, in the order issues are reported; ``None`` where the
    distinct values already show that no row fails."""
    laws = df["law_n"].unique()
    law_ok = bool(laws.is_in(list(_LAWS)).all())
    return [
        ("open_items.missing_value", pl.col("_blank"),
         pl.lit("a required column is empty")),
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
        ("open_items.bad_law", None if law_ok else ~pl.col("law_n").is_in(list(_LAWS)),
         pl.format("law: expected public or private, got '{}'", pl.col("law"))),
        ("open_items.invalid_iban", pl.col("_bad_iban") if df["_bad_iban"].any() else None,
         pl.format("debtor_iban: '{}' is not a valid IBAN", pl.col("debtor_iban"))),
        ("open_items.duplicate_id", pl.col("_n_id") > 1,
         pl.format("receivable_id '{}' occurs {} times; all its rows are rejected", pl.col("receivable_id"), pl.col("_n_id"))),
        ("open_items.kassenzeichen_two_debtors", pl.col("_n_debtors") > 1,
         pl.format("Kassenzeichen '{}' belongs to {} debtors; all its rows are rejected", pl.col("kassenzeichen"),
                   pl.col("_n_debtors"))),
    ]


def _split(df: pl.DataFrame, export: RawExport, checks: list[tuple[str, pl.Expr | None, pl.Expr]],
           p: str) -> tuple[pl.DataFrame, list[Issue]]:
    """The rows no check rejects, and one issue per (check, rejected row) in check order, then line order."""
    active = [(i, cond) for i, (_, cond, _) in enumerate(checks) if cond is not None]
    df = df.with_columns([cond.fill_null(False).alias(f"_f{i}") for i, cond in active])
    any_bad = pl.any_horizontal([pl.col(f"_f{i}") for i, _ in active])
    bad = df.filter(any_bad)  # messages are formatted for the bad rows only
    issues: list[Issue] = []
    if bad.is_empty():
        return df, issues
    # typed columns are shown as the text the export would have held
    bad = bad.with_columns([pl.col(c).cast(pl.String) for c in export.typed if c in bad.columns])
    for i, _ in active:
        code, _, fmt = checks[i]
        hits = bad.filter(pl.col(f"_f{i}")).select("source_line", "receivable_id", fmt.alias("_msg"))
        issues.extend(
            Issue(p, f"line {line}", ERROR, code, str(text), raw=rid or "")
            for line, rid, text in hits.iter_rows()
        )
    return df.filter(~any_bad), issues


def load_open_items(
    path: Path, *, tenant: str = "default", config: MatchConfig | None = None
) -> tuple[pl.DataFrame, list[Issue]]:
    """Read and validate an open-items export; return good rows (OPEN_ITEM_SCHEMA) and issues."""
    path = Path(path)
    export, issues = read_export(path)
    if export is None:
        return empty(OPEN_ITEM_SCHEMA), issues
    p = str(path)
    have = export.frame.columns
    missing = [c for c in REQUIRED if c not in have and not (c == "amount" and "amount_cents" in have)]
    if missing:
        msg = f"expected columns {', '.join(REQUIRED)}; missing {', '.join(missing)} (got {', '.join(export.names)})"
        return empty(OPEN_ITEM_SCHEMA), [*issues, Issue(p, "line 1", ERROR, "open_items.missing_columns", msg)]
    digits = config.digits if config else 12
    scheme = config.check_digit if config else "mod11"
    raw = export.frame
    for c in OPTIONAL:
        if c not in raw.columns:
            raw = raw.with_columns(pl.lit(None, dtype=pl.String).alias(c))
    with ThreadPoolExecutor(max_workers=4) as pool:
        digest = pool.submit(sha256_file, p)  # hashing the file overlaps the checks
        cols = _columns(raw, export.typed, tenant, (digits, scheme), pool)
        df = raw.with_columns(**cols)
        good, found = _split(df, export, _checks(df), p)
        issues.extend(found)
        wrong = good.select(pl.col("kassenzeichen").filter(~pl.col("_ok"))).to_series()
        if wrong.len():
            issues.append(Issue(p, "", WARNING, "open_items.kassenzeichen_unchecked",
                                f"{wrong.len()} Kassenzeichen are not {digits} digits with a valid {scheme} check "
                                f"digit (e.g. '{wrong[0]}'); they match only by external_ref or IBAN", raw=wrong[0]))
        good = good.with_columns(
            pl.lit(digest.result()).alias("source_file"), pl.lit(p).alias("source_path"),
            pl.col("due_date_d").alias("due_date"), pl.col("mandate_date_d").alias("mandate_date"),
            pl.col("block_d").alias("dunning_block_until"), pl.col("law_n").alias("law"),
            pl.col("claim_n").alias("claim_type"),
        )
    return conform(good, OPEN_ITEM_SCHEMA), issues
