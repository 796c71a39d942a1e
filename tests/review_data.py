"""Test data for the review page: a published state written by the nightly run's own ``publish``,
and a users file with real argon2 hashes (cheap parameters, so tests stay fast)."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any

import polars as pl
from argon2 import PasswordHasher

from ledger.publish import publish

AS_OF = date(2026, 3, 10)
TENANT = "musterstadt"
OTHER = "nachbarstadt"
PASSWORD = "geheim-123"
ACCOUNT = "DE89370400440532013000"
ACCOUNT2 = "DE12500105170648489890"
IBAN_ERIKA = "DE54100200301234567890"
IBAN_MAX = "DE76200411330000012345"
IBAN_BAD = "DE00123456780000000000"

USERS = {  # login: (role, tenants)
    "anna": ("clerk", [TENANT]),
    "bert": ("clerk", [TENANT]),
    "sven": ("supervisor", [TENANT, OTHER]),
    "paula": ("supervisor", [TENANT]),
    "otto": ("auditor", [TENANT]),
}


def write_users(path: Path) -> Path:
    """The users TOML (every password is PASSWORD)."""
    hasher = PasswordHasher(time_cost=1, memory_cost=8192, parallelism=1)
    lines = []
    for login, (role, tenants) in USERS.items():
        lines += [f"[users.{login}]", f'name = "{login.title()}"', f'role = "{role}"',
                  f"tenants = {json.dumps(tenants)}", f'password_hash = "{hasher.hash(PASSWORD)}"', ""]
    path.write_text("\n".join(lines), encoding="utf-8")
    return path


def _cand(rid: str, kz: str, cents: int, score: float, why: str, name: str) -> dict[str, object]:
    return {"receivable_id": rid, "kassenzeichen": kz, "debtor_name": name, "amount_cents": cents,
            "score": score, "why": why}


def open_items(tenant: str = TENANT) -> pl.DataFrame:
    """Open items of the tenant (OPEN_ITEM_SCHEMA columns that matter here)."""
    rows = [
        ("R-GRST-1", "1234.5678.9012", "123456789012", "D1", "Erika Mustermann", IBAN_ERIKA, "GRUNDSTEUER", 10000),
        ("R-HUND-1", "1234.5678.9029", "123456789029", "D1", "Erika Mustermann", IBAN_ERIKA, "HUNDESTEUER", 5000),
        ("R-ABF-7", "5555.0000.1111", "555500001111", "D2", "Max Müller", "", "ABFALL", 3333),
        ("R-GEW-9", "9999.1111.2222", "999911112222", "D3", "Bäckerei Korn GmbH", "", "GEWERBESTEUER", 600000),
    ]
    return pl.DataFrame({
        "tenant": [tenant] * len(rows), "receivable_id": [r[0] for r in rows], "kassenzeichen": [r[1] for r in rows],
        "kz_norm": [r[2] for r in rows], "debtor_id": [r[3] for r in rows], "debtor_name": [r[4] for r in rows],
        "debtor_iban": [r[5] for r in rows], "claim_type": [r[6] for r in rows],
        "amount_cents": [r[7] for r in rows], "due_date": [date(2026, 2, 15)] * len(rows),
        "law": ["public"] * len(rows),
    })


def klaerungsliste(tenant: str = TENANT) -> pl.DataFrame:
    """Six unresolved payments covering the cases the page must show."""
    split_cands = [_cand("R-GRST-1", "1234.5678.9012", 10000, 0.9, "reference found, amount differs", "Erika Mustermann"),
                   _cand("R-HUND-1", "1234.5678.9029", 5000, 0.6, "same debtor", "Erika Mustermann")]
    rows = [
        # tx, account, booking date, amount, unallocated, name, iban, remittance, reason, candidates
        ("tx-split", ACCOUNT, date(2026, 3, 2), 15000, 15000, "Erika Mustermann", IBAN_ERIKA,
         "Grundsteuer + Hundesteuer\nKZ 1234.5678.9012 und 1234.5678.9029", "ambiguous", split_cands),
        ("tx-noref", ACCOUNT, date(2026, 3, 9), 3333, 3333, "Max Müller", IBAN_MAX, "Abfall 1. Quartal",
         "no_reference", [_cand("R-ABF-7", "5555.0000.1111", 3333, 0.5, "amount", "Max Müller")]),
        ("tx-double", ACCOUNT2, date(2026, 2, 20), 8000, 8000, "Hans Doppelt", IBAN_MAX, "KZ 4711.0000.0001",
         "double_payment", []),
        ("tx-xss", ACCOUNT, date(2026, 3, 5), 1234, 1234, "<script>alert('x')</script>", IBAN_BAD,
         "<b>fett</b> & \"zitiert\" 'x'", "no_reference", []),
        ("tx-big", ACCOUNT2, date(2026, 1, 10), 600000, 600000, "Bäckerei Korn GmbH", "", "Gewerbesteuer 2025",
         "no_reference", [_cand("R-GEW-9", "9999.1111.2222", 600000, 0.7, "name", "Bäckerei Korn GmbH")]),
        ("tx-over", ACCOUNT, date(2026, 3, 8), 12000, 2000, "Erika Mustermann", IBAN_ERIKA,
         "KZ 1234.5678.9012 Überzahlung", "overpayment", []),
    ]
    return pl.DataFrame({
        "transaction_id": [r[0] for r in rows], "tenant": [tenant] * len(rows), "account_iban": [r[1] for r in rows],
        "booking_date": [r[2] for r in rows], "age_days": [(AS_OF - r[2]).days for r in rows],
        "amount_cents": [r[3] for r in rows], "unallocated_cents": [r[4] for r in rows],
        "counterparty_name": [r[5] for r in rows], "counterparty_iban": [r[6] or None for r in rows],
        "iban_valid": [None if not r[6] else r[6] != IBAN_BAD for r in rows],
        "remittance": [r[7] for r in rows], "end_to_end_id": ["E2E-" + r[0] for r in rows],
        "bank_ref": ["REF-" + r[0] for r in rows],
        "raw": [f":61:2603020302C{r[3] // 100},{r[3] % 100:02d}NTRFNONREF//REF-{r[0]}\n:86:166?20{r[7][:27]}"
                for r in rows],
        "reason": [r[8] for r in rows], "candidates": [json.dumps(r[9]) for r in rows],
        "state": ["open"] * len(rows),
    })


def write_state(state_dir: Path, run_id: str = "run-0001", *, items: pl.DataFrame | None = None) -> Path:
    """Publish both tenants (the other tenant has one payment nobody of TENANT may see)."""
    root = state_dir / "published"
    publish(root, TENANT, klaerungsliste=klaerungsliste() if items is None else items,
            open_items=open_items(), run_id=run_id, as_of=AS_OF)
    other = klaerungsliste(OTHER).head(1).with_columns(pl.lit("tx-nachbar").alias("transaction_id"))
    publish(root, OTHER, klaerungsliste=other, open_items=open_items(OTHER), run_id=run_id, as_of=AS_OF)
    return state_dir


def config_file(folder: Path, state_dir: Path, four_eyes_above: str = "100,00", page_size: int = 3) -> Path:
    """A tenant TOML with the review section."""
    path = folder / "kasse.toml"
    path.write_text(f'[tenant]\nid = "{TENANT}"\n\n[paths]\nstate_dir = "{state_dir}"\n\n'
                    f'[review]\nfour_eyes_above = "{four_eyes_above}"\npage_size = {page_size}\n', encoding="utf-8")
    return path


def make_client(app: Any, client: tuple[str, int] = ("testclient", 50000)) -> Any:
    """Starlette's TestClient (imported here once: it warns about httpx vs httpx2 at import time);
    ``client`` is the peer address the app sees."""
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from starlette.testclient import TestClient
    return TestClient(app, client=client)
