"""``kasse dunning``: the weekly dunning run (Mahnlauf), stateless or on the ledger.

Three forms::

    kasse dunning --receivables FILE --as-of DATE --out DIR [--config TOML]     stateless (no ledger)
    kasse dunning --config TOML [--as-of DATE] [--user LOGIN]                    the ledger job
    kasse dunning --config TOML --release RUN_ID --users FILE --user LOGIN       four-eyes release

**Stateless**: reads an open-items export (each open amount counts as open since its due date; no earlier
notices, no payments, no blocks but the export's own), selects and computes with :mod:`dunning.select`,
groups the notices (:mod:`dunning.notices`) and writes, all computed before the first is written and
then atomically with one ``manifest.json``: ``notices.csv``, ``notice_items.csv``, ``skipped.csv``
(``;``-separated, ISO dates, integer cents; the column sets are a contract), ``letters.pdf``,
``print_file.csv``, ``issues.csv`` and ``summary.json``.

**Ledger job** (:mod:`jobs.dunning`): the first call of a week prepares the run (selection, notices,
sample letters; nothing booked); after a supervisor other than the preparer has released it (here with
``--release``, or on the review page), the next call books it once and writes the final letters.

Exit codes: 0 done; 1 done, but export rows were rejected (stateless: see issues.csv); 2 usage error, a
refusal (nights incomplete, four-eyes) or an unusable export.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from datetime import date
from pathlib import Path
from typing import Any

import polars as pl

from claims.errors import KasseError
from flows.job_cli import add_release_arguments, iso_day, preparer, release_run

#: The stateless mode's CSV files and their columns (notices.csv and notice_items.csv: dunning.notices).
SKIPPED_CSV_COLUMNS = ("receivable_id", "reason")


def register(subparsers: Any) -> None:
    """Add the ``dunning`` sub-command."""
    p = subparsers.add_parser("dunning", help="the weekly dunning run: stateless (--receivables) or on the ledger",
                              description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--config", type=Path, metavar="TOML", help="tenant config (stateless: optional)")
    p.add_argument("--as-of", type=iso_day, metavar="DATE", help="the run's notice (posting) date (default: today)")
    p.add_argument("--receivables", type=Path, metavar="FILE", help="stateless: open-items export (CSV or Parquet)")
    p.add_argument("--out", type=Path, metavar="DIR", help="stateless: output folder (created if missing)")
    p.add_argument("--tenant", default=None, help="tenant (default: the config's [tenant] id)")
    add_release_arguments(p)
    p.add_argument("--json", action="store_true", help="print the summary as JSON")
    p.set_defaults(run=run)


# --- stateless ------------------------------------------------------------------------------------


def base_rate_warning(settings: Any, as_of: date) -> str | None:
    """A warning when the run's date lies beyond the Basiszinssatz table (§ 247 BGB: a new rate every 1 Jan
    and 1 Jul): default interest is then computed with the last known rate."""
    from dunning.base_rate import stale

    first_unknown = stale((r.since, round(r.percent * 100)) for r in settings.base_rates)
    if as_of < first_unknown:
        return None
    return (f"the Basiszinssatz table ends before {first_unknown:%d.%m.%Y}: default interest (§ 288 BGB) uses the "
            "last known rate; add the Bundesbank's new rate to [dunning] base_rates")


def _csv(frame: pl.DataFrame, columns: Sequence[str]) -> bytes:
    return frame.select(columns).write_csv(separator=";", date_format="%Y-%m-%d").encode("utf-8")


def run_stateless(receivables: Path, as_of: date, out: Path, *, config: Path | None = None,
                  tenant: str | None = None) -> dict[str, Any]:
    """The whole stateless run: read, select, group, render; then write every file (module docstring)."""
    from claims.config import load_tenant_config
    from dunning.notices import ITEM_COLUMNS, NOTICE_CSV_COLUMNS, group_notices
    from dunning.select import select
    from matching.config import MatchConfig
    from outputs.atomic import PlannedFile, write_all
    from outputs.dunning_letters import (
        LETTERS_PDF,
        PRINT_FILE,
        print_file,
        print_file_bytes,
        render_letters,
        sender_from_config,
    )
    from parsers.issues import ERROR, issues_frame
    from parsers.open_items import load_open_items

    cfg = load_tenant_config(config, tenant=tenant)
    settings = cfg.settings.dunning
    claims, issues = load_open_items(receivables, tenant=cfg.tenant, config=MatchConfig.from_tenant(cfg))
    sel = select(claims, as_of, settings)
    notices = group_notices(sel.selected, claims, as_of, settings)
    sender = sender_from_config(cfg)
    pdf, layout = render_letters(notices.notices, notices.items, sender)
    printed = print_file(notices.notices, layout)
    n_letters = printed.height
    by_level = {str(k): int(v) for k, v in notices.notices["level"].value_counts(sort=True).rows()}
    skipped = {str(k): int(v) for k, v in sel.skipped["reason"].value_counts(sort=True).rows()}
    sums = {c: int(notices.items[c].sum() or 0) for c in ("open_cents", "saeumniszuschlag_cents",
                                                          "mahngebuehr_cents", "interest_cents")}
    summary: dict[str, Any] = {
        "as_of": as_of.isoformat(), "tenant": cfg.tenant, "open_items": claims.height,
        "open_items_rejected_lines": len({i.locator for i in issues if i.severity == ERROR and i.locator}),
        "claims_dunned": sel.selected.height, "claims_skipped": sel.skipped.height, "skipped_by_reason": skipped,
        "notices": notices.notices.height, "notices_by_level": by_level, "letters": n_letters,
        "pages": int(layout["pages"].sum() or 0), "total_cents": int(notices.notices["total_cents"].sum() or 0),
        **sums, "issues": {"error": sum(i.severity == ERROR for i in issues),
                           "other": sum(i.severity != ERROR for i in issues)},
        "warnings": [w for w in [base_rate_warning(settings, as_of)] if w and sums["interest_cents"]],
    }
    files = [
        PlannedFile("notices.csv", _csv(notices.notices, NOTICE_CSV_COLUMNS), notices.notices.height,
                    {"total_cents": summary["total_cents"]}),
        PlannedFile("notice_items.csv", _csv(notices.items, ITEM_COLUMNS), notices.items.height, sums),
        PlannedFile("skipped.csv", _csv(sel.skipped, SKIPPED_CSV_COLUMNS), sel.skipped.height),
        PlannedFile(PRINT_FILE, print_file_bytes(printed), n_letters, {"total_cents": summary["total_cents"]}),
        PlannedFile("issues.csv", issues_frame(issues).write_csv(separator=";").encode("utf-8"), len(issues)),
        PlannedFile("summary.json", (json.dumps(summary, indent=2, sort_keys=True) + "\n").encode("utf-8")),
    ]
    if n_letters:                      # no letters: nothing to print, no PDF (as the ledger job's print run)
        files.insert(3, PlannedFile(LETTERS_PDF, pdf))
    write_all(out, files, {"kind": "stadtkasse.dunning_stateless", "version": 1, "as_of": as_of.isoformat(),
                           "tenant": cfg.tenant, "receivables": receivables.name})
    return summary


def _stateless(args: argparse.Namespace) -> int:
    if args.out is None:
        print("kasse dunning: --receivables needs --out DIR", file=sys.stderr)
        return 2
    if not args.receivables.is_file():
        print(f"kasse dunning: --receivables {args.receivables}: no such file", file=sys.stderr)
        return 2
    try:
        summary = run_stateless(args.receivables, args.as_of or date.today(), args.out, config=args.config,
                                tenant=args.tenant)
    except KasseError as exc:
        print(f"kasse dunning: {exc}", file=sys.stderr)
        return 2
    if summary["open_items"] == 0 and summary["issues"]["error"]:
        print(f"kasse dunning: {args.receivables}: no usable open items (see {args.out / 'issues.csv'})",
              file=sys.stderr)
        return 2
    for warning in summary["warnings"]:
        print(f"kasse dunning: warning: {warning}", file=sys.stderr)
    if args.json:
        print(json.dumps(summary, indent=2, sort_keys=True))
    else:
        levels = ", ".join(f"{n} {lv}" for lv, n in summary["notices_by_level"].items()) or "none"
        reasons = ", ".join(f"{n} {r}" for r, n in summary["skipped_by_reason"].items()) or "none"
        print(f"{summary['claims_dunned']} claims dunned on {summary['notices']} notices ({levels}); "
              f"skipped: {reasons}; total {summary['total_cents'] / 100:,.2f} EUR")
        print(f"wrote {args.out}/notices.csv, notice_items.csv, skipped.csv, letters.pdf ({summary['pages']} pages), "
              "print_file.csv, manifest.json")
    return 1 if summary["issues"]["error"] else 0


# --- ledger job and release ---------------------------------------------------------------------


def _ledger(args: argparse.Namespace) -> int:
    from claims.config import load_tenant_config
    from jobs.dunning import run_dunning

    try:
        cfg = load_tenant_config(args.config, tenant=args.tenant)
        if args.release:
            from jobs.dunning import release

            return release_run("dunning", args, cfg, release)
        as_of = args.as_of or date.today()
        outcome = run_dunning(cfg, as_of, user=preparer(args))
    except KasseError as exc:
        print(f"kasse dunning: {exc}", file=sys.stderr)
        return 2
    warning = base_rate_warning(cfg.settings.dunning, as_of)
    if warning and (outcome.counts or {}).get("interest_total_cents"):
        print(f"kasse dunning: warning: {warning}", file=sys.stderr)
    if args.json:
        print(json.dumps({"status": outcome.status, "run_id": outcome.run_id, "week": outcome.week,
                          "as_of": outcome.as_of.isoformat(), "counts": outcome.counts, "paths": outcome.paths,
                          "message": outcome.message}, indent=2, sort_keys=True, default=str))
    else:
        print(describe(outcome))
    return 0


#: What :func:`describe` shows of a run's counts and files (``--json`` prints everything).
_SHOWN_COUNTS = ("n_notices", "n_claims", "level", "skipped", "blocked", "dropped", "fees_total_cents",
                 "surcharges_total_cents", "interest_total_cents", "fee_claims")
_SHOWN_PATHS = ("letters.pdf", "print_file.csv", "run_folder")


def describe(outcome: Any) -> str:
    """A few lines a treasurer reads after a ledger run."""
    lines = [f"dunning week {outcome.week} (as of {outcome.as_of}): {outcome.status}"
             + (f", run {outcome.run_id}" if outcome.run_id else "")]
    if outcome.message:
        lines.append(f"  {outcome.message}")
    counts, paths = outcome.counts or {}, outcome.paths or {}
    lines += [f"  {key}: {counts[key]}" for key in _SHOWN_COUNTS if counts.get(key) not in (None, {}, [])]
    lines += [f"  {key}: {paths[key]}" for key in _SHOWN_PATHS if key in paths]
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    """Entry point of ``kasse dunning``."""
    if args.receivables is not None:
        if args.release:
            print("kasse dunning: --release works on the ledger, not with --receivables", file=sys.stderr)
            return 2
        return _stateless(args)
    if args.config is None:
        print("kasse dunning: give --receivables FILE --out DIR (stateless) or --config TOML (ledger)",
              file=sys.stderr)
        return 2
    return _ledger(args)
