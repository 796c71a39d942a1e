"""The weekly dunning run's steps: prepare, (a second person releases), book — plain functions, no Prefect.

One call of :func:`run_dunning` does what the week needs next (:func:`plan_week`):

* **prepare** (nothing prepared for the ISO week of ``as_of``): refuse while a booking day has no day
  close (``dunning.select.missing_booking_days``); read the current claims and their history from the
  ledger, the blocks (``ledger.block_journal``) and the Klärungsliste; select; group into notices; DRAFT
  letters; record the prepared run (``jobs.dunning.record``) and publish it for the review page;
* **show** (prepared, not released yet): publish again, book nothing;
* **book** (a release line exists, by a supervisor other than the preparer): recompute the selection at
  the same ``as_of`` against the ledger as it is now; book the notices that were prepared **and** are
  still selected with the same figures — a notice with a claim paid, blocked or held back since is
  dropped whole and reported (never dun a citizen who paid; a letter is never sent other than released)
  and nothing new is added (it was not released). Notices, their claims and the fees and surcharges
  (claims of Stadtkasse's own, ``jobs.dunning.charges``) go into the ledger in ONE transaction
  (``jobs.runner.book_run``); then the final letters and print file, each letter filed in the case files
  (``jobs.dunning.filing``), the finance system's claims file,
  the publication;
* **finish** (booked, files not all written: a crash after the commit): the steps after the booking;
* **nothing to do**: the week is booked (rerunning books nothing twice), or nothing is to be dunned.

Steps end at ``ledger.checkpoints.reached(<name>)``; everything before ``book`` writes only into the run
folder (and the week's record, which books nothing), so a failure anywhere leaves the ledger as it was and
a rerun completes the week; ``book`` is all-or-nothing and idempotent per run id.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import polars as pl

from claims.errors import KasseError
from claims.vocab import SkipReason
from dunning.instalments import PLAN_SCHEMA, PlanFileError, instalment_blocks, plan_status, read_plans
from dunning.notices import AMOUNTS, debtor_addresses, group_notices, with_fee_kassenzeichen
from dunning.select import missing_booking_days, select
from jobs.dunning import charges
from jobs.dunning.letters import write_letters
from jobs.dunning.record import (
    WeekRecord,
    all_records,
    find_record,
    read_record,
    week_days,
    week_key,
    write_record,
)
from jobs.records import advanced
from jobs.runner import Run, book_run, new_run, open_ledger, runs_row, tenant_lock
from ledger import checkpoints
from ledger.amtshilfe_out import open_out_claims
from ledger.block_journal import block_history_frame, load_blocks
from ledger.config import TenantConfig, tenant_path_problem
from ledger.dunning_state import (
    DunningState,
    booked_dunning_runs,
    booked_notices,
    figure_inputs,
    kassenzeichen_taken,
    plan_payments,
    read_dunning_state,
)
from ledger.enforcement_state import open_case_claims
from ledger.outcomes_state import outcome_blocks
from ledger.publish_dunning import RUNS_SCHEMA, publish_dunning
from ledger.release_journal import Release, read_releases, record_release, release_misfit
from ledger.tables import AUDIT_EVENTS

JOB = "dunning"
#: What a call of the job does (module docstring).
PHASES = ("prepare", "show", "book", "finish", "nothing")


class DunningRefused(KasseError):
    """The dunning run may not run now (a booking day without day close, a release that does not fit)."""


@dataclass(frozen=True, slots=True)
class DunningOutcome:
    """What a call did: ``status`` prepared | booked | nothing_to_do, the week's ``run_id``, counts, paths."""

    status: str
    run_id: str | None
    week: str
    as_of: date
    counts: dict[str, Any] = field(default_factory=dict)
    paths: dict[str, str] = field(default_factory=dict)
    message: str = ""


@dataclass(frozen=True, slots=True)
class Plan:
    """The phase a call runs, with the run (``None``: nothing to do) and why."""

    phase: str
    run: Run | None
    week: str
    as_of: date
    message: str = ""
    run_id: str | None = None


# --- planning ---------------------------------------------------------------------------------------

def _run_of(cfg: TenantConfig, record: WeekRecord, mode: str, flow_run_id: str | None) -> Run:
    return Run(JOB, cfg, record.as_of, record.run_id, datetime.now(UTC), mode, flow_run_id)


