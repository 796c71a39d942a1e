"""The nightly import of the enforcement office's outcomes files (issue 17 §2 "Outcomes back";
docs/ENFORCEMENT.md, "Importing outcomes").

An outcomes file arrives in the tenant's inbox like a bank file. The ingest step recognises it by its root
(:func:`is_outcomes_file`: ``Outcomes`` in namespace ``urn:stadtkasse:enforcement:1``) and hands it here
instead of to the bank parsers. Per file one ``files`` row (``kind`` = ``enforcement_outcomes``):

* a file whose bytes were imported before (same SHA-256, under any name) is a ``duplicate`` and adds nothing;
* a file :func:`~enforcement.outcomes_file.read_outcomes` refuses as a whole (not well-formed, wrong message,
  counts or control sums wrong, addressed to another tenant, too large) is ``rejected`` with the reader's
  reason and goes to quarantine;
* else ``ok``: every outcome the reader rejected is an ``outcomes.rejected`` issue (file, line, element,
  reason), the others go on to :func:`enforcement.outcomes_apply.apply_outcomes` with what the ledger knows
  (``ledger.outcomes_state``, read by the read_ledger step into ``outcomes_*`` of the run folder).

What it stages for the night's one booking transaction: ``enforcement_outcomes`` (booked and held),
``enforcement_outcome_fees`` and the fee claims (``claims``, origin ``fee``: :func:`with_fee_claims` adds
them to the frames the book step commits, beside the match step's). Held outcomes and flagged fee items
are warnings in ``issues``. The canonical XML of each booked outcome is stored in the document store
before the commit (content-addressed, no index line yet: harmless if the commit never comes) and, after the
commit, :func:`file_outcome_documents` files it in the case file — every booked outcome not filed yet, so a
crash between the commit and the filing is completed by the next run.
"""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import duckdb
import polars as pl
from lxml import etree

from claims.vocab import ClaimType, DocumentKind, FileStatus, OutcomeState, SubjectKind
from enforcement.file_format import NAMESPACE, EnforcementFileError
from enforcement.outcomes_apply import Applied, apply_outcomes
from enforcement.outcomes_file import read_outcomes
from jobs.dunning import charges
from jobs.nightly.inbox import Entry
from jobs.rundir import RunDir
from ledger import handoff
from ledger.config import TenantConfig
from ledger.documents import DocumentError, NewDocument, file_documents, put, read_index, read_object
from ledger.outcomes_state import OutcomesState, read_outcomes_state
from ledger.tables import CLAIMS
from outputs.dunning_texts import text_of
from outputs.enforcement_texts import OUTCOME_HOLD_TEXT, OUTCOME_TEXT
from parsers.ids import sha256_file
from parsers.issues import ERROR, INFO, WARNING, Issue
from parsers.names import display_name
from parsers.result import FILE_SCHEMA
from parsers.schema import conform

#: ``files.kind`` and ``files.source_format`` of an outcomes file.
KIND = "enforcement_outcomes"
#: Run-folder names: the ledger's state (read_ledger step) and the fee claims staged for the book step.
STATE_PREFIX = "outcomes_"
FEE_CLAIMS = "outcomes_fee_claims"
#: How much of a file's head is read to recognise it.
HEAD_BYTES = 4096
_ROOT = re.compile(rb"\A(?:\xef\xbb\xbf)?\s*(?:<\?.*?\?>\s*|<!--.*?-->\s*)*<(?:([A-Za-z_][\w.\-]*):)?Outcomes([\s/>][^>]*)?>",
                   re.S)


def outcome_key(outcome_id: str) -> str:
    """The idempotency key of a booked outcome in its case file."""
    return f"outcome:{outcome_id}"


def is_outcomes_file(path: Path) -> bool:
    """The file's root element is ``Outcomes`` in the enforcement namespace (read from the first 4 KB; a
    file that cannot be read is left to the bank parsers, which say why)."""
    try:
        with open(path, "rb") as fh:
            head = fh.read(HEAD_BYTES)
    except OSError:
        return False
    m = _ROOT.match(head)
    if m is None:
        return False
    prefix = m.group(1).decode("ascii") if m.group(1) else None
    attr = rb"xmlns" + (b":" + re.escape(prefix.encode("ascii")) if prefix else b"")
    ns = re.search(attr + rb"\s*=\s*([\"'])(.*?)\1", m.group(2) or b"")
    return ns is not None and ns.group(2) == NAMESPACE.encode("ascii")


