"""The hand-off job's steps: prepare, (a second person releases), book, publish — plain functions, no Prefect.

One call of :func:`run_handoff` does what the hand-off day needs next (:func:`plan_date`), like the payout
job (:mod:`jobs.payout.steps`):

* **prepare** (nothing prepared for the day): read the ledger (the current claims with the debtor's
  identity and the main claim of each Nebenforderung, the Mahnungen sent, every block of the block journal —
  ended ones too —, the Klärungsliste, the claims in open cases, every case number issued, what was
  credited to the claims, the surcharges booked so far and the Kassenzeichen of the own claims); select
  (``enforcement.select.select``) and build the cases (``enforcement.cases.build_cases``); number the
  surcharge accrued to the hand-off day as fee claims (:mod:`jobs.handoff.batch`); write the draft batch
  (``outputs.enforcement_batch``: the XML validated against the XSD, the CSV, the Übergabeliste marked
  ENTWURF, the manifest) into the run folder (``prepared/``); the day's record. Nothing is booked;
* **show** (prepared, not released yet): only the review page's snapshot (``publish``);
* **book** (a ``handoff_release`` line by a supervisor other than the preparer): recompute everything on
  the same hand-off day against the ledger as it is now; keep a debtor's case only when its claims and
  amounts are what was released, drop the rest and report why (a claim paid, a new block, a payment on
  the Klärungsliste …: ``dropped``, prepared again by a later run); the final batch with the releaser on
  the list; book ``enforcement_cases``, ``enforcement_case_claims`` and the surcharge fee claims
  (``claims``, origin ``fee``, parent the main claim, handed over in the same case) with the ``runs`` row
  in ONE transaction; then the outbox (files, then manifest), the case file (one document per case), the
  snapshot;
* **finish** (booked, not done: a crash after the commit): outbox, case file, snapshot, done;
* **nothing to do**: the day is booked already, or nothing is enforceable.

Never handed over twice: a claim in an open case is skipped ``in_enforcement`` by the selection; the run of
a day is booked once (``runs``); a message id the ledger holds refuses the preparation. Steps end at
``ledger.checkpoints.reached(<name>)``; before ``book`` only the run folder and the day's record are
written, so a crash leaves the ledger as it was.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import polars as pl

from claims.errors import KasseError
from claims.vocab import ClaimType, DocumentKind, SubjectKind
from enforcement.cases import Cases, build_cases, case_tag
from enforcement.file_format import Party
from enforcement.handoff_file import CASE_COLUMNS as FILE_CASE_COLUMNS
from enforcement.handoff_file import CASE_OPTIONAL, CLAIM_COLUMNS, CLAIM_OPTIONAL, Header
from enforcement.select import select
from jobs.dunning.charges import FeeNumberCollision, fee_claims, fee_numbers, next_counter, notice_numbers
from jobs.handoff import outgoing as ahout
from jobs.handoff.batch import fee_items, file_cases, file_claims, new_charges
from jobs.handoff.casefile import case_messages
from jobs.handoff.record import HandoffRecord, all_records, find_record, read_record, write_record
from jobs.outbox import deliver, sha256_of
from jobs.records import advanced
from jobs.runner import Run, book_run, new_run, open_ledger, runs_row, tenant_lock
from ledger import checkpoints
from ledger.block_journal import block_history_frame, load_blocks
from ledger.config import TenantConfig
from ledger.db import fetch
from ledger.documents import NewDocument, file_documents
from ledger.dunning_state import kassenzeichen_taken, read_dunning_state
from ledger.enforcement_state import export_history, known_case_numbers, open_case_claims
from ledger.outcomes_state import outcome_blocks
from ledger.publish_handoff import RELEASE_KIND as PUBLISHED_RELEASE_KIND
from ledger.release_journal import Release, read_releases, record_release, release_misfit
from ledger.tables import AUDIT_EVENTS, ENFORCEMENT_CASE_CLAIMS, ENFORCEMENT_CASES
from ledger.waiver_journal import read_waivers, waivers_frame
from outputs.enforcement_batch import HANDOFF_CSV, HANDOFF_PDF, HANDOFF_XML, write_handoff_batch
from outputs.enforcement_list import Signoff
from outputs.notice_export import notice_export_documents

JOB = "handoff"
PHASES = ("prepare", "show", "book", "finish", "nothing")
#: The release lines this job books on (``ledger.release_journal``).
RELEASE_KIND = PUBLISHED_RELEASE_KIND
#: The outbox for the enforcement office, below the tenant folder, when ``[enforcement] outbox`` is not set.
OUTBOX = "outbox/enforcement"
#: The files of a batch, in the order they are delivered (the manifest comes last).
FILES = (HANDOFF_XML, HANDOFF_CSV, HANDOFF_PDF)
#: What must be the same, to the cent, for a released case to be booked (per debtor).
SAME_ITEM = ("case_number", "receivable_id", "main_receivable_id", "claim_type", "open_cents",
             "saeumniszuschlag_new_cents", "interest_new_cents", "mahnung_notice_id")
#: Why a released claim was taken out at booking, when the selection does not say it: it is no longer open
#: (paid or written off since), or its case changed (another claim of the debtor, another amount …).
GONE, CHANGED = "nothing_open", "changed"


class HandoffRefused(KasseError):
    """The hand-off may not run now (a message id in use, a release that does not fit, a fee number taken)."""


@dataclass(frozen=True, slots=True)
class HandoffOutcome:
    """What a call did: ``status`` prepared | booked | nothing_to_do, the day's ``run_id``, counts, paths."""

    status: str
    run_id: str | None
    handoff_date: date
    counts: dict[str, Any] = field(default_factory=dict)
    paths: dict[str, str] = field(default_factory=dict)
    message: str = ""


