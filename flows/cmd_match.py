"""``kasse match --receivables FILE --statements PATH... --out DIR [--config FILE]`` (stateless).

Reads the open-items export and bank files, matches, and writes ``allocations.parquet``/``.csv``,
``unresolved.parquet``/``.csv``, ``issues.csv`` and ``summary.json`` into DIR — each atomically (temp
file in DIR, then rename), all computed before the first is written. No ledger. Exit 0: done; 1: done,
but some input rows or files were rejected (see issues.csv); 2: usage error (config, unreadable export).
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import polars as pl

from claims.errors import ConfigError
from matching import match
from matching.config import load_match_config
from outputs.atomic import write_file_atomically
from parsers import parse_paths
from parsers.detect import DEFAULT_MAX_BYTES
from parsers.issues import ERROR, Issue, issues_frame
from parsers.open_items import load_open_items


def register(subparsers: Any) -> None:
    """Add the ``match`` sub-command."""
    p = subparsers.add_parser(
        "match",
        help="match bank statement payments to an open-items export (stateless, files in, files out)",
        description="Match incoming payments of bank files to the open items of a finance-system export. "
        "Writes allocations, unresolved (Klärungsliste input), issues.csv and summary.json into DIR. "
        "Exit 0: done; 1: some input rejected (rest matched); 2: usage error.",
    )
    p.add_argument("--receivables", required=True, type=Path, metavar="FILE", help="open-items export (CSV or Parquet)")
    p.add_argument("--statements", required=True, nargs="+", type=Path, metavar="PATH", help="bank files or folders")
    p.add_argument("--out", required=True, type=Path, metavar="DIR", help="output folder (created if missing)")
    p.add_argument("--config", type=Path, metavar="FILE", help="tenant TOML ([reference], [matching], [allocation])")
    p.add_argument("--tenant", default=None,
                   help="tenant (Mandant) of the run; export rows naming another tenant are refused "
                        "(default: the one tenant the export names, else 'default')")
    p.add_argument("--json", action="store_true", help="print summary.json instead of a text summary")
    p.add_argument("--max-size-mib", type=int, default=DEFAULT_MAX_BYTES >> 20, metavar="MIB",
                   help="reject bank files larger than this (default %(default)s MiB; a bigger file needs about "
                        "10 times its size in memory as MT940, 4 times as camt)")
    p.set_defaults(run=run)



def _write_text(path: Path, text: str) -> None:
    path.write_text(text, encoding="utf-8")


def run_match(receivables: Path, statements: list[Path], out: Path, *, config: Path | None = None,
              tenant: str = "default", max_bytes: int = DEFAULT_MAX_BYTES) -> dict[str, Any]:
    """Do the whole stateless run and write the files; returns the summary (``ConfigError`` on a bad config)."""
    t0 = time.perf_counter()
    cfg = load_match_config(config)
    # the export and the bank files are read side by side (Polars releases the GIL; each alone leaves a
    # core idle much of the time)
    with ThreadPoolExecutor(1) as side:
        export = side.submit(load_open_items, receivables, tenant=tenant, config=cfg)
        parsed = parse_paths(statements, tenant=tenant, max_bytes=max_bytes)
        items, item_issues = export.result()
    t1 = time.perf_counter()
    result = match(parsed.transactions, items, cfg)
    t2 = time.perf_counter()
    issues: list[Issue] = [*item_issues, *parsed.issues]
    summary = {
        **result.summary,
        "open_items": items.height,
        "open_items_rejected_lines": len({i.locator for i in item_issues if i.severity == ERROR and i.locator}),
        "files": parsed.files.height,
        "files_rejected": parsed.files.filter(pl.col("status") == "rejected").height,
        "issues": {"error": sum(i.severity == ERROR for i in issues), "other": sum(i.severity != ERROR for i in issues)},
        "seconds": {"read": round(t1 - t0, 3), "match": round(t2 - t1, 3)},
    }
    out.mkdir(parents=True, exist_ok=True)
    csv_opts: dict[str, Any] = {"separator": ";"}
    writes: list[tuple[str, Callable[[Path], None]]] = [
        ("allocations.parquet", result.allocations.write_parquet),
        ("allocations.csv", lambda p: result.allocations.write_csv(p, **csv_opts)),
        ("unresolved.parquet", result.unresolved.write_parquet),
        ("unresolved.csv", lambda p: result.unresolved.write_csv(p, **csv_opts)),
        ("issues.csv", lambda p: issues_frame(issues).write_csv(p, **csv_opts)),
        ("summary.json", lambda p: _write_text(p, json.dumps(summary, indent=2, sort_keys=True) + "\n")),
    ]
    for name, write in writes:
        write_file_atomically(out / name, write)
    return summary


def export_tenants(path: Path) -> list[str]:
    """The distinct tenants an export's ``tenant`` column names ([] without one, or when it cannot be read
    here: the loader then reports what is wrong with the file, line by line)."""
    try:
        if path.suffix.lower() == ".parquet":
            frame = pl.scan_parquet(path)
        else:
            frame = pl.scan_csv(path, separator=";", infer_schema=False, truncate_ragged_lines=True)
        if "tenant" not in frame.collect_schema().names():
            return []
        values = frame.select(pl.col("tenant").str.strip_chars()).unique().collect()["tenant"]
    except (pl.exceptions.PolarsError, OSError):
        return []
    return sorted(v for v in values.drop_nulls().to_list() if v)


def run(args: Any) -> int:
    """Entry point of ``kasse match``."""
    if not args.receivables.is_file():
        print(f"kasse match: --receivables {args.receivables}: no such file", file=sys.stderr)
        return 2
    tenant = args.tenant
    if tenant is None:
        named = export_tenants(args.receivables)
        if len(named) > 1:
            print(f"kasse match: {args.receivables} names the tenants {', '.join(named)}: choose one with --tenant",
                  file=sys.stderr)
            return 2
        tenant = named[0] if named else "default"
    try:
        summary = run_match(args.receivables, list(args.statements), args.out, config=args.config, tenant=tenant,
                            max_bytes=args.max_size_mib << 20)
    except ConfigError as exc:
        print(f"kasse match: {exc}", file=sys.stderr)
        return 2
    if summary["open_items"] == 0 and summary["issues"]["error"]:
        print(f"kasse match: {args.receivables}: no usable open items (see {args.out / 'issues.csv'})", file=sys.stderr)
        return 2
    if args.json:
        print(json.dumps(summary, indent=2, sort_keys=True))
    else:
        print(human_summary(summary, args.out))
    why = exit_reason(summary, args.out, issues_of(args.out))
    if why:
        print(why, file=sys.stderr)
    return 1 if summary["issues"]["error"] else 0


def _counts(by: dict[str, int]) -> str:
    """``{"no_reference": 60, "ambiguous": 3}`` -> ``"no_reference 60, ambiguous 3"`` (largest first)."""
    return ", ".join(f"{k} {v:,}" for k, v in sorted(by.items(), key=lambda kv: (-kv[1], kv[0]))) or "none"


def _eur(cents: int) -> str:
    return f"{cents / 100:,.2f} EUR"


def human_summary(summary: dict[str, Any], out: Path) -> str:
    """What a person reads after ``kasse match``: payments and how they went, what was read, what was written."""
    rate = summary.get("automation_rate")
    unresolved = summary.get("unresolved") or {}
    lines = [
        f"{summary['payments']:,} payments ({_eur(summary.get('payments_cents', 0))}): "
        f"{summary['allocated_fully']:,} fully and {summary['allocated_partly']:,} partly booked, "
        f"{'-' if rate is None else f'{rate:.1%}'} automatically ({_eur(summary.get('allocated_cents', 0))})",
        f"  unresolved {sum(unresolved.values()):,} ({_eur(summary.get('unresolved_cents', 0))}): {_counts(unresolved)}",
        f"  not matched (no incoming payment): {_counts(summary.get('skipped') or {})}",
        f"  read {summary['open_items']:,} open items ({summary['open_items_rejected_lines']:,} lines rejected) and "
        f"{summary['files']:,} bank files ({summary['files_rejected']:,} rejected); "
        f"{summary['issues']['error']:,} errors, {summary['issues']['other']:,} warnings/notes in issues.csv",
        f"wrote {out}/allocations.*, unresolved.*, issues.csv, summary.json",
    ]
    return "\n".join(lines)


def issues_of(out: Path) -> pl.DataFrame:
    """The run's issues.csv as written (empty when it cannot be read)."""
    try:
        return pl.read_csv(out / "issues.csv", separator=";", infer_schema=False)
    except (pl.exceptions.PolarsError, OSError):
        return pl.DataFrame()


def exit_reason(summary: dict[str, Any], out: Path, issues: pl.DataFrame, first: int = 3) -> str:
    """Why ``kasse match`` exits 1 ("" when it does not): which input was rejected, and the first errors."""
    errors = summary["issues"]["error"]
    if not errors:
        return ""
    parts = []
    if summary["files_rejected"]:
        parts.append(f"{summary['files_rejected']:,} bank file(s)")
    if summary["open_items_rejected_lines"]:
        parts.append(f"{summary['open_items_rejected_lines']:,} line(s) of the open-items export")
    what = " and ".join(parts) or "some input rows"
    lines = [f"exit 1: matched what could be read, but {what} rejected ({errors:,} errors; all in {out / 'issues.csv'}):"]
    if issues.height and "severity" in issues.columns:
        for r in issues.filter(pl.col("severity") == ERROR).head(first).iter_rows(named=True):
            where = " ".join(x for x in (Path(r.get("source_path") or "").name, r.get("locator") or "") if x)
            lines.append(f"  {where}: {r.get('code')}: {r.get('message')}")
        if errors > first:
            lines.append(f"  … and {errors - first:,} more")
    return "\n".join(lines)
