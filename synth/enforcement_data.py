"""Claims that reach the enforcement hand-off, with the variety of a real ledger (issue 17 §5: tests, demo, benchmark).

:func:`enforcement_set` makes, for ``debtors`` debtors, every frame :func:`enforcement.select.select` and
:func:`enforcement.cases.build_cases` take (``enforcement/frames.py``): the open claims with the debtors'
identities, the Mahnungen sent, the waivers, the blocks of the review page, the Klärungsliste, the claims
already in open cases with their case numbers, the payments credited so far and the surcharges the dunning
runs booked. Vectorised and seeded (:mod:`synth.rand`: value ``i`` of a stream is a pure function of the
seed, the stream and ``i``): the same arguments give the same frames, byte for byte.

**What a ledger has** (the shares are of debtors or main claims; ``trouble`` scales every share marked *):

* debtors: persons (about 85 %; 70 % of them with a birth date) and companies (no birth date, a legal
  form in the name); 2 % abroad (NL, BE, AT, their postcodes); half with an IBAN in the export;
* claims per debtor: one (``max_claims=1``) or 1 to ``max_claims``, most debtors few, some many; claim
  types of the tax and fee office (Grundsteuer … Bußgeld, Kita fees under private law: interest instead
  of Säumniszuschlag), amounts from a few euros to a Gewerbesteuer of thousands; due dates 11 weeks to
  almost 3 years back; a Leistungsbescheid date and reference on 40 %, a late Bekanntgabe on a few;
* partial payments on 20 % (the open amount is the rest; the payments frame holds what was paid);
* Mahnungen after the due date with a one-week deadline, a Vollstreckungsankündigung after a third of
  them, an earlier Zahlungserinnerung (no legal effect) on some; each on its own date;
* Nebenforderungen (``ancillary=True``) on the main claims that were gemahnt: a Mahngebühr
  (6 € up to 50 €, 1 % of the excess: § 9 VO VwVG NRW), a
  Säumniszuschlag of 1 % per month begun on 50-euro steps (booked: :class:`~enforcement.frames.SurchargeBooked`),
  interest on private-law claims, Zustellkosten on a few; a Nebenforderung has its own Kassenzeichen
  (the main claim's with a suffix) and is due on the Mahnung's day;
* waivers instead of a Mahnung (every :class:`~claims.vocab.MahnungWaiver`, a public reminder with its
  deadline; one waiver in five on the debtor, not the claim) on 3 %;
* trouble*: blocks in force (the export's Stundung / AdV / Mahnsperre with or without end, an insolvency
  on the debtor in the review page's journal), blocks that ended since the Mahnung (the export's and the
  journal's) and ones that ended before it (harmless), Klärungsliste payments naming a claim or coming
  from the debtor's IBAN, incomplete identities (no street, a four-digit German postcode, a blank name,
  no city), two birth dates for one debtor, claims without any Mahnung, a Mahnung whose deadline has not
  run out yet, claims due within the Schonfrist, small claims under the threshold, claims paid off,
  Nebenforderungen paid off or whose main claim was paid and closed, debtors with an open case already
  (their first claim handed over 100 days ago, the new ones join the case).

``trouble=0`` leaves the plain claims only: all are handed over but a partly paid claim whose rest is
under the threshold (and its Nebenforderungen); the default gives every
:class:`~claims.vocab.HandoffSkip` reason on a few hundred debtors (``tests/test_synth_enforcement.py``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import TypedDict

import polars as pl

from claims.vocab import BlockReason, ClaimType, DunningLevel, MahnungWaiver
from enforcement.cases import Cases, case_number
from enforcement.frames import (
    BlockRow,
    CaseClaim,
    HandoffClaim,
    MahnungSent,
    MahnungWaived,
    PendingPayment,
    SurchargeBooked,
    polars_schema,
)
from synth import rand
from synth.addresses import ABROAD, STREETS, TOWNS
from synth.names import COMPANY_FORMS, COMPANY_STEMS, FIRST_NAMES, LAST_NAMES
from synth.numbers import german_iban, kassenzeichen_from_bodies

#: The hand-off day of the demo and the benchmark (a Monday).
AS_OF = date(2026, 12, 7)
#: The case numbers' tag of the open cases made here (``[enforcement] case_tag``).
CASE_TAG = "MUSTER"
#: Main claim types and their relative weights.
MAIN_TYPES = (("GRUNDSTEUER", 30), ("ABFALL", 16), ("HUNDESTEUER", 8), ("GEWERBESTEUER", 8), ("ABWASSER", 8),
              ("STRASSENREINIGUNG", 5), ("KITA", 8), ("BUSSGELD", 6), ("VERWALTUNGSGEBUEHR", 4),
              ("ZWEITWOHNUNGSTEUER", 2), ("VERGNUEGUNGSTEUER", 1), ("KAG_BEITRAG", 2), ("ZWANGSGELD", 2))
#: Claim types under private law (interest, § 288 BGB, instead of a Säumniszuschlag).
PRIVATE = ("KITA",)
#: Kassenzeichen suffix of each kind of Nebenforderung.
SUFFIX = {ClaimType.MAHNGEBUEHR: "MG", ClaimType.SAEUMNISZUSCHLAG: "SZ", ClaimType.ZINSEN: "ZI",
          ClaimType.KOSTEN: "KO"}

#: Per debtor: what is wrong with it (index 0: nothing). Relative weights within ``trouble``.
DEBTOR_TROUBLE = ("none", "incomplete", "conflict", "pending_claim", "pending_iban", "insolvent", "journal_ended",
                  "in_case")
_DEBTOR_TROUBLE_W = (0.0, 2.0, 1.0, 0.7, 0.7, 1.0, 0.8, 2.5)
#: Per main claim: what is special about it (index 0: nothing). Relative weights within ``trouble``
#: (``waiver`` and ``ended_before`` are not trouble: those claims are handed over).
CLAIM_TROUBLE = ("none", "no_mahnung", "mahnfrist", "schonfrist", "below", "paid_off", "export_block",
                 "export_ended", "main_closed", "waiver", "ended_before")
_CLAIM_TROUBLE_W = (0.0, 2.0, 1.5, 0.7, 1.5, 0.8, 2.0, 1.2, 0.5)
_WAIVER_SHARE, _ENDED_BEFORE_SHARE = 0.03, 0.01


class SelectFrames(TypedDict):
    """The keyword frames of :func:`enforcement.select.select`."""

    mahnungen: pl.DataFrame
    waivers: pl.DataFrame
    blocks: pl.DataFrame
    pending: pl.DataFrame
    open_cases: pl.DataFrame


@dataclass(frozen=True, slots=True)
class EnforcementSet:
    """The frames of one hand-off day (each in its ``enforcement.frames`` schema's columns and types)."""

    as_of: date
    claims: pl.DataFrame          # HandoffClaim
    mahnungen: pl.DataFrame       # MahnungSent
    waivers: pl.DataFrame         # MahnungWaived
    blocks: pl.DataFrame          # BlockRow
    pending: pl.DataFrame         # PendingPayment
    open_cases: pl.DataFrame      # CaseClaim
    payments: pl.DataFrame        # dunning.surcharge.PAYMENT_SCHEMA: receivable_id, paid_on, amount_cents
    booked: pl.DataFrame          # SurchargeBooked
    known_numbers: pl.Series      # every case number issued before (the open cases')

    def select_kwargs(self) -> SelectFrames:
        """The keyword frames of :func:`enforcement.select.select`."""
        return {"mahnungen": self.mahnungen, "waivers": self.waivers, "blocks": self.blocks,
                "pending": self.pending, "open_cases": self.open_cases}


def _pick(values: tuple[str, ...], index: pl.Expr) -> pl.Expr:
    return pl.lit(pl.Series(values, dtype=pl.String)).gather(index)


def _days(expr: pl.Expr | int) -> pl.Expr:
    return pl.duration(days=expr)


def _debtors(n: int, seed: int, trouble: float, max_claims: int, as_of: date) -> pl.DataFrame:
    """One row per debtor: identity, trouble, number of main claims."""
    u = {name: rand.uniform(n, seed, 10 + k) for k, name in enumerate(
        ("company", "birth_known", "abroad", "iban", "trouble", "claims", "blank"))}
    ints = {name: rand.integers(n, 0, 1 << 30, seed, 30 + k) for k, name in enumerate(
        ("first", "last", "stem", "form", "street", "number", "town", "abroad_i", "birth", "blz", "account",
         "incomplete"))}
    kind = rand.choice(n, _DEBTOR_TROUBLE_W[1:], seed, 20) + 1
    f = pl.DataFrame({"i": pl.int_range(0, n, eager=True), **u, **{f"n_{k}": v for k, v in ints.items()},
                      "kind": kind})
    c = pl.col
    trouble_kind = pl.when(c("trouble") < trouble * 0.12).then(c("kind")).otherwise(0)
    f = f.with_columns(trouble_kind.alias("trouble"))
    # a company has no birth date, so two of them cannot disagree: a conflict is a person's
    company = (c("company") < 0.15) & (c("trouble") != DEBTOR_TROUBLE.index("conflict"))
    name = (pl.when(company)
            .then(pl.format("{} {}", _pick(COMPANY_STEMS, c("n_stem") % len(COMPANY_STEMS)),
                            _pick(COMPANY_FORMS, c("n_form") % len(COMPANY_FORMS))))
            .otherwise(pl.format("{} {}", _pick(FIRST_NAMES, c("n_first") % len(FIRST_NAMES)),
                                 _pick(LAST_NAMES, c("n_last") % len(LAST_NAMES)))))
    abroad = c("abroad") < 0.02
    k_abroad = c("n_abroad_i") % len(ABROAD)
    street = pl.format("{} {}", pl.when(abroad).then(_pick(tuple(a[1] for a in ABROAD), k_abroad))
                       .otherwise(_pick(STREETS, c("n_street") % len(STREETS))), c("n_number") % 120 + 1)
    postcode = pl.when(abroad).then(_pick(tuple(a[2] for a in ABROAD), k_abroad)).otherwise(
        _pick(tuple(t[0] for t in TOWNS), c("n_town") % len(TOWNS)))
    city = pl.when(abroad).then(_pick(tuple(a[3] for a in ABROAD), k_abroad)).otherwise(
        _pick(tuple(t[1] for t in TOWNS), c("n_town") % len(TOWNS)))
    country = pl.when(abroad).then(_pick(tuple(a[0] for a in ABROAD), k_abroad)).otherwise(
        pl.when(c("blank") < 0.5).then(pl.lit("DE")).otherwise(pl.lit(None, pl.String)))
    birth = pl.when(~company & (c("birth_known") < 0.7)).then(
        pl.lit(as_of) - _days(c("n_birth") % (72 * 365) + 18 * 365))
    f = f.with_columns(company.alias("company"), name.alias("name"),
                       street.alias("street"), postcode.alias("postcode"), city.alias("city"),
                       country.alias("country"), birth.alias("birth"))
    # an incomplete identity: one of four faults
    fault = c("n_incomplete") % 4
    bad = c("trouble") == DEBTOR_TROUBLE.index("incomplete")
    f = f.with_columns(
        pl.when(bad & (fault == 0)).then(pl.lit(None, pl.String)).otherwise(c("street")).alias("street"),
        pl.when(bad & (fault == 1) & ~abroad).then(c("postcode").str.slice(0, 4)).otherwise(c("postcode"))
        .alias("postcode"),
        pl.when(bad & (fault == 2)).then(pl.lit("  ")).otherwise(c("name")).alias("name"),
        pl.when(bad & ((fault == 3) | ((fault == 1) & abroad))).then(pl.lit(None, pl.String)).otherwise(c("city"))
        .alias("city"),
        # a conflict needs a birth date and two claims
        pl.when(c("trouble") == DEBTOR_TROUBLE.index("conflict")).then(
            pl.coalesce("birth", pl.lit(date(1970, 5, 1)))).otherwise(c("birth")).alias("birth"),
        pl.when(c("iban") < 0.5).then(german_iban(c("n_blz") % 90_000_000 + 10_000_000,
                                                  c("n_account") % 9_000_000_000 + 1_000_000_000)).alias("iban"),
    )
    many = (1 + (c("claims").pow(2.5) * max_claims).floor().cast(pl.Int64)).clip(upper_bound=max_claims)
    n_claims = pl.max_horizontal(many, pl.when(c("trouble").is_in([DEBTOR_TROUBLE.index("conflict"),
                                                                   DEBTOR_TROUBLE.index("in_case")]))
                                 .then(2).otherwise(1)) if max_claims > 1 else pl.lit(1, pl.Int64)
    return f.with_columns(pl.format("S{}", c("i").cast(pl.String).str.zfill(7)).alias("debtor_id"),
                          n_claims.cast(pl.Int64).alias("n_claims")).select(
        "debtor_id", "trouble", "company", "name", "street", "postcode", "city", "country", "birth", "iban",
        "n_claims")


def _mains(debtors: pl.DataFrame, seed: int, trouble: float, as_of: date) -> pl.DataFrame:
    """One row per main claim: type, amounts, dates, its Mahnung, its trouble."""
    m = (debtors.rename({"trouble": "dtrouble"}).with_columns(pl.int_ranges(0, pl.col("n_claims")).alias("k")).explode("k")
         .with_row_index("j").with_columns(pl.col("j").cast(pl.Int64)))
    n = m.height
    u = {f"u_{name}": rand.uniform(n, seed, 100 + k) for k, name in enumerate(
        ("trouble", "notice", "late", "paid", "va", "ze", "size", "waiver_debtor", "birth_gap", "block"))}
    ints = {f"n_{name}": rand.integers(n, 0, 1 << 30, seed, 130 + k) for k, name in enumerate(
        ("due", "notice", "paid_share", "paid_days", "mahnung", "va", "block", "waiver", "ended", "below", "ref"))}
    m = m.with_columns(**u, **ints, ctype=rand.choice(n, [w for _, w in MAIN_TYPES], seed, 160),
                       ckind=rand.choice(n, _CLAIM_TROUBLE_W[1:], seed, 161) + 1)
    c, T = pl.col, CLAIM_TROUBLE.index
    share = trouble * 0.10
    special = (pl.when(c("u_trouble") < share).then(c("ckind"))
               .when(c("u_trouble") < share + _WAIVER_SHARE).then(T("waiver"))
               .when(c("u_trouble") < share + _WAIVER_SHARE + _ENDED_BEFORE_SHARE).then(T("ended_before"))
               .otherwise(0))
    claim_type = _pick(tuple(t for t, _ in MAIN_TYPES), c("ctype"))
    m = m.with_columns(special.cast(pl.Int64).alias("special"), claim_type.alias("claim_type"))
    # the amount: 15 € to some thousand euros, more for a Gewerbesteuer; a few small ones under the threshold
    euros = (1500 * (c("u_size") * 5.5).exp()).round().cast(pl.Int64)
    amount = (pl.when(c("special") == T("below")).then(100 + c("n_below") % 850)
              .when(c("claim_type") == "GEWERBESTEUER").then(euros * 6).otherwise(euros))
    due = (pl.when(c("special") == T("schonfrist")).then(pl.lit(as_of) - _days(c("n_due") % 4))
           .otherwise(pl.lit(as_of) - _days(75 + c("n_due") % 900)))
    m = m.with_columns(amount.alias("amount"), due.alias("due_date"))
    notice = (pl.when(c("u_notice") < 0.4).then(
        pl.when(c("u_late") < 0.06).then(c("due_date") + _days(3 + c("n_notice") % 8))
        .otherwise(c("due_date") - _days(14 + c("n_notice") % 20))))
    paid = (pl.when(c("special") == T("paid_off")).then(c("amount"))
            .when(c("u_paid") < 0.2).then(c("amount") * (10 + c("n_paid_share") % 61) // 100).otherwise(0))
    span = (pl.lit(as_of) - c("due_date")).dt.total_days().clip(lower_bound=2)
    mahnt = ~c("special").is_in([T("no_mahnung"), T("waiver"), T("schonfrist")])
    mahnung = (pl.when(c("special") == T("mahnfrist")).then(pl.lit(as_of) - _days(3 + c("n_mahnung") % 5))
               .when(mahnt).then(c("due_date") + _days(21 + c("n_mahnung") % 30)))
    m = m.with_columns(
        notice.alias("notice_date"),
        pl.when(c("u_notice") < 0.4).then(pl.format("BS-{}-{}", c("due_date").dt.year(), c("n_ref") % 100000))
        .alias("external_ref"),
        paid.alias("paid"), (c("due_date") + _days(1 + c("n_paid_days") % (span - 1))).alias("paid_on"),
        pl.when(c("claim_type").is_in(PRIVATE)).then(pl.lit("private")).otherwise(pl.lit("public")).alias("law"),
        mahnung.alias("mahnung_date"))
    va = c("mahnung_date") + _days(28 + c("n_va") % 30)
    m = m.with_columns(
        pl.when((c("special") != T("mahnfrist")) & (c("u_va") < 0.33) & (va < pl.lit(as_of) - _days(17)))
        .then(va).alias("va_date"),
        pl.when(c("mahnung_date").is_not_null() & (c("special") != T("mahnfrist")) & (c("u_ze") < 0.15))
        .then(c("due_date") - _days(5)).alias("ze_date"))
    # the export's own blocks: in force (with or without an end), ended since the Mahnung, ended before it
    live_reason = _pick(("STUNDUNG", "ADV", "MAHNSPERRE", "RATENZAHLUNG"), c("n_block") % 4)
    open_reason = _pick(("ADV", "NIEDERSCHLAGUNG", "MAHNSPERRE"), c("n_block") % 3)
    ended_reason = _pick(("STUNDUNG", "RATENZAHLUNG", ""), c("n_block") % 3)
    without_end = c("u_block") < 1 / 3
    m = m.with_columns(
        pl.when(c("special") == T("export_block")).then(pl.when(without_end).then(None)
                                                         .otherwise(pl.lit(as_of) + _days(30 + c("n_ended") % 200)))
        .when(c("special") == T("export_ended")).then(pl.lit(as_of) - _days(3 + c("n_ended") % 10))
        .when(c("special") == T("ended_before")).then(c("mahnung_date") - _days(5 + c("n_ended") % 10))
        .alias("dunning_block_until"),
        pl.when(c("special") == T("export_block")).then(pl.when(without_end).then(open_reason).otherwise(live_reason))
        .when(c("special") == T("export_ended")).then(ended_reason)
        .when(c("special") == T("ended_before")).then(pl.lit("STUNDUNG"))
        .alias("block_reason"))
    kz = kassenzeichen_from_bodies(pl.lit(31_000_000_000, pl.Int64) + c("j") * 7).cast(pl.String)
    return m.with_columns(pl.format("F{}", c("j").cast(pl.String).str.zfill(8)).alias("receivable_id"),
                          kz.alias("kassenzeichen"), (c("amount") - c("paid")).alias("amount_cents"))


def _ancillary(mains: pl.DataFrame, seed: int, trouble: float) -> tuple[pl.DataFrame, pl.DataFrame]:
    """The Nebenforderungen of the main claims that were gemahnt, and what of them the dunning runs booked."""
    c, T = pl.col, CLAIM_TROUBLE.index
    base = mains.filter(c("mahnung_date").is_not_null() | (c("special") == T("main_closed")))
    n = base.height
    base = base.with_columns(
        u_mg=rand.uniform(n, seed, 200), u_sz=rand.uniform(n, seed, 201), u_ko=rand.uniform(n, seed, 202),
        n_months=rand.integers(n, 1, 13, seed, 203), n_kosten=rand.integers(n, 350, 2600, seed, 204),
        u_paid=rand.uniform(n, seed, 205))
    on = pl.coalesce("mahnung_date", c("due_date") + _days(30))
    principal = c("amount")
    kinds = {
        ClaimType.MAHNGEBUEHR: ((c("u_mg") < 0.75) | (c("special") == T("main_closed")),
                                600 + (principal - 5000).clip(lower_bound=0) // 100),   # § 9 VO VwVG NRW
        ClaimType.SAEUMNISZUSCHLAG: ((c("law") == "public") & (c("u_sz") < 0.55),
                                     c("n_months") * (principal // 5000) * 50),
        ClaimType.ZINSEN: ((c("law") == "private") & (c("u_sz") < 0.55), principal * 5 * c("n_months") // 1200),
        ClaimType.KOSTEN: (c("u_ko") < 0.04, c("n_kosten")),
    }
    parts = [base.filter(cond).with_columns(amt.alias("fee"), pl.lit(str(kind)).alias("fee_type"))
             .filter(c("fee") > 0) for kind, (cond, amt) in kinds.items()]
    fees = pl.concat(parts)
    paid_off = (c("u_paid") < trouble * 0.02)
    rows = fees.select(
        pl.format("{}-{}", c("receivable_id"), c("fee_type").replace_strict({str(k): v for k, v in SUFFIX.items()}))
        .alias("receivable_id"), "debtor_id",
        pl.format("{}-{}", c("kassenzeichen"), c("fee_type").replace_strict({str(k): v for k, v in SUFFIX.items()}))
        .alias("kassenzeichen"),
        c("fee_type").alias("claim_type"), pl.when(paid_off).then(0).otherwise(c("fee")).alias("amount_cents"),
        on.alias("due_date"), "law", c("receivable_id").alias("parent_receivable_id"), c("j"), c("k"))
    booked = fees.filter(c("fee_type").is_in([str(ClaimType.SAEUMNISZUSCHLAG), str(ClaimType.ZINSEN)])).group_by(
        "receivable_id").agg(
        c("fee").filter(c("fee_type") == str(ClaimType.SAEUMNISZUSCHLAG)).sum().alias("saeumniszuschlag_booked_cents"),
        c("fee").filter(c("fee_type") == str(ClaimType.ZINSEN)).sum().alias("interest_booked_cents")).sort("receivable_id")
    return rows, booked


def enforcement_set(debtors: int, seed: int = 1, as_of: date = AS_OF, *, max_claims: int = 4,
                    ancillary: bool = True, trouble: float = 1.0) -> EnforcementSet:
    """The frames of a hand-off on ``as_of`` for ``debtors`` debtors (module docstring): ``max_claims`` main
    claims per debtor at most (1: one each), Nebenforderungen or not, ``trouble`` scaling the skip shares."""
    c, T, DT = pl.col, CLAIM_TROUBLE.index, DEBTOR_TROUBLE.index
    who = _debtors(debtors, seed, trouble, max_claims, as_of)
    mains = _mains(who, seed, trouble, as_of)
    if ancillary:
        fees, booked = _ancillary(mains, seed, trouble)
    else:
        fees = pl.DataFrame(schema={"receivable_id": pl.String, "debtor_id": pl.String, "kassenzeichen": pl.String,
                                    "claim_type": pl.String, "amount_cents": pl.Int64, "due_date": pl.Date,
                                    "law": pl.String, "parent_receivable_id": pl.String, "j": pl.Int64,
                                    "k": pl.Int64})
        booked = pl.DataFrame(schema=polars_schema(SurchargeBooked))
    # a main claim paid and closed leaves only its Nebenforderungen in the export (when it has any)
    kept = mains.filter((c("special") != T("main_closed")) | pl.lit(not ancillary))
    identity = who.select("debtor_id", "trouble", "name", "street", "postcode", "city", "country", "birth", "iban")
    main_rows = kept.select("receivable_id", "debtor_id", "kassenzeichen", "claim_type", "amount_cents", "due_date",
                            "law", "notice_date", "external_ref", "dunning_block_until", "block_reason",
                            pl.lit(None, pl.String).alias("parent_receivable_id"), "j", "k", "u_birth_gap")
    claims = pl.concat([main_rows, fees], how="diagonal").sort("j", "parent_receivable_id", nulls_last=False)
    claims = claims.join(identity, on="debtor_id", how="left", maintain_order="left")
    conflict = (c("trouble") == DT("conflict")) & (c("k") == 1) & c("parent_receivable_id").is_null()
    claims = claims.with_columns(
        c("name").alias("debtor_name"), c("street").alias("debtor_street"), c("postcode").alias("debtor_postcode"),
        c("city").alias("debtor_city"), c("country").alias("debtor_country"), c("iban").alias("debtor_iban"),
        # the export repeats the identity on every row; some rows lack the birth date, a conflict has two
        pl.when(conflict).then(c("birth") + _days(400))
        .when((c("trouble") != DT("conflict")) & (c("u_birth_gap").fill_null(0.0) < 0.1)).then(None).otherwise(c("birth")).alias("debtor_birth_date"))
    claims = claims.select(list(polars_schema(HandoffClaim)))

    level = pl.Enum([str(v) for v in DunningLevel])
    notices = [
        mains.filter(c("ze_date").is_not_null()).select("receivable_id", pl.lit("zahlungserinnerung").alias("level"),
                                                       c("ze_date").alias("notice_date"), c("due_date").alias("deadline")),
        mains.filter(c("mahnung_date").is_not_null()).select(
            "receivable_id", pl.lit("mahnung").alias("level"), c("mahnung_date").alias("notice_date"),
            (c("mahnung_date") + _days(7)).alias("deadline")),
        mains.filter(c("va_date").is_not_null()).select(
            "receivable_id", pl.lit("vollstreckungsankuendigung").alias("level"), c("va_date").alias("notice_date"),
            (c("va_date") + _days(7)).alias("deadline")),
    ]
    mahnungen = (pl.concat(notices).with_columns(c("level").cast(level))
                 .sort("receivable_id", "level").with_columns(c("level").cast(pl.String))
                 .select(pl.format("N-{}-{}", c("receivable_id"), c("level").str.slice(0, 2)).alias("notice_id"),
                         pl.all()).select(list(polars_schema(MahnungSent))))

    w = mains.filter(c("special").is_in([T("waiver"), T("schonfrist")]))
    reasons = tuple(str(v) for v in MahnungWaiver)
    code = pl.when(c("special") == T("schonfrist")).then(pl.lit(str(MahnungWaiver.WITHOUT_MEANS))).otherwise(
        _pick(reasons, c("n_waiver") % len(reasons)))
    since = pl.when(c("special") == T("schonfrist")).then(c("due_date")).otherwise(c("due_date") + _days(14 + c("n_waiver") % 30))
    by_debtor = (c("u_waiver_debtor") < 0.2) & (c("special") == T("waiver"))
    waivers = w.select(pl.when(by_debtor).then(None).otherwise(c("receivable_id")).alias("receivable_id"),
                       pl.when(by_debtor).then(c("debtor_id")).alias("debtor_id"), code.alias("waiver"),
                       since.alias("since")).with_columns(
        pl.when(c("waiver") == str(MahnungWaiver.PUBLIC_REMINDER)).then(c("since") + _days(14)).alias("deadline")
    ).select(list(polars_schema(MahnungWaived)))

    first = mains.filter(c("k") == 0)
    blocks = pl.concat([
        first.filter(c("dtrouble") == DT("insolvent")).select(
            pl.lit(None, pl.String).alias("receivable_id"), "debtor_id", pl.lit(str(BlockReason.INSOLVENZ)).alias(
                "block_reason"), pl.lit(as_of - _td(200)).alias("block_from"), pl.lit(None, pl.Date).alias("block_until")),
        first.filter(c("dtrouble") == DT("journal_ended")).select(
            pl.lit(None, pl.String).alias("receivable_id"), "debtor_id", pl.lit(str(BlockReason.STUNDUNG)).alias(
                "block_reason"), pl.lit(as_of - _td(60)).alias("block_from"), pl.lit(as_of - _td(8)).alias("block_until")),
    ]).select(list(polars_schema(BlockRow)))
    pend = first.filter(c("dtrouble").is_in([DT("pending_claim"), DT("pending_iban")]))
    by_iban = (c("dtrouble") == DT("pending_iban")) & c("iban").is_not_null()
    pending = pend.with_row_index("t").select(
        pl.format("KL-{}", c("t").cast(pl.String).str.zfill(6)).alias("transaction_id"),
        pl.when(by_iban).then(c("iban")).alias("counterparty_iban"),
        pl.when(by_iban).then(None).otherwise(c("receivable_id")).alias("receivable_id"))

    handed = first.filter((c("dtrouble") == DT("in_case")) & (c("special") != T("main_closed")))
    counters = handed.select("debtor_id").unique(maintain_order=True).with_row_index("n", offset=1)
    numbers = counters.with_columns(case_number(CASE_TAG, as_of.year, counters["n"].cast(pl.Int64)).alias(
        "case_number"))
    in_case = pl.concat([handed.select("receivable_id", "debtor_id", pl.lit(False).alias("ancillary"), "amount_cents"),
                         fees.join(handed.select(c("receivable_id").alias("parent_receivable_id")),
                                   on="parent_receivable_id", how="semi")
                         .select("receivable_id", "debtor_id", pl.lit(True).alias("ancillary"), "amount_cents")])
    open_cases = in_case.join(numbers.select("debtor_id", "case_number"), on="debtor_id").select(
        "case_number", "debtor_id", "receivable_id", pl.lit(as_of - _td(100)).alias("handed_off_on"),
        pl.lit(as_of - _td(100)).alias("opened_on"), pl.when(c("ancillary")).then(True).alias("ancillary"),
        c("amount_cents").alias("handed_cents")).sort("case_number", "receivable_id").select(
        list(polars_schema(CaseClaim)))
    # two cases closed since: the counter goes on after the highest number ever issued
    known = case_number(CASE_TAG, as_of.year, pl.int_range(1, counters.height + 3, eager=True))

    payments = mains.filter(c("paid") > 0).select("receivable_id", "paid_on", c("paid").alias("amount_cents"))
    return EnforcementSet(
        as_of=as_of, claims=claims, mahnungen=mahnungen, waivers=waivers, blocks=blocks,
        pending=pending.select(list(polars_schema(PendingPayment))), open_cases=open_cases, payments=payments,
        booked=booked.select(list(polars_schema(SurchargeBooked))), known_numbers=known)


def handoff_file_frames(cases: Cases, claims: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
    """The ``cases`` and ``claims`` frames :func:`enforcement.handoff_file.write_handoff` takes, from
    :func:`enforcement.cases.build_cases`' answer and the open claims (for a Nebenforderung's main
    Kassenzeichen when the main claim went over earlier).

    For the benchmark, the demo and the outcomes generator; the hand-off job has its own mapping (its
    statement and amounts are the ones booked), which replaces this one where both exist. Amounts: a main
    claim's open principal, its Säumniszuschlag and interest not yet booked as surcharges; an open
    Säumniszuschlag or interest claim as surcharges, a Mahngebühr or Kosten claim as fees. A Leistungsbescheid
    date the export lacks is the due date (the Sollstellung stands for the notice); enforceable since the day
    after the later of the Schonfrist's end and the Mahnung's deadline."""
    c = pl.col
    kz = claims.select(c("receivable_id").alias("main_receivable_id"), c("kassenzeichen").alias("main_kassenzeichen"))
    it = cases.items.join(kz, on="main_receivable_id", how="left", maintain_order="left")
    kind = c("claim_type").str.to_uppercase()
    surcharge = kind.is_in([str(ClaimType.SAEUMNISZUSCHLAG), str(ClaimType.ZINSEN), str(ClaimType.VERSPAETUNGSZUSCHLAG)])
    file_claims = it.select(
        "case_number", "kassenzeichen", "claim_type", pl.coalesce("notice_date", "due_date").alias("notice_date"),
        "due_date",
        pl.when(c("ancillary")).then(0).otherwise(c("open_cents")).alias("principal_cents"),
        pl.when(~c("ancillary")).then(c("saeumniszuschlag_new_cents") + c("interest_new_cents"))
        .when(surcharge).then(c("open_cents")).otherwise(0).alias("surcharges_cents"),
        pl.when(c("ancillary") & ~surcharge).then(c("open_cents")).otherwise(0).alias("fees_cents"),
        "schonfrist_end",
        (pl.max_horizontal("schonfrist_end", "mahnung_deadline") + _days(1)).alias("enforceable_since"),
        c("external_ref").alias("notice_reference"),
        pl.when(c("ancillary")).then(c("main_kassenzeichen")).alias("main_kassenzeichen"),
        pl.when(~c("ancillary")).then(c("mahnung_date")).alias("mahnung_date"),
        pl.when(~c("ancillary")).then(c("mahnung_deadline")).alias("mahnung_deadline"),
        pl.when(c("ancillary")).then(pl.lit("ancillary")).otherwise(
            pl.when(c("mahnung_date").is_null()).then(c("mahnung_waiver"))).alias("mahnung_omitted"))
    file_cases = cases.cases.select("case_number", "debtor_id", "debtor_name", "debtor_street", "debtor_postcode",
                                    "debtor_city", "debtor_birth_date", "debtor_country")
    return file_cases, file_claims


def _td(days: int) -> timedelta:
    return timedelta(days=days)


__all__ = ["AS_OF", "CASE_TAG", "CLAIM_TROUBLE", "DEBTOR_TROUBLE", "MAIN_TYPES", "EnforcementSet", "SelectFrames", "enforcement_set",
           "handoff_file_frames"]
