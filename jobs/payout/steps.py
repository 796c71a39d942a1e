"""The SEPA payout run's steps: prepare, (a second person releases), book — plain functions, no Prefect.

One call of :func:`run_payout` does what the execution date needs next (:func:`plan_date`), like the
collection run (:mod:`jobs.collect.steps`):

* **prepare** (nothing prepared for the date): read the refunds due, what earlier runs gave them, the
  payments' allocations and the open claims (``ledger.payout_state``) and the blocks of the block journal;
  the payable refunds (``collection.payouts.payable``: IBAN by schwifty, SEPA text) less those to an IBAN
  a returned transfer blocked (``payee_blocks``: skipped ``payee_blocked``); the **set-off**
  (``collection.setoff``: certain debtor, due, allowed, unblocked claims, oldest first) on the preparation
  day; the credit transfers of what is left, and the **forwards** of money collected for other creditors
  (``collection.forward``: one per creditor, never set off, with a Weiterleitungsnachweis CSV each);
  one pain.001 file into the run folder (``prepared/``),
  validated against its XSD; the draft Verrechnungsmitteilungen (when ``outputs.setoff_letters`` is
  there); the date's record. Nothing is booked, nothing reaches the outbox;
* **show** (prepared, not released yet): nothing changes but the page's snapshot (``publish``);
* **book** (a ``payout_release`` line by a supervisor other than the preparer): recompute everything at
  the same set-off day against the ledger as it is now; keep what is unchanged — per debtor (or per
  refund when its debtor is not certain) the same transfers and set-offs to the cent — and drop the rest
  (a claim paid since, a refund paid by another run, a new block: reported, prepared again by a later run,
  never paid on stale figures); rewrite the file from the kept rows with the prepared ids (unchanged: the
  released bytes); book ``payouts``, ``setoffs`` and the ``set_off`` allocations with the ``runs`` row in
  ONE transaction; the final letters; then the outbox (file, then manifest);
* **finish** (booked, outbox not written: a crash after the commit): the outbox step;
* **nothing to do**: the date is booked already, or nothing is due.

A refund is never paid twice: what is due is the refund less every set-off and payout booked for it (the
ledger), the run of a date is booked once (``runs``), and an end-to-end or message id the ledger holds
refuses the preparation. Steps end at ``ledger.checkpoints.reached(<name>)``; before ``book`` only the run
folder and the date's record are written, so a crash leaves the ledger as it was.
"""

from __future__ import annotations

import importlib
import json
import os
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import polars as pl

from claims.errors import KasseError
from claims.vocab import PayoutSkip, PayoutSource
from collection.dates import earliest_collection_date, is_target_day
from collection.forward import forward_due, forward_events, proof_files, register_frame
from collection.pain001 import DebtorAccount, write_pain001
from collection.pain_xml import PainInputError, check_header_text, payment_info_id
from collection.payout_back import BLOCK_SCHEMA, skip_blocked
from collection.payouts import SKIPPED_SCHEMA, payable, transfers
from collection.sepa_text import Charset, FieldKind, SepaTextError, convert_names
from collection.setoff import credit_debtors, eligible_claims, set_off
from collection.xsd import PainValidationError, validate
from jobs.outbox import deliver, sha256_of
from jobs.payout.record import PayoutRecord, all_records, find_record, read_record, write_record
from jobs.records import advanced
from jobs.rundir import RunDir
from jobs.runner import Run, book_run, new_run, open_ledger, runs_row, tenant_lock
from ledger import checkpoints
from ledger.block_journal import blocks_frame, load_blocks
from ledger.config import TenantConfig
from ledger.payout_back_state import blocked_payee_ibans
from ledger.payout_state import PayoutState, booked_payout_runs, read_payout_state
from ledger.publish_payout import RELEASE_KIND
from ledger.release_journal import Release, read_releases, record_release, release_misfit
from ledger.tables import AUDIT_EVENTS, OWN_CLAIMS

JOB = "payout"
PHASES = ("prepare", "show", "book", "finish", "nothing")
OUTBOX = "outbox"
#: The Verrechnungsmitteilung writer (``write_setoff_letters(letters, lines, sender, path, *, draft)``).
LETTERS_MODULE = "outputs.setoff_letters"


class PayoutRefused(KasseError):
    """The payout run may not run now (no account, a text the bank would refuse, a release that does not fit)."""


@dataclass(frozen=True, slots=True)
class PayoutOutcome:
    """What a call did: ``status`` prepared | booked | nothing_to_do, the date's ``run_id``, counts, paths."""

    status: str
    run_id: str | None
    execution_date: date
    counts: dict[str, Any] = field(default_factory=dict)
    paths: dict[str, str] = field(default_factory=dict)
    message: str = ""


