"""The SEPA collection run's steps: prepare, (a second person releases), book — plain functions, no Prefect.

One call of :func:`run_collect` does what the collection date needs next (:func:`plan_date`):

* **prepare** (nothing prepared for the date): read the claims open now, the collection record and the
  returns from the ledger (``ledger.collection_state``); the mandate register from the claims
  (``collection.mandates``) with its state on the date; select (``collection.select``); check every text
  for the SEPA character set (a refusal names the claim and the field); write one pain.008 file per
  creditor id, date and sequence type into the run folder, validate each against its XSD; record the
  prepared run. Nothing is booked, nothing reaches the outbox;
* **show** (prepared, not released yet): nothing changes;
* **book** (a ``collection_release`` line exists, by a supervisor other than the preparer): recompute the
  selection at the same date against the ledger as it is now; keep the prepared collections that are still
  selected with the same amount, account and ids — a claim paid (or changed, blocked, its mandate blocked)
  since is dropped and reported (never collect a paid claim) and nothing new is added (it was not
  released); rewrite the files with the kept rows (the same ids and creation time: unchanged files are the
  released bytes), validate them, book the collection record in ONE transaction (``jobs.runner.book_run``),
  then copy the files into the outbox with a manifest;
* **finish** (booked, outbox not written: a crash after the commit): the outbox step;
* **nothing to do**: the date is booked already (rerunning books nothing twice), or nothing is to collect;
* **late**: the date's send deadline (``collection.dates.send_deadline``: ``lead_days`` TARGET2 days before
  it, at the bank's ``cutoff``) has passed before the run was booked: a file sent now would reach the bank
  too late, so nothing is prepared or booked, the date's record is marked ``late`` (its release is void)
  and the message names the deadline and the next date a run prepared now still reaches. The claims are
  selected again for that date (the job's clock: :func:`clock`, or ``now=``).

Message and payment-information ids: ``<tenant tag><yymmdd><run id's 8 hex><nn>`` (``-<SEQ>`` for the
PmtInf): the run id is random and kept by the date's record, so a rerun of the same prepared run gives the
same ids, and another run never does (the prepare step also refuses one the ledger holds already).

Steps end at ``ledger.checkpoints.reached(<name>)``; everything before ``book`` writes only into the run
folder (and the date's record, which books nothing), so a failure anywhere leaves the ledger as it was and
a rerun completes the date; ``book`` is all-or-nothing and idempotent per run id.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import polars as pl

from claims.errors import KasseError
from claims.vocab import CollectSkip
from collection.dates import earliest_collection_date, send_deadline
from collection.mandates import amend_register, mandate_states, mandates_from_claims
from collection.pain008 import TEXT_FIELDS, Creditor, split_files, write_pain008
from collection.pain_xml import PainInputError, check_header_text, payment_info_id
from collection.select import select_collections
from collection.sepa_text import Charset, FieldKind, SepaTextError, check_text, convert_names
from collection.xsd import PainValidationError, validate
from jobs.collect.record import DateRecord, all_records, find_record, read_record, write_record
from jobs.outbox import deliver, sha256_of
from jobs.records import advanced
from jobs.rundir import RunDir
from jobs.runner import Run, book_run, new_run, open_ledger, runs_row, tenant_lock
from ledger import checkpoints
from ledger.collection_state import CollectionState, booked_collection_runs, read_collection_state
from ledger.config import TenantConfig
from ledger.release_journal import Release, read_releases, record_release, release_misfit
from ledger.tables import AUDIT_EVENTS

JOB = "collect"
RELEASE_KIND = "collection_release"
PHASES = ("prepare", "show", "book", "finish", "nothing", "late")
#: Where the released files go when ``[collection] outbox`` is not set (below the tenant folder).
OUTBOX = "outbox"


class CollectRefused(KasseError):
    """The collection run may not run now (no creditor id, a text the bank would refuse, a release that
    does not fit)."""


@dataclass(frozen=True, slots=True)
class CollectOutcome:
    """What a call did: ``status`` prepared | booked | nothing_to_do, the date's ``run_id``, counts, paths."""

    status: str
    run_id: str | None
    collection_date: date
    counts: dict[str, Any] = field(default_factory=dict)
    paths: dict[str, str] = field(default_factory=dict)
    message: str = ""


