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
  our **case number**, a valid Kassenzeichen of the tenant's scheme that the debtor can quote
  (:mod:`amtshilfe.case_numbers`: ``[amtshilfe] case_number_prefix`` + digits of SHA-256(tenant, creditor,
  file number) + check digit, skipping numbers in use): the same request and ledger always give the same
  number, so a rerun never makes a second one. ``external_ref`` is the creditor's
  payment reference (the Beitragsnummer), which the debtor may quote.
* ``claim_changes`` (migration 15): what an applied Änderung or Rücknahme does to the request's claims —
  amended, cancelled (the open part), or a new claim for a notice an Änderung adds; an Änderung that would
  lower a claim below what is paid on it is flagged (``below_paid``) instead. Several changes of one
  request in one night are applied in the order received, each to the result of the one before
  (:func:`_apply_changes`; docs/AMTSHILFE.md "Changes to a request"). The night's matching sees them
  (:func:`with_claim_changes`).

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
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import duckdb
import polars as pl

from amtshilfe import case_numbers, model
from amtshilfe.adapt import answers_from_feedback, ersuchen_rows
from amtshilfe.checks import check, read_authorities
from amtshilfe.claim_changes import CHANGES, CLAIM_STATE, amend_claims, apply_changes, close_request_claims
from amtshilfe.csv_format import read_requests_csv
from amtshilfe.feedback import INVOICE_COLUMNS, feedback, per_creditor
from amtshilfe.sniff import kind_of
from amtshilfe.xml_format import AmtshilfeFileError, read_requests, write_answers
from claims.vocab import (
    ClaimChange,
    ClaimType,
    ErsuchenCheck,
    ErsuchenFeedback,
    ErsuchenMessage,
    ErsuchenOutcome,
    ErsuchenState,
    FileStatus,
)
from jobs.nightly import amtshilfe_answers as answers_in
from jobs.nightly.amtshilfe_money import write_invoice_documents
from jobs.nightly.inbox import Entry
from jobs.rundir import RunDir
from ledger.amtshilfe_claims import change_rows, request_claims
from ledger.config import TenantConfig
from ledger.db import fetch
from ledger.tables import (
    AMTSHILFE_EVENTS,
    AMTSHILFE_FEEDBACK,
    AMTSHILFE_NOTICES,
    AMTSHILFE_REQUESTS,
    CLAIMS,
    OWN_CLAIMS,
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
#: Run-folder names: the requests' claims as they stand (read step), the night's changes to them (match step).
HELD_CLAIMS, CHANGES_FILE = "amtshilfe_held_claims", "amtshilfe_claim_changes"
#: Run-folder name: the Kassenzeichen in use in the range of our case numbers (read step)
TAKEN = "amtshilfe_taken"
_HEAD = 4096


def _kind(path: Path) -> str | None:
    try:
        with path.open("rb") as fh:
            kind = kind_of(fh.read(_HEAD))
    except OSError:
        return None
    # answers_xml: another authority answers a request we sent (issue 18 §4, jobs.nightly.amtshilfe_answers)
    return kind if kind in ("requests_xml", "requests_csv", "answers_xml") else None


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
    folder.write(HELD_CLAIMS, request_claims(con, cfg.tenant))
    # the numbers a new case number must not be: exports', claims' and cases' in the prefix's range
    taken = fetch(con, "SELECT DISTINCT kz_norm FROM open_items WHERE tenant = $t AND starts_with(kz_norm, $p) "
                       "UNION SELECT kz_norm FROM claims WHERE tenant = $t AND starts_with(kz_norm, $p) "
                       "UNION SELECT case_number FROM amtshilfe_requests WHERE tenant = $t "
                       "AND case_number IS NOT NULL", {**p, "p": cfg.amtshilfe.case_number_prefix})
    folder.write(TAKEN, conform(taken, {"kz_norm": pl.String()}))
    answers_in.read_held(con, cfg, folder)   # our requests sent to other authorities (issue 18 §4)


def _held(folder: RunDir, name: str, table: str) -> pl.DataFrame:
    path = folder.file(name)
    return pl.read_parquet(path) if path.exists() else pl.DataFrame(schema=TABLES[table])


def _held_claims(folder: RunDir) -> pl.DataFrame:
    path = folder.file(HELD_CLAIMS)
    return pl.read_parquet(path) if path.exists() else pl.DataFrame(schema=CLAIM_STATE)


def case_number(tenant: str, creditor_id: str, file_number: str, *, prefix: str = "8", digits: int = 12,
                scheme: str = "mod11", taken: frozenset[str] = frozenset()) -> str:
    """Our case number of a foreign creditor's request: a valid Kassenzeichen of the tenant's scheme, the
    same request the same number every run (:mod:`amtshilfe.case_numbers`; the defaults are the config's)."""
    return case_numbers.assign([case_numbers.key_of(tenant, creditor_id, file_number)], prefix=prefix,
                               digits=digits, scheme=scheme, taken=taken)[0]


def _numbered(cfg: TenantConfig, a: pl.DataFrame, held: pl.DataFrame, taken: pl.Series) -> pl.Series:
    """The case numbers of the accepted rows of ``a`` (null for the others): the one the ledger holds for
    the request, else a new one (:func:`amtshilfe.case_numbers.assign`, in the order of ``a``)."""
    c = pl.col
    key = [c("creditor_id").fill_null("").str.strip_chars().str.to_uppercase().alias("_cid"),
           c("creditor_file_number").fill_null("").str.strip_chars().alias("_fn")]
    had = held.filter(c("case_number").is_not_null()).select(*key, c("case_number").alias("_had")).unique(
        ["_cid", "_fn"], keep="last", maintain_order=True)
    rows = a.select((c("outcome") == ErsuchenOutcome.ACCEPTED).fill_null(False).alias("_acc"), *key).join(
        had, on=["_cid", "_fn"], how="left", maintain_order="left")
    new = rows.filter(c("_acc") & c("_had").is_null())
    ref = cfg.reference
    numbers = case_numbers.assign(
        [case_numbers.key_of(cfg.tenant, cid, fn) for cid, fn in zip(new["_cid"], new["_fn"], strict=True)],
        prefix=cfg.amtshilfe.case_number_prefix, digits=ref.digits, scheme=ref.check_digit,
        taken=taken.drop_nulls().to_list())
    given = new.select("_cid", "_fn", pl.Series("_new", numbers, pl.String)).unique(["_cid", "_fn"])
    return rows.join(given, on=["_cid", "_fn"], how="left", maintain_order="left").select(
        pl.when(c("_acc")).then(pl.coalesce("_had", "_new")).alias("case_number")).to_series()


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
                     run_id: str, booking_date: date,
                     export_numbers: pl.Series | None = None) -> tuple[pl.DataFrame, list[Issue]]:
    """Read the request files, check them, stage their rows in ``folder``; return their ``files`` rows (in
    the order of ``found``) and the issues. ``export_numbers``: the Kassenzeichen (``kz_norm``) of the
    night's open-items exports, which a new case number must not take either."""
    settings = cfg.amtshilfe
    configured = bool(settings.district_postcodes or settings.district_municipalities)
    held = _held(folder, HELD, "amtshilfe_requests")
    held_notices = _held(folder, HELD_NOTICES, "amtshilfe_notices")
    rows: list[dict[str, Any]] = []
    issues: list[Issue] = []
    parts: list[pl.DataFrame] = []
    extras: list[pl.DataFrame] = []
    answered: list[pl.DataFrame] = []
    for entry, kind in found:
        name, sha, size = display_name(entry.path), sha256_file(str(entry.path)), entry.path.stat().st_size
        if sha in known_files:
            rows.append(_file_row(name, sha, size, kind, FileStatus.DUPLICATE, "file already imported (same SHA-256)"))
            issues.append(Issue(name, "", "info", "file.duplicate", "Amtshilfe delivery already imported"))
            continue
        if kind == "answers_xml":            # an answer to a request we sent (issue 18 §4)
            try:
                events, found_issues = answers_in.read_one(entry.path, name, sha, folder)
            except AmtshilfeFileError as exc:
                rows.append(_file_row(name, sha, size, kind, FileStatus.REJECTED, str(exc)))
                issues.append(Issue(name, "", ERROR, "amtshilfe.file_rejected", str(exc)))
                continue
            known_files.add(sha)
            answered.append(events)
            issues.extend(found_issues)
            rows.append(_file_row(name, sha, size, kind, FileStatus.OK, None, events.height))
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
                "debtor_given_name", pl.lit(True).alias("own_notices")),
            data.changes.select((pl.lit(prefix) + pl.col("message_id")).alias("message_id"),
                                pl.lit(None, pl.String).alias("creditor_iban"),
                                pl.lit(None, pl.String).alias("creditor_bic"), "debtor_given_name",
                                # an Änderung with Notice rows of its own replaces the list; without, keeps it
                                pl.col("message_id").is_in(data.notices["message_id"].implode()).alias("own_notices")),
        ]).with_columns(pl.lit(name).alias("file_name"), pl.lit(sha).alias("file_sha256")))
        n = data.requests.height + data.changes.height
        rows.append(_file_row(name, sha, size, kind, FileStatus.OK, None, n))
    files = conform(pl.DataFrame(rows, schema=FILE_SCHEMA), FILE_SCHEMA) if rows else pl.DataFrame(schema=FILE_SCHEMA)
    path = folder.file(TAKEN)
    taken = pl.read_parquet(path)["kz_norm"] if path.exists() else pl.Series("kz_norm", [], pl.String)
    if export_numbers is not None:
        taken = pl.concat([taken, export_numbers.cast(pl.String).rename("kz_norm")])
    answers_in.stage(folder, answered, tenant=cfg.tenant, run_id=run_id)
    if parts:
        _stage(cfg, pl.concat(parts), pl.concat(extras), held, held_notices, folder, run_id=run_id,
               booking_date=booking_date, taken=taken)
    # a person's decisions on flagged or accepted requests, after tonight's messages (amtshilfe_decisions.py)
    from jobs.nightly import amtshilfe_decisions

    staged = folder.file(CLAIMS_FILE)
    if staged.exists():      # the numbers tonight's accepted requests took are taken too
        taken = pl.concat([taken, pl.read_parquet(staged, columns=["kassenzeichen"])["kassenzeichen"].rename("kz_norm")])
    issues += amtshilfe_decisions.stage(cfg, held, held_notices, folder, run_id=run_id, booking_date=booking_date,
                                        taken=taken)
    return files, issues