@dataclass(frozen=True, slots=True)
class Plan:
    """The phase a call runs, with the run (``None``: nothing to do) and why."""

    phase: str
    run: Run | None
    handoff_date: date
    message: str = ""
    run_id: str | None = None


# --- planning ---------------------------------------------------------------------------------------

def _run_of(cfg: TenantConfig, record: HandoffRecord, mode: str, flow_run_id: str | None) -> Run:
    return Run(JOB, cfg, record.handoff_date, record.run_id, datetime.now(UTC), mode, flow_run_id)


def booked_handoff_runs(cfg: TenantConfig, day: date) -> list[str]:
    """The committed hand-off runs of ``day`` (at most one)."""
    con = open_ledger(cfg)
    try:
        df = fetch(con, "SELECT run_id FROM runs WHERE tenant = $t AND job = $j AND booking_date = $d "
                        "ORDER BY committed_at", {"t": cfg.tenant, "j": JOB, "d": day})
    finally:
        con.close()
        del con
    return [str(r) for r in df["run_id"].to_list()]


def plan_date(cfg: TenantConfig, handoff_date: date, *, user: str, mode: str = "plain",
              flow_run_id: str | None = None, now: datetime | None = None) -> Plan:
    """Decide what this call does for ``handoff_date`` (module docstring); write the run's context."""
    del now   # the hand-off day is the date itself: no other clock is read
    record = read_record(cfg, handoff_date)
    booked = booked_handoff_runs(cfg, handoff_date)
    if booked:
        if record is not None and record.run_id in booked and record.stage != "done":
            plan = Plan("finish", _run_of(cfg, record, mode, flow_run_id), handoff_date, run_id=record.run_id)
        else:
            return Plan("nothing", None, handoff_date,
                        f"the hand-off of {handoff_date:%d.%m.%Y} is booked already (run {booked[0]})", booked[0])
    elif record is None:
        run = new_run(JOB, cfg, handoff_date, mode=mode, flow_run_id=flow_run_id)
        plan = Plan("prepare", run, handoff_date, run_id=run.run_id)
    else:
        rel = read_releases(cfg.state_dir, cfg.tenant).get(record.run_id)
        run = _run_of(cfg, record, mode, flow_run_id)
        if rel is None:
            plan = Plan("show", run, handoff_date,
                        f"run {record.run_id} is prepared by {record.prepared_by} and waits for its release",
                        record.run_id)
        else:
            check_release_fits(record, rel)
            plan = Plan("book", run, handoff_date, run_id=record.run_id)
    assert plan.run is not None
    plan.run.folder.write_json("context", {"phase": plan.phase, "user": user,
                                           "handoff_date": handoff_date.isoformat(),
                                           "at": datetime.now(UTC).isoformat()})
    return plan


def check_release_fits(record: HandoffRecord, rel: Release) -> None:
    """The release must be a hand-off release naming the recorded preparer, by someone else (four-eyes)."""
    problem = release_misfit(rel, kind=RELEASE_KIND, run_id=record.run_id, prepared_by=record.prepared_by)
    if problem:
        raise HandoffRefused(problem)


def _context(run: Run) -> dict[str, Any]:
    return run.folder.read_json("context")


def _phase(run: Run) -> str:
    return str(_context(run)["phase"])


# --- the parties -----------------------------------------------------------------------------------------

def parties(cfg: TenantConfig) -> tuple[Party, Party, Party]:
    """Creditor (the municipality: ``[tenant] name``, the letters' address), sender (its treasury: the
    letters' sender) and receiver (``[enforcement] office_*``; ``office_tenant`` when the office is another
    Stadtkasse tenant's)."""
    lt, en = cfg.letters, cfg.enforcement
    name = cfg.settings.tenant.name or cfg.tenant
    street, postcode, city = lt.sender_street or None, lt.sender_postcode or None, lt.sender_city or None
    creditor = Party(name=name, tenant=cfg.tenant, street=street, postcode=postcode, city=city)
    sender = Party(name=lt.sender_name or f"Stadtkasse {name}", tenant=cfg.tenant, street=street, postcode=postcode,
                   city=city, contact=tuple(lt.contact)[:5])
    receiver = Party(name=en.office_name, tenant=en.office_tenant, street=en.office_street,
                     postcode=en.office_postcode, city=en.office_city)
    return creditor, sender, receiver