def split_outcomes(banks: list[Entry]) -> tuple[list[Entry], list[Entry]]:
    """``banks`` without the outcomes files, and the outcomes files (``kind`` = ``enforcement_outcomes``)."""
    found = [replace(e, kind=KIND) for e in banks if is_outcomes_file(e.path)]
    paths = {e.path for e in found}
    return [e for e in banks if e.path not in paths], found


def read_ledger(con: duckdb.DuckDBPyConnection, cfg: TenantConfig, folder: RunDir) -> None:
    """The read_ledger step's part: what the import needs from the ledger, into the run folder."""
    read_outcomes_state(con, cfg.tenant, cfg.dunning.fee_kassenzeichen_prefix).write(folder.path, STATE_PREFIX)


def _row(path: Path, sha: str | None, status: str, reason: str | None, n_rows: int) -> dict[str, Any]:
    size = path.stat().st_size if path.exists() else None
    return {"source_path": display_name(path), "source_file": sha, "source_format": KIND, "status": status,
            "reason": reason, "n_statements": 0, "n_entries": 0, "n_rows": n_rows, "size_bytes": size}


def _canonical(data: bytes) -> dict[str, bytes]:
    """Each ``Outcome`` element's canonical XML (C14N) by its SHA-256 — the reader's ``digest``."""
    import hashlib

    root = etree.fromstring(data, etree.XMLParser(huge_tree=True, resolve_entities=False, no_network=True))
    out = {}
    for o in root.iterfind(f"{{{NAMESPACE}}}Outcome"):
        xml = etree.tostring(o, method="c14n")
        out[hashlib.sha256(xml).hexdigest()] = xml
    return out


def ingest_outcomes(cfg: TenantConfig, entries: list[Entry], known: set[str], folder: RunDir, *, run_id: str,
                    booking_date: date) -> tuple[pl.DataFrame, list[Issue]]:
    """Read, check and apply the night's outcomes files; stage what to book (module docstring). Returns the
    ``files`` rows (one per entry, in order) and the issues."""
    rows: list[dict[str, Any]] = []
    issues: list[Issue] = []
    outcomes, fees = [], []
    xml: dict[str, bytes] = {}
    limit = cfg.settings.ingest.max_file_mib << 20
    for e in entries:
        name = display_name(e.path)
        sha = sha256_file(str(e.path))
        if sha in known:
            rows.append(_row(e.path, sha, FileStatus.DUPLICATE, "outcomes file already imported (same SHA-256)", 0))
            issues.append(Issue(name, "", INFO, "file.duplicate", "outcomes file already imported"))
            continue
        try:
            if e.path.stat().st_size > limit:
                raise EnforcementFileError(f"the file is larger than {cfg.settings.ingest.max_file_mib} MiB",
                                           file=e.path.name)
            data = e.path.read_bytes()
            read = read_outcomes(data, file=e.path.name, tenant=cfg.tenant)
        except EnforcementFileError as err:
            rows.append(_row(e.path, sha, FileStatus.REJECTED, str(err), 0))
            issues.append(Issue(name, "", ERROR, "outcomes.file_refused", str(err)))
            continue
        known.add(sha)
        rows.append(_row(e.path, sha, FileStatus.OK, None, read.outcomes.height))
        issues.extend(Issue(name, f"line {r['line']} {r['element']}", ERROR, "outcomes.rejected",
                            f"outcome {r['item_id'] or ''} of case {r['case_number'] or '?'} rejected: {r['reason']}")
                      for r in read.rejected.iter_rows(named=True))
        outcomes.append(read.outcomes.with_columns(pl.col("file").alias("file_name"), pl.lit(sha).alias("file_sha256")))
        fees.append(read.fees.with_columns(pl.lit(sha).alias("file_sha256")))
        xml.update(_canonical(data))
    files = conform(pl.DataFrame(rows, schema=FILE_SCHEMA, orient="row"), FILE_SCHEMA)
    if outcomes:
        issues.extend(_stage(cfg, folder, pl.concat(outcomes, how="diagonal_relaxed"),
                             pl.concat(fees, how="diagonal_relaxed"), xml, run_id=run_id))
    return files, issues


