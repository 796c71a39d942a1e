"""Amtshilfe deliveries in the nightly inbox: requests of foreign creditors into the ledger (issue 18 §1–§3;
docs/AMTSHILFE.md "In the ledger").

The ingest step hands every inbox file that :func:`amtshilfe.sniff.kind_of` calls a requests file (our XML
or the bulk CSV) here (:func:`split`) instead of to the bank parsers. Each file gets one ``files`` row:

* **rejected** (quarantined, the reason beside it): the reader refuses the whole file
  (``AmtshilfeFileError``: not well-formed, schema, counts, control sum, encoding, a required column), or
  ``[amtshilfe]`` names no district (competence cannot be checked, so nothing may be accepted);
* **duplicate** (archived, nothing booked): the same bytes came before (SHA-256 in ``files``);
* **ok**: a record the reader rejected inside the file is an issue (file, line/element, reason); the rest
  goes through :func:`amtshilfe.checks.check` together with every other delivery of the night, against the
  requests the ledger holds.

What is booked (in the night's one transaction, so a crash before it books nothing and the rerun finds
the files again):

* ``amtshilfe_events``: one row per message (``outcome``, ``check``, ``text``); ``kind`` is what the
  creditor is told (``accepted``, ``returned``, ``withdrawn``; null: nothing — a repeat, a flag, an
  applied change or suspension). ``event_id`` = the file's SHA-256 (12 hex) + ``:`` + the message id.
* ``amtshilfe_requests`` (+ ``amtshilfe_notices``): a new row whenever a request's state or content
  changes — accepted, flagged, returned (only when no request of that creditor and file number is open:
  a returned duplicate never overwrites the open case), an applied Änderung (new content and notices,
  the state kept), Aussetzung (``suspended``) or Rücknahme (``withdrawn``).
* ``claims``: for an accepted request, one claim per notice (principal + Säumniszuschläge + costs), origin
  ``amtshilfe``, ``creditor`` = the creditor id (upper-cased, trimmed: the id ``[[creditors]]`` names),
  claim type ``RUNDFUNK_AMTSHILFE`` for the Beitragsservice/WDR, else ``AMTSHILFE``; the Kassenzeichen is
  our **case number** ``AH`` + 10 hex digits of SHA-256(tenant, creditor, file number): the same request
  always gets the same number, so a rerun never makes a second one. ``external_ref`` is the creditor's
  payment reference (the Beitragsnummer), which the debtor may quote.

A repeated delivery (the same file again: duplicate; the same requests in another file: ``repeated``)
adds no request, notice or claim. The requests are **not** made enforcement cases (``enforcement_cases``)
here: those are the tenant's hand-off to an enforcement office; a foreign creditor's request is already a
case of our own office, numbered by its case number, and its claims are in the books for matching and
forwarding. Flagged requests wait for a person (no claims until one accepts them: not built yet).

After the commit, :func:`write_feedback` writes one Answers XML per creditor into
``<tenant_dir>/outbox/amtshilfe/`` from the booked events not reported yet and books the feedback ids it
wrote (``amtshilfe_feedback``): a crash after the file but before that booking writes the same file again
(same name, same content), never a second one with other ids.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import duckdb
import polars as pl

from amtshilfe import model
from amtshilfe.adapt import answers_from_feedback, ersuchen_rows
from amtshilfe.checks import check, read_authorities
from amtshilfe.csv_format import read_requests_csv
from amtshilfe.feedback import INVOICE_COLUMNS, feedback, per_creditor
from amtshilfe.sniff import kind_of
from amtshilfe.xml_format import AmtshilfeFileError, read_requests, write_answers
from claims.vocab import (
    ClaimType,
    ErsuchenFeedback,
    ErsuchenMessage,
    ErsuchenOutcome,
    ErsuchenState,
    FileStatus,
)
from jobs.nightly.amtshilfe_money import write_invoice_documents
from jobs.nightly.inbox import Entry
from jobs.rundir import RunDir
from ledger.config import TenantConfig
from ledger.db import fetch
from ledger.tables import (
    AMTSHILFE_EVENTS,
    AMTSHILFE_FEEDBACK,
    AMTSHILFE_NOTICES,
    AMTSHILFE_REQUESTS,
    CLAIMS,
    TABLES,
)
from outputs.amtshilfe_texts import ERSUCHEN_CHECK_TEXT
from parsers.ids import sha256_file
from parsers.issues import ERROR, WARNING, Issue
from parsers.names import display_name
from parsers.result import FILE_SCHEMA
from parsers.schema import conform

KIND = "amtshilfe"
#: The claim type of a request not of the Beitragsservice/WDR.
CLAIM_TYPE = "AMTSHILFE"
#: Run-folder names: what the ledger holds (read step) and the claims staged for the book step.
HELD, HELD_NOTICES, CLAIMS_FILE = "amtshilfe_held", "amtshilfe_held_notices", "amtshilfe_claims"
_HEAD = 4096


def _kind(path: Path) -> str | None:
    try:
        with path.open("rb") as fh:
            kind = kind_of(fh.read(_HEAD))
    except OSError:
        return None
    return kind if kind in ("requests_xml", "requests_csv") else None


def split(entries: list[Entry]) -> tuple[list[tuple[Entry, str]], list[Entry]]:
    """``(Amtshilfe request files with their kind, in path order; the other entries)``."""
    found, rest = [], []
    for e in entries:
        kind = _kind(e.path) if e.kind in ("bank", "open_items") else None
        if kind is not None:
            found.append((e, kind))
        else:
            rest.append(e)
    found.sort(key=lambda pair: str(pair[0].path))
    return found, rest


def _current(table: str) -> str:
    return (f"SELECT * FROM {table} WHERE tenant = $t QUALIFY row_number() OVER (PARTITION BY "
            "upper(trim(creditor_id)), trim(creditor_file_number) ORDER BY seq DESC) = 1")


def read_ledger(con: duckdb.DuckDBPyConnection, cfg: TenantConfig, folder: RunDir) -> None:
    """The current row of every held request and its notices, into the run folder (read step)."""
    p = {"t": cfg.tenant}
    held = fetch(con, _current("amtshilfe_requests"), p, table="amtshilfe_requests")
    notices = fetch(con, "SELECT n.* FROM amtshilfe_notices n JOIN (" + _current("amtshilfe_requests")
                    + ") h USING (tenant, creditor_id, creditor_file_number, seq) WHERE n.tenant = $t "
                    "ORDER BY n.seq, n.position", p, table="amtshilfe_notices")
    folder.write(HELD, held)
    folder.write(HELD_NOTICES, notices)


def _held(folder: RunDir, name: str, table: str) -> pl.DataFrame:
    path = folder.file(name)
    return pl.read_parquet(path) if path.exists() else pl.DataFrame(schema=TABLES[table])


def case_number(tenant: str, creditor_id: str, file_number: str) -> str:
    """Our case number of a foreign creditor's request: the same request, the same number, every run."""
    key = "\x1f".join((tenant, creditor_id.strip().upper(), file_number.strip()))
    return "AH" + hashlib.sha256(key.encode()).hexdigest()[:10].upper()