def _stage(cfg: TenantConfig, received: pl.DataFrame, extra: pl.DataFrame, held: pl.DataFrame,
           held_notices: pl.DataFrame, folder: RunDir, *, run_id: str, booking_date: date,
           taken: pl.Series) -> None:
    """Check the night's messages and stage events, requests, notices, claims and the changes the night's
    Änderungen and Rücknahmen make to claims (:func:`_apply_changes`)."""
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
    a = a.with_columns(pl.when(c("outcome") == ErsuchenOutcome.ACCEPTED)
                       .then(_numbered(cfg, a, held, taken)).otherwise(c("case_number")).alias("case_number"))
    tag = [pl.lit(cfg.tenant).alias("tenant"), pl.lit(run_id).alias("run_id")]

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

    # every notice row the checks kept, numbered 1, 2, … in its message, with its amount
    amount = c("principal_cents").fill_null(0) + c("surcharge_cents").fill_null(0) + c("costs_cents").fill_null(0)
    kept = got.notices.with_columns(pl.int_range(1, pl.len() + 1).over("message_id").cast(pl.Int64).alias("position"),
                                    amount.alias("amount_cents"))
    accepted = new_rows.filter(c("outcome") == ErsuchenOutcome.ACCEPTED).select("message_id", "case_number")
    new_notices = kept.join(new_rows.select("message_id", c("outcome").alias("_outcome"), "case_number"),
                            on="message_id", how="inner", maintain_order="left").with_columns(
        pl.when((c("_outcome") == ErsuchenOutcome.ACCEPTED) & (c("amount_cents") > 0))
        .then(c("case_number") + "-" + c("position").cast(pl.String)).alias("receivable_id")).drop("_outcome",
                                                                                                 "case_number")
    tonight_claims = new_notices.join(accepted, on="message_id", how="inner").filter(
        c("receivable_id").is_not_null()).select(
        "receivable_id", "case_number", "amount_cents", pl.lit(0, pl.Int64).alias("allocated_cents"),
        pl.lit(False).alias("closed"))
    rounds = _apply_changes(a, received, kept, held, held_notices, _held_claims(folder), new_rows, new_notices,
                            tonight_claims, keep=request_cols)

    # an Änderung that would lower a claim below what is paid on it is not applied: a person decides
    refused = c("message_id").is_in(rounds.refused.implode())
    a = a.with_columns(pl.when(refused).then(pl.lit(str(ErsuchenOutcome.FLAGGED))).otherwise(c("outcome"))
                       .alias("outcome"),
                       pl.when(refused).then(pl.lit(str(ErsuchenCheck.BELOW_PAID))).otherwise(c("check"))
                       .alias("check"),
                       pl.when(refused).then(None).otherwise(c("state")).alias("state"))
    kind = (pl.when(c("outcome") == ErsuchenOutcome.ACCEPTED).then(pl.lit(str(ErsuchenFeedback.ACCEPTED)))
            .when(c("outcome") == ErsuchenOutcome.RETURNED).then(pl.lit(str(ErsuchenFeedback.RETURNED)))
            .when((c("outcome") == ErsuchenOutcome.APPLIED) & (c("message") == ErsuchenMessage.RUECKNAHME))
            .then(pl.lit(str(ErsuchenFeedback.WITHDRAWN))))
    events = a.select(*tag, c("message_id").alias("event_id"), kind.alias("kind"), "creditor_id",
                      "creditor_file_number", "message_id", "message", "outcome", "check", "state", "case_number",
                      "payment_reference", pl.lit(booking_date).alias("event_date"),
                      c("total_cents").alias("amount_cents"),
                      c("check").replace_strict(ERSUCHEN_CHECK_TEXT, default=None, return_dtype=pl.String)
                      .alias("text"), "competent_authority_id", "competent_authority_name", "file_name", "file_sha256")
    folder.book("amtshilfe_events", events)

    top = held.select(pl.col("seq").max()).item() if held.height else None
    seq_max_all = int(top) if top is not None else 0
    req = pl.concat([new_rows.with_columns(pl.lit(booking_date).alias("received_on")),
                     rounds.rows.with_columns(pl.lit(booking_date).alias("received_on"))], how="diagonal_relaxed")
    req = req.with_row_index("_i").with_columns((pl.lit(seq_max_all + 1) + c("_i").cast(pl.Int64)).alias("seq"))
    folder.book("amtshilfe_requests", req.with_columns(*tag, c("total_cents").alias("total_cents")))

    # the notices of the rows written: a new request's own, a change's as the rounds left them
    notices = pl.concat([new_notices, rounds.notices], how="diagonal_relaxed").join(
        req.select("message_id", "seq", "creditor_id", "creditor_file_number"), on="message_id", how="inner",
        suffix="_r", maintain_order="left").with_columns(c("creditor_id_r").alias("creditor_id"),
                                                         c("creditor_file_number_r").alias("creditor_file_number"))
    folder.book("amtshilfe_notices", notices.with_columns(*tag).select(list(AMTSHILFE_NOTICES)))

    # claims: the notices of a request accepted tonight, and a notice an Änderung added
    info = a.select("message_id", "rundfunk", "file_name", "file_sha256")
    claims = pl.concat([
        new_notices.filter(c("receivable_id").is_not_null()).join(accepted, on="message_id", how="inner"),
        kept.join(rounds.new_claims.select("message_id", "position", "receivable_id", "case_number"),
                  on=["message_id", "position"], how="inner")], how="diagonal_relaxed").join(
        info, on="message_id", how="left", maintain_order="left").with_columns(key)
    now = datetime.now(UTC)
    claims = _claim_rows(claims, tenant=cfg.tenant, run_id=run_id, booking_date=booking_date, now=now)
    folder.write(CLAIMS_FILE, claims)
    changes = change_rows(rounds.changes, tenant=cfg.tenant, run_id=run_id, reason=c("message"),
                          effective_on=booking_date, created_at=now)
    folder.book("claim_changes", changes)
    # what the night's matching may still allocate to a changed claim (jobs.nightly.match)
    folder.write(CHANGES_FILE, rounds.changes.select("receivable_id", "change", "open_cents"))