@dataclass(frozen=True, slots=True)
class Plan:
    """The phase a call runs, with the run (``None``: nothing to do) and why."""

    phase: str
    run: Run | None
    collection_date: date
    message: str = ""
    run_id: str | None = None


# --- planning ---------------------------------------------------------------------------------------

def clock() -> datetime:
    """The job's "now" (aware, UTC) when a call is given none: the send deadline and the next collection
    date are checked against it."""
    return datetime.now(UTC)


def deadline_of(cfg: TenantConfig, collection_date: date) -> datetime:
    """The send deadline of ``collection_date`` (``[collection] lead_days``, ``cutoff``, ``timezone``);
    :class:`CollectRefused` for a date that is no TARGET2 business day."""
    s = cfg.collection
    try:
        return send_deadline(collection_date, s.lead_days, s.cutoff, s.timezone)
    except ValueError as err:
        raise CollectRefused(f"{err}; nothing was prepared or booked") from err


def _late(cfg: TenantConfig, collection_date: date, deadline: datetime, now: datetime, what: str) -> str:
    nxt = next_collection_date(cfg, now)
    return (f"the send deadline of the collection date {collection_date:%d.%m.%Y} was "
            f"{deadline:%d.%m.%Y %H:%M} ({cfg.collection.timezone}); {what} — prepare the run again for the next "
            f"possible collection date, {nxt:%d.%m.%Y}")


def _run_of(cfg: TenantConfig, record: DateRecord, mode: str, flow_run_id: str | None) -> Run:
    return Run(JOB, cfg, record.collection_date, record.run_id, datetime.now(UTC), mode, flow_run_id)


def plan_date(cfg: TenantConfig, collection_date: date, *, user: str, mode: str = "plain",
              flow_run_id: str | None = None, now: datetime | None = None) -> Plan:
    """Decide what this call does for ``collection_date`` (module docstring); write the run's context.
    ``now``: the moment the send deadline is checked against (default :func:`clock`)."""
    now = now or clock()
    record = read_record(cfg, collection_date)
    con = open_ledger(cfg)
    try:
        booked = booked_collection_runs(con, cfg.tenant, collection_date)
    finally:
        con.close()
        del con
    if booked.height:
        ids = booked["run_id"].to_list()
        if record is not None and record.run_id in ids and record.stage != "done":
            plan = Plan("finish", _run_of(cfg, record, mode, flow_run_id), collection_date, run_id=record.run_id)
        else:
            return Plan("nothing", None, collection_date,
                        f"the collections of {collection_date:%d.%m.%Y} are booked already (run {ids[0]})", ids[0])
    elif record is not None and record.stage == "late":
        return Plan("late", None, collection_date,
                    _late(cfg, collection_date, deadline_of(cfg, collection_date), now,
                          f"run {record.run_id} was not booked"), record.run_id)
    elif record is None:
        if not cfg.collection.creditor_id:
            raise CollectRefused(f"tenant {cfg.tenant} has no [collection] creditor_id (Gläubiger-ID): it does "
                                 "not collect; nothing was prepared")
        deadline = deadline_of(cfg, collection_date)
        if now > deadline:
            return Plan("late", None, collection_date, _late(cfg, collection_date, deadline, now, "nothing was prepared"))
        run = new_run(JOB, cfg, collection_date, mode=mode, flow_run_id=flow_run_id)
        plan = Plan("prepare", run, collection_date, run_id=run.run_id)
    else:
        deadline = deadline_of(cfg, collection_date)
        if now > deadline:   # a file sent now reaches the bank too late: the prepared run is void
            write_record(cfg, advanced(record, "late"))
            return Plan("late", None, collection_date,
                        _late(cfg, collection_date, deadline, now, f"run {record.run_id} is not booked"), record.run_id)
        rel = read_releases(cfg.state_dir, cfg.tenant).get(record.run_id)
        run = _run_of(cfg, record, mode, flow_run_id)
        if rel is None:
            plan = Plan("show", run, collection_date,
                        f"run {record.run_id} is prepared by {record.prepared_by} and waits for its release",
                        record.run_id)
        else:
            check_release_fits(record, rel)
            plan = Plan("book", run, collection_date, run_id=record.run_id)
    assert plan.run is not None
    plan.run.folder.write_json("context", {"phase": plan.phase, "user": user,
                                           "collection_date": collection_date.isoformat(),
                                           "at": datetime.now(UTC).isoformat()})
    return plan


