"""The nightly run's updates to the enforcement office (issue 17 §2; docs/ENFORCEMENT.md "Recall and updates
in the nightly run"): what happened tonight to the claims of open cases goes out the same night.

Three parts, one per place in the night (``jobs/nightly/steps.py``):

* :func:`read` (in ``read_ledger``): one cheap look whether the tenant ever handed a claim over; if not,
  the night does nothing more here. Else the open case claims, the allocations on handed claims, the
  updates booked so far (each with the commit time of its run) and the settled cases' claims go into the
  run folder (``enf_*``).
* :func:`stage` (after ``close``, before ``book``): ``enforcement.updates.night_updates`` against those and
  tonight's allocations and open items (``open_now``) and the review page's blocks in force; the updates
  file of each enforcement office is rendered (validated against the XSD) to learn its SHA-256, and the
  rows ``enforcement_updates`` / ``enforcement_update_claims`` (with message id, file name and hash) are
  staged into the night's one booking transaction: a crash before the commit leaves nothing. A claim of
  a settled case open again by a reversal becomes an ``issues`` row for a clerk.
* :func:`deliver_booked` (after ``book``): every booked updates message not delivered yet — tonight's, or
  an earlier night's whose run crashed after its commit — is rendered again **from the booked rows** (the
  same bytes: the header's time is the booking run's start), checked against the booked hash, written
  with its manifest (``outputs.enforcement_batch``) and copied to the outbox (``jobs.outbox.deliver``);
  each update is filed in its case file (``ledger.documents``, ``DocumentKind.UPDATE``); last a marker
  ``<state_dir>/enforcement_updates/<tenant>/<message_id>.json`` says the message is out, so it is never
  written twice. A crash before the marker is finished by the next run with the same bytes.
"""

from __future__ import annotations

import hashlib
import json
import os
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import duckdb
import polars as pl

from claims.config import TenantConfig
from claims.errors import KasseError
from claims.vocab import DocumentKind, EnforcementUpdateKind, Severity, SubjectKind
from enforcement.file_format import Party
from enforcement.handoff_file import Header, write_updates
from enforcement.updates import night_updates
from jobs.rundir import RunDir
from ledger import checkpoints
from ledger.db import fetch, scalar
from ledger.tables import ISSUES
from parsers.names import safe_file_name

#: The outbox's sub-folder of the updates: one folder per message (``updates.xml`` + ``manifest.json``).
OUTBOX_SUB = "enforcement_updates"
#: The run folder's frames this module writes (read step) and its JSON.
FRAMES = ("enf_case_claims", "enf_allocations", "enf_booked", "enf_booked_claims", "enf_settled_claims")
STATE = "enf_state"
#: Issue code of a settled case's claim open again through a reversal.
REOPENED = "enforcement.reopened_after_settled"


class UpdatesRefused(KasseError):
    """The booked updates file could not be written to the outbox (a folder outside the tenant, a file
    that differs from the booked one): the booking stands; fix the cause and run again."""


# --- read (in read_ledger) -----------------------------------------------------------------------------