def message_id(run: Run) -> str:
    """The batch's MessageId: case tag, ``H``, hand-off date, the run id's hex — unique per tenant and run."""
    return f"{case_tag(run.cfg.tenant, run.cfg.enforcement)}-H{run.run_date:%Y%m%d}-{run.run_id[-8:]}"


def header(run: Run) -> Header:
    """The batch's header: the ids fixed at the preparation (the release re-renders the same XML bytes)."""
    ids = run.folder.read_json("ids")
    creditor, sender, receiver = parties(run.cfg)
    return Header(message_id=ids["message_id"], created=datetime.fromisoformat(ids["created_at"]),
                  tenant=run.cfg.tenant, creditor=creditor, sender=sender, receiver=receiver,
                  handoff_date=run.run_date)


# --- reading and computing (both phases) ------------------------------------------------------------

def read_inputs(con: Any, cfg: TenantConfig) -> dict[str, pl.DataFrame]:
    """Everything the selection and the cases read from the ledger (module docstring), as frames; with the
    requests sent to other authorities and their directory (:mod:`jobs.handoff.outgoing`)."""
    tenant = cfg.tenant
    p = {"t": tenant}
    st = read_dunning_state(con, tenant)
    parents = fetch(con, "SELECT receivable_id, any_value(parent_receivable_id) AS parent_receivable_id FROM claims "
                         "WHERE tenant = $t AND parent_receivable_id IS NOT NULL GROUP BY ALL", p)
    claims = st.claims.join(parents.select(pl.col("receivable_id").cast(pl.String),
                                           pl.col("parent_receivable_id").cast(pl.String)),
                            on="receivable_id", how="left", maintain_order="left")
    mahnungen = fetch(con, """
        SELECT i.receivable_id, i.run_id || ':' || i.notice_id AS notice_id, n.level, n.notice_date, n.deadline
        FROM dunning_notice_items i JOIN dunning_notices n USING (tenant, run_id, notice_id)
        WHERE i.tenant = $t ORDER BY 1, 4""", p)
    charged = st.charged
    booked = charged.group_by("parent_receivable_id").agg(
        pl.col("booked_cents").filter(pl.col("claim_type") == str(ClaimType.SAEUMNISZUSCHLAG)).sum()
        .alias("saeumniszuschlag_booked_cents"),
        pl.col("booked_cents").filter(pl.col("claim_type") == str(ClaimType.ZINSEN)).sum()
        .alias("interest_booked_cents")).rename({"parent_receivable_id": "receivable_id"}).sort("receivable_id")
    messages = fetch(con, "SELECT DISTINCT message_id FROM enforcement_cases WHERE tenant = $t "
                          "AND message_id IS NOT NULL", p)
    sent = ahout.read_out_inputs(con, cfg)      # requests going out (issue 18 §4): their file numbers are case numbers
    return {**sent, "claims": claims, "mahnungen": mahnungen, "pending": st.pending, "payments": st.payments,
            "booked": booked, "fee_numbers": st.fee_numbers, "open_cases": open_case_claims(con, tenant),
            "known_numbers": pl.concat([known_case_numbers(con, tenant).to_frame("case_number"),
                                                sent["out_numbers"]]),
            "message_ids": messages.select(pl.col("message_id").cast(pl.String))}


def step_read_ledger(run: Run) -> dict[str, int]:
    """Read the ledger and the block journal into the run folder (``in_<phase>_*``)."""
    phase = _phase(run)
    con = open_ledger(run.cfg)
    try:
        frames = read_inputs(con, run.cfg)
        # a claim the office found uncollectible or wrote off is blocked (NIEDERSCHLAGUNG) by its booked outcome
        written_off = outcome_blocks(con, run.cfg.tenant)
    finally:
        con.close()
        del con
    blocks, _ = load_blocks(run.cfg.state_dir, run.cfg.tenant)
    # every block as it held, ended ones too: one since the last Mahnung keeps the claim back
    frames["blocks"] = pl.concat([block_history_frame(blocks, run.run_date), written_off], how="diagonal_relaxed")
    # the approved decisions that no Mahnung was needed (review page "Mahnverzicht", four-eyes)
    frames["waivers"] = waivers_frame(read_waivers(run.cfg.state_dir, run.cfg.tenant), run.run_date)
    for name, frame in frames.items():
        run.folder.write(f"in_{phase}_{name}", frame)
    checkpoints.reached("read_ledger")
    return {"claims": frames["claims"].height, "open_case_claims": frames["open_cases"].height,
            "blocks": frames["blocks"].height}


def _inputs(run: Run, phase: str) -> dict[str, pl.DataFrame]:
    names = ("claims", "mahnungen", "pending", "payments", "booked", "fee_numbers", "open_cases", "known_numbers",
             "message_ids", "blocks", "waivers", *ahout.INPUTS)
    return {n: run.folder.read(f"in_{phase}_{n}") for n in names}


