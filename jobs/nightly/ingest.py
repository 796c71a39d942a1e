"""Ingest step: the tenant's inbox into staged ledger rows (files, statements, transactions, imports).

Bank files go through ``parsers.parse_paths`` with the ledger's known file hashes and statement keys,
so a file delivered again (same hash) or the same statements inside another file are recognised and
not booked twice; the ``files`` rows and issues say so. Open-items exports are each kept as a version
(``open_item_imports`` + ``open_items``); the newest becomes the current base for matching.
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import polars as pl

from claims.vocab import FileStatus
from jobs.nightly import outcomes
from jobs.nightly.inbox import Entry, plan_move, scan_inbox
from jobs.rundir import RunDir
from ledger.config import TenantConfig
from ledger.tables import FILES
from parsers.ids import sha256_file
from parsers.issues import ERROR, Issue, issues_frame
from parsers.names import display_name
from parsers.result import FILE_SCHEMA
from parsers.schema import conform


def match_config(cfg: TenantConfig) -> Any:
    """The tenant's matching config (``[reference]``, ``[matching]``, ``[allocation]`` of its TOML)."""
    from matching.config import MatchConfig

    return MatchConfig.from_tenant(cfg)


def account_aliases(ibans: list[str]) -> dict[str, str]:
    """``BLZ/Kontonummer`` spellings (MT940 :25:) of the tenant's German IBANs -> the IBAN."""
    out: dict[str, str] = {}
    for iban in ibans:
        if iban.startswith("DE") and len(iban) == 22:
            blz, konto = iban[4:12], iban[12:]
            for k in {konto, konto.lstrip("0")}:
                out[f"{blz}/{k}"] = iban
    return out


def with_configured_accounts(frame: pl.DataFrame, ibans: list[str]) -> pl.DataFrame:
    """Write ``account_iban`` as the configured IBAN where the bank delivered BLZ/account (raw keeps it)."""
    aliases = account_aliases(ibans)
    if not aliases or frame.height == 0:
        return frame
    return frame.with_columns(pl.col("account_iban").replace(aliases))


def _exports(paths: list[Path], known: set[str], *, tenant: str, run_id: str, booking_date: date,
             config: Any) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame, list[Issue]]:
    """Load each open-items export (a per-file loop: exports are few); return files, imports, items, issues."""
    from parsers.open_items import load_open_items

    files: list[dict[str, Any]] = []
    imports: list[dict[str, Any]] = []
    items: list[pl.DataFrame] = []
    issues: list[Issue] = []
    now = datetime.now(UTC)
    for n, path in enumerate(paths):
        sha = sha256_file(str(path))
        name = display_name(path)
        row = {"source_path": name, "source_file": sha, "source_format": "open_items",
               "size_bytes": path.stat().st_size, "n_statements": 0, "n_entries": 0}
        if sha in known:
            files.append({**row, "status": FileStatus.DUPLICATE, "reason": "export already imported (same SHA-256)",
                          "n_rows": 0})
            issues.append(Issue(name, "", "info", "file.duplicate", "open-items export already imported"))
            known.add(sha)
            continue
        frame, found = load_open_items(path, tenant=tenant, config=config)
        issues.extend(found)
        errors = [i for i in found if i.severity == "error"]
        if frame.height == 0:
            why = errors[0].message if errors else "the export holds no open items"
            files.append({**row, "status": FileStatus.REJECTED, "reason": why, "n_rows": 0})
            continue
        known.add(sha)
        files.append({**row, "status": FileStatus.OK, "reason": None, "n_rows": frame.height})
        imports.append({"tenant": tenant, "run_id": run_id, "import_id": sha, "booking_date": booking_date,
                        "source_path": name, "n_items": frame.height,
                        "total_cents": int(frame["amount_cents"].sum()),
                        "imported_at": now + timedelta(microseconds=n)})
        items.append(frame.with_columns(pl.lit(tenant).alias("tenant"), pl.lit(run_id).alias("run_id"),
                                        pl.lit(sha).alias("import_id")))
    files_df = conform(pl.DataFrame(files, schema_overrides=FILE_SCHEMA, infer_schema_length=None), FILE_SCHEMA) \
        if files else pl.DataFrame(schema=FILE_SCHEMA)
    imports_df = pl.DataFrame(imports) if imports else pl.DataFrame()
    items_df = pl.concat(items, how="diagonal_relaxed") if items else pl.DataFrame()
    return files_df, imports_df, items_df, issues


def _others(entries: list[Entry]) -> tuple[pl.DataFrame, list[Issue]]:
    """A ``rejected`` row (and an error issue) for each inbox entry that is not a regular file."""
    issues = [Issue(display_name(e.path), "", ERROR, e.code, e.reason) for e in entries]
    rows = [{"source_path": i.source_path, "status": FileStatus.REJECTED, "reason": i.one_line()} for i in issues]
    frame = conform(pl.DataFrame(rows, schema={k: FILE_SCHEMA[k] for k in ("source_path", "status", "reason")}),
                    FILE_SCHEMA)
    return frame, issues