def _file_row(name: str, sha: str, size: int, kind: str, status: str, reason: str | None, n: int = 0) -> dict[str, Any]:
    return {"source_path": name, "source_file": sha, "source_format": f"amtshilfe_{kind}", "status": status,
            "reason": reason, "n_statements": 0, "n_entries": n, "n_rows": n, "size_bytes": size}


def _read(path: Path, kind: str, name: str) -> tuple[model.Requests, pl.DataFrame]:
    if kind == "requests_xml":
        got = read_requests(path, file=name)
        return got.data, got.rejected
    csv = read_requests_csv(path, file=name)
    return csv.data, csv.rejected


def ingest_amtshilfe(cfg: TenantConfig, found: list[tuple[Entry, str]], known_files: set[str], folder: RunDir, *,
                     run_id: str, booking_date: date) -> tuple[pl.DataFrame, list[Issue]]:
    """Read the request files, check them, stage their rows in ``folder``; return their ``files`` rows (in
    the order of ``found``) and the issues."""
    settings = cfg.amtshilfe
    configured = bool(settings.district_postcodes or settings.district_municipalities)
    held = _held(folder, HELD, "amtshilfe_requests")
    held_notices = _held(folder, HELD_NOTICES, "amtshilfe_notices")
    rows: list[dict[str, Any]] = []
    issues: list[Issue] = []
    parts: list[pl.DataFrame] = []
    extras: list[pl.DataFrame] = []
    for entry, kind in found:
        name, sha, size = display_name(entry.path), sha256_file(str(entry.path)), entry.path.stat().st_size
        if sha in known_files:
            rows.append(_file_row(name, sha, size, kind, FileStatus.DUPLICATE, "file already imported (same SHA-256)"))
            issues.append(Issue(name, "", "info", "file.duplicate", "Amtshilfe delivery already imported"))
            continue
        try:
            if not configured:
                raise AmtshilfeFileError("[amtshilfe] names no district: requests cannot be checked", file=name)
            data, rejected = _read(entry.path, kind, name)
        except AmtshilfeFileError as exc:
            rows.append(_file_row(name, sha, size, kind, FileStatus.REJECTED, str(exc)))
            issues.append(Issue(name, "", ERROR, "amtshilfe.file_rejected", str(exc)))
            continue
        known_files.add(sha)
        for r in rejected.iter_rows(named=True):
            issues.append(Issue(name, f"line {r['line']} {r['element'] or ''}".strip(), WARNING,
                                "amtshilfe.record_rejected",
                                f"{r['message_id'] or ''} {r['creditor_file_number'] or ''}: {r['reason']}".strip()))
        prefix = f"{sha[:12]}:"
        part = ersuchen_rows(data, held=held, held_notices=held_notices, prefix=prefix)
        parts.append(part)
        extras.append(pl.concat([
            data.requests.select(
                (pl.lit(prefix) + pl.col("message_id")).alias("message_id"), "creditor_iban", "creditor_bic",
                "debtor_given_name"),
            data.changes.select((pl.lit(prefix) + pl.col("message_id")).alias("message_id"),
                                pl.lit(None, pl.String).alias("creditor_iban"),
                                pl.lit(None, pl.String).alias("creditor_bic"), "debtor_given_name"),
        ]).with_columns(pl.lit(name).alias("file_name"), pl.lit(sha).alias("file_sha256")))
        n = data.requests.height + data.changes.height
        rows.append(_file_row(name, sha, size, kind, FileStatus.OK, None, n))
    files = conform(pl.DataFrame(rows, schema=FILE_SCHEMA), FILE_SCHEMA) if rows else pl.DataFrame(schema=FILE_SCHEMA)
    if parts:
        _stage(cfg, pl.concat(parts), pl.concat(extras), held, held_notices, folder, run_id=run_id,
               booking_date=booking_date)
    return files, issues