def _stage(cfg: TenantConfig, folder: RunDir, outcomes: pl.DataFrame, fees: pl.DataFrame, xml: dict[str, bytes], *,
           run_id: str) -> list[Issue]:
    """Apply the outcomes to the ledger's state and stage the rows; store the booked outcomes' XML."""
    state = OutcomesState.read(folder.path, STATE_PREFIX)
    applied = apply_outcomes(outcomes, fees, recorded=state.recorded, case_claims=state.case_claims,
                             fee_kinds=cfg.enforcement.fee_kinds, fee_amounts=cfg.enforcement.fee_amounts)
    now = datetime.now(UTC)
    fee_rows, claims = fee_claims(applied, state, cfg, run_id=run_id, created_at=now)
    tag = [pl.lit(cfg.tenant).alias("tenant"), pl.lit(run_id).alias("run_id")]
    folder.book("enforcement_outcomes", applied.outcomes.with_columns(*tag))
    folder.book("enforcement_outcome_fees", fee_rows.with_columns(*tag))
    handoff.check("claims", claims)               # our own rows: a broken rule is a bug, the run stops
    folder.write(FEE_CLAIMS, claims)
    booked = applied.outcomes.filter(pl.col("state") == OutcomeState.BOOKED)
    for digest in booked["digest"].to_list():
        put(cfg.state_dir, cfg.tenant, xml[digest])
    return _findings(applied)


def _findings(applied: Applied) -> list[Issue]:
    out = [Issue(r["file_name"] or "", f"outcome {r['outcome_id']}", WARNING, f"outcomes.held.{r['hold_reason']}",
                 f"case {r['case_number']}: held for a clerk — {text_of(OUTCOME_HOLD_TEXT, r['hold_reason'])}")
           for r in applied.outcomes.filter(pl.col("state") == OutcomeState.HELD).iter_rows(named=True)]
    out += [Issue("", f"outcome {r['outcome_id']}", WARNING, f"outcomes.fee_{r['flag']}",
                  f"case {r['case_number']}: fee {r['kind']} of {r['amount_cents']} cents booked as the office wrote "
                  f"it ({'kind not in [enforcement] fee_kinds' if r['flag'] == 'unknown_kind' else 'amount differs from [enforcement] fee_amounts'})")
            for r in applied.fees.filter(pl.col("flag").is_not_null()).iter_rows(named=True)]
    # the new address stands beside the export's (the finance system keeps the master data): shown, not copied
    out += [Issue(r["file_name"] or "", f"outcome {r['outcome_id']}", INFO, "outcomes.moved",
                  f"case {r['case_number']}: debtor moved to {r['new_street']}, {r['new_postcode']} {r['new_city']} "
                  f"({r['new_country'] or 'DE'}) — please update the finance system's master data")
            for r in applied.outcomes.filter((pl.col("state") == OutcomeState.BOOKED)
                                             & pl.col("new_street").is_not_null()).iter_rows(named=True)]
    return out


