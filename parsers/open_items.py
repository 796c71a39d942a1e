"""The finance system's open-items export (DESIGN.md §3) → :data:`OPEN_ITEM_SCHEMA` plus issues.

CSV (``;`` or ``,``, UTF-8 with or without BOM, decimal comma or point, header row) or Parquet (text
or typed columns: ``Date`` dates, integer/decimal/float amounts). Bad rows (more or fewer fields than
the header, broken quoting, another tenant's row, duplicate receivable_id, one Kassenzeichen for two
debtors, negative or unparsable amount, bad date) are rejected with file, line and reason; the good
rows go on, as claims of ``origin`` export whose ``creditor`` is the tenant. An invalid IBAN or a bad
address value is dropped with a warning, the item kept (:mod:`parsers.open_items_claim`). The export as a whole is rejected only when its header is wrong or no
row is left (``open_items.no_usable_rows``).

Millions of rows are cheap because most work is done once per distinct value or only for the rows
that need it (:mod:`parsers.open_items_values`); reading is in :mod:`parsers.open_items_read`.

>>> # frame, issues = load_open_items(Path("open_items.csv"), tenant="musterstadt")
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Protocol

import polars as pl

from claims.claim import OPEN_ITEM_SCHEMA
from claims.vocab import BlockReason
from parsers.ids import sha256_file
from parsers.issues import ERROR, WARNING, Issue
from parsers.open_items_claim import ADDRESS, address_columns, checked_address, dropped_ibans, filtered
from parsers.open_items_iban import iban_column
from parsers.open_items_read import OPTIONAL, REQUIRED, RawExport, read_export
from parsers.open_items_values import (
    amount_cents,
    blank,
    check_digit_ok,
    digits_only,
    normalised,
    parsed_date,
    per_group,
)
from parsers.schema import empty


class Grammar(Protocol):
    """What the loader needs of a tenant's reference grammar (``matching.MatchConfig`` has it)."""

    @property
    def digits(self) -> int: ...

    @property
    def check_digit(self) -> str: ...

__all__ = ["OPTIONAL", "REQUIRED", "load_open_items"]

_LAWS = ("public", "private")


def _columns(raw: dict[str, pl.Series], tenant: str, check: tuple[int, str], pool: ThreadPoolExecutor) -> dict[str, pl.Series]:
    """The parsed and normalised columns the checks and the output use, computed side by side."""
    Cols = dict[str, pl.Series]

    def kz() -> Cols:
        kz_norm = digits_only(raw["kassenzeichen"].alias("kz_norm"))
        # a blank Kassenzeichen has no digits: only those rows are looked at
        return {"kz_norm": kz_norm, "_blank_kz": blank(raw["kassenzeichen"], kz_norm.str.len_bytes() == 0)}

    def debtors(kz_norm: pl.Series) -> Cols:
        return {"_n_debtors": per_group(kz_norm, raw["debtor_id"])}

    def check_digits(kz_norm: pl.Series) -> Cols:
        return {"_ok": check_digit_ok(kz_norm, *check)}

    def amount() -> Cols:
        if "amount_cents" in raw:
            return {"amount_cents": raw["amount_cents"].cast(pl.Int64)}
        return {"amount_cents": amount_cents(raw["amount"])}

    def small() -> Cols:
        law = normalised(raw["law"], lambda e: e.str.strip_chars().str.to_lowercase())[0]
        claim, _ = normalised(raw["claim_type"], lambda e: e.str.strip_chars().str.to_uppercase())
        # a blank reason is no reason (null); any other text is kept upper-cased, known or not
        block_reason = normalised(raw["block_reason"], lambda e: pl.when(e.str.strip_chars() != "")
                                  .then(e.str.strip_chars().str.to_uppercase()))[0]
        due = parsed_date(raw["due_date"])
        return {
            "due_date_d": due, "mandate_date_d": parsed_date(raw["mandate_date"]),
            "block_d": parsed_date(raw["dunning_block_until"]), "law_n": law.fill_null("public"),
            "notice_d": parsed_date(raw["notice_date"]), "block_reason_n": block_reason,
            "claim_n": claim, "_n_id": per_group(raw["receivable_id"], None),
            # blank claim type: stripped (and upper-cased) it is ""; a due date that parsed is not blank
            "_blank_claim": claim.is_null() | (claim.str.len_bytes() == 0),
            "_blank_due": blank(raw["due_date"], due.is_null()),
        }

    def ibans() -> Cols:
        iban, bad = iban_column(raw["debtor_iban"])
        return {"debtor_iban": iban, "_bad_iban": bad}

    def blanks() -> Cols:
        return {f"_blank_{c}": blank(raw[c]) for c in ("receivable_id", "debtor_id", "debtor_name")}

    def tenants() -> Cols:
        # a row may name its tenant; a row naming another one is never taken for this one's (judged
        # on the distinct values: an export names one tenant, or none)
        named = raw["tenant"].cast(pl.String)
        others = [v for v in named.unique().drop_nulls().to_list() if v.strip() and v.strip() != tenant]
        return {"_other_tenant": named.is_in(others) if others else pl.repeat(False, named.len(), eager=True)}

    first = pool.submit(kz)
    jobs = [pool.submit(job) for job in (amount, ibans, small, blanks, tenants)]
    kz_norm = first.result()["kz_norm"]  # no job waits for another: any number of workers will do
    jobs += [first, pool.submit(debtors, kz_norm), pool.submit(check_digits, kz_norm)]
    return {name: col for job in jobs for name, col in job.result().items()}