def plan_week(cfg: TenantConfig, as_of: date, *, user: str, mode: str = "plain",
              flow_run_id: str | None = None) -> Plan:
    """Decide what this call does for the ISO week of ``as_of`` (module docstring); write the run's
    context (phase, user) into its folder."""
    week = week_key(as_of)
    record = read_record(cfg, week)
    con = open_ledger(cfg)
    try:
        booked = booked_dunning_runs(con, cfg.tenant, *week_days(as_of))
    finally:
        con.close()
        del con
    if booked.height:
        ids = booked["run_id"].to_list()
        if record is not None and record.run_id in ids and record.stage != "done":
            plan = Plan("finish", _run_of(cfg, record, mode, flow_run_id), week, record.as_of, run_id=record.run_id)
        else:
            return Plan("nothing", None, week, as_of, f"week {week} is booked already (run {ids[0]})", ids[0])
    elif record is None:
        run = new_run(JOB, cfg, as_of, mode=mode, flow_run_id=flow_run_id)
        plan = Plan("prepare", run, week, as_of, run_id=run.run_id)
    else:
        release = read_releases(cfg.state_dir, cfg.tenant).get(record.run_id)
        run = _run_of(cfg, record, mode, flow_run_id)
        if release is None:
            plan = Plan("show", run, week, record.as_of,
                        f"run {record.run_id} is prepared by {record.prepared_by} and waits for its release",
                        record.run_id)
        else:
            check_release_fits(record, release)
            plan = Plan("book", run, week, record.as_of, run_id=record.run_id)
    assert plan.run is not None
    plan.run.folder.write_json("context", {"phase": plan.phase, "user": user, "week": week,
                                           "as_of": plan.as_of.isoformat(), "at": datetime.now(UTC).isoformat()})
    return plan


def check_release_fits(record: WeekRecord, release: Release) -> None:
    """The release must name the preparer the run recorded, and come from someone else (four-eyes)."""
    problem = release_misfit(release, kind="dunning_release", run_id=record.run_id, prepared_by=record.prepared_by)
    if problem:
        raise DunningRefused(problem)


def _context(run: Run) -> dict[str, Any]:
    return run.folder.read_json("context")


# --- reading and selecting (both phases) ------------------------------------------------------------

def step_read_ledger(run: Run) -> dict[str, int]:
    """Read the claims and their history from the ledger into the run folder (``in_<phase>_*``); the
    prepare phase first refuses a booking day without day close, naming it."""
    phase = _context(run)["phase"]
    plans = read_instalment_plans(run.cfg)
    con = open_ledger(run.cfg)
    try:
        state = read_dunning_state(con, run.cfg.tenant)
        paid = plan_payments(con, run.cfg.tenant, plans["debtor_id"].unique().sort().to_list())
        written_off = outcome_blocks(con, run.cfg.tenant)   # uncollectible / written off by the enforcement office
        enforced = open_case_claims(con, run.cfg.tenant).select("receivable_id").unique()   # the office has them
        # … or another authority has them: a request sent there is open (issue 18 §4)
        enforced = pl.concat([enforced, open_out_claims(con, run.cfg.tenant).select("receivable_id")]).unique()
    finally:
        con.close()
        del con
    if phase == "prepare":
        s = run.cfg.dunning
        missing = missing_booking_days(state.closed_days["booking_date"].to_list(), run.run_date, s.bank_lag_days,
                                       region=s.holiday_region)
        if missing:
            shown = ", ".join(f"{d:%a %d.%m.%Y}" for d in missing[:5]) + (" …" if len(missing) > 5 else "")
            raise DunningRefused(f"the dunning run for {run.run_date:%d.%m.%Y} needs a day close for every booking "
                                 f"day up to {s.bank_lag_days} business days before it; missing: {shown} (run the "
                                 "nightly reconciliation for these days first)")
    state.write(run.folder.path, prefix=f"in_{phase}_")
    run.folder.write(f"in_{phase}_plans", plans)
    run.folder.write(f"in_{phase}_plan_payments", paid)
    run.folder.write(f"in_{phase}_outcome_blocks", written_off)
    run.folder.write(f"in_{phase}_enforced", enforced)
    checkpoints.reached("read_ledger")
    return {"claims": state.claims.height, "notices_before": state.notices.height,
            "pending": state.pending.height}


def plans_file(cfg: TenantConfig) -> Path:
    """The tenant's instalment plans file (``[dunning] instalment_plans``, relative to the tenant folder)."""
    return cfg.tenant_dir / cfg.dunning.instalment_plans