def fee_claims(applied: Applied, state: OutcomesState, cfg: TenantConfig, *, run_id: str,
               created_at: datetime) -> tuple[pl.DataFrame, pl.DataFrame]:
    """The ``enforcement_outcome_fees`` rows and the fee claims (:data:`ledger.tables.CLAIMS`) of the booked
    outcomes' fees: one fee Kassenzeichen per outcome, shared by its fees (as a dunning notice's:
    ``jobs/dunning/charges.py``), the counter after the tenant's own claims, skipping numbers an export
    used; ``receivable_id`` = ``GEB-<Kassenzeichen>-<n>``; claim type ``KOSTEN``, due on the outcome's
    day, debtor and address of the case, law of the parent claim. A fee of 0 becomes no claim."""
    c = pl.col
    fees = applied.fees.with_row_index("_i")
    charged = fees.filter(c("amount_cents") > 0)
    ref, prefix = cfg.reference, cfg.dunning.fee_kassenzeichen_prefix
    ids = charged.select(c("outcome_id").unique(maintain_order=True))
    first = charges.next_counter(state.own_kz["kz_norm"], prefix, ref.digits, ref.check_digit)
    used = state.kz_in_use["kz_norm"].drop_nulls()
    numbers = charges.fee_numbers(ids.height + used.filter(used.str.starts_with(prefix)).len(), first,
                                  prefix=prefix, digits=ref.digits, scheme=ref.check_digit)
    numbers = numbers.filter(~numbers.is_in(used.implode())).head(ids.height)
    per_outcome = ids.with_columns(numbers.alias("kz_norm"))
    days = applied.outcomes.select("outcome_id", "outcome_date", "file_name", "file_sha256")
    rows = (charged.join(per_outcome, on="outcome_id", how="left", maintain_order="left")
            .with_columns(pl.int_range(1, pl.len() + 1).over("outcome_id").alias("_n"))
            .with_columns((pl.lit(charges.RECEIVABLE_PREFIX) + c("kz_norm") + "-" + c("_n").cast(pl.String))
                          .alias("fee_receivable_id")))
    claims = (rows.join(days, on="outcome_id", how="left", maintain_order="left")
              .join(state.case_debtors, on="case_number", how="left", maintain_order="left")
              .join(state.claim_law.rename({"receivable_id": "parent_receivable_id"}), on="parent_receivable_id",
                    how="left", maintain_order="left")
              .with_columns(c("fee_receivable_id").alias("receivable_id"), c("kz_norm").alias("kassenzeichen"),
                            pl.lit(ClaimType.KOSTEN.value).alias("claim_type"), c("outcome_date").alias("due_date"),
                            c("law").fill_null("public"), pl.lit("fee").alias("origin"),
                            pl.lit(cfg.tenant).alias("creditor"), pl.lit(cfg.tenant).alias("tenant"),
                            pl.lit(run_id).alias("run_id"), pl.lit(created_at).alias("created_at"),
                            c("file_sha256").alias("source_file"), c("file_name").alias("source_path")))
    claims = claims.select([c(k).cast(t) if k in claims.columns else pl.lit(None, t).alias(k)
                            for k, t in CLAIMS.items()])
    out = fees.join(rows.select("_i", "fee_receivable_id"), on="_i", how="left", maintain_order="left").drop("_i")
    return out, claims


def with_fee_claims(frames: dict[str, pl.DataFrame], folder: RunDir) -> dict[str, pl.DataFrame]:
    """The book step's frames with the outcomes' fee claims added to ``claims``."""
    path = folder.file(FEE_CLAIMS)
    if not path.exists():
        return frames
    extra = pl.read_parquet(path)
    if extra.is_empty():
        return frames
    return {**frames, "claims": pl.concat([frames["claims"], extra.select(frames["claims"].columns)],
                                          how="vertical_relaxed")}


def file_outcome_documents(cfg: TenantConfig, folder: RunDir, run_id: str) -> dict[str, int]:
    """After the commit: file each booked outcome not filed yet in its case file (``DocumentKind.OUTCOME``,
    subject the case, key :func:`outcome_key`, the outcome's canonical XML stored before the commit);
    idempotent. Returns ``filed`` (new lines) and ``missing`` (a booked outcome whose XML is not in the store)."""
    state_file = folder.file(f"{STATE_PREFIX}booked")
    staged = folder.file("book_enforcement_outcomes")
    parts = [pl.read_parquet(state_file)] if state_file.exists() else []
    if staged.exists():
        parts.append(pl.read_parquet(staged).filter(pl.col("state") == OutcomeState.BOOKED))
    if not parts:
        return {"filed": 0, "missing": 0}
    cols = ["outcome_id", "digest", "case_number", "outcome", "outcome_date"]
    booked = pl.concat([p.select(cols) for p in parts]).unique("outcome_id", keep="first", maintain_order=True)
    filed = {(e["subject_id"], e["key"]) for e in read_index(cfg.state_dir, cfg.tenant)
             if e.get("op") == "file" and e.get("subject_kind") == SubjectKind.CASE}
    todo = [r for r in booked.iter_rows(named=True) if (r["case_number"], outcome_key(r["outcome_id"])) not in filed]
    docs, missing = [], 0
    for r in todo:
        try:
            data = read_object(cfg.state_dir, cfg.tenant, r["digest"])
        except (DocumentError, OSError):
            missing += 1
            continue
        docs.append(NewDocument(data, SubjectKind.CASE, r["case_number"], DocumentKind.OUTCOME,
                                outcome_key(r["outcome_id"]), r["outcome_date"],
                                f"Rückmeldung der Vollstreckungsstelle: {text_of(OUTCOME_TEXT, r['outcome'])} vom "
                                f"{r['outcome_date']:%d.%m.%Y} ({r['outcome_id']})",
                                media_type="application/xml", run_id=run_id))
    lines = file_documents(cfg.state_dir, cfg.tenant, docs, settings=cfg.documents) if docs else []
    return {"filed": len(lines), "missing": missing}