#: the columns a ``_blank_*`` flag stands for, where its name does not say it
_BLANK_NAMES = {"_blank_kz": "kassenzeichen", "_blank_claim": "claim_type", "_blank_due": "due_date"}


def _got(col: str) -> pl.Expr:
    """A value as a message shows it: ``'12,3O'``, or ``nothing`` when it is empty."""
    value = pl.col(col)
    return pl.when(value.is_null() | (value.str.strip_chars() == "")).then(pl.lit("nothing (empty)")) \
        .otherwise(pl.format("'{}'", value))


def _checks(df: pl.DataFrame, tenant: str) -> list[tuple[str, pl.Expr | None, pl.Expr]]:
    """(code, condition, message) per check, in the order issues are reported; ``None`` where the
    distinct values already show that no row fails. Messages never come out empty: each empty value
    shows as ``nothing (empty)``."""
    laws = df["law_n"].unique()
    law_ok = bool(laws.is_in(list(_LAWS)).all())
    name = {c: _BLANK_NAMES.get(c, c.removeprefix("_blank_")) for c in df.columns if c.startswith("_blank_")}
    blanks = sorted(name, key=lambda c: REQUIRED.index(name[c]))  # in the order of the contract
    return [
        ("open_items.wrong_tenant", pl.col("_other_tenant") if df["_other_tenant"].any() else None,
         pl.format("tenant '{}' in row, this run is for tenant '{}'; the row is not imported",
                   pl.col("tenant").str.strip_chars(), pl.lit(tenant))),
        ("open_items.missing_value", pl.any_horizontal([pl.col(c) for c in blanks]),
         pl.lit("a required value is empty: ") + pl.concat_str(
             [pl.when(pl.col(c)).then(pl.lit(name[c])) for c in blanks],
             separator=", ", ignore_nulls=True)),
        ("open_items.bad_amount", pl.col("amount_cents").is_null(),
         pl.format("amount: expected a decimal like 1234,56 or 1234.56, got {}", _got("amount"))),
        ("open_items.negative_amount", pl.col("amount_cents") < 0,
         pl.format("amount: expected >= 0, got {}", pl.col("amount"))),
        ("open_items.bad_date", pl.col("due_date_d").is_null(),
         pl.format("due_date: expected an ISO date, got {}", _got("due_date"))),
        ("open_items.bad_date", pl.col("mandate_date").is_not_null() & pl.col("mandate_date_d").is_null(),
         pl.format("mandate_date: expected an ISO date, got {}", _got("mandate_date"))),
        ("open_items.bad_date", pl.col("dunning_block_until").is_not_null() & pl.col("block_d").is_null(),
         pl.format("dunning_block_until: expected an ISO date, got {}", _got("dunning_block_until"))),
        ("open_items.bad_date", pl.col("notice_date").is_not_null() & pl.col("notice_d").is_null(),
         pl.format("notice_date: expected an ISO date, got {}", _got("notice_date"))),
        ("open_items.bad_law", None if law_ok else ~pl.col("law_n").is_in(list(_LAWS)),
         pl.format("law: expected public or private, got {}", _got("law"))),
        ("open_items.duplicate_id", pl.col("_n_id") > 1,
         pl.format("receivable_id {} occurs {} times; all its rows are rejected", _got("receivable_id"), pl.col("_n_id"))),
        ("open_items.kassenzeichen_two_debtors", pl.col("_n_debtors") > 1,
         pl.format("Kassenzeichen {} belongs to {} debtors; all its rows are rejected", _got("kassenzeichen"),
                   pl.col("_n_debtors"))),
    ]


def _split(df: pl.DataFrame, export: RawExport, checks: list[tuple[str, pl.Expr | None, pl.Expr]],
           p: str) -> tuple[pl.DataFrame, list[Issue]]:
    """The rows no check rejects, and one issue per (check, rejected row) in check order, then line order."""
    active = [(i, cond) for i, (_, cond, _) in enumerate(checks) if cond is not None]
    # over a frame of just the columns the conditions read (a select over all of them would first copy
    # every column of the reader's chunking into one chunk)
    used = {name for _, cond in active for name in cond.meta.root_names()}
    flags = pl.DataFrame([df[c] for c in df.columns if c in used]).select(
        [cond.fill_null(False).alias(f"_f{i}") for i, cond in active])
    any_bad = flags.select(pl.any_horizontal(pl.all())).to_series()
    issues: list[Issue] = []
    if not any_bad.any():
        return df, issues
    # messages are formatted for the bad rows only; typed columns shown as the text the export would hold
    bad = df.filter(any_bad).hstack(flags.filter(any_bad))
    bad = bad.with_columns([pl.col(c).cast(pl.String) for c in export.typed if c in bad.columns])
    for i, _ in active:
        code, _, fmt = checks[i]
        hits = bad.filter(pl.col(f"_f{i}")).select("source_line", "receivable_id", fmt.alias("_msg"))
        issues.extend(
            Issue(p, f"line {line}", ERROR, code, text or f"row rejected ({code})", raw=rid or "")
            for line, rid, text in hits.iter_rows()
        )
    return df.filter(~any_bad), issues


