"""The hand-off job over a real ledger: dunning booked → days pass → prepare → release by another user →
book → the batch in the outbox (XSD-valid, read back, counts and sums equal to the ledger), the case file;
never twice; a later claim joins the open case; four-eyes; a claim paid between prepare and book; a crash
at every checkpoint; the accrued surcharge becomes a fee claim."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import polars as pl
import pytest
from faults import InjectedFailure, fail_at
from nightly_files import ACCOUNT, Entry, kz, write_mt940

import jobs.nightly as night
from claims.config import TenantConfig, load_tenant_config
from claims.vocab import DocumentKind, SubjectKind
from enforcement.cases import case_number_valid
from enforcement.handoff_file import read_handoff
from jobs.dunning import release as release_dunning
from jobs.dunning import run_dunning
from jobs.handoff import HandoffRefused, release, run_handoff
from jobs.handoff.record import read_record
from jobs.handoff.steps import STEPS, outbox_dir
from ledger.block_journal import set_block
from ledger.db import connect, fetch, row_counts
from ledger.documents import documents_of, read_index, read_object
from ledger.journal import JournalError
from ledger.publish_handoff import read_handoff_published
from ledger.release_journal import read_releases
from outputs.atomic import verify

D1 = date(2026, 11, 16)                   # Monday: the export (due 1 Oct) and a statement
DUN = date(2026, 11, 18)                  # Wednesday: the Mahnung (deadline a week later + post)
HANDOFF = date(2026, 12, 9)               # three weeks later: the Mahnfrist and the buffers have run out
K = [kz(i) for i in range(8)]
DUE = date(2026, 10, 1)
HEAD = ("receivable_id;kassenzeichen;debtor_id;debtor_name;debtor_iban;claim_type;amount;due_date;debtor_street;"
        "debtor_postcode;debtor_city")
ROWS = (f"R0;{K[0]};A;Anna Alt;;GRUNDSTEUER;150,00;{DUE};Markt 1;33602;Musterstadt",
        f"R1;{K[1]};B;Bernd Bau;;GRUNDSTEUER;99,00;{DUE};Weg 2;33602;Musterstadt",
        f"R2;{K[2]};C;Carla Cent;;GRUNDSTEUER;50,00;{DUE};Gasse 3;33602;Musterstadt")


def tenant(tmp_path: Path) -> TenantConfig:
    (tmp_path / "kasse.toml").write_text(
        f'[tenant]\nid = "stadt"\nname = "Stadt Musterstadt"\n[[accounts]]\niban = "{ACCOUNT}"\n'
        '[letters]\nsender_street = "Rathausplatz 1"\nsender_postcode = "33602"\nsender_city = "Musterstadt"\n'
        '[enforcement]\noffice_id = "VS-MU"\noffice_name = "Vollstreckungsstelle Musterstadt"\n'
        'office_street = "Amtsweg 5"\noffice_postcode = "33602"\noffice_city = "Musterstadt"\n', encoding="utf-8")
    return load_tenant_config(tmp_path / "kasse.toml")


def export(cfg: TenantConfig, name: str, rows: tuple[str, ...] = ROWS) -> None:
    path = cfg.inbox / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join([HEAD, *rows]) + "\n", encoding="utf-8")


def dunned(cfg: TenantConfig) -> None:
    """The export and Monday's statement, then the week's dunning run prepared, released and booked."""
    export(cfg, "export_1116.csv")
    write_mt940(cfg.inbox / "s_1116.sta", day=D1, seq=1, opening=100000, entries=[Entry(-350, "Kontofuehrung")])
    night.run_night(cfg, D1)
    out = run_dunning(cfg, DUN, user="anna")
    assert out.status == "prepared" and out.run_id
    release_dunning(cfg, out.run_id, user="sven", role="supervisor")
    assert run_dunning(cfg, DUN, user="anna").status == "booked"


def q(cfg: TenantConfig, sql: str) -> pl.DataFrame:
    con = connect(cfg.ledger)
    try:
        return fetch(con, sql)
    finally:
        con.close()


def counts(cfg: TenantConfig) -> dict[str, int]:
    con = connect(cfg.ledger)
    try:
        return row_counts(con)
    finally:
        con.close()


def test_smoke(tmp_path: Path) -> None:
    cfg = tenant(tmp_path)
    dunned(cfg)
    out = run_handoff(cfg, HANDOFF, user="anna")
    print(out)
    assert out.status == "prepared"
    release(cfg, out.run_id, user="sven", role="supervisor")
    out = run_handoff(cfg, HANDOFF, user="anna")
    print(out)
    assert out.status == "booked"