def compute(cfg: TenantConfig, day: date, run_id: str, inp: dict[str, pl.DataFrame],
            created_at: datetime) -> dict[str, pl.DataFrame]:
    """The selection, the cases, the surcharge fee claims and the file frames of a hand-off on ``day``."""
    s, d = cfg.enforcement, cfg.dunning
    claims, open_cases = inp["claims"], inp["open_cases"]
    free, with_other = ahout.without_open_requests(claims, inp["out_open"])
    h = select(free, day, s, d, mahnungen=inp["mahnungen"], waivers=inp["waivers"], blocks=inp["blocks"],
               pending=inp["pending"], open_cases=open_cases)
    built = build_cases(h.selected, day, tenant=cfg.tenant, settings=s, dunning=d, open_cases=open_cases,
                        known_numbers=inp["known_numbers"]["case_number"], payments=inp["payments"],
                        booked=inp["booked"])
    # a debtor outside the district goes to the authority there (issue 18 §4), or is held for a person
    routed = ahout.split(cfg, built.cases, built.items, inp)
    c = Cases(routed["home_cases"], routed["home_items"])
    skipped = pl.concat([h.skipped, with_other, routed["held_skipped"]], how="diagonal_relaxed")
    charges = new_charges(c.items)
    ref = cfg.reference
    prefix = d.fee_kassenzeichen_prefix
    n_kz = charges["notice_id"].n_unique() if charges.height else 0
    first = next_counter(inp["fee_numbers"]["kz_norm"], prefix, ref.digits, ref.check_digit)
    numbers = fee_numbers(n_kz, first, prefix=prefix, digits=ref.digits, scheme=ref.check_digit)
    notices = pl.DataFrame({"notice_id": charges["notice_id"].unique().sort(), "deadline": day},
                           schema={"notice_id": pl.String(), "deadline": pl.Date()})
    fees = fee_claims(charges, notice_numbers(charges, numbers), claims, notices, tenant=cfg.tenant, run_id=run_id,
                      created_at=created_at)
    items = (pl.concat([c.items, fee_items(c.items, fees)])
             .sort("case_number", "main_receivable_id", "ancillary", "receivable_id"))
    main_kz = pl.concat([claims.select("receivable_id", "kassenzeichen"),
                         open_cases.select("receivable_id", "kassenzeichen")])
    debtors = c.cases.select("case_number", "debtor_id")
    return {"selected": h.selected, "skipped": skipped, "cases": c.cases, "core_items": c.items,
            "out_cases": routed["out_cases"], "out_items": routed["out_items"], "held": routed["held_skipped"],
            "out_settled": ahout.settlements(claims, inp),
            "items": items.join(debtors, on="case_number", how="left", maintain_order="left"), "fees": fees,
            "file_cases": file_cases(c.cases),
            "file_claims": file_claims(items, h.selected.select("receivable_id", "handoff_from"), main_kz)}


def step_compute(run: Run) -> dict[str, int]:
    """Select, build the cases, number the surcharge fee claims (``<name>_<phase>`` frames)."""
    phase = _phase(run)
    out = compute(run.cfg, run.run_date, run.run_id, _inputs(run, phase), datetime.now(UTC))
    for name, frame in out.items():
        run.folder.write(f"{name}_{phase}", frame)
    checkpoints.reached("compute")
    return {"cases": out["cases"].height, "claims": out["items"].height, "skipped": out["skipped"].height}


def _tally(df: pl.DataFrame, col: str) -> dict[str, int]:
    if df.height == 0:
        return {}
    return {str(k): int(v) for k, v in df[col].drop_nulls().value_counts(sort=True).iter_rows()}


def _sums(file_claims_: pl.DataFrame) -> dict[str, int]:
    sums = {c: int(file_claims_[c].sum() or 0) for c in ("principal_cents", "surcharges_cents", "fees_cents")}
    return {**sums, "total_cents": sum(sums.values())}


def _file_frames(f: Any, suffix: str) -> tuple[pl.DataFrame, pl.DataFrame]:
    """The file's case and claim rows, narrowed to the columns the writer takes."""
    cases = f.read(f"file_cases_{suffix}")
    claims = f.read(f"file_claims_{suffix}")
    return (cases.select([*FILE_CASE_COLUMNS, *CASE_OPTIONAL]),
            claims.select([*CLAIM_COLUMNS, *CLAIM_OPTIONAL]))


def _figures(cases: pl.DataFrame, items: pl.DataFrame, claims: pl.DataFrame) -> dict[str, Any]:
    """Counts and sums of a batch: cases (new ones), ledger claims handed over, the file's claims (one per
    case and Kassenzeichen: :func:`jobs.handoff.batch.one_per_kassenzeichen`), the control sums."""
    return {"n_cases": cases.height, "n_new_cases": int(cases["new"].sum() or 0) if cases.height else 0,
            "n_claims": items.height, "n_file_claims": claims.height, **_sums(claims)}