def _unknown_block_reasons(reasons: pl.Series, p: str) -> list[Issue]:
    """A warning per block reason outside :class:`~claims.vocab.BlockReason` (judged on the distinct
    values). The row is kept and its claim still blocked: a clerk wrote a reason, so dunning waits."""
    known = [str(r) for r in BlockReason]
    distinct = reasons.drop_nulls().unique().sort()
    unknown = distinct.filter(~distinct.is_in(known))
    return [Issue(p, "", WARNING, "open_items.unknown_block_reason",
                  f"block_reason {value!r} ({int((reasons == value).sum())} rows) is none of {', '.join(known)}; "
                  "the rows are kept and their claims are not dunned (treated as a block)", raw=value)
            for value in unknown.to_list()]


def _nothing_usable(issues: list[Issue], kept: int, p: str) -> None:
    """With no row left of an export that had rows, a file-level error first, naming the first bad row."""
    lines = {i.locator for i in issues if i.severity == ERROR and i.locator.startswith("line ")}
    if kept or not lines:
        return
    first = next(i for i in issues if i.severity == ERROR and i.locator.startswith("line "))
    issues.insert(0, Issue(p, "", ERROR, "open_items.no_usable_rows",
                           f"none of its {len(lines):,} rows can be imported, so the export is rejected as a whole "
                           f"(the first: {first.locator}: {first.message})"))


def load_open_items(
    path: Path, *, tenant: str = "default", config: Grammar | None = None
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
    # frames are put together from columns: frame operations over columns of different chunking (the
    # Parquet reader's against computed ones) would first copy them into one chunk each
    n = export.frame.height
    raw = {c.name: c for c in export.frame.get_columns()}
    raw |= {c: pl.repeat(None, n, dtype=pl.String, eager=True).alias(c) for c in OPTIONAL if c not in raw}
    # the address stays out of the row checks (a bad value never rejects a row): looked at for the kept
    # rows only, found again by their row number when the export has an address at all
    addresses = {c: raw.pop(c) for c in ADDRESS}
    if any(col.null_count() < n for col in addresses.values()):
        raw["_row"] = pl.int_range(n, dtype=pl.UInt32, eager=True).alias("_row")
    with ThreadPoolExecutor(max_workers=4) as pool:
        digest = pool.submit(sha256_file, p)  # hashing the file overlaps the checks
        cols = _columns(raw, tenant, (digits, scheme), pool)
        df = pl.DataFrame([col.alias(name) for name, col in (raw | cols).items()])
        good, found = _split(df, export, _checks(df, tenant), p)
        issues.extend(found)
        _nothing_usable(issues, good.height, p)
        wrong = good["kassenzeichen"].filter(~good["_ok"])
        if wrong.len():
            issues.append(Issue(p, "", WARNING, "open_items.kassenzeichen_unchecked",
                                f"{wrong.len()} Kassenzeichen are not {digits} digits with a valid {scheme} check "
                                f"digit (e.g. '{wrong[0]}'); they match only by external_ref or IBAN", raw=wrong[0]))
        issues.extend(_unknown_block_reasons(good["block_reason_n"], p))
        iban, found = dropped_ibans(good, p)
        kept = {c: col.gather(good["_row"]) if "_row" in good.columns else col.head(good.height)
                for c, col in addresses.items()}
        address, found_address = checked_address(good["source_line"], address_columns(kept), p)
        issues.extend(sorted([*found, *found_address], key=lambda i: int(i.locator.removeprefix("line "))))
        n = good.height
        final = {**address, "debtor_iban": iban,
                 "origin": pl.repeat("export", n, dtype=pl.String, eager=True),
                 "creditor": pl.repeat(tenant, n, dtype=pl.String, eager=True),
            "source_file": pl.repeat(digest.result(), n, dtype=pl.String, eager=True),
            "source_path": pl.repeat(p, n, dtype=pl.String, eager=True), "due_date": good["due_date_d"],
            "mandate_date": good["mandate_date_d"], "dunning_block_until": good["block_d"],
            "law": good["law_n"], "claim_type": good["claim_n"], "notice_date": good["notice_d"],
            "block_reason": good["block_reason_n"],
            "tenant": pl.repeat(tenant, n, dtype=pl.String, eager=True),  # blank or this tenant: no other is left
        }
    # conform(), column by column: the columns of the contract, in order, each cast strictly
    out = [(final[name] if name in final else good[name]).cast(t, strict=True).alias(name) for name, t in OPEN_ITEM_SCHEMA.items()]
    frame, broken = filtered(pl.DataFrame(out), p)
    return frame, [*issues, *broken]