def read(con: duckdb.DuckDBPyConnection, cfg: TenantConfig, folder: RunDir) -> bool:
    """Write the ``enf_*`` frames for :func:`stage`; False (and nothing but the state) when the tenant never
    handed a claim over — one count over a table that is empty for such a tenant."""
    t = {"t": cfg.tenant}
    any_case = bool(scalar(con, "SELECT count(*) FROM (SELECT 1 FROM enforcement_case_claims WHERE tenant = $t "
                                "LIMIT 1)", t))
    folder.write_json(STATE, {"cases": any_case})
    if not any_case:
        return False
    from ledger.enforcement_state import case_claims

    claims = case_claims(con, cfg.tenant)
    runs = fetch(con, "SELECT run_id, committed_at FROM runs WHERE tenant = $t", t)
    in_case = claims.join(runs, on="run_id", how="left").rename({"committed_at": "handed_at"})
    open_ = in_case.filter(pl.col("closed_on").is_null())
    folder.write("enf_case_claims", open_)
    folder.write("enf_settled_claims", in_case.filter(pl.col("closed_by") == EnforcementUpdateKind.SETTLED)
                 .join(open_.select("receivable_id"), on="receivable_id", how="anti"))
    # only what the open cases need: their claims' allocations and their cases' updates (a long history of
    # closed cases is not read every night)
    con.register("_enf_open", open_.select("case_number", "receivable_id").to_arrow())
    try:
        folder.write("enf_allocations", fetch(con, """
            SELECT a.receivable_id, a.amount_cents, a.booking_date, r.committed_at
            FROM allocations a JOIN runs r ON r.tenant = a.tenant AND r.run_id = a.run_id
            WHERE a.tenant = $t AND a.receivable_id IN (SELECT receivable_id FROM _enf_open)""", t))
        folder.write("enf_booked", fetch(con, """
            SELECT u.update_id, u.case_number, u.kind, u.effective_date, r.committed_at
            FROM enforcement_updates u LEFT JOIN runs r ON r.tenant = u.tenant AND r.run_id = u.run_id
            WHERE u.tenant = $t AND u.case_number IN (SELECT case_number FROM _enf_open)""", t))
        folder.write("enf_booked_claims", fetch(con, """
            SELECT c.update_id, c.case_number, c.receivable_id, c.open_principal_cents, c.open_surcharges_cents,
                   c.open_fees_cents, r.committed_at
            FROM enforcement_update_claims c LEFT JOIN runs r ON r.tenant = c.tenant AND r.run_id = c.run_id
            WHERE c.tenant = $t AND c.case_number IN (SELECT case_number FROM _enf_open)""", t))
    finally:
        con.unregister("_enf_open")
    return True


# --- stage (after close) --------------------------------------------------------------------------------

def header(cfg: TenantConfig, message_id: str, created: datetime, office_id: str,
           office_tenant: str | None) -> Header:
    """The updates file's header: creditor the tenant, sender its treasury, receiver the case's office
    (its name and address from ``[enforcement]`` when it is the office configured now)."""
    e, letters, name = cfg.enforcement, cfg.letters, cfg.settings.tenant.name or cfg.tenant
    ours = office_id == e.office_id
    receiver = Party(e.office_name if ours else office_id, tenant=office_tenant,
                     street=e.office_street if ours else None, postcode=e.office_postcode if ours else None,
                     city=e.office_city if ours else None)
    sender = Party(letters.sender_name or f"Stadtkasse {name}", street=letters.sender_street or None,
                   postcode=letters.sender_postcode or None, city=letters.sender_city or None)
    return Header(message_id, created, cfg.tenant, Party(name), sender, receiver)


def _created(at: datetime) -> datetime:
    """The header time: the booking run's start, to the second, UTC (the same when rendered again)."""
    return at.astimezone(UTC).replace(microsecond=0)


def render(cfg: TenantConfig, message_id: str, created: datetime, updates: pl.DataFrame,
           claims: pl.DataFrame) -> bytes:
    """One office's updates file from rows as booked (sorted here: staged and booked rows give one file)."""
    updates = updates.sort("update_id")
    claims = claims.sort("update_id", "receivable_id")
    office_tenant = updates["office_tenant"][0] if "office_tenant" in updates.columns else None
    h = header(cfg, message_id, _created(created), str(updates["office_id"][0]), office_tenant)
    return write_updates(h, updates, claims)


def _message_ids(night_date: date, run_id: str, offices: list[str]) -> dict[str, str]:
    """One message id per office, unique forever per tenant: day, run and the office's place."""
    return {o: f"UPD-{night_date:%Y%m%d}-{run_id[-8:]}-{n}" for n, o in enumerate(sorted(offices), 1)}