def check_release_fits(record: DateRecord, rel: Release) -> None:
    """The release must be a collection release naming the recorded preparer, by someone else (four-eyes)."""
    problem = release_misfit(rel, kind=RELEASE_KIND, run_id=record.run_id, prepared_by=record.prepared_by)
    if problem:
        raise CollectRefused(problem)


def _context(run: Run) -> dict[str, Any]:
    return run.folder.read_json("context")


# --- reading and selecting (both phases) ------------------------------------------------------------

def step_read_ledger(run: Run) -> dict[str, int]:
    """Read the open claims and the collection record into the run folder (``in_<phase>_*``)."""
    phase = _context(run)["phase"]
    con = open_ledger(run.cfg)
    try:
        state = read_collection_state(con, run.cfg.tenant)
    finally:
        con.close()
        del con
    state.write(run.folder.path, prefix=f"in_{phase}_")
    checkpoints.reached("read_ledger")
    return {"claims": state.claims.height, "collected_before": state.collected.height}


def step_select(run: Run) -> dict[str, int]:
    """The mandate register — the ledger's, with today's export laid over it (``amend_register``: a new
    IBAN is a Mandatsänderung, another debtor refuses the mandate) — its state on the date, and the
    selection (``selected_<phase>`` / ``skipped_<phase>``, ``register_``/``amendments_``/``mandates_<phase>``)."""
    phase = _context(run)["phase"]
    f, day, settings = run.folder, run.run_date, run.cfg.collection
    state = CollectionState.read(f.path, prefix=f"in_{phase}_")
    register, amendments = amend_register(state.register, mandates_from_claims(state.claims, on=day), on=day)
    mandates = mandate_states(register, state.collected, state.returned, on=day, settings=settings)
    f.write(f"register_{phase}", register)
    f.write(f"amendments_{phase}", amendments)
    sel, skipped = select_collections(state.claims, mandates, state.collected, state.returned,
                                      collection_date=day, settings=settings)
    if settings.convert_names:     # the bank files a name, it does not book by it (collection.sepa_text)
        sel, converted = convert_names(sel, "debtor_name", charset=Charset.DK)
        f.write(f"converted_{phase}", converted.join(
            sel.with_row_index("row").select("row", "receivable_id", "kassenzeichen"), on="row", how="left"))
    f.write(f"mandates_{phase}", mandates)
    f.write(f"selected_{phase}", sel)
    f.write(f"skipped_{phase}", skipped)
    checkpoints.reached("select")
    return {"selected": sel.height, "skipped": skipped.height}


# --- the files ------------------------------------------------------------------------------------------