@dataclass(frozen=True, slots=True)
class Plan:
    """The phase a call runs, with the run (``None``: nothing to do) and why."""

    phase: str
    run: Run | None
    execution_date: date
    message: str = ""
    run_id: str | None = None


# --- planning ---------------------------------------------------------------------------------------

def _run_of(cfg: TenantConfig, record: PayoutRecord, mode: str, flow_run_id: str | None) -> Run:
    return Run(JOB, cfg, record.execution_date, record.run_id, datetime.now(UTC), mode, flow_run_id)


def plan_date(cfg: TenantConfig, execution_date: date, *, user: str, mode: str = "plain",
              flow_run_id: str | None = None, today: date | None = None) -> Plan:
    """Decide what this call does for ``execution_date`` (module docstring); write the run's context.
    ``today``: the set-off day of a new preparation (default: today in ``[payout] timezone``)."""
    record = read_record(cfg, execution_date)
    con = open_ledger(cfg)
    try:
        booked = booked_payout_runs(con, cfg.tenant, execution_date)
    finally:
        con.close()
        del con
    set_off_on = today or datetime.now(ZoneInfo(cfg.payout.timezone)).date()
    if booked.height:
        ids = booked["run_id"].to_list()
        if record is not None and record.run_id in ids and record.stage != "done":
            plan = Plan("finish", _run_of(cfg, record, mode, flow_run_id), execution_date, run_id=record.run_id)
        else:
            return Plan("nothing", None, execution_date,
                        f"the payouts of {execution_date:%d.%m.%Y} are booked already (run {ids[0]})", ids[0])
    elif record is None:
        debtor_account(cfg)
        if not is_target_day(execution_date):
            raise PayoutRefused(f"{execution_date:%d.%m.%Y} is no TARGET2 business day: no transfer is executed "
                                "on it; nothing was prepared")
        run = new_run(JOB, cfg, execution_date, mode=mode, flow_run_id=flow_run_id)
        plan = Plan("prepare", run, execution_date, run_id=run.run_id)
    else:
        set_off_on = record.set_off_on
        rel = read_releases(cfg.state_dir, cfg.tenant).get(record.run_id)
        run = _run_of(cfg, record, mode, flow_run_id)
        if rel is None:
            plan = Plan("show", run, execution_date,
                        f"run {record.run_id} is prepared by {record.prepared_by} and waits for its release",
                        record.run_id)
        else:
            check_release_fits(record, rel)
            plan = Plan("book", run, execution_date, run_id=record.run_id)
    assert plan.run is not None
    plan.run.folder.write_json("context", {"phase": plan.phase, "user": user, "set_off_on": set_off_on.isoformat(),
                                           "execution_date": execution_date.isoformat(),
                                           "at": datetime.now(UTC).isoformat()})
    return plan


def check_release_fits(record: PayoutRecord, rel: Release) -> None:
    """The release must be a payout release naming the recorded preparer, by someone else (four-eyes)."""
    problem = release_misfit(rel, kind=RELEASE_KIND, run_id=record.run_id, prepared_by=record.prepared_by)
    if problem:
        raise PayoutRefused(problem)


def _context(run: Run) -> dict[str, Any]:
    return run.folder.read_json("context")


def debtor_account(cfg: TenantConfig) -> DebtorAccount:
    """The paying side: ``[payout] account`` (else the collection account), its BIC from ``[[accounts]]``."""
    iban = cfg.payout_account
    if not iban:
        raise PayoutRefused(f"tenant {cfg.tenant} has no account to pay from ([payout] account, [collection] "
                            "account or [[accounts]]); nothing was prepared")
    compact = iban.replace(" ", "").upper()
    bic = next((a.bic for a in cfg.accounts if a.iban.replace(" ", "").upper() == compact), None)
    return DebtorAccount(name=cfg.settings.tenant.name or cfg.tenant, iban=compact, bic=bic)


def pain_version(cfg: TenantConfig) -> str:
    """``[payout] pain001_version`` (``001.001.09``) as the schema's name (``pain.001.001.09``)."""
    return "pain.001." + cfg.payout.pain001_version.split(".", 1)[1]


def message_id(run: Run) -> str:
    """GrpHdr/MsgId: tenant tag, ``P``, execution date, the run id's hex (a rerun of the run: the same id)."""
    tag = re.sub(r"[^A-Za-z0-9]", "", run.cfg.tenant).upper()[:10] or "KASSE"
    return f"{tag}P{run.run_date:%y%m%d}{run.run_id[-8:]}"