def _claim_rows(rows: pl.DataFrame, *, tenant: str, run_id: str, booking_date: date, now: datetime) -> pl.DataFrame:
    """The ``CLAIMS`` rows of notices with a ``receivable_id`` and ``amount_cents`` (and ``case_number``,
    ``notice_date``, ``request_date``, ``payment_reference``, ``rundfunk``, ``file_name``, ``file_sha256``,
    ``position``, ``_cid``), checked against the claims schema."""
    c = pl.col
    tag = [pl.lit(tenant).alias("tenant"), pl.lit(run_id).alias("run_id")]
    claims = rows.with_columns(
        *tag, c("case_number").alias("kassenzeichen"), c("case_number").alias("kz_norm"),
        ("AH-" + c("case_number")).alias("debtor_id"),
        pl.when(c("rundfunk")).then(pl.lit(str(ClaimType.RUNDFUNK_AMTSHILFE))).otherwise(pl.lit(CLAIM_TYPE))
        .alias("claim_type"),
        pl.coalesce("notice_date", "request_date", pl.lit(booking_date)).alias("due_date"),
        c("payment_reference").alias("external_ref"), pl.lit("public").alias("law"),
        pl.lit("amtshilfe").alias("origin"), c("_cid").alias("creditor"),
        c("file_sha256").alias("source_file"), c("file_name").alias("source_path"),
        c("position").cast(pl.Int32).alias("source_line"), pl.lit(now).alias("created_at"))
    claims = claims.select([c(k).cast(t) if k in claims.columns else pl.lit(None, t).alias(k)
                            for k, t in CLAIMS.items()])
    from ledger import handoff

    handoff.check("claims", claims)
    return claims


