"""Key figures of the dunning run against the gpaNRW comparison values (issue 15 §4, DOMAIN.md §6.2–6.3).

The gpaNRW (Gemeindeprüfungsanstalt) compares a municipality's figures with those of its comparison group
(minimum, quartiles, median, maximum) and says where the city lies ("liegt am Median", "unter dem ersten
Quartil"). Only two dunning figures have published comparison values (:data:`GPA_COMPARISON`); the
reports recommend the others (Mahnquote, Altersstruktur, Forderungsgrund) without values, so those are
shown without a placement. The official formulas are UNCONFIRMED (DOMAIN.md §6.2): these are the
working definitions.

Inputs (missing optional columns are null): ``notices`` (``notice_id``, ``debtor_id``, ``level``,
``notice_date``, ``total_cents``: one row per letter), ``items`` (``notice_id``, ``receivable_id``,
``open_cents``: the claims on each letter), ``claims`` (``receivable_id``, ``claim_type``,
``amount_cents``, ``due_date``: every claim of the period, paid or not), ``allocations``
(``receivable_id``, ``amount_cents``, ``booking_date``: payments booked on the claims), ``handoffs``
(``receivable_id``, ``handed_off_on``: claims handed to enforcement; may be empty).

A **Mahnung** is a notice at level ``mahnung`` or ``vollstreckungsankuendigung`` (in law another Mahnung);
a Zahlungserinnerung (before the due date) and a public reminder are not. The period is ``since`` ..
``as_of`` (both included; default the 365 days up to ``as_of``).

* **Mahnungen je 10.000 Einwohner** = Mahnungen (letters) sent in the period ÷ ``[tenant] inhabitants``
  × 10,000; null without inhabitants. The gpaNRW value is a year's: the placement uses the figure scaled
  to 365 days (``compared_value``).
* **Mahnquote** (count; sum) = main claims due in the period that received a Mahnung by ``as_of`` ÷
  main claims due in the period × 100; the sum uses ``amount_cents`` (the claim as set). Ancillary
  claims (Mahngebühr, Säumniszuschlag, Kosten, Zinsen …) are left out of both: they are not dunned alone.
* **Erfolgsquote Mahnungen**: a dunned claim (its first Mahnung in the period) is *settled without
  enforcement* after *w* weeks when the payments booked on it from the notice date on reach what the
  notice showed open (``open_cents``) within 7·*w* days after the notice date, and it was not handed to
  enforcement on or before the day they did. Per notice-week cohort (the Monday of the notice date) and
  ``weeks`` (2, 4, 8) by count and by amount (the ``open_cents`` of the settled claims ÷ those of all the
  cohort's dunned claims); a cohort whose last notice is less than 7·*w* days before ``as_of`` has no
  rate yet (``observable`` false). The figure compared with the gpaNRW value is the one after the last
  of ``weeks`` (8) over every claim dunned long enough ago.
* **Altersstruktur**: days overdue at the first Mahnung (notice date − due date), in the bands of
  :data:`AGE_BANDS`; **Forderungsarten**: the dunned claims by ``claim_type``; count, open amount, share.

Quartile placement (:func:`placement`): a value up to and including Q1 lies in the 1st quartile, above Q1
up to and including the median in the 2nd, above the median up to and including Q3 in the 3rd, above Q3
in the 4th; a value equal to the median "liegt am Median"; below the minimum / above the maximum is said
too where the report gives them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import polars as pl

from claims.vocab import ClaimType, DunningLevel
from dunning import ENGINE
from dunning.frames import conform

#: Levels that are a Mahnung (the Vollstreckungsankündigung is another Mahnung in law, DOMAIN.md §1.5).
MAHNUNG_LEVELS = (str(DunningLevel.MAHNUNG), str(DunningLevel.VOLLSTRECKUNGSANKUENDIGUNG))
#: Weeks after the notice at which the Erfolgsquote is measured.
SUCCESS_WEEKS = (2, 4, 8)
#: Days overdue at the first Mahnung: (label, lowest day), in order.
AGE_BANDS = (("bis 30", 0), ("31–90", 31), ("91–180", 91), ("181–365", 181), ("über 365", 366))


@dataclass(frozen=True, slots=True)
class Benchmark:
    """One published comparison value set: the comparison group's distribution of a key figure."""

    figure: str
    label: str
    year: int
    source: str
    n: int
    q1: float
    median: float
    q3: float
    minimum: float | None = None
    maximum: float | None = None
    mean: float | None = None


