"""The files of one hand-off batch, and of one night's updates, written atomically with their manifest.

A hand-off batch is three files and a manifest in one folder: :data:`HANDOFF_XML` (the machine file,
``enforcement.handoff_file``), :data:`HANDOFF_CSV` (the same for people, ``outputs.enforcement_csv``),
:data:`HANDOFF_PDF` (the Übergabeliste to sign, ``outputs.enforcement_list``) and ``manifest.json``. The
manifest is the repo's shared one (``outputs.atomic``: per file its bytes, SHA-256, data rows and sums in
cents; the files are staged and renamed into place together). Its head says what the batch is: message
id, tenant, creditor, receiver (and the receiver's tenant, issue 17 §4), hand-off date, counts, the
control sums of the XML header, the format's namespace and version, and whether the list is still a
draft (no releaser) — a batch leaves the house only when ``draft`` is false.

The folder is the caller's (the job names it per batch); the names inside are fixed.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import polars as pl

from enforcement.file_format import NAMESPACE, SCHEMA_VERSION
from enforcement.handoff_file import Header, write_handoff, write_updates
from outputs.atomic import PlannedFile, write_all
from outputs.enforcement_csv import handoff_csv_bytes
from outputs.enforcement_list import Signoff, render_handoff_list

HANDOFF_XML = "handoff.xml"
HANDOFF_CSV = "handoff.csv"
HANDOFF_PDF = "uebergabeliste.pdf"
UPDATES_XML = "updates.xml"
_AMOUNTS = ("principal_cents", "surcharges_cents", "fees_cents")


def _head(header: Header) -> dict[str, Any]:
    return {"format": NAMESPACE, "schema_version": SCHEMA_VERSION, "message_id": header.message_id,
            "tenant": header.tenant, "creditor": header.creditor.name, "receiver": header.receiver.name,
            "receiver_tenant": header.receiver.tenant, "created": header.created.isoformat(timespec="seconds")}


def handoff_files(header: Header, cases: pl.DataFrame, claims: pl.DataFrame, signoff: Signoff | None = None, *,
                  font: Path | bool | None = True) -> tuple[list[PlannedFile], dict[str, Any]]:
    """The batch's three files, rendered (the XML validated), and the manifest's head."""
    xml = write_handoff(header, cases, claims, file=HANDOFF_XML)
    csv, rows = handoff_csv_bytes(cases, claims)
    pdf = render_handoff_list(header, cases, claims, signoff, font=font)
    sums = {c: int(claims[c].sum()) for c in _AMOUNTS}
    sums["total_cents"] = sum(sums.values())
    files = [PlannedFile(HANDOFF_XML, xml, claims.height, sums), PlannedFile(HANDOFF_CSV, csv, rows, sums),
             PlannedFile(HANDOFF_PDF, pdf, None, sums)]
    released = signoff is not None and signoff.released
    meta = {"kind": "stadtkasse.enforcement_handoff", "version": 1, **_head(header),
            "handoff_date": header.handoff_date.isoformat() if header.handoff_date else None,
            "cases": cases.height, "claims": claims.height, "control_sums": sums, "draft": not released,
            "prepared_by": signoff.preparer if signoff else None,
            "released_by": signoff.releaser if signoff else None,
            "released_on": signoff.released_on.isoformat() if signoff and signoff.released_on else None}
    return files, meta


def write_handoff_batch(out_dir: Path | str, header: Header, cases: pl.DataFrame, claims: pl.DataFrame,
                        signoff: Signoff | None = None, *, font: Path | bool | None = True) -> dict[str, Path]:
    """Write the batch's files and ``manifest.json`` into ``out_dir`` atomically; name -> path."""
    files, meta = handoff_files(header, cases, claims, signoff, font=font)
    return write_all(Path(out_dir), files, meta)


def write_updates_batch(out_dir: Path | str, header: Header, updates: pl.DataFrame,
                        update_claims: pl.DataFrame) -> dict[str, Path]:
    """Write one night's updates file and its manifest (counts per kind, paid and open sums)."""
    xml = write_updates(header, updates, update_claims, file=UPDATES_XML)
    paid = int(update_claims["paid_cents"].sum()) if update_claims.height else 0
    still_open = int(update_claims.select(pl.sum_horizontal("open_principal_cents", "open_surcharges_cents",
                                                            "open_fees_cents").sum()).item() or 0)
    sums = {"paid_cents": paid, "open_cents": still_open}
    meta = {"kind": "stadtkasse.enforcement_updates", "version": 1, **_head(header), "updates": updates.height,
            "by_kind": {str(k): int(v) for k, v in sorted(updates["kind"].value_counts().rows())},
            "control_sums": sums}
    return write_all(Path(out_dir), [PlannedFile(UPDATES_XML, xml, updates.height, sums)], meta)
