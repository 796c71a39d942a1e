"""The enforcement office's side: outcomes files for handed cases, and a night's updates (issue 17 §2, §5).

:func:`outcome_frames` makes the frames :func:`enforcement.outcomes_file.write_outcomes` takes, for the
claims of a hand-off file (``read_handoff(...).claims`` or :func:`synth.enforcement_data.handoff_file_frames`):
seeded, one report on a share of the cases, with what an office reports —

* every :class:`~claims.vocab.EnforcementOutcome` (the first seven cases reported get one each, in the
  enum's order, so any file of seven or more outcomes holds them all; then by weight: paid and partly paid
  most, then uncollectible, instalments, written off, moved, returned);
* for the whole case, or (a third of the paid and partly paid ones) for one claim of it, by Kassenzeichen;
* money collected: the case's (or claim's) total when paid, 10–90 % of it when partly paid; a quarter of
  the partly paid cases get a second report (sequence 2) a week later: the rest paid;
* fees of the office as items (:data:`FEE_KINDS`: Pfändung, Vermögensauskunft, Wegegeld, Auslagen …, one to
  three per outcome on most outcomes that involved a measure); the amounts are plausible, not the
  ordinance's (DOMAIN.md §1.2 marks them unconfirmed);
* instalment agreements (3–12 monthly instalments in whole euros, the first due 2–4 weeks on);
* debtors moved: a new address for four in five, none (moved away, unknown) for the rest;
* a note where an office writes one.

:func:`outcome_files` turns them into the files a test or the demo reads, each a trap of its own:
``outcomes.xml`` (all good), ``resent.xml`` (the same outcomes again under a new message id — an import
must book nothing twice), ``changed.xml`` (one outcome under the same id with another code and amount —
a correction the import must notice by its digest), ``bad.xml`` (:data:`BAD_RECORDS`: outcomes that
``read_outcomes`` rejects one by one while reading the rest) and ``cut.xml`` (the good file cut off in
transmission: rejected as a whole).

:func:`update_frames` makes the frames of :func:`enforcement.handoff_file.write_updates` for a night with
payments on a share of the open cases (partial payments and settlements, a few suspensions and
resumptions) — the shape of the recall's answer, for the updates writer's benchmark and tests.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime

import polars as pl

from claims.vocab import BlockReason, EnforcementOutcome, EnforcementUpdateKind
from enforcement.file_format import Party
from enforcement.outcomes_file import (
    FEE_COLUMNS,
    FEE_OPTIONAL,
    OUTCOME_COLUMNS,
    OUTCOME_OPTIONAL,
    OutcomesHeader,
    write_outcomes,
)
from synth import rand
from synth.addresses import STREETS, TOWNS

#: Outcome codes by weight (after the first seven, which take one each).
OUTCOME_WEIGHTS = ((EnforcementOutcome.PAID, 30), (EnforcementOutcome.PARTLY_PAID, 20),
                   (EnforcementOutcome.INSTALMENTS, 12), (EnforcementOutcome.UNCOLLECTIBLE, 15),
                   (EnforcementOutcome.MOVED, 8), (EnforcementOutcome.RETURNED, 7),
                   (EnforcementOutcome.WRITTEN_OFF, 8))
#: The office's fee items: kind (``Code``), basis in words, a range of amounts in cents.
FEE_KINDS = (("pfaendung", "Pfändungsgebühr, §§ 8 ff. VO VwVG NRW", 1500, 6000),
             ("kontopfaendung", "Pfändungsgebühr (Forderungspfändung), §§ 8 ff. VO VwVG NRW", 1500, 3500),
             ("vermoegensauskunft", "Gebühr Vermögensauskunft, §§ 8 ff. VO VwVG NRW", 3000, 6000),
             ("wegegeld", "Wegegeld, §§ 8 ff. VO VwVG NRW", 300, 1500),
             ("auslagen", "Auslagen (Zustellung, Porto), VO VwVG NRW", 350, 2500),
             ("einwohnermeldeauskunft", "Auslagen Melderegisterauskunft", 700, 1200))
#: The bad records of ``bad.xml`` and the reason ``read_outcomes`` gives for each (a part of its text).
BAD_RECORDS = {
    "paid_nothing": "outcome paid with nothing collected",
    "instalments_without_agreement": "outcome instalments without the agreement (Instalments)",
    "unknown_code": "Code",
    "repeated_id": "repeated in this file",
}
#: The office of the demo and the tests.
OFFICE = Party("Vollstreckungsstelle Musterstadt", street="Markt 1", postcode="59555", city="Lippstadt")


@dataclass(frozen=True, slots=True)
class OutcomeFrames:
    """``outcomes`` and ``fees`` in the columns :func:`~enforcement.outcomes_file.write_outcomes` takes."""

    outcomes: pl.DataFrame
    fees: pl.DataFrame


def _pick(values: tuple[object, ...], index: pl.Expr | pl.Series) -> pl.Expr:
    return pl.lit(pl.Series(values)).gather(index)


def outcome_frames(claims: pl.DataFrame, on: date, seed: int = 1, *, share: float = 1.0,
                   first_reference: int = 1) -> OutcomeFrames:
    """The outcomes of the cases of ``claims`` (a hand-off file's claims: ``case_number``, ``kassenzeichen``,
    ``principal_cents``, ``surcharges_cents``, ``fees_cents``) reported up to ``on`` (module docstring).

    ``share`` of the cases is reported (all by default); ``first_reference`` numbers the office's file
    references (``YYYY/NNNNNN``), so two calls can continue one office's numbering."""
    c = pl.col
    per_claim = claims.with_columns(pl.sum_horizontal("principal_cents", "surcharges_cents", "fees_cents")
                                    .alias("claim_total"))
    cases = (per_claim.group_by("case_number").agg(c("claim_total").sum().alias("total"),
                                                   c("kassenzeichen").first().alias("first_kz"),
                                                   c("claim_total").first().alias("first_total"),
                                                   pl.len().alias("n_claims"))
             .sort("case_number"))
    n = cases.height
    codes = tuple(str(o) for o, _ in OUTCOME_WEIGHTS)
    cases = cases.with_columns(
        u_report=rand.uniform(n, seed, 300), code_i=rand.choice(n, [w for _, w in OUTCOME_WEIGHTS], seed, 301),
        u_claim=rand.uniform(n, seed, 302), u_part=rand.uniform(n, seed, 303), u_second=rand.uniform(n, seed, 304),
        n_days=rand.integers(n, 0, 21, seed, 305), n_count=rand.integers(n, 3, 13, seed, 306),
        n_first=rand.integers(n, 14, 29, seed, 307), u_moved=rand.uniform(n, seed, 308),
        n_street=rand.integers(n, 0, 1 << 20, seed, 309), n_town=rand.integers(n, 0, 1 << 20, seed, 310),
        n_fees=rand.integers(n, 0, 4, seed, 311))
    reported = cases.filter(c("u_report") < share).with_row_index("r")
    order = tuple(str(o) for o in EnforcementOutcome)
    code = pl.when(c("r") < len(order)).then(_pick(order, c("r").cast(pl.Int64).clip(upper_bound=len(order) - 1))).otherwise(_pick(codes, c("code_i")))
    reported = reported.with_columns(code.alias("outcome"))
    money = pl.col("outcome").is_in([str(EnforcementOutcome.PAID), str(EnforcementOutcome.PARTLY_PAID)])
    one_claim = money & (c("u_claim") < 1 / 3) & (c("n_claims") > 1)
    base = pl.when(one_claim).then(c("first_total")).otherwise(c("total"))
    part = (base * (10 + (c("u_part") * 81).floor().cast(pl.Int64)) // 100).clip(lower_bound=1)
    collected = (pl.when(c("outcome") == str(EnforcementOutcome.PAID)).then(base)
                 .when(c("outcome") == str(EnforcementOutcome.PARTLY_PAID)).then(part).otherwise(0))
    instal = c("outcome") == str(EnforcementOutcome.INSTALMENTS)
    moved = (c("outcome") == str(EnforcementOutcome.MOVED)) & (c("u_moved") < 0.8)
    note = (pl.when(c("outcome") == str(EnforcementOutcome.UNCOLLECTIBLE)).then(pl.lit("Pfändung fruchtlos"))
            .when(c("outcome") == str(EnforcementOutcome.RETURNED)).then(pl.lit("Rückgabe ohne Ergebnis"))
            .when(c("outcome") == str(EnforcementOutcome.WRITTEN_OFF))
            .then(pl.lit("Niederschlagung (§ 261 AO): Vollstreckung ohne Erfolg"))
            .when((c("outcome") == str(EnforcementOutcome.MOVED)) & ~moved).then(pl.lit("Verzogen, Anschrift unbekannt")))
    first = reported.select(
        pl.format("{}/{}", pl.lit(on.year), (c("r").cast(pl.Int64) + first_reference).cast(pl.String).str.zfill(6))
        .alias("office_reference"),
        "case_number", pl.lit(1, pl.Int64).alias("sequence"), "outcome",
        (pl.lit(on) - pl.duration(days=c("n_days") + 7)).alias("outcome_date"), collected.alias("collected_cents"),
        pl.when(one_claim).then(c("first_kz")).alias("kassenzeichen"),
        pl.when(instal).then(((c("total") // c("n_count") + 99) // 100 * 100).clip(lower_bound=100))
        .alias("instalment_cents"),
        pl.when(instal).then(pl.lit(on) + pl.duration(days=c("n_first"))).alias("instalment_first_due"),
        pl.when(instal).then(c("n_count")).alias("instalment_count"),
        pl.when(moved).then(pl.format("{} {}", _pick(STREETS, c("n_street") % len(STREETS)), c("n_street") % 90 + 1))
        .alias("new_street"),
        pl.when(moved).then(_pick(tuple(t[0] for t in TOWNS), c("n_town") % len(TOWNS))).alias("new_postcode"),
        pl.when(moved).then(_pick(tuple(t[1] for t in TOWNS), c("n_town") % len(TOWNS))).alias("new_city"),
        pl.when(moved).then(pl.lit("DE")).alias("new_country"), note.alias("note"),
        c("n_fees"), base.alias("_base"), c("u_second"))
    # a partly paid case often pays the rest later: a second report on it
    second = first.filter((c("outcome") == str(EnforcementOutcome.PARTLY_PAID)) & (c("u_second") < 0.25)).with_columns(
        pl.lit(2, pl.Int64).alias("sequence"), pl.lit(str(EnforcementOutcome.PAID)).alias("outcome"),
        (c("outcome_date") + pl.duration(days=7)).alias("outcome_date"),
        (c("_base") - c("collected_cents")).alias("collected_cents"), pl.lit(None, pl.String).alias("note"),
        pl.lit(0, pl.Int64).alias("n_fees"))
    outcomes = (pl.concat([first, second.filter(c("collected_cents") > 0)])
                .sort("office_reference", "sequence"))
    fees = _fees(outcomes, seed)
    return OutcomeFrames(outcomes.select([*OUTCOME_COLUMNS, *OUTCOME_OPTIONAL]), fees)


def _fees(outcomes: pl.DataFrame, seed: int) -> pl.DataFrame:
    """One to three fee items on the outcomes after a measure (not on a plain instalment agreement or
    return: those carry none or one)."""
    c = pl.col
    lean = c("outcome").is_in([str(EnforcementOutcome.INSTALMENTS), str(EnforcementOutcome.RETURNED)])
    items = (outcomes.select("office_reference", "case_number", "sequence",
                             pl.when(lean).then(c("n_fees").clip(upper_bound=1)).otherwise(c("n_fees")).alias("n"))
             .filter(c("n") > 0).with_columns(pl.int_ranges(0, c("n")).alias("f")).explode("f").with_row_index("i"))
    m = items.height
    kind_i = rand.integers(m, 0, len(FEE_KINDS), seed, 320)
    u = rand.uniform(m, seed, 321)
    low = pl.lit(pl.Series([k[2] for k in FEE_KINDS])).gather(kind_i)
    high = pl.lit(pl.Series([k[3] for k in FEE_KINDS])).gather(kind_i)
    return items.select(
        "office_reference", "case_number", "sequence",
        _pick(tuple(k[0] for k in FEE_KINDS), kind_i).alias("kind"),
        _pick(tuple(k[1] for k in FEE_KINDS), kind_i).alias("basis"),
        pl.when(c("f") == 1).then(pl.lit("weitere Maßnahme")).alias("description"),
        ((low + (pl.lit(u) * (high - low)).floor().cast(pl.Int64)) // 10 * 10).alias("amount_cents"),
    ).select([*FEE_COLUMNS, *FEE_OPTIONAL])


def outcomes_header(message_id: str, created: datetime, *, office_id: str = "VS-MS", tenant: str = "musterstadt",
                    receiver: str = "Stadtkasse Musterstadt") -> OutcomesHeader:
    """The header of an outcomes file from the demo's office to ``tenant``'s treasury."""
    return OutcomesHeader(message_id=message_id, created=created, office_id=office_id, sender=OFFICE,
                          receiver=Party(receiver, tenant=tenant))


def _changed(frames: OutcomeFrames) -> OutcomeFrames:
    """The first outcome again under its id (reference, case, sequence), with another code and amount: a
    correction (``paid`` becomes ``partly_paid`` with half, anything else becomes ``uncollectible``)."""
    row = frames.outcomes.head(1)
    was = row["outcome"][0]
    new = (row.with_columns(pl.lit(str(EnforcementOutcome.PARTLY_PAID)).alias("outcome"),
                            (pl.col("collected_cents") // 2).clip(lower_bound=1).alias("collected_cents"))
           if was == EnforcementOutcome.PAID else
           row.with_columns(pl.lit(str(EnforcementOutcome.UNCOLLECTIBLE)).alias("outcome"),
                            pl.lit(0, pl.Int64).alias("collected_cents"), pl.lit(None, pl.Int64).alias("instalment_cents"),
                            pl.lit(None, pl.Date).alias("instalment_first_due"),
                            pl.lit(None, pl.Int64).alias("instalment_count"),
                            pl.lit("Korrektur: Pfändung fruchtlos").alias("note")))
    keys = ("office_reference", "case_number", "sequence")
    return OutcomeFrames(new, frames.fees.join(row.select(keys), on=list(keys), how="semi"))


def _bad(frames: OutcomeFrames) -> bytes:
    """A file whose first outcomes are :data:`BAD_RECORDS` (one each, in that order) and the rest good."""
    c, o = pl.col, frames.outcomes
    if o.height < 5:
        raise ValueError("bad.xml needs at least five outcomes")
    head = o.head(4).with_columns(pl.Series("_bad", list(BAD_RECORDS)))
    head = head.with_columns(
        pl.when(c("_bad") == "paid_nothing").then(pl.lit(str(EnforcementOutcome.PAID)))
        .when(c("_bad") == "instalments_without_agreement").then(pl.lit(str(EnforcementOutcome.INSTALMENTS)))
        .when(c("_bad") == "unknown_code").then(pl.lit(str(EnforcementOutcome.RETURNED)))
        .otherwise(c("outcome")).alias("outcome"),
        pl.when(c("_bad").is_in(["paid_nothing", "instalments_without_agreement", "unknown_code"]))
        .then(0).otherwise(c("collected_cents")).alias("collected_cents"),
        *[pl.when(c("_bad") == "instalments_without_agreement").then(None).otherwise(c(k)).alias(k)
          for k in ("instalment_cents", "instalment_first_due", "instalment_count")])
    # the repeated id: the fifth outcome under the id of the fourth (a second, different report)
    twin = o.slice(4, 1).with_columns(*[pl.lit(head[k][3], o.schema[k]).alias(k) for k in ("office_reference", "case_number",
                                                                               "sequence")])
    rows = pl.concat([head.drop("_bad"), twin, o.slice(5)])
    keys = ["office_reference", "case_number", "sequence"]
    fees = frames.fees.join(rows.select(keys).unique(), on=keys, how="semi")
    data = write_outcomes(outcomes_header("E-BAD", datetime(2026, 12, 21, 8, 0)), rows, fees, file="bad.xml")
    # the unknown code cannot be written (the writer checks the vocabulary and the schema): put it in the bytes
    marker = "<Code>returned</Code>"
    at = data.index(marker.encode())
    return data[:at] + b"<Code>gepfaendet</Code>" + data[at + len(marker):]


def outcome_files(frames: OutcomeFrames, created: datetime, *, office_id: str = "VS-MS",
                  tenant: str = "musterstadt", cut_at: float = 0.6) -> dict[str, bytes]:
    """The office's files for ``frames`` (module docstring): ``outcomes.xml``, ``resent.xml``,
    ``changed.xml``, ``bad.xml``, ``cut.xml`` (``outcomes.xml`` cut after ``cut_at`` of its bytes)."""
    header = outcomes_header("E-0001", created, office_id=office_id, tenant=tenant)
    good = write_outcomes(header, frames.outcomes, frames.fees, file="outcomes.xml")
    changed = _changed(frames)
    files = {
        "outcomes.xml": good,
        "resent.xml": write_outcomes(replace(header, message_id="E-0002"), frames.outcomes, frames.fees,
                                     file="resent.xml"),
        "changed.xml": write_outcomes(replace(header, message_id="E-0003"), changed.outcomes, changed.fees,
                                      file="changed.xml"),
        "cut.xml": good[: int(len(good) * cut_at)],
    }
    if frames.outcomes.height >= 5:
        files["bad.xml"] = _bad(frames)
    return files


#: Columns of the updates frames (:func:`enforcement.handoff_file.write_updates`).
UPDATE_FRAME = {"update_id": pl.String(), "case_number": pl.String(), "kind": pl.String(),
                "effective_date": pl.Date(), "suspension_reason": pl.String(), "suspended_until": pl.Date(),
                "note": pl.String()}


def update_frames(claims: pl.DataFrame, night: date, seed: int = 1, *, paid_share: float = 0.05,
                  suspended_share: float = 0.005) -> tuple[pl.DataFrame, pl.DataFrame]:
    """``updates`` and ``update_claims`` of one night over the open cases of ``claims`` (a hand-off file's
    claims): a payment on ``paid_share`` of the cases (one in three settles the case, the others pay part of
    one claim), a suspension (Stundung, AdV, insolvency, instalments) on ``suspended_share``, and a
    resumption on a tenth as many. Update ids ``UPD-YYYYMMDD-NNNNNN`` (unique per night)."""
    c = pl.col
    per_claim = claims.select("case_number", "kassenzeichen", "principal_cents", "surcharges_cents", "fees_cents")
    case_list = per_claim.select("case_number").unique().sort("case_number")
    n = case_list.height
    cases = case_list.with_columns(u=rand.uniform(n, seed, 400), u_settle=rand.uniform(n, seed, 401),
                                   n_reason=rand.integers(n, 0, 4, seed, 402), n_days=rand.integers(n, 30, 180, seed, 403))
    paying = cases.filter(c("u") < paid_share)
    settle = c("u_settle") < 1 / 3
    suspend = cases.filter((c("u") >= paid_share) & (c("u") < paid_share + suspended_share))
    resume = cases.filter((c("u") >= paid_share + suspended_share)
                          & (c("u") < paid_share + suspended_share * 1.1))
    reasons = (str(BlockReason.STUNDUNG), str(BlockReason.ADV), str(BlockReason.INSOLVENZ),
               str(BlockReason.RATENZAHLUNG))
    updates = pl.concat([
        paying.select("case_number", pl.when(settle).then(pl.lit(str(EnforcementUpdateKind.SETTLED)))
                      .otherwise(pl.lit(str(EnforcementUpdateKind.PARTIAL_PAYMENT))).alias("kind")),
        suspend.select("case_number", pl.lit(str(EnforcementUpdateKind.SUSPENDED)).alias("kind"),
                       _pick(reasons, c("n_reason")).alias("suspension_reason"),
                       pl.when(c("n_reason") != 2).then(pl.lit(night) + pl.duration(days=c("n_days")))
                       .alias("suspended_until")),
        resume.select("case_number", pl.lit(str(EnforcementUpdateKind.RESUMED)).alias("kind")),
    ], how="diagonal").sort("case_number").with_row_index("i").with_columns(
        pl.format("UPD-{}-{}", pl.lit(f"{night:%Y%m%d}"), (c("i") + 1).cast(pl.String).str.zfill(6)).alias("update_id"),
        pl.lit(night).alias("effective_date"),
        pl.when(c("kind") == str(EnforcementUpdateKind.SETTLED)).then(pl.lit("Zahlung eingegangen: alle Maßnahmen einstellen"))
        .alias("note"))
    updates = updates.select([(c(k) if k in updates.columns else pl.lit(None, t)).cast(t).alias(k)
                              for k, t in UPDATE_FRAME.items()])
    settled = updates.filter(c("kind") == str(EnforcementUpdateKind.SETTLED)).select("update_id", "case_number")
    partial = updates.filter(c("kind") == str(EnforcementUpdateKind.PARTIAL_PAYMENT)).select("update_id",
                                                                                              "case_number")
    all_paid = settled.join(per_claim, on="case_number").select(
        "update_id", "kassenzeichen",
        pl.sum_horizontal("principal_cents", "surcharges_cents", "fees_cents").alias("paid_cents"),
        *[pl.lit(0, pl.Int64).alias(k) for k in ("open_principal_cents", "open_surcharges_cents", "open_fees_cents")])
    # a partial payment: half of the first claim's principal (the surcharges and fees stay open)
    first = per_claim.group_by("case_number", maintain_order=True).first()
    part = partial.join(first, on="case_number").select(
        "update_id", "kassenzeichen", (c("principal_cents") // 2).alias("paid_cents"),
        (c("principal_cents") - c("principal_cents") // 2).alias("open_principal_cents"),
        c("surcharges_cents").alias("open_surcharges_cents"), c("fees_cents").alias("open_fees_cents"))
    # a first claim without principal (a Nebenforderung whose main claim went earlier) pays nothing: no update
    empty = part.filter(c("paid_cents") <= 0).select("update_id")
    update_claims = pl.concat([all_paid, part.filter(c("paid_cents") > 0)]).sort("update_id", "kassenzeichen")
    return updates.join(empty, on="update_id", how="anti"), update_claims


__all__ = ["BAD_RECORDS", "FEE_KINDS", "OFFICE", "OUTCOME_WEIGHTS", "UPDATE_FRAME", "OutcomeFrames", "outcome_files",
           "outcome_frames", "outcomes_header", "update_frames"]