#: The gpaNRW comparison values for the dunning figures (DOMAIN.md §6.3; values of the year 2016).
#: Source: gpaNRW, überörtliche Prüfung Zahlungsabwicklung — Stadt Warendorf (Bericht vom 7. März 2018)
#: and Stadt Oelde (Prüfung 2016/17). Newer audit rounds publish new values: replace a row, keep its date.
GPA_COMPARISON: tuple[Benchmark, ...] = (
    Benchmark("mahnungen_je_10000_einwohner", "Mahnungen je 10.000 Einwohner", 2016,
              "gpaNRW, Prüfbericht Stadt Warendorf vom 07.03.2018", n=75, minimum=733, q1=1259, median=1649,
              q3=1916, maximum=2542, mean=1596),
    Benchmark("erfolgsquote_anzahl", "Erfolgsquote Mahnungen (%)", 2016,
              "gpaNRW, Prüfbericht Stadt Oelde 2016/17", n=80, q1=44.4, median=55.4, q3=63.8),
)

FIGURE_SCHEMA: dict[str, pl.DataType] = {
    "figure": pl.String(),
    "label": pl.String(),
    "unit": pl.String(),
    "value": pl.Float64(),               # the tenant's figure for the period (null: cannot be computed)
    "numerator": pl.Int64(),
    "denominator": pl.Int64(),
    "period_from": pl.Date(),
    "period_to": pl.Date(),
    "compared_value": pl.Float64(),      # what is placed against the comparison values (a year's figure)
    "bench_source": pl.String(),
    "bench_year": pl.Int64(),
    "bench_n": pl.Int64(),
    "bench_min": pl.Float64(),
    "bench_q1": pl.Float64(),
    "bench_median": pl.Float64(),
    "bench_q3": pl.Float64(),
    "bench_max": pl.Float64(),
    "bench_mean": pl.Float64(),
    "quartile": pl.Int64(),              # 1..4 (null: no value or no comparison value)
    "position": pl.String(),             # the placement in words
}
COHORT_SCHEMA: dict[str, pl.DataType] = {
    "cohort_week": pl.Date(),            # Monday of the notice week
    "weeks": pl.Int64(),
    "observable": pl.Boolean(),          # every claim of the cohort was dunned at least 7·weeks days ago
    "n_dunned": pl.Int64(),
    "dunned_cents": pl.Int64(),
    "n_settled": pl.Int64(),
    "settled_cents": pl.Int64(),
    "count_rate_pct": pl.Float64(),
    "amount_rate_pct": pl.Float64(),
}
AGE_SCHEMA: dict[str, pl.DataType] = {"age_band": pl.String(), "band_order": pl.Int64(), "n_claims": pl.Int64(),
                                      "open_cents": pl.Int64(), "share_pct": pl.Float64()}
TYPE_SCHEMA: dict[str, pl.DataType] = {"claim_type": pl.String(), "n_claims": pl.Int64(), "open_cents": pl.Int64(),
                                       "share_pct": pl.Float64(), "amount_share_pct": pl.Float64()}

NOTICE_COLUMNS: dict[str, pl.DataType] = {"notice_id": pl.String(), "debtor_id": pl.String(), "level": pl.String(),
                                          "notice_date": pl.Date(), "total_cents": pl.Int64()}
ITEM_COLUMNS: dict[str, pl.DataType] = {"notice_id": pl.String(), "receivable_id": pl.String(),
                                        "open_cents": pl.Int64()}
CLAIM_COLUMNS: dict[str, pl.DataType] = {"receivable_id": pl.String(), "claim_type": pl.String(),
                                         "amount_cents": pl.Int64(), "due_date": pl.Date()}
ALLOCATION_COLUMNS: dict[str, pl.DataType] = {"receivable_id": pl.String(), "amount_cents": pl.Int64(),
                                              "booking_date": pl.Date()}
HANDOFF_COLUMNS: dict[str, pl.DataType] = {"receivable_id": pl.String(), "handed_off_on": pl.Date()}

_QUARTER_TEXT = {1: "bis zum 1. Quartil", 2: "zwischen 1. Quartil und Median", 3: "zwischen Median und 3. Quartil",
                 4: "über dem 3. Quartil"}