def creditor(cfg: TenantConfig) -> Creditor:
    """The collecting side: ``[collection] creditor_id``, its account (``[collection] account``, else the
    first ``[[accounts]]``) and the tenant's name."""
    s = cfg.collection
    accounts = cfg.settings.accounts
    iban = s.account or (accounts[0].iban if accounts else None)
    if not s.creditor_id or not iban:
        raise CollectRefused(f"tenant {cfg.tenant} needs [collection] creditor_id and an account ([collection] "
                             "account or [[accounts]]) to collect")
    bic = next((a.bic for a in accounts if a.iban.replace(" ", "").upper() == iban.replace(" ", "").upper()), None)
    return Creditor(name=cfg.settings.tenant.name or cfg.tenant, iban=iban, creditor_id=s.creditor_id, bic=bic)


def pain_version(cfg: TenantConfig) -> str:
    """``[collection] pain008_version`` (``001.001.08``) as the schema's name (``pain.008.001.08``)."""
    return "pain.008." + cfg.collection.pain008_version.split(".", 1)[1]


def message_id(run: Run, n: int) -> str:
    """The ``n``-th file's GrpHdr/MsgId (module docstring): tenant tag, date, the run id's hex, number."""
    tag = re.sub(r"[^A-Za-z0-9]", "", run.cfg.tenant).upper()[:10] or "KASSE"
    return f"{tag}{run.run_date:%y%m%d}{run.run_id[-8:]}{n:02d}"


def refuse_texts(selected: pl.DataFrame) -> None:
    """Raise :class:`CollectRefused` naming every claim and field whose text the bank would refuse (SEPA
    character set, length): nothing is cut or transliterated, the clerk corrects the source."""
    issues = check_text(selected, TEXT_FIELDS, charset=Charset.DK)
    if issues.is_empty():
        return
    who = selected.with_row_index("row").select("row", "receivable_id", "kassenzeichen")
    lines = [f"claim {r['receivable_id']} (Kassenzeichen {r['kassenzeichen']}), field {r['field']}: {r['problem']}"
             + (f" {r['character']!r}" if r["character"] else "") + (f" ({r['length']} characters)" if r["length"] else "")
             for r in issues.join(who, on="row", how="left").head(20).iter_rows(named=True)]
    more = f"\n… and {issues.height - 20} more" if issues.height > 20 else ""
    raise CollectRefused(f"{issues.height} text(s) cannot go into a SEPA file unchanged; correct them in the "
                         "source (nothing was prepared):\n" + "\n".join(lines) + more)


def write_files(run: Run, selected: pl.DataFrame, ids: dict[str, str], folder: Path,
                created_at: datetime) -> list[dict[str, Any]]:
    """One pain.008 file per sequence type (one creditor id and date per run) into ``folder``, written
    atomically and validated against its XSD; ``ids``: sequence type → message id. Returns the files'
    descriptions (name, message id, payment-information id, count, control sum, SHA-256)."""
    cred, version = creditor(run.cfg), pain_version(run.cfg)
    folder.mkdir(parents=True, exist_ok=True)
    out: list[dict[str, Any]] = []
    for (seq, *_), part in split_files(selected, by=("sequence_type",)):
        mid = ids[str(seq)]
        name = f"pain008_{run.run_date:%Y%m%d}_{seq}_{mid}.xml"
        target = folder / name
        tmp = target.with_name(target.name + ".tmp")
        try:
            with tmp.open("wb") as fh:
                info = write_pain008(part, cred, message_id=mid, collection_date=run.run_date, created_at=created_at,
                                     sink=fh, version=version)
            validate(tmp, version)
        except (PainInputError, SepaTextError, PainValidationError) as err:
            tmp.unlink(missing_ok=True)
            raise CollectRefused(f"the pain.008 file for {seq} cannot be written: {err} (nothing was booked)") from err
        os.replace(tmp, target)
        out.append({"file_name": name, "message_id": mid, "pmtinf_id": payment_info_id(mid, str(seq)),
                    "sequence_type": str(seq), "count": info.count, "control_sum_cents": info.control_sum_cents,
                    "sha256": sha256_of(target)})
    return out


# --- prepare -------------------------------------------------------------------------------------------