def ingest(cfg: TenantConfig, booking_date: date, run_id: str, folder: RunDir) -> dict[str, int]:
    """Parse the inbox and stage the rows and the planned moves; return counts of files per status."""
    from parsers import parse_paths

    state = folder.state()
    known = set(state.known_files["source_file"].to_list())
    entries = scan_inbox(cfg.inbox)
    from jobs.nightly.office import ingest_office, split

    office, entries = split(entries)        # hand-off and updates files of the office's clients (issue 17 §4)
    from jobs.nightly import amtshilfe

    requests, entries = amtshilfe.split(entries)   # Amtshilfe requests of foreign creditors (issue 18)
    banks, outcome_files = outcomes.split_outcomes([e for e in entries if e.kind == "bank"])
    exports = [e for e in entries if e.kind == "open_items"]
    others = [e for e in entries if e.kind == "other"]
    result = parse_paths([e.path for e in banks], tenant=cfg.tenant, known_files=frozenset(known),
                         known_statement_keys=frozenset(state.statements["statement_key"].drop_nulls().to_list()),
                         previous_statements=state.statements.drop("run_id") if state.statements.height else None,
                         known_entries=state.day_transactions if state.day_transactions.height else None,
                         follow_named_links=False, max_bytes=cfg.settings.ingest.max_file_mib << 20)
    known |= set(result.files.filter(pl.col("status") == FileStatus.OK)["source_file"].drop_nulls().to_list())
    ex_files, imports, items, ex_issues = _exports([e.path for e in exports], known, tenant=cfg.tenant,
                                                   run_id=run_id, booking_date=booking_date,
                                                   config=match_config(cfg))
    of_files, of_issues = ingest_office(cfg, office, known, run_id=run_id, booking_date=booking_date, folder=folder)
    ah_files, ah_issues = amtshilfe.ingest_amtshilfe(cfg, requests, known, folder, run_id=run_id,
                                                     booking_date=booking_date,
                                                     export_numbers=items.get_column("kz_norm", default=None))
    oc_files, oc_issues = outcomes.ingest_outcomes(cfg, outcome_files, known, folder, run_id=run_id,
                                                   booking_date=booking_date)
    other_files, other_issues = _others(others)
    tag = [pl.lit(cfg.tenant).alias("tenant"), pl.lit(run_id).alias("run_id")]
    files = pl.concat([
        conform(result.files, FILE_SCHEMA).with_columns(pl.lit("statement").alias("kind")),
        ex_files.with_columns(pl.lit("open_items").alias("kind")),
        of_files.with_columns(pl.lit("enforcement").alias("kind")),
        oc_files.with_columns(pl.lit(outcomes.KIND).alias("kind")),
        ah_files.with_columns(pl.lit(amtshilfe.KIND).alias("kind")),
        other_files.with_columns(pl.lit("other").alias("kind")),
    ], how="vertical")
    # each real inbox file is tied to its own row by position, never by a name
    rows = [*result.input_rows, *range(result.files.height,
                                       result.files.height + ex_files.height + of_files.height + oc_files.height
                                       + ah_files.height)]
    files, moves = _with_moves(files, [*banks, *exports, *(e for e, _ in office), *outcome_files,
                                       *(e for e, _ in requests)], rows, cfg=cfg,
                               booking_date=booking_date)
    folder.write_json("moves", {"moves": moves})
    files = files.with_columns(*tag, pl.lit(booking_date).alias("booking_date"))
    issues = issues_frame([*result.issues, *ex_issues, *of_issues, *oc_issues, *ah_issues, *other_issues]).with_columns(
        *tag, pl.lit(booking_date).alias("booking_date"))
    from jobs.nightly.close import expected_accounts

    ibans = expected_accounts(cfg)
    transactions = with_configured_accounts(result.transactions.with_columns(*tag), ibans)
    folder.book("files", conform(files, FILES))
    folder.book("statements", with_configured_accounts(result.statements.with_columns(*tag), ibans))
    folder.book("transactions", transactions)
    folder.book("issues", issues)
    folder.book("open_item_imports", imports)
    folder.book("open_items", items)
    folder.book("audit_events", _file_events(files, cfg.tenant, run_id))
    counts = files["status"].value_counts()
    return {**dict(zip(counts["status"].to_list(), counts["count"].to_list(), strict=True)),
            "transactions": transactions.height, "statements": result.statements.height,
            "open_items": items.height, "issues": issues.height}


def _with_moves(files: pl.DataFrame, entries: list[Entry], rows: list[int], *, cfg: TenantConfig,
                booking_date: date) -> tuple[pl.DataFrame, list[dict[str, Any]]]:
    """``files`` with ``archived_as`` (null for ZIP members and what is not moved) and the planned moves."""
    archived: list[str | None] = [None] * files.height
    moves = []
    for entry, i in zip(entries, rows, strict=True):
        move = plan_move(entry, files.row(i, named=True), tenant_dir=cfg.tenant_dir, booking_date=booking_date)
        if move is not None:
            archived[i] = str(move.target.relative_to(cfg.tenant_dir))
            moves.append(move.to_json())
    return files.with_columns(pl.Series("archived_as", archived, dtype=pl.String())), moves


def _file_events(files: pl.DataFrame, tenant: str, run_id: str) -> pl.DataFrame:
    """One audit event per inbox file (files are few)."""
    now = datetime.now(UTC)
    rows = [{"tenant": tenant, "run_id": run_id, "at": now, "event": f"file.{r['status']}",
             "subject": r["source_path"],
             "detail": json.dumps({"sha256": r["source_file"], "kind": r["kind"], "reason": r["reason"],
                                   "archived_as": r["archived_as"]})}
            for r in files.iter_rows(named=True)]
    return pl.DataFrame(rows, schema={"tenant": pl.String(), "run_id": pl.String(), "at": pl.Datetime("us", "UTC"),
                                      "event": pl.String(), "subject": pl.String(), "detail": pl.String()})
