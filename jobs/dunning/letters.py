"""The letters of a dunning run: DRAFT samples when it is prepared, the print run once it is booked.

The PDF and the print-centre file are made by ``outputs.dunning_letters.write_print_run`` (branch
h15-letters). Drafts are a few letters (the first :data:`SAMPLES` notices) written to the ``draft``
folder of the run folder, for the releaser to look at; nothing of them goes to the print centre. The
final print run (every booked notice) is written only after the booking, into the report folder itself.
"""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import Any

import polars as pl

from ledger.config import TenantConfig

#: How many letters the draft shows.
SAMPLES = 5


def _writer() -> Any:
    """``outputs.dunning_letters`` when this release has it (``None`` otherwise: no letters are written)."""
    try:
        return importlib.import_module("outputs.dunning_letters")
    except ImportError:
        return None


def write_letters(cfg: TenantConfig, notices: pl.DataFrame, items: pl.DataFrame, out_dir: Path, *,
                  draft: bool) -> dict[str, str]:
    """Write the letters of ``notices`` (only the first :data:`SAMPLES` for a ``draft``) into ``out_dir``;
    return name -> path (empty when there is nothing to write or no letter writer)."""
    module = _writer()
    if module is None or notices.height == 0:
        return {}
    if draft:
        notices = notices.head(SAMPLES)
        items = items.join(notices.select("notice_id"), on="notice_id", how="semi")
    paths = module.write_print_run(notices, items, module.sender_from_config(cfg), out_dir, draft=draft)
    if isinstance(paths, dict):
        return {str(k): str(v) for k, v in paths.items()}
    return {Path(p).name: str(p) for p in paths}