def step_files(run: Run) -> dict[str, Any]:
    """Write the draft batch (``prepared/``: XML validated against the XSD, CSV, Übergabeliste marked
    ENTWURF, manifest) and the prepared summary. A message id the ledger holds refuses the preparation."""
    f, ctx = run.folder, _context(run)
    cases = f.read("cases_prepare")
    fc, fl = _file_frames(f, "prepare")
    summary: dict[str, Any] = {"handoff_date": run.run_date.isoformat(),
                               **_figures(cases, f.read("items_prepare"), fl),
                               "n_fee_claims": f.read("fees_prepare").height,
                               "skipped": _tally(f.read("skipped_prepare"), "reason"), "files": []}
    out_cases, out_settled = f.read("out_cases_prepare"), f.read("out_settled_prepare")
    if cases.height or out_cases.height or out_settled.height:
        mid = message_id(run)
        if mid in set(f.read("in_prepare_message_ids")["message_id"].to_list()):
            raise HandoffRefused(f"message id {mid} is in the ledger already; nothing was prepared")
        f.write_json("ids", {"message_id": mid, "created_at": datetime.now(UTC).replace(microsecond=0).isoformat()})
    if cases.height:
        written = write_handoff_batch(f.path / "prepared", header(run), fc, fl,
                                      Signoff(preparer=ctx["user"], prepared_on=run.run_date))
        summary["message_id"] = mid
        summary["files"] = [{"file_name": n, "sha256": sha256_of(written[n])} for n in FILES]
    # requests going out (issue 18 §4): drafts of one Requests XML per authority, released with the batch
    out_files = _out_files(run, ahout.PREPARED, "prepare") if out_cases.height or out_settled.height else []
    summary.update(ahout.summary(out_files, out_cases, f.read("held_prepare"), out_settled))
    f.write_json("prepared_summary", summary)
    checkpoints.reached("files")
    return summary


def _anything(summary: dict[str, Any]) -> bool:
    """A hand-off with cases for our office, requests going out or requests to settle."""
    return bool(summary.get("n_cases") or summary.get("n_out_requests") or summary.get("n_out_settled"))


def _out_files(run: Run, sub: str, suffix: str) -> list[dict[str, Any]]:
    """Write the Requests files going out (``<sub>/<authority id>/``) from the ``*_<suffix>`` frames."""
    f = run.folder
    shutil.rmtree(f.path / sub, ignore_errors=True)
    created = datetime.fromisoformat(f.read_json("ids")["created_at"])
    files = ahout.write_files(run.cfg, run.run_date, run.run_id, f.path / sub, f.read(f"out_cases_{suffix}"),
                              f.read(f"out_items_{suffix}"), f.read(f"out_settled_{suffix}"),
                              case_tag(run.cfg.tenant, run.cfg.enforcement), created)
    f.write_json(f"out_files_{suffix}", {"files": files})
    return files


def step_record(run: Run) -> str:
    """Record the prepared run for the day; a day with nothing to hand over records nothing."""
    if not _anything(run.folder.read_json("prepared_summary")):
        checkpoints.reached("record")
        return ""
    at = datetime.fromisoformat(run.folder.read_json("ids")["created_at"])
    write_record(run.cfg, HandoffRecord(run.run_id, run.run_date, _context(run)["user"], at))
    checkpoints.reached("record")
    return run.run_id


# --- book ----------------------------------------------------------------------------------------------

def reconcile(prepared: dict[str, pl.DataFrame], now: dict[str, pl.DataFrame]) -> tuple[pl.Series, pl.DataFrame]:
    """``(kept debtors, dropped claims)``: a debtor's case is kept when the law core gives exactly the
    released claims and amounts now (:data:`SAME_ITEM`); otherwise every released claim of the debtor is
    dropped with why — the selection's skip reason now (``blocked``, ``pending_payment`` …), ``nothing_open``
    when the claim is no longer open at all, else ``changed``."""
    def rows(frames: dict[str, pl.DataFrame]) -> pl.DataFrame:
        return frames["core_items"].join(frames["cases"].select("case_number", "debtor_id"), on="case_number",
                                         how="left").select("debtor_id", *SAME_ITEM)

    a, b = rows(prepared), rows(now)
    cols = ["debtor_id", *SAME_ITEM]
    bad = pl.concat([a.join(b, on=cols, how="anti", nulls_equal=True)["debtor_id"],
                     b.join(a, on=cols, how="anti", nulls_equal=True)["debtor_id"]]).unique()
    released = a["debtor_id"].unique()
    kept = released.filter(~released.is_in(bad.implode())).sort()
    why = now["skipped"].select("receivable_id", pl.col("reason").alias("_now"))
    still = now["claims"].select("receivable_id", pl.lit(True).alias("_open"))
    dropped = (a.filter(pl.col("debtor_id").is_in(bad.implode()))
               .select("debtor_id", "case_number", "receivable_id", "open_cents")
               .join(why, on="receivable_id", how="left").join(still, on="receivable_id", how="left")
               .with_columns(pl.coalesce("_now", pl.when(pl.col("_open").is_null()).then(pl.lit(GONE)),
                                         pl.lit(CHANGED)).alias("reason"))
               .drop("_now", "_open").sort("debtor_id", "receivable_id"))
    return kept, dropped