def read_instalment_plans(cfg: TenantConfig) -> pl.DataFrame:
    """The plans of :func:`plans_file` (``dunning.instalments.PLAN_SCHEMA``; no file: none). A bad file
    refuses the run with ``PlanFileError``'s text (file, line, reason): dunning a debtor whose agreement
    could not be read would break the agreement."""
    path = plans_file(cfg)
    problem = tenant_path_problem(path, cfg.tenant_dir, link_ok=False)
    if problem:
        raise DunningRefused(f"instalment plans file {path}: {problem}; only a plain file in the tenant folder is "
                             "read — nothing was prepared or booked")
    if not path.exists():
        return pl.DataFrame(schema=PLAN_SCHEMA)
    try:
        return read_plans(path)
    except PlanFileError as err:
        raise DunningRefused(f"{err} — the instalment plans file must be corrected before the dunning run; "
                             "nothing was prepared or booked") from err


def step_select(run: Run) -> dict[str, int]:
    """The selection at ``as_of`` with the blocks in force then (``selected_<phase>`` / ``skipped_<phase>``):
    those of the block journal, ``RATENZAHLUNG`` for the claims of every instalment plan on time and
    ``NIEDERSCHLAGUNG`` for claims the enforcement office found uncollectible or wrote off; the
    plans' states counted in ``plans_<phase>``."""
    phase = _context(run)["phase"]
    f, cfg = run.folder, run.cfg
    state = DunningState.read(f.path, prefix=f"in_{phase}_")
    plans, paid = f.read(f"in_{phase}_plans"), f.read(f"in_{phase}_plan_payments")
    blocks, issues = load_blocks(cfg.state_dir, cfg.tenant)
    who = state.claims.select("receivable_id", "debtor_id")
    grace = cfg.dunning.instalment_grace_days
    status = plan_status(plans, paid, run.run_date, claims=who, grace_days=grace)
    # ended blocks too: one that held after the last Mahnung renews it (dunning.select, "renewed")
    in_force = pl.concat([block_history_frame(blocks, run.run_date),
                          instalment_blocks(plans, paid, run.run_date, claims=who, grace_days=grace),
                          f.read(f"in_{phase}_outcome_blocks")],
                         how="diagonal_relaxed")
    sel = select(state.claims, run.run_date, cfg.dunning, notices=state.notices, payments=state.payments,
                 blocks=in_force, pending=state.pending, enforced=f.read(f"in_{phase}_enforced"))
    f.write(f"selected_{phase}", sel.selected)
    f.write(f"skipped_{phase}", sel.skipped)
    f.write(f"plan_status_{phase}", status)
    f.write_json(f"plans_{phase}", {str(k): int(v) for k, v in status["status"].value_counts(sort=True).iter_rows()}
                 if status.height else {})
    f.write_json(f"journal_findings_{phase}", {"blocks": [i.message for i in issues]})
    checkpoints.reached("select")
    return {"selected": sel.selected.height, "skipped": sel.skipped.height}


# --- prepare -------------------------------------------------------------------------------------------

def _counts(items: pl.DataFrame, notices: pl.DataFrame, skipped: pl.DataFrame) -> dict[str, Any]:
    def tally(df: pl.DataFrame, col: str) -> dict[str, int]:
        if df.height == 0:
            return {}
        vc = df[col].drop_nulls().value_counts(sort=True)
        return {str(k): int(v) for k, v in vc.iter_rows()}

    return {"n_notices": notices.height, "n_claims": items.height,
            "level": tally(notices, "level"), "skipped": tally(skipped, "reason"),
            "blocked": tally(skipped.filter(pl.col("reason") == SkipReason.BLOCKED), "block_reason"),
            "fees_total_cents": int(items["mahngebuehr_cents"].sum() or 0),
            "surcharges_total_cents": int(items["saeumniszuschlag_cents"].sum() or 0),
            "interest_total_cents": int(items["interest_cents"].sum() or 0),
            "open_total_cents": int(items["open_cents"].sum() or 0)}


def step_notices(run: Run) -> dict[str, Any]:
    """Group the prepared selection into notices (``prepared_notices`` / ``prepared_items``) and write
    the prepared run's summary."""
    f = run.folder
    state = DunningState.read(f.path, prefix="in_prepare_")
    grouped = group_notices(f.read("selected_prepare"), debtor_addresses(state.claims), run.run_date, run.cfg.dunning)
    f.write("prepared_notices", grouped.notices)
    f.write("prepared_items", grouped.items)
    counts = {**_counts(grouped.items, grouped.notices, f.read("skipped_prepare")),
              "plans": f.read_json("plans_prepare")}
    f.write_json("prepared_summary", counts)
    checkpoints.reached("notices")
    return counts


def _report_dir(run: Run) -> Path:
    return run.report_dir / "dunning"


