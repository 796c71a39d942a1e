"""Text files of a generated set: the open-items CSV, the tenant config and the README."""

from __future__ import annotations

import datetime as dt

import polars as pl

from synth.accounts import CREDITOR_ID, TREASURY_ACCOUNTS
from synth.addresses import address
from synth.claims import Item

ADDRESS_COLUMNS = ("debtor_street", "debtor_postcode", "debtor_city", "debtor_country", "debtor_birth_date")
OPEN_ITEM_COLUMNS = ("tenant", "receivable_id", "kassenzeichen", "debtor_id", "debtor_name", "debtor_iban",
                     "claim_type", "amount", "due_date", "external_ref", "mandate_id", "mandate_date",
                     "dunning_block_until", "law", *ADDRESS_COLUMNS, "notice_date", "block_reason")


def _euro(cents: int) -> str:
    return f"{cents // 100},{cents % 100:02d}"


def open_items_csv(items: list[Item], tenant: str, *, seed: int = 1, as_of: dt.date = dt.date(2026, 11, 16)) -> bytes:
    """The finance system's open-items export: ``;``-separated, UTF-8 with BOM, decimal comma, ISO dates;
    with the debtor's address (:mod:`synth.addresses`, deterministic from ``seed``)."""
    rows = [address(it.debtor, seed, as_of) | {
        "tenant": tenant, "receivable_id": it.receivable_id, "kassenzeichen": it.printed,
        "debtor_id": it.debtor.debtor_id, "debtor_name": it.debtor.name,
        "debtor_iban": ",".join(it.debtor.known_ibans), "claim_type": it.claim_type,
        "amount": _euro(it.amount_cents), "due_date": it.due_date.isoformat(), "external_ref": it.external_ref,
        "mandate_id": it.mandate_id, "mandate_date": it.mandate_date.isoformat() if it.mandate_date else "",
        "dunning_block_until": it.dunning_block_until.isoformat() if it.dunning_block_until else "",
        "law": it.law, "notice_date": it.notice_date.isoformat() if it.notice_date else "",
        "block_reason": it.block_reason,
    } for it in items]
    frame = pl.DataFrame(rows, schema={c: pl.String() for c in OPEN_ITEM_COLUMNS})
    frame = frame.with_columns(pl.when(pl.all() != "").then(pl.all()))  # empty field, not ""
    return b"\xef\xbb\xbf" + frame.write_csv(separator=";").encode("utf-8")


def tenant_toml(tenant: str) -> str:
    """``kasse.toml`` of the synthetic municipality: tenant, reference grammar and bank accounts."""
    accounts = "".join(
        f'\n[[accounts]]\nbank = "{a.bank}"\nname = "{a.bank_name}"\niban = "{a.iban}"\nbic = "{a.bic}"\n'
        f'format = "{"mt940" if a.bank == "sparkasse" else "camt.053"}"\n'
        f'encoding = "{"iso-8859-1" if a.bank == "sparkasse" else "utf-8"}"\n'
        for a in TREASURY_ACCOUNTS.values()
    )
    return (
        "# Tenant config of the synthetic municipality (written by `kasse generate`).\n"
        f'[tenant]\nid = "{tenant}"\nname = "Stadt Musterstadt"\ninhabitants = 52000\n\n'
        '[reference]\ndigits = 12\ncheck_digit = "mod11"\n' + accounts + collection_toml()
    )


def collection_toml() -> str:
    """``[collection]``: the treasury collects by SEPA direct debit under the creditor id its own direct
    debits in the bank files carry (``CRED+``), into the Volksbank account (camt.053: a return names its
    ISO reason in ``RtrInf/Rsn/Cd``); the bank's return fee is charged to the debtor (the municipality's
    fee statute is the legal basis DOMAIN.md §3.4 asks for)."""
    return ("\n# SEPA direct debit (kasse collect): the Gläubiger-ID of the treasury, the account collected into,\n"
            "# return fees passed on to the debtor\n"
            f'[collection]\ncreditor_id = "{CREDITOR_ID}"\naccount = "{TREASURY_ACCOUNTS["volksbank"].iban}"\n'
            "return_fee_charge = true\n")


def readme_text(seed: int, n_items: int, days: int, start: dt.date, tenant: str, n_payments: int, *,
                mix: float = 0.0) -> str:
    """README.md of a generated set: what it is, what each file holds, how to make it again."""
    mixed = f" --mix {mix}" if mix else ""
    round_two = (f"\n\nRound-two kinds (issue 14) make up about {mix:.0%} of the payments, with debtors and open items of their own "
                 "appended to the export; `truth.parquet` has the column `expected_hold`." if mix else "")
    return f"""# Synthetic municipality "{tenant}" (generated — do not edit)

Made by `kasse generate --out <dir> --seed {seed} --items {n_items} --days {days} --start {start.isoformat()} \
--tenant {tenant}{mixed}`; the same command gives the same bytes. All people, companies, accounts and
Kassenzeichen are invented (IBANs use real German bank codes with random account numbers).

| file | what |
|---|---|
| `open_items.csv` | {n_items} open items of the finance system: `;`, UTF-8 with BOM, decimal comma, ISO dates |
| `statements/sparkasse/*.sta` | MT940 as a Sparkasse writes it: one statement per booking day, **ISO-8859-1**, CRLF |
| `statements/volksbank/*.xml` | camt.053.001.08 as a Volksbank writes it: one statement per booking day, UTF-8 |
| `truth.parquet` | ground truth: one row per bank booking ({n_payments}), its case and the correct allocation |
| `instalment_plans.csv` | instalment agreements (Teilzahlungsvereinbarungen) for the dunning run: `;`, UTF-8 with BOM, ISO dates, cents |
| `kasse.toml` | tenant config: inhabitants (for the key figures), reference grammar (12 digits, mod-11), the two bank accounts and `[collection]` (creditor id, the Volksbank account collected into, return fees passed on) |

The claims with a SEPA mandate that no bank booking of the set touches are the next instalment, due on the
15th after the last booking day: what `kasse demo` collects on its collection day.

The cases (`full`, `partial`, `over`, `double`, `multi`, `third_party`, `no_ref`, `wrong_ref`,
`typo_digit`, `typo_swap`, `iban_only`, `dd_collection`, `dd_return`, `fee`, `refund_out`) are explained
in `docs/SYNTH.md` of the Stadtkasse repository.{round_two}
"""
