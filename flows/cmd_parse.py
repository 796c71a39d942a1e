"""``kasse parse PATH... --out DIR``: read bank files into canonical Parquet, with issues and a per-file list.

Writes ``transactions.parquet``, ``statements.parquet``, ``issues.csv`` and ``files.csv`` into DIR, each
atomically (temp file in DIR, then rename). Exit 0 when every file was read, 1 when any file was
rejected (the rest is still written), 2 on usage errors.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

import polars as pl

from outputs.atomic import write_file_atomically
from parsers.detect import DEFAULT_MAX_BYTES
from parsers.ingest import expand_paths, parse_paths
from parsers.issues import issues_frame
from parsers.result import ParseResult

#: show a progress bar (on a terminal) from this many input files on
PROGRESS_FROM_FILES = 50
#: rejected files listed by name in the text summary (the rest: files.csv), so it fits one screen
SHOW_REJECTED = 15


def register(subparsers: Any) -> None:
    """Add the ``parse`` sub-command."""
    p = subparsers.add_parser(
        "parse",
        help="read bank statement files (MT940/MT942, camt.052/053/054) into canonical Parquet",
        description="Read bank statement files or folders; write transactions/statements Parquet, issues.csv "
        "and files.csv into DIR. Exit 0: every file read; 1: some file rejected; 2: usage error.",
    )
    p.add_argument("paths", nargs="+", metavar="PATH", help="files or folders (read recursively)")
    p.add_argument("--out", required=True, metavar="DIR", help="output folder (created if missing)")
    p.add_argument("--strict", action="store_true", help="warnings become errors; a file with an error is rejected")
    p.add_argument("--json", action="store_true", help="print a JSON summary instead of text")
    p.add_argument("--tenant", default="default", help="tenant (Mandant) the rows belong to")
    p.add_argument("--max-size-mib", type=int, default=DEFAULT_MAX_BYTES >> 20, metavar="MIB",
                   help="reject files larger than this (default %(default)s MiB)")
    p.set_defaults(run=run)



def write_outputs(result: ParseResult, out: Path) -> None:
    """Write the four output files into ``out``, each atomically."""
    out.mkdir(parents=True, exist_ok=True)
    issues = issues_frame(result.issues).select("source_path", "locator", "severity", "code", "message")
    write_file_atomically(out / "transactions.parquet", result.transactions.write_parquet)
    write_file_atomically(out / "statements.parquet", result.statements.write_parquet)
    write_file_atomically(out / "issues.csv", issues.write_csv)
    write_file_atomically(out / "files.csv", result.files.write_csv)


def summary(result: ParseResult, out: Path) -> dict[str, Any]:
    """The figures the command prints (also as ``--json``)."""
    files = result.files
    status = files["status"]
    severities = [i.severity for i in result.issues]
    rejected = files.filter(pl.col("status") == "rejected").select("source_path", "reason")
    return {
        "files": files.height,
        "ok": int((status == "ok").sum()),
        "rejected": int((status == "rejected").sum()),
        "duplicate": int((status == "duplicate").sum()),
        "statements": result.statements.height,
        "entries": int(result.statements["n_entries"].sum() or 0),
        "rows": result.transactions.height,
        "balance_failures": sum(1 for i in result.issues if i.code == "statement.balance_mismatch"),
        "errors": severities.count("error"),
        "warnings": severities.count("warning"),
        "rejected_files": [{"path": p, "reason": r} for p, r in rejected.iter_rows()],
        "out": str(out),
    }


def _print_text(s: dict[str, Any]) -> None:
    print(
        f"kasse parse: {s['files']} files: {s['ok']} ok, {s['rejected']} rejected, {s['duplicate']} duplicate\n"
        f"  {s['statements']} statements, {s['entries']} entries ({s['rows']} rows), "
        f"{s['balance_failures']} balance failures; issues: {s['errors']} errors, {s['warnings']} warnings"
    )
    rejected = s["rejected_files"]
    for f in rejected[:SHOW_REJECTED]:
        print(f"  rejected: {f['reason']}")
    if len(rejected) > SHOW_REJECTED:
        print(f"  ... and {len(rejected) - SHOW_REJECTED} more rejected files (see files.csv)")
    print(f"  written to {s['out']}/ (transactions.parquet, statements.parquet, issues.csv, files.csv)")


def run(args: argparse.Namespace) -> int:
    """Parse, write, summarise; the exit code says whether every file was read."""
    out = Path(args.out)
    if out.exists() and not out.is_dir():
        print(f"kasse parse: --out {out} exists and is not a folder", file=sys.stderr)
        return 2
    if args.max_size_mib <= 0:
        print("kasse parse: --max-size-mib must be positive", file=sys.stderr)
        return 2
    show_progress = sys.stdout.isatty() and not args.json and (
        sum(1 for _ in expand_paths(args.paths)) >= PROGRESS_FROM_FILES
    )
    result = parse_paths(args.paths, tenant=args.tenant, strict=args.strict, progress=show_progress,
                         max_bytes=args.max_size_mib << 20)
    try:
        write_outputs(result, out)
    except OSError as exc:
        print(f"kasse parse: cannot write to {out}: {exc.strerror or exc}", file=sys.stderr)
        return 2
    s = summary(result, out)
    if args.json:
        print(json.dumps(s, ensure_ascii=False, indent=2))
    else:
        _print_text(s)
    return 1 if s["rejected"] else 0