def accepted_claims(notices: pl.DataFrame, accepted: pl.DataFrame, *, tenant: str, run_id: str,
                    booking_date: date) -> pl.DataFrame:
    """The claims of accepted requests, one per notice with an amount (receivable id = case number + ``-`` +
    position): ``notices`` (``message_id``, ``position``, ``notice_date``, ``request_date``,
    ``payment_reference``, the three amounts) joined on ``message_id`` with ``accepted`` (``case_number``,
    ``rundfunk``, ``file_name``, ``file_sha256`` and ``_cid``, the creditor id trimmed and upper-cased). For a
    flagged request a person accepts (``jobs/nightly/amtshilfe_decisions.py``)."""
    c = pl.col
    amount = c("principal_cents").fill_null(0) + c("surcharge_cents").fill_null(0) + c("costs_cents").fill_null(0)
    rows = notices.join(accepted, on="message_id", how="inner", maintain_order="left").with_columns(
        amount.alias("amount_cents")).filter(c("amount_cents") > 0).with_columns(
        (c("case_number") + "-" + c("position").cast(pl.String)).alias("receivable_id"))
    return _claim_rows(rows, tenant=tenant, run_id=run_id, booking_date=booking_date, now=datetime.now(UTC))


#: A notice's columns in the ledger (``amtshilfe_notices`` less the request's key and the run's).
_NOTICE = ("position", "notice_date", "notice_authority", "notice_file_number", "period_from", "period_to",
           "principal_cents", "surcharge_cents", "costs_cents", "receivable_id")
