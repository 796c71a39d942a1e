"""Answers of other authorities to the requests we sent them (issue 18 §4; docs/AMTSHILFE.md "Requests going
out"): an Answers XML in the nightly inbox (``amtshilfe.sniff``: ``answers_xml``) is read, its messages
matched to our requests by our file number (``amtshilfe.outgoing.track``) and booked as
``amtshilfe_out_events`` in the night's one transaction.

* a Rückgabe: the request is ``returned`` (its reason and text kept) — the claims are free again for our
  own handling (the next hand-off gives them to our office) and a warning issue tells the clerks why;
* a Sachstand: recorded with its code (``accepted``, ``payment_forwarded`` with the amount — the money
  itself arrives as a bank credit quoting our Kassenzeichen and is matched like any payment —,
  ``uncollectible`` and ``settled`` close the request);
* a message naming no request of ours (or one sent to another authority): an error issue, nothing booked.

The file is the unit of idempotency as for every inbox file (its SHA-256 in ``files``: a duplicate books
nothing); the event ids (12 hex of the SHA-256 + ``:`` + message id) are unique besides.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import duckdb
import polars as pl

from amtshilfe.outgoing import track
from amtshilfe.xml_format import read_answers
from claims.vocab import OutgoingEvent
from jobs.rundir import RunDir
from ledger.amtshilfe_out import REQUESTS, out_requests
from ledger.config import TenantConfig
from ledger.tables import AMTSHILFE_OUT_EVENTS
from parsers.issues import ERROR, WARNING, Issue

#: The run-folder frame of our requests as the night starts (read step).
HELD_OUT = "amtshilfe_out_held"


def read_held(con: duckdb.DuckDBPyConnection, cfg: TenantConfig, folder: RunDir) -> None:
    """Our requests sent so far with their state, into the run folder (read step)."""
    folder.write(HELD_OUT, out_requests(con, cfg.tenant))


def _held(folder: RunDir) -> pl.DataFrame:
    path = folder.file(HELD_OUT)
    return pl.read_parquet(path) if path.exists() else pl.DataFrame(schema=REQUESTS)


def read_one(path: Path, name: str, sha: str, folder: RunDir) -> tuple[pl.DataFrame, list[Issue]]:
    """``(events, issues)`` of one Answers file; raises :class:`AmtshilfeFileError` when it cannot be read."""
    got = read_answers(path, file=name)
    issues = [Issue(name, f"line {r['line']} {r['element'] or ''}".strip(), WARNING, "amtshilfe.record_rejected",
                    f"{r['message_id'] or ''}: {r['reason']}".strip()) for r in got.rejected.iter_rows(named=True)]
    events, unknown = track(got.data, got.header.sender.authority_id, _held(folder), sha[:12])
    for r in unknown.iter_rows(named=True):
        issues.append(Issue(name, r["message_id"] or "", ERROR, "amtshilfe.answer_unknown",
                            f"answer {r['kind']} of {got.header.sender.name} names no request of ours sent to it "
                            f"(file number {r['file_number'] or '-'})"))
    for r in events.filter((pl.col("kind") == str(OutgoingEvent.RETURNED)) & pl.col("state").is_not_null()) \
            .iter_rows(named=True):
        issues.append(Issue(name, r["message_id"] or "", WARNING, "amtshilfe.out_returned",
                            f"request {r['file_number']} returned by {r['authority_id']} ({r['reason']}): "
                            f"{r['text'] or ''} — the claims are ours to handle again".strip()))
    return events.with_columns(pl.lit(name).alias("file_name"), pl.lit(sha).alias("file_sha256")), issues


def stage(folder: RunDir, parts: list[pl.DataFrame], *, tenant: str, run_id: str) -> None:
    """Stage the night's answer events (``amtshilfe_out_events``), in file order."""
    if not parts:
        return
    events = pl.concat(parts, how="vertical_relaxed").with_columns(
        pl.lit(tenant).alias("tenant"), pl.lit(run_id).alias("run_id"), pl.lit(datetime.now(UTC)).alias("recorded_at"),
        pl.int_range(pl.len()).cast(pl.Int64).alias("position"))
    folder.book("amtshilfe_out_events", events.select(list(AMTSHILFE_OUT_EVENTS)))


__all__ = ["HELD_OUT", "read_held", "read_one", "stage"]