def step_reconcile(run: Run) -> dict[str, int]:
    """Keep what was released and is unchanged now (``kept_*`` frames from the booking's own computation:
    its fee Kassenzeichen continue from the ledger as it is now); ``dropped``."""
    f = run.folder

    def frames(phase: str) -> dict[str, pl.DataFrame]:
        out = {k: f.read(f"{k}_{phase}") for k in ("core_items", "cases", "skipped")}
        out["claims"] = f.read(f"in_{phase}_claims")
        # the requests going out are released with the batch: a debtor routed elsewhere now is dropped too
        out["cases"], out["core_items"] = ahout.for_reconcile(out["cases"], out["core_items"],
                                                              f.read(f"out_cases_{phase}"), f.read(f"out_items_{phase}"))
        return out

    kept, dropped = reconcile(frames("prepare"), frames("book"))
    keep = kept.implode()
    out_cases = f.read("out_cases_book").filter(pl.col("debtor_id").is_in(keep))
    f.write("out_cases_kept", out_cases)
    f.write("out_items_kept", f.read("out_items_book").join(out_cases.select("case_number"), on="case_number",
                                                             how="semi"))
    f.write("out_settled_kept", f.read("out_settled_book").join(f.read("out_settled_prepare"),
                                                                 on=["file_number", "authority_id", "recall"],
                                                                 how="semi"))
    cases = f.read("cases_book").filter(pl.col("debtor_id").is_in(keep))
    numbers = cases["case_number"].implode()
    items = f.read("items_book").filter(pl.col("case_number").is_in(numbers))
    f.write("kept_cases", cases)
    f.write("kept_items", items)
    f.write("kept_fees", f.read("fees_book").join(items.select("receivable_id"), on="receivable_id", how="semi"))
    f.write("file_cases_kept", f.read("file_cases_book").filter(pl.col("case_number").is_in(numbers)))
    f.write("file_claims_kept", f.read("file_claims_book").filter(pl.col("case_number").is_in(numbers)))
    f.write("dropped", dropped)
    checkpoints.reached("reconcile")
    return {"kept": cases.height, "dropped": dropped.height, "out_kept": out_cases.height}


def step_stage(run: Run) -> dict[str, int]:
    """Write the final batch (``final/``: the releaser on the list), stage the cases, their claims, the
    surcharge fee claims and the audit events (``book_*``)."""
    f, cfg = run.folder, run.cfg
    record = find_record(cfg, run.run_id)
    rel = read_releases(cfg.state_dir, cfg.tenant)[run.run_id]
    cases, items, fees, dropped = f.read("kept_cases"), f.read("kept_items"), f.read("kept_fees"), f.read("dropped")
    fc, fl = _file_frames(f, "kept")
    if fees.height:
        con = open_ledger(cfg)
        try:
            taken = kassenzeichen_taken(con, cfg.tenant, fees["kz_norm"])
        finally:
            con.close()
            del con
        if taken:
            raise FeeNumberCollision(f"the fee Kassenzeichen {taken[0]} (and {len(taken) - 1} more) is in use already; "
                                     "nothing was booked")
    mid = f.read_json("ids")["message_id"]
    files: list[dict[str, Any]] = []
    sha = None
    shutil.rmtree(f.path / "final", ignore_errors=True)   # an earlier attempt's batch (a crash before the commit)
    if cases.height:
        released_on = datetime.fromisoformat(rel.released_at).date()
        written = write_handoff_batch(f.path / "final", header(run), fc, fl,
                                      Signoff(preparer=record.prepared_by, prepared_on=run.run_date,
                                              releaser=rel.released_by, released_on=released_on))
        files = [{"file_name": n, "sha256": sha256_of(written[n])} for n in FILES]
        sha = files[0]["sha256"]
    en = cfg.enforcement
    key = {"tenant": cfg.tenant, "run_id": run.run_id}
    f.book("enforcement_cases", cases.with_columns(
        *[pl.lit(v).alias(k) for k, v in key.items()], pl.lit(en.office_id).alias("office_id"),
        pl.lit(en.office_tenant, pl.String).alias("office_tenant"), pl.lit(mid).alias("message_id"),
        pl.lit(HANDOFF_XML).alias("file_name"), pl.lit(sha, pl.String).alias("file_sha256"),
        pl.lit(record.prepared_by).alias("prepared_by"), pl.lit(rel.released_by).alias("released_by"),
    ).select(list(ENFORCEMENT_CASES)))
    since = pl.concat([f.read("selected_book").select("receivable_id", "handoff_from"),
                       fees.select("receivable_id", "parent_receivable_id").join(
                           f.read("selected_book").select(pl.col("receivable_id").alias("parent_receivable_id"),
                                                          "handoff_from"), on="parent_receivable_id", how="inner")
                       .select("receivable_id", "handoff_from")])
    f.book("enforcement_case_claims", items.join(since, on="receivable_id", how="left", maintain_order="left")
           .with_columns(*[pl.lit(v).alias(k) for k, v in key.items()], pl.lit(run.run_date).alias("handed_off_on"),
                         pl.col("open_cents").alias("handed_cents"))
           .select(list(ENFORCEMENT_CASE_CLAIMS)))
    f.book("claims", fees)
    out_cases, out_items, out_settled = f.read("out_cases_kept"), f.read("out_items_kept"), f.read("out_settled_kept")
    out_files = _out_files(run, ahout.FINAL, "kept") if out_cases.height or out_settled.height else []
    ahout.stage(run, out_files, out_cases, out_items, out_settled, record.prepared_by, rel.released_by)
    summary = {"handoff_date": run.run_date.isoformat(), "message_id": mid, **_figures(cases, items, fl),
               "n_fee_claims": fees.height, "fee_cents": int(fees["amount_cents"].sum() or 0),
               "dropped": _tally(dropped, "reason"), "n_dropped_cases": dropped["debtor_id"].n_unique(),
               "files": files, "prepared_by": record.prepared_by, "prepared_at": record.prepared_at.isoformat(),
               "released_by": rel.released_by, "released_at": rel.released_at, "booked_by": _context(run)["user"],
               **ahout.summary(out_files, out_cases, f.read("held_book"), out_settled)}
    now = datetime.now(UTC)
    events = [("handoff.prepared", run.run_id, {"by": record.prepared_by, "at": record.prepared_at.isoformat()}),
              ("handoff.released", run.run_id, {"by": rel.released_by, "at": rel.released_at}),
              *[("handoff.dropped", str(r), {"case_number": c, "reason": why})
                for r, c, why in dropped.select("receivable_id", "case_number", "reason").iter_rows()],
              ("handoff.booked", run.run_id, {k: summary[k] for k in ("message_id", "n_cases", "n_claims",
                                                                      "total_cents", "n_fee_claims", "dropped")})]
    f.book("audit_events", pl.DataFrame(
        [{"tenant": cfg.tenant, "run_id": run.run_id, "at": now, "event": e, "subject": s,
          "detail": json.dumps(d, default=str)} for e, s, d in events], schema=AUDIT_EVENTS))
    f.write_json("book_summary", summary)
    checkpoints.reached("stage")
    return {"cases": cases.height, "claims": items.height, "fee_claims": fees.height}


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
    """``[enforcement] outbox``, else ``<tenant folder>/outbox/enforcement``."""
    return cfg.tenant_dir / (cfg.enforcement.outbox or OUTBOX)


