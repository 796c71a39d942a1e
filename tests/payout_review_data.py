"""A tenant that pays out, for the review page's payout pages: every state comes from the real jobs.

Monday's night brings the export (debtor A: R0 150 € and R3 20 € due, debtor B: R1) and two payments: A
pays 200 € naming K0 (50 € over), somebody unknown pays 30 €. A clerk decides both refunds on Tuesday
(the unknown payer's to an IBAN whose check digits are wrong); Tuesday's night books them. On Wednesday
the payout job prepares Thursday's run (anna): A's 50 € settle R3 (20 €, a Verrechnungsmitteilung) and
30 € go out by pain.001; the unknown payer's refund is skipped (``iban_invalid``). The run waits for its
release; the job published the snapshot the page reads (``published_payout``) — nothing here writes it.
"""

from __future__ import annotations

import json
from pathlib import Path

from argon2 import PasswordHasher
from collection_review_data import PASSWORD
from test_payout_job import EXEC, TODAY, nights, tenant

from claims.config import TenantConfig
from jobs.payout import run_payout

TENANT = "stadt"
OTHER = "nachbarstadt"
BAD_IBAN = "DE00370400440532013000"          # a check digit wrong: never paid

USERS = {  # login: (role, tenants)
    "anna": ("clerk", [TENANT]),
    "sven": ("supervisor", [TENANT, OTHER]),
    "paula": ("supervisor", [TENANT]),
    "otto": ("auditor", [TENANT]),
    "nora": ("supervisor", [OTHER]),
    "vera": ("vollstreckung", [TENANT]),
}


def write_users(path: Path) -> Path:
    hasher = PasswordHasher(time_cost=1, memory_cost=8192, parallelism=1)
    lines = []
    for login, (role, tenants) in USERS.items():
        lines += [f"[users.{login}]", f'name = "{login.title()}"', f'role = "{role}"',
                  f"tenants = {json.dumps(tenants)}", f'password_hash = "{hasher.hash(PASSWORD)}"', ""]
    path.write_text("\n".join(lines), encoding="utf-8")
    return path


def build(folder: Path, *, by: str = "anna") -> tuple[TenantConfig, str]:
    """The tenant of the module docstring in ``folder``, its run prepared by ``by``; ``(config, run id)``."""
    folder.mkdir(parents=True, exist_ok=True)
    cfg = tenant(folder)
    nights(cfg, other_iban=BAD_IBAN)
    out = run_payout(cfg, EXEC, user=by, today=TODAY)
    assert out.status == "prepared" and out.run_id, out
    assert out.counts["skipped"] == {"iban_invalid": 1}
    return cfg, out.run_id


def config(folder: Path) -> TenantConfig:
    """The tenant's config again (over a copy of the folder)."""
    return tenant(folder)
