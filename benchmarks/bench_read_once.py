"""What the read-once guard costs: copies in a file, overlaps with the batch and the ledger.

Usage::

    .venv/bin/python benchmarks/bench_read_once.py [--entries 200000] [--repeat 5]

Two shapes, each written once under ``$TMPDIR/stadtkasse-bench``: a Sparkasse-style MT940
(``synth.write_mt940_file``, ISO-8859-1, CRLF, many daily statements) and a Volksbank-style camt.053
(``synth.write_camt053_file``, UTF-8). For each it times, in one process, median of ``--repeat``:

* ``parse_paths`` of the file against an empty ledger (everything new),
* the same with the file's own statements and entries as the ledger (every statement a duplicate:
  the guard's worst case, every identity compared),
* the guard alone (``number_copies`` → ``drop_copies_in_file`` → ``drop_overlaps``) on the parsed frames,
  with and without that ledger.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from parsers.dedupe import drop_copies_in_file, fingerprint_unbalanced, number_copies  # noqa: E402
from parsers.ingest import parse_paths  # noqa: E402
from parsers.overlap import drop_overlaps  # noqa: E402

sys.path.insert(0, str(ROOT / "benchmarks"))
from bench_ingest import median_seconds as median  # noqa: E402


def data_file(kind: str, entries: int) -> Path:
    folder = Path(os.environ.get("TMPDIR", tempfile.gettempdir())) / "stadtkasse-bench"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"read_once_{kind}_{entries}.{'sta' if kind == 'mt940' else 'xml'}"
    if not path.exists():
        from synth import write_camt053_file, write_mt940_file

        writer = write_mt940_file if kind == "mt940" else write_camt053_file
        writer(path.with_suffix(".tmp"), entries, seed=1)
        path.with_suffix(".tmp").rename(path)
    return path


def measure(kind: str, entries: int, repeat: int) -> str:
    """One table row for ``kind``."""
    path = data_file(kind, entries)
    big = 512 << 20                      # the files are larger than the default size limit (64 MiB)
    first = parse_paths([path], max_bytes=big)
    st, tx = first.statements, first.transactions

    def guard(known: bool) -> None:
        s, t = fingerprint_unbalanced(*number_copies(st, tx))
        s, t, _ = drop_copies_in_file(s, t)
        drop_overlaps(s, t, known=st if known else None, known_entries=tx if known else None)

    new = median(lambda: parse_paths([path], max_bytes=big), repeat)
    known = median(lambda: parse_paths([path], previous_statements=st, known_entries=tx, max_bytes=big), repeat)
    g_new = median(lambda: guard(False), repeat)
    g_known = median(lambda: guard(True), repeat)
    return (f"| {kind} | {tx.height:,} | {st.height:,} | {new:.2f} s | {known:.2f} s | {g_new:.3f} s "
            f"({g_new / new:.0%}) | {g_known:.3f} s ({g_known / known:.0%}) |")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--entries", type=int, default=200_000)
    ap.add_argument("--repeat", type=int, default=5)
    args = ap.parse_args()
    print("| shape | entries | statements | parse_paths, new | parse_paths, all known | guard, new | guard, all known |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for kind in ("mt940", "camt.053"):
        print(measure(kind, args.entries, args.repeat))


if __name__ == "__main__":
    main()