_CLAIMED = (str(ErsuchenState.ACCEPTED), str(ErsuchenState.SUSPENDED))


@dataclass(frozen=True, slots=True)
class _Rounds:
    """The night's applied changes (:func:`_apply_changes`): ``rows`` the request rows to write, in the order
    applied; ``notices`` their notices (``message_id`` + :data:`_NOTICE`); ``changes`` the claim changes
    (``amtshilfe.claim_changes.CHANGES`` + ``message``); ``new_claims`` the notices an Änderung added
    (``message_id``, ``position``, ``receivable_id``, ``case_number``); ``refused`` the Änderungen not
    applied (``below_paid``)."""

    rows: pl.DataFrame
    notices: pl.DataFrame
    changes: pl.DataFrame
    new_claims: pl.DataFrame
    refused: pl.Series


def _keyed(frame: pl.DataFrame) -> pl.DataFrame:
    c = pl.col
    return frame.with_columns(c("creditor_id").str.strip_chars().str.to_uppercase().alias("_cid"),
                              c("creditor_file_number").str.strip_chars().alias("_fn"))


def _apply_changes(a: pl.DataFrame, received: pl.DataFrame, kept: pl.DataFrame, held: pl.DataFrame,
                   held_notices: pl.DataFrame, held_claims: pl.DataFrame, new_rows: pl.DataFrame,
                   new_notices: pl.DataFrame, tonight_claims: pl.DataFrame, *, keep: list[str]) -> _Rounds:
    """Apply the night's applied changes (Änderung, Aussetzung, Rücknahme) in the order received, each to the
    request as the one before left it (round ``r`` takes the ``r``-th change of every request: set-based over
    the requests, a loop only over the few rounds), with what each does to the request's claims
    (``amtshilfe.claim_changes``; docs/AMTSHILFE.md "Changes to a request")."""
    c = pl.col
    changes = _keyed(a.filter((c("message") != ErsuchenMessage.ERSUCHEN) & (c("outcome") == ErsuchenOutcome.APPLIED)))
    changes = changes.with_columns(pl.int_range(pl.len()).over("_cid", "_fn").alias("_round"))
    full = received.unique("message_id", keep="first", maintain_order=True).select("message_id", *keep)
    base = pl.concat([_keyed(held), _keyed(new_rows.filter(c("outcome") != ErsuchenOutcome.RETURNED))],
                     how="diagonal_relaxed").unique(["_cid", "_fn"], keep="last", maintain_order=True)
    claims = pl.concat([conform(held_claims, CLAIM_STATE), conform(tonight_claims, CLAIM_STATE)])
    # the notices as they stand, each with its claim (a notice booked before migration 15: <case>-<position>)
    hn = _keyed(held_notices).join(_keyed(held).select("_cid", "_fn", "case_number"), on=["_cid", "_fn"], how="left",
                                   maintain_order="left")
    hn = hn.with_columns(pl.coalesce(c("receivable_id"), c("case_number") + "-" + c("position").cast(pl.String))
                         .alias("_rid")).with_columns(
        pl.when(c("_rid").is_in(claims["receivable_id"].implode())).then(c("_rid")).alias("receivable_id"))
    nn = _keyed(new_notices)
    now = pl.concat([hn.join(nn.select("_cid", "_fn").unique(), on=["_cid", "_fn"], how="anti"), nn],
                    how="diagonal_relaxed").select("_cid", "_fn", *_NOTICE)
    rows, notices, claim_changes, new_claims, refused = [], [], [], [], []
    aenderung, aussetzung = c("message") == ErsuchenMessage.AENDERUNG, c("message") == ErsuchenMessage.AUSSETZUNG
    own = aenderung & c("own_notices").fill_null(False)
    from_notices = ("notices", "principal_cents", "surcharge_cents", "costs_cents", "total_cents")
    n_rounds = int(changes.select(pl.col("_round").max().fill_null(-1)).item()) + 1
    for r in range(n_rounds):
        ch = changes.filter(c("_round") == r).join(full, on="message_id", how="left", maintain_order="left")
        ch = ch.join(base.select("_cid", "_fn", *[c(x).alias(f"{x}_base") for x in (
            "state", "case_number", "creditor_iban", "creditor_bic", "debtor_given_name", "content_key",
            "suspended_until", *from_notices, *keep, "creditor_name", "payment_reference", "request_date")]),
            on=["_cid", "_fn"], how="inner", maintain_order="left")
        resumed = aenderung & (c("state_base") == ErsuchenState.SUSPENDED)
        ch = ch.with_columns(
            pl.when(resumed).then(pl.lit(str(ErsuchenState.ACCEPTED))).otherwise(c("state").fill_null(c("state_base")))
            .alias("state"),
            c("case_number_base").alias("case_number"),
            *[c(f"{x}_base").alias(x) for x in ("creditor_iban", "creditor_bic", "debtor_given_name")],
            pl.when(aenderung).then(c("content_key")).otherwise(c("content_key_base")).alias("content_key"),
            *[pl.when(own).then(c(x)).otherwise(c(f"{x}_base")).alias(x) for x in from_notices],
            pl.when(aussetzung).then(c("suspended_until")).when(resumed).then(None)
            .otherwise(c("suspended_until_base")).alias("suspended_until"),
            # an Aussetzung or Rücknahme keeps the request's content: the one the change before left
            *[pl.when(aenderung).then(c(x)).otherwise(c(f"{x}_base")).alias(x)
              for x in (*keep, "creditor_name", "payment_reference", "request_date")],
            c("state_base").is_in(list(_CLAIMED)).alias("_claimed"),
            (c("_cid") + "\x1f" + c("_fn")).alias("request"))

        # an Änderung with a new list of notices: the claims follow it (or it is refused: below_paid)
        amend = ch.filter(own & c("_claimed"))
        new_list = kept.join(amend.select("message_id", "request", "case_number"), on="message_id", how="inner",
                             maintain_order="left")
        old_list = now.join(amend.select("_cid", "_fn", "request"), on=["_cid", "_fn"], how="inner")
        got = amend_claims(old_list, new_list, claims)
        refused.append(got.refused["message_id"])
        ch = ch.filter(~c("message_id").is_in(got.refused["message_id"].implode()))
        # a Rücknahme closes every claim the request has (one ever accepted has them, whatever its state now)
        withdrawn = ch.filter(c("message") == ErsuchenMessage.RUECKNAHME)
        closing = close_request_claims(claims.join(withdrawn.select("case_number", "message_id"), on="case_number",
                                                   how="inner"))
        done = pl.concat([got.changes, closing]).join(ch.select("message_id", "message"), on="message_id",
                                                      how="left")
        claim_changes.append(done)
        added = got.new_claims.join(ch.select("message_id", "case_number"), on="message_id", how="inner")
        new_claims.append(added)

        # the notices of each row: an Änderung's own list (with the claims it follows), else as they stand
        listed = kept.join(ch.filter(own).select("message_id"), on="message_id", how="inner").drop("receivable_id",
                                                                                                  strict=False)
        listed = listed.join(got.notices.select("message_id", "position", "receivable_id"),
                             on=["message_id", "position"], how="left", maintain_order="left")
        carried = ch.filter(~own).select("message_id", "_cid", "_fn").join(now, on=["_cid", "_fn"], how="inner",
                                                                           maintain_order="left")
        these = pl.concat([_keyed(listed).select("message_id", "_cid", "_fn", *_NOTICE),
                           carried.select("message_id", "_cid", "_fn", *_NOTICE)])
        notices.append(these.drop("_cid", "_fn"))
        rows.append(ch)
        base = pl.concat([base, ch], how="diagonal_relaxed").unique(["_cid", "_fn"], keep="last", maintain_order=True)
        now = pl.concat([now.join(ch.select("_cid", "_fn"), on=["_cid", "_fn"], how="anti"), these.drop("message_id")],
                        how="diagonal_relaxed")
        claims = pl.concat([apply_changes(claims, done), added.select(
            "receivable_id", "case_number", "amount_cents", pl.lit(0, pl.Int64).alias("allocated_cents"),
            pl.lit(False).alias("closed"))])
    empty_changes = pl.DataFrame(schema={**CHANGES, "message": pl.String()})
    return _Rounds(
        rows=pl.concat(rows, how="diagonal_relaxed") if rows else pl.DataFrame(),
        notices=pl.concat(notices, how="diagonal_relaxed") if notices else pl.DataFrame(
            schema={"message_id": pl.String()}),
        changes=pl.concat([empty_changes, *[x.select(empty_changes.columns) for x in claim_changes]],
                          how="vertical_relaxed"),
        new_claims=pl.concat(new_claims, how="diagonal_relaxed") if new_claims else pl.DataFrame(
            schema={"message_id": pl.String(), "position": pl.Int64(), "receivable_id": pl.String(),
                    "case_number": pl.String(), "amount_cents": pl.Int64()}),
        refused=pl.concat(refused) if refused else pl.Series("message_id", [], pl.String()))

