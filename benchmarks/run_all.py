"""``make bench``: every benchmark once, at a size that fits a laptop's coffee break (about 10 minutes on 2
cores), one after the other so that none measures beside another. The sizes of docs/BENCHMARKS.md's
tables are larger: each script's own command line there gives them. ``--list`` prints the commands only.
"""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
#: (script, arguments) in the order of the pipeline: reading, matching, the night, the reports, the page
RUNS = [
    ("bench_mt940.py", ["--entries", "200000", "--slice", "50000", "--repeat", "3"]),
    ("bench_camt.py", ["--entries", "200000", "--slice", "50000", "--reps", "3"]),
    ("bench_read_once.py", ["--entries", "100000", "--repeat", "3"]),
    ("bench_ingest.py", ["--rows", "200000", "--statements", "20000", "--repeat", "3"]),
    ("bench_match.py", ["--payments", "100000", "--items", "500000", "--repeat", "3", "--work", "/tmp/bench_match_small"]),
    ("bench_nightly.py", ["--tenants", "4", "--items", "200000", "--payments", "10000"]),
    ("bench_outputs.py", []),
    ("bench_review.py", ["2000"]),
]


def main() -> int:
    if "--list" in sys.argv:
        for script, args in RUNS:
            print(" ".join([".venv/bin/python", f"benchmarks/{script}", *args]))
        return 0
    failed = []
    for script, args in RUNS:
        print(f"\n=== {script} {' '.join(args)}", flush=True)
        t = time.perf_counter()
        code = subprocess.run([sys.executable, str(HERE / script), *args], cwd=HERE.parent).returncode
        print(f"=== {script}: exit {code}, {time.perf_counter() - t:.0f} s", flush=True)
        if code:
            failed.append(script)
    if failed:
        print(f"failed: {', '.join(failed)}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