def batch_folder(run: Run) -> str:
    """The batch's folder in the outbox: one per hand-off (the names inside are fixed)."""
    return f"handoff_{run.run_date:%Y%m%d}_{run.run_id[-8:]}"


def step_outbox(run: Run) -> dict[str, str]:
    """Copy the booked files into the outbox for the enforcement office, then the manifest
    (``jobs.outbox.deliver``); a hand-off whose cases were all dropped writes nothing."""
    f = run.folder
    summary = f.read_json("book_summary")
    paths: dict[str, str] = {}
    if summary["files"]:
        manifest = json.loads((f.path / "final" / "manifest.json").read_text(encoding="utf-8"))
        manifest["run_id"] = run.run_id
        paths = deliver(run.cfg, outbox_dir(run.cfg) / batch_folder(run), f.path / "final", summary["files"],
                        manifest, "manifest.json", HandoffRefused)
    # the requests going out: one folder per authority (issue 18 §4)
    paths.update(ahout.deliver_files(run, f.read_json("out_files_kept").get("files", []), HandoffRefused))
    f.write_json("outbox_paths", paths)
    checkpoints.reached("outbox")
    return paths


def case_documents(run: Run) -> Iterator[NewDocument]:
    """The hand-off record of each booked case: the case's own hand-off message cut from the booked batch
    (:mod:`jobs.handoff.casefile`: why this record)."""
    batch = run.folder.path / "final" / HANDOFF_XML
    if not run.folder.read_json("book_summary").get("files") or not batch.exists():
        return
    mid = run.folder.read_json("ids")["message_id"]
    title = f"Übergabe an die Vollstreckungsstelle vom {run.run_date:%d.%m.%Y} (Nachricht {mid})"
    claims = run.folder.read("file_claims_kept")
    for number, data in case_messages(batch.read_bytes(), claims):
        yield NewDocument(data, SubjectKind.CASE, number, DocumentKind.HANDOFF, handoff_key(run.run_id, number),
                          run.run_date, title, media_type="application/xml", run_id=run.run_id)
    # the claims' notices as the finance system exported them (every export row of each handed claim)
    items = run.folder.read("kept_items").select("case_number", "receivable_id")
    con = open_ledger(run.cfg)
    try:
        history = export_history(con, run.cfg.tenant, items["receivable_id"].unique().sort().to_list())
    finally:
        con.close()
        del con
    for number, data, n in notice_export_documents(history.join(items, on="receivable_id", how="inner")):
        yield NewDocument(data, SubjectKind.CASE, number, DocumentKind.NOTICE_EXPORT,
                          f"notice_export:{run.run_id}:{number}", run.run_date,
                          f"Sollstellungen laut Export ({n} Zeilen) zur Übergabe vom {run.run_date:%d.%m.%Y}",
                          media_type="text/csv", run_id=run.run_id)