def placement(value: float | None, bench: Benchmark | None) -> tuple[int | None, str]:
    """(quartile 1..4, words) of ``value`` in ``bench`` (boundaries belong to the lower quartile).

    >>> b = Benchmark("x", "x", 2016, "s", n=5, minimum=1, q1=2, median=3, q3=4, maximum=5)
    >>> placement(2, b), placement(3, b), placement(4.5, b), placement(0.5, b)
    ((1, 'bis zum 1. Quartil'), (2, 'am Median'), (4, 'über dem 3. Quartil'), (1, 'bis zum 1. Quartil, unter dem Minimum'))
    """
    if bench is None:
        return None, "kein Vergleichswert veröffentlicht"
    if value is None:
        return None, "kein Wert"
    quartile = 1 if value <= bench.q1 else 2 if value <= bench.median else 3 if value <= bench.q3 else 4
    words = "am Median" if value == bench.median else _QUARTER_TEXT[quartile]
    if bench.minimum is not None and value < bench.minimum:
        words += ", unter dem Minimum"
    if bench.maximum is not None and value > bench.maximum:
        words += ", über dem Maximum"
    return quartile, words


def _pct(num: int, den: int) -> float | None:
    return None if den == 0 else num * 100.0 / den


def dunned_claims(notices: pl.DataFrame, items: pl.DataFrame, since: date, as_of: date) -> pl.DataFrame:
    """One row per claim with a Mahnung in the period: its first Mahnung's ``notice_date`` and ``open_cents``."""
    mahn = notices.filter(pl.col("level").is_in(MAHNUNG_LEVELS) & pl.col("notice_date").is_between(since, as_of))
    return (items.join(mahn.select("notice_id", "notice_date"), on="notice_id", how="inner")
            .sort("notice_date", "notice_id")
            .group_by("receivable_id", maintain_order=True).first()
            .select("receivable_id", "notice_date", pl.col("open_cents").fill_null(0)))


def _settled_on(dunned: pl.DataFrame, allocations: pl.DataFrame) -> pl.DataFrame:
    """(receivable_id, settled_on): the first day the payments booked from the notice date on reached the
    open amount of the notice (null: not yet)."""
    paid = (allocations.join(dunned, on="receivable_id", how="inner")
            .filter(pl.col("booking_date") >= pl.col("notice_date"))
            .group_by("receivable_id", "booking_date").agg(pl.col("amount_cents").sum(), pl.col("open_cents").first())
            .sort("receivable_id", "booking_date")
            .with_columns(pl.col("amount_cents").cum_sum().over("receivable_id").alias("cum")))
    return (paid.filter(pl.col("cum") >= pl.col("open_cents"))
            .group_by("receivable_id").agg(pl.col("booking_date").min().alias("settled_on")))


def _cohorts(dunned: pl.DataFrame, allocations: pl.DataFrame, handoffs: pl.DataFrame, as_of: date,
             weeks: tuple[int, ...]) -> pl.DataFrame:
    handed = handoffs.group_by("receivable_id").agg(pl.col("handed_off_on").min())
    claims = (dunned.join(_settled_on(dunned, allocations), on="receivable_id", how="left")
              .join(handed, on="receivable_id", how="left")
              .with_columns(pl.col("notice_date").dt.truncate("1w").alias("cohort_week")))
    horizons = pl.DataFrame({"weeks": list(weeks)}, schema={"weeks": pl.Int64()})
    end = pl.col("notice_date") + pl.duration(days=pl.col("weeks") * 7)
    success = (pl.col("settled_on").is_not_null() & (pl.col("settled_on") <= end)
               & (pl.col("handed_off_on").is_null() | (pl.col("handed_off_on") > pl.col("settled_on"))))
    got = (claims.join(horizons, how="cross").with_columns(success.alias("ok"), (end <= as_of).alias("seen"))
           .group_by("cohort_week", "weeks").agg(
               pl.col("seen").all().alias("observable"), pl.len().cast(pl.Int64()).alias("n_dunned"),
               pl.col("open_cents").sum().alias("dunned_cents"), pl.col("ok").sum().cast(pl.Int64()).alias("n_settled"),
               pl.col("open_cents").filter(pl.col("ok")).sum().alias("settled_cents")))
    rate = {"count_rate_pct": ("n_settled", "n_dunned"), "amount_rate_pct": ("settled_cents", "dunned_cents")}
    return got.with_columns(
        [pl.when(pl.col("observable") & (pl.col(d) > 0)).then(pl.col(n) * 100.0 / pl.col(d)).alias(name)
         for name, (n, d) in rate.items()]
    ).sort("cohort_week", "weeks").select([pl.col(c).cast(t) for c, t in COHORT_SCHEMA.items()])