def letter_prefix(run: Run) -> str:
    """Letter ids ``VM<run id's 8 hex>-<nnnn>``: unique across runs."""
    return f"VM{run.run_id[-8:]}-"


# --- reading and computing (both phases) ------------------------------------------------------------

def step_read_ledger(run: Run) -> dict[str, int]:
    """Read the refunds, what was given for them, the allocations and the open claims (``in_<phase>_*``),
    the blocks in force on the set-off day (``blocks_<phase>``) and the IBANs blocked for payouts after a
    returned transfer (``payee_blocks_<phase>``)."""
    ctx = _context(run)
    phase = ctx["phase"]
    con = open_ledger(run.cfg)
    try:
        state = read_payout_state(con, run.cfg.tenant)
        payee_blocks = blocked_payee_ibans(con, run.cfg.tenant)
    finally:
        con.close()
        del con
    state.write(run.folder.path, prefix=f"in_{phase}_")
    blocks, _ = load_blocks(run.cfg.state_dir, run.cfg.tenant)
    run.folder.write(f"blocks_{phase}", blocks_frame(blocks, date.fromisoformat(ctx["set_off_on"])))
    run.folder.write(f"payee_blocks_{phase}", payee_blocks)
    checkpoints.reached("read_ledger")
    return {"refunds": state.due.height, "claims": state.claims.height, "payee_blocks": payee_blocks.height}