def _tally(df: pl.DataFrame, col: str) -> dict[str, int]:
    if df.height == 0:
        return {}
    return {str(k): int(v) for k, v in df[col].drop_nulls().value_counts(sort=True).iter_rows()}


def _converted(f: RunDir, phase: str) -> pl.DataFrame:
    """The phase's names written in the SEPA set (``[collection] convert_names``): ``receivable_id``,
    ``original``, ``converted`` (none when the setting is off)."""
    path = f.file(f"converted_{phase}")
    if not path.exists():
        return pl.DataFrame(schema={"receivable_id": pl.String(), "original": pl.String(), "converted": pl.String()})
    return pl.read_parquet(path).select("receivable_id", "original", "converted")


def step_files(run: Run) -> dict[str, Any]:
    """Check the texts, write and validate the prepared files (``prepared/``), the prepared summary."""
    f = run.folder
    sel = f.read("selected_prepare")
    summary: dict[str, Any] = {"collection_date": run.run_date.isoformat(), "n_collections": sel.height,
                               "total_cents": int(sel["amount_cents"].sum() or 0),
                               "sequence": _tally(sel, "sequence_type"),
                               "skipped": _tally(f.read("skipped_prepare"), "reason"), "files": [],
                               "names_converted": _converted(f, "prepare").height}
    if sel.height:
        header = creditor(run.cfg)
        try:
            check_header_text({"creditor_name": (header.name, FieldKind.NAME),
                               "creditor_id": (header.creditor_id, FieldKind.ID)}, Charset.DK)
        except SepaTextError as err:
            raise CollectRefused(f"[tenant] name or [collection] creditor_id cannot go into a SEPA file: {err}") from err
        refuse_texts(sel)
        seqs = [str(k[0]) for k, _ in split_files(sel, by=("sequence_type",))]
        ids = {s: message_id(run, i + 1) for i, s in enumerate(seqs)}
        taken = set(CollectionState.read(f.path, prefix="in_prepare_").collected["message_id"].to_list())
        if taken & set(ids.values()):
            raise CollectRefused(f"message id(s) {sorted(taken & set(ids.values()))} are in the ledger already; "
                                 "nothing was prepared")
        f.write_json("message_ids", ids)
        prepared_at = datetime.now(UTC).replace(microsecond=0)
        f.write_json("created_at", {"at": prepared_at.isoformat()})
        summary["files"] = write_files(run, sel, ids, f.path / "prepared", prepared_at)
    f.write_json("prepared_summary", summary)
    checkpoints.reached("files")
    return summary


def step_record(run: Run) -> str:
    """Record the prepared run for the date (what the next call looks for); an empty selection records
    nothing, so a later call of the same day may prepare what has become due."""
    if not run.folder.read_json("prepared_summary").get("n_collections"):
        checkpoints.reached("record")
        return ""
    at = datetime.fromisoformat(run.folder.read_json("created_at")["at"])
    write_record(run.cfg, DateRecord(run.run_id, run.run_date, _context(run)["user"], at))
    checkpoints.reached("record")
    return run.run_id


# --- book ----------------------------------------------------------------------------------------------

#: The columns a prepared collection must keep, unchanged, to be booked.
SAME = ("receivable_id", "end_to_end_id", "amount_cents", "mandate_id", "debtor_iban", "sequence_type")