def _stage(cfg: TenantConfig, received: pl.DataFrame, extra: pl.DataFrame, held: pl.DataFrame,
           held_notices: pl.DataFrame, folder: RunDir, *, run_id: str, booking_date: date) -> None:
    """Check the night's messages and stage events, requests, notices and claims."""
    s = cfg.amtshilfe
    authorities = read_authorities(cfg.tenant_dir / s.authorities_file) if s.authorities_file else None
    got = check(received, held.select("creditor_id", "creditor_file_number", "state", "content_key", "case_number"),
                s, authorities=authorities)
    c = pl.col
    key = [c("creditor_id").str.strip_chars().str.to_uppercase().alias("_cid"),
           c("creditor_file_number").str.strip_chars().alias("_fn")]
    # a request returned before and sent again unchanged is a repeat too: it is not answered a second time
    returned_before = held.filter(c("state") == ErsuchenState.RETURNED).select(
        *key, c("content_key").alias("_returned_key"))
    again = ((c("message") == ErsuchenMessage.ERSUCHEN) & (c("outcome") == ErsuchenOutcome.RETURNED)
             & (c("content_key") == c("_returned_key")).fill_null(False))
    a = (got.answers.with_columns(key)
         .join(returned_before, on=["_cid", "_fn"], how="left", nulls_equal=False, maintain_order="left")
         .with_columns(pl.when(again).then(pl.lit(str(ErsuchenOutcome.REPEATED))).otherwise(c("outcome"))
                       .alias("outcome"),
                       pl.when(again).then(None).otherwise(c("check")).alias("check"),
                       pl.when(again).then(None).otherwise(c("state")).alias("state"))
         .drop("_cid", "_fn", "_returned_key")
         .join(extra, on="message_id", how="left", maintain_order="left"))
    a = a.with_columns(
        pl.when(c("outcome") == ErsuchenOutcome.ACCEPTED)
        .then(pl.struct("creditor_id", "creditor_file_number").map_elements(
            lambda r: case_number(cfg.tenant, r["creditor_id"] or "", r["creditor_file_number"] or ""),
            return_dtype=pl.String))
        .otherwise(c("case_number")).alias("case_number"))
    kind = (pl.when(c("outcome") == ErsuchenOutcome.ACCEPTED).then(pl.lit(str(ErsuchenFeedback.ACCEPTED)))
            .when(c("outcome") == ErsuchenOutcome.RETURNED).then(pl.lit(str(ErsuchenFeedback.RETURNED)))
            .when((c("outcome") == ErsuchenOutcome.APPLIED) & (c("message") == ErsuchenMessage.RUECKNAHME))
            .then(pl.lit(str(ErsuchenFeedback.WITHDRAWN))))
    tag = [pl.lit(cfg.tenant).alias("tenant"), pl.lit(run_id).alias("run_id")]
    events = a.select(*tag, c("message_id").alias("event_id"), kind.alias("kind"), "creditor_id",
                      "creditor_file_number", "message_id", "message", "outcome", "check", "state", "case_number",
                      "payment_reference", pl.lit(booking_date).alias("event_date"),
                      c("total_cents").alias("amount_cents"),
                      c("check").replace_strict(ERSUCHEN_CHECK_TEXT, default=None, return_dtype=pl.String)
                      .alias("text"), "competent_authority_id", "competent_authority_name", "file_name", "file_sha256")
    folder.book("amtshilfe_events", events)

    open_now = held.filter(c("state").is_in([str(x) for x in (ErsuchenState.ACCEPTED, ErsuchenState.FLAGGED,
                                                              ErsuchenState.SUSPENDED)])).select(key)
    new = a.filter(c("message") == ErsuchenMessage.ERSUCHEN).with_columns(key)
    open_now = open_now.unique().with_columns(pl.lit(True).alias("_held_open"))
    new = new.join(open_now, on=["_cid", "_fn"], how="left", nulls_equal=False, maintain_order="left")
    new = new.filter(c("outcome").is_in([str(ErsuchenOutcome.ACCEPTED), str(ErsuchenOutcome.FLAGGED)])
                     | ((c("outcome") == ErsuchenOutcome.RETURNED) & c("_cid").is_not_null()
                        & c("_fn").is_not_null() & c("_held_open").is_null())).drop("_held_open")
    request_cols = ["debtor_name", "debtor_street", "debtor_postcode", "debtor_city", "debtor_country",
                    "debtor_municipality", "debtor_birth_date", "enforceable_statement", "enforceable_since"]
    full = received.unique("message_id", keep="first", maintain_order=True).select("message_id", *request_cols)
    new_rows = new.join(full, on="message_id", how="left", maintain_order="left")

    # changes applied to an open request: its current row (held, or accepted/flagged tonight) with the change
    changes = a.filter((c("message") != ErsuchenMessage.ERSUCHEN) & (c("outcome") == ErsuchenOutcome.APPLIED)) \
        .with_columns(key)
    base = pl.concat([held.with_columns(key), new_rows.filter(c("outcome") != ErsuchenOutcome.RETURNED)],
                     how="diagonal_relaxed").unique(["_cid", "_fn"], keep="last", maintain_order=True)
    aenderung = c("message") == ErsuchenMessage.AENDERUNG
    changed = changes.join(full, on="message_id", how="left", maintain_order="left").join(
        base.select("_cid", "_fn", *[pl.col(x).alias(f"{x}_base") for x in (
            "state", "case_number", "creditor_iban", "creditor_bic", "debtor_given_name", "content_key",
            "suspended_until", "notices", "principal_cents", "surcharge_cents", "costs_cents", "total_cents")]),
        on=["_cid", "_fn"], how="inner", maintain_order="left").with_columns(
        c("state").fill_null(c("state_base")).alias("state"),
        c("case_number_base").alias("case_number"),
        *[c(f"{x}_base").alias(x) for x in ("creditor_iban", "creditor_bic", "debtor_given_name")],
        *[pl.when(aenderung).then(c(x)).otherwise(c(f"{x}_base")).alias(x)
          for x in ("content_key", "notices", "principal_cents", "surcharge_cents", "costs_cents", "total_cents")],
        pl.when(c("message") == ErsuchenMessage.AUSSETZUNG).then(c("suspended_until"))
        .otherwise(c("suspended_until_base")).alias("suspended_until"))
    # an Aussetzung or Rücknahme keeps the request's content: take it from the base row
    keep_cols = [*request_cols, "creditor_name", "payment_reference", "request_date"]
    base_content = base.select("_cid", "_fn", *[c(x).alias(f"{x}_b") for x in keep_cols])
    changed = changed.join(base_content, on=["_cid", "_fn"], how="left", maintain_order="left").with_columns(
        [pl.when(aenderung).then(c(x)).otherwise(c(f"{x}_b")).alias(x) for x in keep_cols])

    top = held.select(pl.col("seq").max()).item() if held.height else None
    seq_max_all = int(top) if top is not None else 0
    req = pl.concat([new_rows.with_columns(pl.lit(booking_date).alias("received_on")),
                     changed.with_columns(pl.lit(booking_date).alias("received_on"))], how="diagonal_relaxed")
    req = req.with_row_index("_i").with_columns((pl.lit(seq_max_all + 1) + c("_i").cast(pl.Int64)).alias("seq"))
    folder.book("amtshilfe_requests", req.with_columns(*tag, c("total_cents").alias("total_cents")))

    # the notices of the rows written: a new request's or an Änderung's own, else the base row's again
    own = got.notices.join(req.select("message_id", "seq"), on="message_id", how="inner", maintain_order="left")
    own = own.with_columns(pl.int_range(1, pl.len() + 1).over("message_id").cast(pl.Int64).alias("position"))
    carried_ids = req.filter((c("message") != ErsuchenMessage.ERSUCHEN)
                             & ~c("message_id").is_in(own["message_id"].unique().implode()))
    carried = carried_ids.select("seq", "_cid", "_fn").join(
        pl.concat([held_notices.with_columns(key),
                   own.with_columns(key)], how="diagonal_relaxed").drop("seq", "tenant", "run_id", strict=False),
        on=["_cid", "_fn"], how="inner", maintain_order="left")
    notices = pl.concat([own, carried], how="diagonal_relaxed").join(
        req.select("seq", "creditor_id", "creditor_file_number"), on="seq", how="left", suffix="_r",
        maintain_order="left").with_columns(c("creditor_id_r").alias("creditor_id"),
                                            c("creditor_file_number_r").alias("creditor_file_number"))
    folder.book("amtshilfe_notices", notices.with_columns(*tag).select(list(AMTSHILFE_NOTICES)))

    accepted = req.filter(c("outcome") == ErsuchenOutcome.ACCEPTED).select(
        "message_id", "case_number", "rundfunk", "file_name", "file_sha256", "_cid")
    claims = own.join(accepted, on="message_id", how="inner", maintain_order="left")
    now = datetime.now(UTC)
    amount = c("principal_cents").fill_null(0) + c("surcharge_cents").fill_null(0) + c("costs_cents").fill_null(0)
    claims = claims.filter(amount > 0).with_columns(
        *tag, (c("case_number") + "-" + c("position").cast(pl.String)).alias("receivable_id"),
        c("case_number").alias("kassenzeichen"), c("case_number").alias("kz_norm"),
        ("AH-" + c("case_number")).alias("debtor_id"),
        pl.when(c("rundfunk")).then(pl.lit(str(ClaimType.RUNDFUNK_AMTSHILFE))).otherwise(pl.lit(CLAIM_TYPE))
        .alias("claim_type"), amount.alias("amount_cents"),
        pl.coalesce("notice_date", "request_date", pl.lit(booking_date)).alias("due_date"),
        c("payment_reference").alias("external_ref"), pl.lit("public").alias("law"),
        pl.lit("amtshilfe").alias("origin"), c("_cid").alias("creditor"),
        c("file_sha256").alias("source_file"), c("file_name").alias("source_path"),
        c("position").cast(pl.Int32).alias("source_line"), pl.lit(now).alias("created_at"))
    claims = claims.select([c(k).cast(t) if k in claims.columns else pl.lit(None, t).alias(k)
                            for k, t in CLAIMS.items()])
    from ledger import handoff

    handoff.check("claims", claims)
    folder.write(CLAIMS_FILE, claims)