def handoff_key(run_id: str, case_number: str) -> str:
    """The idempotency key of a case's hand-off record in the document store."""
    return f"handoff:{run_id}:{case_number}"


def step_documents(run: Run) -> dict[str, int]:
    """File the hand-off record per case in the case file (subject ``case``, kind ``handoff``); idempotent
    per key, so a rerun after a crash files nothing twice."""
    lines = file_documents(run.cfg.state_dir, run.cfg.tenant, case_documents(run), settings=run.cfg.documents)
    checkpoints.reached("documents")
    return {"documents": len(lines)}


def step_publish(run: Run) -> str:
    """Publish the tenant's hand-off runs for the review page (:mod:`jobs.handoff.publish`)."""
    from jobs.handoff.publish import publish_state

    link = publish_state(run.cfg)
    checkpoints.reached("publish")
    return str(link)


def step_done(run: Run) -> str:
    """Mark the day done (the outbox holds the batch, the case files the records)."""
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
             ("stage", step_stage), ("book", step_book), ("outbox", step_outbox), ("documents", step_documents),
             ("publish", step_publish), ("done", step_done)),
    "finish": (("outbox", step_outbox), ("documents", step_documents), ("publish", step_publish),
               ("done", step_done)),
    "nothing": (),
}
STEPS_BY_NAME: dict[str, Step] = {name: step for phase in STEPS.values() for name, step in phase}


def outcome(plan: Plan, results: dict[str, Any]) -> HandoffOutcome:
    """The outcome of a call from its plan and what its steps returned."""
    day = plan.handoff_date
    if plan.run is None:
        return HandoffOutcome("nothing_to_do", plan.run_id, day, message=plan.message)
    f = plan.run.folder
    if plan.phase in ("prepare", "show"):
        counts = f.read_json("prepared_summary")
        if plan.phase == "prepare" and not _anything(counts):
            return HandoffOutcome("nothing_to_do", None, day, counts,
                                  message=f"no claim is to be handed over on {day:%d.%m.%Y}")
        paths = {"run_folder": str(f.path), **{d["file_name"]: str(f.path / "prepared" / d["file_name"])
                                               for d in counts.get("files", [])}}
        return HandoffOutcome("prepared", plan.run_id, day, counts, paths,
                              plan.message or f"prepared: {counts.get('n_cases', 0)} cases with "
                              f"{counts.get('n_claims', 0)} claims and {counts.get('n_out_requests', 0)} requests to "
                              "other authorities wait for the release by a supervisor other than the preparer")
    counts = f.read_json("book_summary")
    paths = {"run_folder": str(f.path), **f.read_json("outbox_paths")}
    return HandoffOutcome("booked", plan.run_id, day, counts, paths,
                          f"booked: {counts.get('n_cases', 0)} cases with {counts.get('n_claims', 0)} claims handed "
                          f"over, {sum(counts.get('dropped', {}).values())} claims dropped since the preparation")


def run_handoff(cfg: TenantConfig, handoff_date: date, *, user: str) -> HandoffOutcome:
    """Do what ``handoff_date`` needs next (module docstring), without Prefect, under the tenant lock."""
    with tenant_lock(cfg):
        plan = plan_date(cfg, handoff_date, user=user)
        results = {name: step(plan.run) for name, step in STEPS[plan.phase]} if plan.run else {}
    return outcome(plan, results)


def next_handoff_date(cfg: TenantConfig, now: datetime | None = None) -> date:
    """Today in the tenant's time zone (``[schedule] timezone``): the hand-off day of a call without a date."""
    tz = ZoneInfo(cfg.timezone)
    return (now.astimezone(tz) if now else datetime.now(tz)).date()


def dates_to_run(cfg: TenantConfig, day: date) -> list[date]:
    """``day`` and every earlier-prepared day that is released or booked but not done."""
    releases = read_releases(cfg.state_dir, cfg.tenant)
    waiting = {r.handoff_date for r in all_records(cfg)
               if r.stage == "booked" or (r.stage == "prepared" and r.run_id in releases)}
    return sorted(waiting | {day})


def release(cfg: TenantConfig, run_id: str, *, user: str, role: str, note: str = "") -> Release:
    """Release the prepared hand-off ``run_id`` (a supervisor other than its preparer): a ``handoff_release``
    line; the next call of :func:`run_handoff` for the day books it."""
    record = find_record(cfg, run_id)
    if record.stage != "prepared":
        raise HandoffRefused(f"hand-off run {run_id} is {record.stage} already")
    return record_release(cfg.state_dir, cfg.tenant, run_id, user=user, role=role, prepared_by=record.prepared_by,
                          note=note, kind=RELEASE_KIND)


__all__ = ["RELEASE_KIND", "STEPS", "HandoffOutcome", "HandoffRefused", "Plan", "outcome", "plan_date", "release",
           "run_handoff"]