def step_drafts(run: Run) -> dict[str, str]:
    """DRAFT letters (a few samples) for the releaser to look at."""
    f = run.folder
    # into the run folder, never the report folder: nothing of a draft may reach the print centre
    state = DunningState.read(f.path, prefix="in_prepare_")
    items = f.read("prepared_items")
    # the amounts as the final letter will ask for them (charges.owed): the fees this run would charge, and
    # those of earlier notices still open (their Kassenzeichen quoted; the new one exists only once booked)
    would = charges.charge_rows(items, state.charged).select(
        pl.col("receivable_id").alias("parent_receivable_id"), "claim_type",
        pl.lit(None, pl.String).alias("kassenzeichen"), "amount_cents")
    notices, items, fee_kz = owed_letters(f.read("prepared_notices"), items, state.open_fees, would)
    paths = write_letters(run.cfg, with_fee_kassenzeichen(notices, items, fee_kz), items, f.path / "draft",
                          draft=True)
    f.write_json("draft_paths", paths)
    checkpoints.reached("drafts")
    return paths


def _pdf(paths: dict[str, str]) -> str | None:
    return next((p for p in paths.values() if p.endswith(".pdf")), None)


def step_record(run: Run) -> str:
    """Record the prepared run as the week's (the release refers to its run id)."""
    ctx = _context(run)
    if run.folder.read_json("prepared_summary").get("n_notices", 0) == 0:
        checkpoints.reached("record")
        return ""
    record = WeekRecord(run.run_id, ctx["week"], run.run_date, str(ctx["user"]), run.started_at,
                        paths={k: v for k, v in run.folder.read_json("draft_paths").items()})
    path = write_record(run.cfg, record)
    checkpoints.reached("record")
    return str(path)


# --- book ------------------------------------------------------------------------------------------------

#: The figures a booked notice must still have, claim by claim.
_FIGURES = ("level", "open_cents", "saeumniszuschlag_cents", "interest_cents", "mahngebuehr_cents")


def reconcile(prepared: pl.DataFrame, selected: pl.DataFrame, skipped: pl.DataFrame,
              claims: pl.DataFrame) -> pl.DataFrame:
    """Per prepared claim (``prepared``: ``notice_id``, ``receivable_id`` and :data:`_FIGURES`) why it may
    no longer be booked, or null: ``partly_paid`` (less open now), a skip reason of the selection now
    (``blocked``, ``pending_payment`` …), ``settled`` (no longer open), ``changed`` (a figure or the level)."""
    now = selected.select("receivable_id", *[pl.col(c).alias(f"{c}_now") for c in _FIGURES])
    open_now = claims.select("receivable_id", pl.col("amount_cents").alias("open_claim"))
    df = (prepared.join(now, on="receivable_id", how="left")
          .join(skipped.select("receivable_id", pl.col("reason").alias("skip")), on="receivable_id", how="left")
          .join(open_now, on="receivable_id", how="left"))
    differs = pl.any_horizontal([pl.col(c).ne_missing(pl.col(f"{c}_now")) for c in _FIGURES])
    why = (pl.when(pl.col("open_claim").is_null()).then(pl.lit("settled"))
           .when(pl.col("open_claim") < pl.col("open_cents")).then(pl.lit("partly_paid"))
           .when(pl.col("skip").is_not_null()).then(pl.col("skip"))
           .when(pl.col("level_now").is_null()).then(pl.lit("settled"))
           .when(differs).then(pl.lit("changed")))
    return df.select("notice_id", "receivable_id", why.alias("reason"))


def step_reconcile(run: Run) -> dict[str, int]:
    """Keep the prepared notices whose every claim is still selected with the same figures
    (``final_notices`` / ``final_items``); the others are ``dropped`` (notice, debtor, reason)."""
    f = run.folder
    notices, items = f.read("prepared_notices"), f.read("prepared_items")
    state = DunningState.read(f.path, prefix="in_book_")
    prepared = items.join(notices.select("notice_id", "level"), on="notice_id", how="left")
    why = reconcile(prepared, f.read("selected_book"), f.read("skipped_book"), state.claims)
    bad = (why.filter(pl.col("reason").is_not_null()).sort("notice_id", "receivable_id")
           .group_by("notice_id", maintain_order=True).agg(pl.col("reason").first(), pl.col("receivable_id").first()))
    dropped = bad.join(notices.select("notice_id", "debtor_id"), on="notice_id", how="left").select(
        "notice_id", "debtor_id", "receivable_id", "reason")
    f.write("dropped", dropped)
    f.write("final_notices", notices.join(bad, on="notice_id", how="anti"))
    f.write("final_items", items.join(bad, on="notice_id", how="anti"))
    checkpoints.reached("reconcile")
    return {"kept": notices.height - dropped.height, "dropped": dropped.height}


