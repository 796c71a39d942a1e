"""Test-only: a flow run started by the loopback test's workers can be paused inside its booking transaction.

Python imports ``sitecustomize`` at start-up from the path; the loopback test puts this folder on the
``PYTHONPATH`` its deployments give their flow runs, and names a folder in ``KASSE_LOOPBACK_PAUSE_DIR``.
When the file ``pause-<tenant>`` exists there, the run of that tenant that reaches the checkpoint
``book.commit`` (inside the transaction, before its commit: ``ledger.checkpoints``) writes its process id
to ``paused-<tenant>`` and sleeps until it is killed. Without the variable nothing is imported or changed.
"""

from __future__ import annotations

import os

if os.environ.get("KASSE_LOOPBACK_PAUSE_DIR"):
    import time
    from pathlib import Path

    from ledger import checkpoints

    def _reached(point: str) -> None:
        if point != "book.commit":
            return
        from prefect import runtime

        tenant = Path(str(runtime.flow_run.parameters.get("config", ""))).stem
        folder = Path(os.environ["KASSE_LOOPBACK_PAUSE_DIR"])
        if (folder / f"pause-{tenant}").exists():
            (folder / f"paused-{tenant}").write_text(str(os.getpid()), encoding="utf-8")
            while True:
                time.sleep(1)

    checkpoints.reached = _reached