def reconcile(prepared: pl.DataFrame, now: pl.DataFrame, skipped: pl.DataFrame,
              open_ids: pl.Series) -> tuple[pl.DataFrame, pl.DataFrame]:
    """``(kept, dropped)``: the prepared collections still selected with the same figures, and the others
    with a reason: ``nothing_open`` for a claim no longer open (``open_ids``: the receivable ids open now;
    paid in full), the selection's skip reason now, else ``changed`` (a part paid, another account or
    sequence type). Nothing new is added."""
    key = list(SAME)
    kept = prepared.join(now.select(key), on=key, how="semi", nulls_equal=True)
    reason = (pl.when(~pl.col("receivable_id").is_in(open_ids.implode())).then(pl.lit(CollectSkip.NOTHING_OPEN))
              .otherwise(pl.coalesce("reason", pl.lit("changed"))))
    dropped = (prepared.join(now.select(key), on=key, how="anti", nulls_equal=True)
               .join(skipped.select("receivable_id", "reason"), on="receivable_id", how="left")
               .select("receivable_id", "kassenzeichen", "end_to_end_id", "amount_cents", reason.alias("reason")))
    return kept, dropped


def step_reconcile(run: Run) -> dict[str, int]:
    """Keep what was prepared and is still due unchanged (``kept``, ``dropped``)."""
    f = run.folder
    open_ids = CollectionState.read(f.path, prefix="in_book_").claims["receivable_id"]
    kept, dropped = reconcile(f.read("selected_prepare"), f.read("selected_book"), f.read("skipped_book"), open_ids)
    f.write("kept", kept)
    f.write("dropped", dropped)
    checkpoints.reached("reconcile")
    return {"kept": kept.height, "dropped": dropped.height}


def step_stage(run: Run) -> dict[str, int]:
    """Write the final files (the kept rows, the prepared ids and creation time), validate them, stage the
    collection record and the audit events (``book_*``)."""
    f, cfg = run.folder, run.cfg
    record = find_record(cfg, run.run_id)
    rel = read_releases(cfg.state_dir, cfg.tenant)[run.run_id]
    kept, dropped = f.read("kept"), f.read("dropped")
    created = datetime.fromisoformat(f.read_json("created_at")["at"])
    files = write_files(run, kept, f.read_json("message_ids"), f.path / "final", created) if kept.height else []
    by_seq = pl.DataFrame(files, schema={"file_name": pl.String(), "message_id": pl.String(),
                                         "pmtinf_id": pl.String(), "sequence_type": pl.String(),
                                         "count": pl.Int64(), "control_sum_cents": pl.Int64(),
                                         "sha256": pl.String()})
    rows = kept.join(by_seq.select("sequence_type", "file_name", "message_id", "pmtinf_id",
                                   pl.col("sha256").alias("file_sha256")), on="sequence_type", how="left")
    # the register's changes (new or changed mandates) and the Mandatsänderungen seen, as events
    before = CollectionState.read(f.path, prefix="in_book_").register
    register = f.read("register_book")
    f.book("mandates", register.join(before, on=list(register.columns), how="anti", nulls_equal=True)
           .with_columns(pl.lit(run.run_id).alias("run_id")))
    f.book("mandate_amendments", f.read("amendments_book").with_columns(pl.lit(run.run_id).alias("run_id")))
    f.book("collections", rows.with_columns(pl.lit(cfg.tenant).alias("tenant"), pl.lit(run.run_id).alias("run_id"),
                                            pl.lit(record.prepared_by).alias("prepared_by"),
                                            pl.lit(rel.released_by).alias("released_by")))
    summary = {"collection_date": run.run_date.isoformat(), "n_collections": kept.height,
               "total_cents": int(kept["amount_cents"].sum() or 0), "sequence": _tally(kept, "sequence_type"),
               "dropped": _tally(dropped, "reason"), "files": files, "prepared_by": record.prepared_by,
               "prepared_at": record.prepared_at.isoformat(), "released_by": rel.released_by,
               "released_at": rel.released_at, "booked_by": _context(run)["user"]}
    converted = _converted(f, "book").join(kept.select("receivable_id"), on="receivable_id", how="semi")
    summary["names_converted"] = converted.height
    now = datetime.now(UTC)
    events = [("collection.prepared", run.run_id, {"by": record.prepared_by, "at": record.prepared_at.isoformat()}),
              ("collection.released", run.run_id, {"by": rel.released_by, "at": rel.released_at}),
              *[("collection.dropped", str(r), {"end_to_end_id": e, "amount_cents": a, "reason": why})
                for r, _, e, a, why in dropped.iter_rows()],
              *[("collection.name_converted", str(r["receivable_id"]), {"original": r["original"], "sent": r["converted"]})
                for r in converted.iter_rows(named=True)],
              ("collection.booked", run.run_id, {k: summary[k] for k in ("n_collections", "total_cents", "dropped")})]
    f.book("audit_events", pl.DataFrame(
        [{"tenant": cfg.tenant, "run_id": run.run_id, "at": now, "event": e, "subject": s,
          "detail": json.dumps(d, default=str)} for e, s, d in events], schema=AUDIT_EVENTS))
    f.write_json("book_summary", summary)
    checkpoints.reached("stage")
    return {"collections": kept.height, "files": len(files)}