def _ts(text: str | None) -> datetime | None:
    return datetime.fromisoformat(text) if text else None


def step_stage(run: Run) -> dict[str, int]:
    """Stage the ledger rows: notices, their claims, the fee claims (numbered), audit events; the notices
    and their claims with what the letter asks for (:func:`owed_letters`), which the final letters print."""
    f, cfg = run.folder, run.cfg
    record = find_record(cfg, run.run_id)
    release = read_releases(cfg.state_dir, cfg.tenant)[run.run_id]
    check_release_fits(record, release)
    state = DunningState.read(f.path, prefix="in_book_")
    notices, items = f.read("final_notices"), f.read("final_items")
    now = datetime.now(UTC)

    due = charges.charge_rows(items, state.charged)
    ref = cfg.reference
    prefix = cfg.dunning.fee_kassenzeichen_prefix
    first = charges.next_counter(state.fee_numbers["kz_norm"], prefix, ref.digits, ref.check_digit)
    # one fee Kassenzeichen per notice, shared by its fee claims (jobs/dunning/charges.py)
    n_notices = due["notice_id"].n_unique() if due.height else 0
    numbers = charges.fee_numbers(n_notices, first, prefix=prefix, digits=ref.digits, scheme=ref.check_digit)
    con = open_ledger(cfg)
    try:
        taken = kassenzeichen_taken(con, cfg.tenant, numbers)
    finally:
        con.close()
        del con
    if taken:
        raise charges.FeeNumberCollision(
            f"{len(taken)} new fee Kassenzeichen are in use already, e.g. {taken[0]}: the finance system issues "
            f"numbers starting with {prefix}; set another [dunning] fee_kassenzeichen_prefix. Nothing is booked")
    per_notice = charges.notice_numbers(due, numbers)
    fees = charges.fee_claims(due, per_notice, state.claims, notices, tenant=cfg.tenant, run_id=run.run_id,
                              created_at=now)
    f.book("claims", fees)
    counts = _counts(items, notices, f.read("skipped_book"))     # what this run charges (the selection's)
    # the letters ask for what is owed: per claim its principal and every fee claim still open (earlier
    # notices' and this one's), and quote every fee Kassenzeichen holding one (claims table, remittance,
    # GiroCode); the booked notice rows record the same (charges.owed)
    notices, items, fee_kz = owed_letters(notices, items, state.open_fees, fees)
    notices = with_fee_kassenzeichen(notices, items, fee_kz)
    f.write("final_notices", notices)
    f.write("final_items", items)

    # which fee claim each notice item got, per charge type
    fee_ids = fees.select(pl.col("parent_receivable_id").alias("receivable_id"), "claim_type",
                          pl.col("receivable_id").alias("fee_id"), pl.col("amount_cents").alias("booked"))
    wide = {str(t): c for c, t in charges.CHARGES.items()}
    per = items.select("notice_id", "receivable_id")
    for t, c in wide.items():
        one = fee_ids.filter(pl.col("claim_type") == t).select(
            "receivable_id", pl.col("fee_id").alias(f"{c}_receivable_id"), pl.col("booked").alias(f"{c}_booked_cents"))
        per = per.join(one, on="receivable_id", how="left")
    rules = f.read("selected_book").select("receivable_id", "surcharge_rule", "mahngebuehr_rule")
    f.book("dunning_notice_items", items.join(notices.select("notice_id", "level", "notice_date"), on="notice_id")
           .join(rules, on="receivable_id", how="left").join(per, on=["notice_id", "receivable_id"], how="left")
           .with_columns(pl.lit(cfg.tenant).alias("tenant"), pl.lit(run.run_id).alias("run_id")))
    f.book("dunning_notices", notices.with_columns(
        pl.lit(cfg.tenant).alias("tenant"), pl.lit(run.run_id).alias("run_id"), pl.lit(record.week).alias("week"),
        pl.lit(record.prepared_by).alias("prepared_by"),
        pl.lit(record.prepared_at).cast(pl.Datetime("us", "UTC")).alias("prepared_at"),
        pl.lit(release.released_by).alias("released_by"),
        pl.lit(_ts(release.released_at)).cast(pl.Datetime("us", "UTC")).alias("released_at")))

    dropped = f.read("dropped")
    summary = {**counts, "plans": f.read_json("plans_book"),
               "week": record.week,
               "as_of": run.run_date.isoformat(), "prepared_by": record.prepared_by,
               "prepared_at": record.prepared_at.isoformat(), "released_by": release.released_by,
               "released_at": release.released_at, "booked_by": _context(run)["user"],
               "dropped": {str(k): int(v) for k, v in dropped["reason"].value_counts(sort=True).iter_rows()}
               if dropped.height else {},
               "fee_claims": fees.height, "fee_claims_cents": int(fees["amount_cents"].sum() or 0)}
    events = [("dunning.prepared", run.run_id, {"by": record.prepared_by, "at": record.prepared_at.isoformat(),
                                                 "prepared": f.read_json("prepared_summary").get("n_notices")}),
              ("dunning.released", run.run_id, {"by": release.released_by, "at": release.released_at}),
              *[("dunning.notice_dropped", str(n), {"debtor_id": d, "receivable_id": r, "reason": why})
                for n, d, r, why in dropped.iter_rows()],   # few: the notices changed between release and booking
              ("dunning.booked", run.run_id, {k: summary[k] for k in ("n_notices", "n_claims", "fee_claims",
                                                                       "fee_claims_cents", "dropped")})]
    f.book("audit_events", pl.DataFrame(
        [{"tenant": cfg.tenant, "run_id": run.run_id, "at": now, "event": e, "subject": s,
          "detail": json.dumps(d, default=str)} for e, s, d in events], schema=AUDIT_EVENTS))
    f.write_json("book_summary", summary)
    checkpoints.reached("stage")
    return {"notices": notices.height, "fee_claims": fees.height, "dropped": dropped.height}


