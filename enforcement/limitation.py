"""Payment limitation (Zahlungsverjährung) per claim and the warning list (issue 17 §2, DOMAIN.md §1.10, §9.1 r. 18).

DOMAIN.md §1.10, followed as written: *"The payment limitation period (Zahlungsverjährung) is 5 years
under §§ 228–232 AO, applied to KAG claims through § 12 KAG. It starts at the end of the year in which the
claim first fell due. Written demands for payment, Stundung, AdV and enforcement measures interrupt it, and
the period then starts again [GK; …]. Private-law claims follow §§ 195, 199 BGB: 3 years from the end of
the year [GK]. … under the AO, a time-barred claim is extinguished (§ 47 AO) [GK]."*

So, per claim:

* **Start**: the end of the calendar year of the claim's **first** due date — the ``due_date`` as set, not
  moved to a business day (a due date on Saturday 31 Dec would otherwise gain a whole year; the earlier
  end is the safe one for a warning list). The period ends on **31 December** of that year +
  ``limitation_years`` (5; ``limitation_years_private``, 3, for ``law = private``).
* **Interruptions** (:class:`~claims.vocab.Interruption`: every Mahnung — a written demand for payment —,
  Stundung, AdV, enforcement measures): the period **starts again**, read as the period is defined, i.e.
  from the end of the year in which the interruption ended (§ 231 Abs. 3 AO [GK]); a measure that lasts
  (Stundung, AdV) ends on its ``until`` day, and one without an end that has begun counts as lasting to
  ``as_of``. Only an interruption that happens **before** the period has run out counts: after that the
  claim is extinguished and nothing revives it (every later event is void too). Several interruptions
  chain; the latest counting one decides.
* **Private-law claims**: DOMAIN.md names no interruption for them (§ 212 BGB knows only acknowledgement
  and enforcement acts, not a Mahnung), so none is applied — the earlier end, again the safe side for
  the warning list; a clerk who has an acknowledgement sees it on the list and decides.
* **State** on ``as_of`` (:class:`~claims.vocab.LimitationState`): ``expired`` after the end day; ``warning``
  when at most ``limitation_warning_days`` (180) days are left (the end day itself: 0 days left);
  else ``running``.

Vectorised: the interruptions are sorted per claim, the running end year is a cumulative maximum, and the
first event that comes too late is found with a shifted cumulative maximum — no loop over claims.
"""

from __future__ import annotations

from datetime import date

import polars as pl

from claims.config import EnforcementSection
from claims.vocab import BlockReason, Interruption, Law, LimitationState
from dunning import ENGINE
from dunning.frames import conform
from enforcement.frames import BlockRow, InterruptionRow, MahnungSent, polars_schema, take
from enforcement.select import MAHNUNG_LEVELS

#: The claims read: ``receivable_id``, ``due_date`` (the first due date), optional ``debtor_id``, ``law``.
CLAIM_SCHEMA: dict[str, pl.DataType] = {"receivable_id": pl.String(), "debtor_id": pl.String(),
                                        "claim_type": pl.String(), "law": pl.String(), "due_date": pl.Date()}
#: One row per claim.
LIMITATION_COLUMNS = ("receivable_id", "debtor_id", "claim_type", "law", "due_date", "limitation_years",
                      "period_start", "n_interruptions", "last_interruption", "last_interruption_kind",
                      "n_void", "expires_on", "days_left", "state")


def interruptions_from(mahnungen: pl.DataFrame | pl.LazyFrame | None = None,
                       blocks: pl.DataFrame | pl.LazyFrame | None = None,
                       claims: pl.DataFrame | pl.LazyFrame | None = None) -> pl.DataFrame:
    """The interruptions the ledger already knows, as :class:`~enforcement.frames.InterruptionRow`: every
    Mahnung-level notice (``mahnungen``, :class:`~enforcement.frames.MahnungSent`) and every Stundung or
    AdV block (``blocks``, :class:`~enforcement.frames.BlockRow`; a debtor's block counts for each of the
    debtor's ``claims``). Enforcement measures come from the enforcement office (its outcomes)."""
    sent = take(mahnungen, MahnungSent).filter(pl.col("level").is_in(MAHNUNG_LEVELS)).select(
        "receivable_id", pl.lit(str(Interruption.MAHNUNG)).alias("kind"), pl.col("notice_date").alias("event_date"),
        pl.lit(None, pl.Date).alias("until"))
    kinds = {str(BlockReason.STUNDUNG): str(Interruption.STUNDUNG), str(BlockReason.ADV): str(Interruption.ADV)}
    blk = take(blocks, BlockRow).with_columns(pl.col("block_reason").str.strip_chars().str.to_uppercase()).filter(
        pl.col("block_reason").is_in(list(kinds)) & pl.col("block_from").is_not_null())
    owners = conform(claims, {"receivable_id": pl.String(), "debtor_id": pl.String()}).collect(engine=ENGINE)
    by_debtor = owners.join(blk.filter(pl.col("receivable_id").is_null()).drop("receivable_id"), on="debtor_id",
                            how="inner")
    rows = pl.concat([blk.filter(pl.col("receivable_id").is_not_null()).select(by_debtor.columns), by_debtor])
    held = rows.select("receivable_id", pl.col("block_reason").replace_strict(kinds).alias("kind"),
                       pl.col("block_from").alias("event_date"), pl.col("block_until").alias("until"))
    schema = polars_schema(InterruptionRow)
    return pl.concat([sent.cast(schema), held.cast(schema)])  # type: ignore[arg-type]


