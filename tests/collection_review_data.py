"""A tenant that collects, for the review page's collection pages: every state comes from the real jobs.

Monday's night brings the export (five claims: two collected on Friday, one without a mandate, one whose
mandate has no date of signature, one due a week later); the collection job prepares Friday's run (anna),
a supervisor releases it, the job books it; Monday's night books the batch credit, Wednesday's the return
of R1 (AC04, with a return fee); then the job prepares the next Friday's run (anna), which waits for its
release. The jobs publish the snapshot the page reads (``published_collection``); nothing here writes it
by hand.
"""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import polars as pl
from argon2 import PasswordHasher
from nightly_files import ACCOUNT, Entry, kz, write_mt940
from test_collect_back import batch_credit, statement
from test_collect_job import CREDITOR_ID, IBANS, NOW

import jobs.nightly as night
from claims.config import TenantConfig, load_tenant_config
from jobs.collect import release, run_collect
from ledger.db import connect, fetch
from ledger.publish_collection import read_collection_published

TENANT = "stadt"
OTHER = "nachbarstadt"
PASSWORD = "geheim-123"
D1 = date(2026, 11, 16)
DAY = date(2026, 11, 20)
BACK = date(2026, 11, 23)
RETURN_DAY = date(2026, 11, 25)
NEXT = date(2026, 11, 27)
FEE_CENTS = 300

USERS = {  # login: (role, tenants)
    "anna": ("clerk", [TENANT]),
    "sven": ("supervisor", [TENANT, OTHER]),
    "paula": ("supervisor", [TENANT]),
    "otto": ("auditor", [TENANT]),
    "nora": ("supervisor", [OTHER]),
}
#: (receivable id, cents, mandate id, date of signature, debtor, due date)
CLAIMS = [("R0", 15000, "M-0", "2025-01-10", "Erika Mustermann", DAY),
          ("R1", 9900, "M-1", "2025-01-10", "Max Müller", DAY),
          ("R2", 5000, "", "", "Bäckerei Korn GmbH", DAY),
          ("R3", 7500, "M-3", "", "Hans Ohnedatum", DAY),
          ("R4", 12000, "M-4", "2024-06-01", "Ilse Später", NEXT)]


def write_users(path: Path) -> Path:
    hasher = PasswordHasher(time_cost=1, memory_cost=8192, parallelism=1)
    lines = []
    for login, (role, tenants) in USERS.items():
        lines += [f"[users.{login}]", f'name = "{login.title()}"', f'role = "{role}"',
                  f"tenants = {json.dumps(tenants)}", f'password_hash = "{hasher.hash(PASSWORD)}"', ""]
    path.write_text("\n".join(lines), encoding="utf-8")
    return path


def tenant_config(folder: Path) -> TenantConfig:
    (folder / "kasse.toml").write_text(
        f'[tenant]\nid = "{TENANT}"\nname = "Stadtkasse Musterstadt"\n[collection]\ncreditor_id = "{CREDITOR_ID}"\n'
        f'return_fee_charge = true\nreturn_fee_fixed = "3,00"\n'
        f'[[accounts]]\niban = "{ACCOUNT}"\nbic = "BYLADEM1001"\n', encoding="utf-8")
    return load_tenant_config(folder / "kasse.toml")


def review_config(folder: Path, state_dir: Path, page_size: int = 50) -> Path:
    path = folder / "review.toml"
    path.write_text(f'[tenant]\nid = "{TENANT}"\n\n[paths]\nstate_dir = "{state_dir}"\n\n'
                    f'[review]\npage_size = {page_size}\n', encoding="utf-8")
    return path


def _export(cfg: TenantConfig) -> None:
    lines = ["receivable_id;kassenzeichen;debtor_id;debtor_name;debtor_iban;claim_type;amount;due_date;"
             "mandate_id;mandate_date"]
    for i, (rid, cents, mandate, signed, debtor, due) in enumerate(CLAIMS):
        lines.append(f"{rid};{kz(i)};D-{rid};{debtor};{IBANS[i % 3]};GRUNDSTEUER;{cents // 100},{cents % 100:02d};"
                     f"{due};{mandate};{signed}")
    path = cfg.inbox / "export_1116.csv"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def e2e_of(cfg: TenantConfig, rid: str) -> str:
    con = connect(cfg.ledger)
    try:
        return str(fetch(con, "SELECT end_to_end_id FROM collections WHERE receivable_id = $r",
                         {"r": rid})["end_to_end_id"][0])
    finally:
        con.close()


def build(folder: Path, *, next_by: str = "anna") -> TenantConfig:
    """The tenant of the module docstring in ``folder``; the next run is prepared by ``next_by``."""
    folder.mkdir(parents=True, exist_ok=True)
    cfg = tenant_config(folder)
    _export(cfg)
    write_mt940(cfg.inbox / "sparkasse_1116.sta", day=D1, seq=1, opening=100000, entries=[Entry(-350, "Kontofuehrung")])
    night.run_night(cfg, D1)
    first = run_collect(cfg, DAY, user="anna", now=NOW)
    assert first.run_id
    release(cfg, first.run_id, user="sven", role="supervisor")
    assert run_collect(cfg, DAY, user="anna", now=NOW).status == "booked"
    pmtinf = first.counts["files"][0]["pmtinf_id"]
    closing = statement(cfg, BACK, 2, 99650, [batch_credit(24900, pmtinf)])
    night.run_night(cfg, BACK)
    statement(cfg, RETURN_DAY, 3, closing, [
        (-9900, "109", f"?00RUECKLASTSCHRIFT?20EREF+{e2e_of(cfg, 'R1')}?21SVWZ+RUECKLASTSCHRIFT?32MAX MUELLER?34AC04")])
    night.run_night(cfg, RETURN_DAY)
    # the nightly run itself publishes the return it booked (the page need not wait for the next collection)
    after_night = read_collection_published(cfg.state_dir, TENANT)
    assert after_night.meta["on"] == RETURN_DAY.isoformat()
    assert after_night.returns.select("receivable_id", "reason_code").rows() == [("R1", "AC04")]
    assert after_night.mandates.filter(pl.col("mandate_id") == "M-1")["state"].to_list() == ["blocked"]
    nxt = run_collect(cfg, NEXT, user=next_by, now=NOW)
    assert nxt.status == "prepared"
    return cfg


def prepared_run(cfg: TenantConfig) -> str:
    """The run id of the date :data:`NEXT` (prepared, waiting for its release)."""
    from jobs.collect.record import read_record

    rec = read_record(cfg, NEXT)
    assert rec is not None
    return rec.run_id