def _success(dunned: pl.DataFrame, allocations: pl.DataFrame, handoffs: pl.DataFrame, as_of: date,
             weeks: int) -> tuple[int, int, int, int]:
    """(n settled, n observed, settled cents, observed cents) after ``weeks`` over every claim dunned long
    enough ago."""
    seen = dunned.filter(pl.col("notice_date") + timedelta(days=7 * weeks) <= as_of)
    c = _cohorts(seen, allocations, handoffs, as_of, (weeks,))
    return (int(c["n_settled"].sum()), int(c["n_dunned"].sum()), int(c["settled_cents"].sum()),
            int(c["dunned_cents"].sum()))


def _age(dunned: pl.DataFrame, claims: pl.DataFrame) -> pl.DataFrame:
    days = (pl.col("notice_date") - pl.col("due_date")).dt.total_days()
    band = pl.lit(0, pl.Int64())
    for i, (_, low) in enumerate(AGE_BANDS[1:], start=1):
        band = pl.when(days >= low).then(pl.lit(i, pl.Int64())).otherwise(band)
    got = (dunned.join(claims.select("receivable_id", "due_date"), on="receivable_id", how="left")
           .with_columns(band.alias("band_order"))
           .group_by("band_order").agg(pl.len().cast(pl.Int64()).alias("n_claims"), pl.col("open_cents").sum()))
    bands = pl.DataFrame({"age_band": [b for b, _ in AGE_BANDS], "band_order": list(range(len(AGE_BANDS)))},
                         schema={"age_band": pl.String(), "band_order": pl.Int64()})
    total = max(dunned.height, 1)
    return (bands.join(got, on="band_order", how="left")
            .with_columns(pl.col("n_claims").fill_null(0), pl.col("open_cents").fill_null(0))
            .with_columns((pl.col("n_claims") * 100.0 / total).alias("share_pct"))
            .select([pl.col(c).cast(t) for c, t in AGE_SCHEMA.items()]))


def _types(dunned: pl.DataFrame, claims: pl.DataFrame) -> pl.DataFrame:
    total, cents = max(dunned.height, 1), max(int(dunned["open_cents"].sum()), 1)
    return (dunned.join(claims.select("receivable_id", "claim_type"), on="receivable_id", how="left")
            .with_columns(pl.col("claim_type").fill_null("(unbekannt)"))
            .group_by("claim_type").agg(pl.len().cast(pl.Int64()).alias("n_claims"), pl.col("open_cents").sum())
            .with_columns((pl.col("n_claims") * 100.0 / total).alias("share_pct"),
                          (pl.col("open_cents") * 100.0 / cents).alias("amount_share_pct"))
            .sort(["n_claims", "claim_type"], descending=[True, False])
            .select([pl.col(c).cast(t) for c, t in TYPE_SCHEMA.items()]))


def _row(figure: str, label: str, unit: str, num: int | None, den: int | None, value: float | None,
         since: date, as_of: date, compared: float | None = None) -> dict[str, object]:
    bench = next((b for b in GPA_COMPARISON if b.figure == figure), None)
    compared = value if compared is None else compared
    quartile, words = placement(compared, bench)
    b = {} if bench is None else {
        "bench_source": bench.source, "bench_year": bench.year, "bench_n": bench.n, "bench_min": bench.minimum,
        "bench_q1": bench.q1, "bench_median": bench.median, "bench_q3": bench.q3, "bench_max": bench.maximum,
        "bench_mean": bench.mean}
    return {"figure": figure, "label": label, "unit": unit, "value": value, "numerator": num, "denominator": den,
            "period_from": since, "period_to": as_of, "compared_value": compared, "quartile": quartile,
            "position": words} | b