def step_book(run: Run) -> dict[str, int]:
    """Append the staged rows and the run's ``runs`` row in ONE transaction (idempotent per run id)."""
    checkpoints.reached("book")
    f = run.folder
    staged = {t: fr for t, fr in f.ledger_frames().items() if fr.height}
    written = book_run(run, staged, runs_row(run, f.read_json("book_summary")))
    record = find_record(run.cfg, run.run_id)
    if record.stage == "prepared":
        write_record(run.cfg, advanced(record, "booked", booked_at=datetime.now(UTC)))
    return written


def outbox_dir(cfg: TenantConfig) -> Path:
    """``[collection] outbox`` (relative to the tenant folder), else ``<tenant folder>/outbox``."""
    return cfg.tenant_dir / (cfg.collection.outbox or OUTBOX)


def step_outbox(run: Run) -> dict[str, str]:
    """Copy the booked files into the outbox, then the run's manifest (``jobs.outbox.deliver``)."""
    f = run.folder
    summary = f.read_json("book_summary")
    manifest = {"tenant": run.cfg.tenant, "run_id": run.run_id, "collection_date": run.run_date.isoformat(),
                "n_files": len(summary["files"]), "count": summary["n_collections"],
                "control_sum_cents": summary["total_cents"],
                "files": [{k: d[k] for k in ("file_name", "message_id", "sequence_type", "count",
                                             "control_sum_cents", "sha256")} for d in summary["files"]]}
    paths = deliver(run.cfg, outbox_dir(run.cfg), f.path / "final", summary["files"], manifest,
                    f"pain008_{run.run_date:%Y%m%d}_{run.run_id[-8:]}.manifest.json", CollectRefused)
    f.write_json("outbox_paths", paths)
    checkpoints.reached("outbox")
    return paths


def step_done(run: Run) -> str:
    """Mark the date done (the outbox holds the files)."""
    record = find_record(run.cfg, run.run_id)
    write_record(run.cfg, advanced(record, "done", booked_at=record.booked_at or datetime.now(UTC)))
    checkpoints.reached("done")
    return run.run_id


def step_publish(run: Run) -> str:
    """Publish the runs, the mandate register and the returns for the review page
    (:mod:`jobs.collect.publish`); the page never opens the ledger. Before ``done``: a crash here is
    finished by the next call, which publishes again."""
    from jobs.collect.publish import publish_state

    link = publish_state(run.cfg)
    checkpoints.reached("publish")
    return str(link)


# --- the phases ------------------------------------------------------------------------------------------

Step = Callable[[Run], Any]
STEPS: dict[str, tuple[tuple[str, Step], ...]] = {
    "prepare": (("read_ledger", step_read_ledger), ("select", step_select), ("files", step_files),
                ("record", step_record), ("publish", step_publish)),
    "show": (("publish", step_publish),),
    "book": (("read_ledger", step_read_ledger), ("select", step_select), ("reconcile", step_reconcile),
             ("stage", step_stage), ("book", step_book), ("outbox", step_outbox), ("publish", step_publish),
             ("done", step_done)),
    "finish": (("outbox", step_outbox), ("publish", step_publish), ("done", step_done)),
    "nothing": (),
    "late": (),
}
STEPS_BY_NAME: dict[str, Step] = {name: step for phase in STEPS.values() for name, step in phase}