def owed_letters(notices: pl.DataFrame, items: pl.DataFrame, open_fees: pl.DataFrame,
                 fees: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame]:
    """The notices and items as the letters show them — what is owed (:func:`charges.owed` over the open
    fee claims of earlier runs and ``fees``, those this run books) — and the fee Kassenzeichen to quote."""
    items, fee_kz = charges.owed(items, open_fees, fees)
    return owed_sums(notices, items), items.drop("earlier_cents"), fee_kz


def owed_sums(notices: pl.DataFrame, items: pl.DataFrame) -> pl.DataFrame:
    """``notices`` with their sums and ``total_cents`` taken anew from ``items`` (what is owed, after
    :func:`charges.owed`), and ``earlier_fees_cents``: the part of the fees from earlier notices (the
    letter names it)."""
    sums = items.group_by("notice_id").agg(*[pl.col(c).sum().cast(pl.Int64) for c in AMOUNTS],
                                           pl.col("earlier_cents").sum().cast(pl.Int64).alias("earlier_fees_cents"))
    cols = [c for c in notices.columns if c != "earlier_fees_cents"]
    return (notices.drop(*AMOUNTS, "total_cents", "earlier_fees_cents", strict=False)
            .join(sums, on="notice_id", how="left", maintain_order="left")
            .with_columns(pl.sum_horizontal(*AMOUNTS).cast(pl.Int64).alias("total_cents"))
            .select(*cols, "earlier_fees_cents"))


def step_book(run: Run) -> dict[str, int]:
    """Append the staged rows and the run's ``runs`` row in ONE transaction (idempotent per run id)."""
    checkpoints.reached("book")
    f = run.folder
    summary = f.read_json("book_summary")
    staged = {t: fr for t, fr in f.ledger_frames().items() if fr.height}
    written = book_run(run, staged, runs_row(run, summary))
    record = find_record(run.cfg, run.run_id)
    if record.stage == "prepared":
        write_record(run.cfg, advanced(record, "booked", booked_at=datetime.now(UTC)))
    return written


def step_letters(run: Run) -> dict[str, str]:
    """The final letters PDF and print-centre file of the booked notices."""
    f = run.folder
    paths = write_letters(run.cfg, f.read("final_notices"), f.read("final_items"), _report_dir(run), draft=False)
    f.write_json("letter_paths", paths)
    checkpoints.reached("letters")
    return paths


def step_documents(run: Run) -> dict[str, Any]:
    """File each booked letter, cut from the final PDF page for page, in the case files of its debtor and
    its claims (``jobs.dunning.filing``); idempotent, so a rerun after a crash files nothing twice."""
    from jobs.dunning.filing import file_letters

    f = run.folder
    filed = file_letters(run.cfg, run.run_id, f.read("final_notices"), f.read("final_items"),
                         f.read_json("letter_paths"))
    f.write_json("documents", filed)
    checkpoints.reached("documents")
    return filed


def step_hkr(run: Run) -> dict[str, str]:
    """The finance system's claims file of the fees and surcharges this run booked (``dunning/hkr``)."""
    from outputs.hkr_export import hkr_claims, write_hkr

    fees = run.folder.read("book_claims").with_columns(
        pl.lit("dunning").alias("origin"), pl.lit(run.run_date).alias("created_on"),
        pl.col("run_id").alias("created_by_run"))
    paths = write_hkr(_report_dir(run) / "hkr", tenant=run.cfg.tenant, posting_date=run.run_date,
                      bookings=_empty_bookings(), claims=hkr_claims(fees, tenant=run.cfg.tenant))
    out = {f"hkr/{k}": str(v) for k, v in paths.items()}
    run.folder.write_json("hkr_paths", out)
    checkpoints.reached("hkr")
    return out