def dunning_key_figures(notices: pl.DataFrame | pl.LazyFrame | None, items: pl.DataFrame | pl.LazyFrame | None,
                        claims: pl.DataFrame | pl.LazyFrame | None,
                        allocations: pl.DataFrame | pl.LazyFrame | None = None,
                        handoffs: pl.DataFrame | pl.LazyFrame | None = None, *, as_of: date,
                        since: date | None = None, inhabitants: int | None = None,
                        weeks: tuple[int, ...] = SUCCESS_WEEKS) -> dict[str, pl.DataFrame]:
    """The dunning key figures of the period ``since`` .. ``as_of`` (module docstring).

    Returns ``figures`` (:data:`FIGURE_SCHEMA`, one row per figure with its placement), ``cohorts``
    (:data:`COHORT_SCHEMA`), ``age_structure`` (:data:`AGE_SCHEMA`), ``claim_types`` (:data:`TYPE_SCHEMA`)."""
    since = since or as_of - timedelta(days=364)
    nt, it = conform(notices, NOTICE_COLUMNS).collect(engine=ENGINE), conform(items, ITEM_COLUMNS).collect(engine=ENGINE)
    cl, al = conform(claims, CLAIM_COLUMNS).collect(engine=ENGINE), conform(allocations, ALLOCATION_COLUMNS).collect(engine=ENGINE)
    ho = conform(handoffs, HANDOFF_COLUMNS).collect(engine=ENGINE)
    dunned = dunned_claims(nt, it, since, as_of)

    n_letters = nt.filter(pl.col("level").is_in(MAHNUNG_LEVELS) & pl.col("notice_date").is_between(since, as_of)).height
    days = (as_of - since).days + 1
    per_inh = None if not inhabitants else n_letters * 10_000 / inhabitants
    per_year = None if per_inh is None else per_inh * 365 / days

    ancillary = [str(t) for t in ClaimType.ancillary()]
    due = cl.filter(pl.col("due_date").is_between(since, as_of) & ~pl.col("claim_type").str.to_uppercase().is_in(ancillary))
    due = due.with_columns(pl.col("receivable_id").is_in(dunned["receivable_id"].implode()).alias("dunned"))
    n_due, n_dun = due.height, int(due["dunned"].sum())
    c_due = int(due["amount_cents"].sum())
    c_dun = int(due.filter(pl.col("dunned"))["amount_cents"].sum())

    last = weeks[-1]
    ok_n, seen_n, ok_c, seen_c = _success(dunned, al, ho, as_of, last)
    rows = [
        _row("mahnungen_je_10000_einwohner", "Mahnungen je 10.000 Einwohner", "je 10.000 Einwohner", n_letters,
             inhabitants, per_inh, since, as_of, per_year),
        _row("mahnquote_anzahl", "Mahnquote (Anzahl)", "%", n_dun, n_due, _pct(n_dun, n_due), since, as_of),
        _row("mahnquote_summe", "Mahnquote (Summe)", "%", c_dun, c_due, _pct(c_dun, c_due), since, as_of),
        _row("erfolgsquote_anzahl", f"Erfolgsquote Mahnungen (Anzahl, nach {last} Wochen)", "%", ok_n, seen_n,
             _pct(ok_n, seen_n), since, as_of),
        _row("erfolgsquote_summe", f"Erfolgsquote Mahnungen (Betrag, nach {last} Wochen)", "%", ok_c, seen_c,
             _pct(ok_c, seen_c), since, as_of),
    ]
    return {
        "figures": pl.DataFrame(rows, schema=FIGURE_SCHEMA),
        "cohorts": _cohorts(dunned, al, ho, as_of, weeks),
        "age_structure": _age(dunned, cl),
        "claim_types": _types(dunned, cl),
    }


def comparison_table() -> pl.DataFrame:
    """:data:`GPA_COMPARISON` as a frame (for the report's source note)."""
    return pl.DataFrame([{"figure": b.figure, "label": b.label, "year": b.year, "source": b.source, "n": b.n,
                          "min": b.minimum, "q1": b.q1, "median": b.median, "q3": b.q3, "max": b.maximum,
                          "mean": b.mean} for b in GPA_COMPARISON])


__all__ = ["AGE_BANDS", "GPA_COMPARISON", "MAHNUNG_LEVELS", "SUCCESS_WEEKS", "Benchmark", "comparison_table",
           "dunned_claims", "dunning_key_figures", "placement"]
