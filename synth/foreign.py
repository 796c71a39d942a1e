"""Payer accounts abroad (round two of issue 14): valid IBANs of other SEPA countries, made by schwifty.

A cross-border transfer arrives short by the banks' charges and from a name the finance system does
not know; the account is valid (schwifty computes the national check digits where a country has them:
the French RIB key, the Belgian, Spanish and Polish ones) with a real bank code, so parsers and
matchers see exactly what a real foreign payment looks like.
"""

from __future__ import annotations

import random

from schwifty import IBAN

#: country → (real bank codes as schwifty's ``generate`` takes them, digits of the account number,
#: the name pool of synth.names.EUROPEAN_NAMES its payers come from)
FOREIGN_BANKS: dict[str, tuple[tuple[str, ...], int, str]] = {
    "AT": (("12000", "20111", "32000"), 11, "DE"),
    "PL": (("10202892", "10901014"), 16, "PL"),
    "NL": (("ABNA", "INGB", "RABO"), 10, "NL"),
    "FR": (("3000600001", "2004101005", "1027802671"), 11, "FR"),
    "BE": (("001", "068", "310"), 7, "FR"),
    "ES": (("21000418", "00491500"), 10, "ES"),
    "DK": (("0040", "3000"), 10, "DK"),
    "LU": (("001",), 13, "FR"),
}


def foreign_account(rng: random.Random, country: str) -> tuple[str, str | None]:
    """(IBAN, BIC or None) of a random account at a real bank of ``country``; the IBAN validates."""
    banks, digits, _ = FOREIGN_BANKS[country]
    iban = IBAN.generate(country, rng.choice(banks), str(rng.randrange(10 ** (digits - 1), 10**digits)))
    bic = iban.bic
    return iban.compact, (str(bic) if bic is not None else None)