#: The key figures' folder under the run's report folder.
FIGURES_DIR = "kennzahlen"


def step_figures(run: Run) -> dict[str, str]:
    """The dunning key figures after the booking (``dunning.key_figures`` over the ledger's booked
    notices, their claims, every claim and allocation; no enforcement hand-offs yet), the 365 days up to
    ``as_of``, written by ``outputs.dunning_figures`` into ``<report>/dunning/kennzahlen``."""
    from dunning.key_figures import dunning_key_figures
    from outputs.dunning_figures import write_dunning_figures

    cfg = run.cfg
    con = open_ledger(cfg)
    try:
        notices, items = booked_notices(con, cfg.tenant)
        claims, allocations = figure_inputs(con, cfg.tenant)
    finally:
        con.close()
        del con
    figs = dunning_key_figures(notices, items, claims, allocations, None, as_of=run.run_date,
                               inhabitants=cfg.settings.tenant.inhabitants)
    paths = write_dunning_figures(_report_dir(run) / FIGURES_DIR, figs,
                                  {"tenant": cfg.tenant, "as_of": run.run_date.isoformat(), "run_id": run.run_id})
    out = {f"{FIGURES_DIR}/{k}": str(v) for k, v in paths.items()}
    run.folder.write_json("figure_paths", out)
    checkpoints.reached("figures")
    return out


def _empty_bookings() -> pl.DataFrame:
    from outputs.hkr_export import HKR_BOOKING_SCHEMA

    return pl.DataFrame(schema=HKR_BOOKING_SCHEMA)


def step_done(run: Run) -> str:
    """Mark the week done (the files after the booking are written)."""
    record = find_record(run.cfg, run.run_id)
    paths = {**run.folder.read_json("letter_paths"), **run.folder.read_json("hkr_paths"),
             **run.folder.read_json("figure_paths")}
    write_record(run.cfg, advanced(record, "done", booked_at=record.booked_at or datetime.now(UTC),
                                   paths={**(record.paths or {}), **paths}))
    checkpoints.reached("done")
    return record.week


# --- publish (every phase) -------------------------------------------------------------------------------

def _json(path: Path) -> dict[str, str]:
    return json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}


def _runs_frame(cfg: TenantConfig, booked_at: dict[str, datetime]) -> pl.DataFrame:
    releases = read_releases(cfg.state_dir, cfg.tenant)
    rows = []
    for r in all_records(cfg):
        folder = cfg.runs_dir / r.run_id
        summary_file = "book_summary" if r.run_id in booked_at else "prepared_summary"
        s: dict[str, Any] = _json(folder / f"{summary_file}.json")
        rel = releases.get(r.run_id)
        status = "booked" if r.run_id in booked_at else "released" if rel else "prepared"
        rows.append({"run_id": r.run_id, "week": r.week, "as_of": r.as_of, "status": status,
                     "prepared_by": r.prepared_by, "prepared_at": r.prepared_at,
                     "released_by": rel.released_by if rel else None,
                     "released_at": _ts(rel.released_at) if rel else None, "booked_at": booked_at.get(r.run_id),
                     "n_notices": s.get("n_notices"), "n_claims": s.get("n_claims"),
                     "fees_total_cents": s.get("fees_total_cents"),
                     "surcharges_total_cents": s.get("surcharges_total_cents"),
                     "interest_total_cents": s.get("interest_total_cents"),
                     "counts_json": json.dumps({k: s.get(k, {}) for k in ("level", "skipped", "blocked", "dropped")}),
                     "sample_pdf": _pdf(_json(folder / "draft_paths.json")),
                     "letters_pdf": _pdf(_json(folder / "letter_paths.json"))})
    return pl.DataFrame(rows, schema=RUNS_SCHEMA)