def limitation(claims: pl.DataFrame | pl.LazyFrame, as_of: date, settings: EnforcementSection | None = None,
               interruptions: pl.DataFrame | pl.LazyFrame | None = None) -> pl.DataFrame:
    """Each claim's limitation end and state on ``as_of`` (:data:`LIMITATION_COLUMNS`; module docstring).

    ``claims``: :data:`CLAIM_SCHEMA`; ``interruptions``: :class:`~enforcement.frames.InterruptionRow`
    (e.g. :func:`interruptions_from` plus the enforcement office's measures)."""
    s = settings or EnforcementSection()
    cl = conform(claims, CLAIM_SCHEMA).collect(engine=ENGINE).with_row_index("_row").with_columns(
        pl.when((pl.col("law") == Law.PRIVATE).fill_null(False)).then(pl.lit(s.limitation_years_private))
        .otherwise(pl.lit(s.limitation_years)).cast(pl.Int32).alias("limitation_years"),
        pl.col("due_date").dt.year().cast(pl.Int32).alias("_y0"))
    cl = cl.with_columns((pl.col("_y0") + pl.col("limitation_years")).alias("_end0"))

    ev = (take(interruptions, InterruptionRow).filter(pl.col("event_date") <= as_of)
          .join(cl.filter((pl.col("law") != Law.PRIVATE) | pl.col("law").is_null())
                .select("receivable_id", "due_date", "limitation_years", "_end0"), on="receivable_id", how="inner")
          # a measure that lasts ends on its ``until``; one without an end that has begun lasts to ``as_of``
          .with_columns(pl.when(pl.col("kind").is_in([str(Interruption.STUNDUNG), str(Interruption.ADV)]))
                        .then(pl.coalesce(pl.col("until").clip(upper_bound=as_of), pl.lit(as_of)))
                        .otherwise(pl.col("event_date")).alias("_ended"))
          .sort("receivable_id", "event_date", "_ended"))
    # the end year each event would give, the running end before it, and the first event that comes too late
    ev = ev.with_columns((pl.col("_ended").dt.year().cast(pl.Int32) + pl.col("limitation_years")).alias("_gives"))
    before = pl.max_horizontal(pl.col("_end0"),
                               pl.col("_gives").cum_max().shift(1).over("receivable_id").fill_null(pl.col("_end0")))
    ev = ev.with_columns((pl.col("event_date").dt.year().cast(pl.Int32) > before).alias("_late")).with_columns(
        pl.col("_late").cum_max().over("receivable_id").alias("_void"))
    agg = ev.group_by("receivable_id").agg(
        pl.col("_gives").filter(~pl.col("_void")).max().alias("_end_events"),
        (~pl.col("_void")).sum().cast(pl.Int64).alias("n_interruptions"),
        pl.col("_void").sum().cast(pl.Int64).alias("n_void"),
        pl.col("event_date").filter(~pl.col("_void")).last().alias("last_interruption"),
        pl.col("kind").filter(~pl.col("_void")).last().alias("last_interruption_kind"))

    out = cl.join(agg, on="receivable_id", how="left", maintain_order="left").with_columns(
        pl.col("n_interruptions").fill_null(0), pl.col("n_void").fill_null(0),
        pl.max_horizontal("_end0", "_end_events").alias("_end"))
    out = out.with_columns(pl.date(pl.col("_y0") + 1, 1, 1).alias("period_start"),
                           pl.date(pl.col("_end"), 12, 31).alias("expires_on"))
    left = (pl.col("expires_on") - pl.lit(as_of)).dt.total_days()
    out = out.with_columns(left.alias("days_left")).with_columns(
        pl.when(pl.col("days_left") < 0).then(pl.lit(LimitationState.EXPIRED))
        .when(pl.col("days_left") <= s.limitation_warning_days).then(pl.lit(LimitationState.WARNING))
        .otherwise(pl.lit(LimitationState.RUNNING)).alias("state"))
    return out.sort("_row").select(LIMITATION_COLUMNS)


def warning_list(limits: pl.DataFrame) -> pl.DataFrame:
    """The claims to act on: ``warning`` rows, the soonest end first (then expired ones are not listed:
    they are reported apart, as a loss — the valuation takes them out)."""
    return limits.filter(pl.col("state") == LimitationState.WARNING).sort("expires_on", "receivable_id")


__all__ = ["CLAIM_SCHEMA", "LIMITATION_COLUMNS", "interruptions_from", "limitation", "warning_list"]