def outcome(plan: Plan, results: dict[str, Any]) -> CollectOutcome:
    """The outcome of a call from its plan and what its steps returned."""
    day = plan.collection_date
    if plan.phase == "late":
        return CollectOutcome("too_late", plan.run_id, day, message=plan.message)
    if plan.run is None:
        return CollectOutcome("nothing_to_do", plan.run_id, day, message=plan.message)
    f = plan.run.folder
    if plan.phase in ("prepare", "show"):
        counts = f.read_json("prepared_summary")
        if plan.phase == "prepare" and not counts.get("n_collections"):
            return CollectOutcome("nothing_to_do", None, day, counts,
                                  message=f"no claim is to be collected on {day:%d.%m.%Y}")
        paths = {"run_folder": str(f.path),
                 **{d["file_name"]: str(f.path / "prepared" / d["file_name"]) for d in counts.get("files", [])}}
        return CollectOutcome("prepared", plan.run_id, day, counts, paths,
                              plan.message or f"prepared: {counts.get('n_collections', 0)} collections in "
                              f"{len(counts.get('files', []))} file(s) wait for the release by a supervisor "
                              "other than the preparer")
    counts = f.read_json("book_summary")
    return CollectOutcome("booked", plan.run_id, day, counts, {"run_folder": str(f.path), **f.read_json("outbox_paths")},
                          f"booked: {counts.get('n_collections', 0)} collections, "
                          f"{sum(counts.get('dropped', {}).values())} dropped since the preparation")


def run_collect(cfg: TenantConfig, collection_date: date, *, user: str, now: datetime | None = None) -> CollectOutcome:
    """Do what ``collection_date`` needs next (module docstring), without Prefect, under the tenant lock.
    ``now``: the moment the send deadline is checked against (default :func:`clock`)."""
    with tenant_lock(cfg):
        plan = plan_date(cfg, collection_date, user=user, now=now)
        results = {name: step(plan.run) for name, step in STEPS[plan.phase]} if plan.run else {}
    return outcome(plan, results)


def next_collection_date(cfg: TenantConfig, now: datetime | None = None) -> date:
    """The first collection date a file sent now still reaches (``[collection] lead_days``, ``cutoff``,
    TARGET2 days): what a scheduled call prepares."""
    s = cfg.collection
    return earliest_collection_date(now or clock(), s.lead_days, s.cutoff, s.timezone)


def dates_to_run(cfg: TenantConfig, day: date) -> list[date]:
    """``day`` and every earlier-prepared date that is released or booked but not done: a scheduled call
    (whose date moves on every day) books what a supervisor released since the last call."""
    releases = read_releases(cfg.state_dir, cfg.tenant)
    waiting = {r.collection_date for r in all_records(cfg)
               if r.stage == "booked" or (r.stage == "prepared" and r.run_id in releases)}
    return sorted(waiting | {day})


def release(cfg: TenantConfig, run_id: str, *, user: str, role: str, note: str = "") -> Release:
    """Release the prepared run ``run_id`` (a supervisor other than its preparer): writes the release line
    (``ledger.release_journal``, kind ``collection_release``; its :class:`~ledger.journal.JournalError`
    when refused). The next call of :func:`run_collect` for the date books it."""
    record = find_record(cfg, run_id)
    if record.stage != "prepared":
        raise CollectRefused(f"collection run {run_id} is {record.stage} already")
    return record_release(cfg.state_dir, cfg.tenant, run_id, user=user, role=role, prepared_by=record.prepared_by,
                          note=note, kind=RELEASE_KIND)