def step_publish(run: Run) -> str:
    """Publish every run of the tenant, the booked notices and those of runs prepared and not yet booked."""
    cfg = run.cfg
    con = open_ledger(cfg)
    try:
        notices, items = booked_notices(con, cfg.tenant)
        runs = booked_dunning_runs(con, cfg.tenant, date.min, date.max)
    finally:
        con.close()
        del con
    booked_at = dict(zip(runs["run_id"].to_list(), runs["committed_at"].to_list(), strict=True))
    pub_notices = [notices.with_columns(pl.lit("booked").alias("status"))]
    pub_items = [items]
    for r in all_records(cfg):
        folder = cfg.runs_dir / r.run_id
        if r.run_id in booked_at or not (folder / "prepared_notices.parquet").exists():
            continue
        pub_notices.append(pl.read_parquet(folder / "prepared_notices.parquet").with_columns(
            pl.lit(r.run_id).alias("run_id"), pl.lit("prepared").alias("status")))
        pub_items.append(pl.read_parquet(folder / "prepared_items.parquet").with_columns(pl.lit(r.run_id).alias("run_id")))
    link = publish_dunning(cfg.state_dir, cfg.tenant, runs=_runs_frame(cfg, booked_at),
                           notices=pl.concat(pub_notices, how="diagonal_relaxed"),
                           items=pl.concat(pub_items, how="diagonal_relaxed"))
    checkpoints.reached("publish")
    return str(link)


# --- the phases ------------------------------------------------------------------------------------------

Step = Callable[[Run], Any]
#: The steps of each phase, in order, with the key each adds to the outcome's counts.
STEPS: dict[str, tuple[tuple[str, Step], ...]] = {
    "prepare": (("read_ledger", step_read_ledger), ("select", step_select), ("notices", step_notices),
                ("drafts", step_drafts), ("record", step_record), ("publish", step_publish)),
    "show": (("publish", step_publish),),
    "book": (("read_ledger", step_read_ledger), ("select", step_select), ("reconcile", step_reconcile),
             ("stage", step_stage), ("book", step_book), ("letters", step_letters),
             ("documents", step_documents), ("hkr", step_hkr),
             ("figures", step_figures), ("publish", step_publish), ("done", step_done)),
    "finish": (("letters", step_letters), ("documents", step_documents), ("hkr", step_hkr), ("figures", step_figures),
               ("publish", step_publish), ("done", step_done)),
    "nothing": (),
}
#: Every step by name (a step is the same function in each phase that has it).
STEPS_BY_NAME: dict[str, Step] = {name: step for phase in STEPS.values() for name, step in phase}


def outcome(plan: Plan, results: dict[str, Any]) -> DunningOutcome:
    """The outcome of a call from its plan and what its steps returned."""
    if plan.run is None:
        return DunningOutcome("nothing_to_do", plan.run_id, plan.week, plan.as_of, message=plan.message)
    f = plan.run.folder
    if plan.phase in ("prepare", "show"):
        counts = f.read_json("prepared_summary")
        if plan.phase == "prepare" and not counts.get("n_notices"):
            return DunningOutcome("nothing_to_do", None, plan.week, plan.as_of, counts,
                                  message=f"no claim is to be dunned on {plan.as_of:%d.%m.%Y}")
        paths = {"run_folder": str(f.path), **f.read_json("draft_paths")}
        if "publish" in results:
            paths["published"] = str(results["publish"])
        return DunningOutcome("prepared", plan.run_id, plan.week, plan.as_of, counts, paths,
                              plan.message or f"prepared: {counts.get('n_notices', 0)} notices wait for the release "
                              "by a supervisor other than the preparer")
    counts = f.read_json("book_summary")
    paths = {"run_folder": str(f.path), **f.read_json("letter_paths"), **f.read_json("hkr_paths"),
             **f.read_json("figure_paths")}
    return DunningOutcome("booked", plan.run_id, plan.week, plan.as_of, counts, paths,
                          f"booked: {counts.get('n_notices', 0)} notices, {len(counts.get('dropped', {}))} "
                          "reason(s) for dropped notices")


def run_dunning(cfg: TenantConfig, as_of: date, *, user: str) -> DunningOutcome:
    """Do what the week of ``as_of`` needs next (module docstring), without Prefect, under the tenant lock."""
    with tenant_lock(cfg):
        plan = plan_week(cfg, as_of, user=user)
        results = {name: step(plan.run) for name, step in STEPS[plan.phase]} if plan.run else {}
    return outcome(plan, results)


def release(cfg: TenantConfig, run_id: str, *, user: str, role: str, note: str = "") -> Release:
    """Release the prepared run ``run_id`` (a supervisor other than its preparer): writes the release line
    (``ledger.release_journal``; its :class:`~ledger.journal.JournalError` when refused). The next call of
    :func:`run_dunning` for the week books it."""
    record = find_record(cfg, run_id)
    if record.stage != "prepared":
        raise DunningRefused(f"dunning run {run_id} is {record.stage} already")
    return record_release(cfg.state_dir, cfg.tenant, run_id, user=user, role=role, prepared_by=record.prepared_by,
                          note=note)