def stage(cfg: TenantConfig, booking_date: date, run_id: str, started_at: datetime, folder: RunDir) -> dict[str, int]:
    """Compute and stage the night's updates (module docstring); counts per kind (and ``reopened``)."""
    if not folder.read_json(STATE).get("cases"):
        return {}
    from ledger.block_journal import blocks_frame, load_blocks

    tonight = folder.read("run_allocations").select("receivable_id", "amount_cents", "booking_date")
    allocations = pl.concat([folder.read("enf_allocations"), tonight], how="diagonal_relaxed")
    blocks, _ = load_blocks(cfg.state_dir, cfg.tenant)
    found = night_updates(folder.read("enf_case_claims"), folder.read("open_now"), allocations, night=booking_date,
                          blocks=blocks_frame(blocks, booking_date), booked=folder.read("enf_booked"),
                          booked_claims=folder.read("enf_booked_claims"),
                          settled_claims=folder.read("enf_settled_claims"))
    updates, claims = found.updates, found.update_claims
    ids = _message_ids(booking_date, run_id, updates["office_id"].unique().to_list())
    rows, claim_rows = [], []
    for office, message_id in ids.items():
        ups = updates.filter(pl.col("office_id") == office)
        cls = claims.join(ups.select("update_id"), on="update_id", how="semi")
        name = f"{OUTBOX_SUB}/{safe_file_name(message_id)}/updates.xml"
        sha = hashlib.sha256(render(cfg, message_id, started_at, ups, cls)).hexdigest()
        rows.append(ups.with_columns(pl.lit(message_id).alias("message_id"), pl.lit(name).alias("file_name"),
                                     pl.lit(sha).alias("file_sha256")))
        claim_rows.append(cls)
    key = [pl.lit(cfg.tenant).alias("tenant"), pl.lit(run_id).alias("run_id")]
    if rows:
        folder.book("enforcement_updates", pl.concat(rows).with_columns(key))
        folder.book("enforcement_update_claims", pl.concat(claim_rows).with_columns(key))
    if found.reopened.height:
        issues = found.reopened.select(
            *key, pl.lit(None, pl.String()).alias("source_path"),
            pl.concat_str([pl.lit("case "), "case_number", pl.lit(" claim "), "receivable_id"]).alias("locator"),
            pl.lit(str(Severity.WARNING)).alias("severity"), pl.lit(REOPENED).alias("code"),
            pl.format("claim {} ({}) of case {} settled on {} is open again ({} cents) after a reversal of {} "
                      "cents: the office was told to stop; hand it over again or settle it",
                      "receivable_id", "kassenzeichen", "case_number", "settled_on", "open_cents",
                      "reversed_cents").alias("message"),
            pl.lit(None, pl.String()).alias("raw"), pl.lit(booking_date).alias("booking_date"))
        earlier = folder.read("book_issues").filter(pl.col("code") != REOPENED)   # a repeated step: once
        folder.book("issues", pl.concat([earlier, issues.select(ISSUES.keys())],
                                        how="diagonal_relaxed"))
    counts = {str(k): v for k, v in updates["kind"].value_counts().rows()}
    out = {f"{kind}": int(counts.get(str(kind), 0)) for kind in EnforcementUpdateKind}
    out["reopened"] = found.reopened.height
    summary = folder.read_json("summary")
    summary["enforcement_updates"] = out
    folder.write_json("summary", summary)
    return out


# --- deliver (after book) -------------------------------------------------------------------------------

def _marker_dir(cfg: TenantConfig) -> Path:
    return cfg.state_dir / OUTBOX_SUB / safe_file_name(cfg.tenant)


def outbox_dir(cfg: TenantConfig) -> Path:
    """Where the updates go: ``[collection] outbox`` (relative to the tenant folder), else ``outbox``."""
    from jobs.collect.steps import outbox_dir as collection_outbox

    return collection_outbox(cfg) / OUTBOX_SUB


def _undelivered(con: duckdb.DuckDBPyConnection, cfg: TenantConfig) -> tuple[pl.DataFrame, pl.DataFrame]:
    """The booked update rows (with the booking run's start) and claims of messages without a marker."""
    done = {p.stem for p in _marker_dir(cfg).glob("*.json")}
    booked = fetch(con, "SELECT DISTINCT message_id FROM enforcement_updates WHERE tenant = $t", {"t": cfg.tenant})
    todo = booked.filter(pl.col("message_id").is_in(  # a handful of messages per night: a plain list
        [m for m in booked["message_id"].to_list() if safe_file_name(m) not in done]))
    if todo.is_empty():
        return pl.DataFrame(), pl.DataFrame()
    con.register("_enf_todo", todo.to_arrow())
    try:
        ups = fetch(con, """
            SELECT u.*, r.started_at FROM enforcement_updates u JOIN _enf_todo USING (message_id)
            JOIN runs r ON r.tenant = u.tenant AND r.run_id = u.run_id WHERE u.tenant = $t""", {"t": cfg.tenant})
        claims = fetch(con, """
            SELECT c.* FROM enforcement_update_claims c
            WHERE c.tenant = $t AND c.update_id IN (SELECT u.update_id FROM enforcement_updates u
                                                    JOIN _enf_todo USING (message_id) WHERE u.tenant = $t)""",
                       {"t": cfg.tenant})
    finally:
        con.unregister("_enf_todo")
    return ups, claims