def with_claim_changes(open_items: pl.DataFrame, folder: RunDir) -> pl.DataFrame:
    """``open_items`` (the match step's) with the night's claim changes applied: an amended claim open for its
    new amount less what was allocated, a cancelled one gone — so tonight's payments are never allocated to
    what a change booked in the same transaction has closed."""
    path = folder.file(CHANGES_FILE)
    if not path.exists():
        return open_items
    changed = pl.read_parquet(path).unique("receivable_id", keep="last", maintain_order=True)
    if changed.height == 0:
        return open_items
    c = pl.col
    own = c("import_id") == OWN_CLAIMS
    out = open_items.join(changed.select("receivable_id", c("change").alias("_change"), c("open_cents").alias("_open")),
                          on="receivable_id", how="left", maintain_order="left")
    out = out.with_columns(pl.when(own & c("_open").is_not_null()).then(c("_open").clip(lower_bound=0))
                           .otherwise(c("amount_cents")).alias("amount_cents"))
    gone = own & ((c("_change") == ClaimChange.CANCELLED) | (c("_open").is_not_null() & (c("amount_cents") <= 0)))
    return out.filter(~gone.fill_null(False)).drop("_change", "_open")


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


__all__ = ["AMTSHILFE_EVENTS", "AMTSHILFE_REQUESTS", "CHANGES_FILE", "CLAIMS_FILE", "KIND", "accepted_claims", "case_number",
           "ingest_amtshilfe", "read_ledger", "split", "with_amtshilfe_claims", "with_claim_changes", "write_feedback"]