def with_amtshilfe_claims(frames: dict[str, pl.DataFrame], folder: RunDir) -> dict[str, pl.DataFrame]:
    """The book step's frames with the accepted requests' claims added to ``claims``."""
    path = folder.file(CLAIMS_FILE)
    if not path.exists():
        return frames
    extra = pl.read_parquet(path)
    return {**frames, "claims": pl.concat([frames["claims"], extra.select(frames["claims"].columns)],
                                          how="vertical_relaxed")}


# --- feedback, after the commit ------------------------------------------------------------------------------


def outbox(cfg: TenantConfig) -> Path:
    return cfg.tenant_dir / "outbox" / "amtshilfe"


def write_feedback(cfg: TenantConfig, con: duckdb.DuckDBPyConnection, *, run_id: str, today: date,
                   created: datetime | None = None) -> list[Path]:
    """One Answers file per creditor from the booked events not reported yet; books the ids written."""
    p = {"t": cfg.tenant}
    events = fetch(con, "SELECT event_id, kind, creditor_id, creditor_file_number, case_number, payment_reference, "
                        "event_date, \"check\", amount_cents, competent_authority_id, competent_authority_name "
                        "FROM amtshilfe_events WHERE tenant = $t AND kind IS NOT NULL AND creditor_id IS NOT NULL "
                        "AND creditor_file_number IS NOT NULL ORDER BY event_id", p)
    events = events.with_columns(pl.when(pl.col("kind") == ErsuchenFeedback.PAYMENT_FORWARDED)
                                 .then(pl.col("amount_cents")).alias("amount_cents"))
    sent = fetch(con, "SELECT feedback_id FROM amtshilfe_feedback WHERE tenant = $t", p)
    # the cost invoices (amtshilfe_money): their items, and each invoice's document beside the Answers file
    items = fetch(con, "SELECT * FROM amtshilfe_invoice_items WHERE tenant = $t ORDER BY invoice_id, item_id", p,
                  table="amtshilfe_invoice_items")
    rows = feedback(events, sent=sent, invoice=items.select(INVOICE_COLUMNS))
    if rows.height == 0:
        return []
    bills = rows.filter(pl.col("kind") == ErsuchenFeedback.COST_INVOICE).select("creditor_id", "period_from",
                                                                               "period_to")
    write_invoice_documents(outbox(cfg), cfg.tenant,
                            items.join(bills, on=["creditor_id", "period_from", "period_to"], how="semi"))
    names = fetch(con, "SELECT creditor_id, any_value(creditor_name) AS creditor_name FROM amtshilfe_requests "
                       "WHERE tenant = $t GROUP BY creditor_id", p)
    name_of = dict(zip(names["creditor_id"].to_list(), names["creditor_name"].to_list(), strict=True))
    e = cfg.enforcement
    us = model.Body(e.office_name or cfg.tenant, e.office_id, e.office_street, e.office_postcode, e.office_city)
    folder = outbox(cfg)
    folder.mkdir(parents=True, exist_ok=True)
    written, booked = [], []
    for creditor, part in per_creditor(rows).items():
        digest = hashlib.sha256("\n".join(sorted(part["feedback_id"].to_list())).encode()).hexdigest()[:12]
        message_id = f"{cfg.tenant}-AH-{today:%Y%m%d}-{digest}"
        header = model.Header(message_id=message_id, created=created or datetime(today.year, today.month, today.day),
                              sender=us, receiver=model.Body(name_of.get(creditor) or creditor, creditor))
        data = write_answers(header, answers_from_feedback(part, ERSUCHEN_CHECK_TEXT, invoice=items.select(
            INVOICE_COLUMNS)), file=f"{message_id}.xml")
        target = folder / f"{message_id}.xml"
        tmp = target.with_name(target.name + ".tmp")
        tmp.write_bytes(data)
        tmp.replace(target)
        written.append(target)
        booked.append(part.select(pl.lit(cfg.tenant).alias("tenant"), pl.lit(run_id).alias("run_id"), "feedback_id",
                                  "creditor_id", pl.lit(target.name).alias("file_name"),
                                  pl.lit(message_id).alias("file_message_id"), pl.lit(today).alias("sent_on")))
    frame = conform(pl.concat(booked), AMTSHILFE_FEEDBACK)
    con.execute("BEGIN TRANSACTION")
    try:
        con.register("_fb", frame.to_arrow())
        con.execute("INSERT INTO amtshilfe_feedback SELECT * FROM _fb")
        con.unregister("_fb")
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise
    return written


__all__ = ["AMTSHILFE_EVENTS", "AMTSHILFE_REQUESTS", "CLAIMS_FILE", "KIND", "case_number", "ingest_amtshilfe",
           "read_ledger", "split", "with_amtshilfe_claims", "write_feedback"]