def _office_tenants(con: duckdb.DuckDBPyConnection, cfg: TenantConfig) -> pl.DataFrame:
    return fetch(con, "SELECT case_number, arg_min(office_tenant, handed_off_on) AS office_tenant "
                      "FROM enforcement_cases WHERE tenant = $t GROUP BY case_number", {"t": cfg.tenant})


def deliver_booked(cfg: TenantConfig, folder: RunDir, con: duckdb.DuckDBPyConnection) -> dict[str, int]:
    """Write every booked, undelivered updates message (module docstring); counts of messages and updates."""
    from jobs.outbox import deliver
    from ledger.documents import NewDocument, file_documents
    from outputs.enforcement_batch import UPDATES_XML, write_updates_batch

    ups, claims = _undelivered(con, cfg)
    if ups.is_empty():
        return {"messages": 0, "updates": 0}
    ups = ups.join(_office_tenants(con, cfg), on="case_number", how="left")
    marker = _marker_dir(cfg)
    marker.mkdir(parents=True, exist_ok=True)
    n = 0
    for (message_id,), rows in ups.sort("message_id").group_by(["message_id"], maintain_order=True):
        cls = claims.filter(pl.col("update_id").is_in(rows["update_id"].implode()))
        data = render(cfg, str(message_id), rows["started_at"][0], rows, cls)
        sha = hashlib.sha256(data).hexdigest()
        if sha != rows["file_sha256"][0]:
            raise UpdatesRefused(f"updates message {message_id}: the file made from the booked rows differs from "
                                 "the booked one (was the [enforcement] or [letters] config changed since?); "
                                 "nothing was written to the outbox")
        head = header(cfg, str(message_id), _created(rows["started_at"][0]), str(rows["office_id"][0]),
                      rows["office_tenant"][0])
        checkpoints.reached("enforcement_outbox.message")
        batch = folder.path / OUTBOX_SUB / safe_file_name(str(message_id))
        write_updates_batch(batch, head, rows.sort("update_id"), cls.sort("update_id", "receivable_id"))
        manifest = json.loads((batch / "manifest.json").read_text(encoding="utf-8"))
        deliver(cfg, outbox_dir(cfg) / safe_file_name(str(message_id)), batch,
                [{"file_name": UPDATES_XML, "sha256": sha}], manifest, "manifest.json", UpdatesRefused)
        file_documents(cfg.state_dir, cfg.tenant, (
            NewDocument(data, SubjectKind.CASE, r["case_number"], DocumentKind.UPDATE,
                        key=f"update:{r['update_id']}", day=r["effective_date"],
                        title=f"Mitteilung an die Vollstreckungsstelle: {_TITLES[r['kind']]}",
                        media_type="application/xml", run_id=r["run_id"])
            for r in rows.iter_rows(named=True)), settings=cfg.documents)
        _mark(marker / f"{safe_file_name(str(message_id))}.json",
              {"message_id": message_id, "sha256": sha, "updates": rows.height,
               "at": datetime.now(UTC).isoformat(timespec="seconds")})
        n += rows.height
    return {"messages": ups["message_id"].n_unique(), "updates": n}


#: The case file's titles of the update kinds.
_TITLES = {str(EnforcementUpdateKind.PARTIAL_PAYMENT): "Teilzahlung", str(EnforcementUpdateKind.SETTLED):
           "Forderung erledigt, alle Maßnahmen einstellen", str(EnforcementUpdateKind.SUSPENDED):
           "Vollstreckung aussetzen", str(EnforcementUpdateKind.RESUMED): "Vollstreckung fortsetzen"}


def _mark(path: Path, data: dict[str, Any]) -> None:
    tmp = path.with_name(path.name + ".tmp")
    with tmp.open("w", encoding="utf-8") as fh:
        fh.write(json.dumps(data, default=str) + "\n")
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)
