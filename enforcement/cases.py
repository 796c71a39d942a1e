"""The enforcement cases of a hand-off: one case per debtor, the figures per claim, the enforceability
statement (issue 17 §1–2, § 6 VwVG NRW, DOMAIN.md §1.2).

:func:`build_cases` takes the claims :func:`enforcement.select.select` chose and the cases still open, and
returns three frames: ``cases`` (one row per case touched by this hand-off: new ones and open ones a claim
joins), ``items`` (one row per claim handed over, with its figures and the data of its enforceability
statement) and nothing else — the ledger job books them, h17-format writes the files.

**One case per debtor and hand-off.** A debtor with an open case gets no second one: the new claims join
it (``new`` false). A debtor with several open cases (after a merge of two debtor ids, say) joins the one
with the highest number — except a Nebenforderung whose main claim is in an open case: it joins exactly
that case. Every other debtor gets a new case.

**Case numbers** ``TAG-YYYY-NNNNNN-C`` (:func:`case_number`):

* ``TAG`` — the tenant, 1–8 of ``A–Z0–9`` (``[enforcement] case_tag``, else the tenant id upper-cased,
  other characters dropped, the first 8): two tenants' numbers never collide, and the enforcement office
  of one municipality working for another sees whose case it is;
* ``YYYY`` — the year of the hand-off;
* ``NNNNNN`` — a counter per tag and year, from 000001, continuing after the highest number of that tag
  and year among ``known_numbers`` (every case number the ledger ever issued, closed cases too); new
  cases are numbered in the order of their debtor ids, so a rerun gives the same numbers;
* ``C`` — ISO 7064 MOD 37,36 check character over ``TAG`` + ``YYYY`` + ``NNNNNN`` (digits and letters;
  one wrong or two swapped characters are caught). Computed here as a Polars expression over the fixed
  number of positions (no call per case); ``tests/test_enforcement_cases.py`` proves it equal to
  python-stdnum's ``stdnum.iso7064.mod_37_36``, which :func:`case_number_valid` uses.

**Figures per claim** (``items``): the open principal (a main claim) or the open amount of a
Nebenforderung (``open_cents``, its ``claim_type`` says which); for a main claim the Säumniszuschlag
accrued **to the hand-off day** (:func:`dunning.surcharge.late_charges`: § 240 AO / § 18 GebG NRW,
§ 288 BGB interest for private-law claims, partial payments lowering the base) and the part of it no
dunning run has booked yet (``saeumniszuschlag_new_cents`` = accrued − booked, at least 0: the job books it
as a fee claim, as the dunning run does, before the files go out); the Mahnung's date and deadline (or the
waiver), the Leistungsbescheid (``external_ref``, ``notice_date``), the due date.

**The enforceability statement** (§ 6 VwVG NRW) per claim: ``basis`` (:class:`~claims.vocab.EnforceabilityBasis`)
and the dates it rests on — Leistungsbescheid (``notice_date``/``external_ref``; null when the export does
not carry them: the finance system's Sollstellung stands for the notice), due since ``due_effective``,
Schonfrist ended ``schonfrist_end``, Mahnung ``mahnung_date`` with deadline ``mahnung_deadline`` or the
waiver ``mahnung_waiver``; for a Nebenforderung ``vwvg_6_4`` (the main claim's Mahnung warned of it).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

import polars as pl

from claims.config import DunningSection, EnforcementSection
from claims.vocab import ClaimType, EnforceabilityBasis
from dunning.frames import conform
from dunning.surcharge import PAYMENT_SCHEMA, late_charges
from enforcement.frames import CaseClaim, SurchargeBooked, take
from enforcement.select import SELECTED_COLUMNS

#: The check characters' alphabet of ISO 7064 MOD 37,36.
ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
#: A case number: tag, year, counter, check character.
CASE_NUMBER = re.compile(r"^([A-Z0-9]{1,8})-([0-9]{4})-([0-9]{6})-([0-9A-Z])$")
_MAX_COUNTER = 999_999

#: One row per case this hand-off touches.
CASE_COLUMNS = ("case_number", "debtor_id", "new", "opened_on", "handed_off_on", "debtor_name", "debtor_street",
                "debtor_postcode", "debtor_city", "debtor_country", "debtor_birth_date", "n_claims",
                "principal_cents", "saeumniszuschlag_cents", "mahngebuehr_cents", "interest_cents", "kosten_cents",
                "total_cents")
#: One row per claim handed over.
ITEM_COLUMNS = ("case_number", "receivable_id", "main_receivable_id", "ancillary", "kassenzeichen", "claim_type",
                "law", "open_cents", "saeumniszuschlag_accrued_cents", "saeumniszuschlag_booked_cents",
                "saeumniszuschlag_new_cents", "interest_accrued_cents", "interest_new_cents", "surcharge_rule",
                "surcharge_months", "due_date", "due_effective", "external_ref", "notice_date", "schonfrist_end",
                "mahnung_notice_id", "mahnung_date", "mahnung_deadline", "mahnung_waiver", "basis")

#: Which total of a case an open Nebenforderung adds to, by claim type (the rest: ``kosten_cents``).
_FEE_COLUMN = {ClaimType.SAEUMNISZUSCHLAG: "saeumniszuschlag_cents", ClaimType.MAHNGEBUEHR: "mahngebuehr_cents",
               ClaimType.ZINSEN: "interest_cents"}


@dataclass(frozen=True, slots=True)
class Cases:
    """``cases`` (:data:`CASE_COLUMNS`) and ``items`` (:data:`ITEM_COLUMNS`) of one hand-off."""

    cases: pl.DataFrame
    items: pl.DataFrame


class CaseNumberError(ValueError):
    """The counter of a tag and year is used up, or the tag is not one the grammar allows."""


def case_tag(tenant: str, settings: EnforcementSection | None = None) -> str:
    """The case numbers' tenant part: ``[enforcement] case_tag``, else the tenant id reduced to ``A–Z0–9``.

    >>> case_tag("stadt-detmold"), case_tag("Oerlinghausen")
    ('STADTDET', 'OERLINGH')
    """
    if settings is not None and settings.case_tag:
        return settings.case_tag
    tag = re.sub(r"[^A-Z0-9]", "", tenant.upper())[:8]
    if not tag:
        raise CaseNumberError(f"the tenant id {tenant!r} has no letter or digit for a case tag: set [enforcement] case_tag")
    return tag


def _step(p: int | pl.Expr, value: int | pl.Expr) -> int | pl.Expr:
    """One step of the ISO 7064 MOD 37,36 recursion: p = ((p or M) · 2 mod (M+1) + value) mod M, with
    (p or M) written as (p + M − 1) mod M + 1 so that an expression reads ``p`` once (a linear plan)."""
    m = len(ALPHABET)
    return ((((p + (m - 1)) % m + 1) * 2) % (m + 1) + value) % m


def _check_value(p: int | pl.Expr) -> int | pl.Expr:
    m = len(ALPHABET)
    return (1 - (((p + (m - 1)) % m + 1) * 2) % (m + 1)) % m


def case_number(tag: str, year: int, counters: pl.Series) -> pl.Series:
    """The case numbers of ``counters`` (1 … 999999) for ``tag`` and ``year``, check character included.

    The check runs over ``TAG`` + ``YYYY`` + ``NNNNNN``: the prefix is the same for every case of the call,
    so its part of the recursion is worked out once in Python; the six counter digits are taken from the
    integer (``n // 10^k mod 10``) — integer arithmetic over the column, no string handled per case.

    >>> case_number("MUSTER", 2026, pl.Series([1, 2])).to_list()
    ['MUSTER-2026-000001-5', 'MUSTER-2026-000002-3']
    """
    if not re.fullmatch(r"[A-Z0-9]{1,8}", tag):
        raise CaseNumberError(f"a case tag is 1–8 of A–Z, 0–9, got {tag!r}")
    if counters.len() and (counters.max() > _MAX_COUNTER or counters.min() < 1):  # type: ignore[operator]
        raise CaseNumberError(f"the case counter of {tag} {year} is used up (more than {_MAX_COUNTER:,} cases)")
    p: int | pl.Expr = len(ALPHABET) // 2
    for ch in f"{tag}{year:04d}":
        p = _step(p, ALPHABET.index(ch))
    n = pl.col("n")
    for k in range(5, -1, -1):
        p = _step(p if isinstance(p, pl.Expr) else pl.lit(p, pl.Int64), (n // 10**k) % 10)
    check = pl.lit(pl.Series(list(ALPHABET))).gather(_check_value(p))
    frame = pl.DataFrame({"n": counters.cast(pl.Int64)})
    return frame.select(pl.format("{}-{}-{}-{}", pl.lit(tag), pl.lit(f"{year:04d}"),
                                  n.cast(pl.String).str.zfill(6), check).alias("case_number")).to_series()


def case_number_valid(number: str) -> bool:
    """Whether ``number`` has the grammar and a right check character (python-stdnum's MOD 37,36)."""
    from stdnum.iso7064 import mod_37_36

    m = CASE_NUMBER.match(number)
    return bool(m) and mod_37_36.is_valid("".join(m.groups()))  # type: ignore[union-attr]


def highest_counter(known: pl.Series | list[str] | None, tag: str, year: int) -> int:
    """The highest counter among ``known`` case numbers of ``tag`` and ``year`` (0: none)."""
    s = pl.Series("n", [] if known is None else known, dtype=pl.String)
    got = s.str.extract(rf"^{re.escape(tag)}-{year:04d}-([0-9]{{6}})-[0-9A-Z]$", 1).cast(pl.Int64).max()
    return int(got) if got is not None else 0  # type: ignore[arg-type]


def _assign(selected: pl.DataFrame, open_cases: pl.DataFrame, tag: str, as_of: date,
            known: pl.Series | list[str] | None) -> pl.DataFrame:
    """(debtor_id, case_number, new, opened_on) for every debtor of ``selected``."""
    per_case = open_cases.group_by("case_number").agg(
        pl.col("debtor_id").first(), pl.coalesce(pl.col("opened_on"), pl.col("handed_off_on")).min().alias("opened_on"))
    existing = (per_case.sort("case_number").group_by("debtor_id")
                .agg(pl.col("case_number").last(), pl.col("opened_on").last()))
    debtors = selected.select("debtor_id").unique().sort("debtor_id")
    joined = debtors.join(existing, on="debtor_id", how="left")
    fresh = joined.filter(pl.col("case_number").is_null()).select("debtor_id")
    start = highest_counter(known, tag, as_of.year)
    numbers = case_number(tag, as_of.year, pl.int_range(start + 1, start + 1 + fresh.height, eager=True))
    fresh = fresh.with_columns(numbers.alias("case_number"), pl.lit(True).alias("new"),
                               pl.lit(as_of).alias("opened_on"))
    return pl.concat([joined.filter(pl.col("case_number").is_not_null()).with_columns(pl.lit(False).alias("new"))
                      .select("debtor_id", "case_number", "new", "opened_on"),
                      fresh.select("debtor_id", "case_number", "new", "opened_on")])


def _charges(selected: pl.DataFrame, as_of: date, dunning: DunningSection,
             payments: pl.DataFrame | pl.LazyFrame | None, booked: pl.DataFrame) -> pl.DataFrame:
    """Per main claim: what accrued to ``as_of`` and what of it is not booked yet."""
    mains = selected.filter(~pl.col("ancillary")).select(
        "receivable_id", "claim_type", pl.col("open_cents").alias("amount_cents"), "due_date", "law")
    accrued = late_charges(mains, as_of, dunning, conform(payments, PAYMENT_SCHEMA)).select(
        "receivable_id", "surcharge_rule", "surcharge_months",
        pl.col("saeumniszuschlag_cents").alias("saeumniszuschlag_accrued_cents"),
        pl.col("interest_cents").alias("interest_accrued_cents")).collect()
    return accrued.join(booked, on="receivable_id", how="left").with_columns(
        pl.col("saeumniszuschlag_booked_cents").fill_null(0), pl.col("interest_booked_cents").fill_null(0),
    ).with_columns(
        (pl.col("saeumniszuschlag_accrued_cents") - pl.col("saeumniszuschlag_booked_cents")).clip(lower_bound=0)
        .alias("saeumniszuschlag_new_cents"),
        (pl.col("interest_accrued_cents") - pl.col("interest_booked_cents")).clip(lower_bound=0)
        .alias("interest_new_cents"))


def build_cases(selected: pl.DataFrame, as_of: date, *, tenant: str, settings: EnforcementSection | None = None,
                dunning: DunningSection | None = None,
                open_cases: pl.DataFrame | pl.LazyFrame | None = None,
                known_numbers: pl.Series | list[str] | None = None,
                payments: pl.DataFrame | pl.LazyFrame | None = None,
                booked: pl.DataFrame | pl.LazyFrame | None = None) -> Cases:
    """The cases and items of the hand-off on ``as_of`` (module docstring).

    ``selected``: :func:`enforcement.select.select`'s selected frame; ``open_cases``:
    :class:`~enforcement.frames.CaseClaim` of the open cases; ``known_numbers``: every case number issued so
    far; ``payments``: ``dunning.surcharge.PAYMENT_SCHEMA`` (what was credited to the claims' principal);
    ``booked``: :class:`~enforcement.frames.SurchargeBooked`."""
    s, d = settings or EnforcementSection(), dunning or DunningSection()
    sel = selected.select(SELECTED_COLUMNS)
    cases_in = take(open_cases, CaseClaim)
    assignment = _assign(sel, cases_in, case_tag(tenant, s), as_of, known_numbers)
    charges = _charges(sel, as_of, d, payments, take(booked, SurchargeBooked))

    # a Nebenforderung whose main claim is in an open case joins exactly that case (same debtor)
    main_case = cases_in.select(pl.col("receivable_id").alias("main_receivable_id"), "debtor_id",
                                pl.col("case_number").alias("_main_case")).unique(["main_receivable_id", "debtor_id"])
    items = (sel.join(assignment.select("debtor_id", "case_number"), on="debtor_id", how="left", maintain_order="left")
             .join(main_case, on=["main_receivable_id", "debtor_id"], how="left", maintain_order="left")
             .with_columns(pl.coalesce("_main_case", "case_number").alias("case_number"))
             .join(charges, on="receivable_id", how="left", maintain_order="left")
             .with_columns([pl.col(c).fill_null(0) for c in (
                 "saeumniszuschlag_accrued_cents", "saeumniszuschlag_booked_cents", "saeumniszuschlag_new_cents",
                 "interest_accrued_cents", "interest_new_cents", "surcharge_months")])
             .with_columns(pl.when(pl.col("ancillary")).then(pl.lit(EnforceabilityBasis.ANCILLARY))
                           .when(pl.col("mahnung_date").is_not_null()).then(pl.lit(EnforceabilityBasis.MAHNUNG))
                           .otherwise(pl.lit(EnforceabilityBasis.WAIVER)).alias("basis"),
                           pl.when(pl.col("ancillary")).then(pl.lit("ancillary")).otherwise(pl.col("surcharge_rule"))
                           .alias("surcharge_rule"))
             .sort("case_number", "main_receivable_id", "ancillary", "receivable_id")
             .select(ITEM_COLUMNS))

    kind = pl.col("claim_type").str.to_uppercase()
    fee_col = kind.replace_strict({str(t): c for t, c in _FEE_COLUMN.items()}, default="kosten_cents",
                                  return_dtype=pl.String)
    parts = items.with_columns(pl.when(pl.col("ancillary")).then(fee_col).otherwise(pl.lit("principal_cents"))
                               .alias("_col"))
    amount = {c: pl.col("open_cents").filter(pl.col("_col") == c).sum() for c in
              ("principal_cents", "saeumniszuschlag_cents", "mahngebuehr_cents", "interest_cents", "kosten_cents")}
    sums = parts.group_by("case_number").agg(
        pl.len().cast(pl.Int64).alias("n_claims"), *[e.alias(c) for c, e in amount.items()],
        pl.col("saeumniszuschlag_new_cents").sum().alias("_sz_new"), pl.col("interest_new_cents").sum().alias("_in_new"),
    ).with_columns((pl.col("saeumniszuschlag_cents") + pl.col("_sz_new")).alias("saeumniszuschlag_cents"),
                   (pl.col("interest_cents") + pl.col("_in_new")).alias("interest_cents"))
    sums = sums.with_columns((pl.col("principal_cents") + pl.col("saeumniszuschlag_cents") + pl.col("mahngebuehr_cents")
                              + pl.col("interest_cents") + pl.col("kosten_cents")).alias("total_cents"))
    # the debtor's identity from the main claims first (the export's rows), then any
    ident = ("debtor_name", "debtor_street", "debtor_postcode", "debtor_city", "debtor_country", "debtor_birth_date")
    who = (sel.sort("ancillary", "receivable_id").group_by("debtor_id", maintain_order=True)
           .agg([pl.col(c).drop_nulls().first().alias(c) for c in ident]))
    info = pl.concat([assignment.select("case_number", "debtor_id", "new", "opened_on"),
                      cases_in.group_by("case_number").agg(
                          pl.col("debtor_id").first(), pl.lit(False).alias("new"),
                          pl.coalesce(pl.col("opened_on"), pl.col("handed_off_on")).min().alias("opened_on"))
                      ]).unique("case_number", keep="first", maintain_order=True)
    cases = (info.join(sums, on="case_number", how="inner").join(who, on="debtor_id", how="left")
             .with_columns(pl.lit(as_of).alias("handed_off_on")).sort("case_number").select(CASE_COLUMNS))
    return Cases(cases=cases, items=items)


__all__ = ["ALPHABET", "CASE_COLUMNS", "CASE_NUMBER", "ITEM_COLUMNS", "CaseNumberError", "Cases", "build_cases",
           "case_number", "case_number_valid", "case_tag", "highest_counter"]