def skip_blocked_payees(candidates: pl.DataFrame, payee_blocks: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
    """``(candidates, skipped)``: the payable refunds whose IBAN a returned transfer blocked
    (``collection.payout_back.skip_blocked``) leave the run with ``payee_blocked`` — before the set-off,
    as every skip for the payee: a clerk decides the refund again with another IBAN (or lifts the block)."""
    kept, blocked = skip_blocked(candidates, payee_blocks)
    skipped = blocked.select(
        "source", "source_id", "transaction_id", "amount_cents", pl.lit(PayoutSkip.PAYEE_BLOCKED.value).alias("reason"),
        pl.format("{} gesperrt seit {} ({}, Rückläufer {})", pl.col("payee_iban"),
                  pl.col("blocked_since").dt.strftime("%d.%m.%Y"), pl.col("blocked_reason").fill_null("ohne Grund"),
                  pl.col("blocked_by_end_to_end_id")).alias("detail"))
    return kept, skipped.select([pl.col(c).cast(t) for c, t in SKIPPED_SCHEMA.items()])


def _payee_blocks(run: Run, phase: str) -> pl.DataFrame:
    """The run folder's ``payee_blocks_<phase>`` (none in the folder of a run read by an older release)."""
    name = f"payee_blocks_{phase}"
    return run.folder.read(name) if run.folder.file(name).exists() else pl.DataFrame(schema=BLOCK_SCHEMA)


def _converted(f: RunDir, phase: str) -> pl.DataFrame:
    """The phase's payee names written in the SEPA set (``[collection] convert_names``): ``source_id``,
    ``original``, ``converted`` (none when the setting is off)."""
    path = f.file(f"converted_{phase}")
    if not path.exists():
        return pl.DataFrame(schema={"source_id": pl.String(), "original": pl.String(), "converted": pl.String()})
    return pl.read_parquet(path)


def step_compute(run: Run) -> dict[str, int]:
    """Payable refunds, the set-off, the transfers (``transfers_<phase>``, ``skipped_<phase>``,
    ``setoffs_<phase>``, ``allocations_<phase>``, ``letters_<phase>``, ``lines_<phase>``, ``credits_<phase>``)."""
    ctx = _context(run)
    phase, on = ctx["phase"], date.fromisoformat(ctx["set_off_on"])
    f, s = run.folder, run.cfg.payout
    state = PayoutState.read(f.path, prefix=f"in_{phase}_")
    due = state.due
    if run.cfg.collection.convert_names:   # as the collection run: the bank files a name, it does not book by it
        due, converted = convert_names(due, "payee_name", charset=Charset.DK)
        f.write(f"converted_{phase}", converted.join(due.with_row_index("row").select("row", "source_id"), on="row",
                                                     how="left").select("source_id", "original", "converted"))
    candidates, skipped = payable(due, state.booked)
    candidates, blocked = skip_blocked_payees(candidates, _payee_blocks(run, phase))
    skipped = pl.concat([skipped, blocked])
    credits = credit_debtors(candidates, state.links)
    claims = eligible_claims(state.claims, on, claim_types=s.setoff_claim_types, despite_blocks=s.setoff_despite_blocks,
                             blocks=f.read(f"blocks_{phase}"))
    preparer = find_record(run.cfg, run.run_id).prepared_by if phase == "book" else ctx["user"]
    out = set_off(credits, claims, on, letter_prefix=letter_prefix(run), decided_by=preparer, enabled=s.setoff)
    tr, full = transfers(out.credits, candidates, run.run_date)
    # money collected for other creditors: never set off (no mutuality), one transfer per creditor
    register = register_frame(run.cfg.creditors, state.accounts)   # [[creditors]], else the requests' accounts
    fw, fw_skipped, proof = forward_due(state.forward_items, state.forwarded, register, run.run_date)
    fw, fw_blocked = skip_blocked_payees(fw, _payee_blocks(run, phase))   # a returned forward: its IBAN blocked
    tr = pl.concat([tr, fw])
    full = pl.concat([full, fw_skipped, fw_blocked])
    f.write(f"proof_{phase}", proof.join(fw.select("source_id"), on="source_id", how="semi"))
    f.write(f"credits_{phase}", out.credits)
    f.write(f"transfers_{phase}", tr)
    f.write(f"skipped_{phase}", pl.concat([skipped, full]))
    f.write(f"setoffs_{phase}", out.setoffs)
    f.write(f"allocations_{phase}", out.allocations)
    f.write(f"letters_{phase}", out.letters)
    f.write(f"lines_{phase}", out.lines)
    checkpoints.reached("compute")
    return {"transfers": tr.height, "forwards": fw.height, "setoffs": out.setoffs.height,
            "skipped": skipped.height + full.height}


# --- the file and the letters ---------------------------------------------------------------------------

def write_file(run: Run, rows: pl.DataFrame, mid: str, folder: Path, created_at: datetime) -> dict[str, Any]:
    """The pain.001 file of ``rows`` into ``folder``, written atomically and validated against its XSD."""
    version = pain_version(run.cfg)
    folder.mkdir(parents=True, exist_ok=True)
    name = f"pain001_{run.run_date:%Y%m%d}_{mid}.xml"
    target = folder / name
    tmp = target.with_name(target.name + ".tmp")
    try:
        with tmp.open("wb") as fh:
            info = write_pain001(rows, debtor_account(run.cfg), execution_date=run.run_date, message_id=mid,
                                 created_at=created_at, sink=fh, version=version)
        validate(tmp, version)
    except (PainInputError, SepaTextError, PainValidationError) as err:
        tmp.unlink(missing_ok=True)
        raise PayoutRefused(f"the pain.001 file cannot be written: {err} (nothing was booked)") from err
    os.replace(tmp, target)
    return {"file_name": name, "message_id": mid, "pmtinf_id": payment_info_id(mid, "TRF"), "count": info.count,
            "control_sum_cents": info.control_sum_cents, "sha256": sha256_of(target), "version": version}


def write_letters(run: Run, letters: pl.DataFrame, lines: pl.DataFrame, path: Path, *, draft: bool) -> str | None:
    """The Verrechnungsmitteilungen as one PDF (``outputs.setoff_letters``, written by another slice): when
    that module is not there yet, the letters stay as their data frames in the run folder."""
    if letters.is_empty():
        return None
    try:
        writer = importlib.import_module(LETTERS_MODULE)
    except ModuleNotFoundError as exc:
        if exc.name != LETTERS_MODULE:
            raise
        return None
    from outputs.dunning_letters import sender_from_config

    path.parent.mkdir(parents=True, exist_ok=True)
    writer.write_setoff_letters(letters, lines, sender_from_config(run.cfg), path, draft=draft)
    return str(path)


def _tally(df: pl.DataFrame, col: str) -> dict[str, int]:
    if df.height == 0:
        return {}
    return {str(k): int(v) for k, v in df[col].drop_nulls().value_counts(sort=True).iter_rows()}


def _forwards(tr: pl.DataFrame) -> dict[str, int]:
    fw = tr.filter(pl.col("source") == PayoutSource.FORWARD.value)
    return {"n_forwards": fw.height, "forward_cents": int(fw["amount_cents"].sum() or 0)}


def write_proofs(run: Run, proof: pl.DataFrame, folder: Path) -> list[dict[str, str]]:
    """The Weiterleitungsnachweis of each forward (``collection.forward.proof_files``) as a CSV beside the
    pain.001 file (``;``, decimal comma, with BOM for Excel), written atomically: ``file_name`` and ``sha256``."""
    out: list[dict[str, str]] = []
    folder.mkdir(parents=True, exist_ok=True)
    for name, rows in proof_files(proof, run.run_date):
        target = folder / name
        tmp = target.with_name(target.name + ".tmp")
        rows.write_csv(tmp, separator=";", include_bom=True)
        os.replace(tmp, target)
        out.append({"file_name": name, "sha256": sha256_of(target)})
    return out


def step_files(run: Run) -> dict[str, Any]:
    """Check the header, write and validate the prepared file (``prepared/``) and the draft letters; the
    prepared summary."""
    f = run.folder
    tr, setoffs, letters = f.read("transfers_prepare"), f.read("setoffs_prepare"), f.read("letters_prepare")
    credits = f.read("credits_prepare")
    summary: dict[str, Any] = {
        "execution_date": run.run_date.isoformat(), "set_off_on": _context(run)["set_off_on"],
        "n_payouts": tr.height, "total_cents": int(tr["amount_cents"].sum() or 0),
        "n_setoffs": setoffs.height, "setoff_cents": int(setoffs["amount_cents"].sum() or 0),
        "n_letters": letters.height, "skipped": _tally(f.read("skipped_prepare"), "reason"), **_forwards(tr),
        "no_setoff": _tally(credits, "setoff_skip"), "files": [],
        "names_converted": _converted(f, "prepare").join(tr.select("source_id"), on="source_id", how="semi").height}
    if tr.height or setoffs.height:
        acct = debtor_account(run.cfg)
        try:
            check_header_text({"debtor_name": (acct.name, FieldKind.NAME)}, Charset.DK)
        except SepaTextError as err:
            raise PayoutRefused(f"[tenant] name cannot go into a SEPA file: {err}") from err
        mid = message_id(run)
        state = PayoutState.read(f.path, prefix="in_prepare_")
        taken_e2e = set(state.ids["end_to_end_id"].to_list()) & set(tr["end_to_end_id"].to_list())
        if mid in set(state.ids["message_id"].to_list()) or taken_e2e:
            raise PayoutRefused(f"message id {mid} or end-to-end id(s) {sorted(taken_e2e)[:5]} are in the ledger "
                                "already; nothing was prepared")
        prepared_at = datetime.now(UTC).replace(microsecond=0)
        f.write_json("ids", {"message_id": mid, "created_at": prepared_at.isoformat()})
        if tr.height:
            summary["files"] = [write_file(run, tr, mid, f.path / "prepared", prepared_at)]
            summary["proofs"] = write_proofs(run, f.read("proof_prepare"), f.path / "prepared")
        summary["letters_pdf"] = write_letters(run, letters, f.read("lines_prepare"),
                                               f.path / "prepared" / f"verrechnung_{run.run_date:%Y%m%d}.pdf", draft=True)
    f.write_json("prepared_summary", summary)
    checkpoints.reached("files")
    return summary


def step_record(run: Run) -> str:
    """Record the prepared run for the date; a run with nothing to pay or set off records nothing."""
    s = run.folder.read_json("prepared_summary")
    if not (s.get("n_payouts") or s.get("n_setoffs")):
        checkpoints.reached("record")
        return ""
    ctx = _context(run)
    at = datetime.fromisoformat(run.folder.read_json("ids")["created_at"])
    write_record(run.cfg, PayoutRecord(run.run_id, run.run_date, ctx["user"], at, date.fromisoformat(ctx["set_off_on"])))
    checkpoints.reached("record")
    return run.run_id


# --- book ----------------------------------------------------------------------------------------------

#: What must be the same, to the cent, for a prepared transfer / set-off to be booked.
SAME_TRANSFER = ("source_id", "debtor_id", "end_to_end_id", "amount_cents", "setoff_cents", "payee_iban",
                 "payee_name", "remittance")
SAME_SETOFF = ("source_id", "debtor_id", "transaction_id", "receivable_id", "amount_cents")


def _unit(frame: pl.DataFrame) -> pl.Expr:
    """What is kept or dropped as a whole: the debtor (their letter lists all their set-offs), or the refund
    when its debtor is not certain."""
    return pl.coalesce(pl.format("debtor:{}", pl.col("debtor_id")), pl.format("refund:{}", pl.col("source_id")))


def reconcile(prepared: dict[str, pl.DataFrame], now: dict[str, pl.DataFrame]) -> tuple[pl.Series, pl.DataFrame]:
    """``(kept units, dropped)``: a unit (:func:`_unit`) is kept when its transfers and set-offs are the same
    in the recomputation as prepared — nothing more, nothing less; the others are dropped with their
    refunds and the reason ``changed`` or, when the refund is no longer due at all, ``already_paid``."""
    def rows(frames: dict[str, pl.DataFrame], kind: str, cols: tuple[str, ...]) -> pl.DataFrame:
        return frames[kind].select(_unit(frames[kind]).alias("unit"), *cols)

    bad: list[pl.Series] = []
    for kind, cols in (("transfers", SAME_TRANSFER), ("setoffs", SAME_SETOFF)):
        a, b = rows(prepared, kind, cols), rows(now, kind, cols)
        bad.append(a.join(b, on=["unit", *cols], how="anti", nulls_equal=True)["unit"])
        bad.append(b.join(a, on=["unit", *cols], how="anti", nulls_equal=True)["unit"])
    units = pl.concat([rows(prepared, "transfers", ("source_id",)), rows(prepared, "setoffs", ("source_id",))])
    dropped_units = pl.concat(bad).unique()
    kept = units.filter(~pl.col("unit").is_in(dropped_units.implode()))["unit"].unique().sort()
    paid = now["skipped"].filter(pl.col("reason") == "already_paid")["source_id"]
    dropped = (units.filter(pl.col("unit").is_in(dropped_units.implode())).select("source_id").unique().sort("source_id")
               .with_columns(pl.when(pl.col("source_id").is_in(paid.implode())).then(pl.lit("already_paid"))
                             .otherwise(pl.lit("changed")).alias("reason")))
    return kept, dropped


def _phase_frames(run: Run, phase: str) -> dict[str, pl.DataFrame]:
    f = run.folder
    return {k: f.read(f"{k}_{phase}") for k in ("transfers", "setoffs", "allocations", "letters", "lines", "skipped")}


def step_reconcile(run: Run) -> dict[str, int]:
    """Keep what was prepared and is unchanged now (``kept_*`` frames from the prepared ones; ``dropped``)."""
    f = run.folder
    prepared, now = _phase_frames(run, "prepare"), _phase_frames(run, "book")
    kept, dropped = reconcile(prepared, now)
    keep = kept.implode()
    tr = prepared["transfers"].filter(_unit(prepared["transfers"]).is_in(keep))
    so = prepared["setoffs"].filter(_unit(prepared["setoffs"]).is_in(keep))
    letters = prepared["letters"].join(so.select("letter_id").unique(), on="letter_id", how="semi")
    f.write("kept_transfers", tr)
    f.write("kept_setoffs", so)
    f.write("kept_allocations", prepared["allocations"].join(
        so.select("transaction_id", "receivable_id").unique(), on=["transaction_id", "receivable_id"], how="semi"))
    f.write("kept_letters", letters)
    f.write("kept_lines", prepared["lines"].join(letters.select("letter_id"), on="letter_id", how="semi"))
    f.write("dropped", dropped)
    checkpoints.reached("reconcile")
    return {"kept": tr.height + so.height, "dropped": dropped.height}


def step_stage(run: Run) -> dict[str, int]:
    """Write the final file (the kept transfers, the prepared ids), validate it, the final letters; stage
    payouts, set-offs, their allocations and the audit events (``book_*``)."""
    f, cfg = run.folder, run.cfg
    record = find_record(cfg, run.run_id)
    rel = read_releases(cfg.state_dir, cfg.tenant)[run.run_id]
    tr, so = f.read("kept_transfers"), f.read("kept_setoffs")
    letters, lines, dropped = f.read("kept_letters"), f.read("kept_lines"), f.read("dropped")
    ids = f.read_json("ids")
    files = ([write_file(run, tr, ids["message_id"], f.path / "final", datetime.fromisoformat(ids["created_at"]))]
             if tr.height else [])
    fd = files[0] if files else {"file_name": None, "message_id": None, "pmtinf_id": None, "sha256": None}
    # a run prepared before forwards existed has no proof frame (and no forwards)
    proofs = (write_proofs(run, f.read("proof_prepare").join(tr.select("source_id"), on="source_id", how="semi"),
                           f.path / "final") if files and f.file("proof_prepare").exists() else [])
    key = {"tenant": cfg.tenant, "run_id": run.run_id}
    f.book("payouts", tr.with_columns(
        *[pl.lit(v).alias(k) for k, v in key.items()], pl.lit(fd["message_id"], pl.String).alias("message_id"),
        pl.lit(fd["pmtinf_id"], pl.String).alias("pmtinf_id"), pl.lit(run.run_date).alias("execution_date"),
        pl.lit(fd["file_name"], pl.String).alias("file_name"), pl.lit(fd["sha256"], pl.String).alias("file_sha256"),
        pl.lit(record.prepared_by).alias("prepared_by"), pl.lit(rel.released_by).alias("released_by")))
    f.book("setoffs", so.with_columns(*[pl.lit(v).alias(k) for k, v in key.items()]))
    # the foreign creditors are told what was forwarded (the next night's Answers file): in this transaction
    if f.file("proof_prepare").exists():
        forwarded = forward_events(f.read("proof_prepare").join(tr.select("source_id"), on="source_id", how="semi"),
                                   PayoutState.read(f.path, prefix="in_book_").cases, run.run_date)
        f.book("amtshilfe_events", forwarded.with_columns(*[pl.lit(v).alias(k) for k, v in key.items()]))
    # the allocations carry the open-items version of their claim (as every allocation: the open amount
    # of that version is the claim less its allocations)
    claims = PayoutState.read(f.path, prefix="in_book_").claims.select("receivable_id", "import_id")
    alloc = (f.read("kept_allocations").drop("import_id").join(claims, on="receivable_id", how="left")
             .with_columns(pl.col("import_id").fill_null(OWN_CLAIMS), *[pl.lit(v).alias(k) for k, v in key.items()]))
    f.book("allocations", alloc)
    pdf = write_letters(run, letters, lines, f.path / "final" / f"verrechnung_{run.run_date:%Y%m%d}.pdf", draft=False)
    summary = {"execution_date": run.run_date.isoformat(), "set_off_on": _context(run)["set_off_on"],
               "n_payouts": tr.height, "total_cents": int(tr["amount_cents"].sum() or 0),
               "n_setoffs": so.height, "setoff_cents": int(so["amount_cents"].sum() or 0),
               "n_letters": letters.height, "letters_pdf": pdf, "dropped": _tally(dropped, "reason"), "files": files,
               "proofs": proofs, **_forwards(tr),
               "prepared_by": record.prepared_by, "prepared_at": record.prepared_at.isoformat(),
               "released_by": rel.released_by, "released_at": rel.released_at, "booked_by": _context(run)["user"]}
    converted = _converted(f, "book").join(tr.select("source_id"), on="source_id", how="semi")
    summary["names_converted"] = converted.height
    now = datetime.now(UTC)
    events = [("payout.prepared", run.run_id, {"by": record.prepared_by, "at": record.prepared_at.isoformat()}),
              ("payout.released", run.run_id, {"by": rel.released_by, "at": rel.released_at}),
              *[("payout.dropped", str(s), {"reason": why}) for s, why in dropped.iter_rows()],
              *[("payout.name_converted", str(r["source_id"]), {"original": r["original"], "sent": r["converted"]})
                for r in converted.iter_rows(named=True)],
              ("payout.booked", run.run_id, {k: summary[k] for k in ("n_payouts", "total_cents", "n_setoffs",
                                                                     "setoff_cents", "dropped")})]
    f.book("audit_events", pl.DataFrame(
        [{"tenant": cfg.tenant, "run_id": run.run_id, "at": now, "event": e, "subject": s,
          "detail": json.dumps(d, default=str)} for e, s, d in events], schema=AUDIT_EVENTS))
    f.write("final_letters", letters)
    f.write("final_lines", lines)
    f.write_json("book_summary", summary)
    checkpoints.reached("stage")
    return {"payouts": tr.height, "setoffs": so.height}


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
    """``[payout] outbox``, else ``[collection] outbox``, else ``<tenant folder>/outbox``."""
    return cfg.tenant_dir / (cfg.payout.outbox or cfg.collection.outbox or OUTBOX)


def step_outbox(run: Run) -> dict[str, str]:
    """Copy the booked file into the outbox, then the manifest (``jobs.outbox.deliver``); a run that pays
    nothing out (everything set off) has no file and writes nothing."""
    f = run.folder
    summary = f.read_json("book_summary")
    paths: dict[str, str] = {}
    if summary["files"]:
        manifest = {"tenant": run.cfg.tenant, "run_id": run.run_id, "execution_date": run.run_date.isoformat(),
                    "n_files": len(summary["files"]), "count": summary["n_payouts"],
                    "control_sum_cents": summary["total_cents"],
                    "files": [{k: d[k] for k in ("file_name", "message_id", "count", "control_sum_cents", "sha256")}
                              for d in summary["files"]],
                    "proofs": summary.get("proofs", [])}
        paths = deliver(run.cfg, outbox_dir(run.cfg), f.path / "final", summary["files"] + summary.get("proofs", []),
                        manifest,
                        f"pain001_{run.run_date:%Y%m%d}_{run.run_id[-8:]}.manifest.json", PayoutRefused)
    f.write_json("outbox_paths", paths)
    checkpoints.reached("outbox")
    return paths


def step_publish(run: Run) -> str:
    """Publish the tenant's payout runs for the review page ("Auszahlungen"; :mod:`jobs.payout.publish`): the
    page never opens the ledger. Before ``done``: a crash here is finished by the next call, which
    publishes again."""
    from jobs.payout.publish import publish_state

    link = publish_state(run.cfg)
    checkpoints.reached("publish")
    return str(link)


def step_done(run: Run) -> str:
    """Mark the date done (the outbox holds the file)."""
    record = find_record(run.cfg, run.run_id)
    write_record(run.cfg, advanced(record, "done", booked_at=record.booked_at or datetime.now(UTC)))
    checkpoints.reached("done")
    return run.run_id


# --- the phases ------------------------------------------------------------------------------------------

Step = Callable[[Run], Any]
STEPS: dict[str, tuple[tuple[str, Step], ...]] = {
    "prepare": (("read_ledger", step_read_ledger), ("compute", step_compute), ("files", step_files),
                ("record", step_record), ("publish", step_publish)),
    "show": (("publish", step_publish),),
    "book": (("read_ledger", step_read_ledger), ("compute", step_compute), ("reconcile", step_reconcile),
             ("stage", step_stage), ("book", step_book), ("outbox", step_outbox), ("publish", step_publish),
             ("done", step_done)),
    "finish": (("outbox", step_outbox), ("publish", step_publish), ("done", step_done)),
    "nothing": (),
}
STEPS_BY_NAME: dict[str, Step] = {name: step for phase in STEPS.values() for name, step in phase}


def outcome(plan: Plan, results: dict[str, Any]) -> PayoutOutcome:
    """The outcome of a call from its plan and what its steps returned."""
    day = plan.execution_date
    if plan.run is None:
        return PayoutOutcome("nothing_to_do", plan.run_id, day, message=plan.message)
    f = plan.run.folder
    if plan.phase in ("prepare", "show"):
        counts = f.read_json("prepared_summary")
        if plan.phase == "prepare" and not (counts.get("n_payouts") or counts.get("n_setoffs")):
            return PayoutOutcome("nothing_to_do", None, day, counts,
                                 message=f"nothing is to be paid out or set off for {day:%d.%m.%Y}")
        paths = {"run_folder": str(f.path),
                 **{d["file_name"]: str(f.path / "prepared" / d["file_name"]) for d in counts.get("files", [])}}
        if counts.get("letters_pdf"):
            paths["letters_draft"] = counts["letters_pdf"]
        return PayoutOutcome("prepared", plan.run_id, day, counts, paths,
                             plan.message or f"prepared: {counts.get('n_payouts', 0)} payouts and "
                             f"{counts.get('n_setoffs', 0)} set-offs wait for the release by a supervisor other "
                             "than the preparer")
    counts = f.read_json("book_summary")
    paths = {"run_folder": str(f.path), **f.read_json("outbox_paths")}
    if counts.get("letters_pdf"):
        paths["letters"] = counts["letters_pdf"]
    return PayoutOutcome("booked", plan.run_id, day, counts, paths,
                         f"booked: {counts.get('n_payouts', 0)} payouts, {counts.get('n_setoffs', 0)} set-offs, "
                         f"{sum(counts.get('dropped', {}).values())} refunds dropped since the preparation")


def run_payout(cfg: TenantConfig, execution_date: date, *, user: str, today: date | None = None) -> PayoutOutcome:
    """Do what ``execution_date`` needs next (module docstring), without Prefect, under the tenant lock."""
    with tenant_lock(cfg):
        plan = plan_date(cfg, execution_date, user=user, today=today)
        results = {name: step(plan.run) for name, step in STEPS[plan.phase]} if plan.run else {}
    return outcome(plan, results)


def next_execution_date(cfg: TenantConfig, now: datetime | None = None) -> date:
    """The first execution date a file sent now still reaches (``[payout] lead_days``, ``cutoff``, TARGET2)."""
    s = cfg.payout
    return earliest_collection_date(now or datetime.now(UTC), s.lead_days, s.cutoff, s.timezone)


def dates_to_run(cfg: TenantConfig, day: date) -> list[date]:
    """``day`` and every earlier-prepared date that is released or booked but not done."""
    releases = read_releases(cfg.state_dir, cfg.tenant)
    waiting = {r.execution_date for r in all_records(cfg)
               if r.stage == "booked" or (r.stage == "prepared" and r.run_id in releases)}
    return sorted(waiting | {day})


def release(cfg: TenantConfig, run_id: str, *, user: str, role: str, note: str = "") -> Release:
    """Release the prepared run ``run_id`` (a supervisor other than its preparer): a ``payout_release``
    line; the next call of :func:`run_payout` for the date books it."""
    record = find_record(cfg, run_id)
    if record.stage != "prepared":
        raise PayoutRefused(f"payout run {run_id} is {record.stage} already")
    return record_release(cfg.state_dir, cfg.tenant, run_id, user=user, role=role, prepared_by=record.prepared_by,
                          note=note, kind=RELEASE_KIND)


__all__ = ["STEPS", "PayoutOutcome", "PayoutRefused", "Plan", "outcome", "plan_date", "release", "run_payout"]
